/* SQLite failures by kind, for both binaries' metrics. Every connection of the process counts
 * into one table of relaxed atomics, from whichever thread it runs on: like sqlite3_status(),
 * this is process state, the one mutable global of the data layer. */
#ifndef GL_DB_ERRORS_H
#define GL_DB_ERRORS_H

#include "promtext.h"

#include <stdint.h>

enum {
    GL_DB_ERR_BUSY,       /* busy_timeout ran out, or a table locked */
    GL_DB_ERR_FULL,       /* the disk (or the file's size limit) is full */
    GL_DB_ERR_IO,         /* the OS failed a read, write, fsync or lock */
    GL_DB_ERR_CORRUPT,    /* the file is damaged or not a database */
    GL_DB_ERR_READONLY,   /* cannot open or write it: permissions, a read-only mount */
    GL_DB_ERR_CONSTRAINT, /* a row a constraint refused: a bug of ours, or a bad migration */
    GL_DB_ERR_NOMEM,
    GL_DB_ERR_OTHER,
    GL_DB_NERR
};

/* The kinds' names, as the metrics' "kind" label: "busy", "full", ... */
extern const char *const gl_db_error_kinds[GL_DB_NERR];

/* The kind of a SQLite result code (primary or extended) that is not a success. */
int gl_db_error_kind(int sqlite_rc);

/* Count one failure with SQLite result code sqlite_rc. Any thread. */
void gl_db_error_count(int sqlite_rc);

/* The counts so far, indexed by kind. */
void gl_db_error_counts(uint64_t out[GL_DB_NERR]);

/* The counts as the counter family name{kind="..."} (e.g. golive_pushd_sqlite_errors_total). */
void gl_db_errors_print(gl_text *t, const char *name);

#endif
