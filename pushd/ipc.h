/* The nng rep listener for golive-api (docs/wire.md): requests arrive on nng's threads, are
 * handed to the event loop, handled there (where all channel state lives) and answered. */
#ifndef PD_IPC_H
#define PD_IPC_H

#include "context.h"

int pd_ipc_start(pd_server *srv, pd_ipc **out, gl_err *err);

/* On the loop: handle every request that has arrived. */
void pd_ipc_service(pd_ipc *ipc);

/* How often the watchdog found the listener deaf and listened again (any thread; NULL: 0). */
uint64_t pd_ipc_relistens(pd_ipc *ipc);

/* Stop probing the listener: during shutdown's drain a busy loop answers the probe late, and
 * the watchdog would replace a working listener. NULL is a no-op. */
void pd_ipc_stop_watchdog(pd_ipc *ipc);

/* Close the socket and wait for nng's callbacks to finish; NULL is a no-op. */
void pd_ipc_stop(pd_ipc *ipc);

#endif
