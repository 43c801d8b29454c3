/* libFuzzer target for pushd/store_answer.c, what a node with the database answers to the
 * store requests of the others (off NATS): any bytes get one reply, which is JSON with a
 * boolean "ok", on a real (in-memory) database that later requests see changed. */
#include "fuzz.h"
#include "pushd/store_answer.h"
#include "shared/log.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gl_db *db;
    gl_err err;
    bool failed;
    char *reply;
    cJSON *o;

    if (db == NULL) {
        gl_log_level = GL_LOG_ERROR + 1; /* quiet: a million refusals would be logged */
        CHECK(gl_db_open(":memory:", &db, &err) == GL_OK);
    }
    reply = pd_store_answer(db, (const char *)data, size, 1 << 20, &failed);
    CHECK(reply != NULL);
    o = cJSON_Parse(reply);
    CHECK(cJSON_IsObject(o) && cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "ok")));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")) == !failed);
    cJSON_Delete(o);
    free(reply);
    return 0;
}
