/* Compact per-connection users (user.h). */
#include "user.h"
#include "shared/acl.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(GL_USER_ID_MAX + GL_USERNAME_MAX <= 255, "string offsets must fit uint8_t");

pd_user *
pd_user_new(const gl_user *u)
{
    size_t id = strlen(u->id) + 1, name = strlen(u->username) + 1, role = strlen(u->role) + 1;
    pd_user *p = malloc(offsetof(pd_user, id) + id + name + role);

    if (p == NULL) return NULL;
    p->exp = u->exp;
    p->perms = u->perms;
    p->refs = 1;
    p->has_permissions = u->has_permissions;
    p->admin = gl_acl_is_admin(u);
    /* A gl_user's strings fit its arrays, so the offsets fit uint8_t (asserted above). */
    p->name_off = (uint8_t)id;
    p->role_off = (uint8_t)(id + name);
    memcpy(p->id, u->id, id);
    memcpy(p->id + id, u->username, name);
    memcpy(p->id + id + name, u->role, role);
    return p;
}

void
pd_user_unref(pd_user *u)
{
    if (u != NULL && --u->refs == 0) free(u);
}

const gl_user *
pd_user_expand(const pd_user *u, gl_user *out)
{
    if (u == NULL) return NULL;
    memset(out, 0, sizeof(*out));
    strcpy(out->id, u->id);
    strcpy(out->username, pd_user_name(u));
    strcpy(out->role, pd_user_role(u));
    out->has_permissions = u->has_permissions;
    out->perms = u->perms;
    out->exp = u->exp;
    return out;
}
