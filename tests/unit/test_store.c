/* Unit tests for the store over NATS apart from NATS: pushd/store_wire.c (messages and settings
 * written and read back, hostile members refused) and pushd/store_answer.c (what a node with
 * the file answers, on a real SQLite file): stores that chain ids, history pages, newest ids,
 * moderation state, and error replies for bad requests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pushd/store_answer.h"
#include "pushd/store_wire.h"
#include "shared/json.h"
#include "shared/wire.h"

/* A body with what cJSON would print otherwise: spacing, a 20-digit number, an escape. */
#define BODY "{\"content\": \"caf\\u00e9\", \"n\": 12345678901234567890}"

/* o as the other node reads it: printed, then parsed (integers are printed exactly, as raw
 * text, until then). */
static cJSON *
reparsed(cJSON *o)
{
    char *text = cJSON_PrintUnformatted(o);
    cJSON *back = gl_json_parse(text, strlen(text), pd_store_wire_raw, NULL);
    assert_non_null(back);
    cJSON_Delete(o);
    free(text);
    return back;
}

static void
test_a_message_survives_writing_and_reading_byte_for_byte(void **state)
{
    gl_msg m = {41, "chat:room", NULL, NULL, BODY, "2026-12-07T01:00:00.000Z", 40}, back;
    cJSON *again = reparsed(pd_store_wire_msg(&m));
    gl_err err;

    (void)state;
    assert_int_equal(pd_store_wire_msg_parse(again, &back, &err), GL_OK);
    assert_int_equal(back.id, 41);
    assert_int_equal(back.prev_id, 40);
    assert_string_equal(back.channel, "chat:room");
    assert_null(back.user_id); /* a system message */
    assert_null(back.username);
    assert_string_equal(back.data, BODY);
    assert_string_equal(back.created_at, "2026-12-07T01:00:00.000Z");
    cJSON_Delete(again);
}

static void
test_a_hostile_message_is_refused(void **state)
{
    static const char *const bad[] = {
        "{\"id\":1,\"prev_id\":0,\"channel\":\"bad channel\",\"user_id\":null,\"username\":null,"
        "\"created_at\":\"x\",\"body\":{}}",
        "{\"id\":1,\"prev_id\":0,\"channel\":\"a\",\"user_id\":null,\"username\":null,"
        "\"created_at\":\"x\",\"body\":\"not an object\"}",
        "{\"id\":-1,\"prev_id\":0,\"channel\":\"a\",\"user_id\":null,\"username\":null,"
        "\"created_at\":\"x\",\"body\":{}}",
        "{\"id\":1.5,\"prev_id\":0,\"channel\":\"a\",\"user_id\":null,\"username\":null,"
        "\"created_at\":\"x\",\"body\":{}}",
        "{\"id\":1,\"prev_id\":0,\"channel\":\"a\",\"user_id\":7,\"username\":null,"
        "\"created_at\":\"x\",\"body\":{}}",
        "{\"id\":1,\"prev_id\":0,\"channel\":\"a\",\"user_id\":null,\"username\":null,"
        "\"body\":{}}",
        "[1,2]",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        gl_err err;
        gl_msg m;
        cJSON *o = gl_json_parse(bad[i], strlen(bad[i]), pd_store_wire_raw, &err);
        assert_non_null(o);
        assert_int_equal(pd_store_wire_msg_parse(o, &m, &err), GL_EINVAL);
        cJSON_Delete(o);
    }
}

static void
test_an_override_keeps_what_it_sets_and_leaves_the_rest_unset(void **state)
{
    char roles[2][GL_NAME_MAX] = {"vip", "subscriber"};
    gl_term terms[1] = {"free*followers"};
    gl_override ov = GL_OVERRIDE_INIT, back;
    cJSON *o;
    gl_err err;

    (void)state;
    ov.private_ = 1;
    ov.max_history = 50;
    ov.has_roles = true;
    ov.n_roles = 2;
    ov.roles = roles;
    ov.modes.slow_mode = 0; /* set to off, not unset */
    ov.modes.hold_blocked = 1;
    ov.modes.has_terms = true;
    ov.modes.n_terms = 1;
    ov.modes.terms = terms;
    o = reparsed(pd_store_wire_override(&ov));
    if (pd_store_wire_override_parse(o, &back, &err) != GL_OK) fail_msg("%s", err.msg);
    assert_int_equal(back.private_, 1);
    assert_int_equal(back.allow_publish, -1);
    assert_int_equal(back.max_history, 50);
    assert_true(back.has_roles);
    assert_int_equal(back.n_roles, 2);
    assert_string_equal(back.roles[1], "subscriber");
    assert_int_equal(back.modes.slow_mode, 0);
    assert_int_equal(back.modes.members_only, -1);
    assert_int_equal(back.modes.max_length, -1);
    assert_int_equal(back.modes.hold_blocked, 1);
    assert_int_equal(back.modes.n_terms, 1);
    assert_string_equal(back.modes.terms[0], "free*followers");
    gl_override_free(&back);
    cJSON_Delete(o);
    /* an empty override stays empty */
    ov = (gl_override)GL_OVERRIDE_INIT;
    o = reparsed(pd_store_wire_override(&ov));
    assert_int_equal(pd_store_wire_override_parse(o, &back, &err), GL_OK);
    assert_true(gl_override_is_empty(&back));
    gl_override_free(&back);
    cJSON_Delete(o);
}

/* ---- answers, on a real file */

typedef struct fixture {
    char path[128];
    gl_db *db;
} fixture;

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    gl_err err;
    snprintf(f->path, sizeof(f->path), "/tmp/golive-test-store-%d.db", (int)getpid());
    unlink(f->path);
    assert_int_equal(gl_db_open(f->path, &f->db, &err), GL_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    char side[160];
    gl_db_close(f->db);
    unlink(f->path);
    snprintf(side, sizeof(side), "%s-wal", f->path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", f->path);
    unlink(side);
    free(f);
    return 0;
}

/* The answer to req: its data on success (*root to delete), or NULL with err set. */
static const cJSON *
answer(fixture *f, const char *req, cJSON **root, gl_err *err)
{
    bool failed;
    char *text = pd_store_answer(f->db, req, strlen(req), 1 << 20, &failed);
    const cJSON *data = NULL;
    int rv;

    assert_non_null(text);
    rv = gl_wire_parse_reply_raw(text, strlen(text), 1 << 20, pd_store_wire_raw, 70, root, &data,
                                 err);
    free(text);
    assert_int_equal(failed, rv != GL_OK);
    return rv == GL_OK ? data : NULL;
}

static int64_t
member_int(const cJSON *o, const char *name)
{
    return (int64_t)cJSON_GetObjectItemCaseSensitive(o, name)->valuedouble;
}

#define ITEM(content)                                                                              \
    "{\"msg\":{\"id\":0,\"prev_id\":0,\"channel\":\"chat:r\",\"user_id\":\"u1\","                  \
    "\"username\":\"ann\",\"created_at\":\"2026-12-07T01:00:00.000Z\",\"body\":{\"content\":"      \
    "\"" content "\"}},\"keep\":100"

static void
test_a_store_chains_ids_and_holds_what_it_is_told_to(void **state)
{
    fixture *f = *state;
    cJSON *root;
    gl_err err;
    const cJSON *data = answer(f,
                               "{\"v\":2,\"op\":\"store\",\"items\":[" ITEM("one") "}," ITEM(
                                   "two") "}," ITEM("free followers") ",\"held_term\":\"free*\"}]}",
                               &root, &err);
    const cJSON *res;

    assert_non_null(data);
    res = cJSON_GetObjectItemCaseSensitive(data, "results");
    assert_int_equal(cJSON_GetArraySize(res), 3);
    assert_int_equal(member_int(cJSON_GetArrayItem(res, 0), "prev_id"), 0);
    assert_int_equal(member_int(cJSON_GetArrayItem(res, 1), "prev_id"),
                     member_int(cJSON_GetArrayItem(res, 0), "id"));
    assert_true(member_int(cJSON_GetArrayItem(res, 2), "held_id") > 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(res, 2), "id"));
    cJSON_Delete(root);

    /* the history has the two stored ones, not the held one; a page of one asks for more */
    data = answer(f,
                  "{\"v\":2,\"op\":\"history\",\"channel\":\"chat:r\",\"mode\":0,\"ref\":0,"
                  "\"limit\":10}",
                  &root, &err);
    assert_non_null(data);
    res = cJSON_GetObjectItemCaseSensitive(data, "messages");
    assert_int_equal(cJSON_GetArraySize(res), 2);
    assert_string_equal(gl_json_raw(cJSON_GetArrayItem(res, 1), "body"), "{\"content\":\"two\"}");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "more")));
    cJSON_Delete(root);

    data = answer(f, "{\"v\":2,\"op\":\"last_ids\",\"channels\":[\"chat:r\",\"chat:none\",\"\"]}",
                  &root, &err);
    assert_non_null(data);
    res = cJSON_GetObjectItemCaseSensitive(data, "ids");
    assert_int_equal(cJSON_GetArraySize(res), 3);
    assert_true(cJSON_GetArrayItem(res, 0)->valuedouble > 0);
    assert_int_equal((int)cJSON_GetArrayItem(res, 1)->valuedouble, 0);
    cJSON_Delete(root);
}

static void
test_the_state_lists_bans_access_and_settings(void **state)
{
    fixture *f = *state;
    gl_override ov = GL_OVERRIDE_INIT;
    const cJSON *data, *row;
    cJSON *root;
    gl_err err;

    ov.modes.slow_mode = 30;
    assert_int_equal(gl_db_put_restriction(f->db, "chat:s", "u_bad", false, "spam", "mod",
                                           "2026-12-07T01:00:00.000Z", NULL, &err),
                     GL_OK);
    assert_int_equal(
        gl_db_access_add(f->db, "chat:s", "u_friend", "mod", "2026-12-07T01:00:00.000Z", &err),
        GL_OK);
    assert_int_equal(
        gl_db_put_override(f->db, "chat:s", &ov, "mod", "2026-12-07T01:00:00.000Z", &err), GL_OK);
    data = answer(f, "{\"v\":2,\"op\":\"state\",\"channel\":\"chat:s\"}", &root, &err);
    assert_non_null(data);
    row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data, "restrictions"), 0);
    assert_string_equal(cJSON_GetArrayItem(row, 1)->valuestring, "u_bad");
    assert_true(cJSON_IsFalse(cJSON_GetArrayItem(row, 2))); /* a ban, not a timeout */
    row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data, "access"), 0);
    assert_string_equal(cJSON_GetArrayItem(row, 1)->valuestring, "u_friend");
    row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(data, "settings"), 0);
    assert_int_equal(member_int(cJSON_GetObjectItemCaseSensitive(row, "override"), "slow_mode"),
                     30);
    cJSON_Delete(root);
}

static void
test_bad_requests_get_error_answers(void **state)
{
    static const char *const bad[] = {
        "not json",
        "{\"v\":1,\"op\":\"history\"}",
        "{\"v\":2,\"op\":\"drop_table\"}",
        "{\"v\":2,\"op\":\"history\",\"channel\":\"chat:r\",\"mode\":7,\"ref\":0,\"limit\":1}",
        "{\"v\":2,\"op\":\"history\",\"channel\":\"chat:r\",\"mode\":0,\"ref\":0,\"limit\":0}",
        "{\"v\":2,\"op\":\"history\",\"channel\":\"no spaces\",\"mode\":0,\"ref\":0,\"limit\":1}",
        "{\"v\":2,\"op\":\"last_ids\",\"channels\":\"chat:r\"}",
        "{\"v\":2,\"op\":\"store\",\"items\":[]}",
        "{\"v\":2,\"op\":\"store\",\"items\":[{\"msg\":{},\"keep\":1}]}",
        "{\"v\":2,\"op\":\"state\",\"channel\":5}",
    };
    fixture *f = *state;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        cJSON *root;
        gl_err err;
        assert_null(answer(f, bad[i], &root, &err));
        assert_int_equal(err.code, GL_EINVAL);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_message_survives_writing_and_reading_byte_for_byte),
        cmocka_unit_test(test_a_hostile_message_is_refused),
        cmocka_unit_test(test_an_override_keeps_what_it_sets_and_leaves_the_rest_unset),
        cmocka_unit_test_setup_teardown(test_a_store_chains_ids_and_holds_what_it_is_told_to, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_state_lists_bans_access_and_settings, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_get_error_answers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
