/* The libwebsockets side of pushd: the context's creation and the callback switch (server.c). */
#ifndef PD_SERVER_H
#define PD_SERVER_H

#include "context.h"
#include "shared/err.h"

/* Create srv->ctx listening on srv->opt.listen (unix:/path or [host:]port). */
int pd_server_listen(pd_server *srv, gl_err *err);

#endif
