/* RPC: "stats" answered from the server's counters; other methods POSTed to a configured
 * backend by an lws HTTP client on the loop, with a per-call timer. A call owns its request
 * body, response buffer and a reference to the caller's connection until the client wsi is
 * gone; the caller is answered exactly once (reply, backend error, or timeout). */
#include "rpc.h"
#include "conn.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/timefmt.h"
#include "shared/version.h"

#include <stdlib.h>
#include <string.h>

#define RPC_RESPONSE_MAX (1024 * 1024)

typedef struct rpc_call {
    lws_sorted_usec_list_t sul; /* first: the timer callback gets &sul */
    pd_server *srv;
    struct lws *wsi;
    pd_conn *c;
    cJSON *id;
    char method[GL_NAME_MAX];
    char *body;
    size_t body_len;
    char *resp;
    size_t resp_len;
    int status;
    int64_t started_us;
    bool answered;
    bool connecting; /* inside lws_client_connect_via_info(): it owns the failure path */
} rpc_call;

void
pd_rpc_format_uptime(int64_t secs, char out[32])
{
    int64_t h = secs / 3600, m = (secs % 3600) / 60, s = secs % 60;
    if (h > 0)
        snprintf(out, 32, "%lldh%lldm", (long long)h, (long long)m);
    else if (m > 0)
        snprintf(out, 32, "%lldm%llds", (long long)m, (long long)s);
    else
        snprintf(out, 32, "%llds", (long long)s);
}

cJSON *
pd_rpc_stats(pd_server *srv)
{
    cJSON *o = cJSON_CreateObject(), *limits;
    char up[32];

    pd_rpc_format_uptime((gl_time_mono_ms() - srv->started_mono_ms) / 1000, up);
    if (o == NULL ||
        cJSON_AddNumberToObject(o, "total_channels", (double)srv->channels.len) == NULL ||
        cJSON_AddNumberToObject(o, "total_clients", srv->nconns) == NULL ||
        cJSON_AddStringToObject(o, "uptime", up) == NULL ||
        cJSON_AddStringToObject(o, "version", gl_version) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    /* A cluster's: total_clients counts every node's, as their last heartbeats said. */
    if (srv->cluster != NULL) {
        cJSON *cl = cJSON_AddObjectToObject(o, "cluster");
        uint64_t all = srv->nconns + srv->cluster_view.connections;
        if (cl == NULL ||
            cJSON_AddNumberToObject(cl, "nodes", srv->cluster_view.nodes + 1) == NULL ||
            cJSON_AddNumberToObject(cl, "node_clients", srv->nconns) == NULL) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "total_clients"), (double)all);
    }
    /* The limits' refusals (docs/moderation.md "Rate limits"), for the operator's metrics. */
    limits = gl_limit_counts_json(&srv->limit_counts, srv->anonymous.total);
    if (limits == NULL || !cJSON_AddItemToObject(o, "limits", limits)) {
        cJSON_Delete(limits);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void
call_free(rpc_call *call)
{
    lws_sul_cancel(&call->sul);
    pd_conn_unref(call->c);
    cJSON_Delete(call->id);
    free(call->body);
    free(call->resp);
    free(call);
}

/* Answer the client once: the backend's JSON as result, or an error. */
static void
answer(rpc_call *call, int code, const char *msg)
{
    cJSON *result, *data;

    if (call->answered) return;
    call->answered = true;
    call->srv->counters.rpc_calls++;
    call->srv->counters.rpc_us += (uint64_t)(gl_time_mono_us() - call->started_us);
    call->srv->counters.rpc_failed += code != GL_OK;
    lws_sul_cancel(&call->sul);
    if (call->c->wsi == NULL) return;
    if (code != GL_OK) {
        gl_log(GL_LOG_WARN, "rpc", "%s: %s", call->method, msg);
        pd_conn_send_error(call->c, call->id, code, msg);
        return;
    }
    /* Kept as the backend wrote it: its numbers and strings reach the client unchanged. */
    result = gl_json_parse_raw(call->resp ? call->resp : "", call->resp_len, NULL);
    if (result == NULL) {
        gl_log(GL_LOG_WARN, "rpc", "%s: backend answered something that is not JSON", call->method);
        call->srv->counters.rpc_failed++;
        pd_conn_send_error(call->c, call->id, GL_EUNAVAIL, "rpc backend answered invalid JSON");
        return;
    }
    data = cJSON_CreateObject();
    if (data != NULL) {
        cJSON_AddStringToObject(data, "method", call->method);
        cJSON_AddItemToObject(data, "result", result);
    } else {
        cJSON_Delete(result);
    }
    pd_conn_send_reply(call->c, "rpc", call->id, data);
}

static void
on_timeout(lws_sorted_usec_list_t *sul)
{
    rpc_call *call = (rpc_call *)sul;
    answer(call, GL_EUNAVAIL, "rpc backend did not answer in time");
    if (call->wsi != NULL) lws_set_timeout(call->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static char *
build_body(const pd_conn *c, const char *method, const cJSON *params, size_t *len)
{
    cJSON *o = cJSON_CreateObject(), *user, *p;
    char *s;

    if (o == NULL) return NULL;
    cJSON_AddStringToObject(o, "method", method);
    p = params ? cJSON_Duplicate(params, 1) : cJSON_CreateNull();
    cJSON_AddItemToObject(o, "params", p);
    if ((user = cJSON_AddObjectToObject(o, "user")) != NULL) {
        cJSON_AddStringToObject(user, "id", c->user->id);
        cJSON_AddStringToObject(user, "username", pd_user_name(c->user));
        cJSON_AddStringToObject(user, "role", pd_user_role(c->user));
    }
    s = p && user ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (s != NULL) *len = strlen(s);
    return s;
}

int
pd_rpc_proxy_call(pd_server *srv, pd_conn *c, const cJSON *id, const gl_rpc_proxy *proxy,
                  const cJSON *params, gl_err *err)
{
    struct lws_client_connect_info i;
    rpc_call *call = calloc(1, sizeof(*call));
    char url[GL_URL_MAX], path[GL_URL_MAX + 1];
    const char *prot, *addr, *upath;
    int port;

    if (call == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    call->srv = srv;
    call->started_us = gl_time_mono_us();
    snprintf(call->method, sizeof(call->method), "%s", proxy->method);
    if ((id != NULL && (call->id = cJSON_Duplicate(id, 1)) == NULL) ||
        (call->body = build_body(c, proxy->method, params, &call->body_len)) == NULL) {
        cJSON_Delete(call->id);
        free(call);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    call->c = c;
    pd_conn_ref(c);
    snprintf(url, sizeof(url), "%s", proxy->url);
    if (lws_parse_uri(url, &prot, &addr, &port, &upath) != 0 || strcmp(prot, "http") != 0) {
        call_free(call);
        return gl_err_set(err, GL_EUNAVAIL, "rpc proxy url is not usable");
    }
    snprintf(path, sizeof(path), "/%s", upath);

    memset(&i, 0, sizeof(i));
    i.context = srv->ctx;
    i.address = addr;
    i.port = port;
    i.path = path;
    i.host = addr;
    i.origin = addr;
    i.method = "POST";
    i.protocol = NULL;
    i.local_protocol_name = "golive-rpc";
    i.opaque_user_data = call;
    i.pwsi = &call->wsi;
    lws_sul_schedule(srv->ctx, 0, &call->sul, on_timeout, (lws_usec_t)proxy->timeout_ms * 1000);
    call->connecting = true;
    if (lws_client_connect_via_info(&i) == NULL) {
        /* lws may have reported CONNECTION_ERROR already; that answered but left us the free. */
        answer(call, GL_EUNAVAIL, "rpc backend is unreachable");
        call_free(call);
        return GL_OK;
    }
    call->connecting = false;
    return GL_OK;
}

int
pd_rpc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    rpc_call *call = lws_get_opaque_user_data(wsi);
    char buf[LWS_PRE + 4096], *p;
    int n;
    (void)user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
        unsigned char **up = (unsigned char **)in, *end = (*up) + len;
        char clen[24];
        n = snprintf(clen, sizeof(clen), "%zu", call->body_len);
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (unsigned char *)clen,
                                         n, up, end) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (unsigned char *)"application/json", 16, up, end))
            return -1;
        lws_client_http_body_pending(wsi, 1);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
        unsigned char *out = malloc(LWS_PRE + call->body_len);
        if (out == NULL) return -1;
        memcpy(out + LWS_PRE, call->body, call->body_len);
        lws_client_http_body_pending(wsi, 0);
        n = lws_write(wsi, out + LWS_PRE, call->body_len, LWS_WRITE_HTTP_FINAL);
        free(out);
        return n < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        call->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
        p = buf + LWS_PRE;
        n = (int)sizeof(buf) - LWS_PRE;
        return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ: {
        char *nr;
        if (call->resp_len + len > RPC_RESPONSE_MAX) {
            answer(call, GL_EUNAVAIL, "rpc backend answer is too large");
            return -1;
        }
        if ((nr = realloc(call->resp, call->resp_len + len + 1)) == NULL) return -1;
        call->resp = nr;
        memcpy(call->resp + call->resp_len, in, len);
        call->resp_len += len;
        return 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (call->status < 200 || call->status > 299) {
            char msg[64];
            snprintf(msg, sizeof(msg), "rpc backend answered HTTP %d", call->status);
            answer(call, GL_EUNAVAIL, msg);
        } else {
            answer(call, GL_OK, NULL);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (call != NULL) {
            answer(call, GL_EUNAVAIL, "rpc backend is unreachable");
            lws_set_opaque_user_data(wsi, NULL);
            if (!call->connecting) call_free(call);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (call != NULL) {
            answer(call, GL_EUNAVAIL, "rpc backend closed the connection");
            call->wsi = NULL;
            call_free(call);
            lws_set_opaque_user_data(wsi, NULL);
        }
        return 0;
    default:
        return 0;
    }
}
