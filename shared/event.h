/* The JSON shapes clients receive (docs/protocol.md): message, error, and the small events.
 * Both binaries build them here so that REST and WebSocket clients see the same objects. */
#ifndef GL_EVENT_H
#define GL_EVENT_H

#include "db.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* {"type":"message","channel":..,"id":..,"data":<m->data raw>,"user":{..}|null,"created_at":..}
 * plus "system":true when m has no user. m->data must be valid JSON (it is embedded as is).
 * Returns a new object (cJSON_Delete), or NULL when out of memory. */
cJSON *gl_event_message(const gl_msg *m);

/* A gl_db_msg_fn: append m's message event to the cJSON array arr. GL_OK or GL_ENOMEM. */
int gl_event_append_message(void *arr, const gl_msg *m);

/* {"type":"error","channel":channel (if not NULL),"id":<id copy, if id>,"error":{"code":<name of
 * code>,"message":msg}}. A Raw id is copied as written. */
cJSON *gl_event_error(const cJSON *id, const char *channel, int code, const char *msg);

/* A refusal by a rate limit: gl_event_error(id, channel, GL_ERATE, msg) with
 * "retry_after_ms" in its "error" object (how long until the limit allows one more). */
cJSON *gl_event_rate_limited(const cJSON *id, const char *channel, const char *msg,
                             uint32_t retry_after_ms);

/* The body of an HTTP error reply, REST's and pushd's refused handshake alike:
 * {"error":{"code":<name of code>,"message":msg}}. NULL when out of memory. */
cJSON *gl_event_http_error(int code, const char *msg);

/* join / leave: {"type":type,"channel":..,"user":{"id":..,"username":..}}. */
cJSON *gl_event_presence(const char *type, const char *channel, const char *user_id,
                         const char *username);

/* The server ended a subscription: {"type":"unsubscribed","channel":..,"reason":..}. */
cJSON *gl_event_unsubscribed(const char *channel, const char *reason);

/* A moderation action on a user (user_banned, user_timeout, user_unbanned):
 * {"type":type,"channel":..,"user_id":..} plus "reason" and "until" when not NULL. */
cJSON *gl_event_user_action(const char *type, const char *channel, const char *user_id,
                            const char *reason, const char *until);

/* {"type":"message_deleted","channel":..,"message_id":id}. */
cJSON *gl_event_message_deleted(const char *channel, int64_t message_id);

/* The data of the system message announcing a stream going live or ending (stored in history
 * like any message): {"type":"stream_started"|"stream_stopped","text":"<username> is live" |
 * "<username>'s stream ended","stream","user_id","username","hls_url"}. */
cJSON *gl_event_stream_announcement(bool live, const char *stream, const char *user_id,
                                    const char *username, const char *hls_url);

/* {"type":type,"channel":channel} with nothing else yet; NULL when out of memory. */
cJSON *gl_event_new(const char *type, const char *channel);

/* {"type":"chat_cleared","channel","through_id"}: every message up to through_id is gone. */
cJSON *gl_event_chat_cleared(const char *channel, int64_t through_id);

/* {"type":"message_pinned","channel","message":<gl_event_message(m)>}, or with m NULL
 * {"type":"message_unpinned","channel"}. */
cJSON *gl_event_pin(const char *channel, const gl_msg *m);

/* {"type":"message_held","channel","held":{"id","user_id","username","data":<raw>,"term",
 * "created_at","status"}} (the shape GET .../held lists): a message waits for review (sent to the
 * channel's moderators only). */
cJSON *gl_event_message_held(const char *channel, const gl_held_row *row);

/* {"type":"held_decided","channel","held_id","status":"approved"|"denied"} (moderators only). */
cJSON *gl_event_held_decided(const char *channel, int64_t held_id, const char *status);

/* {"type":"chat_modes","channel":...,"chat_modes":{gl_modes_json}}: a channel's modes changed. */
cJSON *gl_event_chat_modes(const char *channel, const gl_modes *m);

/* Print obj unformatted and delete it. Returns a cJSON_malloc'd string (cJSON_free), or NULL
 * when obj is NULL or memory runs out. */
char *gl_event_print_take(cJSON *obj);

#endif
