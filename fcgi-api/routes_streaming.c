/* Streaming routes (/api/streaming/...) besides keys: the live stream list, one stream, and the
 * two URLs a media server calls (auth, webhook). Both hook URLs check the shared secret, read the
 * body and hand it to its dialect (media.h): a form is nginx-rtmp's, JSON MediaMTX's or the
 * seed's webhook. */
#include "routes.h"
#include "media.h"
#include "stream_state.h"
#include "shared/sha256.h"

#include <string.h>

#define STREAMS_LIST_MAX 500

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

int
api_route_streams(api_req *r, gl_err *err)
{
    cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "streams");
    void *arg[2] = {r, list};
    int rv;

    if ((rv = gl_db_streams_live(r->db, STREAMS_LIST_MAX, on_live_stream, arg, err)) != GL_OK) {
        cJSON_Delete(out);
        return rv;
    }
    api_reply(r, 200, out);
    return GL_OK;
}

int
api_route_stream(api_req *r, gl_err *err)
{
    const char *name = api_param(r, "name");
    gl_stream s;
    bool found;
    int rv;

    if ((rv = gl_stream_name_check(name, err)) != GL_OK ||
        (rv = gl_db_stream_get(r->db, name, &s, &found, err)) != GL_OK)
        return rv;
    if (!found) return gl_err_set(err, GL_ENOTFOUND, "no stream called '%s'", name);
    api_reply(r, 200, api_stream_json(r, &s));
    return GL_OK;
}

/* The shared secret: X-GoLive-Secret, or ?secret= for servers that only build URLs
 * (nginx-rtmp). */
static int
check_hook_secret(api_req *r, gl_err *err)
{
    const char *h = r->io.param(r->io.ctx, "HTTP_X_GOLIVE_SECRET");
    char q[API_HOOK_FIELD_MAX];

    if (r->app->webhook_secret == NULL)
        return gl_err_set(
            err, GL_EUNAVAIL,
            "streaming hooks are off: GOLIVE_WEBHOOK_SECRET is not set on the server");
    if (h == NULL || *h == '\0') h = api_query(r, "secret", q, sizeof(q)) ? q : NULL;
    if (h == NULL)
        return gl_err_set(err, GL_EAUTH,
                          "this hook needs the shared secret (X-GoLive-Secret header or ?secret=)");
    if (!gl_secret_equal(h, r->app->webhook_secret))
        return gl_err_set(err, GL_EAUTH, "wrong hook secret");
    return GL_OK;
}

/* Check the secret and read the hook's body; *form when it is nginx-rtmp's form, not JSON. */
static int
read_hook(api_req *r, bool *form, gl_err *err)
{
    int rv;
    if ((rv = check_hook_secret(r, err)) != GL_OK) return rv;
    *form = api_content_type_is(r, "application/x-www-form-urlencoded");
    if (*form) return api_read_body(r, true, err);
    if (!api_content_type_is(r, "application/json"))
        return gl_err_set(err, GL_EINVAL,
                          "send JSON (application/json) or an nginx-rtmp form "
                          "(application/x-www-form-urlencoded)");
    return api_read_json_body(r, true, err);
}

int
api_route_stream_auth(api_req *r, gl_err *err)
{
    bool form;
    int rv;
    if ((rv = read_hook(r, &form, err)) != GL_OK) return rv;
    return form ? api_media_rtmp_notify(r, err) : api_media_json_auth(r, err);
}

int
api_route_stream_webhook(api_req *r, gl_err *err)
{
    bool form;
    int rv;
    if ((rv = read_hook(r, &form, err)) != GL_OK) return rv;
    return form ? api_media_rtmp_notify(r, err) : api_media_json_webhook(r, err);
}
