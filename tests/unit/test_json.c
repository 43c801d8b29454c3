/* Strict JSON input: UTF-8 validation and no bytes after the value. */
#include "shared/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static bool
valid(const char *s)
{
    return gl_utf8_valid(s, strlen(s));
}

static void
test_utf8_accepts_ascii_and_multibyte(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("hello"));
    assert_true(valid("\xc3\xa9"));         /* é */
    assert_true(valid("\xe2\x9c\x93"));     /* ✓ */
    assert_true(valid("\xf0\x9f\x98\x80")); /* 😀 */
    assert_true(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
}

static void
test_utf8_rejects_malformed_sequences(void **state)
{
    (void)state;
    assert_false(valid("\xff"));
    assert_false(valid("\x80"));             /* lone continuation */
    assert_false(valid("\xc3"));             /* truncated */
    assert_false(valid("\xc0\xaf"));         /* overlong '/' */
    assert_false(valid("\xe0\x80\xaf"));     /* overlong */
    assert_false(valid("\xed\xa0\x80"));     /* surrogate U+D800 */
    assert_false(valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
    assert_false(valid("\xf5\x80\x80\x80"));
    assert_false(valid("ok\xe2\x9c")); /* truncated at the end */
}

static void
test_json_parse_accepts_one_value_with_whitespace(void **state)
{
    const char *s = " \n{\"a\": \"\xc3\xa9\"}\r\n\t ";
    gl_err err;
    cJSON *v = gl_json_parse(s, strlen(s), &err);
    (void)state;
    assert_non_null(v);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "a")->valuestring, "\xc3\xa9");
    cJSON_Delete(v);
}

static void
test_json_parse_rejects_trailing_bytes(void **state)
{
    const char *bad[] = {"{\"a\":1}}", "{\"a\":1} xyz", "{} {}", "1 2", "{\"a\":1}\x00"};
    gl_err err;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = strlen(bad[i]) + (i == 4 ? 1 : 0);
        assert_null(gl_json_parse(bad[i], len, &err));
        assert_int_equal(err.code, GL_EINVAL);
        assert_non_null(strstr(err.msg, "after the JSON value"));
    }
}

static void
test_json_parse_rejects_invalid_utf8_inside_strings(void **state)
{
    const char *s = "{\"data\":{\"a\":\"\xff\"}}";
    gl_err err;
    (void)state;
    assert_null(gl_json_parse(s, strlen(s), &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_non_null(strstr(err.msg, "UTF-8"));
}

static void
test_json_parse_reads_only_len_bytes(void **state)
{
    const char buf[] = "{\"a\":1}GARBAGE";
    gl_err err;
    cJSON *v = gl_json_parse(buf, 7, &err);
    (void)state;
    assert_non_null(v);
    cJSON_Delete(v);
    assert_null(gl_json_parse("{\"a\":", 5, NULL)); /* NULL err is fine */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_accepts_ascii_and_multibyte),
        cmocka_unit_test(test_utf8_rejects_malformed_sequences),
        cmocka_unit_test(test_json_parse_accepts_one_value_with_whitespace),
        cmocka_unit_test(test_json_parse_rejects_trailing_bytes),
        cmocka_unit_test(test_json_parse_rejects_invalid_utf8_inside_strings),
        cmocka_unit_test(test_json_parse_reads_only_len_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
