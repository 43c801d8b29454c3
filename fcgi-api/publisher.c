/* Group commit for REST-published messages. Worker threads hand their message to one writer
 * thread per process and wait. The writer stores everything that queued up meanwhile in one
 * SQLite transaction (one prune per channel), then tells pushd about the whole batch in one nng
 * exchange. A reply still comes only after its row exists and pushd has answered, so the
 * promises of a single publish hold; under load each pays a share of a commit and a round trip. */
#include "api.h"
#include "routes.h"
#include "shared/event.h"
#include "shared/log.h"
#include "shared/wire.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A batch stops growing at either bound; one nng message must stay under GL_WIRE_MAX. */
#define BATCH_MAX_JOBS 64
#define BATCH_MAX_BYTES (GL_WIRE_MAX / 4)

typedef struct job {
    gl_db_batch_item st; /* what to store, and how it went */
    bool pushed;
    bool done;         /* guarded by api_publisher.mu */
    pthread_cond_t cv; /* signalled when done */
    struct job *next;
} job;

struct api_publisher {
    api_app *app;
    gl_db *db; /* the writer's own connection: its page cache stays warm */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the writer waits here for jobs */
    job *head, **tail;   /* guarded by mu */
    bool stopping;       /* guarded by mu */
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
    cJSON *item = cJSON_CreateObject(), *ev = gl_event_message(m);
    if (item == NULL || ev == NULL || cJSON_AddStringToObject(item, "op", GL_OP_PUBLISH) == NULL ||
        cJSON_AddStringToObject(item, "channel", m->channel) == NULL) {
        cJSON_Delete(item);
        cJSON_Delete(ev);
        return NULL;
    }
    cJSON_AddItemToObject(item, "event", ev);
    return item;
}

/* Tell pushd about the stored jobs in one exchange; each job learns whether pushd took it. */
static void
push_batch(api_app *app, job *list)
{
    cJSON *req = gl_wire_request(GL_OP_BATCH, NULL), *items, *reply = NULL;
    const cJSON *results, *res;
    gl_err err;
    job *j;

    if (req == NULL || (items = cJSON_AddArrayToObject(req, "items")) == NULL) {
        cJSON_Delete(req);
        return;
    }
    for (j = list; j != NULL; j = j->next)
        if (j->st.rv == GL_OK) cJSON_AddItemToArray(items, publish_item(j->st.m));
    if (cJSON_GetArraySize(items) == 0) {
        cJSON_Delete(req);
        return;
    }
    if (api_notify(app, req, &reply, &err) != GL_OK) return;
    results = cJSON_GetObjectItemCaseSensitive(reply, "results");
    res = cJSON_IsArray(results) ? results->child : NULL;
    for (j = list; j != NULL && res != NULL; j = j->next) {
        if (j->st.rv != GL_OK) continue;
        j->pushed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "ok"));
        res = res->next;
    }
    cJSON_Delete(reply);
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
        store_batch(p->db, list);
        push_batch(p->app, list);
        pthread_mutex_lock(&p->mu);
        /* A waiter frees its job once it sees done, which needs mu: read next first anyway. */
        while (list != NULL) {
            job *next = list->next;
            list->done = true;
            pthread_cond_signal(&list->cv);
            list = next;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
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
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (pthread_create(&p->thread, NULL, writer_main, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->mu);
        gl_db_close(p->db);
        free(p);
        return gl_err_set(err, GL_ENOMEM, "cannot start the publish writer thread");
    }
    app->publisher = p;
    return GL_OK;
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
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    gl_db_close(p->db);
    free(p);
    app->publisher = NULL;
}

int
api_publish(api_req *r, gl_msg *m, int keep, const gl_audit *audit, bool *pushed, gl_err *err)
{
    api_publisher *p = r->app->publisher;
    job j = {.st = {.m = m, .keep = keep, .audit = audit}};

    if (p == NULL) { /* CGI: one request per process, a batch of one on the request's db */
        store_batch(r->db, &j);
        if (j.st.rv == GL_OK) push_batch(r->app, &j);
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
    *pushed = j.pushed;
    if (j.st.rv != GL_OK && err != NULL) *err = j.st.err;
    return j.st.rv;
}
