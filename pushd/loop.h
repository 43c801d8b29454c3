/* pushd's event loop: libev (epoll) under libwebsockets, instead of lws's default poll(),
 * which walks every socket on every pass (~0.45 µs per socket: 4.5 ms a pass at 10k clients,
 * docs/benchmarks.md). Also the one place that knows a pass has ended: queued frames are
 * flushed there. */
#ifndef PD_LOOP_H
#define PD_LOOP_H

#include "context.h"
#include "shared/err.h"

/* Called after every pass's callbacks, right before the loop waits for events (as Redis's
 * beforeSleep): the server flushes what the pass queued. */
typedef void (*pd_loop_hook)(pd_server *srv);

/* Create the loop; lws is given it through pd_loop_foreign() before lws_create_context. */
int pd_loop_create(pd_server *srv, pd_loop_hook end_of_pass, gl_err *err);

/* For lws_context_creation_info.foreign_loops (with LWS_SERVER_OPTION_LIBEV). */
void **pd_loop_foreign(pd_server *srv);

/* Run until pd_loop_break(). */
void pd_loop_run(pd_server *srv);

/* Run one pass, waiting for at least one event. */
void pd_loop_run_once(pd_server *srv);

/* Make pd_loop_run() return after the current pass. */
void pd_loop_break(pd_server *srv);

/* After lws_context_destroy(). NULL-safe. */
void pd_loop_destroy(pd_server *srv);

#endif
