/* realtime.yaml -> gl_config: namespaces, channel rules (glob patterns, first match wins) and
 * RPC proxies, in the seed's format. Unknown keys and wrong types are errors naming file:line:key.
 * A gl_config is immutable once loaded; SIGHUP builds a new one and swaps it. */
#ifndef GL_CONFIG_H
#define GL_CONFIG_H

#include "chatmodes.h"
#include "err.h"
#include "origin.h"
#include "ratelimit.h"

#include <stdbool.h>
#include <stddef.h>

#define GL_NAME_MAX 64           /* namespace, role, RPC method: 63 bytes + NUL */
#define GL_PATTERN_MAX 256       /* channel pattern: 255 bytes + NUL */
#define GL_URL_MAX 1024          /* rpc proxy url */
#define GL_HISTORY_DEFAULT 1000  /* max_history when no rule sets it */
#define GL_HISTORY_LIMIT 1000000 /* largest max_history accepted */
#define GL_RPC_TIMEOUT_DEFAULT_MS 5000

#define GL_JOIN_LEAVE_DEFAULT 1000 /* join_leave_max when no namespace sets it */

/* rate_limits when the YAML sets none (docs/moderation.md "Rate limits"): a user may publish 10
 * messages at once and then 2 a second in a namespace; a connection may send 60 commands at once
 * and then 20 a second; 20 refusals in a row close it with 4029. */
#define GL_PUBLISH_RATE_DEFAULT ((gl_rate){10, 2.0f})
#define GL_COMMAND_RATE_DEFAULT ((gl_rate){60, 20.0f})
#define GL_FLOOD_CLOSE_DEFAULT 20
/* New WebSocket connections per client IP: 30 at once, then 5 a second. */
#define GL_CONNECTION_RATE_DEFAULT ((gl_rate){30, 5.0f})
/* Open anonymous WebSocket connections per client IP: 100, enough for the viewers of a household,
 * an office or a school behind one NAT (a viewer who signs in is not counted), small enough that
 * one host holds a negligible share of pushd's descriptors. */
#define GL_ANONYMOUS_PER_IP_DEFAULT 100

typedef struct gl_namespace {
    char name[GL_NAME_MAX];
    int max_clients;      /* 0 = unlimited */
    bool allow_publish;   /* default true */
    int join_leave_max;   /* join/leave events only while a channel has at most this many
                             subscribers (0 = never); default GL_JOIN_LEAVE_DEFAULT */
    gl_rate publish_rate; /* rate_limits.publish, else the top level's */
    gl_modes modes;       /* chat_modes: a layer (unset fields: off) */
} gl_namespace;

typedef struct gl_chan_rule {
    char pattern[GL_PATTERN_MAX];       /* glob: '*' any run of bytes, '?' one byte */
    const gl_namespace *ns;             /* NULL when the rule names no namespace */
    bool private_;                      /* default false */
    char (*allowed_roles)[GL_NAME_MAX]; /* n_allowed_roles entries */
    size_t n_allowed_roles;
    char (*allowed_users)[128]; /* n_allowed_users entries (user ids, as JWT sub) */
    size_t n_allowed_users;
    int max_history; /* 0 = not set: GL_HISTORY_DEFAULT applies */
    gl_modes modes;  /* chat_modes: a layer over the namespace's */
    int line;        /* 1-based line in the file, for messages */
} gl_chan_rule;

typedef struct gl_rpc_proxy {
    char method[GL_NAME_MAX];
    char url[GL_URL_MAX]; /* http:// only */
    int timeout_ms;       /* optional key timeout_ms, default GL_RPC_TIMEOUT_DEFAULT_MS */
} gl_rpc_proxy;

typedef struct gl_config {
    char path[1024]; /* "" when built from defaults */
    gl_namespace *namespaces;
    size_t n_namespaces;
    gl_chan_rule *channels;
    size_t n_channels;
    gl_rpc_proxy *rpc_proxies;
    size_t n_rpc_proxies;
    /* allowed_origins: browser origins other than the request's own that may use the APIs,
     * normalised (lowercase, no default port). any_origin: the list was ["*"]. */
    char (*allowed_origins)[GL_ORIGIN_MAX];
    size_t n_allowed_origins;
    bool any_origin;
    /* rate_limits: publish per user and namespace (a namespace may set its own), commands per
     * connection, and how many refusals in a row close a connection (0 = never). Admins are
     * exempt. */
    gl_rate publish_rate, command_rate;
    int flood_close_after;
    /* New WebSocket connections per client IP. The IP is the socket's peer on TCP, or with
     * client_ip_header: X-Forwarded-For the last address of that header (what the web server in
     * front added): only then behind a unix socket, where every peer is the web server. */
    gl_rate connection_rate;
    bool trust_forwarded_for;
    /* blocked_terms: refused (or held, where a channel's chat modes say so) in every channel. */
    gl_term *blocked_terms;
    size_t n_blocked_terms;
    /* Open connections per client IP (the same IP) that hold no verified token; 0 = no limit. */
    int anonymous_per_ip;
} gl_config;

/* Load and validate the YAML file at path. On GL_OK *out is a new config (gl_config_destroy).
 * On error returns GL_EINVAL (bad content: err->msg is "path:line: what"), GL_ENOTFOUND (cannot
 * open; msg names the path and strerror) or GL_ENOMEM; *out is untouched. */
int gl_config_load(const char *path, gl_config **out, gl_err *err);

/* The same from a buffer; name is used in messages in place of the path (tests, fuzzing). */
int gl_config_parse(const char *text, size_t len, const char *name, gl_config **out, gl_err *err);

/* An empty config (no namespaces, no rules, no proxies): every channel public, defaults apply. */
int gl_config_empty(gl_config **out, gl_err *err);

/* Frees everything; NULL is a no-op. */
void gl_config_destroy(gl_config *cfg);

/* The first rule whose pattern matches channel, or NULL. */
const gl_chan_rule *gl_config_match(const gl_config *cfg, const char *channel);

/* The namespace called name, or NULL. */
const gl_namespace *gl_config_namespace(const gl_config *cfg, const char *name);

/* The publish rate of channels in namespace ns (NULL: none). */
const gl_rate *gl_config_publish_rate(const gl_config *cfg, const gl_namespace *ns);

/* The proxy for an RPC method, or NULL. */
const gl_rpc_proxy *gl_config_rpc_proxy(const gl_config *cfg, const char *method);

/* May a browser page of origin (the Origin header's value) use the APIs of host (the Host
 * header's value, may be NULL)? NULL origin (no header: not a browser) is allowed; so is an
 * origin whose host[:port] is host (same origin), one listed in allowed_origins, or any when the
 * list is ["*"]. Pure: decides for pushd's handshake and golive-api's CORS alike. */
bool gl_config_origin_allowed(const gl_config *cfg, const char *origin, const char *host);

#endif
