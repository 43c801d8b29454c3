/* Group commit for REST-published messages. Worker threads hand their message to one writer
 * thread per process and wait. The writer stores everything that queued up meanwhile in one
 * SQLite transaction (one prune per channel), then tells pushd about the whole batch in one nng
 * exchange, and goes on with the next batch without waiting for pushd's answer: up to FLIGHTS
 * batches travel at once, as separate requests did before, so that they pile up in pushd during
 * a long fan-out pass and share its sends. A reply still comes only after its row exists and
 * pushd has answered, so the promises of a single publish hold; under load each pays a share of
 * a commit and of a round trip. */
#include "api.h"
#include "counters.h"
#include "shared/db_checkpoint.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/wire.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A batch stops growing at either bound (a bigger message travels alone); one nng message must
 * stay under GL_WIRE_MAX, or nng drops the connection to pushd with every batch on it. */
#define BATCH_MAX_JOBS 64
#define BATCH_MAX_BYTES (GL_WIRE_MAX / 4)
#define FLIGHTS 8 /* batches on their way to pushd at once */

typedef struct job {
    gl_db_batch_item st; /* what to store, and how it went */
    bool pushed;
    bool done;         /* guarded by api_publisher.mu */
    pthread_cond_t cv; /* signalled when done */
    struct job *next;
} job;

/* One batch on its way to pushd. */
typedef struct flight {
    struct api_publisher *p;
    api_exchange x;
    job *list; /* guarded by api_publisher.mu; NULL while the flight is free */
} flight;

struct api_publisher {
    api_app *app;
    gl_db *db;                /* the writer's own connection: its page cache stays warm */
    gl_db_checkpointer *ckpt; /* checkpoints db's WAL off the writer thread; NULL: db does */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;   /* the writer waits here for jobs */
    pthread_cond_t landed; /* ... and here for a free flight */
    job *head, **tail;     /* guarded by mu */
    bool stopping;         /* guarded by mu */
    flight flights[FLIGHTS];
};

/* Store the batch (at most BATCH_MAX_JOBS) in one transaction. */
static void
store_batch(gl_db *db, job *list)
{
    gl_db_batch_item *items[BATCH_MAX_JOBS];
    size_t n = 0;
    for (job *j = list; j != NULL && n < BATCH_MAX_JOBS; j = j->next)
        items[n++] = &j->st;
    gl_db_store_batch(db, items, n);
}

static cJSON *
publish_item(const gl_msg *m)
{
    cJSON *item = cJSON_CreateObject();
    if (item == NULL || cJSON_AddStringToObject(item, "op", GL_OP_PUBLISH) == NULL ||
        cJSON_AddStringToObject(item, "channel", m->channel) == NULL ||
        gl_wire_add_message(item, m) != GL_OK) {
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

/* The batch request for the stored jobs of list; NULL when there is none (or out of memory:
 * then the jobs count as not pushed). */
static cJSON *
batch_request(job *list)
{
    cJSON *items, *req = gl_wire_batch(&items);

    if (req == NULL) return NULL;
    for (job *j = list; j != NULL; j = j->next)
        if (j->st.rv == GL_OK && !j->st.skipped) cJSON_AddItemToArray(items, publish_item(j->st.m));
    if (cJSON_GetArraySize(items) == 0) {
        cJSON_Delete(req);
        return NULL;
    }
    return req;
}

/* pushd's answer to a batch: one result per stored job, in order. */
static void
mark_pushed(job *list, const cJSON *data)
{
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(data, "results");
    const cJSON *res = cJSON_IsArray(results) ? results->child : NULL;
    for (job *j = list; j != NULL && res != NULL; j = j->next) {
        if (j->st.rv != GL_OK || j->st.skipped) continue;
        j->pushed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "ok"));
        res = res->next;
    }
}

/* CGI: tell pushd and wait for its answer. */
static void
push_batch_now(api_app *app, job *list)
{
    cJSON *req = batch_request(list), *reply;
    gl_err err;

    if (req != NULL && api_notify(app, req, &reply, &err) == GL_OK) {
        mark_pushed(list, reply);
        cJSON_Delete(reply);
    }
}

/* Wake the owners of list's jobs. Called with mu held; a waiter frees its job once it sees
 * done, which needs mu, so next is read before that anyway. */
static void
finish_jobs(job *list)
{
    while (list != NULL) {
        job *next = list->next;
        list->done = true;
        pthread_cond_signal(&list->cv);
        list = next;
    }
}

/* The exchange's end (on an nng thread): record what pushd took, wake the jobs' owners and
 * free the flight. */
static void
land(api_exchange *x, int rv, const cJSON *data, const gl_err *err)
{
    flight *f = x->arg;
    api_publisher *p = f->p;

    (void)err; /* logged by the exchange */
    if (rv == GL_OK) mark_pushed(f->list, data);
    api_metrics_notify(p->app->metrics, GL_OP_BATCH, rv == GL_OK);
    pthread_mutex_lock(&p->mu);
    finish_jobs(f->list);
    f->list = NULL;
    pthread_cond_signal(&p->landed);
    pthread_mutex_unlock(&p->mu);
}

/* Send list's stored jobs to pushd on a free flight (waiting for one if all are out); the jobs
 * finish when pushd answers. Jobs with nothing to send finish at once. */
static void
push_batch(api_publisher *p, job *list)
{
    cJSON *req = batch_request(list);
    char *body = req ? cJSON_PrintUnformatted(req) : NULL;
    flight *f = NULL;

    cJSON_Delete(req);
    if (body != NULL && strlen(body) > GL_WIRE_MAX) { /* one message near GOLIVE_MAX_BODY_BYTES */
        gl_log(GL_LOG_WARN, "notify", "a batch of %zu bytes is over pushd's %d: not pushed",
               strlen(body), GL_WIRE_MAX);
        cJSON_free(body);
        body = NULL;
    }
    pthread_mutex_lock(&p->mu);
    if (body == NULL) {
        finish_jobs(list);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    while (f == NULL) {
        for (int i = 0; i < FLIGHTS && f == NULL; i++)
            if (p->flights[i].list == NULL) f = &p->flights[i];
        if (f == NULL) pthread_cond_wait(&p->landed, &p->mu);
    }
    f->list = list;
    pthread_mutex_unlock(&p->mu);
    api_exchange_start(&f->x, body);
    cJSON_free(body);
}

static size_t
batch_len(const job *list)
{
    size_t n = 0;
    for (; list != NULL; list = list->next)
        n++;
    return n;
}

/* Detach the queued jobs up to the batch bounds (at least one). Called with mu held. */
static job *
take_batch(api_publisher *p)
{
    job *list = p->head, *last = list;
    size_t bytes = strlen(list->st.m->data);
    int n = 1;

    while (last->next != NULL && n < BATCH_MAX_JOBS &&
           bytes + strlen(last->next->st.m->data) <= BATCH_MAX_BYTES) {
        last = last->next;
        bytes += strlen(last->st.m->data);
        n++;
    }
    p->head = last->next;
    if (p->head == NULL) p->tail = &p->head;
    last->next = NULL;
    return list;
}

static void *
writer_main(void *arg)
{
    api_publisher *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        job *list;
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->head == NULL) break;
        list = take_batch(p);
        pthread_mutex_unlock(&p->mu);
        api_metrics_batch(p->app->metrics, batch_len(list));
        store_batch(p->db, list);
        push_batch(p, list);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Free p once every flight has landed (each lands within the ipc timeout). */
static void
destroy(api_publisher *p)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < FLIGHTS; i++)
        while (p->flights[i].list != NULL)
            pthread_cond_wait(&p->landed, &p->mu);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < FLIGHTS; i++)
        api_exchange_close(&p->flights[i].x);
    pthread_cond_destroy(&p->landed);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    gl_db_checkpointer_stop(p->ckpt);
    gl_db_close(p->db);
    free(p);
}

int
api_publisher_start(api_app *app, gl_err *err)
{
    api_publisher *p = calloc(1, sizeof(*p));
    int rv;

    if (p == NULL) return gl_err_set(err, GL_ENOMEM, "out of memory");
    p->app = app;
    p->tail = &p->head;
    if ((rv = gl_db_open(app->db_path, &p->db, err)) != GL_OK) {
        free(p);
        return rv;
    }
    {
        gl_err cerr;
        if (gl_db_checkpointer_start(p->db, app->db_path, &p->ckpt, &cerr) != GL_OK)
            gl_log(GL_LOG_WARN, "db", "the writer checkpoints itself: %s", cerr.msg);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->landed, NULL);
    for (int i = 0; i < FLIGHTS; i++) {
        flight *f = &p->flights[i];
        f->p = p;
        if ((rv = api_exchange_open(&f->x, app, land, f)) != 0) {
            rv = gl_err_set(err, GL_EIPC, "nng: %s", nng_strerror(rv));
            goto out_free;
        }
    }
    if (pthread_create(&p->thread, NULL, writer_main, p) != 0) {
        rv = gl_err_set(err, GL_ENOMEM, "cannot start the publish writer thread");
        goto out_free;
    }
    app->publisher = p;
    return GL_OK;

out_free:
    destroy(p);
    return rv;
}

void
api_publisher_stop(api_app *app)
{
    api_publisher *p = app->publisher;
    if (p == NULL) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    destroy(p);
    app->publisher = NULL;
}

int
api_publish(api_req *r, gl_db_batch_item *it, bool *pushed, gl_err *err)
{
    api_publisher *p = r->app->publisher;
    job j = {.st = *it};

    if (p == NULL) { /* CGI: one request per process, a batch of one on the request's db */
        store_batch(r->db, &j);
        push_batch_now(r->app, &j);
    } else {
        pthread_cond_init(&j.cv, NULL);
        pthread_mutex_lock(&p->mu);
        *p->tail = &j;
        p->tail = &j.next;
        pthread_cond_signal(&p->wake);
        while (!j.done)
            pthread_cond_wait(&j.cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
        pthread_cond_destroy(&j.cv);
    }
    *it = j.st;
    *pushed = j.pushed;
    if (j.st.rv == GL_OK && !j.st.skipped && !j.pushed) api_metrics_not_pushed(r->app->metrics);
    if (j.st.rv != GL_OK && err != NULL) *err = j.st.err;
    return j.st.rv;
}
