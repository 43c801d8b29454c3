/* Messages and settings in the store requests over NATS (store_wire.h). Everything read here
 * came over the network, from another node: every member is checked for type and bounds. */
#include "store_wire.h"
#include "shared/chan.h"
#include "shared/json.h"
#include "shared/jwt.h"
#include "shared/wire.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pd_store_wire_raw[] = {"body", NULL};
const char *const pd_store_wire_state_lists[PD_STATE_NLISTS] = {"settings", "access",
                                                                "restrictions", "roles", "pins"};

static cJSON *
add_nullable(cJSON *o, const char *name, const char *s)
{
    return s ? cJSON_AddStringToObject(o, name, s) : cJSON_AddNullToObject(o, name);
}

cJSON *
pd_store_wire_msg(const gl_msg *m)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || gl_json_add_int(o, "id", m->id) == NULL ||
        gl_json_add_int(o, "prev_id", m->prev_id) == NULL ||
        cJSON_AddStringToObject(o, "channel", m->channel) == NULL ||
        add_nullable(o, "user_id", m->user_id) == NULL ||
        add_nullable(o, "username", m->username) == NULL ||
        cJSON_AddStringToObject(o, "created_at", m->created_at) == NULL ||
        cJSON_AddRawToObject(o, "body", m->data) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int
pd_store_wire_int(const cJSON *o, const char *name, int64_t lo, int64_t hi, int64_t *out,
                  gl_err *err)
{
    return pd_store_wire_int_value(cJSON_GetObjectItemCaseSensitive(o, name), name, lo, hi, out,
                                   err);
}

int
pd_store_wire_int_value(const cJSON *v, const char *name, int64_t lo, int64_t hi, int64_t *out,
                        gl_err *err)
{
    /* Doubles hold every integer up to 2^53 exactly; ids stay far below. */
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < (double)lo || v->valuedouble > (double)hi ||
        fabs(v->valuedouble) > 9007199254740992.0)
        return gl_err_set(err, GL_EINVAL, "%s must be a whole number from %lld to %lld", name,
                          (long long)lo, (long long)hi);
    *out = (int64_t)v->valuedouble;
    return GL_OK;
}

const char *
pd_store_wire_string(const cJSON *o, const char *name, size_t cap, bool nullable, gl_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (nullable && (v == NULL || cJSON_IsNull(v))) {
        if (err) err->code = GL_OK;
        return NULL;
    }
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) {
        gl_err_set(err, GL_EINVAL, "%s must be a string shorter than %zu bytes", name, cap);
        return NULL;
    }
    return v->valuestring;
}

const char *
pd_store_wire_channel(const cJSON *o, const char *name, gl_err *err)
{
    const char *ch = pd_store_wire_string(o, name, GL_CHAN_MAX + 1, false, err);
    return ch != NULL && gl_chan_validate(ch, err) == GL_OK ? ch : NULL;
}

int
pd_store_wire_msg_parse(const cJSON *o, gl_msg *m, gl_err *err)
{
    const char *created, *body = gl_json_raw(o, "body");
    gl_err e;
    int rv;

    memset(m, 0, sizeof(*m));
    if (!cJSON_IsObject(o)) return gl_err_set(err, GL_EINVAL, "a message must be an object");
    if ((rv = pd_store_wire_int(o, "id", 0, INT64_MAX, &m->id, err)) != GL_OK ||
        (rv = pd_store_wire_int(o, "prev_id", 0, INT64_MAX, &m->prev_id, err)) != GL_OK)
        return rv;
    if ((m->channel = pd_store_wire_channel(o, "channel", err)) == NULL) return GL_EINVAL;
    m->user_id = pd_store_wire_string(o, "user_id", GL_USER_ID_MAX, true, &e);
    if (m->user_id == NULL && e.code != GL_OK) return gl_err_set(err, GL_EINVAL, "%s", e.msg);
    m->username = pd_store_wire_string(o, "username", GL_USERNAME_MAX, true, &e);
    if (m->username == NULL && e.code != GL_OK) return gl_err_set(err, GL_EINVAL, "%s", e.msg);
    if ((created = pd_store_wire_string(o, "created_at", GL_TIME_MAX, false, err)) == NULL)
        return GL_EINVAL;
    snprintf(m->created_at, sizeof(m->created_at), "%s", created);
    if (!gl_json_raw_is_object(body))
        return gl_err_set(err, GL_EINVAL, "a message's body must be a JSON object kept raw");
    m->data = body;
    return GL_OK;
}

/* ---- settings */

static void
add_tristate(cJSON *o, const char *name, int v)
{
    if (v >= 0) cJSON_AddBoolToObject(o, name, v != 0);
}

static void
add_count(cJSON *o, const char *name, int v)
{
    if (v >= 0) gl_json_add_int(o, name, v);
}

cJSON *
pd_store_wire_override(const gl_override *ov)
{
    const gl_modes *m = &ov->modes;
    cJSON *o = cJSON_CreateObject();

    if (o == NULL) return NULL;
    add_tristate(o, "private", ov->private_);
    add_tristate(o, "allow_publish", ov->allow_publish);
    if (ov->max_history > 0) gl_json_add_int(o, "max_history", ov->max_history);
    if (ov->has_roles)
        cJSON_AddItemToObject(o, "roles",
                              gl_json_strings((const char *)ov->roles, GL_NAME_MAX, ov->n_roles));
    add_count(o, "slow_mode", m->slow_mode);
    add_tristate(o, "members_only", m->members_only);
    add_tristate(o, "unique_chat", m->unique_chat);
    add_count(o, "max_length", m->max_length);
    add_count(o, "max_bytes", m->max_bytes);
    add_tristate(o, "hold_blocked", m->hold_blocked);
    if (m->has_terms)
        cJSON_AddItemToObject(o, "terms",
                              gl_json_strings((const char *)m->terms, sizeof(gl_term), m->n_terms));
    return o;
}

/* An optional boolean member into *v (-1 when absent). */
static int
read_tristate(const cJSON *o, const char *name, int *v, gl_err *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (it == NULL) return GL_OK;
    if (!cJSON_IsBool(it)) return gl_err_set(err, GL_EINVAL, "%s must be true or false", name);
    *v = cJSON_IsTrue(it);
    return GL_OK;
}

/* An optional count member into *v (left as it is when absent). */
static int
read_count(const cJSON *o, const char *name, int lo, int *v, gl_err *err)
{
    int64_t n;
    int rv;
    if (cJSON_GetObjectItemCaseSensitive(o, name) == NULL) return GL_OK;
    if ((rv = pd_store_wire_int(o, name, lo, INT32_MAX, &n, err)) != GL_OK) return rv;
    *v = (int)n;
    return GL_OK;
}

/* An optional array of strings into n new elem-byte slots (*out, free). */
static int
read_strings(const cJSON *o, const char *name, size_t elem, char **out, size_t *n, bool *has,
             gl_err *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *it;
    size_t i = 0;

    if (a == NULL) return GL_OK;
    if (!cJSON_IsArray(a)) return gl_err_set(err, GL_EINVAL, "%s must be an array", name);
    if ((*out = calloc((size_t)cJSON_GetArraySize(a) + 1, elem)) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    *has = true;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || strlen(it->valuestring) >= elem)
            return gl_err_set(err, GL_EINVAL, "%s must hold strings shorter than %zu bytes", name,
                              elem);
        memcpy(*out + i++ * elem, it->valuestring, strlen(it->valuestring) + 1);
        *n = i;
    }
    return GL_OK;
}

int
pd_store_wire_override_parse(const cJSON *o, gl_override *ov, gl_err *err)
{
    gl_modes *m = &ov->modes;
    char *roles = NULL, *terms = NULL;
    int rv;

    *ov = (gl_override)GL_OVERRIDE_INIT;
    if (!cJSON_IsObject(o)) return gl_err_set(err, GL_EINVAL, "an override must be an object");
    rv = read_strings(o, "roles", GL_NAME_MAX, &roles, &ov->n_roles, &ov->has_roles, err);
    ov->roles = (char(*)[GL_NAME_MAX])(void *)roles;
    if (rv == GL_OK)
        rv = read_strings(o, "terms", sizeof(gl_term), &terms, &m->n_terms, &m->has_terms, err);
    m->terms = (gl_term *)(void *)terms;
    if (rv == GL_OK) rv = read_tristate(o, "private", &ov->private_, err);
    if (rv == GL_OK) rv = read_tristate(o, "allow_publish", &ov->allow_publish, err);
    if (rv == GL_OK) rv = read_count(o, "max_history", 1, &ov->max_history, err);
    if (rv == GL_OK) rv = read_count(o, "slow_mode", 0, &m->slow_mode, err);
    if (rv == GL_OK) rv = read_tristate(o, "members_only", &m->members_only, err);
    if (rv == GL_OK) rv = read_tristate(o, "unique_chat", &m->unique_chat, err);
    if (rv == GL_OK) rv = read_count(o, "max_length", 0, &m->max_length, err);
    if (rv == GL_OK) rv = read_count(o, "max_bytes", 0, &m->max_bytes, err);
    if (rv == GL_OK) rv = read_tristate(o, "hold_blocked", &m->hold_blocked, err);
    return rv;
}

/* ---- requests */

cJSON *
pd_store_wire_request(const char *op)
{
    return gl_wire_request(op, NULL);
}

int
pd_store_wire_parse_request(const char *buf, size_t len, cJSON **root, const char **op, gl_err *err)
{
    cJSON *o = gl_json_parse_depth(buf, len, pd_store_wire_raw, GL_WIRE_DEPTH_MAX, err);
    const cJSON *v, *name;

    if (o == NULL) return GL_EINVAL;
    v = cJSON_GetObjectItemCaseSensitive(o, "v");
    name = cJSON_GetObjectItemCaseSensitive(o, "op");
    if (!cJSON_IsObject(o) || !cJSON_IsNumber(v) || v->valuedouble != GL_WIRE_VERSION ||
        !cJSON_IsString(name)) {
        cJSON_Delete(o);
        return gl_err_set(err, GL_EINVAL, "a store request is {\"v\":%d,\"op\":...}",
                          GL_WIRE_VERSION);
    }
    *root = o;
    *op = name->valuestring;
    return GL_OK;
}
