/* nng req/rep server. IPC_WORKERS contexts each cycle RECV -> (loop handles) -> SEND -> RECV,
 * so several golive-api processes can have requests in flight. Only the loop thread touches
 * server state; the nng callbacks only move messages between nng and a locked queue. */
#include "ipc.h"
#include "channel.h"
#include "conn.h"
#include "fanout.h"
#include "ipc_watchdog.h"
#include "modstate.h"
#include "recent.h"
#include "rpc.h"
#include "shared/chan.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/timefmt.h"
#include "shared/wire.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/transport/ipc/ipc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IPC_WORKERS 8
#define WATCHDOG_MS 2000 /* how often the listener is probed */

enum { W_RECV, W_READY, W_SEND };

typedef struct ipc_worker {
    struct pd_ipc *ipc;
    nng_ctx ctx;
    nng_aio *aio;
    int state;
    nng_msg *msg; /* the request, while W_READY */
    struct ipc_worker *next;
} ipc_worker;

struct pd_ipc {
    pd_server *srv;
    nng_listener listener; /* replaced by the watchdog when nng's stops accepting */
    pd_ipc_watchdog *watchdog;
    _Atomic uint64_t relistens; /* by the watchdog's thread; read by the metrics */
    nng_socket sock;
    ipc_worker workers[IPC_WORKERS];
    pthread_mutex_t mu;
    ipc_worker *ready, **ready_tail; /* guarded by mu: requests waiting for the loop, FIFO */
    bool closing;
};

static void
worker_cb(void *arg)
{
    ipc_worker *w = arg;
    pd_ipc *ipc = w->ipc;
    int rv = nng_aio_result(w->aio);

    if (w->state == W_SEND) {
        if (rv != 0) nng_msg_free(nng_aio_get_msg(w->aio));
        w->state = W_RECV;
        if (rv != NNG_ECLOSED) nng_ctx_recv(w->ctx, w->aio);
        return;
    }
    if (rv != 0) {
        if (rv != NNG_ECLOSED) {
            gl_log(GL_LOG_WARN, "ipc", "receive failed: %s", nng_strerror(rv));
            nng_ctx_recv(w->ctx, w->aio);
        }
        return;
    }
    w->msg = nng_aio_get_msg(w->aio);
    w->state = W_READY;
    pthread_mutex_lock(&ipc->mu);
    w->next = NULL;
    *ipc->ready_tail = w;
    ipc->ready_tail = &w->next;
    pthread_mutex_unlock(&ipc->mu);
    lws_cancel_service(ipc->srv->ctx);
}

static int
listen_start(pd_ipc *ipc)
{
    int rv;
    if ((rv = nng_listener_create(&ipc->listener, ipc->sock, ipc->srv->opt.ipc_url)) != 0)
        return rv;
    /* golive-api may run as another user of the same group (systemd units). */
    nng_listener_set_int(ipc->listener, NNG_OPT_IPC_PERMISSIONS, 0660);
    return nng_listener_start(ipc->listener, 0);
}

/* From the watchdog thread: established pipes belong to the socket and survive this. */
static void
relisten(void *arg)
{
    pd_ipc *ipc = arg;
    int rv;
    atomic_fetch_add_explicit(&ipc->relistens, 1, memory_order_relaxed);
    nng_listener_close(ipc->listener);
    if ((rv = listen_start(ipc)) != 0)
        gl_log(GL_LOG_ERROR, "ipc", "cannot listen again on %s: %s", ipc->srv->opt.ipc_url,
               nng_strerror(rv));
}

int
pd_ipc_start(pd_server *srv, pd_ipc **out, gl_err *err)
{
    pd_ipc *ipc = calloc(1, sizeof(*ipc));
    int rv;

    if (ipc == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    ipc->srv = srv;
    ipc->ready_tail = &ipc->ready;
    pthread_mutex_init(&ipc->mu, NULL);
    if ((rv = nng_rep0_open(&ipc->sock)) != 0) goto out_fail;
    nng_socket_set_size(ipc->sock, NNG_OPT_RECVMAXSZ, GL_WIRE_MAX);
    if ((rv = listen_start(ipc)) != 0) goto out_close;
    for (int i = 0; i < IPC_WORKERS; i++) {
        ipc_worker *w = &ipc->workers[i];
        w->ipc = ipc;
        if ((rv = nng_aio_alloc(&w->aio, worker_cb, w)) != 0 ||
            (rv = nng_ctx_open(&w->ctx, ipc->sock)) != 0)
            goto out_close;
        nng_ctx_recv(w->ctx, w->aio);
    }
    if (strncmp(srv->opt.ipc_url, "ipc://", 6) == 0 &&
        pd_ipc_watchdog_start(srv->opt.ipc_url + 6, WATCHDOG_MS, relisten, ipc, &ipc->watchdog) !=
            GL_OK)
        gl_log(GL_LOG_WARN, "ipc", "no listener watchdog for %s", srv->opt.ipc_url);
    *out = ipc;
    return GL_OK;

out_close:
    nng_close(ipc->sock);
    for (int i = 0; i < IPC_WORKERS; i++)
        if (ipc->workers[i].aio) nng_aio_free(ipc->workers[i].aio);
out_fail:
    gl_log(GL_LOG_ERROR, "ipc", "cannot listen on %s: %s", srv->opt.ipc_url, nng_strerror(rv));
    pthread_mutex_destroy(&ipc->mu);
    free(ipc);
    return gl_err_set(err, GL_EIPC, "cannot listen on %s", srv->opt.ipc_url);
}

void
pd_ipc_stop_watchdog(pd_ipc *ipc)
{
    if (ipc == NULL) return;
    pd_ipc_watchdog_stop(ipc->watchdog);
    ipc->watchdog = NULL;
}

void
pd_ipc_stop(pd_ipc *ipc)
{
    if (ipc == NULL) return;
    pd_ipc_stop_watchdog(ipc);
    nng_close(ipc->sock);
    for (int i = 0; i < IPC_WORKERS; i++) {
        nng_aio_stop(ipc->workers[i].aio);
        nng_aio_free(ipc->workers[i].aio);
        if (ipc->workers[i].state == W_READY) nng_msg_free(ipc->workers[i].msg);
    }
    pthread_mutex_destroy(&ipc->mu);
    free(ipc);
}

#define FOR_MODERATORS (-1) /* fanout_event's msg_id for an event to moderators only */

/* Fan the event text (as golive-api built it, byte for byte) out to channel; msg_id > 0
 * skips subscribers whose history replay already covered that message (prev_id: the channel's
 * message before it); msg_id < 0 sends it to the channel's moderators only. */
static cJSON *
fanout_event(pd_server *srv, const char *channel, const char *event, int64_t msg_id,
             int64_t prev_id)
{
    cJSON *data = cJSON_CreateObject();
    pd_frame *f = pd_frame_new(event, strlen(event));
    uint32_t n;

    if (f == NULL) {
        cJSON_Delete(data);
        return gl_wire_reply_error(GL_ENOMEM, "out of memory");
    }
    n = msg_id < 0 ? srv->fanout->deliver_moderators(srv->fanout, channel, f)
                   : srv->fanout->deliver(srv->fanout, channel, f, msg_id, prev_id);
    pd_frame_unref(f);
    cJSON_AddNumberToObject(data, "subscribers", n);
    return gl_wire_reply_ok(data);
}

/* A message golive-api stored counts towards its author's slow mode and unique chat over
 * WebSocket too, where the channel has either. */
static void
note_recent(pd_server *srv, const char *channel, const char *event)
{
    gl_policy pol;
    pd_policy(srv, channel, &pol);
    if (gl_modes_track_recent(&pol.modes))
        pd_recent_note_event(srv, channel, event, gl_time_now_ms(),
                             (int64_t)pol.modes.slow_mode * 1000);
}

/* The channel op's answer: {"channel","subscribers","users","anonymous"}. */
static cJSON *
counts_json(const char *name, pd_channel_counts n)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return NULL;
    cJSON_AddStringToObject(o, "channel", name);
    cJSON_AddNumberToObject(o, "subscribers", n.subscribers);
    cJSON_AddNumberToObject(o, "users", n.users);
    cJSON_AddNumberToObject(o, "anonymous", n.anonymous);
    return o;
}

static cJSON *
list_channels(pd_server *srv)
{
    cJSON *data = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(data, "channels");
    size_t it = 0;
    gl_map_entry *e;

    if (arr == NULL) {
        cJSON_Delete(data);
        return NULL;
    }
    while ((e = gl_map_next(&srv->channels, &it)) != NULL) {
        const pd_channel *ch = e->val;
        cJSON_AddItemToArray(arr, counts_json(pd_channel_name(ch), pd_channel_count(ch)));
    }
    return data;
}

static cJSON *handle(pd_server *srv, const char *op, const char *channel, const cJSON *req);

/* v is a whole number from 0 to below id. */
static bool
row_id_or_zero(const cJSON *v, int64_t id)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < (double)id &&
           v->valuedouble == (double)(int64_t)v->valuedouble;
}

/* Each item is handled as a request of its own, in order; one reply per item. */
static cJSON *
handle_batch(pd_server *srv, const cJSON *req)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(req, "items"), *item;
    cJSON *data, *results;

    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) > GL_WIRE_BATCH_MAX) {
        char msg[80];
        snprintf(msg, sizeof(msg), "items must be an array of at most %d requests",
                 GL_WIRE_BATCH_MAX);
        return gl_wire_reply_error(GL_EINVAL, msg);
    }
    if ((data = gl_wire_results(&results)) == NULL)
        return gl_wire_reply_error(GL_ENOMEM, "out of memory");
    cJSON_ArrayForEach(item, items)
    {
        const char *op, *channel;
        gl_err err;
        cJSON *r = gl_wire_parse_item(item, &op, &channel, &err) == GL_OK
                       ? handle(srv, op, channel, item)
                       : gl_wire_reply_error(err.code, err.msg);
        if (r == NULL) r = gl_wire_reply_error(GL_ENOMEM, "out of memory");
        cJSON_AddItemToArray(results, r);
    }
    return gl_wire_reply_ok(data);
}

static cJSON *
handle(pd_server *srv, const char *op, const char *channel, const cJSON *req)
{
    const cJSON *event_item = cJSON_GetObjectItemCaseSensitive(req, "event");
    const char *event = gl_json_raw(req, "event");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(req, "prev_id");
    gl_err err;

    if (strcmp(op, GL_OP_STATS) == 0) return gl_wire_reply_ok(pd_rpc_stats(srv));
    if (strcmp(op, GL_OP_CHANNELS) == 0) return gl_wire_reply_ok(list_channels(srv));
    if (strcmp(op, GL_OP_BATCH) == 0) return handle_batch(srv, req);
    if (channel == NULL || gl_chan_validate(channel, &err) != GL_OK)
        return gl_wire_reply_error(GL_EINVAL, "a valid channel is required");
    if (event_item != NULL && !gl_json_raw_is_object(event))
        return gl_wire_reply_error(GL_EINVAL, "event must be an object");
    if (strcmp(op, GL_OP_PUBLISH) == 0) {
        if (event == NULL) return gl_wire_reply_error(GL_EINVAL, "event is required");
        if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 0x1p53 ||
            id->valuedouble != (double)(int64_t)id->valuedouble)
            return gl_wire_reply_error(GL_EINVAL, "id must be the message's row id");
        if (prev != NULL && !row_id_or_zero(prev, (int64_t)id->valuedouble))
            return gl_wire_reply_error(GL_EINVAL, "prev_id must be a row id below id, or 0");
        note_recent(srv, channel, event);
        srv->counters.rest_published++;
        return fanout_event(srv, channel, event, (int64_t)id->valuedouble,
                            prev ? (int64_t)prev->valuedouble : 0);
    }
    if (strcmp(op, GL_OP_EVENT) == 0) {
        const cJSON *aud = cJSON_GetObjectItemCaseSensitive(req, "audience");
        if (event == NULL) return gl_wire_reply_error(GL_EINVAL, "event is required");
        if (aud == NULL) return fanout_event(srv, channel, event, 0, 0);
        if (!cJSON_IsString(aud) || strcmp(aud->valuestring, GL_AUDIENCE_MODERATORS) != 0)
            return gl_wire_reply_error(GL_EINVAL, "audience must be \"moderators\" or absent");
        return fanout_event(srv, channel, event, FOR_MODERATORS, 0);
    }
    if (strcmp(op, GL_OP_RELOAD) == 0) {
        if (pd_modstate_reload(srv, channel, &err) != GL_OK)
            return gl_wire_reply_error(err.code, err.msg);
        srv->fanout->reloaded(srv->fanout, channel);
        if (event != NULL) {
            cJSON *r = fanout_event(srv, channel, event, 0, 0);
            pd_recheck_channel(srv, channel);
            return r;
        }
        pd_recheck_channel(srv, channel);
        return gl_wire_reply_ok(NULL);
    }
    if (strcmp(op, GL_OP_PRESENCE) == 0)
        return gl_wire_reply_ok(pd_channel_presence_json(channel, pd_channel_find(srv, channel)));
    if (strcmp(op, GL_OP_CHANNEL) == 0)
        return gl_wire_reply_ok(
            counts_json(channel, pd_channel_count(pd_channel_find(srv, channel))));
    return gl_wire_reply_error(GL_ENOTFOUND, "unknown op");
}

static const char oom_reply[] =
    "{\"ok\":false,\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}";

/* Send r (deleted here) as the worker's reply. */
static void
reply(ipc_worker *w, cJSON *r)
{
    char *s = r ? cJSON_PrintUnformatted(r) : NULL;
    const char *body = s ? s : oom_reply;
    nng_msg *m = NULL;

    cJSON_Delete(r);
    if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, body, strlen(body)) != 0) {
        nng_msg_free(m);
        m = NULL;
    }
    cJSON_free(s);
    if (m == NULL) {
        /* Without memory for a reply, drop the request: golive-api's wait times out. */
        w->state = W_RECV;
        nng_ctx_recv(w->ctx, w->aio);
        return;
    }
    w->state = W_SEND;
    nng_aio_set_msg(w->aio, m);
    nng_ctx_send(w->ctx, w->aio);
}

uint64_t
pd_ipc_relistens(pd_ipc *ipc)
{
    return ipc ? atomic_load_explicit(&ipc->relistens, memory_order_relaxed) : 0;
}

/* The cluster's answer to a presence request golive-api made (pd_ipc_service deferred it). */
static void
presence_done(void *arg, cJSON *data)
{
    ipc_worker *w = arg;
    reply(w,
          data != NULL ? gl_wire_reply_ok(data) : gl_wire_reply_error(GL_ENOMEM, "out of memory"));
}

/* The channel op's counts from the cluster's merged presence: every node's subscribers. */
static void
counts_done(void *arg, cJSON *data)
{
    ipc_worker *w = arg;
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "channel"));
    const cJSON *u, *users = cJSON_GetObjectItemCaseSensitive(data, "users");
    const cJSON *anon = cJSON_GetObjectItemCaseSensitive(data, "anonymous");
    pd_channel_counts n = {0, (uint32_t)cJSON_GetArraySize(users),
                           cJSON_IsNumber(anon) ? (uint32_t)anon->valuedouble : 0};
    cJSON *o;

    n.subscribers = n.anonymous;
    cJSON_ArrayForEach(u, users)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(u, "connections");
        if (cJSON_IsNumber(c)) n.subscribers += (uint32_t)c->valuedouble;
    }
    o = name != NULL ? counts_json(name, n) : NULL;
    cJSON_Delete(data);
    reply(w, o != NULL ? gl_wire_reply_ok(o) : gl_wire_reply_error(GL_ENOMEM, "out of memory"));
}

/* A presence or channel request, outside a batch, in a cluster: every node answers, so the
 * reply waits (at most PD_PRESENCE_WAIT_MS, below golive-api's GOLIVE_IPC_TIMEOUT_MS). */
static bool
defer_presence(pd_server *srv, ipc_worker *w, const char *op, const char *channel)
{
    bool presence = strcmp(op, GL_OP_PRESENCE) == 0, counts = strcmp(op, GL_OP_CHANNEL) == 0;
    gl_err err;
    return srv->cluster_presence != NULL && (presence || counts) && channel != NULL &&
           gl_chan_validate(channel, &err) == GL_OK &&
           srv->cluster_presence(srv, channel, presence ? presence_done : counts_done, w);
}

void
pd_ipc_service(pd_ipc *ipc)
{
    ipc_worker *list;

    pthread_mutex_lock(&ipc->mu);
    list = ipc->ready;
    ipc->ready = NULL;
    ipc->ready_tail = &ipc->ready;
    pthread_mutex_unlock(&ipc->mu);
    while (list != NULL) {
        ipc_worker *w = list;
        cJSON *req = NULL, *r;
        const char *op = NULL, *channel = NULL;
        gl_err err;

        list = list->next;
        if (gl_wire_parse_request(nng_msg_body(w->msg), nng_msg_len(w->msg), &req, &op, &channel,
                                  &err) != GL_OK) {
            gl_log(GL_LOG_WARN, "ipc", "refused a request: %s", err.msg);
            r = gl_wire_reply_error(err.code, err.msg);
        } else if (defer_presence(ipc->srv, w, op, channel)) {
            r = NULL; /* presence_done replies */
        } else {
            r = handle(ipc->srv, op, channel, req);
        }
        gl_log(GL_LOG_DEBUG, "ipc", "%s %s", req ? op : "(bad request)", channel ? channel : "");
        size_t k = gl_wire_op_index(req ? op : NULL);
        ipc->srv->counters.ipc_requests[k]++;
        ipc->srv->counters.ipc_errors[k] +=
            r != NULL && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
        cJSON_Delete(req);
        nng_msg_free(w->msg);
        w->msg = NULL;
        if (r != NULL) reply(w, r);
    }
}
