/* Time as GoLive stores and sends it: ISO-8601 UTC with milliseconds, "2026-11-24T10:30:00.123Z".
 * Fixed width, so text comparison in SQLite orders timestamps correctly. */
#ifndef GL_TIMEFMT_H
#define GL_TIMEFMT_H

#include <stdint.h>

#define GL_TIME_MAX 32 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL, with room */

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t gl_time_now_ms(void);

/* Format ms-since-epoch into out (GL_TIME_MAX bytes). */
void gl_time_format_iso(int64_t ms, char out[GL_TIME_MAX]);

/* The current time, formatted. */
void gl_time_now_iso(char out[GL_TIME_MAX]);

/* Monotonic milliseconds, for timeouts and uptime. */
int64_t gl_time_mono_ms(void);

/* The same in microseconds (request latencies). */
int64_t gl_time_mono_us(void);

#endif
