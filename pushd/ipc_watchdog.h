/* A watchdog for pushd's nng ipc:// listener. nng 1.5.2 (Debian 12) stops accepting for good
 * when a peer disconnects during the SP handshake (nanomsg/nng#1518, fixed after 1.5.2): a
 * golive-api killed or exiting right after start is enough. The watchdog sends a real request
 * through the listener every few seconds and asks for a new listener when none is answered. */
#ifndef PD_IPC_WATCHDOG_H
#define PD_IPC_WATCHDOG_H

#include "shared/err.h"

typedef struct pd_ipc_watchdog pd_ipc_watchdog;

/* Probe the unix socket at path every interval_ms; call relisten(arg) from the watchdog thread
 * when a probe gets no handshake back. Returns GL_OK or GL_ENOMEM. */
int pd_ipc_watchdog_start(const char *path, int interval_ms, void (*relisten)(void *arg), void *arg,
                          pd_ipc_watchdog **out);

/* Stop and join the thread; NULL is a no-op. */
void pd_ipc_watchdog_stop(pd_ipc_watchdog *w);

#endif
