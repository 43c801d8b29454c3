/* What a channel's moderators read: its current bans and timeouts, and its audit log a page at
 * a time. Statements live in db.c's table; rows reach the caller through a callback. */
#include "db_internal.h"

static const char *
text_or_null(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

int
gl_db_bans(gl_db *db, const char *channel, gl_db_ban_fn fn, void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_BANS_OF, err);
    gl_db_ban_row row;
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        row = (gl_db_ban_row){text_or_null(s, 0), text_or_null(s, 1), text_or_null(s, 2),
                              text_or_null(s, 3), text_or_null(s, 4), text_or_null(s, 5)};
        if ((rv = fn(arg, &row)) != 0) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "list bans");
    gl_db__done(s);
    return rv;
}

int
gl_db_audit_page(gl_db *db, const char *channel, int64_t before, int limit, gl_db_audit_fn fn,
                 void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_AUDIT_PAGE, err);
    gl_db_audit_row row;
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, before);
    sqlite3_bind_int(s, 3, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        row = (gl_db_audit_row){sqlite3_column_int64(s, 0), text_or_null(s, 1), text_or_null(s, 2),
                                sqlite3_column_int64(s, 3), text_or_null(s, 4), text_or_null(s, 5),
                                text_or_null(s, 6),         text_or_null(s, 7), text_or_null(s, 8)};
        if ((rv = fn(arg, &row)) != 0) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "read the audit log");
    gl_db__done(s);
    return rv;
}
