/* Helpers the route files share (route_util.c), below all of them: read access, user ids from
 * the path, audited writes, pushd reloads, the channel info shape. Route files call these and
 * never each other. Like every helper, they return a GL_E* with its message and never reply,
 * except where the name says reply. */
#ifndef API_ROUTE_UTIL_H
#define API_ROUTE_UTIL_H

#include "api.h"

/* Resolve channel's policy and check that the caller may read it; on GL_OK *ov must be freed
 * (gl_override_free), on error nothing is left to free. */
int api_check_read(api_req *r, const char *channel, gl_policy *pol, gl_override *ov, gl_err *err);

/* May the caller moderate r->channel: the moderator or admin role, chat.moderate, its
 * broadcaster, or one of its channel moderators. GL_OK, GL_EAUTH or GL_EFORBIDDEN. */
int api_require_channel_moderator(api_req *r, gl_err *err);

/* Whether the caller owns the stream whose chat channel is (chat:stream_<name>: its newest
 * key's user), its broadcaster; false for any other channel. */
int api_is_broadcaster(api_req *r, const char *channel, bool *yes, gl_err *err);

/* May the caller appoint r->channel's moderators and VIPs: an admin or its broadcaster. */
int api_require_broadcaster(api_req *r, gl_err *err);

/* A user id as JWT sub allows: 1..127 bytes, no control characters. */
bool api_user_id_ok(const char *s);

/* The user id in path parameter name ("{user}") into *user, checked with api_user_id_ok. */
int api_path_user(api_req *r, const char *name, const char **user, gl_err *err);

/* The row id in path parameter name ("{id}") into *id: 1..2^63-1; what names it in the error
 * ("message id"). */
int api_path_id(api_req *r, const char *name, const char *what, int64_t *id, gl_err *err);

/* Tell pushd to reload channel's moderation state, re-check its subscribers and fan out ev
 * (taken, may be NULL). Returns whether pushd acknowledged. */
bool api_push_reload(api_req *r, const char *channel, cJSON *ev);

/* Tell pushd to reload channel (fan out ev, taken) and reply 200 with
 * {"channel","user_id", <flag>: true when flag, "until" when until, "pushed"}. */
void api_reply_user_action(api_req *r, const char *user, const char *flag, const char *until,
                           cJSON *ev);

/* Run a write (fn) and its audit row (a, when not NULL) in one transaction on r->db. */
int api_write_audited(api_req *r, int (*fn)(api_req *r, void *arg, gl_err *err), void *arg,
                      const gl_audit *a, gl_err *err);

/* Copy pushd's live counts of one channel from src (NULL: zeros) into dst. */
void api_copy_counts(cJSON *dst, const cJSON *src);

/* Channel info (effective settings, live counts, its stream) into *out (cJSON_Delete), shared by
 * GET info and PUT settings. */
int api_channel_info_json(api_req *r, const char *channel, cJSON **out, gl_err *err);

#endif
