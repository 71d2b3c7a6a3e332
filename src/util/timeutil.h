/* Wall-clock and monotonic time, and ISO 8601 formatting/parsing for Graph DateTimeOffset. */
#ifndef SPOOLD_UTIL_TIMEUTIL_H
#define SPOOLD_UTIL_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

#define TIME_ISO_LEN 32

/* Microseconds since the Unix epoch (UTC). */
int64_t time_now_us(void);
/* Monotonic microseconds, for durations. */
int64_t time_mono_us(void);
/* Formats us-since-epoch as "2026-11-23T10:20:30.1234567Z" (7 fractional digits, like Graph). */
void time_format_iso(int64_t us, char out[TIME_ISO_LEN]);
/* Parses an ISO 8601 date-time with optional fraction and a 'Z' or +hh:mm offset.
 * Returns false when the text is not a valid date-time. */
bool time_parse_iso(const char *s, int64_t *us_out);
/* HTTP-date (RFC 7231 IMF-fixdate) for us-since-epoch. */
void time_format_http(int64_t us, char out[TIME_ISO_LEN]);

#endif
