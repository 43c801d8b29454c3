/* Channel routes: list, info, history, presence, publish, broadcast. Publishes and broadcasts go
 * through the publisher (api_publish): stored first (message row, pruning to max_history, in one
 * transaction), then pushed. */
#include "chat_modes.h"
#include "rate_limits.h"
#include "routes.h"
#include "route_util.h"
#include "shared/event.h"
#include "shared/history_params.h"
#include "shared/json.h"
#include "shared/map.h"
#include "shared/timefmt.h"
#include "shared/wire.h"

#include <string.h>

#define LIST_MAX 1000

int
api_route_channel_info(api_req *r, gl_err *err)
{
    gl_override ov;
    gl_policy pol;
    cJSON *o;
    int rv;

    if ((rv = api_check_read(r, r->channel, &pol, &ov, err)) != GL_OK) return rv;
    gl_override_free(&ov);
    if ((rv = api_channel_info_json(r, r->channel, &o, err)) != GL_OK) return rv;
    api_reply(r, 200, o);
    return GL_OK;
}

typedef struct listing {
    api_req *r;
    gl_map seen; /* channel -> cJSON entry */
    cJSON *arr;
} listing;

static cJSON *
list_entry(listing *l, const char *channel)
{
    cJSON *e = gl_map_get(&l->seen, channel), *name;
    if (e != NULL) return e;
    e = cJSON_CreateObject();
    if (e == NULL || (name = cJSON_AddStringToObject(e, "channel", channel)) == NULL) {
        cJSON_Delete(e);
        return NULL;
    }
    cJSON_AddItemToArray(l->arr, e);
    /* The key lives in the entry itself, as long as the array. */
    if (gl_map_put(&l->seen, name->valuestring, e) != GL_OK) return NULL;
    return e;
}

static int
on_history_channel(void *arg, const char *channel, int64_t last_id)
{
    cJSON *e = list_entry(arg, channel);
    if (e == NULL) return GL_ENOMEM;
    cJSON_AddNumberToObject(e, "last_message_id", (double)last_id);
    return 0;
}

/* May the caller see that this channel exists? Private ones only with read access. */
static bool
visible(api_req *r, const char *channel)
{
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    gl_err err;
    bool ok;

    if (gl_db_get_override(r->db, channel, &ov, &err) != GL_OK) return false;
    gl_policy_resolve(r->app->cfg, channel, &ov, &pol);
    ok = !pol.private_ ||
         (gl_db_user_facts(r->db, channel, r->authed ? r->user.id : NULL, gl_time_now_ms(), &facts,
                           &err) == GL_OK &&
          gl_acl_check_read(&pol, r->authed ? &r->user : NULL, &facts, NULL) == GL_OK);
    gl_override_free(&ov);
    return ok;
}

int
api_route_channels(api_req *r, gl_err *err)
{
    listing l = {r, {0}, cJSON_CreateArray()};
    cJSON *live = NULL, *out, *it, *next;
    const cJSON *chans, *lc;
    gl_err nerr;
    bool ok;
    int rv;

    ok = api_notify(r->app, gl_wire_request(GL_OP_CHANNELS, NULL), &live, &nerr) == GL_OK;
    chans = cJSON_GetObjectItemCaseSensitive(live, "channels");
    cJSON_ArrayForEach(lc, chans)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(lc, "channel");
        cJSON *e = cJSON_IsString(name) ? list_entry(&l, name->valuestring) : NULL;
        if (e != NULL) api_copy_counts(e, lc);
    }
    cJSON_Delete(live);
    if ((rv = gl_db_channels_with_history(r->db, LIST_MAX, on_history_channel, &l, err)) != GL_OK) {
        gl_map_free(&l.seen);
        cJSON_Delete(l.arr);
        return rv;
    }
    gl_map_free(&l.seen);
    /* Fill the counts a side did not give, and drop what the caller may not see. */
    for (it = l.arr->child; it != NULL; it = next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "channel");
        static const char *const keys[] = {"subscribers", "users", "anonymous", "last_message_id"};
        next = it->next;
        if (!visible(r, name->valuestring)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(l.arr, it));
            continue;
        }
        for (size_t i = 0; i < 4; i++)
            if (!cJSON_HasObjectItem(it, keys[i])) cJSON_AddNumberToObject(it, keys[i], 0);
    }
    out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "channels", l.arr);
    cJSON_AddBoolToObject(out, "live", ok);
    api_reply(r, 200, out);
    return GL_OK;
}

int
api_route_history(api_req *r, gl_err *err)
{
    char limit[32], since[32], before[32];
    gl_override ov;
    gl_policy pol;
    gl_history_query q;
    cJSON *out, *msgs;
    int rv;

    if ((rv = api_check_read(r, r->channel, &pol, &ov, err)) != GL_OK) return rv;
    gl_override_free(&ov);
    if ((rv = gl_history_params(api_query_arg(r, "limit", limit, sizeof(limit)),
                                api_query_arg(r, "since", since, sizeof(since)),
                                api_query_arg(r, "before", before, sizeof(before)), pol.max_history,
                                &q, err)) != GL_OK)
        return rv;
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    msgs = cJSON_AddArrayToObject(out, "messages");
    if ((rv = gl_db_history(r->db, r->channel, q.mode, q.ref, q.limit, gl_event_append_message,
                            msgs, err)) != GL_OK) {
        cJSON_Delete(out);
        return rv;
    }
    api_reply(r, 200, out);
    return GL_OK;
}

int
api_route_presence(api_req *r, gl_err *err)
{
    gl_override ov;
    gl_policy pol;
    gl_err nerr;
    cJSON *data;
    int rv;

    if ((rv = api_check_read(r, r->channel, &pol, &ov, err)) != GL_OK) return rv;
    gl_override_free(&ov);
    if (api_notify(r->app, gl_wire_request(GL_OP_PRESENCE, r->channel), &data, &nerr) != GL_OK)
        return gl_err_set(err, GL_EUNAVAIL,
                          "presence is live data and golive-pushd is not answering");
    api_reply(r, 200, data);
    return GL_OK;
}

/* Store m (pruning the channel to keep) and tell pushd, through the publisher; reply with the id.
 */
static int
store_and_push(api_req *r, gl_msg *m, int keep, const gl_audit *audit, gl_err *err)
{
    gl_db_batch_item it = {.m = m, .keep = keep, .audit = audit};
    cJSON *out;
    bool pushed;
    int rv;

    if ((rv = api_publish(r, &it, &pushed, err)) != GL_OK) return rv;
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)m->id);
    cJSON_AddStringToObject(out, "channel", m->channel);
    cJSON_AddStringToObject(out, "created_at", m->created_at);
    cJSON_AddBoolToObject(out, "pushed", pushed);
    api_reply(r, 200, out);
    return GL_OK;
}

/* The body's "data": a JSON object, exactly as written (borrowed from r->body). */
static int
body_data(api_req *r, const char **out, gl_err *err)
{
    const char *data;
    int rv;
    if ((rv = api_read_json_body(r, true, err)) != GL_OK) return rv;
    data = gl_json_raw(r->body, "data");
    if (!gl_json_raw_is_object(data))
        return gl_err_set(err, GL_EINVAL, data ? "data must be a JSON object" : "data is required");
    *out = data;
    return GL_OK;
}

/* A message held for review (a blocked term, blocked_terms_action: hold): stored through the
 * publisher into held_messages, never pushed; 202 with its held id. */
static int
store_held(api_req *r, gl_msg *m, int keep, const char *term, gl_err *err)
{
    gl_held h = {m, term, 0};
    gl_db_batch_item it = {.m = m, .keep = keep, .before = gl_db_held_store, .before_arg = &h};
    cJSON *out;
    bool pushed;
    int rv;

    if ((rv = api_publish(r, &it, &pushed, err)) != GL_OK) return rv;
    {
        gl_held_row row = {h.id, m->user_id, m->username, m->data, term, m->created_at, "pending"};
        cJSON *ev = gl_event_message_held(m->channel, &row);
        if (ev != NULL) api_push(r->app, gl_wire_moderators_event(m->channel, ev));
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", m->channel);
    cJSON_AddBoolToObject(out, "held", true);
    gl_json_add_int(out, "held_id", h.id);
    api_reply(r, 202, out);
    return GL_OK;
}

int
api_route_publish(api_req *r, gl_err *err)
{
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    gl_mode_verdict verdict;
    int64_t now = gl_time_now_ms();
    const char *data;
    gl_msg m;
    int rv;

    if ((rv = api_require_user(r, err)) != GL_OK ||
        (rv = api_channel_policy(r, r->channel, &pol, &ov, &facts, err)) != GL_OK)
        return rv;
    if ((rv = gl_acl_check_publish(&pol, &r->user, &facts, now, err)) == GL_OK &&
        (rv = body_data(r, &data, err)) == GL_OK &&
        (rv = api_rate_limit_publish(r, pol.ns, err)) == GL_OK &&
        (rv = api_check_modes(r, &pol, &facts, data, now, &verdict, err)) == GL_OK) {
        m = (gl_msg){0, r->channel, r->user.id, r->user.username, data, "", 0};
        gl_time_format_iso(now, m.created_at);
        rv = verdict.hold ? store_held(r, &m, pol.max_history, verdict.term, err)
                          : store_and_push(r, &m, pol.max_history, NULL, err);
    }
    gl_override_free(&ov);
    return rv;
}

int
api_route_broadcast(api_req *r, gl_err *err)
{
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    const char *data;
    gl_msg m;
    gl_audit a;
    int rv;

    if ((rv = api_require_staff(r, err)) != GL_OK ||
        (rv = api_channel_policy(r, r->channel, &pol, &ov, &facts, err)) != GL_OK)
        return rv;
    if ((rv = body_data(r, &data, err)) == GL_OK) {
        m = (gl_msg){0, r->channel, NULL, NULL, data, "", 0};
        gl_time_now_iso(m.created_at);
        a = (gl_audit){r->channel,       "broadcast", NULL, 0,           r->user.id,
                       r->user.username, NULL,        data, m.created_at};
        rv = store_and_push(r, &m, pol.max_history, &a, err);
    }
    gl_override_free(&ov);
    return rv;
}
