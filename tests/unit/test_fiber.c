/* SPDX-License-Identifier: Apache-2.0 */
/* util/fiber.c: run to the end, wait and be woken from another thread, thread-local blocks
 * carried by the fiber, the pool's count of live fibers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "util/fiber.h"

typedef struct {
  int     steps;
  int     waits;          /* how many times fn waits */
  fiber_t *self;
  atomic_int prepared;    /* before_wait calls */
  atomic_int woken;       /* wake calls */
  char    deep[3];        /* written from a deep frame on the fiber's stack */
} prog_t;

static void before_wait(void *ctx) { atomic_fetch_add(&((prog_t *)ctx)->prepared, 1); }
static void wake(void *ctx) { atomic_fetch_add(&((prog_t *)ctx)->woken, 1); }

/* Uses some stack, so a fiber's stack is really where the frames go. */
static int deep(int n, char *out) {
  volatile char buf[2048];
  memset((char *)buf, 'a' + n % 26, sizeof buf);
  if (n == 0) {
    memcpy(out, "ok", 3);
    return buf[7];
  }
  return deep(n - 1, out) + buf[n];
}

static void prog_fn(void *arg) {
  prog_t *p = arg;
  p->steps++;
  for (int i = 0; i < p->waits; i++) {
    fiber_t *f = fiber_waitable();
    cr_assert_eq(f, p->self);
    fiber_prepare_wait(f);
    fiber_wait(f);
    p->steps++;
  }
  deep(40, p->deep);
}

Test(fiber, runs_to_the_end_without_waiting) {
  fiber_pool_t *pool = fiber_pool_new(256 * 1024, 2);
  prog_t p = {.waits = 0};
  fiber_t *f = fiber_new(pool, prog_fn, &p);
  cr_assert_not_null(f);
  p.self = f;
  cr_assert_eq(fiber_pool_live(pool), 1);
  cr_assert(fiber_run(f));
  cr_assert_eq(p.steps, 1);
  cr_assert_str_eq(p.deep, "ok");
  cr_assert_null(fiber_waitable(), "no fiber runs on the thread afterwards");
  fiber_free(f);
  cr_assert_eq(fiber_pool_live(pool), 0);
  fiber_pool_free(pool);
}

static void waitable_fn(void *arg) { *(bool *)arg = fiber_waitable() != NULL; }

Test(fiber, a_fiber_without_hooks_is_not_waitable) {
  fiber_pool_t *pool = fiber_pool_new(64 * 1024, 0);
  bool waitable = true;
  fiber_t *f = fiber_new(pool, waitable_fn, &waitable);
  cr_assert(fiber_run(f));
  cr_assert_not(waitable, "without wait hooks a write blocks its thread the usual way");
  fiber_free(f);
  fiber_pool_free(pool);
}

static void *waker_main(void *arg) {
  fiber_wake(arg);
  return NULL;
}

Test(fiber, waits_and_is_run_again_after_a_wake_from_another_thread) {
  fiber_pool_t *pool = fiber_pool_new(256 * 1024, 4);
  prog_t p = {.waits = 3};
  fiber_t *f = fiber_new(pool, prog_fn, &p);
  p.self = f;
  fiber_set_wait_hooks(f, before_wait, wake, &p);
  cr_assert_not(fiber_run(f));
  for (int i = 1; i <= 3; i++) {
    cr_assert_eq(p.steps, i);
    cr_assert_eq(atomic_load(&p.prepared), i);
    cr_assert_null(fiber_waitable(), "the thread is back on its own stack");
    pthread_t t;
    pthread_create(&t, NULL, waker_main, f);
    pthread_join(t, NULL);
    cr_assert_eq(atomic_load(&p.woken), i);
    bool done = fiber_run(f);
    cr_assert_eq(done, i == 3);
  }
  cr_assert_eq(p.steps, 4);
  cr_assert_str_eq(p.deep, "ok");
  fiber_free(f);
  fiber_pool_free(pool);
}

/* A thread-local block carried by fibers. */
static _Thread_local int tl_note;
static void *note_addr(void) { return &tl_note; }

typedef struct {
  fiber_t *self;
  int seen_at_start, seen_after_wait;
} note_prog_t;

static void note_fn(void *arg) {
  note_prog_t *n = arg;
  n->seen_at_start = tl_note;
  tl_note = 42;
  fiber_prepare_wait(n->self);
  fiber_wait(n->self);
  n->seen_after_wait = tl_note;
}

Test(fiber, registered_thread_locals_follow_the_fiber) {
  fiber_register_local(note_addr, sizeof tl_note);
  fiber_pool_t *pool = fiber_pool_new(64 * 1024, 1);
  note_prog_t n = {0};
  fiber_t *f = fiber_new(pool, note_fn, &n);
  n.self = f;
  fiber_set_wait_hooks(f, NULL, NULL, NULL);
  tl_note = 7;
  cr_assert_not(fiber_run(f));
  cr_assert_eq(n.seen_at_start, 7, "a fiber starts with the thread's values");
  cr_assert_eq(tl_note, 7, "the thread gets its own value back while the fiber waits");
  tl_note = 9; /* another request on the thread */
  cr_assert(fiber_run(f));
  cr_assert_eq(n.seen_after_wait, 42, "the fiber gets back what it had");
  cr_assert_eq(tl_note, 9);
  fiber_free(f);
  fiber_pool_free(pool);
}

/* Floating-point work and text formatting on the fiber's stack across waits: the stack is
 * aligned as the ABI wants (snprintf of a double uses aligned SSE spills) and the values the
 * fiber and its caller keep in registers survive each switch. */
typedef struct {
  fiber_t *self;
  double   sum;
  char     text[64];
} fp_prog_t;

static void fp_fn(void *arg) {
  fp_prog_t *p = arg;
  volatile double x = 1.5; /* kept across the waits */
  double acc = 0;
  for (int i = 0; i < 50; i++) {
    acc += x * i;
    fiber_prepare_wait(p->self);
    fiber_wait(p->self);
  }
  p->sum = acc;
  snprintf(p->text, sizeof p->text, "%.3f %Lg", acc, (long double)acc / 3);
}

Test(fiber, keeps_registers_and_floating_point_state_across_switches) {
  fiber_pool_t *pool = fiber_pool_new(64 * 1024, 1);
  fp_prog_t p = {0};
  fiber_t *f = fiber_new(pool, fp_fn, &p);
  p.self = f;
  fiber_set_wait_hooks(f, NULL, NULL, NULL);
  double mine = 0.25;
  unsigned long runs = 0, check = 7;
  while (!fiber_run(f)) {
    runs++;
    check = check * 31 + runs; /* live in a register across fiber_run */
    mine *= 1.0001;
  }
  cr_assert_eq(runs, 50);
  unsigned long want = 7;
  for (unsigned long i = 1; i <= 50; i++) want = want * 31 + i;
  cr_assert_eq(check, want);
  cr_assert(mine > 0.25 && mine < 0.26);
  cr_assert_float_eq(p.sum, 1.5 * (49 * 50 / 2), 1e-9);
  cr_assert_str_eq(p.text, "1837.500 612.5");
  fiber_free(f);
  fiber_pool_free(pool);
}
