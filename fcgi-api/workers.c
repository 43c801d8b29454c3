/* The worker threads. libfcgi serves one connection per FCGX_Request and, when the web server
 * asks to keep a connection, would keep the thread reading it until the next request: a few
 * idle kept connections would take every worker while new requests wait. So the threads do the
 * waiting themselves, in one epoll set, and lend libfcgi a connection only while it has a
 * request to read:
 * - the listening socket and each connection are in the set with EPOLLONESHOT, so one thread
 *   at a time takes each; the thread that accepts re-arms the listening socket at once, and a
 *   new connection joins the set too, so that one which sends nothing holds no thread;
 * - FCGX_Accept_r reads the request from the connection it is handed (its listen_sock is -1,
 *   so it never accepts, and a connection the peer closed comes back as an error);
 * - after the reply, a connection the web server keeps goes back into the set.
 * The epoll wake is the one hand-off a request on a kept connection costs, as the accept was
 * before; the connect, accept, shutdown and close of every request are gone. */
#include "workers.h"

#include "shared/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

static int stop_fd = -1;              /* an eventfd: readable once api_workers_stop ran */
static volatile sig_atomic_t stopped; /* api_workers_stop ran, maybe before stop_fd existed */

typedef struct pool {
    api_app *app;
    int ep;                       /* the epoll set */
    int listen_fd;                /* in the set with EPOLLONESHOT */
    const char *web_server_addrs; /* FCGI_WEB_SERVER_ADDRS, as libfcgi reads it; NULL: any */
} pool;

typedef struct worker {
    pool *pool;
    pthread_t thread;
    int id;
} worker;

/* ---- a request's I/O over libfcgi's streams ---- */

static const char *
fcgi_param(void *ctx, const char *name)
{
    return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static int
fcgi_read(void *ctx, char *buf, int n)
{
    return FCGX_GetStr(buf, n, ((FCGX_Request *)ctx)->in);
}

static int
fcgi_write(void *ctx, const char *buf, int n)
{
    return FCGX_PutStr(buf, n, ((FCGX_Request *)ctx)->out);
}

/* ---- connections ---- */

static int
arm(pool *p, int op, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = fd};
    return epoll_ctl(p->ep, op, fd, &ev);
}

/* libfcgi's check of an IPv4 peer (FCGI_WEB_SERVER_ADDRS: a comma-separated list of IPv4
 * addresses), kept now that the accept is ours. */
static bool
peer_allowed(const pool *p, const struct sockaddr_in *sa)
{
    char addr[INET_ADDRSTRLEN];
    size_t n;

    if (p->web_server_addrs == NULL) return true;
    if (inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof(addr)) == NULL) return false;
    n = strlen(addr);
    for (const char *s = p->web_server_addrs; *s != '\0';) {
        size_t len = strcspn(s, ",");
        if (len == n && memcmp(s, addr, n) == 0) return true;
        s += len + (s[len] == ',');
    }
    return false;
}

/* A new connection from the listening socket, or -1 when there was none to take. */
static int
take_new(pool *p)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(p->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    int err = errno;

    if (arm(p, EPOLL_CTL_MOD, p->listen_fd) != 0)
        gl_log(GL_LOG_ERROR, "api", "epoll: cannot re-arm the listening socket: %s",
               strerror(errno));
    if (fd < 0) {
        if (err == EMFILE || err == ENFILE) {
            /* Out of descriptors: the socket stays readable; wait rather than spin on it. */
            gl_log(GL_LOG_WARN, "api", "accept: %s", strerror(err));
            usleep(10000);
        }
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        int on = 1;
        if (!peer_allowed(p, (struct sockaddr_in *)&ss)) {
            close(fd);
            return -1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)); /* replies are small */
    }
    return fd;
}

static void
serve_request(api_app *app, FCGX_Request *fr, gl_db *db, gl_jwt_cache *jwt_cache)
{
    api_req r;

    memset(&r, 0, sizeof(r));
    r.app = app;
    r.db = db;
    r.jwt_cache = jwt_cache;
    r.io = (api_io){fr, fcgi_param, fcgi_read, fcgi_write};
    pthread_rwlock_rdlock(&app->cfg_lock);
    api_handle(&r);
    pthread_rwlock_unlock(&app->cfg_lock);
}

#define DRAIN_MAX (8 * 1024 * 1024) /* past this much unread body, close rather than read */

/* The part of a request's body its handler did not read (a reply that came first, such as a
 * 401) is still on the connection, and the next request there would be read from its middle:
 * read it and drop it, or, past DRAIN_MAX, have the connection closed. nginx sends a body it
 * has buffered whole (fastcgi_request_buffering, the default), so this waits on no client. */
static void
drain_body(FCGX_Request *fr)
{
    char buf[4096];
    size_t total = 0;
    int n;

    while ((n = FCGX_GetStr(buf, sizeof(buf), fr->in)) > 0)
        if ((total += (size_t)n) > DRAIN_MAX) {
            fr->keepConnection = 0;
            return;
        }
}

/* Serve the request waiting on fd, then give fd back to the set if the web server keeps it,
 * else close it. */
static void
serve_connection(worker *w, FCGX_Request *fr, gl_db *db, gl_jwt_cache *jwt_cache, int fd)
{
    pool *p = w->pool;

    /* FCGX_Accept_r first finishes the previous request, and closes its connection unless it
     * was kept: keepConnection set, it leaves fd alone. It then reads the request from fd. */
    fr->keepConnection = 1;
    fr->ipcFd = fd;
    if (FCGX_Accept_r(fr) < 0) return; /* closed by the peer, or no request: libfcgi closed fd */
    serve_request(p->app, fr, db, jwt_cache);
    if (fr->keepConnection) drain_body(fr);
    FCGX_Finish_r(fr); /* closes fd unless the web server asked to keep it, and it is sound */
    if (fr->ipcFd < 0) return;
    fr->ipcFd = -1; /* no longer this thread's: once armed, another may take it */
    if (arm(p, EPOLL_CTL_MOD, fd) != 0) {
        gl_log(GL_LOG_ERROR, "api", "epoll: cannot keep a connection: %s", strerror(errno));
        close(fd);
    }
}

static void *
worker_main(void *arg)
{
    worker *w = arg;
    pool *p = w->pool;
    FCGX_Request fr;
    gl_jwt_cache jwt_cache = {0};
    gl_db *db = NULL;
    gl_err err;

    if (gl_db_open(p->app->db_path, &db, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "api", "worker %d: %s", w->id, err.msg);
        return NULL;
    }
    FCGX_InitRequest(&fr, -1, 0);
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(p->ep, &ev, 1, -1);

        if (n < 0 && errno != EINTR) {
            gl_log(GL_LOG_ERROR, "api", "worker %d: epoll_wait: %s", w->id, strerror(errno));
            break;
        }
        if (n <= 0) continue;
        if (ev.data.fd == stop_fd) break; /* level-triggered: it wakes every thread */
        if (ev.data.fd == p->listen_fd) {
            int fd = take_new(p);
            if (fd >= 0 && arm(p, EPOLL_CTL_ADD, fd) != 0) {
                gl_log(GL_LOG_ERROR, "api", "epoll: cannot add a connection: %s", strerror(errno));
                close(fd);
            }
        } else {
            serve_connection(w, &fr, db, &jwt_cache, ev.data.fd);
        }
    }
    FCGX_Free(&fr, 1);
    gl_jwt_cache_clear(&jwt_cache);
    gl_db_close(db);
    return NULL;
}

void
api_workers_stop(void)
{
    uint64_t one = 1;

    stopped = 1;
    if (stop_fd >= 0 && write(stop_fd, &one, sizeof(one)) < 0) {
        /* the counter is already set: the threads are waking */
    }
}

int
api_workers_run(api_app *app, int listen_fd, long threads, gl_err *err)
{
    pool p = {app, -1, listen_fd, getenv("FCGI_WEB_SERVER_ADDRS")};
    struct epoll_event stop_ev = {.events = EPOLLIN};
    worker *ws;
    long started = 0;
    int flags = fcntl(listen_fd, F_GETFL);
    int rv = GL_OK;

    /* Non-blocking: a thread woken for the listening socket must not wait in accept when
     * the connection went away before it got there. */
    if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return gl_err_set(err, GL_EINVAL, "listening socket: %s", strerror(errno));
    if ((p.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return gl_err_set(err, GL_ENOMEM, "epoll_create1: %s", strerror(errno));
    if ((stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        rv = gl_err_set(err, GL_ENOMEM, "eventfd: %s", strerror(errno));
        goto out_epoll;
    }
    stop_ev.data.fd = stop_fd;
    if (epoll_ctl(p.ep, EPOLL_CTL_ADD, stop_fd, &stop_ev) != 0 ||
        arm(&p, EPOLL_CTL_ADD, listen_fd) != 0) {
        rv = gl_err_set(err, GL_ENOMEM, "epoll_ctl: %s", strerror(errno));
        goto out_stop;
    }
    if (stopped) api_workers_stop(); /* a signal came before stop_fd existed */
    if ((ws = calloc((size_t)threads, sizeof(*ws))) == NULL) {
        rv = gl_err_set(err, GL_ENOMEM, "out of memory");
        goto out_stop;
    }
    for (long i = 0; i < threads; i++) {
        ws[i] = (worker){&p, 0, (int)i};
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
            gl_log(GL_LOG_ERROR, "api", "could only start %ld of %ld threads", started, threads);
            break;
        }
        started++;
    }
    for (long i = 0; i < started; i++)
        pthread_join(ws[i].thread, NULL);
    free(ws);
    if (started == 0) rv = gl_err_set(err, GL_ENOMEM, "no worker thread could start");
out_stop : {
    int fd = stop_fd;
    stop_fd = -1; /* before the close: a late signal must not write to a reused number */
    close(fd);
}
out_epoll:
    close(p.ep); /* kept connections still open close with the process */
    return rv;
}
