/* One REST request: authentication, body limits and JSON in; JSON replies and the single
 * mapping of GL_E* codes to HTTP statuses out. Handlers never write bytes themselves. */
#include "api.h"
#include "counters.h"
#include "router.h"
#include "shared/chan.h"
#include "shared/event.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CORS_MAX_AGE_SECS 600 /* how long a browser may reuse a preflight's answer */

static const char *
reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* uri for the log, with the value of a secret= query parameter (the media hooks') hidden. */
static void
redact_uri(const char *uri, char *out, size_t cap)
{
    const char *q = uri ? strchr(uri, '?') : NULL, *p, *end;
    snprintf(out, cap, "%s", uri ? uri : "?");
    if (q == NULL) return;
    for (p = q; (p = strstr(p, "secret=")) != NULL; p += 7) {
        if (p[-1] != '?' && p[-1] != '&') continue;
        end = p + 7 + strcspn(p + 7, "&");
        snprintf(out, cap, "%.*s***%s", (int)(p + 7 - uri), uri, end);
        return;
    }
}

/* Write the head of a reply: status, the content type (NULL: no body follows), CORS headers
 * when the request's origin is allowed, and extra (whole "Name: value\r\n" lines). */
static void
write_head(api_req *r, int status, const char *type, const char *extra)
{
    char head[1024], ctype[64] = "", acao[GL_ORIGIN_MAX + 96] = "";
    int n;

    if (type != NULL) snprintf(ctype, sizeof(ctype), "Content-Type: %s\r\n", type);
    /* The origin was checked by gl_origin_normalize: no CR, LF or spaces, at most 255 bytes. */
    if (r->cors_origin != NULL)
        snprintf(
            acao, sizeof(acao),
            "Access-Control-Allow-Origin: %s\r\nAccess-Control-Expose-Headers: Retry-After\r\n",
            r->cors_origin);
    /* Vary on every reply, with or without Origin: a cache must not serve one origin's answer
     * to another. */
    n = snprintf(head, sizeof(head),
                 "Status: %d %s\r\n%sCache-Control: no-store\r\n%sVary: Origin\r\n%s\r\n", status,
                 reason_phrase(status), ctype, acao, extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(head)) {
        gl_log(GL_LOG_ERROR, "api", "reply head of %d bytes cut to %zu", n, sizeof(head) - 1);
        n = (int)sizeof(head) - 1;
    }
    r->io.write(r->io.ctx, head, n);
    r->replied = true;
    r->status = status;
    if (GL_LOG_DEBUG >= gl_log_level) {
        /* pathbuf was split into segments by the router: log the request's own URI instead. */
        char uri[512];
        redact_uri(r->io.param(r->io.ctx, "REQUEST_URI"), uri, sizeof(uri));
        gl_log(GL_LOG_DEBUG, "api", "%s %s -> %d", r->method, uri, status);
    }
}

static void
reply_with_headers(api_req *r, int status, cJSON *obj, const char *extra)
{
    char *body = obj ? cJSON_PrintUnformatted(obj) : NULL;

    cJSON_Delete(obj);
    if (body == NULL) {
        status = 503;
        body = strdup("{\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}");
    }
    write_head(r, status, "application/json", extra);
    if (body != NULL) {
        r->io.write(r->io.ctx, body, (int)strlen(body));
        r->io.write(r->io.ctx, "\n", 1);
    }
    free(body);
}

void
api_reply_text(api_req *r, int status, const char *type, const char *body, size_t len)
{
    write_head(r, status, type, NULL);
    if (len > 0) r->io.write(r->io.ctx, body, (int)len);
}

void
api_reply(api_req *r, int status, cJSON *obj)
{
    reply_with_headers(r, status, obj, NULL);
}

void
api_reply_redirect(api_req *r, const char *location)
{
    char hdr[320];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "location", location);
    snprintf(hdr, sizeof(hdr), "Location: %s\r\n", location);
    reply_with_headers(r, 302, o, hdr);
}

int
api_fail(api_req *r, int code, const char *fmt, ...)
{
    char msg[GL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (code == GL_ERATE && r->retry_after_ms > 0) {
        /* A limit's refusal says when to come back, in the body and in Retry-After (seconds). */
        cJSON *body = gl_event_http_error(code, msg), *e;
        char hdr[48];
        if ((e = cJSON_GetObjectItemCaseSensitive(body, "error")) != NULL)
            gl_json_add_int(e, "retry_after_ms", r->retry_after_ms);
        snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n", (r->retry_after_ms + 999) / 1000);
        reply_with_headers(r, gl_err_http_status(code), body, hdr);
        return code;
    }
    api_reply(r, gl_err_http_status(code), gl_event_http_error(code, msg));
    return code;
}

int
api_fail_err(api_req *r, const gl_err *err)
{
    /* Internal failures are logged where detected; clients get a generic message. */
    if (err->code == GL_EDB || err->code == GL_ENOMEM)
        return api_fail(r, err->code, "the database is unavailable; try again");
    return api_fail(r, err->code, "%s", err->msg);
}

int
api_require_user(api_req *r, gl_err *err)
{
    if (!r->authed)
        return gl_err_set(err, GL_EAUTH, "this route needs a token (Authorization: Bearer ...)");
    return GL_OK;
}

int
api_require_staff(api_req *r, gl_err *err)
{
    int rv;
    if ((rv = api_require_user(r, err)) != GL_OK) return rv;
    if (!gl_acl_is_staff(&r->user))
        return gl_err_set(err, GL_EFORBIDDEN, "this route needs the moderator or admin role");
    return GL_OK;
}

int
api_read_body(api_req *r, bool required, gl_err *err)
{
    const char *cl = r->io.param(r->io.ctx, "CONTENT_LENGTH");
    char *end;
    long long len = cl && *cl ? strtoll(cl, &end, 10) : 0;
    int got = 0;

    if (cl && *cl && (*end != '\0' || len < 0))
        return gl_err_set(err, GL_EINVAL, "bad Content-Length");
    if ((size_t)len > r->app->max_body)
        return gl_err_set(err, GL_ETOOBIG, "request body larger than %zu bytes", r->app->max_body);
    if (len == 0) {
        if (required) return gl_err_set(err, GL_EINVAL, "a request body is required");
        return GL_OK;
    }
    if ((r->raw = malloc((size_t)len + 1)) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    while (got < len) {
        int n = r->io.read(r->io.ctx, r->raw + got, (int)(len - got));
        if (n <= 0) break;
        got += n;
    }
    if (got < len) return gl_err_set(err, GL_EINVAL, "request body shorter than Content-Length");
    r->raw[len] = '\0';
    r->raw_len = (size_t)len;
    return GL_OK;
}

/* A body's "data" (a message as published) is kept exactly as the client wrote it. */
static const char *const raw_members[] = {"data", NULL};

int
api_read_json_body(api_req *r, bool required, gl_err *err)
{
    gl_err perr;
    int rv;

    if ((rv = api_read_body(r, false, err)) != GL_OK) return rv;
    if (r->raw == NULL) {
        if (required) return gl_err_set(err, GL_EINVAL, "a JSON body is required");
        return GL_OK;
    }
    r->body = gl_json_parse(r->raw, r->raw_len, raw_members, &perr);
    if (r->body == NULL) return gl_err_set(err, GL_EINVAL, "request body: %s", perr.msg);
    if (!cJSON_IsObject(r->body))
        return gl_err_set(err, GL_EINVAL, "request body must be a JSON object");
    return GL_OK;
}

bool
api_content_type_is(api_req *r, const char *type)
{
    const char *ct = r->io.param(r->io.ctx, "CONTENT_TYPE");
    size_t n = strlen(type);
    return ct != NULL && strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

bool
api_form_value(const char *src, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *p = src; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = n - nlen - 1;
            if (vlen >= cap) vlen = cap - 1;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            if (!api_url_decode(out, true)) out[0] = '\0';
            return true;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

bool
api_query(api_req *r, const char *name, char *out, size_t cap)
{
    return api_form_value(r->query, name, out, cap);
}

gl_history_arg
api_query_arg(api_req *r, const char *name, char *buf, size_t cap)
{
    return gl_history_arg_text(api_query(r, name, buf, cap) ? buf : NULL);
}

int
api_channel_policy(api_req *r, const char *channel, gl_policy *pol, gl_override *ov,
                   gl_acl_facts *facts, gl_err *err)
{
    int rv;
    if ((rv = gl_db_read_begin(r->db, err)) != GL_OK) return rv;
    if ((rv = gl_db_get_override(r->db, channel, ov, err)) != GL_OK) goto out;
    if ((rv = gl_db_user_facts(r->db, channel, r->authed ? r->user.id : NULL, gl_time_now_ms(),
                               facts, err)) != GL_OK) {
        gl_override_free(ov);
        goto out;
    }
    gl_policy_resolve(r->app->cfg, channel, ov, pol);
out:
    gl_db_read_end(r->db);
    return rv;
}

/* A token, when present, must be valid: a bad one is refused even on optional-auth routes. */
static int
authenticate(api_req *r, gl_err *err)
{
    const char *tok;
    char token[GL_TOKEN_MAX + 1];
    size_t len;
    int rv, found = gl_jwt_bearer(r->io.param(r->io.ctx, "HTTP_AUTHORIZATION"), &tok, &len);

    if (found == 0) return GL_OK;
    if (found < 0) return gl_err_set(err, GL_EAUTH, "Authorization must be 'Bearer <token>'");
    if (len > GL_TOKEN_MAX) return gl_err_set(err, GL_EAUTH, "token is too long");
    memcpy(token, tok, len);
    token[len] = '\0';
    if ((rv = gl_jwt_verify_cached(r->jwt_cache, r->app->secret, token, (int64_t)time(NULL),
                                   &r->user, err)) != GL_OK)
        return rv;
    r->authed = true;
    return GL_OK;
}

/* CORS: a request from a browser page of another origin is answered only when that origin is
 * allowed (gl_config_origin_allowed), and then with Access-Control-Allow-Origin on every reply,
 * errors included, so that the page can read them. No Origin: not a browser, nothing to add. */
static int
check_origin(api_req *r, gl_err *err)
{
    const char *origin = r->io.param(r->io.ctx, "HTTP_ORIGIN");
    const char *host = r->io.param(r->io.ctx, "HTTP_HOST");
    char o_log[80], h_log[80];

    if (origin == NULL || *origin == '\0') return GL_OK;
    if (gl_config_origin_allowed(r->app->cfg, origin, host)) {
        /* Bearer tokens, not cookies: no credentials mode, so "*" may be said as "*". */
        r->cors_origin = r->app->cfg->any_origin ? "*" : origin;
        return GL_OK;
    }
    gl_log(GL_LOG_INFO, "api", "refused a request from origin %s (Host %s)",
           gl_log_clean(origin, o_log, sizeof(o_log)), gl_log_clean(host, h_log, sizeof(h_log)));
    return gl_err_set(err, GL_EFORBIDDEN,
                      "requests from this origin are not allowed (allowed_origins)");
}

/* OPTIONS on a route (a CORS preflight, or a plain question): 204, the route's methods. */
static void
reply_options(api_req *r, const char *methods)
{
    char hdr[512];
    int n = snprintf(hdr, sizeof(hdr), "Allow: %s, OPTIONS\r\n", methods);

    if (r->cors_origin != NULL && n > 0 && (size_t)n < sizeof(hdr))
        snprintf(hdr + n, sizeof(hdr) - (size_t)n,
                 "Access-Control-Allow-Methods: %s\r\n"
                 "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
                 "Access-Control-Max-Age: %d\r\n",
                 methods, CORS_MAX_AGE_SECS);
    write_head(r, 204, NULL, hdr);
}

/* Origin, route, path parameters and token: GL_OK with *fn to run, GL_EMETHOD after the OPTIONS
 * or 405 reply (it carries the Allow header), else an error for api_handle to reply. */
static int
prepare(api_req *r, api_handler *fn, gl_err *err)
{
    char allow[128], hdr[160];
    const char *channel;
    int rv;

    if ((rv = check_origin(r, err)) != GL_OK) return rv;
    rv = api_route(r, r->app->routes, r->app->n_routes, fn, &r->route, allow, sizeof(allow));
    if (rv == GL_ENOTFOUND) return gl_err_set(err, GL_ENOTFOUND, "no such route");
    if (rv == GL_EINVAL) return gl_err_set(err, GL_EINVAL, "bad percent-encoding in the path");
    if (rv == GL_EMETHOD && strcmp(r->method, "OPTIONS") == 0) {
        reply_options(r, allow);
        return GL_EMETHOD;
    }
    if (rv == GL_EMETHOD) {
        cJSON *e = gl_event_http_error(GL_EMETHOD, "method not allowed on this route");
        snprintf(hdr, sizeof(hdr), "Allow: %s, OPTIONS\r\n", allow);
        reply_with_headers(r, 405, e, hdr);
        return GL_EMETHOD;
    }
    if ((channel = api_param(r, "channel")) != NULL) {
        if ((rv = gl_chan_validate(channel, err)) != GL_OK) return rv;
        r->channel = channel;
    }
    return authenticate(r, err);
}

void
api_handle(api_req *r)
{
    api_handler fn = NULL;
    int64_t t0 = gl_time_mono_us();
    gl_err err;
    int rv;

    r->route = -1;
    r->method = r->io.param(r->io.ctx, "REQUEST_METHOD");
    r->query = r->io.param(r->io.ctx, "QUERY_STRING");
    if (r->method == NULL) r->method = "GET";
    if (r->query == NULL) r->query = "";
    gl_err_clear(&err);
    if ((rv = prepare(r, &fn, &err)) == GL_OK) rv = fn(r, &err);
    /* The one error reply: handlers and helpers return a code with its message. */
    if (rv != GL_OK && !r->replied) api_fail_err(r, &err);
    if (!r->replied) api_fail(r, GL_EINTERNAL, "no reply");
    api_metrics_request(r->app->metrics, r->route, r->status, gl_time_mono_us() - t0);
    cJSON_Delete(r->body);
    r->body = NULL;
    free(r->raw);
    r->raw = NULL;
    r->raw_len = 0;
}
