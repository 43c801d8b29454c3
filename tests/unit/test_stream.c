/* Unit tests for shared/sha256.c and shared/stream.c: the digest against FIPS 180-4 vectors
 * (including lengths around the padding boundary), secret comparison, stream name rules, the
 * stream <-> channel mapping, and the shape and randomness of new keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "shared/sha256.h"
#include "shared/stream.h"

static void
test_sha256_nist_vectors(void **state)
{
    char hex[GL_SHA256_HEX], big[1000001];
    (void)state;
    gl_sha256_hex("", hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    gl_sha256_hex("abc", hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 56 bytes: the length no longer fits in the first padded block. */
    gl_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    gl_sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                  "klmnopqrlmnopqrsmnopqrstnopqrstu",
                  hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    memset(big, 'a', 1000000);
    big[1000000] = '\0';
    gl_sha256_hex(big, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void
test_secret_equal(void **state)
{
    (void)state;
    assert_true(gl_secret_equal("s3cret", "s3cret"));
    assert_false(gl_secret_equal("s3cret", "s3creT"));
    assert_false(gl_secret_equal("s3cret", "s3cret "));
    assert_false(gl_secret_equal("s3cret", ""));
    assert_true(gl_secret_equal("", ""));
}

static void
test_stream_names(void **state)
{
    gl_err err;
    (void)state;
    assert_int_equal(gl_stream_name_check("alice", NULL), GL_OK);
    assert_int_equal(gl_stream_name_check("a_b-9", NULL), GL_OK);
    assert_int_equal(gl_stream_name_check("", &err), GL_EINVAL);
    assert_int_equal(gl_stream_name_check("Alice", &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "a-z"));
    assert_int_equal(gl_stream_name_check("a/b", NULL), GL_EINVAL);
    assert_int_equal(gl_stream_name_check("a b", NULL), GL_EINVAL);
    assert_int_equal(gl_stream_name_check("..", NULL), GL_EINVAL);
    assert_int_equal(gl_stream_name_check("sk_abc", &err), GL_EINVAL);
    assert_non_null(strstr(err.msg, "sk_"));
    assert_int_equal(gl_stream_name_check("012345678901234567890123456789012345678901234567", NULL),
                     GL_OK);
    assert_int_equal(
        gl_stream_name_check("0123456789012345678901234567890123456789012345678", &err), GL_EINVAL);
}

static void
test_stream_channels(void **state)
{
    char ch[GL_STREAM_CHANNEL_MAX];
    (void)state;
    gl_stream_channel("alice", ch);
    assert_string_equal(ch, "chat:stream_alice");
    assert_string_equal(gl_stream_of_channel("chat:stream_alice"), "alice");
    assert_null(gl_stream_of_channel("chat:alice"));
    assert_null(gl_stream_of_channel("chat:stream_"));
    assert_null(gl_stream_of_channel("chat:stream_Bad"));
    assert_null(gl_stream_of_channel("public:stream_alice"));
}

static void
test_stream_keys(void **state)
{
    char a[GL_STREAM_KEY_LEN + 1], b[GL_STREAM_KEY_LEN + 1], h[GL_SHA256_HEX];
    (void)state;
    assert_int_equal(gl_stream_key_new(a, NULL), GL_OK);
    assert_int_equal(gl_stream_key_new(b, NULL), GL_OK);
    assert_int_equal(strlen(a), 67);
    assert_memory_equal(a, "sk_", 3);
    assert_true(gl_stream_key_shape(a));
    assert_string_not_equal(a, b);
    assert_false(gl_stream_key_shape("alice"));
    assert_false(gl_stream_key_shape("sk_"));
    a[10] = 'G';
    assert_false(gl_stream_key_shape(a));
    gl_stream_key_hash(b, h);
    assert_int_equal(strlen(h), 64);
    assert_string_not_equal(h, b + 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_nist_vectors), cmocka_unit_test(test_secret_equal),
        cmocka_unit_test(test_stream_names),        cmocka_unit_test(test_stream_channels),
        cmocka_unit_test(test_stream_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
