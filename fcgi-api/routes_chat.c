/* Chat-wide moderation routes: clear chat, pin and unpin a message. Whoever may moderate the
 * channel may use them; each writes its change and an audit row in one transaction, then has
 * pushd reload the channel (its pin) and tell subscribers. */
#include "routes.h"
#include "route_util.h"
#include "shared/event.h"
#include "shared/json.h"
#include "shared/timefmt.h"

#include <stdio.h>

typedef struct clear_args {
    const char *at;
    int count;
    int64_t through;
    gl_audit *audit;
    char detail[80];
} clear_args;

static int
do_clear(api_req *r, void *arg, gl_err *err)
{
    clear_args *x = arg;
    int rv = gl_db_clear_chat(r->db, r->channel, r->user.id, x->at, &x->count, &x->through, err);

    if (rv != GL_OK) return rv;
    snprintf(x->detail, sizeof(x->detail), "{\"through_id\":%lld,\"count\":%d}",
             (long long)x->through, x->count);
    x->audit->detail = x->detail;
    return gl_db_audit(r->db, x->audit, err);
}

int
api_route_clear_chat(api_req *r, gl_err *err)
{
    char at[GL_TIME_MAX];
    clear_args x;
    gl_audit a;
    cJSON *out;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK) return rv;
    gl_time_now_iso(at);
    a = (gl_audit){r->channel, "clear_chat", NULL, 0, r->user.id, r->user.username, NULL, NULL, at};
    x = (clear_args){at, 0, 0, &a, ""};
    if ((rv = api_write_audited(r, do_clear, &x, NULL, err)) != GL_OK) return rv;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    gl_json_add_int(out, "through_id", x.through);
    cJSON_AddNumberToObject(out, "cleared", x.count);
    cJSON_AddBoolToObject(
        out, "pushed",
        api_push_reload(r, r->channel, gl_event_chat_cleared(r->channel, x.through)));
    api_reply(r, 200, out);
    return GL_OK;
}

typedef struct pin_args {
    int64_t id;
    const char *at;
    int removed;
} pin_args;

static int
do_pin(api_req *r, void *arg, gl_err *err)
{
    pin_args *x = arg;
    return gl_db_pin(r->db, r->channel, x->id, r->user.id, x->at, err);
}

static int
do_unpin(api_req *r, void *arg, gl_err *err)
{
    pin_args *x = arg;
    int rv = gl_db_unpin(r->db, r->channel, &x->removed, err);
    if (rv == GL_OK && x->removed == 0)
        return gl_err_set(err, GL_ENOTFOUND, "no message is pinned in %s", r->channel);
    return rv;
}

/* The message now pinned in r->channel, as clients receive messages (into *out). */
static int
pinned_event(void *arg, const gl_msg *m)
{
    *(cJSON **)arg = gl_event_pin(m->channel, m);
    return 0;
}

int
api_route_pin(api_req *r, gl_err *err)
{
    const cJSON *id;
    char at[GL_TIME_MAX];
    pin_args x;
    gl_audit a;
    cJSON *ev = NULL, *out;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = api_read_json_body(r, true, err)) != GL_OK)
        return rv;
    id = cJSON_GetObjectItemCaseSensitive(r->body, "message_id");
    if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 0x1p53 ||
        id->valuedouble != (double)(int64_t)id->valuedouble)
        return gl_err_set(err, GL_EINVAL, "message_id must be the id of a message of %s",
                          r->channel);
    gl_time_now_iso(at);
    x = (pin_args){(int64_t)id->valuedouble, at, 0};
    a = (gl_audit){r->channel, "pin", NULL, x.id, r->user.id, r->user.username, NULL, NULL, at};
    if ((rv = api_write_audited(r, do_pin, &x, &a, err)) != GL_OK ||
        (rv = gl_db_each_pin(r->db, r->channel, pinned_event, &ev, err)) != GL_OK)
        return rv;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    gl_json_add_int(out, "message_id", x.id);
    cJSON_AddBoolToObject(out, "pushed", api_push_reload(r, r->channel, ev));
    api_reply(r, 200, out);
    return GL_OK;
}

int
api_route_unpin(api_req *r, gl_err *err)
{
    char at[GL_TIME_MAX];
    pin_args x;
    gl_audit a;
    cJSON *out;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK) return rv;
    gl_time_now_iso(at);
    x = (pin_args){0, at, 0};
    a = (gl_audit){r->channel, "unpin", NULL, 0, r->user.id, r->user.username, NULL, NULL, at};
    if ((rv = api_write_audited(r, do_unpin, &x, &a, err)) != GL_OK) return rv;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    cJSON_AddTrueToObject(out, "unpinned");
    cJSON_AddBoolToObject(out, "pushed",
                          api_push_reload(r, r->channel, gl_event_pin(r->channel, NULL)));
    api_reply(r, 200, out);
    return GL_OK;
}
