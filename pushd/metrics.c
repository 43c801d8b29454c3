/* The metrics and health endpoints (metrics.h): an lws vhost of its own whose one protocol
 * answers plain HTTP GETs, each reply written with its headers in one lws_write. */
#include "metrics.h"
#include "cluster.h"
#include "conn.h"
#include "ipc.h"
#include "store.h"
#include "writer.h"
#include "shared/db_errors.h"
#include "shared/log.h"
#include "shared/promtext.h"
#include "shared/timefmt.h"
#include "shared/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
counter(gl_text *t, const char *name, const char *help, uint64_t v)
{
    gl_prom_family(t, name, "counter", help);
    gl_text_printf(t, "%s %llu\n", name, (unsigned long long)v);
}

static void
gauge(gl_text *t, const char *name, const char *help, double v)
{
    gl_prom_family(t, name, "gauge", help);
    gl_text_printf(t, "%s %.17g\n", name, v);
}

/* A histogram from per-bucket counts (not cumulative) and the bounds' labels. */
static void
histogram(gl_text *t, const char *name, const char *help, const uint64_t *per_bucket,
          const char *const *le, size_t n, double sum)
{
    uint64_t cum = 0;

    gl_prom_family(t, name, "histogram", help);
    for (size_t i = 0; i < n; i++) {
        cum += per_bucket[i];
        gl_text_printf(t, "%s_bucket{le=\"%s\"} %llu\n", name, le[i], (unsigned long long)cum);
    }
    gl_text_printf(t, "%s_sum %.6f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

/* The history writer's batches: rows per transaction and store time. */
static void
print_writer(pd_server *srv, gl_text *t)
{
    static const char *const size_le[PD_WRITER_NSIZE] = {"1",  "2",   "4",   "8",   "16",  "32",
                                                         "64", "128", "256", "512", "+Inf"};
    static const char *const secs_le[PD_WRITER_NSECS] = {"0.0005", "0.001", "0.0025", "0.005",
                                                         "0.01",   "0.025", "0.05",   "0.1",
                                                         "0.25",   "0.5",   "1",      "+Inf"};
    pd_writer_stats w;

    if (srv->writer == NULL) return;
    pd_writer_stats_get(srv->writer, &w);
    histogram(t, "golive_pushd_writer_batch_rows",
              "Rows per history transaction of the WebSocket writer.", w.batches_by_size, size_le,
              PD_WRITER_NSIZE, (double)w.rows);
    histogram(t, "golive_pushd_writer_store_seconds",
              "Time one history transaction (insert, prune, commit) took.", w.batches_by_secs,
              secs_le, PD_WRITER_NSECS, (double)w.store_us / 1e6);
    counter(t, "golive_pushd_writer_failed_rows_total",
            "WebSocket publishes the writer could not store (their publishers got unavailable).",
            w.failed_rows);
}

/* The store over NATS: what this node asks (GOLIVE_STORE=nats) or answers (it has the file). */
static void
print_store(pd_server *srv, gl_text *t)
{
    const pd_store_service *svc = pd_cluster_store_service(srv->cluster);
    uint64_t done, failed;

    if (srv->remote != NULL) {
        pd_remote_counts(srv->remote, &done, &failed);
        counter(t, "golive_pushd_store_remote_requests_total",
                "Store requests (history, state, messages to store) sent over NATS.", done);
        counter(t, "golive_pushd_store_remote_failures_total",
                "Those that got no answer in time, or an error.", failed);
    }
    if (svc != NULL) {
        pd_store_service_counts(svc, &done, &failed);
        counter(t, "golive_pushd_store_answered_total",
                "Store requests of nodes without the database that this node answered.", done);
        counter(t, "golive_pushd_store_answer_failures_total", "Those answered with an error.",
                failed);
    }
}

/* The cluster's series, when GOLIVE_NATS_URL makes this node one of several. */
static void
print_cluster(pd_server *srv, gl_text *t)
{
    const pd_counters *n = &srv->counters;

    if (srv->cluster == NULL) return;
    gauge(t, "golive_pushd_cluster_connected", "1 while NATS is connected, else 0.",
          pd_cluster_connected(srv->cluster) ? 1 : 0);
    counter(t, "golive_pushd_cluster_sent_total",
            "Messages and events published to the other nodes over NATS.", n->cluster_sent);
    counter(t, "golive_pushd_cluster_send_failures_total",
            "Those NATS would not take (the other nodes read the messages from SQLite).",
            n->cluster_send_failed);
    counter(t, "golive_pushd_cluster_received_total",
            "Messages, events and reloads received from the other nodes.", n->cluster_received);
    counter(t, "golive_pushd_cluster_unreadable_total",
            "NATS messages on GoLive's subjects that were not a node's.", n->cluster_bad);
    counter(t, "golive_pushd_cluster_repaired_total",
            "Messages delivered from SQLite because NATS had not brought them (a gap).",
            n->cluster_repaired);
    print_store(srv, t);
}

static void
print_metrics(pd_server *srv, gl_text *t)
{
    static const uint16_t codes[PD_NCLOSE_CODES] = PD_CLOSE_CODES;
    char code_names[PD_NCLOSE_CODES][8];
    gl_prom_value closes[PD_NCLOSE_CODES], modes[GL_MODE_COUNT - 1];
    gl_prom_value ipc_requests[GL_WIRE_NOPS + 1], ipc_errors[GL_WIRE_NOPS + 1];
    const pd_counters *n = &srv->counters;
    const gl_limit_counts *l = &srv->limit_counts;
    uint64_t users = 0, anon = 0, subs = 0;

    for (const pd_conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->user != NULL)
            users++;
        else
            anon++;
        subs += c->nsubs;
    }
    gl_prom_family(t, "golive_pushd_build_info", "gauge", "golive-pushd's version, as a label.");
    gl_text_printf(t, "golive_pushd_build_info{version=\"%s\"} 1\n", gl_version);
    gl_prom_family(t, "golive_pushd_start_time_seconds", "gauge",
                   "When pushd started, in seconds since the epoch.");
    gl_text_printf(t, "golive_pushd_start_time_seconds %.3f\n",
                   (double)(gl_time_now_ms() - (gl_time_mono_ms() - srv->started_mono_ms)) /
                       1000.0);
    gl_prom_family(t, "golive_pushd_connections", "gauge",
                   "Open WebSocket connections, by auth state.");
    gl_text_printf(t, "golive_pushd_connections{auth=\"user\"} %llu\n", (unsigned long long)users);
    gl_text_printf(t, "golive_pushd_connections{auth=\"anonymous\"} %llu\n",
                   (unsigned long long)anon);
    gauge(t, "golive_pushd_subscriptions", "Channel subscriptions of the open connections.",
          (double)subs);
    gauge(t, "golive_pushd_channels", "Channels with at least one subscriber.",
          (double)srv->channels.len);
    gl_prom_labeled(
        t, "golive_pushd_messages_published_total",
        "Messages fanned out, by the path they were published on.", "path",
        (const gl_prom_value[]){{"websocket", n->ws_published}, {"rest", n->rest_published}}, 2);
    counter(t, "golive_pushd_deliveries_total",
            "Frames the fan-out queued to subscribers (messages and events).", n->deliveries);
    counter(t, "golive_pushd_sends_total", "Socket writes of queued frames.", n->sends);
    counter(t, "golive_pushd_frames_sent_total",
            "Frames those writes carried (one write coalesces several).", n->frames_sent);
    counter(t, "golive_pushd_sent_bytes_total", "WebSocket bytes of the frames sent.",
            n->bytes_sent);
    for (int i = 0; i < PD_NCLOSE_CODES; i++) {
        snprintf(code_names[i], sizeof(code_names[i]), "%u", codes[i]);
        closes[i] = (gl_prom_value){code_names[i], n->closes[i]};
    }
    gl_prom_labeled(t, "golive_pushd_closes_total",
                    "Connections pushd closed, by close code (4008: slow consumer, 4029: flood).",
                    "code", closes, PD_NCLOSE_CODES);
    gl_prom_labeled(t, "golive_pushd_connections_refused_total",
                    "Connections and handshakes refused before they opened, by reason.", "reason",
                    (const gl_prom_value[]){{"fd_limit", srv->refused},
                                            {"rate_limit", l->connections_refused},
                                            {"anonymous_limit", l->anonymous_refused},
                                            {"origin", n->origin_refused},
                                            {"path", n->path_refused}},
                    5);
    gl_prom_labeled(
        t, "golive_pushd_rate_limited_total",
        "Commands refused rate_limited, by limit (docs/moderation.md \"Rate limits\").", "limit",
        (const gl_prom_value[]){{"publish", l->publish_refused}, {"commands", l->commands_refused}},
        2);
    for (int k = GL_MODE_NONE + 1; k < GL_MODE_COUNT; k++)
        modes[k - 1] = (gl_prom_value){gl_mode_kind_names[k], l->modes_refused[k]};
    gl_prom_labeled(t, "golive_pushd_chat_mode_refusals_total",
                    "WebSocket publishes a chat mode refused, by mode.", "mode", modes,
                    GL_MODE_COUNT - 1);
    counter(t, "golive_pushd_messages_held_total", "WebSocket publishes held for review.", l->held);
    gauge(t, "golive_pushd_anonymous_connections",
          "Anonymous connections counted against anonymous_per_ip.", (double)srv->anonymous.total);
    counter(t, "golive_pushd_rpc_calls_total", "rpc_proxies calls answered.", n->rpc_calls);
    counter(t, "golive_pushd_rpc_failures_total",
            "rpc_proxies calls answered with an error (backend down, late, or not JSON).",
            n->rpc_failed);
    gl_prom_family(t, "golive_pushd_rpc_seconds_total", "counter",
                   "Time rpc_proxies calls took, summed.");
    gl_text_printf(t, "golive_pushd_rpc_seconds_total %.6f\n", (double)n->rpc_us / 1e6);
    print_writer(srv, t);
    for (size_t i = 0; i <= GL_WIRE_NOPS; i++) {
        const char *op = i < GL_WIRE_NOPS ? gl_wire_ops[i] : "other";
        ipc_requests[i] = (gl_prom_value){op, n->ipc_requests[i]};
        ipc_errors[i] = (gl_prom_value){op, n->ipc_errors[i]};
    }
    gl_prom_labeled(t, "golive_pushd_ipc_requests_total", "golive-api's requests over nng, by op.",
                    "op", ipc_requests, GL_WIRE_NOPS + 1);
    gl_prom_labeled(t, "golive_pushd_ipc_errors_total",
                    "golive-api's requests answered with an error, by op.", "op", ipc_errors,
                    GL_WIRE_NOPS + 1);
    counter(t, "golive_pushd_ipc_relistens_total",
            "Times the ipc watchdog found the nng listener deaf and listened again.",
            pd_ipc_relistens(srv->ipc));
    gl_db_errors_print(t, "golive_pushd_sqlite_errors_total");
    print_cluster(srv, t);
}

/* Reply status with body (taken) as content type, in one write. */
static int
reply(struct lws *wsi, unsigned status, const char *type, gl_text *body)
{
    unsigned char hdr[512], *p = hdr, *end = hdr + sizeof(hdr);
    size_t hlen;
    unsigned char *out;
    int rv = -1;

    if (body->failed || lws_add_http_common_headers(wsi, status, type, body->len, &p, end) != 0 ||
        lws_finalize_http_header(wsi, &p, end) != 0)
        goto out_free;
    hlen = (size_t)(p - hdr);
    if ((out = malloc(LWS_PRE + hlen + body->len)) == NULL) goto out_free;
    memcpy(out + LWS_PRE, hdr, hlen);
    memcpy(out + LWS_PRE + hlen, body->p, body->len);
    if (lws_write(wsi, out + LWS_PRE, hlen + body->len, LWS_WRITE_HTTP_FINAL) ==
        (int)(hlen + body->len))
        rv = lws_http_transaction_completed(wsi) ? -1 : 0;
    free(out);
out_free:
    free(body->p);
    return rv;
}

/* Ready: the loop runs (it is answering), SQLite answers a read, and in a cluster NATS is
 * connected (a node cut off from the others should get no new clients). */
static bool
ready(pd_server *srv, gl_text *why)
{
    int64_t id;
    gl_err err;
    if (pd_store_last_id(srv, "", &id, &err) != GL_OK) {
        gl_text_printf(why, "not ready: %s\n", err.msg);
        return false;
    }
    if (srv->cluster != NULL && !pd_cluster_connected(srv->cluster)) {
        gl_text_printf(why, "not ready: NATS is not connected (GOLIVE_NATS_URL)\n");
        return false;
    }
    return true;
}

static int
serve(pd_server *srv, struct lws *wsi, const char *path)
{
    gl_text t = {NULL, 0, 0, false};

    if (strcmp(path, "/metrics") == 0) {
        print_metrics(srv, &t);
        return reply(wsi, 200, GL_PROM_CONTENT_TYPE, &t);
    }
    if (strcmp(path, "/healthz") == 0) {
        gl_text_printf(&t, "ok\n");
        return reply(wsi, 200, "text/plain; charset=utf-8", &t);
    }
    if (strcmp(path, "/readyz") == 0) {
        bool ok = ready(srv, &t);
        if (ok) gl_text_printf(&t, "ready\n");
        return reply(wsi, ok ? 200 : 503, "text/plain; charset=utf-8", &t);
    }
    gl_text_printf(&t, "not found: GET /metrics, /healthz or /readyz\n");
    return reply(wsi, 404, "text/plain; charset=utf-8", &t);
}

static int
callback_metrics(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                 size_t len)
{
    if (reason == LWS_CALLBACK_HTTP) return serve(pd_server_get(wsi), wsi, (const char *)in);
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols metrics_protocols[] = {
    {"golive-metrics", callback_metrics, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int
pd_metrics_listen(pd_server *srv, gl_err *err)
{
    struct lws_context_creation_info info;
    const char *l = srv->opt.metrics_listen, *colon;
    char host[256];
    char *end;
    long port;

    if (l == NULL) return GL_OK;
    colon = strrchr(l, ':');
    port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon == l || *end != '\0' || port <= 0 || port > 65535 ||
        (size_t)(colon - l) >= sizeof(host))
        return gl_err_set(err, GL_EINVAL,
                          "bad GOLIVE_PUSHD_METRICS_LISTEN '%s' (host:port, or off)", l);
    snprintf(host, sizeof(host), "%.*s", (int)(colon - l), l);
    memset(&info, 0, sizeof(info));
    info.port = (int)port;
    info.iface = host;
    info.protocols = metrics_protocols;
    info.vhost_name = "golive-metrics";
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    if (lws_create_vhost(srv->ctx, &info) == NULL)
        return gl_err_set(err, GL_EUNAVAIL, "cannot listen for metrics on %s", l);
    gl_log(GL_LOG_INFO, "metrics", "metrics on http://%s/metrics (and /healthz, /readyz)", l);
    return GL_OK;
}
