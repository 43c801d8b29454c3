/* golive-api's counters for its /metrics (routes_ops.c, docs/operations.md): requests by route
 * and status with a latency histogram, publish batch sizes, messages pushd did not take, nng
 * requests by op. C11 atomics that every worker thread updates without a lock; each process
 * counts its own (a CGI process, one request, has none: app->metrics is NULL). Below every
 * other file of golive-api but api.h. */
#ifndef API_COUNTERS_H
#define API_COUNTERS_H

#include "api.h"
#include "shared/promtext.h"

#include <stdint.h>

int api_metrics_new(api_metrics **out, size_t n_routes, gl_err *err);
void api_metrics_free(api_metrics *m);

/* A request answered status after elapsed_us; route is its index in the route table, or -1
 * when none matched. m may be NULL. */
void api_metrics_request(api_metrics *m, int route, int status, int64_t elapsed_us);

/* One publisher batch of n messages (m may be NULL). */
void api_metrics_batch(api_metrics *m, size_t n);

/* A stored REST message pushd did not take ("pushed": false); m may be NULL. */
void api_metrics_not_pushed(api_metrics *m);

/* A request to pushd with op (GL_OP_*) that ok or failed; m may be NULL. */
void api_metrics_notify(api_metrics *m, const char *op, bool ok);

/* Every series in Prometheus' text format into t; routes is the table m was made for (its
 * labels). */
void api_metrics_print(api_metrics *m, const api_route_def *routes, gl_text *t);

#endif
