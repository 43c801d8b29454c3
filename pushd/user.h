/* A connection's user, compact: every idle socket of a big stream keeps one, and a gl_user
 * holds 224 bytes of fixed arrays (sub, username, role) where the strings need ~20. ACL checks
 * still take a gl_user: pd_user_expand() fills one on the stack. */
#ifndef PD_USER_H
#define PD_USER_H

#include "shared/jwt.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct pd_user {
    int64_t exp;          /* seconds since epoch; 0 = none */
    unsigned perms;       /* GL_PERM_* */
    bool has_permissions; /* the token carried a permissions array */
    const char *username; /* into id[] */
    const char *role;     /* into id[] */
    char id[];            /* sub, then username and role, each NUL-terminated */
} pd_user;

/* A compact copy of u (free() it), or NULL when out of memory. */
pd_user *pd_user_new(const gl_user *u);

/* u as a gl_user in *out, for the shared ACL functions; returns out, or NULL for anonymous. */
const gl_user *pd_user_expand(const pd_user *u, gl_user *out);

#endif
