/* The SQLite statements of golive-api's writes: soft deletes, bans and timeouts, channel
 * settings and access lists, and the moderation audit log. Statements live in db.c's table. */
#include "db_internal.h"
#include "json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int
gl_db_channels_with_history(gl_db *db, int limit, gl_db_channel_fn fn, void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_CHANNELS_WITH_HISTORY, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_int(s, 1, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((rv = fn(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1))) !=
            0)
            break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "list channels");
    gl_db__done(s);
    return rv;
}

int
gl_db_delete_message(gl_db *db, const char *channel, int64_t id, const char *by, const char *at,
                     int *outcome, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_MESSAGE_STATE, err);
    int rc;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    *outcome = rc == SQLITE_ROW ? (sqlite3_column_int(s, 0) ? 2 : 1) : 0;
    gl_db__done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return gl_db__fail(db, err, "read the message");
    if (*outcome != 1) return GL_OK;
    if ((s = gl_db__stmt(db, ST_DELETE_MESSAGE, err)) == NULL) return GL_EDB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, by, -1, SQLITE_STATIC);
    return gl_db__exec(db, s, err, "delete the message");
}

int
gl_db_put_restriction(gl_db *db, const char *channel, const char *user_id, bool is_timeout,
                      const char *reason, const char *by, const char *at, const char *expires_at,
                      gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_PUT_RESTRICTION, err);
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, is_timeout ? "timeout" : "ban", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, expires_at, -1, SQLITE_STATIC);
    return gl_db__exec(db, s, err, "store the restriction");
}

int
gl_db_remove_restrictions(gl_db *db, const char *channel, const char *user_id, const char *now_iso,
                          int *removed, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_REMOVE_RESTRICTIONS, err);
    int rv;
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, now_iso, -1, SQLITE_STATIC);
    rv = gl_db__exec(db, s, err, "lift the restriction");
    *removed = rv == GL_OK ? sqlite3_changes(db->h) : 0;
    return rv;
}

int
gl_db_user_facts(gl_db *db, const char *channel, const char *user_id, int64_t now_ms,
                 gl_acl_facts *out, gl_err *err)
{
    sqlite3_stmt *s;
    char now[GL_TIME_MAX];
    int rc;

    memset(out, 0, sizeof(*out));
    if (user_id == NULL) return GL_OK;
    gl_time_format_iso(now_ms, now);
    if ((s = gl_db__stmt(db, ST_USER_FACTS, err)) == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(s, 0), "timeout") == 0)
            out->timeout_until_ms = sqlite3_column_int64(s, 1);
        else
            out->banned = true;
    }
    gl_db__done(s);
    if (rc != SQLITE_DONE) return gl_db__fail(db, err, "read bans");
    if ((s = gl_db__stmt(db, ST_IN_ACCESS, err)) == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    out->in_access_list = rc == SQLITE_ROW;
    gl_db__done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GL_OK : gl_db__fail(db, err, "read access");
}

static int
copy_override(void *arg, const char *channel, const gl_override *ov)
{
    (void)channel;
    return gl_override_copy(arg, ov);
}

int
gl_db_get_override(gl_db *db, const char *channel, gl_override *out, gl_err *err)
{
    int rv;
    *out = (gl_override)GL_OVERRIDE_INIT;
    rv = gl_db_each_setting(db, channel, copy_override, out, err);
    if (rv == GL_ENOMEM) gl_err_set(err, GL_ENOMEM, "out of memory");
    return rv;
}

/* n strings in elem-byte slots as a JSON array (cJSON_free), or NULL when out of memory. */
static char *
strings_json(const char *slots, size_t elem, size_t n)
{
    cJSON *arr = gl_json_strings(slots, elem, n);
    char *out = arr ? cJSON_PrintUnformatted(arr) : NULL;

    cJSON_Delete(arr);
    return out;
}

static void
bind_tristate(sqlite3_stmt *s, int i, int v)
{
    if (v < 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int(s, i, v);
}

int
gl_db_put_override(gl_db *db, const char *channel, const gl_override *ov, const char *by,
                   const char *at, gl_err *err)
{
    const gl_modes *m = &ov->modes;
    sqlite3_stmt *s;
    char *roles = NULL, *terms = NULL;
    int rv;

    if (gl_override_is_empty(ov)) {
        if ((s = gl_db__stmt(db, ST_DELETE_SETTINGS, err)) == NULL) return GL_EDB;
        sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
        return gl_db__exec(db, s, err, "clear settings");
    }
    if ((ov->has_roles &&
         (roles = strings_json((const char *)ov->roles, GL_NAME_MAX, ov->n_roles)) == NULL) ||
        (m->has_terms &&
         (terms = strings_json((const char *)m->terms, GL_TERM_MAX, m->n_terms)) == NULL)) {
        cJSON_free(roles);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    if ((s = gl_db__stmt(db, ST_PUT_SETTINGS, err)) == NULL) {
        cJSON_free(roles);
        cJSON_free(terms);
        return GL_EDB;
    }
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    bind_tristate(s, 2, ov->private_);
    bind_tristate(s, 3, ov->allow_publish);
    bind_tristate(s, 4, ov->max_history > 0 ? ov->max_history : -1);
    sqlite3_bind_text(s, 5, roles, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, at, -1, SQLITE_STATIC);
    bind_tristate(s, 8, m->slow_mode);
    bind_tristate(s, 9, m->members_only);
    bind_tristate(s, 10, m->unique_chat);
    bind_tristate(s, 11, m->max_length);
    bind_tristate(s, 12, m->max_bytes);
    sqlite3_bind_text(s, 13, terms, -1, SQLITE_STATIC);
    if (m->hold_blocked >= 0)
        sqlite3_bind_text(s, 14, m->hold_blocked ? "hold" : "refuse", -1, SQLITE_STATIC);
    rv = gl_db__exec(db, s, err, "store settings");
    cJSON_free(roles);
    cJSON_free(terms);
    return rv;
}

int
gl_db_access_add(gl_db *db, const char *channel, const char *user_id, const char *by,
                 const char *at, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_ACCESS_ADD, err);
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, by, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
    return gl_db__exec(db, s, err, "add access");
}

int
gl_db_access_remove(gl_db *db, const char *channel, const char *user_id, int *removed, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_ACCESS_REMOVE, err);
    int rv;
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    rv = gl_db__exec(db, s, err, "remove access");
    *removed = rv == GL_OK ? sqlite3_changes(db->h) : 0;
    return rv;
}

int
gl_db_audit(gl_db *db, const gl_audit *a, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_AUDIT, err);
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, a->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, a->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, a->target_user, -1, SQLITE_STATIC);
    if (a->message_id > 0) sqlite3_bind_int64(s, 4, a->message_id);
    sqlite3_bind_text(s, 5, a->actor_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, a->actor_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, a->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, a->detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, a->created_at, -1, SQLITE_STATIC);
    return gl_db__exec(db, s, err, "write the audit log");
}
