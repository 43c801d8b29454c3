/* Unit tests for shared/db_modreads.c on a real SQLite file: only unexpired bans and timeouts of
 * the one channel are listed, the audit log pages newest first below before, and a callback's
 * non-zero return stops a read and is what it returns. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/db.h"

#define PAST "2000-01-01T00:00:00.000Z"
#define FUTURE "2999-01-01T00:00:00.000Z"
#define AT "2026-11-24T10:00:00.000Z"

static char path[128];

static int
setup(void **state)
{
    gl_db *db = NULL;
    gl_err err;

    snprintf(path, sizeof(path), "/tmp/golive-test-db-modreads-%d.db", (int)getpid());
    unlink(path);
    assert_int_equal(gl_db_open(path, &db, &err), GL_OK);
    *state = db;
    return 0;
}

static int
teardown(void **state)
{
    char side[160];

    gl_db_close(*state);
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return 0;
}

typedef struct seen {
    char users[8][32];
    char kinds[8][16];
    int64_t ids[8];
    int n, stop_after;
} seen;

static int
on_ban(void *arg, const gl_db_ban_row *b)
{
    seen *s = arg;
    snprintf(s->users[s->n], sizeof(s->users[0]), "%s", b->user_id);
    snprintf(s->kinds[s->n], sizeof(s->kinds[0]), "%s", b->kind);
    return ++s->n == s->stop_after ? GL_ENOMEM : GL_OK;
}

static int
on_entry(void *arg, const gl_db_audit_row *a)
{
    seen *s = arg;
    s->ids[s->n] = a->id;
    snprintf(s->users[s->n], sizeof(s->users[0]), "%s", a->target_user ? a->target_user : "-");
    return ++s->n == s->stop_after ? GL_ENOMEM : GL_OK;
}

static void
test_db_bans_lists_only_the_channels_unexpired_restrictions(void **state)
{
    gl_db *db = *state;
    gl_err err;
    seen s = {0};

    assert_int_equal(gl_db_put_restriction(db, "c1", "u_ban", false, "r", "m", AT, NULL, &err),
                     GL_OK);
    assert_int_equal(gl_db_put_restriction(db, "c1", "u_to", true, NULL, "m", AT, FUTURE, &err),
                     GL_OK);
    assert_int_equal(gl_db_put_restriction(db, "c1", "u_old", true, NULL, "m", AT, PAST, &err),
                     GL_OK);
    assert_int_equal(gl_db_put_restriction(db, "c2", "u_other", false, NULL, "m", AT, NULL, &err),
                     GL_OK);
    assert_int_equal(gl_db_bans(db, "c1", on_ban, &s, &err), GL_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.users[0], "u_ban");
    assert_string_equal(s.kinds[0], "ban");
    assert_string_equal(s.users[1], "u_to");
    assert_string_equal(s.kinds[1], "timeout");

    s = (seen){.stop_after = 1};
    assert_int_equal(gl_db_bans(db, "c1", on_ban, &s, &err), GL_ENOMEM);
    assert_int_equal(s.n, 1);
}

static void
test_db_audit_page_is_newest_first_below_before(void **state)
{
    gl_db *db = *state;
    gl_err err;
    const char *users[] = {"a", "b", "c", "d"};
    seen s = {0};

    for (int i = 0; i < 4; i++) {
        gl_audit a = {"c1", "ban", users[i], 0, "m", "Mod", NULL, NULL, AT};
        assert_int_equal(gl_db_audit(db, &a, &err), GL_OK);
    }
    gl_audit other = {"c2", "ban", "z", 0, "m", "Mod", NULL, NULL, AT};
    assert_int_equal(gl_db_audit(db, &other, &err), GL_OK);

    assert_int_equal(gl_db_audit_page(db, "c1", INT64_MAX, 3, on_entry, &s, &err), GL_OK);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.users[0], "d");
    assert_string_equal(s.users[2], "b");
    assert_true(s.ids[0] > s.ids[1] && s.ids[1] > s.ids[2]);

    int64_t before = s.ids[2];
    s = (seen){0};
    assert_int_equal(gl_db_audit_page(db, "c1", before, 3, on_entry, &s, &err), GL_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.users[0], "a");

    s = (seen){.stop_after = 2};
    assert_int_equal(gl_db_audit_page(db, "c1", INT64_MAX, 10, on_entry, &s, &err), GL_ENOMEM);
    assert_int_equal(s.n, 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_db_bans_lists_only_the_channels_unexpired_restrictions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_audit_page_is_newest_first_below_before, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("db_modreads", tests, NULL, NULL);
}
