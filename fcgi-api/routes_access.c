/* Channel settings (stored overrides of the YAML rules) and access lists. Changes are written
 * with an audit row, then pushd reloads the channel and ends subscriptions that lost access. */
#include "api.h"
#include "routes.h"
#include "shared/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCESS_BATCH_MAX 1000

/* A boolean override: true/false sets, null unsets. -1 after a 400. */
static int
tristate(api_req *r, const cJSON *v, const char *name, int *out)
{
    if (cJSON_IsNull(v))
        *out = -1;
    else if (cJSON_IsBool(v))
        *out = cJSON_IsTrue(v) ? 1 : 0;
    else {
        api_fail(r, GL_EINVAL, "%s must be true, false or null", name);
        return -1;
    }
    return 0;
}

static int
apply_roles(api_req *r, const cJSON *v, gl_override *ov)
{
    const cJSON *it;
    size_t n = 0;

    free(ov->roles);
    ov->roles = NULL;
    ov->n_roles = 0;
    ov->has_roles = false;
    if (cJSON_IsNull(v)) return 0;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 1000) {
        api_fail(r, GL_EINVAL,
                 "allowed_roles must be an array of at most 1000 role names, or null");
        return -1;
    }
    ov->roles = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*ov->roles));
    if (ov->roles == NULL) {
        api_fail(r, GL_ENOMEM, "out of memory");
        return -1;
    }
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) || !gl_role_name_ok(it->valuestring)) {
            api_fail(r, GL_EINVAL, "allowed_roles entries must be 1-%d bytes of %s",
                     GL_ROLE_MAX - 1, GL_ROLE_CHARS);
            return -1;
        }
        snprintf(ov->roles[n++], GL_NAME_MAX, "%s", it->valuestring);
    }
    ov->n_roles = n;
    ov->has_roles = true;
    return 0;
}

/* Merge the body into ov; -1 after a 400. */
static int
apply_settings(api_req *r, gl_override *ov)
{
    const cJSON *it;

    if (r->body->child == NULL) {
        api_fail(r, GL_EINVAL,
                 "no settings given (private, max_history, allow_publish, "
                 "allowed_roles)");
        return -1;
    }
    cJSON_ArrayForEach(it, r->body)
    {
        const char *k = it->string;
        if (strcmp(k, "private") == 0) {
            if (tristate(r, it, k, &ov->private_) < 0) return -1;
        } else if (strcmp(k, "allow_publish") == 0) {
            if (tristate(r, it, k, &ov->allow_publish) < 0) return -1;
        } else if (strcmp(k, "max_history") == 0) {
            if (cJSON_IsNull(it)) {
                ov->max_history = 0;
            } else if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int)it->valuedouble ||
                       it->valuedouble < 1 || it->valuedouble > GL_HISTORY_LIMIT) {
                api_fail(r, GL_EINVAL, "max_history must be an integer from 1 to %d, or null",
                         GL_HISTORY_LIMIT);
                return -1;
            } else {
                ov->max_history = (int)it->valuedouble;
            }
        } else if (strcmp(k, "allowed_roles") == 0) {
            if (apply_roles(r, it, ov) < 0) return -1;
        } else {
            api_fail(r, GL_EINVAL, "unknown setting '%.64s'", k);
            return -1;
        }
    }
    return 0;
}

typedef struct settings_args {
    const gl_override *ov;
    const char *at;
} settings_args;

static int
do_settings(api_req *r, void *arg, gl_err *err)
{
    settings_args *x = arg;
    return gl_db_put_override(r->db, r->channel, x->ov, r->user.id, x->at, err);
}

void
api_route_settings(api_req *r)
{
    gl_override ov;
    gl_err err;
    char at[GL_TIME_MAX], *detail;
    settings_args x;
    gl_audit a;
    cJSON *info;

    if (api_require_staff(r) != GL_OK || api_read_json_body(r, true) != GL_OK) return;
    if (gl_db_get_override(r->db, r->channel, &ov, &err) != GL_OK) {
        api_fail_err(r, &err);
        return;
    }
    if (apply_settings(r, &ov) < 0) {
        gl_override_free(&ov);
        return;
    }
    gl_time_now_iso(at);
    detail = cJSON_PrintUnformatted(r->body);
    x = (settings_args){&ov, at};
    a = (gl_audit){r->channel, "settings", NULL, 0, r->user.id, r->user.username, NULL, detail, at};
    if (api_write_audited(r, do_settings, &x, &a) == GL_OK) {
        api_push_reload(r, r->channel, NULL);
        if ((info = api_channel_info_json(r, r->channel)) != NULL) api_reply(r, 200, info);
    }
    cJSON_free(detail);
    gl_override_free(&ov);
}

typedef struct access_args {
    const cJSON *users;
    const char *user;
    const char *at;
} access_args;

static int
do_access_add(api_req *r, void *arg, gl_err *err)
{
    access_args *x = arg;
    const cJSON *it;
    int rv = GL_OK;
    cJSON_ArrayForEach(it, x->users)
    {
        gl_audit a = {r->channel, "access_add", it->valuestring,
                      0,          r->user.id,   r->user.username,
                      NULL,       NULL,         x->at};
        if ((rv = gl_db_access_add(r->db, r->channel, it->valuestring, r->user.id, x->at, err)) !=
                GL_OK ||
            (rv = gl_db_audit(r->db, &a, err)) != GL_OK)
            break;
    }
    return rv;
}

void
api_route_access_add(api_req *r)
{
    const cJSON *users, *it;
    char at[GL_TIME_MAX];
    access_args x;
    cJSON *out;

    if (api_require_staff(r) != GL_OK || api_read_json_body(r, true) != GL_OK) return;
    users = cJSON_GetObjectItemCaseSensitive(r->body, "users");
    if (!cJSON_IsArray(users) || cJSON_GetArraySize(users) < 1 ||
        cJSON_GetArraySize(users) > ACCESS_BATCH_MAX) {
        api_fail(r, GL_EINVAL, "users must be an array of 1 to %d user ids", ACCESS_BATCH_MAX);
        return;
    }
    cJSON_ArrayForEach(it, users) if (!cJSON_IsString(it) || !api_user_id_ok(it->valuestring))
    {
        api_fail(r, GL_EINVAL, "each user id must be a string of 1 to %d bytes",
                 GL_USER_ID_MAX - 1);
        return;
    }
    gl_time_now_iso(at);
    x = (access_args){users, NULL, at};
    if (api_write_audited(r, do_access_add, &x, NULL) != GL_OK) return;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    cJSON_AddItemToObject(out, "added", cJSON_Duplicate(users, 1));
    cJSON_AddBoolToObject(out, "pushed", api_push_reload(r, r->channel, NULL));
    api_reply(r, 200, out);
}

static int
do_access_remove(api_req *r, void *arg, gl_err *err)
{
    access_args *x = arg;
    int removed = 0, rv = gl_db_access_remove(r->db, r->channel, x->user, &removed, err);
    if (rv == GL_OK && removed == 0) {
        api_fail(r, GL_ENOTFOUND, "%s is not in the access list of %s", x->user, r->channel);
        return GL_ENOTFOUND;
    }
    return rv;
}

void
api_route_access_remove(api_req *r)
{
    const char *user;
    char at[GL_TIME_MAX];
    access_args x;
    gl_audit a;

    if (api_require_staff(r) != GL_OK || (user = api_path_user(r, 3)) == NULL) return;
    gl_time_now_iso(at);
    x = (access_args){NULL, user, at};
    a = (gl_audit){r->channel, "access_remove", user, 0, r->user.id, r->user.username, NULL, NULL,
                   at};
    if (api_write_audited(r, do_access_remove, &x, &a) != GL_OK) return;
    api_reply_user_action(r, user, "removed", NULL, NULL);
}
