/* Fan-out: where a stored message or an event for a channel goes. The seam between what
 * produces them (WS publishes once the writer stored them, golive-api's requests over nng) and
 * the subscribers who get them. One node: pd_fanout_local (fanout.c) queues the frame to this
 * process's subscribers. Several nodes: a broker implementation (NATS, docs/architecture.md)
 * publishes to the others and hands what they publish to the local one. */
#ifndef PD_FANOUT_H
#define PD_FANOUT_H

#include "context.h"
#include "frame.h"

struct pd_fanout {
    /* f to every subscriber of channel: a message with row id msg_id (a subscriber whose since
     * replay already had it skips it) and prev_id the channel's message before it (gl_msg), or
     * an event when msg_id is 0. Returns the subscribers it was queued to on this node. Loop
     * thread, as every call here. */
    uint32_t (*deliver)(pd_fanout *self, const char *channel, pd_frame *f, int64_t msg_id,
                        int64_t prev_id);
    /* An event f to the subscribers of channel who may moderate it (the review queue's
     * events). Returns the subscribers it was queued to on this node. */
    uint32_t (*deliver_moderators)(pd_fanout *self, const char *channel, pd_frame *f);
    /* This node reloaded channel's moderation state from SQLite (golive-api changed it): the
     * other nodes must too. */
    void (*reloaded)(pd_fanout *self, const char *channel);
};

/* This node's subscribers only (fanout.c). */
typedef struct pd_fanout_local {
    pd_fanout ops;
    pd_server *srv;
} pd_fanout_local;

void pd_fanout_local_init(pd_fanout_local *fl, pd_server *srv);

#endif
