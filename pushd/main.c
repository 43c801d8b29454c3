/* golive-pushd: the WebSocket push daemon. Reads its settings from the environment
 * (docs/configuration.md), restores moderation state from SQLite, then serves until SIGTERM,
 * which closes clients with 1001 and stores every pending history row before exiting. */
#include "server.h"
#include "channel.h"
#include "cluster.h"
#include "command.h"
#include "conn.h"
#include "fanout.h"
#include "ipc.h"
#include "limits.h"
#include "loop.h"
#include "metrics.h"
#include "modstate.h"
#include "recent.h"
#include "store_remote.h"
#include "writer.h"
#include "wsguard.h"
#include "shared/env.h"
#include "shared/log.h"
#include "shared/timefmt.h"
#include "shared/version.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DRAIN_MS 2000 /* how long SIGTERM waits for clients to take their close frame */

static pd_server *the_server; /* for the signal handler only */

static void
on_signal(int sig)
{
    if (the_server == NULL) return;
    if (sig == SIGHUP)
        the_server->want_reload = 1;
    else
        the_server->want_stop = 1;
    if (the_server->ctx != NULL) lws_cancel_service(the_server->ctx);
}

/* systemd Type=notify, without linking libsystemd: one datagram to $NOTIFY_SOCKET. */
static void
sd_notify_msg(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n;
    int fd;

    if (path == NULL || (path[0] != '/' && path[0] != '@') ||
        (n = strlen(path)) >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) return;
    (void)!sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa,
                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
}

/* A whole number of seconds from 1 to 86400 in variable name, or def when unset. */
static int
env_secs(const char *name, uint32_t def, uint32_t *out, gl_err *err)
{
    const char *v = getenv(name);
    char *end;
    long n;

    *out = def;
    if (v == NULL || *v == '\0') return GL_OK;
    n = strtol(v, &end, 10);
    if (*end != '\0' || n < 1 || n > 86400)
        return gl_err_set(err, GL_EINVAL, "%s must be a whole number of seconds from 1 to 86400",
                          name);
    *out = (uint32_t)n;
    return GL_OK;
}

typedef struct paths {
    char db[1024], listen[1024], ipc[1024], node[64];
} paths;

static int
read_options(pd_options *o, paths *p, gl_err *err)
{
    const char *rundir = gl_env_rundir();
    const char *max = gl_env_or("GOLIVE_MAX_MESSAGE_BYTES", "65536"), *store;
    char *end;
    long long m;

    if (mkdir(rundir, 0755) != 0 && errno != EEXIST)
        return gl_err_set(err, GL_EINVAL, "cannot create %s: %s", rundir, strerror(errno));
    gl_env_rundir_path(p->db, sizeof(p->db), "", GL_RUNDIR_DB);
    gl_env_rundir_path(p->listen, sizeof(p->listen), "unix:", GL_RUNDIR_PUSHD_SOCK);
    gl_env_rundir_path(p->ipc, sizeof(p->ipc), "ipc://", GL_RUNDIR_IPC);
    o->db_path = gl_env_or("GOLIVE_DB", p->db);
    o->listen = gl_env_or("GOLIVE_PUSHD_LISTEN", p->listen);
    o->ipc_url = gl_env_or("GOLIVE_IPC_URL", p->ipc);
    o->config_path = gl_env_or("REALTIME_CONFIG_PATH", NULL);
    o->metrics_listen = gl_env_or("GOLIVE_PUSHD_METRICS_LISTEN", "127.0.0.1:9470");
    if (strcmp(o->metrics_listen, "off") == 0) o->metrics_listen = NULL;
    o->nats_url = gl_env_or("GOLIVE_NATS_URL", NULL);
    if (o->nats_url != NULL && *o->nats_url == '\0') o->nats_url = NULL;
    store = gl_env_or("GOLIVE_STORE", "sqlite");
    if (strcmp(store, "nats") == 0) {
        if (o->nats_url == NULL)
            return gl_err_set(err, GL_EINVAL,
                              "GOLIVE_STORE=nats needs GOLIVE_NATS_URL: the store is reached "
                              "through the cluster's NATS servers");
        o->db_path = NULL; /* no file here: the nodes that have it answer */
    } else if (strcmp(store, "sqlite") != 0) {
        return gl_err_set(err, GL_EINVAL, "GOLIVE_STORE must be sqlite (the default) or nats");
    }
    /* A node's default name: host and process, unique among the nodes of a cluster. */
    if (gethostname(p->node, 40) != 0) snprintf(p->node, 40, "pushd");
    p->node[40] = '\0';
    snprintf(p->node + strlen(p->node), sizeof(p->node) - strlen(p->node), ":%ld", (long)getpid());
    o->node = gl_env_or("GOLIVE_NODE_NAME", p->node);
    m = strtoll(max, &end, 10);
    if (*end != '\0' || m < 256 || m > 16 * 1024 * 1024)
        return gl_err_set(err, GL_EINVAL,
                          "GOLIVE_MAX_MESSAGE_BYTES must be an integer from 256 to 16777216");
    o->max_message = (size_t)m;
    if (env_secs("GOLIVE_PING_SECS", 30, &o->ping_secs, err) != GL_OK ||
        env_secs("GOLIVE_IDLE_TIMEOUT_SECS", 75, &o->timeout_secs, err) != GL_OK)
        return err->code;
    if (o->timeout_secs <= o->ping_secs)
        return gl_err_set(err, GL_EINVAL,
                          "GOLIVE_IDLE_TIMEOUT_SECS must be greater than GOLIVE_PING_SECS");
    return GL_OK;
}

static int
load_config(const char *path, gl_config **out, gl_err *err)
{
    if (path == NULL) {
        gl_log(GL_LOG_INFO, "config", "REALTIME_CONFIG_PATH not set: every channel is public");
        return gl_config_empty(out, err);
    }
    return gl_config_load(path, out, err);
}

/* SIGHUP: parse the file again; keep the running config if the new one is bad. */
static void
reload(pd_server *srv)
{
    gl_config *cfg;
    gl_err err;
    char **names;
    size_t n = 0, it = 0;
    gl_map_entry *e;

    sd_notify_msg("RELOADING=1");
    if (load_config(srv->opt.config_path, &cfg, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "config", "reload failed, keeping the running config: %s", err.msg);
        sd_notify_msg("READY=1");
        return;
    }
    gl_config_destroy(srv->cfg);
    srv->cfg = cfg;
    gl_log(GL_LOG_INFO, "config", "reloaded %s",
           srv->opt.config_path ? srv->opt.config_path : "defaults");
    /* Channels may have become private or lost users: re-check every live subscription. */
    if ((names = malloc((srv->channels.len + 1) * sizeof(*names))) != NULL) {
        while ((e = gl_map_next(&srv->channels, &it)) != NULL)
            if ((names[n] = strdup(e->key)) != NULL) n++;
        for (size_t i = 0; i < n; i++) {
            pd_recheck_channel(srv, names[i]);
            free(names[i]);
        }
        free(names);
    }
    sd_notify_msg("READY=1");
}

/* A loop pass waits for the next event or timer, so the drain below keeps a short timer armed
 * to get control back and check its deadline. */
static void
drain_tick(lws_sorted_usec_list_t *sul)
{
    pd_server *srv = lws_container_of(sul, pd_server, drain_tick);
    lws_sul_schedule(srv->ctx, 0, &srv->drain_tick, drain_tick, 20 * LWS_US_PER_MS);
}

/* Send 1001 to every client and give them DRAIN_MS to take it. */
static void
drain(pd_server *srv)
{
    int64_t deadline = gl_time_mono_ms() + DRAIN_MS;
    static const char why[] = "server shutting down";

    drain_tick(&srv->drain_tick);
    pd_ipc_stop_watchdog(srv->ipc);

    gl_log(GL_LOG_INFO, "main", "stopping: closing %u connections", srv->nconns);
    for (pd_conn *c = srv->conns; c != NULL; c = c->next)
        pd_conn_close_after_flush(c, LWS_CLOSE_STATUS_GOINGAWAY, why);
    while (srv->nconns > 0 && gl_time_mono_ms() < deadline)
        pd_loop_run_once(srv);
    lws_sul_cancel(&srv->drain_tick);
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: golive-pushd\n"
               "Settings come from the environment (docs/configuration.md):\n"
               "  JWT_SECRET, REALTIME_CONFIG_PATH, LOG_LEVEL, GOLIVE_RUNDIR (default var),\n"
               "  GOLIVE_DB, GOLIVE_PUSHD_LISTEN, GOLIVE_IPC_URL, GOLIVE_MAX_MESSAGE_BYTES,\n"
               "  GOLIVE_PUSHD_METRICS_LISTEN (127.0.0.1:9470, or off),\n"
               "  GOLIVE_PING_SECS (30), GOLIVE_IDLE_TIMEOUT_SECS (75),\n"
               "  GOLIVE_NATS_URL, GOLIVE_NODE_NAME, GOLIVE_STORE (sqlite, or nats).\n"
               "Signals: SIGHUP reloads the YAML config, SIGTERM/SIGINT stop cleanly.\n"
               "  --help, --version\n");
}

/* The moderation state, from the file, or from a node that has it. A node without the file
 * waits for one: it cannot tell who is banned before it has heard. */
static int
restore_state(pd_server *srv, gl_err *err)
{
    int64_t logged = 0;

    while (pd_modstate_load_all(srv, err) != GL_OK) {
        if (srv->remote == NULL) return err->code;
        if (srv->want_stop) return GL_OK;
        if (gl_time_mono_ms() - logged >= 5000) {
            gl_log(GL_LOG_WARN, "main", "waiting for the store over NATS: %s", err->msg);
            logged = gl_time_mono_ms();
        }
        usleep(250 * 1000);
    }
    return GL_OK;
}

/* The history writer's wake-up: stored messages wait for the loop. */
static void
wake_loop(void *arg)
{
    lws_cancel_service(((pd_server *)arg)->ctx);
}

int
main(int argc, char **argv)
{
    pd_server srv;
    pd_fanout_local local_fanout;
    pd_writer_hooks writer_hooks = {wake_loop, pd_command_discard_job, &srv};
    paths p;
    gl_err err;
    struct sigaction sa;
    int status = 1;
    bool loop_failed = false;

    if (argc > 1) {
        bool help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;
        if (strcmp(argv[1], "--version") == 0) {
            printf("golive-pushd %s\n", gl_version);
            return 0;
        }
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    memset(&srv, 0, sizeof(srv));
    if (!gl_log_init_from_env())
        gl_log(GL_LOG_WARN, "main", "LOG_LEVEL must be debug, info, warn or error; using info");
    gl_log(GL_LOG_INFO, "main", "golive-pushd %s starting", gl_version);
    gl_map_seed();
    srv.started_mono_ms = gl_time_mono_ms();
    srv.secret = gl_jwt_secret_from_env();
    if (read_options(&srv.opt, &p, &err) != GL_OK ||
        load_config(srv.opt.config_path, &srv.cfg, &err) != GL_OK ||
        (srv.opt.db_path != NULL && gl_db_open(srv.opt.db_path, &srv.db, &err) != GL_OK)) {
        gl_log(GL_LOG_ERROR, "main", "%s", err.msg);
        goto out;
    }

    the_server = &srv;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    pd_fanout_local_init(&local_fanout, &srv);
    srv.fanout = &local_fanout.ops;
    if (srv.opt.nats_url != NULL) {
        pd_cluster *cluster;
        if (pd_cluster_start(&srv, srv.opt.nats_url, srv.opt.node, &local_fanout.ops, &cluster,
                             &err) != GL_OK) {
            gl_log(GL_LOG_ERROR, "main", "%s", err.msg);
            goto out;
        }
        srv.fanout = pd_cluster_fanout(cluster);
        if (srv.db == NULL &&
            (srv.remote = pd_remote_new(pd_cluster_connection(cluster))) == NULL) {
            gl_log(GL_LOG_ERROR, "main", "out of memory");
            goto out;
        }
    }
    if (restore_state(&srv, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "main", "%s", err.msg);
        goto out;
    }
    if (srv.want_stop) { /* stopped while it waited for the store */
        status = 0;
        goto out;
    }
    if (pd_server_listen(&srv, &err) != GL_OK || pd_metrics_listen(&srv, &err) != GL_OK ||
        pd_writer_start(srv.opt.db_path, srv.remote, &writer_hooks, &srv.writer, &err) != GL_OK ||
        pd_ipc_start(&srv, &srv.ipc, &err) != GL_OK) {
        gl_log(GL_LOG_ERROR, "main", "%s", err.msg);
        goto out;
    }
    pd_cluster_loop_ready(srv.cluster);
    gl_log(GL_LOG_INFO, "main", "ready: WebSocket on %s, nng on %s, database %s", srv.opt.listen,
           srv.opt.ipc_url, srv.db ? srv.opt.db_path : "over NATS (GOLIVE_STORE=nats)");
    sd_notify_msg("READY=1");

    while (!srv.want_stop) {
        pd_loop_run(&srv);
        if (!srv.want_stop && !srv.want_reload) {
            /* The loop ran out of watchers: not a requested stop, so exit non-zero for
             * systemd's Restart=on-failure. */
            gl_log(GL_LOG_ERROR, "main", "the event loop failed; stopping");
            loop_failed = true;
            break;
        }
        if (srv.want_reload) {
            srv.want_reload = 0;
            reload(&srv);
        }
    }
    sd_notify_msg("STOPPING=1");
    drain(&srv);
    status = loop_failed ? 1 : 0;

out:
    /* Threads that wake the loop go first, the writer before the ipc listener: nng 1.5.2's
     * nng_close can hang now and then (nng#1543, #1813), and queued history must be stored
     * before that. Then lws closes what is left (CLOSED callbacks still use the channel
     * tables); the tables go last. */
    pd_writer_stop(srv.writer);
    pd_cluster_stop(srv.cluster); /* its open presence queries answer through ipc */
    pd_remote_free(srv.remote);
    pd_ipc_stop(srv.ipc);
    if (srv.ctx != NULL) lws_context_destroy(srv.ctx);
    pd_wsguard_destroy();
    pd_loop_destroy(&srv);
    the_server = NULL;
    pd_modstate_free_all(&srv);
    pd_limits_free(&srv);
    pd_recent_free(&srv);
    gl_map_free(&srv.channels);
    gl_map_free(&srv.ns_clients);
    gl_db_close(srv.db);
    gl_config_destroy(srv.cfg);
    free(srv.wbuf);
    if (status == 0) gl_log(GL_LOG_INFO, "main", "stopped; pending history rows stored");
    return status;
}
