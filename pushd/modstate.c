/* In-memory moderation state, keyed by channel name, filled from the bans, channel_access and
 * channel_settings tables through shared/db. */
#include "modstate.h"
#include "channel.h"
#include "store.h"
#include "shared/event.h"
#include "shared/timefmt.h"
#include "shared/log.h"

#include <stdlib.h>
#include <string.h>

/* Moderation state of one channel, from SQLite (restored at start, reloaded on nng "reload"). */
typedef struct pd_modstate {
    char *name;
    bool has_override;
    gl_override ov;
    gl_map access;       /* user id -> same malloc'd string */
    gl_map restrictions; /* user id -> pd_restriction */
    gl_map roles;        /* user id -> pd_role: broadcaster, channel moderator, VIP */
    char *pinned;        /* the pinned message's event (JSON text), or NULL */
} pd_modstate;

typedef struct pd_role {
    gl_standing standing; /* the highest of the user's roles */
    char user_id[];
} pd_role;

typedef struct pd_restriction {
    bool banned;
    int64_t ban_expires_ms; /* 0 = until unban */
    int64_t timeout_until_ms;
    char user_id[];
} pd_restriction;

static void
modstate_free(pd_modstate *ms)
{
    if (ms == NULL) return;
    gl_map_free_values(&ms->access);
    gl_map_free_values(&ms->restrictions);
    gl_map_free_values(&ms->roles);
    gl_override_free(&ms->ov);
    free(ms->pinned);
    free(ms->name);
    free(ms);
}

static void
map_free_all(gl_map *m)
{
    size_t it = 0;
    gl_map_entry *e;
    while ((e = gl_map_next(m, &it)) != NULL)
        modstate_free(e->val);
    gl_map_free(m);
}

/* The state of channel in map m (a map being built), created empty when absent. */
static pd_modstate *
modstate_get(gl_map *m, const char *channel)
{
    pd_modstate *ms = gl_map_get(m, channel);
    if (ms != NULL) return ms;
    if ((ms = calloc(1, sizeof(*ms))) == NULL || (ms->name = strdup(channel)) == NULL ||
        gl_map_put(m, ms->name, ms) != GL_OK) {
        if (ms) free(ms->name);
        free(ms);
        return NULL;
    }
    ms->ov = (gl_override)GL_OVERRIDE_INIT;
    return ms;
}

static int
on_restriction(void *arg, const char *channel, const char *user_id, bool is_timeout,
               int64_t expires_ms)
{
    pd_modstate *ms = modstate_get(arg, channel);
    pd_restriction *r;

    if (ms == NULL) return GL_ENOMEM;
    if ((r = gl_map_get(&ms->restrictions, user_id)) == NULL) {
        size_t len = strlen(user_id) + 1;
        if ((r = calloc(1, sizeof(*r) + len)) == NULL) return GL_ENOMEM;
        memcpy(r->user_id, user_id, len);
        if (gl_map_put(&ms->restrictions, r->user_id, r) != GL_OK) {
            free(r);
            return GL_ENOMEM;
        }
    }
    if (is_timeout) {
        r->timeout_until_ms = expires_ms;
    } else {
        r->banned = true;
        r->ban_expires_ms = expires_ms;
    }
    return GL_OK;
}

static int
on_access(void *arg, const char *channel, const char *user_id)
{
    pd_modstate *ms = modstate_get(arg, channel);
    char *id;

    if (ms == NULL || (id = strdup(user_id)) == NULL) return GL_ENOMEM;
    if (gl_map_put(&ms->access, id, id) != GL_OK) {
        free(id);
        return GL_ENOMEM;
    }
    return GL_OK;
}

static int
on_role(void *arg, const char *channel, const char *user_id, const char *role)
{
    pd_modstate *ms = modstate_get(arg, channel);
    gl_standing st = strcmp(role, GL_CHANNEL_ROLE_BROADCASTER) == 0 ? GL_STANDING_BROADCASTER
                     : strcmp(role, GL_CHANNEL_ROLE_MODERATOR) == 0 ? GL_STANDING_MODERATOR
                                                                    : GL_STANDING_VIP;
    pd_role *r;

    if (ms == NULL) return GL_ENOMEM;
    if ((r = gl_map_get(&ms->roles, user_id)) == NULL) {
        size_t len = strlen(user_id) + 1;
        if ((r = calloc(1, sizeof(*r) + len)) == NULL) return GL_ENOMEM;
        memcpy(r->user_id, user_id, len);
        if (gl_map_put(&ms->roles, r->user_id, r) != GL_OK) {
            free(r);
            return GL_ENOMEM;
        }
    }
    if (st > r->standing) r->standing = st;
    return GL_OK;
}

static int
on_pin(void *arg, const gl_msg *m)
{
    pd_modstate *ms = modstate_get(arg, m->channel);
    if (ms == NULL) return GL_ENOMEM;
    free(ms->pinned);
    return (ms->pinned = gl_event_print_take(gl_event_message(m))) != NULL ? GL_OK : GL_ENOMEM;
}

static int
on_setting(void *arg, const char *channel, const gl_override *ov)
{
    pd_modstate *ms = modstate_get(arg, channel);
    if (ms == NULL) return GL_ENOMEM;
    gl_override_free(&ms->ov);
    ms->has_override = gl_override_copy(&ms->ov, ov) == GL_OK;
    return ms->has_override ? GL_OK : GL_ENOMEM;
}

/* Fill map m, a new one that nobody reads yet, from SQLite; channel NULL = every channel. On
 * error m may hold part of the state: the caller frees it and keeps what it had. */
static int
load(pd_server *srv, gl_map *m, const char *channel, gl_err *err)
{
    pd_state_fns fns = {on_setting, on_access, on_restriction, on_role, on_pin, m};
    int rv;
    if ((rv = pd_store_state(srv, channel, &fns, err)) != GL_OK) {
        if (rv == GL_ENOMEM) gl_err_set(err, GL_ENOMEM, "out of memory loading moderation state");
        return rv;
    }
    return GL_OK;
}

int
pd_modstate_load_all(pd_server *srv, gl_err *err)
{
    gl_map fresh = {0};
    int rv = load(srv, &fresh, NULL, err);

    if (rv != GL_OK) {
        map_free_all(&fresh);
        return rv;
    }
    map_free_all(&srv->modstates);
    srv->modstates = fresh;
    gl_log(GL_LOG_INFO, "modstate", "restored moderation state of %zu channels",
           srv->modstates.len);
    return GL_OK;
}

/* Build the channel's new state aside and swap it in only once it loaded completely: a failed
 * read (a locked or damaged database) must not drop the bans and access lists pushd enforces. */
int
pd_modstate_reload(pd_server *srv, const char *channel, gl_err *err)
{
    gl_map fresh = {0};
    pd_modstate *ms, *old;
    int rv = load(srv, &fresh, channel, err);

    if (rv != GL_OK) {
        map_free_all(&fresh);
        gl_log(GL_LOG_ERROR, "modstate", "reload of %s failed, keeping its current state: %s",
               channel, err->msg);
        return rv;
    }
    ms = gl_map_del(&fresh, channel);
    gl_map_free(&fresh);
    if (ms == NULL) { /* nothing stored for it any more */
        modstate_free(gl_map_del(&srv->modstates, channel));
        return GL_OK;
    }
    /* The map borrows its key from the value: take the old entry out before freeing it. */
    old = gl_map_del(&srv->modstates, channel);
    if ((rv = gl_map_put(&srv->modstates, ms->name, ms)) != GL_OK) {
        modstate_free(ms);
        if (old != NULL && gl_map_put(&srv->modstates, old->name, old) == GL_OK) old = NULL;
        modstate_free(old);
        return gl_err_set(err, rv, "out of memory reloading moderation state");
    }
    modstate_free(old);
    return GL_OK;
}

void
pd_modstate_free_all(pd_server *srv)
{
    map_free_all(&srv->modstates);
}

void
pd_policy(pd_server *srv, const char *channel, gl_policy *out)
{
    pd_modstate *ms = gl_map_get(&srv->modstates, channel);
    gl_policy_resolve(srv->cfg, channel, ms && ms->has_override ? &ms->ov : NULL, out);
}

void
pd_modstate_facts(pd_server *srv, const char *channel, const gl_user *u, int64_t now_ms,
                  gl_acl_facts *out)
{
    pd_modstate *ms = gl_map_get(&srv->modstates, channel);
    pd_restriction *r;

    memset(out, 0, sizeof(*out));
    if (ms == NULL || u == NULL) return;
    out->in_access_list = gl_map_get(&ms->access, u->id) != NULL;
    if ((r = gl_map_get(&ms->restrictions, u->id)) != NULL) {
        out->banned = r->banned && (r->ban_expires_ms == 0 || r->ban_expires_ms > now_ms);
        out->timeout_until_ms = r->timeout_until_ms;
    }
}

const char *
pd_modstate_pinned(pd_server *srv, const char *channel)
{
    pd_modstate *ms = gl_map_get(&srv->modstates, channel);
    return ms != NULL ? ms->pinned : NULL;
}

gl_standing
pd_modstate_standing(pd_server *srv, const char *channel, const gl_user *u)
{
    pd_modstate *ms;
    pd_role *r;

    if (u == NULL) return GL_STANDING_NONE;
    if (gl_acl_is_staff(u)) return GL_STANDING_MODERATOR;
    if ((ms = gl_map_get(&srv->modstates, channel)) == NULL ||
        (r = gl_map_get(&ms->roles, u->id)) == NULL)
        return GL_STANDING_NONE;
    return r->standing;
}

typedef struct recheck {
    pd_server *srv;
    const char *channel;
    gl_policy pol;
    int64_t now;
} recheck;

/* A pd_channel_verdict_fn: why c may no longer read the channel, or NULL. */
static const char *
lost_read_access(pd_conn *c, void *arg)
{
    recheck *rc = arg;
    gl_acl_facts f;
    gl_user full;
    const gl_user *u = pd_user_expand(c->user, &full);

    pd_modstate_facts(rc->srv, rc->channel, u, rc->now, &f);
    if (gl_acl_check_read(&rc->pol, u, &f, NULL) == GL_OK) return NULL;
    return f.banned ? "banned" : "access_revoked";
}

void
pd_recheck_channel(pd_server *srv, const char *channel)
{
    pd_channel *ch = pd_channel_find(srv, channel);
    recheck rc = {srv, channel, {0}, gl_time_now_ms()};

    if (ch == NULL) return;
    pd_policy(srv, channel, &rc.pol);
    pd_channel_kick_where(srv, ch, lost_read_access, &rc);
}
