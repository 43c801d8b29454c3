/* libFuzzer target for shared/jwt.c: the input, NUL-terminated, as a token verified with a fixed
 * secret. Random bytes rarely carry a valid signature, so an input that is a JSON object is also
 * signed as claims with the same secret, which takes it past the signature into the claim checks.
 */
#include "fuzz.h"
#include "shared/jwt.h"

#include <jwt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "fuzz-secret"
#define NOW ((int64_t)1700000000)

/* Verify token and check what gl_jwt_verify promises about *user on either outcome. */
static void
verify(const char *token)
{
    gl_user u, zero;
    gl_err err;
    int rv;

    memset(&u, 0x5a, sizeof(u));
    memset(&zero, 0, sizeof(zero));
    gl_err_clear(&err);
    rv = gl_jwt_verify(SECRET, token, NOW, &u, &err);
    if (rv != GL_OK) {
        CHECK(rv == err.code && (rv == GL_EAUTH || rv == GL_ENOMEM));
        CHECK(memcmp(&u, &zero, sizeof(u)) == 0);
        return;
    }
    CHECK(u.id[0] != '\0' && strlen(u.id) < sizeof(u.id));
    CHECK(u.username[0] != '\0' && strlen(u.username) < sizeof(u.username));
    CHECK(u.role[0] != '\0' && strlen(u.role) < sizeof(u.role));
    CHECK(u.exp == 0 || u.exp >= NOW); // a fractional exp just past NOW truncates to it
    CHECK(u.has_permissions || u.perms == 0);
}

/* Sign claims_json with SECRET (HS256) through libjwt, then verify the token. */
static void
sign_and_verify(const char *claims_json)
{
    jwt_t *j = NULL;
    char *tok;

    if (jwt_new(&j) != 0) return;
    if (jwt_add_grants_json(j, claims_json) == 0 &&
        jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET)) == 0 &&
        (tok = jwt_encode_str(j)) != NULL) {
        verify(tok);
        free(tok);
    }
    jwt_free(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    verify(s);
    if (size > 0 && s[0] == '{') sign_and_verify(s);
    free(s);
    return 0;
}
