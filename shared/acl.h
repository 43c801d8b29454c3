/* Who may read (subscribe, presence, history) and publish in a channel. The decision is pure:
 * the effective policy (YAML rule merged with stored overrides) and the facts about the user
 * (access list, ban, timeout) come in by argument, so pushd and golive-api decide alike. */
#ifndef GL_ACL_H
#define GL_ACL_H

#include "config.h"
#include "err.h"
#include "jwt.h"

#include <stdbool.h>
#include <stdint.h>

/* Per-channel overrides stored in SQLite (PUT .../settings). Unset fields leave YAML in charge. */
typedef struct gl_override {
    int private_;      /* -1 unset, else 0/1 */
    int allow_publish; /* -1 unset, else 0/1 */
    int max_history;   /* 0 unset */
    bool has_roles;
    size_t n_roles;
    char (*roles)[GL_NAME_MAX]; /* malloc'd; gl_override_free */
    gl_modes modes;             /* chat modes; terms malloc'd; gl_override_free */
} gl_override;

#define GL_OVERRIDE_INIT                                                                           \
    {                                                                                              \
        -1, -1, 0, false, 0, NULL, GL_MODES_UNSET                                                  \
    }

void gl_override_free(gl_override *ov);

/* A deep copy of src into *dst (gl_override_free). GL_OK or GL_ENOMEM (then *dst is unset). */
int gl_override_copy(gl_override *dst, const gl_override *src);

/* Whether ov overrides nothing (its row can go). */
bool gl_override_is_empty(const gl_override *ov);

/* The effective rules for one channel. Borrows from the config and the override it was
 * resolved from: valid while both live. */
typedef struct gl_policy {
    const gl_namespace *ns; /* NULL: no namespace (no max_clients) */
    bool private_;
    bool allow_publish;
    int max_history;
    const char (*roles)[GL_NAME_MAX];
    size_t n_roles;
    const char (*users)[GL_USER_ID_MAX];
    size_t n_users;
    gl_modes modes;              /* effective chat modes: namespace, rule, then override */
    const gl_term *global_terms; /* the YAML's blocked_terms */
    size_t n_global_terms;
} gl_policy;

/* Resolve the policy of channel: first matching rule, its namespace (or the namespace named by
 * the channel's prefix), then the override (may be NULL). */
void gl_policy_resolve(const gl_config *cfg, const char *channel, const gl_override *ov,
                       gl_policy *out);

/* What is known about a user in a channel, besides the token. */
typedef struct gl_acl_facts {
    bool in_access_list;      /* granted over REST (channel_access) */
    bool banned;              /* an unexpired ban */
    int64_t timeout_until_ms; /* 0 = none */
} gl_acl_facts;

/* What a user may do by its token: one rule each, for both binaries (u may be NULL: no). */

/* Moderators and admins: they pass private and allow_publish checks. */
bool gl_acl_is_staff(const gl_user *u);

/* The admin role: sees and revokes every stream key. */
bool gl_acl_is_admin(const gl_user *u);

/* May create stream keys: the stream.create permission, or the streamer or admin role. */
bool gl_acl_may_stream(const gl_user *u);

/* May use the REST moderation routes (delete a message, time out, ban, unban): staff, or a
 * token with the chat.moderate permission. Broadcast, settings and access stay staff-only. */
bool gl_acl_may_moderate(const gl_user *u);

/* Is u a member for members-only mode: staff, in the access list, or admitted by the rule's
 * allowed_users or allowed_roles (the lists a private channel reads by)? */
bool gl_acl_is_member(const gl_policy *p, const gl_user *u, const gl_acl_facts *f);

/* May u (NULL = anonymous) read the channel? GL_OK, GL_EAUTH (anonymous on a private
 * channel) or GL_EFORBIDDEN, with a client-safe message. */
int gl_acl_check_read(const gl_policy *p, const gl_user *u, const gl_acl_facts *f, gl_err *err);

/* May u publish at now_ms? Read access first, then authentication, timeout, allow_publish
 * and the token's chat.publish permission. */
int gl_acl_check_publish(const gl_policy *p, const gl_user *u, const gl_acl_facts *f,
                         int64_t now_ms, gl_err *err);

#endif
