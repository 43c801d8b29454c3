/* The SQLite data layer: every statement both binaries run, prepared once per connection.
 * One gl_db is one sqlite3 connection and is used by one thread at a time. The file is
 * created from the embedded schema.sql when new; WAL mode, busy_timeout 5 s. */
#ifndef GL_DB_H
#define GL_DB_H

#include "acl.h"
#include "err.h"
#include "stream.h"
#include "timefmt.h"

#include <stdbool.h>
#include <stdint.h>

#define GL_SCHEMA_VERSION 6

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
    /* Set by the insert: the channel's newest message id before this one (0: none). Read in
     * the insert's transaction, so a channel's messages chain without a gap: a pushd node that
     * gets a message whose prev_id it has not delivered knows it missed one (cluster.c). */
    int64_t prev_id;
} gl_msg;

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int gl_db_begin(gl_db *db, gl_err *err);
int gl_db_commit(gl_db *db, gl_err *err);
void gl_db_rollback(gl_db *db);

/* A read transaction around several reads: one snapshot, and one take of SQLite's locks
 * instead of one per statement. Inside a transaction already open, the pair does nothing and
 * the reads join it. Each gl_db_read_begin that returned GL_OK takes one gl_db_read_end. */
int gl_db_read_begin(gl_db *db, gl_err *err);
void gl_db_read_end(gl_db *db);

/* Insert m (created_at must be set) inside a transaction; on GL_OK m->id holds the new row id
 * and m->prev_id the channel's newest id before it. */
int gl_db_insert_message(gl_db *db, gl_msg *m, gl_err *err);

/* Delete the channel's rows beyond the newest keep (deleted or not). */
int gl_db_prune(gl_db *db, const char *channel, int keep, gl_err *err);

enum { GL_HISTORY_LATEST, GL_HISTORY_SINCE, GL_HISTORY_BEFORE };

typedef int (*gl_db_msg_fn)(void *arg, const gl_msg *m);

/* The history mode for a request's optional since/before: LATEST, SINCE or BEFORE with *ref
 * set. Both given is GL_EINVAL. */
int gl_db_history_mode(bool has_since, int64_t since, bool has_before, int64_t before, int *mode,
                       int64_t *ref, gl_err *err);

/* Call fn for up to limit undeleted messages of channel, oldest first: the newest ones
 * (LATEST), the oldest with id > ref (SINCE), or the newest with id < ref (BEFORE).
 * A non-zero return from fn stops the walk and is returned. */
int gl_db_history(gl_db *db, const char *channel, int mode, int64_t ref, int limit, gl_db_msg_fn fn,
                  void *arg, gl_err *err);

/* The highest message id of channel (0 if none) into *id. */
int gl_db_last_id(gl_db *db, const char *channel, int64_t *id, gl_err *err);

/* The highest id of channel's messages that are gone from the table (max_history pruning, or an
 * operator's DELETE), 0 if none, into *id: a reader resuming after an id below it missed some. */
int gl_db_pruned_through(gl_db *db, const char *channel, int64_t *id, gl_err *err);

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

/* Channel roles: role is "moderator" or "vip" (channel_roles), or "broadcaster" for the owner
 * of chat:stream_<name>'s stream (its newest key's user). */
#define GL_CHANNEL_ROLE_BROADCASTER "broadcaster"
typedef int (*gl_db_channel_role_fn)(void *arg, const char *channel, const char *user_id,
                                     const char *role);
int gl_db_each_channel_role(gl_db *db, const char *channel, gl_db_channel_role_fn fn, void *arg,
                            gl_err *err);

/* The user's messages in channel among its newest GL_RECENT_SCAN (deleted ones too), newest
 * first, at most GL_UNIQUE_RECENT: data and created_at (milliseconds) to fn. Bounded so that a
 * publish under slow mode or unique chat costs the same however long the history is. */
#define GL_RECENT_SCAN 1000
typedef int (*gl_db_recent_fn)(void *arg, const char *data, int64_t created_ms);
int gl_db_recent_of_user(gl_db *db, const char *channel, const char *user_id, gl_db_recent_fn fn,
                         void *arg, gl_err *err);

/* The raw handle, for statements a binary keeps to itself. */
struct sqlite3 *gl_db_handle(gl_db *db);

/* ---- golive-api: listing, moderation, settings, access, audit (db_moderation.c) ---- */

/* Channels that have history, newest activity first: fn(arg, channel, last message id). */
typedef int (*gl_db_channel_fn)(void *arg, const char *channel, int64_t last_id);
int gl_db_channels_with_history(gl_db *db, int limit, gl_db_channel_fn fn, void *arg, gl_err *err);

/* Soft-delete message id of channel, by actor at time at. *outcome: 0 no such message in the
 * channel, 1 deleted now, 2 was already deleted. */
int gl_db_delete_message(gl_db *db, const char *channel, int64_t id, const char *by, const char *at,
                         int *outcome, gl_err *err);

/* Ban (is_timeout false; expires_at NULL = until unban) or time out a user; replaces an
 * existing row of the same kind. */
int gl_db_put_restriction(gl_db *db, const char *channel, const char *user_id, bool is_timeout,
                          const char *reason, const char *by, const char *at,
                          const char *expires_at, gl_err *err);

/* Lift the user's unexpired ban and timeout in channel; *removed counts the rows. */
int gl_db_remove_restrictions(gl_db *db, const char *channel, const char *user_id,
                              const char *now_iso, int *removed, gl_err *err);

/* What the database says about user_id in channel at now (access list, ban, timeout). */
int gl_db_user_facts(gl_db *db, const char *channel, const char *user_id, int64_t now_ms,
                     gl_acl_facts *out, gl_err *err);

/* The stored override of channel into *out (GL_OVERRIDE_INIT when none; gl_override_free it). */
int gl_db_get_override(gl_db *db, const char *channel, gl_override *out, gl_err *err);

/* Store ov as the channel's override (a row with every field unset is deleted). */
int gl_db_put_override(gl_db *db, const char *channel, const gl_override *ov, const char *by,
                       const char *at, gl_err *err);

int gl_db_access_add(gl_db *db, const char *channel, const char *user_id, const char *by,
                     const char *at, gl_err *err);
int gl_db_access_remove(gl_db *db, const char *channel, const char *user_id, int *removed,
                        gl_err *err);

/* Channel roles (db_roles.c): role is GL_CHANNEL_ROLE_MODERATOR or _VIP. *added and
 * *removed are 0 when the row was already there / was not there. */
#define GL_CHANNEL_ROLE_MODERATOR "moderator"
#define GL_CHANNEL_ROLE_VIP "vip"
typedef int (*gl_db_role_fn)(void *arg, const char *user_id, const char *granted_by,
                             const char *granted_at);
int gl_db_role_add(gl_db *db, const char *channel, const char *role, const char *user_id,
                   const char *by, const char *at, int *added, gl_err *err);
int gl_db_role_remove(gl_db *db, const char *channel, const char *role, const char *user_id,
                      int *removed, gl_err *err);
int gl_db_role_has(gl_db *db, const char *channel, const char *role, const char *user_id, bool *has,
                   gl_err *err);
/* Everyone with role in channel, oldest grant first. */
int gl_db_roles(gl_db *db, const char *channel, const char *role, gl_db_role_fn fn, void *arg,
                gl_err *err);

/* One moderation_log row. Any field but channel, action, actor_id, created_at may be NULL/0. */
typedef struct gl_audit {
    const char *channel;
    const char *action; /* delete_message, ban, unban, timeout, settings, access_add, ... */
    const char *target_user;
    int64_t message_id;
    const char *actor_id;
    const char *actor_name;
    const char *reason;
    const char *detail; /* JSON text */
    const char *created_at;
} gl_audit;
int gl_db_audit(gl_db *db, const gl_audit *a, gl_err *err);

/* Reads for moderators (db_modreads.c). Each row's strings are borrowed for the callback only;
 * NULL where the column is NULL. A callback's non-zero return stops the read and is returned. */
typedef struct gl_db_ban_row {
    const char *user_id, *kind; /* kind: "ban" or "timeout" */
    const char *reason, *created_by, *created_at, *expires_at;
} gl_db_ban_row;
typedef int (*gl_db_ban_fn)(void *arg, const gl_db_ban_row *row);
/* channel's unexpired bans and timeouts, oldest first. */
int gl_db_bans(gl_db *db, const char *channel, gl_db_ban_fn fn, void *arg, gl_err *err);

typedef struct gl_db_audit_row {
    int64_t id;
    const char *action, *target_user;
    int64_t message_id; /* 0 when none */
    const char *actor_id, *actor_name, *reason, *detail, *created_at;
} gl_db_audit_row;
typedef int (*gl_db_audit_fn)(void *arg, const gl_db_audit_row *row);
/* Up to limit of channel's moderation_log rows with id < before, newest first. */
int gl_db_audit_page(gl_db *db, const char *channel, int64_t before, int limit, gl_db_audit_fn fn,
                     void *arg, gl_err *err);

/* ---- group commit of messages: pushd's history writer, golive-api's publisher (db_batch.c) */

/* One message of a batch. */
typedef struct gl_db_batch_item {
    gl_msg *m;             /* stored; on GL_OK m->id is its row id */
    int keep;              /* then m's channel is pruned to this many rows */
    const gl_audit *audit; /* also written when not NULL */
    /* When not NULL, runs first in the item's transaction (a state change the message announces:
     * both or neither are written); setting *store false writes nothing more for the item. */
    int (*before)(gl_db *db, void *arg, bool *store, gl_err *err);
    /* When not NULL, runs after the insert, m->id known, in the same transaction. */
    int (*after)(gl_db *db, void *arg, const gl_msg *m, gl_err *err);
    void *before_arg; /* both hooks' */
    bool skipped;     /* out: before said not to store (m->id untouched) */
    int rv;           /* out: GL_OK or this item's error */
    gl_err err;       /* out: the detail when rv != GL_OK */
} gl_db_batch_item;

/* Store n items in one transaction, each channel pruned once after all its inserts (the same
 * rows survive as when every insert prunes). Should an item fail, the batch is rolled back and
 * each item stored in a transaction of its own, so that a failure reaches only its owner. */
void gl_db_store_batch(gl_db *db, gl_db_batch_item **items, size_t n);

/* ---- chat-wide moderation: a user's recent messages, clear chat, pins (db_chat.c) ---- */

/* Soft-delete user_id's messages among channel's newest GL_RECENT_SCAN (what viewers may still
 * have on screen), by by at at; each deleted id to fn, in no order. */
typedef int (*gl_db_id_fn)(void *arg, int64_t id);
int gl_db_delete_user_messages(gl_db *db, const char *channel, const char *user_id, const char *by,
                               const char *at, gl_db_id_fn fn, void *arg, gl_err *err);

/* Soft-delete every message of channel (clear chat); *count of them, *through the channel's
 * newest id. */
int gl_db_clear_chat(gl_db *db, const char *channel, const char *by, const char *at, int *count,
                     int64_t *through, gl_err *err);

/* Pin message id of channel (replacing any pin); GL_ENOTFOUND when the channel has no such
 * message (or it is deleted). */
int gl_db_pin(gl_db *db, const char *channel, int64_t id, const char *by, const char *at,
              gl_err *err);

/* Unpin; *removed 0 when nothing was pinned. */
int gl_db_unpin(gl_db *db, const char *channel, int *removed, gl_err *err);

/* The pinned message of each channel (channel NULL: every channel), while it is not deleted. */
int gl_db_each_pin(gl_db *db, const char *channel, gl_db_msg_fn fn, void *arg, gl_err *err);

/* ---- messages held for review (db_held.c) ---- */

/* A message to hold: a gl_db_batch_item's before hook (gl_db_held_store) writes it to
 * held_messages instead of messages and leaves the item skipped; *id_out is the held row. */
typedef struct gl_held {
    const gl_msg *m;
    const char *term; /* the blocked term it matched */
    int64_t id;       /* out */
} gl_held;
int gl_db_held_store(gl_db *db, void *held, bool *store, gl_err *err);

typedef struct gl_held_row {
    int64_t id;
    const char *user_id, *username, *data, *term, *created_at, *status;
} gl_held_row;
typedef int (*gl_db_held_fn)(void *arg, const gl_held_row *row);

/* Up to limit of channel's pending held messages, oldest first. */
int gl_db_held_pending(gl_db *db, const char *channel, int limit, gl_db_held_fn fn, void *arg,
                       gl_err *err);

/* Held message id of channel to fn; GL_ENOTFOUND when there is none. */
int gl_db_held_get(gl_db *db, const char *channel, int64_t id, gl_db_held_fn fn, void *arg,
                   gl_err *err);

/* A moderator's decision on held message id: approved (the message is published with it) or
 * denied. As a batch item's hooks for an approval: gl_db_held_decide first (stores only when the
 * row was still pending), then gl_db_held_link (records the message id and the audit row). */
typedef struct gl_held_decision {
    const char *channel;
    int64_t id;
    bool approve;
    const char *by, *at;
    gl_audit *audit; /* its message_id is set by gl_db_held_link */
    bool decided;    /* out: the row was pending and is now decided */
} gl_held_decision;
int gl_db_held_decide(gl_db *db, void *decision, bool *store, gl_err *err);
int gl_db_held_link(gl_db *db, void *decision, const gl_msg *m, gl_err *err);

/* ---- golive-api: stream keys and stream state (db_streaming.c) ---- */

/* A public stream: its owner (from its newest key) and what the media server last reported. */
typedef struct gl_stream {
    char name[GL_STREAM_NAME_MAX + 1];
    char user_id[GL_USER_ID_MAX];
    char username[GL_USERNAME_MAX];
    bool live;
    char started_at[GL_TIME_MAX]; /* "" when never */
    char ended_at[GL_TIME_MAX];   /* "" while live or never ended */
    int64_t active_key;           /* the unrevoked key's id, 0 when every key is revoked */
    bool session_key_active;      /* the key that opened the live session is unrevoked */
} gl_stream;

/* A key row as listed (never the key itself). Strings are valid during the callback only. */
typedef struct gl_stream_key_row {
    int64_t id;
    const char *user_id, *username, *stream_name, *created_at;
    const char *revoked_at, *revoked_by; /* NULL while active */
    bool live;                           /* the key's stream is live */
} gl_stream_key_row;

/* Store a key (by its hash) for stream name on behalf of user, in the caller's transaction.
 * GL_ECONFLICT when the name belongs to another user or already has an unrevoked key. */
int gl_db_stream_key_add(gl_db *db, const char *user_id, const char *username, const char *name,
                         const char *key_hash, const char *at, int64_t *id, gl_err *err);

/* Keys of user_id (NULL: everyone's), newest first. */
typedef int (*gl_db_stream_key_fn)(void *arg, const gl_stream_key_row *k);
int gl_db_stream_keys(gl_db *db, const char *user_id, int limit, gl_db_stream_key_fn fn, void *arg,
                      gl_err *err);

/* Revoke key id, when owner is NULL (an admin) or owns it. *outcome: 0 no such key of
 * owner's, 1 revoked now, 2 was already revoked. name (on 1 and 2) gets the stream name. */
int gl_db_stream_key_revoke(gl_db *db, int64_t id, const char *owner, const char *by,
                            const char *at, int *outcome, char name[GL_STREAM_NAME_MAX + 1],
                            gl_err *err);

/* The key with this hash: its stream name, id and whether it is unrevoked. */
int gl_db_stream_key_find(gl_db *db, const char *key_hash, char name[GL_STREAM_NAME_MAX + 1],
                          int64_t *id, bool *active, bool *found, gl_err *err);

/* The stream called name (one with at least one key, revoked or not). */
int gl_db_stream_get(gl_db *db, const char *name, gl_stream *out, bool *found, gl_err *err);

/* Record that s (name, user_id, username) went live with key key_id (live) or ended at at.
 * *changed is false when it was already in that state (a repeated hook), so that nothing is
 * announced twice. */
int gl_db_stream_set_live(gl_db *db, const gl_stream *s, bool live, int64_t key_id, const char *at,
                          bool *changed, gl_err *err);

/* Live streams, newest first. */
typedef int (*gl_db_stream_fn)(void *arg, const gl_stream *s);
int gl_db_streams_live(gl_db *db, int limit, gl_db_stream_fn fn, void *arg, gl_err *err);

#endif
