/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Activity limits counted in the store (store/limits.c), on SQLite and PostgreSQL: the limit,
 * the exact Retry-After from the oldest event of the window, all-or-none takes over several
 * keys, bucketed amounts (the upload volume), unlimited windows, tenants apart, the prune, and
 * the limit holding for takes from many threads at once (two stores on one database: what
 * several processes do).
 */
#include "store/limits.h"
#include "store/store.h"
#include "util/log.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define S 1000000LL /* one second in microseconds */


static store_t *lim_open(void) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_ensure(st, "t1"), STORE_OK);
  cr_assert_eq(store_tenant_ensure(st, "t2"), STORE_OK);
  return st;
}

/* One take of v[0..n) by tenant at now; STORE_OK or STORE_LIMITED (with *retry, *which). */
static store_rc_t take(store_t *st, const char *tenant, const store_limit_t *v, size_t n,
                       int64_t now, int64_t *retry, size_t *which) {
  store_limits_t l = {.tenant = tenant, .v = v, .n = n, .now_us = now};
  store_rc_t rc = store_limits_take(st, &l);
  if (retry) *retry = l.retry_us;
  if (which) *which = l.refused;
  return rc;
}

TestSuite(limits_store, .init = test_store_setup, .fini = test_store_teardown);

Test(limits_store, limit_and_retry_after) {
  store_t *st = lim_open();
  store_limit_t k = {STORE_LIMIT_PRINTER_JOBS, "printer-1", 3, 10 * S, 1, 1};
  int64_t retry = -1;
  size_t which = 99;
  cr_assert_eq(take(st, "t1", &k, 1, 100 * S, NULL, NULL), STORE_OK);
  cr_assert_eq(take(st, "t1", &k, 1, 102 * S, NULL, NULL), STORE_OK);
  cr_assert_eq(take(st, "t1", &k, 1, 104 * S, NULL, NULL), STORE_OK);
  /* Full: room again when the event of t=100 leaves the window, at t=110. */
  cr_assert_eq(take(st, "t1", &k, 1, 105 * S, &retry, &which), STORE_LIMITED);
  cr_assert_eq(retry, 5 * S);
  cr_assert_eq(which, 0u);
  cr_assert_eq(take(st, "t1", &k, 1, 110 * S - 1, &retry, NULL), STORE_LIMITED);
  cr_assert_eq(retry, 1);
  /* The window slides: at t=110 the first event is gone. */
  cr_assert_eq(take(st, "t1", &k, 1, 110 * S, NULL, NULL), STORE_OK);
  cr_assert_eq(take(st, "t1", &k, 1, 111 * S, &retry, NULL), STORE_LIMITED);
  cr_assert_eq(retry, 1 * S); /* the event of t=102 leaves at t=112 */
  /* Another key, and the same key of another tenant, have their own windows. */
  store_limit_t other = {STORE_LIMIT_PRINTER_JOBS, "printer-2", 3, 10 * S, 1, 1};
  cr_assert_eq(take(st, "t1", &other, 1, 111 * S, NULL, NULL), STORE_OK);
  cr_assert_eq(take(st, "t2", &k, 1, 111 * S, NULL, NULL), STORE_OK);
  store_close(st);
}

Test(limits_store, all_or_none_over_keys) {
  store_t *st = lim_open();
  store_limit_t a[] = {{STORE_LIMIT_PRINTER_JOBS, "printer", 2, 60 * S, 1, 1},
                       {STORE_LIMIT_USER_JOBS, "user-a", 3, 60 * S, 1, 1}};
  store_limit_t b[] = {{STORE_LIMIT_PRINTER_JOBS, "printer", 2, 60 * S, 1, 1},
                       {STORE_LIMIT_USER_JOBS, "user-b", 3, 60 * S, 1, 1}};
  store_limit_t b2[] = {{STORE_LIMIT_PRINTER_JOBS, "printer-2", 2, 60 * S, 1, 1},
                        {STORE_LIMIT_USER_JOBS, "user-b", 3, 60 * S, 1, 1}};
  cr_assert_eq(take(st, "t1", a, 2, 0, NULL, NULL), STORE_OK);
  cr_assert_eq(take(st, "t1", a, 2, 1 * S, NULL, NULL), STORE_OK);
  /* The printer is full: user b's take is refused and costs b nothing. */
  int64_t retry;
  size_t which = 99;
  cr_assert_eq(take(st, "t1", b, 2, 2 * S, &retry, &which), STORE_LIMITED);
  cr_assert_eq(which, 0u);
  cr_assert_eq(retry, 58 * S);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(take(st, "t1", b2, 2, (3 + i) * S, NULL, NULL),
                 i < 2 ? STORE_OK : STORE_LIMITED, "take %d", i);
  /* printer-2 is full after 2; user b has 2 events: one more fits on a third printer. */
  store_limit_t b3[] = {{STORE_LIMIT_PRINTER_JOBS, "printer-3", 2, 60 * S, 1, 1},
                        {STORE_LIMIT_USER_JOBS, "user-b", 3, 60 * S, 1, 1}};
  cr_assert_eq(take(st, "t1", b3, 2, 6 * S, NULL, NULL), STORE_OK);
  cr_assert_eq(take(st, "t1", b3, 2, 7 * S, &retry, &which), STORE_LIMITED);
  cr_assert_eq(which, 1u, "the user key refused");
  cr_assert_eq(retry, 56 * S); /* user b's oldest event: t=3 */
  /* An unlimited window takes nothing and never refuses. */
  store_limit_t free_[] = {{STORE_LIMIT_PRINTER_JOBS, "printer", 0, 60 * S, 1, 1}};
  for (int i = 0; i < 20; i++) cr_assert_eq(take(st, "t1", free_, 1, 8 * S, NULL, NULL), STORE_OK);
  store_close(st);
}

Test(limits_store, bucketed_amounts) {
  store_t *st = lim_open();
  /* 1000 bytes per 60 s, buckets of 1 s */
  store_limit_t v = {STORE_LIMIT_USER_UPLOAD, "u", 1000, 60 * S, 1 * S, 400};
  cr_assert_eq(take(st, "t1", &v, 1, 10 * S + 5, NULL, NULL), STORE_OK);
  cr_assert_eq(take(st, "t1", &v, 1, 10 * S + 9, NULL, NULL), STORE_OK); /* same bucket */
  v.amount = 200;
  cr_assert_eq(take(st, "t1", &v, 1, 20 * S, NULL, NULL), STORE_OK);
  /* 1000 + 300 > 1000: room once the bucket of t=10 s (800 bytes) leaves, at t=70 s */
  int64_t retry;
  cr_assert_eq(take(st, "t1", &v, 1, 30 * S, &retry, NULL), STORE_LIMITED);
  cr_assert_eq(retry, 40 * S);
  /* more than the limit alone: the whole window */
  v.amount = 2000;
  cr_assert_eq(take(st, "t1", &v, 1, 30 * S, &retry, NULL), STORE_LIMITED);
  cr_assert_eq(retry, 60 * S);
  v.amount = 300;
  cr_assert_eq(take(st, "t1", &v, 1, 70 * S, NULL, NULL), STORE_OK); /* 200 + 300 */
  /* the prune drops what left every window; the live rows still count */
  int n = -1;
  cr_assert_eq(store_limits_prune(st, 15 * S, &n), STORE_OK);
  cr_assert_eq(n, 1, "the bucket of t=10 s (one row for both takes)");
  v.amount = 501;
  cr_assert_eq(take(st, "t1", &v, 1, 71 * S, NULL, NULL), STORE_LIMITED);
  v.amount = 500;
  cr_assert_eq(take(st, "t1", &v, 1, 71 * S, NULL, NULL), STORE_OK);
  store_close(st);
}

typedef struct {
  store_t *st;
  int      ok, limited, failed;
} race_t;

static void *race_main(void *arg) {
  race_t *r = arg;
  store_limit_t v[] = {{STORE_LIMIT_PRINTER_JOBS, "busy", 25, 600 * S, 1, 1},
                       {STORE_LIMIT_USER_JOBS, "someone", 1000, 600 * S, 1, 1}};
  for (int i = 0; i < 20; i++) {
    store_rc_t rc = take(r->st, "t1", v, 2, 1000 * S + i, NULL, NULL);
    if (rc == STORE_OK) r->ok++;
    else if (rc == STORE_LIMITED) r->limited++;
    else r->failed++;
  }
  return NULL;
}

Test(limits_store, limit_holds_for_concurrent_takes) {
  store_t *st[2] = {lim_open(), lim_open()};  /* two handles: two processes' pools */
  race_t r[8] = {0};
  pthread_t t[8];
  for (int i = 0; i < 8; i++) {
    r[i].st = st[i % 2];
    cr_assert_eq(pthread_create(&t[i], NULL, race_main, &r[i]), 0);
  }
  int ok = 0, limited = 0, failed = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    ok += r[i].ok;
    limited += r[i].limited;
    failed += r[i].failed;
  }
  cr_assert_eq(failed, 0);
  cr_assert_eq(ok, 25, "160 takes at once: exactly the limit of 25 succeed (got %d)", ok);
  cr_assert_eq(limited, 135);
  store_close(st[0]);
  store_close(st[1]);
}
