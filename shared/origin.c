/* Origins: parse, normalise, compare with a Host header. What a browser sends is already in the
 * normal form (RFC 6454 serialisation); the lenient bits (case, a default port written out) are
 * for the people who write realtime.yaml. */
#include "origin.h"

#include <string.h>
#include <strings.h>

static bool
host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool
ipv6_char(char c)
{
    return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The port of an origin: 1 to 65535, decimal, no sign or leading zero. */
static bool
valid_port(const char *p, size_t n, long *out)
{
    long v = 0;

    if (n == 0 || n > 5 || p[0] == '0') return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return v <= 65535;
}

const char *
gl_origin_normalize(const char *s, size_t len, char *out)
{
    size_t scheme, i, host_end, n;
    long port = 0, dflt;

    if (len >= 8 && strncasecmp(s, "https://", 8) == 0) {
        scheme = 8;
        dflt = 443;
    } else if (len >= 7 && strncasecmp(s, "http://", 7) == 0) {
        scheme = 7;
        dflt = 80;
    } else {
        return "expected http://host[:port] or https://host[:port]";
    }
    if (len >= GL_ORIGIN_MAX) return "longer than 255 bytes";
    for (i = 0; i < len; i++)
        out[i] = lower(s[i]);
    i = scheme;
    if (i < len && out[i] == '[') {
        while (++i < len && ipv6_char(out[i])) {
        }
        if (i >= len || out[i] != ']' || i == scheme + 1)
            return "a bracketed IPv6 address must hold hex digits and ':' only";
        host_end = ++i;
    } else {
        while (i < len && host_char(out[i]))
            i++;
        host_end = i;
        if (host_end == scheme) return "the host is missing or holds other than [a-z0-9.-]";
    }
    if (i < len && out[i] == ':') {
        if (!valid_port(out + i + 1, len - i - 1, &port))
            return "the port must be a number from 1 to 65535 (and nothing after it)";
        i = len;
    }
    if (i < len) {
        if (out[i] == '/' || out[i] == '?' || out[i] == '#')
            return "only scheme://host[:port]: no path, query or trailing slash";
        if (out[i] == '@') return "only scheme://host[:port]: no user name";
        return "the host is missing or holds other than [a-z0-9.-]";
    }
    n = port == dflt ? host_end : len;
    out[n] = '\0';
    return NULL;
}

bool
gl_origin_is_host(const char *norm, const char *host)
{
    const char *auth = strstr(norm, "://");
    const char *dflt = strncmp(norm, "https:", 6) == 0 ? ":443" : ":80";
    size_t n, hn;

    if (auth == NULL || host == NULL) return false;
    auth += 3;
    n = strlen(auth);
    hn = strlen(host);
    if (hn == n) return strncasecmp(auth, host, n) == 0;
    // A Host that writes out the default port the origin leaves out.
    return hn == n + strlen(dflt) && strncasecmp(auth, host, n) == 0 && strcmp(host + n, dflt) == 0;
}
