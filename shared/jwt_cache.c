/* Per-thread cache of verified tokens (see jwt_cache.h). Keyed by the token's exact bytes. */
#include "jwt_cache.h"

#include <stdlib.h>
#include <string.h>

static void
free_slot(gl_jwt_cache *c, unsigned i)
{
    free(c->slot[i].token);
    c->slot[i].token = NULL;
}

int
gl_jwt_verify_cached(gl_jwt_cache *c, const char *secret, const char *token, int64_t now,
                     gl_user *user, gl_err *err)
{
    size_t len = strlen(token);
    char *copy;
    int rv;

    if (c == NULL || len > GL_JWT_CACHE_TOKEN_MAX)
        return gl_jwt_verify(secret, token, now, user, err);
    for (unsigned i = 0; i < GL_JWT_CACHE_SLOTS; i++) {
        if (c->slot[i].token == NULL || c->slot[i].len != len ||
            memcmp(c->slot[i].token, token, len) != 0)
            continue;
        if (now >= c->slot[i].verified_at &&
            (c->slot[i].user.exp == 0 || c->slot[i].user.exp > now)) {
            *user = c->slot[i].user;
            return GL_OK;
        }
        free_slot(c, i); /* expired, or the clock went back: let the full check decide */
        break;
    }
    if ((rv = gl_jwt_verify(secret, token, now, user, err)) != GL_OK) return rv;
    if ((copy = malloc(len + 1)) != NULL) {
        unsigned i = c->next;
        c->next = (i + 1) % GL_JWT_CACHE_SLOTS;
        free_slot(c, i);
        memcpy(copy, token, len + 1);
        c->slot[i].token = copy;
        c->slot[i].len = len;
        c->slot[i].verified_at = now;
        c->slot[i].user = *user;
    }
    return GL_OK;
}

void
gl_jwt_cache_clear(gl_jwt_cache *c)
{
    for (unsigned i = 0; i < GL_JWT_CACHE_SLOTS; i++)
        free_slot(c, i);
    c->next = 0;
}
