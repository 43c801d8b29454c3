/* The channel table: subscriptions, presence (join/leave), per-namespace client counts and
 * the fan-out of one shared frame to every subscriber. */
#ifndef PD_CHANNEL_H
#define PD_CHANNEL_H

#include "conn.h"
#include "shared/acl.h"

#include <cjson/cJSON.h>

/* How many are subscribed: connections, distinct users, connections without a user. */
typedef struct pd_channel_counts {
    uint32_t subscribers, users, anonymous;
} pd_channel_counts;

/* f to the subscribers of ch for whom pick(c, arg) is true; returns how many. */
uint32_t pd_channel_send_where(pd_channel *ch, pd_frame *f, bool (*pick)(pd_conn *c, void *arg),
                               void *arg);

/* What pd_channel_kick_where asks of each subscriber: the reason to kick c, or NULL to keep. */
typedef const char *(*pd_channel_verdict_fn)(pd_conn *c, void *arg);

pd_channel *pd_channel_find(pd_server *srv, const char *name);

const char *pd_channel_name(const pd_channel *ch);

/* ch's counts; all zero when ch is NULL (nobody subscribed). */
pd_channel_counts pd_channel_count(const pd_channel *ch);

/* Live messages with an id at or below max_id skip this subscription: a since replay already
 * sent them. sub is one of the connection's subscriptions (c->subs[i]). */
void pd_channel_skip_replayed(const pd_conn_sub *sub, int64_t max_id);

/* Ask verdict of every subscriber of ch, then unsubscribe each one it gave a reason for and
 * tell it ({"type":"unsubscribed","reason":..}). The channel may be gone afterwards. */
void pd_channel_kick_where(pd_server *srv, pd_channel *ch, pd_channel_verdict_fn verdict,
                           void *arg);

/* Subscribe c to name under policy pol (for the namespace cap). min_id: live messages with an
 * id at or below it are skipped for this subscriber (they were replayed from history).
 * Sends join to the channel when this is the user's first connection there.
 * Returns GL_OK, GL_ECONFLICT (already), GL_ERATE (caps), GL_ENOMEM. */
int pd_channel_subscribe(pd_server *srv, pd_conn *c, const char *name, const gl_policy *pol,
                         int64_t min_id, gl_err *err);

/* GL_OK or GL_ENOTFOUND. Sends leave on the user's last connection. */
int pd_channel_unsubscribe(pd_server *srv, pd_conn *c, const char *name, gl_err *err);

void pd_channel_unsubscribe_all(pd_server *srv, pd_conn *c);

/* Queue f to every subscriber (skipping those whose min_id >= msg_id when msg_id > 0). */
void pd_channel_fanout(pd_channel *ch, pd_frame *f, int64_t msg_id);

/* {"channel":..,"users":[{"id","username","connections"}],"anonymous":n}; NULL on OOM.
 * ch may be NULL (nobody subscribed). */
cJSON *pd_channel_presence_json(const char *name, const pd_channel *ch);

/* A join or leave (type) of a user to ch's subscribers, unless members (how many are in the
 * room) passes the namespace's join_leave_max. */
void pd_channel_presence_event(const pd_server *srv, pd_channel *ch, uint32_t members,
                               const char *type, const char *user_id, const char *username);

/* The connections user_id has subscribed to ch on this node (ch may be NULL). */
uint32_t pd_channel_user_conns(const pd_channel *ch, const char *user_id);

/* Whether c is subscribed to ch. */
bool pd_conn_is_subscribed(const pd_conn *c, const pd_channel *ch);

#endif
