/* SPDX-License-Identifier: Apache-2.0 */
/* Time helpers: clocks, ISO 8601 and HTTP dates. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm */
#endif
#include "util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

/* The service clock's offset from the real one (development mode moves it). A process global
 * on purpose: the clock is read everywhere, store closures included, without a context, and
 * it must be the same for every thread. */
static _Atomic int64_t g_offset_us;

int64_t time_real_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_now_us(void) { return time_real_us() + atomic_load(&g_offset_us); }

int64_t time_advance_us(int64_t delta_us) {
  if (delta_us <= 0) return atomic_load(&g_offset_us);
  return atomic_fetch_add(&g_offset_us, delta_us) + delta_us;
}

int64_t time_offset_us(void) { return atomic_load(&g_offset_us); }

int64_t time_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Writes v as n decimal digits (zero-padded) at p. */
static void put_digits(char *p, unsigned v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
}

void time_format_iso(int64_t us, char out[TIME_ISO_LEN]) {
  /* Integer arithmetic (Hinnant's civil_from_days), not gmtime_r + snprintf: every request
   * formats a few of these (the log line, the job's dates), and gmtime_r takes glibc's time
   * zone lock. */
  int64_t secs = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs--;
  }
  int64_t days = secs / 86400, sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days--;
  }
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  if (y < 0 || y > 9999) { /* outside four digits: as snprintf's %04d would write it */
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(out, TIME_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%07dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(frac * 10));
    if (n < 0) out[0] = '\0';
    return;
  }
  /* YYYY-MM-DDThh:mm:ss.fffffffZ */
  put_digits(out, (unsigned)y, 4);
  out[4] = '-';
  put_digits(out + 5, (unsigned)m, 2);
  out[7] = '-';
  put_digits(out + 8, (unsigned)d, 2);
  out[10] = 'T';
  put_digits(out + 11, (unsigned)(sod / 3600), 2);
  out[13] = ':';
  put_digits(out + 14, (unsigned)(sod / 60 % 60), 2);
  out[16] = ':';
  put_digits(out + 17, (unsigned)(sod % 60), 2);
  out[19] = '.';
  put_digits(out + 20, (unsigned)(frac * 10), 7);
  out[27] = 'Z';
  out[28] = '\0';
}

#define DAY_US INT64_C(86400000000)

int64_t time_day_start_us(int64_t us) { return us / DAY_US * DAY_US; }

/* Steps back from the day to the 1st through the day of the year in a March-based year
 * (Hinnant's civil_from_days); the same integer arithmetic as migration 8's backfill. */
int64_t time_month_start_us(int64_t us) {
  int64_t day = us / DAY_US;
  int64_t z = day + 719468;
  int64_t era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  return (day - (doy - (153 * mp + 2) / 5)) * DAY_US;
}

void time_format_http(int64_t us, char out[TIME_ISO_LEN]) {
  time_t secs = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  strftime(out, TIME_ISO_LEN, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*p)[i])) return false;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return true;
}

bool time_parse_iso(const char *s, int64_t *us_out) {
  const char *p = s;
  int Y, M, D, h = 0, m = 0, sec = 0;
  if (!digits(&p, 4, &Y) || *p++ != '-' || !digits(&p, 2, &M) || *p++ != '-' || !digits(&p, 2, &D))
    return false;
  if (*p != 'T' && *p != 't') return false;
  p++;
  if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &m)) return false;
  if (*p == ':') {
    p++;
    if (!digits(&p, 2, &sec)) return false;
  }
  int64_t frac_us = 0;
  if (*p == '.') {
    p++;
    int n = 0;
    int64_t scale = 100000;
    while (isdigit((unsigned char)*p)) {
      if (n < 6) { frac_us += (*p - '0') * scale; scale /= 10; }
      p++;
      n++;
    }
    if (n == 0) return false;
  }
  int offset_s = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1, oh, om;
    p++;
    if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om)) return false;
    if (oh > 23 || om > 59) return false;
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return false;
  }
  if (*p) return false;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || m > 59 || sec > 60) return false;
  bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (M == 2 && D == 29 && !leap) return false;
  struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m,
                  .tm_sec = sec};
  time_t t = timegm(&tm);
  *us_out = ((int64_t)t - offset_s) * 1000000 + frac_us;
  return true;
}

bool time_parse_duration(const char *s, int64_t *us_out, char *err, size_t errlen) {
  if (!s || (s[0] != 'P' && s[0] != 'p')) {
    snprintf(err, errlen, "an ISO 8601 duration starts with 'P' (for example PT72H)");
    return false;
  }
  const char *p = s + 1;
  bool in_time = false, any = false;
  int64_t total = 0;
  const char *order = "WD", *torder = "HMS";
  while (*p) {
    if (*p == 'T' || *p == 't') {
      if (in_time || !p[1]) goto bad;
      in_time = true;
      p++;
      continue;
    }
    if (!isdigit((unsigned char)*p)) goto bad;
    int64_t whole = 0;
    while (isdigit((unsigned char)*p)) {
      if (whole > 100000000) goto range;
      whole = whole * 10 + (*p++ - '0');
    }
    int64_t frac_us = 0;
    if (*p == '.' || *p == ',') {
      p++;
      int64_t scale = 100000;
      if (!isdigit((unsigned char)*p)) goto bad;
      while (isdigit((unsigned char)*p)) {
        frac_us += (*p++ - '0') * scale;
        scale /= 10;
      }
      if (toupper((unsigned char)*p) != 'S' || !in_time) goto bad; /* fractions: seconds only */
    }
    char u = (char)toupper((unsigned char)*p);
    if (!u) goto bad;
    int64_t unit;
    if (!in_time) {
      if (u == 'Y' || u == 'M') {
        snprintf(err, errlen, "years and months have no fixed length; use weeks, days, hours, "
                 "minutes or seconds");
        return false;
      }
      const char *at = strchr(order, u);
      if (!at) goto bad;
      order = at + 1;
      unit = u == 'W' ? 7 * 86400LL : 86400LL;
    } else {
      const char *at = strchr(torder, u);
      if (!at) goto bad;
      torder = at + 1;
      unit = u == 'H' ? 3600LL : u == 'M' ? 60LL : 1LL;
    }
    total += whole * unit * 1000000 + frac_us;
    if (total > 3650LL * 86400 * 1000000) goto range;
    any = true;
    p++;
  }
  if (!any) goto bad;
  *us_out = total;
  return true;
range:
  snprintf(err, errlen, "the duration is longer than 10 years");
  return false;
bad:
  snprintf(err, errlen, "'%.64s' is not an ISO 8601 duration such as PT72H, P3D or PT1H30M", s);
  return false;
}

struct timespec time_deadline(clockid_t clock, int64_t us) {
  struct timespec t;
  clock_gettime(clock, &t);
  t.tv_sec += (time_t)(us / 1000000);
  t.tv_nsec += (long)(us % 1000000) * 1000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

void time_cond_init_monotonic(pthread_cond_t *cv) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(cv, &ca);
  pthread_condattr_destroy(&ca);
}
