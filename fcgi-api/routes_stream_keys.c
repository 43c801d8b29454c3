/* Stream key routes (/api/streaming/keys): broadcasters create, list and revoke the secret keys
 * their encoders publish with. Only a key's hash is stored; the key is shown once, on creation. */
#include "routes.h"
#include "route_util.h"
#include "stream_state.h"
#include "shared/timefmt.h"

#include <stdlib.h>
#include <string.h>

#define KEYS_LIST_MAX 200

/* The stream name for a new key: the body's stream_name, else the caller's username in lower
 * case. */
static int
new_key_name(api_req *r, char name[GL_STREAM_NAME_MAX + 1], gl_err *err)
{
    const cJSON *given = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "stream_name") : NULL;
    size_t n;
    int rv;

    if (given != NULL) {
        if (!cJSON_IsString(given))
            return gl_err_set(err, GL_EINVAL, "stream_name must be a string");
        if ((rv = gl_stream_name_check(given->valuestring, err)) != GL_OK) return rv;
        strcpy(name, given->valuestring);
        return GL_OK;
    }
    n = strlen(r->user.username);
    for (size_t i = 0; i < n && i < GL_STREAM_NAME_MAX; i++) {
        char c = r->user.username[i];
        name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    name[n < GL_STREAM_NAME_MAX ? n : GL_STREAM_NAME_MAX] = '\0';
    if (n > GL_STREAM_NAME_MAX || gl_stream_name_check(name, NULL) != GL_OK)
        return gl_err_set(err, GL_EINVAL,
                          "give a stream_name: the username is not a valid stream name (1 to %d "
                          "of a-z, 0-9, '_', '-')",
                          GL_STREAM_NAME_MAX);
    return GL_OK;
}

int
api_route_stream_key_create(api_req *r, gl_err *err)
{
    char name[GL_STREAM_NAME_MAX + 1], key[GL_STREAM_KEY_LEN + 1], hash[GL_SHA256_HEX];
    char at[GL_TIME_MAX], channel[GL_STREAM_CHANNEL_MAX], url[1024];
    int64_t id = 0;
    cJSON *out;
    int rv;

    if ((rv = api_require_user(r, err)) != GL_OK) return rv;
    if (!gl_acl_may_stream(&r->user))
        return gl_err_set(err, GL_EFORBIDDEN,
                          "stream keys need the stream.create permission or the streamer role");
    if ((rv = api_read_json_body(r, false, err)) != GL_OK ||
        (rv = new_key_name(r, name, err)) != GL_OK || (rv = gl_stream_key_new(key, err)) != GL_OK)
        return rv;
    gl_stream_key_hash(key, hash);
    gl_stream_channel(name, channel);
    gl_time_now_iso(at);
    /* The key and its owner's access to the stream's chat (which may be private) together. */
    if ((rv = gl_db_begin(r->db, err)) == GL_OK &&
        (rv = gl_db_stream_key_add(r->db, r->user.id, r->user.username, name, hash, at, &id,
                                   err)) == GL_OK &&
        (rv = gl_db_access_add(r->db, channel, r->user.id, "stream_keys", at, err)) == GL_OK)
        rv = gl_db_commit(r->db, err);
    if (rv != GL_OK) {
        gl_db_rollback(r->db);
        explicit_bzero(key, sizeof(key));
        return rv;
    }
    api_push_reload(r, channel, NULL);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddStringToObject(out, "stream_name", name);
    cJSON_AddStringToObject(out, "key", key);
    cJSON_AddStringToObject(out, "rtmp_url", r->app->rtmp_url);
    api_hls_url(r, name, url, sizeof(url));
    cJSON_AddStringToObject(out, "hls_url", url);
    cJSON_AddStringToObject(out, "channel", channel);
    cJSON_AddStringToObject(out, "created_at", at);
    explicit_bzero(key, sizeof(key));
    api_reply(r, 201, out);
    return GL_OK;
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
    cJSON_AddItemToObject(e, "revoked_at", api_string_or_null(k->revoked_at));
    cJSON_AddItemToObject(e, "revoked_by", api_string_or_null(k->revoked_by));
    cJSON_AddBoolToObject(e, "live", k->live && k->revoked_at == NULL);
    return GL_OK;
}

int
api_route_stream_keys(api_req *r, gl_err *err)
{
    char who[GL_USER_ID_MAX + 1]; /* one more: a longer value, cut here, is refused */
    const char *user;
    cJSON *out, *keys;
    int rv;

    if ((rv = api_require_user(r, err)) != GL_OK) return rv;
    user = r->user.id;
    if (api_query(r, "user_id", who, sizeof(who))) {
        if (!api_user_id_ok(who))
            return gl_err_set(err, GL_EINVAL,
                              "user_id must be 1 to %d bytes without control characters",
                              GL_USER_ID_MAX - 1);
        if (!gl_acl_is_admin(&r->user) && strcmp(who, r->user.id) != 0)
            return gl_err_set(err, GL_EFORBIDDEN, "only an admin may list another user's keys");
        user = who;
    } else if (gl_acl_is_admin(&r->user)) {
        user = NULL; /* an admin sees every key */
    }
    out = cJSON_CreateObject();
    keys = cJSON_AddArrayToObject(out, "keys");
    if ((rv = gl_db_stream_keys(r->db, user, KEYS_LIST_MAX, on_key_row, keys, err)) != GL_OK) {
        cJSON_Delete(out);
        return rv;
    }
    api_reply(r, 200, out);
    return GL_OK;
}

int
api_route_stream_key_revoke(api_req *r, gl_err *err)
{
    char at[GL_TIME_MAX], name[GL_STREAM_NAME_MAX + 1] = "";
    int64_t id;
    int outcome = 0, rv;
    cJSON *out;

    if ((rv = api_require_user(r, err)) != GL_OK) return rv;
    if ((rv = api_path_id(r, "id", "key id", &id, err)) != GL_OK) return rv;
    gl_time_now_iso(at);
    if ((rv = gl_db_stream_key_revoke(r->db, id, gl_acl_is_admin(&r->user) ? NULL : r->user.id,
                                      r->user.id, at, &outcome, name, err)) != GL_OK)
        return rv;
    if (outcome == 0)
        return gl_err_set(err, GL_ENOTFOUND, "no stream key %lld of yours", (long long)id);
    out = cJSON_CreateObject();
    cJSON_AddNumberToObject(out, "id", (double)id);
    cJSON_AddStringToObject(out, "stream_name", name);
    cJSON_AddTrueToObject(out, "revoked");
    cJSON_AddBoolToObject(out, "already_revoked", outcome == 2);
    api_reply(r, 200, out);
    return GL_OK;
}
