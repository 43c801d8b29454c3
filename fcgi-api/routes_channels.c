/* Channel routes: list, info, history, presence, publish, broadcast. Writes go to SQLite
 * first (message row, pruning to max_history, in one transaction), then to pushd. */
#include "api.h"
#include "routes.h"
#include "shared/event.h"
#include "shared/history_params.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/map.h"
#include "shared/timefmt.h"
#include "shared/wire.h"

#include <stdlib.h>
#include <string.h>

#define LIST_MAX 1000

int
api_check_read(api_req *r, const char *channel, gl_policy *pol, gl_override *ov)
{
    gl_acl_facts facts;
    gl_err err;
    int rv;

    if ((rv = api_channel_policy(r, channel, pol, ov, &facts)) != GL_OK) return rv;
    if (gl_acl_check_read(pol, r->authed ? &r->user : NULL, &facts, &err) != GL_OK) {
        gl_override_free(ov);
        return api_fail_err(r, &err);
    }
    return GL_OK;
}

static cJSON *
roles_json(const gl_policy *pol)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < pol->n_roles; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(pol->roles[i]));
    return a;
}

/* Copy pushd's live counts of one channel from src (NULL: zeros) into dst. */
static void
copy_counts(cJSON *dst, const cJSON *src)
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

    copy_counts(o, ok ? live : NULL);
    cJSON_Delete(live);
    return ok;
}

/* A stream's chat channel says whether its stream is live ("stream": {...} or null when no
 * key was ever made for the name). NULL after a reply. */
static cJSON *
add_stream(api_req *r, const char *channel, cJSON *o)
{
    const char *name = gl_stream_of_channel(channel);
    gl_stream s;
    gl_err err;
    bool found;

    if (name == NULL) return o;
    if (gl_db_stream_get(r->db, name, &s, &found, &err) != GL_OK) {
        cJSON_Delete(o);
        api_fail_err(r, &err);
        return NULL;
    }
    cJSON_AddItemToObject(o, "stream", found ? api_stream_json(r, &s) : cJSON_CreateNull());
    return o;
}

cJSON *
api_channel_info_json(api_req *r, const char *channel)
{
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    gl_err err;
    int64_t last = 0;
    cJSON *o;

    if (api_channel_policy(r, channel, &pol, &ov, &facts) != GL_OK) return NULL;
    if (gl_db_last_id(r->db, channel, &last, &err) != GL_OK) {
        gl_override_free(&ov);
        api_fail_err(r, &err);
        return NULL;
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
    gl_override_free(&ov);
    cJSON_AddBoolToObject(o, "live", add_live_counts(r, channel, o));
    cJSON_AddNumberToObject(o, "last_message_id", (double)last);
    return add_stream(r, channel, o);
}

void
api_route_channel_info(api_req *r)
{
    gl_override ov;
    gl_policy pol;
    cJSON *o;

    if (api_check_read(r, r->channel, &pol, &ov) != GL_OK) return;
    gl_override_free(&ov);
    if ((o = api_channel_info_json(r, r->channel)) != NULL) api_reply(r, 200, o);
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

void
api_route_channels(api_req *r)
{
    listing l = {r, {0}, cJSON_CreateArray()};
    cJSON *live = NULL, *out, *it, *next;
    const cJSON *chans, *lc;
    gl_err err;
    bool ok;

    ok = api_notify(r->app, gl_wire_request(GL_OP_CHANNELS, NULL), &live, &err) == GL_OK;
    chans = cJSON_GetObjectItemCaseSensitive(live, "channels");
    cJSON_ArrayForEach(lc, chans)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(lc, "channel");
        cJSON *e = cJSON_IsString(name) ? list_entry(&l, name->valuestring) : NULL;
        if (e != NULL) copy_counts(e, lc);
    }
    cJSON_Delete(live);
    if (gl_db_channels_with_history(r->db, LIST_MAX, on_history_channel, &l, &err) != GL_OK) {
        gl_map_free(&l.seen);
        cJSON_Delete(l.arr);
        api_fail_err(r, &err);
        return;
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
}

void
api_route_history(api_req *r)
{
    char limit[32], since[32], before[32];
    gl_override ov;
    gl_policy pol;
    gl_history_query q;
    gl_err err;
    cJSON *out, *msgs;

    if (api_check_read(r, r->channel, &pol, &ov) != GL_OK) return;
    gl_override_free(&ov);
    if (gl_history_params(api_query_arg(r, "limit", limit, sizeof(limit)),
                          api_query_arg(r, "since", since, sizeof(since)),
                          api_query_arg(r, "before", before, sizeof(before)), pol.max_history, &q,
                          &err) != GL_OK) {
        api_fail_err(r, &err);
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "channel", r->channel);
    msgs = cJSON_AddArrayToObject(out, "messages");
    if (gl_db_history(r->db, r->channel, q.mode, q.ref, q.limit, gl_event_append_message, msgs,
                      &err) != GL_OK) {
        cJSON_Delete(out);
        api_fail_err(r, &err);
        return;
    }
    api_reply(r, 200, out);
}

void
api_route_presence(api_req *r)
{
    gl_override ov;
    gl_policy pol;
    gl_err err;
    cJSON *data;

    if (api_check_read(r, r->channel, &pol, &ov) != GL_OK) return;
    gl_override_free(&ov);
    if (api_notify(r->app, gl_wire_request(GL_OP_PRESENCE, r->channel), &data, &err) != GL_OK) {
        api_fail(r, GL_EUNAVAIL, "presence is live data and golive-pushd is not answering");
        return;
    }
    api_reply(r, 200, data);
}

int
api_insert_message(api_req *r, gl_msg *m, int keep, gl_err *err)
{
    int rv;
    if ((rv = gl_db_insert_message(r->db, m, err)) != GL_OK) return rv;
    return gl_db_prune(r->db, m->channel, keep, err);
}

bool
api_push_message(api_req *r, const gl_msg *m)
{
    cJSON *req = gl_wire_request(GL_OP_PUBLISH, m->channel);
    if (req != NULL && gl_wire_add_message(req, m) != GL_OK) {
        cJSON_Delete(req);
        req = NULL;
    }
    return api_push(r->app, req);
}

/* Store m (pruning the channel to keep) and tell pushd; reply with the id. */
static void
store_and_push(api_req *r, gl_msg *m, int keep, const gl_audit *audit)
{
    gl_err err;
    cJSON *out;
    bool pushed;

    if (api_publish(r, m, keep, audit, &pushed, &err) != GL_OK) {
        api_fail_err(r, &err);
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)m->id);
    cJSON_AddStringToObject(out, "channel", m->channel);
    cJSON_AddStringToObject(out, "created_at", m->created_at);
    cJSON_AddBoolToObject(out, "pushed", pushed);
    api_reply(r, 200, out);
}

/* The body's "data": a JSON object, exactly as written (borrowed from r->body). NULL after a
 * 400. */
static const char *
body_data(api_req *r)
{
    const char *data;
    if (api_read_json_body(r, true) != GL_OK) return NULL;
    data = gl_json_raw(r->body, "data");
    if (!gl_json_raw_is_object(data)) {
        api_fail(r, GL_EINVAL, data ? "data must be a JSON object" : "data is required");
        return NULL;
    }
    return data;
}

void
api_route_publish(api_req *r)
{
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    gl_err err;
    int64_t now = gl_time_now_ms();
    const char *data;
    gl_msg m;

    if (api_require_user(r) != GL_OK ||
        api_channel_policy(r, r->channel, &pol, &ov, &facts) != GL_OK)
        return;
    if (gl_acl_check_publish(&pol, &r->user, &facts, now, &err) != GL_OK) {
        gl_override_free(&ov);
        api_fail_err(r, &err);
        return;
    }
    if ((data = body_data(r)) == NULL) {
        gl_override_free(&ov);
        return;
    }
    m = (gl_msg){0, r->channel, r->user.id, r->user.username, data, ""};
    gl_time_format_iso(now, m.created_at);
    store_and_push(r, &m, pol.max_history, NULL);
    gl_override_free(&ov);
}

void
api_route_broadcast(api_req *r)
{
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    const char *data;
    gl_msg m;
    gl_audit a;

    if (api_require_staff(r) != GL_OK ||
        api_channel_policy(r, r->channel, &pol, &ov, &facts) != GL_OK)
        return;
    if ((data = body_data(r)) == NULL) {
        gl_override_free(&ov);
        return;
    }
    m = (gl_msg){0, r->channel, NULL, NULL, data, ""};
    gl_time_now_iso(m.created_at);
    a = (gl_audit){r->channel,       "broadcast", NULL, 0,           r->user.id,
                   r->user.username, NULL,        data, m.created_at};
    store_and_push(r, &m, pol.max_history, &a);
    gl_override_free(&ov);
}
