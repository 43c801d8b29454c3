/* Unit tests for shared/jwt: the HS256 pin, exp/nbf, claim types, and mint/verify round trips.
 * Hostile tokens are built by hand or with libjwt directly, never with gl_jwt_mint. */
#include "shared/jwt.h"
#include "shared/sha256.h"
#include "shared/log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "test-secret"
#define NOW ((int64_t)1700000000)

/* A token signed by libjwt itself with any alg and arbitrary claims (a JSON object). */
static char *
raw_token(jwt_alg_t alg, const char *secret, const char *claims_json)
{
    jwt_t *j = NULL;
    char *tok;

    assert_int_equal(jwt_new(&j), 0);
    assert_int_equal(jwt_add_grants_json(j, claims_json), 0);
    assert_int_equal(jwt_set_alg(j, alg, (const unsigned char *)secret, (int)strlen(secret)), 0);
    tok = jwt_encode_str(j);
    assert_non_null(tok);
    jwt_free(j);
    return tok;
}

/* Append the unpadded base64url encoding of s to out. */
static void
b64url_append_n(char *out, size_t cap, const char *s, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(out);

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)s[i] << 16;
        size_t chunk = len - i < 3 ? len - i : 3;
        if (chunk > 1) v |= (uint32_t)(unsigned char)s[i + 1] << 8;
        if (chunk > 2) v |= (unsigned char)s[i + 2];
        for (size_t k = 0; k <= chunk; k++) {
            assert_true(n + 1 < cap);
            out[n++] = abc[(v >> (18 - 6 * k)) & 63];
        }
    }
    out[n] = '\0';
}

static void
b64url_append(char *out, size_t cap, const char *s)
{
    b64url_append_n(out, cap, s, strlen(s));
}

/* HMAC-SHA256 (RFC 2104) of msg with key, from shared/sha256. */
static void
hmac_sha256(const char *key, const char *msg, uint8_t out[GL_SHA256_LEN])
{
    uint8_t pad[64 + 512], inner[GL_SHA256_LEN];
    size_t klen = strlen(key), mlen = strlen(msg);

    assert_true(klen <= 64 && mlen <= 512);
    for (int round = 0; round < 2; round++) {
        memset(pad, 0, 64);
        memcpy(pad, key, klen);
        for (int i = 0; i < 64; i++)
            pad[i] ^= round == 0 ? 0x36 : 0x5c;
        if (round == 0) {
            memcpy(pad + 64, msg, mlen);
            gl_sha256(pad, 64 + mlen, inner);
        } else {
            memcpy(pad + 64, inner, sizeof(inner));
            gl_sha256(pad, 64 + sizeof(inner), out);
        }
    }
}

/* A validly signed HS256 token over exactly these payload bytes (libjwt cannot make one with
 * repeated keys). */
static void
signed_token(char *out, size_t cap, const char *payload)
{
    uint8_t sig[GL_SHA256_LEN];
    out[0] = '\0';
    b64url_append(out, cap, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    strcat(out, ".");
    b64url_append(out, cap, payload);
    hmac_sha256(SECRET, out, sig);
    strcat(out, ".");
    b64url_append_n(out, cap, (const char *)sig, sizeof(sig));
}

/* header.payload.sig built by hand, for algs libjwt will not sign with a secret. */
static void
hand_token(char *out, size_t cap, const char *header, const char *payload, const char *sig)
{
    out[0] = '\0';
    b64url_append(out, cap, header);
    strcat(out, ".");
    b64url_append(out, cap, payload);
    strcat(out, ".");
    assert_true(strlen(out) + strlen(sig) < cap);
    strcat(out, sig);
}

/* Verify must refuse token with GL_EAUTH, leave *user zeroed, and say msg (when not NULL). */
static void
expect_refused(const char *secret, const char *token, const char *msg)
{
    gl_user u, zero;
    gl_err err;

    memset(&u, 0x5a, sizeof(u));
    memset(&zero, 0, sizeof(zero));
    gl_err_clear(&err);
    assert_int_equal(gl_jwt_verify(secret, token, NOW, &u, &err), GL_EAUTH);
    assert_int_equal(err.code, GL_EAUTH);
    if (msg != NULL) assert_string_equal(err.msg, msg);
    assert_memory_equal(&u, &zero, sizeof(u));
}

static void
expect_raw_refused(jwt_alg_t alg, const char *claims_json, const char *msg)
{
    char *tok = raw_token(alg, SECRET, claims_json);
    expect_refused(SECRET, tok, msg);
    free(tok);
}

static void
verify_raw(const char *claims_json, gl_user *u)
{
    char *tok = raw_token(JWT_ALG_HS256, SECRET, claims_json);
    gl_err err;

    assert_int_equal(gl_jwt_verify(SECRET, tok, NOW, u, &err), GL_OK);
    free(tok);
}

static void
test_jwt_round_trip_keeps_every_claim(void **state)
{
    const char *perms[] = {"chat.publish", "stream.create", "chat.moderate"};
    gl_jwt_claims c = {.sub = "user_123",
                       .username = "alice",
                       .role = "moderator",
                       .with_permissions = true,
                       .permissions = perms,
                       .n_permissions = 3,
                       .iat = NOW,
                       .exp = NOW + 3600};
    char *tok = NULL;
    gl_user u;
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_OK);
    assert_non_null(tok);
    assert_int_equal(gl_jwt_verify(SECRET, tok, NOW, &u, &err), GL_OK);
    assert_string_equal(u.id, "user_123");
    assert_string_equal(u.username, "alice");
    assert_string_equal(u.role, "moderator");
    assert_true(u.has_permissions);
    assert_int_equal(u.perms, GL_PERM_CHAT_PUBLISH | GL_PERM_STREAM_CREATE | GL_PERM_CHAT_MODERATE);
    assert_int_equal(u.exp, NOW + 3600);
    free(tok);
}

static void
test_jwt_defaults_username_to_sub_and_role_to_user(void **state)
{
    gl_jwt_claims c = {.sub = "user_9", .exp = NOW + 60};
    char *tok = NULL;
    gl_user u;
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_OK);
    assert_int_equal(gl_jwt_verify(SECRET, tok, NOW, &u, &err), GL_OK);
    assert_string_equal(u.id, "user_9");
    assert_string_equal(u.username, "user_9");
    assert_string_equal(u.role, "user");
    assert_false(u.has_permissions);
    assert_int_equal(u.perms, 0);
    free(tok);
}

static void
test_jwt_token_without_exp_is_accepted_with_exp_zero(void **state)
{
    gl_user u;

    (void)state;
    verify_raw("{\"sub\":\"u\"}", &u);
    assert_int_equal(u.exp, 0);
    verify_raw("{\"sub\":\"u\",\"exp\":1700000100.5,\"nbf\":1700000000}", &u);
    assert_int_equal(u.exp, 1700000100);
}

static void
test_jwt_empty_username_falls_back_to_sub(void **state)
{
    gl_user u;

    (void)state;
    verify_raw("{\"sub\":\"user_7\",\"username\":\"\"}", &u);
    assert_string_equal(u.username, "user_7");
}

static void
test_jwt_cuts_long_sub_to_username_at_utf8_boundary(void **state)
{
    char sub[GL_USER_ID_MAX], claims[512];
    gl_user u;

    (void)state;
    /* 62 ASCII bytes then "é" (2 bytes): byte 63 would split it, so the username stops at 62. */
    memset(sub, 'a', 62);
    strcpy(sub + 62, "\xc3\xa9tail");
    snprintf(claims, sizeof(claims), "{\"sub\":\"%s\"}", sub);
    verify_raw(claims, &u);
    assert_string_equal(u.id, sub);
    assert_int_equal(strlen(u.username), 62);
    assert_memory_equal(u.username, sub, 62);
}

static void
test_jwt_empty_permissions_array_grants_nothing(void **state)
{
    gl_jwt_claims c = {.sub = "u", .with_permissions = true};
    char *tok = NULL;
    gl_user u;
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_OK);
    assert_int_equal(gl_jwt_verify(SECRET, tok, NOW, &u, &err), GL_OK);
    assert_true(u.has_permissions);
    assert_int_equal(u.perms, 0);
    free(tok);
}

static void
test_jwt_ignores_unknown_permission(void **state)
{
    gl_user u;

    (void)state;
    verify_raw("{\"sub\":\"u\",\"permissions\":[\"admin.everything\",\"chat.publish\"]}", &u);
    assert_true(u.has_permissions);
    assert_int_equal(u.perms, GL_PERM_CHAT_PUBLISH);
}

static void
test_jwt_mint_escapes_permission_names(void **state)
{
    const char *perms[] = {"x\"],\"chat.moderate", "stream.create"};
    gl_jwt_claims c = {
        .sub = "u", .with_permissions = true, .permissions = perms, .n_permissions = 2};
    char *tok = NULL, *json;
    jwt_t *j = NULL;
    gl_user u;
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_OK);
    assert_int_equal(gl_jwt_verify(SECRET, tok, NOW, &u, &err), GL_OK);
    assert_int_equal(u.perms, GL_PERM_STREAM_CREATE);
    assert_int_equal(jwt_decode(&j, tok, (const unsigned char *)SECRET, (int)strlen(SECRET)), 0);
    json = jwt_get_grants_json(j, "permissions");
    assert_string_equal(json, "[\"x\\\"],\\\"chat.moderate\",\"stream.create\"]");
    free(json);
    jwt_free(j);
    free(tok);
}

static void
test_jwt_perm_bit_knows_the_three_permissions(void **state)
{
    (void)state;
    assert_int_equal(gl_jwt_perm_bit("chat.publish"), GL_PERM_CHAT_PUBLISH);
    assert_int_equal(gl_jwt_perm_bit("stream.create"), GL_PERM_STREAM_CREATE);
    assert_int_equal(gl_jwt_perm_bit("chat.moderate"), GL_PERM_CHAT_MODERATE);
    assert_int_equal(gl_jwt_perm_bit("Chat.Publish"), 0);
    assert_int_equal(gl_jwt_perm_bit(""), 0);
    assert_int_equal(gl_jwt_perm_bit(NULL), 0);
}

static void
test_jwt_accepts_token_minted_by_pyjwt(void **state)
{
    /* jwt.encode({"sub":"py_user","username":"Zoë","role":"admin","permissions":
     * ["chat.publish","stream.create"],"exp":4102444800}, "s3cret") with PyJWT 2.6. */
    static const char tok[] =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJweV91c2VyIiwidXNlcm5hbWUiOiJab1x1MDBlYiIs"
        "InJvbGUiOiJhZG1pbiIsInBlcm1pc3Npb25zIjpbImNoYXQucHVibGlzaCIsInN0cmVhbS5jcmVhdGUiXSwiZXhw"
        "Ijo0MTAyNDQ0ODAwfQ.A9FG0MT3rR3Kc-co9g-Cbx8DrsBvQI9rvJZC7J_juZg";
    gl_user u;
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_verify("s3cret", tok, NOW, &u, &err), GL_OK);
    assert_string_equal(u.id, "py_user");
    assert_string_equal(u.username, "Zo\xc3\xab");
    assert_string_equal(u.role, "admin");
    assert_int_equal(u.perms, GL_PERM_CHAT_PUBLISH | GL_PERM_STREAM_CREATE);
    assert_int_equal(u.exp, 4102444800);
}

static void
test_jwt_rejects_wrong_secret(void **state)
{
    gl_jwt_claims c = {.sub = "u", .exp = NOW + 60};
    char *tok = NULL;
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_mint("other-secret", &c, &tok, &err), GL_OK);
    expect_refused(SECRET, tok, "token signature is invalid");
    free(tok);
}

static void
test_jwt_rejects_tampered_payload(void **state)
{
    char *tok = raw_token(JWT_ALG_HS256, SECRET, "{\"sub\":\"u\",\"role\":\"user\"}");
    char forged[512], *sig = strrchr(tok, '.');

    (void)state;
    hand_token(forged, sizeof(forged), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
               "{\"sub\":\"u\",\"role\":\"admin\"}", sig + 1);
    expect_refused(SECRET, forged, "token signature is invalid");
    free(tok);
}

static void
test_jwt_rejects_alg_none(void **state)
{
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\",\"typ\":\"JWT\"}",
        "{\"alg\":\"NONE\"}",
        "{\"typ\":\"JWT\"}",
    };
    const char *payload = "{\"sub\":\"attacker\",\"role\":\"admin\"}";
    char tok[512];

    (void)state;
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        hand_token(tok, sizeof(tok), headers[i], payload, "");
        expect_refused(SECRET, tok, "token algorithm must be HS256");
        hand_token(tok, sizeof(tok), headers[i], payload, "ZmFrZXNpZw");
        expect_refused(SECRET, tok, "token algorithm must be HS256");
    }
}

static void
test_jwt_rejects_hs384_and_hs512_signed_with_same_secret(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS384, "{\"sub\":\"u\"}", "token algorithm must be HS256");
    expect_raw_refused(JWT_ALG_HS512, "{\"sub\":\"u\"}", "token algorithm must be HS256");
}

static void
test_jwt_rejects_rs256_header(void **state)
{
    char tok[512];

    (void)state;
    hand_token(tok, sizeof(tok), "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "{\"sub\":\"u\"}",
               "c2lnbmF0dXJl");
    expect_refused(SECRET, tok, "token algorithm must be HS256");
}

static void
test_jwt_rejects_hs256_token_without_signature(void **state)
{
    char tok[512];

    (void)state;
    hand_token(tok, sizeof(tok), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":\"u\"}", "");
    expect_refused(SECRET, tok, "token signature is invalid");
}

static void
test_jwt_rejects_expired_token(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"exp\":1699999999}", "token expired");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"exp\":1700000000}", "token expired");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"exp\":-5}", "token expired");
}

static void
test_jwt_rejects_token_not_yet_valid(void **state)
{
    gl_user u;

    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"nbf\":1700000001}", "token not yet valid");
    verify_raw("{\"sub\":\"u\",\"nbf\":1700000000}", &u);
    assert_string_equal(u.id, "u");
}

static void
test_jwt_rejects_exp_given_as_string(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"exp\":\"1800000000\"}",
                       "token exp claim must be a number");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"exp\":null}",
                       "token exp claim must be a number");
}

static void
test_jwt_rejects_nbf_given_as_string(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"nbf\":\"0\"}",
                       "token nbf claim must be a number");
}

static void
test_jwt_rejects_missing_sub(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"username\":\"alice\",\"exp\":1800000000}",
                       "token has no sub claim");
}

static void
test_jwt_rejects_sub_of_wrong_type(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":42}",
                       "token sub claim must be a string (the user id)");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":[\"u\"]}",
                       "token sub claim must be a string (the user id)");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":null}",
                       "token sub claim must be a string (the user id)");
}

static void
test_jwt_rejects_empty_overlong_or_control_char_sub(void **state)
{
    char claims[512], sub[GL_USER_ID_MAX + 1];

    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"\"}",
                       "token sub claim must be 1-127 bytes, without control characters");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"a\\nb\"}",
                       "token sub claim must be 1-127 bytes, without control characters");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"a\\u007fb\"}",
                       "token sub claim must be 1-127 bytes, without control characters");
    memset(sub, 'a', GL_USER_ID_MAX);
    sub[GL_USER_ID_MAX] = '\0';
    snprintf(claims, sizeof(claims), "{\"sub\":\"%s\"}", sub);
    expect_raw_refused(JWT_ALG_HS256, claims,
                       "token sub claim must be 1-127 bytes, without control characters");
}

static void
test_jwt_rejects_bad_username(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"username\":7}",
                       "token username claim must be a string");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"username\":\"a\\tb\"}", NULL);
    expect_raw_refused(JWT_ALG_HS256,
                       "{\"sub\":\"u\",\"username\":"
                       "\"0123456789012345678901234567890123456789012345678901234567890123\"}",
                       NULL);
}

static void
test_jwt_rejects_role_outside_allowed_characters(void **state)
{
    (void)state;
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"role\":\"Admin\"}",
                       "token role claim must be 1-31 characters of [a-z0-9_-]");
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"role\":\"\"}", NULL);
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"role\":\"a b\"}", NULL);
    expect_raw_refused(JWT_ALG_HS256, "{\"sub\":\"u\",\"role\":1}", NULL);
    expect_raw_refused(JWT_ALG_HS256,
                       "{\"sub\":\"u\",\"role\":\"abcdefghijabcdefghijabcdefghijab\"}", NULL);
}

static void
test_jwt_rejects_permissions_that_are_not_an_array_of_strings(void **state)
{
    static const char *const claims[] = {
        "{\"sub\":\"u\",\"permissions\":\"chat.publish\"}",
        "{\"sub\":\"u\",\"permissions\":{\"chat.publish\":true}}",
        "{\"sub\":\"u\",\"permissions\":null}",
        "{\"sub\":\"u\",\"permissions\":[\"chat.publish\",1]}",
        "{\"sub\":\"u\",\"permissions\":[[\"chat.publish\"]]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++)
        expect_raw_refused(JWT_ALG_HS256, claims[i], "permissions must be an array of strings");
}

static void
test_jwt_rejects_too_long_token(void **state)
{
    char *tok = malloc(GL_TOKEN_MAX + 2);

    (void)state;
    assert_non_null(tok);
    memset(tok, 'a', GL_TOKEN_MAX + 1);
    tok[GL_TOKEN_MAX + 1] = '\0';
    tok[10] = '.';
    tok[20] = '.';
    expect_refused(SECRET, tok, "token is too long");
    free(tok);
}

static void
test_jwt_rejects_garbage(void **state)
{
    static const char *const garbage[] = {
        "abc",     "a.b",      "a.b.c.d",   ".b.c",      "a..c",          "!!.!!.!!",
        "a b.c.d", "YQ.YQ.YQ", "YQ==.e30.", "e30.e30.x", "eyJhbGci.e30.", "\xff.\xfe.\xfd",
    };

    (void)state;
    expect_refused(SECRET, NULL, "token is missing");
    expect_refused(SECRET, "", "token is missing");
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
        expect_refused(SECRET, garbage[i], NULL);
    expect_refused(SECRET, "a.b.c.d", "token is malformed");
}

static void
test_jwt_verify_refuses_empty_secret(void **state)
{
    char *tok = raw_token(JWT_ALG_HS256, SECRET, "{\"sub\":\"u\"}");

    (void)state;
    expect_refused("", tok, "server has no JWT secret");
    expect_refused(NULL, tok, "server has no JWT secret");
    free(tok);
}

static void
test_jwt_mint_refuses_empty_secret_or_sub(void **state)
{
    gl_jwt_claims c = {.sub = "u"};
    char *tok = (char *)"untouched";
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_mint("", &c, &tok, &err), GL_EINVAL);
    assert_null(tok);
    assert_int_equal(gl_jwt_mint(NULL, &c, &tok, &err), GL_EINVAL);
    c.sub = "";
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_EINVAL);
    c.sub = NULL;
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_EINVAL);
    assert_null(tok);
}

static void
test_jwt_mint_refuses_claims_verify_would_refuse(void **state)
{
    gl_jwt_claims c = {.sub = "u", .role = "Moderator"};
    char *tok = NULL;
    gl_err err;

    (void)state;
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_EINVAL);
    assert_string_equal(err.msg, "role must be 1-31 characters of [a-z0-9_-]");
    c.role = NULL;
    c.username = "bad\nname";
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_EINVAL);
    c.username = NULL;
    c.sub = "bad\x01sub";
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_EINVAL);
    c.sub = "\xff\xfe";
    assert_int_equal(gl_jwt_mint(SECRET, &c, &tok, &err), GL_EINVAL);
    assert_null(tok);
}

static void
test_jwt_secret_from_env_falls_back_to_default(void **state)
{
    int saved = gl_log_level;

    (void)state;
    gl_log_level = GL_LOG_ERROR; // keep the expected warning out of the test output
    assert_int_equal(setenv("JWT_SECRET", "from-env", 1), 0);
    assert_string_equal(gl_jwt_secret_from_env(), "from-env");
    assert_int_equal(setenv("JWT_SECRET", "", 1), 0);
    assert_string_equal(gl_jwt_secret_from_env(), GL_JWT_DEFAULT_SECRET);
    assert_int_equal(unsetenv("JWT_SECRET"), 0);
    assert_string_equal(gl_jwt_secret_from_env(), "change-me");
    gl_log_level = saved;
}

/* libjwt's jansson takes the last of repeated keys: {"role":"viewer","role":"admin"} would be an
 * admin. Repeated keys are refused in the claims and in the header. */
static void
test_jwt_rejects_duplicate_claims_and_header_keys(void **state)
{
    char tok[1024];
    gl_user u;
    gl_err err;
    (void)state;
    /* The signing helper is right: the same token without repeats verifies. */
    signed_token(tok, sizeof(tok), "{\"sub\":\"u\",\"role\":\"viewer\"}");
    assert_int_equal(gl_jwt_verify(SECRET, tok, NOW, &u, &err), GL_OK);
    assert_string_equal(u.role, "viewer");
    signed_token(tok, sizeof(tok),
                 "{\"sub\":\"u\",\"sub\":\"admin\",\"role\":\"viewer\",\"role\":\"admin\"}");
    expect_refused(SECRET, tok, "token claims: duplicate key \"role\"");
    signed_token(tok, sizeof(tok), "{\"sub\":\"u\",\"s\\u0075b\":\"admin\"}");
    expect_refused(SECRET, tok, "token claims: duplicate key \"sub\"");
    signed_token(tok, sizeof(tok), "{\"sub\":\"u\",\"username\":\"a\\u0000b\"}");
    expect_refused(SECRET, tok, "token claims: username must not contain NUL (\\u0000)");
    hand_token(tok, sizeof(tok), "{\"alg\":\"HS256\",\"alg\":\"none\"}", "{\"sub\":\"u\"}", "x");
    expect_refused(SECRET, tok, "token header: duplicate key \"alg\"");
}

static void
test_jwt_bearer_is_one_rule_for_both_binaries(void **state)
{
    const char *t;
    size_t n;
    (void)state;
    assert_int_equal(gl_jwt_bearer(NULL, &t, &n), 0);
    assert_int_equal(gl_jwt_bearer("", &t, &n), 0);
    assert_int_equal(gl_jwt_bearer("  ", &t, &n), 0);
    assert_int_equal(gl_jwt_bearer("Bearer", &t, &n), -1);
    assert_int_equal(gl_jwt_bearer("Bearer ", &t, &n), -1);
    assert_int_equal(gl_jwt_bearer("Bearer \t ", &t, &n), -1);
    assert_int_equal(gl_jwt_bearer("Basic dXNlcjpwYXNz", &t, &n), -1);
    assert_int_equal(gl_jwt_bearer("Bearerabc", &t, &n), -1);
    assert_int_equal(gl_jwt_bearer("bearer  abc.def.ghi ", &t, &n), 1);
    assert_int_equal(n, 11);
    assert_memory_equal(t, "abc.def.ghi", 11);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_rejects_duplicate_claims_and_header_keys),
        cmocka_unit_test(test_jwt_bearer_is_one_rule_for_both_binaries),
        cmocka_unit_test(test_jwt_round_trip_keeps_every_claim),
        cmocka_unit_test(test_jwt_defaults_username_to_sub_and_role_to_user),
        cmocka_unit_test(test_jwt_token_without_exp_is_accepted_with_exp_zero),
        cmocka_unit_test(test_jwt_empty_username_falls_back_to_sub),
        cmocka_unit_test(test_jwt_cuts_long_sub_to_username_at_utf8_boundary),
        cmocka_unit_test(test_jwt_empty_permissions_array_grants_nothing),
        cmocka_unit_test(test_jwt_ignores_unknown_permission),
        cmocka_unit_test(test_jwt_mint_escapes_permission_names),
        cmocka_unit_test(test_jwt_perm_bit_knows_the_three_permissions),
        cmocka_unit_test(test_jwt_accepts_token_minted_by_pyjwt),
        cmocka_unit_test(test_jwt_rejects_wrong_secret),
        cmocka_unit_test(test_jwt_rejects_tampered_payload),
        cmocka_unit_test(test_jwt_rejects_alg_none),
        cmocka_unit_test(test_jwt_rejects_hs384_and_hs512_signed_with_same_secret),
        cmocka_unit_test(test_jwt_rejects_rs256_header),
        cmocka_unit_test(test_jwt_rejects_hs256_token_without_signature),
        cmocka_unit_test(test_jwt_rejects_expired_token),
        cmocka_unit_test(test_jwt_rejects_token_not_yet_valid),
        cmocka_unit_test(test_jwt_rejects_exp_given_as_string),
        cmocka_unit_test(test_jwt_rejects_nbf_given_as_string),
        cmocka_unit_test(test_jwt_rejects_missing_sub),
        cmocka_unit_test(test_jwt_rejects_sub_of_wrong_type),
        cmocka_unit_test(test_jwt_rejects_empty_overlong_or_control_char_sub),
        cmocka_unit_test(test_jwt_rejects_bad_username),
        cmocka_unit_test(test_jwt_rejects_role_outside_allowed_characters),
        cmocka_unit_test(test_jwt_rejects_permissions_that_are_not_an_array_of_strings),
        cmocka_unit_test(test_jwt_rejects_too_long_token),
        cmocka_unit_test(test_jwt_rejects_garbage),
        cmocka_unit_test(test_jwt_verify_refuses_empty_secret),
        cmocka_unit_test(test_jwt_mint_refuses_empty_secret_or_sub),
        cmocka_unit_test(test_jwt_mint_refuses_claims_verify_would_refuse),
        cmocka_unit_test(test_jwt_secret_from_env_falls_back_to_default),
    };

    return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
