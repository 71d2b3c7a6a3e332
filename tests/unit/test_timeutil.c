/* SPDX-License-Identifier: Apache-2.0 */
/* The service clock and ISO 8601 durations (util/timeutil.h). */
#include <criterion/criterion.h>
#include <string.h>

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
