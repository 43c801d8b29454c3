/* The route handlers (routes_*.c) and the table of them (route_table.c). Each handler replies on
 * success and returns GL_OK, else returns a GL_E* with the message in err (api_handler). */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include "api.h"

extern const api_route_def api_route_table[];
extern const size_t api_route_table_len;

/* routes_channels.c */
int api_route_channels(api_req *r, gl_err *err);
int api_route_channel_info(api_req *r, gl_err *err);
int api_route_history(api_req *r, gl_err *err);
int api_route_presence(api_req *r, gl_err *err);
int api_route_publish(api_req *r, gl_err *err);
int api_route_broadcast(api_req *r, gl_err *err);

/* routes_moderation.c */
int api_route_delete_message(api_req *r, gl_err *err);
int api_route_timeout(api_req *r, gl_err *err);
int api_route_ban(api_req *r, gl_err *err);
int api_route_unban(api_req *r, gl_err *err);

/* routes_mod_reads.c */
int api_route_bans(api_req *r, gl_err *err);
int api_route_moderation_log(api_req *r, gl_err *err);

/* routes_access.c */
int api_route_settings(api_req *r, gl_err *err);
int api_route_access_add(api_req *r, gl_err *err);
int api_route_access_remove(api_req *r, gl_err *err);

/* routes_ops.c */
int api_route_metrics(api_req *r, gl_err *err);
int api_route_healthz(api_req *r, gl_err *err);
int api_route_readyz(api_req *r, gl_err *err);

/* routes_chat.c */
int api_route_clear_chat(api_req *r, gl_err *err);
int api_route_pin(api_req *r, gl_err *err);
int api_route_unpin(api_req *r, gl_err *err);

/* routes_held.c */
int api_route_held(api_req *r, gl_err *err);
int api_route_held_approve(api_req *r, gl_err *err);
int api_route_held_deny(api_req *r, gl_err *err);

/* routes_roles.c */
int api_route_moderators(api_req *r, gl_err *err);
int api_route_moderator_add(api_req *r, gl_err *err);
int api_route_moderator_remove(api_req *r, gl_err *err);
int api_route_vips(api_req *r, gl_err *err);
int api_route_vip_add(api_req *r, gl_err *err);
int api_route_vip_remove(api_req *r, gl_err *err);

/* routes_stream_keys.c */
int api_route_stream_key_create(api_req *r, gl_err *err);
int api_route_stream_keys(api_req *r, gl_err *err);
int api_route_stream_key_revoke(api_req *r, gl_err *err);

/* routes_streaming.c */
int api_route_stream_auth(api_req *r, gl_err *err);
int api_route_stream_webhook(api_req *r, gl_err *err);
int api_route_streams(api_req *r, gl_err *err);
int api_route_stream(api_req *r, gl_err *err);

#endif
