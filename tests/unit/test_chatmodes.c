/* Unit tests for shared/chatmodes.c: layers merge in order, each mode refuses what it should and
 * exempts whom it should, slow mode says how long to wait, unique chat looks at the last few
 * messages within its window, length counts characters, blocked terms match case-insensitively
 * with '*', and a channel without modes is not active. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "shared/chatmodes.h"

static gl_modes
off(void)
{
    gl_modes m;
    gl_modes_resolve(&m, NULL, NULL, NULL);
    return m;
}

static int
check(const gl_modes *m, gl_standing st, bool member, const char *data, const gl_recent *r,
      int64_t now, gl_mode_verdict *v, gl_err *err)
{
    return gl_modes_check(m, NULL, 0, st, member, data, r, now, v, err);
}

static void
test_layers_apply_in_order_and_unset_fields_fall_through(void **state)
{
    gl_modes ns = GL_MODES_UNSET, rule = GL_MODES_UNSET, ov = GL_MODES_UNSET, m;
    gl_term terms[1] = {"spam"};

    (void)state;
    ns.slow_mode = 30;
    ns.unique_chat = 1;
    rule.slow_mode = 10;
    ov.unique_chat = 0;
    ov.has_terms = true;
    ov.terms = terms;
    ov.n_terms = 1;
    gl_modes_resolve(&m, &ns, &rule, &ov);
    assert_int_equal(m.slow_mode, 10);
    assert_int_equal(m.unique_chat, 0);
    assert_int_equal(m.members_only, 0);
    assert_int_equal(m.n_terms, 1);
    assert_true(gl_modes_active(&m, 0));
    m = off();
    assert_false(gl_modes_active(&m, 0));
    assert_true(gl_modes_active(&m, 1)); /* a global blocked term */
}

static void
test_slow_mode_waits_exempts_vips_and_resets(void **state)
{
    gl_modes m = off();
    gl_recent r = {0};
    gl_mode_verdict v;
    gl_err err;

    (void)state;
    m.slow_mode = 10;
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{}", &r, 1000, &v, &err), GL_OK);
    gl_recent_note(&r, "{}", 1000);
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{}", &r, 4000, &v, &err), GL_ERATE);
    assert_int_equal(v.retry_after_ms, 7000);
    assert_non_null(strstr(err.msg, "one message every 10 s; wait 7.0 s"));
    assert_int_equal(check(&m, GL_STANDING_VIP, false, "{}", &r, 4000, &v, &err), GL_OK);
    assert_int_equal(check(&m, GL_STANDING_BROADCASTER, false, "{}", &r, 4000, &v, &err), GL_OK);
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{}", &r, 11000, &v, &err), GL_OK);
}

static void
test_members_only_admits_members_and_every_standing(void **state)
{
    gl_modes m = off();
    gl_mode_verdict v;
    gl_err err;

    (void)state;
    m.members_only = 1;
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{}", NULL, 0, &v, &err), GL_EFORBIDDEN);
    assert_non_null(strstr(err.msg, "members-only"));
    assert_int_equal(check(&m, GL_STANDING_NONE, true, "{}", NULL, 0, &v, &err), GL_OK);
    assert_int_equal(check(&m, GL_STANDING_VIP, false, "{}", NULL, 0, &v, &err), GL_OK);
}

static void
test_unique_chat_compares_content_with_the_last_few_within_the_window(void **state)
{
    gl_modes m = off();
    gl_recent r = {0};
    gl_mode_verdict v;
    gl_err err;
    char data[64];

    (void)state;
    m.unique_chat = 1;
    gl_recent_note(&r, "{\"content\":\"gg\",\"color\":\"red\"}", 0);
    /* the same content with other fields is the same message */
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{\"content\":\"gg\"}", &r, 1000, &v, &err),
                     GL_EFORBIDDEN);
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{\"content\":\"GG\"}", &r, 1000, &v, &err),
                     GL_OK);
    assert_int_equal(check(&m, GL_STANDING_VIP, false, "{\"content\":\"gg\"}", &r, 1000, &v, &err),
                     GL_OK);
    /* out of the window, or pushed out by GL_UNIQUE_RECENT newer ones: allowed again */
    assert_int_equal(
        check(&m, GL_STANDING_NONE, false, "{\"content\":\"gg\"}", &r, GL_RECENT_KEEP_MS, &v, &err),
        GL_OK);
    for (int i = 0; i < GL_UNIQUE_RECENT; i++) {
        snprintf(data, sizeof(data), "{\"content\":\"m%d\"}", i);
        gl_recent_note(&r, data, 2000);
    }
    assert_int_equal(r.n, GL_UNIQUE_RECENT);
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{\"content\":\"gg\"}", &r, 3000, &v, &err),
                     GL_OK);
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{\"content\":\"m0\"}", &r, 3000, &v, &err),
                     GL_EFORBIDDEN);
    /* without a content string, the data itself is compared */
    gl_recent_note(&r, "{\"emote\":42}", 4000);
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{\"emote\":42}", &r, 4000, &v, &err),
                     GL_EFORBIDDEN);
}

static void
test_length_counts_characters_of_content_and_bytes_of_data(void **state)
{
    gl_modes m = off();
    gl_mode_verdict v;
    gl_err err;

    (void)state;
    m.max_length = 3;
    assert_int_equal(check(&m, GL_STANDING_NONE, false,
                           "{\"content\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}", NULL, 0, &v, &err),
                     GL_OK);
    /* an escape is one character */
    assert_int_equal(
        check(&m, GL_STANDING_NONE, false, "{\"content\":\"ab\\u00e9\"}", NULL, 0, &v, &err),
        GL_OK);
    assert_int_equal(check(&m, GL_STANDING_VIP, false, "{\"content\":\"abcd\"}", NULL, 0, &v, &err),
                     GL_ETOOBIG);
    assert_non_null(strstr(err.msg, "4 characters long; this channel allows 3"));
    m.max_length = 0;
    m.max_bytes = 10;
    assert_int_equal(check(&m, GL_STANDING_NONE, false, "{\"a\":\"bcdef\"}", NULL, 0, &v, &err),
                     GL_ETOOBIG);
    assert_int_equal(
        check(&m, GL_STANDING_MODERATOR, false, "{\"a\":\"bcdef\"}", NULL, 0, &v, &err), GL_OK);
}

static void
test_blocked_terms_match_case_insensitively_with_stars_and_may_hold(void **state)
{
    gl_modes m = off();
    gl_term chan[2] = {"buy*followers", "scam"}, global[1] = {"free*bitcoin"};
    gl_mode_verdict v;
    gl_err err;

    (void)state;
    m.has_terms = true;
    m.terms = chan;
    m.n_terms = 2;
    assert_int_equal(gl_modes_check(&m, global, 1, GL_STANDING_NONE, false,
                                    "{\"content\":\"BUY real Followers\"}", NULL, 0, &v, &err),
                     GL_EFORBIDDEN);
    assert_string_equal(v.term, "buy*followers");
    assert_int_equal(gl_modes_check(&m, global, 1, GL_STANDING_NONE, false,
                                    "{\"content\":\"followers: buy merch\"}", NULL, 0, &v, &err),
                     GL_OK); /* the pieces must come in order */
    assert_int_equal(gl_modes_check(&m, global, 1, GL_STANDING_VIP, false,
                                    "{\"content\":\"get FREE bitcoin\"}", NULL, 0, &v, &err),
                     GL_EFORBIDDEN);
    assert_string_equal(v.term, "free*bitcoin");
    assert_int_equal(gl_modes_check(&m, global, 1, GL_STANDING_BROADCASTER, false,
                                    "{\"content\":\"scam\"}", NULL, 0, &v, &err),
                     GL_OK);
    /* invisible characters do not split a word; a NUL does not hide what follows it */
    assert_int_equal(gl_modes_check(&m, NULL, 0, GL_STANDING_NONE, false,
                                    "{\"content\":\"s\\u200bc\\u00adam\"}", NULL, 0, &v, &err),
                     GL_EFORBIDDEN);
    assert_int_equal(gl_modes_check(&m, NULL, 0, GL_STANDING_NONE, false,
                                    "{\"content\":\"s\xe2\x80\x8b"
                                    "cam\"}",
                                    NULL, 0, &v, &err),
                     GL_EFORBIDDEN);
    assert_int_equal(gl_modes_check(&m, NULL, 0, GL_STANDING_NONE, false,
                                    "{\"content\":\"hi\\u0000scam\"}", NULL, 0, &v, &err),
                     GL_EFORBIDDEN);
    assert_non_null(strstr(err.msg, "NUL"));
    m.hold_blocked = 1;
    assert_int_equal(gl_modes_check(&m, global, 1, GL_STANDING_NONE, false,
                                    "{\"content\":\"a scamming link\"}", NULL, 0, &v, &err),
                     GL_OK);
    assert_true(v.hold);
    assert_string_equal(v.term, "scam");
}

static void
test_term_problems(void **state)
{
    char big[GL_TERM_MAX + 1];

    (void)state;
    assert_null(gl_term_problem("ok"));
    assert_null(gl_term_problem("a*b"));
    assert_non_null(gl_term_problem(""));
    assert_non_null(gl_term_problem("**"));
    assert_non_null(gl_term_problem("a\tb"));
    memset(big, 'a', GL_TERM_MAX);
    big[GL_TERM_MAX] = '\0';
    assert_non_null(gl_term_problem(big));
    big[GL_TERM_MAX - 1] = '\0';
    assert_null(gl_term_problem(big));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layers_apply_in_order_and_unset_fields_fall_through),
        cmocka_unit_test(test_slow_mode_waits_exempts_vips_and_resets),
        cmocka_unit_test(test_members_only_admits_members_and_every_standing),
        cmocka_unit_test(test_unique_chat_compares_content_with_the_last_few_within_the_window),
        cmocka_unit_test(test_length_counts_characters_of_content_and_bytes_of_data),
        cmocka_unit_test(test_blocked_terms_match_case_insensitively_with_stars_and_may_hold),
        cmocka_unit_test(test_term_problems),
    };

    return cmocka_run_group_tests_name("chatmodes", tests, NULL, NULL);
}
