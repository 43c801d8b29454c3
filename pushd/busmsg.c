/* The NATS message format between pushd nodes (busmsg.h). */
#include "busmsg.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MAGIC "GLB1 "

static bool
kind_ok(char k)
{
    return k == 'm' || k == 'e' || k == 'M' || k == 'r' || k == 'h' || k == 'q' || k == 'a' ||
           k == 'P';
}

static bool
node_ok(const char *s)
{
    size_t n = strnlen(s, PD_BUS_NODE_MAX);
    if (n == 0 || n == PD_BUS_NODE_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

size_t
pd_busmsg_header(const pd_busmsg *m, char *buf, size_t cap)
{
    int n;

    if (!kind_ok(m->kind) || !node_ok(m->node) || m->id < 0 || m->prev_id < 0 ||
        gl_chan_validate(m->channel, NULL) != GL_OK)
        return 0;
    n = snprintf(buf, cap, MAGIC "%c %s %" PRId64 " %" PRId64 " %s\n", m->kind, m->node, m->id,
                 m->prev_id, m->channel);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* A decimal 0..INT64_MAX from *p up to a blank; advances *p past the blank. */
static int
take_id(const char **p, const char *end, int64_t *out)
{
    int64_t v = 0;
    const char *s = *p;

    if (s == end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] != ' ')) return -1;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - (*s - '0')) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    if (s == end || *s != ' ') return -1;
    *p = s + 1;
    *out = v;
    return 0;
}

/* A token up to sep into out (cap bytes, NUL added); advances *p past sep. */
static int
take_token(const char **p, const char *end, char sep, char *out, size_t cap)
{
    const char *s = *p, *stop = memchr(s, sep, (size_t)(end - s));
    size_t n;

    /* a NUL inside would cut the token short, and "n1\0x" pass for n1 */
    if (stop == NULL || (n = (size_t)(stop - s)) == 0 || n >= cap || memchr(s, '\0', n) != NULL)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = stop + 1;
    return 0;
}

int
pd_busmsg_parse(const char *data, size_t len, pd_busmsg *m)
{
    const char *p = data, *end = data + len;

    if (len < sizeof(MAGIC) + 1 || memcmp(p, MAGIC, sizeof(MAGIC) - 1) != 0) return -1;
    p += sizeof(MAGIC) - 1;
    m->kind = *p++;
    if (!kind_ok(m->kind) || p == end || *p++ != ' ') return -1;
    if (take_token(&p, end, ' ', m->node, sizeof(m->node)) != 0 || !node_ok(m->node)) return -1;
    if (take_id(&p, end, &m->id) != 0 || take_id(&p, end, &m->prev_id) != 0) return -1;
    if (take_token(&p, end, '\n', m->channel, sizeof(m->channel)) != 0 ||
        gl_chan_validate(m->channel, NULL) != GL_OK)
        return -1;
    switch (m->kind) {
    case 'm':
        if (m->id < 1 || m->prev_id >= m->id) return -1;
        break;
    case 'q':
    case 'a':
        if (m->id < 1 || m->prev_id != 0) return -1;
        break;
    case 'h':
        break;
    case 'P':
        if (m->id > 1 || m->prev_id != 0) return -1;
        break;
    default:
        if (m->id != 0 || m->prev_id != 0) return -1;
    }
    m->payload = p;
    m->payload_len = (size_t)(end - p);
    if ((m->kind == 'r' || m->kind == 'h' || m->kind == 'q') != (m->payload_len == 0)) return -1;
    return 0;
}

size_t
pd_bus_subject(const char *prefix, const char *channel, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s.ch.%s", prefix, channel);
    size_t from = strlen(prefix) + 4;

    if (n <= 0 || (size_t)n >= cap) return 0;
    for (size_t i = from; i < (size_t)n; i++)
        if (buf[i] == '.') buf[i] = '~';
    return (size_t)n;
}
