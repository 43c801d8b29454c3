/* Method + path -> handler, for /api/<service>/... Routing uses REQUEST_URI (raw in nginx, lighttpd
 * and Apache alike) and percent-decodes each segment itself, so "chat:x" and "chat%3Ax" name the
 * same channel and an encoded '/' stays inside its segment. */
#include "api.h"
#include "router.h"
#include "shared/chan.h"

#include <string.h>

#define PREFIX "/api/"

typedef struct route {
    const char *service; /* the segment after /api/ */
    const char *method;
    const char *pattern; /* '/'-separated; "*" matches one segment */
    void (*fn)(api_req *r);
} route;

static const route routes[] = {
    {"realtime", "GET", "channels", api_route_channels},
    {"realtime", "GET", "channels/*", api_route_channel_info},
    {"realtime", "GET", "channels/*/history", api_route_history},
    {"realtime", "GET", "channels/*/presence", api_route_presence},
    {"realtime", "POST", "channels/*/publish", api_route_publish},
    {"realtime", "POST", "channels/*/broadcast", api_route_broadcast},
    {"realtime", "DELETE", "channels/*/messages/*", api_route_delete_message},
    {"realtime", "POST", "channels/*/users/*/timeout", api_route_timeout},
    {"realtime", "POST", "channels/*/users/*/ban", api_route_ban},
    {"realtime", "DELETE", "channels/*/users/*/ban", api_route_unban},
    {"realtime", "PUT", "channels/*/settings", api_route_settings},
    {"realtime", "POST", "channels/*/access", api_route_access_add},
    {"realtime", "DELETE", "channels/*/access/*", api_route_access_remove},
    {"streaming", "POST", "keys", api_route_stream_key_create},
    {"streaming", "GET", "keys", api_route_stream_keys},
    {"streaming", "DELETE", "keys/*", api_route_stream_key_revoke},
    {"streaming", "POST", "auth", api_route_stream_auth},
    {"streaming", "POST", "webhook", api_route_stream_webhook},
    {"streaming", "GET", "streams", api_route_streams},
    {"streaming", "GET", "streams/*", api_route_stream},
};

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool
api_url_decode(char *s, bool plus_is_space)
{
    char *w = s;
    for (const char *p = s; *p; p++) {
        if (*p == '%') {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0))
                return false; /* malformed escape, or an embedded NUL */
            *w++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *w++ = plus_is_space && *p == '+' ? ' ' : *p;
        }
    }
    *w = '\0';
    return true;
}

static bool
matches(const route *rt, const api_req *r)
{
    const char *p = rt->pattern;
    for (int i = 0; i < r->nsegs; i++) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0) return false;
        if (!(n == 1 && *p == '*') && (strlen(r->segs[i]) != n || strncmp(p, r->segs[i], n) != 0))
            return false;
        if (slash == NULL) return i == r->nsegs - 1;
        p = slash + 1;
    }
    return false;
}

int
api_route(api_req *r, void (**fn)(api_req *), char *allow, size_t cap)
{
    const char *uri = r->io.param(r->io.ctx, "REQUEST_URI");
    size_t n;
    char *p;
    bool any = false;

    if (uri == NULL || strncmp(uri, PREFIX, strlen(PREFIX)) != 0) return GL_ENOTFOUND;
    uri += strlen(PREFIX);
    n = strcspn(uri, "/?#");
    if (n >= sizeof(r->service)) return GL_ENOTFOUND;
    memcpy(r->service, uri, n);
    r->service[n] = '\0';
    if (uri[n] != '/') return GL_ENOTFOUND;
    uri += n + 1;
    n = strcspn(uri, "?#");
    if (n >= sizeof(r->pathbuf)) return GL_ENOTFOUND;
    memcpy(r->pathbuf, uri, n);
    r->pathbuf[n] = '\0';
    if (n > 0 && r->pathbuf[n - 1] == '/') r->pathbuf[n - 1] = '\0';
    for (p = r->pathbuf, r->nsegs = 0; *p != '\0' || r->nsegs == 0;) {
        char *slash = strchr(p, '/');
        if (r->nsegs == API_MAX_SEGS) return GL_ENOTFOUND;
        r->segs[r->nsegs++] = p;
        if (slash == NULL) break;
        *slash = '\0';
        p = slash + 1;
    }
    for (int i = 0; i < r->nsegs; i++)
        if (!api_url_decode(r->segs[i], false)) return GL_EINVAL;
    allow[0] = '\0';
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(routes[i].service, r->service) != 0 || !matches(&routes[i], r)) continue;
        if (strcmp(routes[i].method, r->method) == 0) {
            *fn = routes[i].fn;
            return GL_OK;
        }
        if (strlen(allow) + strlen(routes[i].method) + 3 < cap) {
            if (any) strcat(allow, ", ");
            strcat(allow, routes[i].method);
        }
        any = true;
    }
    return any ? GL_EMETHOD : GL_ENOTFOUND;
}
