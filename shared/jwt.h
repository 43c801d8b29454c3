/* JWT for GoLive: HS256 only, pinned. Verification refuses every other alg (none, HS384,
 * RS256...), a wrong signature, and exp/nbf outside now. Claims: sub, username, role, exp, nbf,
 * permissions (array of strings). Built on libjwt 1.10, whose own checks are not enough
 * (LIBRARIES.md). */
#ifndef GL_JWT_H
#define GL_JWT_H

#include "err.h"
#include "role.h" /* GL_ROLE_MAX, the role name rule */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GL_USER_ID_MAX 128 /* sub: 127 bytes + NUL */
#define GL_USERNAME_MAX 64 /* username: 63 bytes + NUL */
#define GL_TOKEN_MAX 8192  /* longer tokens are refused before parsing */

/* Permissions GoLive knows, as bits; unknown names in a token are ignored. */
#define GL_PERM_CHAT_PUBLISH (1u << 0)  /* "chat.publish" */
#define GL_PERM_STREAM_CREATE (1u << 1) /* "stream.create" */
#define GL_PERM_CHAT_MODERATE (1u << 2) /* "chat.moderate" */

/* An authenticated user, as the token says. */
typedef struct gl_user {
    char id[GL_USER_ID_MAX];        /* sub, non-empty */
    char username[GL_USERNAME_MAX]; /* username claim, or sub when absent */
    char role[GL_ROLE_MAX];         /* role claim, or "user" when absent */
    bool has_permissions;           /* the token carried a permissions array */
    unsigned perms;                 /* GL_PERM_* bits named in it */
    int64_t exp;                    /* expiry, seconds since epoch; 0 = none */
} gl_user;

#define GL_JWT_DEFAULT_SECRET "change-me" /* the seed's insecure default for JWT_SECRET */

/* Verify token with secret at time now (seconds since epoch) and fill *user.
 * secret must be non-empty (libjwt skips verification with an empty key; we refuse it).
 * Returns GL_OK, or GL_EAUTH with a client-safe message ("token expired", "token signature is
 * invalid", "token algorithm must be HS256", "token has no valid sub claim", ...), or GL_ENOMEM.
 * On failure *user is zeroed. */
int gl_jwt_verify(const char *secret, const char *token, int64_t now, gl_user *user, gl_err *err);

/* How both binaries read an Authorization header (one rule for REST and WebSocket): absent, empty
 * or blank is anonymous (returns 0); "Bearer <token>" (scheme case-insensitive, blanks around
 * allowed) returns 1 with *token, *token_len its bytes inside header; anything else, "Bearer" with
 * no token included, returns -1: the client meant to authenticate and must be refused. */
int gl_jwt_bearer(const char *header, const char **token, size_t *token_len);

/* The permission bit for a name ("chat.publish"), or 0 if unknown. */
unsigned gl_jwt_perm_bit(const char *name);

/* What to mint. permissions may be NULL when with_permissions is false. exp 0 = no exp claim. */
typedef struct gl_jwt_claims {
    const char *sub;
    const char *username; /* NULL: omitted */
    const char *role;     /* NULL: omitted */
    bool with_permissions;
    const char *const *permissions;
    size_t n_permissions;
    int64_t iat;
    int64_t exp;
} gl_jwt_claims;

/* Mint an HS256 token. On GL_OK *token_out is a malloc'd string (free()). Returns GL_EINVAL
 * (empty secret, or a claim gl_jwt_verify would refuse: empty sub, bad role...) or GL_ENOMEM. */
int gl_jwt_mint(const char *secret, const gl_jwt_claims *claims, char **token_out, gl_err *err);

/* The JWT secret from the JWT_SECRET environment variable; when it is unset or empty, logs a
 * warning (gl_log, module "jwt") and returns GL_JWT_DEFAULT_SECRET. Borrowed: the environment's
 * or a static string. */
const char *gl_jwt_secret_from_env(void);

#endif
