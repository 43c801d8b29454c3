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
    /* A reload, not only the event: pushd drops the pin if this was the pinned message. */
    if (d.outcome == 1)
        pushed = api_push_reload(r, r->channel, gl_event_message_deleted(r->channel, id));
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
    cJSON *deleted;  /* with "delete_messages": true, the ids removed (an array), else NULL */
    gl_audit *audit; /* its detail gains the count of deleted messages */
    char detail[96];
} restrict_args;

/* "delete_messages": true (default false) into x->deleted, a new array to collect ids in. */
static int
body_delete_messages(api_req *r, restrict_args *x, gl_err *err)
{
    const cJSON *v = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "delete_messages") : NULL;

    x->deleted = NULL;
    if (v == NULL || cJSON_IsFalse(v)) return GL_OK;
    if (!cJSON_IsTrue(v))
        return gl_err_set(err, GL_EINVAL, "delete_messages must be true or false");
    if ((x->deleted = cJSON_CreateArray()) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    return GL_OK;
}

static int
collect_id(void *arg, int64_t id)
{
    cJSON *n = gl_json_int(id);
    if (n == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(arg, n);
    return 0;
}

static int
do_restrict(api_req *r, void *arg, gl_err *err)
{
    restrict_args *x = arg;
    int rv = gl_db_put_restriction(r->db, r->channel, x->user, x->timeout, x->reason, r->user.id,
                                   x->at, x->until, err);

    if (rv != GL_OK || x->deleted == NULL) return rv;
    if ((rv = gl_db_delete_user_messages(r->db, r->channel, x->user, r->user.id, x->at, collect_id,
                                         x->deleted, err)) != GL_OK)
        return rv == GL_ENOMEM ? gl_err_set(err, GL_ENOMEM, "out of memory") : rv;
    /* {"duration":N} becomes {"duration":N,"deleted_messages":M}; a ban's NULL {"deleted..."} */
    snprintf(x->detail, sizeof(x->detail), "%.*s%s\"deleted_messages\":%d}",
             x->audit->detail ? (int)strlen(x->audit->detail) - 1 : 1,
             x->audit->detail ? x->audit->detail : "{", x->audit->detail ? "," : "",
             cJSON_GetArraySize(x->deleted));
    x->audit->detail = x->detail;
    return GL_OK;
}

/* The ban or timeout event, with the ids of the messages it removed ("message_ids"). */
static cJSON *
restrict_event(cJSON *ev, restrict_args *x)
{
    if (x->deleted == NULL) return ev;
    if (ev == NULL || !cJSON_AddItemToObject(ev, "message_ids", x->deleted)) {
        cJSON_Delete(x->deleted);
        x->deleted = NULL;
        return ev;
    }
    x->deleted = NULL; /* the event owns it now */
    return ev;
}

/* Write the ban or timeout x (and with delete_messages the removal of the user's recent
 * messages) with its audit row, then push the event (type) and reply. */
static int
restrict_user(api_req *r, restrict_args *x, const char *type, const char *flag, gl_err *err)
{
    cJSON *ev;
    int rv;

    if ((rv = body_delete_messages(r, x, err)) != GL_OK) return rv;
    if ((rv = api_write_audited(r, do_restrict, x, x->audit, err)) != GL_OK) {
        cJSON_Delete(x->deleted);
        return rv;
    }
    ev = restrict_event(gl_event_user_action(type, r->channel, x->user, x->reason, x->until), x);
    cJSON_Delete(x->deleted);
    api_reply_user_action(r, x->user, flag, x->until, ev);
    return GL_OK;
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
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = api_path_user(r, "user", &user, err)) != GL_OK ||
        (rv = api_read_json_body(r, true, err)) != GL_OK ||
        (rv = body_reason(r, &reason, err)) != GL_OK)
        return rv;
    dur = cJSON_GetObjectItemCaseSensitive(r->body, "duration");
    /* The range before the cast: a double out of int64_t's range does not convert. */
    if (!cJSON_IsNumber(dur) || !(dur->valuedouble >= 1 && dur->valuedouble <= TIMEOUT_MAX_SECS) ||
        dur->valuedouble != (double)(int64_t)dur->valuedouble)
        return gl_err_set(err, GL_EINVAL,
                          "duration must be an integer number of seconds from 1 to %d",
                          TIMEOUT_MAX_SECS);
    gl_time_format_iso(now, at);
    gl_time_format_iso(now + (int64_t)dur->valuedouble * 1000, until);
    snprintf(detail, sizeof(detail), "{\"duration\":%lld}", (long long)dur->valuedouble);
    a = (gl_audit){r->channel,       "timeout", user,   0, r->user.id,
                   r->user.username, reason,    detail, at};
    x = (restrict_args){user, reason, at, until, true, NULL, &a, ""};
    return restrict_user(r, &x, "user_timeout", NULL, err);
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
    a = (gl_audit){r->channel, "ban", user, 0, r->user.id, r->user.username, reason, NULL, at};
    x = (restrict_args){user, reason, at, NULL, false, NULL, &a, ""};
    return restrict_user(r, &x, "user_banned", "banned", err);
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
    x = (restrict_args){user, NULL, at, NULL, false, NULL, NULL, ""};
    a = (gl_audit){r->channel, "unban", user, 0, r->user.id, r->user.username, NULL, NULL, at};
    if ((rv = api_write_audited(r, do_unban, &x, &a, err)) != GL_OK) return rv;
    api_reply_user_action(r, user, "unbanned", NULL,
                          gl_event_user_action("user_unbanned", r->channel, user, NULL, NULL));
    return GL_OK;
}
