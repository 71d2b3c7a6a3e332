/* SPDX-License-Identifier: Apache-2.0 */
/* Wall-clock and monotonic time, and ISO 8601 formatting/parsing for Graph DateTimeOffset. */
#ifndef SPOOLD_UTIL_TIMEUTIL_H
#define SPOOLD_UTIL_TIMEUTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIME_ISO_LEN 32

/* Microseconds since the Unix epoch (UTC) on the service clock: the real time plus the offset
 * that development mode can move forward (time_advance_us). Everything that decides by date
 * (task timeout, retention, upload-session and subscription expiry, timestamps of objects)
 * reads this; token exp/nbf checks use the real time (time()). */
int64_t time_now_us(void);
/* The real wall clock, whatever the offset (log lines). */
int64_t time_real_us(void);
/* Moves the service clock forward by delta_us (> 0; development mode only). Thread-safe.
 * Returns the new offset. */
int64_t time_advance_us(int64_t delta_us);
/* The current offset of the service clock from the real time (0 unless advanced). */
int64_t time_offset_us(void);
/* Monotonic microseconds, for durations. */
int64_t time_mono_us(void);
/* Formats us-since-epoch as "2026-11-23T10:20:30.1234567Z" (7 fractional digits, like Graph). */
void time_format_iso(int64_t us, char out[TIME_ISO_LEN]);
/* Parses an ISO 8601 date-time with optional fraction and a 'Z' or +hh:mm offset.
 * Returns false when the text is not a valid date-time. */
bool time_parse_iso(const char *s, int64_t *us_out);
/* Parses an ISO 8601 duration with fixed-length units: "PT72H", "P3D", "P1W", "PT1H30M",
 * "PT0.5S", "P1DT2H". Years and months (no fixed length) and negative durations are refused.
 * Returns false with a reason in err when the text is not such a duration. */
bool time_parse_duration(const char *s, int64_t *us_out, char *err, size_t errlen);
/* Microseconds of the start (00:00 UTC) of the day that holds us (us >= 0). */
int64_t time_day_start_us(int64_t us);
/* Microseconds of the start (00:00 UTC) of the first day of the month that holds us (us >= 0). */
int64_t time_month_start_us(int64_t us);
/* HTTP-date (RFC 7231 IMF-fixdate) for us-since-epoch. */
void time_format_http(int64_t us, char out[TIME_ISO_LEN]);

/* The absolute time us microseconds from now on clock (CLOCK_MONOTONIC, or CLOCK_REALTIME for
 * a condition variable with the default clock): the deadline of a pthread_cond_timedwait. */
struct timespec time_deadline(clockid_t clock, int64_t us);
/* Initialises *cv so that its timed waits run on CLOCK_MONOTONIC (a step of the wall clock
 * neither cuts them short nor stretches them). Release it with pthread_cond_destroy. */
void time_cond_init_monotonic(pthread_cond_t *cv);

#endif
