/* Unit tests for shared/wire.c: requests and replies built here survive the trip through their
 * printed form and the parser, and the parsers refuse what docs/wire.md does not allow. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "shared/event.h"
#include "shared/json.h"
#include "shared/wire.h"

/* Print obj unformatted, delete it, and return the text (cJSON_free). */
static char *
print_take(cJSON *obj)
{
    char *s;

    assert_non_null(obj);
    s = cJSON_PrintUnformatted(obj);
    assert_non_null(s);
    cJSON_Delete(obj);
    return s;
}

/* Parsing text as a request fails with code and a message containing want. */
static void
expect_bad_request(const char *text, int code, const char *want)
{
    cJSON *root = NULL;
    const char *op = NULL, *channel = NULL;
    gl_err err;

    gl_err_clear(&err);
    assert_int_equal(gl_wire_parse_request(text, strlen(text), &root, &op, &channel, &err), code);
    assert_int_equal(err.code, code);
    assert_null(root);
    if (strstr(err.msg, want) == NULL) fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

/* Parsing text as a reply fails with code; the message is want when not NULL. */
static void
expect_reply_error(const char *text, size_t len, int code, const char *want)
{
    cJSON *root = NULL;
    const cJSON *data = NULL;
    gl_err err;

    gl_err_clear(&err);
    assert_int_equal(gl_wire_parse_reply(text, len, &root, &data, &err), code);
    assert_int_equal(err.code, code);
    assert_null(root);
    if (want != NULL) assert_string_equal(err.msg, want);
}

/* A publish carries the message's id beside its event, and the event comes out of the parser as
 * its exact text, data bytes included (numbers beyond a double, \u0000). */
static void
test_wire_request_round_trips_through_the_parser(void **state)
{
    static const char data[] = "{\"a\":9007199254740993,\"s\":\"a\\u0000b\",\"e\":1e400}";
    gl_msg m = {42, "chat:stream_abc", "u1", "alice", data, "2026-11-24T10:30:00.123Z", 41};
    cJSON *req = gl_wire_request(GL_OP_PUBLISH, "chat:stream_abc"), *root = NULL, *ev;
    const char *op = NULL, *channel = NULL, *event;
    char *text, *want;
    gl_err err;

    (void)state;
    assert_non_null(req);
    assert_int_equal(gl_wire_add_message(req, &m), GL_OK);
    text = print_take(req);
    assert_int_equal(gl_wire_parse_request(text, strlen(text), &root, &op, &channel, &err), GL_OK);
    assert_string_equal(op, "publish");
    assert_string_equal(channel, "chat:stream_abc");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "id")->valuedouble, 42);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "prev_id")->valuedouble, 41);
    event = gl_json_raw(root, "event");
    assert_non_null(event);
    want = print_take(gl_event_message(&m));
    assert_string_equal(event, want);
    assert_non_null(strstr(event, data));
    ev = cJSON_GetObjectItemCaseSensitive(root, "v");
    assert_int_equal(ev->valueint, GL_WIRE_VERSION);
    cJSON_Delete(root);
    cJSON_free(want);
    cJSON_free(text);
}

static void
test_wire_request_without_channel_parses_with_null_channel(void **state)
{
    char *text = print_take(gl_wire_request(GL_OP_STATS, NULL));
    const char *op = NULL, *channel = "untouched";
    cJSON *root = NULL;
    gl_err err;

    (void)state;
    assert_string_equal(text, "{\"v\":2,\"op\":\"stats\"}");
    assert_int_equal(gl_wire_parse_request(text, strlen(text), &root, &op, &channel, &err), GL_OK);
    assert_string_equal(op, "stats");
    assert_null(channel);
    cJSON_Delete(root);
    cJSON_free(text);
}

static void
test_wire_parse_item_reads_op_and_channel_of_a_batch_item(void **state)
{
    cJSON *items = cJSON_Parse("[{\"op\":\"publish\",\"channel\":\"chat:a\",\"event\":{}},"
                               "{\"op\":\"stats\"}]");
    const char *op = NULL, *channel = "untouched";
    gl_err err;

    (void)state;
    assert_int_equal(gl_wire_parse_item(cJSON_GetArrayItem(items, 0), &op, &channel, &err), GL_OK);
    assert_string_equal(op, "publish");
    assert_string_equal(channel, "chat:a");
    assert_int_equal(gl_wire_parse_item(cJSON_GetArrayItem(items, 1), &op, &channel, &err), GL_OK);
    assert_string_equal(op, "stats");
    assert_null(channel);
    cJSON_Delete(items);
}

static void
test_wire_parse_item_rejects_bad_shapes_and_nested_batches(void **state)
{
    static const char *const bad[] = {
        "1",
        "\"publish\"",
        "[]",
        "null",
        "{}",
        "{\"op\":1}",
        "{\"op\":\"publish\",\"channel\":2}",
        "{\"op\":\"batch\",\"items\":[]}",
    };
    const char *op, *channel;
    gl_err err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *item = cJSON_Parse(bad[i]);
        assert_non_null(item);
        assert_int_equal(gl_wire_parse_item(item, &op, &channel, &err), GL_EINVAL);
        cJSON_Delete(item);
    }
    assert_non_null(strstr(err.msg, "batch"));
}

static void
test_wire_parse_request_reads_only_len_bytes(void **state)
{
    static const char buf[] = "{\"v\":2,\"op\":\"channels\"}{garbage";
    const char *op = NULL, *channel = NULL;
    cJSON *root = NULL;
    gl_err err;

    (void)state;
    assert_int_equal(gl_wire_parse_request(buf, 23, &root, &op, &channel, &err), GL_OK);
    assert_string_equal(op, "channels");
    cJSON_Delete(root);
}

static void
test_wire_parse_request_rejects_anything_but_an_object(void **state)
{
    static const char *const texts[] = {
        "", "[]", "\"x\"", "42", "null", "true", "{", "hello", "[{\"v\":2,\"op\":\"stats\"}]"};

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect_bad_request(texts[i], GL_EINVAL, "not a JSON object");
}

static void
test_wire_parse_request_rejects_a_missing_or_bad_version(void **state)
{
    static const char *const texts[] = {
        "{\"op\":\"stats\"}",           "{\"v\":1,\"op\":\"stats\"}",
        "{\"v\":0,\"op\":\"stats\"}",   "{\"v\":\"1\",\"op\":\"stats\"}",
        "{\"v\":1.5,\"op\":\"stats\"}", "{\"v\":null,\"op\":\"stats\"}",
        "{\"V\":1,\"op\":\"stats\"}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect_bad_request(texts[i], GL_EINVAL, "unsupported wire version (want 2)");
}

static void
test_wire_parse_request_rejects_non_string_op_or_channel(void **state)
{
    static const char *const texts[] = {
        "{\"v\":2}",
        "{\"v\":2,\"op\":5}",
        "{\"v\":2,\"op\":null}",
        "{\"v\":2,\"op\":[\"stats\"]}",
        "{\"v\":2,\"op\":\"presence\",\"channel\":5}",
        "{\"v\":2,\"op\":\"presence\",\"channel\":null}",
        "{\"v\":2,\"op\":\"presence\",\"channel\":{}}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect_bad_request(texts[i], GL_EINVAL, "op and channel must be strings");
}

/* A valid request of exactly len bytes: {"v":1,"op":"x","pad":"aaa..."}. */
static char *
padded_request(size_t len)
{
    static const char head[] = "{\"v\":2,\"op\":\"x\",\"pad\":\"";
    char *buf = malloc(len);

    assert_non_null(buf);
    memcpy(buf, head, sizeof(head) - 1);
    memset(buf + sizeof(head) - 1, 'a', len - (sizeof(head) - 1) - 2);
    memcpy(buf + len - 2, "\"}", 2);
    return buf;
}

static void
test_wire_parse_request_takes_exactly_the_largest_size(void **state)
{
    char *buf = padded_request(GL_WIRE_MAX);
    const char *op = NULL, *channel = NULL;
    cJSON *root = NULL;
    gl_err err;

    (void)state;
    assert_int_equal(gl_wire_parse_request(buf, GL_WIRE_MAX, &root, &op, &channel, &err), GL_OK);
    assert_string_equal(op, "x");
    cJSON_Delete(root);
    free(buf);
}

static void
test_wire_parse_request_rejects_an_oversized_message(void **state)
{
    char *buf = padded_request(GL_WIRE_MAX + 1);
    const char *op = NULL, *channel = NULL;
    cJSON *root = NULL;
    gl_err err;

    (void)state;
    assert_int_equal(gl_wire_parse_request(buf, GL_WIRE_MAX + 1, &root, &op, &channel, &err),
                     GL_ETOOBIG);
    assert_int_equal(err.code, GL_ETOOBIG);
    assert_non_null(strstr(err.msg, "larger than 1048576 bytes"));
    assert_null(root);
    free(buf);
}

/* The batch request, its results and an attached event have the bytes docs/wire.md shows, and
 * a batch built here is one pushd's parser takes item by item. */
static void
test_wire_batch_results_and_event_have_their_documented_shape(void **state)
{
    cJSON *items = NULL, *results = NULL, *root = NULL, *batch, *item, *data;
    const char *op, *channel;
    char *text;
    gl_err err;

    (void)state;
    assert_non_null(batch = gl_wire_batch(&items));
    assert_non_null(item = gl_wire_request(GL_OP_EVENT, "chat:a"));
    assert_int_equal(gl_wire_add_event(item, gl_event_message_deleted("chat:a", 7)), GL_OK);
    cJSON_AddItemToArray(items, item);
    text = print_take(batch);
    assert_string_equal(text, "{\"v\":2,\"op\":\"batch\",\"items\":[{\"v\":2,\"op\":\"event\","
                              "\"channel\":\"chat:a\",\"event\":{\"type\":\"message_deleted\","
                              "\"channel\":\"chat:a\",\"message_id\":7}}]}");
    assert_int_equal(gl_wire_parse_request(text, strlen(text), &root, &op, &channel, &err), GL_OK);
    assert_string_equal(op, GL_OP_BATCH);
    item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "items"), 0);
    assert_int_equal(gl_wire_parse_item(item, &op, &channel, &err), GL_OK);
    assert_string_equal(op, GL_OP_EVENT);
    assert_string_equal(channel, "chat:a");
    cJSON_Delete(root);
    cJSON_free(text);

    assert_non_null(data = gl_wire_results(&results));
    cJSON_AddItemToArray(results, gl_wire_reply_error(GL_EINVAL, "bad"));
    text = print_take(gl_wire_reply_ok(data));
    assert_string_equal(text, "{\"ok\":true,\"data\":{\"results\":[{\"ok\":false,\"error\":"
                              "{\"code\":\"bad_request\",\"message\":\"bad\"}}]}}");
    cJSON_free(text);
    assert_non_null(item = cJSON_CreateObject()); /* a NULL event (out of memory) is refused */
    assert_int_equal(gl_wire_add_event(item, NULL), GL_ENOMEM);
    cJSON_Delete(item);
}

static void
test_wire_reply_ok_round_trips_its_data(void **state)
{
    cJSON *data = cJSON_CreateObject(), *root = NULL;
    const cJSON *got = NULL;
    char *text;
    gl_err err;

    (void)state;
    assert_non_null(cJSON_AddNumberToObject(data, "subscribers", 3));
    text = print_take(gl_wire_reply_ok(data));
    assert_string_equal(text, "{\"ok\":true,\"data\":{\"subscribers\":3}}");
    gl_err_clear(&err);
    assert_int_equal(gl_wire_parse_reply(text, strlen(text), &root, &got, &err), GL_OK);
    assert_non_null(root);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(got, "subscribers")->valueint, 3);
    cJSON_Delete(root);
    cJSON_free(text);
}

static void
test_wire_reply_ok_without_data_carries_an_empty_object(void **state)
{
    char *text = print_take(gl_wire_reply_ok(NULL));
    const cJSON *data = NULL;
    cJSON *root = NULL;
    gl_err err;

    (void)state;
    assert_string_equal(text, "{\"ok\":true,\"data\":{}}");
    assert_int_equal(gl_wire_parse_reply(text, strlen(text), &root, &data, &err), GL_OK);
    assert_true(cJSON_IsObject(data));
    assert_null(data->child);
    cJSON_Delete(root);
    cJSON_free(text);
}

static void
test_wire_reply_error_round_trips_code_and_message(void **state)
{
    (void)state;
    for (int code = GL_EINVAL; code < GL_ECOUNT; code++) {
        char *text = print_take(gl_wire_reply_error(code, "what went wrong"));
        // The 503 family shares one name, so it comes back as its first member.
        int want = code == GL_ENOMEM || code == GL_EDB || code == GL_EIPC ? GL_EUNAVAIL : code;

        expect_reply_error(text, strlen(text), want, "what went wrong");
        cJSON_free(text);
    }
}

static void
test_wire_reply_error_forbidden_comes_back_as_forbidden(void **state)
{
    char *text = print_take(gl_wire_reply_error(GL_EFORBIDDEN, "you are banned"));

    (void)state;
    assert_string_equal(
        text, "{\"ok\":false,\"error\":{\"code\":\"forbidden\",\"message\":\"you are banned\"}}");
    expect_reply_error(text, strlen(text), GL_EFORBIDDEN, "you are banned");
    cJSON_free(text);
}

static void
test_wire_parse_reply_returns_the_code_without_an_err(void **state)
{
    char *text = print_take(gl_wire_reply_error(GL_ENOTFOUND, "no such channel"));
    const cJSON *data = NULL;
    cJSON *root = NULL;

    (void)state;
    assert_int_equal(gl_wire_parse_reply(text, strlen(text), &root, &data, NULL), GL_ENOTFOUND);
    assert_int_equal(gl_wire_parse_reply("x", 1, &root, &data, NULL), GL_EIPC);
    assert_null(root);
    cJSON_free(text);
}

static void
test_wire_parse_reply_maps_unknown_or_missing_codes(void **state)
{
    static const char teapot[] = "{\"ok\":false,\"error\":{\"code\":\"teapot\",\"message\":\"m\"}}";
    static const char ok_name[] = "{\"ok\":false,\"error\":{\"code\":\"ok\",\"message\":\"m\"}}";
    static const char no_code[] = "{\"ok\":false,\"error\":{\"message\":\"m\"}}";
    static const char no_error[] = "{\"ok\":false}";
    static const char ok_string[] = "{\"ok\":\"true\",\"data\":{}}";

    (void)state;
    expect_reply_error(teapot, strlen(teapot), GL_EINTERNAL, "m");
    expect_reply_error(ok_name, strlen(ok_name), GL_EINTERNAL, "m");
    expect_reply_error(no_code, strlen(no_code), GL_EIPC, "m");
    expect_reply_error(no_error, strlen(no_error), GL_EIPC, "pushd refused the request");
    expect_reply_error(ok_string, strlen(ok_string), GL_EIPC, "pushd refused the request");
}

static void
test_wire_parse_reply_keeps_percent_signs_and_truncates_long_messages(void **state)
{
    char msg[1000], *text;

    (void)state;
    text = print_take(gl_wire_reply_error(GL_EINVAL, "100% %s %n %x"));
    expect_reply_error(text, strlen(text), GL_EINVAL, "100% %s %n %x");
    cJSON_free(text);

    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    text = print_take(gl_wire_reply_error(GL_EINVAL, msg));
    msg[GL_ERR_MSG_MAX - 1] = '\0';
    expect_reply_error(text, strlen(text), GL_EINVAL, msg);
    cJSON_free(text);
}

static void
test_wire_unreadable_reply_is_an_ipc_error(void **state)
{
    static const char *const texts[] = {"", "garbage", "[1]", "\"ok\"", "{\"ok\":true", "null"};
    char *big = padded_request(GL_WIRE_MAX + 1);

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect_reply_error(texts[i], strlen(texts[i]), GL_EIPC, "pushd sent an unreadable reply");
    expect_reply_error(big, GL_WIRE_MAX + 1, GL_EIPC, "pushd sent an unreadable reply");
    free(big);
}

/* An event for the channel's moderators carries the audience pushd filters by. */
static void
test_wire_op_index_finds_every_op_and_counts_others_apart(void **state)
{
    (void)state;
    for (size_t i = 0; i < GL_WIRE_NOPS; i++)
        assert_int_equal(gl_wire_op_index(gl_wire_ops[i]), i);
    assert_int_equal(gl_wire_op_index(GL_OP_BATCH), gl_wire_op_index("batch"));
    assert_int_equal(gl_wire_op_index("nope"), GL_WIRE_NOPS);
    assert_int_equal(gl_wire_op_index(""), GL_WIRE_NOPS);
    assert_int_equal(gl_wire_op_index(NULL), GL_WIRE_NOPS);
}

static void
test_wire_moderators_event_names_its_audience(void **state)
{
    cJSON *req;
    char *text;

    (void)state;
    req = gl_wire_moderators_event("chat:a", gl_event_held_decided("chat:a", 3, "denied"));
    assert_non_null(req);
    assert_non_null(text = cJSON_PrintUnformatted(req));
    cJSON_Delete(req);
    assert_non_null(strstr(text, "\"op\":\"event\",\"channel\":\"chat:a\",\"audience\":"
                                 "\"moderators\",\"event\":{\"type\":\"held_decided\""));
    cJSON_free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_moderators_event_names_its_audience),
        cmocka_unit_test(test_wire_request_round_trips_through_the_parser),
        cmocka_unit_test(test_wire_request_without_channel_parses_with_null_channel),
        cmocka_unit_test(test_wire_parse_request_reads_only_len_bytes),
        cmocka_unit_test(test_wire_parse_item_reads_op_and_channel_of_a_batch_item),
        cmocka_unit_test(test_wire_parse_item_rejects_bad_shapes_and_nested_batches),
        cmocka_unit_test(test_wire_parse_request_rejects_anything_but_an_object),
        cmocka_unit_test(test_wire_parse_request_rejects_a_missing_or_bad_version),
        cmocka_unit_test(test_wire_parse_request_rejects_non_string_op_or_channel),
        cmocka_unit_test(test_wire_parse_request_takes_exactly_the_largest_size),
        cmocka_unit_test(test_wire_parse_request_rejects_an_oversized_message),
        cmocka_unit_test(test_wire_batch_results_and_event_have_their_documented_shape),
        cmocka_unit_test(test_wire_reply_ok_round_trips_its_data),
        cmocka_unit_test(test_wire_reply_ok_without_data_carries_an_empty_object),
        cmocka_unit_test(test_wire_reply_error_round_trips_code_and_message),
        cmocka_unit_test(test_wire_reply_error_forbidden_comes_back_as_forbidden),
        cmocka_unit_test(test_wire_parse_reply_returns_the_code_without_an_err),
        cmocka_unit_test(test_wire_parse_reply_maps_unknown_or_missing_codes),
        cmocka_unit_test(test_wire_parse_reply_keeps_percent_signs_and_truncates_long_messages),
        cmocka_unit_test(test_wire_unreadable_reply_is_an_ipc_error),
        cmocka_unit_test(test_wire_op_index_finds_every_op_and_counts_others_apart),
    };

    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
