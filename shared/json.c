/* A strict recursive-descent JSON reader that builds cJSON trees. It reads each byte once to
 * check it and, for what it builds, once more to decode; raw members are only checked. Nesting is
 * bounded (GL_JSON_DEPTH_MAX), so the recursion is too. */
#include "json.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct reader {
    const unsigned char *start, *p, *end;
    const char *const *raw;
    const char *key; /* the innermost key being read, for messages; NULL at the top */
    int depth, max_depth;
    gl_err *err;
    bool failed;
    bool lenient; /* let NUL and repeated keys through (gl_json_parse_lenient) */
} reader;

static bool
fail(reader *r, const char *what)
{
    if (!r->failed)
        gl_err_set(r->err, GL_EINVAL, "message is not valid JSON: %s at byte %zu", what,
                   (size_t)(r->p - r->start));
    r->failed = true;
    return false;
}

static void
skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int
hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A \u escape at p (at the backslash), with its low surrogate when it is a high one. Returns the
 * code point and sets *n to the bytes used, or -1 when malformed or a lone surrogate. */
static long
read_u_escape(const unsigned char *p, const unsigned char *end, size_t *n)
{
    int hi, lo;
    if (end - p < 6 || (hi = hex4(p + 2)) < 0) return -1;
    *n = 6;
    if (hi >= 0xdc00 && hi <= 0xdfff) return -1;
    if (hi < 0xd800 || hi > 0xdbff) return hi;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0 || lo < 0xdc00 ||
        lo > 0xdfff)
        return -1;
    *n = 12;
    return 0x10000 + (((long)hi - 0xd800) << 10) + (lo - 0xdc00);
}

/* Check the string at r->p (its opening quote) and step past it. *len gets its decoded length;
 * *nul whether it holds U+0000. */
static bool
check_string(reader *r, size_t *len, bool *nul)
{
    const unsigned char *p = r->p + 1;
    size_t out = 0;

    *nul = false;
    for (;;) {
        size_t n;
        if (p >= r->end) return fail(r, "unterminated string");
        if (*p == '"') break;
        if (*p < 0x20) {
            r->p = p;
            return fail(r, "control character in a string");
        }
        if (*p == '\\') {
            long cp;
            if (p + 1 >= r->end) return fail(r, "unterminated string");
            if (p[1] != 'u') {
                if (strchr("\"\\/bfnrt", p[1]) == NULL || p[1] == '\0') {
                    r->p = p;
                    return fail(r, "bad escape in a string");
                }
                p += 2;
                out++;
                continue;
            }
            if ((cp = read_u_escape(p, r->end, &n)) < 0) {
                r->p = p;
                return fail(r, "bad \\u escape or lone surrogate in a string");
            }
            if (cp == 0) *nul = true;
            out += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            p += n;
            continue;
        }
        if ((n = utf8_seq(p, (size_t)(r->end - p))) == 0) {
            r->p = p;
            return fail(r, "invalid UTF-8 in a string");
        }
        p += n;
        out += n;
    }
    r->p = p + 1;
    *len = out;
    return true;
}

static char *
put_utf8(char *o, long cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Decode the already checked string s (at its opening quote) into a new cJSON_malloc'd buffer of
 * len + 1 bytes. */
static char *
decode_string(const unsigned char *s, const unsigned char *end, size_t len)
{
    char *buf = cJSON_malloc(len + 1), *o = buf;
    const unsigned char *p = s + 1;

    if (buf == NULL) return NULL;
    while (*p != '"') {
        size_t n;
        if (*p != '\\') {
            *o++ = (char)*p++;
            continue;
        }
        switch (p[1]) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u':
            o = put_utf8(o, read_u_escape(p, end, &n));
            p += n;
            continue;
        default: /* " \ / */
            *o++ = (char)p[1];
        }
        p += 2;
    }
    *o = '\0';
    return buf;
}

/* A string value or key: checked, and decoded when out is not NULL. U+0000 is refused here:
 * in a raw member the string is only checked (out NULL), so it keeps its escape. */
static bool
read_string(reader *r, char **out)
{
    const unsigned char *s = r->p;
    size_t len;
    bool nul;

    if (!check_string(r, &len, &nul)) return false;
    if (out == NULL) return true;
    if (nul && !r->lenient) {
        if (!r->failed) {
            if (r->key != NULL)
                gl_err_set(r->err, GL_EINVAL, "%.64s must not contain NUL (\\u0000)", r->key);
            else
                gl_err_set(r->err, GL_EINVAL, "a string must not contain NUL (\\u0000)");
        }
        r->failed = true;
        return false;
    }
    if ((*out = decode_string(s, r->end, len)) == NULL) {
        gl_err_set(r->err, GL_ENOMEM, "out of memory");
        r->failed = true;
        return false;
    }
    return true;
}

static bool
digits(reader *r)
{
    const unsigned char *s = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++;
    return r->p > s;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
check_number(reader *r)
{
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p < r->end && *r->p == '0')
        r->p++;
    else if (!digits(r))
        return fail(r, "bad number");
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (!digits(r)) return fail(r, "bad number");
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (!digits(r)) return fail(r, "bad number");
    }
    if (r->p < r->end && *r->p >= '0' && *r->p <= '9') return fail(r, "bad number");
    return true;
}

static cJSON *
make_number(const unsigned char *s, size_t n)
{
    char small[64], *buf = n < sizeof(small) ? small : malloc(n + 1);
    cJSON *v;

    if (buf == NULL) return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    /* Out of a double's range reads as +-HUGE_VAL, which range checks then refuse. */
    v = cJSON_CreateNumber(strtod(buf, NULL));
    if (buf != small) free(buf);
    return v;
}

static bool
literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return fail(r, "bad literal");
    r->p += n;
    return true;
}

static bool read_value(reader *r, cJSON **out);

static bool
is_raw_key(const reader *r, const char *key)
{
    for (const char *const *k = r->raw; k != NULL && *k != NULL; k++)
        if (strcmp(*k, key) == 0) return true;
    return false;
}

/* The exact text of the value at r->p, checked, as a Raw node. */
static bool
read_raw(reader *r, cJSON **out)
{
    const unsigned char *s = r->p;
    char *text;

    if (!read_value(r, NULL)) return false;
    if ((*out = cJSON_CreateRaw("")) == NULL ||
        (text = cJSON_malloc((size_t)(r->p - s) + 1)) == NULL) {
        gl_err_set(r->err, GL_ENOMEM, "out of memory");
        r->failed = true;
        return false;
    }
    memcpy(text, s, (size_t)(r->p - s));
    text[r->p - s] = '\0';
    cJSON_free((*out)->valuestring);
    (*out)->valuestring = text;
    return true;
}

static int
cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Refuse a key that appears twice in obj (n members). */
static bool
check_unique_keys(reader *r, const cJSON *obj, size_t n)
{
    const char *small[16], **keys = n <= 16 ? small : malloc(n * sizeof(*keys));
    const char *dup = NULL;
    const cJSON *c;
    size_t i = 0;

    if (keys == NULL) {
        gl_err_set(r->err, GL_ENOMEM, "out of memory");
        r->failed = true;
        return false;
    }
    for (c = obj->child; c != NULL; c = c->next)
        keys[i++] = c->string;
    qsort(keys, n, sizeof(*keys), cmp_keys);
    for (i = 1; i < n && dup == NULL; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0) dup = keys[i];
    if (dup != NULL) {
        gl_err_set(r->err, GL_EINVAL, "duplicate key \"%.64s\"", dup);
        r->failed = true;
    }
    if (keys != small) free(keys);
    return dup == NULL;
}

static bool
read_object(reader *r, cJSON **out)
{
    const char *outer = r->key;
    size_t n = 0;

    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return true;
    }
    for (;;) {
        char *key = NULL;
        cJSON *v = NULL;
        bool ok;

        skip_ws(r);
        if (r->p >= r->end || *r->p != '"') return fail(r, "expected a key");
        if (!read_string(r, out ? &key : NULL)) return false;
        skip_ws(r);
        if (r->p >= r->end || *r->p != ':') {
            cJSON_free(key);
            return fail(r, "expected ':'");
        }
        r->p++;
        skip_ws(r);
        r->key = key;
        ok = out != NULL && is_raw_key(r, key) ? read_raw(r, &v) : read_value(r, out ? &v : NULL);
        r->key = outer;
        if (ok && out != NULL && !cJSON_AddItemToObject(*out, key, v)) {
            gl_err_set(r->err, GL_ENOMEM, "out of memory");
            ok = !(r->failed = true);
        }
        if (ok && out != NULL)
            n++;
        else
            cJSON_Delete(v);
        cJSON_free(key);
        if (!ok) return false;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            break;
        }
        return fail(r, "expected ',' or '}'");
    }
    return out == NULL || n < 2 || r->lenient || check_unique_keys(r, *out, n);
}

static bool
read_array(reader *r, cJSON **out)
{
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return true;
    }
    for (;;) {
        cJSON *v = NULL;
        skip_ws(r);
        if (!read_value(r, out ? &v : NULL)) {
            cJSON_Delete(v);
            return false;
        }
        if (out != NULL) cJSON_AddItemToArray(*out, v);
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return true;
        }
        return fail(r, "expected ',' or ']'");
    }
}

/* Read one value at r->p; build it into *out unless out is NULL (only check it). On failure
 * *out holds what was built so far, for the caller to delete. */
static bool
read_value(reader *r, cJSON **out)
{
    const unsigned char *s = r->p;
    char *str;
    bool ok;

    if (r->p >= r->end) return fail(r, "unexpected end");
    switch (*r->p) {
    case '{':
    case '[':
        if (++r->depth > r->max_depth) {
            if (!r->failed)
                gl_err_set(r->err, GL_EINVAL, "message is nested deeper than %d levels",
                           r->max_depth);
            r->failed = true;
            return false;
        }
        if (out != NULL &&
            (*out = *r->p == '{' ? cJSON_CreateObject() : cJSON_CreateArray()) == NULL)
            break;
        ok = *r->p == '{' ? read_object(r, out) : read_array(r, out);
        r->depth--;
        return ok;
    case '"':
        if (!read_string(r, out ? &str : NULL)) return false;
        if (out == NULL) return true;
        if ((*out = cJSON_CreateString("")) == NULL) {
            cJSON_free(str);
            break;
        }
        cJSON_free((*out)->valuestring);
        (*out)->valuestring = str;
        return true;
    case 't':
        if (!literal(r, "true")) return false;
        if (out != NULL && (*out = cJSON_CreateTrue()) == NULL) break;
        return true;
    case 'f':
        if (!literal(r, "false")) return false;
        if (out != NULL && (*out = cJSON_CreateFalse()) == NULL) break;
        return true;
    case 'n':
        if (!literal(r, "null")) return false;
        if (out != NULL && (*out = cJSON_CreateNull()) == NULL) break;
        return true;
    default:
        if (*r->p != '-' && (*r->p < '0' || *r->p > '9')) return fail(r, "unexpected character");
        if (!check_number(r)) return false;
        if (out != NULL && (*out = make_number(s, (size_t)(r->p - s))) == NULL) break;
        return true;
    }
    gl_err_set(r->err, GL_ENOMEM, "out of memory");
    r->failed = true;
    return false;
}

enum { STRICT, LENIENT, WHOLE_RAW };

static cJSON *
parse(const char *buf, size_t len, const char *const *raw, int max_depth, int mode, gl_err *err)
{
    reader r = {(const unsigned char *)buf,
                (const unsigned char *)buf,
                (const unsigned char *)buf + len,
                raw,
                NULL,
                0,
                max_depth,
                err,
                false,
                mode == LENIENT};
    bool whole_raw = mode == WHOLE_RAW;
    cJSON *v = NULL;

    skip_ws(&r);
    if (r.p >= r.end) {
        gl_err_set(err, GL_EINVAL, "message is empty");
        return NULL;
    }
    if (!(whole_raw ? read_raw(&r, &v) : read_value(&r, &v))) {
        cJSON_Delete(v);
        return NULL;
    }
    skip_ws(&r);
    if (r.p != r.end) {
        cJSON_Delete(v);
        gl_err_set(err, GL_EINVAL, "message has bytes after the JSON value");
        return NULL;
    }
    return v;
}

cJSON *
gl_json_parse(const char *buf, size_t len, const char *const *raw, gl_err *err)
{
    return parse(buf, len, raw, GL_JSON_DEPTH_MAX, STRICT, err);
}

cJSON *
gl_json_parse_lenient(const char *buf, size_t len, const char *const *raw)
{
    return parse(buf, len, raw, GL_JSON_DEPTH_MAX, LENIENT, NULL);
}

cJSON *
gl_json_parse_depth(const char *buf, size_t len, const char *const *raw, int max_depth, gl_err *err)
{
    return parse(buf, len, raw, max_depth, STRICT, err);
}

cJSON *
gl_json_parse_raw(const char *buf, size_t len, gl_err *err)
{
    return parse(buf, len, NULL, GL_JSON_DEPTH_MAX, WHOLE_RAW, err);
}

const char *
gl_json_raw(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsRaw(v) ? v->valuestring : NULL;
}

bool
gl_json_raw_is_object(const char *raw)
{
    return raw != NULL && raw[0] == '{';
}

cJSON *
gl_json_add_int(cJSON *obj, const char *name, int64_t v)
{
    cJSON *n = gl_json_int(v);

    if (n == NULL || !cJSON_AddItemToObject(obj, name, n)) {
        cJSON_Delete(n);
        return NULL;
    }
    return n;
}

cJSON *
gl_json_int(int64_t v)
{
    char text[24];

    snprintf(text, sizeof(text), "%" PRId64, v);
    return cJSON_CreateRaw(text);
}

cJSON *
gl_json_strings(const char *slots, size_t elem, size_t n)
{
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; arr != NULL && i < n; i++) {
        cJSON *s = cJSON_CreateString(slots + i * elem);
        if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}
