/* Presence across a cluster's nodes (cluster_int.h, docs/cluster.md): each node's heartbeat
 * with its counts; presence queries, answered by every node with its own users and merged by
 * the asker; and the joins and leaves of other nodes' users, so that a user present through
 * several nodes joins and leaves once. */
#include "cluster_int.h"
#include "channel.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- who is present through the other nodes: their joins and leaves, not this node's */

/* Forget node among u's; with none left, u leaves after LEAVE_GRACE_MS unless a node says it
 * is present again meanwhile: two nodes' news may cross on different NATS routes (the user
 * moved from one node to another), and a leave then a join would be noise. */
static void
drop_node(ruser *u, const char *node)
{
    for (uint8_t i = 0; i < u->nnodes; i++)
        if (strcmp(u->nodes[i], node) == 0) {
            memcpy(u->nodes[i], u->nodes[--u->nnodes], PD_BUS_NODE_MAX);
            break;
        }
    if (u->nnodes == 0 && u->gone_ms == 0) u->gone_ms = gl_time_mono_ms();
}

/* node says user id is present in ch, or no longer. Returns +1 when the user became present
 * through the others (a join to tell), else 0: leaves are told by remote_flush, once their
 * grace is over. */
static int
remote_set(chain *ch, const char *node, const char *id, const char *username, bool present)
{
    ruser *u = gl_map_get(&ch->remote, id);
    size_t n = strlen(id) + 1;

    if (present) {
        bool fresh = u == NULL;
        if (fresh) {
            if ((u = calloc(1, sizeof(*u) + n)) == NULL) return 0;
            memcpy(u->id, id, n);
            if (gl_map_put(&ch->remote, u->id, u) != GL_OK) {
                free(u);
                return 0;
            }
        }
        u->gone_ms = 0; /* a leave waiting out LEAVE_GRACE_MS is called off */
        snprintf(u->username, sizeof(u->username), "%s", username);
        for (uint8_t i = 0; i < u->nnodes; i++)
            if (strcmp(u->nodes[i], node) == 0) return 0;
        if (u->nnodes < RUSER_NODES) /* past it, present either way */
            snprintf(u->nodes[u->nnodes++], PD_BUS_NODE_MAX, "%s", node);
        return fresh ? 1 : 0;
    }
    if (u == NULL) return 0;
    drop_node(u, node);
    return 0;
}

/* A change of remote_set to this node's subscribers, unless the user has a connection here
 * (then they have known all along). */
static void
remote_event(pd_cluster *c, chain *ch, const char *id, const char *username, int change)
{
    pd_channel *pch = change != 0 ? pd_channel_find(c->srv, ch->channel) : NULL;

    if (pch == NULL || pd_channel_user_conns(pch, id) > 0) return;
    pd_channel_presence_event(c->srv, pch, pd_channel_count(pch).users + (uint32_t)ch->remote.len,
                              change > 0 ? "join" : "leave", id, username);
}

/* {"id","username"} of a 'P' message or an answer's user: both strings, within bounds. */
static bool
user_fields(const cJSON *u, const char **id, const char **name)
{
    *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "id"));
    *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "username"));
    return *id != NULL && *name != NULL && **id != '\0' && strlen(*id) < GL_USER_ID_MAX &&
           strlen(*name) < GL_USERNAME_MAX;
}

void
pd_cluster__presence_delta(pd_cluster *c, const pd_busmsg *m)
{
    chain *ch = gl_map_get(&c->chains, m->channel);
    cJSON *u;
    const char *id, *name;

    if (ch == NULL || (u = cJSON_ParseWithLength(m->payload, m->payload_len)) == NULL) return;
    if (user_fields(u, &id, &name))
        remote_event(c, ch, id, name, remote_set(ch, m->node, id, name, m->id == 1));
    cJSON_Delete(u);
}

bool
pd_cluster__presence_changed(pd_server *srv, const char *channel, const char *user_id,
                             const char *username, bool present)
{
    pd_cluster *c = srv->cluster;
    chain *ch = gl_map_get(&c->chains, channel);
    cJSON *u = cJSON_CreateObject();
    char *json;

    if (u != NULL && cJSON_AddStringToObject(u, "id", user_id) != NULL &&
        cJSON_AddStringToObject(u, "username", username) != NULL &&
        (json = cJSON_PrintUnformatted(u)) != NULL) {
        pd_cluster__publish(c, 'P', channel, present ? 1 : 0, 0, (const unsigned char *)json,
                            strlen(json));
        cJSON_free(json);
    }
    cJSON_Delete(u);
    return ch != NULL && gl_map_get(&ch->remote, user_id) != NULL;
}

/* Count a silent node out of every channel: its users leave (after LEAVE_GRACE_MS) where no
 * other node holds them. */
static void
remote_forget(pd_cluster *c, const char *node)
{
    size_t it = 0, j;
    gl_map_entry *e, *ue;

    while ((e = gl_map_next(&c->chains, &it)) != NULL)
        for (j = 0; (ue = gl_map_next(&((chain *)e->val)->remote, &j)) != NULL;)
            drop_node(ue->val, node);
}

/* The leaves whose grace is over: to this node's subscribers, and forgotten. */
static void
remote_flush(pd_cluster *c, int64_t now)
{
    size_t it = 0;
    gl_map_entry *e;

    while ((e = gl_map_next(&c->chains, &it)) != NULL) {
        chain *ch = e->val;
        ruser *gone[64];
        size_t ngone = 0, j = 0;
        gl_map_entry *ue;

        /* The map may not change while it is walked: up to 64 a channel per beat. */
        while ((ue = gl_map_next(&ch->remote, &j)) != NULL && ngone < 64) {
            ruser *u = ue->val;
            if (u->nnodes == 0 && u->gone_ms != 0 && now - u->gone_ms >= LEAVE_GRACE_MS)
                gone[ngone++] = u;
        }
        for (size_t k = 0; k < ngone; k++) {
            gl_map_del(&ch->remote, gone[k]->id);
            remote_event(c, ch, gone[k]->id, gone[k]->username, -1);
            free(gone[k]);
        }
    }
}

/* ---- presence across the nodes: this node asks, each other one answers with its own */

void
pd_cluster__query_finish(query *q)
{
    pd_cluster *c = q->c;

    for (query **pp = &c->queries; *pp != NULL; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    lws_sul_cancel(&q->sul);
    gl_map_free(&q->users);
    q->done(q->arg, q->data);
    free(q);
}

static void
query_timeout(lws_sorted_usec_list_t *sul)
{
    query *q = lws_container_of(sul, query, sul);
    gl_log(GL_LOG_DEBUG, "cluster", "presence of %s: %u node(s) did not answer in time",
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q->data, "channel")), q->waiting);
    pd_cluster__query_finish(q);
}

/* Index data's users by id, for merging the others' into them. */
static int
index_users(query *q)
{
    cJSON *u, *users = cJSON_GetObjectItemCaseSensitive(q->data, "users");
    cJSON_ArrayForEach(u, users)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "id"));
        if (id == NULL || gl_map_put(&q->users, id, u) != GL_OK) return GL_ENOMEM;
    }
    return GL_OK;
}

/* One node's answer ({"users":[{"id","username","connections"}],"anonymous"}) into q: a user
 * on several nodes is listed once, with the connections of all. An answer of another shape is
 * left out (counted as an answer). */
static void
query_merge(query *q, const char *json, size_t len)
{
    cJSON *a = cJSON_ParseWithLength(json, len), *u;
    cJSON *users = cJSON_GetObjectItemCaseSensitive(q->data, "users");
    const cJSON *anon = cJSON_GetObjectItemCaseSensitive(a, "anonymous");
    cJSON *mine = cJSON_GetObjectItemCaseSensitive(q->data, "anonymous");

    if (cJSON_IsNumber(anon) && anon->valuedouble >= 0 && cJSON_IsNumber(mine))
        cJSON_SetNumberValue(mine, mine->valuedouble + anon->valuedouble);
    cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(a, "users"))
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(u, "id"));
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(u, "connections");
        cJSON *have, *copy;

        if (id == NULL || !cJSON_IsNumber(n) || n->valuedouble < 1) continue;
        if ((have = gl_map_get(&q->users, id)) != NULL) {
            cJSON *hn = cJSON_GetObjectItemCaseSensitive(have, "connections");
            if (cJSON_IsNumber(hn)) cJSON_SetNumberValue(hn, hn->valuedouble + n->valuedouble);
        } else if ((copy = cJSON_Duplicate(u, true)) != NULL) {
            cJSON_AddItemToArray(users, copy);
            if (gl_map_put(&q->users,
                           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(copy, "id")),
                           copy) != GL_OK)
                gl_log(GL_LOG_WARN, "cluster", "out of memory merging presence");
        }
    }
    cJSON_Delete(a);
}

static query *
query_start(pd_server *srv, const char *channel, void (*done)(void *arg, cJSON *data), void *arg,
            bool seed)
{
    pd_cluster *c = srv->cluster;
    query *q;

    if (srv->cluster_view.nodes == 0) return NULL; /* alone: the caller answers */
    if ((q = calloc(1, sizeof(*q))) == NULL) return NULL;
    q->seed = seed;
    q->c = c;
    q->id = ++c->next_query;
    q->waiting = srv->cluster_view.nodes;
    q->done = done;
    q->arg = arg;
    if ((q->data = pd_channel_presence_json(channel, pd_channel_find(srv, channel))) == NULL ||
        index_users(q) != GL_OK) {
        gl_map_free(&q->users);
        cJSON_Delete(q->data);
        free(q);
        return NULL;
    }
    q->next = c->queries;
    c->queries = q;
    lws_sul_schedule(srv->ctx, 0, &q->sul, query_timeout, PD_PRESENCE_WAIT_MS * LWS_US_PER_MS);
    pd_cluster__publish(c, 'q', channel, q->id, 0, NULL, 0);
    return q;
}

bool
pd_cluster__presence(pd_server *srv, const char *channel, void (*done)(void *arg, cJSON *data),
                     void *arg)
{
    return query_start(srv, channel, done, arg, false) != NULL;
}

static void
seed_done(void *arg, cJSON *data)
{
    (void)arg;
    cJSON_Delete(data);
}

void
pd_cluster__seed(pd_server *srv, const char *channel)
{
    query_start(srv, channel, seed_done, NULL, true);
}

/* Another node asks who is here in m->channel: answer to its inbox. */
void
pd_cluster__answer(pd_cluster *c, const pd_busmsg *m)
{
    char inbox[INBOX_MAX], *json;
    cJSON *p = pd_channel_presence_json(m->channel, pd_channel_find(c->srv, m->channel));

    cJSON_DeleteItemFromObjectCaseSensitive(p, "channel");
    if (p == NULL || (json = cJSON_PrintUnformatted(p)) == NULL) {
        cJSON_Delete(p);
        return; /* the asker's wait ends it */
    }
    snprintf(inbox, sizeof(inbox), PREFIX ".node.%s", m->node);
    pd_cluster__publish_to(c, inbox, 'a', m->channel, m->id, 0, (const unsigned char *)json,
                           strlen(json));
    cJSON_free(json);
    cJSON_Delete(p);
}

/* A seed query's answer: who is present through node m->node, without events (the channel's
 * subscribers here are new to it). */
static void
seed_from(pd_cluster *c, const pd_busmsg *m)
{
    chain *ch = gl_map_get(&c->chains, m->channel);
    cJSON *a, *u;
    const char *id, *name;

    if (ch == NULL || (a = cJSON_ParseWithLength(m->payload, m->payload_len)) == NULL) return;
    cJSON_ArrayForEach(u,
                       cJSON_GetObjectItemCaseSensitive(a, "users")) if (user_fields(u, &id, &name))
        remote_set(ch, m->node, id, name, true);
    cJSON_Delete(a);
}

void
pd_cluster__answered(pd_cluster *c, const pd_busmsg *m)
{
    for (query *q = c->queries; q != NULL; q = q->next)
        if (q->id == m->id) {
            if (q->seed) seed_from(c, m);
            query_merge(q, m->payload, m->payload_len);
            if (--q->waiting == 0) pd_cluster__query_finish(q);
            return;
        }
    /* late: its query ended at PD_PRESENCE_WAIT_MS */
}

/* ---- heartbeats */

/* A heartbeat: the node's counts, kept until it stops beating. */
void
pd_cluster__heard(pd_cluster *c, const pd_busmsg *m)
{
    peer *p = gl_map_get(&c->peers, m->node);
    size_t n = strlen(m->node) + 1;

    if (p == NULL) {
        if ((p = calloc(1, sizeof(*p) + n)) == NULL) return;
        memcpy(p->name, m->node, n);
        if (gl_map_put(&c->peers, p->name, p) != GL_OK) {
            free(p);
            return;
        }
        gl_log(GL_LOG_INFO, "cluster", "node %s joined", p->name);
    }
    p->connections = m->id;
    p->channels = m->prev_id;
    p->seen_ms = gl_time_mono_ms();
}

/* Say how many this node serves, forget the nodes that stopped beating, and sum the rest into
 * srv->cluster_view. */
void
pd_cluster__beat(pd_cluster *c, int64_t now)
{
    pd_cluster_view v = {0, 0};
    size_t it = 0;
    gl_map_entry *e;
    char gone[PD_BUS_NODE_MAX] = "";

    c->beat_ms = now;
    pd_cluster__publish(c, 'h', "-", c->srv->nconns, (int64_t)c->srv->channels.len, NULL, 0);
    while ((e = gl_map_next(&c->peers, &it)) != NULL) {
        peer *p = e->val;
        if (now - p->seen_ms > 2 * PD_HEARTBEAT_MS) {
            snprintf(gone, sizeof(gone), "%s", p->name); /* one a beat: the map may not change */
            continue;
        }
        v.nodes++;
        v.connections += (uint64_t)p->connections;
    }
    if (gone[0] != '\0') {
        gl_log(GL_LOG_WARN, "cluster", "node %s is silent: counted out", gone);
        remote_forget(c, gone);
        free(gl_map_del(&c->peers, gone));
    }
    remote_flush(c, now);
    c->srv->cluster_view = v;
}
