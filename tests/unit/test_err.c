/* Unit tests for shared/err.c: the one table from GL_E* to HTTP status and JSON code name, and
 * gl_err_set's formatting, truncation and NULL handling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "shared/err.h"

static const struct {
    int code;
    int http;
    const char *name;
} documented[] = {
    {GL_EINVAL, 400, "bad_request"},   {GL_EAUTH, 401, "unauthorized"},
    {GL_EFORBIDDEN, 403, "forbidden"}, {GL_ENOTFOUND, 404, "not_found"},
    {GL_ECONFLICT, 409, "conflict"},   {GL_ETOOBIG, 413, "too_large"},
    {GL_ERATE, 429, "rate_limited"},   {GL_EUNAVAIL, 503, "unavailable"},
    {GL_ENOMEM, 503, "unavailable"},   {GL_EDB, 503, "unavailable"},
    {GL_EIPC, 503, "unavailable"},     {GL_EMETHOD, 405, "method_not_allowed"},
    {GL_EINTERNAL, 500, "internal"},
};

static void
test_err_every_code_maps_to_its_documented_status_and_name(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++) {
        assert_int_equal(gl_err_http_status(documented[i].code), documented[i].http);
        assert_string_equal(gl_err_code_name(documented[i].code), documented[i].name);
    }
}

static void
test_err_table_covers_every_code_up_to_count(void **state)
{
    (void)state;
    assert_int_equal(sizeof(documented) / sizeof(documented[0]), GL_ECOUNT - 1);
    for (int code = GL_EINVAL; code < GL_ECOUNT; code++)
        assert_int_equal(documented[code - 1].code, code);
}

static void
test_err_ok_is_200(void **state)
{
    (void)state;
    assert_int_equal(gl_err_http_status(GL_OK), 200);
    assert_string_equal(gl_err_code_name(GL_OK), "ok");
}

static void
test_err_out_of_range_codes_are_internal_500(void **state)
{
    static const int codes[] = {-1, GL_ECOUNT, GL_ECOUNT + 1, 1000, INT_MAX, INT_MIN};

    (void)state;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_int_equal(gl_err_http_status(codes[i]), 500);
        assert_string_equal(gl_err_code_name(codes[i]), "internal");
    }
}

static void
test_err_set_formats_and_returns_the_code(void **state)
{
    gl_err err;

    (void)state;
    gl_err_clear(&err);
    assert_int_equal(gl_err_set(&err, GL_EINVAL, "channel name longer than %d bytes", 255),
                     GL_EINVAL);
    assert_int_equal(err.code, GL_EINVAL);
    assert_string_equal(err.msg, "channel name longer than 255 bytes");
    assert_int_equal(gl_err_set(&err, GL_ENOTFOUND, "%s/%zu", "x", (size_t)7), GL_ENOTFOUND);
    assert_int_equal(err.code, GL_ENOTFOUND);
    assert_string_equal(err.msg, "x/7");
}

static void
test_err_set_truncates_at_the_message_limit(void **state)
{
    char longer[2 * GL_ERR_MSG_MAX];
    struct {
        gl_err err;
        char guard[16];
    } s;

    (void)state;
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memset(s.guard, 0x5a, sizeof(s.guard));
    gl_err_set(&s.err, GL_EINVAL, "%s", longer);
    assert_int_equal(strlen(s.err.msg), GL_ERR_MSG_MAX - 1);
    assert_memory_equal(s.err.msg, longer, GL_ERR_MSG_MAX - 1);
    for (size_t i = 0; i < sizeof(s.guard); i++)
        assert_int_equal((unsigned char)s.guard[i], 0x5a);

    // Exactly the limit minus the NUL fits whole.
    longer[GL_ERR_MSG_MAX - 1] = '\0';
    gl_err_set(&s.err, GL_EINVAL, "%s", longer);
    assert_string_equal(s.err.msg, longer);
}

static void
test_err_set_with_null_err_only_returns_the_code(void **state)
{
    (void)state;
    assert_int_equal(gl_err_set(NULL, GL_EFORBIDDEN, "no %s", "access"), GL_EFORBIDDEN);
    gl_err_clear(NULL);
}

static void
test_err_clear_resets_code_and_message(void **state)
{
    gl_err err;

    (void)state;
    gl_err_set(&err, GL_EDB, "boom");
    gl_err_clear(&err);
    assert_int_equal(err.code, GL_OK);
    assert_string_equal(err.msg, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_every_code_maps_to_its_documented_status_and_name),
        cmocka_unit_test(test_err_table_covers_every_code_up_to_count),
        cmocka_unit_test(test_err_ok_is_200),
        cmocka_unit_test(test_err_out_of_range_codes_are_internal_500),
        cmocka_unit_test(test_err_set_formats_and_returns_the_code),
        cmocka_unit_test(test_err_set_truncates_at_the_message_limit),
        cmocka_unit_test(test_err_set_with_null_err_only_returns_the_code),
        cmocka_unit_test(test_err_clear_resets_code_and_message),
    };

    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
