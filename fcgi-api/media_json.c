/* The JSON dialect (media.h): MediaMTX's auth request, and the webhook body of the seed (which
 * MediaMTX's runOnAvailable/runOnUnavailable hooks send with curl). */
#include "media.h"
#include "stream_state.h"

#include <stdio.h>
#include <string.h>

#define APP_PREFIX "live/"

/* Watching is open; publishing needs the stream's key in the RTMP query (?key=), the password or
 * the token. */
int
api_media_json_auth(api_req *r, gl_err *err)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(r->body, "action");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(r->body, "path");
    const cJSON *query = cJSON_GetObjectItemCaseSensitive(r->body, "query");
    const cJSON *pass = cJSON_GetObjectItemCaseSensitive(r->body, "password");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(r->body, "token");
    char key[API_HOOK_FIELD_MAX] = "";
    const char *name;
    int64_t key_id;
    int rv;

    if (!cJSON_IsString(action)) return gl_err_set(err, GL_EINVAL, "action must be a string");
    if (strcmp(action->valuestring, "read") == 0 || strcmp(action->valuestring, "playback") == 0) {
        api_reply_hook_ok(r, "open");
        return GL_OK;
    }
    if (strcmp(action->valuestring, "publish") != 0)
        return gl_err_set(err, GL_EFORBIDDEN, "action '%s' is not open through GoLive",
                          action->valuestring);
    if (!cJSON_IsString(path) || strncmp(path->valuestring, APP_PREFIX, strlen(APP_PREFIX)) != 0)
        return gl_err_set(err, GL_EFORBIDDEN, "publish to live/<stream name>");
    name = path->valuestring + strlen(APP_PREFIX);
    if (!(cJSON_IsString(query) && api_form_value(query->valuestring, "key", key, sizeof(key))) &&
        cJSON_IsString(pass))
        snprintf(key, sizeof(key), "%s", pass->valuestring);
    if (key[0] == '\0' && cJSON_IsString(token))
        snprintf(key, sizeof(key), "%s", token->valuestring);
    if ((rv = api_stream_key_for(r, key, name, &key_id, err)) != GL_OK) return rv;
    if (key_id == 0) return api_refuse_publish(name, err);
    api_reply_hook_ok(r, "publish");
    return GL_OK;
}

/* {"event": "stream_started"|"stream_stopped", and the stream as "stream_key" (the secret key,
 * or the public name as in the seed), "stream" or "path" ("live/<name>", as MediaMTX's
 * $MTX_PATH), optional "user_id" that must own it}. */
int
api_media_json_webhook(api_req *r, gl_err *err)
{
    static const char *const refs[] = {"stream_key", "stream", "path"};
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(r->body, "event");
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(r->body, "user_id");
    const cJSON *ref = NULL;
    gl_stream s;
    api_transition t;
    int64_t key_id;
    bool live, found;
    int rv;

    if (!cJSON_IsString(ev) || (strcmp(ev->valuestring, "stream_started") != 0 &&
                                strcmp(ev->valuestring, "stream_stopped") != 0))
        return gl_err_set(err, GL_EINVAL, "event must be \"stream_started\" or \"stream_stopped\"");
    live = strcmp(ev->valuestring, "stream_started") == 0;
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && ref == NULL; i++)
        ref = cJSON_GetObjectItemCaseSensitive(r->body, refs[i]);
    if (!cJSON_IsString(ref))
        return gl_err_set(err, GL_EINVAL, "name the stream: stream_key, stream or path (a string)");
    if (user != NULL && !cJSON_IsString(user))
        return gl_err_set(err, GL_EINVAL, "user_id must be a string");
    if ((rv = api_stream_find(r, ref->valuestring, &s, &found, &key_id, err)) != GL_OK) return rv;
    if (!found)
        return gl_err_set(err, GL_ENOTFOUND, "no stream matches that stream_key/stream/path");
    if (user != NULL && strcmp(user->valuestring, s.user_id) != 0)
        return gl_err_set(err, GL_EFORBIDDEN, "user_id does not own this stream");
    if (live && key_id == 0 && gl_stream_key_shape(ref->valuestring))
        return gl_err_set(err, GL_EFORBIDDEN, "stream key is revoked");
    if (live && key_id == 0) key_id = s.active_key; /* named by its public name */
    if (live && key_id == 0)
        return gl_err_set(err, GL_EFORBIDDEN, "stream '%s' has no unrevoked key", s.name);
    if ((rv = api_stream_transition(r, &s, live, key_id, &t, err)) != GL_OK) return rv;
    api_reply_transition(r, &s, &t);
    return GL_OK;
}
