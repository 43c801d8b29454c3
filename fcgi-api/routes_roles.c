/* Channel moderators and VIPs (docs/moderation.md "Who moderates"): a broadcaster (the owner of
 * chat:stream_<name>'s stream) or an admin appoints and removes them; anyone who may moderate
 * the channel may list them. Stored in channel_roles, each change audited. */
#include "routes.h"
#include "route_util.h"
#include "shared/timefmt.h"

#include <string.h>

/* The role a route is for: "moderators" -> GL_CHANNEL_ROLE_MODERATOR, "vips" -> _VIP. */
typedef struct role_route {
    const char *role;         /* channel_roles.role */
    const char *plural;       /* the reply's list key and the path segment */
    const char *add, *remove; /* moderation_log actions */
} role_route;

static const role_route moderators = {GL_CHANNEL_ROLE_MODERATOR, "moderators", "moderator_add",
                                      "moderator_remove"};
static const role_route vips = {GL_CHANNEL_ROLE_VIP, "vips", "vip_add", "vip_remove"};

static int
append_role(void *arg, const char *user_id, const char *granted_by, const char *granted_at)
{
    cJSON *e = cJSON_CreateObject();

    if (e == NULL || !cJSON_AddItemToArray(arg, e)) {
        cJSON_Delete(e);
        return GL_ENOMEM;
    }
    cJSON_AddStringToObject(e, "user_id", user_id);
    cJSON_AddStringToObject(e, "granted_by", granted_by);
    cJSON_AddStringToObject(e, "granted_at", granted_at);
    return GL_OK;
}

static int
list(api_req *r, const role_route *rr, gl_err *err)
{
    cJSON *out, *arr;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK) return rv;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    if ((arr = cJSON_AddArrayToObject(out, rr->plural)) == NULL) {
        cJSON_Delete(out);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    if ((rv = gl_db_roles(r->db, r->channel, rr->role, append_role, arr, err)) != GL_OK) {
        cJSON_Delete(out);
        return rv == GL_ENOMEM ? gl_err_set(err, GL_ENOMEM, "out of memory") : rv;
    }
    api_reply(r, 200, out);
    return GL_OK;
}

typedef struct change {
    const role_route *rr;
    const char *user, *at;
    bool grant;
    const gl_audit *audit; /* written when something changed */
    int changed;
} change;

static int
do_change(api_req *r, void *arg, gl_err *err)
{
    change *x = arg;
    int rv = x->grant
                 ? gl_db_role_add(r->db, r->channel, x->rr->role, x->user, r->user.id, x->at,
                                  &x->changed, err)
                 : gl_db_role_remove(r->db, r->channel, x->rr->role, x->user, &x->changed, err);
    if (rv == GL_OK && x->changed != 0) rv = gl_db_audit(r->db, x->audit, err);
    return rv;
}

/* PUT grants (200 either way: "added" says whether it was new), DELETE removes (404 when the
 * user did not have the role). Audited only when something changed. */
static int
change_role(api_req *r, const role_route *rr, bool grant, gl_err *err)
{
    const char *user;
    char at[GL_TIME_MAX];
    change x;
    gl_audit a;
    cJSON *out;
    int rv;

    if ((rv = api_require_broadcaster(r, err)) != GL_OK ||
        (rv = api_path_user(r, "user", &user, err)) != GL_OK)
        return rv;
    gl_time_now_iso(at);
    a = (gl_audit){
        r->channel, grant ? rr->add : rr->remove, user, 0, r->user.id, r->user.username, NULL, NULL,
        at};
    x = (change){rr, user, at, grant, &a, 0};
    if ((rv = api_write_audited(r, do_change, &x, NULL, err)) != GL_OK) return rv;
    if (!grant && x.changed == 0)
        return gl_err_set(err, GL_ENOTFOUND, "%s is not one of %s's %s", user, r->channel,
                          rr->plural);
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    cJSON_AddStringToObject(out, "user_id", user);
    cJSON_AddStringToObject(out, "role", rr->role);
    cJSON_AddBoolToObject(out, grant ? "added" : "removed", x.changed != 0);
    /* pushd exempts channel moderators and VIPs from the chat modes: it reloads their roles. */
    cJSON_AddBoolToObject(out, "pushed", x.changed == 0 || api_push_reload(r, r->channel, NULL));
    api_reply(r, 200, out);
    return GL_OK;
}

int
api_route_moderators(api_req *r, gl_err *err)
{
    return list(r, &moderators, err);
}

int
api_route_moderator_add(api_req *r, gl_err *err)
{
    return change_role(r, &moderators, true, err);
}

int
api_route_moderator_remove(api_req *r, gl_err *err)
{
    return change_role(r, &moderators, false, err);
}

int
api_route_vips(api_req *r, gl_err *err)
{
    return list(r, &vips, err);
}

int
api_route_vip_add(api_req *r, gl_err *err)
{
    return change_role(r, &vips, true, err);
}

int
api_route_vip_remove(api_req *r, gl_err *err)
{
    return change_role(r, &vips, false, err);
}
