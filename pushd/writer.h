/* The history writer: a thread that stores WS-published messages in SQLite, many rows per
 * transaction, and hands each stored job back to the event loop, which fans it out. A message
 * is never delivered before its row exists. The writer knows rows, not connections: whoever
 * submits a job embeds a pd_wjob at the start of its own struct and gets it back, stored, from
 * pd_writer_take_done(). */
#ifndef PD_WRITER_H
#define PD_WRITER_H

#include "store_remote.h"
#include "shared/db.h"
#include "shared/err.h"

typedef struct pd_writer pd_writer;

typedef struct pd_wjob {
    struct pd_wjob *next;
    gl_db_batch_item st; /* st.m and st.keep from the submitter; st.rv is GL_OK once stored */
} pd_wjob;

typedef struct pd_writer_hooks {
    void (*wake)(void *arg);       /* on the writer thread: done jobs wait (wake the loop) */
    void (*discard)(pd_wjob *job); /* at stop: a stored job nobody took; free it */
    void *arg;
} pd_writer_hooks;

/* Start the thread, with its own connection to the database at db_path, or, when remote is not
 * NULL, storing through it (store_remote.h; borrowed, it must outlive the writer). */
int pd_writer_start(const char *db_path, pd_remote *remote, const pd_writer_hooks *hooks,
                    pd_writer **out, gl_err *err);

/* Queue a job (taken). Called on the loop thread. */
void pd_writer_submit(pd_writer *w, pd_wjob *job);

/* On the loop: take the finished jobs (a list, oldest first). */
pd_wjob *pd_writer_take_done(pd_writer *w);

/* What the writer has done, for the metrics: batches by size and by store time (histogram
 * buckets, not cumulative), and rows it could not store. */
#define PD_WRITER_SIZE_LE                                                                          \
    {                                                                                              \
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512                                                      \
    }
#define PD_WRITER_NSIZE 11 /* the ten bounds, then +Inf */
#define PD_WRITER_SECS_LE                                                                          \
    {                                                                                              \
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1                         \
    }
#define PD_WRITER_NSECS 12 /* the eleven bounds, then +Inf */
typedef struct pd_writer_stats {
    uint64_t batches_by_size[PD_WRITER_NSIZE];
    uint64_t rows;
    uint64_t batches_by_secs[PD_WRITER_NSECS];
    uint64_t store_us; /* sum */
    uint64_t failed_rows;
} pd_writer_stats;

/* A copy of the counters (any thread; each field is read atomically, the whole not at once). */
void pd_writer_stats_get(pd_writer *w, pd_writer_stats *out);

/* Store everything queued, stop the thread, close its database; NULL is a no-op. */
void pd_writer_stop(pd_writer *w);

#endif
