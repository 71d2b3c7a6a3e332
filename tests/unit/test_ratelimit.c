/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sliding-window activity limits (util/ratelimit.c): the limit, the exact Retry-After from the
 * oldest event of the window, all-or-none takes over several keys, unlimited classes, and the
 * sweep of keys that went quiet.
 */
#include "util/ratelimit.h"

#include <criterion/criterion.h>
#include <stdio.h>

#define S 1000000LL /* one second in microseconds */

Test(ratelimit, limit_and_retry_after) {
  ratelimit_class_t c[] = {{3, 10 * S}};
  ratelimit_t *rl = ratelimit_new(c, 1);
  ratelimit_key_t k = {0, "printer-1"};
  int64_t retry = -1;
  size_t which = 99;
  cr_assert(ratelimit_take(rl, &k, 1, 100 * S, &retry, &which));
  cr_assert_eq(retry, 0);
  cr_assert(ratelimit_take(rl, &k, 1, 102 * S, NULL, NULL));
  cr_assert(ratelimit_take(rl, &k, 1, 104 * S, NULL, NULL));
  /* Full: room again when the event of t=100 leaves the window, at t=110. */
  cr_assert(!ratelimit_take(rl, &k, 1, 105 * S, &retry, &which));
  cr_assert_eq(retry, 5 * S);
  cr_assert_eq(which, 0u);
  cr_assert(!ratelimit_take(rl, &k, 1, 110 * S - 1, &retry, NULL));
  cr_assert_eq(retry, 1);
  /* The window slides: at t=110 the first event is gone. */
  cr_assert(ratelimit_take(rl, &k, 1, 110 * S, NULL, NULL));
  cr_assert(!ratelimit_take(rl, &k, 1, 111 * S, &retry, NULL));
  cr_assert_eq(retry, 1 * S); /* the event of t=102 leaves at t=112 */
  /* Another key has its own window. */
  ratelimit_key_t other = {0, "printer-2"};
  cr_assert(ratelimit_take(rl, &other, 1, 111 * S, NULL, NULL));
  ratelimit_free(rl);
}

Test(ratelimit, all_or_none_over_classes) {
  ratelimit_class_t c[] = {{2, 60 * S}, {3, 60 * S}};
  ratelimit_t *rl = ratelimit_new(c, 2);
  ratelimit_key_t a[] = {{0, "printer"}, {1, "user-a"}};
  ratelimit_key_t b[] = {{0, "printer"}, {1, "user-b"}};
  ratelimit_key_t b_elsewhere[] = {{0, "printer-2"}, {1, "user-b"}};
  cr_assert(ratelimit_take(rl, a, 2, 0, NULL, NULL));
  cr_assert(ratelimit_take(rl, a, 2, 1 * S, NULL, NULL));
  /* The printer is full: user b's take is refused and costs b nothing. */
  int64_t retry;
  size_t which = 99;
  cr_assert(!ratelimit_take(rl, b, 2, 2 * S, &retry, &which));
  cr_assert_eq(which, 0u);
  cr_assert_eq(retry, 58 * S);
  for (int i = 0; i < 3; i++)
    cr_assert(ratelimit_take(rl, b_elsewhere, 2, (3 + i) * S, NULL, NULL) == (i < 2),
              "take %d", i);
  /* b_elsewhere's printer-2 is full after 2; user b has 2 events: one more fits elsewhere. */
  ratelimit_key_t b3[] = {{0, "printer-3"}, {1, "user-b"}};
  cr_assert(ratelimit_take(rl, b3, 2, 6 * S, NULL, NULL));
  cr_assert(!ratelimit_take(rl, b3, 2, 7 * S, &retry, &which));
  cr_assert_eq(which, 1u, "the user key refused");
  cr_assert_eq(retry, 56 * S); /* user b's oldest event: t=3 */
  ratelimit_free(rl);
}

Test(ratelimit, unlimited_class_and_unknown_keys) {
  ratelimit_class_t c[] = {{0, 10 * S}, {1, 10 * S}};
  ratelimit_t *rl = ratelimit_new(c, 2);
  ratelimit_key_t k[] = {{0, "x"}};
  for (int i = 0; i < 1000; i++) cr_assert(ratelimit_take(rl, k, 1, i, NULL, NULL));
  cr_assert_eq(ratelimit_size(rl), 0u, "unlimited classes keep nothing");
  ratelimit_key_t odd[] = {{7, "no such class"}, {1, NULL}};
  cr_assert(ratelimit_take(rl, odd, 2, 0, NULL, NULL));
  /* The same key twice in one take never overflows its window. */
  ratelimit_key_t twice[] = {{1, "u"}, {1, "u"}};
  cr_assert(ratelimit_take(rl, twice, 2, 0, NULL, NULL));
  cr_assert(!ratelimit_take(rl, twice, 1, 1, NULL, NULL));
  ratelimit_free(rl);
}

Test(ratelimit, quiet_keys_are_swept) {
  ratelimit_class_t c[] = {{5, 10 * S}};
  ratelimit_t *rl = ratelimit_new(c, 1);
  char names[300][16];
  for (int i = 0; i < 300; i++) {
    snprintf(names[i], sizeof names[i], "k%d", i);
    ratelimit_key_t k = {0, names[i]};
    cr_assert(ratelimit_take(rl, &k, 1, 0, NULL, NULL));
  }
  cr_assert_eq(ratelimit_size(rl), 300u);
  /* Much later, enough takes on one key trigger a sweep of the others. */
  ratelimit_key_t hot = {0, "hot"};
  for (int i = 0; i < 1100; i++) ratelimit_take(rl, &hot, 1, 100 * S + i * S, NULL, NULL);
  cr_assert_leq(ratelimit_size(rl), 1u);
  ratelimit_free(rl);
}
