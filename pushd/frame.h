/* An outgoing WebSocket frame: serialised once, refcounted, shared by every subscriber it is
 * queued to, with LWS_PRE bytes of headroom so lws_write() needs no copy. Loop thread only. */
#ifndef PD_FRAME_H
#define PD_FRAME_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pd_frame {
    uint32_t refs;
    uint32_t len;
    unsigned char buf[]; /* LWS_PRE headroom, then len bytes of payload */
} pd_frame;

/* A frame holding a copy of len bytes of data, with one reference; NULL when out of memory. */
pd_frame *pd_frame_new(const char *data, size_t len);

/* A frame from a string printed by cJSON, which is freed (cJSON_free) in every case. */
pd_frame *pd_frame_from_json(char *json);

static inline unsigned char *
pd_frame_payload(pd_frame *f)
{
    return f->buf + LWS_PRE;
}

static inline void
pd_frame_ref(pd_frame *f)
{
    f->refs++;
}

void pd_frame_unref(pd_frame *f);

#endif
