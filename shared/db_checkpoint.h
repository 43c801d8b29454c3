/* WAL checkpoints off the commit path. SQLite checkpoints in the committing thread once the
 * WAL passes 1,000 pages, so every few hundred group commits one waits for the copy and its
 * fsync, and every reply queued behind it waits too. A checkpointer takes that over for one
 * writer connection: the writer's commits only count the WAL's pages, and a thread of its own,
 * with a connection of its own, runs a PASSIVE checkpoint (it never blocks the writer) once
 * the WAL has grown past the same 1,000 pages, and again each time 256 more frames wait to be
 * copied back. Should the WAL reach 4,000 pages all the same (commits so steady that it is
 * never wholly copied back, so never starts over), the writer waits for the thread's pass and
 * checkpoints itself, and the next write starts the WAL over. Used by golive-api's publisher and
 * pushd's history writer. */
#ifndef GL_DB_CHECKPOINT_H
#define GL_DB_CHECKPOINT_H

#include "db.h"
#include "err.h"

typedef struct gl_db_checkpointer gl_db_checkpointer;

/* Start checkpointing for writer (a connection to path, which must outlive the checkpointer
 * and be used by one thread at a time, as any gl_db). Returns GL_OK, GL_EDB or GL_ENOMEM;
 * on failure the writer checkpoints itself, as before. */
int gl_db_checkpointer_start(gl_db *writer, const char *path, gl_db_checkpointer **out,
                             gl_err *err);

/* Stop the thread (after one last checkpoint) and give the writer its own checkpoints back.
 * NULL is a no-op. */
void gl_db_checkpointer_stop(gl_db_checkpointer *c);

#endif
