/* Prometheus' text exposition format (0.0.4), built in a growing buffer: both binaries' /metrics
 * print through here. On out of memory the text is marked failed and later writes do nothing. */
#ifndef GL_PROMTEXT_H
#define GL_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>

#define GL_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct gl_text {
    char *p; /* malloc'd; gl_text_free */
    size_t len, cap;
    bool failed;
} gl_text;

/* Append printf-style. */
__attribute__((__format__(__printf__, 2, 3))) void gl_text_printf(gl_text *t, const char *fmt, ...);

/* A metric family's HELP and TYPE lines. */
void gl_prom_family(gl_text *t, const char *name, const char *type, const char *help);

/* One sample of a counter with one label: its label value and count. */
typedef struct gl_prom_value {
    const char *label;
    unsigned long long n;
} gl_prom_value;

/* A counter family with one label, a sample name{label="v[i].label"} per value. */
void gl_prom_labeled(gl_text *t, const char *name, const char *help, const char *label,
                     const gl_prom_value *v, size_t nv);

void gl_text_free(gl_text *t);

#endif
