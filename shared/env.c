/* Environment variables with defaults, and the runtime folder's default paths, for both mains. */
#include "env.h"

#include <stdio.h>
#include <stdlib.h>

const char *
gl_env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? v : def;
}

const char *
gl_env_rundir(void)
{
    return gl_env_or("GOLIVE_RUNDIR", GL_RUNDIR_DEFAULT);
}

char *
gl_env_rundir_path(char *out, size_t cap, const char *prefix, const char *file)
{
    snprintf(out, cap, "%s%s/%s", prefix, gl_env_rundir(), file);
    return out;
}
