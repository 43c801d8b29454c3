/* Moderation routes: delete a message, time out, ban and unban a user. Each writes its change
 * and an audit row in one transaction, then asks pushd to reload the channel's state (which
 * also ends live subscriptions that lost access) and to tell subscribers. Moderators, admins and
 * tokens with chat.moderate may use them (gl_acl_may_moderate). */
#include "routes.h"
#include "route_util.h"
#include "shared/event.h"
#include "shared/json.h"
#include "shared/timefmt.h"
#include "shared/wire.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MAX_SECS 1209600 /* 14 days */
#define REASON_MAX 500

/* An optional "reason" string of the body into *out (NULL when absent). */
static int
body_reason(api_req *r, const char **out, gl_err *err)
{
    const cJSON *v = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "reason") : NULL;
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) return GL_OK;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > REASON_MAX)
        return gl_err_set(err, GL_EINVAL, "reason must be a string of at most %d bytes",
                          REASON_MAX);
    *out = v->valuestring;
    return GL_OK;
}

typedef struct del_args {
    int64_t id;
    const char *at;
    const gl_audit *audit;
    int outcome;
} del_args;

/* Deleting twice is not an error, and not a second action either: the audit row is written
 * only when this request deleted the message. */
static int
do_delete(api_req *r, void *arg, gl_err *err)
{
    del_args *d = arg;
    int rv = gl_db_delete_message(r->db, r->channel, d->id, r->user.id, d->at, &d->outcome, err);
    if (rv == GL_OK && d->outcome == 0)
        return gl_err_set(err, GL_ENOTFOUND, "channel %s has no message %lld", r->channel,
                          (long long)d->id);
    if (rv == GL_OK && d->outcome == 1) rv = gl_db_audit(r->db, d->audit, err);
    return rv;
}

int
api_route_delete_message(api_req *r, gl_err *err)
{
    char at[GL_TIME_MAX];
    int64_t id;
    del_args d;
    gl_audit a;
    cJSON *out;
    bool pushed = false;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = api_path_id(r, "id", "message id", &id, err)) != GL_OK)
        return rv;
    gl_time_now_iso(at);
    a = (gl_audit){r->channel, "delete_message", NULL, id, r->user.id, r->user.username, NULL, NULL,
                   at};
    d = (del_args){id, at, &a, 0};
    if ((rv = api_write_audited(r, do_delete, &d, NULL, err)) != GL_OK) return rv;
    if (d.outcome == 1) {
        cJSON *req = gl_wire_request(GL_OP_EVENT, r->channel);
        if (req != NULL &&
            gl_wire_add_event(req, gl_event_message_deleted(r->channel, id)) != GL_OK) {
            cJSON_Delete(req);
            req = NULL;
        }
        pushed = req != NULL && api_push(r->app, req);
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    gl_json_add_int(out, "message_id", id);
    cJSON_AddTrueToObject(out, "deleted");
    cJSON_AddBoolToObject(out, "pushed", pushed);
    api_reply(r, 200, out);
    return GL_OK;
}

typedef struct restrict_args {
    const char *user, *reason, *at, *until;
    bool timeout;
} restrict_args;

static int
do_restrict(api_req *r, void *arg, gl_err *err)
{
    restrict_args *x = arg;
    return gl_db_put_restriction(r->db, r->channel, x->user, x->timeout, x->reason, r->user.id,
                                 x->at, x->until, err);
}

int
api_route_timeout(api_req *r, gl_err *err)
{
    const char *user, *reason;
    const cJSON *dur;
    char at[GL_TIME_MAX], until[GL_TIME_MAX], detail[64];
    int64_t now = gl_time_now_ms();
    restrict_args x;
    gl_audit a;
    cJSON *ev;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = api_path_user(r, "user", &user, err)) != GL_OK ||
        (rv = api_read_json_body(r, true, err)) != GL_OK ||
        (rv = body_reason(r, &reason, err)) != GL_OK)
        return rv;
    dur = cJSON_GetObjectItemCaseSensitive(r->body, "duration");
    if (!cJSON_IsNumber(dur) || dur->valuedouble != (double)(int64_t)dur->valuedouble ||
        dur->valuedouble < 1 || dur->valuedouble > TIMEOUT_MAX_SECS)
        return gl_err_set(err, GL_EINVAL,
                          "duration must be an integer number of seconds from 1 to %d",
                          TIMEOUT_MAX_SECS);
    gl_time_format_iso(now, at);
    gl_time_format_iso(now + (int64_t)dur->valuedouble * 1000, until);
    snprintf(detail, sizeof(detail), "{\"duration\":%lld}", (long long)dur->valuedouble);
    x = (restrict_args){user, reason, at, until, true};
    a = (gl_audit){r->channel,       "timeout", user,   0, r->user.id,
                   r->user.username, reason,    detail, at};
    if ((rv = api_write_audited(r, do_restrict, &x, &a, err)) != GL_OK) return rv;
    ev = gl_event_user_action("user_timeout", r->channel, user, reason, until);
    api_reply_user_action(r, user, NULL, until, ev);
    return GL_OK;
}

int
api_route_ban(api_req *r, gl_err *err)
{
    const char *user, *reason;
    char at[GL_TIME_MAX];
    restrict_args x;
    gl_audit a;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = api_path_user(r, "user", &user, err)) != GL_OK ||
        (rv = api_read_json_body(r, false, err)) != GL_OK ||
        (rv = body_reason(r, &reason, err)) != GL_OK)
        return rv;
    gl_time_now_iso(at);
    x = (restrict_args){user, reason, at, NULL, false};
    a = (gl_audit){r->channel, "ban", user, 0, r->user.id, r->user.username, reason, NULL, at};
    if ((rv = api_write_audited(r, do_restrict, &x, &a, err)) != GL_OK) return rv;
    api_reply_user_action(r, user, "banned", NULL,
                          gl_event_user_action("user_banned", r->channel, user, reason, NULL));
    return GL_OK;
}

static int
do_unban(api_req *r, void *arg, gl_err *err)
{
    restrict_args *x = arg;
    int removed = 0,
        rv = gl_db_remove_restrictions(r->db, r->channel, x->user, x->at, &removed, err);
    if (rv == GL_OK && removed == 0)
        return gl_err_set(err, GL_ENOTFOUND, "%s is neither banned nor timed out in %s", x->user,
                          r->channel);
    return rv;
}

int
api_route_unban(api_req *r, gl_err *err)
{
    const char *user;
    char at[GL_TIME_MAX];
    restrict_args x;
    gl_audit a;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = api_path_user(r, "user", &user, err)) != GL_OK)
        return rv;
    gl_time_now_iso(at);
    x = (restrict_args){user, NULL, at, NULL, false};
    a = (gl_audit){r->channel, "unban", user, 0, r->user.id, r->user.username, NULL, NULL, at};
    if ((rv = api_write_audited(r, do_unban, &x, &a, err)) != GL_OK) return rv;
    api_reply_user_action(r, user, "unbanned", NULL,
                          gl_event_user_action("user_unbanned", r->channel, user, NULL, NULL));
    return GL_OK;
}
