/* SPDX-License-Identifier: Apache-2.0 */
/* The service clock, ISO 8601 durations and timed-wait deadlines (util/timeutil.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/timeutil.h"

static bool dur(const char *s, int64_t *us) {
  char err[256];
  return time_parse_duration(s, us, err, sizeof err);
}

Test(duration, fixed_length_units) {
  int64_t us = 0;
  cr_assert(dur("PT72H", &us));
  cr_assert_eq(us, 72LL * 3600 * 1000000);
  cr_assert(dur("P3D", &us));
  cr_assert_eq(us, 3LL * 86400 * 1000000);
  cr_assert(dur("P1W", &us));
  cr_assert_eq(us, 7LL * 86400 * 1000000);
  cr_assert(dur("P1DT2H30M15S", &us));
  cr_assert_eq(us, (86400LL + 2 * 3600 + 30 * 60 + 15) * 1000000);
  cr_assert(dur("PT0.5S", &us));
  cr_assert_eq(us, 500000);
  cr_assert(dur("pt90m", &us));
  cr_assert_eq(us, 90LL * 60 * 1000000);
}

Test(duration, refusals_say_why) {
  int64_t us = 0;
  char err[256];
  cr_assert_not(time_parse_duration("P1M", &us, err, sizeof err));
  cr_assert(strstr(err, "no fixed length"), "%s", err);
  cr_assert_not(time_parse_duration("P1Y", &us, err, sizeof err));
  cr_assert_not(time_parse_duration("72H", &us, err, sizeof err));
  cr_assert(strstr(err, "starts with 'P'"), "%s", err);
  const char *bad[] = {"P", "PT", "P1H", "PT1D", "PT1M1H", "P-1D", "PT1.5H", "P1DT", "PT1H ", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_not(dur(bad[i], &us), "'%s' must be refused", bad[i]);
  cr_assert_not(time_parse_duration("P99999D", &us, err, sizeof err));
  cr_assert(strstr(err, "10 years"), "%s", err);
}

Test(clock, advances_forward_only) {
  int64_t off = time_offset_us();
  int64_t real = time_real_us();
  cr_assert_eq(time_advance_us(-5), off, "a negative step is ignored");
  cr_assert_eq(time_advance_us(3600LL * 1000000), off + 3600LL * 1000000);
  int64_t now = time_now_us();
  cr_assert_geq(now - real, off + 3600LL * 1000000);
  cr_assert_lt(now - real, off + 3600LL * 1000000 + 5000000);
}

/* time_day_start_us / time_month_start_us against gmtime-checked instants, leap years and
 * month ends included. */
Test(calendar, day_and_month_starts) {
  static const struct { const char *at, *day, *month; } cases[] = {
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
    {"2024-02-29T23:59:59.999999Z", "2024-02-29T00:00:00Z", "2024-02-01T00:00:00Z"},
    {"2024-03-01T00:00:00Z", "2024-03-01T00:00:00Z", "2024-03-01T00:00:00Z"},
    {"2031-01-31T12:00:00Z", "2031-01-31T00:00:00Z", "2031-01-01T00:00:00Z"},
    {"2031-12-31T23:00:00Z", "2031-12-31T00:00:00Z", "2031-12-01T00:00:00Z"},
    {"2100-03-01T08:00:00Z", "2100-03-01T00:00:00Z", "2100-03-01T00:00:00Z"},
    {"2000-02-29T08:00:00Z", "2000-02-29T00:00:00Z", "2000-02-01T00:00:00Z"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t at, day, month;
    cr_assert(time_parse_iso(cases[i].at, &at));
    cr_assert(time_parse_iso(cases[i].day, &day));
    cr_assert(time_parse_iso(cases[i].month, &month));
    cr_expect_eq(time_day_start_us(at), day, "%s", cases[i].at);
    cr_expect_eq(time_month_start_us(at), month, "%s", cases[i].at);
  }
  /* every day of 2023-2025: the month start is the 1st of the same month */
  int64_t start;
  cr_assert(time_parse_iso("2023-01-01T06:00:00Z", &start));
  for (int64_t d = 0; d < 3 * 366; d++) {
    int64_t us = start + d * INT64_C(86400000000);
    char a[TIME_ISO_LEN], m[TIME_ISO_LEN];
    time_format_iso(us, a);
    time_format_iso(time_month_start_us(us), m);
    cr_expect(strncmp(a, m, 8) == 0 && strncmp(m + 8, "01T00:00:00.0000000Z", 20) == 0, "%s -> %s", a, m);
  }
}

/* What time_format_iso wrote before it did its own arithmetic: gmtime_r + snprintf. */
static void format_iso_libc(int64_t us, char out[TIME_ISO_LEN]) {
  int64_t secs = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs--;
  }
  time_t t = (time_t)secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  int n = snprintf(out, TIME_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%07dZ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(frac * 10));
  if (n < 0) out[0] = '\0';
}

/* time_format_iso's arithmetic against gmtime_r + snprintf, over days from 1969 to 2400 at
 * varying times of day, and instants before 1970 and past year 9999. */
Test(timeutil, format_iso_matches_gmtime) {
  const int64_t samples[] = {0, -1, 1, 999999, -1000000,
                             INT64_C(951782400000000),    /* 2000-02-29 */
                             INT64_C(253402300799999999), /* 9999-12-31T23:59:59.999999 */
                             INT64_C(253402300800000000), /* 10000-01-01 */
                             INT64_C(-62135596800000000)};
  char a[TIME_ISO_LEN], b[TIME_ISO_LEN];
  for (int64_t i = -200; i < 430 * 366; i += 7) {
    int64_t us = i * INT64_C(86400000000) + (i * INT64_C(7919000123)) % INT64_C(86400000000);
    time_format_iso(us, a);
    format_iso_libc(us, b);
    cr_assert_str_eq(a, b, "%lld", (long long)us);
  }
  for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
    time_format_iso(samples[i], a);
    format_iso_libc(samples[i], b);
    cr_expect_str_eq(a, b, "%lld", (long long)samples[i]);
  }
}

Test(deadline, adds_microseconds_with_the_carry) {
  struct timespec before;
  clock_gettime(CLOCK_MONOTONIC, &before);
  struct timespec d = time_deadline(CLOCK_MONOTONIC, 1999999);  /* 2 s less 1 us */
  struct timespec after;
  clock_gettime(CLOCK_MONOTONIC, &after);
  cr_assert(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L, "normalised: %ld ns", d.tv_nsec);
  int64_t lo = (int64_t)before.tv_sec * 1000000000LL + before.tv_nsec + 1999999000LL;
  int64_t hi = (int64_t)after.tv_sec * 1000000000LL + after.tv_nsec + 1999999000LL;
  int64_t got = (int64_t)d.tv_sec * 1000000000LL + d.tv_nsec;
  cr_assert(got >= lo && got <= hi, "deadline %lld not within [%lld, %lld]", (long long)got,
            (long long)lo, (long long)hi);
}

Test(deadline, monotonic_condition_times_out) {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv;
  time_cond_init_monotonic(&cv);
  int64_t t0 = time_mono_us();
  struct timespec until = time_deadline(CLOCK_MONOTONIC, 20000);
  pthread_mutex_lock(&mu);
  int rc = pthread_cond_timedwait(&cv, &mu, &until);
  pthread_mutex_unlock(&mu);
  pthread_cond_destroy(&cv);
  cr_assert_eq(rc, ETIMEDOUT);
  cr_assert(time_mono_us() - t0 >= 20000, "waited %lld us", (long long)(time_mono_us() - t0));
}
