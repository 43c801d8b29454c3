/* What a channel's moderators read (docs/api.md): its current bans and timeouts, and its
 * moderation_log newest first, a page at a time. Whoever may moderate the channel may read
 * both (api_require_channel_moderator); nothing here writes. */
#include "routes.h"
#include "route_util.h"
#include "shared/json.h"

#include <stdint.h>
#include <string.h>

#define LOG_PAGE_DEFAULT 50
#define LOG_PAGE_MAX 100

/* s as a JSON string, or null when the column was NULL. */
static void
add_text(cJSON *obj, const char *name, const char *s)
{
    if (s != NULL)
        cJSON_AddStringToObject(obj, name, s);
    else
        cJSON_AddNullToObject(obj, name);
}

/* A new object appended to arr, or NULL when out of memory. */
static cJSON *
append_object(cJSON *arr)
{
    cJSON *e = cJSON_CreateObject();

    if (e == NULL || !cJSON_AddItemToArray(arr, e)) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

static int
append_ban(void *arg, const gl_db_ban_row *b)
{
    cJSON *e = append_object(arg);

    if (e == NULL) return GL_ENOMEM;
    add_text(e, "user_id", b->user_id);
    add_text(e, "kind", b->kind);
    add_text(e, "reason", b->reason);
    add_text(e, "created_by", b->created_by);
    add_text(e, "created_at", b->created_at);
    add_text(e, "expires_at", b->expires_at);
    return GL_OK;
}

static int
append_entry(void *arg, const gl_db_audit_row *a)
{
    cJSON *e = append_object(arg), *detail = NULL;
    gl_err ignored;

    if (e == NULL) return GL_ENOMEM;
    gl_json_add_int(e, "id", a->id);
    add_text(e, "action", a->action);
    add_text(e, "target_user", a->target_user);
    if (a->message_id != 0)
        gl_json_add_int(e, "message_id", a->message_id);
    else
        cJSON_AddNullToObject(e, "message_id");
    add_text(e, "actor_id", a->actor_id);
    add_text(e, "actor_name", a->actor_name);
    add_text(e, "reason", a->reason);
    /* detail is JSON we wrote; pass it on as JSON, or as text should a row hold anything else. */
    if (a->detail != NULL) detail = gl_json_parse_raw(a->detail, strlen(a->detail), &ignored);
    if (detail != NULL)
        cJSON_AddItemToObject(e, "detail", detail);
    else
        add_text(e, "detail", a->detail);
    add_text(e, "created_at", a->created_at);
    return GL_OK;
}

/* A new reply {"channel": .., name: []}; *arr is the array. NULL when out of memory. */
static cJSON *
list_reply(api_req *r, const char *name, cJSON **arr)
{
    cJSON *out = cJSON_CreateObject();

    if (out == NULL || cJSON_AddStringToObject(out, "channel", r->channel) == NULL ||
        (*arr = cJSON_AddArrayToObject(out, name)) == NULL) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

int
api_route_bans(api_req *r, gl_err *err)
{
    cJSON *out, *arr;
    int rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK) return rv;
    if ((out = list_reply(r, "bans", &arr)) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rv = gl_db_bans(r->db, r->channel, append_ban, arr, err)) != GL_OK) {
        cJSON_Delete(out);
        return rv == GL_ENOMEM ? gl_err_set(err, GL_ENOMEM, "out of memory") : rv;
    }
    api_reply(r, 200, out);
    return GL_OK;
}

/* ?limit= (1..LOG_PAGE_MAX) and ?before= (a positive id) into *limit and *before. */
static int
log_params(api_req *r, int *limit, int64_t *before, gl_err *err)
{
    char buf[32];
    gl_history_arg a;

    *limit = LOG_PAGE_DEFAULT;
    *before = INT64_MAX;
    a = api_query_arg(r, "limit", buf, sizeof(buf));
    if (a.present) {
        if (!a.integer || a.value < 1 || a.value > LOG_PAGE_MAX)
            return gl_err_set(err, GL_EINVAL, "limit must be an integer from 1 to %d",
                              LOG_PAGE_MAX);
        *limit = (int)a.value;
    }
    a = api_query_arg(r, "before", buf, sizeof(buf));
    if (a.present) {
        if (!a.integer || a.value < 1)
            return gl_err_set(err, GL_EINVAL, "before must be a positive integer (an entry id)");
        *before = a.value;
    }
    return GL_OK;
}

int
api_route_moderation_log(api_req *r, gl_err *err)
{
    cJSON *out, *arr;
    int64_t before;
    int limit, rv;

    if ((rv = api_require_channel_moderator(r, err)) != GL_OK ||
        (rv = log_params(r, &limit, &before, err)) != GL_OK)
        return rv;
    if ((out = list_reply(r, "entries", &arr)) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rv = gl_db_audit_page(r->db, r->channel, before, limit, append_entry, arr, err)) !=
        GL_OK) {
        cJSON_Delete(out);
        return rv == GL_ENOMEM ? gl_err_set(err, GL_ENOMEM, "out of memory") : rv;
    }
    api_reply(r, 200, out);
    return GL_OK;
}
