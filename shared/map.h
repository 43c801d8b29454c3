/* A string-keyed hash map (open addressing, linear probing, backward-shift delete).
 * Keys are borrowed: the caller keeps each key alive while its entry exists, typically by
 * storing it inside the value. Hashing is keyed per process (SipHash-1-3) because keys come
 * from the network (channel names, user ids) and must not be able to force collisions. */
#ifndef GL_MAP_H
#define GL_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct gl_map_entry {
    const char *key; /* NULL = empty slot */
    uint64_t hash;
    void *val;
} gl_map_entry;

typedef struct gl_map {
    gl_map_entry *slots;
    size_t cap; /* 0 or a power of two */
    size_t len;
} gl_map;

/* An empty map needs no allocation: `gl_map m = {0};` is valid. */
void gl_map_free(gl_map *m);

/* gl_map_free, after free() of every value (maps whose values are single allocations that
 * hold their own keys). */
void gl_map_free_values(gl_map *m);

/* The value for key, or NULL. */
void *gl_map_get(const gl_map *m, const char *key);

/* Insert or replace. Returns GL_OK or GL_ENOMEM (map unchanged). */
int gl_map_put(gl_map *m, const char *key, void *val);

/* Remove key; returns its value, or NULL if absent. */
void *gl_map_del(gl_map *m, const char *key);

/* Iterate: `size_t i = 0; gl_map_entry *e; while ((e = gl_map_next(m, &i)) != NULL) ...`.
 * The map must not change during iteration. */
gl_map_entry *gl_map_next(const gl_map *m, size_t *iter);

/* Key the hash from the OS's CSPRNG; call once at start (before any map is used). */
void gl_map_seed(void);

#endif
