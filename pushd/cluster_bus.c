/* Publishing a node message over NATS (cluster_int.h): its header, its subject, the count and
 * the (rate-limited) warning when NATS will not take it. */
#include "cluster_int.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pd_cluster__publish_to(pd_cluster *c, const char *to, char kind, const char *channel, int64_t id,
                       int64_t prev, const unsigned char *payload, size_t len)
{
    pd_busmsg m = {.kind = kind, .id = id, .prev_id = prev};
    char subject[SUBJECT_MAX], *buf;
    size_t hlen;
    natsStatus s;

    memcpy(m.node, c->node, sizeof(m.node));
    snprintf(m.channel, sizeof(m.channel), "%s", channel);
    if ((to != NULL    ? snprintf(subject, sizeof(subject), "%s", to) <= 0
         : kind == 'r' ? snprintf(subject, sizeof(subject), "%s", CTL_SUBJECT) <= 0
         : kind == 'h' ? snprintf(subject, sizeof(subject), "%s", HB_SUBJECT) <= 0
         : kind == 'q' ? snprintf(subject, sizeof(subject), "%s", QUERY_SUBJECT) <= 0
                       : pd_bus_subject(PREFIX, channel, subject, sizeof(subject)) == 0) ||
        (buf = malloc(PD_BUS_HEADER_MAX + len)) == NULL) {
        c->srv->counters.cluster_send_failed++;
        return;
    }
    if ((hlen = pd_busmsg_header(&m, buf, PD_BUS_HEADER_MAX)) == 0) {
        free(buf);
        c->srv->counters.cluster_send_failed++;
        return;
    }
    if (len > 0) memcpy(buf + hlen, payload, len);
    /* While disconnected, nats.c buffers it for the next server (the reconnect buffer). */
    if ((s = natsConnection_Publish(c->nc, subject, buf, (int)(hlen + len))) != NATS_OK) {
        int64_t now = gl_time_mono_ms();
        /* Once in a while: with NATS away and its buffer full, every message fails. */
        if (c->srv->counters.cluster_send_failed++ == 0 || now - c->send_failed_logged_ms > 10000) {
            gl_log(GL_LOG_WARN, "cluster",
                   "could not publish to %s: %s (%llu so far; the others read messages from "
                   "SQLite later)",
                   subject, natsStatus_GetText(s),
                   (unsigned long long)c->srv->counters.cluster_send_failed);
            c->send_failed_logged_ms = now;
        }
    } else {
        c->srv->counters.cluster_sent++;
    }
    free(buf);
}

void
pd_cluster__publish(pd_cluster *c, char kind, const char *channel, int64_t id, int64_t prev,
                    const unsigned char *payload, size_t len)
{
    pd_cluster__publish_to(c, NULL, kind, channel, id, prev, payload, len);
}
