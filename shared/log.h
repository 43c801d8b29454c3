/* Leveled logging to stderr, one line per event: "2026-11-24T10:00:00.123Z WARN db: message".
 * The level comes from LOG_LEVEL; gl_log() tests it before evaluating its arguments. */
#ifndef GL_LOG_H
#define GL_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum { GL_LOG_DEBUG = 0, GL_LOG_INFO = 1, GL_LOG_WARN = 2, GL_LOG_ERROR = 3 };

/* The one process-wide setting shared/ keeps: logging is process-wide by nature (Redis verbosity).
 */
extern int gl_log_level;

/* Parse "debug|info|warn|error" (case-insensitive); returns false for anything else. */
bool gl_log_parse_level(const char *s, int *level);

/* Set the level from the LOG_LEVEL environment variable (default info). Returns false, and
 * keeps info, when LOG_LEVEL holds an unknown value (the caller decides whether to refuse). */
bool gl_log_init_from_env(void);

/* src (NULL: "none") copied into buf (cap bytes) for a log line: control bytes become '?', and
 * a longer value is cut with "...". Returns buf. */
const char *gl_log_clean(const char *src, char *buf, size_t cap);

void gl_log_write(int level, const char *module, const char *fmt, ...)
    __attribute__((__format__(__printf__, 3, 4)));

#define gl_log(level, module, ...)                                                                 \
    do {                                                                                           \
        if ((level) >= gl_log_level) gl_log_write((level), (module), __VA_ARGS__);                 \
    } while (0)

#endif
