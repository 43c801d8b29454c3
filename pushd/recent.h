/* Each user's recent messages per channel (shared/chatmodes' gl_recent), for slow mode and
 * unique chat: the time of every WebSocket publish pushd accepts (so that slow mode turned on
 * later counts from it), the content's hash where unique chat is on, and what golive-api stored
 * in channels with either mode; forgotten after GL_RECENT_KEEP_MS, or the slow mode's interval
 * if longer. Loop thread only. */
#ifndef PD_RECENT_H
#define PD_RECENT_H

#include "context.h"

/* What is known of user_id's recent messages in channel, or NULL (none). Borrowed until the next
 * note or sweep. */
const gl_recent *pd_recent_get(pd_server *srv, const char *channel, const char *user_id);

/* Record that user_id posted data in channel at now_ms (data NULL: only the time, see
 * gl_recent_note); keep it at least keep_ms (the slow mode's interval) and at least
 * GL_RECENT_KEEP_MS. Out of memory: not recorded. */
void pd_recent_note(pd_server *srv, const char *channel, const char *user_id, const char *data,
                    int64_t now_ms, int64_t keep_ms);

/* The same for a message event as golive-api built it (a REST publish): its user.id and data.
 * A system message (no user) or an event of another shape is not recorded. */
void pd_recent_note_event(pd_server *srv, const char *channel, const char *event, int64_t now_ms,
                          int64_t keep_ms);

/* Forget what no mode needs any more; cheap to call every second (a full pass every 10 s). */
void pd_recent_sweep(pd_server *srv, int64_t now_ms);

void pd_recent_free(pd_server *srv);

#endif
