/* Channel roles: the moderators and VIPs a broadcaster or an admin appoints per channel. */
#include "db_internal.h"

int
gl_db_role_add(gl_db *db, const char *channel, const char *role, const char *user_id,
               const char *by, const char *at, int *added, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_ROLE_ADD, err);
    int rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, at, -1, SQLITE_STATIC);
    rv = gl_db__exec(db, s, err, "add a channel role");
    *added = rv == GL_OK ? sqlite3_changes(db->h) : 0;
    return rv;
}

int
gl_db_role_remove(gl_db *db, const char *channel, const char *role, const char *user_id,
                  int *removed, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_ROLE_REMOVE, err);
    int rv;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, user_id, -1, SQLITE_STATIC);
    rv = gl_db__exec(db, s, err, "remove a channel role");
    *removed = rv == GL_OK ? sqlite3_changes(db->h) : 0;
    return rv;
}

int
gl_db_role_has(gl_db *db, const char *channel, const char *role, const char *user_id, bool *has,
               gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_ROLE_HAS, err);
    int rc;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    *has = rc == SQLITE_ROW;
    gl_db__done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gl_db__fail(db, err, "read channel roles");
    return GL_OK;
}

int
gl_db_roles(gl_db *db, const char *channel, const char *role, gl_db_role_fn fn, void *arg,
            gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_ROLE_LIST, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((rv = fn(arg, (const char *)sqlite3_column_text(s, 0),
                     (const char *)sqlite3_column_text(s, 1),
                     (const char *)sqlite3_column_text(s, 2))) != 0)
            break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "list channel roles");
    gl_db__done(s);
    return rv;
}
