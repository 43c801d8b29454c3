/* Unit tests for shared/event.c: the message and error events clients receive (docs/protocol.md),
 * checked by parsing the printed text back with cJSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "shared/event.h"

#define DATA "{\"content\":\"hi \\u00e9\",\"n\":[1,2.5,{\"x\":null}],\"ok\":true}"

/* Print obj (taking it) and parse the text back. */
static cJSON *
reparse(cJSON *obj, char **text_out)
{
    char *text = gl_event_print_take(obj);
    cJSON *back;

    assert_non_null(text);
    back = cJSON_Parse(text);
    if (!cJSON_IsObject(back)) fail_msg("printed event is not a JSON object: %s", text);
    *text_out = text;
    return back;
}

static const cJSON *
get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void
expect_str(const cJSON *o, const char *key, const char *want)
{
    const cJSON *v = get(o, key);

    if (!cJSON_IsString(v)) fail_msg("\"%s\" is not a string", key);
    assert_string_equal(v->valuestring, want);
}

static gl_msg
make_msg(const char *user_id, const char *username)
{
    gl_msg m;

    memset(&m, 0, sizeof(m));
    m.id = 123456789012;
    m.channel = "chat:stream_abc";
    m.user_id = user_id;
    m.username = username;
    m.data = DATA;
    strcpy(m.created_at, "2026-11-24T10:30:00.123Z");
    return m;
}

static void
test_event_message_of_a_user_has_the_documented_shape(void **state)
{
    gl_msg m = make_msg("u1", "alice");
    cJSON *back, *want;
    const cJSON *user;
    char *text;

    (void)state;
    back = reparse(gl_event_message(&m), &text);
    expect_str(back, "type", "message");
    expect_str(back, "channel", "chat:stream_abc");
    assert_true(cJSON_IsNumber(get(back, "id")));
    assert_true(get(back, "id")->valuedouble == 123456789012.0);
    user = get(back, "user");
    assert_true(cJSON_IsObject(user));
    expect_str(user, "id", "u1");
    expect_str(user, "username", "alice");
    assert_int_equal(cJSON_GetArraySize(user), 2);
    expect_str(back, "created_at", "2026-11-24T10:30:00.123Z");
    assert_null(get(back, "system"));
    assert_int_equal(cJSON_GetArraySize(back), 6);

    want = cJSON_Parse(DATA);
    assert_true(cJSON_Compare(get(back, "data"), want, true));
    cJSON_Delete(want);
    cJSON_Delete(back);
    cJSON_free(text);
}

static void
test_event_message_embeds_data_raw_without_reprinting(void **state)
{
    gl_msg m = make_msg("u1", "alice");
    cJSON *back;
    char *text;

    (void)state;
    back = reparse(gl_event_message(&m), &text);
    // cJSON would print 2.5 and \u00e9 differently if it had parsed the data again.
    if (strstr(text, "\"data\":" DATA ",") == NULL) fail_msg("data is not raw in %s", text);
    cJSON_Delete(back);
    cJSON_free(text);
}

static void
test_event_message_without_username_shows_the_user_id(void **state)
{
    gl_msg m = make_msg("u1", NULL);
    cJSON *back;
    char *text;

    (void)state;
    back = reparse(gl_event_message(&m), &text);
    expect_str(get(back, "user"), "id", "u1");
    expect_str(get(back, "user"), "username", "u1");
    cJSON_Delete(back);
    cJSON_free(text);
}

static void
test_event_message_of_the_system_has_null_user_and_system_true(void **state)
{
    gl_msg m = make_msg(NULL, NULL);
    cJSON *back, *want;
    char *text;

    (void)state;
    back = reparse(gl_event_message(&m), &text);
    expect_str(back, "type", "message");
    assert_true(cJSON_IsNull(get(back, "user")));
    assert_true(cJSON_IsTrue(get(back, "system")));
    expect_str(back, "created_at", "2026-11-24T10:30:00.123Z");
    assert_int_equal(cJSON_GetArraySize(back), 7);
    want = cJSON_Parse(DATA);
    assert_true(cJSON_Compare(get(back, "data"), want, true));
    cJSON_Delete(want);
    cJSON_Delete(back);
    cJSON_free(text);
}

static void
test_event_error_with_id_copies_the_id(void **state)
{
    cJSON *id = cJSON_CreateString("req-7"), *num = cJSON_CreateNumber(7);
    char *text;

    (void)state;
    text = gl_event_print_take(gl_event_error(id, NULL, GL_EFORBIDDEN, "you are banned"));
    assert_string_equal(text, "{\"type\":\"error\",\"id\":\"req-7\",\"error\":{\"code\":"
                              "\"forbidden\",\"message\":\"you are banned\"}}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_error(num, NULL, GL_EINVAL, "bad"));
    assert_string_equal(text, "{\"type\":\"error\",\"id\":7,\"error\":{\"code\":"
                              "\"bad_request\",\"message\":\"bad\"}}");
    cJSON_free(text);
    // The caller's id is borrowed, not taken.
    assert_string_equal(id->valuestring, "req-7");
    cJSON_Delete(id);
    cJSON_Delete(num);
}

static void
test_event_error_without_id_has_no_id_key(void **state)
{
    cJSON *back;
    char *text;

    (void)state;
    back = reparse(gl_event_error(NULL, NULL, GL_ERATE, "slow down \"now\""), &text);
    assert_null(get(back, "id"));
    assert_null(get(back, "channel"));
    expect_str(back, "type", "error");
    expect_str(get(back, "error"), "code", "rate_limited");
    expect_str(get(back, "error"), "message", "slow down \"now\"");
    assert_int_equal(cJSON_GetArraySize(back), 2);
    cJSON_Delete(back);
    cJSON_free(text);
}

static void
test_event_error_of_an_unknown_code_is_internal(void **state)
{
    cJSON *back;
    char *text;

    (void)state;
    back = reparse(gl_event_error(NULL, NULL, 999, "x"), &text);
    expect_str(get(back, "error"), "code", "internal");
    cJSON_Delete(back);
    cJSON_free(text);
}

static void
test_event_new_has_type_and_optional_channel(void **state)
{
    char *text;

    (void)state;
    text = gl_event_print_take(gl_event_new("presence", "lobby"));
    assert_string_equal(text, "{\"type\":\"presence\",\"channel\":\"lobby\"}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_new("pong", NULL));
    assert_string_equal(text, "{\"type\":\"pong\"}");
    cJSON_free(text);
    assert_null(gl_event_print_take(NULL));
}

static void
test_event_http_error_is_the_rest_envelope(void **state)
{
    char *text;

    (void)state;
    text = gl_event_print_take(gl_event_http_error(GL_EFORBIDDEN, "origin not allowed"));
    assert_string_equal(text, "{\"error\":{\"code\":\"forbidden\",\"message\":"
                              "\"origin not allowed\"}}");
    cJSON_free(text);
}

/* Each small event's exact bytes, as docs/protocol.md shows them. */
static void
test_small_events_have_their_documented_bytes(void **state)
{
    char *text;

    (void)state;
    text = gl_event_print_take(gl_event_presence("join", "chat:a", "u1", "Alice"));
    assert_string_equal(text, "{\"type\":\"join\",\"channel\":\"chat:a\",\"user\":"
                              "{\"id\":\"u1\",\"username\":\"Alice\"}}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_unsubscribed("chat:a", "banned"));
    assert_string_equal(text,
                        "{\"type\":\"unsubscribed\",\"channel\":\"chat:a\",\"reason\":\"banned\"}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_user_action("user_banned", "chat:a", "u2", "spam", NULL));
    assert_string_equal(text, "{\"type\":\"user_banned\",\"channel\":\"chat:a\",\"user_id\":"
                              "\"u2\",\"reason\":\"spam\"}");
    cJSON_free(text);
    text = gl_event_print_take(
        gl_event_user_action("user_timeout", "chat:a", "u2", NULL, "2026-11-24T10:35:00.000Z"));
    assert_string_equal(text, "{\"type\":\"user_timeout\",\"channel\":\"chat:a\",\"user_id\":"
                              "\"u2\",\"until\":\"2026-11-24T10:35:00.000Z\"}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_user_action("user_unbanned", "chat:a", "u2", NULL, NULL));
    assert_string_equal(text,
                        "{\"type\":\"user_unbanned\",\"channel\":\"chat:a\",\"user_id\":\"u2\"}");
    cJSON_free(text);
    {
        gl_msg m = make_msg("u1", "Alice");
        m.id = 9007199254740991; /* ids print exactly, not with cJSON's 15 digits */
        text = gl_event_print_take(gl_event_message(&m));
        assert_non_null(strstr(text, "\"id\":9007199254740991,"));
        cJSON_free(text);
    }
    text = gl_event_print_take(
        gl_event_stream_announcement(true, "abc", "u1", "Alice", "/hls/abc.m3u8"));
    assert_string_equal(text, "{\"type\":\"stream_started\",\"text\":\"Alice is live\",\"stream\":"
                              "\"abc\",\"user_id\":\"u1\",\"username\":\"Alice\",\"hls_url\":"
                              "\"/hls/abc.m3u8\"}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_stream_announcement(false, "abc", "u1", "Alice", "/h"));
    assert_non_null(strstr(text, "\"type\":\"stream_stopped\",\"text\":\"Alice's stream ended\""));
    cJSON_free(text);
    text = gl_event_print_take(gl_event_message_deleted("chat:a", 9007199254740991));
    assert_string_equal(text, "{\"type\":\"message_deleted\",\"channel\":\"chat:a\","
                              "\"message_id\":9007199254740991}");
    cJSON_free(text);
}

/* The moderation events of the chat modes, the pin, clear chat and the review queue. */
static void
test_chat_moderation_events_have_their_documented_bytes(void **state)
{
    gl_modes m;
    gl_msg msg = make_msg("u1", "Alice");
    gl_held_row row = {17,
                       "u2",
                       NULL,
                       "{\"content\":\"buy  followers\"}",
                       "buy*followers",
                       "2026-11-24T10:30:00.123Z",
                       "pending"};
    char *text;

    (void)state;
    gl_modes_resolve(&m, NULL, NULL, NULL);
    m.slow_mode = 10;
    m.hold_blocked = 1;
    text = gl_event_print_take(gl_event_chat_modes("chat:a", &m));
    assert_string_equal(text, "{\"type\":\"chat_modes\",\"channel\":\"chat:a\",\"chat_modes\":{"
                              "\"slow_mode\":10,\"members_only\":false,\"unique_chat\":false,"
                              "\"max_message_length\":0,\"max_message_bytes\":0,"
                              "\"blocked_terms_action\":\"hold\"}}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_chat_cleared("chat:a", 9007199254740991));
    assert_string_equal(text, "{\"type\":\"chat_cleared\",\"channel\":\"chat:a\","
                              "\"through_id\":9007199254740991}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_pin("chat:a", &msg));
    assert_non_null(strstr(text,
                           "{\"type\":\"message_pinned\",\"channel\":\"chat:a\","
                           "\"message\":{\"type\":\"message\",\"channel\":\"chat:stream_abc\","
                           "\"id\":123456789012,"));
    cJSON_free(text);
    text = gl_event_print_take(gl_event_pin("chat:a", NULL));
    assert_string_equal(text, "{\"type\":\"message_unpinned\",\"channel\":\"chat:a\"}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_message_held("chat:a", &row));
    assert_string_equal(text,
                        "{\"type\":\"message_held\",\"channel\":\"chat:a\",\"held\":{"
                        "\"id\":17,\"user_id\":\"u2\",\"username\":null,\"data\":"
                        "{\"content\":\"buy  followers\"},\"term\":\"buy*followers\","
                        "\"created_at\":\"2026-11-24T10:30:00.123Z\",\"status\":\"pending\"}}");
    cJSON_free(text);
    text = gl_event_print_take(gl_event_held_decided("chat:a", 17, "denied"));
    assert_string_equal(text, "{\"type\":\"held_decided\",\"channel\":\"chat:a\","
                              "\"held_id\":17,\"status\":\"denied\"}");
    cJSON_free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_events_have_their_documented_bytes),
        cmocka_unit_test(test_chat_moderation_events_have_their_documented_bytes),
        cmocka_unit_test(test_event_message_of_a_user_has_the_documented_shape),
        cmocka_unit_test(test_event_message_embeds_data_raw_without_reprinting),
        cmocka_unit_test(test_event_message_without_username_shows_the_user_id),
        cmocka_unit_test(test_event_message_of_the_system_has_null_user_and_system_true),
        cmocka_unit_test(test_event_error_with_id_copies_the_id),
        cmocka_unit_test(test_event_error_without_id_has_no_id_key),
        cmocka_unit_test(test_event_error_of_an_unknown_code_is_internal),
        cmocka_unit_test(test_event_new_has_type_and_optional_channel),
        cmocka_unit_test(test_event_http_error_is_the_rest_envelope),
    };

    return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
