/* Client-facing JSON builders. Message data is embedded raw: it was validated as a JSON
 * object when published and is stored as printed, so it is never parsed again on the way out. */
#include "event.h"
#include "json.h"

#include <stdio.h>

cJSON *
gl_event_new(const char *type, const char *channel)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || cJSON_AddStringToObject(o, "type", type) == NULL ||
        (channel != NULL && cJSON_AddStringToObject(o, "channel", channel) == NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_message(const gl_msg *m)
{
    cJSON *o = gl_event_new("message", m->channel), *user;

    if (o == NULL || gl_json_add_int(o, "id", m->id) == NULL ||
        cJSON_AddRawToObject(o, "data", m->data) == NULL)
        goto out_free;
    if (m->user_id != NULL) {
        if ((user = cJSON_AddObjectToObject(o, "user")) == NULL ||
            cJSON_AddStringToObject(user, "id", m->user_id) == NULL ||
            cJSON_AddStringToObject(user, "username", m->username ? m->username : m->user_id) ==
                NULL)
            goto out_free;
    } else if (cJSON_AddNullToObject(o, "user") == NULL ||
               cJSON_AddTrueToObject(o, "system") == NULL) {
        goto out_free;
    }
    if (cJSON_AddStringToObject(o, "created_at", m->created_at) == NULL) goto out_free;
    return o;

out_free:
    cJSON_Delete(o);
    return NULL;
}

int
gl_event_append_message(void *arr, const gl_msg *m)
{
    cJSON *ev = gl_event_message(m);
    if (ev == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(arr, ev);
    return GL_OK;
}

/* Add "error":{"code":..,"message":..} to o; false when out of memory. */
static bool
add_error(cJSON *o, int code, const char *msg)
{
    cJSON *e = cJSON_AddObjectToObject(o, "error");

    return e != NULL && cJSON_AddStringToObject(e, "code", gl_err_code_name(code)) != NULL &&
           cJSON_AddStringToObject(e, "message", msg) != NULL;
}

cJSON *
gl_event_error(const cJSON *id, const char *channel, int code, const char *msg)
{
    cJSON *o = gl_event_new("error", channel), *idc;

    if (o == NULL) return NULL;
    if (id != NULL) {
        if ((idc = cJSON_Duplicate(id, 1)) == NULL) goto out_free;
        cJSON_AddItemToObject(o, "id", idc);
    }
    if (!add_error(o, code, msg)) goto out_free;
    return o;

out_free:
    cJSON_Delete(o);
    return NULL;
}

cJSON *
gl_event_http_error(int code, const char *msg)
{
    cJSON *o = cJSON_CreateObject();

    if (o != NULL && !add_error(o, code, msg)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *
gl_event_print_take(cJSON *obj)
{
    char *s;
    if (obj == NULL) return NULL;
    s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    return s;
}

cJSON *
gl_event_presence(const char *type, const char *channel, const char *user_id, const char *username)
{
    cJSON *o = gl_event_new(type, channel), *user;

    if (o == NULL || (user = cJSON_AddObjectToObject(o, "user")) == NULL ||
        cJSON_AddStringToObject(user, "id", user_id) == NULL ||
        cJSON_AddStringToObject(user, "username", username) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_unsubscribed(const char *channel, const char *reason)
{
    cJSON *o = gl_event_new("unsubscribed", channel);

    if (o != NULL && cJSON_AddStringToObject(o, "reason", reason) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_user_action(const char *type, const char *channel, const char *user_id, const char *reason,
                     const char *until)
{
    cJSON *o = gl_event_new(type, channel);

    if (o == NULL || cJSON_AddStringToObject(o, "user_id", user_id) == NULL ||
        (reason != NULL && cJSON_AddStringToObject(o, "reason", reason) == NULL) ||
        (until != NULL && cJSON_AddStringToObject(o, "until", until) == NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* {"type":type,"channel":channel,name:v}: the events that carry one id. */
static cJSON *
event_with_id(const char *type, const char *channel, const char *name, int64_t v)
{
    cJSON *o = gl_event_new(type, channel);

    if (o != NULL && gl_json_add_int(o, name, v) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_message_deleted(const char *channel, int64_t message_id)
{
    return event_with_id("message_deleted", channel, "message_id", message_id);
}

cJSON *
gl_event_stream_announcement(bool live, const char *stream, const char *user_id,
                             const char *username, const char *hls_url)
{
    char text[GL_USERNAME_MAX + 32];
    cJSON *o = cJSON_CreateObject();

    snprintf(text, sizeof(text), live ? "%s is live" : "%s's stream ended", username);
    if (o == NULL ||
        cJSON_AddStringToObject(o, "type", live ? "stream_started" : "stream_stopped") == NULL ||
        cJSON_AddStringToObject(o, "text", text) == NULL ||
        cJSON_AddStringToObject(o, "stream", stream) == NULL ||
        cJSON_AddStringToObject(o, "user_id", user_id) == NULL ||
        cJSON_AddStringToObject(o, "username", username) == NULL ||
        cJSON_AddStringToObject(o, "hls_url", hls_url) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_rate_limited(const cJSON *id, const char *channel, const char *msg,
                      uint32_t retry_after_ms)
{
    cJSON *o = gl_event_error(id, channel, GL_ERATE, msg);
    cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");

    if (e == NULL || gl_json_add_int(e, "retry_after_ms", retry_after_ms) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_chat_modes(const char *channel, const gl_modes *m)
{
    cJSON *o = gl_event_new("chat_modes", channel), *modes = gl_modes_json(m);

    if (o == NULL || modes == NULL || !cJSON_AddItemToObject(o, "chat_modes", modes)) {
        cJSON_Delete(o);
        cJSON_Delete(modes);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_chat_cleared(const char *channel, int64_t through_id)
{
    return event_with_id("chat_cleared", channel, "through_id", through_id);
}

cJSON *
gl_event_pin(const char *channel, const gl_msg *m)
{
    cJSON *o = gl_event_new(m != NULL ? "message_pinned" : "message_unpinned", channel), *msg;

    if (o == NULL || m == NULL) return o;
    if ((msg = gl_event_message(m)) == NULL || !cJSON_AddItemToObject(o, "message", msg)) {
        cJSON_Delete(msg);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_message_held(const char *channel, const gl_held_row *row)
{
    cJSON *o = gl_event_new("message_held", channel), *h = cJSON_CreateObject();

    if (o == NULL || h == NULL || !cJSON_AddItemToObject(o, "held", h)) {
        cJSON_Delete(h);
        cJSON_Delete(o);
        return NULL;
    }
    if (gl_json_add_int(h, "id", row->id) == NULL ||
        cJSON_AddStringToObject(h, "user_id", row->user_id) == NULL ||
        (row->username != NULL ? cJSON_AddStringToObject(h, "username", row->username)
                               : cJSON_AddNullToObject(h, "username")) == NULL ||
        cJSON_AddRawToObject(h, "data", row->data) == NULL ||
        cJSON_AddStringToObject(h, "term", row->term) == NULL ||
        cJSON_AddStringToObject(h, "created_at", row->created_at) == NULL ||
        cJSON_AddStringToObject(h, "status", row->status) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *
gl_event_held_decided(const char *channel, int64_t held_id, const char *status)
{
    cJSON *o = event_with_id("held_decided", channel, "held_id", held_id);

    if (o == NULL || cJSON_AddStringToObject(o, "status", status) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
