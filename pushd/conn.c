/* Connections: a ring of queued frames per client, capped at PD_QUEUE_MAX so one slow reader
 * can never make pushd's memory grow without bound: it is closed with 4008 instead. */
#include "conn.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CLOSE_WAIT_SECS 3 /* for the peer's answering Close */
/* lws 4.1 keeps the Close opcode's write type private (lws-write.h: "LWS_WRITE_CLOSE is handled
 * by lws_close_reason()"); its value, 4, is part of the ABI the enum promises to keep. */
#define PD_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

pd_conn *
pd_conn_new(pd_server *srv, struct lws *wsi)
{
    pd_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) return NULL;
    c->wsi = wsi;
    c->refs = 1;
    c->seen_ms = (uint32_t)gl_time_mono_ms();
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    srv->churn++;
    return c;
}

void
pd_conn_unref(pd_conn *c)
{
    if (c == NULL || --c->refs > 0) return;
    pd_user_unref(c->user);
    free(c);
}

static void
queue_pop(pd_conn *c, uint16_t n)
{
    while (n-- > 0) {
        pd_frame_unref(c->q[c->qhead]);
        c->qhead = (uint16_t)((c->qhead + 1) % c->qcap);
        c->qlen--;
    }
}

static void
queue_clear(pd_conn *c)
{
    queue_pop(c, c->qlen);
    free(c->q);
    c->q = NULL;
    c->qcap = c->qhead = 0;
}

void
pd_conn_closed(pd_server *srv, pd_conn *c)
{
    int k = c->close_code != 0 ? pd_close_index(c->close_code) : -1;

    if (k >= 0) srv->counters.closes[k]++;
    queue_clear(c);
    free(c->rx);
    c->rx = NULL;
    c->rxlen = c->rxcap = 0;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    srv->nconns--;
    srv->churn++;
    c->wsi = NULL;
    pd_conn_unref(c);
}

/* Grow the ring by doubling (up to PD_QUEUE_MAX), unrolling it into the new array. */
static bool
queue_grow(pd_conn *c)
{
    uint32_t ncap = c->qcap ? (uint32_t)c->qcap * 2 : 4;
    pd_frame **nq;

    if (ncap > PD_QUEUE_MAX) return false;
    nq = malloc(ncap * sizeof(*nq));
    if (nq == NULL) return false;
    for (uint16_t i = 0; i < c->qlen; i++)
        nq[i] = c->q[(c->qhead + i) % c->qcap];
    free(c->q);
    c->q = nq;
    c->qcap = (uint16_t)ncap;
    c->qhead = 0;
    return true;
}

/* Put c on the list pd_conn_flush() walks after this loop pass; the list holds a reference. */
static void
mark_dirty(pd_conn *c)
{
    pd_server *srv;

    if (c->dirty) return;
    srv = pd_server_get(c->wsi);
    c->dirty = true;
    c->dirty_next = srv->dirty;
    srv->dirty = c;
    pd_conn_ref(c);
}

void
pd_conn_close_after_flush(pd_conn *c, uint16_t code, const char *reason)
{
    if (c->wsi == NULL || c->close_code != 0) return;
    c->close_code = code;
    c->close_reason = reason;
    lws_callback_on_writable(c->wsi);
}

void
pd_conn_send(pd_conn *c, pd_frame *f)
{
    if (f == NULL || c->wsi == NULL || c->close_code != 0) return;
    if (c->qlen == c->qcap && !queue_grow(c)) {
        gl_log(GL_LOG_WARN, "conn", "client %s too slow: %u frames unsent, closing",
               c->user ? c->user->id : "(anonymous)", c->qlen);
        /* Drop what is queued and close as soon as the socket takes a write; a peer that
         * takes none at all is cut after 5 s. */
        c->close_code = PD_CLOSE_SLOW;
        c->close_reason = "slow consumer";
        queue_clear(c);
        lws_callback_on_writable(c->wsi);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
        return;
    }
    pd_frame_ref(f);
    c->q[(c->qhead + c->qlen) % c->qcap] = f;
    /* A queue that was not empty is already due for a flush or waiting for WRITEABLE. */
    if (c->qlen++ == 0) mark_dirty(c);
}

void
pd_conn_send_json(pd_conn *c, char *json)
{
    pd_frame *f = pd_frame_from_json(json);
    if (f == NULL) {
        gl_log(GL_LOG_ERROR, "conn", "out of memory building a frame");
        return;
    }
    pd_conn_send(c, f);
    pd_frame_unref(f);
}

void
pd_conn_send_error(pd_conn *c, const cJSON *id, int code, const char *msg)
{
    pd_conn_send_channel_error(c, id, NULL, code, msg);
}

void
pd_conn_send_channel_error(pd_conn *c, const cJSON *id, const char *channel, int code,
                           const char *msg)
{
    pd_conn_send_json(c, gl_event_print_take(gl_event_error(id, channel, code, msg)));
}

/* The closing handshake of RFC 6455 done properly: send our Close and keep reading until the
 * peer's Close comes back (lws answers it and closes), or CLOSE_WAIT_SECS pass. Returning -1
 * after lws_close_reason() instead shuts the socket at once (lws 4.1), and a peer with frames
 * still in flight then gets a reset, which makes a proxy in front drop our Close frame. */
static int
send_close(pd_conn *c)
{
    unsigned char buf[LWS_PRE + 125];
    size_t n = c->close_reason ? strlen(c->close_reason) : 0;

    if (n > 123) n = 123;
    buf[LWS_PRE] = (unsigned char)(c->close_code >> 8);
    buf[LWS_PRE + 1] = (unsigned char)(c->close_code & 0xff);
    memcpy(buf + LWS_PRE + 2, c->close_reason ? c->close_reason : "", n);
    c->close_sent = true;
    if (lws_write(c->wsi, buf + LWS_PRE, n + 2, PD_LWS_WRITE_CLOSE) < 0) return -1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_WAIT_SECS);
    return 0;
}

static size_t
put_header(unsigned char *p, uint32_t len)
{
    p[0] = 0x81; /* FIN, text */
    if (len < 126) {
        p[1] = (unsigned char)len;
        return 2;
    }
    if (len < 65536) {
        p[1] = 126;
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
        return 4;
    }
    p[1] = 127;
    for (int i = 0; i < 8; i++)
        p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

/* Write what is queued with one send: a single frame from its own buffer (lws writes the header
 * into its LWS_PRE headroom), several gathered with their headers into srv->wbuf. lws buffers
 * whatever the kernel does not take and asks for WRITEABLE itself, so only a negative return
 * is a failure. Frames that did not fit wait for the next WRITEABLE. */
static int
write_queue(pd_server *srv, pd_conn *c)
{
    unsigned char *out = srv->wbuf + LWS_PRE;
    size_t n = 0;
    uint16_t taken = 0;
    int rv;

    while (c->qlen > 1 && taken < c->qlen) {
        pd_frame *f = c->q[(c->qhead + taken) % c->qcap];
        if (n + 10 + f->len > PD_WBUF) break;
        n += put_header(out + n, f->len);
        memcpy(out + n, pd_frame_payload(f), f->len);
        n += f->len;
        taken++;
    }
    if (taken > 1) {
        rv = lws_write(c->wsi, out, n, LWS_WRITE_RAW);
    } else {
        pd_frame *f = c->q[c->qhead];
        rv = lws_write(c->wsi, pd_frame_payload(f), f->len, LWS_WRITE_TEXT);
        taken = 1;
        n = f->len + (f->len < 126 ? 2 : f->len < 65536 ? 4 : 10);
    }
    srv->counters.sends++;
    srv->counters.frames_sent += taken;
    srv->counters.bytes_sent += n;
    queue_pop(c, taken);
    /* An idle connection keeps no ring: a burst (joins while a room fills) would otherwise
     * leave it at its peak size for the connection's life. */
    if (c->qlen == 0) queue_clear(c);
    if (c->corked) pd_conn_uncork(c); /* the 101 and this write leave together */
    if (rv < 0) return -1;
    if (c->qlen > 0 || (c->close_code != 0 && !c->close_sent) || c->ping == PD_PING_DUE)
        lws_callback_on_writable(c->wsi);
    return 0;
}

void
pd_conn_uncork(pd_conn *c)
{
    int off = 0;

    c->corked = false;
    setsockopt(lws_get_socket_fd(c->wsi), IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
}

void
pd_conn_flush(pd_server *srv)
{
    pd_conn *c = srv->dirty, *next;

    srv->dirty = NULL;
    for (; c != NULL; c = next) {
        next = c->dirty_next;
        c->dirty_next = NULL;
        c->dirty = false;
        if (c->wsi != NULL && c->qlen > 0) {
            if (lws_partial_buffered(c->wsi))
                lws_callback_on_writable(c->wsi); /* lws drains its buffer first */
            else if (write_queue(srv, c) < 0)
                lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        pd_conn_unref(c);
    }
}

void
pd_conn_failed(pd_conn *c)
{
    c->close_code = PD_CLOSE_PROTOCOL;
    c->close_sent = true;
    queue_clear(c);
}

int
pd_conn_on_writeable(pd_server *srv, pd_conn *c)
{
    if (c->close_sent) return 0; /* nothing may follow our Close */
    if (c->qlen > 0) return write_queue(srv, c);
    if (c->close_code != 0) return send_close(c);
    if (c->ping == PD_PING_DUE) {
        /* With a payload: lws 4.1 does not report an empty PONG (ops-ws.c, "already_done"). */
        unsigned char buf[LWS_PRE + 2] = {[LWS_PRE] = 'k', [LWS_PRE + 1] = 'a'};
        c->ping = PD_PING_SENT;
        return lws_write(c->wsi, buf + LWS_PRE, 2, LWS_WRITE_PING) < 0 ? -1 : 0;
    }
    return 0;
}

void
pd_conn_seen(pd_conn *c, uint32_t now_ms)
{
    c->seen_ms = now_ms;
    c->ping = PD_PING_NONE;
}

void
pd_conn_check_alive(pd_conn *c, uint32_t now_ms, const pd_options *o)
{
    uint32_t silent = (now_ms - c->seen_ms) / 1000; /* wraps safely: unsigned */

    if (c->wsi == NULL) return;
    if (silent >= o->timeout_secs) {
        gl_log(GL_LOG_DEBUG, "conn", "client %s silent for %u s: closing",
               c->user ? c->user->id : "(anonymous)", silent);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    } else if (silent >= o->ping_secs && c->ping == PD_PING_NONE) {
        c->ping = PD_PING_DUE;
        lws_callback_on_writable(c->wsi);
    }
}

int
pd_conn_rx_append(pd_conn *c, const void *in, size_t len, size_t max)
{
    if ((size_t)c->rxlen + len > max) return GL_ETOOBIG;
    if (c->rxlen + len + 1 > c->rxcap) {
        size_t ncap = c->rxcap ? c->rxcap : 1024;
        char *nrx;
        while (ncap < c->rxlen + len + 1)
            ncap *= 2;
        if ((nrx = realloc(c->rx, ncap)) == NULL) return GL_ENOMEM;
        c->rx = nrx;
        c->rxcap = (uint32_t)ncap;
    }
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += (uint32_t)len;
    c->rx[c->rxlen] = '\0';
    return GL_OK;
}

void
pd_conn_send_reply(pd_conn *c, const char *type, const cJSON *id, cJSON *data)
{
    cJSON *o = gl_event_new(type, NULL), *idc = NULL;

    if (o == NULL || data == NULL || (id != NULL && (idc = cJSON_Duplicate(id, 1)) == NULL)) {
        cJSON_Delete(o);
        cJSON_Delete(data);
        pd_conn_send_error(c, id, GL_ENOMEM, "out of memory");
        return;
    }
    if (idc != NULL) cJSON_AddItemToObject(o, "id", idc);
    cJSON_AddItemToObject(o, "data", data);
    pd_conn_send_json(c, gl_event_print_take(o));
}
