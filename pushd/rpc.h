/* RPC: the built-in "stats" and methods proxied to an HTTP backend (rpc_proxies in YAML).
 * Proxied calls are lws HTTP client connections on the event loop: nothing blocks. */
#ifndef PD_RPC_H
#define PD_RPC_H

#include "context.h"

#include <cjson/cJSON.h>

/* {"total_channels":..,"total_clients":..,"uptime":".."}: exactly the seed's shape. */
cJSON *pd_rpc_stats(pd_server *srv);

/* Format an uptime as the seed does: "45s", "3m12s", "2h30m". out needs 32 bytes. */
void pd_rpc_format_uptime(int64_t secs, char out[32]);

/* POST {"method","params","user"} to the proxy's URL; the reply to c comes later. GL_OK, or
 * an error (nothing sent) the caller reports. */
int pd_rpc_proxy_call(pd_server *srv, pd_conn *c, const cJSON *id, const gl_rpc_proxy *proxy,
                      const cJSON *params, gl_err *err);

/* The lws protocol callback for proxy connections ("golive-rpc"). */
int pd_rpc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

#endif
