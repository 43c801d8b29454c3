/* Browser origins ("scheme://host[:port]", RFC 6454) as GoLive compares them: http or https,
 * lowercase, without the scheme's default port, never a path. Used by the allowed_origins list
 * in realtime.yaml and by both binaries on every request's Origin header. */
#ifndef GL_ORIGIN_H
#define GL_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#define GL_ORIGIN_MAX 256 /* "scheme://host[:port]": 255 bytes + NUL */

/* Normalise the len bytes at s into out (GL_ORIGIN_MAX bytes): scheme and host lowercased,
 * ":80" after http and ":443" after https dropped. Returns NULL when s is an origin, else what
 * is wrong with it, for a message ("no path ..."); out is then unspecified. */
const char *gl_origin_normalize(const char *s, size_t len, char *out);

/* Is host (a Host header: "name[:port]", any case) the host[:port] of norm, an origin from
 * gl_origin_normalize? A port in host that is the default of norm's scheme may be left out of
 * either. */
bool gl_origin_is_host(const char *norm, const char *host);

#endif
