/* The single table that maps GL_E* codes to HTTP statuses and JSON code names,
 * shared by the REST replies and the WebSocket error frames. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
    int http;
    const char *name;
} err_table[GL_ECOUNT] = {
    [GL_OK] = {200, "ok"},
    [GL_EINVAL] = {400, "bad_request"},
    [GL_EAUTH] = {401, "unauthorized"},
    [GL_EFORBIDDEN] = {403, "forbidden"},
    [GL_ENOTFOUND] = {404, "not_found"},
    [GL_ECONFLICT] = {409, "conflict"},
    [GL_ETOOBIG] = {413, "too_large"},
    [GL_ERATE] = {429, "rate_limited"},
    [GL_EUNAVAIL] = {503, "unavailable"},
    [GL_ENOMEM] = {503, "unavailable"},
    [GL_EDB] = {503, "unavailable"},
    [GL_EIPC] = {503, "unavailable"},
    [GL_EMETHOD] = {405, "method_not_allowed"},
    [GL_EINTERNAL] = {500, "internal"},
};

int
gl_err_set(gl_err *e, int code, const char *fmt, ...)
{
    if (e != NULL) {
        va_list ap;
        e->code = code;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

void
gl_err_clear(gl_err *e)
{
    if (e != NULL) {
        e->code = GL_OK;
        e->msg[0] = '\0';
    }
}

const char *
gl_err_code_name(int code)
{
    if (code < 0 || code >= GL_ECOUNT || err_table[code].name == NULL) return "internal";
    return err_table[code].name;
}

int
gl_err_http_status(int code)
{
    if (code < 0 || code >= GL_ECOUNT || err_table[code].name == NULL) return 500;
    return err_table[code].http;
}
