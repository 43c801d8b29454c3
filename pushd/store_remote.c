/* The store's asking side (store_remote.h). Replies come from another node: every member is
 * checked before it reaches a callback. */
#include "store_remote.h"
#include "store_wire.h"
#include "shared/chan.h"
#include "shared/jwt.h"
#include "shared/wire.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct pd_remote {
    natsConnection *nc;
    _Atomic uint64_t sent, failed;
};

pd_remote *
pd_remote_new(natsConnection *nc)
{
    pd_remote *r = calloc(1, sizeof(*r));
    if (r != NULL) r->nc = nc;
    return r;
}

void
pd_remote_free(pd_remote *r)
{
    free(r);
}

void
pd_remote_counts(const pd_remote *r, uint64_t *sent, uint64_t *failed)
{
    *sent = atomic_load_explicit(&((pd_remote *)r)->sent, memory_order_relaxed);
    *failed = atomic_load_explicit(&((pd_remote *)r)->failed, memory_order_relaxed);
}

/* Send req (taken) and wait up to ms for the answer: on GL_OK *root (cJSON_Delete) holds it and
 * *data is its data object. */
static int
ask(pd_remote *r, cJSON *req, int64_t ms, cJSON **root, const cJSON **data, gl_err *err)
{
    char *text = req ? cJSON_PrintUnformatted(req) : NULL;
    natsMsg *reply = NULL;
    natsStatus s;
    int rv;

    cJSON_Delete(req);
    if (text == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    atomic_fetch_add_explicit(&r->sent, 1, memory_order_relaxed);
    /* While NATS is away, nats.c would hold the request until the timeout: the loop would stall
     * for it on every read (the 2 s audit included). Fail at once instead. */
    if (natsConnection_Status(r->nc) != NATS_CONN_STATUS_CONNECTED) {
        free(text);
        atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
        return gl_err_set(err, GL_EUNAVAIL, "NATS is not connected");
    }
    s = natsConnection_Request(&reply, r->nc, PD_STORE_SUBJECT, text, (int)strlen(text), ms);
    free(text);
    if (s != NATS_OK) {
        atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
        if (s == NATS_NO_RESPONDERS)
            return gl_err_set(err, GL_EUNAVAIL, "no node with the database answers on NATS");
        if (s == NATS_TIMEOUT)
            return gl_err_set(err, GL_EUNAVAIL, "the store over NATS did not answer within %lld ms",
                              (long long)ms);
        return gl_err_set(err, GL_EUNAVAIL, "the store over NATS: %s", natsStatus_GetText(s));
    }
    rv = gl_wire_parse_reply_raw(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply),
                                 SIZE_MAX, pd_store_wire_raw, GL_WIRE_DEPTH_MAX, root, data, err);
    natsMsg_Destroy(reply);
    if (rv == GL_OK && !cJSON_IsObject(*data)) {
        cJSON_Delete(*root);
        rv = gl_err_set(err, GL_EUNAVAIL, "the store over NATS sent an unreadable answer");
    }
    if (rv != GL_OK) atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
    return rv;
}

/* A request naming channel; NULL when out of memory. */
static cJSON *
request(const char *op, const char *channel)
{
    cJSON *req = pd_store_wire_request(op);
    if (req != NULL && channel != NULL &&
        cJSON_AddStringToObject(req, "channel", channel) == NULL) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

static int
unreadable(gl_err *err, const char *what)
{
    return gl_err_set(err, GL_EUNAVAIL, "the store over NATS sent an unreadable %s", what);
}

int
pd_remote_history(pd_remote *r, const char *channel, int mode, int64_t ref, int limit,
                  gl_db_msg_fn fn, void *arg, gl_err *err)
{
    /* BEFORE's window ends below ref; a continuation (SINCE the last one) must stop there. */
    int64_t upto = mode == GL_HISTORY_BEFORE ? ref : INT64_MAX;

    while (limit > 0) {
        cJSON *req = request(PD_STORE_OP_HISTORY, channel), *root;
        const cJSON *data, *msgs, *it;
        bool more;
        int rv = GL_OK, got = 0;

        if (req != NULL) {
            gl_json_add_int(req, "mode", mode);
            gl_json_add_int(req, "ref", ref);
            gl_json_add_int(req, "limit", limit);
        }
        if ((rv = ask(r, req, PD_REMOTE_READ_MS, &root, &data, err)) != GL_OK) return rv;
        msgs = cJSON_GetObjectItemCaseSensitive(data, "messages");
        more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "more"));
        if (!cJSON_IsArray(msgs)) rv = unreadable(err, "history");
        cJSON_ArrayForEach(it, (rv == GL_OK ? msgs : NULL))
        {
            gl_msg m;
            if (pd_store_wire_msg_parse(it, &m, err) != GL_OK || strcmp(m.channel, channel) != 0) {
                rv = unreadable(err, "message");
                break;
            }
            if (m.id >= upto) {
                more = false;
                break;
            }
            if ((rv = fn(arg, &m)) != 0) break;
            ref = m.id;
            got++;
        }
        cJSON_Delete(root);
        if (rv != GL_OK) return rv;
        if (!more || got == 0) break;
        mode = GL_HISTORY_SINCE;
        limit -= got;
    }
    return GL_OK;
}

int
pd_remote_pruned_through(pd_remote *r, const char *channel, int64_t *id, gl_err *err)
{
    cJSON *root;
    const cJSON *data;
    int rv;

    if ((rv = ask(r, request(PD_STORE_OP_PRUNED, channel), PD_REMOTE_READ_MS, &root, &data, err)) !=
        GL_OK)
        return rv;
    if (pd_store_wire_int(data, "id", 0, INT64_MAX, id, err) != GL_OK)
        rv = unreadable(err, "answer");
    cJSON_Delete(root);
    return rv;
}

int
pd_remote_last_ids(pd_remote *r, const char *const *channels, size_t n, int64_t *ids, gl_err *err)
{
    for (size_t at = 0; at < n; at += PD_STORE_LAST_IDS_MAX) {
        size_t k = n - at < PD_STORE_LAST_IDS_MAX ? n - at : PD_STORE_LAST_IDS_MAX, i = 0;
        cJSON *req = request(PD_STORE_OP_LAST_IDS, NULL), *names, *root;
        const cJSON *data, *got, *it;
        int rv;

        if (req != NULL && (names = cJSON_AddArrayToObject(req, "channels")) != NULL)
            for (size_t j = 0; j < k; j++)
                cJSON_AddItemToArray(names, cJSON_CreateString(channels[at + j]));
        if ((rv = ask(r, req, PD_REMOTE_READ_MS, &root, &data, err)) != GL_OK) return rv;
        got = cJSON_GetObjectItemCaseSensitive(data, "ids");
        if (!cJSON_IsArray(got) || (size_t)cJSON_GetArraySize(got) != k)
            rv = unreadable(err, "ids");
        cJSON_ArrayForEach(it, (rv == GL_OK ? got : NULL))
        {
            if (pd_store_wire_int_value(it, "id", 0, INT64_MAX, &ids[at + i++], err) != GL_OK) {
                rv = unreadable(err, "id");
                break;
            }
        }
        cJSON_Delete(root);
        if (rv != GL_OK) return rv;
    }
    return GL_OK;
}

/* ---- state */

/* Element i of row a, a string shorter than cap (a valid channel name when channel); or NULL. */
static const char *
row_string(const cJSON *a, int i, size_t cap, bool channel)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap) return NULL;
    if (channel && gl_chan_validate(v->valuestring, NULL) != GL_OK) return NULL;
    return v->valuestring;
}

/* One row of state list `which`: fn's arguments read out of it, then fn called; non-zero
 * stops. */
static int
state_row(int which, const cJSON *a, const pd_state_fns *fns, gl_err *err)
{
    const char *ch, *user;
    int64_t expires;

    if (which == PD_STATE_SETTINGS) {
        gl_override ov = GL_OVERRIDE_INIT;
        int rv;
        if ((ch = pd_store_wire_channel(a, "channel", NULL)) == NULL ||
            pd_store_wire_override_parse(cJSON_GetObjectItemCaseSensitive(a, "override"), &ov,
                                         err) != GL_OK) {
            gl_override_free(&ov);
            return unreadable(err, "setting");
        }
        rv = fns->setting(fns->arg, ch, &ov);
        gl_override_free(&ov);
        return rv;
    }
    if (which == PD_STATE_PINS) {
        gl_msg m;
        if (pd_store_wire_msg_parse(a, &m, err) != GL_OK) return unreadable(err, "pin");
        return fns->pin(fns->arg, &m);
    }
    ch = row_string(a, 0, GL_CHAN_MAX + 1, true);
    user = row_string(a, 1, GL_USER_ID_MAX, false);
    if (ch == NULL || user == NULL) return unreadable(err, pd_store_wire_state_lists[which]);
    if (which == PD_STATE_ACCESS) return fns->access(fns->arg, ch, user);
    if (which == PD_STATE_ROLES) {
        const char *role = row_string(a, 2, GL_NAME_MAX, false);
        return role ? fns->role(fns->arg, ch, user, role) : unreadable(err, "role");
    }
    if (!cJSON_IsBool(cJSON_GetArrayItem(a, 2)) ||
        pd_store_wire_int_value(cJSON_GetArrayItem(a, 3), "expires_ms", 0, INT64_MAX, &expires,
                                err) != GL_OK)
        return unreadable(err, "restriction");
    return fns->restriction(fns->arg, ch, user, cJSON_IsTrue(cJSON_GetArrayItem(a, 2)), expires);
}

int
pd_remote_state(pd_remote *r, const char *channel, const pd_state_fns *fns, gl_err *err)
{
    cJSON *root;
    const cJSON *data;
    int rv;

    if ((rv = ask(r, request(PD_STORE_OP_STATE, channel), PD_REMOTE_READ_MS, &root, &data, err)) !=
        GL_OK)
        return rv;
    for (int i = 0; rv == GL_OK && i < PD_STATE_NLISTS; i++) { /* settings first */
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, pd_store_wire_state_lists[i]),
                    *it;
        if (!cJSON_IsArray(list)) {
            rv = unreadable(err, "state");
            break;
        }
        cJSON_ArrayForEach(it, list)
        {
            if ((rv = state_row(i, it, fns, err)) != GL_OK) break;
        }
    }
    cJSON_Delete(root);
    return rv;
}

/* ---- the writer's batches */

static void
fail_items(gl_db_batch_item **items, size_t n, const gl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        items[i]->rv = err->code;
        items[i]->err = *err;
    }
}

static cJSON *
store_item(const gl_db_batch_item *it)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL) return NULL;
    cJSON_AddItemToObject(o, "msg", pd_store_wire_msg(it->m));
    gl_json_add_int(o, "keep", it->keep);
    if (it->before == gl_db_held_store)
        cJSON_AddStringToObject(o, "held_term", ((const gl_held *)it->before_arg)->term);
    return o;
}

/* The answer for one item. */
static void
store_result(gl_db_batch_item *it, const cJSON *res)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(res, "error");
    int64_t held;

    it->rv = GL_OK;
    if (e != NULL) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        gl_err_set(&it->err, GL_EUNAVAIL, "%s",
                   cJSON_IsString(msg) ? msg->valuestring : "the store refused the message");
        it->rv = GL_EUNAVAIL;
    } else if (cJSON_GetObjectItemCaseSensitive(res, "held_id") != NULL) {
        if (it->before != gl_db_held_store ||
            pd_store_wire_int(res, "held_id", 1, INT64_MAX, &held, &it->err) != GL_OK) {
            it->rv = unreadable(&it->err, "held id");
            return;
        }
        ((gl_held *)it->before_arg)->id = held;
        it->skipped = true;
    } else if (pd_store_wire_int(res, "id", 1, INT64_MAX, &it->m->id, &it->err) != GL_OK ||
               pd_store_wire_int(res, "prev_id", 0, it->m->id - 1, &it->m->prev_id, &it->err) !=
                   GL_OK) {
        it->rv = unreadable(&it->err, "message id");
    }
}

/* One request for items[0..n). */
static void
store_chunk(pd_remote *r, gl_db_batch_item **items, size_t n)
{
    cJSON *req = pd_store_wire_request(PD_STORE_OP_STORE), *arr, *root;
    const cJSON *data, *results;
    gl_err err;
    size_t i = 0;

    if (req != NULL && (arr = cJSON_AddArrayToObject(req, "items")) != NULL)
        for (size_t j = 0; j < n; j++)
            cJSON_AddItemToArray(arr, store_item(items[j]));
    if (ask(r, req, PD_REMOTE_STORE_MS, &root, &data, &err) != GL_OK) {
        fail_items(items, n, &err);
        return;
    }
    results = cJSON_GetObjectItemCaseSensitive(data, "results");
    if (!cJSON_IsArray(results) || (size_t)cJSON_GetArraySize(results) != n) {
        unreadable(&err, "store answer");
        fail_items(items, n, &err);
    } else {
        const cJSON *it;
        cJSON_ArrayForEach(it, results) store_result(items[i++], it);
    }
    cJSON_Delete(root);
}

void
pd_remote_store_batch(pd_remote *r, gl_db_batch_item **items, size_t n)
{
    gl_db_batch_item *chunk[PD_STORE_ITEMS_MAX];
    size_t k = 0, bytes = 0;

    /* In order, in requests of under PD_STORE_BUDGET bytes of data each. */
    for (size_t i = 0; i < n; i++) {
        gl_db_batch_item *it = items[i];
        size_t len = strlen(it->m->data) + 512; /* the members around it */

        it->skipped = false;
        if (it->audit != NULL || it->after != NULL ||
            (it->before != NULL && it->before != gl_db_held_store)) {
            it->rv = gl_err_set(&it->err, GL_EINTERNAL, "a remote store takes no such hook");
            continue;
        }
        if (k > 0 && (bytes + len > PD_STORE_BUDGET || k == PD_STORE_ITEMS_MAX)) {
            store_chunk(r, chunk, k);
            k = bytes = 0;
        }
        chunk[k++] = it;
        bytes += len;
    }
    if (k > 0) store_chunk(r, chunk, k);
}
