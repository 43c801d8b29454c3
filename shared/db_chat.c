/* Chat-wide moderation (db.h "chat-wide moderation"): a banned or timed-out user's recent
 * messages, clear chat and the pinned message. Statements live in db.c's table. */
#include "db_internal.h"

int
gl_db_delete_user_messages(gl_db *db, const char *channel, const char *user_id, const char *by,
                           const char *at, gl_db_id_fn fn, void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_DELETE_USER_MESSAGES, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, by, -1, SQLITE_STATIC);
    /* Every row must be stepped for the UPDATE to finish, whatever fn says. */
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (rv == GL_OK) rv = fn(arg, sqlite3_column_int64(s, 0));
    if (rc != SQLITE_DONE) rv = gl_db__fail(db, err, "delete the user's messages");
    gl_db__done(s);
    return rv;
}

int
gl_db_clear_chat(gl_db *db, const char *channel, const char *by, const char *at, int *count,
                 int64_t *through, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_CLEAR_CHAT, err);
    int rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, by, -1, SQLITE_STATIC);
    if ((rv = gl_db__exec(db, s, err, "clear the chat")) != GL_OK) return rv;
    *count = sqlite3_changes(db->h);
    return gl_db_last_id(db, channel, through, err);
}

int
gl_db_pin(gl_db *db, const char *channel, int64_t id, const char *by, const char *at, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_PIN_SET, err);
    int rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_text(s, 3, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
    if ((rv = gl_db__exec(db, s, err, "pin the message")) != GL_OK) return rv;
    if (sqlite3_changes(db->h) == 0)
        return gl_err_set(err, GL_ENOTFOUND, "channel %s has no message %lld", channel,
                          (long long)id);
    return GL_OK;
}

int
gl_db_unpin(gl_db *db, const char *channel, int *removed, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_PIN_CLEAR, err);
    int rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    rv = gl_db__exec(db, s, err, "unpin");
    *removed = rv == GL_OK ? sqlite3_changes(db->h) : 0;
    return rv;
}

int
gl_db_each_pin(gl_db *db, const char *channel, gl_db_msg_fn fn, void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, channel != NULL ? ST_PINS_OF : ST_PINS, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    if (channel != NULL) sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gl_msg m;
        gl_db__msg_row(s, &m);
        if ((rv = fn(arg, &m)) != 0) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "read pins");
    gl_db__done(s);
    return rv;
}
