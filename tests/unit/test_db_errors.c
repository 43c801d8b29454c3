/* Unit tests for shared/db_errors.c: SQLite's result codes, primary and extended, fall in the
 * kinds an operator alerts on, and the counts reach the printed metric. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>

#include "shared/db_errors.h"

static void
test_db_error_kind_sorts_primary_and_extended_codes(void **state)
{
    (void)state;
    assert_int_equal(gl_db_error_kind(SQLITE_BUSY), GL_DB_ERR_BUSY);
    assert_int_equal(gl_db_error_kind(SQLITE_BUSY_SNAPSHOT), GL_DB_ERR_BUSY);
    assert_int_equal(gl_db_error_kind(SQLITE_LOCKED_SHAREDCACHE), GL_DB_ERR_BUSY);
    assert_int_equal(gl_db_error_kind(SQLITE_FULL), GL_DB_ERR_FULL);
    assert_int_equal(gl_db_error_kind(SQLITE_IOERR_FSYNC), GL_DB_ERR_IO);
    assert_int_equal(gl_db_error_kind(SQLITE_IOERR_SHORT_READ), GL_DB_ERR_IO);
    assert_int_equal(gl_db_error_kind(SQLITE_CORRUPT_INDEX), GL_DB_ERR_CORRUPT);
    assert_int_equal(gl_db_error_kind(SQLITE_NOTADB), GL_DB_ERR_CORRUPT);
    assert_int_equal(gl_db_error_kind(SQLITE_READONLY_DBMOVED), GL_DB_ERR_READONLY);
    assert_int_equal(gl_db_error_kind(SQLITE_CANTOPEN), GL_DB_ERR_READONLY);
    assert_int_equal(gl_db_error_kind(SQLITE_CONSTRAINT_UNIQUE), GL_DB_ERR_CONSTRAINT);
    assert_int_equal(gl_db_error_kind(SQLITE_NOMEM), GL_DB_ERR_NOMEM);
    assert_int_equal(gl_db_error_kind(SQLITE_ERROR), GL_DB_ERR_OTHER);
    assert_int_equal(gl_db_error_kind(SQLITE_MISUSE), GL_DB_ERR_OTHER);
}

static void
test_db_error_counts_reach_the_metric(void **state)
{
    uint64_t n[GL_DB_NERR];
    gl_text t = {NULL, 0, 0, false};

    (void)state;
    gl_db_error_count(SQLITE_BUSY);
    gl_db_error_count(SQLITE_BUSY_RECOVERY);
    gl_db_error_count(SQLITE_FULL);
    gl_db_error_counts(n);
    assert_int_equal(n[GL_DB_ERR_BUSY], 2);
    assert_int_equal(n[GL_DB_ERR_FULL], 1);
    assert_int_equal(n[GL_DB_ERR_IO], 0);
    gl_db_errors_print(&t, "golive_x_sqlite_errors_total");
    assert_non_null(strstr(t.p, "# TYPE golive_x_sqlite_errors_total counter\n"));
    assert_non_null(strstr(t.p, "golive_x_sqlite_errors_total{kind=\"busy\"} 2\n"));
    assert_non_null(strstr(t.p, "golive_x_sqlite_errors_total{kind=\"full\"} 1\n"));
    assert_non_null(strstr(t.p, "golive_x_sqlite_errors_total{kind=\"other\"} 0\n"));
    for (int i = 0; i < GL_DB_NERR; i++)
        assert_non_null(gl_db_error_kinds[i]);
    gl_text_free(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_error_kind_sorts_primary_and_extended_codes),
        cmocka_unit_test(test_db_error_counts_reach_the_metric),
    };

    return cmocka_run_group_tests_name("db_errors", tests, NULL, NULL);
}
