/* Method + path -> handler. Routing uses REQUEST_URI (raw in nginx, lighttpd and Apache alike)
 * and percent-decodes each segment itself, so "chat:x" and "chat%3Ax" name the same channel
 * and an encoded '/' stays inside its segment. */
#include "api.h"
#include "router.h"
#include "shared/chan.h"

#include <string.h>

#define PREFIX "/api/realtime/"

typedef struct route {
    const char *method;
    const char *pattern; /* '/'-separated; "*" matches one segment */
    void (*fn)(api_req *r);
} route;

static const route routes[] = {
    {"GET", "channels", api_route_channels},
    {"GET", "channels/*", api_route_channel_info},
    {"GET", "channels/*/history", api_route_history},
    {"GET", "channels/*/presence", api_route_presence},
    {"POST", "channels/*/publish", api_route_publish},
    {"POST", "channels/*/broadcast", api_route_broadcast},
    {"DELETE", "channels/*/messages/*", api_route_delete_message},
    {"POST", "channels/*/users/*/timeout", api_route_timeout},
    {"POST", "channels/*/users/*/ban", api_route_ban},
    {"DELETE", "channels/*/users/*/ban", api_route_unban},
    {"PUT", "channels/*/settings", api_route_settings},
    {"POST", "channels/*/access", api_route_access_add},
    {"DELETE", "channels/*/access/*", api_route_access_remove},
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
    n = strcspn(uri + strlen(PREFIX), "?#");
    if (n >= sizeof(r->pathbuf)) return GL_ENOTFOUND;
    memcpy(r->pathbuf, uri + strlen(PREFIX), n);
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
        if (!matches(&routes[i], r)) continue;
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
