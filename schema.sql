-- GoLive database schema (SQLite 3.40+). Operators read it with the sqlite3 CLI:
--   sqlite3 var/golive.db "SELECT id, username, data, created_at FROM messages
--                          WHERE channel = 'chat:stream_abc' ORDER BY id DESC LIMIT 50"
-- Timestamps are ISO-8601 UTC text with milliseconds ("2026-11-24T10:30:00.123Z").
-- PRAGMA user_version records the schema version; later versions migrate from it.
PRAGMA journal_mode = WAL;

BEGIN;

-- Chat history. AUTOINCREMENT so that an id is never reused after max_history pruning:
-- clients resume with "since": <last id seen>, which must stay meaningful.
CREATE TABLE IF NOT EXISTS messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    user_id     TEXT,                 -- NULL for system messages (broadcasts, stream events)
    username    TEXT,
    kind        TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'system')),
    data        TEXT NOT NULL,        -- the published JSON object, as sent
    created_at  TEXT NOT NULL,
    deleted_at  TEXT,                 -- soft delete by a moderator: hidden from history and clients
    deleted_by  TEXT
);
CREATE INDEX IF NOT EXISTS messages_channel_id ON messages (channel, id);

-- How far each channel's history has been cut: every message of the channel with an id up to
-- pruned_through is gone (max_history pruning, or a DELETE by hand). A client resuming with
-- "since" below it may have missed messages, and its subscribe reply says "complete": false.
-- Soft deletes by moderators (deleted_at) do not count: those messages were removed on purpose.
-- stored is the channel's row count in messages (soft-deleted ones too), kept by the triggers,
-- so that max_history pruning deletes the oldest rows without walking the ones it keeps.
CREATE TABLE IF NOT EXISTS channel_history (
    channel         TEXT PRIMARY KEY,
    pruned_through  INTEGER NOT NULL,
    stored          INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS messages_counted AFTER INSERT ON messages BEGIN
    INSERT INTO channel_history (channel, pruned_through, stored) VALUES (new.channel, 0, 1)
        ON CONFLICT (channel) DO UPDATE SET stored = stored + 1;
END;
CREATE TRIGGER IF NOT EXISTS messages_pruned AFTER DELETE ON messages BEGIN
    INSERT INTO channel_history (channel, pruned_through, stored) VALUES (old.channel, old.id, 0)
        ON CONFLICT (channel) DO UPDATE SET pruned_through = MAX(pruned_through, old.id),
                                            stored = MAX(stored - 1, 0);
END;

-- Per-channel overrides of the YAML rules, set over REST (PUT .../settings). NULL = YAML decides.
CREATE TABLE IF NOT EXISTS channel_settings (
    channel        TEXT PRIMARY KEY,
    private        INTEGER CHECK (private IN (0, 1)),
    max_history    INTEGER CHECK (max_history > 0),
    allow_publish  INTEGER CHECK (allow_publish IN (0, 1)),
    allowed_roles  TEXT,              -- JSON array of role names
    -- Chat modes (docs/moderation.md "Chat modes"); NULL = the YAML's chat_modes decide.
    slow_mode             INTEGER CHECK (slow_mode >= 0),  -- seconds between a user's messages
    members_only          INTEGER CHECK (members_only IN (0, 1)),
    unique_chat           INTEGER CHECK (unique_chat IN (0, 1)),
    max_message_length    INTEGER CHECK (max_message_length >= 0),  -- characters of content
    max_message_bytes     INTEGER CHECK (max_message_bytes >= 0),   -- bytes of data
    blocked_terms         TEXT,       -- JSON array of terms ('*' matches any run)
    blocked_terms_action  TEXT CHECK (blocked_terms_action IN ('refuse', 'hold')),
    updated_by     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

-- Users granted access to a private channel, in addition to the YAML allowed_users.
CREATE TABLE IF NOT EXISTS channel_access (
    channel     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (channel, user_id)
);

-- Bans (no subscribe, no publish) and timeouts (no publish until expires_at), per channel.
-- A ban with expires_at NULL lasts until unban; rows are deleted on unban or once expired.
CREATE TABLE IF NOT EXISTS bans (
    channel     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('ban', 'timeout')),
    reason      TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    PRIMARY KEY (channel, user_id, kind)
);

-- Channel roles a broadcaster (the owner of chat:stream_<name>'s stream) or an admin appoints:
-- a channel moderator may moderate that channel only; a VIP is exempt from its chat modes.
CREATE TABLE IF NOT EXISTS channel_roles (
    channel     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('moderator', 'vip')),
    granted_by  TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (channel, role, user_id)
);

-- The one pinned message of a channel (shown to new subscribers and in channel info while the
-- message is not deleted).
CREATE TABLE IF NOT EXISTS channel_pins (
    channel     TEXT PRIMARY KEY,
    message_id  INTEGER NOT NULL,
    pinned_by   TEXT NOT NULL,
    pinned_at   TEXT NOT NULL
);

-- Messages held for a moderator's review: they matched a blocked term in a channel whose
-- blocked_terms_action is 'hold'. Approved ones are published (message_id: their messages row).
CREATE TABLE IF NOT EXISTS held_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    username    TEXT,
    data        TEXT NOT NULL,        -- the published JSON object, as sent
    term        TEXT NOT NULL,        -- the blocked term it matched
    created_at  TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    decided_by  TEXT,
    decided_at  TEXT,
    message_id  INTEGER
);
CREATE INDEX IF NOT EXISTS held_messages_channel ON held_messages (channel, status, id);

-- One row per moderation action: who did what to whom, when and why. Never updated.
CREATE TABLE IF NOT EXISTS moderation_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel      TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('delete_message', 'ban', 'unban', 'timeout',
                                                 'settings', 'access_add', 'access_remove',
                                                 'broadcast', 'moderator_add',
                                                 'moderator_remove', 'vip_add', 'vip_remove',
                                                 'held_approve', 'held_deny', 'clear_chat',
                                                 'pin', 'unpin')),
    target_user  TEXT,
    message_id   INTEGER,
    actor_id     TEXT NOT NULL,
    actor_name   TEXT,
    reason       TEXT,
    detail       TEXT,                -- JSON: duration, new settings, ...
    created_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS moderation_log_channel ON moderation_log (channel, id);

-- Streaming. A stream name belongs to the user who first made a key for it; it is the HLS path
-- (/live/<name>/index.m3u8) and names the chat channel chat:stream_<name>. At most one unrevoked
-- key per stream name. Only the SHA-256 of a key is stored: the key itself is shown once.
CREATE TABLE IF NOT EXISTS stream_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT NOT NULL,
    username     TEXT NOT NULL,
    stream_name  TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    revoked_by   TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS stream_keys_active ON stream_keys (stream_name)
    WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS stream_keys_user ON stream_keys (user_id, id);

-- Stream state as the media server reports it (auth hook and webhooks through golive-api).
CREATE TABLE IF NOT EXISTS streams (
    stream_name  TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    username     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('live', 'ended')),
    key_id       INTEGER,             -- the stream_keys row that opened the current session
    started_at   TEXT,
    ended_at     TEXT
);

PRAGMA user_version = 6;

COMMIT;
