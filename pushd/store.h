/* Where pushd's loop reads SQLite: its own connection to the file (srv->db), or, on a node
 * without the file (GOLIVE_STORE=nats), a node that has it, over NATS (store_remote.h). The
 * callers do not tell them apart: the same rows come back either way. */
#ifndef PD_STORE_H
#define PD_STORE_H

#include "context.h"
#include "store_remote.h"

/* As gl_db_history, gl_db_pruned_through, gl_db_last_id. */
int pd_store_history(pd_server *srv, const char *channel, int mode, int64_t ref, int limit,
                     gl_db_msg_fn fn, void *arg, gl_err *err);
int pd_store_pruned_through(pd_server *srv, const char *channel, int64_t *id, gl_err *err);
int pd_store_last_id(pd_server *srv, const char *channel, int64_t *id, gl_err *err);

/* The newest ids of n channels into ids[0..n): one round trip on a remote store. */
int pd_store_last_ids(pd_server *srv, const char *const *channels, size_t n, int64_t *ids,
                      gl_err *err);

/* The moderation state of channel (NULL: every channel) to fns, as gl_db_each_setting,
 * _access, _restriction, _channel_role and _pin would give it, in that order. */
int pd_store_state(pd_server *srv, const char *channel, const pd_state_fns *fns, gl_err *err);

#endif
