/* pushd's one server context and the constants and types every module shares, at the bottom
 * of the include graph: this header includes no other pushd module (docs/architecture.md).
 * The context is owned by the event-loop thread unless a field says otherwise; other threads
 * (history writer, nng callbacks) hand work over through locked queues and lws_cancel_service().
 * Each module keeps the bodies of its own types (conn.h, channel.c, modstate.c, ...). */
#ifndef PD_CONTEXT_H
#define PD_CONTEXT_H

#include "shared/config.h"
#include "shared/db.h"
#include "shared/map.h"
#include "shared/ratelimit.h"
#include "shared/wire.h"

#include <libwebsockets.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define PD_MAX_SUBS 128        /* subscriptions per connection */
#define PD_QUEUE_MAX 1024      /* unsent frames per connection before it is dropped */
#define PD_REPLAY_MAX 500      /* most messages one since replay carries: inside the queue */
#define PD_CLOSE_PROTOCOL 1002 /* a frame that breaks RFC 6455 */
#define PD_CLOSE_AUTH 4001     /* bad token, or token expired */
#define PD_CLOSE_SLOW 4008     /* slow consumer */
#define PD_CLOSE_FLOOD 4029    /* kept sending after rate_limited refusals */
#define PD_WBUF 16384          /* most bytes of queued frames gathered into one send */

typedef struct pd_server pd_server;
typedef struct pd_conn pd_conn;
typedef struct pd_channel pd_channel;
typedef struct pd_writer pd_writer;
typedef struct pd_ipc pd_ipc;
typedef struct pd_loop pd_loop;
typedef struct pd_fanout pd_fanout;
typedef struct pd_cluster pd_cluster;
typedef struct pd_remote pd_remote;

/* The close codes pushd sends, counted by code (pd_counters.closes). */
#define PD_CLOSE_CODES                                                                             \
    {                                                                                              \
        1000, 1001, PD_CLOSE_PROTOCOL, 1007, 1009, PD_CLOSE_AUTH, PD_CLOSE_SLOW, PD_CLOSE_FLOOD    \
    }
#define PD_NCLOSE_CODES 8

/* What pushd has done since it started, for its metrics (metrics.c). Loop thread only: plain
 * integers, no locks. */
typedef struct pd_counters {
    uint64_t ws_published;            /* WebSocket publishes stored and fanned out */
    uint64_t rest_published;          /* golive-api's messages fanned out (nng publish ops) */
    uint64_t deliveries;              /* frames the fan-out queued to subscribers */
    uint64_t sends;                   /* socket writes of queued frames */
    uint64_t frames_sent;             /* frames those writes carried (sends coalesce several) */
    uint64_t bytes_sent;              /* WebSocket bytes of those frames, headers included */
    uint64_t closes[PD_NCLOSE_CODES]; /* connections pushd closed, by PD_CLOSE_CODES */
    /* golive-api's requests over nng by op (gl_wire_ops, then any other; a batch counts once),
     * and those answered with an error */
    uint64_t ipc_requests[GL_WIRE_NOPS + 1], ipc_errors[GL_WIRE_NOPS + 1];
    uint64_t origin_refused; /* handshakes refused 403 for their Origin (allowed_origins) */
    uint64_t path_refused;   /* upgrade requests for another path than /api/ws */
    /* The cluster (cluster.c): NATS messages sent, not sent, received from other nodes,
     * unreadable; messages delivered from SQLite to fill a gap. */
    uint64_t cluster_sent, cluster_send_failed, cluster_received, cluster_bad, cluster_repaired;
    uint64_t rpc_calls;  /* rpc_proxies calls answered (result, error or timeout) */
    uint64_t rpc_failed; /* ... that were not the backend's result */
    uint64_t rpc_us;     /* their time, summed */
} pd_counters;

#define PD_HEARTBEAT_MS 1000   /* how often a cluster's node says how many it serves */
#define PD_PRESENCE_WAIT_MS 60 /* how long a presence query waits for the other nodes */

/* The other nodes of a cluster as their heartbeats tell (cluster.c; rpc stats reads it): at
 * most PD_HEARTBEAT_MS * 2 old. */
typedef struct pd_cluster_view {
    uint32_t nodes;       /* other nodes heard from lately */
    uint64_t connections; /* their WebSocket connections */
} pd_cluster_view;

typedef struct pd_options {
    const char *listen;  /* "unix:/path" or "[host:]port" */
    const char *db_path; /* NULL: GOLIVE_STORE=nats, no file here */
    const char *ipc_url;
    const char *config_path;    /* NULL: built-in defaults */
    const char *metrics_listen; /* "host:port" of /metrics, /healthz, /readyz; NULL: none */
    const char *nats_url;       /* GOLIVE_NATS_URL: the cluster's NATS servers; NULL: one node */
    const char *node;           /* this node's name in the cluster (GOLIVE_NODE_NAME) */
    size_t max_message;
    uint32_t ping_secs;    /* PING a client silent this long */
    uint32_t timeout_secs; /* close a client silent this long */
} pd_options;

struct pd_server {
    pd_loop *loop; /* libev, shared with lws (loop.h) */
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    pd_options opt;
    const char *secret;
    gl_config *cfg;
    gl_db *db;         /* loop thread's connection: history reads, state loads; NULL: remote */
    pd_remote *remote; /* GOLIVE_STORE=nats: the store over NATS instead (store.h) */
    pd_writer *writer;
    pd_ipc *ipc;
    pd_fanout *fanout;   /* where stored messages and events go (fanout.h) */
    pd_cluster *cluster; /* the NATS broker, when GOLIVE_NATS_URL is set (cluster.h) */
    pd_cluster_view cluster_view;
    /* Told when channel gets its first subscriber on this node (on) or loses its last: a
     * cluster's broker hears a channel only while this node has subscribers for it (channel.c
     * calls it, cluster.c sets it). NULL: one node. */
    void (*channel_interest)(pd_server *srv, const char *channel, bool on);
    /* Ask every node who is in channel: done(arg, data) is called once, within
     * PD_PRESENCE_WAIT_MS, with the presence of all of them merged (data taken; NULL when out
     * of memory). cluster.c sets it; NULL: one node. False: it could not ask. */
    bool (*cluster_presence)(pd_server *srv, const char *channel,
                             void (*done)(void *arg, struct cJSON *data), void *arg);
    /* A user's first connection in channel on this node joined (present) or its last left:
     * true when the user is present through another node, so that the join or leave is not
     * news (cluster.c sets it, channel.c calls it; NULL: one node). */
    bool (*presence_changed)(pd_server *srv, const char *channel, const char *user_id,
                             const char *username, bool present);
    gl_map channels;   /* name -> pd_channel */
    gl_map modstates;  /* name -> pd_modstate */
    gl_map ns_clients; /* namespace name -> (uintptr_t) connections subscribed in it */
    gl_bucket_table publish_buckets;    /* a user's publishes per namespace (limits.c) */
    gl_bucket_table connection_buckets; /* new connections per client IP (limits.c) */
    gl_ip_counts anonymous;             /* open anonymous connections per client IP (limits.c) */
    gl_limit_counts limit_counts;       /* refusals by limit, for rpc stats (limits.c) */
    pd_counters counters;               /* for the metrics (metrics.c) */
    gl_map recent;                      /* (channel, user) -> recent messages (recent.c) */
    uint32_t recent_ticks;              /* sweeps since recent was last walked */
    pd_conn *conns;                     /* list of open connections */
    uint32_t nconns;
    uint32_t churn;      /* connections opened or closed since the heap was last trimmed */
    uint32_t churn_prev; /* churn at the previous sweep */
    pd_conn *dirty;      /* connections with frames queued since the last flush */
    unsigned char *wbuf; /* LWS_PRE + PD_WBUF: frames gathered for one send */
    int fd_cap;          /* accepted sockets from this descriptor up are refused */
    uint64_t refused;    /* connections refused at the open-file limit */
    int64_t refused_logged_ms;
    int64_t started_mono_ms;
    lws_sorted_usec_list_t sweep;      /* every second: keep-alive and token expiry */
    lws_sorted_usec_list_t drain_tick; /* during shutdown only */
    volatile sig_atomic_t want_reload, want_stop;
};

/* The index of close code in PD_CLOSE_CODES, or -1. */
static inline int
pd_close_index(uint16_t code)
{
    static const uint16_t codes[PD_NCLOSE_CODES] = PD_CLOSE_CODES;
    for (int i = 0; i < PD_NCLOSE_CODES; i++)
        if (codes[i] == code) return i;
    return -1;
}

/* The one server, reachable from any lws callback. */
static inline pd_server *
pd_server_get(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

#endif
