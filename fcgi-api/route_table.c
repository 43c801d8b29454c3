/* Every REST route of golive-api, method + pattern -> handler. main hands this table to the app
 * (api_app.routes); the router matches against it without knowing any handler, so the route
 * files sit above the router and below this table, one-way. */
#include "routes.h"

const api_route_def api_route_table[] = {
    {"realtime", "GET", "channels", api_route_channels},
    {"ops", "GET", "metrics", api_route_metrics},
    {"ops", "GET", "healthz", api_route_healthz},
    {"ops", "GET", "readyz", api_route_readyz},
    {"realtime", "GET", "channels/{channel}", api_route_channel_info},
    {"realtime", "GET", "channels/{channel}/history", api_route_history},
    {"realtime", "GET", "channels/{channel}/presence", api_route_presence},
    {"realtime", "POST", "channels/{channel}/publish", api_route_publish},
    {"realtime", "POST", "channels/{channel}/broadcast", api_route_broadcast},
    {"realtime", "DELETE", "channels/{channel}/messages/{id}", api_route_delete_message},
    {"realtime", "POST", "channels/{channel}/users/{user}/timeout", api_route_timeout},
    {"realtime", "POST", "channels/{channel}/users/{user}/ban", api_route_ban},
    {"realtime", "DELETE", "channels/{channel}/users/{user}/ban", api_route_unban},
    {"realtime", "GET", "channels/{channel}/bans", api_route_bans},
    {"realtime", "GET", "channels/{channel}/moderation_log", api_route_moderation_log},
    {"realtime", "PUT", "channels/{channel}/settings", api_route_settings},
    {"realtime", "POST", "channels/{channel}/clear", api_route_clear_chat},
    {"realtime", "PUT", "channels/{channel}/pin", api_route_pin},
    {"realtime", "DELETE", "channels/{channel}/pin", api_route_unpin},
    {"realtime", "GET", "channels/{channel}/held", api_route_held},
    {"realtime", "POST", "channels/{channel}/held/{id}/approve", api_route_held_approve},
    {"realtime", "POST", "channels/{channel}/held/{id}/deny", api_route_held_deny},
    {"realtime", "POST", "channels/{channel}/access", api_route_access_add},
    {"realtime", "DELETE", "channels/{channel}/access/{user}", api_route_access_remove},
    {"realtime", "GET", "channels/{channel}/moderators", api_route_moderators},
    {"realtime", "PUT", "channels/{channel}/moderators/{user}", api_route_moderator_add},
    {"realtime", "DELETE", "channels/{channel}/moderators/{user}", api_route_moderator_remove},
    {"realtime", "GET", "channels/{channel}/vips", api_route_vips},
    {"realtime", "PUT", "channels/{channel}/vips/{user}", api_route_vip_add},
    {"realtime", "DELETE", "channels/{channel}/vips/{user}", api_route_vip_remove},
    {"streaming", "POST", "keys", api_route_stream_key_create},
    {"streaming", "GET", "keys", api_route_stream_keys},
    {"streaming", "DELETE", "keys/{id}", api_route_stream_key_revoke},
    {"streaming", "POST", "auth", api_route_stream_auth},
    {"streaming", "POST", "webhook", api_route_stream_webhook},
    {"streaming", "GET", "streams", api_route_streams},
    {"streaming", "GET", "streams/{name}", api_route_stream},
};

const size_t api_route_table_len = sizeof(api_route_table) / sizeof(api_route_table[0]);
