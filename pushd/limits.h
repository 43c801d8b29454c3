/* The abuse limits pushd enforces (docs/moderation.md "Rate limits"): every command a
 * connection sends, and every publish of a user in a namespace, take a token from a bucket
 * (shared/ratelimit); refusals are answered with rate_limited and retry_after_ms, and a
 * connection refused flood_close_after times in a row is closed with 4029. Admins are exempt.
 * Each client IP may hold anonymous_per_ip connections without a token; past that a new one must
 * authenticate with its first command. Refusals are counted in srv->limit_counts. */
#ifndef PD_LIMITS_H
#define PD_LIMITS_H

#include "conn.h"
#include "shared/config.h"

#define PD_PROBATION_MS 10000 /* how long a connection on probation may wait to authenticate */

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

/* A connection opened without a token (ESTABLISHED, headers still readable): counted under its
 * client IP (none counted when the IP is unknown). When the IP held anonymous_per_ip already, c
 * is on probation: its first message must be a connect with a token (pd_limits_probation),
 * within PD_PROBATION_MS, else it is told rate_limited and closed with 4029. */
void pd_limits_anonymous_open(pd_server *srv, pd_conn *c);

/* c is on probation and sent its first message (len bytes of buf): true when it is a connect
 * with a token, to be handled as usual; false when c was refused and is closing. */
bool pd_limits_probation(pd_server *srv, pd_conn *c, const char *buf, size_t len);

/* From the once-a-second sweep: close c if its probation has run out by now_ms. */
void pd_limits_sweep(pd_server *srv, pd_conn *c, uint32_t now_ms);

/* c's socket closed (LWS_CALLBACK_CLOSED, c->wsi still set): its anonymous count is released. */
void pd_limits_closed(pd_server *srv, pd_conn *c);

void pd_limits_free(pd_server *srv);

#endif
