/* The store's answering side (store_wire.h): a node that has the SQLite file answers, over
 * NATS, the nodes that have not (GOLIVE_STORE=nats). Every such node of a cluster is in one
 * queue group, so each request reaches one of them. Requests run on NATS's thread of the
 * subscription, one at a time, on a database connection of the service's own. */
#ifndef PD_STORE_SERVICE_H
#define PD_STORE_SERVICE_H

#include "shared/db.h"
#include "shared/err.h"

#include <nats/nats.h>
#include <stddef.h>

typedef struct pd_store_service pd_store_service;

/* Open db_path and answer PD_STORE_SUBJECT on nc. GL_OK, GL_EDB, GL_ENOMEM or GL_EUNAVAIL. */
int pd_store_service_start(natsConnection *nc, const char *db_path, pd_store_service **out,
                           gl_err *err);

/* Requests answered, and those answered with an error (any thread). */
void pd_store_service_counts(const pd_store_service *s, uint64_t *answered, uint64_t *failed);

/* Stop answering (waiting up to 5 s for a request that is running) and free s, before nc is
 * closed. NULL is a no-op. */
void pd_store_service_destroy(pd_store_service *s);

#endif
