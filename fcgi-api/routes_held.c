/* The review queue (docs/moderation.md "Blocked terms"): messages held because they matched a
 * blocked term in a channel whose blocked_terms_action is hold. Whoever may moderate the channel
 * lists them, approves one (published through the publisher as its author's message, with the
 * held row and an audit row in the same transaction) or denies it (audited). */
#include "routes.h"
#include "route_util.h"
#include "shared/event.h"
#include "shared/json.h"
#include "shared/timefmt.h"
#include "shared/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELD_PAGE_DEFAULT 50
#define HELD_PAGE_MAX 200

static int
append_held(void *arg, const gl_held_row *row)
{
    cJSON *arr = arg, *o = cJSON_CreateObject();
    const char *end = NULL;
    cJSON *data = row->data ? cJSON_ParseWithOpts(row->data, &end, 1) : NULL;

    if (o == NULL) {
        cJSON_Delete(data);
        return GL_ENOMEM;
    }
    gl_json_add_int(o, "id", row->id);
    cJSON_AddStringToObject(o, "user_id", row->user_id);
    if (row->username != NULL)
        cJSON_AddStringToObject(o, "username", row->username);
    else
        cJSON_AddNullToObject(o, "username");
    cJSON_AddItemToObject(o, "data", data != NULL ? data : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "term", row->term);
    cJSON_AddStringToObject(o, "created_at", row->created_at);
    cJSON_AddStringToObject(o, "status", row->status);
    cJSON_AddItemToArray(arr, o);
    return 0;
}

int
api_route_held(api_req *r, gl_err *err)
{
    char buf[32];
    gl_history_arg a;
    int limit = HELD_PAGE_DEFAULT, rv;
    cJSON *out, *arr;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK) return rv;
    a = api_query_arg(r, "limit", buf, sizeof(buf));
    if (a.present && (!a.integer || a.value < 1 || a.value > HELD_PAGE_MAX))
        return gl_err_set(err, GL_EINVAL, "limit must be an integer from 1 to %d", HELD_PAGE_MAX);
    if (a.present) limit = (int)a.value;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    arr = cJSON_AddArrayToObject(out, "held");
    if ((rv = gl_db_held_pending(r->db, r->channel, limit, append_held, arr, err)) != GL_OK) {
        cJSON_Delete(out);
        return rv == GL_ENOMEM ? gl_err_set(err, GL_ENOMEM, "out of memory") : rv;
    }
    api_reply(r, 200, out);
    return GL_OK;
}

/* The held row, copied for the message an approval publishes. */
typedef struct held_copy {
    char *user_id, *username, *data;
} held_copy;

static int
copy_held(void *arg, const gl_held_row *row)
{
    held_copy *h = arg;
    h->user_id = strdup(row->user_id);
    h->username = row->username ? strdup(row->username) : NULL;
    h->data = strdup(row->data);
    return h->user_id && h->data && (row->username == NULL || h->username) ? 0 : GL_ENOMEM;
}

static void
held_copy_free(held_copy *h)
{
    free(h->user_id);
    free(h->username);
    free(h->data);
}

/* Denied only while pending: otherwise nothing is written (no audit row either). */
static int
do_deny(api_req *r, void *arg, gl_err *err)
{
    gl_held_decision *d = arg;
    bool store;
    int rv = gl_db_held_decide(r->db, d, &store, err);

    if (rv == GL_OK && !d->decided)
        return gl_err_set(err, GL_ECONFLICT, "held message %lld was already decided",
                          (long long)d->id);
    return rv;
}

/* Tell the channel's moderators (their queues drop the message) and reply; "pushed" says
 * whether pushd took the approved message (message_pushed), else the moderators' event. */
static void
reply_decision(api_req *r, int64_t id, const char *status, int64_t message_id,
               const bool *message_pushed)
{
    cJSON *out = cJSON_CreateObject(), *ev = gl_event_held_decided(r->channel, id, status);
    bool told = ev != NULL && api_push(r->app, gl_wire_moderators_event(r->channel, ev));

    cJSON_AddStringToObject(out, "channel", r->channel);
    gl_json_add_int(out, "held_id", id);
    cJSON_AddStringToObject(out, "status", status);
    if (message_id > 0) gl_json_add_int(out, "message_id", message_id);
    cJSON_AddBoolToObject(out, "pushed", message_pushed != NULL ? *message_pushed : told);
    api_reply(r, 200, out);
}

/* Approve or deny held message {id}; a decision already taken is 409. */
static int
decide(api_req *r, bool approve, gl_err *err)
{
    held_copy h = {NULL, NULL, NULL};
    char at[GL_TIME_MAX], detail[64];
    gl_override ov;
    gl_policy pol;
    gl_held_decision d;
    gl_audit a;
    gl_msg m;
    bool pushed = false;
    int64_t id;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = api_path_id(r, "id", "held message id", &id, err)) != GL_OK)
        return rv;
    if ((rv = gl_db_held_get(r->db, r->channel, id, copy_held, &h, err)) != GL_OK) goto out;
    gl_time_now_iso(at);
    snprintf(detail, sizeof(detail), "{\"held_id\":%lld}", (long long)id);
    a = (gl_audit){r->channel, approve ? "held_approve" : "held_deny",
                   h.user_id,  0,
                   r->user.id, r->user.username,
                   NULL,       detail,
                   at};
    d = (gl_held_decision){r->channel, id, approve, r->user.id, at, &a, false};
    if (!approve) {
        if ((rv = api_write_audited(r, do_deny, &d, &a, err)) == GL_OK)
            reply_decision(r, id, "denied", 0, NULL);
        goto out;
    }
    if ((rv = gl_db_get_override(r->db, r->channel, &ov, err)) != GL_OK) goto out;
    gl_policy_resolve(r->app->cfg, r->channel, &ov, &pol);
    gl_override_free(&ov);
    m = (gl_msg){0, r->channel, h.user_id, h.username, h.data, "", 0};
    gl_time_now_iso(m.created_at);
    {
        gl_db_batch_item it = {.m = &m,
                               .keep = pol.max_history,
                               .before = gl_db_held_decide,
                               .after = gl_db_held_link,
                               .before_arg = &d};
        if ((rv = api_publish(r, &it, &pushed, err)) == GL_OK && it.skipped)
            rv = gl_err_set(err, GL_ECONFLICT, "held message %lld was already decided",
                            (long long)id);
    }
    if (rv == GL_OK) reply_decision(r, id, "approved", m.id, &pushed);
out:
    held_copy_free(&h);
    return rv;
}

int
api_route_held_approve(api_req *r, gl_err *err)
{
    return decide(r, true, err);
}

int
api_route_held_deny(api_req *r, gl_err *err)
{
    return decide(r, false, err);
}
