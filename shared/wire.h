/* The message format between golive-api and golive-pushd over nng req/rep (ipc://).
 * One JSON object per nng message; docs/wire.md is the reference. This is the seam where a
 * broker could replace nng later, so both sides build and read messages only through here. */
#ifndef GL_WIRE_H
#define GL_WIRE_H

#include "db.h"
#include "err.h"
#include "json.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define GL_WIRE_VERSION 2
#define GL_WIRE_MAX (1024 * 1024) /* largest message either side accepts */
/* A batch item's event nests a client's data 4 levels down ({"items":[{"event":{"data":...: the
 * data itself may use GL_JSON_DEPTH_MAX, less the 1 of the envelope it was published in. */
#define GL_WIRE_DEPTH_MAX (GL_JSON_DEPTH_MAX + 4)

/* Requests (field "op"). */
#define GL_OP_PUBLISH "publish" /* channel, id, event: fan out a message event (dedup by id) */
#define GL_OP_EVENT "event"     /* channel, event, [audience]: fan out any other event */
/* An event's "audience": absent, every subscriber; GL_AUDIENCE_MODERATORS, only the subscribers
 * who may moderate the channel (the review queue's events). */
#define GL_AUDIENCE_MODERATORS "moderators"
#define GL_OP_RELOAD "reload"     /* channel, [event]: reload moderation state, re-check, fan out */
#define GL_OP_PRESENCE "presence" /* channel -> data as the WS presence reply */
#define GL_OP_CHANNELS "channels" /* -> {"channels":[{"channel","subscribers","users"}]} */
#define GL_OP_CHANNEL "channel"   /* channel -> {"subscribers","users","anonymous","last_id"} */
#define GL_OP_STATS "stats"       /* -> {"total_channels","total_clients","uptime",...} */
#define GL_OP_BATCH "batch"       /* items: [{"op","channel",...}] -> {"results":[reply, ...]} */
#define GL_WIRE_BATCH_MAX 256     /* most items one batch may carry */

/* The ops above, in a fixed order, for counting requests by op (both binaries' metrics); an
 * index of GL_WIRE_NOPS means any other. */
#define GL_WIRE_NOPS 8
extern const char *const gl_wire_ops[GL_WIRE_NOPS];

/* op's index in gl_wire_ops, or GL_WIRE_NOPS when op is NULL or none of them. */
size_t gl_wire_op_index(const char *op);

/* {"v":GL_WIRE_VERSION,"op":op} plus "channel" when channel is not NULL; NULL when out of memory.
 */
cJSON *gl_wire_request(const char *op, const char *channel);

/* Add m's "id", "prev_id" (the channel's message before it) and its message "event" (as
 * clients receive it) to a publish request or batch item o. GL_OK or GL_ENOMEM. */
int gl_wire_add_message(cJSON *o, const gl_msg *m);

/* Add an event (taken, deleted on failure) to a request or batch item o as its "event": the
 * object pushd fans out as is. GL_OK or GL_ENOMEM. */
int gl_wire_add_event(cJSON *o, cJSON *ev);

/* An event request for channel's moderators only: {"v","op":"event","channel","audience":
 * "moderators","event":ev}; takes ev. NULL when out of memory. */
cJSON *gl_wire_moderators_event(const char *channel, cJSON *ev);

/* A batch request {"v","op":"batch","items":[]}, *items its array to add items to (each made
 * with gl_wire_request(op, channel)); NULL when out of memory. */
cJSON *gl_wire_batch(cJSON **items);

/* A batch reply's data {"results":[]}, *results its array for one reply per item, in order;
 * NULL when out of memory. */
cJSON *gl_wire_results(cJSON **results);

/* Parse and check a request: a JSON object with a known-version "v", a string "op" and, when
 * present, a string "channel". Every "event" member is kept as its exact text (a cJSON Raw node,
 * gl_json_raw), so events reach clients byte for byte as golive-api built them. On GL_OK *root is
 * the parsed object (cJSON_Delete) and *op, *channel (NULL if absent) point into it. GL_EINVAL
 * otherwise. */
int gl_wire_parse_request(const void *buf, size_t len, cJSON **root, const char **op,
                          const char **channel, gl_err *err);

/* Check one item of a batch request: an object with a string "op" other than "batch" and,
 * when present, a string "channel"; *op and *channel (NULL if absent) point into item. */
int gl_wire_parse_item(const cJSON *item, const char **op, const char **channel, gl_err *err);

/* {"ok":true,"data":data}; takes data (may be NULL: then {}). NULL when out of memory. */
cJSON *gl_wire_reply_ok(cJSON *data);

/* {"ok":false,"error":{"code":<name>,"message":msg}}. */
cJSON *gl_wire_reply_error(int code, const char *msg);

/* Parse a reply. On GL_OK *root is the parsed reply and *data its "data" (borrowed from root).
 * An error reply returns its code mapped back to GL_E* with the message in err. */
int gl_wire_parse_reply(const void *buf, size_t len, cJSON **root, const cJSON **data, gl_err *err);

/* The same for a reply of at most max bytes whose members named in raw are kept as their exact
 * text (gl_json_parse), nested at most max_depth deep: pushd's store requests over NATS
 * (pushd/store_wire.h). */
int gl_wire_parse_reply_raw(const void *buf, size_t len, size_t max, const char *const *raw,
                            int max_depth, cJSON **root, const cJSON **data, gl_err *err);

#endif
