/* The parameters of a history read (REST ?limit=&since=&before=, the WebSocket "history"
 * command): one rule and one set of error messages for both. Values come in already extracted
 * (a query-string value, a cJSON member), as gl_history_arg. */
#ifndef GL_HISTORY_PARAMS_H
#define GL_HISTORY_PARAMS_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define GL_HISTORY_PAGE_DEFAULT 50 /* limit when none is given */
#define GL_HISTORY_PAGE_MAX 100    /* most messages one read returns; older ones with before= */

/* One parameter as the client gave it. */
typedef struct gl_history_arg {
    bool present; /* given at all */
    bool integer; /* ... as an integer (value holds it, saturated far beyond any valid range) */
    int64_t value;
} gl_history_arg;

/* From text (a URL-decoded query value; NULL = absent): decimal digits, optional sign. */
gl_history_arg gl_history_arg_text(const char *s);

/* From a JSON member (NULL = absent): a number with no fraction. */
gl_history_arg gl_history_arg_json(const cJSON *v);

/* What to read. */
typedef struct gl_history_query {
    int mode;    /* GL_HISTORY_LATEST, _SINCE or _BEFORE (db.h) */
    int64_t ref; /* the since or before id; 0 for LATEST */
    int limit;   /* 1..GL_HISTORY_PAGE_MAX, and at most max_history */
} gl_history_query;

/* A subscribe's since alone: absent, or an integer 0..2^53 (the same rule and message as in
 * gl_history_params). GL_OK or GL_EINVAL. */
int gl_history_since(gl_history_arg since, gl_err *err);

/* Check limit (1..GL_HISTORY_LIMIT), since (0..2^53) and before (1..2^53), in that order, and
 * that not both of since and before are given; then cap limit at GL_HISTORY_PAGE_MAX and at the
 * channel's max_history (>= 1). GL_OK, or GL_EINVAL with a client-safe message
 * ("limit must be an integer from 1 to 1000000", "give since or before, not both"). */
int gl_history_params(gl_history_arg limit, gl_history_arg since, gl_history_arg before,
                      int max_history, gl_history_query *out, gl_err *err);

#endif
