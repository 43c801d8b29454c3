/* golive-bench-floor: the send() floor of a fan-out, for `make bench` (tests/bench/README.md).
 * The least a WebSocket server can do per delivery: one send() of the same, already framed
 * bytes to each subscriber's socket. Nothing is stored, checked, queued or retried.
 *
 *   golive-bench-floor PORT
 *   GET  /sub/<channel>  a WebSocket subscriber (101 at once; what it sends is discarded)
 *   POST /pub/<channel>  HTTP/1.1 keep-alive: the body, framed once, sent to every subscriber
 *                        of the channel, then 200
 *
 * One thread, one epoll set, level-triggered. A send() that does not take the whole frame is
 * counted (printed at exit) and the subscriber dropped: at the rates measured here the socket
 * buffers never fill, and a floor that queued would not be a floor. golive-loadgen does not
 * check Sec-WebSocket-Accept, so the handshake answers without computing it. */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536
#define MAX_CHANNELS 4096
#define HEAD_MAX 8192
#define BODY_MAX 65536

typedef struct conn {
    int used;
    int subscriber;   /* after its 101: only discarded reads from now on */
    int channel;      /* a subscriber's channel */
    size_t len, need; /* bytes in buf; a publisher's head + body length once its head is read */
    char buf[HEAD_MAX + BODY_MAX];
} conn;

typedef struct channel {
    char name[128];
    int *fds;
    size_t n, cap;
} channel;

static conn *conns[MAX_FDS];
static channel channels[MAX_CHANNELS];
static size_t nchannels;
static unsigned long long sends, short_sends;
static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int
channel_index(const char *name, size_t len)
{
    for (size_t i = 0; i < nchannels; i++)
        if (strlen(channels[i].name) == len && memcmp(channels[i].name, name, len) == 0)
            return (int)i;
    if (nchannels == MAX_CHANNELS || len >= sizeof(channels[0].name)) return -1;
    memcpy(channels[nchannels].name, name, len);
    channels[nchannels].name[len] = '\0';
    return (int)nchannels++;
}

static void
close_conn(int ep, int fd)
{
    conn *c = conns[fd];
    if (c != NULL && c->subscriber) {
        channel *ch = &channels[c->channel];
        for (size_t i = 0; i < ch->n; i++)
            if (ch->fds[i] == fd) {
                ch->fds[i] = ch->fds[--ch->n];
                break;
            }
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(c);
    conns[fd] = NULL;
}

/* The path after prefix in the request line of head, as [*at, *at + *len). */
static int
path_after(const char *head, const char *prefix, const char **at, size_t *len)
{
    const char *p = strstr(head, prefix), *end;
    if (p == NULL || p > strchr(head, '\n')) return -1;
    p += strlen(prefix);
    if ((end = strchr(p, ' ')) == NULL) return -1;
    *at = p;
    *len = (size_t)(end - p);
    return 0;
}

static void
fan_out(int ep, int chi, const char *body, size_t len)
{
    static unsigned char frame[BODY_MAX + 10];
    channel *ch = &channels[chi];
    size_t hl = 2, n = ch->n;

    frame[0] = 0x81; /* FIN, text */
    if (len < 126) {
        frame[1] = (unsigned char)len;
    } else {
        frame[1] = 126;
        frame[2] = (unsigned char)(len >> 8);
        frame[3] = (unsigned char)len;
        hl = 4;
    }
    memcpy(frame + hl, body, len);
    for (size_t i = n; i-- > 0;) { /* backwards: a dropped subscriber moves the last one here */
        ssize_t w = send(ch->fds[i], frame, hl + len, MSG_NOSIGNAL | MSG_DONTWAIT);
        sends++;
        if (w != (ssize_t)(hl + len)) {
            short_sends++;
            close_conn(ep, ch->fds[i]);
        }
    }
}

static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char upgraded[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                               "Connection: Upgrade\r\nSec-WebSocket-Accept: floor\r\n\r\n";

/* A publisher's or a new connection's bytes: act on each complete request in c->buf. */
static int
on_request_bytes(int ep, int fd, conn *c)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        const char *path, *cl;
        size_t plen, head;
        int chi;

        if (end == NULL) return c->len < HEAD_MAX ? 0 : -1;
        head = (size_t)(end - c->buf) + 4;
        *end = '\0';
        if (strncmp(c->buf, "GET ", 4) == 0) {
            if (path_after(c->buf, "/sub/", &path, &plen) != 0 ||
                (chi = channel_index(path, plen)) < 0)
                return -1;
            channel *ch = &channels[chi];
            if (ch->n == ch->cap) {
                ch->cap = ch->cap ? ch->cap * 2 : 1024;
                if ((ch->fds = realloc(ch->fds, ch->cap * sizeof(int))) == NULL) exit(1);
            }
            ch->fds[ch->n++] = fd;
            c->subscriber = 1;
            c->channel = chi;
            c->len = 0;
            return send(fd, upgraded, sizeof(upgraded) - 1, MSG_NOSIGNAL) < 0 ? -1 : 0;
        }
        if (strncmp(c->buf, "POST ", 5) != 0 || path_after(c->buf, "/pub/", &path, &plen) != 0 ||
            (cl = strcasestr(c->buf, "\r\nContent-Length:")) == NULL)
            return -1;
        c->need = head + strtoul(cl + 17, NULL, 10);
        if (c->need > sizeof(c->buf)) return -1;
        if (c->len < c->need) {
            *end = '\r'; /* read on: the head is parsed again once the body is here */
            return 0;
        }
        if ((chi = channel_index(path, plen)) < 0) return -1;
        fan_out(ep, chi, c->buf + head, c->need - head);
        if (send(fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) < 0) return -1;
        memmove(c->buf, c->buf + c->need, c->len - c->need);
        c->len -= c->need;
        c->need = 0;
    }
}

int
main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct epoll_event ev = {.events = EPOLLIN}, evs[256];
    int one = 1, lfd, ep;

    if (argc != 2) {
        fprintf(stderr, "usage: golive-bench-floor PORT\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4096) != 0 ||
        (ep = epoll_create1(0)) < 0) {
        perror("golive-bench-floor");
        return 1;
    }
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            conn *c;
            ssize_t r;

            if (fd == lfd) {
                int cfd;
                while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= MAX_FDS || (conns[cfd] = calloc(1, sizeof(conn))) == NULL) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    ev.data.fd = cfd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
                }
                continue;
            }
            if ((c = conns[fd]) == NULL) continue;
            if (c->subscriber) {
                char sink[4096];
                r = read(fd, sink, sizeof(sink));
                if (r == 0 || (r < 0 && errno != EAGAIN)) close_conn(ep, fd);
                continue;
            }
            r = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
            if (r <= 0) {
                if (r == 0 || errno != EAGAIN) close_conn(ep, fd);
                continue;
            }
            c->len += (size_t)r;
            if (on_request_bytes(ep, fd, c) != 0) close_conn(ep, fd);
        }
    }
    fprintf(stderr, "golive-bench-floor: %llu sends, %llu short (subscriber dropped)\n", sends,
            short_sends);
    return 0;
}
