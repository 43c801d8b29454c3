/* Client frame headers against RFC 6455's rules (wsscan.h says which and why). */
#include "wsscan.h"

#define OP_CONTINUATION 0x0
#define OP_CLOSE 0x8
#define MAX_CONTROL_PAYLOAD 125

static uint64_t
be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Header bytes in all once the second one is known: lengths of 16 or 64 bits, a mask key. */
static uint8_t
header_size(uint8_t b1)
{
    uint8_t len7 = b1 & 0x7f;
    return (uint8_t)(2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0));
}

/* A whole header is in s->hdr: note its payload length and judge it. */
static int
judge(pd_wsscan *s, uint64_t max_message, const char **why)
{
    uint8_t op = s->hdr[0] & 0x0f, len7 = s->hdr[1] & 0x7f;
    uint64_t len = len7 == 126 ? be(s->hdr + 2, 2) : len7 == 127 ? be(s->hdr + 2, 8) : len7;

    s->left = len;
    if (s->failed) {
        if (op == OP_CLOSE) s->closed = 1;
        return 0;
    }
    if (!(s->hdr[1] & 0x80)) {
        *why = "client frames must be masked";
        return PD_WS_PROTOCOL_ERROR;
    }
    if (len7 == 127 && (s->hdr[2] & 0x80)) {
        *why = "frame length has its top bit set";
        return PD_WS_PROTOCOL_ERROR;
    }
    if (op & 0x8) { /* control frame */
        if (len > MAX_CONTROL_PAYLOAD) {
            *why = "control frame payload over 125 bytes";
            s->closed = op == OP_CLOSE;
            return PD_WS_PROTOCOL_ERROR;
        }
        if (op == OP_CLOSE && len == 1) {
            *why = "Close payload of 1 byte";
            s->closed = 1;
            return PD_WS_PROTOCOL_ERROR;
        }
        return 0;
    }
    /* Fragments add up (saturating: a 2^63 length must not wrap to a small one). */
    if (op != OP_CONTINUATION) s->message = 0;
    s->message = len > UINT64_MAX - s->message ? UINT64_MAX : s->message + len;
    if (s->message > max_message) {
        *why = "message too big";
        return PD_WS_TOO_BIG;
    }
    return 0;
}

int
pd_wsscan_feed(pd_wsscan *s, const uint8_t *p, size_t n, uint64_t max_message, const char **why)
{
    int verdict = 0;

    while (n > 0) {
        if (s->left > 0) { /* payload: skipped whole, never read */
            size_t skip = s->left < n ? (size_t)s->left : n;
            s->left -= skip;
            p += skip;
            n -= skip;
            continue;
        }
        s->hdr[s->have++] = *p++;
        n--;
        if (s->have == 2) s->need = header_size(s->hdr[1]);
        if (s->have < 2 || s->have < s->need) continue;
        s->have = 0;
        int v = judge(s, max_message, why);
        if (v != 0) { /* the first fault is the verdict; the rest is only framed */
            verdict = v;
            s->failed = 1;
        }
    }
    return verdict;
}
