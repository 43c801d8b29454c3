/* golive-api's FastCGI worker threads. The threads take turns waiting in one epoll set that
 * holds the listening socket and every connection the web server keeps open between requests
 * (nginx's fastcgi_keep_conn, Apache's enablereuse): an idle kept connection costs a file
 * descriptor, not a parked thread, and a request on it is served by whichever thread is free. */
#ifndef API_WORKERS_H
#define API_WORKERS_H

#include "api.h"

/* Serve FastCGI requests on listen_fd with threads worker threads (each with its own database
 * connection) until api_workers_stop; returns GL_OK then, or a GL_E* when none could start. */
int api_workers_run(api_app *app, int listen_fd, long threads, gl_err *err);

/* Make api_workers_run return once every request in progress has been answered. Safe in a
 * signal handler, and before api_workers_run has started. */
void api_workers_stop(void);

#endif
