/* The cost of the chat-mode checks on one message (shared/chatmodes gl_modes_check), in the
 * process, no server: a chat line and a maximal message against 100 and 1000 blocked terms, with
 * diverse terms (as a real list) and with terms that all start alike (the byte-pair filter's worst
 * case). Prints the median of 9 timings of each case. Run: build/release/golive-bench-checks. */
#include "shared/chatmodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 9

static gl_term terms[1000];

static double
now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* {"content":"<n random lowercase letters and spaces>"}: every byte pair occurs when n is big. */
static char *
message(size_t n)
{
    char *data = malloc(n + 32);
    size_t off;

    if (data == NULL) exit(1);
    strcpy(data, "{\"content\":\"");
    off = strlen(data);
    for (size_t i = 0; i < n; i++)
        data[off + i] = (char)(rand() % 8 == 0 ? ' ' : 'a' + rand() % 26);
    strcpy(data + off + n, "\"}");
    return data;
}

/* Diverse terms: six random letters each; alike: all "blockedwordN". */
static void
make_terms(bool alike)
{
    for (int i = 0; i < 1000; i++) {
        if (alike) {
            snprintf(terms[i], GL_TERM_MAX, "blockedword%d", i);
            continue;
        }
        for (int k = 0; k < 6; k++)
            terms[i][k] = (char)('a' + rand() % 26);
        terms[i][6] = '\0';
    }
}

static void
run(const char *label, const char *data, size_t n_terms, int iters)
{
    gl_modes m;
    gl_mode_verdict v;
    gl_err err;
    double t[RUNS];

    gl_modes_resolve(&m, NULL, NULL, NULL);
    m.has_terms = true;
    m.terms = terms;
    m.n_terms = n_terms;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_us();
        for (int i = 0; i < iters; i++)
            gl_modes_check(&m, NULL, 0, GL_STANDING_NONE, false, data, NULL, 0, &v, &err);
        t[r] = (now_us() - t0) / iters;
    }
    qsort(t, RUNS, sizeof(t[0]), cmp_double);
    printf("%-44s %5zu terms  %10.2f us  (min %.2f, max %.2f)\n", label, n_terms, t[RUNS / 2], t[0],
           t[RUNS - 1]);
}

int
main(void)
{
    char *line, *big;

    srand(42);
    line = message(200);
    big = message(60000);
    for (int alike = 0; alike <= 1; alike++) {
        make_terms(alike);
        const char *kind = alike ? "terms alike" : "diverse terms";
        char label[64];
        snprintf(label, sizeof(label), "200-byte line, %s", kind);
        run(label, line, 100, 2000);
        run(label, line, 1000, 500);
        snprintf(label, sizeof(label), "60 KB message, %s", kind);
        run(label, big, 100, 20);
        run(label, big, 1000, 5);
    }
    free(line);
    free(big);
    return 0;
}
