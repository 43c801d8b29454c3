/* golive-token: mint an HS256 JWT for GoLive from the command line, signed with the same secret
 * the servers use (JWT_SECRET, default "change-me"). Prints the token and a newline on stdout. */
#include "shared/jwt.h"
#include "shared/version.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PERMS_MAX 64
#define TTL_MAX (3650LL * 86400) /* ten years */

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: golive-token --sub ID [--username NAME] [--role ROLE] [--perm NAME]...\n"
            "                    [--no-permissions] [--ttl DURATION] [--secret-env VAR]\n"
            "\n"
            "Prints an HS256 JWT for GoLive on stdout.\n"
            "\n"
            "  --sub ID            user id (sub claim), required\n"
            "  --username NAME     display name (default: the servers use the sub)\n"
            "  --role ROLE         role claim, 1-31 bytes of [a-z0-9_-] (default: user)\n"
            "  --perm NAME         add a permission (chat.publish, stream.create, chat.moderate);\n"
            "                      may repeat. Without --perm the token has no permissions claim\n"
            "  --no-permissions    carry an empty permissions array (explicitly none)\n"
            "  --ttl DURATION      lifetime: 24h, 90m, 3600s, 3600 or 7d (default: 24h)\n"
            "  --secret-env VAR    read the secret from VAR instead of JWT_SECRET\n"
            "  --help              show this help\n"
            "  --version           print the version\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));

/* Report a bad argument and the usage on stderr; returns the exit status 2. */
static int
bad_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("golive-token: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n\n", stderr);
    usage(stderr);
    return 2;
}

/* Parse "24h", "90m", "3600s", "3600", "7d" into seconds; false unless 1..TTL_MAX. */
static bool
parse_ttl(const char *s, long long *out)
{
    char *end;
    long long v, unit = 1;

    if (s[0] < '0' || s[0] > '9') return false;
    v = strtoll(s, &end, 10);
    if (end[0] != '\0' && end[1] != '\0') return false;
    switch (end[0]) {
    case '\0':
    case 's':
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return false;
    }
    if (v <= 0 || v > TTL_MAX / unit) return false;
    *out = v * unit;
    return true;
}

/* The signing secret: from --secret-env VAR (which must be set), else the servers' rule. */
static const char *
load_secret(const char *var)
{
    const char *s;

    if (var != NULL) {
        s = getenv(var);
        if (s == NULL || s[0] == '\0')
            fprintf(stderr, "golive-token: environment variable %s is not set or empty\n", var);
        return s != NULL && s[0] != '\0' ? s : NULL;
    }
    s = getenv("JWT_SECRET");
    if (s != NULL && s[0] != '\0') return s;
    fprintf(stderr, "WARNING: JWT_SECRET is not set; using the insecure default '%s'\n",
            GL_JWT_DEFAULT_SECRET);
    return GL_JWT_DEFAULT_SECRET;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sub", required_argument, NULL, 's'},        {"username", required_argument, NULL, 'u'},
        {"role", required_argument, NULL, 'r'},       {"perm", required_argument, NULL, 'p'},
        {"no-permissions", no_argument, NULL, 'n'},   {"ttl", required_argument, NULL, 't'},
        {"secret-env", required_argument, NULL, 'e'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},          {NULL, 0, NULL, 0},
    };
    const char *perms[PERMS_MAX];
    const char *secret_env = NULL, *secret;
    gl_jwt_claims c = {.role = "user"};
    bool no_perms = false;
    long long ttl = 24 * 3600;
    char *token;
    gl_err err;
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            c.sub = optarg;
            break;
        case 'u':
            c.username = optarg;
            break;
        case 'r':
            c.role = optarg;
            break;
        case 'p':
            if (c.n_permissions == PERMS_MAX)
                return bad_usage("too many --perm options (at most %d)", PERMS_MAX);
            if (gl_jwt_perm_bit(optarg) == 0)
                fprintf(stderr,
                        "golive-token: warning: unknown permission '%s' is ignored by "
                        "the servers\n",
                        optarg);
            perms[c.n_permissions++] = optarg;
            break;
        case 'n':
            no_perms = true;
            break;
        case 't':
            if (!parse_ttl(optarg, &ttl))
                return bad_usage("bad --ttl '%s' (want e.g. 24h, 90m, 3600s or 3600; at most "
                                 "3650 days)",
                                 optarg);
            break;
        case 'e':
            secret_env = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("golive-token %s\n", gl_version);
            return 0;
        case ':':
            return bad_usage("option %s needs a value", argv[optind - 1]);
        default:
            return bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return bad_usage("unexpected argument '%s'", argv[optind]);
    if (c.sub == NULL) return bad_usage("--sub is required");
    if (no_perms && c.n_permissions > 0)
        return bad_usage("--no-permissions cannot be combined with --perm");

    c.with_permissions = no_perms || c.n_permissions > 0;
    c.permissions = perms;
    c.iat = (int64_t)time(NULL);
    c.exp = c.iat + ttl;
    if ((secret = load_secret(secret_env)) == NULL) return 1;
    if (gl_jwt_mint(secret, &c, &token, &err) != GL_OK) {
        fprintf(stderr, "golive-token: %s\n", err.msg);
        return err.code == GL_EINVAL ? 2 : 1;
    }
    printf("%s\n", token);
    free(token);
    return fflush(stdout) == 0 ? 0 : 1;
}
