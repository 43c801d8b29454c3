/* Channels exist while someone is subscribed. Each keeps an array of (connection, min_id) for
 * fan-out, and each connection the (channel, slot) pairs pointing back, so unsubscribing is
 * O(1) in the channel (swap with the last slot) and O(subscriptions) in the connection. */
#include "channel.h"
#include "conn.h"
#include "shared/event.h"
#include "shared/log.h"

#include <stdlib.h>
#include <string.h>

/* A channel with at least one subscriber. */
typedef struct pd_channel_sub {
    pd_conn *c;
    int64_t min_id; /* live messages with id <= min_id were already replayed from history */
} pd_channel_sub;

struct pd_channel {
    char *name;
    pd_channel_sub *subs;
    uint32_t nsubs, capsubs;
    uint32_t anon;        /* subscribed connections without a user */
    gl_map users;         /* user id -> pd_presence */
    char ns[GL_NAME_MAX]; /* namespace counted against max_clients ("" none) */
};

/* A user's entry in a channel: the first connection's pd_user (referenced, not copied) and how
 * many of the user's connections are subscribed. */
typedef struct pd_presence {
    uint32_t conns;
    pd_user *user;
} pd_presence;

typedef struct ns_count {
    uint32_t n;
    char name[];
} ns_count;

pd_channel *
pd_channel_find(pd_server *srv, const char *name)
{
    return gl_map_get(&srv->channels, name);
}

const char *
pd_channel_name(const pd_channel *ch)
{
    return ch->name;
}

pd_channel_counts
pd_channel_count(const pd_channel *ch)
{
    if (ch == NULL) return (pd_channel_counts){0, 0, 0};
    return (pd_channel_counts){ch->nsubs, (uint32_t)ch->users.len, ch->anon};
}

void
pd_channel_skip_replayed(const pd_conn_sub *sub, int64_t max_id)
{
    sub->ch->subs[sub->slot].min_id = max_id;
}

bool
pd_conn_is_subscribed(const pd_conn *c, const pd_channel *ch)
{
    for (uint16_t i = 0; i < c->nsubs; i++)
        if (c->subs[i].ch == ch) return true;
    return false;
}

static void
channel_destroy(pd_server *srv, pd_channel *ch)
{
    if (srv->channel_interest != NULL) srv->channel_interest(srv, ch->name, false);
    gl_map_del(&srv->channels, ch->name);
    gl_map_free(&ch->users);
    free(ch->subs);
    free(ch->name);
    free(ch);
}

static pd_channel *
channel_create(pd_server *srv, const char *name, const gl_policy *pol)
{
    pd_channel *ch = calloc(1, sizeof(*ch));
    if (ch == NULL || (ch->name = strdup(name)) == NULL) goto out_free;
    if (pol->ns != NULL) snprintf(ch->ns, sizeof(ch->ns), "%s", pol->ns->name);
    if (gl_map_put(&srv->channels, ch->name, ch) != GL_OK) goto out_free;
    if (srv->channel_interest != NULL) srv->channel_interest(srv, ch->name, true);
    return ch;

out_free:
    if (ch) free(ch->name);
    free(ch);
    return NULL;
}

void
pd_channel_presence_event(const pd_server *srv, pd_channel *ch, uint32_t members, const char *type,
                          const char *user_id, const char *username)
{
    const gl_namespace *ns = ch->ns[0] != '\0' ? gl_config_namespace(srv->cfg, ch->ns) : NULL;
    cJSON *ev;

    /* A join sent to every subscriber costs O(n²) frames as a room fills: big rooms get none
     * (Twitch stops membership events past 1000 chatters); presence still lists everyone. */
    if (members > (uint32_t)(ns != NULL ? ns->join_leave_max : GL_JOIN_LEAVE_DEFAULT)) return;
    if ((ev = gl_event_presence(type, ch->name, user_id, username)) == NULL) return;
    pd_frame *f = pd_frame_from_json(gl_event_print_take(ev));
    if (f != NULL) {
        pd_channel_fanout(ch, f, 0);
        pd_frame_unref(f);
    }
}

/* A user's first connection here joined, or its last left: in a cluster the other nodes are
 * told, and the event is not sent where the user is present through another node already. */
static void
send_presence_event(pd_server *srv, pd_channel *ch, uint32_t members, const char *type,
                    const pd_user *u)
{
    if (srv->presence_changed != NULL &&
        srv->presence_changed(srv, ch->name, u->id, pd_user_name(u), type[0] == 'j'))
        return;
    pd_channel_presence_event(srv, ch, members, type, u->id, pd_user_name(u));
}

uint32_t
pd_channel_user_conns(const pd_channel *ch, const char *user_id)
{
    const pd_presence *p = ch != NULL ? gl_map_get(&ch->users, user_id) : NULL;
    return p != NULL ? p->conns : 0;
}

/* Does c hold another subscription in namespace ns (besides skip)? */
static bool
conn_in_namespace(const pd_conn *c, const char *ns, const pd_channel *skip)
{
    for (uint16_t i = 0; i < c->nsubs; i++)
        if (c->subs[i].ch != skip && strcmp(c->subs[i].ch->ns, ns) == 0) return true;
    return false;
}

static int
ns_enter(pd_server *srv, const pd_conn *c, const gl_policy *pol, gl_err *err)
{
    ns_count *nc;
    if (pol->ns == NULL || conn_in_namespace(c, pol->ns->name, NULL)) return GL_OK;
    nc = gl_map_get(&srv->ns_clients, pol->ns->name);
    if (pol->ns->max_clients > 0 && nc != NULL && nc->n >= (uint32_t)pol->ns->max_clients)
        return gl_err_set(err, GL_ERATE, "namespace %s is full (%d clients)", pol->ns->name,
                          pol->ns->max_clients);
    if (nc == NULL) {
        size_t len = strlen(pol->ns->name) + 1;
        if ((nc = calloc(1, sizeof(*nc) + len)) == NULL)
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        memcpy(nc->name, pol->ns->name, len);
        if (gl_map_put(&srv->ns_clients, nc->name, nc) != GL_OK) {
            free(nc);
            return gl_err_set(err, GL_ENOMEM, "out of memory");
        }
    }
    nc->n++;
    return GL_OK;
}

/* The inverse of ns_enter: c leaves namespace ns ("" none) unless another of its
 * subscriptions (besides skip) holds it there. */
static void
ns_leave(pd_server *srv, const pd_conn *c, const char *ns, const pd_channel *skip)
{
    ns_count *nc;
    if (ns[0] == '\0' || conn_in_namespace(c, ns, skip)) return;
    if ((nc = gl_map_get(&srv->ns_clients, ns)) != NULL && --nc->n == 0)
        free(gl_map_del(&srv->ns_clients, ns));
}

static int
presence_add(pd_channel *ch, pd_user *u, bool *first)
{
    pd_presence *p = gl_map_get(&ch->users, u->id);
    *first = false;
    if (p == NULL) {
        if ((p = calloc(1, sizeof(*p))) == NULL) return GL_ENOMEM;
        p->user = u; /* the map's key lives in it */
        if (gl_map_put(&ch->users, u->id, p) != GL_OK) {
            free(p);
            return GL_ENOMEM;
        }
        pd_user_ref(u);
        *first = true;
    }
    p->conns++;
    return GL_OK;
}

/* Returns true when this was the user's last connection in the channel. */
static bool
presence_remove(pd_channel *ch, const pd_user *u)
{
    pd_presence *p = gl_map_get(&ch->users, u->id);
    if (p == NULL || --p->conns > 0) return false;
    gl_map_del(&ch->users, u->id);
    pd_user_unref(p->user);
    free(p);
    return true;
}

int
pd_channel_subscribe(pd_server *srv, pd_conn *c, const char *name, const gl_policy *pol,
                     int64_t min_id, gl_err *err)
{
    pd_channel *ch = pd_channel_find(srv, name);
    bool created = false, first = false;
    int rv;

    if (ch != NULL && pd_conn_is_subscribed(c, ch))
        return gl_err_set(err, GL_ECONFLICT, "already subscribed to %s", name);
    if (c->nsubs >= PD_MAX_SUBS)
        return gl_err_set(err, GL_ERATE, "a connection may hold at most %d subscriptions",
                          PD_MAX_SUBS);
    if ((rv = ns_enter(srv, c, pol, err)) != GL_OK) return rv;
    if (ch == NULL) {
        if ((ch = channel_create(srv, name, pol)) == NULL) goto out_nomem;
        created = true;
    }
    if (c->nsubs == c->capsubs) {
        uint16_t ncap = c->capsubs ? (uint16_t)(c->capsubs * 2) : 1; /* most hold one */
        pd_conn_sub *ns = realloc(c->subs, ncap * sizeof(*ns));
        if (ns == NULL) goto out_nomem;
        c->subs = ns;
        c->capsubs = ncap;
    }
    if (ch->nsubs == ch->capsubs) {
        uint32_t ncap = ch->capsubs ? ch->capsubs * 2 : 4;
        pd_channel_sub *ns = realloc(ch->subs, ncap * sizeof(*ns));
        if (ns == NULL) goto out_nomem;
        ch->subs = ns;
        ch->capsubs = ncap;
    }
    if (c->user != NULL && presence_add(ch, c->user, &first) != GL_OK) goto out_nomem;
    if (c->user == NULL) ch->anon++;
    ch->subs[ch->nsubs] = (pd_channel_sub){c, min_id};
    c->subs[c->nsubs++] = (pd_conn_sub){ch, ch->nsubs++};
    if (first) send_presence_event(srv, ch, ch->nsubs, "join", c->user);
    return GL_OK;

out_nomem:
    /* ns_enter counted us, also when the channel could not even be created. */
    if (pol->ns != NULL) ns_leave(srv, c, pol->ns->name, ch);
    if (created) channel_destroy(srv, ch);
    return gl_err_set(err, GL_ENOMEM, "out of memory");
}

/* Remove subscription i of c; tells nobody but presence. */
static void
drop_sub(pd_server *srv, pd_conn *c, uint16_t i)
{
    pd_channel *ch = c->subs[i].ch;
    uint32_t slot = c->subs[i].slot;
    bool last = false;

    /* Swap the channel's last subscriber into our slot and repoint its connection. */
    ch->subs[slot] = ch->subs[--ch->nsubs];
    if (slot < ch->nsubs) {
        pd_conn *moved = ch->subs[slot].c;
        for (uint16_t k = 0; k < moved->nsubs; k++)
            if (moved->subs[k].ch == ch) {
                moved->subs[k].slot = slot;
                break;
            }
    }
    c->subs[i] = c->subs[--c->nsubs];
    ns_leave(srv, c, ch->ns, ch);
    if (c->user != NULL)
        last = presence_remove(ch, c->user);
    else
        ch->anon--;
    if (ch->nsubs == 0) {
        /* Nobody left here to tell; a cluster's other nodes are. */
        if (last && srv->presence_changed != NULL)
            srv->presence_changed(srv, ch->name, c->user->id, pd_user_name(c->user), false);
        channel_destroy(srv, ch);
        return;
    }
    if (last) send_presence_event(srv, ch, ch->nsubs + 1, "leave", c->user);
}

int
pd_channel_unsubscribe(pd_server *srv, pd_conn *c, const char *name, gl_err *err)
{
    for (uint16_t i = 0; i < c->nsubs; i++)
        if (strcmp(c->subs[i].ch->name, name) == 0) {
            drop_sub(srv, c, i);
            return GL_OK;
        }
    return gl_err_set(err, GL_ENOTFOUND, "not subscribed to %s", name);
}

/* Server-initiated: unsubscribe c and tell it why ({"type":"unsubscribed",...}). */
static void
kick(pd_server *srv, pd_conn *c, pd_channel *ch, const char *reason)
{
    cJSON *ev;
    for (uint16_t i = 0; i < c->nsubs; i++)
        if (c->subs[i].ch == ch) {
            ev = gl_event_unsubscribed(ch->name, reason);
            drop_sub(srv, c, i);
            pd_conn_send_json(c, gl_event_print_take(ev));
            return;
        }
}

void
pd_channel_kick_where(pd_server *srv, pd_channel *ch, pd_channel_verdict_fn verdict, void *arg)
{
    const char *name = ch->name;
    uint32_t n = 0, total = ch->nsubs;
    pd_conn **kicked = malloc(total * sizeof(*kicked));
    const char **why = malloc(total * sizeof(*why));
    char *saved = strdup(name);

    if (kicked == NULL || why == NULL || saved == NULL) {
        gl_log(GL_LOG_ERROR, "channel", "out of memory re-checking %s", name);
        goto out_free;
    }
    /* Decide first, then kick: kicking reorders (and may free) the channel's array. */
    for (uint32_t i = 0; i < total; i++)
        if ((why[n] = verdict(ch->subs[i].c, arg)) != NULL) kicked[n++] = ch->subs[i].c;
    for (uint32_t i = 0; i < n; i++) {
        if ((ch = pd_channel_find(srv, saved)) == NULL) break;
        kick(srv, kicked[i], ch, why[i]);
    }
out_free:
    free(kicked);
    free(why);
    free(saved);
}

void
pd_channel_unsubscribe_all(pd_server *srv, pd_conn *c)
{
    while (c->nsubs > 0)
        drop_sub(srv, c, (uint16_t)(c->nsubs - 1));
    free(c->subs);
    c->subs = NULL;
    c->capsubs = 0;
}

void
pd_channel_fanout(pd_channel *ch, pd_frame *f, int64_t msg_id)
{
    for (uint32_t i = 0; i < ch->nsubs; i++)
        if (msg_id <= 0 || ch->subs[i].min_id < msg_id) pd_conn_send(ch->subs[i].c, f);
}

uint32_t
pd_channel_send_where(pd_channel *ch, pd_frame *f, bool (*pick)(pd_conn *c, void *arg), void *arg)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < ch->nsubs; i++)
        if (pick(ch->subs[i].c, arg)) {
            pd_conn_send(ch->subs[i].c, f);
            n++;
        }
    return n;
}

cJSON *
pd_channel_presence_json(const char *name, const pd_channel *ch)
{
    cJSON *o = cJSON_CreateObject(), *users;
    size_t it = 0;
    gl_map_entry *e;

    if (o == NULL || cJSON_AddStringToObject(o, "channel", name) == NULL ||
        (users = cJSON_AddArrayToObject(o, "users")) == NULL)
        goto out_free;
    while (ch != NULL && (e = gl_map_next(&ch->users, &it)) != NULL) {
        const pd_presence *p = e->val;
        cJSON *u = cJSON_CreateObject();
        if (u == NULL) goto out_free;
        cJSON_AddItemToArray(users, u);
        if (cJSON_AddStringToObject(u, "id", p->user->id) == NULL ||
            cJSON_AddStringToObject(u, "username", pd_user_name(p->user)) == NULL ||
            cJSON_AddNumberToObject(u, "connections", p->conns) == NULL)
            goto out_free;
    }
    if (cJSON_AddNumberToObject(o, "anonymous", ch ? ch->anon : 0) == NULL) goto out_free;
    return o;

out_free:
    cJSON_Delete(o);
    return NULL;
}
