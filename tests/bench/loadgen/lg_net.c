/* Socket I/O of the load generator: non-blocking connects from several source addresses, the
 * HTTP upgrade, WebSocket frames in (unmasked, from the server) and out (masked with a zero
 * key, which RFC 6455 allows and costs no copy), and HTTP/1.1 responses to publishes. */
#include "lg.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 16384 /* an upgrade or HTTP response head larger than this is an error */

int
lg_buf_append(lg_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        char *np;
        while (ncap < b->len + n)
            ncap *= 2;
        if ((np = realloc(b->p, ncap)) == NULL) return -1;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void
lg_buf_consume(lg_buf *b, size_t n)
{
    if (n >= b->len) {
        lg_buf_free(b); /* idle connections keep no buffers */
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void
lg_buf_free(lg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void
lg_channel_name(const lg_opts *o, uint32_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%s%u", o->channel_prefix, i);
}

int
lg_expand(const char *tmpl, const char *ch, uint64_t ts, uint64_t seq, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = tmpl; *p != '\0';) {
        char num[32];
        const char *ins = NULL;
        size_t skip = 1, len;

        if (strncmp(p, "{ch}", 4) == 0) {
            ins = ch;
            skip = 4;
        } else if (strncmp(p, "{ts}", 4) == 0) {
            snprintf(num, sizeof(num), "%llu", (unsigned long long)ts);
            ins = num;
            skip = 4;
        } else if (strncmp(p, "{seq}", 5) == 0) {
            snprintf(num, sizeof(num), "%llu", (unsigned long long)seq);
            ins = num;
            skip = 5;
        }
        len = ins ? strlen(ins) : 1;
        if (n + len + 1 > cap) return -1;
        memcpy(out + n, ins ? ins : p, len);
        n += len;
        p += skip;
    }
    out[n] = '\0';
    return (int)n;
}

static void
set_events(lg_run *r, lg_conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (c->out.len > 0 || c->state == LG_CONNECTING) ev.events |= EPOLLOUT;
    epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Close c. A subscriber that was not ready yet counts as failed, one that was as closed. */
static void
conn_close(lg_run *r, lg_conn *c)
{
    if (c->fd >= 0) close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    lg_buf_free(&c->in);
    lg_buf_free(&c->out);
    if (c->kind == LG_HTTP_PUB) {
        /* Servers that answer "Connection: close" (Pushpin's publish port) get a new
         * connection per publish, as their own clients would. */
        if (c->busy) r->pub_err++;
        c->busy = false;
        if (lg_net_connect(r, c) != 0) {
            fprintf(stderr, "loadgen: cannot reconnect the publisher\n");
            c->state = LG_CLOSED;
        }
        return;
    }
    if (c->kind == LG_SUB) {
        if (c->state != LG_READY) {
            r->failed++;
            r->in_setup--;
        } else {
            r->ready--;
            r->closed++;
        }
    }
    c->state = LG_CLOSED;
}

void
lg_conn_free(lg_conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    lg_buf_free(&c->in);
    lg_buf_free(&c->out);
}

int
lg_net_connect(lg_run *r, lg_conn *c)
{
    const lg_opts *o = r->o;
    const struct sockaddr_in *dst = c->kind == LG_HTTP_PUB ? &o->pub_dst : &o->dst;
    struct sockaddr_in src = {.sin_family = AF_INET};
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN};
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    /* Let connect() pick the port, so each source address has its own 28k ports per server. */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    src.sin_addr = o->sources[c->index % (uint32_t)o->nsources];
    if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
        (connect(c->fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0 && errno != EINPROGRESS)) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->state = LG_CONNECTING;
    ev.data.ptr = c;
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

int
lg_net_send(lg_run *r, lg_conn *c, const char *p, size_t n)
{
    bool was_empty = c->out.len == 0;

    if (was_empty) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) return -1;
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
    }
    if (n == 0) return 0;
    if (lg_buf_append(&c->out, p, n) != 0) return -1;
    if (was_empty) set_events(r, c);
    return 0;
}

static int
send_frame(lg_run *r, lg_conn *c, unsigned opcode, const char *p, size_t n)
{
    char hdr[14];
    size_t h = 0;

    hdr[h++] = (char)(0x80 | opcode);
    if (n < 126) {
        hdr[h++] = (char)(0x80 | n);
    } else if (n < 65536) {
        hdr[h++] = (char)(0x80 | 126);
        hdr[h++] = (char)(n >> 8);
        hdr[h++] = (char)(n & 0xff);
    } else {
        hdr[h++] = (char)(0x80 | 127);
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (char)(((uint64_t)n >> (8 * i)) & 0xff);
    }
    memset(hdr + h, 0, 4); /* zero mask key: the payload goes out as is */
    h += 4;
    if (lg_net_send(r, c, hdr, h) != 0) return -1;
    return lg_net_send(r, c, p, n);
}

int
lg_net_send_text(lg_run *r, lg_conn *c, const char *p, size_t n)
{
    return send_frame(r, c, 0x1, p, n);
}

static void
send_upgrade(lg_run *r, lg_conn *c)
{
    const lg_opts *o = r->o;
    char ch[96], path[512], req[8192];
    const char *tok = NULL;
    int n;

    lg_channel_name(o, c->ch, ch, sizeof(ch));
    if (lg_expand(o->path_tmpl, ch, 0, 0, path, sizeof(path)) < 0) goto fail;
    if (c->kind == LG_SUB && r->tokens != NULL)
        tok = r->tokens[c->index];
    else if (c->kind == LG_WS_PUB)
        tok = o->pub_token;
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                 "%s%s%s\r\n",
                 path, o->host, tok ? "Authorization: Bearer " : "", tok ? tok : "",
                 tok ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(req) || lg_net_send(r, c, req, (size_t)n) != 0) goto fail;
    c->state = LG_UPGRADING;
    set_events(r, c);
    return;
fail:
    conn_close(r, c);
}

static void
became_ready(lg_run *r, lg_conn *c)
{
    c->state = LG_READY;
    if (c->kind == LG_SUB) {
        r->ready++;
        r->in_setup--;
    } else if (c->kind == LG_HTTP_PUB) {
        lg_pub_idle(r, c);
    }
}

static void
subscribe_or_ready(lg_run *r, lg_conn *c)
{
    char ch[96], msg[1024];
    int n;

    if (c->kind != LG_SUB || r->o->subscribe_tmpl == NULL) {
        became_ready(r, c);
        return;
    }
    lg_channel_name(r->o, c->ch, ch, sizeof(ch));
    n = lg_expand(r->o->subscribe_tmpl, ch, 0, 0, msg, sizeof(msg));
    if (n < 0 || lg_net_send_text(r, c, msg, (size_t)n) != 0) {
        conn_close(r, c);
        return;
    }
    c->state = LG_SUBSCRIBING;
}

/* A delivered text message: a timestamped one counts as received, anything else is a reply. */
static void
on_text(lg_run *r, lg_conn *c, const char *p, size_t n)
{
    static const char key[] = "lgts\":";
    const char *k = memmem(p, n, key, sizeof(key) - 1);

    if (k != NULL && c->kind == LG_SUB) {
        uint64_t ts = 0, now = lg_now_us();
        for (k += sizeof(key) - 1; k < p + n && *k >= '0' && *k <= '9'; k++)
            ts = ts * 10 + (uint64_t)(*k - '0');
        if (ts < r->step_t0_us) {
            r->late++; /* published in an earlier step */
            return;
        }
        r->received++;
        r->last_rx_us = now;
        lg_samples_add(&r->lat, now > ts ? now - ts : 0);
        return;
    }
    r->stray++;
    if (c->state == LG_SUBSCRIBING && memmem(p, n, r->o->ready_match, strlen(r->o->ready_match)))
        became_ready(r, c);
    else if (c->kind == LG_WS_PUB && memmem(p, n, "\"type\":\"publish\"", 16))
        r->pub_ok++;
    else if (c->kind == LG_WS_PUB && memmem(p, n, "\"type\":\"error\"", 14)) {
        if (r->pub_err++ == 0) fprintf(stderr, "loadgen: publish refused: %.*s\n", (int)n, p);
    } else if (c->state == LG_SUBSCRIBING && memmem(p, n, "\"type\":\"error\"", 14)) {
        if (r->failed == 0) fprintf(stderr, "loadgen: subscribe refused: %.*s\n", (int)n, p);
        conn_close(r, c);
    }
}

/* Parse whole frames from p; returns bytes used, or -1 to close. */
static long
on_frames(lg_run *r, lg_conn *c, const char *p, size_t n)
{
    size_t off = 0;

    while (c->state != LG_CLOSED && n - off >= 2) {
        const unsigned char *h = (const unsigned char *)p + off;
        unsigned opcode = h[0] & 0x0f;
        uint64_t len = h[1] & 0x7f;
        size_t hl = 2 + ((h[1] & 0x80) ? 4 : 0);

        if (len == 126) {
            if (n - off < 4) break;
            len = (uint64_t)h[2] << 8 | h[3];
            hl += 2;
        } else if (len == 127) {
            if (n - off < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | h[2 + i];
            hl += 8;
        }
        if (len > (64u << 20)) return -1;
        if (n - off < hl + len) break;
        if (opcode == 0x1 || opcode == 0x0)
            on_text(r, c, p + off + hl, (size_t)len);
        else if (opcode == 0x9)
            send_frame(r, c, 0xA, p + off + hl, (size_t)len);
        else if (opcode == 0x8)
            return -1;
        off += hl + (size_t)len;
    }
    return (long)off;
}

/* An HTTP response to a publish: status, then Content-Length or chunked body. Returns bytes
 * used, 0 when incomplete, -1 on a malformed response. */
static long
on_http_response(lg_run *r, lg_conn *c, const char *p, size_t n)
{
    const char *end = memmem(p, n, "\r\n\r\n", 4), *cl;
    size_t head, body;
    int status;

    if (end == NULL) return n > HEAD_MAX ? -1 : 0;
    head = (size_t)(end - p) + 4;
    if (sscanf(p, "HTTP/1.%*d %d", &status) != 1) return -1;
    if ((cl = memmem(p, head, "\nContent-Length:", 16)) != NULL ||
        (cl = memmem(p, head, "\ncontent-length:", 16)) != NULL) {
        body = (size_t)strtoul(cl + 16, NULL, 10);
        if (n - head < body) return 0;
    } else if (memmem(p, head, "chunked", 7) != NULL) {
        const char *last = memmem(p + head, n - head, "0\r\n\r\n", 5);
        if (last == NULL) return 0;
        body = (size_t)(last + 5 - (p + head));
    } else {
        body = 0;
    }
    c->busy = false;
    if (status >= 200 && status < 300) {
        r->pub_ok++;
        r->expected += r->subs_per_ch[c->ch];
    } else if (r->pub_err++ == 0) {
        fprintf(stderr, "loadgen: publish answered %d: %.*s\n", status, (int)(head + body), p);
    }
    lg_pub_idle(r, c);
    return (long)(head + body);
}

/* Consume what arrived; returns bytes used or -1. */
static long
on_input(lg_run *r, lg_conn *c, const char *p, size_t n)
{
    long used = 0, k = 0;

    if (c->kind == LG_HTTP_PUB) {
        while ((size_t)used < n && (k = on_http_response(r, c, p + used, n - (size_t)used)) > 0)
            used += k;
        return k < 0 ? -1 : used;
    }
    if (c->state == LG_UPGRADING) {
        const char *end = memmem(p, n, "\r\n\r\n", 4);
        if (end == NULL) return n > HEAD_MAX ? -1 : 0;
        if (strncmp(p, "HTTP/1.1 101", 12) != 0) {
            if (r->failed == 0)
                fprintf(stderr, "loadgen: upgrade refused: %.*s\n", (int)(end - p), p);
            return -1;
        }
        used = end - p + 4;
        subscribe_or_ready(r, c);
        if (c->state == LG_CLOSED) return -1;
    }
    if ((k = on_frames(r, c, p + used, n - (size_t)used)) < 0) return -1;
    return used + k;
}

static void
on_readable(lg_run *r, lg_conn *c)
{
    static char buf[262144];
    ssize_t got = recv(c->fd, buf, sizeof(buf), 0);
    long used;

    if (got == 0 || (got < 0 && errno != EAGAIN)) {
        conn_close(r, c);
        return;
    }
    if (got < 0) return;
    if (c->in.len == 0) {
        used = on_input(r, c, buf, (size_t)got);
        if (used >= 0 && (size_t)used < (size_t)got && c->state != LG_CLOSED &&
            lg_buf_append(&c->in, buf + used, (size_t)got - (size_t)used) != 0)
            used = -1;
    } else {
        if (lg_buf_append(&c->in, buf, (size_t)got) != 0) {
            conn_close(r, c);
            return;
        }
        used = on_input(r, c, c->in.p, c->in.len);
        if (used > 0 && c->state != LG_CLOSED) lg_buf_consume(&c->in, (size_t)used);
    }
    if (used < 0 && c->state != LG_CLOSED) conn_close(r, c);
}

static void
on_writable(lg_run *r, lg_conn *c)
{
    if (c->state == LG_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            if (r->failed == 0) fprintf(stderr, "loadgen: connect: %s\n", strerror(err));
            conn_close(r, c);
            return;
        }
        if (c->kind == LG_HTTP_PUB)
            became_ready(r, c);
        else
            send_upgrade(r, c);
        return;
    }
    while (c->out.len > 0) {
        ssize_t w = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno != EAGAIN) conn_close(r, c);
            return;
        }
        lg_buf_consume(&c->out, (size_t)w);
    }
    set_events(r, c);
}

void
lg_net_event(lg_run *r, lg_conn *c, uint32_t events)
{
    if (c->state == LG_CLOSED) return;
    if (events & (EPOLLOUT | EPOLLERR)) on_writable(r, c);
    if (c->state != LG_CLOSED && c->state != LG_CONNECTING && (events & (EPOLLIN | EPOLLHUP)))
        on_readable(r, c);
}
