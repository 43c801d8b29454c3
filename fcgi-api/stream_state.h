/* Streams as golive-api keeps them (stream_state.c): their REST shape, finding the stream a media
 * server's hook names, and going live or ending, which is announced in the stream's chat channel
 * through the publisher. Below the streaming route files and the two media dialects. */
#ifndef API_STREAM_STATE_H
#define API_STREAM_STATE_H

#include "api.h"
#include "shared/stream.h"

#define API_HOOK_FIELD_MAX 256 /* hook fields we read: call, name, key */

/* The public HLS URL of stream name into out. */
void api_hls_url(api_req *r, const char *name, char *out, size_t cap);

/* JSON string s, or null when s is NULL or empty. */
cJSON *api_string_or_null(const char *s);

/* A stream as REST shows it: name, owner, channel, live, hls_url, started_at, ended_at. */
cJSON *api_stream_json(api_req *r, const gl_stream *s);

/* The stream a hook names: by a secret key, or by its public name ("alice" or "live/alice").
 * *found false when neither matches; *key the named key's id when ref is an unrevoked key. */
int api_stream_find(api_req *r, const char *ref, gl_stream *s, bool *found, int64_t *key,
                    gl_err *err);

/* *id: the id of key when it is unrevoked and opens stream name, else 0. */
int api_stream_key_for(api_req *r, const char *key, const char *name, int64_t *id, gl_err *err);

typedef struct api_transition {
    bool changed;    /* false: the stream was already in that state (a repeated hook) */
    int64_t message; /* the announcement's id, when changed */
    bool pushed;
} api_transition;

/* Record s as live (opened by key key_id) or ended and, on a change, announce it in the stream's
 * chat: both in one transaction of the publisher, then pushed. */
int api_stream_transition(api_req *r, gl_stream *s, bool live, int64_t key_id, api_transition *t,
                          gl_err *err);

/* Reply 200 {"stream", "changed", "message_id", "pushed"} with s as stored now. */
void api_reply_transition(api_req *r, gl_stream *s, const api_transition *t);

/* Reply 200 {"ok": true, "result": what}: a hook accepted. */
void api_reply_hook_ok(api_req *r, const char *what);

/* A publish refused (logged): GL_EFORBIDDEN. nginx-rtmp drops the connection on any 4xx,
 * MediaMTX on any non-2xx. */
int api_refuse_publish(const char *name, gl_err *err);

#endif
