/* Unit tests for shared/acl.c: policy resolution from a parsed realtime.yaml plus a stored
 * override, then the read and publish decisions for anonymous users, listed users and roles,
 * staff, bans, timeouts, allow_publish and the token's chat.publish permission. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/acl.h"

#define NOW_MS ((int64_t)1700000000000)

static const char acl_yaml[] = "namespaces:\n"
                               "  - name: chat\n"
                               "    max_clients: 1000\n"
                               "    allow_publish: true\n"
                               "  - name: news\n"
                               "    allow_publish: false\n"
                               "\n"
                               "channels:\n"
                               "  - pattern: \"chat:stream_*\"\n"
                               "    namespace: chat\n"
                               "    private: true\n"
                               "    allowed_roles: [\"streamer\", \"vip\"]\n"
                               "    allowed_users: [\"user_123\", \"user_456\"]\n"
                               "    max_history: 100\n"
                               "  - pattern: \"public:*\"\n"
                               "    namespace: chat\n"
                               "    private: false\n"
                               "    max_history: 50\n"
                               "  - pattern: \"news:special\"\n"
                               "    namespace: chat\n"
                               "  - pattern: \"news:*\"\n"
                               "    namespace: news\n";

static int
setup_config(void **state)
{
    gl_config *cfg = NULL;
    gl_err err;

    if (gl_config_parse(acl_yaml, strlen(acl_yaml), "acl.yaml", &cfg, &err) != GL_OK) {
        fprintf(stderr, "config: %s\n", err.msg);
        return -1;
    }
    *state = cfg;
    return 0;
}

static int
teardown_config(void **state)
{
    gl_config_destroy(*state);
    return 0;
}

static gl_user
make_user(const char *id, const char *role)
{
    gl_user u;

    memset(&u, 0, sizeof(u));
    snprintf(u.id, sizeof(u.id), "%s", id);
    snprintf(u.username, sizeof(u.username), "%s", id);
    snprintf(u.role, sizeof(u.role), "%s", role);
    return u;
}

static gl_policy
resolve(void **state, const char *channel, const gl_override *ov)
{
    gl_policy p;

    gl_policy_resolve(*state, channel, ov, &p);
    return p;
}

static void
expect_code(int rv, const gl_err *err, int code, const char *want)
{
    assert_int_equal(rv, code);
    assert_int_equal(err->code, code);
    if (want != NULL && strstr(err->msg, want) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err->msg, want);
}

static int
read_as(const gl_policy *p, const gl_user *u, const gl_acl_facts *f)
{
    gl_err err;

    gl_err_clear(&err);
    return gl_acl_check_read(p, u, f, &err);
}

static int
publish_as(const gl_policy *p, const gl_user *u, const gl_acl_facts *f)
{
    gl_err err;

    gl_err_clear(&err);
    return gl_acl_check_publish(p, u, f, NOW_MS, &err);
}

static void
test_acl_policy_takes_the_fields_of_the_matching_rule(void **state)
{
    const gl_config *cfg = *state;
    gl_policy p = resolve(state, "chat:stream_abc", NULL);

    assert_ptr_equal(p.ns, gl_config_namespace(cfg, "chat"));
    assert_true(p.private_);
    assert_true(p.allow_publish);
    assert_int_equal(p.max_history, 100);
    assert_int_equal(p.n_roles, 2);
    assert_string_equal(p.roles[0], "streamer");
    assert_string_equal(p.roles[1], "vip");
    assert_int_equal(p.n_users, 2);
    assert_string_equal(p.users[0], "user_123");
    assert_string_equal(p.users[1], "user_456");

    p = resolve(state, "public:lobby", NULL);
    assert_false(p.private_);
    assert_int_equal(p.max_history, 50);
    assert_int_equal(p.n_roles, 0);
    assert_int_equal(p.n_users, 0);
}

static void
test_acl_policy_namespace_of_the_rule_wins_over_the_prefix(void **state)
{
    const gl_config *cfg = *state;
    gl_policy p = resolve(state, "news:special", NULL);

    assert_ptr_equal(p.ns, gl_config_namespace(cfg, "chat"));
    assert_true(p.allow_publish);
    p = resolve(state, "news:today", NULL);
    assert_ptr_equal(p.ns, gl_config_namespace(cfg, "news"));
    assert_false(p.allow_publish);
}

static void
test_acl_policy_finds_the_namespace_by_prefix_without_a_rule(void **state)
{
    const gl_config *cfg = *state;
    gl_policy p = resolve(state, "chat:lobby", NULL);

    assert_ptr_equal(p.ns, gl_config_namespace(cfg, "chat"));
    assert_false(p.private_);
    assert_true(p.allow_publish);
    assert_int_equal(p.max_history, GL_HISTORY_DEFAULT);
}

static void
test_acl_policy_defaults_without_rule_or_namespace(void **state)
{
    static const char *const channels[] = {"lobby", "other:x", "chat"};

    for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++) {
        gl_policy p = resolve(state, channels[i], NULL);
        assert_null(p.ns);
        assert_false(p.private_);
        assert_true(p.allow_publish);
        assert_int_equal(p.max_history, GL_HISTORY_DEFAULT);
        assert_int_equal(p.n_roles, 0);
        assert_int_equal(p.n_users, 0);
    }
}

static void
test_acl_policy_of_an_empty_config_is_all_defaults(void **state)
{
    gl_config *cfg = NULL;
    gl_policy p;

    (void)state;
    assert_int_equal(gl_config_empty(&cfg, NULL), GL_OK);
    gl_policy_resolve(cfg, "chat:stream_abc", NULL, &p);
    assert_null(p.ns);
    assert_false(p.private_);
    assert_true(p.allow_publish);
    assert_int_equal(p.max_history, GL_HISTORY_DEFAULT);
    gl_config_destroy(cfg);
}

static void
test_acl_override_fields_win_over_the_rule(void **state)
{
    gl_override ov = GL_OVERRIDE_INIT;
    gl_policy p;

    ov.private_ = 0;
    ov.allow_publish = 0;
    ov.max_history = 7;
    p = resolve(state, "chat:stream_abc", &ov);
    assert_false(p.private_);
    assert_false(p.allow_publish);
    assert_int_equal(p.max_history, 7);
    assert_int_equal(p.n_roles, 2); // roles unset: the rule's stay

    ov.private_ = 1;
    ov.allow_publish = 1;
    p = resolve(state, "news:today", &ov);
    assert_true(p.private_);
    assert_true(p.allow_publish);
}

static void
test_acl_unset_override_changes_nothing(void **state)
{
    gl_override ov = GL_OVERRIDE_INIT;
    gl_policy with = resolve(state, "chat:stream_abc", &ov);
    gl_policy without = resolve(state, "chat:stream_abc", NULL);

    assert_memory_equal(&with, &without, sizeof(with));
}

static void
test_acl_override_roles_replace_the_rule_roles(void **state)
{
    gl_override ov = GL_OVERRIDE_INIT;
    gl_user vip = make_user("someone", "vip"), guest = make_user("someone", "guest");
    gl_acl_facts f = {0};
    gl_policy p;

    ov.has_roles = true;
    ov.n_roles = 1;
    ov.roles = calloc(1, sizeof(*ov.roles));
    assert_non_null(ov.roles);
    snprintf(ov.roles[0], sizeof(ov.roles[0]), "guest");
    p = resolve(state, "chat:stream_abc", &ov);
    assert_int_equal(p.n_roles, 1);
    assert_string_equal(p.roles[0], "guest");
    assert_int_equal(p.n_users, 2); // users are not overridable
    assert_int_equal(read_as(&p, &guest, &f), GL_OK);
    assert_int_equal(read_as(&p, &vip, &f), GL_EFORBIDDEN);

    // An empty override list admits no role at all.
    ov.n_roles = 0;
    p = resolve(state, "chat:stream_abc", &ov);
    assert_int_equal(p.n_roles, 0);
    assert_int_equal(read_as(&p, &guest, &f), GL_EFORBIDDEN);
    gl_override_free(&ov);
    assert_null(ov.roles);
    assert_false(ov.has_roles);
    assert_int_equal(ov.n_roles, 0);
    gl_override_free(NULL);
}

static void
test_acl_public_channel_is_readable_by_anyone(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_user u = make_user("u1", "user");
    gl_acl_facts f = {0};

    assert_int_equal(read_as(&p, NULL, &f), GL_OK);
    assert_int_equal(read_as(&p, &u, &f), GL_OK);
}

static void
test_acl_private_channel_asks_anonymous_to_authenticate(void **state)
{
    gl_policy p = resolve(state, "chat:stream_abc", NULL);
    gl_acl_facts f = {0};
    gl_err err;

    expect_code(gl_acl_check_read(&p, NULL, &f, &err), &err, GL_EAUTH, "authenticate");
}

static void
test_acl_private_channel_admits_listed_users_roles_staff_and_access_list(void **state)
{
    gl_policy p = resolve(state, "chat:stream_abc", NULL);
    gl_user listed = make_user("user_456", "user"), streamer = make_user("x", "streamer");
    gl_user mod = make_user("m", "moderator"), admin = make_user("a", "admin");
    gl_user granted = make_user("g", "user");
    gl_acl_facts f = {0}, access = {.in_access_list = true};

    assert_int_equal(read_as(&p, &listed, &f), GL_OK);
    assert_int_equal(read_as(&p, &streamer, &f), GL_OK);
    assert_int_equal(read_as(&p, &mod, &f), GL_OK);
    assert_int_equal(read_as(&p, &admin, &f), GL_OK);
    assert_int_equal(read_as(&p, &granted, &access), GL_OK);
}

static void
test_acl_private_channel_forbids_everyone_else(void **state)
{
    gl_policy p = resolve(state, "chat:stream_abc", NULL);
    gl_user other = make_user("user_789", "user"), near = make_user("user_12", "streamers");
    gl_acl_facts f = {0};
    gl_err err;

    expect_code(gl_acl_check_read(&p, &other, &f, &err), &err, GL_EFORBIDDEN, "private");
    assert_int_equal(read_as(&p, &near, &f), GL_EFORBIDDEN);
}

static void
test_acl_banned_user_is_forbidden_even_on_a_public_channel(void **state)
{
    gl_policy pub = resolve(state, "public:lobby", NULL);
    gl_policy priv = resolve(state, "chat:stream_abc", NULL);
    gl_user u = make_user("user_123", "user"), mod = make_user("m", "moderator");
    gl_acl_facts banned = {.banned = true, .in_access_list = true};
    gl_err err;

    expect_code(gl_acl_check_read(&pub, &u, &banned, &err), &err, GL_EFORBIDDEN, "banned");
    assert_int_equal(read_as(&priv, &u, &banned), GL_EFORBIDDEN);
    assert_int_equal(read_as(&priv, &mod, &banned), GL_EFORBIDDEN);
    assert_int_equal(publish_as(&pub, &u, &banned), GL_EFORBIDDEN);
}

static void
test_acl_is_staff_means_moderator_or_admin(void **state)
{
    gl_user mod = make_user("m", "moderator"), admin = make_user("a", "admin");
    gl_user u = make_user("u", "user"), streamer = make_user("s", "streamer");

    (void)state;
    assert_true(gl_acl_is_staff(&mod));
    assert_true(gl_acl_is_staff(&admin));
    assert_false(gl_acl_is_staff(&u));
    assert_false(gl_acl_is_staff(&streamer));
    assert_false(gl_acl_is_staff(NULL));
}

static void
test_acl_role_names_are_1_to_31_bytes_of_a_z_0_9_underscore_dash(void **state)
{
    char longest[GL_ROLE_MAX], too_long[GL_ROLE_MAX + 1];

    (void)state;
    memset(longest, 'r', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    memset(too_long, 'r', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    assert_int_equal(strlen(longest), 31);
    assert_true(gl_role_name_ok(longest));
    assert_false(gl_role_name_ok(too_long));
    assert_true(gl_role_name_ok("vip_2-x"));
    assert_false(gl_role_name_ok(""));
    assert_false(gl_role_name_ok("VIP"));
    assert_false(gl_role_name_ok("v i p"));
    assert_false(gl_role_name_ok("vip.x"));
}

static void
test_acl_admin_stream_and_moderate_rules(void **state)
{
    gl_user mod = make_user("m", "moderator"), admin = make_user("a", "admin");
    gl_user u = make_user("u", "user"), streamer = make_user("s", "streamer");
    gl_user creator = make_user("c", "user"), permmod = make_user("p", "user");

    (void)state;
    creator.has_permissions = permmod.has_permissions = true;
    creator.perms = GL_PERM_STREAM_CREATE;
    permmod.perms = GL_PERM_CHAT_MODERATE | GL_PERM_CHAT_PUBLISH;
    assert_true(gl_acl_is_admin(&admin));
    assert_false(gl_acl_is_admin(&mod));
    assert_false(gl_acl_is_admin(NULL));
    assert_true(gl_acl_may_stream(&streamer));
    assert_true(gl_acl_may_stream(&admin));
    assert_true(gl_acl_may_stream(&creator));
    assert_false(gl_acl_may_stream(&mod));
    assert_false(gl_acl_may_stream(&u));
    assert_false(gl_acl_may_stream(NULL));
    assert_true(gl_acl_may_moderate(&mod));
    assert_true(gl_acl_may_moderate(&admin));
    assert_true(gl_acl_may_moderate(&permmod));
    assert_false(gl_acl_may_moderate(&u));
    assert_false(gl_acl_may_moderate(&creator));
    assert_false(gl_acl_may_moderate(NULL));
    /* chat.moderate grants the moderation routes only, not staff's pass on private channels. */
    assert_false(gl_acl_is_staff(&permmod));
}

static void
test_acl_anonymous_may_not_publish(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_acl_facts f = {0};
    gl_err err;

    expect_code(gl_acl_check_publish(&p, NULL, &f, NOW_MS, &err), &err, GL_EAUTH, "authenticated");
}

static void
test_acl_user_may_publish_on_a_public_channel(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_user u = make_user("u", "user");
    gl_acl_facts f = {0};

    assert_int_equal(publish_as(&p, &u, &f), GL_OK);
}

static void
test_acl_publish_needs_read_access_first(void **state)
{
    gl_policy p = resolve(state, "chat:stream_abc", NULL);
    gl_user other = make_user("user_789", "user"), listed = make_user("user_123", "user");
    gl_acl_facts f = {0};
    gl_err err;

    expect_code(gl_acl_check_publish(&p, &other, &f, NOW_MS, &err), &err, GL_EFORBIDDEN, "private");
    assert_int_equal(publish_as(&p, &listed, &f), GL_OK);
}

static void
test_acl_timeout_in_the_future_forbids_publishing(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_user u = make_user("u", "user");
    gl_acl_facts f = {.timeout_until_ms = NOW_MS + 60000};
    gl_err err;

    expect_code(gl_acl_check_publish(&p, &u, &f, NOW_MS, &err), &err, GL_EFORBIDDEN,
                "timed out in this channel until 2023-11-14T22:14:20.000Z");
    // A timeout does not stop reading.
    assert_int_equal(read_as(&p, &u, &f), GL_OK);
}

static void
test_acl_timeout_in_the_past_or_now_allows_publishing(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_user u = make_user("u", "user");
    gl_acl_facts past = {.timeout_until_ms = NOW_MS - 1}, now = {.timeout_until_ms = NOW_MS};

    assert_int_equal(publish_as(&p, &u, &past), GL_OK);
    assert_int_equal(publish_as(&p, &u, &now), GL_OK);
}

static void
test_acl_allow_publish_false_forbids_users_but_not_moderators(void **state)
{
    gl_policy p = resolve(state, "news:today", NULL);
    gl_user u = make_user("u", "user"), mod = make_user("m", "moderator");
    gl_user admin = make_user("a", "admin");
    gl_acl_facts f = {0};
    gl_err err;

    assert_false(p.allow_publish);
    expect_code(gl_acl_check_publish(&p, &u, &f, NOW_MS, &err), &err, GL_EFORBIDDEN,
                "publishing is disabled");
    assert_int_equal(publish_as(&p, &mod, &f), GL_OK);
    assert_int_equal(publish_as(&p, &admin, &f), GL_OK);
}

static void
test_acl_token_permissions_without_chat_publish_forbid_publishing(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_user u = make_user("u", "user");
    gl_acl_facts f = {0};
    gl_err err;

    u.has_permissions = true;
    u.perms = GL_PERM_STREAM_CREATE | GL_PERM_CHAT_MODERATE;
    expect_code(gl_acl_check_publish(&p, &u, &f, NOW_MS, &err), &err, GL_EFORBIDDEN,
                "chat.publish");
    u.perms = 0;
    assert_int_equal(publish_as(&p, &u, &f), GL_EFORBIDDEN);
}

static void
test_acl_token_permissions_with_chat_publish_allow_publishing(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_user u = make_user("u", "user");
    gl_acl_facts f = {0};

    u.has_permissions = true;
    u.perms = GL_PERM_CHAT_PUBLISH;
    assert_int_equal(publish_as(&p, &u, &f), GL_OK);
}

static void
test_acl_token_without_permissions_claim_may_publish(void **state)
{
    gl_policy p = resolve(state, "public:lobby", NULL);
    gl_user u = make_user("u", "user");
    gl_acl_facts f = {0};

    u.has_permissions = false;
    u.perms = 0;
    assert_int_equal(publish_as(&p, &u, &f), GL_OK);
}

static void
test_acl_checks_accept_a_null_err(void **state)
{
    gl_policy p = resolve(state, "chat:stream_abc", NULL);
    gl_user u = make_user("nobody", "user");
    gl_acl_facts f = {0};

    assert_int_equal(gl_acl_check_read(&p, NULL, &f, NULL), GL_EAUTH);
    assert_int_equal(gl_acl_check_read(&p, &u, &f, NULL), GL_EFORBIDDEN);
    assert_int_equal(gl_acl_check_publish(&p, &u, &f, NOW_MS, NULL), GL_EFORBIDDEN);
}

#define ACL_TEST(f) cmocka_unit_test_setup_teardown(f, setup_config, teardown_config)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        ACL_TEST(test_acl_policy_takes_the_fields_of_the_matching_rule),
        ACL_TEST(test_acl_policy_namespace_of_the_rule_wins_over_the_prefix),
        ACL_TEST(test_acl_policy_finds_the_namespace_by_prefix_without_a_rule),
        ACL_TEST(test_acl_policy_defaults_without_rule_or_namespace),
        cmocka_unit_test(test_acl_policy_of_an_empty_config_is_all_defaults),
        ACL_TEST(test_acl_override_fields_win_over_the_rule),
        ACL_TEST(test_acl_unset_override_changes_nothing),
        ACL_TEST(test_acl_override_roles_replace_the_rule_roles),
        ACL_TEST(test_acl_public_channel_is_readable_by_anyone),
        ACL_TEST(test_acl_private_channel_asks_anonymous_to_authenticate),
        ACL_TEST(test_acl_private_channel_admits_listed_users_roles_staff_and_access_list),
        ACL_TEST(test_acl_private_channel_forbids_everyone_else),
        ACL_TEST(test_acl_banned_user_is_forbidden_even_on_a_public_channel),
        cmocka_unit_test(test_acl_is_staff_means_moderator_or_admin),
        cmocka_unit_test(test_acl_role_names_are_1_to_31_bytes_of_a_z_0_9_underscore_dash),
        cmocka_unit_test(test_acl_admin_stream_and_moderate_rules),
        ACL_TEST(test_acl_anonymous_may_not_publish),
        ACL_TEST(test_acl_user_may_publish_on_a_public_channel),
        ACL_TEST(test_acl_publish_needs_read_access_first),
        ACL_TEST(test_acl_timeout_in_the_future_forbids_publishing),
        ACL_TEST(test_acl_timeout_in_the_past_or_now_allows_publishing),
        ACL_TEST(test_acl_allow_publish_false_forbids_users_but_not_moderators),
        ACL_TEST(test_acl_token_permissions_without_chat_publish_forbid_publishing),
        ACL_TEST(test_acl_token_permissions_with_chat_publish_allow_publishing),
        ACL_TEST(test_acl_token_without_permissions_claim_may_publish),
        ACL_TEST(test_acl_checks_accept_a_null_err),
    };

    return cmocka_run_group_tests_name("acl", tests, NULL, NULL);
}
