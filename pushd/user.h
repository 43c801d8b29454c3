/* A connection's user, compact and shared: every idle socket of a big stream keeps one, and a
 * gl_user holds 224 bytes of fixed arrays (sub, username, role) where the strings need ~20.
 * Refcounted, so that a channel's presence entry points at it instead of copying the strings.
 * ACL checks still take a gl_user: pd_user_expand() fills one on the stack. */
#ifndef PD_USER_H
#define PD_USER_H

#include "shared/jwt.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct pd_user {
    int64_t exp;          /* seconds since epoch; 0 = none */
    unsigned perms;       /* GL_PERM_* */
    uint32_t refs;        /* the connection's, and one per presence entry pointing here */
    uint8_t name_off;     /* username = id + name_off; sub is < GL_USER_ID_MAX bytes */
    uint8_t role_off;     /* role = id + role_off */
    bool has_permissions; /* the token carried a permissions array */
    bool admin;           /* gl_acl_is_admin, decided once: the rate limits ask on every command */
    char id[];            /* sub, then username and role, each NUL-terminated */
} pd_user;

/* A compact copy of u with one reference (pd_user_unref it), or NULL when out of memory. */
pd_user *pd_user_new(const gl_user *u);

static inline pd_user *
pd_user_ref(pd_user *u)
{
    u->refs++;
    return u;
}

/* Drop a reference; the last one frees. NULL is a no-op. */
void pd_user_unref(pd_user *u);

static inline const char *
pd_user_name(const pd_user *u)
{
    return u->id + u->name_off;
}

static inline const char *
pd_user_role(const pd_user *u)
{
    return u->id + u->role_off;
}

/* u as a gl_user in *out, for the shared ACL functions; returns out, or NULL for anonymous. */
const gl_user *pd_user_expand(const pd_user *u, gl_user *out);

#endif
