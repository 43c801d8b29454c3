/* golive-api: a FastCGI responder with worker threads, or a CGI program for one request.
 * Where the listening socket comes from, in order: systemd socket activation (LISTEN_FDS),
 * an inherited socket on fd 0 (spawn-fcgi, or a web server that spawns us), --listen, CGI
 * (REQUEST_METHOD in the environment), else $GOLIVE_RUNDIR/api.sock. */
#include "api.h"
#include "counters.h"
#include "rate_limits.h"
#include "routes.h"
#include "shared/env.h"
#include "shared/log.h"
#include "shared/version.h"
#include "workers.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_THREADS 16 /* most of them wait on the group commit (publisher.c) */
#define SD_LISTEN_FDS_START 3

static volatile sig_atomic_t reloader_stop;

static void
on_term(int sig)
{
    (void)sig;
    FCGX_ShutdownPending();
    api_workers_stop();
}

/* ---- CGI: one request on stdin/stdout and the environment ---- */

static const char *
cgi_param(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

static int
cgi_read(void *ctx, char *buf, int n)
{
    (void)ctx;
    return (int)fread(buf, 1, (size_t)n, stdin);
}

static int
cgi_write(void *ctx, const char *buf, int n)
{
    (void)ctx;
    return (int)fwrite(buf, 1, (size_t)n, stdout);
}

static int
run_cgi(api_app *app)
{
    gl_db *db;
    gl_err err;
    api_req r;

    memset(&r, 0, sizeof(r));
    r.app = app;
    r.io = (api_io){NULL, cgi_param, cgi_read, cgi_write};
    if (gl_db_open(app->db_path, &db, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "api", "%s", err.msg);
        api_fail(&r, GL_EUNAVAIL, "the database is unavailable");
        return 1;
    }
    r.db = db;
    api_handle(&r);
    fflush(stdout);
    gl_db_close(db);
    return 0;
}

/* SIGHUP: parse REALTIME_CONFIG_PATH again; swap it in when valid, else keep the running one. */
static void
reload_config(api_app *app)
{
    const char *path = getenv("REALTIME_CONFIG_PATH");
    gl_config *cfg, *old;
    gl_err err;

    if (path == NULL || *path == '\0') {
        gl_log(GL_LOG_INFO, "config", "SIGHUP: REALTIME_CONFIG_PATH not set, nothing to reload");
        return;
    }
    if (gl_config_load(path, &cfg, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "config", "reload failed, keeping the running config: %s", err.msg);
        return;
    }
    pthread_rwlock_wrlock(&app->cfg_lock);
    old = app->cfg;
    app->cfg = cfg;
    pthread_rwlock_unlock(&app->cfg_lock);
    gl_config_destroy(old);
    gl_log(GL_LOG_INFO, "config", "reloaded %s", path);
}

/* SIGHUP is blocked in every thread; this one takes it with sigwait, so the reload runs in a
 * normal thread rather than a signal handler. main wakes it with pthread_kill to stop it. */
static void *
reloader_main(void *arg)
{
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    while (sigwait(&set, &sig) == 0 && !reloader_stop)
        reload_config(arg);
    return NULL;
}

/* A socket handed to us: systemd's fd 3, or fd 0 when it is a listening socket. */
static int
inherited_socket(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    int acc = 0;
    socklen_t len = sizeof(acc);

    if (pid && fds && atol(pid) == (long)getpid() && atoi(fds) >= 1) return SD_LISTEN_FDS_START;
    if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc) return 0;
    return -1;
}

static int
env_int(const char *name, long def, long lo, long hi, long *out)
{
    const char *v = getenv(name);
    char *end;
    *out = def;
    if (v == NULL || *v == '\0') return GL_OK;
    *out = strtol(v, &end, 10);
    if (*end != '\0' || *out < lo || *out > hi) {
        gl_log(GL_LOG_ERROR, "api", "%s must be an integer from %ld to %ld", name, lo, hi);
        return GL_EINVAL;
    }
    return GL_OK;
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: golive-api [--listen PATH|HOST:PORT] [--threads N] [--help] [--version]\n"
            "FastCGI responder for /api/realtime/* and /api/streaming/*. Without --listen it "
            "serves a socket it\n"
            "inherits (systemd LISTEN_FDS, or fd 0 from spawn-fcgi / the web server), runs as CGI\n"
            "when REQUEST_METHOD is set, else listens on $GOLIVE_RUNDIR/api.sock.\n"
            "Environment: JWT_SECRET, REALTIME_CONFIG_PATH, LOG_LEVEL, GOLIVE_RUNDIR, GOLIVE_DB,\n"
            "GOLIVE_IPC_URL, GOLIVE_MAX_BODY_BYTES (65536), GOLIVE_IPC_TIMEOUT_MS (100),\n"
            "GOLIVE_WEBHOOK_SECRET, GOLIVE_HLS_URL (http://localhost:8888/live),\n"
            "GOLIVE_RTMP_URL (rtmp://localhost:1935/live).\n"
            "SIGHUP re-reads REALTIME_CONFIG_PATH (a bad file is logged and the old one kept).\n");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    const char *listen_addr = NULL;
    char db_path[1024], ipc_url[1100], sock_path[1100];
    long threads = DEFAULT_THREADS, max_body, ipc_ms;
    api_app app;
    gl_err err;
    pthread_t reloader;
    int listen_fd = -1, c, status = 1;

    memset(&app, 0, sizeof(app));
    app.routes = api_route_table;
    app.n_routes = api_route_table_len;
    while ((c = getopt_long(argc, argv, "l:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen_addr = optarg;
            break;
        case 't':
            threads = strtol(optarg, NULL, 10);
            if (threads < 1 || threads > 256) {
                fprintf(stderr, "golive-api: --threads must be 1..256\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("golive-api %s\n", gl_version);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!gl_log_init_from_env())
        gl_log(GL_LOG_WARN, "api", "LOG_LEVEL must be debug, info, warn or error; using info");
    gl_env_rundir_path(db_path, sizeof(db_path), "", GL_RUNDIR_DB);
    gl_env_rundir_path(ipc_url, sizeof(ipc_url), "ipc://", GL_RUNDIR_IPC);
    gl_env_rundir_path(sock_path, sizeof(sock_path), "", GL_RUNDIR_API_SOCK);
    app.secret = gl_jwt_secret_from_env();
    app.db_path = gl_env_or("GOLIVE_DB", db_path);
    app.ipc_url = gl_env_or("GOLIVE_IPC_URL", ipc_url);
    if (env_int("GOLIVE_MAX_BODY_BYTES", 65536, 256, 16 * 1024 * 1024, &max_body) != GL_OK ||
        env_int("GOLIVE_IPC_TIMEOUT_MS", 100, 1, 60000, &ipc_ms) != GL_OK)
        return 1;
    app.webhook_secret = gl_env_or("GOLIVE_WEBHOOK_SECRET", NULL);
    if (app.webhook_secret == NULL)
        gl_log(GL_LOG_WARN, "api",
               "GOLIVE_WEBHOOK_SECRET is not set: the media server's auth hook and webhooks "
               "are refused until it is");
    app.hls_url = gl_env_or("GOLIVE_HLS_URL", "http://localhost:8888/live");
    app.rtmp_url = gl_env_or("GOLIVE_RTMP_URL", "rtmp://localhost:1935/live");
    app.max_body = (size_t)max_body;
    app.ipc_timeout_ms = (int)ipc_ms;
    {
        const char *cfg = gl_env_or("REALTIME_CONFIG_PATH", NULL);
        int rv = cfg ? gl_config_load(cfg, &app.cfg, &err) : gl_config_empty(&app.cfg, &err);
        if (rv != GL_OK) {
            gl_log(GL_LOG_ERROR, "api", "%s", err.msg);
            return 1;
        }
    }
    {
        /* Before any thread (nng's too) exists, so that all inherit the mask: only the
         * reloader takes SIGHUP. */
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &hup, NULL);
    }
    if (api_notify_open(&app, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "api", "%s", err.msg);
        goto out_config;
    }
    FCGX_Init();
    if (listen_addr == NULL && (listen_fd = inherited_socket()) < 0 &&
        getenv("REQUEST_METHOD") != NULL) {
        status = run_cgi(&app);
        goto out_notify;
    }
    if (listen_fd < 0) {
        const char *addr = listen_addr ? listen_addr : sock_path;
        bool is_path = strchr(addr, '/') != NULL;
        if ((listen_fd = FCGX_OpenSocket(addr, 128)) < 0) {
            gl_log(GL_LOG_ERROR, "api", "cannot listen on %s", addr);
            goto out_notify;
        }
        /* Web server workers (nginx's run as nobody) must be able to connect. */
        if (is_path && chmod(addr, 0666) != 0)
            gl_log(GL_LOG_WARN, "api", "chmod %s: %s", addr, strerror(errno));
        gl_log(GL_LOG_INFO, "api", "golive-api %s listening on %s with %ld threads", gl_version,
               addr, threads);
    } else {
        gl_log(GL_LOG_INFO, "api", "serving inherited socket fd %d with %ld threads", listen_fd,
               threads);
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    if (api_rate_limits_new(&app.rate_limits, &err) != GL_OK ||
        api_metrics_new(&app.metrics, app.n_routes, &err) != GL_OK ||
        api_publisher_start(&app, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "api", "%s", err.msg);
        goto out_notify;
    }
    {
        pthread_rwlockattr_t ra;
        pthread_rwlockattr_init(&ra);
        pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&app.cfg_lock, &ra);
        pthread_rwlockattr_destroy(&ra);
    }
    if (pthread_create(&reloader, NULL, reloader_main, &app) != 0) {
        gl_log(GL_LOG_ERROR, "api", "cannot start the reload thread");
        goto out_publisher;
    }
    if (api_workers_run(&app, listen_fd, threads, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "api", "%s", err.msg);
        goto out_reloader;
    }
    gl_log(GL_LOG_INFO, "api", "stopped");
    status = 0;
out_reloader:
    reloader_stop = 1;
    pthread_kill(reloader, SIGHUP);
    pthread_join(reloader, NULL);
    pthread_rwlock_destroy(&app.cfg_lock);
out_publisher:
    api_publisher_stop(&app);
out_notify:
    api_rate_limits_free(app.rate_limits);
    api_metrics_free(app.metrics);
    api_notify_close(&app);
out_config:
    gl_config_destroy(app.cfg);
    return status;
}
