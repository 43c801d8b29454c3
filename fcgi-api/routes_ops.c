/* The operator routes under /api/ops/ (docs/operations.md), which the shipped web server configs
 * let only 127.0.0.1 reach: GET metrics (this process's counters, Prometheus text), healthz (the
 * process answers) and readyz (SQLite and golive-pushd answer too). */
#include "counters.h"
#include "routes.h"
#include "shared/wire.h"

#include <stdlib.h>

static int
reply_text(api_req *r, int status, gl_text *t, const char *type, gl_err *err)
{
    int rv = GL_OK;

    if (t->failed)
        rv = gl_err_set(err, GL_ENOMEM, "out of memory");
    else
        api_reply_text(r, status, type, t->p, t->len);
    gl_text_free(t);
    return rv;
}

int
api_route_metrics(api_req *r, gl_err *err)
{
    gl_text t = {NULL, 0, 0, false};

    if (r->app->metrics == NULL)
        return gl_err_set(err, GL_EUNAVAIL,
                          "metrics are per process: a CGI golive-api (one request) keeps none");
    api_metrics_print(r->app->metrics, r->app->routes, &t);
    return reply_text(r, 200, &t, GL_PROM_CONTENT_TYPE, err);
}

int
api_route_healthz(api_req *r, gl_err *err)
{
    gl_text t = {NULL, 0, 0, false};
    gl_text_printf(&t, "ok\n");
    return reply_text(r, 200, &t, "text/plain; charset=utf-8", err);
}

int
api_route_readyz(api_req *r, gl_err *err)
{
    gl_text t = {NULL, 0, 0, false};
    cJSON *reply = NULL;
    int64_t id;
    gl_err why;
    bool ok = gl_db_last_id(r->db, "", &id, &why) == GL_OK &&
              api_notify(r->app, gl_wire_request(GL_OP_STATS, NULL), &reply, &why) == GL_OK;

    cJSON_Delete(reply);
    if (ok)
        gl_text_printf(&t, "ready\n");
    else
        gl_text_printf(&t, "not ready: %s\n", why.msg);
    return reply_text(r, ok ? 200 : 503, &t, "text/plain; charset=utf-8", err);
}
