/* Strict JSON parsing: UTF-8 first, then cJSON, then nothing but whitespace after the value. */
#include "json.h"

static size_t
utf8_seq(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80,
                 hi = c == 0xed ? 0x9f : 0xbf; /* no overlong/surrogate */
        return left >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf; /* <= U+10FFFF */
        return left >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
                       (p[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

bool
gl_utf8_valid(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

cJSON *
gl_json_parse(const char *buf, size_t len, gl_err *err)
{
    const char *end = NULL;
    cJSON *v;

    if (!gl_utf8_valid(buf, len)) {
        gl_err_set(err, GL_EINVAL, "message is not valid UTF-8");
        return NULL;
    }
    v = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (v == NULL) {
        gl_err_set(err, GL_EINVAL, "message is not valid JSON");
        return NULL;
    }
    while (end < buf + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != buf + len) {
        cJSON_Delete(v);
        gl_err_set(err, GL_EINVAL, "message has bytes after the JSON value");
        return NULL;
    }
    return v;
}
