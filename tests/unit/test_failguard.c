/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Repeated failures per key (util/failguard.c): free failures, the growing and capped delay,
 * the window after which a quiet key starts again, one logged failure per interval with the
 * count of the unlogged ones, forgetting a key, and eviction when the table is full.
 */
#include "util/failguard.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define S 1000000LL /* one second in microseconds */

static const failguard_config_t CFG = {2, 250, 4000, 60 * S, 10 * S, 64};

static failguard_verdict_t fail(failguard_t *g, const char *key, int64_t now) {
  failguard_verdict_t v;
  memset(&v, 0xff, sizeof v);
  failguard_fail(g, key, strlen(key), now, &v);
  return v;
}

Test(failguard, growing_capped_delay) {
  failguard_t *g = failguard_new(&CFG);
  static const unsigned want[] = {0, 0, 250, 500, 1000, 2000, 4000, 4000, 4000};
  for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
    failguard_verdict_t v = fail(g, "10.0.0.1\nBasic cm9vdDp4", 100 * S + i);
    cr_expect_eq(v.count, i + 1);
    cr_expect_eq(v.delay_ms, want[i], "failure %u: delay %u, want %u", i + 1, v.delay_ms, want[i]);
  }
  /* another credential from the same address, and the same credential from elsewhere: fresh */
  cr_expect_eq(fail(g, "10.0.0.1\nBasic b3RoZXI=", 100 * S).delay_ms, 0u);
  cr_expect_eq(fail(g, "10.0.0.2\nBasic cm9vdDp4", 100 * S).count, 1u);
  /* a window of quiet starts the key again */
  failguard_verdict_t v = fail(g, "10.0.0.1\nBasic cm9vdDp4", 161 * S);
  cr_expect_eq(v.count, 1u);
  cr_expect_eq(v.delay_ms, 0u);
  /* a success forgets it at once */
  fail(g, "10.0.0.1\nBasic cm9vdDp4", 162 * S);
  fail(g, "10.0.0.1\nBasic cm9vdDp4", 163 * S);
  failguard_forget(g, "10.0.0.1\nBasic cm9vdDp4", strlen("10.0.0.1\nBasic cm9vdDp4"));
  cr_expect_eq(fail(g, "10.0.0.1\nBasic cm9vdDp4", 164 * S).count, 1u);
  failguard_free(g);
}

Test(failguard, one_logged_failure_per_interval_with_a_count) {
  failguard_t *g = failguard_new(&CFG);
  failguard_verdict_t v = fail(g, "k", 100 * S);
  cr_expect(v.log);
  cr_expect_eq(v.unlogged, 0u);
  for (int i = 1; i <= 4399; i++) cr_expect_not(fail(g, "k", 100 * S + i * 2000).log);
  v = fail(g, "k", 110 * S);
  cr_expect(v.log, "the first failure after the interval is logged");
  cr_expect_eq(v.unlogged, 4399u);
  cr_expect_not(fail(g, "k", 111 * S).log);
  failguard_free(g);
}

Test(failguard, full_table_forgets_the_least_recent_key) {
  failguard_config_t c = CFG;
  c.capacity = 4; /* one set of four */
  failguard_t *g = failguard_new(&c);
  char key[32];
  for (int i = 0; i < 64; i++) {
    snprintf(key, sizeof key, "key-%d", i);
    fail(g, key, (100 + i) * S);
    fail(g, key, (100 + i) * S);
    cr_expect_eq(fail(g, key, (100 + i) * S).count, 3u, "%s", key);
  }
  /* the newest keys are remembered; the oldest were forgotten */
  cr_expect_eq(fail(g, "key-63", 170 * S).count, 4u);
  cr_expect_eq(fail(g, "key-0", 170 * S).count, 1u);
  failguard_free(g);
}
