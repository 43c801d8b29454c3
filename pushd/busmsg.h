/* What pushd nodes send each other over NATS (docs/cluster.md): one header line, then the
 * frame's bytes as clients receive them. Pure: encode and parse, no I/O.
 *
 *   GLB1 <kind> <node> <id> <prev_id> <channel>\n<payload>
 *
 * kind: 'm' a stored message (id, prev_id), 'e' an event, 'M' an event for the channel's
 * moderators, 'r' "reload this channel's moderation state" (no payload), 'h' a node's
 * heartbeat: id its connections, prev_id its channels, channel "-", no payload; 'q' "who is
 * in this channel?" (id the asker's query, no payload), 'a' one node's answer to query id (the
 * payload: its presence of the channel as JSON); 'P' a user's presence on the sending node
 * changed: id 1 present (its first connection joined), 0 absent (its last left), the payload
 * {"id","username"}. */
#ifndef PD_BUSMSG_H
#define PD_BUSMSG_H

#include "shared/chan.h"

#include <stddef.h>
#include <stdint.h>

#define PD_BUS_NODE_MAX 64 /* a node's name, its terminating NUL included */
/* The longest header: magic, kind, node, two 2^63 ids, a channel, blanks and the newline. */
#define PD_BUS_HEADER_MAX (5 + 2 + PD_BUS_NODE_MAX + 2 * 21 + GL_CHAN_MAX + 2)

typedef struct pd_busmsg {
    char kind;
    char node[PD_BUS_NODE_MAX];
    int64_t id, prev_id;
    char channel[GL_CHAN_MAX + 1];
    const char *payload; /* into the parsed buffer */
    size_t payload_len;
} pd_busmsg;

/* The header of m into buf (cap >= PD_BUS_HEADER_MAX); returns its length, or 0 when a field
 * is out of bounds (a node name with a blank, an invalid channel). */
size_t pd_busmsg_header(const pd_busmsg *m, char *buf, size_t cap);

/* Parse len bytes of data into *m (payload points into data). Returns 0, or -1 when data is
 * not such a message: every field is checked, as data comes from the network. */
int pd_busmsg_parse(const char *data, size_t len, pd_busmsg *m);

/* NATS subject of channel's messages, "<prefix>.ch.<channel>" with each '.' of the channel
 * (a NATS token separator) as '~', which channel names never hold. Returns its length, or 0
 * when it does not fit. */
size_t pd_bus_subject(const char *prefix, const char *channel, char *buf, size_t cap);

#endif
