/* Compact per-connection users (user.h). */
#include "user.h"

#include <stdlib.h>
#include <string.h>

pd_user *
pd_user_new(const gl_user *u)
{
    size_t id = strlen(u->id) + 1, name = strlen(u->username) + 1, role = strlen(u->role) + 1;
    pd_user *p = malloc(sizeof(*p) + id + name + role);

    if (p == NULL) return NULL;
    p->exp = u->exp;
    p->perms = u->perms;
    p->has_permissions = u->has_permissions;
    memcpy(p->id, u->id, id);
    memcpy(p->id + id, u->username, name);
    memcpy(p->id + id + name, u->role, role);
    p->username = p->id + id;
    p->role = p->id + id + name;
    return p;
}

const gl_user *
pd_user_expand(const pd_user *u, gl_user *out)
{
    if (u == NULL) return NULL;
    memset(out, 0, sizeof(*out));
    /* The strings came from a gl_user, so they fit its arrays. */
    strcpy(out->id, u->id);
    strcpy(out->username, u->username);
    strcpy(out->role, u->role);
    out->has_permissions = u->has_permissions;
    out->perms = u->perms;
    out->exp = u->exp;
    return out;
}
