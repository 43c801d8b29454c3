/* The SQLite data layer: every statement both binaries run, prepared once per connection.
 * One gl_db is one sqlite3 connection and is used by one thread at a time. The file is
 * created from the embedded schema.sql when new; WAL mode, busy_timeout 5 s. */
#ifndef GL_DB_H
#define GL_DB_H

#include "acl.h"
#include "err.h"
#include "timefmt.h"

#include <stdbool.h>
#include <stdint.h>

#define GL_SCHEMA_VERSION 1

typedef struct gl_db gl_db;

/* Open (and create or migrate) the database at path. Returns GL_OK, GL_EDB (logged with the
 * SQLite message) or GL_ENOMEM. */
int gl_db_open(const char *path, gl_db **out, gl_err *err);

/* Finalizes statements and closes; NULL is a no-op. */
void gl_db_close(gl_db *db);

/* A chat message as stored. Strings are borrowed (by the insert) or valid only during the
 * callback that receives them (history). */
typedef struct gl_msg {
    int64_t id;
    const char *channel;
    const char *user_id;  /* NULL for system messages */
    const char *username; /* NULL for system messages */
    const char *data;     /* JSON object text */
    char created_at[GL_TIME_MAX];
} gl_msg;

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int gl_db_begin(gl_db *db, gl_err *err);
int gl_db_commit(gl_db *db, gl_err *err);
void gl_db_rollback(gl_db *db);

/* Insert m (created_at must be set); on GL_OK m->id holds the new row id. */
int gl_db_insert_message(gl_db *db, gl_msg *m, gl_err *err);

/* Delete the channel's rows beyond the newest keep (deleted or not). */
int gl_db_prune(gl_db *db, const char *channel, int keep, gl_err *err);

enum { GL_HISTORY_LATEST, GL_HISTORY_SINCE, GL_HISTORY_BEFORE };

typedef int (*gl_db_msg_fn)(void *arg, const gl_msg *m);

/* Call fn for up to limit undeleted messages of channel, oldest first: the newest ones
 * (LATEST), the oldest with id > ref (SINCE), or the newest with id < ref (BEFORE).
 * A non-zero return from fn stops the walk and is returned. */
int gl_db_history(gl_db *db, const char *channel, int mode, int64_t ref, int limit, gl_db_msg_fn fn,
                  void *arg, gl_err *err);

/* The highest message id of channel (0 if none) into *id. */
int gl_db_last_id(gl_db *db, const char *channel, int64_t *id, gl_err *err);

/* Moderation state, for pushd's start-up and reloads. channel NULL = every channel.
 * Expired bans and timeouts are skipped. */
typedef int (*gl_db_restriction_fn)(void *arg, const char *channel, const char *user_id,
                                    bool is_timeout, int64_t expires_ms /* 0 = never */);
int gl_db_each_restriction(gl_db *db, const char *channel, gl_db_restriction_fn fn, void *arg,
                           gl_err *err);

typedef int (*gl_db_access_fn)(void *arg, const char *channel, const char *user_id);
int gl_db_each_access(gl_db *db, const char *channel, gl_db_access_fn fn, void *arg, gl_err *err);

/* The override passed to fn is valid during the call only. */
typedef int (*gl_db_setting_fn)(void *arg, const char *channel, const gl_override *ov);
int gl_db_each_setting(gl_db *db, const char *channel, gl_db_setting_fn fn, void *arg, gl_err *err);

/* The raw handle, for statements a binary keeps to itself. */
struct sqlite3 *gl_db_handle(gl_db *db);

#endif
