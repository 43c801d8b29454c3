/* Strict JSON input: UTF-8, RFC 8259's grammar, no bytes after the value, no NUL or repeated key
 * in what is parsed, and raw members kept byte for byte. */
#include "shared/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
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
    cJSON *v = gl_json_parse(s, strlen(s), NULL, &err);
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
        assert_null(gl_json_parse(bad[i], len, NULL, &err));
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
    assert_null(gl_json_parse(s, strlen(s), NULL, &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_non_null(strstr(err.msg, "UTF-8"));
}

static void
test_json_parse_reads_only_len_bytes(void **state)
{
    const char buf[] = "{\"a\":1}GARBAGE";
    gl_err err;
    cJSON *v = gl_json_parse(buf, 7, NULL, &err);
    (void)state;
    assert_non_null(v);
    cJSON_Delete(v);
    assert_null(gl_json_parse("{\"a\":", 5, NULL, NULL)); /* NULL err is fine */
}

static const char *const raw_data[] = {"data", NULL};

/* What a client publishes comes back as it was written: numbers beyond a double, -0, exponents,
 * escapes (NUL included), emoji, surrogate pairs, whitespace, repeated keys inside. */
static void
test_json_parse_keeps_raw_members_byte_for_byte(void **state)
{
    static const char *const datas[] = {
        "{\"a\":9007199254740993,\"b\":1764698123456780,\"c\":12345678901234567890}",
        "{\"d\":1.7976931348623157e308,\"e\":1e400,\"f\":-0,\"g\":0.10000000000000000001}",
        "{\"h\":1E+2,\"i\":-1.5e-7,\"j\":100000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000}",
        "{\"k\":\"a\\u0000b\",\"l\":\"\\ud83d\\ude00 "
        "\xf0\x9f\x98\x80\",\"m\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
        "{ \"n\" : [ 1 , {\"o\" : null} ] ,\n\t\"p\":true }",
        "{\"q\":1,\"q\":2}",
    };
    gl_err err;
    (void)state;
    for (size_t i = 0; i < sizeof(datas) / sizeof(datas[0]); i++) {
        char buf[512];
        cJSON *v, *back;
        char *printed;
        snprintf(buf, sizeof(buf), "{\"type\":\"publish\",\"data\": %s }", datas[i]);
        v = gl_json_parse(buf, strlen(buf), raw_data, &err);
        assert_non_null(v);
        assert_string_equal(gl_json_raw(v, "data"), datas[i]);
        assert_true(gl_json_raw_is_object(gl_json_raw(v, "data")));
        assert_null(gl_json_raw(v, "type"));
        /* Printed back, the envelope embeds the same bytes. */
        printed = cJSON_PrintUnformatted(v);
        assert_non_null(strstr(printed, datas[i]));
        back = gl_json_parse(printed, strlen(printed), raw_data, &err);
        assert_non_null(back);
        assert_string_equal(gl_json_raw(back, "data"), datas[i]);
        cJSON_Delete(back);
        cJSON_free(printed);
        cJSON_Delete(v);
    }
}

static void
test_json_parse_refuses_nul_outside_raw_members_naming_the_key(void **state)
{
    const char *s = "{\"channel\":\"public:a\\u0000zzz\",\"data\":{\"x\":\"\\u0000\"}}";
    const char *nested = "{\"users\":[\"ok\",\"b\\u0000\"]}";
    const char *key = "{\"a\\u0000b\":1}";
    gl_err err;
    (void)state;
    assert_null(gl_json_parse(s, strlen(s), raw_data, &err));
    assert_int_equal(err.code, GL_EINVAL);
    assert_string_equal(err.msg, "channel must not contain NUL (\\u0000)");
    assert_null(gl_json_parse(nested, strlen(nested), NULL, &err));
    assert_string_equal(err.msg, "users must not contain NUL (\\u0000)");
    assert_null(gl_json_parse(key, strlen(key), NULL, &err));
    assert_non_null(strstr(err.msg, "NUL"));
}

static void
test_json_parse_refuses_repeated_keys_even_when_escaped(void **state)
{
    static const char *const bad[] = {
        "{\"sub\":\"u\",\"sub\":\"admin\"}",
        "{\"sub\":\"u\",\"s\\u0075b\":\"admin\"}",
        "{\"a\":{\"x\":1,\"x\":2}}",
        "{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,"
        "\"k9\":9,\"k10\":0,\"k11\":1,\"k12\":2,\"k13\":3,\"k14\":4,\"k15\":5,\"k16\":6,\"k3\":7}",
    };
    gl_err err;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(gl_json_parse(bad[i], strlen(bad[i]), NULL, &err));
        assert_int_equal(err.code, GL_EINVAL);
        assert_non_null(strstr(err.msg, "duplicate key"));
    }
}

static void
test_json_parse_follows_the_rfc_grammar(void **state)
{
    static const char *const bad[] = {
        "01",
        "1.",
        ".5",
        "+1",
        "-",
        "1e",
        "1e+",
        "[1,]",
        "{\"a\":1,}",
        "{a:1}",
        "'a'",
        "[\"\x01\"]",
        "\"\\x\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\u12\"",
        "tru",
        "nul",
        "[1 2]",
        "{\"a\" 1}",
        "\"abc",
        "NaN",
        "Infinity",
        "-01",
        "[",
        "{",
        "\x00",
        "{\"a\":\"b\x00\"}",
    };
    static const char *const good[] = {
        "0",
        "-0",
        "0.5",
        "1e5",
        "1E-5",
        "-1.25e+10",
        "[]",
        "{}",
        "\"\\ud83d\\ude00\"",
        "[true,false,null]",
        "\"\\u00e9\\/\"",
        "  [ 1 , 2 ]  ",
    };
    gl_err err;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = bad[i][0] == '\0' ? 1 : strlen(bad[i]) + (strchr(bad[i], '\x00') ? 0 : 0);
        if (i == sizeof(bad) / sizeof(bad[0]) - 1) len = 9; /* the raw NUL inside the string */
        assert_null(gl_json_parse(bad[i], len, NULL, &err));
        assert_int_equal(err.code, GL_EINVAL);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cJSON *v = gl_json_parse(good[i], strlen(good[i]), NULL, &err);
        assert_non_null(v);
        cJSON_Delete(v);
    }
}

static void
test_json_parse_decodes_strings_and_numbers(void **state)
{
    const char *s = "{\"s\":\"\\u00e9\\ud83d\\ude00\\n\",\"n\":-12.5,\"big\":1e400}";
    gl_err err;
    cJSON *v = gl_json_parse(s, strlen(s), NULL, &err);
    (void)state;
    assert_non_null(v);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(v, "s")->valuestring,
                        "\xc3\xa9\xf0\x9f\x98\x80\n");
    assert_true(cJSON_GetObjectItemCaseSensitive(v, "n")->valuedouble == -12.5);
    /* Outside raw members a number is a double: out of range reads as infinity, for range
     * checks to refuse. */
    assert_true(cJSON_GetObjectItemCaseSensitive(v, "big")->valuedouble > 1e308);
    cJSON_Delete(v);
}

/* n levels of [ ... ] around 1. */
static char *
nested(int n)
{
    char *s = malloc((size_t)n * 2 + 2);
    memset(s, '[', (size_t)n);
    s[n] = '1';
    memset(s + n + 1, ']', (size_t)n);
    s[2 * n + 1] = '\0';
    return s;
}

static void
test_json_parse_bounds_nesting_raw_members_included(void **state)
{
    char *ok = nested(GL_JSON_DEPTH_MAX), *deep = nested(GL_JSON_DEPTH_MAX + 1);
    char buf[512];
    gl_err err;
    cJSON *v = gl_json_parse(ok, strlen(ok), NULL, &err);
    (void)state;
    assert_non_null(v);
    cJSON_Delete(v);
    assert_null(gl_json_parse(deep, strlen(deep), NULL, &err));
    assert_non_null(strstr(err.msg, "nested deeper than 64"));
    /* The root object is one level: data may hold 63 more. */
    free(ok);
    ok = nested(GL_JSON_DEPTH_MAX - 1);
    snprintf(buf, sizeof(buf), "{\"data\":%s}", ok);
    assert_non_null(v = gl_json_parse(buf, strlen(buf), raw_data, &err));
    assert_string_equal(gl_json_raw(v, "data"), ok);
    cJSON_Delete(v);
    snprintf(buf, sizeof(buf), "{\"data\":[%s]}", ok);
    assert_null(gl_json_parse(buf, strlen(buf), raw_data, &err));
    free(ok);
    free(deep);
}

static void
test_json_parse_raw_keeps_a_whole_value(void **state)
{
    const char *s = " \n{\"a\":12345678901234567890,\"a\":\"\\u0000\"} \t";
    gl_err err;
    cJSON *v = gl_json_parse_raw(s, strlen(s), &err);
    (void)state;
    assert_non_null(v);
    assert_true(cJSON_IsRaw(v));
    assert_string_equal(v->valuestring, "{\"a\":12345678901234567890,\"a\":\"\\u0000\"}");
    cJSON_Delete(v);
    assert_null(gl_json_parse_raw("{\"a\":01}", 8, &err));
}

static void
test_json_strings_reads_each_slot_up_to_its_nul(void **state)
{
    char slots[3][8] = {"vip", "sub", ""};
    cJSON *a = gl_json_strings(slots[0], sizeof(slots[0]), 3);
    char *text = cJSON_PrintUnformatted(a);

    (void)state;
    assert_string_equal(text, "[\"vip\",\"sub\",\"\"]");
    free(text);
    cJSON_Delete(a);
    a = gl_json_strings(NULL, 8, 0); /* none: an empty array */
    text = cJSON_PrintUnformatted(a);
    assert_string_equal(text, "[]");
    free(text);
    cJSON_Delete(a);
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
        cmocka_unit_test(test_json_parse_keeps_raw_members_byte_for_byte),
        cmocka_unit_test(test_json_parse_refuses_nul_outside_raw_members_naming_the_key),
        cmocka_unit_test(test_json_parse_refuses_repeated_keys_even_when_escaped),
        cmocka_unit_test(test_json_parse_follows_the_rfc_grammar),
        cmocka_unit_test(test_json_parse_decodes_strings_and_numbers),
        cmocka_unit_test(test_json_parse_bounds_nesting_raw_members_included),
        cmocka_unit_test(test_json_parse_raw_keeps_a_whole_value),
        cmocka_unit_test(test_json_strings_reads_each_slot_up_to_its_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
