/* The channel ACL: policy resolution (YAML rule + stored override) and the read/publish
 * decisions. No I/O here; callers gather the facts. */
#include "acl.h"
#include "chan.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

void
gl_override_free(gl_override *ov)
{
    if (ov == NULL) return;
    free(ov->roles);
    ov->roles = NULL;
    ov->n_roles = 0;
    ov->has_roles = false;
    free(ov->modes.terms);
    ov->modes = GL_MODES_UNSET;
}

/* A copy of n elements of elem bytes (one more zeroed, so that n may be 0), or NULL. */
static void *
copy_slots(const void *src, size_t n, size_t elem)
{
    void *p = calloc(n + 1, elem);
    if (p != NULL && n > 0) memcpy(p, src, n * elem);
    return p;
}

int
gl_override_copy(gl_override *dst, const gl_override *src)
{
    *dst = *src;
    dst->roles = NULL;
    dst->modes.terms = NULL;
    if ((src->has_roles &&
         (dst->roles = copy_slots(src->roles, src->n_roles, sizeof(*src->roles))) == NULL) ||
        (src->modes.has_terms &&
         (dst->modes.terms = copy_slots(src->modes.terms, src->modes.n_terms,
                                        sizeof(*src->modes.terms))) == NULL)) {
        gl_override_free(dst);
        *dst = (gl_override)GL_OVERRIDE_INIT;
        return GL_ENOMEM;
    }
    return GL_OK;
}

bool
gl_override_is_empty(const gl_override *ov)
{
    const gl_modes *m = &ov->modes;
    return ov->private_ < 0 && ov->allow_publish < 0 && ov->max_history <= 0 && !ov->has_roles &&
           m->slow_mode < 0 && m->members_only < 0 && m->unique_chat < 0 && m->max_length < 0 &&
           m->max_bytes < 0 && m->hold_blocked < 0 && !m->has_terms;
}

void
gl_policy_resolve(const gl_config *cfg, const char *channel, const gl_override *ov, gl_policy *out)
{
    const gl_chan_rule *rule = gl_config_match(cfg, channel);

    memset(out, 0, sizeof(*out));
    out->allow_publish = true;
    out->max_history = GL_HISTORY_DEFAULT;
    if (rule != NULL) {
        out->ns = rule->ns;
        out->private_ = rule->private_;
        if (rule->max_history > 0) out->max_history = rule->max_history;
        out->roles = (const char(*)[GL_NAME_MAX])rule->allowed_roles;
        out->n_roles = rule->n_allowed_roles;
        out->users = (const char(*)[GL_USER_ID_MAX])rule->allowed_users;
        out->n_users = rule->n_allowed_users;
    }
    if (out->ns == NULL) {
        char prefix[GL_NAME_MAX];
        if (gl_chan_prefix(channel, prefix, sizeof(prefix)) > 0)
            out->ns = gl_config_namespace(cfg, prefix);
    }
    if (out->ns != NULL) out->allow_publish = out->ns->allow_publish;
    gl_modes_resolve(&out->modes, out->ns ? &out->ns->modes : NULL, rule ? &rule->modes : NULL,
                     ov ? &ov->modes : NULL);
    if (cfg != NULL) {
        out->global_terms = cfg->blocked_terms;
        out->n_global_terms = cfg->n_blocked_terms;
    }
    if (ov == NULL) return;
    if (ov->private_ >= 0) out->private_ = ov->private_ != 0;
    if (ov->allow_publish >= 0) out->allow_publish = ov->allow_publish != 0;
    if (ov->max_history > 0) out->max_history = ov->max_history;
    if (ov->has_roles) {
        out->roles = (const char(*)[GL_NAME_MAX])ov->roles;
        out->n_roles = ov->n_roles;
    }
}

bool
gl_acl_is_staff(const gl_user *u)
{
    return u != NULL && (strcmp(u->role, "moderator") == 0 || strcmp(u->role, "admin") == 0);
}

bool
gl_acl_is_admin(const gl_user *u)
{
    return u != NULL && strcmp(u->role, "admin") == 0;
}

bool
gl_acl_may_stream(const gl_user *u)
{
    return u != NULL && ((u->perms & GL_PERM_STREAM_CREATE) != 0 ||
                         strcmp(u->role, "streamer") == 0 || gl_acl_is_admin(u));
}

bool
gl_acl_may_moderate(const gl_user *u)
{
    return u != NULL && (gl_acl_is_staff(u) || (u->perms & GL_PERM_CHAT_MODERATE) != 0);
}

static bool
private_admits(const gl_policy *p, const gl_user *u, const gl_acl_facts *f)
{
    if (gl_acl_is_staff(u) || f->in_access_list) return true;
    for (size_t i = 0; i < p->n_users; i++)
        if (strcmp(p->users[i], u->id) == 0) return true;
    for (size_t i = 0; i < p->n_roles; i++)
        if (strcmp(p->roles[i], u->role) == 0) return true;
    return false;
}

bool
gl_acl_is_member(const gl_policy *p, const gl_user *u, const gl_acl_facts *f)
{
    return u != NULL && private_admits(p, u, f);
}

int
gl_acl_check_read(const gl_policy *p, const gl_user *u, const gl_acl_facts *f, gl_err *err)
{
    if (u != NULL && f->banned)
        return gl_err_set(err, GL_EFORBIDDEN, "you are banned from this channel");
    if (!p->private_) return GL_OK;
    if (u == NULL) return gl_err_set(err, GL_EAUTH, "this channel is private: authenticate first");
    if (!private_admits(p, u, f))
        return gl_err_set(err, GL_EFORBIDDEN, "this channel is private and you have no access");
    return GL_OK;
}

int
gl_acl_check_publish(const gl_policy *p, const gl_user *u, const gl_acl_facts *f, int64_t now_ms,
                     gl_err *err)
{
    int rv;

    if (u == NULL) return gl_err_set(err, GL_EAUTH, "publishing needs an authenticated user");
    if ((rv = gl_acl_check_read(p, u, f, err)) != GL_OK) return rv;
    if (f->timeout_until_ms > now_ms) {
        char until[GL_TIME_MAX];
        gl_time_format_iso(f->timeout_until_ms, until);
        return gl_err_set(err, GL_EFORBIDDEN, "you are timed out in this channel until %s", until);
    }
    if (!p->allow_publish && !gl_acl_is_staff(u))
        return gl_err_set(err, GL_EFORBIDDEN, "publishing is disabled in this channel");
    if (u->has_permissions && (u->perms & GL_PERM_CHAT_PUBLISH) == 0)
        return gl_err_set(err, GL_EFORBIDDEN, "your token lacks the chat.publish permission");
    return GL_OK;
}
