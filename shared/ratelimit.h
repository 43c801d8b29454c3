/* Token buckets for the abuse limits (docs/moderation.md "Rate limits"): a rate is a burst and
 * a refill per second; a bucket holds what is left of the burst. Pure and clock-free (the
 * caller passes now), so the same rule serves pushd (per connection, per user) and golive-api
 * (per token) and is unit-tested without waiting. */
#ifndef GL_RATELIMIT_H
#define GL_RATELIMIT_H

#include "chatmodes.h"
#include "map.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gl_rate {
    uint32_t burst;   /* 0: no limit */
    float per_second; /* refill, > 0 when burst > 0 */
} gl_rate;

typedef struct gl_bucket {
    float tokens;   /* what is left of the burst at at_ms */
    uint32_t at_ms; /* monotonic ms (truncated; differences wrap safely) of the last take */
    bool started;   /* false: a new bucket, full */
} gl_bucket;

/* Take one token at now_ms. true: allowed. false: refused, and *retry_after_ms (when not NULL)
 * is how long until a token is there again (at least 1). */
bool gl_bucket_take(gl_bucket *b, const gl_rate *r, uint32_t now_ms, uint32_t *retry_after_ms);

/* Whether b has refilled to its burst by now_ms: it can be forgotten (a new one is the same). */
bool gl_bucket_full(const gl_bucket *b, const gl_rate *r, uint32_t now_ms);

/* Buckets by (scope, user): a user's publishes in a namespace, in pushd and in golive-api. A
 * bucket is made full on first use, and the table forgets full ones every few thousand takes,
 * so it holds only recent users. Not locked: golive-api's threads share one under a mutex.
 * `gl_bucket_table t = {0};` is an empty table. */
typedef struct gl_bucket_table {
    gl_map buckets;
    uint32_t takes;
} gl_bucket_table;

/* gl_bucket_take on the bucket of (scope, user) at rate r. Out of memory: allowed (there is no
 * state to keep). */
bool gl_bucket_table_take(gl_bucket_table *t, const char *scope, const char *user, const gl_rate *r,
                          uint32_t now_ms, uint32_t *retry_after_ms);

/* How many buckets the table holds. */
size_t gl_bucket_table_len(const gl_bucket_table *t);

void gl_bucket_table_free(gl_bucket_table *t);

/* Open connections by client IP, for the anonymous limit: a count per IP, whose entry is freed
 * when its count returns to zero, so the table holds only IPs with connections open. Not locked.
 * `gl_ip_counts t = {0};` is an empty table. */
typedef struct gl_ip_entry gl_ip_entry;
typedef struct gl_ip_counts {
    gl_map ips;     /* ip -> gl_ip_entry */
    uint64_t total; /* the sum of the counts */
} gl_ip_counts;

/* Count one more connection from ip. Returns its IP's entry (the handle to release it with),
 * and in *before (when not NULL) the IP's count before this one; NULL when out of memory (nothing
 * counted). */
gl_ip_entry *gl_ip_counts_add(gl_ip_counts *t, const char *ip, uint32_t *before);

/* One connection counted by gl_ip_counts_add(t, ...) is gone: e's count drops, and at zero e is
 * freed (the handle is then invalid). */
void gl_ip_counts_release(gl_ip_counts *t, gl_ip_entry *e);

/* How many connections from ip are counted (0 for an IP not in the table). */
uint32_t gl_ip_counts_get(const gl_ip_counts *t, const char *ip);

/* Free every entry (handles still held become invalid). */
void gl_ip_counts_free(gl_ip_counts *t);

/* The refusals of the abuse limits, counted by the process that enforces them (pushd on its loop
 * thread, without locks), for the stats RPC and the metrics. */
typedef struct gl_limit_counts {
    uint64_t publish_refused;     /* publishes refused rate_limited */
    uint64_t commands_refused;    /* commands refused rate_limited (the per-connection limit) */
    uint64_t connections_refused; /* upgrades answered 429 by the new-connection limit */
    uint64_t anonymous_refused;   /* anonymous connections past anonymous_per_ip, closed 4029 */
    uint64_t flood_closes;        /* connections closed 4029 for refusals in a row */
    uint64_t modes_refused[GL_MODE_COUNT]; /* publishes a chat mode refused, by mode */
    uint64_t held;                         /* messages held for review (blocked terms) */
} gl_limit_counts;

/* n as a new object {"publish_refused":..,"commands_refused":..,"connections_refused":..,
 * "anonymous_refused":..,"flood_closes":..,"chat_modes_refused":{"slow_mode":..,
 * "members_only":..,"unique_chat":..,"message_length":..,"blocked_terms":..},
 * "held_for_review":..,"anonymous_open":anonymous_open} (the stats RPC's "limits";
 * anonymous_open is a gauge, the anonymous connections counted now). cJSON_Delete it; NULL when
 * out of memory. */
cJSON *gl_limit_counts_json(const gl_limit_counts *n, uint64_t anonymous_open);

#endif
