/* JSON framing for the golive-api <-> golive-pushd messages: build, parse, validate. */
#include "wire.h"
#include "event.h"
#include "json.h"

#include <string.h>

const char *const gl_wire_ops[GL_WIRE_NOPS] = {GL_OP_PUBLISH,  GL_OP_EVENT,    GL_OP_RELOAD,
                                               GL_OP_PRESENCE, GL_OP_CHANNELS, GL_OP_CHANNEL,
                                               GL_OP_STATS,    GL_OP_BATCH};

size_t
gl_wire_op_index(const char *op)
{
    size_t i = 0;
    while (i < GL_WIRE_NOPS && (op == NULL || strcmp(gl_wire_ops[i], op) != 0))
        i++;
    return i;
}

cJSON *
gl_wire_request(const char *op, const char *channel)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || cJSON_AddNumberToObject(o, "v", GL_WIRE_VERSION) == NULL ||
        cJSON_AddStringToObject(o, "op", op) == NULL ||
        (channel != NULL && cJSON_AddStringToObject(o, "channel", channel) == NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int
gl_wire_add_message(cJSON *o, const gl_msg *m)
{
    if (gl_json_add_int(o, "id", m->id) == NULL ||
        gl_json_add_int(o, "prev_id", m->prev_id) == NULL)
        return GL_ENOMEM;
    return gl_wire_add_event(o, gl_event_message(m));
}

int
gl_wire_add_event(cJSON *o, cJSON *ev)
{
    if (ev == NULL || !cJSON_AddItemToObject(o, "event", ev)) {
        cJSON_Delete(ev);
        return GL_ENOMEM;
    }
    return GL_OK;
}

cJSON *
gl_wire_moderators_event(const char *channel, cJSON *ev)
{
    cJSON *req = gl_wire_request(GL_OP_EVENT, channel);

    if (req == NULL || cJSON_AddStringToObject(req, "audience", GL_AUDIENCE_MODERATORS) == NULL) {
        cJSON_Delete(ev);
        cJSON_Delete(req);
        return NULL;
    }
    if (gl_wire_add_event(req, ev) != GL_OK) { /* it deleted ev */
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

/* {<name>:[]} in a new object (o), *arr the array. */
static cJSON *
with_array(cJSON *o, const char *name, cJSON **arr)
{
    if (o == NULL || (*arr = cJSON_AddArrayToObject(o, name)) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_wire_batch(cJSON **items)
{
    return with_array(gl_wire_request(GL_OP_BATCH, NULL), "items", items);
}

cJSON *
gl_wire_results(cJSON **results)
{
    return with_array(cJSON_CreateObject(), "results", results);
}

static const char *const raw_members[] = {"event", NULL};

/* The fields a request and a batch item share: string "op", optional string "channel". */
static int
check_op(const cJSON *o, const char **op, const char **channel, gl_err *err)
{
    const cJSON *opj = cJSON_GetObjectItemCaseSensitive(o, "op");
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "channel");
    if (!cJSON_IsString(opj) || (ch != NULL && !cJSON_IsString(ch)))
        return gl_err_set(err, GL_EINVAL, "op and channel must be strings");
    *op = opj->valuestring;
    *channel = ch ? ch->valuestring : NULL;
    return GL_OK;
}

int
gl_wire_parse_request(const void *buf, size_t len, cJSON **root, const char **op,
                      const char **channel, gl_err *err)
{
    cJSON *o;
    const cJSON *v;
    int rv;

    if (len > GL_WIRE_MAX)
        return gl_err_set(err, GL_ETOOBIG, "message larger than %d bytes", GL_WIRE_MAX);
    o = gl_json_parse_depth(buf, len, raw_members, GL_WIRE_DEPTH_MAX, NULL);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return gl_err_set(err, GL_EINVAL, "message is not a JSON object");
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "v");
    if (!cJSON_IsNumber(v) || v->valuedouble != GL_WIRE_VERSION) {
        cJSON_Delete(o);
        return gl_err_set(err, GL_EINVAL, "unsupported wire version (want %d)", GL_WIRE_VERSION);
    }
    if ((rv = check_op(o, op, channel, err)) != GL_OK) {
        cJSON_Delete(o);
        return rv;
    }
    *root = o;
    return GL_OK;
}

int
gl_wire_parse_item(const cJSON *item, const char **op, const char **channel, gl_err *err)
{
    if (!cJSON_IsObject(item)) return gl_err_set(err, GL_EINVAL, "a batch item must be an object");
    int rv = check_op(item, op, channel, err);
    if (rv != GL_OK) return rv;
    if (strcmp(*op, GL_OP_BATCH) == 0)
        return gl_err_set(err, GL_EINVAL, "a batch cannot hold another batch");
    return GL_OK;
}

cJSON *
gl_wire_reply_ok(cJSON *data)
{
    cJSON *o = cJSON_CreateObject();
    if (data == NULL) data = cJSON_CreateObject();
    if (o == NULL || data == NULL || cJSON_AddTrueToObject(o, "ok") == NULL) {
        cJSON_Delete(o);
        cJSON_Delete(data);
        return NULL;
    }
    cJSON_AddItemToObject(o, "data", data);
    return o;
}

cJSON *
gl_wire_reply_error(int code, const char *msg)
{
    cJSON *o = cJSON_CreateObject(), *e;
    if (o == NULL || cJSON_AddFalseToObject(o, "ok") == NULL ||
        (e = cJSON_AddObjectToObject(o, "error")) == NULL ||
        cJSON_AddStringToObject(e, "code", gl_err_code_name(code)) == NULL ||
        cJSON_AddStringToObject(e, "message", msg) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int
code_from_name(const char *name)
{
    for (int c = GL_EINVAL; c < GL_ECOUNT; c++)
        if (strcmp(gl_err_code_name(c), name) == 0) return c;
    return GL_EINTERNAL;
}

int
gl_wire_parse_reply(const void *buf, size_t len, cJSON **root, const cJSON **data, gl_err *err)
{
    return gl_wire_parse_reply_raw(buf, len, GL_WIRE_MAX, NULL, GL_JSON_DEPTH_MAX, root, data, err);
}

int
gl_wire_parse_reply_raw(const void *buf, size_t len, size_t max, const char *const *raw,
                        int max_depth, cJSON **root, const cJSON **data, gl_err *err)
{
    cJSON *o = len <= max ? gl_json_parse_depth(buf, len, raw, max_depth, NULL) : NULL;
    const cJSON *ok, *e, *code, *msg;
    int rv;

    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return gl_err_set(err, GL_EIPC, "pushd sent an unreadable reply");
    }
    ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
    if (cJSON_IsTrue(ok)) {
        *root = o;
        *data = cJSON_GetObjectItemCaseSensitive(o, "data");
        return GL_OK;
    }
    e = cJSON_GetObjectItemCaseSensitive(o, "error");
    code = cJSON_GetObjectItemCaseSensitive(e, "code");
    msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    rv = gl_err_set(err, cJSON_IsString(code) ? code_from_name(code->valuestring) : GL_EIPC, "%s",
                    cJSON_IsString(msg) ? msg->valuestring : "pushd refused the request");
    cJSON_Delete(o);
    return rv;
}
