/* Latency samples (exact: every delivery is kept, then sorted) and the servers' CPU time and
 * resident memory from /proc. */
#include "lg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void
lg_samples_add(lg_samples *s, uint64_t us)
{
    if (s->len == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 65536;
        uint32_t *nv = realloc(s->v, ncap * sizeof(*nv));
        if (nv == NULL) return; /* a lost sample only thins the percentiles */
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->len++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    s->sorted = false;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t
lg_samples_quantile(lg_samples *s, double q)
{
    size_t i;

    if (s->len == 0) return 0;
    if (!s->sorted) {
        qsort(s->v, s->len, sizeof(*s->v), cmp_u32);
        s->sorted = true;
    }
    i = (size_t)(q * (double)(s->len - 1) + 0.5);
    return s->v[i < s->len ? i : s->len - 1];
}

void
lg_samples_reset(lg_samples *s)
{
    s->len = 0;
    s->sorted = false;
}

uint64_t
lg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
lg_proc_cpu_us(const int *pids, int n)
{
    long tick = sysconf(_SC_CLK_TCK);
    uint64_t total = 0;

    for (int i = 0; i < n; i++) {
        char path[64], buf[1024];
        unsigned long long ut = 0, st = 0;
        FILE *f;
        char *p;
        size_t got;

        snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
        if ((f = fopen(path, "r")) == NULL) continue;
        got = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[got] = '\0';
        /* The command name may hold spaces and parentheses: fields count from the last ')'. */
        if ((p = strrchr(buf, ')')) == NULL) continue;
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
            continue;
        total += (ut + st) * 1000000u / (uint64_t)tick;
    }
    return total;
}

uint64_t
lg_proc_rss(const int *pids, int n)
{
    uint64_t total = 0;

    for (int i = 0; i < n; i++) {
        char path[64], line[256];
        unsigned long long kb;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", pids[i]);
        if ((f = fopen(path, "r")) == NULL) continue;
        while (fgets(line, sizeof(line), f) != NULL)
            if (sscanf(line, "VmRSS: %llu kB", &kb) == 1) {
                total += kb * 1024u;
                break;
            }
        fclose(f);
    }
    return total;
}
