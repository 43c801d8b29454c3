/* The checkpointer (db_checkpoint.h): sqlite3_wal_hook on the writer replaces its automatic
 * checkpoints and wakes a thread that checkpoints on a connection of its own. */
#include "db_checkpoint.h"

#include "db_internal.h"
#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define CHECKPOINT_PAGES 1000 /* SQLite's own wal_autocheckpoint default */
/* A PASSIVE checkpoint copies what the WAL held when it began; under a steady stream of commits
 * the WAL may never be wholly copied back, so never restart, and grow. Past this the writer
 * checkpoints itself, as without a checkpointer: the WAL stays bounded whatever the load. */
#define WRITER_CHECKPOINT_PAGES (4 * CHECKPOINT_PAGES)
#define CHECKPOINT_STEP 256 /* frames left to copy back that make the thread's next pass due */

struct gl_db_checkpointer {
    gl_db *writer;
    gl_db *own;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the thread waits here for due (and for writer_in to end) */
    pthread_cond_t idle; /* the writer waits here for running to end */
    bool due;            /* guarded by mu */
    bool stopping;       /* guarded by mu */
    bool running;        /* guarded by mu: the thread is in a checkpoint */
    bool writer_in;      /* guarded by mu: the writer is */
    int copied;          /* guarded by mu: the WAL's frames copied back by the last checkpoint */
};

/* Past WRITER_CHECKPOINT_PAGES, in the writer's thread: the thread's checkpoints have not kept
 * up. Wait for the one running, if any (beside it ours would only get SQLITE_BUSY), and keep the
 * thread from starting another; with no commit in between, ours copies the whole WAL back (but
 * what readers still use), and the next write starts the WAL over. */
static void
writer_checkpoint(gl_db_checkpointer *c, sqlite3 *h, const char *name)
{
    int copied = 0;

    pthread_mutex_lock(&c->mu);
    while (c->running)
        pthread_cond_wait(&c->idle, &c->mu);
    c->writer_in = true;
    pthread_mutex_unlock(&c->mu);
    if (sqlite3_wal_checkpoint_v2(h, name, SQLITE_CHECKPOINT_PASSIVE, NULL, &copied) != SQLITE_OK)
        copied = 0;
    pthread_mutex_lock(&c->mu);
    c->copied = copied;
    c->writer_in = false;
    if (c->due) pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
}

/* After each of the writer's commits, in its thread: pages is the WAL's size. Past
 * CHECKPOINT_PAGES, the thread's next pass is due once CHECKPOINT_STEP frames are left to copy
 * back, not at every commit: under steady commits the WAL seldom starts over, and going by its
 * size alone would run one checkpoint (and its fsyncs) after another for a few new frames each
 * (pushd's writer spent 55% more CPU a delivery that way at 4,000 messages a second). */
static int
on_commit(void *arg, sqlite3 *h, const char *name, int pages)
{
    gl_db_checkpointer *c = arg;

    if (pages >= WRITER_CHECKPOINT_PAGES) {
        writer_checkpoint(c, h, name);
        return SQLITE_OK;
    }
    if (pages < CHECKPOINT_PAGES) return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    if (pages < c->copied) c->copied = 0; /* the WAL started over since */
    if (!c->due && !c->running && pages - c->copied >= CHECKPOINT_STEP) {
        c->due = true;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->mu);
    return SQLITE_OK;
}

static void
checkpoint(gl_db_checkpointer *c)
{
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->own->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, &copied);

    if (rc == SQLITE_OK) {
        pthread_mutex_lock(&c->mu);
        c->copied = copied;
        pthread_mutex_unlock(&c->mu);
    } else if (rc != SQLITE_BUSY) {
        gl_log(GL_LOG_WARN, "db", "checkpoint: %s", sqlite3_errmsg(c->own->h));
    }
}

static void *
checkpointer_main(void *arg)
{
    gl_db_checkpointer *c = arg;

    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        if (!c->due || c->writer_in) {
            pthread_cond_wait(&c->wake, &c->mu);
            continue;
        }
        c->due = false;
        c->running = true;
        pthread_mutex_unlock(&c->mu);
        checkpoint(c);
        pthread_mutex_lock(&c->mu);
        c->running = false;
        pthread_cond_signal(&c->idle);
    }
    pthread_mutex_unlock(&c->mu);
    checkpoint(c);
    return NULL;
}

int
gl_db_checkpointer_start(gl_db *writer, const char *path, gl_db_checkpointer **out, gl_err *err)
{
    gl_db_checkpointer *c = calloc(1, sizeof(*c));
    int rv;

    *out = NULL;
    if (c == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((rv = gl_db_open(path, &c->own, err)) != GL_OK) {
        free(c);
        return rv;
    }
    c->writer = writer;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_cond_destroy(&c->idle);
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->mu);
        gl_db_close(c->own);
        free(c);
        return gl_err_set(err, GL_ENOMEM, "cannot start the checkpoint thread");
    }
    sqlite3_wal_hook(writer->h, on_commit, c); /* replaces the writer's autocheckpoint */
    *out = c;
    return GL_OK;
}

void
gl_db_checkpointer_stop(gl_db_checkpointer *c)
{
    if (c == NULL) return;
    sqlite3_wal_autocheckpoint(c->writer->h, CHECKPOINT_PAGES); /* removes on_commit */
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->idle);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    gl_db_close(c->own);
    free(c);
}
