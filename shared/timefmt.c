/* Wall-clock and monotonic time helpers; gmtime_r keeps them thread-safe. */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
gl_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
gl_time_mono_ms(void)
{
    return gl_time_mono_us() / 1000;
}

int64_t
gl_time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
gl_time_format_iso(int64_t ms, char out[GL_TIME_MAX])
{
    time_t secs;
    if (ms < 0) ms = 0; /* before 1970 is never a real GoLive time; keep the format fixed-width */
    secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[96]; /* roomy enough for any int fields, which keeps -Wformat-truncation quiet */
    gmtime_r(&secs, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    size_t n = strnlen(buf, GL_TIME_MAX - 1);
    memcpy(out, buf, n);
    out[n] = '\0';
}

void
gl_time_now_iso(char out[GL_TIME_MAX])
{
    gl_time_format_iso(gl_time_now_ms(), out);
}
