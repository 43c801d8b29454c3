/* The nng client to golive-pushd. A req socket is shared by the worker threads; each exchange
 * has its own context (nng req contexts run concurrently) and lasts at most ipc_timeout_ms in
 * total, so a REST write is never held up by a missing or slow pushd. Exchanges run on nng's
 * callbacks (the publisher keeps several going); api_notify waits for one. */
#include "api.h"
#include "counters.h"
#include "shared/log.h"
#include "shared/wire.h"

#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define REDIAL_MIN_MS 10
#define REDIAL_MAX_MS 200

/* Dial url (one of GOLIVE_IPC_URL's). */
static int
dial(api_app *app, const char *url, gl_err *err)
{
    int rv;
    /* A blocking dial first, so that the SP handshake is over before a short-lived process
     * (CGI) can exit in the middle of it: nng 1.5.2's listener stops accepting when a peer
     * leaves mid-handshake (nng#1518; pushd also watches for that). When pushd is down, a
     * non-blocking dial instead: it succeeds at once and reconnects when pushd appears. */
    if (nng_dial(app->pushd, url, NULL, 0) == 0) return GL_OK;
    if ((rv = nng_dial(app->pushd, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
        return gl_err_set(err, GL_EIPC, "cannot dial %s: %s", url, nng_strerror(rv));
    return GL_OK;
}

int
api_notify_open(api_app *app, gl_err *err)
{
    char urls[4096], *save = NULL, *url;
    int rv, n = 0;

    if (snprintf(urls, sizeof(urls), "%s", app->ipc_url) >= (int)sizeof(urls))
        return gl_err_set(err, GL_EINVAL, "GOLIVE_IPC_URL is longer than %zu bytes",
                          sizeof(urls) - 1);
    if ((rv = nng_req0_open(&app->pushd)) != 0)
        return gl_err_set(err, GL_EIPC, "nng: %s", nng_strerror(rv));
    nng_socket_set_size(app->pushd, NNG_OPT_RECVMAXSZ, GL_WIRE_MAX);
    /* Redial a restarted pushd within REDIAL_MAX_MS (nng's default is a fixed 100 ms, then
     * growing): a REST write in that gap is stored but cannot be pushed ("pushed": false). */
    nng_socket_set_ms(app->pushd, NNG_OPT_RECONNMINT, REDIAL_MIN_MS);
    nng_socket_set_ms(app->pushd, NNG_OPT_RECONNMAXT, REDIAL_MAX_MS);
    /* Several pushd nodes of a cluster (docs/cluster.md): the req socket sends each request to
     * one of those connected, so a node that dies leaves the others to take REST's writes. */
    for (url = strtok_r(urls, ",", &save); url != NULL; url = strtok_r(NULL, ",", &save), n++)
        if ((rv = dial(app, url, err)) != GL_OK) {
            nng_close(app->pushd);
            return rv;
        }
    if (n == 0) {
        nng_close(app->pushd);
        return gl_err_set(err, GL_EINVAL, "GOLIVE_IPC_URL names no address");
    }
    return GL_OK;
}

void
api_notify_close(api_app *app)
{
    nng_close(app->pushd);
}

/* End an exchange: parse what came back (if anything) and hand it to done. */
static void
finish(api_exchange *x, int nrv, nng_msg *m)
{
    const cJSON *data = NULL;
    cJSON *root = NULL;
    gl_err err;
    int rv;

    if (nrv != 0) {
        gl_log(GL_LOG_WARN, "notify", "pushd did not answer: %s", nng_strerror(nrv));
        rv = gl_err_set(&err, GL_EUNAVAIL, "golive-pushd is not answering");
    } else {
        rv = gl_wire_parse_reply(nng_msg_body(m), nng_msg_len(m), &root, &data, &err);
        nng_msg_free(m);
    }
    x->done(x, rv, data, &err);
    cJSON_Delete(root);
}

/* After an exchange that got no answer: a fresh context. When the receive of a context whose
 * request is still queued (no pushd to send it to) times out, nng 1.5.2 frees the request but
 * leaves the send pending, and cancelling that send then touches the freed request; closing the
 * context ends the send cleanly. A message the send still holds was never taken by nng. */
static void
renew_ctx(api_exchange *x)
{
    nng_ctx_close(x->ctx);
    nng_aio_wait(x->send_aio);
    nng_msg_free(nng_aio_get_msg(x->send_aio));
    nng_aio_set_msg(x->send_aio, NULL);
    if (nng_ctx_open(&x->ctx, x->app->pushd) != 0)
        x->ctx = (nng_ctx)NNG_CTX_INITIALIZER; /* the next exchange fails, and tries again */
}

/* nng's callback: the answer came, or the wait ended. The request's own aio has no callback
 * (it ends as soon as nng has a connection to send on), so an exchange costs one hand-off to
 * nng's threads, not two: a req context takes the receive as soon as the send is queued. */
static void
reply_cb(void *arg)
{
    api_exchange *x = arg;
    int rv = nng_aio_result(x->recv_aio);

    if (rv != 0) renew_ctx(x);
    finish(x, rv, rv == 0 ? nng_aio_get_msg(x->recv_aio) : NULL);
}

int
api_exchange_open(api_exchange *x, api_app *app, api_exchange_fn done, void *arg)
{
    int rv;

    *x = (api_exchange){.app = app, .done = done, .arg = arg};
    if ((rv = nng_aio_alloc(&x->send_aio, NULL, NULL)) != 0) return rv;
    if ((rv = nng_aio_alloc(&x->recv_aio, reply_cb, x)) != 0 ||
        (rv = nng_ctx_open(&x->ctx, app->pushd)) != 0) {
        nng_aio_free(x->recv_aio);
        nng_aio_free(x->send_aio);
        x->recv_aio = NULL;
    }
    return rv;
}

void
api_exchange_close(api_exchange *x)
{
    if (x->recv_aio == NULL) return;
    nng_aio_free(x->recv_aio); /* waits for a running callback */
    nng_aio_free(x->send_aio);
    nng_ctx_close(x->ctx);
    x->recv_aio = NULL;
}

void
api_exchange_start(api_exchange *x, const char *body)
{
    nng_msg *m = NULL;
    int rv;

    /* The previous send may still be finishing: nng ends a send that waited for a busy
     * connection after the connection's lock is let go, so its answer can come first. */
    nng_aio_wait(x->send_aio);
    if ((rv = nng_msg_alloc(&m, 0)) != 0 || (rv = nng_msg_append(m, body, strlen(body))) != 0) {
        nng_msg_free(m);
        finish(x, rv, NULL);
        return;
    }
    nng_aio_set_msg(x->send_aio, m);
    nng_aio_set_timeout(x->send_aio, NNG_DURATION_INFINITE); /* renew_ctx ends it */
    nng_ctx_send(x->ctx, x->send_aio);
    nng_aio_set_timeout(x->recv_aio, x->app->ipc_timeout_ms);
    nng_ctx_recv(x->ctx, x->recv_aio);
}

/* api_notify's waiting: the exchange's outcome, handed over from nng's thread. */
typedef struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rv;
    gl_err err;
    cJSON *data;
} waiter;

static void
wake(api_exchange *x, int rv, const cJSON *data, const gl_err *err)
{
    waiter *w = x->arg;
    pthread_mutex_lock(&w->mu);
    w->rv = rv;
    if (rv == GL_OK) {
        w->data = data ? cJSON_Duplicate(data, 1) : cJSON_CreateObject();
        if (w->data == NULL) w->rv = gl_err_set(&w->err, GL_ENOMEM, "out of memory");
    } else {
        w->err = *err;
    }
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int
api_notify(api_app *app, cJSON *req, cJSON **reply, gl_err *err)
{
    char *body = req ? cJSON_PrintUnformatted(req) : NULL;
    const cJSON *opv = cJSON_GetObjectItemCaseSensitive(req, "op");
    char op[16] = "";
    waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    api_exchange x;
    int rv;

    if (cJSON_IsString(opv)) snprintf(op, sizeof(op), "%s", opv->valuestring);
    cJSON_Delete(req);
    *reply = NULL;
    if (body == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rv = api_exchange_open(&x, app, wake, &w)) != 0) {
        cJSON_free(body);
        return gl_err_set(err, GL_EIPC, "nng: %s", nng_strerror(rv));
    }
    api_exchange_start(&x, body);
    cJSON_free(body);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    api_exchange_close(&x);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    api_metrics_notify(app->metrics, op, w.rv == GL_OK);
    if (w.rv != GL_OK) {
        if (err != NULL) *err = w.err;
        return w.rv;
    }
    *reply = w.data;
    return GL_OK;
}

bool
api_push(api_app *app, cJSON *req)
{
    cJSON *reply;
    gl_err err;
    if (api_notify(app, req, &reply, &err) != GL_OK) return false;
    cJSON_Delete(reply);
    return true;
}
