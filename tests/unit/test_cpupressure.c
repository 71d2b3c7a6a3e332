/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CPU pressure gate (util/cpupressure.h) driven with fixed inputs: the parse of a
 * cpu.pressure text and the decision over a series of samples (windows, hysteresis, a counter
 * going back). Nothing here reads this machine's pressure.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "util/cpupressure.h"

#define MS 1000LL

Test(cpu_pressure, parses_the_some_total) {
  uint64_t t = 0;
  cr_assert_eq(cpu_pressure_parse("some avg10=41.20 avg60=39.09 avg300=17.34 total=4402878619\n"
                                  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &t), 0);
  cr_assert_eq(t, 4402878619ULL);
  /* the line's order does not matter, nor a missing final newline */
  cr_assert_eq(cpu_pressure_parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"
                                  "some avg10=0.00 avg60=0.00 avg300=0.00 total=12", &t), 0);
  cr_assert_eq(t, 12);
  cr_assert_eq(cpu_pressure_parse("some total=0\n", &t), 0);
  cr_assert_eq(t, 0);
}

Test(cpu_pressure, refuses_what_is_not_a_some_total) {
  uint64_t t = 99;
  cr_assert_eq(cpu_pressure_parse("", &t), -1);
  cr_assert_eq(cpu_pressure_parse("full avg10=0.00 total=5\n", &t), -1);
  cr_assert_eq(cpu_pressure_parse("some avg10=1.00 avg60=0.00 avg300=0.00\n"
                                  "full avg10=0.00 total=5\n", &t), -1);  /* not the full's */
  cr_assert_eq(cpu_pressure_parse("some avg10=1.00 total=\n", &t), -1);
  cr_assert_eq(cpu_pressure_parse("some avg10=1.00 total=-3\n", &t), -1);
  cr_assert_eq(cpu_pressure_parse("some avg10=1.00 total=12x\n", &t), -1);
  cr_assert_eq(cpu_pressure_parse("some avg10=1.00 total=99999999999999999999999\n", &t), -1);
  cr_assert_eq(cpu_pressure_parse("someone total=5\n", &t), -1);
  cr_assert_eq(t, 99, "a refused text leaves the total alone");
}

/* The stalled microseconds of a window of w_us at share s. */
static uint64_t stalled(double s, int64_t w_us) { return (uint64_t)(s * (double)w_us); }

Test(cpu_pressure, first_window_decides_by_the_upper_bound) {
  const double mid = (CPU_PRESSURE_FREE_BELOW + CPU_PRESSURE_CONTENDED_ABOVE) / 2;
  cpu_pressure_gate_t g = {0};
  cr_assert(cpu_pressure_gate_feed(&g, 1000, 5000 * MS), "no window yet counts as contended");
  cr_assert_not(g.known);
  cr_assert_eq(g.share, -1);
  int64_t w = CPU_PRESSURE_SAMPLE_US;
  cr_assert_not(cpu_pressure_gate_feed(&g, 1000 + stalled(mid, w), 5000 * MS + w),
                "a first window between the bounds is not contended");
  cr_assert(g.known);
  cr_assert_float_eq(g.share, mid, 1e-3);
}

Test(cpu_pressure, hysteresis_between_the_bounds) {
  const double lo = CPU_PRESSURE_FREE_BELOW / 2;
  const double mid = (CPU_PRESSURE_FREE_BELOW + CPU_PRESSURE_CONTENDED_ABOVE) / 2;
  const double hi = (CPU_PRESSURE_CONTENDED_ABOVE + 1) / 2;
  const int64_t w = 2 * CPU_PRESSURE_SAMPLE_US;
  cpu_pressure_gate_t g = {0};
  uint64_t total = 0;
  int64_t now = 10 * MS;
  cpu_pressure_gate_feed(&g, total, now);
  struct { double share; bool contended; } steps[] = {
      {lo, false}, {mid, false}, {hi, true}, {mid, true}, {mid, true}, {lo, false}, {mid, false},
      {1.0, true}, {0.0, false},
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    total += stalled(steps[i].share, w);
    now += w;
    cr_assert_eq(cpu_pressure_gate_feed(&g, total, now), steps[i].contended,
                 "step %zu (share %.3f)", i, steps[i].share);
    cr_assert_eq(g.contended, steps[i].contended);
    cr_assert_float_eq(g.share, steps[i].share, 1e-3, "step %zu", i);
  }
}

Test(cpu_pressure, a_sample_inside_the_window_is_ignored) {
  const double hi = (CPU_PRESSURE_CONTENDED_ABOVE + 1) / 2;
  cpu_pressure_gate_t g = {0};
  cpu_pressure_gate_feed(&g, 0, 100 * MS);
  cr_assert_not(cpu_pressure_gate_feed(&g, 0, 100 * MS + CPU_PRESSURE_SAMPLE_US));
  /* fully stalled since, but too soon for a new window: the decision stays */
  int64_t soon = 100 * MS + CPU_PRESSURE_SAMPLE_US + CPU_PRESSURE_SAMPLE_US / 2;
  cr_assert_not(cpu_pressure_gate_feed(&g, CPU_PRESSURE_SAMPLE_US, soon));
  cr_assert_eq(g.total_us, 0, "the early sample is not taken");
  /* the window is measured from the last sample taken */
  int64_t later = 100 * MS + 3 * CPU_PRESSURE_SAMPLE_US;
  cr_assert(cpu_pressure_gate_feed(&g, stalled(hi, 2 * CPU_PRESSURE_SAMPLE_US), later));
  cr_assert_float_eq(g.share, hi, 1e-3);
}

Test(cpu_pressure, a_counter_going_back_starts_over) {
  cpu_pressure_gate_t g = {0};
  cpu_pressure_gate_feed(&g, 5000, 100 * MS);
  cr_assert_not(cpu_pressure_gate_feed(&g, 5000, 100 * MS + CPU_PRESSURE_SAMPLE_US));
  cr_assert(cpu_pressure_gate_feed(&g, 10, 100 * MS + 2 * CPU_PRESSURE_SAMPLE_US),
            "a total below the last one is a first sample again");
  cr_assert_not(g.known);
  cr_assert_eq(g.share, -1);
  cr_assert_not(cpu_pressure_gate_feed(&g, 10, 100 * MS + 3 * CPU_PRESSURE_SAMPLE_US));
}
