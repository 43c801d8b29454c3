/* SQLite failures by kind (db_errors.h): a classification of result codes and a table of
 * counters that gl_db__fail() and gl_db_open() add to. */
#include "db_errors.h"

#include <sqlite3.h>
#include <stdatomic.h>

const char *const gl_db_error_kinds[GL_DB_NERR] = {
    [GL_DB_ERR_BUSY] = "busy",
    [GL_DB_ERR_FULL] = "full",
    [GL_DB_ERR_IO] = "io",
    [GL_DB_ERR_CORRUPT] = "corrupt",
    [GL_DB_ERR_READONLY] = "readonly",
    [GL_DB_ERR_CONSTRAINT] = "constraint",
    [GL_DB_ERR_NOMEM] = "nomem",
    [GL_DB_ERR_OTHER] = "other",
};

static _Atomic uint64_t counts[GL_DB_NERR];

int
gl_db_error_kind(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return GL_DB_ERR_BUSY;
    case SQLITE_FULL:
        return GL_DB_ERR_FULL;
    case SQLITE_IOERR:
    case SQLITE_NOLFS:
    case SQLITE_PROTOCOL:
        return GL_DB_ERR_IO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
        return GL_DB_ERR_CORRUPT;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return GL_DB_ERR_READONLY;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
        return GL_DB_ERR_CONSTRAINT;
    case SQLITE_NOMEM:
        return GL_DB_ERR_NOMEM;
    default:
        return GL_DB_ERR_OTHER;
    }
}

void
gl_db_error_count(int sqlite_rc)
{
    atomic_fetch_add_explicit(&counts[gl_db_error_kind(sqlite_rc)], 1, memory_order_relaxed);
}

void
gl_db_error_counts(uint64_t out[GL_DB_NERR])
{
    for (int i = 0; i < GL_DB_NERR; i++)
        out[i] = atomic_load_explicit(&counts[i], memory_order_relaxed);
}

void
gl_db_errors_print(gl_text *t, const char *name)
{
    uint64_t n[GL_DB_NERR];
    gl_prom_value v[GL_DB_NERR];

    gl_db_error_counts(n);
    for (int i = 0; i < GL_DB_NERR; i++)
        v[i] = (gl_prom_value){gl_db_error_kinds[i], n[i]};
    gl_prom_labeled(t, name, "SQLite failures by kind.", "kind", v, GL_DB_NERR);
}
