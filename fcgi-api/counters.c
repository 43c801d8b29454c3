/* golive-api's counters (counters.h). Fixed tables of relaxed atomics: a request adds to its
 * route's status count and latency histogram; a scrape reads them all. */
#include "counters.h"
#include "shared/db_errors.h"
#include "shared/version.h"
#include "shared/wire.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int statuses[] = {200, 201, 202, 204, 400, 401, 403,
                               404, 405, 409, 413, 429, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + "other" */
/* Request latency, seconds: from 1 ms to 5 s, then +Inf. */
static const double latency_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,   0.25,   0.5,   1,    2.5,   5};
#define NLAT (sizeof(latency_le) / sizeof(latency_le[0]) + 1)
/* Messages per publisher batch (at most 64). */
static const unsigned batch_le[] = {1, 2, 4, 8, 16, 32, 64};
#define NBATCH (sizeof(batch_le) / sizeof(batch_le[0]) + 1)
#define NOPS (GL_WIRE_NOPS + 1) /* + "other" */

typedef _Atomic uint64_t counter;

typedef struct route_counts {
    counter by_status[NSTATUS];
    counter latency[NLAT]; /* per bucket, not cumulative: summed when printed */
    counter latency_us;    /* sum */
} route_counts;

struct api_metrics {
    size_t n_routes;
    route_counts *routes; /* n_routes + 1: the last is "no route matched" */
    counter batches[NBATCH];
    counter batch_messages;
    counter not_pushed;
    counter notify_ok[NOPS], notify_failed[NOPS];
};

int
api_metrics_new(api_metrics **out, size_t n_routes, gl_err *err)
{
    api_metrics *m = calloc(1, sizeof(*m));

    if (m == NULL || (m->routes = calloc(n_routes + 1, sizeof(*m->routes))) == NULL) {
        free(m);
        return gl_err_set(err, GL_ENOMEM, "out of memory");
    }
    m->n_routes = n_routes;
    *out = m;
    return GL_OK;
}

void
api_metrics_free(api_metrics *m)
{
    if (m == NULL) return;
    free(m->routes);
    free(m);
}

static void
add(counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t
get(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

void
api_metrics_request(api_metrics *m, int route, int status, int64_t elapsed_us)
{
    route_counts *rc;
    size_t s = 0, b = 0;

    if (m == NULL) return;
    rc = &m->routes[route >= 0 && (size_t)route < m->n_routes ? (size_t)route : m->n_routes];
    while (s < NSTATUS - 1 && statuses[s] != status)
        s++;
    while (b < NLAT - 1 && (double)elapsed_us / 1e6 > latency_le[b])
        b++;
    add(&rc->by_status[s], 1);
    add(&rc->latency[b], 1);
    add(&rc->latency_us, elapsed_us > 0 ? (uint64_t)elapsed_us : 0);
}

void
api_metrics_batch(api_metrics *m, size_t n)
{
    size_t b = 0;

    if (m == NULL) return;
    while (b < NBATCH - 1 && n > batch_le[b])
        b++;
    add(&m->batches[b], 1);
    add(&m->batch_messages, n);
}

void
api_metrics_not_pushed(api_metrics *m)
{
    if (m != NULL) add(&m->not_pushed, 1);
}

void
api_metrics_notify(api_metrics *m, const char *op, bool ok)
{
    size_t i = gl_wire_op_index(op);

    if (m == NULL) return;
    add(ok ? &m->notify_ok[i] : &m->notify_failed[i], 1);
}

/* ---- the text */

/* The route label: "METHOD /service/pattern", or "unmatched". */
static void
route_label(const api_route_def *routes, size_t n, size_t i, char *buf, size_t cap)
{
    if (i >= n) {
        snprintf(buf, cap, "unmatched");
        return;
    }
    snprintf(buf, cap, "%s /%s/%s", routes[i].method, routes[i].service, routes[i].pattern);
}

static void
print_requests(api_metrics *m, const api_route_def *routes, gl_text *t)
{
    char label[200];

    gl_prom_family(t, "golive_api_requests_total", "counter",
                   "REST requests answered, by route and HTTP status.");
    for (size_t i = 0; i <= m->n_routes; i++) {
        route_label(routes, m->n_routes, i, label, sizeof(label));
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t n = get(&m->routes[i].by_status[s]);
            if (n == 0) continue; /* a route x status grid would be mostly zeros */
            if (s < NSTATUS - 1)
                gl_text_printf(t, "golive_api_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                               label, statuses[s], (unsigned long long)n);
            else
                gl_text_printf(t, "golive_api_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                               label, (unsigned long long)n);
        }
    }
    gl_prom_family(t, "golive_api_request_duration_seconds", "histogram",
                   "REST request latency inside golive-api, by route.");
    for (size_t i = 0; i <= m->n_routes; i++) {
        uint64_t cum = 0;
        route_label(routes, m->n_routes, i, label, sizeof(label));
        for (size_t b = 0; b < NLAT; b++) {
            cum += get(&m->routes[i].latency[b]);
            if (b < NLAT - 1)
                gl_text_printf(
                    t, "golive_api_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                    label, latency_le[b], (unsigned long long)cum);
            else
                gl_text_printf(
                    t,
                    "golive_api_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    label, (unsigned long long)cum);
        }
        gl_text_printf(t, "golive_api_request_duration_seconds_sum{route=\"%s\"} %.6f\n", label,
                       (double)get(&m->routes[i].latency_us) / 1e6);
        gl_text_printf(t, "golive_api_request_duration_seconds_count{route=\"%s\"} %llu\n", label,
                       (unsigned long long)cum);
    }
}

void
api_metrics_print(api_metrics *m, const api_route_def *routes, gl_text *t)
{
    uint64_t cum = 0;

    gl_prom_family(t, "golive_api_build_info", "gauge", "golive-api's version, as a label.");
    gl_text_printf(t, "golive_api_build_info{version=\"%s\"} 1\n", gl_version);
    print_requests(m, routes, t);
    gl_prom_family(
        t, "golive_api_publish_batch_size", "histogram",
        "Messages per group commit of REST publishes (one transaction, one nng exchange).");
    for (size_t b = 0; b < NBATCH; b++) {
        cum += get(&m->batches[b]);
        if (b < NBATCH - 1)
            gl_text_printf(t, "golive_api_publish_batch_size_bucket{le=\"%u\"} %llu\n", batch_le[b],
                           (unsigned long long)cum);
        else
            gl_text_printf(t, "golive_api_publish_batch_size_bucket{le=\"+Inf\"} %llu\n",
                           (unsigned long long)cum);
    }
    gl_text_printf(t, "golive_api_publish_batch_size_sum %llu\n",
                   (unsigned long long)get(&m->batch_messages));
    gl_text_printf(t, "golive_api_publish_batch_size_count %llu\n", (unsigned long long)cum);
    gl_prom_family(t, "golive_api_not_pushed_total", "counter",
                   "REST messages stored that pushd did not take (\"pushed\": false).");
    gl_text_printf(t, "golive_api_not_pushed_total %llu\n",
                   (unsigned long long)get(&m->not_pushed));
    gl_prom_family(t, "golive_api_pushd_requests_total", "counter",
                   "Requests to golive-pushd over nng, by op and result.");
    for (size_t i = 0; i < NOPS; i++) {
        const char *op = i < GL_WIRE_NOPS ? gl_wire_ops[i] : "other";
        gl_text_printf(t, "golive_api_pushd_requests_total{op=\"%s\",result=\"ok\"} %llu\n", op,
                       (unsigned long long)get(&m->notify_ok[i]));
        gl_text_printf(t, "golive_api_pushd_requests_total{op=\"%s\",result=\"failed\"} %llu\n", op,
                       (unsigned long long)get(&m->notify_failed[i]));
    }
    gl_db_errors_print(t, "golive_api_sqlite_errors_total");
}
