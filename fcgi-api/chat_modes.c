/* The REST publish's chat-mode check (chat_modes.h). */
#include "chat_modes.h"
#include "route_util.h"

#include <stdlib.h>
#include <string.h>

int
api_channel_standing(api_req *r, const char *channel, gl_standing *out, gl_err *err)
{
    bool yes = false;
    int rv;

    *out = GL_STANDING_NONE;
    if (!r->authed) return GL_OK;
    if (gl_acl_is_staff(&r->user)) {
        *out = GL_STANDING_MODERATOR;
        return GL_OK;
    }
    if ((rv = api_is_broadcaster(r, channel, &yes, err)) != GL_OK) return rv;
    if (yes) {
        *out = GL_STANDING_BROADCASTER;
        return GL_OK;
    }
    if ((rv = gl_db_role_has(r->db, channel, GL_CHANNEL_ROLE_MODERATOR, r->user.id, &yes, err)) !=
        GL_OK)
        return rv;
    if (yes) {
        *out = GL_STANDING_MODERATOR;
        return GL_OK;
    }
    if ((rv = gl_db_role_has(r->db, channel, GL_CHANNEL_ROLE_VIP, r->user.id, &yes, err)) != GL_OK)
        return rv;
    if (yes) *out = GL_STANDING_VIP;
    return GL_OK;
}

/* Rows come newest first; noting them oldest first leaves the newest at the front. */
typedef struct recent_rows {
    char *data[GL_UNIQUE_RECENT];
    int64_t at_ms[GL_UNIQUE_RECENT];
    unsigned n;
} recent_rows;

static int
on_recent(void *arg, const char *data, int64_t created_ms)
{
    recent_rows *rr = arg;
    if (rr->n == GL_UNIQUE_RECENT || data == NULL) return 0;
    if ((rr->data[rr->n] = strdup(data)) == NULL) return GL_ENOMEM;
    rr->at_ms[rr->n++] = created_ms;
    return 0;
}

static int
load_recent(api_req *r, gl_recent *out, gl_err *err)
{
    recent_rows rr = {{NULL}, {0}, 0};
    int rv = gl_db_recent_of_user(r->db, r->channel, r->user.id, on_recent, &rr, err);

    if (rv == GL_ENOMEM) gl_err_set(err, GL_ENOMEM, "out of memory");
    *out = (gl_recent){0};
    for (unsigned i = rr.n; i-- > 0;) {
        if (rv == GL_OK) gl_recent_note(out, rr.data[i], rr.at_ms[i]);
        free(rr.data[i]);
    }
    return rv;
}

int
api_check_modes(api_req *r, const gl_policy *pol, const gl_acl_facts *f, const char *data,
                int64_t now_ms, gl_mode_verdict *v, gl_err *err)
{
    gl_standing st;
    gl_recent recent = {0};
    int rv;

    *v = (gl_mode_verdict){false, 0, NULL, GL_MODE_NONE};
    if (!gl_modes_active(&pol->modes, pol->n_global_terms)) return GL_OK;
    if ((rv = api_channel_standing(r, r->channel, &st, err)) != GL_OK) return rv;
    if (st == GL_STANDING_NONE && gl_modes_track_recent(&pol->modes) &&
        (rv = load_recent(r, &recent, err)) != GL_OK)
        return rv;
    rv = gl_modes_check(&pol->modes, pol->global_terms, pol->n_global_terms, st,
                        gl_acl_is_member(pol, &r->user, f), data, &recent, now_ms, v, err);
    if (rv == GL_ERATE) r->retry_after_ms = v->retry_after_ms;
    return rv;
}
