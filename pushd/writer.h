/* The history writer: a thread that stores WS-published messages in SQLite, many rows per
 * transaction, and hands each stored message (now with its row id) back to the event loop,
 * which fans it out. A message is never delivered before its row exists. */
#ifndef PD_WRITER_H
#define PD_WRITER_H

#include "server.h"

typedef struct pd_wjob {
    struct pd_wjob *next;
    pd_conn *conn;       /* publisher (a reference is held), for the reply */
    cJSON *cmd_id;       /* the command's id, to echo; may be NULL */
    gl_db_batch_item st; /* m, the channel's max_history; st.rv is GL_OK once stored */
    gl_msg m;            /* strings point into the fields below */
    char *data;
    char channel[GL_CHAN_MAX + 1];
    char user_id[GL_USER_ID_MAX];
    char username[GL_USERNAME_MAX];
} pd_wjob;

/* Open its own database connection and start the thread. */
int pd_writer_start(pd_server *srv, pd_writer **out, gl_err *err);

/* Queue a job (taken). Called on the loop thread. */
void pd_writer_submit(pd_writer *w, pd_wjob *job);

/* On the loop: take the finished jobs (a list, oldest first) to deliver and free. */
pd_wjob *pd_writer_take_done(pd_writer *w);

void pd_wjob_free(pd_wjob *job);

/* Store everything queued, stop the thread, close its database; NULL is a no-op. */
void pd_writer_stop(pd_writer *w);

#endif
