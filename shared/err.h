/* One error type for all of GoLive: a GL_E* code plus a short message that may reach a client.
 * Actions return GL_OK (0) or a positive GL_E*; detail goes in a caller's gl_err (may be NULL). */
#ifndef GL_ERR_H
#define GL_ERR_H

#define GL_OK 0
#define GL_EINVAL 1     /* bad input: 400 bad_request */
#define GL_EAUTH 2      /* missing/invalid token: 401 unauthorized */
#define GL_EFORBIDDEN 3 /* authenticated but not allowed: 403 forbidden */
#define GL_ENOTFOUND 4  /* 404 not_found */
#define GL_ECONFLICT 5  /* 409 conflict */
#define GL_ETOOBIG 6    /* 413 too_large */
#define GL_ERATE 7      /* 429 rate_limited (also namespace max_clients) */
#define GL_EUNAVAIL 8   /* 503 unavailable: database or pushd cannot serve */
#define GL_ENOMEM 9     /* 503 unavailable, logged as out of memory */
#define GL_EDB 10       /* 503 unavailable, SQLite failed (detail only in the log) */
#define GL_EIPC 11      /* 503 unavailable, nng failed */
#define GL_EMETHOD 12   /* 405 method_not_allowed */
#define GL_EINTERNAL 13 /* 500 internal: a bug of ours, never bad input */
#define GL_ECOUNT 14

#define GL_ERR_MSG_MAX 256

typedef struct gl_err {
    int code;
    char msg[GL_ERR_MSG_MAX];
} gl_err;

/* Record code and a printf-style message in e (if not NULL). Returns code, so that
 * `return gl_err_set(err, GL_EINVAL, "...")` reads as one step. */
int gl_err_set(gl_err *e, int code, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

/* Reset e to GL_OK with an empty message. */
void gl_err_clear(gl_err *e);

/* The stable JSON "code" string for a GL_E* ("bad_request", "forbidden", ...). */
const char *gl_err_code_name(int code);

/* The HTTP status for a GL_E* (400, 401, 403, 404, ...); 500 for unknown codes. */
int gl_err_http_status(int code);

#endif
