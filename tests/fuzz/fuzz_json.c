/* libFuzzer target for shared/json.c: any bytes, read only within their length. An accepted
 * message prints to JSON that parses again, with its raw member's text unchanged (parsed numbers
 * are doubles, which cJSON prints its own way, so only the raw text is compared); the lenient
 * parse accepts whatever the strict one does; a refusal says why. */
#include "fuzz.h"
#include "shared/json.h"

#include <string.h>

static const char *const raw[] = {"data", NULL};

static void
check_reparses(const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    cJSON *back;
    gl_err err;

    CHECK(text != NULL);
    back = gl_json_parse(text, strlen(text), raw, &err);
    CHECK(back != NULL);
    CHECK(cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(back, "data")) ==
          cJSON_IsRaw(cJSON_GetObjectItemCaseSensitive(v, "data")));
    if (gl_json_raw(v, "data") != NULL)
        CHECK(strcmp(gl_json_raw(v, "data"), gl_json_raw(back, "data")) == 0);
    cJSON_Delete(back);
    cJSON_free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    gl_err err;
    cJSON *v, *lenient, *whole;

    gl_err_clear(&err);
    v = gl_json_parse(buf, size, raw, &err);
    lenient = gl_json_parse_lenient(buf, size, raw);
    whole = gl_json_parse_raw(buf, size, NULL);
    if (v != NULL) {
        CHECK(lenient != NULL && whole != NULL);
        check_reparses(v);
    } else {
        CHECK(err.code == GL_EINVAL || err.code == GL_ENOMEM);
        CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL && err.msg[0] != '\0');
    }
    /* A whole value kept raw is its input without the whitespace around it. */
    if (whole != NULL) {
        size_t n = strlen(whole->valuestring);
        CHECK(n > 0 && n <= size && memmem(buf, size, whole->valuestring, n) != NULL);
    }
    cJSON_Delete(v);
    cJSON_Delete(lenient);
    cJSON_Delete(whole);
    return 0;
}
