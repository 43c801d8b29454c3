/* Refcounted frames: one allocation per fanned-out event, whatever the subscriber count. */
#include "frame.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

pd_frame *
pd_frame_new(const char *data, size_t len)
{
    pd_frame *f;
    if (len > UINT32_MAX) return NULL;
    f = malloc(sizeof(*f) + LWS_PRE + len);
    if (f == NULL) return NULL;
    f->refs = 1;
    f->len = (uint32_t)len;
    memcpy(f->buf + LWS_PRE, data, len);
    return f;
}

pd_frame *
pd_frame_from_json(char *json)
{
    pd_frame *f;
    if (json == NULL) return NULL;
    f = pd_frame_new(json, strlen(json));
    cJSON_free(json);
    return f;
}

void
pd_frame_unref(pd_frame *f)
{
    if (f != NULL && --f->refs == 0) free(f);
}
