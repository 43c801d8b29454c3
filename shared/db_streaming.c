/* The SQLite statements behind streaming: stream keys (stored as hashes) and stream state.
 * Statements live in db.c's table. */
#include "db_internal.h"

#include <stdio.h>
#include <string.h>

static void
copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const unsigned char *v = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

/* One text parameter in, the first row's first column checked: *found says if there was one. */
static int
exists(gl_db *db, int which, const char *param, char *out, size_t cap, bool *found, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, which, err);
    int rc;
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, param, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (*found && out != NULL) copy_col(out, cap, s, 0);
    gl_db__done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gl_db__fail(db, err, "read stream keys");
    return GL_OK;
}

int
gl_db_stream_key_add(gl_db *db, const char *user_id, const char *username, const char *name,
                     const char *key_hash, const char *at, int64_t *id, gl_err *err)
{
    char owner[GL_USER_ID_MAX], active[32];
    bool owned, has_active;
    sqlite3_stmt *s;
    int rv;

    if ((rv = exists(db, ST_STREAM_OWNER, name, owner, sizeof(owner), &owned, err)) != GL_OK ||
        (rv = exists(db, ST_STREAM_ACTIVE_KEY, name, active, sizeof(active), &has_active, err)) !=
            GL_OK)
        return rv;
    if (owned && strcmp(owner, user_id) != 0)
        return gl_err_set(err, GL_ECONFLICT, "stream name '%s' belongs to another user", name);
    if (has_active)
        return gl_err_set(err, GL_ECONFLICT,
                          "stream '%s' already has a key (id %s): revoke it first", name, active);
    if ((s = gl_db__stmt(db, ST_STREAM_KEY_INSERT, err)) == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, key_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, at, -1, SQLITE_STATIC);
    if ((rv = gl_db__exec(db, s, err, "store the stream key")) != GL_OK) return rv;
    *id = sqlite3_last_insert_rowid(db->h);
    return GL_OK;
}

int
gl_db_stream_keys(gl_db *db, const char *user_id, int limit, gl_db_stream_key_fn fn, void *arg,
                  gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_STREAM_KEYS, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gl_stream_key_row k = {
            sqlite3_column_int64(s, 0),
            (const char *)sqlite3_column_text(s, 1),
            (const char *)sqlite3_column_text(s, 2),
            (const char *)sqlite3_column_text(s, 3),
            (const char *)sqlite3_column_text(s, 4),
            (const char *)sqlite3_column_text(s, 5),
            (const char *)sqlite3_column_text(s, 6),
            sqlite3_column_int(s, 7) != 0,
        };
        if ((rv = fn(arg, &k)) != 0) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "list stream keys");
    gl_db__done(s);
    return rv;
}

int
gl_db_stream_key_revoke(gl_db *db, int64_t id, const char *owner, const char *by, const char *at,
                        int *outcome, char name[GL_STREAM_NAME_MAX + 1], gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_STREAM_KEY_STATE, err);
    int rc;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_int64(s, 1, id);
    rc = sqlite3_step(s);
    *outcome = 0;
    if (rc == SQLITE_ROW &&
        (owner == NULL || strcmp((const char *)sqlite3_column_text(s, 0), owner) == 0)) {
        *outcome = sqlite3_column_int(s, 1) ? 2 : 1;
        copy_col(name, GL_STREAM_NAME_MAX + 1, s, 2);
    }
    gl_db__done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gl_db__fail(db, err, "read the stream key");
    if (*outcome != 1) return GL_OK;
    if ((s = gl_db__stmt(db, ST_STREAM_KEY_REVOKE, err)) == NULL) return GL_EDB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, by, -1, SQLITE_STATIC);
    return gl_db__exec(db, s, err, "revoke the stream key");
}

/* The columns of STREAM_COLS into *out. */
static void
read_stream(sqlite3_stmt *s, gl_stream *out)
{
    copy_col(out->name, sizeof(out->name), s, 0);
    copy_col(out->user_id, sizeof(out->user_id), s, 1);
    copy_col(out->username, sizeof(out->username), s, 2);
    out->live = sqlite3_column_int(s, 3) != 0;
    copy_col(out->started_at, sizeof(out->started_at), s, 4);
    copy_col(out->ended_at, sizeof(out->ended_at), s, 5);
    out->active_key = sqlite3_column_int64(s, 6);
    out->session_key_active = sqlite3_column_int(s, 7) != 0;
}

int
gl_db_stream_key_find(gl_db *db, const char *key_hash, char name[GL_STREAM_NAME_MAX + 1],
                      int64_t *id, bool *active, bool *found, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_STREAM_KEY_FIND, err);
    int rc;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, key_hash, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    *id = 0;
    *active = false;
    if ((*found = rc == SQLITE_ROW)) {
        copy_col(name, GL_STREAM_NAME_MAX + 1, s, 0);
        *id = sqlite3_column_int64(s, 1);
        *active = sqlite3_column_int(s, 2) != 0;
    }
    gl_db__done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gl_db__fail(db, err, "look up the key");
    return GL_OK;
}

int
gl_db_stream_get(gl_db *db, const char *name, gl_stream *out, bool *found, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_STREAM_GET, err);
    int rc;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    memset(out, 0, sizeof(*out));
    if ((*found = rc == SQLITE_ROW)) read_stream(s, out);
    gl_db__done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gl_db__fail(db, err, "read the stream");
    return GL_OK;
}

int
gl_db_stream_set_live(gl_db *db, const gl_stream *st, bool live, int64_t key_id, const char *at,
                      bool *changed, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, live ? ST_STREAM_SET_LIVE : ST_STREAM_SET_ENDED, err);
    int rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, st->name, -1, SQLITE_STATIC);
    if (live) {
        sqlite3_bind_text(s, 2, st->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, st->username, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, key_id);
    } else {
        sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
    }
    if ((rv = gl_db__exec(db, s, err, "record the stream state")) != GL_OK) return rv;
    *changed = sqlite3_changes(db->h) > 0;
    return GL_OK;
}

int
gl_db_streams_live(gl_db *db, int limit, gl_db_stream_fn fn, void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_STREAMS_LIVE, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_int(s, 1, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gl_stream st;
        read_stream(s, &st);
        if ((rv = fn(arg, &st)) != 0) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "list live streams");
    gl_db__done(s);
    return rv;
}
