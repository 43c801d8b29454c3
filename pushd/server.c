/* The libwebsockets side of pushd: the context, the path filter, and the callback switch,
 * with one helper per case. Cross-thread wake-ups (history writer, nng, signals) all arrive
 * as LWS_CALLBACK_EVENT_WAIT_CANCELLED and are drained here, on the loop. */
#include "server.h"
#include "channel.h"
#include "cluster.h"
#include "command.h"
#include "conn.h"
#include "ipc.h"
#include "limits.h"
#include "loop.h"
#include "recent.h"
#include "rpc.h"
#include "wsguard.h"
#include "shared/chan.h"
#include "shared/event.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TRIM_CHURN 1024 /* connects + disconnects that make a trim worth its walk of the heap */
#define TRIM_QUIET 16   /* ... once fewer than this happened in the last second */

#define WS_PATH "/api/ws"
#define RX_BUFFER 128 /* per-connection lws receive buffer; larger messages are reassembled */
#define TX_PACKET (PD_WBUF + 16)  /* lws sends at most this per write (else RX_BUFFER) */
#define FD_RESERVE 64             /* descriptors kept free for SQLite, nng and the like */
#define GUARD_FDS_UNLIMITED 65536 /* fds the frame guard watches when RLIMIT_NOFILE has none */
#define REFUSE_LOG_SECS 60
#define URL_CHANNELS_MAX 16 /* "?channel=" arguments one upgrade may carry */

/* Right after accept(): refuse (close) a connection whose descriptor is among the last
 * FD_RESERVE. Otherwise the process reaches its limit, accept() fails with EMFILE and lws 4.1
 * retries it in a busy loop while clients wait in the backlog; this way they are closed at
 * once and the descriptors SQLite and nng need stay free. */
static int
on_network_connection(pd_server *srv, int fd)
{
    int64_t now;

    if (fd < srv->fd_cap) return 0;
    now = gl_time_mono_ms();
    if (srv->refused++ == 0 || now - srv->refused_logged_ms >= REFUSE_LOG_SECS * 1000) {
        gl_log(GL_LOG_WARN, "server",
               "at the open-file limit: refusing new connections (%llu so far); raise "
               "LimitNOFILE",
               (unsigned long long)srv->refused);
        srv->refused_logged_ms = now;
    }
    return 1;
}

static int
on_filter(pd_server *srv, struct lws *wsi)
{
    char uri[64];
    int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
    if (n <= 0 || strcmp(uri, WS_PATH) != 0) {
        srv->counters.path_refused++;
        gl_log(GL_LOG_DEBUG, "server", "refused a WebSocket upgrade for another path");
        return 1;
    }
    return 0;
}

/* Answer an upgrade request with REST's error body for code (403 forbidden, 429 rate_limited
 * with Retry-After when retry_after_ms) instead of switching protocols. Returns what
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE expects: 1 replied, -1 hang up. */
static int
refuse_upgrade(struct lws *wsi, int code, const char *msg, uint32_t retry_after_ms)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf);
    cJSON *o = gl_event_http_error(code, msg), *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    char *body, secs[16];
    size_t blen;
    int rv = -1;

    if (e != NULL && retry_after_ms > 0) gl_json_add_int(e, "retry_after_ms", retry_after_ms);
    body = gl_event_print_take(o);
    blen = body != NULL ? strlen(body) : 0;

    snprintf(secs, sizeof(secs), "%u", (retry_after_ms + 999) / 1000);
    if (body == NULL ||
        lws_add_http_common_headers(wsi, (unsigned)gl_err_http_status(code), "application/json",
                                    blen, &p, end) != 0 ||
        (retry_after_ms > 0 && lws_add_http_header_by_name(
                                   wsi, (const unsigned char *)"retry-after:",
                                   (const unsigned char *)secs, (int)strlen(secs), &p, end) != 0) ||
        lws_finalize_http_header(wsi, &p, end) != 0 || blen > (size_t)(end - p))
        goto out_free_body;
    memcpy(p, body, blen);
    p += blen;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP) == (int)(p - start)) rv = 1;
out_free_body:
    cJSON_free(body);
    return rv;
}

/* An upgrade that names channels in its URL is answered by the 101 and then, in the same loop
 * pass, by their subscribe replies: corked from the upgrade to that first write
 * (pd_conn_uncork), both leave in one segment, a segment less each way per connection. Linux
 * sends corked bytes within 200 ms whatever happens. Not on a unix socket, which has no cork. */
static bool
wants_cork(pd_server *srv, struct lws *wsi)
{
    char arg[sizeof("channel=") + GL_CHAN_MAX];
    return strncmp(srv->opt.listen, "unix:", 5) != 0 &&
           lws_get_urlarg_by_name(wsi, "channel=", arg, (int)sizeof(arg)) != NULL;
}

static void
cork(struct lws *wsi)
{
    int on = 1;
    setsockopt(lws_get_socket_fd(wsi), IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/* Before the upgrade: a browser page whose Origin is neither this host nor in allowed_origins
 * may not open a socket (the current config decides, so a reload applies to the next
 * handshake). No Origin at all is a native or server-side client, and is let in. */
static int
on_confirm_upgrade(pd_server *srv, struct lws *wsi)
{
    char origin[GL_ORIGIN_MAX], host[GL_ORIGIN_MAX], o_log[80], h_log[80];
    int on = lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN);
    int hn = lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
    uint32_t retry = 0;

    if (!pd_limits_connection(srv, wsi, &retry))
        return refuse_upgrade(wsi, GL_ERATE, "too many new connections from this address", retry);
    if (on == 0 || (on > 0 && gl_config_origin_allowed(srv->cfg, origin, hn > 0 ? host : NULL))) {
        if (wants_cork(srv, wsi)) cork(wsi);
        return 0;
    }
    if (on < 0) snprintf(origin, sizeof(origin), "(longer than %d bytes)", GL_ORIGIN_MAX - 1);
    srv->counters.origin_refused++;
    gl_log(GL_LOG_INFO, "server", "refused a WebSocket handshake from origin %s (Host %s)",
           gl_log_clean(origin, o_log, sizeof(o_log)),
           gl_log_clean(hn > 0 ? host : NULL, h_log, sizeof(h_log)));
    return refuse_upgrade(wsi, GL_EFORBIDDEN,
                          "this origin may not open a socket here (allowed_origins)", 0);
}

/* The token from "Authorization: Bearer ..." or "?token=", copied into buf (cap bytes).
 * Returns 1 found, 0 none, -1 too long, -2 an Authorization header that is not a bearer token
 * (gl_jwt_bearer: the same rule as REST). */
static int
find_token(struct lws *wsi, char *buf, size_t cap)
{
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 0) {
        const char *tok;
        size_t len;
        int found;
        if ((size_t)n >= cap || lws_hdr_copy(wsi, buf, (int)cap, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
            return -1;
        if ((found = gl_jwt_bearer(buf, &tok, &len)) < 0) return -2;
        if (found > 0) {
            memmove(buf, tok, len);
            buf[len] = '\0';
            return 1;
        }
    }
    /* lws copies the whole "token=..." argument into buf and returns where the value starts. */
    const char *v = lws_get_urlarg_by_name(wsi, "token=", buf, (int)cap);
    if (v == NULL) return 0;
    memmove(buf, v, strlen(v) + 1);
    return 1;
}

/* One command from the client, or standing for one (subscribe_from_url): through c's
 * probation (limits.c), then the commands. */
static void
run_command(pd_server *srv, pd_conn *c, const char *buf, size_t len)
{
    if (!c->probation || pd_limits_probation(srv, c, buf, len)) pd_command_handle(srv, c, buf, len);
}

/* "?channel=NAME", up to URL_CHANNELS_MAX times: each is subscribed as if the client's first
 * commands were {"type":"subscribe","channel":NAME}, with the same checks, limits and replies
 * (the token, from the header or "?token=", counts first). A client that only listens (an
 * overlay, a widget, a load test) then needs no command, as with nchan's URL subscriptions. A
 * name that is not one gets the command's error for it here: a command could not even carry
 * some of them (bytes that are not UTF-8). */
static void
subscribe_from_url(pd_server *srv, struct lws *wsi, pd_conn *c)
{
    static const char name[] = "channel=";
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS), subs = 0;
    char small[sizeof(name) + GL_CHAN_MAX], cmd[64 + GL_CHAN_MAX];
    char *arg = small; /* one argument, which is at most all of them */
    int cap = (int)sizeof(small);

    if (total <= 0) return;
    if (total >= cap && (arg = malloc((size_t)(cap = total + 1))) == NULL) return;
    for (int i = 0; c->close_code == 0; i++) {
        const char *ch = arg + sizeof(name) - 1;
        gl_err err;
        int n;

        if (lws_hdr_copy_fragment(wsi, arg, cap, WSI_TOKEN_HTTP_URI_ARGS, i) < 0) break;
        if (strncmp(arg, name, sizeof(name) - 1) != 0) continue;
        if (++subs > URL_CHANNELS_MAX) {
            pd_conn_send_error(c, NULL, GL_EINVAL,
                               "at most 16 channel= arguments; subscribe to more with commands");
            break;
        }
        if (gl_chan_validate(ch, &err) != GL_OK) {
            pd_conn_send_error(c, NULL, err.code, err.msg);
            continue;
        }
        /* [A-Za-z0-9_.:@=-], at most GL_CHAN_MAX: nothing to escape, and it fits */
        n = snprintf(cmd, sizeof(cmd), "{\"type\":\"subscribe\",\"channel\":\"%s\"}", ch);
        run_command(srv, c, cmd, (size_t)n);
    }
    if (arg != small) free(arg);
}

static int
on_established(pd_server *srv, struct lws *wsi)
{
    pd_conn *c;
    char token[GL_TOKEN_MAX + 64];
    int found;

    if ((c = pd_conn_new(srv, wsi)) == NULL) {
        gl_log(GL_LOG_ERROR, "server", "out of memory accepting a connection");
        return -1;
    }
    /* Our pointer is the connection's user data: no per-session allocation in lws. */
    lws_set_wsi_user(wsi, c);
    pd_wsguard_watch(wsi);
    found = find_token(wsi, token, sizeof(token));
    if (found < 0) {
        pd_conn_send_error(c, NULL, GL_EAUTH,
                           found == -1 ? "token is too long"
                                       : "Authorization must be 'Bearer <token>'");
        pd_conn_close_after_flush(c, PD_CLOSE_AUTH, "unauthorized");
    } else if (found > 0) {
        pd_command_authenticate(srv, c, token);
    } else {
        pd_limits_anonymous_open(srv, c);
    }
    c->corked = wants_cork(srv, wsi); /* as on_confirm_upgrade found, before c existed */
    subscribe_from_url(srv, wsi, c);
    if (c->corked && !c->dirty) pd_conn_uncork(c); /* nothing to write after all */
    return 0;
}

/* One whole client message: a command, unless it is binary or c's probation refuses it. */
static void
handle_message(pd_server *srv, struct lws *wsi, pd_conn *c, const char *buf, size_t len)
{
    if (lws_frame_is_binary(wsi))
        pd_conn_send_error(c, NULL, GL_EINVAL, "binary frames are not supported");
    else
        run_command(srv, c, buf, len);
}

static int
on_receive(pd_server *srv, struct lws *wsi, pd_conn *c, const char *in, size_t len)
{
    bool done = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    int rv;

    if (c == NULL) return 0;
    pd_conn_seen(c, (uint32_t)gl_time_mono_ms());
    if (c->close_code != 0) return 0; /* closing: input is ignored */
    /* The common case, a whole message in one piece, is handled without a copy. */
    if (done && c->rxlen == 0) {
        handle_message(srv, wsi, c, in, len);
        return 0;
    }
    if ((rv = pd_conn_rx_append(c, in, len, srv->opt.max_message)) != GL_OK) {
        static const char why[] = "message too big";
        if (rv == GL_ENOMEM) return -1;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why,
                         sizeof(why) - 1);
        return -1;
    }
    if (!done) return 0;
    handle_message(srv, wsi, c, c->rx, c->rxlen);
    c->rxlen = 0;
    if (c->rxcap > RX_BUFFER) {
        /* Keep idle connections small: a big message's buffer is not kept around. */
        free(c->rx);
        c->rx = NULL;
        c->rxcap = 0;
    }
    return 0;
}

/* The peer's Close, before lws echoes it back: lws checks the code but not that the reason is
 * UTF-8 (RFC 6455 5.5.1, 8.1). A bad one is answered with 1007, written over the payload lws is
 * about to echo (its length is fixed, so our reason is cut or padded with spaces to fit), which
 * keeps lws's own peer-initiated close: Close out, then the TCP connection shut at once. */
static int
on_peer_close(unsigned char *payload, size_t len)
{
    static const char why[] = "Close reason is not UTF-8";
    size_t room, n;

    if (len <= 2 || gl_utf8_valid((const char *)payload + 2, len - 2)) return 0;
    room = len - 2;
    n = room < sizeof(why) - 1 ? room : sizeof(why) - 1;
    payload[0] = LWS_CLOSE_STATUS_INVALID_PAYLOAD >> 8;
    payload[1] = LWS_CLOSE_STATUS_INVALID_PAYLOAD & 0xff;
    memcpy(payload + 2, why, n);
    memset(payload + 2 + n, ' ', room - n);
    return 0;
}

/* The frame guard failed the connection and sent its Close: nothing more may follow it. */
static void
on_frame_fault(struct lws *wsi)
{
    pd_conn *c = lws_wsi_user(wsi);
    if (c != NULL) pd_conn_failed(c);
}

static void
on_cancelled(pd_server *srv)
{
    /* A signal: main() stops or reloads between passes. */
    if (srv->want_stop || srv->want_reload) pd_loop_break(srv);
    if (srv->writer != NULL) pd_command_deliver_stored(srv);
    if (srv->ipc != NULL) pd_ipc_service(srv->ipc);
    if (srv->cluster != NULL) pd_cluster_service(srv->cluster);
}

/* Once a burst of connects or disconnects is over, give the heap's free pages back to the
 * system: each handshake's transient buffers leave holes between the long-lived structs of the
 * sockets that stay, ~400 B a socket after 19k arrive together (docs/benchmarks.md). */
static void
trim_after_burst(pd_server *srv)
{
    bool quiet = srv->churn - srv->churn_prev < TRIM_QUIET;
    srv->churn_prev = srv->churn;
    if (srv->churn < TRIM_CHURN || !quiet) return;
    int64_t t0 = gl_time_mono_ms();
    malloc_trim(0);
    gl_log(GL_LOG_DEBUG, "server", "heap trimmed after %u connects and disconnects in %lld ms",
           srv->churn, (long long)(gl_time_mono_ms() - t0));
    srv->churn = srv->churn_prev = 0;
}

/* Once a second: keep-alive, the end of probations (limits.c), and close connections whose
 * token has expired. One walk over every connection costs ~20 µs at 20k; lws's own
 * per-connection timers cost far more (a sorted-list insert per PING and PONG,
 * docs/benchmarks.md). */
static void
sweep(lws_sorted_usec_list_t *sul)
{
    pd_server *srv = lws_container_of(sul, pd_server, sweep);
    int64_t now = (int64_t)time(NULL);
    uint32_t now_ms = (uint32_t)gl_time_mono_ms();

    for (pd_conn *c = srv->conns; c != NULL; c = c->next) {
        pd_conn_check_alive(c, now_ms, &srv->opt);
        pd_limits_sweep(srv, c, now_ms);
        if (c->user != NULL && c->user->exp != 0 && c->user->exp <= now && c->close_code == 0) {
            pd_conn_send_error(c, NULL, GL_EAUTH, "token expired");
            pd_conn_close_after_flush(c, PD_CLOSE_AUTH, "token expired");
        }
    }
    pd_recent_sweep(srv, gl_time_now_ms());
    if (srv->cluster != NULL) pd_cluster_service(srv->cluster); /* its audit, when due */
    trim_after_burst(srv);
    lws_sul_schedule(srv->ctx, 0, &srv->sweep, sweep, LWS_US_PER_SEC);
}

static int
callback_chat(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    pd_conn *c = user; /* NULL until ESTABLISHED (lws_set_wsi_user) */
    pd_server *srv;

    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return on_network_connection(pd_server_get(wsi), (int)(intptr_t)in);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return on_confirm_upgrade(pd_server_get(wsi), wsi);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return on_filter(pd_server_get(wsi), wsi);
    case LWS_CALLBACK_ESTABLISHED:
        return on_established(pd_server_get(wsi), wsi);
    case LWS_CALLBACK_RECEIVE:
        return on_receive(pd_server_get(wsi), wsi, c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c ? pd_conn_on_writeable(pd_server_get(wsi), c) : -1;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (c != NULL) pd_conn_seen(c, (uint32_t)gl_time_mono_ms());
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        return on_peer_close(in, len);
    case LWS_CALLBACK_CLOSED:
        pd_wsguard_unwatch(wsi);
        if (c != NULL) {
            srv = pd_server_get(wsi);
            pd_channel_unsubscribe_all(srv, c);
            pd_limits_closed(srv, c);
            pd_conn_closed(srv, c);
            lws_set_wsi_user(wsi, NULL);
        }
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        on_cancelled(pd_server_get(wsi));
        return 0;
    case LWS_CALLBACK_PROTOCOL_INIT:
        srv = pd_server_get(wsi);
        if (srv != NULL && srv->sweep.cb == NULL)
            lws_sul_schedule(srv->ctx, 0, &srv->sweep, sweep, LWS_US_PER_SEC);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    /* First, so that upgrades without Sec-WebSocket-Protocol land here (LIBRARIES.md). */
    {"golive", callback_chat, 0, RX_BUFFER, 0, NULL, TX_PACKET},
    {"golive-rpc", pd_rpc_callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* No lws validity timers (a zero hangup time turns them off): the sweep does keep-alive. */
static const lws_retry_bo_t no_validity_timers = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

static void
lws_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    gl_log_write(level == LLL_ERR ? GL_LOG_ERROR : GL_LOG_WARN, "lws", "%.*s", (int)n, line);
}

/* Refuse to take over a unix socket another live pushd is serving; remove a stale one. */
static int
claim_unix_path(const char *path, gl_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd, rc;

    if (strlen(path) >= sizeof(sa.sun_path))
        return gl_err_set(err, GL_EINVAL, "socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
        return gl_err_set(err, GL_EUNAVAIL, "socket: %s", strerror(errno));
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    if (rc == 0) return gl_err_set(err, GL_ECONFLICT, "another process is listening on %s", path);
    unlink(path);
    return GL_OK;
}

int
pd_server_listen(pd_server *srv, gl_err *err)
{
    struct lws_context_creation_info info;
    const char *l = srv->opt.listen;
    char host[256] = "";
    const char *unix_path = NULL;
    struct rlimit rl;
    int rv;

    if ((srv->wbuf = malloc(LWS_PRE + PD_WBUF)) == NULL)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    memset(&info, 0, sizeof(info));
    if (strncmp(l, "unix:", 5) == 0) {
        unix_path = l + 5;
        if ((rv = claim_unix_path(unix_path, err)) != GL_OK) return rv;
        info.options |= LWS_SERVER_OPTION_UNIX_SOCK;
        info.iface = unix_path;
    } else {
        const char *colon = strrchr(l, ':');
        char *end;
        long port = strtol(colon ? colon + 1 : l, &end, 10);
        if (*end != '\0' || port <= 0 || port > 65535)
            return gl_err_set(err, GL_EINVAL, "bad listen address '%s' (unix:/path or host:port)",
                              l);
        if (colon != NULL) {
            snprintf(host, sizeof(host), "%.*s", (int)(colon - l), l);
            info.iface = host;
        }
        info.port = (int)port;
    }
    if ((rv = pd_loop_create(srv, pd_conn_flush, err)) != GL_OK) return rv;
    info.options |= LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = pd_loop_foreign(srv);
    info.protocols = protocols;
    info.user = srv;
    info.gid = -1;
    info.uid = -1;
    info.max_http_header_data = 16384; /* long Authorization headers (LIBRARIES.md) */
    info.retry_and_idle_policy = &no_validity_timers;
    /* Not info.fd_limit_per_thread: below the rlimit it turns lws's fd-to-connection lookup
     * into a linear scan (context.c "max_fds_unrelated_to_ulimit"). See on_network_connection. */
    srv->fd_cap = INT_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        rl.rlim_cur = GUARD_FDS_UNLIMITED;
    else if (rl.rlim_cur > 2 * FD_RESERVE)
        srv->fd_cap = (int)(rl.rlim_cur - FD_RESERVE);
    if (pd_wsguard_init((size_t)rl.rlim_cur, srv->opt.max_message, on_frame_fault) != 0)
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.vhost_name = "golive";

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    if ((srv->ctx = lws_create_context(&info)) == NULL)
        return gl_err_set(err, GL_EUNAVAIL, "cannot listen on %s", l);
    if (unix_path != NULL && chmod(unix_path, 0666) != 0)
        gl_log(GL_LOG_WARN, "server", "chmod %s: %s", unix_path, strerror(errno));
    return GL_OK;
}
