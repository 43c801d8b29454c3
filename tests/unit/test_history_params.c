/* Unit tests for shared/history_params.c: the history read parameters REST and WebSocket share,
 * from query-string text and from JSON members alike: bounds, messages, the page cap of 100 and
 * the channel's max_history. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "shared/db.h"
#include "shared/history_params.h"

static const gl_history_arg none = {false, false, 0};

static int
parse_text(const char *limit, const char *since, const char *before, int max_history,
           gl_history_query *q, gl_err *err)
{
    return gl_history_params(gl_history_arg_text(limit), gl_history_arg_text(since),
                             gl_history_arg_text(before), max_history, q, err);
}

static void
test_history_defaults_to_the_latest_50(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_int_equal(gl_history_params(none, none, none, 1000, &q, &err), GL_OK);
    assert_int_equal(q.mode, GL_HISTORY_LATEST);
    assert_int_equal(q.ref, 0);
    assert_int_equal(q.limit, GL_HISTORY_PAGE_DEFAULT);
    assert_int_equal(q.limit, 50);
}

static void
test_history_caps_limit_at_100(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_int_equal(parse_text("1000000", NULL, NULL, 1000, &q, &err), GL_OK);
    assert_int_equal(q.limit, GL_HISTORY_PAGE_MAX);
    assert_int_equal(q.limit, 100);
    assert_int_equal(parse_text("100", NULL, NULL, 1000, &q, &err), GL_OK);
    assert_int_equal(q.limit, 100);
    assert_int_equal(parse_text("99", NULL, NULL, 1000, &q, &err), GL_OK);
    assert_int_equal(q.limit, 99);
}

static void
test_history_caps_limit_at_max_history(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_int_equal(parse_text("80", NULL, NULL, 20, &q, &err), GL_OK);
    assert_int_equal(q.limit, 20);
    assert_int_equal(parse_text(NULL, NULL, NULL, 10, &q, &err), GL_OK);
    assert_int_equal(q.limit, 10);
}

static void
test_history_refuses_a_limit_out_of_range_with_one_message(void **state)
{
    static const char *const bad[] = {
        "0", "-1", "1000001", "abc", "5x", "", "99999999999999999999"};
    gl_history_query q;
    gl_err err;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse_text(bad[i], NULL, NULL, 1000, &q, &err), GL_EINVAL);
        assert_string_equal(err.msg, "limit must be an integer from 1 to 1000000");
    }
}

static void
test_history_since_and_before_select_the_mode(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_int_equal(parse_text("5", "0", NULL, 1000, &q, &err), GL_OK);
    assert_int_equal(q.mode, GL_HISTORY_SINCE);
    assert_int_equal(q.ref, 0);
    assert_int_equal(parse_text(NULL, NULL, "42", 1000, &q, &err), GL_OK);
    assert_int_equal(q.mode, GL_HISTORY_BEFORE);
    assert_int_equal(q.ref, 42);
}

static void
test_history_refuses_since_and_before_together(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_int_equal(parse_text(NULL, "1", "9", 1000, &q, &err), GL_EINVAL);
    assert_string_equal(err.msg, "give since or before, not both");
}

static void
test_history_refuses_ids_out_of_range(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_int_equal(parse_text(NULL, "-1", NULL, 1000, &q, &err), GL_EINVAL);
    assert_string_equal(err.msg, "since must be an integer from 0 to 9007199254740992");
    assert_int_equal(parse_text(NULL, NULL, "0", 1000, &q, &err), GL_EINVAL);
    assert_string_equal(err.msg, "before must be an integer from 1 to 9007199254740992");
    assert_int_equal(parse_text(NULL, "9007199254740993", NULL, 1000, &q, &err), GL_EINVAL);
}

static void
test_history_text_is_digits_only(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    /* strtoll's own leniency: a sign, leading blanks, trailing junk */
    for (const char **v = (const char *[]){"+5", " 5", "5 ", "\t5", "5x", "-", "", "0x10", NULL};
         *v; v++) {
        assert_int_equal(parse_text(*v, NULL, NULL, 1000, &q, &err), GL_EINVAL);
        assert_int_equal(parse_text(NULL, *v, NULL, 1000, &q, &err), GL_EINVAL);
        assert_int_equal(parse_text(NULL, NULL, *v, 1000, &q, &err), GL_EINVAL);
    }
    assert_int_equal(parse_text("05", "007", NULL, 1000, &q, &err), GL_OK);
    assert_int_equal(q.limit, 5);
    assert_int_equal(q.ref, 7);
}

static void
test_history_checks_limit_before_since_and_before(void **state)
{
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_int_equal(parse_text("0", "-1", "0", 1000, &q, &err), GL_EINVAL);
    assert_string_equal(err.msg, "limit must be an integer from 1 to 1000000");
}

static void
test_history_json_values_follow_the_same_rules(void **state)
{
    cJSON *o = cJSON_Parse("{\"limit\":500,\"since\":7,\"frac\":2.5,\"text\":\"5\",\"huge\":1e300,"
                           "\"neg\":-1e300}");
    gl_history_query q;
    gl_err err;
    (void)state;
    assert_non_null(o);
    assert_int_equal(gl_history_params(gl_history_arg_json(cJSON_GetObjectItem(o, "limit")),
                                       gl_history_arg_json(cJSON_GetObjectItem(o, "since")),
                                       gl_history_arg_json(NULL), 1000, &q, &err),
                     GL_OK);
    assert_int_equal(q.limit, 100);
    assert_int_equal(q.mode, GL_HISTORY_SINCE);
    assert_int_equal(q.ref, 7);
    static const char *const bad[] = {"frac", "text", "huge", "neg"};
    for (size_t i = 0; i < 4; i++) {
        gl_history_arg a = gl_history_arg_json(cJSON_GetObjectItem(o, bad[i]));
        assert_true(a.present);
        assert_int_equal(gl_history_params(a, none, none, 1000, &q, &err), GL_EINVAL);
        assert_string_equal(err.msg, "limit must be an integer from 1 to 1000000");
    }
    cJSON_Delete(o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_defaults_to_the_latest_50),
        cmocka_unit_test(test_history_caps_limit_at_100),
        cmocka_unit_test(test_history_caps_limit_at_max_history),
        cmocka_unit_test(test_history_refuses_a_limit_out_of_range_with_one_message),
        cmocka_unit_test(test_history_since_and_before_select_the_mode),
        cmocka_unit_test(test_history_refuses_since_and_before_together),
        cmocka_unit_test(test_history_refuses_ids_out_of_range),
        cmocka_unit_test(test_history_text_is_digits_only),
        cmocka_unit_test(test_history_checks_limit_before_since_and_before),
        cmocka_unit_test(test_history_json_values_follow_the_same_rules),
    };
    return cmocka_run_group_tests_name("history_params", tests, NULL, NULL);
}
