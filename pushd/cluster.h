/* Several pushd nodes over NATS (GOLIVE_NATS_URL, docs/cluster.md): a pd_fanout that delivers
 * to this node's subscribers and publishes to the others, and hands what they publish to this
 * node's subscribers. A node hears a channel only while it has subscribers for it (a NATS
 * subject per channel). Messages reach subscribers once each, in the order of the channel's
 * ids: each carries its channel's previous id (gl_msg.prev_id), and a node that has not
 * delivered that one reads what it missed from SQLite before going on; so does every channel
 * after a reconnection to NATS, when messages in flight may have been lost. Heartbeats,
 * presence queries and joins/leaves cross the nodes too (cluster_presence.c). */
#ifndef PD_CLUSTER_H
#define PD_CLUSTER_H

#include "context.h"
#include "fanout.h"
#include "store_service.h"

#include <nats/nats.h>

typedef struct pd_cluster pd_cluster;

/* Connect to the NATS servers in urls (comma-separated nats:// URLs; a server that is down,
 * even all of them, is retried in the background) as node (a name without blanks), delivering
 * locally through local. On GL_OK *out is srv's fanout and srv->channel_interest is set.
 * GL_EINVAL (bad urls or node), GL_ENOMEM, GL_EUNAVAIL (NATS refused the options). */
int pd_cluster_start(pd_server *srv, const char *urls, const char *node, pd_fanout *local,
                     pd_cluster **out, gl_err *err);

/* The fanout to install as srv->fanout. */
pd_fanout *pd_cluster_fanout(pd_cluster *c);

/* On the loop: handle what other nodes sent, and repair the channels after a reconnection. */
void pd_cluster_service(pd_cluster *c);

/* On the loop thread, once srv->ctx exists: NATS's threads may wake the loop from now on. What
 * they queued before waits for the loop's first pass. NULL is a no-op. */
void pd_cluster_loop_ready(pd_cluster *c);

/* The NATS connection, for the store over NATS of a node without the file (store_remote.h). */
natsConnection *pd_cluster_connection(pd_cluster *c);

/* The store this node answers for the others, when it has the file; NULL otherwise. */
const pd_store_service *pd_cluster_store_service(const pd_cluster *c);

/* Whether NATS is connected now (readiness, metrics). */
bool pd_cluster_connected(const pd_cluster *c);

/* Close the NATS connection (its callbacks finish first) and free; srv's fanout is the local
 * one again. NULL is a no-op. */
void pd_cluster_stop(pd_cluster *c);

#endif
