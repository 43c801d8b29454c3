/* History read parameters: the same bounds, caps and messages for REST and WebSocket. */
#include "history_params.h"
#include "config.h"
#include "db.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>

#define ID_MAX (INT64_C(1) << 53) /* ids travel as JSON numbers: exact up to 2^53 */
#define SATURATE (INT64_C(1) << 62)

gl_history_arg
gl_history_arg_text(const char *s)
{
    gl_history_arg a = {s != NULL, false, 0};
    char *end;
    long long x;

    /* Digits after an optional minus only: strtoll alone also takes "+5" and " 5". */
    if (s == NULL ||
        !(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
        return a;
    x = strtoll(s, &end, 10);
    a.integer = *end == '\0';
    a.value = x; /* out of range: LLONG_MAX or LLONG_MIN, refused by any bound */
    return a;
}

gl_history_arg
gl_history_arg_json(const cJSON *v)
{
    gl_history_arg a = {v != NULL, false, 0};

    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) return a;
    a.integer = true;
    a.value = v->valuedouble > (double)SATURATE    ? INT64_MAX
              : v->valuedouble < -(double)SATURATE ? INT64_MIN
                                                   : (int64_t)v->valuedouble;
    return a;
}

/* a absent, or an integer within [lo, hi]: GL_OK, else GL_EINVAL. */
static int
check(const char *name, gl_history_arg a, int64_t lo, int64_t hi, gl_err *err)
{
    if (a.present && (!a.integer || a.value < lo || a.value > hi))
        return gl_err_set(err, GL_EINVAL, "%s must be an integer from %lld to %lld", name,
                          (long long)lo, (long long)hi);
    return GL_OK;
}

int
gl_history_since(gl_history_arg since, gl_err *err)
{
    return check("since", since, 0, ID_MAX, err);
}

int
gl_history_params(gl_history_arg limit, gl_history_arg since, gl_history_arg before,
                  int max_history, gl_history_query *out, gl_err *err)
{
    int rv;

    if ((rv = check("limit", limit, 1, GL_HISTORY_LIMIT, err)) != GL_OK ||
        (rv = gl_history_since(since, err)) != GL_OK ||
        (rv = check("before", before, 1, ID_MAX, err)) != GL_OK ||
        (rv = gl_db_history_mode(since.present, since.value, before.present, before.value,
                                 &out->mode, &out->ref, err)) != GL_OK)
        return rv;
    out->limit = limit.present ? (int)limit.value : GL_HISTORY_PAGE_DEFAULT;
    if (out->limit > GL_HISTORY_PAGE_MAX) out->limit = GL_HISTORY_PAGE_MAX;
    if (max_history >= 1 && out->limit > max_history) out->limit = max_history;
    return GL_OK;
}
