/* The nng client to golive-pushd. A req socket is shared by the worker threads; each call
 * opens its own context (nng req contexts run concurrently) and waits at most ipc_timeout_ms
 * in total, so a REST write is never held up by a missing or slow pushd. */
#include "api.h"
#include "shared/log.h"
#include "shared/timefmt.h"
#include "shared/wire.h"

#include <nng/protocol/reqrep0/req.h>
#include <string.h>

int
api_notify_open(api_app *app, gl_err *err)
{
    int rv;
    if ((rv = nng_req0_open(&app->pushd)) != 0)
        return gl_err_set(err, GL_EIPC, "nng: %s", nng_strerror(rv));
    nng_socket_set_size(app->pushd, NNG_OPT_RECVMAXSZ, GL_WIRE_MAX);
    /* A blocking dial first, so that the SP handshake is over before a short-lived process
     * (CGI) can exit in the middle of it: nng 1.5.2's listener stops accepting when a peer
     * leaves mid-handshake (nng#1518; pushd also watches for that). When pushd is down, a
     * non-blocking dial instead: it succeeds at once and reconnects when pushd appears. */
    if (nng_dial(app->pushd, app->ipc_url, NULL, 0) == 0) return GL_OK;
    if ((rv = nng_dial(app->pushd, app->ipc_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
        nng_close(app->pushd);
        return gl_err_set(err, GL_EIPC, "cannot dial %s: %s", app->ipc_url, nng_strerror(rv));
    }
    return GL_OK;
}

void
api_notify_close(api_app *app)
{
    nng_close(app->pushd);
}

static int
exchange(api_app *app, const char *body, nng_msg **out)
{
    int64_t deadline = gl_time_mono_ms() + app->ipc_timeout_ms, left;
    nng_ctx ctx;
    nng_aio *aio = NULL;
    nng_msg *m = NULL;
    int rv;

    if ((rv = nng_ctx_open(&ctx, app->pushd)) != 0) return rv;
    if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 || (rv = nng_msg_alloc(&m, 0)) != 0 ||
        (rv = nng_msg_append(m, body, strlen(body))) != 0)
        goto out;
    nng_aio_set_msg(aio, m);
    nng_aio_set_timeout(aio, app->ipc_timeout_ms);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0) goto out; /* the message is still ours */
    m = NULL;
    left = deadline - gl_time_mono_ms();
    nng_aio_set_timeout(aio, (nng_duration)(left > 1 ? left : 1));
    nng_ctx_recv(ctx, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) == 0) *out = nng_aio_get_msg(aio);
out:
    nng_msg_free(m);
    nng_aio_free(aio);
    nng_ctx_close(ctx);
    return rv;
}

int
api_notify(api_app *app, cJSON *req, cJSON **reply, gl_err *err)
{
    char *body = req ? cJSON_PrintUnformatted(req) : NULL;
    nng_msg *m = NULL;
    cJSON *root;
    const cJSON *data;
    int rv;

    cJSON_Delete(req);
    *reply = NULL;
    if (body == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    rv = exchange(app, body, &m);
    cJSON_free(body);
    if (rv != 0) {
        gl_log(GL_LOG_WARN, "notify", "pushd did not answer: %s", nng_strerror(rv));
        return gl_err_set(err, GL_EUNAVAIL, "golive-pushd is not answering");
    }
    rv = gl_wire_parse_reply(nng_msg_body(m), nng_msg_len(m), &root, &data, err);
    nng_msg_free(m);
    if (rv != GL_OK) return rv;
    *reply = data ? cJSON_Duplicate(data, 1) : cJSON_CreateObject();
    cJSON_Delete(root);
    return *reply ? GL_OK : gl_err_set(err, GL_ENOMEM, "out of memory");
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
