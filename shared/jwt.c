/* HS256 JWTs on libjwt 1.10 and cJSON. libjwt checks the signature only: we pin the alg, check
 * exp/nbf and the type of every claim ourselves. Header and claims are read by our strict JSON
 * parser from the signed bytes themselves, so a repeated key ({"role":"viewer","role":"admin"},
 * which libjwt's jansson resolves last-wins) or a NUL in a claim is refused, never guessed. */
#include "jwt.h"
#include "json.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <jwt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decoded JOSE header is small; anything that does not fit is not a token of ours. */
#define HEADER_MAX 1024

static const struct {
    const char *name;
    unsigned bit;
} perm_table[] = {
    {"chat.publish", GL_PERM_CHAT_PUBLISH},
    {"stream.create", GL_PERM_STREAM_CREATE},
    {"chat.moderate", GL_PERM_CHAT_MODERATE},
};

unsigned
gl_jwt_perm_bit(const char *name)
{
    if (name == NULL) return 0;
    for (size_t i = 0; i < sizeof(perm_table) / sizeof(perm_table[0]); i++) {
        if (strcmp(name, perm_table[i].name) == 0) return perm_table[i].bit;
    }
    return 0;
}

const char *
gl_jwt_secret_from_env(void)
{
    const char *s = getenv("JWT_SECRET");

    if (s != NULL && s[0] != '\0') return s;
    gl_log(GL_LOG_WARN, "jwt", "JWT_SECRET is not set; using the insecure default '%s'",
           GL_JWT_DEFAULT_SECRET);
    return GL_JWT_DEFAULT_SECRET;
}

/* True when s is 1..max-1 bytes with no control character (< 0x20 or 0x7f). */
static bool
text_ok(const char *s, size_t max)
{
    size_t len = strnlen(s, max);

    if (len == 0 || len >= max) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return false;
    }
    return true;
}

int
gl_jwt_bearer(const char *header, const char **token, size_t *token_len)
{
    const char *p = header, *end;

    *token = NULL;
    *token_len = 0;
    if (p == NULL) return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0') return 0;
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t')) return -1;
    for (p += 6; *p == ' ' || *p == '\t';)
        p++;
    for (end = p + strlen(p); end > p && (end[-1] == ' ' || end[-1] == '\t');)
        end--;
    if (end == p) return -1;
    *token = p;
    *token_len = (size_t)(end - p);
    return 1;
}

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Decode unpadded base64url in[0..len) into out (cap bytes). False on a bad character, a length
 * no encoder produces, or an output that does not fit. */
static bool
b64url_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;

    if (len % 4 == 1 || len / 4 * 3 + 2 > cap) return false;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    *out_len = n;
    return true;
}

/* Decode and strictly parse one base64url part of a token (cap bytes at most) as a JSON object.
 * On GL_OK *out is the object (cJSON_Delete). */
static int
parse_part(const char *part, size_t len, size_t cap, const char *what, cJSON **out, gl_err *err)
{
    char *buf = malloc(cap);
    size_t n;
    gl_err perr;

    *out = NULL;
    if (buf == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (!b64url_decode(part, len, buf, cap, &n)) {
        free(buf);
        return gl_err_set(err, GL_EAUTH, "token is malformed");
    }
    *out = gl_json_parse(buf, n, NULL, &perr);
    free(buf);
    if (*out == NULL && perr.code == GL_ENOMEM) return gl_err_set(err, GL_ENOMEM, "out of memory");
    if (*out == NULL) return gl_err_set(err, GL_EAUTH, "token %s: %s", what, perr.msg);
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return gl_err_set(err, GL_EAUTH, "token %s must be a JSON object", what);
    }
    return GL_OK;
}

/* Check the x.y.z shape and the alg named in the header, so that "none" or RS256 get a precise
 * message instead of libjwt's bare EINVAL (libjwt's own alg is checked again after decoding),
 * and parse the claims into *claims (cJSON_Delete) for check_claims once the signature holds. */
static int
check_shape(const char *token, size_t len, cJSON **claims, gl_err *err)
{
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    const cJSON *alg;
    cJSON *root;
    bool hs256;
    int rv;

    if (dot2 == NULL || dot1 == token || dot2 == dot1 + 1 ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return gl_err_set(err, GL_EAUTH, "token is malformed");
    for (size_t i = 0; i < len; i++) {
        if (token[i] != '.' && b64url_value((unsigned char)token[i]) < 0)
            return gl_err_set(err, GL_EAUTH, "token is malformed");
    }
    if ((rv = parse_part(token, (size_t)(dot1 - token), HEADER_MAX, "header", &root, err)) != GL_OK)
        return rv;
    alg = cJSON_GetObjectItemCaseSensitive(root, "alg");
    hs256 = cJSON_IsString(alg) && strcmp(alg->valuestring, "HS256") == 0;
    cJSON_Delete(root);
    if (!hs256) return gl_err_set(err, GL_EAUTH, "token algorithm must be HS256");
    if (dot2[1] == '\0') return gl_err_set(err, GL_EAUTH, "token signature is invalid");
    return parse_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), GL_TOKEN_MAX, "claims", claims, err);
}

/* exp and nbf, when present, must be JSON numbers (a string "42" would read as 0 in libjwt). */
static int
check_times(const cJSON *claims, int64_t now, gl_user *u, gl_err *err)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");

    if (exp != NULL) {
        if (!cJSON_IsNumber(exp))
            return gl_err_set(err, GL_EAUTH, "token exp claim must be a number");
        if (exp->valuedouble <= (double)now) return gl_err_set(err, GL_EAUTH, "token expired");
        /* exp > now here, so the stored value is never the "no exp" 0 for a sane clock. */
        u->exp = exp->valuedouble >= 9.2e18 ? INT64_MAX : (int64_t)exp->valuedouble;
    }
    if (nbf != NULL) {
        if (!cJSON_IsNumber(nbf))
            return gl_err_set(err, GL_EAUTH, "token nbf claim must be a number");
        if (nbf->valuedouble > (double)now) return gl_err_set(err, GL_EAUTH, "token not yet valid");
    }
    return GL_OK;
}

/* Copy sub into username, cut back to a UTF-8 character boundary when it is too long. */
static void
username_from_sub(gl_user *u)
{
    size_t n = strlen(u->id);

    if (n >= GL_USERNAME_MAX) {
        n = GL_USERNAME_MAX - 1;
        while (n > 0 && ((unsigned char)u->id[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(u->username, u->id, n);
    u->username[n] = '\0';
}

static int
check_identity(const cJSON *claims, gl_user *u, gl_err *err)
{
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(claims, "sub");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(claims, "username");
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(claims, "role");

    if (sub == NULL) return gl_err_set(err, GL_EAUTH, "token has no sub claim");
    if (!cJSON_IsString(sub))
        return gl_err_set(err, GL_EAUTH, "token sub claim must be a string (the user id)");
    if (!text_ok(sub->valuestring, GL_USER_ID_MAX))
        return gl_err_set(err, GL_EAUTH,
                          "token sub claim must be 1-%d bytes, without control characters",
                          GL_USER_ID_MAX - 1);
    strcpy(u->id, sub->valuestring);

    /* An empty username counts as absent: the user is then shown by id. */
    if (name != NULL && !cJSON_IsString(name))
        return gl_err_set(err, GL_EAUTH, "token username claim must be a string");
    if (name != NULL && name->valuestring[0] != '\0') {
        if (!text_ok(name->valuestring, GL_USERNAME_MAX))
            return gl_err_set(err, GL_EAUTH,
                              "token username claim must be under %d bytes, without control "
                              "characters",
                              GL_USERNAME_MAX);
        strcpy(u->username, name->valuestring);
    } else {
        username_from_sub(u);
    }

    if (role == NULL) {
        strcpy(u->role, "user");
    } else {
        if (!cJSON_IsString(role) || !gl_role_name_ok(role->valuestring))
            return gl_err_set(err, GL_EAUTH,
                              "token role claim must be 1-%d characters of [a-z0-9_-]",
                              GL_ROLE_MAX - 1);
        strcpy(u->role, role->valuestring);
    }
    return GL_OK;
}

static int
check_permissions(const cJSON *claims, gl_user *u, gl_err *err)
{
    const cJSON *perms = cJSON_GetObjectItemCaseSensitive(claims, "permissions");
    const cJSON *p;

    if (perms == NULL) return GL_OK;
    if (!cJSON_IsArray(perms))
        return gl_err_set(err, GL_EAUTH, "permissions must be an array of strings");
    cJSON_ArrayForEach(p, perms)
    {
        if (!cJSON_IsString(p))
            return gl_err_set(err, GL_EAUTH, "permissions must be an array of strings");
        u->perms |= gl_jwt_perm_bit(p->valuestring);
    }
    u->has_permissions = true;
    return GL_OK;
}

/* Everything after the signature: the claims, checked one by one. */
static int
check_claims(const cJSON *claims, int64_t now, gl_user *u, gl_err *err)
{
    int rv;
    if ((rv = check_times(claims, now, u, err)) != GL_OK) return rv;
    if ((rv = check_identity(claims, u, err)) != GL_OK) return rv;
    return check_permissions(claims, u, err);
}

int
gl_jwt_verify(const char *secret, const char *token, int64_t now, gl_user *user, gl_err *err)
{
    size_t secret_len = secret ? strlen(secret) : 0;
    size_t len;
    jwt_t *j = NULL;
    cJSON *claims = NULL;
    gl_user u;
    int rc, rv;

    memset(user, 0, sizeof(*user));
    memset(&u, 0, sizeof(u));
    if (secret_len == 0 || secret_len > INT_MAX)
        return gl_err_set(err, GL_EAUTH, "server has no JWT secret");
    if (token == NULL || token[0] == '\0') return gl_err_set(err, GL_EAUTH, "token is missing");
    len = strnlen(token, GL_TOKEN_MAX + 1);
    if (len > GL_TOKEN_MAX) return gl_err_set(err, GL_EAUTH, "token is too long");
    if ((rv = check_shape(token, len, &claims, err)) != GL_OK) return rv;

    rc = jwt_decode(&j, token, (const unsigned char *)secret, (int)secret_len);
    if (rc != 0 || j == NULL) {
        rv = rc == ENOMEM ? gl_err_set(err, GL_ENOMEM, "out of memory")
                          : gl_err_set(err, GL_EAUTH, "token signature is invalid");
        goto out_free_jwt;
    }
    /* libjwt accepts HS384/HS512 signed with the same key: pin HS256 on what it verified. */
    if (jwt_get_alg(j) != JWT_ALG_HS256) {
        rv = gl_err_set(err, GL_EAUTH, "token algorithm must be HS256");
        goto out_free_jwt;
    }
    if ((rv = check_claims(claims, now, &u, err)) != GL_OK) goto out_free_jwt;
    *user = u;
out_free_jwt:
    jwt_free(j);
    cJSON_Delete(claims);
    return rv;
}

/* Map a libjwt errno on the mint path. */
static int
mint_fail(int rc, gl_err *err)
{
    if (rc == ENOMEM) return gl_err_set(err, GL_ENOMEM, "out of memory");
    return gl_err_set(err, GL_EINVAL, "token claims must be valid UTF-8 strings");
}

/* The permissions claim as {"permissions":[...]}, built with cJSON so that every name is
 * escaped. Returns a cJSON_free()able string, or NULL when out of memory. */
static char *
permissions_json(const gl_jwt_claims *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "permissions");
    char *out = NULL;

    if (arr == NULL) goto out_free_root;
    for (size_t i = 0; i < c->n_permissions; i++) {
        cJSON *s = cJSON_CreateString(c->permissions[i]);
        if (s == NULL) goto out_free_root;
        if (!cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            goto out_free_root;
        }
    }
    out = cJSON_PrintUnformatted(root);
out_free_root:
    cJSON_Delete(root);
    return out;
}

/* Refuse, before minting, what gl_jwt_verify would refuse. */
static int
check_mint_claims(const gl_jwt_claims *c, gl_err *err)
{
    if (c->sub == NULL || c->sub[0] == '\0') return gl_err_set(err, GL_EINVAL, "sub is empty");
    if (!text_ok(c->sub, GL_USER_ID_MAX))
        return gl_err_set(err, GL_EINVAL, "sub must be under %d bytes, without control characters",
                          GL_USER_ID_MAX);
    if (c->username != NULL && !text_ok(c->username, GL_USERNAME_MAX))
        return gl_err_set(err, GL_EINVAL, "username must be 1-%d bytes, without control characters",
                          GL_USERNAME_MAX - 1);
    if (c->role != NULL && !gl_role_name_ok(c->role))
        return gl_err_set(err, GL_EINVAL, "role must be 1-%d characters of [a-z0-9_-]",
                          GL_ROLE_MAX - 1);
    if (c->with_permissions && c->n_permissions > 0 && c->permissions == NULL)
        return gl_err_set(err, GL_EINVAL, "permissions list is missing");
    for (size_t i = 0; c->with_permissions && i < c->n_permissions; i++) {
        if (c->permissions[i] == NULL)
            return gl_err_set(err, GL_EINVAL, "permission %zu is NULL", i);
    }
    return GL_OK;
}

int
gl_jwt_mint(const char *secret, const gl_jwt_claims *claims, char **token_out, gl_err *err)
{
    size_t secret_len = secret ? strlen(secret) : 0;
    char *perms = NULL;
    jwt_t *j = NULL;
    int rc, rv;

    *token_out = NULL;
    if (secret_len == 0 || secret_len > INT_MAX)
        return gl_err_set(err, GL_EINVAL, "JWT secret is empty");
    if ((rv = check_mint_claims(claims, err)) != GL_OK) return rv;
    if (jwt_new(&j) != 0) return gl_err_set(err, GL_ENOMEM, "out of memory");

    rc = jwt_add_grant(j, "sub", claims->sub);
    if (rc == 0 && claims->username != NULL) rc = jwt_add_grant(j, "username", claims->username);
    if (rc == 0 && claims->role != NULL) rc = jwt_add_grant(j, "role", claims->role);
    if (rc == 0 && claims->iat != 0) rc = jwt_add_grant_int(j, "iat", (long)claims->iat);
    if (rc == 0 && claims->exp != 0) rc = jwt_add_grant_int(j, "exp", (long)claims->exp);
    if (rc == 0 && claims->with_permissions) {
        if ((perms = permissions_json(claims)) == NULL)
            rc = ENOMEM;
        else
            rc = jwt_add_grants_json(j, perms);
    }
    if (rc == 0) rc = jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)secret, (int)secret_len);
    if (rc != 0) {
        rv = mint_fail(rc, err);
        goto out_free;
    }
    if ((*token_out = jwt_encode_str(j)) == NULL) rv = gl_err_set(err, GL_ENOMEM, "out of memory");
out_free:
    cJSON_free(perms);
    jwt_free(j);
    return rv;
}
