/* SQLite access for both binaries. Statements are prepared lazily, once per connection, and
 * reset after each use; network input only ever reaches SQL as bound parameters. */
#include "db.h"
#include "db_errors.h"
#include "db_internal.h"
#include "log.h"
#include "stream.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const char gl_schema_sql[]; /* schema.sql, embedded at build time */

#define STR_(x) #x
#define STR(x) STR_(x) /* a number macro as SQL text */
#define CREATED_MS "CAST(ROUND((julianday(created_at) - 2440587.5) * 86400000.0) AS INTEGER)"
#define HELD_COLS "id, user_id, username, data, term, created_at, status"
#define PIN_COLS "m.id, m.channel, m.user_id, m.username, m.data, m.created_at"
#define MSG_COLS "id, channel, user_id, username, data, created_at"
#define ALIVE "deleted_at IS NULL"
#define RESTRICTION_COLS "channel, user_id, kind, COALESCE(" EXPIRES_MS ", 0)"
#define UNEXPIRED "(expires_at IS NULL OR expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
#define SETTING_COLS                                                                               \
    "channel, private, allow_publish, max_history, allowed_roles, slow_mode, members_only, "       \
    "unique_chat, max_message_length, max_message_bytes, blocked_terms, blocked_terms_action"
/* A stream: its owner's latest key row (k) and its state (s, may be missing). */
#define STREAM_COLS                                                                                \
    "k.stream_name, k.user_id, k.username, COALESCE(s.status = 'live', 0), s.started_at, "         \
    "s.ended_at, (SELECT id FROM stream_keys a WHERE a.stream_name = k.stream_name AND "           \
    "a.revoked_at IS NULL), COALESCE((SELECT revoked_at IS NULL FROM stream_keys b WHERE "         \
    "b.id = s.key_id), 0)"
#define KEY_COLS                                                                                   \
    "k.id, k.user_id, k.username, k.stream_name, k.created_at, k.revoked_at, k.revoked_by, "       \
    "COALESCE(s.status = 'live', 0)"

static const char *const sql_text[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_BEGIN_READ] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT_MSG] = "INSERT INTO messages (channel, user_id, username, kind, data, created_at) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* The oldest rows past keep, counted by channel_history.stored: an OFFSET from the newest
     * would walk all keep rows of the index on every batch. */
    [ST_PRUNE] = "DELETE FROM messages WHERE channel = ?1 AND id IN (SELECT id FROM messages "
                 "WHERE channel = ?1 ORDER BY id LIMIT MAX(0, COALESCE((SELECT stored FROM "
                 "channel_history WHERE channel = ?1), 0) - ?2))",
    [ST_HIST_LATEST] =
        "SELECT * FROM (SELECT " MSG_COLS " FROM messages WHERE channel = ?1 AND " ALIVE
        " ORDER BY id DESC LIMIT ?3) ORDER BY id ASC",
    [ST_HIST_SINCE] = "SELECT " MSG_COLS " FROM messages WHERE channel = ?1 AND id > ?2 AND " ALIVE
                      " ORDER BY id ASC LIMIT ?3",
    [ST_HIST_BEFORE] = "SELECT * FROM (SELECT " MSG_COLS " FROM messages WHERE channel = ?1 AND "
                       "id < ?2 AND " ALIVE " ORDER BY id DESC LIMIT ?3) ORDER BY id ASC",
    [ST_LAST_ID] = "SELECT COALESCE(MAX(id), 0) FROM messages WHERE channel = ?1",
    [ST_PRUNED_THROUGH] = "SELECT COALESCE(MAX(pruned_through), 0) FROM channel_history "
                          "WHERE channel = ?1",
    /* "?1 IS NULL OR channel = ?1" would scan the whole table: one channel gets its own. */
    [ST_RESTRICTIONS] = "SELECT " RESTRICTION_COLS " FROM bans WHERE " UNEXPIRED,
    [ST_RESTRICTIONS_OF] =
        "SELECT " RESTRICTION_COLS " FROM bans WHERE channel = ?1 AND " UNEXPIRED,
    [ST_ACCESS] = "SELECT channel, user_id FROM channel_access",
    [ST_ACCESS_OF] = "SELECT channel, user_id FROM channel_access WHERE channel = ?1",
    [ST_SETTINGS] = "SELECT " SETTING_COLS " FROM channel_settings",
    [ST_SETTINGS_OF] = "SELECT " SETTING_COLS " FROM channel_settings WHERE channel = ?1",
    [ST_CHANNEL_ROLES] = "SELECT channel, user_id, role FROM channel_roles UNION ALL SELECT "
                         "'" GL_STREAM_CHANNEL_PREFIX
                         "' || stream_name, user_id, 'broadcaster' FROM stream_keys k WHERE id = "
                         "(SELECT MAX(id) FROM stream_keys WHERE stream_name = k.stream_name)",
    [ST_CHANNEL_ROLES_OF] =
        "SELECT channel, user_id, role FROM channel_roles WHERE channel = ?1 UNION ALL "
        "SELECT * FROM (SELECT ?1, user_id, 'broadcaster' FROM stream_keys WHERE "
        "substr(?1, 1, length('" GL_STREAM_CHANNEL_PREFIX "')) = '" GL_STREAM_CHANNEL_PREFIX
        "' AND "
        "stream_name = substr(?1, length('" GL_STREAM_CHANNEL_PREFIX
        "') + 1) ORDER BY id DESC LIMIT 1)",
    [ST_RECENT_OF_USER] =
        "SELECT data, " CREATED_MS " FROM (SELECT user_id, data, created_at FROM messages "
        "WHERE channel = ?1 ORDER BY id DESC LIMIT " STR(GL_RECENT_SCAN) ") WHERE user_id = ?2 "
                                                                         "LIMIT " STR(
                                                                             GL_UNIQUE_RECENT),
    [ST_HELD_INSERT] = "INSERT INTO held_messages (channel, user_id, username, data, term, "
                       "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_HELD_PENDING] = "SELECT " HELD_COLS " FROM held_messages WHERE channel = ?1 AND "
                        "status = 'pending' ORDER BY id LIMIT ?2",
    [ST_HELD_GET] = "SELECT " HELD_COLS " FROM held_messages WHERE channel = ?1 AND id = ?2",
    [ST_HELD_DECIDE] = "UPDATE held_messages SET status = ?3, decided_by = ?4, decided_at = ?5 "
                       "WHERE channel = ?1 AND id = ?2 AND status = 'pending'",
    [ST_HELD_LINK] = "UPDATE held_messages SET message_id = ?2 WHERE id = ?1",
    [ST_DELETE_USER_MESSAGES] =
        "UPDATE messages SET deleted_at = ?3, deleted_by = ?4 WHERE id IN (SELECT id FROM "
        "(SELECT id, user_id FROM messages WHERE channel = ?1 ORDER BY id DESC LIMIT " STR(
            GL_RECENT_SCAN) ") WHERE user_id = ?2) AND " ALIVE " RETURNING id",
    [ST_CLEAR_CHAT] = "UPDATE messages SET deleted_at = ?2, deleted_by = ?3 WHERE channel = ?1 "
                      "AND " ALIVE,
    [ST_PIN_SET] =
        "INSERT INTO channel_pins (channel, message_id, pinned_by, pinned_at) "
        "SELECT channel, id, ?3, ?4 FROM messages WHERE channel = ?1 AND id = ?2 AND " ALIVE
        " ON CONFLICT (channel) DO UPDATE SET message_id = excluded.message_id, "
        "pinned_by = excluded.pinned_by, pinned_at = excluded.pinned_at",
    [ST_PIN_CLEAR] = "DELETE FROM channel_pins WHERE channel = ?1",
    [ST_PINS] = "SELECT " PIN_COLS " FROM channel_pins p JOIN messages m ON m.id = p.message_id "
                "AND m.channel = p.channel AND m.deleted_at IS NULL",
    [ST_PINS_OF] = "SELECT " PIN_COLS " FROM channel_pins p JOIN messages m ON m.id = "
                   "p.message_id AND m.channel = p.channel AND m.deleted_at IS NULL WHERE "
                   "p.channel = ?1",
    [ST_CHANNELS_WITH_HISTORY] = "SELECT channel, MAX(id) AS last FROM messages GROUP BY channel "
                                 "ORDER BY last DESC LIMIT ?1",
    [ST_MESSAGE_STATE] =
        "SELECT deleted_at IS NOT NULL FROM messages WHERE id = ?1 AND channel = ?2",
    [ST_DELETE_MESSAGE] = "UPDATE messages SET deleted_at = ?3, deleted_by = ?4 "
                          "WHERE id = ?1 AND channel = ?2 AND deleted_at IS NULL",
    [ST_PUT_RESTRICTION] =
        "INSERT INTO bans (channel, user_id, kind, reason, created_by, created_at, expires_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (channel, user_id, kind) DO UPDATE SET "
        "reason = excluded.reason, created_by = excluded.created_by, "
        "created_at = excluded.created_at, expires_at = excluded.expires_at",
    [ST_REMOVE_RESTRICTIONS] = "DELETE FROM bans WHERE channel = ?1 AND user_id = ?2 AND "
                               "(expires_at IS NULL OR expires_at > ?3)",
    [ST_USER_FACTS] = "SELECT kind, COALESCE(" EXPIRES_MS ", 0) FROM bans WHERE channel = ?1 AND "
                      "user_id = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
    [ST_IN_ACCESS] = "SELECT 1 FROM channel_access WHERE channel = ?1 AND user_id = ?2",
    [ST_PUT_SETTINGS] =
        "INSERT INTO channel_settings (channel, private, allow_publish, max_history, "
        "allowed_roles, updated_by, updated_at, slow_mode, members_only, unique_chat, "
        "max_message_length, max_message_bytes, blocked_terms, blocked_terms_action) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
        "ON CONFLICT (channel) DO UPDATE SET private = excluded.private, "
        "allow_publish = excluded.allow_publish, max_history = excluded.max_history, "
        "allowed_roles = excluded.allowed_roles, updated_by = excluded.updated_by, "
        "updated_at = excluded.updated_at, slow_mode = excluded.slow_mode, "
        "members_only = excluded.members_only, unique_chat = excluded.unique_chat, "
        "max_message_length = excluded.max_message_length, "
        "max_message_bytes = excluded.max_message_bytes, blocked_terms = excluded.blocked_terms, "
        "blocked_terms_action = excluded.blocked_terms_action",
    [ST_DELETE_SETTINGS] = "DELETE FROM channel_settings WHERE channel = ?1",
    [ST_ACCESS_ADD] = "INSERT INTO channel_access (channel, user_id, added_by, added_at) "
                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    [ST_ACCESS_REMOVE] = "DELETE FROM channel_access WHERE channel = ?1 AND user_id = ?2",
    [ST_ROLE_ADD] = "INSERT INTO channel_roles (channel, role, user_id, granted_by, granted_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
    [ST_ROLE_REMOVE] =
        "DELETE FROM channel_roles WHERE channel = ?1 AND role = ?2 AND user_id = ?3",
    [ST_ROLE_HAS] = "SELECT 1 FROM channel_roles WHERE channel = ?1 AND role = ?2 AND user_id = ?3",
    [ST_ROLE_LIST] = "SELECT user_id, granted_by, granted_at FROM channel_roles "
                     "WHERE channel = ?1 AND role = ?2 ORDER BY granted_at, user_id",
    [ST_AUDIT] = "INSERT INTO moderation_log (channel, action, target_user, message_id, actor_id, "
                 "actor_name, reason, detail, created_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_BANS_OF] = "SELECT user_id, kind, reason, created_by, created_at, expires_at FROM bans "
                   "WHERE channel = ?1 AND " UNEXPIRED " ORDER BY created_at, user_id, kind",
    [ST_AUDIT_PAGE] = "SELECT id, action, target_user, message_id, actor_id, actor_name, reason, "
                      "detail, created_at FROM moderation_log WHERE channel = ?1 AND id < ?2 "
                      "ORDER BY id DESC LIMIT ?3",
    [ST_STREAM_OWNER] =
        "SELECT user_id FROM stream_keys WHERE stream_name = ?1 ORDER BY id LIMIT 1",
    [ST_STREAM_ACTIVE_KEY] =
        "SELECT id FROM stream_keys WHERE stream_name = ?1 AND revoked_at IS NULL",
    [ST_STREAM_KEY_INSERT] = "INSERT INTO stream_keys (user_id, username, stream_name, key_hash, "
                             "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_STREAM_KEYS] = "SELECT " KEY_COLS " FROM stream_keys k LEFT JOIN streams s ON "
                       "s.stream_name = k.stream_name WHERE ?1 IS NULL OR k.user_id = ?1 "
                       "ORDER BY k.id DESC LIMIT ?2",
    [ST_STREAM_KEY_STATE] =
        "SELECT user_id, revoked_at IS NOT NULL, stream_name FROM stream_keys WHERE id = ?1",
    [ST_STREAM_KEY_REVOKE] = "UPDATE stream_keys SET revoked_at = ?2, revoked_by = ?3 "
                             "WHERE id = ?1 AND revoked_at IS NULL",
    [ST_STREAM_KEY_FIND] =
        "SELECT stream_name, id, revoked_at IS NULL FROM stream_keys WHERE key_hash = ?1",
    [ST_STREAM_GET] = "SELECT " STREAM_COLS " FROM stream_keys k LEFT JOIN streams s ON "
                      "s.stream_name = k.stream_name WHERE k.stream_name = ?1 "
                      "ORDER BY k.id DESC LIMIT 1",
    [ST_STREAM_SET_LIVE] =
        "INSERT INTO streams (stream_name, user_id, username, status, key_id, started_at) "
        "VALUES (?1, ?2, ?3, 'live', ?5, ?4) ON CONFLICT (stream_name) DO UPDATE SET "
        "user_id = excluded.user_id, username = excluded.username, status = 'live', "
        "key_id = excluded.key_id, started_at = excluded.started_at, ended_at = NULL "
        "WHERE streams.status <> 'live'",
    [ST_STREAM_SET_ENDED] = "UPDATE streams SET status = 'ended', ended_at = ?2 "
                            "WHERE stream_name = ?1 AND status = 'live'",
    [ST_STREAMS_LIVE] = "SELECT " STREAM_COLS " FROM streams s JOIN stream_keys k ON k.id = "
                        "(SELECT MAX(id) FROM stream_keys WHERE stream_name = s.stream_name) "
                        "WHERE s.status = 'live' ORDER BY s.started_at DESC LIMIT ?1",
};

int
gl_db__fail(gl_db *db, gl_err *err, const char *what)
{
    gl_db_error_count(sqlite3_extended_errcode(db->h));
    gl_log(GL_LOG_ERROR, "db", "%s: %s", what, sqlite3_errmsg(db->h));
    return gl_err_set(err, GL_EDB, "the database could not %s", what);
}

sqlite3_stmt *
gl_db__stmt(gl_db *db, int which, gl_err *err)
{
    if (db->st[which] == NULL &&
        sqlite3_prepare_v3(db->h, sql_text[which], -1, SQLITE_PREPARE_PERSISTENT, &db->st[which],
                           NULL) != SQLITE_OK) {
        gl_db__fail(db, err, "prepare a statement");
        return NULL;
    }
    return db->st[which];
}

void
gl_db__done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Run a statement that returns no rows to the caller. */
int
gl_db__exec(gl_db *db, sqlite3_stmt *s, gl_err *err, const char *what)
{
    int rc = sqlite3_step(s);
    gl_db__done(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return gl_db__fail(db, err, what);
    return GL_OK;
}

static int
user_version(gl_db *db, int *v)
{
    sqlite3_stmt *s;
    int rc = sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &s, NULL);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(s);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* What turns schema version N into N+1 before schema.sql (idempotent) runs. */
static const char *const upgrades[GL_SCHEMA_VERSION] = {
    /* 1 -> 2: the streaming tables changed shape; version 1 never wrote them. */
    [1] = "DROP TABLE IF EXISTS stream_keys; DROP TABLE IF EXISTS streams;",
    /* 2 -> 3: channel_history. What was pruned before it existed is unknown: count everything
     * below each channel's oldest row as possibly pruned. */
    [2] = "CREATE TABLE IF NOT EXISTS channel_history (channel TEXT PRIMARY KEY, "
          "pruned_through INTEGER NOT NULL); INSERT OR IGNORE INTO channel_history "
          "SELECT channel, MIN(id) - 1 FROM messages GROUP BY channel;",
    /* 3 -> 4: channel_roles (schema.sql creates it), and moderation_log's CHECK takes their
     * actions: SQLite changes a CHECK only by rebuilding the table. */
    [3] = "CREATE TABLE moderation_log_v4 (id INTEGER PRIMARY KEY AUTOINCREMENT, "
          "channel TEXT NOT NULL, action TEXT NOT NULL CHECK (action IN ('delete_message', "
          "'ban', 'unban', 'timeout', 'settings', 'access_add', 'access_remove', 'broadcast', "
          "'moderator_add', 'moderator_remove', 'vip_add', 'vip_remove')), target_user TEXT, "
          "message_id INTEGER, actor_id TEXT NOT NULL, actor_name TEXT, reason TEXT, "
          "detail TEXT, created_at TEXT NOT NULL); "
          "INSERT INTO moderation_log_v4 SELECT * FROM moderation_log; "
          "DROP TABLE moderation_log; ALTER TABLE moderation_log_v4 RENAME TO moderation_log;",
    /* 4 -> 5: chat modes in channel_settings. */
    [4] = "ALTER TABLE channel_settings ADD COLUMN slow_mode INTEGER CHECK (slow_mode >= 0); "
          "ALTER TABLE channel_settings ADD COLUMN members_only INTEGER "
          "CHECK (members_only IN (0, 1)); "
          "ALTER TABLE channel_settings ADD COLUMN unique_chat INTEGER "
          "CHECK (unique_chat IN (0, 1)); "
          "ALTER TABLE channel_settings ADD COLUMN max_message_length INTEGER "
          "CHECK (max_message_length >= 0); "
          "ALTER TABLE channel_settings ADD COLUMN max_message_bytes INTEGER "
          "CHECK (max_message_bytes >= 0); "
          "ALTER TABLE channel_settings ADD COLUMN blocked_terms TEXT; "
          "ALTER TABLE channel_settings ADD COLUMN blocked_terms_action TEXT "
          "CHECK (blocked_terms_action IN ('refuse', 'hold')); "
          /* held_messages and channel_pins (schema.sql creates them), and moderation_log
           * takes their actions and clear_chat's */
          "CREATE TABLE moderation_log_v5 (id INTEGER PRIMARY KEY AUTOINCREMENT, "
          "channel TEXT NOT NULL, action TEXT NOT NULL CHECK (action IN ('delete_message', "
          "'ban', 'unban', 'timeout', 'settings', 'access_add', 'access_remove', 'broadcast', "
          "'moderator_add', 'moderator_remove', 'vip_add', 'vip_remove', 'held_approve', "
          "'held_deny', 'clear_chat', 'pin', 'unpin')), target_user TEXT, message_id INTEGER, "
          "actor_id TEXT NOT NULL, "
          "actor_name TEXT, reason TEXT, detail TEXT, created_at TEXT NOT NULL); "
          "INSERT INTO moderation_log_v5 SELECT * FROM moderation_log; "
          "DROP TABLE moderation_log; ALTER TABLE moderation_log_v5 RENAME TO moderation_log;",
    /* 5 -> 6: channel_history.stored, each channel's row count, for pruning; schema.sql then
     * creates the triggers that keep it. */
    [5] = "ALTER TABLE channel_history ADD COLUMN stored INTEGER NOT NULL DEFAULT 0; "
          "DROP TRIGGER IF EXISTS messages_pruned; "
          "INSERT INTO channel_history (channel, pruned_through, stored) "
          "SELECT channel, 0, COUNT(*) FROM messages WHERE true GROUP BY channel "
          "ON CONFLICT (channel) DO UPDATE SET stored = excluded.stored;",
};

/* Apply the upgrades from version from, in one IMMEDIATE transaction that re-reads the version
 * so that two processes starting together upgrade once. */
static int
upgrade(gl_db *db, int from, gl_err *err)
{
    int v = 0;
    if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return gl_db__fail(db, err, "start the schema upgrade");
    if (user_version(db, &v) != SQLITE_OK) goto fail;
    for (; v >= from && v < GL_SCHEMA_VERSION; v++) {
        char set[64];
        snprintf(set, sizeof(set), "PRAGMA user_version = %d", v + 1);
        if ((upgrades[v] && sqlite3_exec(db->h, upgrades[v], NULL, NULL, NULL) != SQLITE_OK) ||
            sqlite3_exec(db->h, set, NULL, NULL, NULL) != SQLITE_OK)
            goto fail;
        gl_log(GL_LOG_INFO, "db", "upgraded the schema from version %d to %d", v, v + 1);
    }
    if (sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return GL_OK;
fail:
    gl_db__fail(db, err, "upgrade the schema");
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return GL_EDB;
}

/* Create the schema when the file is new, or upgrade it. Two processes may race here (pushd
 * and golive-api start together): the schema is idempotent (IF NOT EXISTS) and a busy
 * journal_mode switch is retried, since busy_timeout does not cover it (LIBRARIES.md). */
static int
migrate(gl_db *db, gl_err *err)
{
    int v = 0;

    for (int attempt = 0;; attempt++) {
        int rc = user_version(db, &v);
        if (rc == SQLITE_OK) break;
        if (rc != SQLITE_BUSY || attempt == 50)
            return gl_db__fail(db, err, "read the schema version");
        usleep(100 * 1000);
    }
    if (v == GL_SCHEMA_VERSION) return GL_OK;
    if (v > GL_SCHEMA_VERSION)
        return gl_err_set(err, GL_EDB, "database schema version %d is newer than this program's %d",
                          v, GL_SCHEMA_VERSION);
    if (v > 0 && upgrade(db, v, err) != GL_OK) return GL_EDB;
    for (int attempt = 0;; attempt++) {
        int rc = sqlite3_exec(db->h, gl_schema_sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK) break;
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
        if (rc != SQLITE_BUSY || attempt == 50) return gl_db__fail(db, err, "create the schema");
        usleep(100 * 1000);
    }
    if (v == 0) gl_log(GL_LOG_INFO, "db", "created schema version %d", GL_SCHEMA_VERSION);
    return GL_OK;
}

int
gl_db_open(const char *path, gl_db **out, gl_err *err)
{
    gl_db *db = calloc(1, sizeof(*db));
    int rv;

    if (db == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rv = sqlite3_open_v2(path, &db->h,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              NULL)) != SQLITE_OK) {
        gl_db_error_count(rv);
        gl_log(GL_LOG_ERROR, "db", "cannot open %s: %s", path,
               db->h ? sqlite3_errmsg(db->h) : "out of memory");
        rv = gl_err_set(err, GL_EDB, "cannot open the database %s", path);
        goto out_close;
    }
    sqlite3_busy_timeout(db->h, 5000);
    sqlite3_extended_result_codes(db->h, 1);
    if ((rv = migrate(db, err)) != GL_OK) goto out_close;
    if (sqlite3_exec(db->h, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", NULL, NULL,
                     NULL) != SQLITE_OK) {
        rv = gl_db__fail(db, err, "set pragmas");
        goto out_close;
    }
    *out = db;
    return GL_OK;

out_close:
    sqlite3_close(db->h);
    free(db);
    return rv;
}

void
gl_db_close(gl_db *db)
{
    if (db == NULL) return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    sqlite3_close(db->h);
    free(db);
}

struct sqlite3 *
gl_db_handle(gl_db *db)
{
    return db->h;
}

static int
run_simple(gl_db *db, int which, gl_err *err, const char *what)
{
    sqlite3_stmt *s = gl_db__stmt(db, which, err);
    return s == NULL ? GL_EDB : gl_db__exec(db, s, err, what);
}

int
gl_db_begin(gl_db *db, gl_err *err)
{
    return run_simple(db, ST_BEGIN, err, "begin a transaction");
}

int
gl_db_commit(gl_db *db, gl_err *err)
{
    return run_simple(db, ST_COMMIT, err, "commit");
}

void
gl_db_rollback(gl_db *db)
{
    if (!sqlite3_get_autocommit(db->h)) run_simple(db, ST_ROLLBACK, NULL, "roll back");
}

int
gl_db_read_begin(gl_db *db, gl_err *err)
{
    if (!sqlite3_get_autocommit(db->h)) { /* the reads join the transaction that is open */
        db->reads_within++;
        return GL_OK;
    }
    return run_simple(db, ST_BEGIN_READ, err, "begin a read");
}

void
gl_db_read_end(gl_db *db)
{
    if (db->reads_within > 0)
        db->reads_within--;
    else if (!sqlite3_get_autocommit(db->h))
        run_simple(db, ST_COMMIT, NULL, "end a read");
}

int
gl_db_insert_message(gl_db *db, gl_msg *m, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_INSERT_MSG, err);
    int rv;

    if (s == NULL) return GL_EDB;
    if ((rv = gl_db_last_id(db, m->channel, &m->prev_id, err)) != GL_OK) return rv;
    sqlite3_bind_text(s, 1, m->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, m->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, m->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, m->user_id ? "message" : "system", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, m->data, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, m->created_at, -1, SQLITE_STATIC);
    if ((rv = gl_db__exec(db, s, err, "store the message")) == GL_OK)
        m->id = sqlite3_last_insert_rowid(db->h);
    return rv;
}

int
gl_db_prune(gl_db *db, const char *channel, int keep, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_PRUNE, err);
    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, keep);
    return gl_db__exec(db, s, err, "prune history");
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

void
gl_db__msg_row(sqlite3_stmt *s, gl_msg *m)
{
    const char *ts = col_text(s, 5);
    m->id = sqlite3_column_int64(s, 0);
    m->channel = col_text(s, 1);
    m->user_id = col_text(s, 2);
    m->username = col_text(s, 3);
    m->data = col_text(s, 4);
    snprintf(m->created_at, sizeof(m->created_at), "%s", ts ? ts : "");
}

int
gl_db_history(gl_db *db, const char *channel, int mode, int64_t ref, int limit, gl_db_msg_fn fn,
              void *arg, gl_err *err)
{
    static const int which[] = {ST_HIST_LATEST, ST_HIST_SINCE, ST_HIST_BEFORE};
    sqlite3_stmt *s = gl_db__stmt(db, which[mode], err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ref);
    sqlite3_bind_int(s, 3, limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gl_msg m;
        gl_db__msg_row(s, &m);
        if ((rv = fn(arg, &m)) != 0) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "read history");
    gl_db__done(s);
    return rv;
}

int
gl_db_history_mode(bool has_since, int64_t since, bool has_before, int64_t before, int *mode,
                   int64_t *ref, gl_err *err)
{
    if (has_since && has_before)
        return gl_err_set(err, GL_EINVAL, "give since or before, not both");
    *mode = has_since ? GL_HISTORY_SINCE : has_before ? GL_HISTORY_BEFORE : GL_HISTORY_LATEST;
    *ref = has_since ? since : has_before ? before : 0;
    return GL_OK;
}

/* One integer of one channel from statement which (its query yields a row: COALESCE). */
static int
channel_int(gl_db *db, int which, const char *channel, int64_t *out, gl_err *err, const char *what)
{
    sqlite3_stmt *s = gl_db__stmt(db, which, err);
    int rc;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    gl_db__done(s);
    return rc == SQLITE_ROW ? GL_OK : gl_db__fail(db, err, what);
}

int
gl_db_last_id(gl_db *db, const char *channel, int64_t *id, gl_err *err)
{
    return channel_int(db, ST_LAST_ID, channel, id, err, "read the last message id");
}

int
gl_db_pruned_through(gl_db *db, const char *channel, int64_t *id, gl_err *err)
{
    return channel_int(db, ST_PRUNED_THROUGH, channel, id, err, "read how far history was pruned");
}

/* Shared walk for the three state queries: which is the whole-table statement, which + 1 its
 * one-channel form; bind the optional channel, step, hand rows on. */
typedef int (*row_fn)(sqlite3_stmt *s, void *fn, void *arg);

static int
each_row(gl_db *db, int which, const char *channel, row_fn row, void *fn, void *arg, gl_err *err,
         const char *what)
{
    sqlite3_stmt *s = gl_db__stmt(db, channel != NULL ? which + 1 : which, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    if (channel != NULL) sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((rv = row(s, fn, arg)) != 0) break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, what);
    gl_db__done(s);
    return rv;
}

static int
restriction_row(sqlite3_stmt *s, void *fn, void *arg)
{
    const char *kind = col_text(s, 2);
    return ((gl_db_restriction_fn)fn)(arg, col_text(s, 0), col_text(s, 1),
                                      kind != NULL && strcmp(kind, "timeout") == 0,
                                      sqlite3_column_int64(s, 3));
}

int
gl_db_each_restriction(gl_db *db, const char *channel, gl_db_restriction_fn fn, void *arg,
                       gl_err *err)
{
    return each_row(db, ST_RESTRICTIONS, channel, restriction_row, (void *)fn, arg, err,
                    "read bans");
}

static int
access_row(sqlite3_stmt *s, void *fn, void *arg)
{
    return ((gl_db_access_fn)fn)(arg, col_text(s, 0), col_text(s, 1));
}

int
gl_db_each_access(gl_db *db, const char *channel, gl_db_access_fn fn, void *arg, gl_err *err)
{
    return each_row(db, ST_ACCESS, channel, access_row, (void *)fn, arg, err, "read access lists");
}

/* allowed_roles and blocked_terms are stored as JSON arrays of strings: into a new array of
 * elem-byte slots (*out, free) of *n strings that fit. Anything but an array leaves *has false. */
static int
parse_strings(const char *json, size_t elem, char **out, size_t *n, bool *has)
{
    cJSON *arr = json ? cJSON_Parse(json) : NULL;
    const cJSON *it;
    size_t i = 0;

    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return GL_OK;
    }
    if ((*out = calloc((size_t)cJSON_GetArraySize(arr) + 1, elem)) == NULL) {
        cJSON_Delete(arr);
        return GL_ENOMEM;
    }
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strlen(it->valuestring) < elem)
            snprintf(*out + i++ * elem, elem, "%s", it->valuestring);
    }
    *n = i;
    *has = true;
    cJSON_Delete(arr);
    return GL_OK;
}

static int
column_int(sqlite3_stmt *s, int col, int unset)
{
    return sqlite3_column_type(s, col) != SQLITE_NULL ? sqlite3_column_int(s, col) : unset;
}

static int
setting_row(sqlite3_stmt *s, void *fn, void *arg)
{
    gl_override ov = GL_OVERRIDE_INIT;
    gl_modes *m = &ov.modes;
    const char *action = col_text(s, 11);
    char *roles = NULL, *terms = NULL;
    int rv;

    ov.private_ = column_int(s, 1, -1);
    ov.allow_publish = column_int(s, 2, -1);
    ov.max_history = column_int(s, 3, 0);
    m->slow_mode = column_int(s, 5, -1);
    m->members_only = column_int(s, 6, -1);
    m->unique_chat = column_int(s, 7, -1);
    m->max_length = column_int(s, 8, -1);
    m->max_bytes = column_int(s, 9, -1);
    m->hold_blocked = action == NULL ? -1 : strcmp(action, "hold") == 0;
    rv = parse_strings(col_text(s, 4), GL_NAME_MAX, &roles, &ov.n_roles, &ov.has_roles);
    ov.roles = (char(*)[GL_NAME_MAX])(void *)roles;
    if (rv == GL_OK)
        rv = parse_strings(col_text(s, 10), GL_TERM_MAX, &terms, &m->n_terms, &m->has_terms);
    m->terms = (gl_term *)(void *)terms;
    if (rv == GL_OK) rv = ((gl_db_setting_fn)fn)(arg, col_text(s, 0), &ov);
    gl_override_free(&ov);
    return rv;
}

int
gl_db_each_setting(gl_db *db, const char *channel, gl_db_setting_fn fn, void *arg, gl_err *err)
{
    return each_row(db, ST_SETTINGS, channel, setting_row, (void *)fn, arg, err,
                    "read channel settings");
}

static int
channel_role_row(sqlite3_stmt *s, void *fn, void *arg)
{
    return ((gl_db_channel_role_fn)fn)(arg, col_text(s, 0), col_text(s, 1), col_text(s, 2));
}

int
gl_db_each_channel_role(gl_db *db, const char *channel, gl_db_channel_role_fn fn, void *arg,
                        gl_err *err)
{
    return each_row(db, ST_CHANNEL_ROLES, channel, channel_role_row, (void *)fn, arg, err,
                    "read channel roles");
}

int
gl_db_recent_of_user(gl_db *db, const char *channel, const char *user_id, gl_db_recent_fn fn,
                     void *arg, gl_err *err)
{
    sqlite3_stmt *s = gl_db__stmt(db, ST_RECENT_OF_USER, err);
    int rc, rv = GL_OK;

    if (s == NULL) return GL_EDB;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, user_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if ((rv = fn(arg, col_text(s, 0), sqlite3_column_int64(s, 1))) != 0) break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rv = gl_db__fail(db, err, "read recent messages");
    gl_db__done(s);
    return rv;
}
