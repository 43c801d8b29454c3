/* A small cache of tokens that one thread has already verified with one secret. The same bytes
 * verify the same way, so a hit skips the parse and the HMAC and only checks time again. Not
 * thread-safe: one cache per thread. */
#ifndef GL_JWT_CACHE_H
#define GL_JWT_CACHE_H

#include "jwt.h"

#define GL_JWT_CACHE_SLOTS 8
#define GL_JWT_CACHE_TOKEN_MAX 1024 /* longer tokens are verified every time, never kept */

typedef struct gl_jwt_cache {
    struct {
        char *token; /* malloc'd copy, NULL when the slot is free */
        size_t len;
        int64_t verified_at; /* now at verification: a clock that went back re-verifies */
        gl_user user;
    } slot[GL_JWT_CACHE_SLOTS];
    unsigned next; /* the slot to replace next (round robin) */
} gl_jwt_cache;

/* gl_jwt_verify through cache c (may be NULL: no cache). Same results and messages, except that a
 * fractional exp counts as its whole second. A token that verifies is kept when memory allows. */
int gl_jwt_verify_cached(gl_jwt_cache *c, const char *secret, const char *token, int64_t now,
                         gl_user *user, gl_err *err);

/* Free the kept tokens; the cache is empty and usable afterwards. */
void gl_jwt_cache_clear(gl_jwt_cache *c);

#endif
