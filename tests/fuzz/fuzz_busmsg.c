/* libFuzzer target for pushd/busmsg.c, what pushd nodes read off NATS: any bytes parse or are
 * refused without reading past them; what parses has fields in bounds, and its header printed
 * again parses to the same message. */
#include "fuzz.h"
#include "pushd/busmsg.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char hdr[PD_BUS_HEADER_MAX], again[PD_BUS_HEADER_MAX + 1];
    pd_busmsg m, n;
    size_t h;

    if (pd_busmsg_parse((const char *)data, size, &m) != 0) return 0;
    CHECK(m.payload >= (const char *)data &&
          m.payload + m.payload_len == (const char *)data + size);
    CHECK(strlen(m.node) > 0 && strlen(m.node) < PD_BUS_NODE_MAX);
    CHECK(m.id >= 0 && m.prev_id >= 0 && (m.kind != 'm' || m.prev_id < m.id));
    h = pd_busmsg_header(&m, hdr, sizeof(hdr));
    CHECK(h > 0 && h == (size_t)(m.payload - (const char *)data));
    CHECK(memcmp(hdr, data, h) == 0);
    memcpy(again, hdr, h);
    again[h] = 'x'; /* a payload, for the kinds that need one */
    if (pd_busmsg_parse(again, h + (m.payload_len > 0), &n) == 0)
        CHECK(n.kind == m.kind && n.id == m.id && n.prev_id == m.prev_id &&
              strcmp(n.node, m.node) == 0 && strcmp(n.channel, m.channel) == 0);
    return 0;
}
