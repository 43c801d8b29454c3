/* The answers to store requests over NATS (store_wire.h), apart from NATS: what a node that has
 * the SQLite file replies to a node that has not. store_service.c calls it on NATS's thread; the
 * unit test and the fuzzer call it directly. */
#ifndef PD_STORE_ANSWER_H
#define PD_STORE_ANSWER_H

#include "shared/db.h"

#include <stdbool.h>
#include <stddef.h>

/* The reply (JSON text, free()) to request buf[0..len) against db: an error reply when the
 * request is unreadable or its op fails (*failed true), or when the reply would pass max bytes.
 * NULL when out of memory. */
char *pd_store_answer(gl_db *db, const char *buf, size_t len, size_t max, bool *failed);

#endif
