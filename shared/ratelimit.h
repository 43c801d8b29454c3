/* Token buckets for the abuse limits (docs/moderation.md "Rate limits"): a rate is a burst and
 * a refill per second; a bucket holds what is left of the burst. Pure and clock-free (the
 * caller passes now), so the same rule serves pushd (per connection, per user) and golive-api
 * (per token) and is unit-tested without waiting. */
#ifndef GL_RATELIMIT_H
#define GL_RATELIMIT_H

#include "map.h"

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

#endif
