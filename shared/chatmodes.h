/* Chat modes of a channel (docs/moderation.md "Chat modes"): slow mode, members-only, unique
 * chat, message length limits and blocked terms. A layer (YAML namespace, YAML channel rule, the
 * stored override) sets some modes; layers merge into a channel's effective modes. The publish
 * check is pure: the caller passes what it knows of the user (standing, membership, their recent
 * messages) and the clock, so pushd and golive-api decide alike and tests need no waiting. */
#ifndef GL_CHATMODES_H
#define GL_CHATMODES_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GL_SLOW_MODE_MAX 3600    /* seconds: the longest slow mode */
#define GL_LENGTH_LIMIT 1000000  /* largest max_message_length / max_message_bytes */
#define GL_TERM_MAX 128          /* a blocked term: 127 bytes + NUL */
#define GL_TERMS_MAX 1000        /* blocked terms per list */
#define GL_UNIQUE_RECENT 5       /* unique chat compares with a user's last 5 messages */
#define GL_RECENT_KEEP_MS 600000 /* ... sent within 10 minutes */

typedef char gl_term[GL_TERM_MAX];

/* Modes as a layer: -1 in a field leaves it to the layer below; has_terms false likewise. The
 * effective modes (gl_modes_resolve) have every field set: 0 is off. */
typedef struct gl_modes {
    int slow_mode;    /* seconds between one user's messages */
    int members_only; /* 0/1: only members (staff, channel roles, allowed_roles/users, access
                         list) may publish; the others still read */
    int unique_chat;  /* 0/1: refuse a message equal to one of the user's recent ones */
    int max_length;   /* most characters (code points) of data.content */
    int max_bytes;    /* most bytes of data as written */
    int hold_blocked; /* 0/1: a message with a blocked term is held for review, not refused */
    bool has_terms;
    size_t n_terms;
    gl_term *terms; /* the channel's blocked terms; owned by whoever made the layer */
} gl_modes;

#define GL_MODES_UNSET ((gl_modes){-1, -1, -1, -1, -1, -1, false, 0, NULL})

/* Copy the fields layer sets into m (terms are borrowed from layer). */
void gl_modes_apply(gl_modes *m, const gl_modes *layer);

/* Effective modes: everything off, then each layer in order (NULL layers are skipped). */
void gl_modes_resolve(gl_modes *out, const gl_modes *ns, const gl_modes *rule, const gl_modes *ov);

/* Whether any mode or blocked term (the channel's, or n_global global ones) applies at all: a
 * channel without any skips the check. */
bool gl_modes_active(const gl_modes *m, size_t n_global);

/* The effective modes as clients see them (subscribe reply, channel info, the chat_modes event):
 * {"slow_mode","members_only","unique_chat","max_message_length","max_message_bytes",
 * "blocked_terms_action"}; the terms themselves are not shown. NULL when out of memory. */
cJSON *gl_modes_json(const gl_modes *m);

/* Whether any mode needs the user's recent messages (slow mode, unique chat). */
bool gl_modes_track_recent(const gl_modes *m);

/* A blocked term as typed: 1..127 bytes, no control characters, not only '*'. Returns NULL or
 * what is wrong. */
const char *gl_term_problem(const char *term);

/* Who the user is in the channel, for exemptions (docs/moderation.md "Who moderates"). */
typedef enum gl_standing {
    GL_STANDING_NONE,
    GL_STANDING_VIP,         /* exempt from slow mode, members-only, unique chat */
    GL_STANDING_MODERATOR,   /* global staff or channel moderator: exempt from every mode */
    GL_STANDING_BROADCASTER, /* the stream's owner: exempt from every mode */
} gl_standing;

/* A user's recent messages in a channel: when they last posted and the hashes of their last
 * GL_UNIQUE_RECENT contents, newest first. `gl_recent r = {0};` is a user who never posted. */
typedef struct gl_recent {
    int64_t last_ms; /* 0: never */
    uint64_t hashes[GL_UNIQUE_RECENT];
    int64_t at_ms[GL_UNIQUE_RECENT];
    unsigned n;
} gl_recent;

/* The hash unique chat compares: of data.content when it is a string, else of data's text. */
uint64_t gl_modes_content_hash(const char *data);

/* Record a message (data, at now_ms) in r; data NULL records only the time (no unique-chat
 * hash: the channel had no mode that needs it). */
void gl_recent_note(gl_recent *r, const char *data, int64_t now_ms);

/* Which mode refused a message (for the refusal counters). */
typedef enum gl_mode_kind {
    GL_MODE_NONE,
    GL_MODE_SLOW,
    GL_MODE_MEMBERS_ONLY,
    GL_MODE_UNIQUE,
    GL_MODE_LENGTH, /* max_message_length or max_message_bytes */
    GL_MODE_BLOCKED_TERMS,
    GL_MODE_COUNT
} gl_mode_kind;

/* The names of gl_mode_kind as counters show them ("slow_mode", ...). */
extern const char *const gl_mode_kind_names[GL_MODE_COUNT];

/* What the check decided. */
typedef struct gl_mode_verdict {
    bool hold;               /* publish it into review, not into the channel */
    uint32_t retry_after_ms; /* slow mode: when the user may post again */
    const char *term;        /* the blocked term matched (hold or refusal), borrowed */
    gl_mode_kind refused_by; /* GL_MODE_NONE when it may be published (or held) */
} gl_mode_verdict;

/* May a user of standing st (member: admitted by the members-only lists) publish data (a JSON
 * object's exact text) at now_ms, given their recent messages (NULL: none known) and the
 * global blocked terms? GL_OK (v->hold tells whether it goes to review), GL_ERATE (slow mode;
 * v->retry_after_ms), GL_ETOOBIG (length), GL_EFORBIDDEN (members-only, unique chat, blocked
 * term), each with a message for the user. */
int gl_modes_check(const gl_modes *m, const gl_term *global_terms, size_t n_global, gl_standing st,
                   bool member, const char *data, const gl_recent *recent, int64_t now_ms,
                   gl_mode_verdict *v, gl_err *err);

#endif
