/* Unit tests for shared/jwt_cache: a hit gives what gl_jwt_verify gave, and a cached token is
 * still refused once it expires, when its bytes differ, or when the clock goes back. */
#include "shared/jwt_cache.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "test-secret"
#define NOW ((int64_t)1700000000)

static char *
mint(const char *sub, int64_t exp)
{
    gl_jwt_claims c = {.sub = sub, .username = "alice", .role = "moderator", .exp = exp};
    char *tok = NULL;
    gl_err err;
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_OK);
    return tok;
}

static void
test_jwt_cache_hit_gives_the_same_user_as_a_full_check(void **state)
{
    gl_jwt_cache c = {0};
    char *tok = mint("u1", NOW + 60);
    gl_user a, b;
    gl_err err;
    (void)state;

    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW, &a, &err), GL_OK);
    assert_non_null(c.slot[0].token); /* kept */
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW + 1, &b, &err), GL_OK);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_string_equal(b.id, "u1");
    assert_string_equal(b.role, "moderator");
    gl_jwt_cache_clear(&c);
    free(tok);
}

static void
test_jwt_cache_refuses_a_cached_token_once_it_expires(void **state)
{
    gl_jwt_cache c = {0};
    char *tok = mint("u1", NOW + 60);
    gl_user u;
    gl_err err;
    (void)state;

    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW, &u, &err), GL_OK);
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW + 59, &u, &err), GL_OK);
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW + 60, &u, &err), GL_EAUTH);
    assert_string_equal(err.msg, "token expired");
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW + 61, &u, &err), GL_EAUTH);
    gl_jwt_cache_clear(&c);
    free(tok);
}

static void
test_jwt_cache_never_matches_a_token_with_other_bytes(void **state)
{
    gl_jwt_cache c = {0};
    char *tok = mint("u1", NOW + 60);
    size_t len = strlen(tok);
    gl_user u;
    gl_err err;
    (void)state;

    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW, &u, &err), GL_OK);
    tok[len - 1] = tok[len - 1] == 'A' ? 'B' : 'A'; /* the signature's last character */
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW, &u, &err), GL_EAUTH);
    tok[len - 1] = '\0'; /* a prefix of a cached token */
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW, &u, &err), GL_EAUTH);
    gl_jwt_cache_clear(&c);
    free(tok);
}

static void
test_jwt_cache_checks_again_when_the_clock_goes_back(void **state)
{
    gl_jwt_cache c = {0};
    gl_jwt_claims claims = {.sub = "u1", .exp = NOW + 60};
    char *tok = NULL;
    gl_user u;
    gl_err err;
    (void)state;

    assert_int_equal(gl_jwt_mint(SECRET, &claims, &tok, &err), GL_OK);
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW, &u, &err), GL_OK);
    /* still valid at NOW - 10, but the slot was verified later: the full check runs (and
     * passes); what matters is that the slot is not trusted blindly */
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, tok, NOW - 10, &u, &err), GL_OK);
    assert_null(c.slot[0].token);
    assert_int_equal(c.slot[1].verified_at, NOW - 10);
    gl_jwt_cache_clear(&c);
    free(tok);
}

static void
test_jwt_cache_keeps_at_most_its_slots_and_skips_long_tokens(void **state)
{
    gl_jwt_cache c = {0};
    char *toks[GL_JWT_CACHE_SLOTS + 2], sub[16], *kept[GL_JWT_CACHE_SLOTS];
    char *long_perm = malloc(GL_JWT_CACHE_TOKEN_MAX);
    const char *perms[1] = {long_perm};
    gl_jwt_claims claims = {.sub = "u-big",
                            .exp = NOW + 60,
                            .with_permissions = true,
                            .permissions = perms,
                            .n_permissions = 1};
    char *big = NULL;
    gl_user u;
    gl_err err;
    (void)state;

    for (int i = 0; i < GL_JWT_CACHE_SLOTS + 2; i++) {
        snprintf(sub, sizeof(sub), "u%d", i);
        toks[i] = mint(sub, NOW + 60);
        assert_int_equal(gl_jwt_verify_cached(&c, SECRET, toks[i], NOW, &u, &err), GL_OK);
        assert_string_equal(u.id, sub);
    }
    for (int i = 0; i < GL_JWT_CACHE_SLOTS; i++)
        assert_non_null(kept[i] = c.slot[i].token);
    /* an unknown permission name makes the token long without changing what it grants */
    assert_non_null(long_perm);
    memset(long_perm, 'p', GL_JWT_CACHE_TOKEN_MAX - 1);
    long_perm[GL_JWT_CACHE_TOKEN_MAX - 1] = '\0';
    assert_int_equal(gl_jwt_mint(SECRET, &claims, &big, &err), GL_OK);
    assert_true(strlen(big) > GL_JWT_CACHE_TOKEN_MAX);
    assert_int_equal(gl_jwt_verify_cached(&c, SECRET, big, NOW, &u, &err), GL_OK);
    assert_string_equal(u.id, "u-big");
    for (int i = 0; i < GL_JWT_CACHE_SLOTS; i++)
        assert_ptr_equal(c.slot[i].token, kept[i]); /* nothing replaced */
    gl_jwt_cache_clear(&c);
    for (int i = 0; i < GL_JWT_CACHE_SLOTS + 2; i++)
        free(toks[i]);
    free(big);
    free(long_perm);
}

static void
test_jwt_cache_null_cache_verifies_every_time(void **state)
{
    char *tok = mint("u1", NOW + 60);
    gl_user u;
    gl_err err;
    (void)state;
    assert_int_equal(gl_jwt_verify_cached(NULL, SECRET, tok, NOW, &u, &err), GL_OK);
    assert_int_equal(gl_jwt_verify_cached(NULL, "other-secret", tok, NOW, &u, &err), GL_EAUTH);
    free(tok);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_cache_hit_gives_the_same_user_as_a_full_check),
        cmocka_unit_test(test_jwt_cache_refuses_a_cached_token_once_it_expires),
        cmocka_unit_test(test_jwt_cache_never_matches_a_token_with_other_bytes),
        cmocka_unit_test(test_jwt_cache_checks_again_when_the_clock_goes_back),
        cmocka_unit_test(test_jwt_cache_keeps_at_most_its_slots_and_skips_long_tokens),
        cmocka_unit_test(test_jwt_cache_null_cache_verifies_every_time),
    };

    return cmocka_run_group_tests_name("jwt_cache", tests, NULL, NULL);
}
