/* Messages held for review (db.h "messages held for review"): a blocked term matched in a
 * channel whose blocked_terms_action is hold. Statements live in db.c's table. */
#include "db_internal.h"

#include <string.h>

int
gl_db_held_store(gl_db *db, void *held, bool *store, gl_err *err)
{
    gl_held *h = held;
    sqlite3_stmt *s = gl_db__stmt(db, ST_HELD_INSERT, err);
    int rv;

    *store = false;
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, h->m->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, h->m->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, h->m->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, h->m->data, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, h->term, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, h->m->created_at, -1, SQLITE_STATIC);
    if ((rv = gl_db__exec(db, s, err, "hold a message")) == GL_OK)
        h->id = sqlite3_last_insert_rowid(db->h);
    return rv;
}

static const char *
text(sqlite3_stmt *s, int col)
{
    return (const char *)sqlite3_column_text(s, col);
}

/* Run s (bound), each row to fn; *rows counts them. */
static int
each_held(gl_db *db, sqlite3_stmt *s, gl_db_held_fn fn, void *arg, int *rows, gl_err *err)
{
    int rc, rv = GL_OK;

    *rows = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gl_held_row row = {sqlite3_column_int64(s, 0),
                           text(s, 1),
                           text(s, 2),
                           text(s, 3),
                           text(s, 4),
                           text(s, 5),
                           text(s, 6)};
        (*rows)++;
        if ((rv = fn(arg, &row)) != 0) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "read held messages");
    gl_db__done(s);
    return rv;
}

int
gl_db_held_pending(gl_db *db, const char *channel, int limit, gl_db_held_fn fn, void *arg,
                   gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_HELD_PENDING, err);
    int rows;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    return each_held(db, s, fn, arg, &rows, err);
}

int
gl_db_held_get(gl_db *db, const char *channel, int64_t id, gl_db_held_fn fn, void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_HELD_GET, err);
    int rows, rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, id);
    if ((rv = each_held(db, s, fn, arg, &rows, err)) != GL_OK) return rv;
    if (rows == 0)
        return gl_err_set(err, GL_ENOTFOUND, "no held message %lld in %s", (long long)id, channel);
    return GL_OK;
}

int
gl_db_held_decide(gl_db *db, void *decision, bool *store, gl_err *err)
{
    gl_held_decision *d = decision;
    sqlite3_stmt *s = gl_db__stmt(db, ST_HELD_DECIDE, err);
    int rv;

    *store = false;
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, d->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, d->id);
    sqlite3_bind_text(s, 3, d->approve ? "approved" : "denied", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, d->by, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, d->at, -1, SQLITE_STATIC);
    if ((rv = gl_db__exec(db, s, err, "decide on a held message")) != GL_OK) return rv;
    d->decided = sqlite3_changes(db->h) == 1;
    *store = d->decided;
    return GL_OK;
}

int
gl_db_held_link(gl_db *db, void *decision, const gl_msg *m, gl_err *err)
{
    gl_held_decision *d = decision;
    sqlite3_stmt *s = gl_db__stmt(db, ST_HELD_LINK, err);
    int rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_int64(s, 1, d->id);
    sqlite3_bind_int64(s, 2, m->id);
    if ((rv = gl_db__exec(db, s, err, "link a held message")) != GL_OK) return rv;
    d->audit->message_id = m->id;
    return gl_db_audit(db, d->audit, err);
}
