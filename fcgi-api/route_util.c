/* Helpers shared by the route files (route_util.h): one module below them all, so that no route
 * file calls another. */
#include "route_util.h"
#include "stream_state.h"
#include "shared/event.h"
#include "shared/stream.h"
#include "shared/wire.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int
api_check_read(api_req *r, const char *channel, gl_policy *pol, gl_override *ov, gl_err *err)
{
    gl_acl_facts facts;
    int rv;

    if ((rv = api_channel_policy(r, channel, pol, ov, &facts, err)) != GL_OK) return rv;
    if ((rv = gl_acl_check_read(pol, r->authed ? &r->user : NULL, &facts, err)) != GL_OK)
        gl_override_free(ov);
    return rv;
}

bool
api_user_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= GL_USER_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

int
api_path_user(api_req *r, const char *name, const char **user, gl_err *err)
{
    const char *v = api_param(r, name);
    if (v == NULL || !api_user_id_ok(v))
        return gl_err_set(err, GL_EINVAL,
                          "user id must be 1 to %d bytes without control characters",
                          GL_USER_ID_MAX - 1);
    *user = v;
    return GL_OK;
}

int
api_path_id(api_req *r, const char *name, const char *what, int64_t *id, gl_err *err)
{
    const char *v = api_param(r, name);
    char *end;
    long long n;

    errno = 0;
    n = v != NULL ? strtoll(v, &end, 10) : 0;
    if (v == NULL || v[0] < '1' || v[0] > '9' || *end != '\0' || errno == ERANGE)
        return gl_err_set(err, GL_EINVAL, "%s must be an integer from 1 to %lld", what, LLONG_MAX);
    *id = n;
    return GL_OK;
}

bool
api_push_reload(api_req *r, const char *channel, cJSON *ev)
{
    cJSON *req = gl_wire_request(GL_OP_RELOAD, channel);
    if (req == NULL) {
        cJSON_Delete(ev);
        return false;
    }
    if (ev != NULL && gl_wire_add_event(req, ev) != GL_OK) {
        cJSON_Delete(req);
        return false;
    }
    return api_push(r->app, req);
}

void
api_reply_user_action(api_req *r, const char *user, const char *flag, const char *until, cJSON *ev)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    cJSON_AddStringToObject(out, "user_id", user);
    if (flag != NULL) cJSON_AddTrueToObject(out, flag);
    if (until != NULL) cJSON_AddStringToObject(out, "until", until);
    cJSON_AddBoolToObject(out, "pushed", api_push_reload(r, r->channel, ev));
    api_reply(r, 200, out);
}

int
api_write_audited(api_req *r, int (*fn)(api_req *r, void *arg, gl_err *err), void *arg,
                  const gl_audit *a, gl_err *err)
{
    int rv;
    if ((rv = gl_db_begin(r->db, err)) == GL_OK && (rv = fn(r, arg, err)) == GL_OK &&
        (a == NULL || (rv = gl_db_audit(r->db, a, err)) == GL_OK))
        rv = gl_db_commit(r->db, err);
    if (rv != GL_OK) gl_db_rollback(r->db);
    return rv;
}

static cJSON *
roles_json(const gl_policy *pol)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < pol->n_roles; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(pol->roles[i]));
    return a;
}

void
api_copy_counts(cJSON *dst, const cJSON *src)
{
    static const char *const keys[] = {"subscribers", "users", "anonymous"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = src ? cJSON_GetObjectItemCaseSensitive(src, keys[i]) : NULL;
        cJSON_AddNumberToObject(dst, keys[i], cJSON_IsNumber(v) ? v->valuedouble : 0);
    }
}

/* Counts from pushd into o (zeros when it does not answer); returns whether it answered. */
static bool
add_live_counts(api_req *r, const char *channel, cJSON *o)
{
    cJSON *live = NULL;
    gl_err err;
    bool ok = api_notify(r->app, gl_wire_request(GL_OP_CHANNEL, channel), &live, &err) == GL_OK;

    api_copy_counts(o, ok ? live : NULL);
    cJSON_Delete(live);
    return ok;
}

/* A stream's chat channel says whether its stream is live ("stream": {...} or null when no
 * key was ever made for the name). */
static int
add_stream(api_req *r, const char *channel, cJSON *o, gl_err *err)
{
    const char *name = gl_stream_of_channel(channel);
    gl_stream s;
    bool found;
    int rv;

    if (name == NULL) return GL_OK;
    if ((rv = gl_db_stream_get(r->db, name, &s, &found, err)) != GL_OK) return rv;
    cJSON_AddItemToObject(o, "stream", found ? api_stream_json(r, &s) : cJSON_CreateNull());
    return GL_OK;
}

static int
pinned_message(void *arg, const gl_msg *m)
{
    cJSON *o = arg;
    cJSON_DeleteItemFromObject(o, "pinned");
    cJSON_AddItemToObject(o, "pinned", gl_event_message(m));
    return 0;
}

/* "pinned": the channel's pinned message as clients receive messages, or null. */
static int
add_pinned(api_req *r, const char *channel, cJSON *o, gl_err *err)
{
    cJSON_AddNullToObject(o, "pinned");
    return gl_db_each_pin(r->db, channel, pinned_message, o, err);
}

int
api_channel_info_json(api_req *r, const char *channel, cJSON **out, gl_err *err)
{
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    int64_t last = 0;
    cJSON *o;
    int rv;

    if ((rv = api_channel_policy(r, channel, &pol, &ov, &facts, err)) != GL_OK) return rv;
    if ((rv = gl_db_last_id(r->db, channel, &last, err)) != GL_OK) {
        gl_override_free(&ov);
        return rv;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "channel", channel);
    if (pol.ns != NULL)
        cJSON_AddStringToObject(o, "namespace", pol.ns->name);
    else
        cJSON_AddNullToObject(o, "namespace");
    cJSON_AddBoolToObject(o, "private", pol.private_);
    cJSON_AddBoolToObject(o, "allow_publish", pol.allow_publish);
    cJSON_AddNumberToObject(o, "max_history", pol.max_history);
    cJSON_AddItemToObject(o, "allowed_roles", roles_json(&pol));
    cJSON_AddItemToObject(o, "chat_modes", gl_modes_json(&pol.modes));
    gl_override_free(&ov);
    if ((rv = add_pinned(r, channel, o, err)) != GL_OK) {
        cJSON_Delete(o);
        return rv;
    }
    cJSON_AddBoolToObject(o, "live", add_live_counts(r, channel, o));
    cJSON_AddNumberToObject(o, "last_message_id", (double)last);
    if ((rv = add_stream(r, channel, o, err)) != GL_OK) {
        cJSON_Delete(o);
        return rv;
    }
    *out = o;
    return GL_OK;
}

int
api_is_broadcaster(api_req *r, const char *channel, bool *yes, gl_err *err)
{
    const size_t plen = sizeof(GL_STREAM_CHANNEL_PREFIX) - 1;
    gl_stream s;
    bool found = false;
    int rv;

    *yes = false;
    if (strncmp(channel, GL_STREAM_CHANNEL_PREFIX, plen) != 0 ||
        gl_stream_name_check(channel + plen, NULL) != GL_OK)
        return GL_OK;
    if ((rv = gl_db_stream_get(r->db, channel + plen, &s, &found, err)) != GL_OK) return rv;
    *yes = found && strcmp(s.user_id, r->user.id) == 0;
    return GL_OK;
}

int
api_require_channel_moderator(api_req *r, gl_err *err)
{
    bool yes = false;
    int rv;

    if ((rv = api_require_user(r, err)) != GL_OK) return rv;
    if (gl_acl_may_moderate(&r->user)) return GL_OK;
    if ((rv = api_is_broadcaster(r, r->channel, &yes, err)) != GL_OK) return rv;
    if (!yes && (rv = gl_db_role_has(r->db, r->channel, GL_CHANNEL_ROLE_MODERATOR, r->user.id, &yes,
                                     err)) != GL_OK)
        return rv;
    if (yes) return GL_OK;
    return gl_err_set(err, GL_EFORBIDDEN,
                      "moderating %s needs the moderator or admin role, the chat.moderate "
                      "permission, or being its broadcaster or one of its moderators",
                      r->channel);
}

int
api_require_broadcaster(api_req *r, gl_err *err)
{
    bool yes = false;
    int rv;

    if ((rv = api_require_user(r, err)) != GL_OK) return rv;
    if (gl_acl_is_admin(&r->user)) return GL_OK;
    if ((rv = api_is_broadcaster(r, r->channel, &yes, err)) != GL_OK) return rv;
    if (yes) return GL_OK;
    return gl_err_set(err, GL_EFORBIDDEN,
                      "only %s's broadcaster (the owner of its stream) or an admin may appoint "
                      "its moderators and VIPs",
                      r->channel);
}
