/* The REST publish limit (rate_limits.h): one shared/ratelimit bucket table under a mutex. */
#include "rate_limits.h"
#include "shared/acl.h"
#include "shared/ratelimit.h"
#include "shared/timefmt.h"

#include <pthread.h>
#include <stdlib.h>

struct api_rate_limits {
    pthread_mutex_t mu;
    gl_bucket_table publish; /* guarded by mu */
};

int
api_rate_limits_new(api_rate_limits **out, gl_err *err)
{
    api_rate_limits *l = calloc(1, sizeof(*l));

    if (l == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    pthread_mutex_init(&l->mu, NULL);
    *out = l;
    return GL_OK;
}

void
api_rate_limits_free(api_rate_limits *l)
{
    if (l == NULL) return;
    gl_bucket_table_free(&l->publish);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

int
api_rate_limit_publish(api_req *r, const gl_namespace *ns, gl_err *err)
{
    api_rate_limits *l = r->app->rate_limits;
    uint32_t retry = 0;
    bool ok;

    if (l == NULL || gl_acl_is_admin(&r->user)) return GL_OK;
    pthread_mutex_lock(&l->mu);
    ok = gl_bucket_table_take(&l->publish, ns != NULL ? ns->name : "", r->user.id,
                              gl_config_publish_rate(r->app->cfg, ns), (uint32_t)gl_time_mono_ms(),
                              &retry);
    pthread_mutex_unlock(&l->mu);
    if (ok) return GL_OK;
    r->retry_after_ms = retry;
    return gl_err_set(err, GL_ERATE, "too many messages; slow down");
}
