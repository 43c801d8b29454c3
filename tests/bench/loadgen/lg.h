/* golive-loadgen: an epoll WebSocket load generator for push servers (GoLive, nchan, Pushpin).
 * One thread, one epoll set: N subscriber sockets spread over several 127.0.0.x sources, a
 * publisher at a fixed rate (HTTP POST or WebSocket), latency from a timestamp the publisher
 * writes into each message ("lgts":<µs of CLOCK_MONOTONIC>), and the servers' CPU and RSS read
 * from /proc. Every figure it prints comes from one run; the runner (bench.py) takes medians. */
#ifndef LG_H
#define LG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_MAX_SOURCES 32
#define LG_MAX_HEADERS 8
#define LG_MAX_STEPS 16
#define LG_MAX_PIDS 64

typedef enum lg_state {
    LG_CONNECTING,  /* TCP connect in flight */
    LG_UPGRADING,   /* HTTP upgrade sent, waiting for 101 */
    LG_SUBSCRIBING, /* subscribe command sent, waiting for its reply */
    LG_READY,
    LG_CLOSED,
} lg_state;

typedef enum lg_kind { LG_SUB, LG_WS_PUB, LG_HTTP_PUB } lg_kind;

/* A byte buffer that grows on demand; used for partial input and unsent output only, so an
 * idle connection holds none. */
typedef struct lg_buf {
    char *p;
    size_t len, cap;
} lg_buf;

typedef struct lg_conn {
    int fd;
    uint8_t state;
    uint8_t kind;
    bool busy;      /* HTTP publisher: a request is outstanding */
    uint32_t ch;    /* channel index */
    uint32_t index; /* subscriber number, for the per-connection token */
    lg_buf in, out;
} lg_conn;

typedef struct lg_opts {
    /* where to connect */
    const char *url; /* ws://host:port/path, "{ch}" replaced by the channel name */
    struct sockaddr_in dst;
    char host[128], path_tmpl[256];
    struct in_addr sources[LG_MAX_SOURCES];
    int nsources;
    /* subscribers */
    uint32_t conns, channels, window;
    const char *channel_prefix;
    const char *subscribe_tmpl; /* sent after the upgrade, or NULL */
    const char *ready_match;    /* the reply that marks a subscription done */
    const char *token_secret;   /* mint one token per subscriber (sub "u<i>"), or NULL */
    double settle_s;
    /* publisher */
    const char *pub_http; /* http://host:port/path with {ch}, or NULL */
    struct sockaddr_in pub_dst;
    char pub_host[128], pub_path_tmpl[256];
    const char *pub_ws_tmpl;   /* WebSocket publish command with {ch} {ts} {seq}, or NULL */
    const char *pub_body_tmpl; /* HTTP body with {ch} {ts} {seq} */
    const char *pub_headers[LG_MAX_HEADERS];
    int npub_headers;
    const char *pub_token; /* Bearer token of the publisher (HTTP and WebSocket) */
    uint32_t pub_conns;
    double rates[LG_MAX_STEPS];
    int nrates;
    double duration_s, drain_s, idle_s;
    double listen_s; /* --listen: only receive for this long, then report */
    /* measured processes */
    int pids[LG_MAX_PIDS], npids;
    int rss_pids[LG_MAX_PIDS], nrss_pids;
    const char *label;
} lg_opts;

/* lg_stats.c: latency samples and /proc readings. */
typedef struct lg_samples {
    uint32_t *v; /* latency in µs */
    size_t len, cap;
    bool sorted;
} lg_samples;

/* What one run has seen so far; the step counters are reset between publish rates. */
typedef struct lg_run {
    const lg_opts *o;
    int ep;
    lg_conn *subs, *pubs;
    uint32_t npubs;
    uint32_t *subs_per_ch;
    uint32_t ready, closed, failed, in_setup;
    uint64_t expected, received, stray; /* stray: frames without a timestamp (replies, joins) */
    uint64_t late;                      /* messages published before this step began */
    uint64_t step_t0_us;
    uint64_t pub_sent, pub_ok, pub_err, pub_backlog;
    uint64_t last_rx_us;
    lg_samples lat;
    char **tokens; /* one per subscriber, when minted */
} lg_run;

/* lg_net.c: socket I/O. */
/* Start a non-blocking connect from the source chosen by c->index; GL-style 0 or -1. */
int lg_net_connect(lg_run *r, lg_conn *c);
/* Handle epoll events of one connection. */
void lg_net_event(lg_run *r, lg_conn *c, uint32_t events);
/* Queue bytes for the socket (written at once when possible); 0 or -1. */
int lg_net_send(lg_run *r, lg_conn *c, const char *p, size_t n);
/* Close c's socket, if open, and free its buffers (at exit). */
void lg_conn_free(lg_conn *c);
/* Send a masked WebSocket text frame. */
int lg_net_send_text(lg_run *r, lg_conn *c, const char *p, size_t n);
/* Expand {ch} {ts} {seq} in tmpl into out (cap bytes); returns the length or -1. */
int lg_expand(const char *tmpl, const char *ch, uint64_t ts, uint64_t seq, char *out, size_t cap);
/* The channel name of index i. */
void lg_channel_name(const lg_opts *o, uint32_t i, char *out, size_t cap);

void lg_samples_add(lg_samples *s, uint64_t us);
/* Sorts the samples; returns the value at quantile q (0..1), 0 when empty. */
uint32_t lg_samples_quantile(lg_samples *s, double q);
void lg_samples_reset(lg_samples *s);

uint64_t lg_now_us(void);
/* Sum of utime+stime over pids, in µs; processes that are gone count 0. */
uint64_t lg_proc_cpu_us(const int *pids, int n);
/* Sum of VmRSS over pids, in bytes. */
uint64_t lg_proc_rss(const int *pids, int n);

/* lg_main.c: an HTTP publisher got its answer and may send a queued publish. */
void lg_pub_idle(lg_run *r, lg_conn *c);

/* lg_buf helpers (lg_net.c) */
int lg_buf_append(lg_buf *b, const void *p, size_t n);
void lg_buf_consume(lg_buf *b, size_t n);
void lg_buf_free(lg_buf *b);

#endif
