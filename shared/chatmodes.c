/* Chat modes: layering and the publish check (chatmodes.h). data.content is read with cJSON
 * only when a mode needs it (length, unique chat, blocked terms): a channel without modes pays
 * nothing. Blocked terms match anywhere in the content, ASCII case-insensitively; '*' in a term
 * matches any run of characters. A set of the content's byte pairs rules most terms out at a
 * glance (their first two bytes do not occur); the rest cost one memmem per piece, so a
 * message's check is at worst linear in its size times the number of terms. */
#include "chatmodes.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gl_mode_kind_names[GL_MODE_COUNT] = {
    [GL_MODE_NONE] = "none",
    [GL_MODE_SLOW] = "slow_mode",
    [GL_MODE_MEMBERS_ONLY] = "members_only",
    [GL_MODE_UNIQUE] = "unique_chat",
    [GL_MODE_LENGTH] = "message_length",
    [GL_MODE_BLOCKED_TERMS] = "blocked_terms",
};

void
gl_modes_apply(gl_modes *m, const gl_modes *layer)
{
    if (layer == NULL) return;
    if (layer->slow_mode >= 0) m->slow_mode = layer->slow_mode;
    if (layer->members_only >= 0) m->members_only = layer->members_only;
    if (layer->unique_chat >= 0) m->unique_chat = layer->unique_chat;
    if (layer->max_length >= 0) m->max_length = layer->max_length;
    if (layer->max_bytes >= 0) m->max_bytes = layer->max_bytes;
    if (layer->hold_blocked >= 0) m->hold_blocked = layer->hold_blocked;
    if (layer->has_terms) {
        m->has_terms = true;
        m->terms = layer->terms;
        m->n_terms = layer->n_terms;
    }
}

void
gl_modes_resolve(gl_modes *out, const gl_modes *ns, const gl_modes *rule, const gl_modes *ov)
{
    *out = (gl_modes){0, 0, 0, 0, 0, 0, false, 0, NULL};
    gl_modes_apply(out, ns);
    gl_modes_apply(out, rule);
    gl_modes_apply(out, ov);
}

bool
gl_modes_active(const gl_modes *m, size_t n_global)
{
    return m->slow_mode > 0 || m->members_only > 0 || m->unique_chat > 0 || m->max_length > 0 ||
           m->max_bytes > 0 || m->n_terms > 0 || n_global > 0;
}

cJSON *
gl_modes_json(const gl_modes *m)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL || cJSON_AddNumberToObject(o, "slow_mode", m->slow_mode) == NULL ||
        cJSON_AddBoolToObject(o, "members_only", m->members_only > 0) == NULL ||
        cJSON_AddBoolToObject(o, "unique_chat", m->unique_chat > 0) == NULL ||
        cJSON_AddNumberToObject(o, "max_message_length", m->max_length) == NULL ||
        cJSON_AddNumberToObject(o, "max_message_bytes", m->max_bytes) == NULL ||
        cJSON_AddStringToObject(o, "blocked_terms_action",
                                m->hold_blocked > 0 ? "hold" : "refuse") == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

bool
gl_modes_track_recent(const gl_modes *m)
{
    return m->slow_mode > 0 || m->unique_chat > 0;
}

const char *
gl_term_problem(const char *term)
{
    size_t len = strlen(term), stars = 0;

    if (len == 0 || len >= GL_TERM_MAX) return "a blocked term is 1 to 127 bytes";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)term[i];
        if (c < 0x20 || c == 0x7f) return "a blocked term has no control characters";
        stars += c == '*';
    }
    if (stars == len) return "a blocked term needs more than '*'";
    return NULL;
}

/* data.content when data is an object whose content is a string: a new string (free), or NULL
 * (also when out of memory: the modes that read content then see none). */
static char *
content_of(const char *data, size_t *len)
{
    cJSON *root = cJSON_Parse(data);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "content");
    char *out = NULL;

    if (cJSON_IsString(c) && (out = strdup(c->valuestring)) != NULL) *len = strlen(out);
    cJSON_Delete(root);
    return out;
}

static uint64_t
fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t
gl_modes_content_hash(const char *data)
{
    size_t len = 0;
    char *content = content_of(data, &len);
    uint64_t h = content != NULL ? fnv1a(content, len) : fnv1a(data, strlen(data));
    free(content);
    return h;
}

void
gl_recent_note(gl_recent *r, const char *data, int64_t now_ms)
{
    unsigned n = r->n < GL_UNIQUE_RECENT ? r->n + 1 : GL_UNIQUE_RECENT;

    r->last_ms = now_ms;
    if (data == NULL) return;
    memmove(r->hashes + 1, r->hashes, (n - 1) * sizeof(r->hashes[0]));
    memmove(r->at_ms + 1, r->at_ms, (n - 1) * sizeof(r->at_ms[0]));
    r->hashes[0] = gl_modes_content_hash(data);
    r->at_ms[0] = now_ms;
    r->n = n;
}

static size_t
code_points(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static void
ascii_lower(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        s[i] = lower(s[i]);
}

/* The length of an invisible format character at s (soft hyphen U+00AD, U+200B-U+200F,
 * U+2060, U+FEFF), or 0: a spammer's way to split a word that a blocked term names. */
static size_t
invisible_at(const unsigned char *s, size_t left)
{
    if (left >= 2 && s[0] == 0xC2 && s[1] == 0xAD) return 2;
    if (left < 3) return 0;
    if (s[0] == 0xE2 && s[1] == 0x80 && s[2] >= 0x8B && s[2] <= 0x8F) return 3;
    if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0xA0) return 3;
    if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) return 3;
    return 0;
}

/* What blocked terms are matched against: s lowercased (ASCII) without invisible characters,
 * in place; returns the new length. */
static size_t
match_text(char *s, size_t len)
{
    size_t out = 0, skip;
    for (size_t i = 0; i < len;) {
        if ((skip = invisible_at((const unsigned char *)s + i, len - i)) > 0) {
            i += skip;
            continue;
        }
        s[out++] = lower(s[i++]);
    }
    return out;
}

/* The byte pairs of a text, hashed into 4096 bits. */
typedef struct pairs {
    uint64_t bits[64];
} pairs;

static unsigned
pair_hash(unsigned char a, unsigned char b)
{
    return ((unsigned)a * 31u ^ b) & 4095u;
}

static void
pairs_of(pairs *p, const char *text, size_t len)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned h = pair_hash((unsigned char)text[i], (unsigned char)text[i + 1]);
        p->bits[h / 64] |= 1ull << (h % 64);
    }
}

/* false: the pair a b is nowhere in the text; true: it may be. */
static bool
pairs_may_have(const pairs *p, char a, char b)
{
    unsigned h = pair_hash((unsigned char)a, (unsigned char)b);
    return (p->bits[h / 64] >> (h % 64)) & 1u;
}

/* Does term occur in text (lowercased, its pairs p)? Its pieces between '*' must appear in
 * order. */
static bool
term_matches(const char *text, size_t len, const pairs *p, const char *term)
{
    const char *at = text, *end = text + len;
    char piece[GL_TERM_MAX];

    while (*term == '*')
        term++;
    if (term[0] != '\0' && term[1] != '\0' && term[1] != '*' &&
        !pairs_may_have(p, lower(term[0]), lower(term[1])))
        return false;
    while (*term != '\0') {
        size_t n = strcspn(term, "*");
        if (n > 0) {
            const char *hit;
            memcpy(piece, term, n);
            ascii_lower(piece, n);
            if ((hit = memmem(at, (size_t)(end - at), piece, n)) == NULL) return false;
            at = hit + n;
        }
        term += n;
        while (*term == '*')
            term++;
    }
    return true;
}

static const char *
blocked_term(const char *text, size_t len, const pairs *p, const gl_term *terms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (term_matches(text, len, p, terms[i])) return terms[i];
    return NULL;
}

static bool
posted_recently(const gl_recent *r, uint64_t h, int64_t now_ms)
{
    for (unsigned i = 0; r != NULL && i < r->n; i++)
        if (r->hashes[i] == h && now_ms - r->at_ms[i] < GL_RECENT_KEEP_MS) return true;
    return false;
}

/* The checks that read data.content: length, unique chat, blocked terms. */
static int
check_content(const gl_modes *m, const gl_term *global_terms, size_t n_global, gl_standing st,
              const char *data, const gl_recent *recent, int64_t now_ms, gl_mode_verdict *v,
              gl_err *err)
{
    bool check_terms = st < GL_STANDING_MODERATOR && (m->n_terms > 0 || n_global > 0);
    bool check_unique = st == GL_STANDING_NONE && m->unique_chat > 0;
    size_t len = 0;
    char *content;
    int rv = GL_OK;

    if (m->max_length <= 0 && !check_terms && !check_unique) return GL_OK;
    content = content_of(data, &len);
    if (check_unique &&
        posted_recently(recent, content != NULL ? fnv1a(content, len) : fnv1a(data, strlen(data)),
                        now_ms)) {
        v->refused_by = GL_MODE_UNIQUE;
        rv = gl_err_set(err, GL_EFORBIDDEN,
                        "unique chat: you sent the same message a moment ago; say something new");
    } else if (content != NULL && m->max_length > 0 &&
               code_points(content, len) > (size_t)m->max_length) {
        v->refused_by = GL_MODE_LENGTH;
        rv = gl_err_set(err, GL_ETOOBIG,
                        "the message is %zu characters long; this channel allows %d",
                        code_points(content, len), m->max_length);
    } else if (check_terms && strstr(data, "\\u0000") != NULL) {
        /* cJSON's string ends at a NUL: what follows it would go unchecked. */
        v->term = "\\u0000";
        if (m->hold_blocked > 0) {
            v->hold = true;
        } else {
            v->refused_by = GL_MODE_BLOCKED_TERMS;
            rv = gl_err_set(err, GL_EFORBIDDEN, "the message contains a NUL character (\\u0000)");
        }
    } else if (content != NULL && check_terms) {
        pairs p;
        len = match_text(content, len);
        pairs_of(&p, content, len);
        if ((v->term = blocked_term(content, len, &p, m->terms, m->n_terms)) == NULL)
            v->term = blocked_term(content, len, &p, global_terms, n_global);
        if (v->term != NULL && m->hold_blocked > 0) {
            v->hold = true;
        } else if (v->term != NULL) {
            v->refused_by = GL_MODE_BLOCKED_TERMS;
            rv = gl_err_set(err, GL_EFORBIDDEN,
                            "the message contains a term this channel does not allow");
        }
    }
    free(content);
    return rv;
}

int
gl_modes_check(const gl_modes *m, const gl_term *global_terms, size_t n_global, gl_standing st,
               bool member, const char *data, const gl_recent *recent, int64_t now_ms,
               gl_mode_verdict *v, gl_err *err)
{
    size_t bytes = strlen(data);

    *v = (gl_mode_verdict){false, 0, NULL, GL_MODE_NONE};
    if (st >= GL_STANDING_MODERATOR) return GL_OK;
    if (m->max_bytes > 0 && bytes > (size_t)m->max_bytes) {
        v->refused_by = GL_MODE_LENGTH;
        return gl_err_set(err, GL_ETOOBIG, "data is %zu bytes; this channel allows %d", bytes,
                          m->max_bytes);
    }
    if (st == GL_STANDING_NONE && m->members_only > 0 && !member) {
        v->refused_by = GL_MODE_MEMBERS_ONLY;
        return gl_err_set(err, GL_EFORBIDDEN,
                          "members-only mode: only members may post in this channel");
    }
    if (st == GL_STANDING_NONE && m->slow_mode > 0 && recent != NULL && recent->last_ms > 0) {
        int64_t next = recent->last_ms + (int64_t)m->slow_mode * 1000;
        if (now_ms < next) {
            v->refused_by = GL_MODE_SLOW;
            v->retry_after_ms = (uint32_t)(next - now_ms);
            return gl_err_set(err, GL_ERATE, "slow mode: one message every %d s; wait %u.%u s",
                              m->slow_mode, v->retry_after_ms / 1000,
                              v->retry_after_ms % 1000 / 100);
        }
    }
    return check_content(m, global_terms, n_global, st, data, recent, now_ms, v, err);
}
