/* The abuse limits pushd enforces (docs/moderation.md "Rate limits"): every command a
 * connection sends, and every publish of a user in a namespace, take a token from a bucket
 * (shared/ratelimit); refusals are answered with rate_limited and retry_after_ms, and a
 * connection refused flood_close_after times in a row is closed with 4029. Admins are exempt. */
#ifndef PD_LIMITS_H
#define PD_LIMITS_H

#include "conn.h"
#include "shared/config.h"

/* May c send one more command now? On false *retry_after_ms says when it may. */
bool pd_limits_command(pd_server *srv, pd_conn *c, uint32_t *retry_after_ms);

/* May c's user publish one more message in namespace ns (NULL: none) now? */
bool pd_limits_publish(pd_server *srv, pd_conn *c, const gl_namespace *ns,
                       uint32_t *retry_after_ms);

/* May the client of this upgrade request open one more connection now (its IP's bucket)? A
 * client whose IP is unknown (a unix socket without a trusted X-Forwarded-For) is not limited. */
bool pd_limits_connection(pd_server *srv, struct lws *wsi, uint32_t *retry_after_ms);

/* After a command: a refusal counts towards the flood close (and closes c at the limit), a
 * command that passed every limit ends the run. */
void pd_limits_after(pd_server *srv, pd_conn *c, bool refused);

void pd_limits_free(pd_server *srv);

#endif
