/* libFuzzer target for shared/chan.c: the input is "pattern<NUL or newline>name". Validation,
 * prefix and glob matching must not crash, and the matcher must agree with a dynamic-programming
 * reference (exact, and never slow). */
#include "fuzz.h"
#include "shared/chan.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_MAX 512 /* the reference table is (REF_MAX + 1)^2 bytes */

/* dp[i][j]: pattern[i..] matches name[j..]. */
static bool
ref_match(const char *p, size_t pn, const char *s, size_t sn)
{
    static bool dp[REF_MAX + 1][REF_MAX + 1];

    for (size_t i = pn + 1; i-- > 0;) {
        for (size_t j = sn + 1; j-- > 0;) {
            if (i == pn)
                dp[i][j] = j == sn;
            else if (p[i] == '*')
                dp[i][j] = dp[i + 1][j] || (j < sn && dp[i][j + 1]);
            else
                dp[i][j] = j < sn && (p[i] == '?' || p[i] == s[j]) && dp[i + 1][j + 1];
        }
    }
    return dp[0][0];
}

static char *
dup_n(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);

    CHECK(s != NULL);
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut = 0, pn, sn, n;
    char *pattern, *name, prefix[GL_CHAN_MAX + 1], small[4];
    gl_err err;

    while (cut < size && data[cut] != '\0' && data[cut] != '\n')
        cut++;
    pattern = dup_n(data, cut);
    name = dup_n(cut < size ? data + cut + 1 : data + size, cut < size ? size - cut - 1 : 0);
    pn = strlen(pattern);
    sn = strlen(name); // a second NUL in the input ends the name early

    gl_err_clear(&err);
    if (gl_chan_validate(name, &err) == GL_OK) {
        const char *colon = strchr(name, ':');

        CHECK(sn >= 1 && sn <= GL_CHAN_MAX);
        CHECK(strpbrk(name, "*?") == NULL);
        CHECK(gl_chan_match(name, name));
        n = gl_chan_prefix(name, prefix, sizeof(prefix));
        CHECK(n == (colon != NULL ? (size_t)(colon - name) : 0));
        CHECK(strlen(prefix) == n && strncmp(prefix, name, n) == 0);
    } else {
        CHECK(err.code == GL_EINVAL && memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
    }
    (void)gl_chan_validate(pattern, NULL);
    n = gl_chan_prefix(name, small, sizeof(small));
    CHECK(n < sizeof(small) && strlen(small) == n);
    CHECK(gl_chan_match("*", name));

    if (pn <= REF_MAX && sn <= REF_MAX) {
        bool got = gl_chan_match(pattern, name), want = ref_match(pattern, pn, name, sn);
        if (got != want) {
            fprintf(stderr, "gl_chan_match(\"%s\", \"%s\") = %d, want %d\n", pattern, name, got,
                    want);
            abort();
        }
    } else {
        (void)gl_chan_match(pattern, name);
    }
    free(pattern);
    free(name);
    return 0;
}
