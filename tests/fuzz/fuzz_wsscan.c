/* libFuzzer target for pushd/wsscan.c: any byte stream, cut at a point the input chooses, gets
 * the same verdict whole and in two pieces; a verdict is one of the two codes with a reason; the
 * scanner never reads a payload, so a header-free stream of a frame's payload must not crash. */
#include "fuzz.h"
#include "pushd/wsscan.h"

#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pd_wsscan whole = {0}, parts = {0};
    const char *w1 = NULL, *w2 = NULL;
    size_t cut;
    int v1, v2a, v2b;

    if (size < 1) return 0;
    cut = data[0] % size;
    data++, size--;
    if (cut > size) cut = size;
    v1 = pd_wsscan_feed(&whole, data, size, 4096, &w1);
    v2a = pd_wsscan_feed(&parts, data, cut, 4096, &w2);
    v2b = pd_wsscan_feed(&parts, data + cut, size - cut, 4096, &w2);
    CHECK(v1 == 0 || v1 == PD_WS_PROTOCOL_ERROR || v1 == PD_WS_TOO_BIG);
    CHECK((v1 != 0) == (v2a != 0 || v2b != 0));
    CHECK(v1 == 0 || (w1 != NULL && w2 != NULL && strcmp(w1, w2) == 0));
    CHECK(whole.failed == parts.failed && whole.closed == parts.closed);
    CHECK(whole.left == parts.left && whole.have == parts.have);
    return 0;
}
