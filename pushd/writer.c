/* History writer thread. It takes whatever has queued up while the previous transaction ran
 * (at most WRITER_BATCH rows), so a busy channel gets many rows per COMMIT and a quiet one
 * gets its row at once. Pruning to max_history happens in the same transaction
 * (gl_db_store_batch, shared with golive-api's publisher). Checkpoints of the WAL run on a
 * thread of their own (shared/db_checkpoint.c), so that a commit, and every delivery queued
 * behind it, seldom waits for one. */
#include "writer.h"
#include "shared/db_checkpoint.h"
#include "shared/log.h"
#include "shared/timefmt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define WRITER_BATCH 512

struct pd_writer {
    pd_writer_hooks hooks;
    gl_db *db;                /* its own connection to the file, or */
    pd_remote *remote;        /* the store over NATS (GOLIVE_STORE=nats) */
    gl_db_checkpointer *ckpt; /* checkpoints db's WAL off the writer thread; NULL: db does */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pd_wjob *in_head, *in_tail; /* guarded by mu */
    pd_wjob *done_head, *done_tail;
    bool stopping;
    /* Written by the writer thread, read by the loop's metrics: relaxed atomics. */
    _Atomic uint64_t by_size[PD_WRITER_NSIZE], rows, by_secs[PD_WRITER_NSECS], store_us, failed;
};

static void
count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* One batch of n rows stored in us microseconds, failed of them not stored. */
static void
note_batch(pd_writer *w, size_t n, int64_t us, size_t failed)
{
    static const unsigned size_le[] = PD_WRITER_SIZE_LE;
    static const double secs_le[] = PD_WRITER_SECS_LE;
    size_t b = 0, s = 0;

    while (b < PD_WRITER_NSIZE - 1 && n > size_le[b])
        b++;
    while (s < PD_WRITER_NSECS - 1 && (double)us / 1e6 > secs_le[s])
        s++;
    count(&w->by_size[b], 1);
    count(&w->rows, n);
    count(&w->by_secs[s], 1);
    count(&w->store_us, us > 0 ? (uint64_t)us : 0);
    count(&w->failed, failed);
}

void
pd_writer_stats_get(pd_writer *w, pd_writer_stats *out)
{
    for (int i = 0; i < PD_WRITER_NSIZE; i++)
        out->batches_by_size[i] = atomic_load_explicit(&w->by_size[i], memory_order_relaxed);
    for (int i = 0; i < PD_WRITER_NSECS; i++)
        out->batches_by_secs[i] = atomic_load_explicit(&w->by_secs[i], memory_order_relaxed);
    out->rows = atomic_load_explicit(&w->rows, memory_order_relaxed);
    out->store_us = atomic_load_explicit(&w->store_us, memory_order_relaxed);
    out->failed_rows = atomic_load_explicit(&w->failed, memory_order_relaxed);
}

static void
append(pd_wjob **head, pd_wjob **tail, pd_wjob *list)
{
    pd_wjob *last = list;
    if (list == NULL) return;
    while (last->next)
        last = last->next;
    if (*tail)
        (*tail)->next = list;
    else
        *head = list;
    *tail = last;
}

static void
write_batch(pd_writer *w, pd_wjob *batch)
{
    gl_db_batch_item *items[WRITER_BATCH];
    size_t n = 0, failed = 0;
    int64_t t0 = gl_time_mono_us();

    for (pd_wjob *j = batch; j != NULL && n < WRITER_BATCH; j = j->next)
        items[n++] = &j->st;
    if (w->remote != NULL)
        pd_remote_store_batch(w->remote, items, n);
    else
        gl_db_store_batch(w->db, items, n);
    for (size_t i = 0; i < n; i++)
        if (items[i]->rv != GL_OK) {
            failed++;
            gl_log(GL_LOG_ERROR, "writer", "could not store a message: %s", items[i]->err.msg);
        }
    note_batch(w, n, gl_time_mono_us() - t0, failed);
}

static void *
writer_main(void *arg)
{
    pd_writer *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        pd_wjob *batch, *last;
        int n = 1;

        while (w->in_head == NULL && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->in_head == NULL) break; /* stopping, and nothing left to store */
        batch = last = w->in_head;
        while (last->next && n < WRITER_BATCH) {
            last = last->next;
            n++;
        }
        w->in_head = last->next;
        if (w->in_head == NULL) w->in_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->mu);

        write_batch(w, batch);

        pthread_mutex_lock(&w->mu);
        append(&w->done_head, &w->done_tail, batch);
        pthread_mutex_unlock(&w->mu);
        w->hooks.wake(w->hooks.arg);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int
pd_writer_start(const char *db_path, pd_remote *remote, const pd_writer_hooks *hooks,
                pd_writer **out, gl_err *err)
{
    pd_writer *w = calloc(1, sizeof(*w));
    int rv;

    if (w == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    w->hooks = *hooks;
    w->remote = remote;
    if (remote == NULL && (rv = gl_db_open(db_path, &w->db, err)) != GL_OK) {
        free(w);
        return rv;
    }
    if (w->db != NULL) {
        gl_err cerr;
        if (gl_db_checkpointer_start(w->db, db_path, &w->ckpt, &cerr) != GL_OK)
            gl_log(GL_LOG_WARN, "db", "the history writer checkpoints itself: %s", cerr.msg);
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        gl_db_checkpointer_stop(w->ckpt);
        gl_db_close(w->db);
        free(w);
        return gl_err_set(err, GL_ENOMEM, "cannot start the history writer thread");
    }
    *out = w;
    return GL_OK;
}

void
pd_writer_submit(pd_writer *w, pd_wjob *job)
{
    job->next = NULL;
    pthread_mutex_lock(&w->mu);
    append(&w->in_head, &w->in_tail, job);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

pd_wjob *
pd_writer_take_done(pd_writer *w)
{
    pd_wjob *list;
    pthread_mutex_lock(&w->mu);
    list = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    return list;
}

void
pd_writer_stop(pd_writer *w)
{
    pd_wjob *left;
    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    /* Stored but never delivered: the clients are gone; they catch up with "since". */
    left = pd_writer_take_done(w);
    while (left) {
        pd_wjob *next = left->next;
        w->hooks.discard(left);
        left = next;
    }
    gl_db_checkpointer_stop(w->ckpt);
    gl_db_close(w->db);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
