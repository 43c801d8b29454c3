/* Client commands (docs/protocol.md): parse one message, check it, act, reply. */
#ifndef PD_COMMAND_H
#define PD_COMMAND_H

#include "conn.h"
#include "writer.h"

/* Handle one complete client message of len bytes. Never closes the connection for bad
 * input: the client gets an error frame. */
void pd_command_handle(pd_server *srv, pd_conn *c, const char *buf, size_t len);

/* Authenticate c with a token from the upgrade request (header or ?token=). On failure the
 * client gets an error frame and a 4001 close. */
void pd_command_authenticate(pd_server *srv, pd_conn *c, const char *token);

/* On the loop: deliver messages the history writer has stored, and answer their publishers. */
void pd_command_deliver_stored(pd_server *srv);

/* The writer's discard hook: free a publish it stored but nobody took (at stop). */
void pd_command_discard_job(pd_wjob *w);

#endif
