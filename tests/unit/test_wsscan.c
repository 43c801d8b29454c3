/* Unit tests for pushd/wsscan.c: each RFC 6455 rule is judged on the header alone, in whatever
 * pieces the bytes arrive, and after a fault the scanner still frames what follows so that the
 * client's Close is seen. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pushd/wsscan.h"

#define MAX 4096

/* A client frame header (mask key 0) announcing len payload bytes; returns its size. */
static size_t
header(uint8_t *h, uint8_t b0, uint64_t len, int masked)
{
    size_t n = 2;
    uint8_t m = masked ? 0x80 : 0;

    h[0] = b0;
    if (len < 126) {
        h[1] = (uint8_t)(m | len);
    } else if (len < 65536) {
        h[1] = m | 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        n = 4;
    } else {
        h[1] = m | 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (masked) {
        memset(h + n, 0, 4);
        n += 4;
    }
    return n;
}

/* Feed p one byte at a time; the verdict of the whole. */
static int
feed_bytewise(pd_wsscan *s, const uint8_t *p, size_t n, const char **why)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        int r = pd_wsscan_feed(s, p + i, 1, MAX, why);
        if (r != 0) v = r;
    }
    return v;
}

/* The verdict on buf, fed whole and fed bytewise, must agree; returns it. */
static int
verdict(const uint8_t *buf, size_t n, const char **why)
{
    pd_wsscan a = {0}, b = {0};
    const char *wa = NULL, *wb = NULL;
    int va = pd_wsscan_feed(&a, buf, n, MAX, &wa), vb = feed_bytewise(&b, buf, n, &wb);

    assert_int_equal(va, vb);
    if (va != 0) assert_string_equal(wa, wb);
    *why = wa;
    return va;
}

static void
test_masked_frames_of_every_length_form_pass(void **state)
{
    uint8_t buf[64 + 200 + 1200];
    size_t n = 0;
    const char *why;

    (void)state;
    n += header(buf + n, 0x81, 5, 1);
    memcpy(buf + n, "hello", 5), n += 5;
    n += header(buf + n, 0x89, 0, 1);   /* ping, empty */
    n += header(buf + n, 0x01, 200, 1); /* text, not final, 16-bit length */
    memset(buf + n, 'a', 200), n += 200;
    n += header(buf + n, 0x80, 1000, 1); /* final continuation */
    memset(buf + n, 'b', 1000), n += 1000;
    n += header(buf + n, 0x88, 2, 1);
    buf[n++] = 0x03, buf[n++] = 0xe8;
    assert_int_equal(verdict(buf, n, &why), 0);
}

static void
test_an_unmasked_frame_is_a_protocol_error(void **state)
{
    uint8_t buf[16];
    const char *why;
    size_t n = header(buf, 0x81, 3, 0);

    (void)state;
    memcpy(buf + n, "abc", 3);
    assert_int_equal(verdict(buf, n + 3, &why), PD_WS_PROTOCOL_ERROR);
    assert_string_equal(why, "client frames must be masked");
}

static void
test_close_payloads_of_one_byte_and_long_controls_are_protocol_errors(void **state)
{
    uint8_t buf[16 + 126];
    const char *why;
    size_t n;

    (void)state;
    n = header(buf, 0x88, 1, 1);
    buf[n] = 3;
    assert_int_equal(verdict(buf, n + 1, &why), PD_WS_PROTOCOL_ERROR);
    assert_string_equal(why, "Close payload of 1 byte");
    {
        pd_wsscan s = {0}; /* the faulty frame was the client's Close: it has closed */
        assert_int_equal(pd_wsscan_feed(&s, buf, n + 1, MAX, &why), PD_WS_PROTOCOL_ERROR);
        assert_int_equal(s.closed, 1);
    }

    n = header(buf, 0x88, 0, 1); /* an empty Close is fine */
    assert_int_equal(verdict(buf, n, &why), 0);

    n = header(buf, 0x89, 126, 1);
    memset(buf + n, 'p', 126);
    assert_int_equal(verdict(buf, n + 126, &why), PD_WS_PROTOCOL_ERROR);
    assert_string_equal(why, "control frame payload over 125 bytes");

    n = header(buf, 0x8a, 125, 1); /* the largest pong */
    memset(buf + n, 'p', 125);
    assert_int_equal(verdict(buf, n + 125, &why), 0);
}

static void
test_a_header_over_the_limit_is_too_big_before_its_payload(void **state)
{
    uint8_t buf[16];
    const char *why;
    uint64_t lens[] = {MAX + 1, 1u << 20, (uint64_t)1 << 40};

    (void)state;
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = header(buf, 0x81, lens[i], 1);
        assert_int_equal(verdict(buf, n, &why), PD_WS_TOO_BIG);
        assert_string_equal(why, "message too big");
    }
    size_t n = header(buf, 0x81, MAX, 1); /* exactly the limit is fine */
    assert_int_equal(verdict(buf, n, &why), 0);
}

static void
test_fragments_add_up_and_a_new_message_starts_from_zero(void **state)
{
    uint8_t buf[3 * 16];
    const char *why;
    size_t n = 0;
    pd_wsscan s = {0};
    static uint8_t payload[MAX];

    (void)state;
    /* two messages of MAX each, the first in two fragments: fine */
    n = header(buf, 0x01, MAX / 2, 1);
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), 0);
    assert_int_equal(pd_wsscan_feed(&s, payload, MAX / 2, MAX, &why), 0);
    n = header(buf, 0x80, MAX / 2, 1);
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), 0);
    assert_int_equal(pd_wsscan_feed(&s, payload, MAX / 2, MAX, &why), 0);
    n = header(buf, 0x81, MAX, 1);
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), 0);
    assert_int_equal(pd_wsscan_feed(&s, payload, MAX, MAX, &why), 0);
    /* a control frame between fragments does not reset the count */
    n = header(buf, 0x01, MAX / 2, 1);
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), 0);
    assert_int_equal(pd_wsscan_feed(&s, payload, MAX / 2, MAX, &why), 0);
    n = header(buf, 0x89, 0, 1);
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), 0);
    n = header(buf, 0x80, MAX / 2 + 1, 1);
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), PD_WS_TOO_BIG);
}

static void
test_a_64_bit_length_with_its_top_bit_set_is_a_protocol_error(void **state)
{
    uint8_t buf[16] = {0x81, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const char *why;

    (void)state;
    assert_int_equal(verdict(buf, 14, &why), PD_WS_PROTOCOL_ERROR);
    assert_string_equal(why, "frame length has its top bit set");
}

static void
test_after_a_fault_frames_are_followed_to_the_clients_close(void **state)
{
    uint8_t buf[64];
    const char *why = NULL;
    size_t n = 0;
    pd_wsscan s = {0};

    (void)state;
    n += header(buf + n, 0x81, 3, 0); /* the fault: unmasked */
    memcpy(buf + n, "abc", 3), n += 3;
    n += header(buf + n, 0x81, 3, 1); /* valid, but after the fault: not judged */
    memcpy(buf + n, "def", 3), n += 3;
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), PD_WS_PROTOCOL_ERROR);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.closed, 0);
    n = header(buf, 0x81, 1, 0); /* a second fault: no second verdict */
    buf[n++] = 'x';
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), 0);
    n = header(buf, 0x88, 2, 1);
    buf[n++] = 0x03, buf[n++] = 0xea;
    assert_int_equal(pd_wsscan_feed(&s, buf, n, MAX, &why), 0);
    assert_int_equal(s.closed, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masked_frames_of_every_length_form_pass),
        cmocka_unit_test(test_an_unmasked_frame_is_a_protocol_error),
        cmocka_unit_test(test_close_payloads_of_one_byte_and_long_controls_are_protocol_errors),
        cmocka_unit_test(test_a_header_over_the_limit_is_too_big_before_its_payload),
        cmocka_unit_test(test_fragments_add_up_and_a_new_message_starts_from_zero),
        cmocka_unit_test(test_a_64_bit_length_with_its_top_bit_set_is_a_protocol_error),
        cmocka_unit_test(test_after_a_fault_frames_are_followed_to_the_clients_close),
    };

    return cmocka_run_group_tests_name("wsscan", tests, NULL, NULL);
}
