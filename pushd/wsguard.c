/* lws 4.1.6 reads every client socket with recv(2) (core-net/output.c), so pushd defines recv
 * and the reads of watched WebSocket connections pass through pd_wsscan before lws parses them.
 * The first frame that breaks a rule fails the connection at once (RFC 6455 7.1.7):
 * - our Close with the RFC's code is written straight to the socket, and the connection is
 *   muted (the on_fail hook: pushd queues nothing more to it);
 * - nothing the client sends after the fault reaches lws's parser, which could no longer frame
 *   it: it is read and dropped, which also keeps a proxy in front from resetting the client's
 *   connection (and losing our Close) for unread data;
 * - the connection ends when the client's Close arrives (reported to lws as end of file), at
 *   once when the faulty frame was that Close, else after FAIL_LINGER_SECS at the latest.
 * When lws still holds part of an earlier frame a Close cannot go in between: the code goes to
 * lws_close_reason() instead, and lws sends it after that frame. Only the event-loop thread's
 * reads are looked at: nng's threads read their own sockets. Remove this file once Debian's
 * lws checks masking itself (upstream does from 4.3). */
#include "wsguard.h"
#include "wsscan.h"
#include "shared/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DRAIN_READS 64     /* reads of a failed connection's input per call, at most */
#define FAIL_LINGER_SECS 1 /* a failed connection waits this long for the client's Close */

typedef struct watched {
    struct lws *wsi; /* NULL: not a watched socket */
    pd_wsscan scan;
} watched;

static watched *by_fd;
static size_t nfds;
static uint64_t max_msg;
static pthread_t loop_thread;
static pd_wsguard_fail_fn on_fail;

int
pd_wsguard_init(size_t max_fds, uint64_t max_message, pd_wsguard_fail_fn failed)
{
    /* calloc'd pages are touched only as fds are used: ~48 B per open socket. */
    if ((by_fd = calloc(max_fds, sizeof(*by_fd))) == NULL) return -1;
    nfds = max_fds;
    max_msg = max_message;
    loop_thread = pthread_self();
    on_fail = failed;
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

    for (int i = 0; i < DRAIN_READS; i++) {
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
        return drain(fd, w);
    }
    if ((code = pd_wsscan_feed(&w->scan, buf, (size_t)n, max_msg, &why)) == 0) return n;
    gl_log(GL_LOG_INFO, "server", "closing a connection with %d: %s", code, why);
    on_fail(w->wsi);
    if (lws_partial_buffered(w->wsi) || send_close(fd, code, why) != 0) {
        lws_close_reason(w->wsi, (enum lws_close_status)code, (unsigned char *)why, strlen(why));
        drain(fd, w);
        errno = EPROTO; /* lws: a failed read, so it closes, sending that reason */
        return -1;
    }
    if (drain(fd, w) == 0) return 0; /* the client has closed: lws ends the connection */
    lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, FAIL_LINGER_SECS);
    errno = EAGAIN;
    return -1;
}
