/* Channel settings (stored overrides of the YAML rules) and access lists. Changes are written
 * with an audit row, then pushd reloads the channel and ends subscriptions that lost access. */
#include "routes.h"
#include "route_util.h"
#include "shared/event.h"
#include "shared/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCESS_BATCH_MAX 1000

/* A boolean override: true/false sets, null unsets. */
static int
tristate(const cJSON *v, const char *name, int *out, gl_err *err)
{
    if (cJSON_IsNull(v))
        *out = -1;
    else if (cJSON_IsBool(v))
        *out = cJSON_IsTrue(v) ? 1 : 0;
    else
        return gl_err_set(err, GL_EINVAL, "%s must be true, false or null", name);
    return GL_OK;
}

static int
apply_roles(const cJSON *v, gl_override *ov, gl_err *err)
{
    const cJSON *it;
    size_t n = 0;

    free(ov->roles);
    ov->roles = NULL;
    ov->n_roles = 0;
    ov->has_roles = false;
    if (cJSON_IsNull(v)) return GL_OK;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > 1000)
        return gl_err_set(err, GL_EINVAL,
                          "allowed_roles must be an array of at most 1000 role names, or null");
    ov->roles = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*ov->roles));
    if (ov->roles == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) || !gl_role_name_ok(it->valuestring))
            return gl_err_set(err, GL_EINVAL, "allowed_roles entries must be 1-%d bytes of %s",
                              GL_ROLE_MAX - 1, GL_ROLE_CHARS);
        snprintf(ov->roles[n++], GL_NAME_MAX, "%s", it->valuestring);
    }
    ov->n_roles = n;
    ov->has_roles = true;
    return GL_OK;
}

/* An integer setting in min..max, or null (*out = unset). The range is checked before the
 * cast: a double out of int's range does not convert. */
static int
int_setting(const cJSON *v, const char *name, int min, int max, int unset, int *out, gl_err *err)
{
    if (cJSON_IsNull(v))
        *out = unset;
    else if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max) ||
             v->valuedouble != (double)(int)v->valuedouble)
        return gl_err_set(err, GL_EINVAL, "%s must be an integer from %d to %d, or null", name, min,
                          max);
    else
        *out = (int)v->valuedouble;
    return GL_OK;
}

static int
apply_terms(const cJSON *v, gl_modes *m, gl_err *err)
{
    const cJSON *it;
    const char *problem;
    size_t n = 0;

    free(m->terms);
    m->terms = NULL;
    m->n_terms = 0;
    m->has_terms = false;
    if (cJSON_IsNull(v)) return GL_OK;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > GL_TERMS_MAX)
        return gl_err_set(err, GL_EINVAL,
                          "blocked_terms must be an array of at most %d strings, or null",
                          GL_TERMS_MAX);
    if ((m->terms = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*m->terms))) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            return gl_err_set(err, GL_EINVAL, "blocked_terms entries must be strings");
        if ((problem = gl_term_problem(it->valuestring)) != NULL)
            return gl_err_set(err, GL_EINVAL, "blocked_terms[%zu]: %s", n, problem);
        snprintf(m->terms[n++], GL_TERM_MAX, "%s", it->valuestring);
    }
    m->n_terms = n;
    m->has_terms = true;
    return GL_OK;
}

static int
apply_action(const cJSON *v, gl_modes *m, gl_err *err)
{
    if (cJSON_IsNull(v))
        m->hold_blocked = -1;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "refuse") == 0)
        m->hold_blocked = 0;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "hold") == 0)
        m->hold_blocked = 1;
    else
        return gl_err_set(err, GL_EINVAL,
                          "blocked_terms_action must be \"refuse\", \"hold\" or null");
    return GL_OK;
}

/* A chat-mode setting (docs/moderation.md "Chat modes") into m; GL_ENOTFOUND: k is not one. */
static int
apply_mode(const char *k, const cJSON *it, gl_modes *m, gl_err *err)
{
    int b = -1, rv;

    if (strcmp(k, "slow_mode") == 0)
        return int_setting(it, k, 0, GL_SLOW_MODE_MAX, -1, &m->slow_mode, err);
    if (strcmp(k, "max_message_length") == 0)
        return int_setting(it, k, 0, GL_LENGTH_LIMIT, -1, &m->max_length, err);
    if (strcmp(k, "max_message_bytes") == 0)
        return int_setting(it, k, 0, GL_LENGTH_LIMIT, -1, &m->max_bytes, err);
    if (strcmp(k, "blocked_terms") == 0) return apply_terms(it, m, err);
    if (strcmp(k, "blocked_terms_action") == 0) return apply_action(it, m, err);
    if (strcmp(k, "members_only") != 0 && strcmp(k, "unique_chat") != 0) return GL_ENOTFOUND;
    if ((rv = tristate(it, k, &b, err)) == GL_OK)
        *(k[0] == 'm' ? &m->members_only : &m->unique_chat) = b;
    return rv;
}

/* Does the body set only chat modes (which the channel's own moderators may change)? */
static bool
only_modes(const cJSON *body)
{
    gl_modes probe = GL_MODES_UNSET;
    const cJSON *it;
    bool only = true;

    cJSON_ArrayForEach(it, body)
    {
        if (apply_mode(it->string, it, &probe, NULL) == GL_ENOTFOUND) only = false;
    }
    free(probe.terms);
    return only;
}

/* One of the access settings (staff only) into ov; any other key is unknown. */
static int
apply_access(const char *k, const cJSON *it, gl_override *ov, gl_err *err)
{
    if (strcmp(k, "private") == 0) return tristate(it, k, &ov->private_, err);
    if (strcmp(k, "allow_publish") == 0) return tristate(it, k, &ov->allow_publish, err);
    if (strcmp(k, "max_history") == 0)
        return int_setting(it, k, 1, GL_HISTORY_LIMIT, 0, &ov->max_history, err);
    if (strcmp(k, "allowed_roles") == 0) return apply_roles(it, ov, err);
    return gl_err_set(err, GL_EINVAL, "unknown setting '%.64s'", k);
}

/* Merge the body into ov. */
static int
apply_settings(api_req *r, gl_override *ov, gl_err *err)
{
    const cJSON *it;
    int rv;

    if (r->body->child == NULL)
        return gl_err_set(err, GL_EINVAL,
                          "no settings given (private, max_history, allow_publish, "
                          "allowed_roles, or a chat mode)");
    cJSON_ArrayForEach(it, r->body)
    {
        if ((rv = apply_mode(it->string, it, &ov->modes, err)) == GL_ENOTFOUND)
            rv = apply_access(it->string, it, ov, err);
        if (rv != GL_OK) return rv;
    }
    return GL_OK;
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

int
api_route_settings(api_req *r, gl_err *err)
{
    gl_override ov;
    char at[GL_TIME_MAX], *detail;
    settings_args x;
    gl_audit a;
    cJSON *info;
    int rv;

    gl_policy pol;

    if ((rv = api_require_user(r, err)) != GL_OK ||
        (rv = api_read_json_body(r, true, err)) != GL_OK ||
        (rv = only_modes(r->body) ? api_require_channel_moderator(r, err)
                                  : api_require_staff(r, err)) != GL_OK ||
        (rv = gl_db_get_override(r->db, r->channel, &ov, err)) != GL_OK)
        return rv;
    if ((rv = apply_settings(r, &ov, err)) != GL_OK) {
        gl_override_free(&ov);
        return rv;
    }
    gl_time_now_iso(at);
    detail = cJSON_PrintUnformatted(r->body);
    x = (settings_args){&ov, at};
    a = (gl_audit){r->channel, "settings", NULL, 0, r->user.id, r->user.username, NULL, detail, at};
    if ((rv = api_write_audited(r, do_settings, &x, &a, err)) == GL_OK) {
        gl_policy_resolve(r->app->cfg, r->channel, &ov, &pol);
        api_push_reload(r, r->channel, gl_event_chat_modes(r->channel, &pol.modes));
        if ((rv = api_channel_info_json(r, r->channel, &info, err)) == GL_OK)
            api_reply(r, 200, info);
    }
    cJSON_free(detail);
    gl_override_free(&ov);
    return rv;
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

int
api_route_access_add(api_req *r, gl_err *err)
{
    const cJSON *users, *it;
    char at[GL_TIME_MAX];
    access_args x;
    cJSON *out;
    int rv;

    if ((rv = api_require_staff(r, err)) != GL_OK ||
        (rv = api_read_json_body(r, true, err)) != GL_OK)
        return rv;
    users = cJSON_GetObjectItemCaseSensitive(r->body, "users");
    if (!cJSON_IsArray(users) || cJSON_GetArraySize(users) < 1 ||
        cJSON_GetArraySize(users) > ACCESS_BATCH_MAX)
        return gl_err_set(err, GL_EINVAL, "users must be an array of 1 to %d user ids",
                          ACCESS_BATCH_MAX);
    cJSON_ArrayForEach(
        it,
        users) if (!cJSON_IsString(it) ||
                   !api_user_id_ok(it->valuestring)) return gl_err_set(err, GL_EINVAL,
                                                                       "each user id must be a "
                                                                       "string of 1 to %d bytes",
                                                                       GL_USER_ID_MAX - 1);
    gl_time_now_iso(at);
    x = (access_args){users, NULL, at};
    if ((rv = api_write_audited(r, do_access_add, &x, NULL, err)) != GL_OK) return rv;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    cJSON_AddItemToObject(out, "added", cJSON_Duplicate(users, 1));
    cJSON_AddBoolToObject(out, "pushed", api_push_reload(r, r->channel, NULL));
    api_reply(r, 200, out);
    return GL_OK;
}

static int
do_access_remove(api_req *r, void *arg, gl_err *err)
{
    access_args *x = arg;
    int removed = 0, rv = gl_db_access_remove(r->db, r->channel, x->user, &removed, err);
    if (rv == GL_OK && removed == 0)
        return gl_err_set(err, GL_ENOTFOUND, "%s is not in the access list of %s", x->user,
                          r->channel);
    return rv;
}

int
api_route_access_remove(api_req *r, gl_err *err)
{
    const char *user;
    char at[GL_TIME_MAX];
    access_args x;
    gl_audit a;
    int rv;

    if ((rv = api_require_staff(r, err)) != GL_OK ||
        (rv = api_path_user(r, "user", &user, err)) != GL_OK)
        return rv;
    gl_time_now_iso(at);
    x = (access_args){NULL, user, at};
    a = (gl_audit){r->channel, "access_remove", user, 0, r->user.id, r->user.username, NULL, NULL,
                   at};
    if ((rv = api_write_audited(r, do_access_remove, &x, &a, err)) != GL_OK) return rv;
    api_reply_user_action(r, user, "removed", NULL, NULL);
    return GL_OK;
}
