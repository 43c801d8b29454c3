/* Method + path -> handler, for /api/<service>/... Routing uses REQUEST_URI (raw in nginx, lighttpd
 * and Apache alike) and percent-decodes each segment itself, so "chat:x" and "chat%3Ax" name the
 * same channel and an encoded '/' stays inside its segment. The table comes from the caller
 * (main hands route_table.c's to the app), so this file calls nothing above it. */
#include "api.h"
#include "router.h"

#include <string.h>

#define PREFIX "/api/"

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

/* Does rt's pattern match r's segments? When capture, r's parameters are set from it. */
static bool
matches(const api_route_def *rt, api_req *r, bool capture)
{
    const char *p = rt->pattern;
    if (capture) r->nparams = 0;
    for (int i = 0; i < r->nsegs; i++) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        bool param = n >= 3 && p[0] == '{' && p[n - 1] == '}';
        if (n == 0) return false;
        if (!param && (strlen(r->segs[i]) != n || strncmp(p, r->segs[i], n) != 0)) return false;
        if (param && capture) {
            r->pnames[r->nparams] = p + 1;
            r->pname_len[r->nparams] = n - 2;
            r->pvals[r->nparams++] = r->segs[i];
        }
        if (slash == NULL) return i == r->nsegs - 1;
        p = slash + 1;
    }
    return false;
}

const char *
api_param(const api_req *r, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < r->nparams; i++)
        if (r->pname_len[i] == n && strncmp(r->pnames[i], name, n) == 0) return r->pvals[i];
    return NULL;
}

/* Split the path after /api/ into r->service and r->segs, decoded. */
static int
split_path(api_req *r)
{
    const char *uri = r->io.param(r->io.ctx, "REQUEST_URI");
    size_t n;
    char *p;

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
    return GL_OK;
}

int
api_route(api_req *r, const api_route_def *table, size_t n, api_handler *fn, int *index,
          char *allow, size_t cap)
{
    bool any = false;
    int rv;

    if ((rv = split_path(r)) != GL_OK) return rv;
    allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].service, r->service) != 0 || !matches(&table[i], r, false)) continue;
        if (strcmp(table[i].method, r->method) == 0) {
            matches(&table[i], r, true);
            *fn = table[i].fn;
            *index = (int)i;
            return GL_OK;
        }
        if (strlen(allow) + strlen(table[i].method) + 3 < cap) {
            if (any) strcat(allow, ", ");
            strcat(allow, table[i].method);
        }
        any = true;
    }
    return any ? GL_EMETHOD : GL_ENOTFOUND;
}
