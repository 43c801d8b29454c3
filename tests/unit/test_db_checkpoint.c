/* Unit tests for shared/db_checkpoint.c on a real SQLite file: with the checkpointer, the
 * writer's commits never checkpoint themselves, yet the WAL stays bounded because the
 * checkpointer's thread copies it back; once stopped, the writer checkpoints itself again. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shared/db.h"
#include "shared/db_checkpoint.h"

/* ~6,000 pages. The checkpointer's thread starts at 1,000 and the writer itself at 4,000, so
 * the WAL stays below this; with no checkpoint at all it would pass 70 MB. */
#define WAL_BOUND (24L * 1024 * 1024)

static char path[256], wal[300];

static long
wal_size(void)
{
    struct stat st;
    return stat(wal, &st) == 0 ? (long)st.st_size : 0;
}

/* Store n batches of 10 messages of ~2 KB (about 6 pages a batch), keeping the largest WAL. */
static long
write_batches(gl_db *db, int n)
{
    char data[2100];
    long most = 0;

    memset(data, 'x', sizeof(data));
    memcpy(data, "{\"t\":\"", 6);
    memcpy(data + sizeof(data) - 3, "\"}", 3);
    for (int b = 0; b < n; b++) {
        gl_msg m[10];
        gl_db_batch_item it[10], *items[10];
        for (int i = 0; i < 10; i++) {
            m[i] = (gl_msg){0, "public:ck", "u1", "alice", data, "2026-11-24T10:00:00.000Z", 0};
            it[i] = (gl_db_batch_item){.m = &m[i], .keep = 100000};
            items[i] = &it[i];
        }
        gl_db_store_batch(db, items, 10);
        for (int i = 0; i < 10; i++)
            assert_int_equal(it[i].rv, GL_OK);
        if (wal_size() > most) most = wal_size();
    }
    return most;
}

static void
test_the_wal_stays_bounded_with_checkpoints_off_the_writer(void **state)
{
    gl_db *db = NULL;
    gl_db_checkpointer *c = NULL;
    gl_err err;

    (void)state;
    snprintf(path, sizeof(path), "/tmp/golive-test-db-checkpoint-%d.db", (int)getpid());
    snprintf(wal, sizeof(wal), "%s-wal", path);
    unlink(path);
    unlink(wal);
    assert_int_equal(gl_db_open(path, &db, &err), GL_OK);
    assert_int_equal(gl_db_checkpointer_start(db, path, &c, &err), GL_OK);
    /* 3,000 batches write ~18,000 pages (~70 MB): without checkpoints the WAL would hold
     * them all. The checkpointer's thread runs beside the writer, so let it keep up. */
    long most = 0;
    for (int round = 0; round < 30; round++) {
        long m = write_batches(db, 100);
        if (m > most) most = m;
        nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
    }
    assert_true(most > 0);
    assert_true(most < WAL_BOUND);
    gl_db_checkpointer_stop(c);
    /* the writer checkpoints itself again: still bounded, with no other thread */
    assert_true(write_batches(db, 1000) < WAL_BOUND);
    gl_db_close(db);
    unlink(path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", path);
    unlink(wal);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_wal_stays_bounded_with_checkpoints_off_the_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
