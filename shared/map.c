/* Open-addressing hash map keyed by strings, with SipHash-1-3 under a random per-process key.
 * Load factor stays at or below 1/2; deletion shifts entries back, so there are no tombstones. */
#include "map.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static uint64_t sip_k0 = 0x736f6d6570736575ULL, sip_k1 = 0x646f72616e646f6dULL;

void
gl_map_seed(void)
{
    uint64_t k[2];
    if (getrandom(k, sizeof(k), 0) == (ssize_t)sizeof(k)) {
        sip_k0 = k[0];
        sip_k1 = k[1];
    }
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t
siphash13(const char *s, size_t len)
{
    uint64_t v0 = sip_k0 ^ 0x736f6d6570736575ULL, v1 = sip_k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = sip_k0 ^ 0x6c7967656e657261ULL, v3 = sip_k1 ^ 0x7465646279746573ULL;
    uint64_t b = (uint64_t)len << 56, m;
    const unsigned char *p = (const unsigned char *)s;
    size_t i, left = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&m, p + i, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; j < left; j++)
        b |= (uint64_t)p[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

void
gl_map_free(gl_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}

static size_t
find_slot(const gl_map *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    while (m->slots[i].key != NULL) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0) return i;
        i = (i + 1) & mask;
    }
    return i;
}

void
gl_map_free_values(gl_map *m)
{
    size_t it = 0;
    gl_map_entry *e;

    while ((e = gl_map_next(m, &it)) != NULL)
        free(e->val);
    gl_map_free(m);
}

void *
gl_map_get(const gl_map *m, const char *key)
{
    size_t i;
    if (m->len == 0) return NULL;
    i = find_slot(m, key, siphash13(key, strlen(key)));
    return m->slots[i].key != NULL ? m->slots[i].val : NULL;
}

static int
grow(gl_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 8;
    gl_map old = *m;
    gl_map_entry *slots = calloc(ncap, sizeof(*slots));
    if (slots == NULL) return GL_ENOMEM;
    m->slots = slots;
    m->cap = ncap;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key != NULL)
            m->slots[find_slot(m, old.slots[i].key, old.slots[i].hash)] = old.slots[i];
    }
    free(old.slots);
    return GL_OK;
}

int
gl_map_put(gl_map *m, const char *key, void *val)
{
    uint64_t h = siphash13(key, strlen(key));
    size_t i;

    /* At most 3/4 full: linear probing stays short with a keyed hash, and big maps (a
     * channel's presence) cost 32-64 bytes an entry instead of 48-96. */
    if ((m->len + 1) * 4 > m->cap * 3 && grow(m) != GL_OK) return GL_ENOMEM;
    i = find_slot(m, key, h);
    if (m->slots[i].key == NULL) m->len++;
    m->slots[i].key = key;
    m->slots[i].hash = h;
    m->slots[i].val = val;
    return GL_OK;
}

void *
gl_map_del(gl_map *m, const char *key)
{
    size_t mask, i, j;
    void *val;

    if (m->len == 0) return NULL;
    mask = m->cap - 1;
    i = find_slot(m, key, siphash13(key, strlen(key)));
    if (m->slots[i].key == NULL) return NULL;
    val = m->slots[i].val;
    /* Backward shift: move later entries of the probe run into the hole when their home
     * slot allows it, so lookups never need tombstones. */
    j = i;
    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (m->slots[j].key == NULL) break;
        home = (size_t)m->slots[j].hash & mask;
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->len--;
    return val;
}

gl_map_entry *
gl_map_next(const gl_map *m, size_t *iter)
{
    while (*iter < m->cap) {
        gl_map_entry *e = &m->slots[(*iter)++];
        if (e->key != NULL) return e;
    }
    return NULL;
}
