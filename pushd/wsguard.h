/* RFC 6455 framing rules enforced on client sockets before lws parses them (wsscan.h lists the
 * rules lws 4.1.6 does not check). wsguard.c says how. */
#ifndef PD_WSGUARD_H
#define PD_WSGUARD_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

/* Told when a connection is failed: queue nothing more to it (our Close is out). */
typedef void (*pd_wsguard_fail_fn)(struct lws *wsi);

/* Once, on the event-loop thread, before any connection: room for fds below max_fds. */
int pd_wsguard_init(size_t max_fds, uint64_t max_message, pd_wsguard_fail_fn failed);

/* From ESTABLISHED to CLOSED, wsi's client frames are checked. */
void pd_wsguard_watch(struct lws *wsi);
void pd_wsguard_unwatch(struct lws *wsi);

void pd_wsguard_destroy(void);

#endif
