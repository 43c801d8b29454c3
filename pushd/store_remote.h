/* The store's asking side (store_wire.h), for a node without the SQLite file
 * (GOLIVE_STORE=nats): the shared/db reads and writes pushd needs, as NATS requests to a node
 * that has the file. Each call waits for its answer (reads up to PD_REMOTE_READ_MS, a store up
 * to PD_REMOTE_STORE_MS), so the loop's reads cost a round trip; NATS answers at once when no
 * node serves the store ("no responders"). Callable from any thread: nats.c's connection is
 * thread-safe. */
#ifndef PD_STORE_REMOTE_H
#define PD_STORE_REMOTE_H

#include "shared/db.h"
#include "shared/err.h"

#include <nats/nats.h>
#include <stddef.h>

#define PD_REMOTE_READ_MS 1000
#define PD_REMOTE_STORE_MS 10000 /* past SQLite's 5 s busy_timeout */

typedef struct pd_remote pd_remote;

/* A store over nc (borrowed: it must outlive the pd_remote). NULL when out of memory. */
pd_remote *pd_remote_new(natsConnection *nc);
void pd_remote_free(pd_remote *r);

/* Requests sent, and those that failed (no answer, or an error answer). */
void pd_remote_counts(const pd_remote *r, uint64_t *sent, uint64_t *failed);

/* As gl_db_history, gl_db_pruned_through. */
int pd_remote_history(pd_remote *r, const char *channel, int mode, int64_t ref, int limit,
                      gl_db_msg_fn fn, void *arg, gl_err *err);
int pd_remote_pruned_through(pd_remote *r, const char *channel, int64_t *id, gl_err *err);

/* gl_db_last_id of n channels at once into ids[0..n). */
int pd_remote_last_ids(pd_remote *r, const char *const *channels, size_t n, int64_t *ids,
                       gl_err *err);

/* The five moderation state reads of modstate.c, as the gl_db_each_* calls would make them. */
typedef struct pd_state_fns {
    gl_db_setting_fn setting;
    gl_db_access_fn access;
    gl_db_restriction_fn restriction;
    gl_db_channel_role_fn role;
    gl_db_msg_fn pin;
    void *arg;
} pd_state_fns;
int pd_remote_state(pd_remote *r, const char *channel, const pd_state_fns *fns, gl_err *err);

/* As gl_db_store_batch, for the items pushd's writer makes: no audit or after hook, a before
 * hook only gl_db_held_store. Each item's rv, err, skipped and m->id, m->prev_id are set. */
void pd_remote_store_batch(pd_remote *r, gl_db_batch_item **items, size_t n);

#endif
