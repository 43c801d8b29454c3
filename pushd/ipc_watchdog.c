/* The ipc listener watchdog: connect to the socket as an nng REQ0 peer, do the SP handshake
 * and one request. For nng that is an ordinary short-lived client; no reply within
 * PROBE_TIMEOUT_MS means the listener no longer delivers new connections. */
#include "ipc_watchdog.h"
#include "shared/log.h"
#include "shared/wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 1000
#define STR_(x) #x
#define STR(x) STR_(x)

struct pd_ipc_watchdog {
    char path[108];
    int interval_ms;
    void (*relisten)(void *arg);
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

/* SP header: 0x00 'S' 'P' 0x00, protocol id (REQ0 = 0x30, REP0 = 0x31), two reserved zeros. */
static const unsigned char req_header[8] = {0, 'S', 'P', 0, 0, 0x30, 0, 0};
static const unsigned char rep_header[8] = {0, 'S', 'P', 0, 0, 0x31, 0, 0};

static bool
read_full(int fd, unsigned char *buf, size_t len)
{
    size_t n = 0;
    while (n < len) {
        ssize_t r = read(fd, buf + n, len - n);
        if (r <= 0) return false;
        n += (size_t)r;
    }
    return true;
}

/* Handshake, then one request through the socket: in nng 1.5.2's broken state the transport
 * still completes handshakes but never hands the pipe to the socket, so only a reply proves
 * the listener works. The request is a wire "stats" (docs/wire.md), answered on the loop. */
static bool
probe(const char *path)
{
    static const char body[] = "{\"v\":" STR(GL_WIRE_VERSION) ",\"op\":\"" GL_OP_STATS "\"}";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {PROBE_TIMEOUT_MS / 1000, (PROBE_TIMEOUT_MS % 1000) * 1000};
    unsigned char got[8], frame[9 + 4 + sizeof(body) - 1], head[9];
    uint64_t len = 4 + sizeof(body) - 1;
    bool ok = false;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) return true; /* cannot tell: do not churn the listener */
    memcpy(sa.sun_path, path, strlen(path) + 1);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        write(fd, req_header, sizeof(req_header)) != (ssize_t)sizeof(req_header) ||
        !read_full(fd, got, sizeof(got)) || memcmp(got, rep_header, sizeof(got)) != 0)
        goto out;
    /* IPC framing: type 1, 64-bit big-endian length, then the REQ0 request id (high bit set). */
    frame[0] = 1;
    for (int i = 0; i < 8; i++)
        frame[1 + i] = (unsigned char)(len >> (56 - 8 * i));
    memcpy(frame + 9, "\x80\x00\x00\x01", 4);
    memcpy(frame + 13, body, sizeof(body) - 1);
    if (write(fd, frame, sizeof(frame)) != (ssize_t)sizeof(frame) ||
        !read_full(fd, head, sizeof(head)))
        goto out;
    ok = head[0] == 1;
out:
    close(fd);
    return ok;
}

static void *
watchdog_main(void *arg)
{
    pd_ipc_watchdog *w = arg;

    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += w->interval_ms / 1000;
        until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!w->stopping && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
            ;
        if (w->stopping) break;
        pthread_mutex_unlock(&w->mu);
        if (!probe(w->path)) {
            gl_log(GL_LOG_WARN, "ipc",
                   "the nng listener on %s stopped answering (nng 1.5.2 bug #1518); "
                   "starting a new one",
                   w->path);
            w->relisten(w->arg);
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int
pd_ipc_watchdog_start(const char *path, int interval_ms, void (*relisten)(void *arg), void *arg,
                      pd_ipc_watchdog **out)
{
    pd_ipc_watchdog *w;

    if (strlen(path) >= sizeof(w->path)) return GL_EINVAL;
    if ((w = calloc(1, sizeof(*w))) == NULL) return GL_ENOMEM;
    memcpy(w->path, path, strlen(path) + 1);
    w->interval_ms = interval_ms;
    w->relisten = relisten;
    w->arg = arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        free(w);
        return GL_ENOMEM;
    }
    *out = w;
    return GL_OK;
}

void
pd_ipc_watchdog_stop(pd_ipc_watchdog *w)
{
    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
