/* The environment both binaries read: a variable or its default, and the runtime folder's paths
 * ($GOLIVE_RUNDIR, default "var") that the database, the sockets and the nng address default to.
 * tools/run-stack.sh, tools/gen-webconf.sh and tools/init-db.sh spell the same defaults in shell.
 */
#ifndef GL_ENV_H
#define GL_ENV_H

#include <stddef.h>

#define GL_RUNDIR_DEFAULT "var"

/* getenv(name) when set and non-empty, else def (may be NULL). Borrowed. */
const char *gl_env_or(const char *name, const char *def);

/* $GOLIVE_RUNDIR, or GL_RUNDIR_DEFAULT. Borrowed. */
const char *gl_env_rundir(void);

/* The default of a runtime path: prefix, the runtime folder, '/', file ("ipc://" "var" "/"
 * "pushd.ipc") into out. Returns out; a path longer than cap is cut (the caller sizes out). */
char *gl_env_rundir_path(char *out, size_t cap, const char *prefix, const char *file);

/* The runtime defaults, one name each (file part of gl_env_rundir_path): */
#define GL_RUNDIR_DB "golive.db"          /* GOLIVE_DB */
#define GL_RUNDIR_IPC "pushd.ipc"         /* GOLIVE_IPC_URL, prefixed "ipc://" */
#define GL_RUNDIR_PUSHD_SOCK "pushd.sock" /* GOLIVE_PUSHD_LISTEN, prefixed "unix:" */
#define GL_RUNDIR_API_SOCK "api.sock"     /* golive-api's own FastCGI socket */

#endif
