/* Stream names and stream keys (stream.h). */
#include "stream.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int
gl_stream_name_check(const char *name, gl_err *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > GL_STREAM_NAME_MAX)
        return gl_err_set(err, GL_EINVAL, "stream name must be 1 to %d characters",
                          GL_STREAM_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return gl_err_set(err, GL_EINVAL,
                              "stream name may hold only a-z, 0-9, '_' and '-' (it is a URL path)");
    }
    if (strncmp(name, GL_STREAM_KEY_PREFIX, strlen(GL_STREAM_KEY_PREFIX)) == 0)
        return gl_err_set(err, GL_EINVAL, "stream name must not start with '%s' (keys do)",
                          GL_STREAM_KEY_PREFIX);
    return GL_OK;
}

void
gl_stream_channel(const char *name, char out[GL_STREAM_CHANNEL_MAX])
{
    snprintf(out, GL_STREAM_CHANNEL_MAX, "%s%s", GL_STREAM_CHANNEL_PREFIX, name);
}

const char *
gl_stream_of_channel(const char *channel)
{
    size_t n = strlen(GL_STREAM_CHANNEL_PREFIX);
    if (strncmp(channel, GL_STREAM_CHANNEL_PREFIX, n) != 0) return NULL;
    return gl_stream_name_check(channel + n, NULL) == GL_OK ? channel + n : NULL;
}

int
gl_stream_key_new(char out[GL_STREAM_KEY_LEN + 1], gl_err *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[GL_STREAM_KEY_RANDOM];
    size_t got = 0;

    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            gl_log(GL_LOG_ERROR, "stream", "getrandom: %s", strerror(errno));
            return gl_err_set(err, GL_EINTERNAL, "no randomness available for a stream key");
        }
        got += (size_t)n;
    }
    memcpy(out, GL_STREAM_KEY_PREFIX, strlen(GL_STREAM_KEY_PREFIX));
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[3 + 2 * i] = hex[raw[i] >> 4];
        out[3 + 2 * i + 1] = hex[raw[i] & 15];
    }
    out[GL_STREAM_KEY_LEN] = '\0';
    explicit_bzero(raw, sizeof(raw));
    return GL_OK;
}

bool
gl_stream_key_shape(const char *s)
{
    size_t p = strlen(GL_STREAM_KEY_PREFIX);
    if (strlen(s) != GL_STREAM_KEY_LEN || strncmp(s, GL_STREAM_KEY_PREFIX, p) != 0) return false;
    for (size_t i = p; i < GL_STREAM_KEY_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

void
gl_stream_key_hash(const char *key, char out[GL_SHA256_HEX])
{
    gl_sha256_hex(key, out);
}
