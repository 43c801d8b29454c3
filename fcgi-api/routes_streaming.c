/* Streaming routes (/api/streaming/...): stream keys for broadcasters, the media server's auth
 * hook and webhooks, and the live stream list. A stream going live or ending is stored (its
 * streams row and a system message in chat:stream_<name>, one transaction), then pushed live.
 *
 * Media servers speak two dialects, and both URLs (auth, webhook) accept both:
 *   MediaMTX   JSON: the auth request {"action","path","query","user","password",...} and,
 *              from its runOnAvailable/runOnUnavailable hooks, the seed's webhook body;
 *   nginx-rtmp form-encoded notifications, call=publish|update_publish|publish_done|play...
 *              nginx-rtmp has no "ready" callback: an accepted publish is the stream start. */
#include "api.h"
#include "routes.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/stream.h"
#include "shared/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_LIST_MAX 200
#define STREAMS_LIST_MAX 500
#define FIELD_MAX 256 /* form fields we read: call, name, key */
#define APP_PREFIX "live/"

static cJSON *
string_or_null(const char *s)
{
    return s != NULL && *s != '\0' ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static void
hls_url(api_req *r, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s/index.m3u8", r->app->hls_url, name);
}

cJSON *
api_stream_json(api_req *r, const gl_stream *s)
{
    char url[1024], channel[GL_STREAM_CHANNEL_MAX];
    cJSON *o = cJSON_CreateObject();

    hls_url(r, s->name, url, sizeof(url));
    gl_stream_channel(s->name, channel);
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddStringToObject(o, "user_id", s->user_id);
    cJSON_AddStringToObject(o, "username", s->username);
    cJSON_AddStringToObject(o, "channel", channel);
    cJSON_AddBoolToObject(o, "live", s->live);
    cJSON_AddStringToObject(o, "hls_url", url);
    cJSON_AddItemToObject(o, "started_at", string_or_null(s->started_at));
    cJSON_AddItemToObject(o, "ended_at", string_or_null(s->live ? NULL : s->ended_at));
    return o;
}

/* ---- stream keys ---- */

/* The stream name for a new key: the body's stream_name, else the caller's username in lower
 * case. GL_OK, or an error after a reply. */
static int
new_key_name(api_req *r, char name[GL_STREAM_NAME_MAX + 1])
{
    const cJSON *given = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "stream_name") : NULL;
    gl_err err;
    size_t n;

    if (given != NULL) {
        if (!cJSON_IsString(given)) return api_fail(r, GL_EINVAL, "stream_name must be a string");
        if (gl_stream_name_check(given->valuestring, &err) != GL_OK) return api_fail_err(r, &err);
        strcpy(name, given->valuestring);
        return GL_OK;
    }
    n = strlen(r->user.username);
    for (size_t i = 0; i < n && i < GL_STREAM_NAME_MAX; i++) {
        char c = r->user.username[i];
        name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    name[n < GL_STREAM_NAME_MAX ? n : GL_STREAM_NAME_MAX] = '\0';
    if (n > GL_STREAM_NAME_MAX || gl_stream_name_check(name, &err) != GL_OK)
        return api_fail(r, GL_EINVAL,
                        "give a stream_name: the username is not a valid stream name (1 to %d "
                        "of a-z, 0-9, '_', '-')",
                        GL_STREAM_NAME_MAX);
    return GL_OK;
}

void
api_route_stream_key_create(api_req *r)
{
    char name[GL_STREAM_NAME_MAX + 1], key[GL_STREAM_KEY_LEN + 1], hash[GL_SHA256_HEX];
    char at[GL_TIME_MAX], channel[GL_STREAM_CHANNEL_MAX], url[1024];
    int64_t id = 0;
    gl_err err;
    cJSON *out;
    int rv;

    if (api_require_user(r) != GL_OK) return;
    if (!gl_acl_may_stream(&r->user)) {
        api_fail(r, GL_EFORBIDDEN,
                 "stream keys need the stream.create permission or the streamer role");
        return;
    }
    if (api_read_json_body(r, false) != GL_OK || new_key_name(r, name) != GL_OK) return;
    if (gl_stream_key_new(key, &err) != GL_OK) {
        api_fail_err(r, &err);
        return;
    }
    gl_stream_key_hash(key, hash);
    gl_stream_channel(name, channel);
    gl_time_now_iso(at);
    /* The key and its owner's access to the stream's chat (which may be private) together. */
    if ((rv = gl_db_begin(r->db, &err)) == GL_OK &&
        (rv = gl_db_stream_key_add(r->db, r->user.id, r->user.username, name, hash, at, &id,
                                   &err)) == GL_OK &&
        (rv = gl_db_access_add(r->db, channel, r->user.id, "stream_keys", at, &err)) == GL_OK)
        rv = gl_db_commit(r->db, &err);
    if (rv != GL_OK) {
        gl_db_rollback(r->db);
        explicit_bzero(key, sizeof(key));
        api_fail_err(r, &err);
        return;
    }
    api_push_reload(r, channel, NULL);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddStringToObject(out, "stream_name", name);
    cJSON_AddStringToObject(out, "key", key);
    cJSON_AddStringToObject(out, "rtmp_url", r->app->rtmp_url);
    hls_url(r, name, url, sizeof(url));
    cJSON_AddStringToObject(out, "hls_url", url);
    cJSON_AddStringToObject(out, "channel", channel);
    cJSON_AddStringToObject(out, "created_at", at);
    explicit_bzero(key, sizeof(key));
    api_reply(r, 201, out);
}

static int
on_key_row(void *arg, const gl_stream_key_row *k)
{
    cJSON *e = cJSON_CreateObject();
    if (e == NULL || !cJSON_AddItemToArray(arg, e)) {
        cJSON_Delete(e);
        return GL_ENOMEM;
    }
    cJSON_AddNumberToObject(e, "id", (double)k->id);
    cJSON_AddStringToObject(e, "stream_name", k->stream_name);
    cJSON_AddStringToObject(e, "user_id", k->user_id);
    cJSON_AddStringToObject(e, "username", k->username);
    cJSON_AddStringToObject(e, "created_at", k->created_at);
    cJSON_AddBoolToObject(e, "active", k->revoked_at == NULL);
    cJSON_AddItemToObject(e, "revoked_at", string_or_null(k->revoked_at));
    cJSON_AddItemToObject(e, "revoked_by", string_or_null(k->revoked_by));
    cJSON_AddBoolToObject(e, "live", k->live && k->revoked_at == NULL);
    return GL_OK;
}

void
api_route_stream_keys(api_req *r)
{
    char who[GL_USER_ID_MAX];
    const char *user;
    cJSON *out, *keys;
    gl_err err;

    if (api_require_user(r) != GL_OK) return;
    user = r->user.id;
    if (api_query(r, "user_id", who, sizeof(who))) {
        if (!gl_acl_is_admin(&r->user) && strcmp(who, r->user.id) != 0) {
            api_fail(r, GL_EFORBIDDEN, "only an admin may list another user's keys");
            return;
        }
        user = who;
    } else if (gl_acl_is_admin(&r->user)) {
        user = NULL; /* an admin sees every key */
    }
    out = cJSON_CreateObject();
    keys = cJSON_AddArrayToObject(out, "keys");
    if (gl_db_stream_keys(r->db, user, KEYS_LIST_MAX, on_key_row, keys, &err) != GL_OK) {
        cJSON_Delete(out);
        api_fail_err(r, &err);
        return;
    }
    api_reply(r, 200, out);
}

void
api_route_stream_key_revoke(api_req *r)
{
    char at[GL_TIME_MAX], name[GL_STREAM_NAME_MAX + 1] = "", *end;
    long long id = strtoll(r->segs[1], &end, 10);
    int outcome = 0;
    gl_err err;
    cJSON *out;

    if (api_require_user(r) != GL_OK) return;
    if (*end != '\0' || id <= 0) {
        api_fail(r, GL_EINVAL, "key id must be a positive integer");
        return;
    }
    gl_time_now_iso(at);
    if (gl_db_stream_key_revoke(r->db, id, gl_acl_is_admin(&r->user) ? NULL : r->user.id,
                                r->user.id, at, &outcome, name, &err) != GL_OK) {
        api_fail_err(r, &err);
        return;
    }
    if (outcome == 0) {
        api_fail(r, GL_ENOTFOUND, "no stream key %lld of yours", id);
        return;
    }
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddStringToObject(out, "stream_name", name);
    cJSON_AddTrueToObject(out, "revoked");
    cJSON_AddBoolToObject(out, "already_revoked", outcome == 2);
    api_reply(r, 200, out);
}

/* ---- live streams ---- */

static int
on_live_stream(void *arg, const gl_stream *s)
{
    void **a = arg;
    cJSON *e = api_stream_json(a[0], s);
    if (e == NULL || !cJSON_AddItemToArray(a[1], e)) {
        cJSON_Delete(e);
        return GL_ENOMEM;
    }
    return GL_OK;
}

void
api_route_streams(api_req *r)
{
    cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "streams");
    void *arg[2] = {r, list};
    gl_err err;

    if (gl_db_streams_live(r->db, STREAMS_LIST_MAX, on_live_stream, arg, &err) != GL_OK) {
        cJSON_Delete(out);
        api_fail_err(r, &err);
        return;
    }
    api_reply(r, 200, out);
}

void
api_route_stream(api_req *r)
{
    gl_stream s;
    gl_err err;
    bool found;

    if (gl_stream_name_check(r->segs[1], &err) != GL_OK) {
        api_fail_err(r, &err);
        return;
    }
    if (gl_db_stream_get(r->db, r->segs[1], &s, &found, &err) != GL_OK) {
        api_fail_err(r, &err);
        return;
    }
    if (!found) {
        api_fail(r, GL_ENOTFOUND, "no stream called '%s'", r->segs[1]);
        return;
    }
    api_reply(r, 200, api_stream_json(r, &s));
}

/* ---- stream state: what the hooks change ---- */

/* The chat message announcing s going live or ending, as stored JSON text (cJSON_free). */
static char *
announcement(api_req *r, const gl_stream *s, bool live)
{
    char text[GL_USERNAME_MAX + 32], url[1024];
    cJSON *d = cJSON_CreateObject();

    snprintf(text, sizeof(text), live ? "%s is live" : "%s's stream ended", s->username);
    hls_url(r, s->name, url, sizeof(url));
    cJSON_AddStringToObject(d, "type", live ? "stream_started" : "stream_stopped");
    cJSON_AddStringToObject(d, "text", text);
    cJSON_AddStringToObject(d, "stream", s->name);
    cJSON_AddStringToObject(d, "user_id", s->user_id);
    cJSON_AddStringToObject(d, "username", s->username);
    cJSON_AddStringToObject(d, "hls_url", url);
    return gl_event_print_take(d);
}

typedef struct transition {
    bool changed;    /* false: the stream was already in that state (a repeated hook) */
    int64_t message; /* the announcement's id, when changed */
    bool pushed;
} transition;

/* Record s as live (opened by key key_id) or ended; on a change, announce it in the stream's chat.
 * GL_OK, or an error after a reply. */
static int
set_state(api_req *r, gl_stream *s, bool live, int64_t key_id, transition *t)
{
    char channel[GL_STREAM_CHANNEL_MAX], *data = NULL;
    gl_override ov;
    gl_policy pol;
    gl_acl_facts facts;
    gl_msg m;
    gl_err err;
    int rv;

    *t = (transition){false, 0, false};
    gl_stream_channel(s->name, channel);
    if (api_channel_policy(r, channel, &pol, &ov, &facts) != GL_OK) return GL_EUNAVAIL;
    gl_override_free(&ov);
    if ((data = announcement(r, s, live)) == NULL) return api_fail(r, GL_ENOMEM, "out of memory");
    m = (gl_msg){0, channel, NULL, NULL, data, ""};
    gl_time_now_iso(m.created_at);
    if ((rv = gl_db_begin(r->db, &err)) == GL_OK &&
        (rv = gl_db_stream_set_live(r->db, s, live, key_id, m.created_at, &t->changed, &err)) ==
            GL_OK &&
        (!t->changed || (rv = api_insert_message(r, &m, pol.max_history, &err)) == GL_OK))
        rv = gl_db_commit(r->db, &err);
    if (rv != GL_OK) {
        gl_db_rollback(r->db);
        cJSON_free(data);
        return api_fail_err(r, &err);
    }
    if (t->changed) {
        t->message = m.id;
        t->pushed = api_push_message(r, &m);
        gl_log(GL_LOG_INFO, "streaming", "stream %s %s (message %lld)", s->name,
               live ? "is live" : "ended", (long long)m.id);
    }
    cJSON_free(data);
    return GL_OK;
}

/* The stream a hook names: by a secret key, or by its public name ("alice" or "live/alice").
 * *found false when neither matches; *key the named key's id when ref is an unrevoked key. */
static int
hook_stream(api_req *r, const char *ref, gl_stream *s, bool *found, int64_t *key)
{
    char hash[GL_SHA256_HEX], name[GL_STREAM_NAME_MAX + 1];
    bool active = false;
    gl_err err;
    int rv = GL_OK;

    *found = false;
    *key = 0;
    if (gl_stream_key_shape(ref)) {
        gl_stream_key_hash(ref, hash);
        rv = gl_db_stream_key_find(r->db, hash, name, key, &active, found, &err);
        if (!active) *key = 0;
        ref = name;
    } else {
        if (strncmp(ref, APP_PREFIX, strlen(APP_PREFIX)) == 0) ref += strlen(APP_PREFIX);
        *found = gl_stream_name_check(ref, NULL) == GL_OK;
    }
    if (rv == GL_OK && *found) rv = gl_db_stream_get(r->db, ref, s, found, &err);
    return rv == GL_OK ? GL_OK : api_fail_err(r, &err);
}

/* The id of key when it is unrevoked and opens stream name; 0 otherwise (or on an error after
 * a reply: check r->replied). */
static int64_t
key_for(api_req *r, const char *key, const char *name)
{
    gl_stream s;
    int64_t id;
    bool found;
    if (!gl_stream_key_shape(key) || hook_stream(r, key, &s, &found, &id) != GL_OK || !found)
        return 0;
    return strcmp(s.name, name) == 0 ? id : 0;
}

static void
reply_transition(api_req *r, gl_stream *s, const transition *t)
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

/* ---- the hooks ---- */

/* The shared secret: X-GoLive-Secret, or ?secret= for servers that only build URLs
 * (nginx-rtmp). GL_OK, or an error after a reply. */
static int
check_hook_secret(api_req *r)
{
    const char *h = r->io.param(r->io.ctx, "HTTP_X_GOLIVE_SECRET");
    char q[FIELD_MAX];

    if (r->app->webhook_secret == NULL)
        return api_fail(r, GL_EUNAVAIL,
                        "streaming hooks are off: GOLIVE_WEBHOOK_SECRET is not set on the server");
    if (h == NULL || *h == '\0') h = api_query(r, "secret", q, sizeof(q)) ? q : NULL;
    if (h == NULL)
        return api_fail(r, GL_EAUTH,
                        "this hook needs the shared secret (X-GoLive-Secret header or ?secret=)");
    if (!gl_secret_equal(h, r->app->webhook_secret))
        return api_fail(r, GL_EAUTH, "wrong hook secret");
    return GL_OK;
}

static void
reply_ok(api_req *r, const char *what)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddTrueToObject(out, "ok");
    cJSON_AddStringToObject(out, "result", what);
    api_reply(r, 200, out);
}

/* A publish refused: nginx-rtmp drops the connection on any 4xx, MediaMTX on any non-2xx. */
static void
refuse_publish(api_req *r, const char *name)
{
    gl_log(GL_LOG_INFO, "streaming", "refused a publish to '%s': invalid or revoked stream key",
           name);
    api_fail(r, GL_EFORBIDDEN, "invalid or revoked stream key");
}

static bool
call_is(const char *call, const char *const *names)
{
    for (; *names != NULL; names++)
        if (strcmp(call, *names) == 0) return true;
    return false;
}

/* nginx-rtmp's notifications (form-encoded). The publisher's stream name is its key (OBS's
 * "Stream Key"), which a 3xx reply renames to the public name; or the public name with
 * ?key=<key> in the RTMP URL. */
static void
rtmp_notify(api_req *r)
{
    static const char *const open_calls[] = {"play",    "play_done",  "update_play", "done",
                                             "connect", "disconnect", NULL};
    char call[FIELD_MAX] = "", name[FIELD_MAX] = "", key[FIELD_MAX] = "";
    gl_stream s;
    transition t;
    int64_t key_id;
    bool found;

    api_form_value(r->raw, "call", call, sizeof(call));
    api_form_value(r->raw, "name", name, sizeof(name));
    api_form_value(r->raw, "key", key, sizeof(key));
    if (call_is(call, open_calls)) {
        reply_ok(r, "open"); /* watching is open to all */
        return;
    }
    if (!call_is(call, (const char *const[]){"publish", "update_publish", "publish_done", NULL})) {
        api_fail(r, GL_EINVAL, "unknown nginx-rtmp call '%s'", call);
        return;
    }
    if (hook_stream(r, name, &s, &found, &key_id) != GL_OK) return;
    if (strcmp(call, "publish_done") == 0) {
        if (!found) {
            api_fail(r, GL_ENOTFOUND, "no stream called '%s'", name);
            return;
        }
        if (set_state(r, &s, false, 0, &t) == GL_OK) reply_transition(r, &s, &t);
        return;
    }
    if (strcmp(call, "update_publish") == 0) {
        /* Sent every notify_update_timeout while publishing: a non-2xx drops the publisher,
         * which is how revoking a key ends a stream that is on air. */
        if (found && s.live && s.session_key_active)
            reply_ok(r, "publishing");
        else
            refuse_publish(r, name);
        return;
    }
    if (api_query(r, "relay", key, sizeof(key))) {
        /* The media server's own relay into its packaging stage (no key: the ingest had it). */
        if (found && s.live && s.session_key_active)
            reply_ok(r, "relay");
        else
            refuse_publish(r, name);
        return;
    }
    if (found && key_id == 0) key_id = key_for(r, key, s.name);
    if (r->replied) return;
    if (!found || key_id == 0) {
        refuse_publish(r, name);
        return;
    }
    if (set_state(r, &s, true, key_id, &t) != GL_OK) return;
    if (gl_stream_key_shape(name)) {
        /* 3xx + Location renames the stream: HLS and every later hook see the public name. */
        api_reply_redirect(r, s.name);
        return;
    }
    reply_transition(r, &s, &t);
}

/* MediaMTX's auth request (JSON). Watching is open; publishing needs the stream's key in the
 * RTMP query (?key=), the password or the token. */
static void
mediamtx_auth(api_req *r)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(r->body, "action");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(r->body, "path");
    const cJSON *query = cJSON_GetObjectItemCaseSensitive(r->body, "query");
    const cJSON *pass = cJSON_GetObjectItemCaseSensitive(r->body, "password");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(r->body, "token");
    char key[FIELD_MAX] = "";
    const char *name;

    if (!cJSON_IsString(action)) {
        api_fail(r, GL_EINVAL, "action must be a string");
        return;
    }
    if (strcmp(action->valuestring, "read") == 0 || strcmp(action->valuestring, "playback") == 0) {
        reply_ok(r, "open");
        return;
    }
    if (strcmp(action->valuestring, "publish") != 0) {
        api_fail(r, GL_EFORBIDDEN, "action '%s' is not open through GoLive", action->valuestring);
        return;
    }
    if (!cJSON_IsString(path) || strncmp(path->valuestring, APP_PREFIX, strlen(APP_PREFIX)) != 0) {
        api_fail(r, GL_EFORBIDDEN, "publish to live/<stream name>");
        return;
    }
    name = path->valuestring + strlen(APP_PREFIX);
    if (!(cJSON_IsString(query) && api_form_value(query->valuestring, "key", key, sizeof(key))) &&
        cJSON_IsString(pass))
        snprintf(key, sizeof(key), "%s", pass->valuestring);
    if (key[0] == '\0' && cJSON_IsString(token))
        snprintf(key, sizeof(key), "%s", token->valuestring);
    if (key_for(r, key, name) == 0) {
        if (!r->replied) refuse_publish(r, name);
        return;
    }
    reply_ok(r, "publish");
}

/* The webhook's JSON: {"event": "stream_started"|"stream_stopped", and the stream as
 * "stream_key" (the secret key, or the public name as in the seed), "stream" or "path"
 * ("live/<name>", as MediaMTX's $MTX_PATH), optional "user_id" that must own it}. */
static void
webhook_json(api_req *r)
{
    static const char *const refs[] = {"stream_key", "stream", "path"};
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(r->body, "event");
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(r->body, "user_id");
    const cJSON *ref = NULL;
    gl_stream s;
    transition t;
    int64_t key_id;
    bool live, found;

    if (!cJSON_IsString(ev) || (strcmp(ev->valuestring, "stream_started") != 0 &&
                                strcmp(ev->valuestring, "stream_stopped") != 0)) {
        api_fail(r, GL_EINVAL, "event must be \"stream_started\" or \"stream_stopped\"");
        return;
    }
    live = strcmp(ev->valuestring, "stream_started") == 0;
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && ref == NULL; i++)
        ref = cJSON_GetObjectItemCaseSensitive(r->body, refs[i]);
    if (!cJSON_IsString(ref)) {
        api_fail(r, GL_EINVAL, "name the stream: stream_key, stream or path (a string)");
        return;
    }
    if (user != NULL && !cJSON_IsString(user)) {
        api_fail(r, GL_EINVAL, "user_id must be a string");
        return;
    }
    if (hook_stream(r, ref->valuestring, &s, &found, &key_id) != GL_OK) return;
    if (!found) {
        api_fail(r, GL_ENOTFOUND, "no stream matches that stream_key/stream/path");
        return;
    }
    if (user != NULL && strcmp(user->valuestring, s.user_id) != 0) {
        api_fail(r, GL_EFORBIDDEN, "user_id does not own this stream");
        return;
    }
    if (live && key_id == 0 && gl_stream_key_shape(ref->valuestring)) {
        api_fail(r, GL_EFORBIDDEN, "stream key is revoked");
        return;
    }
    if (live && key_id == 0) key_id = s.active_key; /* named by its public name */
    if (live && key_id == 0) {
        api_fail(r, GL_EFORBIDDEN, "stream '%s' has no unrevoked key", s.name);
        return;
    }
    if (set_state(r, &s, live, key_id, &t) == GL_OK) reply_transition(r, &s, &t);
}

/* Read a hook's body; true when it is a form (nginx-rtmp) rather than JSON. */
static int
read_hook(api_req *r, bool *form)
{
    if (check_hook_secret(r) != GL_OK) return GL_EAUTH;
    *form = api_content_type_is(r, "application/x-www-form-urlencoded");
    if (*form) return api_read_body(r, true);
    if (!api_content_type_is(r, "application/json"))
        return api_fail(r, GL_EINVAL,
                        "send JSON (application/json) or an nginx-rtmp form "
                        "(application/x-www-form-urlencoded)");
    return api_read_json_body(r, true);
}

void
api_route_stream_auth(api_req *r)
{
    bool form;
    if (read_hook(r, &form) != GL_OK) return;
    if (form)
        rtmp_notify(r);
    else
        mediamtx_auth(r);
}

void
api_route_stream_webhook(api_req *r)
{
    bool form;
    if (read_hook(r, &form) != GL_OK) return;
    if (form)
        rtmp_notify(r);
    else
        webhook_json(r);
}
