/* Token buckets (ratelimit.h). Time is kept in truncated monotonic milliseconds: a bucket is
 * 12 bytes, and an idle gap past 49 days only reads as "full", which it is. Also the per-IP
 * connection counts of the anonymous limit, and the counts of refusals as JSON. */
#include "ratelimit.h"
#include "err.h"
#include "json.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_EVERY 4096 /* takes between two sweeps of a table for full buckets */

typedef struct table_bucket {
    gl_bucket b;
    gl_rate rate; /* of its last take: the sweep judges fullness by it */
    char key[];   /* scope, 0x1f, user: the map's key */
} table_bucket;

/* The tokens b holds at now_ms, refilled and capped at the burst. */
static float
level(const gl_bucket *b, const gl_rate *r, uint32_t now_ms)
{
    float t;

    if (!b->started) return (float)r->burst;
    t = b->tokens + (float)(uint32_t)(now_ms - b->at_ms) * r->per_second / 1000.0f;
    return t > (float)r->burst ? (float)r->burst : t;
}

bool
gl_bucket_take(gl_bucket *b, const gl_rate *r, uint32_t now_ms, uint32_t *retry_after_ms)
{
    float t;

    if (r->burst == 0) return true;
    t = level(b, r, now_ms);
    b->at_ms = now_ms;
    b->started = true;
    if (t >= 1.0f) {
        b->tokens = t - 1.0f;
        return true;
    }
    b->tokens = t;
    if (retry_after_ms != NULL) {
        float wait = ceilf((1.0f - t) * 1000.0f / r->per_second);
        *retry_after_ms = wait < 1.0f ? 1 : wait > 86400000.0f ? 86400000u : (uint32_t)wait;
    }
    return false;
}

bool
gl_bucket_full(const gl_bucket *b, const gl_rate *r, uint32_t now_ms)
{
    return r->burst == 0 || level(b, r, now_ms) >= (float)r->burst;
}

static void
sweep(gl_bucket_table *t, uint32_t now_ms)
{
    size_t it = 0, n = 0;
    gl_map_entry *e;
    table_bucket **full = malloc(t->buckets.len * sizeof(*full));

    if (full == NULL) return;
    while ((e = gl_map_next(&t->buckets, &it)) != NULL) {
        table_bucket *tb = e->val;
        if (gl_bucket_full(&tb->b, &tb->rate, now_ms)) full[n++] = tb;
    }
    for (size_t i = 0; i < n; i++) {
        gl_map_del(&t->buckets, full[i]->key);
        free(full[i]);
    }
    free(full);
}

bool
gl_bucket_table_take(gl_bucket_table *t, const char *scope, const char *user, const gl_rate *r,
                     uint32_t now_ms, uint32_t *retry_after_ms)
{
    size_t len = strlen(scope) + 1 + strlen(user);
    table_bucket *tb;
    char key[512];

    if (r->burst == 0) return true;
    if (len >= sizeof(key)) return true; /* longer than any scope and user id can be */
    memcpy(key, scope, strlen(scope));
    key[strlen(scope)] = '\x1f';
    memcpy(key + strlen(scope) + 1, user, strlen(user) + 1);
    if (++t->takes % SWEEP_EVERY == 0) sweep(t, now_ms);
    if ((tb = gl_map_get(&t->buckets, key)) == NULL) {
        if ((tb = calloc(1, sizeof(*tb) + len + 1)) == NULL) return true;
        memcpy(tb->key, key, len + 1);
        if (gl_map_put(&t->buckets, tb->key, tb) != GL_OK) {
            free(tb);
            return true;
        }
    }
    tb->rate = *r;
    return gl_bucket_take(&tb->b, r, now_ms, retry_after_ms);
}

size_t
gl_bucket_table_len(const gl_bucket_table *t)
{
    return t->buckets.len;
}

void
gl_bucket_table_free(gl_bucket_table *t)
{
    gl_map_free_values(&t->buckets);
    t->takes = 0;
}

struct gl_ip_entry {
    uint32_t count;
    char ip[]; /* the map's key */
};

gl_ip_entry *
gl_ip_counts_add(gl_ip_counts *t, const char *ip, uint32_t *before)
{
    gl_ip_entry *e = gl_map_get(&t->ips, ip);
    size_t len;

    if (e == NULL) {
        len = strlen(ip);
        if ((e = calloc(1, sizeof(*e) + len + 1)) == NULL) return NULL;
        memcpy(e->ip, ip, len + 1);
        if (gl_map_put(&t->ips, e->ip, e) != GL_OK) {
            free(e);
            return NULL;
        }
    }
    if (before != NULL) *before = e->count;
    e->count++;
    t->total++;
    return e;
}

void
gl_ip_counts_release(gl_ip_counts *t, gl_ip_entry *e)
{
    if (e == NULL) return;
    t->total--;
    if (--e->count > 0) return;
    gl_map_del(&t->ips, e->ip);
    free(e);
}

uint32_t
gl_ip_counts_get(const gl_ip_counts *t, const char *ip)
{
    const gl_ip_entry *e = gl_map_get(&t->ips, ip);
    return e != NULL ? e->count : 0;
}

void
gl_ip_counts_free(gl_ip_counts *t)
{
    gl_map_free_values(&t->ips);
    t->total = 0;
}

cJSON *
gl_limit_counts_json(const gl_limit_counts *n, uint64_t anonymous_open)
{
    cJSON *o = cJSON_CreateObject(), *modes = NULL;
    bool ok = o != NULL &&
              gl_json_add_int(o, "publish_refused", (int64_t)n->publish_refused) != NULL &&
              gl_json_add_int(o, "commands_refused", (int64_t)n->commands_refused) != NULL &&
              gl_json_add_int(o, "connections_refused", (int64_t)n->connections_refused) != NULL &&
              gl_json_add_int(o, "anonymous_refused", (int64_t)n->anonymous_refused) != NULL &&
              gl_json_add_int(o, "flood_closes", (int64_t)n->flood_closes) != NULL &&
              (modes = cJSON_AddObjectToObject(o, "chat_modes_refused")) != NULL;

    for (int k = GL_MODE_NONE + 1; ok && k < GL_MODE_COUNT; k++)
        ok = gl_json_add_int(modes, gl_mode_kind_names[k], (int64_t)n->modes_refused[k]) != NULL;
    if (!ok || gl_json_add_int(o, "held_for_review", (int64_t)n->held) == NULL ||
        gl_json_add_int(o, "anonymous_open", (int64_t)anonymous_open) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
