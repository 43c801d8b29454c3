/* lws 4.1.6 reads every client socket with recv(2) (core-net/output.c), so pushd defines recv
 * and the reads of watched WebSocket connections pass through pd_wsscan before lws parses them.
 * The first frame that breaks a rule fails the connection at once (RFC 6455 7.1.7): our Close
 * with the RFC's code is written straight to the socket, and the read reports an error, on
 * which lws shuts our side down and waits for the client's end of file. Nothing the client
 * sends after the fault reaches lws's parser, which could no longer frame it: it is read and
 * dropped. When lws still holds part of an earlier frame, a Close cannot go in between: the
 * code goes to lws_close_reason() instead, lws sends it after that frame and waits for the
 * client's Close (seen by the scanner, and reported as end of file). Only the event-loop
 * thread's reads are looked at: nng's threads read their own sockets. Remove this file once
 * Debian's lws checks masking itself (upstream does from 4.3). */
#include "wsguard.h"
#include "wsscan.h"
#include "shared/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DRAIN_READS 64 /* reads of a failed connection's input per call, at most */

typedef struct watched {
    struct lws *wsi; /* NULL: not a watched socket */
    pd_wsscan scan;
} watched;

static watched *by_fd;
static size_t nfds;
static uint64_t max_msg;
static pthread_t loop_thread;

int
pd_wsguard_init(size_t max_fds, uint64_t max_message)
{
    /* calloc'd pages are touched only as fds are used: ~48 B per open socket. */
    if ((by_fd = calloc(max_fds, sizeof(*by_fd))) == NULL) return -1;
    nfds = max_fds;
    max_msg = max_message;
    loop_thread = pthread_self();
    return 0;
}

void
pd_wsguard_destroy(void)
{
    free(by_fd);
    by_fd = NULL;
    nfds = 0;
}

void
pd_wsguard_watch(struct lws *wsi)
{
    int fd = (int)lws_get_socket_fd(wsi);
    if (fd < 0 || (size_t)fd >= nfds) return;
    memset(&by_fd[fd], 0, sizeof(by_fd[fd]));
    by_fd[fd].wsi = wsi;
}

void
pd_wsguard_unwatch(struct lws *wsi)
{
    int fd = (int)lws_get_socket_fd(wsi);
    if (fd >= 0 && (size_t)fd < nfds && by_fd[fd].wsi == wsi) by_fd[fd].wsi = NULL;
}

/* A failed connection's input: read and drop what is there (so that closing the socket does
 * not reset it, which can destroy our Close on its way); 0 (end of file) once the client's
 * Close or end of file has come, else "nothing to read". */
static ssize_t
drain(int fd, watched *w)
{
    unsigned char junk[4096];
    const char *why;

    for (int i = 0; i < DRAIN_READS && !w->scan.closed; i++) {
        ssize_t n = recvfrom(fd, junk, sizeof(junk), MSG_DONTWAIT, NULL, NULL);
        if (n == 0) return 0;
        if (n < 0) break;
        pd_wsscan_feed(&w->scan, junk, (size_t)n, max_msg, &why);
    }
    if (w->scan.closed) return 0;
    errno = EAGAIN;
    return -1;
}

/* Our Close, written where lws would have: a server frame is not masked. 0 when all of it went. */
static int
send_close(int fd, int code, const char *why)
{
    unsigned char f[2 + 2 + 123];
    size_t n = strlen(why) < 123 ? strlen(why) : 123;

    f[0] = 0x88; /* FIN, Close */
    f[1] = (unsigned char)(2 + n);
    f[2] = (unsigned char)(code >> 8);
    f[3] = (unsigned char)(code & 0xff);
    memcpy(f + 4, why, n);
    return send(fd, f, 4 + n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)(4 + n) ? 0 : -1;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t n = recvfrom(fd, buf, len, flags, NULL, NULL); /* what libc's recv does */
    watched *w;
    const char *why;
    int code;

    if (n <= 0 || !pthread_equal(pthread_self(), loop_thread) || fd < 0 || (size_t)fd >= nfds)
        return n;
    w = &by_fd[fd];
    if (w->wsi == NULL) return n;
    if (w->scan.failed) {
        pd_wsscan_feed(&w->scan, buf, (size_t)n, max_msg, &why);
        return w->scan.closed ? 0 : drain(fd, w);
    }
    if ((code = pd_wsscan_feed(&w->scan, buf, (size_t)n, max_msg, &why)) == 0) return n;
    gl_log(GL_LOG_INFO, "server", "closing a connection with %d: %s", code, why);
    if (lws_partial_buffered(w->wsi) || send_close(fd, code, why) != 0)
        lws_close_reason(w->wsi, (enum lws_close_status)code, (unsigned char *)why, strlen(why));
    drain(fd, w);
    errno = ECONNRESET; /* lws: a failed read, so it closes (sending the reason, if one is set) */
    return -1;
}
