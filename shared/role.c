/* The role name rule (role.h). */
#include "role.h"

#include <string.h>

bool
gl_role_name_ok(const char *s)
{
    size_t len = strnlen(s, GL_ROLE_MAX);

    if (len == 0 || len >= GL_ROLE_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}
