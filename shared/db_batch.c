/* Group commit of chat messages (db.h, gl_db_store_batch). Both writers, pushd's for WebSocket
 * publishes and golive-api's for REST ones, store through here so that a batch means the same
 * rows, pruning and failure reporting whichever path a message took. */
#include "db.h"

#include <string.h>

static int
store_one(gl_db *db, gl_db_batch_item *it)
{
    bool store = true;
    int rv;

    it->skipped = false;
    if (it->before != NULL && (rv = it->before(db, it->before_arg, &store, &it->err)) != GL_OK)
        return rv;
    if (!store) {
        it->skipped = true;
        return GL_OK;
    }
    rv = gl_db_insert_message(db, it->m, &it->err);
    if (rv == GL_OK && it->after != NULL) rv = it->after(db, it->before_arg, it->m, &it->err);
    if (rv == GL_OK && it->audit != NULL) rv = gl_db_audit(db, it->audit, &it->err);
    return rv;
}

/* Was items[i]'s channel already pruned in this batch? Batches are small: a scan is fine. */
static bool
pruned_before(gl_db_batch_item **items, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(items[k]->m->channel, items[i]->m->channel) == 0) return true;
    return false;
}

static void
store_alone(gl_db *db, gl_db_batch_item *it)
{
    if ((it->rv = gl_db_begin(db, &it->err)) == GL_OK && (it->rv = store_one(db, it)) == GL_OK &&
        (it->rv = gl_db_prune(db, it->m->channel, it->keep, &it->err)) == GL_OK &&
        (it->rv = gl_db_commit(db, &it->err)) == GL_OK)
        return;
    gl_db_rollback(db);
}

void
gl_db_store_batch(gl_db *db, gl_db_batch_item **items, size_t n)
{
    bool ok = true;
    gl_err err;
    size_t i;
    int rv;

    if ((rv = gl_db_begin(db, &err)) != GL_OK) {
        for (i = 0; i < n; i++) {
            items[i]->rv = rv;
            items[i]->err = err;
        }
        return;
    }
    for (i = 0; ok && i < n; i++)
        ok = (items[i]->rv = store_one(db, items[i])) == GL_OK;
    for (i = 0; ok && i < n; i++)
        ok = pruned_before(items, i) ||
             gl_db_prune(db, items[i]->m->channel, items[i]->keep, &err) == GL_OK;
    if (ok && gl_db_commit(db, &err) == GL_OK) return;
    gl_db_rollback(db);
    for (i = 0; i < n; i++)
        store_alone(db, items[i]);
}
