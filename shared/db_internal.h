/* Inside the SQLite layer: the connection struct, the statement ids and the helpers that
 * db.c and db_moderation.c share. Not for use outside shared/db*.c. */
#ifndef GL_DB_INTERNAL_H
#define GL_DB_INTERNAL_H

#include "db.h"

#include <sqlite3.h>

enum {
    ST_BEGIN,
    ST_BEGIN_READ,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INSERT_MSG,
    ST_PRUNE,
    ST_HIST_LATEST,
    ST_HIST_SINCE,
    ST_HIST_BEFORE,
    ST_LAST_ID,
    ST_PRUNED_THROUGH,
    ST_RESTRICTIONS, /* each of these three: the whole table, then ..._OF one channel */
    ST_RESTRICTIONS_OF,
    ST_ACCESS,
    ST_ACCESS_OF,
    ST_SETTINGS,
    ST_SETTINGS_OF,
    ST_CHANNEL_ROLES,
    ST_CHANNEL_ROLES_OF,
    ST_RECENT_OF_USER,
    ST_DELETE_USER_MESSAGES,
    ST_CLEAR_CHAT,
    ST_PIN_SET,
    ST_PIN_CLEAR,
    ST_PINS, /* then ST_PINS_OF: each_row's pair */
    ST_PINS_OF,
    ST_HELD_INSERT,
    ST_HELD_PENDING,
    ST_HELD_GET,
    ST_HELD_DECIDE,
    ST_HELD_LINK,
    ST_CHANNELS_WITH_HISTORY,
    ST_MESSAGE_STATE,
    ST_DELETE_MESSAGE,
    ST_PUT_RESTRICTION,
    ST_REMOVE_RESTRICTIONS,
    ST_USER_FACTS,
    ST_IN_ACCESS,
    ST_PUT_SETTINGS,
    ST_DELETE_SETTINGS,
    ST_ACCESS_ADD,
    ST_ACCESS_REMOVE,
    ST_ROLE_ADD,
    ST_ROLE_REMOVE,
    ST_ROLE_HAS,
    ST_ROLE_LIST,
    ST_AUDIT,
    ST_BANS_OF,
    ST_AUDIT_PAGE,
    ST_STREAM_OWNER,
    ST_STREAM_ACTIVE_KEY,
    ST_STREAM_KEY_INSERT,
    ST_STREAM_KEYS,
    ST_STREAM_KEY_STATE,
    ST_STREAM_KEY_REVOKE,
    ST_STREAM_KEY_FIND,
    ST_STREAM_GET,
    ST_STREAM_SET_LIVE,
    ST_STREAM_SET_ENDED,
    ST_STREAMS_LIVE,
    ST_COUNT
};

struct gl_db {
    sqlite3 *h;
    sqlite3_stmt *st[ST_COUNT];
    int reads_within; /* gl_db_read_begin calls made inside a transaction already open */
};

/* Expiry as ms since the epoch, from the ISO-8601 text column expires_at. */
#define EXPIRES_MS "CAST(ROUND((julianday(expires_at) - 2440587.5) * 86400000.0) AS INTEGER)"

/* The prepared statement for id which (prepared on first use), or NULL after logging. */
sqlite3_stmt *gl_db__stmt(gl_db *db, int which, gl_err *err);

/* Reset s and clear its bindings, ready for the next use. */
void gl_db__done(sqlite3_stmt *s);

/* Step s once (no rows wanted), reset it; GL_OK or GL_EDB after logging "what". */
int gl_db__exec(gl_db *db, sqlite3_stmt *s, gl_err *err, const char *what);

/* The message in the current row of s (columns id, channel, user_id, username, data,
 * created_at) into *m; its strings are s's until the next step. */
void gl_db__msg_row(sqlite3_stmt *s, gl_msg *m);

/* Log the SQLite error and return GL_EDB with a client-safe message. */
int gl_db__fail(gl_db *db, gl_err *err, const char *what);

#endif
