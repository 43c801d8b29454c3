/* libFuzzer target for shared/wire.c: any bytes as a request and as a reply, read only within
 * their length (libFuzzer's buffer has no NUL after it). An accepted request rebuilds to one that
 * parses to the same op and channel, and the items of a batch parse or are refused cleanly. */
#include "fuzz.h"
#include "shared/wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
check_rebuilt(const char *op, const char *channel)
{
    cJSON *req = gl_wire_request(op, channel), *root = NULL;
    const char *op2 = NULL, *channel2 = NULL;
    char *text;

    CHECK(req != NULL);
    text = cJSON_PrintUnformatted(req);
    CHECK(text != NULL);
    CHECK(gl_wire_parse_request(text, strlen(text), &root, &op2, &channel2, NULL) == GL_OK);
    CHECK(strcmp(op, op2) == 0);
    CHECK(channel == NULL ? channel2 == NULL : channel2 != NULL && strcmp(channel, channel2) == 0);
    cJSON_Delete(root);
    cJSON_free(text);
    cJSON_Delete(req);
}

/* A batch's items, whatever their shape: each is accepted with a non-batch op, or refused. */
static void
check_items(const cJSON *items)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, items)
    {
        const char *op = NULL, *channel = NULL;
        gl_err err;
        int rv = gl_wire_parse_item(item, &op, &channel, &err);
        if (rv == GL_OK)
            CHECK(op != NULL && strcmp(op, GL_OP_BATCH) != 0);
        else
            CHECK(rv == GL_EINVAL && err.code == GL_EINVAL);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *op = NULL, *channel = NULL;
    const cJSON *reply_data = NULL;
    cJSON *root = NULL;
    gl_err err;
    int rv;

    gl_err_clear(&err);
    rv = gl_wire_parse_request(data, size, &root, &op, &channel, &err);
    if (rv == GL_OK) {
        CHECK(root != NULL && op != NULL);
        check_rebuilt(op, channel);
        check_items(cJSON_GetObjectItemCaseSensitive(root, "items"));
        cJSON_Delete(root);
    } else {
        CHECK(rv == err.code && (rv == GL_EINVAL || rv == GL_ETOOBIG));
        CHECK(root == NULL);
    }

    root = NULL;
    gl_err_clear(&err);
    rv = gl_wire_parse_reply(data, size, &root, &reply_data, &err);
    if (rv == GL_OK) {
        CHECK(root != NULL);
        cJSON_Delete(root);
    } else {
        CHECK(rv == err.code && rv > GL_OK && rv < GL_ECOUNT);
        CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        CHECK(root == NULL);
        // Without an err the same code comes back.
        CHECK(gl_wire_parse_reply(data, size, &root, &reply_data, NULL) == rv);
    }
    return 0;
}
