/* The answers to the store requests of nodes without the database (store_answer.h). A request
 * names an op of store_wire.h; each op is one or a few shared/db calls, their rows written back
 * as store_wire.h says. */
#include "store_answer.h"
#include "store_wire.h"
#include "shared/chan.h"
#include "shared/json.h"
#include "shared/wire.h"

#include <stdlib.h>
#include <string.h>

#define HISTORY_LIMIT_MAX 10000

/* ---- the ops: each fills data, or returns an error (err set) */

typedef struct history_walk {
    cJSON *msgs;
    size_t bytes;
    bool more;
} history_walk;

static int
history_row(void *arg, const gl_msg *m)
{
    history_walk *w = arg;
    cJSON *o;

    if (w->bytes > 0 && w->bytes + strlen(m->data) > PD_STORE_BUDGET) {
        w->more = true;
        return 1;
    }
    if ((o = pd_store_wire_msg(m)) == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(w->msgs, o);
    w->bytes += strlen(m->data) + 256; /* the members around it */
    return 0;
}

static int
op_history(gl_db *db, const cJSON *req, cJSON *data, gl_err *err)
{
    const char *ch = pd_store_wire_channel(req, "channel", err);
    int64_t mode, ref, limit;
    history_walk w = {NULL, 0, false};
    int rv;

    if (ch == NULL) return GL_EINVAL;
    if ((rv = pd_store_wire_int(req, "mode", GL_HISTORY_LATEST, GL_HISTORY_BEFORE, &mode, err)) !=
            GL_OK ||
        (rv = pd_store_wire_int(req, "ref", 0, INT64_MAX, &ref, err)) != GL_OK ||
        (rv = pd_store_wire_int(req, "limit", 1, HISTORY_LIMIT_MAX, &limit, err)) != GL_OK)
        return rv;
    if ((w.msgs = cJSON_AddArrayToObject(data, "messages")) == NULL) return GL_ENOMEM;
    rv = gl_db_history(db, ch, (int)mode, ref, (int)limit, history_row, &w, err);
    if (rv != GL_OK && !w.more) return rv == GL_ENOMEM ? gl_err_set(err, rv, "out of memory") : rv;
    cJSON_AddBoolToObject(data, "more", w.more);
    return GL_OK;
}

static int
op_last_ids(gl_db *db, const cJSON *req, cJSON *data, gl_err *err)
{
    const cJSON *chans = cJSON_GetObjectItemCaseSensitive(req, "channels"), *it;
    cJSON *ids;
    int rv;

    if (!cJSON_IsArray(chans) || cJSON_GetArraySize(chans) > PD_STORE_LAST_IDS_MAX)
        return gl_err_set(err, GL_EINVAL, "channels must be an array of at most %d names",
                          PD_STORE_LAST_IDS_MAX);
    if ((ids = cJSON_AddArrayToObject(data, "ids")) == NULL) return GL_ENOMEM;
    cJSON_ArrayForEach(it, chans)
    {
        int64_t id;
        /* "" is the newest id of all: a node's readiness check */
        if (!cJSON_IsString(it) ||
            (*it->valuestring != '\0' && gl_chan_validate(it->valuestring, err) != GL_OK))
            return gl_err_set(err, GL_EINVAL, "channels must hold channel names");
        if ((rv = gl_db_last_id(db, it->valuestring, &id, err)) != GL_OK) return rv;
        cJSON_AddItemToArray(ids, gl_json_int(id));
    }
    return GL_OK;
}

static int
op_pruned(gl_db *db, const cJSON *req, cJSON *data, gl_err *err)
{
    const char *ch = pd_store_wire_channel(req, "channel", err);
    int64_t id;
    int rv;

    if (ch == NULL) return GL_EINVAL;
    if ((rv = gl_db_pruned_through(db, ch, &id, err)) != GL_OK) return rv;
    return gl_json_add_int(data, "id", id) ? GL_OK : GL_ENOMEM;
}

/* state: each row as a small array (or object) appended to its list */
static cJSON *
list_of(cJSON *data, int which)
{
    return cJSON_GetObjectItemCaseSensitive(data, pd_store_wire_state_lists[which]);
}

static cJSON *
row(cJSON *list)
{
    cJSON *a = cJSON_CreateArray();
    if (a != NULL) cJSON_AddItemToArray(list, a);
    return a;
}

static int
on_setting(void *arg, const char *channel, const gl_override *ov)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(list_of(arg, PD_STATE_SETTINGS), o);
    cJSON_AddStringToObject(o, "channel", channel);
    cJSON_AddItemToObject(o, "override", pd_store_wire_override(ov));
    return GL_OK;
}

static int
on_access(void *arg, const char *channel, const char *user_id)
{
    cJSON *a = row(list_of(arg, PD_STATE_ACCESS));
    if (a == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(a, cJSON_CreateString(channel));
    cJSON_AddItemToArray(a, cJSON_CreateString(user_id));
    return GL_OK;
}

static int
on_restriction(void *arg, const char *channel, const char *user_id, bool is_timeout,
               int64_t expires_ms)
{
    cJSON *a = row(list_of(arg, PD_STATE_RESTRICTIONS));
    if (a == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(a, cJSON_CreateString(channel));
    cJSON_AddItemToArray(a, cJSON_CreateString(user_id));
    cJSON_AddItemToArray(a, cJSON_CreateBool(is_timeout));
    cJSON_AddItemToArray(a, gl_json_int(expires_ms));
    return GL_OK;
}

static int
on_role(void *arg, const char *channel, const char *user_id, const char *role)
{
    cJSON *a = row(list_of(arg, PD_STATE_ROLES));
    if (a == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(a, cJSON_CreateString(channel));
    cJSON_AddItemToArray(a, cJSON_CreateString(user_id));
    cJSON_AddItemToArray(a, cJSON_CreateString(role));
    return GL_OK;
}

static int
on_pin(void *arg, const gl_msg *m)
{
    cJSON *o = pd_store_wire_msg(m);
    if (o == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(list_of(arg, PD_STATE_PINS), o);
    return GL_OK;
}

static int
op_state(gl_db *db, const cJSON *req, cJSON *data, gl_err *err)
{
    const char *ch = NULL;
    int rv;

    if (cJSON_GetObjectItemCaseSensitive(req, "channel") != NULL &&
        (ch = pd_store_wire_channel(req, "channel", err)) == NULL)
        return GL_EINVAL;
    for (int i = 0; i < PD_STATE_NLISTS; i++)
        if (cJSON_AddArrayToObject(data, pd_store_wire_state_lists[i]) == NULL) return GL_ENOMEM;
    if ((rv = gl_db_each_setting(db, ch, on_setting, data, err)) != GL_OK ||
        (rv = gl_db_each_access(db, ch, on_access, data, err)) != GL_OK ||
        (rv = gl_db_each_restriction(db, ch, on_restriction, data, err)) != GL_OK ||
        (rv = gl_db_each_channel_role(db, ch, on_role, data, err)) != GL_OK ||
        (rv = gl_db_each_pin(db, ch, on_pin, data, err)) != GL_OK)
        return rv == GL_ENOMEM ? gl_err_set(err, rv, "out of memory") : rv;
    return GL_OK;
}

/* store: the writer's batch of another node */
typedef struct store_item {
    gl_db_batch_item st;
    gl_msg m;
    gl_held held;
} store_item;

static int
read_item(const cJSON *it, store_item *s, gl_err *err)
{
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(it, "msg");
    const char *term;
    int64_t keep;
    gl_err e;
    int rv;

    if ((rv = pd_store_wire_msg_parse(msg, &s->m, err)) != GL_OK ||
        (rv = pd_store_wire_int(it, "keep", 1, INT32_MAX, &keep, err)) != GL_OK)
        return rv;
    s->m.id = 0;
    s->st = (gl_db_batch_item){.m = &s->m, .keep = (int)keep};
    term = pd_store_wire_string(it, "held_term", GL_TERM_MAX, true, &e);
    if (term == NULL && e.code != GL_OK) return gl_err_set(err, GL_EINVAL, "%s", e.msg);
    if (term != NULL) {
        s->held = (gl_held){&s->m, term, 0};
        s->st.before = gl_db_held_store;
        s->st.before_arg = &s->held;
    }
    return GL_OK;
}

static cJSON *
item_result(const store_item *s)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL) return NULL;
    if (s->st.rv != GL_OK) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "code", gl_err_code_name(s->st.rv));
        cJSON_AddStringToObject(e, "message", s->st.err.msg);
    } else if (s->st.skipped) {
        gl_json_add_int(o, "held_id", s->held.id);
    } else {
        gl_json_add_int(o, "id", s->m.id);
        gl_json_add_int(o, "prev_id", s->m.prev_id);
    }
    return o;
}

static int
op_store(gl_db *db, const cJSON *req, cJSON *data, gl_err *err)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(req, "items"), *it;
    int n = cJSON_GetArraySize(items), i = 0, rv = GL_OK;
    store_item *s;
    gl_db_batch_item **batch;
    cJSON *results;

    if (!cJSON_IsArray(items) || n < 1 || n > PD_STORE_ITEMS_MAX)
        return gl_err_set(err, GL_EINVAL, "items must be an array of 1 to %d items",
                          PD_STORE_ITEMS_MAX);
    s = calloc((size_t)n, sizeof(*s));
    batch = calloc((size_t)n, sizeof(*batch));
    if (s == NULL || batch == NULL || (results = cJSON_AddArrayToObject(data, "results")) == NULL) {
        rv = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out;
    }
    cJSON_ArrayForEach(it, items)
    {
        if ((rv = read_item(it, &s[i], err)) != GL_OK) goto out; /* nothing stored */
        batch[i] = &s[i].st;
        i++;
    }
    gl_db_store_batch(db, batch, (size_t)n);
    for (i = 0; i < n; i++)
        cJSON_AddItemToArray(results, item_result(&s[i]));
out:
    free(batch);
    free(s);
    return rv;
}

char *
pd_store_answer(gl_db *db, const char *buf, size_t len, size_t max, bool *failed)
{
    static const struct {
        const char *name;
        int (*fn)(gl_db *db, const cJSON *req, cJSON *data, gl_err *err);
    } ops[] = {{PD_STORE_OP_HISTORY, op_history},
               {PD_STORE_OP_LAST_IDS, op_last_ids},
               {PD_STORE_OP_PRUNED, op_pruned},
               {PD_STORE_OP_STATE, op_state},
               {PD_STORE_OP_STORE, op_store}};
    cJSON *req = NULL, *data = NULL, *reply;
    const char *op;
    gl_err err = {GL_OK, ""};
    char *text;
    int rv = pd_store_wire_parse_request(buf, len, &req, &op, &err);

    if (rv == GL_OK) {
        rv = gl_err_set(&err, GL_EINVAL, "no store op %.40s", op);
        for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
            if (strcmp(op, ops[i].name) == 0) {
                rv = (data = cJSON_CreateObject()) != NULL
                         ? ops[i].fn(db, req, data, &err)
                         : gl_err_set(&err, GL_ENOMEM, "out of memory");
                break;
            }
    }
    cJSON_Delete(req);
    if (rv != GL_OK) cJSON_Delete(data);
    reply = rv == GL_OK ? gl_wire_reply_ok(data) : gl_wire_reply_error(rv, err.msg);
    text = reply ? cJSON_PrintUnformatted(reply) : NULL;
    cJSON_Delete(reply);
    *failed = rv != GL_OK;
    if (text != NULL && strlen(text) > max) {
        free(text);
        *failed = true;
        if ((reply = gl_wire_reply_error(GL_ETOOBIG, "the answer is larger than NATS's "
                                                     "max_payload; raise it (docs/cluster.md)")) ==
            NULL)
            return NULL;
        text = cJSON_PrintUnformatted(reply);
        cJSON_Delete(reply);
    }
    return text;
}
