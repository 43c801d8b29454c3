/* The libev loop pushd and lws share (loop.h says why). An ev_prepare watcher runs right
 * before each wait for events, that is after every pass's callbacks: the end-of-pass hook
 * there (the server's flush) writes what the pass queued, several frames per send where they
 * piled up. */
#include "loop.h"

#include <ev.h>
#include <stdlib.h>

struct pd_loop {
    struct ev_loop *ev;
    ev_prepare end_of_pass;
    pd_loop_hook hook;
    void *foreign[1];
};

static void
on_end_of_pass(struct ev_loop *ev, ev_prepare *w, int revents)
{
    pd_server *srv = w->data;
    (void)ev;
    (void)revents;
    srv->loop->hook(srv);
}

int
pd_loop_create(pd_server *srv, pd_loop_hook end_of_pass, gl_err *err)
{
    pd_loop *l = calloc(1, sizeof(*l));

    if (l == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    if ((l->ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV)) == NULL) {
        free(l);
        return gl_err_set(err, GL_EUNAVAIL, "cannot create the event loop (libev)");
    }
    l->hook = end_of_pass;
    ev_prepare_init(&l->end_of_pass, on_end_of_pass);
    l->end_of_pass.data = srv;
    ev_prepare_start(l->ev, &l->end_of_pass);
    l->foreign[0] = l->ev;
    srv->loop = l;
    return GL_OK;
}

void **
pd_loop_foreign(pd_server *srv)
{
    return srv->loop->foreign;
}

void
pd_loop_run(pd_server *srv)
{
    ev_run(srv->loop->ev, 0);
}

void
pd_loop_run_once(pd_server *srv)
{
    ev_run(srv->loop->ev, EVRUN_ONCE);
}

void
pd_loop_break(pd_server *srv)
{
    ev_break(srv->loop->ev, EVBREAK_ALL);
}

void
pd_loop_destroy(pd_server *srv)
{
    if (srv->loop == NULL) return;
    ev_prepare_stop(srv->loop->ev, &srv->loop->end_of_pass);
    ev_loop_destroy(srv->loop->ev);
    free(srv->loop);
    srv->loop = NULL;
}
