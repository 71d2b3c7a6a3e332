/* SPDX-License-Identifier: Apache-2.0 */
/* util/fiber.c: run to the end, wait and be woken from another thread, thread-local blocks
 * carried by the fiber, the pool's count of live fibers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
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
