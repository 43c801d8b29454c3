/* Unit tests for shared/config.c: the seed's realtime.yaml, defaults, and every kind of error,
 * each checked for its code and for the "name:line: path: problem" message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/acl.h"
#include "shared/config.h"

static const char seed_yaml[] = "namespaces:\n"
                                "  - name: chat\n"
                                "    max_clients: 1000\n"
                                "    allow_publish: true\n"
                                "\n"
                                "channels:\n"
                                "  - pattern: \"chat:stream_*\"\n"
                                "    namespace: chat\n"
                                "    private: true\n"
                                "    allowed_roles: [\"streamer\", \"moderator\"]\n"
                                "    allowed_users: [\"user_123\", \"user_456\"]\n"
                                "    max_history: 100\n"
                                "\n"
                                "  - pattern: \"public:*\"\n"
                                "    namespace: chat\n"
                                "    private: false\n"
                                "    max_history: 50\n"
                                "\n"
                                "\n"
                                "# Configuration des proxies RPC (optionnel)\n"
                                "rpc_proxies:\n"
                                "  - method: \"user_stats\"\n"
                                "    url: \"http://localhost:3000/api/rpc/user_stats\"\n";

static gl_config *
parse_ok(const char *yaml)
{
    gl_config *cfg = NULL;
    gl_err err;
    int rv;

    gl_err_clear(&err);
    rv = gl_config_parse(yaml, strlen(yaml), "x.yaml", &cfg, &err);
    if (rv != GL_OK) fail_msg("unexpected error %d: %s", rv, err.msg);
    assert_non_null(cfg);
    return cfg;
}

/* Parsing yaml fails with code, leaves *out alone, and the message contains want. */
static void
expect_error_n(const char *yaml, size_t len, int code, const char *want)
{
    gl_config sentinel, *cfg = &sentinel;
    gl_err err;
    int rv;

    gl_err_clear(&err);
    rv = gl_config_parse(yaml, len, "x.yaml", &cfg, &err);
    assert_int_equal(rv, code);
    assert_int_equal(err.code, code);
    assert_ptr_equal(cfg, &sentinel);
    if (strstr(err.msg, want) == NULL) fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static void
expect_error(const char *yaml, const char *want)
{
    expect_error_n(yaml, strlen(yaml), GL_EINVAL, want);
}

static void
test_config_parses_the_seed_example(void **state)
{
    gl_config *cfg = parse_ok(seed_yaml);
    const gl_chan_rule *r;

    (void)state;
    assert_int_equal(cfg->n_namespaces, 1);
    assert_string_equal(cfg->namespaces[0].name, "chat");
    assert_int_equal(cfg->namespaces[0].max_clients, 1000);
    assert_true(cfg->namespaces[0].allow_publish);

    assert_int_equal(cfg->n_channels, 2);
    r = &cfg->channels[0];
    assert_string_equal(r->pattern, "chat:stream_*");
    assert_ptr_equal(r->ns, &cfg->namespaces[0]);
    assert_true(r->private_);
    assert_int_equal(r->n_allowed_roles, 2);
    assert_string_equal(r->allowed_roles[0], "streamer");
    assert_string_equal(r->allowed_roles[1], "moderator");
    assert_int_equal(r->n_allowed_users, 2);
    assert_string_equal(r->allowed_users[0], "user_123");
    assert_string_equal(r->allowed_users[1], "user_456");
    assert_int_equal(r->max_history, 100);
    assert_int_equal(r->line, 7);

    r = &cfg->channels[1];
    assert_string_equal(r->pattern, "public:*");
    assert_ptr_equal(r->ns, &cfg->namespaces[0]);
    assert_false(r->private_);
    assert_int_equal(r->n_allowed_roles, 0);
    assert_null(r->allowed_roles);
    assert_int_equal(r->max_history, 50);
    assert_int_equal(r->line, 14);

    assert_int_equal(cfg->n_rpc_proxies, 1);
    assert_string_equal(cfg->rpc_proxies[0].method, "user_stats");
    assert_string_equal(cfg->rpc_proxies[0].url, "http://localhost:3000/api/rpc/user_stats");
    assert_int_equal(cfg->rpc_proxies[0].timeout_ms, GL_RPC_TIMEOUT_DEFAULT_MS);
    assert_string_equal(cfg->path, "");
    gl_config_destroy(cfg);
}

static void
test_config_applies_defaults_for_absent_keys(void **state)
{
    gl_config *cfg = parse_ok("namespaces:\n  - name: a\nchannels:\n  - pattern: '*'\n"
                              "rpc_proxies:\n  - {method: m, url: 'http://h/'}\n");

    (void)state;
    assert_int_equal(cfg->namespaces[0].max_clients, 0);
    assert_true(cfg->namespaces[0].allow_publish);
    assert_int_equal(cfg->namespaces[0].join_leave_max, GL_JOIN_LEAVE_DEFAULT);
    assert_null(cfg->channels[0].ns);
    assert_false(cfg->channels[0].private_);
    assert_int_equal(cfg->channels[0].max_history, 0);
    assert_int_equal(cfg->channels[0].n_allowed_users, 0);
    assert_int_equal(cfg->rpc_proxies[0].timeout_ms, GL_RPC_TIMEOUT_DEFAULT_MS);
    gl_config_destroy(cfg);
}

static void
test_config_reads_every_optional_key(void **state)
{
    gl_config *cfg = parse_ok("namespaces:\n"
                              "  - {name: a-b_1, max_clients: 2147483647, allow_publish: FALSE,\n"
                              "     join_leave_max: 0}\n"
                              "channels:\n"
                              "  - pattern: 'a?b:*'\n"
                              "    max_history: 1000000\n"
                              "    allowed_roles:\n"
                              "rpc_proxies:\n"
                              "  - {method: A.b-c_d, url: 'http://h:1/x', timeout_ms: 60000}\n");

    (void)state;
    assert_int_equal(cfg->namespaces[0].max_clients, 2147483647);
    assert_false(cfg->namespaces[0].allow_publish);
    assert_int_equal(cfg->namespaces[0].join_leave_max, 0);
    assert_int_equal(cfg->channels[0].max_history, GL_HISTORY_LIMIT);
    assert_int_equal(cfg->channels[0].n_allowed_roles, 0);
    assert_int_equal(cfg->rpc_proxies[0].timeout_ms, 60000);
    gl_config_destroy(cfg);
}

static void
test_config_accepts_empty_and_comment_only_files(void **state)
{
    static const char *const texts[] = {"", "# nothing here\n\n# still nothing\n", "---\n", "{}\n",
                                        "namespaces:\nchannels: []\n"};
    gl_config *cfg;

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        cfg = parse_ok(texts[i]);
        assert_int_equal(cfg->n_namespaces + cfg->n_channels + cfg->n_rpc_proxies, 0);
        gl_config_destroy(cfg);
    }
}

static void
test_config_resolves_a_namespace_defined_later(void **state)
{
    gl_config *cfg = parse_ok("channels:\n  - {pattern: 'b:*', namespace: b}\n"
                              "namespaces:\n  - name: a\n  - name: b\n");

    (void)state;
    assert_ptr_equal(cfg->channels[0].ns, &cfg->namespaces[1]);
    assert_ptr_equal(gl_config_namespace(cfg, "b"), &cfg->namespaces[1]);
    assert_null(gl_config_namespace(cfg, "c"));
    gl_config_destroy(cfg);
}

static void
test_config_rejects_unknown_key_with_line(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - name: chat\n    alow_publish: true\n",
                 "x.yaml:3: namespaces[0]: unknown key 'alow_publish'");
    expect_error("# top\nchanels: []\n", "x.yaml:2: top level: unknown key 'chanels'");
    expect_error("channels:\n  - pattern: a\n  - pattern: b\n    privat: true\n",
                 "x.yaml:4: channels[1]: unknown key 'privat'");
    expect_error("rpc_proxies:\n  - {method: m, url: 'http://h', timeout: 1}\n",
                 "x.yaml:2: rpc_proxies[0]: unknown key 'timeout'");
}

static void
test_config_rejects_wrong_types_with_path(void **state)
{
    (void)state;
    expect_error("namespaces: {name: chat}\n",
                 "x.yaml:1: namespaces: expected a sequence, got a mapping");
    expect_error("channels: abc\n", "x.yaml:1: channels: expected a sequence, got \"abc\"");
    expect_error("namespaces:\n  - chat\n",
                 "x.yaml:2: namespaces[0]: expected a mapping, got \"chat\"");
    expect_error("namespaces:\n  - [chat]\n",
                 "x.yaml:2: namespaces[0]: expected a mapping, got a sequence");
    expect_error(
        "namespaces:\n  - name: {a: b}\n",
        "x.yaml:2: namespaces[0].name: expected 1 to 63 bytes of [a-z0-9_-], got a mapping");
    expect_error("channels:\n  - pattern: a\n  - pattern: b\n    max_history: abc\n",
                 "x.yaml:4: channels[1].max_history: expected an integer from 1 to 1000000, got "
                 "\"abc\"");
    expect_error("channels:\n  - pattern: a\n    allowed_roles: admin\n",
                 "x.yaml:3: channels[0].allowed_roles: expected a sequence of strings");
    expect_error("channels:\n  - pattern: a\n    allowed_users: [u1, [u2]]\n",
                 "x.yaml:3: channels[0].allowed_users[1]: expected 1 to 127 bytes");
    expect_error("channels:\n  - pattern: a\n    private:\n",
                 "x.yaml:3: channels[0].private: expected true or false, got \"\"");
    expect_error("namespaces:\n  - {? [a] : b}\n",
                 "x.yaml:2: namespaces[0]: expected a key, got a sequence");
}

static void
test_config_rejects_invalid_names_patterns_and_urls(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - name: Chat\n", "x.yaml:2: namespaces[0].name: expected");
    expect_error("namespaces:\n  - name: ''\n", "x.yaml:2: namespaces[0].name: expected");
    expect_error("namespaces:\n  - name: "
                 "a123456789012345678901234567890123456789012345678901234567890123\n",
                 "x.yaml:2: namespaces[0].name: expected 1 to 63 bytes");
    expect_error("channels:\n  - pattern: 'chat stream'\n",
                 "x.yaml:2: channels[0].pattern: expected 1 to 255 bytes of [A-Za-z0-9_.:@=-*?]");
    expect_error("channels:\n  - pattern: \"a\\0b\"\n", "x.yaml:2: channels[0].pattern: expected");
    expect_error("rpc_proxies:\n  - {method: m, url: 'https://h/'}\n",
                 "x.yaml:2: rpc_proxies[0].url: expected an http:// URL");
    expect_error("rpc_proxies:\n  - {method: m, url: 'http://'}\n",
                 "x.yaml:2: rpc_proxies[0].url: expected an http:// URL");
    expect_error("rpc_proxies:\n  - {method: 'm/x', url: 'http://h'}\n",
                 "x.yaml:2: rpc_proxies[0].method: expected 1 to 63 bytes of [A-Za-z0-9_.-]");
    expect_error("rpc_proxies:\n  - {method: stats, url: 'http://h'}\n",
                 "x.yaml:2: rpc_proxies[0].method: 'stats' is a built-in method");
    expect_error("channels:\n  - pattern: a\n    allowed_roles: ['']\n",
                 "x.yaml:3: channels[0].allowed_roles[0]: expected 1 to 63 bytes");
}

/* A role no token can carry (gl_role_name_ok) would never match: refused with its line. */
static void
test_config_rejects_allowed_roles_no_token_can_match(void **state)
{
    (void)state;
    expect_error("channels:\n  - pattern: a\n    allowed_roles:\n      - vip\n"
                 "      - rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\n",
                 "x.yaml:5: channels[0].allowed_roles[1]: role 'rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr' "
                 "can never match a token's role: role names are 1 to 31 bytes of [a-z0-9_-]");
    expect_error("channels:\n  - pattern: a\n    allowed_roles: [VIP]\n",
                 "x.yaml:3: channels[0].allowed_roles[0]: role 'VIP' can never match");
    expect_error("channels:\n  - pattern: a\n    allowed_roles: ['vip x']\n",
                 "x.yaml:3: channels[0].allowed_roles[0]: role 'vip x' can never match");
}

static void
test_config_accepts_a_31_byte_role(void **state)
{
    static const char yaml[] =
        "channels:\n  - pattern: a\n    allowed_roles: [rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr]\n";
    gl_config *cfg = NULL;
    gl_err err;
    (void)state;
    assert_int_equal(gl_config_parse(yaml, strlen(yaml), "x.yaml", &cfg, &err), GL_OK);
    assert_int_equal(cfg->channels[0].n_allowed_roles, 1);
    gl_config_destroy(cfg);
}

static void
test_config_rejects_missing_required_keys(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - max_clients: 3\n",
                 "x.yaml:2: namespaces[0]: missing key 'name'");
    expect_error("channels:\n  - pattern: a\n  - namespace: a\n    private: true\n",
                 "x.yaml:3: channels[1]: missing key 'pattern'");
    expect_error("rpc_proxies:\n  - url: 'http://h'\n",
                 "x.yaml:2: rpc_proxies[0]: missing key 'method'");
    expect_error("rpc_proxies:\n  - method: m\n", "x.yaml:2: rpc_proxies[0]: missing key 'url'");
}

static void
test_config_rejects_unknown_namespace_with_line(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - name: chat\nchannels:\n  - pattern: a\n  - pattern: b\n"
                 "    private: true\n    namespace: chatt\n",
                 "x.yaml:7: channels[1].namespace: unknown namespace 'chatt'");
}

static void
test_config_rejects_duplicate_namespace_and_method(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - name: chat\n  - name: news\n  - name: chat\n",
                 "x.yaml:4: namespaces[2].name: duplicate namespace 'chat'");
    expect_error(
        "rpc_proxies:\n  - {method: m, url: 'http://a'}\n  - {method: m, url: 'http://b'}\n",
        "x.yaml:3: rpc_proxies[1].method: duplicate method 'm'");
}

static void
test_config_rejects_duplicate_key(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - name: a\n    name: b\n",
                 "x.yaml:3: namespaces[0]: duplicate key 'name'");
    expect_error("namespaces: []\nchannels: []\nnamespaces: []\n",
                 "x.yaml:3: top level: duplicate key 'namespaces'");
}

static void
test_config_rejects_anchors_aliases_and_tags(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - &n {name: a}\n",
                 "x.yaml:2: namespaces[0]: anchors and aliases are not supported");
    expect_error("channels:\n  - pattern: a\n    allowed_roles: [x, *r]\n",
                 "x.yaml:3: channels[0].allowed_roles[1]: anchors and aliases are not supported");
    expect_error("namespaces: &a [x, x, x, x, x, x, x, x, x]\n"
                 "channels: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                 "rpc_proxies: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n",
                 "x.yaml:1: namespaces: anchors and aliases are not supported");
    expect_error("channels:\n  - pattern: a\n    max_history: !!int 5\n",
                 "x.yaml:3: channels[0].max_history: tags are not supported");
}

static void
test_config_rejects_quoted_int(void **state)
{
    (void)state;
    expect_error(
        "channels:\n  - pattern: a\n    max_history: \"123\"\n",
        "x.yaml:3: channels[0].max_history: expected an integer from 1 to 1000000, got the "
        "quoted string \"123\"");
    expect_error("namespaces:\n  - {name: a, max_clients: '5'}\n",
                 "x.yaml:2: namespaces[0].max_clients: expected an integer");
}

static void
test_config_rejects_bools_other_than_true_and_false(void **state)
{
    gl_config *cfg = parse_ok("channels:\n  - {pattern: a, private: True}\n"
                              "  - {pattern: b, private: TRUE}\n"
                              "  - {pattern: c, private: False}\n");

    (void)state;
    assert_true(cfg->channels[0].private_);
    assert_true(cfg->channels[1].private_);
    assert_false(cfg->channels[2].private_);
    gl_config_destroy(cfg);
    expect_error("namespaces:\n  - {name: a, allow_publish: yes}\n",
                 "x.yaml:2: namespaces[0].allow_publish: expected true or false, got \"yes\"");
    expect_error("channels:\n  - pattern: a\n    private: maybe\n",
                 "x.yaml:3: channels[0].private: expected true or false, got \"maybe\"");
    expect_error("channels:\n  - pattern: a\n    private: 'true'\n",
                 "x.yaml:3: channels[0].private: expected true or false, got the quoted string");
    expect_error("channels:\n  - pattern: a\n    private: 1\n", "x.yaml:3: channels[0].private");
}

static void
test_config_rejects_negative_overflowing_and_out_of_range_ints(void **state)
{
    static const char *const bad[] = {
        "-1", "+5", "2147483648", "99999999999999999999", "1.5", "0x10", "007", "1e3", "''", ""};
    char yaml[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(yaml, sizeof(yaml), "namespaces:\n  - name: a\n    max_clients: %s\n", bad[i]);
        expect_error(yaml, "x.yaml:3: namespaces[0].max_clients: expected an integer from 0 to "
                           "2147483647, got");
    }
    expect_error("channels:\n  - {pattern: a, max_history: 0}\n",
                 "x.yaml:2: channels[0].max_history: expected an integer from 1 to 1000000");
    expect_error("channels:\n  - {pattern: a, max_history: 1000001}\n",
                 "channels[0].max_history: expected an integer from 1 to 1000000, got \"1000001\"");
    expect_error("rpc_proxies:\n  - {method: m, url: 'http://h', timeout_ms: 60001}\n",
                 "rpc_proxies[0].timeout_ms: expected an integer from 1 to 60000, got \"60001\"");
    expect_error("rpc_proxies:\n  - {method: m, url: 'http://h', timeout_ms: 0}\n",
                 "x.yaml:2: rpc_proxies[0].timeout_ms: expected an integer from 1 to 60000");
}

static void
test_config_reports_yaml_syntax_error_with_line_and_column(void **state)
{
    static const char bad_utf8[] = "namespaces:\n  - name: a\xff\n";

    (void)state;
    expect_error("namespaces:\n  - name: 'a\n", "x.yaml:3:1: YAML syntax error: found unexpected "
                                                "end of stream (while scanning a quoted scalar)");
    expect_error("namespaces:\n  - name: a\n   b: c\n", "x.yaml:3:4: YAML syntax error: ");
    expect_error("namespaces:\n\t- name: a\n", "x.yaml:2:1: YAML syntax error: found character "
                                               "that cannot start any token (while scanning");
    expect_error(bad_utf8, "x.yaml:2:12: YAML syntax error: invalid leading UTF-8 octet");
}

static void
test_config_rejects_non_mapping_top_level_and_second_document(void **state)
{
    (void)state;
    expect_error("- a\n- b\n", "x.yaml:1: top level: expected a mapping, got a sequence");
    expect_error("hello\n", "x.yaml:1: top level: expected a mapping, got \"hello\"");
    expect_error("namespaces: []\n---\nchannels: []\n",
                 "x.yaml:2: top level: multiple documents are not supported");
}

static void
test_config_bounds_list_sizes_and_nesting(void **state)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);

    (void)state;
    assert_non_null(buf);
    n += (size_t)snprintf(buf + n, cap - n, "rpc_proxies:\n");
    for (int i = 0; i <= 1000; i++)
        n += (size_t)snprintf(buf + n, cap - n, "  - {method: m%d, url: 'http://h'}\n", i);
    expect_error_n(buf, n, GL_EINVAL, "x.yaml:1002: rpc_proxies[1000]: more than 1000 entries");

    n = (size_t)snprintf(buf, cap, "channels:\n  - pattern: a\n    allowed_users: [");
    for (int i = 0; i <= 10000; i++)
        n += (size_t)snprintf(buf + n, cap - n, "u,");
    n += (size_t)snprintf(buf + n, cap - n, "]\n");
    expect_error_n(buf, n, GL_EINVAL, "channels[0].allowed_users[10000]: more than 10000 entries");

    // A hundred thousand open brackets stop at the first one the format has no room for.
    n = (size_t)snprintf(buf, cap, "namespaces: ");
    memset(buf + n, '[', 100000);
    n += 100000;
    expect_error_n(buf, n, GL_EINVAL,
                   "x.yaml:1: namespaces[0]: expected a mapping, got a sequence");
    free(buf);
}

static void
test_config_match_returns_the_first_matching_rule(void **state)
{
    gl_config *cfg = parse_ok("channels:\n  - {pattern: 'chat:vip_*', private: true}\n"
                              "  - {pattern: 'chat:*'}\n  - {pattern: '*'}\n");

    (void)state;
    assert_ptr_equal(gl_config_match(cfg, "chat:vip_1"), &cfg->channels[0]);
    assert_ptr_equal(gl_config_match(cfg, "chat:room"), &cfg->channels[1]);
    assert_ptr_equal(gl_config_match(cfg, "news"), &cfg->channels[2]);
    gl_config_destroy(cfg);

    cfg = parse_ok("channels:\n  - {pattern: 'chat:?'}\n");
    assert_ptr_equal(gl_config_match(cfg, "chat:a"), &cfg->channels[0]);
    assert_null(gl_config_match(cfg, "chat:ab"));
    assert_null(gl_config_match(cfg, "news"));
    gl_config_destroy(cfg);
}

static void
test_config_rpc_proxy_finds_a_method_by_name(void **state)
{
    gl_config *cfg = parse_ok(seed_yaml);

    (void)state;
    assert_ptr_equal(gl_config_rpc_proxy(cfg, "user_stats"), &cfg->rpc_proxies[0]);
    assert_null(gl_config_rpc_proxy(cfg, "user_stat"));
    assert_null(gl_config_rpc_proxy(cfg, "stats"));
    gl_config_destroy(cfg);
}

static void
test_config_load_of_a_missing_file_is_not_found(void **state)
{
    gl_config sentinel, *cfg = &sentinel;
    gl_err err;

    (void)state;
    assert_int_equal(gl_config_load("/nonexistent/realtime.yaml", &cfg, &err), GL_ENOTFOUND);
    assert_int_equal(err.code, GL_ENOTFOUND);
    assert_string_equal(err.msg,
                        "cannot open /nonexistent/realtime.yaml: No such file or directory");
    assert_ptr_equal(cfg, &sentinel);
}

/* A temporary file holding len bytes of text; the caller unlinks path. */
static void
write_temp(char *path, const char *text, size_t len)
{
    int fd;

    strcpy(path, "/tmp/test_config_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void
test_config_load_reads_a_file_and_keeps_its_path(void **state)
{
    static const char bad[] = "channels:\n  - pattern: a\n    max_history: abc\n";
    char path[64];
    gl_config *cfg = NULL;
    gl_err err;

    (void)state;
    write_temp(path, seed_yaml, strlen(seed_yaml));
    assert_int_equal(gl_config_load(path, &cfg, &err), GL_OK);
    assert_string_equal(cfg->path, path);
    assert_int_equal(cfg->n_channels, 2);
    gl_config_destroy(cfg);

    write_temp(path, bad, strlen(bad));
    cfg = NULL;
    assert_int_equal(gl_config_load(path, &cfg, &err), GL_EINVAL);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, ":3: channels[0].max_history: expected an integer"));
    assert_true(strncmp(err.msg, path, strlen(path)) == 0);
    unlink(path);
}

static void
test_config_load_refuses_a_file_over_4_mib(void **state)
{
    size_t len = (4u << 20) + 1;
    char path[64], *big = malloc(len);
    gl_config *cfg = NULL;
    gl_err err;

    (void)state;
    assert_non_null(big);
    memset(big, '#', len);
    write_temp(path, big, len);
    free(big);
    assert_int_equal(gl_config_load(path, &cfg, &err), GL_EINVAL);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "larger than"));
    unlink(path);
}

static void
test_config_empty_has_no_rules(void **state)
{
    gl_config *cfg = NULL;
    gl_err err;

    (void)state;
    assert_int_equal(gl_config_empty(&cfg, &err), GL_OK);
    assert_non_null(cfg);
    assert_string_equal(cfg->path, "");
    assert_int_equal(cfg->n_namespaces + cfg->n_channels + cfg->n_rpc_proxies, 0);
    assert_null(gl_config_match(cfg, "chat:room"));
    assert_null(gl_config_namespace(cfg, "chat"));
    assert_null(gl_config_rpc_proxy(cfg, "user_stats"));
    gl_config_destroy(cfg);
    gl_config_destroy(NULL);
}

static void
test_config_reads_allowed_origins_normalised(void **state)
{
    gl_config *cfg = parse_ok("allowed_origins:\n"
                              "  - https://Chat.Example.com\n"
                              "  - \"http://localhost:8080\"\n"
                              "  - https://example.org:443\n");

    (void)state;
    assert_int_equal(cfg->n_allowed_origins, 3);
    assert_false(cfg->any_origin);
    assert_string_equal(cfg->allowed_origins[0], "https://chat.example.com");
    assert_string_equal(cfg->allowed_origins[1], "http://localhost:8080");
    assert_string_equal(cfg->allowed_origins[2], "https://example.org");
    gl_config_destroy(cfg);

    cfg = parse_ok("allowed_origins: [\"*\"]\n");
    assert_true(cfg->any_origin);
    assert_int_equal(cfg->n_allowed_origins, 0);
    gl_config_destroy(cfg);

    cfg = parse_ok("allowed_origins:\n");
    assert_false(cfg->any_origin);
    assert_int_equal(cfg->n_allowed_origins, 0);
    gl_config_destroy(cfg);
}

static void
test_config_rejects_bad_allowed_origins_with_line(void **state)
{
    (void)state;
    expect_error("namespaces:\nallowed_origins:\n  - https://a.example\n  - https://b.example/\n",
                 "x.yaml:4: allowed_origins[1]: only scheme://host[:port]: no path, query or "
                 "trailing slash, got \"https://b.example/\"");
    expect_error("allowed_origins: [example.com]\n",
                 "x.yaml:1: allowed_origins[0]: expected http://host[:port] or "
                 "https://host[:port], got \"example.com\"");
    expect_error("allowed_origins:\n  - http://a.example:99999\n",
                 "x.yaml:2: allowed_origins[0]: the port must be a number from 1 to 65535");
    expect_error("allowed_origins:\n  - https://a.example\n  - HTTPS://A.example:443\n",
                 "x.yaml:3: allowed_origins[1]: duplicate origin 'https://a.example'");
    expect_error("allowed_origins:\n  - https://a.example\n  - '*'\n",
                 "x.yaml:3: allowed_origins[1]: \"*\" (any origin) must be the only entry");
    expect_error("allowed_origins:\n  - '*'\n  - https://a.example\n",
                 "x.yaml:3: allowed_origins[1]: \"*\" (any origin) must be the only entry");
    expect_error("allowed_origins: '*'\n",
                 "x.yaml:1: allowed_origins: expected a sequence of strings, got the quoted "
                 "string \"*\"");
    expect_error("allowed_origins:\n  - {origin: https://a.example}\n",
                 "x.yaml:2: allowed_origins[0]: expected 1 to 255 bytes of text, got a mapping");
    expect_error("allowed_origins: []\nallowed_origins: []\n",
                 "x.yaml:2: top level: duplicate key 'allowed_origins'");
}

static void
test_config_origin_allowed_same_origin_listed_and_any(void **state)
{
    gl_config *none = parse_ok(""), *listed = parse_ok("allowed_origins: [https://a.example]\n"),
              *any = parse_ok("allowed_origins: ['*']\n");

    (void)state;
    // No Origin header: not a browser, never refused.
    assert_true(gl_config_origin_allowed(none, NULL, "chat.example"));
    assert_true(gl_config_origin_allowed(none, NULL, NULL));
    // Same origin, whatever the list says.
    assert_true(gl_config_origin_allowed(none, "https://chat.example", "chat.example"));
    assert_true(gl_config_origin_allowed(none, "http://127.0.0.1:8080", "127.0.0.1:8080"));
    assert_true(gl_config_origin_allowed(listed, "https://chat.example", "chat.example"));
    // Cross origin: only when listed (in any case or with its default port written out).
    assert_false(gl_config_origin_allowed(none, "https://a.example", "chat.example"));
    assert_false(gl_config_origin_allowed(none, "https://a.example", NULL));
    assert_true(gl_config_origin_allowed(listed, "https://a.example", "chat.example"));
    assert_true(gl_config_origin_allowed(listed, "https://A.example:443", "chat.example"));
    assert_false(gl_config_origin_allowed(listed, "http://a.example", "chat.example"));
    assert_false(gl_config_origin_allowed(listed, "https://a.example:8443", "chat.example"));
    assert_false(gl_config_origin_allowed(listed, "https://b.example", "chat.example"));
    assert_false(gl_config_origin_allowed(listed, "null", "chat.example"));
    assert_false(gl_config_origin_allowed(listed, "https://a.example/", "chat.example"));
    // "*": every origin, even "null".
    assert_true(gl_config_origin_allowed(any, "https://b.example", "chat.example"));
    assert_true(gl_config_origin_allowed(any, "null", "chat.example"));
    gl_config_destroy(none);
    gl_config_destroy(listed);
    gl_config_destroy(any);
}

static void
test_rate_limits_defaults_top_level_and_per_namespace(void **state)
{
    gl_config *cfg;

    (void)state;
    cfg = parse_ok("channels:\n  - pattern: \"public:*\"\n");
    assert_int_equal(cfg->publish_rate.burst, 10);
    assert_true(cfg->publish_rate.per_second == 2.0f);
    assert_int_equal(cfg->command_rate.burst, 60);
    assert_int_equal(cfg->flood_close_after, 20);
    assert_int_equal(cfg->connection_rate.burst, 30);
    assert_false(cfg->trust_forwarded_for);
    assert_int_equal(cfg->anonymous_per_ip, 100);
    gl_config_destroy(cfg);

    cfg = parse_ok("rate_limits:\n"
                   "  publish: {burst: 5, per_second: 0.5}\n"
                   "  commands: {burst: 0}\n"
                   "  flood_close_after: 0\n"
                   "  connections: {burst: 4, per_second: 1}\n"
                   "  client_ip_header: X-Forwarded-For\n"
                   "  anonymous_per_ip: 7\n"
                   "namespaces:\n"
                   "  - name: chat\n"
                   "    rate_limits:\n"
                   "      publish: {burst: 1, per_second: 1}\n"
                   "  - name: other\n");
    assert_int_equal(cfg->publish_rate.burst, 5);
    assert_true(cfg->publish_rate.per_second == 0.5f);
    assert_int_equal(cfg->command_rate.burst, 0);
    assert_int_equal(cfg->flood_close_after, 0);
    assert_int_equal(cfg->connection_rate.burst, 4);
    assert_true(cfg->trust_forwarded_for);
    assert_int_equal(cfg->anonymous_per_ip, 7);
    assert_int_equal(gl_config_publish_rate(cfg, gl_config_namespace(cfg, "chat"))->burst, 1);
    assert_int_equal(gl_config_publish_rate(cfg, gl_config_namespace(cfg, "other"))->burst, 5);
    assert_int_equal(gl_config_publish_rate(cfg, NULL)->burst, 5);
    gl_config_destroy(cfg);
}

static void
test_rate_limits_refuse_what_they_cannot_mean(void **state)
{
    (void)state;
    expect_error("rate_limits:\n  publish: {burst: 5}\n",
                 "x.yaml:2: rate_limits.publish: missing key 'per_second'");
    expect_error("rate_limits:\n  publish: {burst: 5, per_second: 0}\n",
                 "rate_limits.publish.per_second: expected a number above 0");
    expect_error("rate_limits:\n  publish: {burst: 5, per_second: -1}\n",
                 "rate_limits.publish.per_second: expected a number above 0");
    expect_error("rate_limits:\n  publish: {burst: 5, per_second: 1e3}\n",
                 "rate_limits.publish.per_second: expected a number above 0");
    expect_error("rate_limits:\n  publish: 5\n",
                 "rate_limits.publish: expected a mapping {burst, per_second}");
    expect_error("rate_limits:\n  publish: {burst: 5, per_second: 1, per_minute: 3}\n",
                 "per_minute");
    expect_error("namespaces:\n  - name: chat\n    rate_limits:\n      commands: {burst: 1}\n",
                 "commands");
    expect_error("rate_limits:\n  client_ip_header: X-Real-IP\n",
                 "rate_limits.client_ip_header: expected X-Forwarded-For");
    expect_error("rate_limits:\n  anonymous_per_ip: -1\n",
                 "rate_limits.anonymous_per_ip: expected");
    expect_error("rate_limits:\n  anonymous_per_ip: {burst: 5}\n",
                 "rate_limits.anonymous_per_ip: expected");
    expect_error("namespaces:\n  - name: chat\n    rate_limits:\n      anonymous_per_ip: 1\n",
                 "anonymous_per_ip");
}

static void
test_chat_modes_layer_namespace_then_rule_and_global_terms(void **state)
{
    gl_config *cfg;
    gl_policy p;

    (void)state;
    cfg = parse_ok("blocked_terms: [\"free*bitcoin\", sp\u00e4m]\n"
                   "namespaces:\n"
                   "  - name: chat\n"
                   "    chat_modes: {slow_mode: 30, unique_chat: true, max_message_bytes: 4096}\n"
                   "channels:\n"
                   "  - pattern: \"chat:vip_*\"\n"
                   "    namespace: chat\n"
                   "    chat_modes:\n"
                   "      slow_mode: 0\n"
                   "      members_only: true\n"
                   "      max_message_length: 200\n"
                   "      blocked_terms_action: hold\n");
    assert_int_equal(cfg->n_blocked_terms, 2);
    assert_string_equal(cfg->blocked_terms[1], "sp\xc3\xa4m");
    gl_policy_resolve(cfg, "chat:lobby", NULL, &p);
    assert_int_equal(p.modes.slow_mode, 30);
    assert_int_equal(p.modes.unique_chat, 1);
    assert_int_equal(p.modes.members_only, 0);
    assert_int_equal(p.modes.max_bytes, 4096);
    assert_int_equal(p.n_global_terms, 2);
    gl_policy_resolve(cfg, "chat:vip_1", NULL, &p);
    assert_int_equal(p.modes.slow_mode, 0);
    assert_int_equal(p.modes.unique_chat, 1);
    assert_int_equal(p.modes.members_only, 1);
    assert_int_equal(p.modes.max_length, 200);
    assert_int_equal(p.modes.hold_blocked, 1);
    gl_policy_resolve(cfg, "other:x", NULL, &p);
    assert_false(gl_modes_active(&p.modes, 0));
    gl_config_destroy(cfg);
}

static void
test_chat_modes_refuse_what_they_cannot_mean(void **state)
{
    (void)state;
    expect_error("namespaces:\n  - name: chat\n    chat_modes: {slow_mode: 3601}\n",
                 "x.yaml:3: namespaces[0].chat_modes.slow_mode: expected an integer from 0 to "
                 "3600");
    expect_error("channels:\n  - pattern: a\n    chat_modes: {members_only: 1}\n",
                 "channels[0].chat_modes.members_only: expected true or false");
    expect_error("channels:\n  - pattern: a\n    chat_modes: {blocked_terms_action: drop}\n",
                 "chat_modes.blocked_terms_action: expected refuse or hold");
    expect_error("channels:\n  - pattern: a\n    chat_modes: {slowmode: 1}\n",
                 "unknown key 'slowmode'");
    expect_error("channels:\n  - pattern: a\n    chat_modes: 5\n",
                 "channels[0].chat_modes: expected a mapping");
    expect_error("blocked_terms: [ok, \"**\"]\n", "blocked_terms[1]: a blocked term needs more");
    expect_error("blocked_terms: spam\n", "blocked_terms: expected a sequence of strings");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_modes_layer_namespace_then_rule_and_global_terms),
        cmocka_unit_test(test_chat_modes_refuse_what_they_cannot_mean),
        cmocka_unit_test(test_rate_limits_defaults_top_level_and_per_namespace),
        cmocka_unit_test(test_rate_limits_refuse_what_they_cannot_mean),
        cmocka_unit_test(test_config_parses_the_seed_example),
        cmocka_unit_test(test_config_applies_defaults_for_absent_keys),
        cmocka_unit_test(test_config_reads_every_optional_key),
        cmocka_unit_test(test_config_accepts_empty_and_comment_only_files),
        cmocka_unit_test(test_config_resolves_a_namespace_defined_later),
        cmocka_unit_test(test_config_rejects_unknown_key_with_line),
        cmocka_unit_test(test_config_rejects_wrong_types_with_path),
        cmocka_unit_test(test_config_rejects_invalid_names_patterns_and_urls),
        cmocka_unit_test(test_config_rejects_allowed_roles_no_token_can_match),
        cmocka_unit_test(test_config_accepts_a_31_byte_role),
        cmocka_unit_test(test_config_rejects_missing_required_keys),
        cmocka_unit_test(test_config_rejects_unknown_namespace_with_line),
        cmocka_unit_test(test_config_rejects_duplicate_namespace_and_method),
        cmocka_unit_test(test_config_rejects_duplicate_key),
        cmocka_unit_test(test_config_rejects_anchors_aliases_and_tags),
        cmocka_unit_test(test_config_rejects_quoted_int),
        cmocka_unit_test(test_config_rejects_bools_other_than_true_and_false),
        cmocka_unit_test(test_config_rejects_negative_overflowing_and_out_of_range_ints),
        cmocka_unit_test(test_config_reports_yaml_syntax_error_with_line_and_column),
        cmocka_unit_test(test_config_rejects_non_mapping_top_level_and_second_document),
        cmocka_unit_test(test_config_bounds_list_sizes_and_nesting),
        cmocka_unit_test(test_config_match_returns_the_first_matching_rule),
        cmocka_unit_test(test_config_rpc_proxy_finds_a_method_by_name),
        cmocka_unit_test(test_config_load_of_a_missing_file_is_not_found),
        cmocka_unit_test(test_config_load_reads_a_file_and_keeps_its_path),
        cmocka_unit_test(test_config_load_refuses_a_file_over_4_mib),
        cmocka_unit_test(test_config_empty_has_no_rules),
        cmocka_unit_test(test_config_reads_allowed_origins_normalised),
        cmocka_unit_test(test_config_rejects_bad_allowed_origins_with_line),
        cmocka_unit_test(test_config_origin_allowed_same_origin_listed_and_any),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
