/* golive-pushd's one server context and the types its modules share (as Redis's server.h).
 * Everything here is owned by the event-loop thread unless a field says otherwise; other
 * threads (history writer, nng callbacks) hand work over through locked queues and
 * lws_cancel_service(). */
#ifndef PD_SERVER_H
#define PD_SERVER_H

#include "frame.h"
#include "user.h"
#include "shared/acl.h"
#include "shared/chan.h"
#include "shared/config.h"
#include "shared/db.h"
#include "shared/jwt.h"
#include "shared/map.h"

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define PD_MAX_SUBS 128     /* subscriptions per connection */
#define PD_QUEUE_MAX 1024   /* unsent frames per connection before it is dropped */
#define PD_REPLAY_MAX 500   /* most messages one since replay carries: inside the queue */
#define PD_CLOSE_AUTH 4001  /* bad token, or token expired */
#define PD_CLOSE_SLOW 4008  /* slow consumer */
#define PD_HISTORY_LIMIT 50 /* default limit of the history command */
#define PD_HISTORY_MAX 100  /* most messages one history reply carries (64 KiB each at worst) */
#define PD_WBUF 16384       /* most bytes of queued frames gathered into one send */

typedef struct pd_server pd_server;
enum { PD_PING_NONE, PD_PING_DUE, PD_PING_SENT };
typedef struct pd_channel pd_channel;
typedef struct pd_writer pd_writer;
typedef struct pd_ipc pd_ipc;
typedef struct pd_loop pd_loop;

/* One subscription, as the connection sees it: the channel and our slot in its array. */
typedef struct pd_conn_sub {
    pd_channel *ch;
    uint32_t slot;
} pd_conn_sub;

/* A WebSocket client. Allocated by us (not lws's per-session data) and refcounted, because
 * history-writer jobs and RPC calls may finish after the socket has closed. */
typedef struct pd_conn {
    /* Pointers, then 32-bit, then 16-bit fields, then flags: 104 bytes, a 112-byte malloc
     * chunk, on every socket. */
    struct lws *wsi;             /* NULL once closed */
    pd_user *user;               /* NULL: anonymous */
    struct pd_conn *prev, *next; /* every open connection, for shutdown and token expiry */
    struct pd_conn *dirty_next;
    pd_frame **q; /* ring of queued frames */
    pd_conn_sub *subs;
    char *rx;                 /* reassembly of a fragmented client message */
    const char *close_reason; /* static string */
    uint32_t refs;
    uint32_t rxlen, rxcap;
    uint32_t seen_ms; /* monotonic ms (truncated) of the last frame from the peer */
    uint16_t qcap, qhead, qlen;
    uint16_t nsubs, capsubs;
    uint16_t close_code; /* nonzero: close with it once the queue is flushed */
    bool close_sent;     /* our Close frame is out; waiting for the peer's */
    bool dirty;          /* on the server's flush list */
    uint8_t ping;        /* keep-alive: PD_PING_NONE, _DUE (to write) or _SENT */
} pd_conn;

/* A channel with at least one subscriber. */
typedef struct pd_channel_sub {
    pd_conn *c;
    int64_t min_id; /* live messages with id <= min_id were already replayed from history */
} pd_channel_sub;

struct pd_channel {
    char *name;
    pd_channel_sub *subs;
    uint32_t nsubs, capsubs;
    uint32_t anon;        /* subscribed connections without a user */
    gl_map users;         /* user id -> pd_presence */
    char ns[GL_NAME_MAX]; /* namespace counted against max_clients ("" none) */
};

/* Moderation state of one channel, from SQLite (restored at start, reloaded on nng "reload"). */
typedef struct pd_modstate {
    char *name;
    bool has_override;
    gl_override ov;
    gl_map access;       /* user id -> same malloc'd string */
    gl_map restrictions; /* user id -> pd_restriction */
} pd_modstate;

typedef struct pd_restriction {
    bool banned;
    int64_t ban_expires_ms; /* 0 = until unban */
    int64_t timeout_until_ms;
    char user_id[];
} pd_restriction;

typedef struct pd_options {
    const char *listen; /* "unix:/path" or "[host:]port" */
    const char *db_path;
    const char *ipc_url;
    const char *config_path; /* NULL: built-in defaults */
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
    gl_db *db; /* loop thread's connection: history reads, state loads */
    pd_writer *writer;
    pd_ipc *ipc;
    gl_map channels;   /* name -> pd_channel */
    gl_map modstates;  /* name -> pd_modstate */
    gl_map ns_clients; /* namespace name -> (uintptr_t) connections subscribed in it */
    pd_conn *conns;    /* list of open connections */
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

/* The one server, reachable from any lws callback. */
pd_server *pd_server_get(struct lws *wsi);

/* Create srv->ctx listening on srv->opt.listen (unix:/path or [host:]port). */
int pd_server_listen(pd_server *srv, gl_err *err);

#endif
