/* golive-api's side of the chat modes (docs/moderation.md "Chat modes"): a REST publish passes
 * the same shared/chatmodes check as a WebSocket one. The caller's standing comes from its token
 * and SQLite (stream owner, channel_roles); its recent messages from the channel's newest rows
 * (gl_db_recent_of_user), which hold WebSocket-published messages too. */
#ifndef API_CHAT_MODES_H
#define API_CHAT_MODES_H

#include "api.h"

/* Who the caller is in channel: staff count as moderators; else broadcaster, channel moderator,
 * VIP, or none. */
int api_channel_standing(api_req *r, const char *channel, gl_standing *out, gl_err *err);

/* May the caller publish data (exact text) in r->channel under pol's modes at now_ms? GL_OK (v
 * says whether it is held for review), or the refusal: GL_ERATE (slow mode, r->retry_after_ms
 * set), GL_ETOOBIG, GL_EFORBIDDEN, or GL_EDB. */
int api_check_modes(api_req *r, const gl_policy *pol, const gl_acl_facts *f, const char *data,
                    int64_t now_ms, gl_mode_verdict *v, gl_err *err);

#endif
