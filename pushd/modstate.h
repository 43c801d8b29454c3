/* Moderation state per channel (settings overrides, access lists, bans, timeouts, channel
 * roles, the pinned message), restored from SQLite at start and reloaded per channel when
 * golive-api says it changed. SQLite is the system of record; this is its in-memory copy for live
 * checks. */
#ifndef PD_MODSTATE_H
#define PD_MODSTATE_H

#include "context.h"

/* Load every channel's state. GL_OK or GL_EDB/GL_ENOMEM. */
int pd_modstate_load_all(pd_server *srv, gl_err *err);

/* Replace one channel's state with what SQLite holds now. */
int pd_modstate_reload(pd_server *srv, const char *channel, gl_err *err);

void pd_modstate_free_all(pd_server *srv);

/* Re-check every subscriber of channel against its current policy and moderation state;
 * kick the ones who lost read access. Used after reloads (nng, SIGHUP). */
void pd_recheck_channel(pd_server *srv, const char *channel);

/* The effective policy of channel (config + override). */
void pd_policy(pd_server *srv, const char *channel, gl_policy *out);

/* Facts about user u (NULL = anonymous) in channel at now_ms. */
void pd_modstate_facts(pd_server *srv, const char *channel, const gl_user *u, int64_t now_ms,
                       gl_acl_facts *out);

/* The pinned message of channel as its event's JSON text, or NULL; borrowed until the
 * channel's next reload. */
const char *pd_modstate_pinned(pd_server *srv, const char *channel);

/* Who u (NULL = anonymous) is in channel, for the chat modes' exemptions: global staff count
 * as moderators; else the broadcaster, channel moderator or VIP roles; else none. */
gl_standing pd_modstate_standing(pd_server *srv, const char *channel, const gl_user *u);

#endif
