/* The store over NATS (docs/cluster.md, "Nodes without the database"): what a pushd node
 * without the SQLite file (GOLIVE_STORE=nats) asks the nodes that have it, and how messages and
 * settings are written in those requests and replies. Pure JSON building and reading, no I/O.
 *
 * A request is {"v","op",...}, sent as a NATS request on PD_STORE_SUBJECT; its reply is the
 * nng wire's {"ok":true,"data":{...}} or {"ok":false,"error":{"code","message"}}:
 *   history  channel, mode, ref, limit -> {"messages":[msg, ...], "more":bool}
 *            (more: the rest did not fit in PD_STORE_BUDGET; ask again after the last id)
 *   last_ids channels: [name, ...]     -> {"ids":[id, ...]}, in the same order
 *   pruned   channel                   -> {"id"}: gl_db_pruned_through
 *   state    [channel] (absent: all)   -> {"settings":[{"channel","override"}],
 *            "access":[[channel, user]], "restrictions":[[channel, user, is_timeout,
 *            expires_ms]], "roles":[[channel, user, role]], "pins":[msg, ...]}
 *   store    items: [{"msg","keep",["held_term"]}] -> {"results":[{"id","prev_id"} |
 *            {"held_id"} | {"error":{"code","message"}}]}, one per item, in order
 * A msg is {"id","prev_id","channel","user_id","username","created_at","body"}, body the
 * message's data (a JSON object) exactly as written: a reader keeps it raw. */
#ifndef PD_STORE_WIRE_H
#define PD_STORE_WIRE_H

#include "shared/acl.h"
#include "shared/db.h"
#include "shared/err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define PD_STORE_SUBJECT "golive.db" /* and the queue group of the nodes that answer */
/* A reply's messages stop past this many bytes of data (NATS's default max_payload is 1 MiB;
 * one message of up to GOLIVE_MAX_MESSAGE_BYTES may go past it). A store request likewise. */
#define PD_STORE_BUDGET (512 * 1024)
#define PD_STORE_LAST_IDS_MAX 256 /* channels one last_ids request may name */
#define PD_STORE_ITEMS_MAX 512    /* items one store request may carry (the writer's batch) */

#define PD_STORE_OP_HISTORY "history"
#define PD_STORE_OP_LAST_IDS "last_ids"
#define PD_STORE_OP_PRUNED "pruned"
#define PD_STORE_OP_STATE "state"
#define PD_STORE_OP_STORE "store"

/* The members kept raw by every reader of these requests and replies. */
extern const char *const pd_store_wire_raw[];

/* The lists of a state reply, by these names, in the order of the gl_db_each_* reads (a reader
 * builds on the settings first). */
enum {
    PD_STATE_SETTINGS,
    PD_STATE_ACCESS,
    PD_STATE_RESTRICTIONS,
    PD_STATE_ROLES,
    PD_STATE_PINS,
    PD_STATE_NLISTS
};
extern const char *const pd_store_wire_state_lists[PD_STATE_NLISTS];

/* m as a msg object; NULL when out of memory. */
cJSON *pd_store_wire_msg(const gl_msg *m);

/* Read a msg object into *m: its strings point into o, created_at is copied. GL_EINVAL when a
 * member is missing, of the wrong type or out of bounds (an invalid channel, a body that is not
 * a JSON object, an id below 1). */
int pd_store_wire_msg_parse(const cJSON *o, gl_msg *m, gl_err *err);

/* The fields ov sets, as an object; NULL when out of memory. */
cJSON *pd_store_wire_override(const gl_override *ov);

/* Read such an object into *ov (gl_override_free it, on failure too). GL_EINVAL or GL_ENOMEM. */
int pd_store_wire_override_parse(const cJSON *o, gl_override *ov, gl_err *err);

/* o's member name as a whole number from lo to hi into *out. GL_EINVAL otherwise. */
int pd_store_wire_int(const cJSON *o, const char *name, int64_t lo, int64_t hi, int64_t *out,
                      gl_err *err);

/* The same for a value v itself (an array's element), named name in the error. */
int pd_store_wire_int_value(const cJSON *v, const char *name, int64_t lo, int64_t hi, int64_t *out,
                            gl_err *err);

/* o's member name as a string shorter than cap bytes; NULL (err set) otherwise. With nullable,
 * an absent or null member is NULL with err->code GL_OK. */
const char *pd_store_wire_string(const cJSON *o, const char *name, size_t cap, bool nullable,
                                 gl_err *err);

/* o's member name as a valid channel name; NULL (err set) otherwise. */
const char *pd_store_wire_channel(const cJSON *o, const char *name, gl_err *err);

/* A request {"v","op":op} (NULL when out of memory). */
cJSON *pd_store_wire_request(const char *op);

/* Parse a request: a JSON object with a known "v" and a string "op". On GL_OK *root is the
 * object (cJSON_Delete) and *op points into it; GL_EINVAL otherwise. */
int pd_store_wire_parse_request(const char *buf, size_t len, cJSON **root, const char **op,
                                gl_err *err);

#endif
