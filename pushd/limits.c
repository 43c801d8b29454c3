/* Rate limits (limits.h). A connection's command bucket lives in the connection; publish buckets
 * are per user and namespace, shared by the user's connections, in srv->publish_buckets (a
 * shared/ratelimit table, which forgets full buckets). */
#include "limits.h"
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
    if (exempt(c)) return true;
    return gl_bucket_take(&c->commands, &srv->cfg->command_rate, (uint32_t)gl_time_mono_ms(),
                          retry_after_ms);
}

bool
pd_limits_publish(pd_server *srv, pd_conn *c, const gl_namespace *ns, uint32_t *retry_after_ms)
{
    if (c->user == NULL || exempt(c)) return true;
    return gl_bucket_table_take(&srv->publish_buckets, ns != NULL ? ns->name : "", c->user->id,
                                gl_config_publish_rate(srv->cfg, ns), (uint32_t)gl_time_mono_ms(),
                                retry_after_ms);
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

    if (!client_ip(srv, wsi, ip, sizeof(ip))) return true;
    return gl_bucket_table_take(&srv->connection_buckets, "ip", ip, &srv->cfg->connection_rate,
                                (uint32_t)gl_time_mono_ms(), retry_after_ms);
}

void
pd_limits_after(pd_server *srv, pd_conn *c, bool refused)
{
    if (!refused) {
        c->refused = 0;
        return;
    }
    if (c->refused < UINT16_MAX) c->refused++;
    if (srv->cfg->flood_close_after > 0 && c->refused >= srv->cfg->flood_close_after &&
        c->close_code == 0) {
        gl_log(GL_LOG_WARN, "limits", "client %s kept flooding after %u refusals: closing",
               c->user ? c->user->id : "(anonymous)", c->refused);
        pd_conn_close_after_flush(c, PD_CLOSE_FLOOD, "rate limit exceeded");
    }
}

void
pd_limits_free(pd_server *srv)
{
    gl_bucket_table_free(&srv->publish_buckets);
    gl_bucket_table_free(&srv->connection_buckets);
}
