/* Unit tests for shared/ratelimit.c: a bucket allows its burst at once, then one token per
 * 1/per_second, says how long to wait, refills to the burst and no further, survives the
 * truncated clock wrapping, and burst 0 means no limit. The per-IP connection counts keep an
 * entry only while its count is above zero; the refusal counts print as one JSON object. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shared/ratelimit.h"

#include <stdlib.h>

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

static void
test_ip_counts_count_per_ip_and_forget_an_ip_at_zero(void **state)
{
    gl_ip_counts t = {0};
    gl_ip_entry *a1, *a2, *b1;
    uint32_t before = 99;

    (void)state;
    assert_int_equal(gl_ip_counts_get(&t, "10.0.0.1"), 0);
    assert_non_null(a1 = gl_ip_counts_add(&t, "10.0.0.1", &before));
    assert_int_equal(before, 0);
    assert_non_null(a2 = gl_ip_counts_add(&t, "10.0.0.1", &before));
    assert_int_equal(before, 1);
    assert_ptr_equal(a1, a2); /* one entry per IP */
    assert_non_null(b1 = gl_ip_counts_add(&t, "2001:db8::1", NULL));
    assert_int_equal(gl_ip_counts_get(&t, "10.0.0.1"), 2);
    assert_int_equal(gl_ip_counts_get(&t, "2001:db8::1"), 1);
    assert_int_equal(t.total, 3);
    assert_int_equal(t.ips.len, 2);

    gl_ip_counts_release(&t, a1);
    assert_int_equal(gl_ip_counts_get(&t, "10.0.0.1"), 1);
    gl_ip_counts_release(&t, b1);
    assert_int_equal(gl_ip_counts_get(&t, "2001:db8::1"), 0);
    assert_int_equal(t.ips.len, 1); /* freed at zero */
    gl_ip_counts_release(&t, NULL); /* a no-op */
    gl_ip_counts_release(&t, a2);
    assert_int_equal(t.ips.len, 0);
    assert_int_equal(t.total, 0);

    /* a table freed with counts still held frees every entry (ASan checks the leak) */
    assert_non_null(gl_ip_counts_add(&t, "10.0.0.2", NULL));
    assert_non_null(gl_ip_counts_add(&t, "10.0.0.3", NULL));
    gl_ip_counts_free(&t);
    assert_int_equal(t.ips.len, 0);
    assert_int_equal(t.total, 0);
}

static void
test_limit_counts_print_as_one_object(void **state)
{
    gl_limit_counts n = {.publish_refused = 1,
                         .commands_refused = 2,
                         .connections_refused = 3,
                         .anonymous_refused = 4};
    cJSON *o;
    char *s;

    (void)state;
    n.flood_closes = 9007199254740993ull; /* past a double's integers: printed exactly */
    n.modes_refused[GL_MODE_SLOW] = 6;
    n.modes_refused[GL_MODE_BLOCKED_TERMS] = 8;
    n.held = 10;
    assert_non_null(o = gl_limit_counts_json(&n, 7));
    assert_non_null(s = cJSON_PrintUnformatted(o));
    assert_string_equal(s, "{\"publish_refused\":1,\"commands_refused\":2,"
                           "\"connections_refused\":3,\"anonymous_refused\":4,"
                           "\"flood_closes\":9007199254740993,\"chat_modes_refused\":{"
                           "\"slow_mode\":6,\"members_only\":0,\"unique_chat\":0,"
                           "\"message_length\":0,\"blocked_terms\":8},\"held_for_review\":10,"
                           "\"anonymous_open\":7}");
    cJSON_free(s);
    cJSON_Delete(o);
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
        cmocka_unit_test(test_ip_counts_count_per_ip_and_forget_an_ip_at_zero),
        cmocka_unit_test(test_limit_counts_print_as_one_object),
    };

    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
