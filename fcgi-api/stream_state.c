/* Stream state (stream_state.h): a stream going live or ending is stored (its streams row and a
 * system message in chat:stream_<name>, one transaction of the publisher), then pushed live. */
#include "stream_state.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <stdio.h>
#include <string.h>

#define APP_PREFIX "live/"

void
api_hls_url(api_req *r, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s/index.m3u8", r->app->hls_url, name);
}

cJSON *
api_string_or_null(const char *s)
{
    return s != NULL && *s != '\0' ? cJSON_CreateString(s) : cJSON_CreateNull();
}

cJSON *
api_stream_json(api_req *r, const gl_stream *s)
{
    char url[1024], channel[GL_STREAM_CHANNEL_MAX];
    cJSON *o = cJSON_CreateObject();

    api_hls_url(r, s->name, url, sizeof(url));
    gl_stream_channel(s->name, channel);
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "user_id", s->user_id);
    cJSON_AddStringToObject(o, "username", s->username);
    cJSON_AddStringToObject(o, "channel", channel);
    cJSON_AddBoolToObject(o, "live", s->live);
    cJSON_AddStringToObject(o, "hls_url", url);
    cJSON_AddItemToObject(o, "started_at", api_string_or_null(s->started_at));
    cJSON_AddItemToObject(o, "ended_at", api_string_or_null(s->live ? NULL : s->ended_at));
    return o;
}

int
api_stream_find(api_req *r, const char *ref, gl_stream *s, bool *found, int64_t *key, gl_err *err)
{
    char hash[GL_SHA256_HEX], name[GL_STREAM_NAME_MAX + 1];
    bool active = false;
    int rv = GL_OK;

    *found = false;
    *key = 0;
    if (gl_stream_key_shape(ref)) {
        gl_stream_key_hash(ref, hash);
        rv = gl_db_stream_key_find(r->db, hash, name, key, &active, found, err);
        if (!active) *key = 0;
        ref = name;
    } else {
        if (strncmp(ref, APP_PREFIX, strlen(APP_PREFIX)) == 0) ref += strlen(APP_PREFIX);
        *found = gl_stream_name_check(ref, NULL) == GL_OK;
    }
    if (rv == GL_OK && *found) rv = gl_db_stream_get(r->db, ref, s, found, err);
    return rv;
}

int
api_stream_key_for(api_req *r, const char *key, const char *name, int64_t *id, gl_err *err)
{
    gl_stream s;
    bool found;
    int rv;

    *id = 0;
    if (!gl_stream_key_shape(key)) return GL_OK;
    if ((rv = api_stream_find(r, key, &s, &found, id, err)) != GL_OK) return rv;
    if (!found || strcmp(s.name, name) != 0) *id = 0;
    return GL_OK;
}

/* The chat message announcing s going live or ending, as stored JSON text (cJSON_free). */
static char *
announcement(api_req *r, const gl_stream *s, bool live)
{
    char url[1024];

    api_hls_url(r, s->name, url, sizeof(url));
    return gl_event_print_take(
        gl_event_stream_announcement(live, s->name, s->user_id, s->username, url));
}

/* The state change, run by the publisher inside the announcement's transaction. */
typedef struct state_change {
    const gl_stream *s;
    bool live;
    int64_t key_id;
    const char *at;
} state_change;

static int
set_live(gl_db *db, void *arg, bool *store, gl_err *err)
{
    state_change *c = arg;
    return gl_db_stream_set_live(db, c->s, c->live, c->key_id, c->at, store, err);
}

int
api_stream_transition(api_req *r, gl_stream *s, bool live, int64_t key_id, api_transition *t,
                      gl_err *err)
{
    char channel[GL_STREAM_CHANNEL_MAX], *data;
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    gl_db_batch_item it;
    state_change c;
    gl_msg m;
    int rv;

    *t = (api_transition){false, 0, false};
    gl_stream_channel(s->name, channel);
    if ((rv = api_channel_policy(r, channel, &pol, &ov, &facts, err)) != GL_OK) return rv;
    gl_override_free(&ov);
    if ((data = announcement(r, s, live)) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    m = (gl_msg){0, channel, NULL, NULL, data, "", 0};
    gl_time_now_iso(m.created_at);
    c = (state_change){s, live, key_id, m.created_at};
    it = (gl_db_batch_item){.m = &m, .keep = pol.max_history, .before = set_live, .before_arg = &c};
    if ((rv = api_publish(r, &it, &t->pushed, err)) == GL_OK && !it.skipped) {
        t->changed = true;
        t->message = m.id;
        gl_log(GL_LOG_INFO, "streaming", "stream %s %s (message %lld)", s->name,
               live ? "is live" : "ended", (long long)m.id);
    }
    cJSON_free(data);
    return rv;
}

void
api_reply_transition(api_req *r, gl_stream *s, const api_transition *t)
{
    gl_stream now;
    gl_err err;
    bool found;
    cJSON *out = cJSON_CreateObject();

    if (gl_db_stream_get(r->db, s->name, &now, &found, &err) == GL_OK && found) *s = now;
    cJSON_AddItemToObject(out, "stream", api_stream_json(r, s));
    cJSON_AddBoolToObject(out, "changed", t->changed);
    if (t->changed)
        cJSON_AddNumberToObject(out, "message_id", (double)t->message);
    else
        cJSON_AddNullToObject(out, "message_id");
    cJSON_AddBoolToObject(out, "pushed", t->pushed);
    api_reply(r, 200, out);
}

void
api_reply_hook_ok(api_req *r, const char *what)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddTrueToObject(out, "ok");
    cJSON_AddStringToObject(out, "result", what);
    api_reply(r, 200, out);
}

int
api_refuse_publish(const char *name, gl_err *err)
{
    gl_log(GL_LOG_INFO, "streaming", "refused a publish to '%s': invalid or revoked stream key",
           name);
    return gl_err_set(err, GL_EFORBIDDEN, "invalid or revoked stream key");
}
