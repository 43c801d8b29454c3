/* The text buffer and HELP/TYPE lines of the Prometheus format (promtext.h). */
#include "promtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
gl_text_printf(gl_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    while (!t->failed) {
        size_t room = t->cap - t->len;
        char *p;

        if (room > 0) {
            va_start(ap, fmt);
            n = vsnprintf(t->p + t->len, room, fmt, ap);
            va_end(ap);
            if (n < 0) break;
            if ((size_t)n < room) {
                t->len += (size_t)n;
                return;
            }
        }
        if ((p = realloc(t->p, t->cap ? t->cap * 2 : 16384)) == NULL) break;
        t->p = p;
        t->cap = t->cap ? t->cap * 2 : 16384;
    }
    t->failed = true;
}

void
gl_prom_family(gl_text *t, const char *name, const char *type, const char *help)
{
    gl_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
gl_prom_labeled(gl_text *t, const char *name, const char *help, const char *label,
                const gl_prom_value *v, size_t nv)
{
    gl_prom_family(t, name, "counter", help);
    for (size_t i = 0; i < nv; i++)
        gl_text_printf(t, "%s{%s=\"%s\"} %llu\n", name, label, v[i].label, v[i].n);
}

void
gl_text_free(gl_text *t)
{
    free(t->p);
    *t = (gl_text){NULL, 0, 0, false};
}
