/* Unit tests for shared/db_batch.c (gl_db_store_batch) on a real SQLite file: ids, pruning once
 * per channel, audit rows, and a failing item that must not take the others down with it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/db.h"

static gl_db *
open_temp(char *path, size_t cap)
{
    gl_db *db = NULL;
    gl_err err;
    snprintf(path, cap, "/tmp/golive-test-db-batch-%d.db", (int)getpid());
    unlink(path);
    assert_int_equal(gl_db_open(path, &db, &err), GL_OK);
    return db;
}

static void
close_temp(gl_db *db, const char *path)
{
    char side[300];
    gl_db_close(db);
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

static int
count(gl_db *db, const char *sql)
{
    sqlite3_stmt *s;
    int n;
    assert_int_equal(sqlite3_prepare_v2(gl_db_handle(db), sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static gl_msg
msg(const char *channel, const char *data)
{
    gl_msg m = {0, channel, "u1", "alice", data, "2026-11-24T10:00:00.000Z", 0};
    return m;
}

static void
test_db_batch_stores_every_item_and_prunes_each_channel_to_keep(void **state)
{
    char path[200];
    gl_db *db = open_temp(path, sizeof(path));
    gl_msg m[5] = {msg("chat:a", "{\"n\":0}"), msg("chat:b", "{\"n\":1}"),
                   msg("chat:a", "{\"n\":2}"), msg("chat:a", "{\"n\":3}"),
                   msg("chat:b", "{\"n\":4}")};
    gl_db_batch_item it[5], *items[5];
    (void)state;

    for (int i = 0; i < 5; i++) {
        it[i] = (gl_db_batch_item){.m = &m[i], .keep = 2, .rv = -1};
        items[i] = &it[i];
    }
    gl_db_store_batch(db, items, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(it[i].rv, GL_OK);
        if (i > 0) assert_true(m[i].id > m[i - 1].id); /* ids in submission order */
    }
    /* each message names its channel's previous one: chat:a 0 <- m0 <- m2 <- m3, chat:b 0 <- m1
     * <- m4 */
    assert_int_equal(m[0].prev_id, 0);
    assert_int_equal(m[1].prev_id, 0);
    assert_int_equal(m[2].prev_id, m[0].id);
    assert_int_equal(m[3].prev_id, m[2].id);
    assert_int_equal(m[4].prev_id, m[1].id);
    /* chat:a had 3 rows and keeps the newest 2; chat:b keeps both */
    assert_int_equal(count(db, "SELECT COUNT(*) FROM messages WHERE channel = 'chat:a'"), 2);
    assert_int_equal(count(db, "SELECT MIN(id) FROM messages WHERE channel = 'chat:a'"), m[2].id);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM messages WHERE channel = 'chat:b'"), 2);
    close_temp(db, path);
}

static void
test_db_batch_writes_the_audit_row_of_an_item(void **state)
{
    char path[200];
    gl_db *db = open_temp(path, sizeof(path));
    gl_msg m = msg("chat:a", "{}");
    gl_audit a = {
        "chat:a", "broadcast", NULL, 0, "mod1", "mod", NULL, "{}", "2026-11-24T10:00:00.000Z"};
    gl_db_batch_item it = {.m = &m, .keep = 10, .audit = &a}, *items[1] = {&it};
    (void)state;

    gl_db_store_batch(db, items, 1);
    assert_int_equal(it.rv, GL_OK);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM moderation_log WHERE action = 'broadcast'"),
                     1);
    close_temp(db, path);
}

static void
test_db_batch_failure_reaches_only_its_own_item(void **state)
{
    char path[200];
    gl_db *db = open_temp(path, sizeof(path));
    gl_msg m[3] = {msg("chat:a", "{\"n\":0}"), msg("chat:a", NULL), msg("chat:a", "{\"n\":2}")};
    gl_db_batch_item it[3], *items[3];
    (void)state;

    for (int i = 0; i < 3; i++) {
        it[i] = (gl_db_batch_item){.m = &m[i], .keep = 10, .rv = -1};
        items[i] = &it[i];
    }
    gl_db_store_batch(db, items, 3); /* data NULL breaks the NOT NULL constraint */
    assert_int_equal(it[0].rv, GL_OK);
    assert_int_equal(it[1].rv, GL_EDB);
    assert_true(it[1].err.msg[0] != '\0');
    assert_int_equal(it[2].rv, GL_OK);
    assert_int_equal(count(db, "SELECT COUNT(*) FROM messages"), 2);
    /* the ids handed out are the stored rows' ids, not those of the rolled-back attempt */
    {
        char sql[160];
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM messages WHERE id = %lld OR id = %lld",
                 (long long)m[0].id, (long long)m[2].id);
        assert_int_equal(count(db, sql), 2);
    }
    assert_int_equal(sqlite3_get_autocommit(gl_db_handle(db)), 1); /* no transaction left open */
    close_temp(db, path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_batch_stores_every_item_and_prunes_each_channel_to_keep),
        cmocka_unit_test(test_db_batch_writes_the_audit_row_of_an_item),
        cmocka_unit_test(test_db_batch_failure_reaches_only_its_own_item),
    };
    return cmocka_run_group_tests_name("db_batch", tests, NULL, NULL);
}
