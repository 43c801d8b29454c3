/* Unit tests for pushd/busmsg.c: what one pushd node sends another over NATS survives its
 * header's printing and parsing, and the parser refuses anything else (the bytes come from
 * the network). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "pushd/busmsg.h"

static size_t
build(char kind, int64_t id, int64_t prev, const char *payload, char *buf, size_t cap)
{
    pd_busmsg m = {.kind = kind, .id = id, .prev_id = prev};
    size_t n;

    strcpy(m.node, "host-1:4242");
    strcpy(m.channel, "chat:stream_abc");
    n = pd_busmsg_header(&m, buf, cap);
    assert_true(n > 0);
    memcpy(buf + n, payload, strlen(payload));
    return n + strlen(payload);
}

static void
test_busmsg_round_trips_a_message_an_event_and_a_reload(void **state)
{
    char buf[PD_BUS_HEADER_MAX + 64];
    pd_busmsg m;
    size_t n;

    (void)state;
    n = build('m', 42, 41, "{\"type\":\"message\"}", buf, sizeof(buf));
    assert_int_equal(pd_busmsg_parse(buf, n, &m), 0);
    assert_int_equal(m.kind, 'm');
    assert_string_equal(m.node, "host-1:4242");
    assert_string_equal(m.channel, "chat:stream_abc");
    assert_int_equal(m.id, 42);
    assert_int_equal(m.prev_id, 41);
    assert_int_equal(m.payload_len, strlen("{\"type\":\"message\"}"));
    assert_memory_equal(m.payload, "{\"type\":\"message\"}", m.payload_len);
    n = build('e', 0, 0, "{}", buf, sizeof(buf));
    assert_int_equal(pd_busmsg_parse(buf, n, &m), 0);
    assert_int_equal(m.kind, 'e');
    n = build('q', 7, 0, "", buf, sizeof(buf));
    assert_int_equal(pd_busmsg_parse(buf, n, &m), 0);
    assert_int_equal(m.kind, 'q');
    assert_int_equal(m.id, 7);
    n = build('a', 7, 0, "{\"users\":[],\"anonymous\":0}", buf, sizeof(buf));
    assert_int_equal(pd_busmsg_parse(buf, n, &m), 0);
    assert_int_equal(m.kind, 'a');
    n = build('r', 0, 0, "", buf, sizeof(buf));
    assert_int_equal(pd_busmsg_parse(buf, n, &m), 0);
    assert_int_equal(m.kind, 'r');
    assert_int_equal(m.payload_len, 0);
    {
        pd_busmsg h = {.kind = 'h', .id = 19000, .prev_id = 250};
        strcpy(h.node, "n2");
        strcpy(h.channel, "-");
        n = pd_busmsg_header(&h, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(pd_busmsg_parse(buf, n, &m), 0);
        assert_int_equal(m.kind, 'h');
        assert_int_equal(m.id, 19000);    /* connections */
        assert_int_equal(m.prev_id, 250); /* channels */
    }
}

static void
test_busmsg_refuses_what_no_node_sends(void **state)
{
    static const char *const bad[] = {
        "",
        "GLB1 ",
        "GLB2 m n 2 1 chat:a\n{}",
        "GLB1 x n 2 1 chat:a\n{}",                    /* unknown kind */
        "GLB1 m  2 1 chat:a\n{}",                     /* empty node */
        "GLB1 m n 2 2 chat:a\n{}",                    /* prev not below id */
        "GLB1 m n 0 0 chat:a\n{}",                    /* a message without an id */
        "GLB1 m n +2 1 chat:a\n{}",                   /* a sign */
        "GLB1 m n 02 1 chat:a\n{}",                   /* a leading zero */
        "GLB1 m n 2 -1 chat:a\n{}",                   /* negative */
        "GLB1 m n 99999999999999999999 1 chat:a\n{}", /* past int64 */
        "GLB1 e n 5 0 chat:a\n{}",                    /* an event with an id */
        "GLB1 m n 2 1 chat:a b\n{}",                  /* a blank in the channel */
        "GLB1 m n 2 1 chat:\n{}",                     /* an invalid channel */
        "GLB1 m n 2 1 chat:a",                        /* no newline */
        "GLB1 r n 0 0 chat:a\n{}",                    /* a reload with a payload */
        "GLB1 m n 2 1 chat:a\n",                      /* a message without one */
        "GLB1 h n 2 1 -\n{}",                         /* a heartbeat with a payload */
        "GLB1 q n 0 0 chat:a\n",                      /* a query without its number */
        "GLB1 q n 3 0 chat:a\n{}",                    /* a query with a payload */
        "GLB1 a n 3 0 chat:a\n",                      /* an answer without one */
        "GLB1 a n 3 2 chat:a\n{}",                    /* an answer with a prev_id */
    };
    pd_busmsg m;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(pd_busmsg_parse(bad[i], strlen(bad[i]), &m), -1);
    /* a NUL inside the node or the channel */
    {
        static const char nul_node[] = "GLB1 h n\0x 1 1 -\n",
                          nul_chan[] = "GLB1 m n 2 1 chat:a\0b\n{}";
        static const char fine[] = "GLB1 h nx 1 1 -\n";
        assert_int_equal(pd_busmsg_parse(fine, sizeof(fine) - 1, &m), 0);
        assert_int_equal(pd_busmsg_parse(nul_node, sizeof(nul_node) - 1, &m), -1);
        assert_int_equal(pd_busmsg_parse(nul_chan, sizeof(nul_chan) - 1, &m), -1);
    }
}

static void
test_busmsg_header_refuses_fields_out_of_bounds(void **state)
{
    pd_busmsg m = {.kind = 'm', .id = 2, .prev_id = 1};
    char buf[PD_BUS_HEADER_MAX];

    (void)state;
    strcpy(m.channel, "chat:a");
    strcpy(m.node, "has blank");
    assert_int_equal(pd_busmsg_header(&m, buf, sizeof(buf)), 0);
    strcpy(m.node, "n");
    strcpy(m.channel, "no channel");
    assert_int_equal(pd_busmsg_header(&m, buf, sizeof(buf)), 0);
    strcpy(m.channel, "chat:a");
    assert_true(pd_busmsg_header(&m, buf, sizeof(buf)) > 0);
    assert_int_equal(pd_busmsg_header(&m, buf, 8), 0); /* does not fit */
}

static void
test_bus_subject_turns_dots_into_tildes(void **state)
{
    char s[64];

    (void)state;
    assert_int_equal(pd_bus_subject("golive", "chat:a.b.c", s, sizeof(s)),
                     strlen("golive.ch.chat:a~b~c"));
    assert_string_equal(s, "golive.ch.chat:a~b~c");
    assert_int_equal(pd_bus_subject("golive", "chat:abcdefghijklmnopqrstuvwxyz", s, 20), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busmsg_round_trips_a_message_an_event_and_a_reload),
        cmocka_unit_test(test_busmsg_refuses_what_no_node_sends),
        cmocka_unit_test(test_busmsg_header_refuses_fields_out_of_bounds),
        cmocka_unit_test(test_bus_subject_turns_dots_into_tildes),
    };

    return cmocka_run_group_tests_name("busmsg", tests, NULL, NULL);
}
