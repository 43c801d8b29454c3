/* The NATS broker of a pushd cluster (cluster.h, docs/cluster.md). NATS's threads only copy
 * what arrives into a locked queue and wake the loop, as ipc.c does for nng; everything else
 * runs on the loop. Per channel with subscribers here, `last` is the newest id delivered: all
 * earlier ones of the channel were delivered too (or are deleted), so a message whose prev_id
 * is above it shows a gap, which SQLite, the system of record, fills. */
#include "cluster.h"
#include "cluster_int.h"
#include "command.h"
#include "modstate.h"
#include "store.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <stdlib.h>
#include <string.h>

/* ---- NATS's threads */

static void
wake(pd_cluster *c)
{
    struct lws_context *ctx = atomic_load(&c->ctx);
    if (ctx != NULL) lws_cancel_service(ctx); /* else the loop's first pass takes the queue */
}

static void
on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    pd_cluster *c = closure;
    int len = natsMsg_GetDataLength(msg);
    inbound *in = len >= 0 ? malloc(sizeof(*in) + (size_t)len) : NULL;

    (void)nc, (void)sub;
    if (in == NULL) {
        atomic_store(&c->repair_all, true); /* lost here: SQLite has it */
    } else {
        memcpy(in->data, natsMsg_GetData(msg), (size_t)len);
        in->len = (size_t)len;
        in->next = NULL;
        pthread_mutex_lock(&c->mu);
        *c->in_tail = in;
        c->in_tail = &in->next;
        pthread_mutex_unlock(&c->mu);
    }
    natsMsg_Destroy(msg);
    wake(c);
}

static void
on_connected(natsConnection *nc, void *closure)
{
    pd_cluster *c = closure;
    char url[256] = "";

    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    gl_log(GL_LOG_INFO, "cluster", "connected to NATS at %s", url);
    atomic_store(&c->connected, true);
    atomic_store(&c->repair_all, true); /* what was published while we were away */
    wake(c);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
    pd_cluster *c = closure;

    (void)nc;
    if (atomic_exchange(&c->connected, false))
        gl_log(GL_LOG_WARN, "cluster", "lost NATS; reconnecting (local clients are served)");
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus s, void *closure)
{
    pd_cluster *c = closure;

    (void)nc, (void)sub;
    gl_log(GL_LOG_WARN, "cluster", "NATS: %s", natsStatus_GetText(s));
    atomic_store(&c->repair_all, true); /* a slow consumer drops messages */
    wake(c);
}

/* ---- the loop */

typedef struct repair_walk {
    pd_cluster *c;
    chain *ch;
    int64_t upto; /* stop before this id (0: read to the end) */
    int rows;
    bool stop;
    uint32_t delivered;
} repair_walk;

static int
repair_row(void *arg, const gl_msg *m)
{
    repair_walk *w = arg;
    pd_frame *f;

    w->rows++;
    if (w->upto > 0 && m->id >= w->upto) {
        w->stop = true;
        return 1;
    }
    if ((f = pd_frame_from_json(gl_event_print_take(gl_event_message(m)))) != NULL) {
        w->delivered += w->c->local->deliver(w->c->local, w->ch->channel, f, m->id, 0);
        pd_frame_unref(f);
    }
    w->ch->last = m->id;
    w->c->srv->counters.cluster_repaired++;
    return 0;
}

/* Deliver what ch's subscribers missed from SQLite: messages after ch->last (below upto). */
static uint32_t
repair(pd_cluster *c, chain *ch, int64_t upto)
{
    repair_walk w = {c, ch, upto, 0, false, 0};
    gl_err err;
    int rv;

    if (ch->last == UNKNOWN) return 0;
    do {
        w.rows = 0;
        rv = pd_store_history(c->srv, ch->channel, GL_HISTORY_SINCE, ch->last, REPAIR_PAGE,
                              repair_row, &w, &err);
        if (rv != GL_OK && !w.stop) {
            gl_log(GL_LOG_ERROR, "cluster", "cannot read %s's history to fill a gap: %s",
                   ch->channel, err.msg);
            break;
        }
    } while (!w.stop && w.rows == REPAIR_PAGE);
    return w.delivered;
}

/* A stored message, from this node or another, to this node's subscribers: once, in order. */
static uint32_t
chain_deliver(pd_cluster *c, const char *channel, pd_frame *f, int64_t id, int64_t prev)
{
    chain *ch = gl_map_get(&c->chains, channel);
    uint32_t n = 0;

    if (ch == NULL || (ch->last != UNKNOWN && id <= ch->last)) return 0;
    if (ch->last != UNKNOWN && prev > ch->last) n += repair(c, ch, id);
    if (ch->last == UNKNOWN || id > ch->last) {
        n += c->local->deliver(c->local, channel, f, id, prev);
        ch->last = id;
    }
    return n;
}

static uint32_t
cluster_deliver(pd_fanout *self, const char *channel, pd_frame *f, int64_t id, int64_t prev)
{
    pd_cluster *c = (pd_cluster *)self;

    pd_cluster__publish(c, id > 0 ? 'm' : 'e', channel, id, prev, pd_frame_payload(f), f->len);
    return id > 0 ? chain_deliver(c, channel, f, id, prev)
                  : c->local->deliver(c->local, channel, f, 0, 0);
}

static uint32_t
cluster_deliver_moderators(pd_fanout *self, const char *channel, pd_frame *f)
{
    pd_cluster *c = (pd_cluster *)self;

    pd_cluster__publish(c, 'M', channel, 0, 0, pd_frame_payload(f), f->len);
    return c->local->deliver_moderators(c->local, channel, f);
}

static void
cluster_reloaded(pd_fanout *self, const char *channel)
{
    pd_cluster__publish((pd_cluster *)self, 'r', channel, 0, 0, NULL, 0);
}

static void
on_interest(pd_server *srv, const char *channel, bool on)
{
    pd_cluster *c = srv->cluster;
    char subject[SUBJECT_MAX];
    size_t n = strlen(channel) + 1;
    natsStatus s;
    gl_err err;
    chain *ch;

    if (!on) {
        if ((ch = gl_map_del(&c->chains, channel)) == NULL) return;
        natsSubscription_Unsubscribe(ch->sub);
        natsSubscription_Destroy(ch->sub);
        gl_map_free_values(&ch->remote);
        free(ch);
        return;
    }
    if ((ch = calloc(1, sizeof(*ch) + n)) == NULL) goto out_fail;
    memcpy(ch->channel, channel, n);
    if (pd_store_last_id(srv, channel, &ch->last, &err) != GL_OK) ch->last = UNKNOWN;
    if (pd_bus_subject(PREFIX, channel, subject, sizeof(subject)) == 0 ||
        (s = natsConnection_Subscribe(&ch->sub, c->nc, subject, on_msg, c)) != NATS_OK)
        goto out_fail;
    if (gl_map_put(&c->chains, ch->channel, ch) != GL_OK) {
        natsSubscription_Unsubscribe(ch->sub);
        natsSubscription_Destroy(ch->sub);
        goto out_fail;
    }
    pd_cluster__seed(srv, channel); /* who is here through the others */
    return;

out_fail:
    /* Its subscribers get this node's own messages only, and the others' by their since. */
    gl_log(GL_LOG_ERROR, "cluster", "cannot hear %s from the other nodes", channel);
    free(ch);
}

static void
handle(pd_cluster *c, const inbound *in)
{
    pd_server *srv = c->srv;
    pd_busmsg m;
    pd_frame *f;
    gl_err err;

    if (pd_busmsg_parse(in->data, in->len, &m) != 0) {
        srv->counters.cluster_bad++;
        gl_log(GL_LOG_WARN, "cluster", "dropped a NATS message that is not a node's");
        return;
    }
    if (strcmp(m.node, c->node) == 0) return; /* our own, should the server echo it */
    if (m.kind == 'h') {
        pd_cluster__heard(c, &m);
        return;
    }
    if (m.kind == 'q') {
        pd_cluster__answer(c, &m);
        return;
    }
    if (m.kind == 'a') {
        pd_cluster__answered(c, &m);
        return;
    }
    if (m.kind == 'P') {
        pd_cluster__presence_delta(c, &m);
        return;
    }
    srv->counters.cluster_received++;
    if (m.kind == 'r') {
        if (pd_modstate_reload(srv, m.channel, &err) == GL_OK) pd_recheck_channel(srv, m.channel);
        return;
    }
    if ((f = pd_frame_new(m.payload, m.payload_len)) == NULL) {
        atomic_store(&c->repair_all, true);
        return;
    }
    if (m.kind == 'm') {
        chain *ch = gl_map_get(&c->chains, m.channel);
        /* The message before it may be this node's own, stored but not yet handed back by
         * the writer: take those first, rather than read SQLite for it. */
        if (ch != NULL && ch->last != UNKNOWN && m.prev_id > ch->last && srv->writer != NULL)
            pd_command_deliver_stored(srv);
        chain_deliver(c, m.channel, f, m.id, m.prev_id);
    } else if (m.kind == 'M')
        c->local->deliver_moderators(c->local, m.channel, f);
    else
        c->local->deliver(c->local, m.channel, f, 0, 0);
    pd_frame_unref(f);
}

/* Bring every chain up to SQLite: after a reconnection, and every AUDIT_MS. The newest ids
 * are read in one go (one round trip on a remote store), then the chains that lag are filled. */
static void
audit(pd_cluster *c)
{
    size_t it = 0, n = 0;
    gl_map_entry *e;
    chain **chains = malloc((c->chains.len + 1) * sizeof(*chains));
    const char **names = malloc((c->chains.len + 1) * sizeof(*names));
    int64_t *newest = malloc((c->chains.len + 1) * sizeof(*newest));
    gl_err err;

    c->audited_ms = gl_time_mono_ms();
    if (chains == NULL || names == NULL || newest == NULL) goto out; /* the next audit */
    while ((e = gl_map_next(&c->chains, &it)) != NULL) {
        chains[n] = e->val;
        names[n++] = ((chain *)e->val)->channel;
    }
    if (n > 0 && pd_store_last_ids(c->srv, names, n, newest, &err) != GL_OK) {
        gl_log(GL_LOG_WARN, "cluster", "cannot compare the channels with the store: %s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (chains[i]->last == UNKNOWN)
            chains[i]->last = newest[i];
        else if (newest[i] > chains[i]->last)
            repair(c, chains[i], 0);
    }
out:
    free(chains);
    free(names);
    free(newest);
}

void
pd_cluster_service(pd_cluster *c)
{
    inbound *list;

    pthread_mutex_lock(&c->mu);
    list = c->in;
    c->in = NULL;
    c->in_tail = &c->in;
    pthread_mutex_unlock(&c->mu);
    while (list != NULL) {
        inbound *next = list->next;
        handle(c, list);
        free(list);
        list = next;
    }
    if (atomic_exchange(&c->repair_all, false) || gl_time_mono_ms() - c->audited_ms >= AUDIT_MS)
        audit(c);
    if (gl_time_mono_ms() - c->beat_ms >= PD_HEARTBEAT_MS) pd_cluster__beat(c, gl_time_mono_ms());
}

/* ---- start and stop */

static int
parse_urls(const char *urls, char *copy, size_t cap, const char **list, int *n, gl_err *err)
{
    char *save = NULL, *tok;

    if (snprintf(copy, cap, "%s", urls) >= (int)cap)
        return gl_err_set(err, GL_EINVAL, "GOLIVE_NATS_URL is longer than %zu bytes", cap - 1);
    *n = 0;
    for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        if (*n == MAX_SERVERS)
            return gl_err_set(err, GL_EINVAL, "GOLIVE_NATS_URL names more than %d servers",
                              MAX_SERVERS);
        if (strncmp(tok, "nats://", 7) != 0 && strncmp(tok, "tls://", 6) != 0)
            return gl_err_set(err, GL_EINVAL, "GOLIVE_NATS_URL: %.80s is not a nats:// URL", tok);
        list[(*n)++] = tok;
    }
    if (*n == 0) return gl_err_set(err, GL_EINVAL, "GOLIVE_NATS_URL names no server");
    return GL_OK;
}

int
pd_cluster_start(pd_server *srv, const char *urls, const char *node, pd_fanout *local,
                 pd_cluster **out, gl_err *err)
{
    char copy[4096];
    const char *list[MAX_SERVERS];
    pd_cluster *c;
    natsStatus s;
    int n = 0, rv;

    if ((rv = parse_urls(urls, copy, sizeof(copy), list, &n, err)) != GL_OK) return rv;
    /* It names the node's NATS inbox too: no wildcard. */
    if (strlen(node) == 0 || strlen(node) >= PD_BUS_NODE_MAX || strpbrk(node, " \t\r\n*>") != NULL)
        return gl_err_set(err, GL_EINVAL,
                          "the node name must be 1 to %d bytes without blanks, '*' or '>'",
                          PD_BUS_NODE_MAX - 1);
    if ((c = calloc(1, sizeof(*c))) == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    c->ops.deliver = cluster_deliver;
    c->ops.deliver_moderators = cluster_deliver_moderators;
    c->ops.reloaded = cluster_reloaded;
    c->srv = srv;
    c->local = local;
    snprintf(c->node, sizeof(c->node), "%s", node);
    c->in_tail = &c->in;
    c->audited_ms = gl_time_mono_ms();
    pthread_mutex_init(&c->mu, NULL);
    /* Forever retried, a failed first connection included: a NATS server that is down must
     * not keep pushd from serving its own clients. */
    if ((s = natsOptions_Create(&c->opts)) != NATS_OK ||
        (s = natsOptions_SetServers(c->opts, list, n)) != NATS_OK ||
        (s = natsOptions_SetNoRandomize(c->opts, true)) != NATS_OK || /* the operator's order */
        (s = natsOptions_SetName(c->opts, node)) != NATS_OK ||
        (s = natsOptions_SetNoEcho(c->opts, true)) != NATS_OK ||
        /* nats.c 3.4's flusher thread waits 1 ms before it writes what a publish buffered:
         * 1 ms added to every message between nodes and to every store answer. Write at once
         * instead (one write per publish, on the thread that publishes). */
        (s = natsOptions_SetSendAsap(c->opts, true)) != NATS_OK ||
        (s = natsOptions_SetMaxReconnect(c->opts, -1)) != NATS_OK ||
        (s = natsOptions_SetReconnectWait(c->opts, 250)) != NATS_OK ||
        (s = natsOptions_SetPingInterval(c->opts, 2000)) != NATS_OK ||
        (s = natsOptions_SetMaxPingsOut(c->opts, 2)) != NATS_OK ||
        (s = natsOptions_SetRetryOnFailedConnect(c->opts, true, on_connected, c)) != NATS_OK ||
        (s = natsOptions_SetReconnectedCB(c->opts, on_connected, c)) != NATS_OK ||
        (s = natsOptions_SetDisconnectedCB(c->opts, on_disconnected, c)) != NATS_OK ||
        (s = natsOptions_SetErrorHandler(c->opts, on_error, c)) != NATS_OK)
        goto out_fail;
    s = natsConnection_Connect(&c->nc, c->opts);
    if (s == NATS_OK) {
        atomic_store(&c->connected, true);
    } else if (s != NATS_NOT_YET_CONNECTED) {
        goto out_fail;
    }
    snprintf(c->inbox_subject, sizeof(c->inbox_subject), PREFIX ".node.%s", node);
    if ((s = natsConnection_Subscribe(&c->ctl, c->nc, CTL_SUBJECT, on_msg, c)) != NATS_OK ||
        (s = natsConnection_Subscribe(&c->hb, c->nc, HB_SUBJECT, on_msg, c)) != NATS_OK ||
        (s = natsConnection_Subscribe(&c->q, c->nc, QUERY_SUBJECT, on_msg, c)) != NATS_OK ||
        (s = natsConnection_Subscribe(&c->inbox, c->nc, c->inbox_subject, on_msg, c)) != NATS_OK)
        goto out_fail;
    if (srv->opt.db_path != NULL &&
        (rv = pd_store_service_start(c->nc, srv->opt.db_path, &c->store, err)) != GL_OK) {
        pd_cluster_stop(c);
        return rv;
    }
    gl_log(GL_LOG_INFO, "cluster", "node %s on NATS %s%s%s", node, urls,
           atomic_load(&c->connected) ? "" : " (not reachable yet: retrying)",
           c->store ? "; answers the store for nodes without the database" : "");
    srv->cluster = c;
    srv->channel_interest = on_interest;
    srv->cluster_presence = pd_cluster__presence;
    srv->presence_changed = pd_cluster__presence_changed;
    *out = c;
    return GL_OK;

out_fail:
    gl_log(GL_LOG_ERROR, "cluster", "NATS: %s", natsStatus_GetText(s));
    pd_cluster_stop(c);
    return gl_err_set(err, GL_EUNAVAIL, "cannot use NATS at %s: %s", urls, natsStatus_GetText(s));
}

pd_fanout *
pd_cluster_fanout(pd_cluster *c)
{
    return &c->ops;
}

void
pd_cluster_loop_ready(pd_cluster *c)
{
    if (c == NULL) return;
    atomic_store(&c->ctx, c->srv->ctx);
    wake(c); /* what arrived before */
}

natsConnection *
pd_cluster_connection(pd_cluster *c)
{
    return c->nc;
}

const pd_store_service *
pd_cluster_store_service(const pd_cluster *c)
{
    return c->store;
}

bool
pd_cluster_connected(const pd_cluster *c)
{
    return atomic_load(&((pd_cluster *)c)->connected);
}

void
pd_cluster_stop(pd_cluster *c)
{
    size_t it = 0;
    gl_map_entry *e;

    if (c == NULL) return;
    if (c->srv->cluster == c) { /* what closes later (lws's sockets) fans out locally */
        c->srv->cluster = NULL;
        c->srv->channel_interest = NULL;
        c->srv->cluster_presence = NULL;
        c->srv->presence_changed = NULL;
        c->srv->fanout = c->local;
    }
    pd_store_service_destroy(c->store);
    if (c->nc != NULL) natsConnection_Close(c->nc); /* no more deliveries */
    while (c->queries != NULL)
        pd_cluster__query_finish(c->queries); /* answered with what came */
    while ((e = gl_map_next(&c->chains, &it)) != NULL) {
        natsSubscription_Destroy(((chain *)e->val)->sub);
        gl_map_free_values(&((chain *)e->val)->remote);
    }
    gl_map_free_values(&c->chains);
    gl_map_free_values(&c->peers);
    natsSubscription_Destroy(c->ctl);
    natsSubscription_Destroy(c->hb);
    natsSubscription_Destroy(c->q);
    natsSubscription_Destroy(c->inbox);
    natsConnection_Destroy(c->nc);
    natsOptions_Destroy(c->opts);
    /* nats.c's threads (which call back with c) end before c goes. */
    nats_CloseAndWait(5000);
    while (c->in != NULL) {
        inbound *next = c->in->next;
        free(c->in);
        c->in = next;
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}
