/* Role names: the one rule for a token's role claim, YAML allowed_roles and the REST settings'
 * allowed_roles, so that every role the config or an override names can match some token.
 * Below jwt, config and acl (all three use it); what a role may do is acl.h's. */
#ifndef GL_ROLE_H
#define GL_ROLE_H

#include <stdbool.h>

#define GL_ROLE_MAX 32 /* role: 31 bytes + NUL */
#define GL_ROLE_CHARS "[a-z0-9_-]"

/* s is 1 to GL_ROLE_MAX - 1 bytes of [a-z0-9_-]. */
bool gl_role_name_ok(const char *s);

#endif
