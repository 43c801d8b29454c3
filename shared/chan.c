/* Channel-name validation and glob matching: both see hostile input (WS commands, URLs),
 * so both are bounded and non-recursive. */
#include "chan.h"

#include <string.h>

static bool
chan_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || c == '@' || c == '=';
}

int
gl_chan_validate(const char *name, gl_err *err)
{
    size_t len;

    if (name == NULL || name[0] == '\0') return gl_err_set(err, GL_EINVAL, "channel name is empty");
    len = strnlen(name, GL_CHAN_MAX + 1);
    if (len > GL_CHAN_MAX)
        return gl_err_set(err, GL_EINVAL, "channel name longer than %d bytes", GL_CHAN_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!chan_char_ok(c))
            return gl_err_set(err, GL_EINVAL,
                              "channel name has a character outside [A-Za-z0-9_.:@=-] at byte %zu",
                              i);
        if (c == ':' && (i == 0 || name[i - 1] == ':' || i == len - 1))
            return gl_err_set(err, GL_EINVAL, "channel name has an empty ':' segment");
    }
    return GL_OK;
}

size_t
gl_chan_prefix(const char *name, char *out, size_t cap)
{
    const char *colon = strchr(name, ':');
    size_t n;

    if (cap == 0) return 0;
    out[0] = '\0';
    if (colon == NULL) return 0;
    n = (size_t)(colon - name);
    if (n + 1 > cap) return 0;
    memcpy(out, name, n);
    out[n] = '\0';
    return n;
}

bool
gl_chan_match(const char *p, const char *s)
{
    /* Classic greedy glob with one backtrack point: on mismatch after a '*', retry with
     * the star eating one more byte. Linear in practice, quadratic at worst, never recursive. */
    const char *star = NULL, *resume = NULL;

    while (*s != '\0') {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (star != NULL) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
