/* Rate limits (limits.h). A connection's command bucket lives in the connection; publish buckets
 * are per user and namespace, shared by the user's connections, in srv->publish_buckets (a
 * shared/ratelimit table, which forgets full buckets). Anonymous connections are counted per IP
 * in srv->anonymous; each one's entry hangs off its wsi (lws's opaque user data), which keeps
 * pd_conn at 120 bytes, and is released when the connection authenticates or closes. */
#include "limits.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <stdio.h>
#include <string.h>

static bool
exempt(const pd_conn *c)
{
    return c->user != NULL && c->user->admin;
}

bool
pd_limits_command(pd_server *srv, pd_conn *c, uint32_t *retry_after_ms)
{
    if (exempt(c) || gl_bucket_take(&c->commands, &srv->cfg->command_rate,
                                    (uint32_t)gl_time_mono_ms(), retry_after_ms))
        return true;
    srv->limit_counts.commands_refused++;
    return false;
}

bool
pd_limits_publish(pd_server *srv, pd_conn *c, const gl_namespace *ns, uint32_t *retry_after_ms)
{
    if (c->user == NULL || exempt(c) ||
        gl_bucket_table_take(&srv->publish_buckets, ns != NULL ? ns->name : "", c->user->id,
                             gl_config_publish_rate(srv->cfg, ns), (uint32_t)gl_time_mono_ms(),
                             retry_after_ms))
        return true;
    srv->limit_counts.publish_refused++;
    return false;
}

/* The client's IP into buf: the last address of X-Forwarded-For when the YAML trusts it, else
 * the TCP peer's; false when there is none to trust. */
static bool
client_ip(pd_server *srv, struct lws *wsi, char *buf, size_t cap)
{
    char xff[256];
    const char *last;

    if (srv->cfg->trust_forwarded_for &&
        lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR) > 0) {
        last = strrchr(xff, ',');
        last = last != NULL ? last + 1 : xff;
        while (*last == ' ')
            last++;
        snprintf(buf, cap, "%.*s", (int)strcspn(last, " "), last);
        return buf[0] != '\0';
    }
    if (strncmp(srv->opt.listen, "unix:", 5) == 0) return false;
    return lws_get_peer_simple(wsi, buf, cap) != NULL && buf[0] != '\0';
}

bool
pd_limits_connection(pd_server *srv, struct lws *wsi, uint32_t *retry_after_ms)
{
    char ip[64];

    if (srv->cfg->connection_rate.burst == 0) return true; /* off: no address to look up */
    if (!client_ip(srv, wsi, ip, sizeof(ip)) ||
        gl_bucket_table_take(&srv->connection_buckets, "ip", ip, &srv->cfg->connection_rate,
                             (uint32_t)gl_time_mono_ms(), retry_after_ms))
        return true;
    srv->limit_counts.connections_refused++;
    return false;
}

/* An anonymous connection is counted whatever the limit (0 too), so that a reload that sets one
 * finds the connections already open counted. */
void
pd_limits_anonymous_open(pd_server *srv, pd_conn *c)
{
    char ip[64];
    gl_ip_entry *e;
    uint32_t before;

    if (!client_ip(srv, c->wsi, ip, sizeof(ip))) return;
    if ((e = gl_ip_counts_add(&srv->anonymous, ip, &before)) == NULL) return; /* not counted */
    lws_set_opaque_user_data(c->wsi, e);
    c->anonymous = true;
    c->probation = srv->cfg->anonymous_per_ip > 0 && before >= (uint32_t)srv->cfg->anonymous_per_ip;
}

static void
release_anonymous(pd_server *srv, pd_conn *c)
{
    if (!c->anonymous) return;
    gl_ip_counts_release(&srv->anonymous, lws_get_opaque_user_data(c->wsi));
    lws_set_opaque_user_data(c->wsi, NULL);
    c->anonymous = c->probation = false;
}

/* The client learns why (rate_limited, without a command id: the connection is refused, not
 * one command) and retries later, with a token or when a slot is free; golive.js reconnects
 * after a 4029 with backoff. */
static void
refuse_probation(pd_server *srv, pd_conn *c)
{
    static const char why[] = "too many anonymous connections from this address: authenticate "
                              "with connect and a token first";

    c->probation = false;
    srv->limit_counts.anonymous_refused++;
    pd_conn_send_json(c, gl_event_print_take(gl_event_rate_limited(NULL, NULL, why, 1000)));
    pd_conn_close_after_flush(c, PD_CLOSE_FLOOD, "too many anonymous connections");
}

bool
pd_limits_probation(pd_server *srv, pd_conn *c, const char *buf, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(buf, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    bool ok = cJSON_IsString(type) && strcmp(type->valuestring, "connect") == 0 &&
              cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "token"));

    cJSON_Delete(root);
    /* The connect is handled as usual: a good token ends the count (pd_limits_after), a bad one
     * closes with 4001. */
    if (ok) return true;
    refuse_probation(srv, c);
    return false;
}

void
pd_limits_sweep(pd_server *srv, pd_conn *c, uint32_t now_ms)
{
    /* Nothing but the one message that ends probation moves seen_ms before PD_PROBATION_MS (a
     * PING waits for ping_secs of silence), so it still says when the connection opened. */
    if (c->probation && c->close_code == 0 && (uint32_t)(now_ms - c->seen_ms) >= PD_PROBATION_MS)
        refuse_probation(srv, c);
}

void
pd_limits_closed(pd_server *srv, pd_conn *c)
{
    release_anonymous(srv, c);
}

void
pd_limits_after(pd_server *srv, pd_conn *c, bool refused)
{
    if (c->anonymous && c->user != NULL) release_anonymous(srv, c); /* a connect authenticated */
    if (!refused) {
        c->refused = 0;
        return;
    }
    if (c->refused < UINT16_MAX) c->refused++;
    if (srv->cfg->flood_close_after > 0 && c->refused >= srv->cfg->flood_close_after &&
        c->close_code == 0) {
        gl_log(GL_LOG_WARN, "limits", "client %s kept flooding after %u refusals: closing",
               c->user ? c->user->id : "(anonymous)", c->refused);
        srv->limit_counts.flood_closes++;
        pd_conn_close_after_flush(c, PD_CLOSE_FLOOD, "rate limit exceeded");
    }
}

void
pd_limits_free(pd_server *srv)
{
    gl_bucket_table_free(&srv->publish_buckets);
    gl_bucket_table_free(&srv->connection_buckets);
    gl_ip_counts_free(&srv->anonymous);
}
