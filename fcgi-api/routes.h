/* Helpers the route files share (routes_channels.c). */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include "api.h"

/* Resolve channel's policy and check that the caller may read it; on GL_OK *ov must be freed
 * (gl_override_free), on error a reply was sent and nothing is left to free. */
int api_check_read(api_req *r, const char *channel, gl_policy *pol, gl_override *ov);

/* A user id as JWT sub allows: 1..127 bytes, no control characters. */
bool api_user_id_ok(const char *s);

/* A user id from the path (segs[i]): 1..127 bytes without control characters, else a 400. */
const char *api_path_user(api_req *r, int i);

/* Tell pushd to reload channel's moderation state, re-check its subscribers and fan out ev
 * (taken, may be NULL). Returns whether pushd acknowledged. */
bool api_push_reload(api_req *r, const char *channel, cJSON *ev);

/* Tell pushd to reload channel (fan out ev, taken) and reply 200 with
 * {"channel","user_id", <flag>: true when flag, "until" when until, "pushed"}. */
void api_reply_user_action(api_req *r, const char *user, const char *flag, const char *until,
                           cJSON *ev);

/* Insert m and prune its channel to keep rows, inside the caller's transaction. */
int api_insert_message(api_req *r, gl_msg *m, int keep, gl_err *err);

/* Fan stored message m out through pushd; true when pushd acknowledged. */
bool api_push_message(api_req *r, const gl_msg *m);

/* A stream as REST shows it: name, owner, channel, live, hls_url, started_at, ended_at. */
cJSON *api_stream_json(api_req *r, const gl_stream *s);

/* Run a write (fn) and its audit row in one transaction; on failure a reply was sent. */
int api_write_audited(api_req *r, int (*fn)(api_req *r, void *arg, gl_err *err), void *arg,
                      const gl_audit *a);
#endif
