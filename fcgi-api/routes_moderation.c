/* Moderation routes: delete a message, time out, ban and unban a user. Each writes its change
 * and an audit row in one transaction, then asks pushd to reload the channel's state (which
 * also ends live subscriptions that lost access) and to tell subscribers. */
#include "api.h"
#include "routes.h"
#include "shared/event.h"
#include "shared/timefmt.h"
#include "shared/wire.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MAX_SECS 1209600 /* 14 days */
#define REASON_MAX 500

bool
api_user_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= GL_USER_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

const char *
api_path_user(api_req *r, int i)
{
    if (!api_user_id_ok(r->segs[i])) {
        api_fail(r, GL_EINVAL, "user id must be 1 to %d bytes without control characters",
                 GL_USER_ID_MAX - 1);
        return NULL;
    }
    return r->segs[i];
}

bool
api_push_reload(api_req *r, const char *channel, cJSON *ev)
{
    cJSON *req = gl_wire_request(GL_OP_RELOAD, channel);
    if (req != NULL && ev != NULL)
        cJSON_AddItemToObject(req, "event", ev);
    else
        cJSON_Delete(ev);
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
                  const gl_audit *a)
{
    gl_err err;
    int rv;
    if ((rv = gl_db_begin(r->db, &err)) == GL_OK && (rv = fn(r, arg, &err)) == GL_OK &&
        (a == NULL || (rv = gl_db_audit(r->db, a, &err)) == GL_OK))
        rv = gl_db_commit(r->db, &err);
    if (rv != GL_OK) {
        gl_db_rollback(r->db);
        if (!r->replied) api_fail_err(r, &err);
    }
    return rv;
}

/* An optional "reason" string of the body into *out (NULL when absent); -1 after a 400. */
static int
body_reason(api_req *r, const char **out)
{
    const cJSON *v = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "reason") : NULL;
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > REASON_MAX) {
        api_fail(r, GL_EINVAL, "reason must be a string of at most %d bytes", REASON_MAX);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

static cJSON *
user_event(const char *type, const char *channel, const char *user, const char *reason)
{
    cJSON *ev = gl_event_new(type, channel);
    if (ev == NULL) return NULL;
    cJSON_AddStringToObject(ev, "user_id", user);
    if (reason != NULL) cJSON_AddStringToObject(ev, "reason", reason);
    return ev;
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
    if (rv == GL_OK && d->outcome == 0) {
        api_fail(r, GL_ENOTFOUND, "channel %s has no message %lld", r->channel, (long long)d->id);
        return GL_ENOTFOUND;
    }
    if (rv == GL_OK && d->outcome == 1) rv = gl_db_audit(r->db, d->audit, err);
    return rv;
}

void
api_route_delete_message(api_req *r)
{
    char at[GL_TIME_MAX], *end;
    long long id;
    del_args d;
    gl_audit a;
    cJSON *out, *ev;
    bool pushed = false;

    if (api_require_moderator(r) != GL_OK) return;
    errno = 0;
    id = strtoll(r->segs[3], &end, 10);
    if (r->segs[3][0] < '1' || r->segs[3][0] > '9' || *end != '\0' || errno == ERANGE) {
        api_fail(r, GL_EINVAL, "message id must be an integer from 1 to %lld", LLONG_MAX);
        return;
    }
    gl_time_now_iso(at);
    a = (gl_audit){r->channel, "delete_message", NULL, id, r->user.id, r->user.username, NULL, NULL,
                   at};
    d = (del_args){id, at, &a, 0};
    if (api_write_audited(r, do_delete, &d, NULL) != GL_OK) return;
    if (d.outcome == 1) {
        ev = gl_event_new("message_deleted", r->channel);
        if (ev != NULL) {
            cJSON *req = gl_wire_request(GL_OP_EVENT, r->channel);
            cJSON_AddNumberToObject(ev, "message_id", (double)id);
            if (req != NULL)
                cJSON_AddItemToObject(req, "event", ev);
            else
                cJSON_Delete(ev);
            pushed = api_push(r->app, req);
        }
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    cJSON_AddNumberToObject(out, "message_id", (double)id);
    cJSON_AddTrueToObject(out, "deleted");
    cJSON_AddBoolToObject(out, "pushed", pushed);
    api_reply(r, 200, out);
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

void
api_route_timeout(api_req *r)
{
    const char *user, *reason;
    const cJSON *dur;
    char at[GL_TIME_MAX], until[GL_TIME_MAX], detail[64];
    int64_t now = gl_time_now_ms();
    restrict_args x;
    gl_audit a;
    cJSON *ev;

    if (api_require_moderator(r) != GL_OK || (user = api_path_user(r, 3)) == NULL ||
        api_read_json_body(r, true) != GL_OK || body_reason(r, &reason) < 0)
        return;
    dur = cJSON_GetObjectItemCaseSensitive(r->body, "duration");
    if (!cJSON_IsNumber(dur) || dur->valuedouble != (double)(int64_t)dur->valuedouble ||
        dur->valuedouble < 1 || dur->valuedouble > TIMEOUT_MAX_SECS) {
        api_fail(r, GL_EINVAL, "duration must be an integer number of seconds from 1 to %d",
                 TIMEOUT_MAX_SECS);
        return;
    }
    gl_time_format_iso(now, at);
    gl_time_format_iso(now + (int64_t)dur->valuedouble * 1000, until);
    snprintf(detail, sizeof(detail), "{\"duration\":%lld}", (long long)dur->valuedouble);
    x = (restrict_args){user, reason, at, until, true};
    a = (gl_audit){r->channel,       "timeout", user,   0, r->user.id,
                   r->user.username, reason,    detail, at};
    if (api_write_audited(r, do_restrict, &x, &a) != GL_OK) return;
    ev = user_event("user_timeout", r->channel, user, reason);
    if (ev != NULL) cJSON_AddStringToObject(ev, "until", until);
    api_reply_user_action(r, user, NULL, until, ev);
}

void
api_route_ban(api_req *r)
{
    const char *user, *reason;
    char at[GL_TIME_MAX];
    restrict_args x;
    gl_audit a;

    if (api_require_moderator(r) != GL_OK || (user = api_path_user(r, 3)) == NULL ||
        api_read_json_body(r, false) != GL_OK || body_reason(r, &reason) < 0)
        return;
    gl_time_now_iso(at);
    x = (restrict_args){user, reason, at, NULL, false};
    a = (gl_audit){r->channel, "ban", user, 0, r->user.id, r->user.username, reason, NULL, at};
    if (api_write_audited(r, do_restrict, &x, &a) != GL_OK) return;
    api_reply_user_action(r, user, "banned", NULL,
                          user_event("user_banned", r->channel, user, reason));
}

static int
do_unban(api_req *r, void *arg, gl_err *err)
{
    restrict_args *x = arg;
    int removed = 0,
        rv = gl_db_remove_restrictions(r->db, r->channel, x->user, x->at, &removed, err);
    if (rv == GL_OK && removed == 0) {
        api_fail(r, GL_ENOTFOUND, "%s is neither banned nor timed out in %s", x->user, r->channel);
        return GL_ENOTFOUND;
    }
    return rv;
}

void
api_route_unban(api_req *r)
{
    const char *user;
    char at[GL_TIME_MAX];
    restrict_args x;
    gl_audit a;

    if (api_require_moderator(r) != GL_OK || (user = api_path_user(r, 3)) == NULL) return;
    gl_time_now_iso(at);
    x = (restrict_args){user, NULL, at, NULL, false};
    a = (gl_audit){r->channel, "unban", user, 0, r->user.id, r->user.username, NULL, NULL, at};
    if (api_write_audited(r, do_unban, &x, &a) != GL_OK) return;
    api_reply_user_action(r, user, "unbanned", NULL,
                          user_event("user_unbanned", r->channel, user, NULL));
}
