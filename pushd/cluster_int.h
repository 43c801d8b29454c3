/* Inside the NATS broker (cluster.c, cluster_bus.c, cluster_presence.c): the broker's state
 * and what its files call of each other. Not for use outside pushd/cluster*.c. Loop thread
 * unless said otherwise. */
#ifndef PD_CLUSTER_INT_H
#define PD_CLUSTER_INT_H

#include "busmsg.h"
#include "context.h"
#include "fanout.h"
#include "store_service.h"
#include "shared/jwt.h"
#include "shared/map.h"

#include <cjson/cJSON.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>

#define PREFIX "golive"
#define CTL_SUBJECT PREFIX ".ctl"
#define HB_SUBJECT PREFIX ".hb"
#define QUERY_SUBJECT PREFIX ".q"
#define INBOX_MAX (sizeof(PREFIX) + 6 + PD_BUS_NODE_MAX) /* PREFIX ".node." name */
#define SUBJECT_MAX (sizeof(PREFIX) + 4 + GL_CHAN_MAX + 1)
#define MAX_SERVERS 16
#define REPAIR_PAGE 100
/* How often every channel's newest id is compared with SQLite's: the bound on how late a
 * message lost in NATS (a server or route that died with it in flight) reaches subscribers
 * when no later message of its channel shows the gap sooner. */
#define AUDIT_MS 2000
#define UNKNOWN (-1) /* a chain whose start could not be read: its first message starts it */

typedef struct chain {
    natsSubscription *sub;
    int64_t last;
    gl_map remote;  /* user id -> ruser: who is present through the other nodes */
    char channel[]; /* the map's key */
} chain;

#define RUSER_NODES 8       /* nodes a user may be present through at once, as counted */
#define LEAVE_GRACE_MS 1000 /* a remote user's leave waits this long for a join elsewhere */

/* A user present in a chain's channel through other nodes (the nodes' names). */
typedef struct ruser {
    char username[GL_USERNAME_MAX];
    int64_t gone_ms; /* when the last node said it left (0: present); leaves LEAVE_GRACE_MS on */
    uint8_t nnodes;
    char nodes[RUSER_NODES][PD_BUS_NODE_MAX];
    char id[]; /* the map's key */
} ruser;

typedef struct peer { /* another node, as its last heartbeat said */
    int64_t connections, channels, seen_ms;
    char name[]; /* the map's key */
} peer;

/* A presence query this node asked: the answers merged so far. */
typedef struct query {
    struct query *next;
    pd_cluster *c;
    int64_t id;
    uint32_t waiting; /* answers still to come */
    cJSON *data;      /* {"channel","users":[...],"anonymous"}: this node's, then the others' */
    gl_map users;     /* user id -> its object in data's users */
    void (*done)(void *arg, cJSON *data);
    void *arg;
    bool seed;                  /* asked for a new chain: the answers say who is present where */
    lws_sorted_usec_list_t sul; /* PD_PRESENCE_WAIT_MS */
} query;

typedef struct inbound {
    struct inbound *next;
    size_t len;
    char data[];
} inbound;

struct pd_cluster {
    pd_fanout ops;
    pd_server *srv;
    pd_fanout *local;
    natsOptions *opts;
    natsConnection *nc;
    natsSubscription *ctl, *hb, *q, *inbox;
    pd_store_service *store; /* this node has the file: it answers the nodes that have not */
    char inbox_subject[INBOX_MAX];
    query *queries;
    int64_t next_query;
    char node[PD_BUS_NODE_MAX];
    gl_map chains;
    gl_map peers;
    int64_t audited_ms, beat_ms, send_failed_logged_ms;
    pthread_mutex_t mu;
    inbound *in, **in_tail; /* guarded by mu */
    atomic_bool repair_all; /* from NATS's threads: reconnected, or messages were dropped */
    atomic_bool connected;
    /* The loop's context, once it exists (pd_cluster_loop_ready): NATS delivers from the start,
     * while the node still restores its state, and its threads wake the loop through this. */
    struct lws_context *_Atomic ctx;
};

/* cluster_bus.c: a node message to subject `to` (NULL: the kind's own: the channel's, the
 * control subject, ...), or to the kind's subject. A failure is counted and logged. */
void pd_cluster__publish_to(pd_cluster *c, const char *to, char kind, const char *channel,
                            int64_t id, int64_t prev, const unsigned char *payload, size_t len);
void pd_cluster__publish(pd_cluster *c, char kind, const char *channel, int64_t id, int64_t prev,
                         const unsigned char *payload, size_t len);

/* cluster_presence.c: heartbeats ('h'), presence queries ('q', 'a') and presence deltas ('P'). */
void pd_cluster__heard(pd_cluster *c, const pd_busmsg *m);
/* Publish this node's heartbeat, count out silent nodes, sum the rest into srv->cluster_view. */
void pd_cluster__beat(pd_cluster *c, int64_t now);
void pd_cluster__presence_delta(pd_cluster *c, const pd_busmsg *m);
void pd_cluster__answer(pd_cluster *c, const pd_busmsg *m);
void pd_cluster__answered(pd_cluster *c, const pd_busmsg *m);
/* A new chain: ask the others who is present through them (no events for those). */
void pd_cluster__seed(pd_server *srv, const char *channel);
/* srv->cluster_presence and srv->presence_changed. */
bool pd_cluster__presence(pd_server *srv, const char *channel, void (*done)(void *arg, cJSON *data),
                          void *arg);
bool pd_cluster__presence_changed(pd_server *srv, const char *channel, const char *user_id,
                                  const char *username, bool present);
/* End query q now, with the answers that came. */
void pd_cluster__query_finish(query *q);

#endif
