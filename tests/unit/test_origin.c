/* Unit tests for shared/origin.c: which strings are origins, their normal form, and the
 * comparison with a Host header that decides "same origin". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "shared/origin.h"

static void
expect_norm(const char *in, const char *want)
{
    char out[GL_ORIGIN_MAX];
    const char *problem = gl_origin_normalize(in, strlen(in), out);

    if (problem != NULL) fail_msg("\"%s\" refused: %s", in, problem);
    assert_string_equal(out, want);
}

static void
expect_bad(const char *in, const char *want)
{
    char out[GL_ORIGIN_MAX];
    const char *problem = gl_origin_normalize(in, strlen(in), out);

    if (problem == NULL) fail_msg("\"%s\" accepted as \"%s\"", in, out);
    if (strstr(problem, want) == NULL) fail_msg("\"%s\": \"%s\" lacks \"%s\"", in, problem, want);
}

static void
test_origin_normalizes_case_and_default_ports(void **state)
{
    (void)state;
    expect_norm("https://chat.example.com", "https://chat.example.com");
    expect_norm("HTTPS://Chat.Example.COM", "https://chat.example.com");
    expect_norm("http://localhost:8080", "http://localhost:8080");
    expect_norm("http://example.com:80", "http://example.com");
    expect_norm("https://example.com:443", "https://example.com");
    expect_norm("http://example.com:443", "http://example.com:443");
    expect_norm("https://example.com:80", "https://example.com:80");
    expect_norm("http://127.0.0.1:65535", "http://127.0.0.1:65535");
    expect_norm("http://[::1]:8080", "http://[::1]:8080");
    expect_norm("http://[FE80::1]", "http://[fe80::1]");
}

static void
test_origin_refuses_what_is_not_scheme_host_port(void **state)
{
    char big[300];

    (void)state;
    expect_bad("example.com", "expected http://host[:port] or https://host[:port]");
    expect_bad("ftp://example.com", "expected http://");
    expect_bad("null", "expected http://");
    expect_bad("*.example.com", "expected http://");
    expect_bad("https://", "the host is missing");
    expect_bad("https://example.com/", "no path, query or trailing slash");
    expect_bad("https://example.com/chat", "no path");
    expect_bad("https://example.com?x=1", "no path, query");
    expect_bad("https://example.com#x", "no path");
    expect_bad("https://user@example.com", "no user name");
    expect_bad("https://exa mple.com", "holds other than [a-z0-9.-]");
    expect_bad("https://*.example.com", "holds other than");
    expect_bad("https://example.com:", "port must be a number from 1 to 65535");
    expect_bad("https://example.com:0", "port must be");
    expect_bad("https://example.com:080", "port must be");
    expect_bad("https://example.com:65536", "port must be");
    expect_bad("https://example.com:8080/", "port must be");
    expect_bad("https://[::1", "bracketed IPv6");
    expect_bad("https://[]", "bracketed IPv6");
    expect_bad("https://[::g]", "bracketed IPv6");
    memcpy(big, "https://", 8);
    memset(big + 8, 'a', sizeof(big) - 9);
    big[sizeof(big) - 1] = '\0';
    expect_bad(big, "longer than 255 bytes");
}

static void
test_origin_is_host_compares_host_and_port(void **state)
{
    (void)state;
    assert_true(gl_origin_is_host("http://127.0.0.1:8080", "127.0.0.1:8080"));
    assert_true(gl_origin_is_host("https://chat.example.com", "Chat.Example.com"));
    assert_true(gl_origin_is_host("https://chat.example.com", "chat.example.com:443"));
    assert_true(gl_origin_is_host("http://chat.example.com", "chat.example.com:80"));
    assert_false(gl_origin_is_host("http://chat.example.com", "chat.example.com:443"));
    assert_false(gl_origin_is_host("http://127.0.0.1:8080", "127.0.0.1"));
    assert_false(gl_origin_is_host("http://127.0.0.1", "127.0.0.1:8080"));
    assert_false(gl_origin_is_host("https://evil.example", "chat.example.com"));
    assert_false(gl_origin_is_host("https://chat.example.com", "chat.example.com.evil"));
    assert_false(gl_origin_is_host("https://chat.example.com", ""));
    assert_false(gl_origin_is_host("https://chat.example.com", NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origin_normalizes_case_and_default_ports),
        cmocka_unit_test(test_origin_refuses_what_is_not_scheme_host_port),
        cmocka_unit_test(test_origin_is_host_compares_host_and_port),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
