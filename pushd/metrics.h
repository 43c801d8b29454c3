/* pushd's operator endpoints on their own HTTP listener (GOLIVE_PUSHD_METRICS_LISTEN, default
 * 127.0.0.1:9470, never the public port): GET /metrics in Prometheus' text format, /healthz
 * (alive: the loop answers) and /readyz (ready: SQLite answers too). docs/operations.md lists
 * the series. Loop thread; the counters it prints are plain integers in the server context. */
#ifndef PD_METRICS_H
#define PD_METRICS_H

#include "context.h"

/* Open the listener on srv->opt.metrics_listen ("host:port"; NULL: none) in srv->ctx.
 * GL_OK, or GL_EINVAL (a bad address), GL_EUNAVAIL (cannot listen). */
int pd_metrics_listen(pd_server *srv, gl_err *err);

#endif
