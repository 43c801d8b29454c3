/* golive-api's side of the rate limits (docs/moderation.md "Rate limits"): REST publishes take a
 * token from the bucket of their token's user in the channel's namespace, at the rate of the
 * YAML's rate_limits (the same rule pushd applies to WebSocket publishes, counted apart).
 * Worker threads share one table under a mutex. Admins are exempt; CGI mode (one request per
 * process) has no table and no limit. */
#ifndef API_RATE_LIMITS_H
#define API_RATE_LIMITS_H

#include "api.h"

int api_rate_limits_new(api_rate_limits **out, gl_err *err);
void api_rate_limits_free(api_rate_limits *l);

/* May r's user publish one more message in namespace ns (NULL: none) now? GL_OK, or GL_ERATE
 * with r->retry_after_ms set (the reply carries it and Retry-After). */
int api_rate_limit_publish(api_req *r, const gl_namespace *ns, gl_err *err);

#endif
