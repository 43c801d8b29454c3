/* A scanner of the frame headers a WebSocket client sends, for the RFC 6455 rules lws 4.1.6
 * leaves unchecked on a server (upstream checks masking from 4.3): every client frame masked
 * (5.1), a Close payload of 0 or >= 2 bytes (5.5.1), control payloads <= 125 bytes (5.5), a
 * 64-bit length with its top bit clear (5.2), and a message no bigger than the limit, refused
 * when its header arrives rather than after its payload. Pure: bytes in, a verdict out; it
 * never looks inside payloads, so it costs a few branches per frame, not per byte. */
#ifndef PD_WSSCAN_H
#define PD_WSSCAN_H

#include <stddef.h>
#include <stdint.h>

#define PD_WS_PROTOCOL_ERROR 1002
#define PD_WS_TOO_BIG 1009

typedef struct pd_wsscan {
    uint64_t left;    /* payload bytes of the current frame still to come */
    uint64_t message; /* payload bytes announced so far for the current message */
    uint8_t hdr[14];  /* the header being read */
    uint8_t have;     /* bytes of hdr read; 0 between headers */
    uint8_t need;     /* bytes the header has in all, once hdr[1] is known (else 2) */
    uint8_t failed;   /* a verdict was given: later bytes are only framed, not judged */
    uint8_t closed;   /* the peer's Close was seen: the faulty frame, or one after it */
} pd_wsscan;

/* Scan n bytes that follow what was scanned before. Returns 0 while every frame follows the
 * rules, else the close code to fail the connection with (PD_WS_PROTOCOL_ERROR or
 * PD_WS_TOO_BIG), *why a short static reason; once failed it returns 0 and only keeps track of
 * frames, so that s->closed tells when the peer's Close arrives (or that the fault was one).
 * max_message bounds the payload of one message (all its fragments). */
int pd_wsscan_feed(pd_wsscan *s, const uint8_t *p, size_t n, uint64_t max_message,
                   const char **why);

#endif
