/* golive-api: the REST side of GoLive as a FastCGI (or CGI) responder. One api_app per process
 * (config, secret, settings, the nng socket to pushd); one api_req per request, which owns
 * everything allocated for it and is reset after the reply. Each worker thread has its own
 * SQLite connection. */
#ifndef API_H
#define API_H

#include "shared/acl.h"
#include "shared/config.h"
#include "shared/db.h"
#include "shared/err.h"
#include "shared/history_params.h"
#include "shared/jwt.h"
#include "shared/jwt_cache.h"

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_MAX_SEGS 8

typedef struct api_publisher api_publisher;
typedef struct api_req api_req;
typedef struct api_rate_limits api_rate_limits;
typedef struct api_metrics api_metrics;

/* A route handler: replies itself on success and returns GL_OK; otherwise returns a GL_E* with
 * the client's message in err, and api_handle replies with it (the one error reply). */
typedef int (*api_handler)(api_req *r, gl_err *err);

/* One route: method + '/'-separated pattern under /api/<service>/; "{name}" matches one segment,
 * which the handler reads with api_param(r, "name"). */
typedef struct api_route_def {
    const char *service; /* the segment after /api/ */
    const char *method;
    const char *pattern;
    api_handler fn;
} api_route_def;

typedef struct api_app {
    /* cfg is swapped by SIGHUP: each request holds the read side of cfg_lock for its whole
     * length, so none sees a config freed under it; the reload takes the write side only for
     * the swap, and is preferred, so a busy API cannot starve it. */
    gl_config *cfg;
    pthread_rwlock_t cfg_lock;
    const char *secret;
    const char *db_path;
    const char *ipc_url;
    const char *webhook_secret;   /* GOLIVE_WEBHOOK_SECRET, NULL when unset (hooks refused) */
    const char *hls_url;          /* GOLIVE_HLS_URL: public HLS base, + /<name>/index.m3u8 */
    const char *rtmp_url;         /* GOLIVE_RTMP_URL: where encoders publish */
    size_t max_body;              /* GOLIVE_MAX_BODY_BYTES */
    int ipc_timeout_ms;           /* GOLIVE_IPC_TIMEOUT_MS */
    nng_socket pushd;             /* req socket, dialled without blocking */
    api_publisher *publisher;     /* the group-commit writer; NULL in CGI mode */
    api_rate_limits *rate_limits; /* REST publish limits (rate_limits.c); NULL in CGI mode */
    api_metrics *metrics;         /* this process's counters (metrics.c); NULL in CGI mode */
    const api_route_def *routes;  /* the route table main hands in (route_table.c) */
    size_t n_routes;
} api_app;

/* How a request's bytes move: FastCGI streams or CGI's stdin/stdout/environ. */
typedef struct api_io {
    void *ctx;
    const char *(*param)(void *ctx, const char *name);
    int (*read)(void *ctx, char *buf, int n);
    int (*write)(void *ctx, const char *buf, int n);
} api_io;

struct api_req {
    api_app *app;
    gl_db *db;
    gl_jwt_cache *jwt_cache; /* the worker thread's; NULL in CGI mode */
    api_io io;
    const char *method;
    char service[16];         /* "realtime" or "streaming": the segment after /api/ */
    char *segs[API_MAX_SEGS]; /* decoded path segments after /api/<service>/ */
    int nsegs;
    const char *pnames[API_MAX_SEGS]; /* the matched route's "{name}"s (in its pattern) */
    size_t pname_len[API_MAX_SEGS];
    const char *pvals[API_MAX_SEGS]; /* ... and their segments */
    int nparams;
    char pathbuf[2048];
    const char *query; /* raw QUERY_STRING, "" if none */
    gl_user user;
    bool authed;
    char *raw; /* the request body, NUL-terminated, or NULL (api_read_body) */
    size_t raw_len;
    cJSON *body;             /* parsed JSON body, or NULL */
    const char *channel;     /* api_param(r, "channel") once validated */
    const char *cors_origin; /* Access-Control-Allow-Origin of every reply, NULL for none */
    uint32_t retry_after_ms; /* a rate_limited reply's wait (Retry-After), 0 for none */
    bool replied;
    int status; /* the reply's HTTP status, once replied */
    int route;  /* the matched route's index in app->routes, -1 for none */
};

/* ---- request.c ---- */

/* Handle one request end to end (route, authorize, act, reply). */
void api_handle(api_req *r);

/* Reply with status and a JSON object (taken). */
void api_reply(api_req *r, int status, cJSON *obj);

/* Reply 302 with Location: location (a safe token: no CR/LF) and {"location": ...}. */
void api_reply_redirect(api_req *r, const char *location);

/* Reply status with a body that is not JSON (len bytes of type). */
void api_reply_text(api_req *r, int status, const char *type, const char *body, size_t len);

/* Reply {"error":{"code","message"}} with the status of code. Returns code. For api_handle, and
 * for main when no request can be served (CGI without a database). */
int api_fail(api_req *r, int code, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

/* Reply with err's code and message (a generic one for GL_EDB, GL_ENOMEM). Returns err->code. */
int api_fail_err(api_req *r, const gl_err *err);

/* The helpers below return GL_OK or a GL_E* with a client-safe message in err; they never reply. */

/* Read the body (at most max_body bytes) into r->raw (freed with the request). required: a
 * body must be present. */
int api_read_body(api_req *r, bool required, gl_err *err);

/* CONTENT_TYPE is type (case-insensitive), with or without parameters. */
bool api_content_type_is(api_req *r, const char *type);

/* The URL-decoded value of name in an application/x-www-form-urlencoded string (a query string
 * or a form body) into out, truncated to cap; false when absent. */
bool api_form_value(const char *src, const char *name, char *out, size_t cap);

/* Read and parse the JSON body into r->body (freed with the request), an object. required: a
 * body must be present. */
int api_read_json_body(api_req *r, bool required, gl_err *err);

/* Need an authenticated user (GL_EAUTH). */
int api_require_user(api_req *r, gl_err *err);

/* Need a moderator or admin (GL_EAUTH, GL_EFORBIDDEN). */
int api_require_staff(api_req *r, gl_err *err);

/* The value of query parameter name (URL-decoded) into out; false when absent. */
bool api_query(api_req *r, const char *name, char *out, size_t cap);

/* Query parameter name as a history parameter (gl_history_params), its text kept in buf. */
gl_history_arg api_query_arg(api_req *r, const char *name, char *buf, size_t cap);

/* Effective policy and the user's facts for channel. On GL_OK *ov must be freed
 * (gl_override_free); on error nothing is left to free. */
int api_channel_policy(api_req *r, const char *channel, gl_policy *pol, gl_override *ov,
                       gl_acl_facts *facts, gl_err *err);

/* ---- router.c ---- */

/* The decoded path segment the matched route names "{name}", or NULL. */
const char *api_param(const api_req *r, const char *name);

/* ---- publisher.c ---- */

/* Start the writer thread that stores and pushes published messages in batches, with a
 * database connection of its own; sets app->publisher. */
int api_publisher_start(api_app *app, gl_err *err);

/* Store what is queued, then stop the writer (after the worker threads have stopped). */
void api_publisher_stop(api_app *app);

/* The one way golive-api publishes: store it (its before hook, it->m, it->audit; then prune
 * it->m's channel to it->keep rows) in a transaction shared with other requests' messages, then
 * fan the message out through pushd. Waits for both, so a reply comes after the row exists. On
 * GL_OK it->m->id is the row id (unless it->skipped) and *pushed says whether pushd acknowledged
 * (false when skipped). it's out fields are set. Borrows everything. Without a publisher (CGI)
 * it runs on r->db at once. */
int api_publish(api_req *r, gl_db_batch_item *it, bool *pushed, gl_err *err);

/* ---- notify.c ---- */

/* Open the req socket and dial pushd without blocking. */
int api_notify_open(api_app *app, gl_err *err);
void api_notify_close(api_app *app);

/* One request/reply with pushd, driven by nng's callbacks; reusable once done has run. done runs
 * on an nng thread with GL_OK and the reply's data (borrowed for the call; NULL when it had
 * none), or with the reply's error, or GL_EUNAVAIL when pushd did not answer in
 * ipc_timeout_ms (logged here). */
typedef struct api_exchange api_exchange;
typedef void (*api_exchange_fn)(api_exchange *x, int rv, const cJSON *data, const gl_err *err);
struct api_exchange {
    api_app *app;
    api_exchange_fn done;
    void *arg;
    nng_ctx ctx;
    nng_aio *send_aio; /* no callback: it ends in the caller, never on an nng thread */
    nng_aio *recv_aio; /* its callback ends the exchange; NULL when not open */
};

/* Open x on app's socket (nng's error code, 0 on success). */
int api_exchange_open(api_exchange *x, api_app *app, api_exchange_fn done, void *arg);

/* Send body; returns at once, x->done runs later (or right here if nng cannot take it). */
void api_exchange_start(api_exchange *x, const char *body);

/* Close x (waits for a callback in progress); a no-op when x is not open. */
void api_exchange_close(api_exchange *x);

/* Send req (taken) to pushd and wait at most ipc_timeout_ms for the reply. On GL_OK *reply is
 * the parsed reply's data (duplicated; cJSON_Delete). GL_EIPC/GL_EUNAVAIL when pushd is away. */
int api_notify(api_app *app, cJSON *req, cJSON **reply, gl_err *err);

/* Fire-and-report: true when pushd acknowledged. */
bool api_push(api_app *app, cJSON *req);

#endif
