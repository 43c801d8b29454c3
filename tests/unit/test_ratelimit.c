/* Unit tests for shared/ratelimit.c: a bucket allows its burst at once, then one token per
 * 1/per_second, says how long to wait, refills to the burst and no further, survives the
 * truncated clock wrapping, and burst 0 means no limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shared/ratelimit.h"

static void
test_the_burst_then_the_rate(void **state)
{
    gl_rate r = {3, 2.0f}; /* 3 at once, then one every 500 ms */
    gl_bucket b = {0};
    uint32_t retry = 0, t = 1000;

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_true(gl_bucket_take(&b, &r, t, &retry));
    assert_false(gl_bucket_take(&b, &r, t, &retry));
    assert_int_equal(retry, 500);
    assert_false(gl_bucket_take(&b, &r, t + 300, &retry));
    assert_int_equal(retry, 200); /* what is left of the 500 ms */
    assert_true(gl_bucket_take(&b, &r, t + 500, &retry));
    assert_false(gl_bucket_take(&b, &r, t + 500, NULL));
}

static void
test_it_refills_to_the_burst_and_no_further(void **state)
{
    gl_rate r = {2, 10.0f};
    gl_bucket b = {0};

    (void)state;
    assert_true(gl_bucket_full(&b, &r, 0)); /* a new bucket is full */
    assert_true(gl_bucket_take(&b, &r, 0, NULL));
    assert_false(gl_bucket_full(&b, &r, 50));
    assert_true(gl_bucket_full(&b, &r, 100));
    /* a long idle time gives the burst, not more */
    assert_true(gl_bucket_take(&b, &r, 100000, NULL));
    assert_true(gl_bucket_take(&b, &r, 100000, NULL));
    assert_false(gl_bucket_take(&b, &r, 100000, NULL));
}

static void
test_the_clock_may_wrap(void **state)
{
    gl_rate r = {1, 1.0f};
    gl_bucket b = {0};
    uint32_t retry;

    (void)state;
    assert_true(gl_bucket_take(&b, &r, UINT32_MAX - 100, NULL));
    assert_false(gl_bucket_take(&b, &r, UINT32_MAX - 50, &retry));
    assert_int_equal(retry, 950);
    assert_true(gl_bucket_take(&b, &r, 900, NULL)); /* 1001 ms later, past the wrap */
}

static void
test_burst_zero_is_no_limit_and_slow_rates_wait_long(void **state)
{
    gl_rate off = {0, 0.0f}, slow = {1, 0.1f};
    gl_bucket b = {0}, s = {0};
    uint32_t retry;

    (void)state;
    for (int i = 0; i < 100000; i++)
        assert_true(gl_bucket_take(&b, &off, 5, NULL));
    assert_true(gl_bucket_full(&b, &off, 5));
    assert_true(gl_bucket_take(&s, &slow, 0, NULL));
    assert_false(gl_bucket_take(&s, &slow, 0, &retry));
    assert_int_equal(retry, 10000);
}

static void
test_a_table_keeps_one_bucket_per_scope_and_user_and_forgets_full_ones(void **state)
{
    gl_rate r = {2, 1.0f};
    gl_bucket_table t = {0};

    (void)state;
    assert_true(gl_bucket_table_take(&t, "chat", "u1", &r, 0, NULL));
    assert_true(gl_bucket_table_take(&t, "chat", "u1", &r, 0, NULL));
    assert_false(gl_bucket_table_take(&t, "chat", "u1", &r, 0, NULL));
    assert_true(gl_bucket_table_take(&t, "chat", "u2", &r, 0, NULL)); /* another user */
    assert_true(gl_bucket_table_take(&t, "", "u1", &r, 0, NULL));     /* another scope */
    assert_int_equal(gl_bucket_table_len(&t), 3);
    /* thousands of takes later the idle, refilled buckets are gone; a busy one stays */
    for (uint32_t i = 0; i < 5000; i++)
        gl_bucket_table_take(&t, "chat", "busy", &r, 10000, NULL);
    assert_int_equal(gl_bucket_table_len(&t), 1);
    assert_true(gl_bucket_table_take(&t, "chat", "u1", &r, 10000, NULL)); /* a new, full one */
    gl_bucket_table_free(&t);
    assert_int_equal(gl_bucket_table_len(&t), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_burst_then_the_rate),
        cmocka_unit_test(test_a_table_keeps_one_bucket_per_scope_and_user_and_forgets_full_ones),
        cmocka_unit_test(test_it_refills_to_the_burst_and_no_further),
        cmocka_unit_test(test_the_clock_may_wrap),
        cmocka_unit_test(test_burst_zero_is_no_limit_and_slow_rates_wait_long),
    };

    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
