/* stderr logging with an ISO-8601 UTC timestamp; one write(2) per line so lines from
 * several threads or processes sharing a journal never interleave. */
#include "log.h"
#include "timefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int gl_log_level = GL_LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

bool
gl_log_parse_level(const char *s, int *level)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *level = i;
            return true;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *level = GL_LOG_WARN;
        return true;
    }
    return false;
}

bool
gl_log_init_from_env(void)
{
    const char *v = getenv("LOG_LEVEL");
    gl_log_level = GL_LOG_INFO;
    if (v == NULL || *v == '\0') return true;
    return gl_log_parse_level(v, &gl_log_level);
}

const char *
gl_log_clean(const char *src, char *buf, size_t cap)
{
    size_t n = 0;

    if (src == NULL) src = "none";
    for (; src[n] != '\0' && n + 1 < cap; n++)
        buf[n] = (unsigned char)src[n] < 0x20 || src[n] == 0x7f ? '?' : src[n];
    buf[n] = '\0';
    if (src[n] != '\0' && cap > 4) memcpy(buf + cap - 4, "...", 4);
    return buf;
}

void
gl_log_write(int level, const char *module, const char *fmt, ...)
{
    char line[1024];
    char ts[GL_TIME_MAX];
    int n;
    va_list ap;

    gl_time_now_iso(ts);
    n = snprintf(line, sizeof(line), "%s %s %s: ", ts, level_names[level & 3], module);
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof(line) - 1) n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    (void)!write(STDERR_FILENO, line, (size_t)n);
}
