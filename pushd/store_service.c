/* The store's answering side on NATS (store_service.h): a queue subscription whose handler
 * answers with store_answer.c. */
#include "store_service.h"
#include "store_answer.h"
#include "store_wire.h"
#include "shared/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pd_store_service {
    natsConnection *nc;
    natsSubscription *sub;
    gl_db *db;
    _Atomic uint64_t answered, failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool complete; /* guarded by mu: the subscription is closed, its handler returned */
};

static void
on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    pd_store_service *s = closure;
    const char *to = natsMsg_GetReply(msg);
    int64_t max = natsConnection_GetMaxPayload(nc);
    bool failed = true;
    char *text;
    natsStatus st;

    (void)sub;
    text = pd_store_answer(s->db, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                           max > 0 ? (size_t)max : PD_STORE_BUDGET, &failed);
    atomic_fetch_add_explicit(&s->answered, 1, memory_order_relaxed);
    if (failed) atomic_fetch_add_explicit(&s->failed, 1, memory_order_relaxed);
    if (to != NULL && text != NULL && (st = natsConnection_PublishString(nc, to, text)) != NATS_OK)
        gl_log(GL_LOG_WARN, "store", "cannot answer a node's store request: %s",
               natsStatus_GetText(st));
    free(text);
    natsMsg_Destroy(msg);
}

static void
on_complete(void *closure)
{
    pd_store_service *s = closure;

    pthread_mutex_lock(&s->mu);
    s->complete = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int
pd_store_service_start(natsConnection *nc, const char *db_path, pd_store_service **out, gl_err *err)
{
    pd_store_service *s = calloc(1, sizeof(*s));
    natsStatus st;
    int rv;

    if (s == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    s->nc = nc;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if ((rv = gl_db_open(db_path, &s->db, err)) != GL_OK) {
        pd_store_service_destroy(s);
        return rv;
    }
    if ((st = natsConnection_QueueSubscribe(&s->sub, nc, PD_STORE_SUBJECT, PD_STORE_SUBJECT,
                                            on_request, s)) != NATS_OK ||
        (st = natsSubscription_SetOnCompleteCB(s->sub, on_complete, s)) != NATS_OK) {
        pd_store_service_destroy(s);
        return gl_err_set(err, GL_EUNAVAIL, "cannot answer %s on NATS: %s", PD_STORE_SUBJECT,
                          natsStatus_GetText(st));
    }
    *out = s;
    return GL_OK;
}

void
pd_store_service_counts(const pd_store_service *s, uint64_t *answered, uint64_t *failed)
{
    *answered = atomic_load_explicit(&((pd_store_service *)s)->answered, memory_order_relaxed);
    *failed = atomic_load_explicit(&((pd_store_service *)s)->failed, memory_order_relaxed);
}

void
pd_store_service_destroy(pd_store_service *s)
{
    struct timespec until;

    if (s == NULL) return;
    /* A request may be running on NATS's thread: its database goes only once it returned. */
    if (s->sub != NULL && natsSubscription_Unsubscribe(s->sub) == NATS_OK) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        pthread_mutex_lock(&s->mu);
        while (!s->complete && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
            ;
        pthread_mutex_unlock(&s->mu);
    }
    natsSubscription_Destroy(s->sub);
    gl_db_close(s->db);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
