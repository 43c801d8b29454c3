/* realtime.yaml -> gl_config, read with libyaml's event API so that hostile input is refused at
 * the first event that does not fit the format: no anchors, aliases or tags, nothing nested deeper
 * than the format, bounded list sizes. Every message reads "name:line: path: problem".
 * On any error everything built so far is freed and the caller's *out is left alone. */
#include "config.h"
#include "chan.h"
#include "origin.h"
#include "role.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_MAX_BYTES (4u << 20)
#define MAX_NAMESPACES 10000
#define MAX_CHANNELS 10000
#define MAX_PROXIES 1000
#define MAX_LIST 10000
#define USER_MAX 128
#define RPC_TIMEOUT_MAX_MS 60000
#define PATH_MAX_LEN 96

/* A channel rule's namespace, resolved once every namespace is known (order does not matter). */
typedef struct ns_ref {
    size_t rule;
    size_t line;
    char name[GL_NAME_MAX];
} ns_ref;

typedef struct ctx {
    yaml_parser_t yp;
    yaml_event_t ev; /* the current event, valid when have_ev */
    bool have_ev;
    const char *name;
    const char *text;
    size_t len;
    gl_err *err;
    gl_config *cfg;
    size_t cap_ns, cap_ch, cap_rpc, n_refs, cap_refs;
    ns_ref *refs;
} ctx;

typedef bool (*char_ok_fn)(unsigned char c);

/* Checks (and may rewrite) entry n of a list read by read_list; entries are elem bytes apart. */
typedef int (*entry_check_fn)(ctx *c, const char *path, char *buf, size_t n, size_t elem);

static const char *const top_keys[] = {"namespaces",      "channels",    "rpc_proxies",
                                       "allowed_origins", "rate_limits", "blocked_terms"};
static const char *const ns_keys[] = {"name",           "max_clients", "allow_publish",
                                      "join_leave_max", "rate_limits", "chat_modes"};
static const char *const limits_keys[] = {"publish",     "commands",         "flood_close_after",
                                          "connections", "client_ip_header", "anonymous_per_ip"};
static const char *const rate_keys[] = {"burst", "per_second"};
static const char *const ch_keys[] = {"pattern",       "namespace",   "private",   "allowed_roles",
                                      "allowed_users", "max_history", "chat_modes"};
static const char *const modes_keys[] = {"slow_mode",         "members_only",
                                         "unique_chat",       "max_message_length",
                                         "max_message_bytes", "blocked_terms_action"};
static const char *const rpc_keys[] = {"method", "url", "timeout_ms"};
#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((__format__(__printf__, 4, 0))) static int
vfail(ctx *c, size_t line, const char *path, const char *fmt, va_list ap)
{
    char what[GL_ERR_MSG_MAX];

    vsnprintf(what, sizeof(what), fmt, ap);
    return gl_err_set(c->err, GL_EINVAL, "%s:%zu: %s: %s", c->name, line, path, what);
}

__attribute__((__format__(__printf__, 4, 5))) static int
fail_at(ctx *c, size_t line, const char *path, const char *fmt, ...)
{
    va_list ap;
    int rv;

    va_start(ap, fmt);
    rv = vfail(c, line, path, fmt, ap);
    va_end(ap);
    return rv;
}

/* The same at the current event's line. */
__attribute__((__format__(__printf__, 3, 4))) static int
fail(ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    int rv;

    va_start(ap, fmt);
    rv = vfail(c, c->ev.start_mark.line + 1, path, fmt, ap);
    va_end(ap);
    return rv;
}

static int
nomem(ctx *c)
{
    return gl_err_set(c->err, GL_ENOMEM, "%s: out of memory", c->name);
}

static int
syntax_error(ctx *c)
{
    const yaml_parser_t *yp = &c->yp;
    const char *problem = yp->problem != NULL ? yp->problem : "unknown problem";
    size_t line = yp->problem_mark.line + 1, col = yp->problem_mark.column + 1;

    if (yp->error == YAML_MEMORY_ERROR) return nomem(c);
    if (yp->error == YAML_READER_ERROR) {
        // Reader errors (bad UTF-8, control bytes) carry a byte offset, not a mark.
        line = 1;
        col = 1;
        for (size_t i = 0; i < yp->problem_offset && i < c->len; i++, col++) {
            if (c->text[i] == '\n') {
                line++;
                col = 0;
            }
        }
    }
    if (yp->context != NULL)
        return gl_err_set(c->err, GL_EINVAL, "%s:%zu:%zu: YAML syntax error: %s (%s)", c->name,
                          line, col, problem, yp->context);
    return gl_err_set(c->err, GL_EINVAL, "%s:%zu:%zu: YAML syntax error: %s", c->name, line, col,
                      problem);
}

/* Move to the next event; refuses anchors, aliases and explicit tags wherever they appear. */
static int
next(ctx *c, const char *path)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;

    if (c->have_ev) yaml_event_delete(&c->ev);
    c->have_ev = false;
    if (!yaml_parser_parse(&c->yp, &c->ev)) return syntax_error(c);
    c->have_ev = true;
    if (c->ev.type == YAML_SCALAR_EVENT) {
        anchor = c->ev.data.scalar.anchor;
        tag = c->ev.data.scalar.tag;
    } else if (c->ev.type == YAML_SEQUENCE_START_EVENT) {
        anchor = c->ev.data.sequence_start.anchor;
        tag = c->ev.data.sequence_start.tag;
    } else if (c->ev.type == YAML_MAPPING_START_EVENT) {
        anchor = c->ev.data.mapping_start.anchor;
        tag = c->ev.data.mapping_start.tag;
    }
    if (c->ev.type == YAML_ALIAS_EVENT || anchor != NULL)
        return fail(c, path, "anchors and aliases are not supported");
    if (tag != NULL) return fail(c, path, "tags are not supported");
    return GL_OK;
}

static bool
is_scalar(const ctx *c, const char *s)
{
    return c->ev.type == YAML_SCALAR_EVENT && c->ev.data.scalar.length == strlen(s) &&
           memcmp(c->ev.data.scalar.value, s, c->ev.data.scalar.length) == 0;
}

static bool
is_null(const ctx *c)
{
    return c->ev.type == YAML_SCALAR_EVENT && c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (is_scalar(c, "") || is_scalar(c, "~") || is_scalar(c, "null"));
}

/* The current scalar for a message, cut at 40 bytes with control bytes replaced: it goes to a
 * log line. */
static const char *
scalar_text(const ctx *c, char *buf, size_t cap)
{
    size_t n = 0, len = c->ev.data.scalar.length;

    for (size_t i = 0; i < len && i < 40 && n + 5 < cap; i++) {
        unsigned char ch = c->ev.data.scalar.value[i];
        buf[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    snprintf(buf + n, cap - n, "%s", len > 40 ? "..." : "");
    return buf;
}

/* The current event for a message: a mapping, a sequence, "text" or the quoted string "text". */
static const char *
describe(const ctx *c, char *buf, size_t cap)
{
    char text[48];

    if (c->ev.type == YAML_MAPPING_START_EVENT) return "a mapping";
    if (c->ev.type == YAML_SEQUENCE_START_EVENT) return "a sequence";
    if (c->ev.type != YAML_SCALAR_EVENT) return "nothing";
    snprintf(buf, cap, "%s\"%s\"",
             c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? "" : "the quoted string ",
             scalar_text(c, text, sizeof(text)));
    return buf;
}

/* At a mapping's next event: GL_OK with *k = -1 at its end, else checks the key (a known,
 * unseen scalar), writes "path.key" to vpath and moves to the value. */
static int
next_key(ctx *c, const char *path, const char *const *keys, size_t nkeys, unsigned *seen, int *k,
         char *vpath)
{
    char got[80];
    int rv;

    *k = -1;
    if ((rv = next(c, path)) != GL_OK || c->ev.type == YAML_MAPPING_END_EVENT) return rv;
    if (c->ev.type != YAML_SCALAR_EVENT)
        return fail(c, path, "expected a key, got %s", describe(c, got, sizeof(got)));
    for (size_t i = 0; i < nkeys; i++) {
        if (is_scalar(c, keys[i])) {
            if (*seen & (1u << i)) return fail(c, path, "duplicate key '%s'", keys[i]);
            *seen |= 1u << i;
            *k = (int)i;
            if (strcmp(path, "top level") == 0)
                snprintf(vpath, PATH_MAX_LEN, "%s", keys[i]);
            else
                snprintf(vpath, PATH_MAX_LEN, "%s.%s", path, keys[i]);
            return next(c, vpath);
        }
    }
    return fail(c, path, "unknown key '%s'", scalar_text(c, got, sizeof(got)));
}

static bool
ns_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool
method_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static bool
pattern_char(unsigned char c)
{
    return method_char(c) || c == ':' || c == '@' || c == '=' || c == '*' || c == '?';
}

static bool
text_char(unsigned char c)
{
    return c >= 0x20 && c != 0x7f;
}

static bool
url_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* A scalar of 1..max bytes, each passing ok, copied NUL-terminated to out (max + 1 bytes). */
static int
read_token(ctx *c, const char *path, size_t max, char_ok_fn ok, const char *chars, char *out)
{
    size_t len = c->ev.data.scalar.length;
    char got[80];

    if (c->ev.type != YAML_SCALAR_EVENT || len == 0 || len > max) goto bad;
    for (size_t i = 0; i < len; i++)
        if (!ok(c->ev.data.scalar.value[i])) goto bad;
    memcpy(out, c->ev.data.scalar.value, len);
    out[len] = '\0';
    return GL_OK;
bad:
    return fail(c, path, "expected 1 to %zu bytes of %s, got %s", max, chars,
                describe(c, got, sizeof(got)));
}

/* A plain decimal integer in min..max: no sign, no leading zeros, no quotes. */
static int
read_int(ctx *c, const char *path, int min, int max, int *out)
{
    const unsigned char *s = c->ev.data.scalar.value;
    size_t len = c->ev.data.scalar.length, i = 0;
    long long v = 0;
    char got[80];

    if (c->ev.type == YAML_SCALAR_EVENT && c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        len > 0 && len <= 10 && (s[0] != '0' || len == 1)) {
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            v = v * 10 + (s[i] - '0');
        if (i == len && v >= min && v <= max) {
            *out = (int)v;
            return GL_OK;
        }
    }
    return fail(c, path, "expected an integer from %d to %d, got %s", min, max,
                describe(c, got, sizeof(got)));
}

static int
read_bool(ctx *c, const char *path, bool *out)
{
    char got[80];

    if (c->ev.type == YAML_SCALAR_EVENT && c->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (is_scalar(c, "true") || is_scalar(c, "True") || is_scalar(c, "TRUE")) {
            *out = true;
            return GL_OK;
        }
        if (is_scalar(c, "false") || is_scalar(c, "False") || is_scalar(c, "FALSE")) {
            *out = false;
            return GL_OK;
        }
    }
    return fail(c, path, "expected true or false, got %s", describe(c, got, sizeof(got)));
}

/* Room for one more of n elements of size elem: arr itself, a larger copy, or NULL (arr kept). */
static void *
grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    size_t ncap = *cap == 0 ? 8 : *cap * 2;
    void *p;

    if (n < *cap) return arr;
    if ((p = realloc(arr, ncap * elem)) == NULL) return NULL;
    *cap = ncap;
    return p;
}

/* A sequence (or null) of strings of 1..elem-1 bytes, into a new array of elem-byte slots, each
 * passed to check when not NULL. */
static int
read_list(ctx *c, const char *path, size_t elem, entry_check_fn check, char **out, size_t *n_out)
{
    char ipath[PATH_MAX_LEN], got[80], *buf = NULL, *p;
    size_t n = 0, cap = 0;
    int rv;

    if (is_null(c)) return GL_OK;
    if (c->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail(c, path, "expected a sequence of strings, got %s",
                    describe(c, got, sizeof(got)));
    for (;;) {
        snprintf(ipath, sizeof(ipath), "%s[%zu]", path, n);
        if ((rv = next(c, ipath)) != GL_OK) goto out_free_buf;
        if (c->ev.type == YAML_SEQUENCE_END_EVENT) break;
        if (n == MAX_LIST) {
            rv = fail(c, ipath, "more than %d entries", MAX_LIST);
            goto out_free_buf;
        }
        if ((p = grow(buf, &cap, n, elem)) == NULL) {
            rv = nomem(c);
            goto out_free_buf;
        }
        buf = p;
        if ((rv = read_token(c, ipath, elem - 1, text_char, "text", buf + n * elem)) != GL_OK ||
            (check != NULL && (rv = check(c, ipath, buf, n, elem)) != GL_OK))
            goto out_free_buf;
        n++;
    }
    *out = buf;
    *n_out = n;
    return GL_OK;
out_free_buf:
    free(buf);
    return rv;
}

/* An allowed_roles entry must be a name a token's role can have, or it never matches. */
static int
check_role(ctx *c, const char *path, char *buf, size_t n, size_t elem)
{
    const char *role = buf + n * elem;
    if (gl_role_name_ok(role)) return GL_OK;
    return fail(c, path,
                "role '%.64s' can never match a token's role: role names are 1 to %d bytes of %s",
                role, GL_ROLE_MAX - 1, GL_ROLE_CHARS);
}

/* A plain decimal number in (0, max]: digits, optionally a point and digits (0.5, 2, 100). */
static int
read_rate(ctx *c, const char *path, float max, float *out)
{
    const unsigned char *s = c->ev.data.scalar.value;
    size_t len = c->ev.data.scalar.length, i = 0, digits = 0;
    char buf[24], got[80];
    double v;

    if (c->ev.type != YAML_SCALAR_EVENT || c->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        len == 0 || len >= sizeof(buf))
        goto bad;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (i != len || digits == 0) goto bad;
    memcpy(buf, s, len);
    buf[len] = '\0';
    v = strtod(buf, NULL);
    if (!(v > 0 && v <= max)) goto bad;
    *out = (float)v;
    return GL_OK;
bad:
    return fail(c, path, "expected a number above 0 and at most %g, got %s", (double)max,
                describe(c, got, sizeof(got)));
}

/* {burst: N, per_second: X}; burst 0 turns the limit off (per_second is then not needed). */
static int
parse_rate(ctx *c, const char *path, gl_rate *out)
{
    size_t line = c->ev.start_mark.line + 1;
    char vpath[PATH_MAX_LEN], got[80];
    unsigned seen = 0;
    int rv, k, burst = 0;
    float per_second = 0;

    if (c->ev.type != YAML_MAPPING_START_EVENT)
        return fail(c, path, "expected a mapping {burst, per_second}, got %s",
                    describe(c, got, sizeof(got)));
    while ((rv = next_key(c, path, rate_keys, NKEYS(rate_keys), &seen, &k, vpath)) == GL_OK &&
           k >= 0) {
        rv = k == 0 ? read_int(c, vpath, 0, 1000000, &burst)
                    : read_rate(c, vpath, 1000000.0f, &per_second);
        if (rv != GL_OK) return rv;
    }
    if (rv != GL_OK) return rv;
    if (!(seen & 1u)) return fail_at(c, line, path, "missing key 'burst'");
    if (burst > 0 && !(seen & 2u)) return fail_at(c, line, path, "missing key 'per_second'");
    *out = (gl_rate){(uint32_t)burst, burst > 0 ? per_second : 0};
    return GL_OK;
}

/* rate_limits: publish (also in a namespace), and at the top level commands,
 * flood_close_after, connections, client_ip_header and anonymous_per_ip. */
static int
parse_limits(ctx *c, const char *path, gl_rate *publish, bool top)
{
    char vpath[PATH_MAX_LEN], got[80];
    unsigned seen = 0;
    int rv, k;

    if (c->ev.type != YAML_MAPPING_START_EVENT)
        return fail(c, path, "expected a mapping, got %s", describe(c, got, sizeof(got)));
    while ((rv = next_key(c, path, limits_keys, top ? NKEYS(limits_keys) : 1, &seen, &k, vpath)) ==
               GL_OK &&
           k >= 0) {
        if (k == 0)
            rv = parse_rate(c, vpath, publish);
        else if (k == 1)
            rv = parse_rate(c, vpath, &c->cfg->command_rate);
        else if (k == 2)
            rv = read_int(c, vpath, 0, 1000000, &c->cfg->flood_close_after);
        else if (k == 3)
            rv = parse_rate(c, vpath, &c->cfg->connection_rate);
        else if (k == 5)
            rv = read_int(c, vpath, 0, 1000000, &c->cfg->anonymous_per_ip);
        else if (is_scalar(c, "X-Forwarded-For") || is_scalar(c, "x-forwarded-for"))
            c->cfg->trust_forwarded_for = true;
        else
            rv = fail(c, vpath, "expected X-Forwarded-For (the one header pushd reads), got %s",
                      describe(c, got, sizeof(got)));
        if (rv != GL_OK) return rv;
    }
    return rv;
}

/* A chat_modes mapping (namespace or channel rule) into the layer m; keys it omits stay unset. */
static int
parse_modes(ctx *c, const char *path, gl_modes *m)
{
    char vpath[PATH_MAX_LEN], got[80];
    unsigned seen = 0;
    bool b;
    int rv, k;

    if (c->ev.type != YAML_MAPPING_START_EVENT)
        return fail(c, path, "expected a mapping, got %s", describe(c, got, sizeof(got)));
    while ((rv = next_key(c, path, modes_keys, NKEYS(modes_keys), &seen, &k, vpath)) == GL_OK &&
           k >= 0) {
        if (k == 0) {
            rv = read_int(c, vpath, 0, GL_SLOW_MODE_MAX, &m->slow_mode);
        } else if (k == 1 || k == 2) {
            if ((rv = read_bool(c, vpath, &b)) == GL_OK)
                *(k == 1 ? &m->members_only : &m->unique_chat) = b;
        } else if (k == 3) {
            rv = read_int(c, vpath, 0, GL_LENGTH_LIMIT, &m->max_length);
        } else if (k == 4) {
            rv = read_int(c, vpath, 0, GL_LENGTH_LIMIT, &m->max_bytes);
        } else if (is_scalar(c, "refuse") || is_scalar(c, "hold")) {
            m->hold_blocked = is_scalar(c, "hold");
        } else {
            rv = fail(c, vpath, "expected refuse or hold, got %s", describe(c, got, sizeof(got)));
        }
        if (rv != GL_OK) return rv;
    }
    return rv;
}

/* A blocked_terms entry: a term gl_term_problem accepts. */
static int
check_term(ctx *c, const char *path, char *buf, size_t n, size_t elem)
{
    const char *problem = gl_term_problem(buf + n * elem);
    return problem == NULL ? GL_OK : fail(c, path, "%s", problem);
}

static int
parse_blocked_terms(ctx *c, const char *path)
{
    char *list = NULL;
    int rv = read_list(c, path, GL_TERM_MAX, check_term, &list, &c->cfg->n_blocked_terms);

    if (rv == GL_OK && c->cfg->n_blocked_terms > GL_TERMS_MAX) {
        free(list);
        return fail(c, path, "more than %d blocked terms", GL_TERMS_MAX);
    }
    c->cfg->blocked_terms = (gl_term *)(void *)list;
    return rv;
}

static int
parse_namespace(ctx *c, const char *path)
{
    gl_config *cfg = c->cfg;
    size_t line = c->ev.start_mark.line + 1;
    char vpath[PATH_MAX_LEN];
    unsigned seen = 0;
    gl_namespace *ns;
    int rv, k;

    if ((ns = grow(cfg->namespaces, &c->cap_ns, cfg->n_namespaces, sizeof(*ns))) == NULL)
        return nomem(c);
    cfg->namespaces = ns;
    ns = &cfg->namespaces[cfg->n_namespaces++];
    memset(ns, 0, sizeof(*ns));
    ns->allow_publish = true;
    ns->join_leave_max = GL_JOIN_LEAVE_DEFAULT;
    ns->publish_rate.burst = UINT32_MAX; /* not set: the top level's (gl_config_publish_rate) */
    ns->modes = GL_MODES_UNSET;
    while ((rv = next_key(c, path, ns_keys, NKEYS(ns_keys), &seen, &k, vpath)) == GL_OK && k >= 0) {
        if (k == 0) {
            rv = read_token(c, vpath, GL_NAME_MAX - 1, ns_char, "[a-z0-9_-]", ns->name);
            for (size_t i = 0; rv == GL_OK && i + 1 < cfg->n_namespaces; i++)
                if (strcmp(cfg->namespaces[i].name, ns->name) == 0)
                    rv = fail(c, vpath, "duplicate namespace '%s'", ns->name);
        } else if (k == 1) {
            rv = read_int(c, vpath, 0, INT_MAX, &ns->max_clients);
        } else if (k == 2) {
            rv = read_bool(c, vpath, &ns->allow_publish);
        } else if (k == 3) {
            rv = read_int(c, vpath, 0, INT_MAX, &ns->join_leave_max);
        } else if (k == 4) {
            rv = parse_limits(c, vpath, &ns->publish_rate, false);
        } else {
            rv = parse_modes(c, vpath, &ns->modes);
        }
        if (rv != GL_OK) return rv;
    }
    if (rv == GL_OK && !(seen & 1u)) rv = fail_at(c, line, path, "missing key 'name'");
    return rv;
}

static int
read_ns_ref(ctx *c, const char *path)
{
    ns_ref *r;

    if ((r = grow(c->refs, &c->cap_refs, c->n_refs, sizeof(*r))) == NULL) return nomem(c);
    c->refs = r;
    r = &c->refs[c->n_refs++];
    r->rule = c->cfg->n_channels - 1;
    r->line = c->ev.start_mark.line + 1;
    return read_token(c, path, GL_NAME_MAX - 1, ns_char, "[a-z0-9_-]", r->name);
}

static int
parse_channel(ctx *c, const char *path)
{
    gl_config *cfg = c->cfg;
    char vpath[PATH_MAX_LEN], *list = NULL;
    unsigned seen = 0;
    gl_chan_rule *r;
    int rv, k;

    if ((r = grow(cfg->channels, &c->cap_ch, cfg->n_channels, sizeof(*r))) == NULL) return nomem(c);
    cfg->channels = r;
    r = &cfg->channels[cfg->n_channels++];
    memset(r, 0, sizeof(*r));
    r->modes = GL_MODES_UNSET;
    r->line = (int)c->ev.start_mark.line + 1;
    while ((rv = next_key(c, path, ch_keys, NKEYS(ch_keys), &seen, &k, vpath)) == GL_OK && k >= 0) {
        switch (k) {
        case 0:
            rv = read_token(c, vpath, GL_PATTERN_MAX - 1, pattern_char, "[A-Za-z0-9_.:@=-*?]",
                            r->pattern);
            break;
        case 1:
            rv = read_ns_ref(c, vpath);
            break;
        case 2:
            rv = read_bool(c, vpath, &r->private_);
            break;
        case 3:
            rv = read_list(c, vpath, GL_NAME_MAX, check_role, &list, &r->n_allowed_roles);
            r->allowed_roles = (char(*)[GL_NAME_MAX])(void *)list;
            break;
        case 4:
            rv = read_list(c, vpath, USER_MAX, NULL, &list, &r->n_allowed_users);
            r->allowed_users = (char(*)[USER_MAX])(void *)list;
            break;
        case 5:
            rv = read_int(c, vpath, 1, GL_HISTORY_LIMIT, &r->max_history);
            break;
        default:
            rv = parse_modes(c, vpath, &r->modes);
            break;
        }
        list = NULL;
        if (rv != GL_OK) return rv;
    }
    if (rv == GL_OK && !(seen & 1u))
        rv = fail_at(c, (size_t)r->line, path, "missing key 'pattern'");
    return rv;
}

static int
read_url(ctx *c, const char *path, char *out)
{
    char got[80];
    int rv;

    if ((rv = read_token(c, path, GL_URL_MAX - 1, url_char, "URL characters", out)) != GL_OK)
        return rv;
    if (strncmp(out, "http://", 7) != 0 || out[7] == '\0')
        return fail(c, path, "expected an http:// URL (https is not supported), got %s",
                    describe(c, got, sizeof(got)));
    return GL_OK;
}

static int
parse_rpc_proxy(ctx *c, const char *path)
{
    gl_config *cfg = c->cfg;
    size_t line = c->ev.start_mark.line + 1;
    char vpath[PATH_MAX_LEN];
    unsigned seen = 0;
    gl_rpc_proxy *p;
    int rv, k;

    if ((p = grow(cfg->rpc_proxies, &c->cap_rpc, cfg->n_rpc_proxies, sizeof(*p))) == NULL)
        return nomem(c);
    cfg->rpc_proxies = p;
    p = &cfg->rpc_proxies[cfg->n_rpc_proxies++];
    memset(p, 0, sizeof(*p));
    p->timeout_ms = GL_RPC_TIMEOUT_DEFAULT_MS;
    while ((rv = next_key(c, path, rpc_keys, NKEYS(rpc_keys), &seen, &k, vpath)) == GL_OK &&
           k >= 0) {
        if (k == 0) {
            rv = read_token(c, vpath, GL_NAME_MAX - 1, method_char, "[A-Za-z0-9_.-]", p->method);
            if (rv == GL_OK && strcmp(p->method, "stats") == 0)
                rv = fail(c, vpath, "'stats' is a built-in method");
            for (size_t i = 0; rv == GL_OK && i + 1 < cfg->n_rpc_proxies; i++)
                if (strcmp(cfg->rpc_proxies[i].method, p->method) == 0)
                    rv = fail(c, vpath, "duplicate method '%s'", p->method);
        } else if (k == 1) {
            rv = read_url(c, vpath, p->url);
        } else {
            rv = read_int(c, vpath, 1, RPC_TIMEOUT_MAX_MS, &p->timeout_ms);
        }
        if (rv != GL_OK) return rv;
    }
    if (rv == GL_OK && !(seen & 1u)) rv = fail_at(c, line, path, "missing key 'method'");
    if (rv == GL_OK && !(seen & 2u)) rv = fail_at(c, line, path, "missing key 'url'");
    return rv;
}

/* Entry n of allowed_origins: "*" alone, or an origin, stored normalised, listed once. */
static int
check_origin(ctx *c, const char *path, char *buf, size_t n, size_t elem)
{
    char *slot = buf + n * elem, norm[GL_ORIGIN_MAX], got[80];
    const char *problem;

    if (strcmp(slot, "*") == 0 || (n > 0 && strcmp(buf, "*") == 0))
        return n == 0 ? GL_OK : fail(c, path, "\"*\" (any origin) must be the only entry");
    if ((problem = gl_origin_normalize(slot, strlen(slot), norm)) != NULL)
        return fail(c, path, "%s, got %s", problem, describe(c, got, sizeof(got)));
    for (size_t i = 0; i < n; i++)
        if (strcmp(buf + i * elem, norm) == 0) return fail(c, path, "duplicate origin '%s'", norm);
    memcpy(slot, norm, strlen(norm) + 1);
    return GL_OK;
}

static int
parse_origins(ctx *c, const char *path)
{
    gl_config *cfg = c->cfg;
    char *list = NULL;
    int rv;

    if ((rv = read_list(c, path, GL_ORIGIN_MAX, check_origin, &list, &cfg->n_allowed_origins)) !=
        GL_OK)
        return rv;
    cfg->allowed_origins = (char(*)[GL_ORIGIN_MAX])(void *)list;
    if (cfg->n_allowed_origins == 1 && strcmp(cfg->allowed_origins[0], "*") == 0) {
        cfg->any_origin = true;
        cfg->n_allowed_origins = 0;
        free(cfg->allowed_origins);
        cfg->allowed_origins = NULL;
    }
    return GL_OK;
}

/* A top-level value: null (no entries) or a sequence of at most max mappings. */
static int
parse_list(ctx *c, const char *path, size_t max, int (*entry)(ctx *, const char *))
{
    char epath[PATH_MAX_LEN], got[80];
    int rv;

    if (is_null(c)) return GL_OK;
    if (c->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail(c, path, "expected a sequence, got %s", describe(c, got, sizeof(got)));
    for (size_t i = 0;; i++) {
        snprintf(epath, sizeof(epath), "%s[%zu]", path, i);
        if ((rv = next(c, epath)) != GL_OK || c->ev.type == YAML_SEQUENCE_END_EVENT) return rv;
        if (i == max) return fail(c, epath, "more than %zu entries", max);
        if (c->ev.type != YAML_MAPPING_START_EVENT)
            return fail(c, epath, "expected a mapping, got %s", describe(c, got, sizeof(got)));
        if ((rv = entry(c, epath)) != GL_OK) return rv;
    }
}

static int
parse_document(ctx *c)
{
    char vpath[PATH_MAX_LEN], got[80];
    unsigned seen = 0;
    int rv, k;

    if (c->ev.type != YAML_MAPPING_START_EVENT) {
        if (is_null(c)) return GL_OK;
        return fail(c, "top level", "expected a mapping, got %s", describe(c, got, sizeof(got)));
    }
    while ((rv = next_key(c, "top level", top_keys, NKEYS(top_keys), &seen, &k, vpath)) == GL_OK &&
           k >= 0) {
        if (k == 0)
            rv = parse_list(c, vpath, MAX_NAMESPACES, parse_namespace);
        else if (k == 1)
            rv = parse_list(c, vpath, MAX_CHANNELS, parse_channel);
        else if (k == 2)
            rv = parse_list(c, vpath, MAX_PROXIES, parse_rpc_proxy);
        else if (k == 3)
            rv = parse_origins(c, vpath);
        else if (k == 4)
            rv = parse_limits(c, vpath, &c->cfg->publish_rate, true);
        else
            rv = parse_blocked_terms(c, vpath);
        if (rv != GL_OK) return rv;
    }
    return rv;
}

/* STREAM-START, then nothing or one document, then STREAM-END. */
static int
parse_stream(ctx *c)
{
    int rv;

    if ((rv = next(c, "top level")) != GL_OK || (rv = next(c, "top level")) != GL_OK) return rv;
    if (c->ev.type == YAML_STREAM_END_EVENT) return GL_OK;
    if ((rv = next(c, "top level")) != GL_OK || (rv = parse_document(c)) != GL_OK) return rv;
    if ((rv = next(c, "top level")) != GL_OK || (rv = next(c, "top level")) != GL_OK) return rv;
    if (c->ev.type != YAML_STREAM_END_EVENT)
        return fail(c, "top level", "multiple documents are not supported");
    return GL_OK;
}

static int
resolve_namespaces(ctx *c)
{
    for (size_t i = 0; i < c->n_refs; i++) {
        const ns_ref *r = &c->refs[i];
        const gl_namespace *ns = gl_config_namespace(c->cfg, r->name);
        char path[PATH_MAX_LEN];

        if (ns == NULL) {
            snprintf(path, sizeof(path), "channels[%zu].namespace", r->rule);
            return fail_at(c, r->line, path, "unknown namespace '%s'", r->name);
        }
        c->cfg->channels[r->rule].ns = ns;
    }
    return GL_OK;
}

int
gl_config_parse(const char *text, size_t len, const char *name, gl_config **out, gl_err *err)
{
    ctx c;
    int rv;

    memset(&c, 0, sizeof(c));
    c.name = name != NULL ? name : "<config>";
    c.text = text;
    c.len = len;
    c.err = err;
    if (len > CONFIG_MAX_BYTES)
        return gl_err_set(err, GL_EINVAL, "%s: larger than %u bytes", c.name, CONFIG_MAX_BYTES);
    if ((rv = gl_config_empty(&c.cfg, err)) != GL_OK) return rv;
    if (!yaml_parser_initialize(&c.yp)) {
        gl_config_destroy(c.cfg);
        return nomem(&c);
    }
    yaml_parser_set_input_string(&c.yp, (const unsigned char *)(text != NULL ? text : ""), len);
    rv = parse_stream(&c);
    if (rv == GL_OK) rv = resolve_namespaces(&c);
    if (c.have_ev) yaml_event_delete(&c.ev);
    yaml_parser_delete(&c.yp);
    free(c.refs);
    if (rv != GL_OK) {
        gl_config_destroy(c.cfg);
        return rv;
    }
    *out = c.cfg;
    return GL_OK;
}

int
gl_config_load(const char *path, gl_config **out, gl_err *err)
{
    size_t len = 0, cap = 0, n;
    char *buf = NULL, *p;
    FILE *f;
    int rv;

    if (strlen(path) >= sizeof(((gl_config *)NULL)->path))
        return gl_err_set(err, GL_EINVAL, "config path longer than %zu bytes",
                          sizeof(((gl_config *)NULL)->path) - 1);
    if ((f = fopen(path, "rb")) == NULL)
        return gl_err_set(err, GL_ENOTFOUND, "cannot open %s: %s", path, strerror(errno));
    // Read at most one byte past the limit, so that a huge file is refused without loading it.
    do {
        if (len == cap) {
            cap = cap == 0 ? 65536 : cap * 2;
            if (cap > CONFIG_MAX_BYTES + 1) cap = CONFIG_MAX_BYTES + 1;
            if ((p = realloc(buf, cap)) == NULL) {
                rv = gl_err_set(err, GL_ENOMEM, "%s: out of memory", path);
                goto out_close;
            }
            buf = p;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0 && len <= CONFIG_MAX_BYTES);
    if (ferror(f)) {
        rv = gl_err_set(err, GL_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
        goto out_close;
    }
    if ((rv = gl_config_parse(buf, len, path, out, err)) == GL_OK)
        snprintf((*out)->path, sizeof((*out)->path), "%s", path);
out_close:
    fclose(f);
    free(buf);
    return rv;
}

int
gl_config_empty(gl_config **out, gl_err *err)
{
    gl_config *cfg = calloc(1, sizeof(*cfg));

    if (cfg == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    cfg->publish_rate = GL_PUBLISH_RATE_DEFAULT;
    cfg->command_rate = GL_COMMAND_RATE_DEFAULT;
    cfg->flood_close_after = GL_FLOOD_CLOSE_DEFAULT;
    cfg->connection_rate = GL_CONNECTION_RATE_DEFAULT;
    cfg->anonymous_per_ip = GL_ANONYMOUS_PER_IP_DEFAULT;
    *out = cfg;
    return GL_OK;
}

const gl_rate *
gl_config_publish_rate(const gl_config *cfg, const gl_namespace *ns)
{
    return ns != NULL && ns->publish_rate.burst != UINT32_MAX ? &ns->publish_rate
                                                              : &cfg->publish_rate;
}

void
gl_config_destroy(gl_config *cfg)
{
    if (cfg == NULL) return;
    for (size_t i = 0; i < cfg->n_channels; i++) {
        free(cfg->channels[i].allowed_roles);
        free(cfg->channels[i].allowed_users);
    }
    free(cfg->namespaces);
    free(cfg->channels);
    free(cfg->rpc_proxies);
    free(cfg->allowed_origins);
    free(cfg->blocked_terms);
    free(cfg);
}

const gl_chan_rule *
gl_config_match(const gl_config *cfg, const char *channel)
{
    for (size_t i = 0; cfg != NULL && i < cfg->n_channels; i++)
        if (gl_chan_match(cfg->channels[i].pattern, channel)) return &cfg->channels[i];
    return NULL;
}

const gl_namespace *
gl_config_namespace(const gl_config *cfg, const char *name)
{
    for (size_t i = 0; cfg != NULL && i < cfg->n_namespaces; i++)
        if (strcmp(cfg->namespaces[i].name, name) == 0) return &cfg->namespaces[i];
    return NULL;
}

const gl_rpc_proxy *
gl_config_rpc_proxy(const gl_config *cfg, const char *method)
{
    for (size_t i = 0; cfg != NULL && i < cfg->n_rpc_proxies; i++)
        if (strcmp(cfg->rpc_proxies[i].method, method) == 0) return &cfg->rpc_proxies[i];
    return NULL;
}

bool
gl_config_origin_allowed(const gl_config *cfg, const char *origin, const char *host)
{
    char norm[GL_ORIGIN_MAX];

    if (origin == NULL || (cfg != NULL && cfg->any_origin)) return true;
    // Not an http(s) origin ("null" from a sandboxed frame or a file:// page): only "*" admits it.
    if (gl_origin_normalize(origin, strlen(origin), norm) != NULL) return false;
    if (gl_origin_is_host(norm, host)) return true;
    for (size_t i = 0; cfg != NULL && i < cfg->n_allowed_origins; i++)
        if (strcmp(cfg->allowed_origins[i], norm) == 0) return true;
    return false;
}
