/* Unit tests for shared/chan.c: which channel names are valid (and what the message says when
 * one is not), the namespace prefix, and glob matching, including a pattern that would take
 * exponential time in a recursive matcher. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "shared/chan.h"
#include "shared/timefmt.h"

/* name is refused with GL_EINVAL and a message containing want. */
static void
expect_invalid(const char *name, const char *want)
{
    gl_err err;

    gl_err_clear(&err);
    assert_int_equal(gl_chan_validate(name, &err), GL_EINVAL);
    assert_int_equal(err.code, GL_EINVAL);
    if (strstr(err.msg, want) == NULL) fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static void
expect_valid(const char *name)
{
    gl_err err;

    gl_err_clear(&err);
    if (gl_chan_validate(name, &err) != GL_OK) fail_msg("\"%s\" refused: %s", name, err.msg);
}

static void
test_chan_accepts_valid_names(void **state)
{
    (void)state;
    expect_valid("chat:stream_abc");
    expect_valid("a");
    expect_valid("lobby");
    expect_valid("a:b:c");
    expect_valid("user@example.com=1");
    expect_valid("A-Z_0-9.x:y");
}

static void
test_chan_accepts_a_name_of_exactly_255_bytes(void **state)
{
    char name[GL_CHAN_MAX + 1];

    (void)state;
    memset(name, 'x', GL_CHAN_MAX);
    name[GL_CHAN_MAX] = '\0';
    expect_valid(name);
    name[100] = ':';
    expect_valid(name);
}

static void
test_chan_rejects_empty_and_null_names(void **state)
{
    (void)state;
    expect_invalid("", "channel name is empty");
    expect_invalid(NULL, "channel name is empty");
}

static void
test_chan_rejects_a_name_of_256_bytes(void **state)
{
    char name[GL_CHAN_MAX + 2];

    (void)state;
    memset(name, 'x', GL_CHAN_MAX + 1);
    name[GL_CHAN_MAX + 1] = '\0';
    expect_invalid(name, "longer than 255 bytes");
}

static void
test_chan_rejects_characters_outside_the_set_naming_the_byte(void **state)
{
    (void)state;
    expect_invalid("chat room", "character outside [A-Za-z0-9_.:@=-] at byte 4");
    expect_invalid("hi!", "at byte 2");
    expect_invalid("a/b", "at byte 1");
    expect_invalid("*", "at byte 0");
    expect_invalid("?", "at byte 0");
}

static void
test_chan_rejects_non_ascii_and_utf8_bytes(void **state)
{
    (void)state;
    expect_invalid("caf\xc3\xa9", "at byte 3");
    expect_invalid("\xff", "at byte 0");
    expect_invalid("chat:\xe2\x82\xac", "at byte 5");
}

static void
test_chan_rejects_control_characters(void **state)
{
    (void)state;
    expect_invalid("a\tb", "at byte 1");
    expect_invalid("a\nb", "at byte 1");
    expect_invalid("\x01", "at byte 0");
    expect_invalid("ab\x7f", "at byte 2");
}

static void
test_chan_rejects_empty_segments(void **state)
{
    (void)state;
    expect_invalid(":chat", "empty ':' segment");
    expect_invalid("chat:", "empty ':' segment");
    expect_invalid("a::b", "empty ':' segment");
    expect_invalid(":", "empty ':' segment");
}

static void
test_chan_validate_accepts_a_null_err(void **state)
{
    (void)state;
    assert_int_equal(gl_chan_validate("ok", NULL), GL_OK);
    assert_int_equal(gl_chan_validate("not ok", NULL), GL_EINVAL);
}

static void
test_chan_prefix_is_the_part_before_the_first_colon(void **state)
{
    char out[GL_CHAN_MAX + 1];

    (void)state;
    assert_int_equal(gl_chan_prefix("chat:stream_abc", out, sizeof(out)), 4);
    assert_string_equal(out, "chat");
    assert_int_equal(gl_chan_prefix("a:b:c", out, sizeof(out)), 1);
    assert_string_equal(out, "a");
}

static void
test_chan_prefix_is_empty_without_a_colon(void **state)
{
    char out[16];

    (void)state;
    memset(out, 'z', sizeof(out));
    assert_int_equal(gl_chan_prefix("lobby", out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

static void
test_chan_prefix_is_empty_when_it_does_not_fit(void **state)
{
    char out[8];

    (void)state;
    memset(out, 'z', sizeof(out));
    assert_int_equal(gl_chan_prefix("namespace:x", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    // Seven bytes plus the NUL fit exactly; eight do not.
    assert_int_equal(gl_chan_prefix("sevench:x", out, sizeof(out)), 7);
    assert_string_equal(out, "sevench");
    assert_int_equal(gl_chan_prefix("eightchr:x", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(gl_chan_prefix("a:b", out, 0), 0);
}

static void
test_chan_match_handles_a_star_at_start_middle_and_end(void **state)
{
    (void)state;
    assert_true(gl_chan_match("*:abc", "chat:abc"));
    assert_true(gl_chan_match("*abc", "abc"));
    assert_false(gl_chan_match("*:abc", "chat:abd"));
    assert_true(gl_chan_match("chat:*_abc", "chat:stream_abc"));
    assert_true(gl_chan_match("chat:*_abc", "chat:_abc"));
    assert_false(gl_chan_match("chat:*_abc", "chat:stream_ab"));
    assert_true(gl_chan_match("chat:*", "chat:"));
    assert_true(gl_chan_match("chat:*", "chat:anything"));
    assert_false(gl_chan_match("chat:*", "chat"));
}

static void
test_chan_match_handles_multiple_stars(void **state)
{
    (void)state;
    assert_true(gl_chan_match("*:*", "a:b"));
    assert_true(gl_chan_match("**", ""));
    assert_true(gl_chan_match("a*b*c", "aXXbYYc"));
    assert_true(gl_chan_match("a*b*c", "abc"));
    assert_true(gl_chan_match("a*b*c", "abcbc"));
    assert_false(gl_chan_match("a*b*c", "aXXcYYb"));
    assert_true(gl_chan_match("*a*", "bab"));
    assert_false(gl_chan_match("*a*", "bbb"));
}

static void
test_chan_match_question_mark_matches_exactly_one_byte(void **state)
{
    (void)state;
    assert_true(gl_chan_match("a?c", "abc"));
    assert_false(gl_chan_match("a?c", "ac"));
    assert_false(gl_chan_match("a?c", "abbc"));
    assert_true(gl_chan_match("???", "xyz"));
    assert_true(gl_chan_match("?*", "x"));
    assert_false(gl_chan_match("?*", ""));
}

static void
test_chan_match_without_wildcards_is_exact(void **state)
{
    (void)state;
    assert_true(gl_chan_match("lobby", "lobby"));
    assert_false(gl_chan_match("lobby", "lobby2"));
    assert_false(gl_chan_match("lobby2", "lobby"));
    assert_false(gl_chan_match("Lobby", "lobby"));
}

static void
test_chan_match_of_empty_pattern_and_name(void **state)
{
    (void)state;
    assert_true(gl_chan_match("", ""));
    assert_false(gl_chan_match("", "a"));
    assert_false(gl_chan_match("a", ""));
    assert_true(gl_chan_match("*", ""));
}

static void
test_chan_match_of_the_seed_pattern(void **state)
{
    (void)state;
    assert_true(gl_chan_match("chat:stream_*", "chat:stream_abc"));
    assert_true(gl_chan_match("chat:stream_*", "chat:stream_"));
    assert_false(gl_chan_match("chat:stream_*", "chat:other"));
    assert_false(gl_chan_match("chat:stream_*", "public:stream_abc"));
}

static void
test_chan_match_of_a_pathological_pattern_finishes_fast(void **state)
{
    char name[201];
    int64_t start;

    (void)state;
    memset(name, 'a', 200);
    name[200] = '\0';
    start = gl_time_mono_ms();
    for (int i = 0; i < 100; i++) {
        assert_false(gl_chan_match("*a*a*a*a*a*a*b", name));
        assert_true(gl_chan_match("*a*a*a*a*a*a*", name));
    }
    // A backtracking matcher needs about C(200, 6) steps here; ours needs 200 * 14.
    assert_true(gl_time_mono_ms() - start < 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chan_accepts_valid_names),
        cmocka_unit_test(test_chan_accepts_a_name_of_exactly_255_bytes),
        cmocka_unit_test(test_chan_rejects_empty_and_null_names),
        cmocka_unit_test(test_chan_rejects_a_name_of_256_bytes),
        cmocka_unit_test(test_chan_rejects_characters_outside_the_set_naming_the_byte),
        cmocka_unit_test(test_chan_rejects_non_ascii_and_utf8_bytes),
        cmocka_unit_test(test_chan_rejects_control_characters),
        cmocka_unit_test(test_chan_rejects_empty_segments),
        cmocka_unit_test(test_chan_validate_accepts_a_null_err),
        cmocka_unit_test(test_chan_prefix_is_the_part_before_the_first_colon),
        cmocka_unit_test(test_chan_prefix_is_empty_without_a_colon),
        cmocka_unit_test(test_chan_prefix_is_empty_when_it_does_not_fit),
        cmocka_unit_test(test_chan_match_handles_a_star_at_start_middle_and_end),
        cmocka_unit_test(test_chan_match_handles_multiple_stars),
        cmocka_unit_test(test_chan_match_question_mark_matches_exactly_one_byte),
        cmocka_unit_test(test_chan_match_without_wildcards_is_exact),
        cmocka_unit_test(test_chan_match_of_empty_pattern_and_name),
        cmocka_unit_test(test_chan_match_of_the_seed_pattern),
        cmocka_unit_test(test_chan_match_of_a_pathological_pattern_finishes_fast),
    };

    return cmocka_run_group_tests_name("chan", tests, NULL, NULL);
}
