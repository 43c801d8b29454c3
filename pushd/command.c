/* The WebSocket command set. Each handler validates its fields, asks shared/acl for the
 * decision, then acts through channel/writer/rpc. Publishing is the one asynchronous path:
 * the reply and the fan-out wait for the history writer to store the row. */
#include "command.h"
#include "channel.h"
#include "conn.h"
#include "fanout.h"
#include "limits.h"
#include "modstate.h"
#include "recent.h"
#include "rpc.h"
#include "store.h"
#include "writer.h"
#include "shared/chan.h"
#include "shared/event.h"
#include "shared/history_params.h"
#include "shared/json.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <stdlib.h>
#include <string.h>

/* A WS publish on its way through the history writer: the writer's part first. */
typedef struct publish_job {
    pd_wjob w;
    pd_conn *conn; /* publisher (a reference is held), for the reply */
    cJSON *cmd_id; /* the command's id, to echo; may be NULL */
    gl_msg m;      /* strings point into the fields below */
    char *data;
    char channel[GL_CHAN_MAX + 1];
    char user_id[GL_USER_ID_MAX];
    char username[GL_USERNAME_MAX];
    gl_held held; /* a message held for review: stored there, not in messages */
    gl_term held_term;
} publish_job;

#define CMD_ID_MAX 64

typedef struct cmd {
    pd_server *srv;
    pd_conn *c;
    cJSON *root;
    const cJSON *id;     /* may be NULL; a Raw node, echoed as the client wrote it */
    const char *channel; /* the command's "channel" when a string of sane length, for errors */
    const char *type;
    bool rate_refused; /* a rate limit refused it (limits.c counts the run) */
} cmd;

/* What a command keeps as written: the published data (stored and delivered byte for byte) and
 * the id (echoed in the reply). */
static const char *const raw_members[] = {"data", "id", NULL};

static void
fail(cmd *k, int code, const char *msg)
{
    pd_conn_send_channel_error(k->c, k->id, k->channel, code, msg);
}

static void
fail_err(cmd *k, const gl_err *err)
{
    fail(k, err->code, err->msg);
}

/* A required, valid channel name, or NULL after an error reply. */
static const char *
get_channel(cmd *k)
{
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(k->root, "channel");
    gl_err err;

    if (ch == NULL) {
        fail(k, GL_EINVAL, "channel is required");
        return NULL;
    }
    if (!cJSON_IsString(ch)) {
        fail(k, GL_EINVAL, "channel must be a string");
        return NULL;
    }
    if (gl_chan_validate(ch->valuestring, &err) != GL_OK) {
        fail_err(k, &err);
        return NULL;
    }
    return ch->valuestring;
}

/* Refused by a rate limit: rate_limited with retry_after_ms. */
static void
refuse_rate(cmd *k, const char *msg, uint32_t retry_after_ms)
{
    k->rate_refused = true;
    pd_conn_send_json(
        k->c, gl_event_print_take(gl_event_rate_limited(k->id, k->channel, msg, retry_after_ms)));
}

/* The connection's command limit, before anything else is done for the command. */
static bool
admit(cmd *k)
{
    uint32_t retry;
    if (pd_limits_command(k->srv, k->c, &retry)) return true;
    refuse_rate(k, "too many commands; slow down", retry);
    return false;
}

/* Read access to channel for this connection: GL_OK, or an error reply was sent. */
static int
check_read(cmd *k, const char *channel, gl_policy *pol)
{
    gl_acl_facts facts;
    gl_user full;
    const gl_user *u = pd_user_expand(k->c->user, &full);
    gl_err err;

    pd_policy(k->srv, channel, pol);
    pd_modstate_facts(k->srv, channel, u, gl_time_now_ms(), &facts);
    if (gl_acl_check_read(pol, u, &facts, &err) != GL_OK) {
        fail_err(k, &err);
        return err.code;
    }
    return GL_OK;
}

static cJSON *
channel_data(const char *channel)
{
    cJSON *d = cJSON_CreateObject();
    if (d != NULL && cJSON_AddStringToObject(d, "channel", channel) == NULL) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

/* Replayed messages are collected first and sent after the subscribe reply. */
typedef struct replay {
    int64_t since, max_id, min_id;
    int rows, limit; /* read from history (replayed or not), at most limit */
    cJSON *msgs;     /* array */
} replay;

static int
collect_replay(void *arg, const gl_msg *m)
{
    replay *r = arg;
    cJSON *ev;
    if (m->id > r->max_id) r->max_id = m->id;
    if (r->rows++ == 0 || m->id < r->min_id) r->min_id = m->id;
    if (m->id <= r->since) return 0;
    if ((ev = gl_event_message(m)) == NULL) return GL_ENOMEM;
    cJSON_AddItemToArray(r->msgs, ev);
    return 0;
}

/* Did the replay's window of max_history rows leave out messages after since? Only when it was
 * full and all of it came after since; then the oldest message after since says. */
static int
first_id(void *arg, const gl_msg *m)
{
    *(int64_t *)arg = m->id;
    return 0;
}

static bool
replay_cut(cmd *k, const char *channel, const replay *r)
{
    int64_t first = 0;
    if (r->rows < r->limit || r->min_id <= r->since) return false;
    return pd_store_history(k->srv, channel, GL_HISTORY_SINCE, r->since, 1, first_id, &first,
                            NULL) != GL_OK ||
           (first != 0 && first < r->min_id);
}

/* The command's member name as a history parameter (shared/history_params: REST's rules). */
static gl_history_arg
history_arg(cmd *k, const char *name)
{
    return gl_history_arg_json(cJSON_GetObjectItemCaseSensitive(k->root, name));
}

static void
cmd_subscribe(cmd *k)
{
    const char *channel = get_channel(k);
    gl_policy pol;
    gl_err err;
    gl_history_arg since_arg = history_arg(k, "since");
    int64_t since = since_arg.value, pruned = 0;
    bool has_since = since_arg.present;
    replay r = {0, 0, 0, 0, 0, NULL};
    cJSON *data, *ev;

    if (channel == NULL) return;
    if (gl_history_since(since_arg, &err) != GL_OK) {
        fail_err(k, &err);
        return;
    }
    if (check_read(k, channel, &pol) != GL_OK) return;
    if (pd_channel_subscribe(k->srv, k->c, channel, &pol, since, &err) != GL_OK) {
        fail_err(k, &err);
        return;
    }
    if (has_since) {
        /* Nothing can be fanned out between the subscribe above and this read (one thread),
         * so rows up to max_id reach the client from here and later ones live: the new slot's
         * min_id makes the channel skip what the replay already covers. */
        pd_conn_sub *sub = &k->c->subs[k->c->nsubs - 1];
        r.since = since;
        r.max_id = since;
        /* A replay bigger than the queue would cut the client as a slow consumer, and it
         * would reconnect into the same replay: beyond PD_REPLAY_MAX it says complete:false. */
        r.limit = pol.max_history < PD_REPLAY_MAX ? pol.max_history : PD_REPLAY_MAX;
        if ((r.msgs = cJSON_CreateArray()) == NULL ||
            pd_store_history(k->srv, channel, GL_HISTORY_LATEST, 0, r.limit, collect_replay, &r,
                             &err) != GL_OK ||
            pd_store_pruned_through(k->srv, channel, &pruned, &err) != GL_OK) {
            cJSON_Delete(r.msgs);
            pd_channel_unsubscribe(k->srv, k->c, channel, NULL);
            fail(k, GL_EUNAVAIL, "history is unavailable; subscribe again");
            return;
        }
        pd_channel_skip_replayed(sub, r.max_id);
    }
    data = channel_data(channel);
    if (data != NULL)
        cJSON_AddNumberToObject(data, "recovered", r.msgs ? cJSON_GetArraySize(r.msgs) : 0);
    if (data != NULL && has_since)
        cJSON_AddBoolToObject(data, "complete", pruned <= since && !replay_cut(k, channel, &r));
    if (data != NULL) cJSON_AddItemToObject(data, "chat_modes", gl_modes_json(&pol.modes));
    if (data != NULL && pd_modstate_pinned(k->srv, channel) != NULL)
        cJSON_AddRawToObject(data, "pinned", pd_modstate_pinned(k->srv, channel));
    pd_conn_send_reply(k->c, "subscribe", k->id, data);
    if (r.msgs != NULL) {
        cJSON_ArrayForEach(ev, r.msgs) pd_conn_send_json(k->c, cJSON_PrintUnformatted(ev));
        cJSON_Delete(r.msgs);
    }
}

static void
cmd_unsubscribe(cmd *k)
{
    const char *channel = get_channel(k);
    gl_err err;

    if (channel == NULL) return;
    if (pd_channel_unsubscribe(k->srv, k->c, channel, &err) != GL_OK) {
        fail_err(k, &err);
        return;
    }
    pd_conn_send_reply(k->c, "unsubscribe", k->id, channel_data(channel));
}

/* The channel's chat modes (shared/chatmodes) for u's message data: GL_OK (v says whether it
 * is held for review; the message is noted in pd_recent), or a refusal was sent. A slow-mode
 * refusal is a rate_limited error with retry_after_ms, like the rate limits', but does not count
 * towards the flood close: a client that waits as told never sees one twice. */
static int
check_modes(cmd *k, const char *channel, const gl_policy *pol, const gl_user *u,
            const gl_acl_facts *f, const char *data, int64_t now, gl_mode_verdict *v)
{
    gl_standing st;
    gl_err err;
    int rv;

    *v = (gl_mode_verdict){false, 0, NULL, GL_MODE_NONE};
    if (!gl_modes_active(&pol->modes, pol->n_global_terms)) {
        /* Only the time: slow mode, turned on later, counts from the user's last message. */
        pd_recent_note(k->srv, channel, u->id, NULL, now, 0);
        return GL_OK;
    }
    st = pd_modstate_standing(k->srv, channel, u);
    rv = gl_modes_check(&pol->modes, pol->global_terms, pol->n_global_terms, st,
                        gl_acl_is_member(pol, u, f), data, pd_recent_get(k->srv, channel, u->id),
                        now, v, &err);
    k->srv->limit_counts.modes_refused[v->refused_by] += rv != GL_OK;
    k->srv->limit_counts.held += v->hold;
    if (rv == GL_ERATE)
        pd_conn_send_json(k->c, gl_event_print_take(gl_event_rate_limited(
                                    k->id, k->channel, err.msg, v->retry_after_ms)));
    else if (rv != GL_OK)
        fail_err(k, &err);
    else
        pd_recent_note(k->srv, channel, u->id, pol->modes.unique_chat > 0 ? data : NULL, now,
                       (int64_t)pol->modes.slow_mode * 1000);
    return rv;
}

static void
cmd_publish(cmd *k)
{
    const char *channel = get_channel(k);
    const char *data = gl_json_raw(k->root, "data");
    gl_user full;
    const gl_user *u = pd_user_expand(k->c->user, &full);
    gl_policy pol;
    gl_acl_facts facts;
    gl_mode_verdict verdict;
    gl_err err;
    publish_job *job;
    uint32_t retry;
    int64_t now = gl_time_now_ms();

    if (channel == NULL) return;
    if (!gl_json_raw_is_object(data)) {
        fail(k, GL_EINVAL, data ? "data must be a JSON object" : "data is required");
        return;
    }
    pd_policy(k->srv, channel, &pol);
    pd_modstate_facts(k->srv, channel, u, now, &facts);
    if (gl_acl_check_publish(&pol, u, &facts, now, &err) != GL_OK) {
        fail_err(k, &err);
        return;
    }
    if (!pd_limits_publish(k->srv, k->c, pol.ns, &retry)) {
        refuse_rate(k, "too many messages; slow down", retry);
        return;
    }
    if (check_modes(k, channel, &pol, u, &facts, data, now, &verdict) != GL_OK) return;
    if ((job = calloc(1, sizeof(*job))) == NULL || (job->data = strdup(data)) == NULL ||
        (k->id != NULL && (job->cmd_id = cJSON_Duplicate(k->id, 1)) == NULL)) {
        if (job) free(job->data);
        free(job);
        fail(k, GL_ENOMEM, "out of memory");
        return;
    }
    snprintf(job->channel, sizeof(job->channel), "%s", channel);
    snprintf(job->user_id, sizeof(job->user_id), "%s", u->id);
    snprintf(job->username, sizeof(job->username), "%s", u->username);
    job->m = (gl_msg){0, job->channel, job->user_id, job->username, job->data, "", 0};
    gl_time_format_iso(now, job->m.created_at);
    job->w.st = (gl_db_batch_item){.m = &job->m, .keep = pol.max_history};
    if (verdict.hold) {
        snprintf(job->held_term, sizeof(job->held_term), "%s", verdict.term);
        job->held = (gl_held){&job->m, job->held_term, 0};
        job->w.st.before = gl_db_held_store;
        job->w.st.before_arg = &job->held;
    }
    job->conn = k->c;
    pd_conn_ref(k->c);
    pd_writer_submit(k->srv->writer, &job->w);
}

void
pd_command_discard_job(pd_wjob *w)
{
    publish_job *job = (publish_job *)w;

    if (job == NULL) return;
    pd_conn_unref(job->conn);
    cJSON_Delete(job->cmd_id);
    free(job->data);
    free(job);
}

/* Tell the channel's moderators that job's message waits for review. */
static void
notify_held(pd_server *srv, const publish_job *job)
{
    gl_held_row row = {job->held.id,   job->user_id,      job->username, job->data,
                       job->held_term, job->m.created_at, "pending"};
    pd_frame *f =
        pd_frame_from_json(gl_event_print_take(gl_event_message_held(job->channel, &row)));

    if (f != NULL) srv->fanout->deliver_moderators(srv->fanout, job->channel, f);
    pd_frame_unref(f);
}

void
pd_command_deliver_stored(pd_server *srv)
{
    pd_wjob *w = pd_writer_take_done(srv->writer);

    while (w != NULL) {
        pd_wjob *next = w->next;
        publish_job *job = (publish_job *)w;
        pd_conn *c = job->conn;

        if (w->st.rv == GL_OK && w->st.skipped) { /* held: its author and the moderators hear */
            cJSON *d = channel_data(job->channel);
            notify_held(srv, job);
            if (d != NULL) cJSON_AddBoolToObject(d, "held", true);
            if (d != NULL) gl_json_add_int(d, "held_id", job->held.id);
            if (c->wsi != NULL)
                pd_conn_send_reply(c, "publish", job->cmd_id, d);
            else
                cJSON_Delete(d);
        } else if (w->st.rv == GL_OK) {
            pd_frame *f = pd_frame_from_json(gl_event_print_take(gl_event_message(&job->m)));
            if (f != NULL)
                srv->fanout->deliver(srv->fanout, job->channel, f, job->m.id, job->m.prev_id);
            srv->counters.ws_published++;
            pd_frame_unref(f);
            if (c->wsi != NULL) {
                cJSON *d = channel_data(job->channel);
                if (d != NULL) gl_json_add_int(d, "message_id", job->m.id);
                pd_conn_send_reply(c, "publish", job->cmd_id, d);
            }
        } else if (c->wsi != NULL) {
            pd_conn_send_error(c, job->cmd_id, GL_EUNAVAIL,
                               "the message could not be stored; it was not delivered");
        }
        pd_command_discard_job(w);
        w = next;
    }
}

/* A presence command the cluster's nodes answer (srv->cluster_presence). */
typedef struct presence_wait {
    pd_conn *c; /* referenced */
    cJSON *id;  /* the command's, copied */
} presence_wait;

static void
presence_done(void *arg, cJSON *data)
{
    presence_wait *w = arg;

    if (w->c->wsi == NULL) /* gone meanwhile */
        cJSON_Delete(data);
    else if (data == NULL)
        pd_conn_send_error(w->c, w->id, GL_ENOMEM, "out of memory");
    else
        pd_conn_send_reply(w->c, "presence", w->id, data);
    pd_conn_unref(w->c);
    cJSON_Delete(w->id);
    free(w);
}

static void
cmd_presence(cmd *k)
{
    const char *channel = get_channel(k);
    presence_wait *w;
    gl_policy pol;

    if (channel == NULL || check_read(k, channel, &pol) != GL_OK) return;
    if (k->srv->cluster_presence != NULL && (w = calloc(1, sizeof(*w))) != NULL) {
        w->c = k->c;
        pd_conn_ref(k->c);
        if ((k->id == NULL || (w->id = cJSON_Duplicate(k->id, true)) != NULL) &&
            k->srv->cluster_presence(k->srv, channel, presence_done, w))
            return;
        pd_conn_unref(k->c);
        cJSON_Delete(w->id);
        free(w);
    }
    pd_conn_send_reply(k->c, "presence", k->id,
                       pd_channel_presence_json(channel, pd_channel_find(k->srv, channel)));
}

static void
cmd_history(cmd *k)
{
    const char *channel = get_channel(k);
    gl_policy pol;
    gl_err err;
    gl_history_query q;
    cJSON *data, *msgs;

    if (channel == NULL || check_read(k, channel, &pol) != GL_OK) return;
    if (gl_history_params(history_arg(k, "limit"), history_arg(k, "since"),
                          history_arg(k, "before"), pol.max_history, &q, &err) != GL_OK) {
        fail_err(k, &err);
        return;
    }
    if ((data = channel_data(channel)) == NULL ||
        (msgs = cJSON_AddArrayToObject(data, "messages")) == NULL) {
        cJSON_Delete(data);
        fail(k, GL_ENOMEM, "out of memory");
        return;
    }
    if (pd_store_history(k->srv, channel, q.mode, q.ref, q.limit, gl_event_append_message, msgs,
                         &err) != GL_OK) {
        cJSON_Delete(data);
        fail(k, GL_EUNAVAIL, "history is unavailable right now");
        return;
    }
    pd_conn_send_reply(k->c, "history", k->id, data);
}

static void
rpc_call_method(cmd *k, const cJSON *data)
{
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(data, "method");
    const gl_rpc_proxy *proxy;
    cJSON *reply;
    gl_err err;

    if (!cJSON_IsObject(data) || !cJSON_IsString(method)) {
        fail(k, GL_EINVAL, "rpc needs data.method (a string)");
        return;
    }
    if (strcmp(method->valuestring, "stats") == 0) {
        reply = cJSON_CreateObject();
        if (reply != NULL) {
            cJSON_AddStringToObject(reply, "method", "stats");
            cJSON_AddItemToObject(reply, "result", pd_rpc_stats(k->srv));
        }
        pd_conn_send_reply(k->c, "rpc", k->id, reply);
        return;
    }
    if ((proxy = gl_config_rpc_proxy(k->srv->cfg, method->valuestring)) == NULL) {
        fail(k, GL_ENOTFOUND, "no such rpc method");
        return;
    }
    if (k->c->user == NULL) {
        fail(k, GL_EAUTH, "this rpc method needs an authenticated user");
        return;
    }
    if (pd_rpc_proxy_call(k->srv, k->c, k->id, proxy,
                          cJSON_GetObjectItemCaseSensitive(data, "params"), &err) != GL_OK)
        fail_err(k, &err);
}

/* rpc's data, parsed now that it is known to be an object: the method by name, the params
 * kept as written for the backend. */
static const char *const rpc_raw_members[] = {"params", NULL};

static void
cmd_rpc(cmd *k)
{
    const char *raw = gl_json_raw(k->root, "data");
    cJSON *data = NULL;
    gl_err err;

    if (gl_json_raw_is_object(raw) &&
        (data = gl_json_parse(raw, strlen(raw), rpc_raw_members, &err)) == NULL) {
        fail_err(k, &err);
        return;
    }
    rpc_call_method(k, data);
    cJSON_Delete(data);
}

static cJSON *
user_json(const pd_user *u)
{
    cJSON *o;
    if (u == NULL) return cJSON_CreateNull();
    o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddStringToObject(o, "id", u->id);
        cJSON_AddStringToObject(o, "username", pd_user_name(u));
        cJSON_AddStringToObject(o, "role", pd_user_role(u));
    }
    return o;
}

static int
authenticate(pd_server *srv, pd_conn *c, const cJSON *id, const char *token)
{
    gl_user u;
    gl_err err;

    if (gl_jwt_verify(srv->secret, token, (int64_t)time(NULL), &u, &err) != GL_OK) {
        gl_log(GL_LOG_INFO, "auth", "refused a token: %s", err.msg);
        pd_conn_send_error(c, id, GL_EAUTH, err.msg);
        pd_conn_close_after_flush(c, PD_CLOSE_AUTH, "unauthorized");
        return GL_EAUTH;
    }
    if ((c->user = pd_user_new(&u)) == NULL) {
        pd_conn_send_error(c, id, GL_ENOMEM, "out of memory");
        return GL_ENOMEM;
    }
    return GL_OK;
}

void
pd_command_authenticate(pd_server *srv, pd_conn *c, const char *token)
{
    (void)authenticate(srv, c, NULL, token);
}

static void
cmd_connect(cmd *k)
{
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(k->root, "token");
    cJSON *data;

    if (token != NULL && !cJSON_IsString(token)) {
        fail(k, GL_EINVAL, "token must be a string");
        return;
    }
    if (token != NULL) {
        if (k->c->user != NULL) {
            fail(k, GL_ECONFLICT, "this connection is already authenticated");
            return;
        }
        if (k->c->nsubs > 0) {
            fail(k, GL_ECONFLICT, "connect before subscribing");
            return;
        }
        if (authenticate(k->srv, k->c, k->id, token->valuestring) != GL_OK) return;
    }
    data = cJSON_CreateObject();
    if (data != NULL) cJSON_AddItemToObject(data, "user", user_json(k->c->user));
    pd_conn_send_reply(k->c, "connect", k->id, data);
}

static const struct {
    const char *name;
    void (*fn)(cmd *k);
} command_table[] = {
    {"subscribe", cmd_subscribe}, {"unsubscribe", cmd_unsubscribe}, {"publish", cmd_publish},
    {"presence", cmd_presence},   {"history", cmd_history},         {"rpc", cmd_rpc},
    {"connect", cmd_connect},
};

/* id when it is one a reply may echo: (raw) a number or a string, at most 64 bytes between the
 * quotes as written; else NULL. */
static const cJSON *
command_id(const cJSON *id)
{
    char first;
    if (!cJSON_IsRaw(id)) return NULL;
    first = id->valuestring[0];
    if (strlen(id->valuestring) > CMD_ID_MAX + 2 ||
        !(first == '"' || first == '-' || (first >= '0' && first <= '9')))
        return NULL;
    return id;
}

void
pd_command_handle(pd_server *srv, pd_conn *c, const char *buf, size_t len)
{
    cmd k = {srv, c, NULL, NULL, NULL, NULL, false};
    const cJSON *id, *type, *channel;
    gl_err err;

    k.root = gl_json_parse(buf, len, raw_members, &err);
    if (k.root == NULL) {
        /* Refused for a NUL or a repeated key, it still parses leniently: echo its id. */
        cJSON *salvage =
            err.code == GL_EINVAL ? gl_json_parse_lenient(buf, len, raw_members) : NULL;
        k.id = command_id(cJSON_GetObjectItemCaseSensitive(salvage, "id"));
        if (admit(&k)) fail_err(&k, &err);
        pd_limits_after(srv, c, k.rate_refused);
        cJSON_Delete(salvage);
        return;
    }
    if (!cJSON_IsObject(k.root)) {
        if (admit(&k)) fail(&k, GL_EINVAL, "message must be a JSON object");
        goto out;
    }
    channel = cJSON_GetObjectItemCaseSensitive(k.root, "channel");
    if (cJSON_IsString(channel) && strlen(channel->valuestring) <= GL_CHAN_MAX)
        k.channel = channel->valuestring;
    id = cJSON_GetObjectItemCaseSensitive(k.root, "id");
    if (id != NULL && (k.id = command_id(id)) == NULL) {
        if (admit(&k)) fail(&k, GL_EINVAL, "id must be a number or a string of at most 64 bytes");
        goto out;
    }
    if (!admit(&k)) goto out;
    type = cJSON_GetObjectItemCaseSensitive(k.root, "type");
    if (!cJSON_IsString(type)) {
        fail(&k, GL_EINVAL, type ? "type must be a string" : "type is required");
        goto out;
    }
    k.type = type->valuestring;
    for (size_t i = 0; i < sizeof(command_table) / sizeof(command_table[0]); i++)
        if (strcmp(command_table[i].name, k.type) == 0) {
            command_table[i].fn(&k);
            goto out;
        }
    fail(&k, GL_EINVAL, "unknown command type");
out:
    pd_limits_after(srv, c, k.rate_refused);
    cJSON_Delete(k.root);
}
