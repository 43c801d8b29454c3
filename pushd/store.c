/* The loop's reads, from the file or over NATS (store.h). */
#include "store.h"

int
pd_store_history(pd_server *srv, const char *channel, int mode, int64_t ref, int limit,
                 gl_db_msg_fn fn, void *arg, gl_err *err)
{
    if (srv->remote != NULL)
        return pd_remote_history(srv->remote, channel, mode, ref, limit, fn, arg, err);
    return gl_db_history(srv->db, channel, mode, ref, limit, fn, arg, err);
}

int
pd_store_pruned_through(pd_server *srv, const char *channel, int64_t *id, gl_err *err)
{
    if (srv->remote != NULL) return pd_remote_pruned_through(srv->remote, channel, id, err);
    return gl_db_pruned_through(srv->db, channel, id, err);
}

int
pd_store_last_id(pd_server *srv, const char *channel, int64_t *id, gl_err *err)
{
    return pd_store_last_ids(srv, &channel, 1, id, err);
}

int
pd_store_last_ids(pd_server *srv, const char *const *channels, size_t n, int64_t *ids, gl_err *err)
{
    int rv;

    if (srv->remote != NULL) return pd_remote_last_ids(srv->remote, channels, n, ids, err);
    for (size_t i = 0; i < n; i++)
        if ((rv = gl_db_last_id(srv->db, channels[i], &ids[i], err)) != GL_OK) return rv;
    return GL_OK;
}

int
pd_store_state(pd_server *srv, const char *channel, const pd_state_fns *fns, gl_err *err)
{
    int rv;

    if (srv->remote != NULL) return pd_remote_state(srv->remote, channel, fns, err);
    if ((rv = gl_db_each_setting(srv->db, channel, fns->setting, fns->arg, err)) != GL_OK ||
        (rv = gl_db_each_access(srv->db, channel, fns->access, fns->arg, err)) != GL_OK ||
        (rv = gl_db_each_restriction(srv->db, channel, fns->restriction, fns->arg, err)) != GL_OK ||
        (rv = gl_db_each_channel_role(srv->db, channel, fns->role, fns->arg, err)) != GL_OK ||
        (rv = gl_db_each_pin(srv->db, channel, fns->pin, fns->arg, err)) != GL_OK)
        return rv;
    return GL_OK;
}
