/* Per-connection state: identity, the bounded send queue, and server-initiated closes. */
#ifndef PD_CONN_H
#define PD_CONN_H

#include "context.h"
#include "frame.h"
#include "user.h"
#include "shared/ratelimit.h"

#include <cjson/cJSON.h>

enum { PD_PING_NONE, PD_PING_DUE, PD_PING_SENT };

/* One subscription, as the connection sees it: the channel and our slot in its array. */
typedef struct pd_conn_sub {
    pd_channel *ch;
    uint32_t slot;
} pd_conn_sub;

/* A WebSocket client. Allocated by us (not lws's per-session data) and refcounted, because
 * history-writer jobs and RPC calls may finish after the socket has closed. */
struct pd_conn {
    /* Pointers, then 32-bit, then 16-bit fields, then flags: 120 bytes, a 128-byte malloc
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
    uint32_t seen_ms;   /* monotonic ms (truncated) of the last frame from the peer */
    gl_bucket commands; /* the connection's command rate (limits.c) */
    uint16_t qcap, qhead, qlen;
    uint16_t nsubs, capsubs;
    uint16_t close_code; /* nonzero: close with it once the queue is flushed */
    uint16_t refused;    /* rate-limit refusals in a row (limits.c) */
    bool close_sent;     /* our Close frame is out; waiting for the peer's */
    bool dirty;          /* on the server's flush list */
    uint8_t ping;        /* keep-alive: PD_PING_NONE, _DUE (to write) or _SENT */
    bool anonymous;      /* counted under its client IP; the count hangs off wsi (limits.c) */
    bool probation;      /* past anonymous_per_ip: must authenticate at once (limits.c) */
    bool corked;         /* TCP_CORK since the upgrade, until the first write (server.c) */
};

pd_conn *pd_conn_new(pd_server *srv, struct lws *wsi);

/* The socket closed (its subscriptions already dropped): drop queued frames, unlink, unref. */
void pd_conn_closed(pd_server *srv, pd_conn *c);

static inline void
pd_conn_ref(pd_conn *c)
{
    c->refs++;
}

void pd_conn_unref(pd_conn *c);

/* Queue a frame (takes a reference of its own). A full queue marks the connection for a
 * slow-consumer close. Asks for WRITEABLE when the queue was empty. */
void pd_conn_send(pd_conn *c, pd_frame *f);

/* Queue a JSON string printed by cJSON (freed here). */
void pd_conn_send_json(pd_conn *c, char *json);

/* Queue {"type":"error",...} for a command with the given id (may be NULL). */
void pd_conn_send_error(pd_conn *c, const cJSON *id, int code, const char *msg);

/* The same, naming the channel the command concerned (NULL: none), so that a client can tell
 * which channel an error without id is about. */
void pd_conn_send_channel_error(pd_conn *c, const cJSON *id, const char *channel, int code,
                                const char *msg);

/* The connection was failed below us (the frame guard wrote our Close): drop what is queued
 * and queue nothing more. */
void pd_conn_failed(pd_conn *c);

/* Close with code once what is queued has been written. */
void pd_conn_close_after_flush(pd_conn *c, uint16_t code, const char *reason);

/* After each loop pass: write what was queued to each connection during it, several frames in
 * one send where they piled up. Sockets lws still has output buffered for wait for WRITEABLE. */
void pd_conn_flush(pd_server *srv);

/* Let the kernel send what waits behind c's TCP_CORK (c->corked), now. */
void pd_conn_uncork(pd_conn *c);

/* In WRITEABLE: write queued frames, or perform a pending close, or send a keep-alive PING.
 * Returns -1 to close. */
int pd_conn_on_writeable(pd_server *srv, pd_conn *c);

/* A frame (any, PONG included) came from the peer at now_ms (gl_time_mono_ms, truncated). */
void pd_conn_seen(pd_conn *c, uint32_t now_ms);

/* Keep-alive, from the once-a-second sweep: PING a client silent for o->ping_secs, close one
 * silent for o->timeout_secs. Replaces lws's per-connection timers (docs/benchmarks.md). */
void pd_conn_check_alive(pd_conn *c, uint32_t now_ms, const pd_options *o);

/* Append received bytes; returns GL_OK, GL_ETOOBIG past max, GL_ENOMEM. */
int pd_conn_rx_append(pd_conn *c, const void *in, size_t len, size_t max);

/* Queue {"type":type,"id":<copy of id>,"data":data}; takes data. */
void pd_conn_send_reply(pd_conn *c, const char *type, const cJSON *id, cJSON *data);
#endif
