/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection limits (http/conn-guard.c): the accept policy's check and count are one step, so
 * threads accepting at the same moment never let in more than a limit and its reserve; a
 * reservation no connection took (a failed set-up) is released; the counts return to zero.
 */
#include "http/conn-guard.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define THREADS 8
#define TRIES 64

static struct sockaddr_in addr_of(unsigned host) {
  struct sockaddr_in in;
  memset(&in, 0, sizeof in);
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(0x0a000000u | host); /* 10.0.0.0/8 */
  return in;
}

static conn_guard_t *guard(unsigned max, unsigned per_ip) {
  conn_guard_config_t cfg = {.max_connections = max, .max_per_ip = per_ip};
  char *err = NULL;
  conn_guard_t *g = conn_guard_new(&cfg, &err);
  cr_assert_not_null(g, "%s", err ? err : "");
  return g;
}

typedef struct burst {
  conn_guard_t      *g;
  pthread_barrier_t *start;
  bool               one_address;
  unsigned           thread;
  conn_info_t       *held[TRIES];
  unsigned           nheld;
  unsigned           over; /* held connections marked past a limit */
} burst_t;

/* Accepts as the server's worker threads do: the policy, then (when it lets the connection
 * in) the notification that the connection started, on the same thread. */
static void *burst_main(void *arg) {
  burst_t *b = arg;
  pthread_barrier_wait(b->start);
  for (unsigned i = 0; i < TRIES; i++) {
    struct sockaddr_in in = addr_of(b->one_address ? 1 : b->thread * TRIES + i + 1);
    if (!conn_guard_accept(b->g, (struct sockaddr *)&in)) continue;
    sched_yield(); /* widen the window between the two calls */
    conn_info_t *c = conn_guard_opened(b->g, -1, (struct sockaddr *)&in);
    if (conn_guard_over(c) != CONN_OVER_NONE) b->over++;
    b->held[b->nheld++] = c;
  }
  return NULL;
}

/* THREADS threads accept TRIES connections each at once; returns how many got in and how
 * many of those were marked past a limit. */
static void run_burst(conn_guard_t *g, bool one_address, burst_t *b, unsigned *in,
                      unsigned *over) {
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, THREADS);
  pthread_t t[THREADS];
  for (unsigned i = 0; i < THREADS; i++) {
    b[i] = (burst_t){.g = g, .start = &start, .one_address = one_address, .thread = i};
    cr_assert_eq(pthread_create(&t[i], NULL, burst_main, &b[i]), 0);
  }
  *in = *over = 0;
  for (unsigned i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    *in += b[i].nheld;
    *over += b[i].over;
  }
  pthread_barrier_destroy(&start);
}

static void close_all(conn_guard_t *g, burst_t *b) {
  for (unsigned i = 0; i < THREADS; i++)
    for (unsigned j = 0; j < b[i].nheld; j++) conn_guard_closed(g, b[i].held[j]);
}

static void expect_counts(conn_guard_t *g, unsigned conns, unsigned addrs) {
  unsigned c = 99, a = 99;
  conn_guard_counts(g, &c, &a);
  cr_expect_eq(c, conns, "%u connections counted, want %u", c, conns);
  cr_expect_eq(a, addrs, "%u addresses counted, want %u", a, addrs);
}

Test(conn_guard, global_limit_holds_under_concurrent_accepts) {
  conn_guard_t *g = guard(8, 1000); /* reserve max(4, 8/8) = 4 */
  burst_t b[THREADS];
  for (int round = 0; round < 20; round++) {
    unsigned in, over;
    run_burst(g, false, b, &in, &over);
    cr_expect_eq(in, 8u + 4u, "round %d: %u connections let in, want the limit 8 and its reserve 4",
                 round, in);
    cr_expect_eq(over, 4u, "round %d: %u marked for 503, want the reserve 4", round, over);
    expect_counts(g, 12, 12);
    close_all(g, b);
    expect_counts(g, 0, 0);
  }
  conn_guard_free(g);
}

Test(conn_guard, per_address_limit_holds_under_concurrent_accepts) {
  conn_guard_t *g = guard(1000, 2); /* reserve max(4, 2/8) = 4 */
  burst_t b[THREADS];
  for (int round = 0; round < 20; round++) {
    unsigned in, over;
    run_burst(g, true, b, &in, &over);
    cr_expect_eq(in, 2u + 4u, "round %d: %u connections let in from one address, want 2 + 4",
                 round, in);
    cr_expect_eq(over, 4u, "round %d: %u marked for 503, want the reserve 4", round, over);
    expect_counts(g, 6, 1);
    close_all(g, b);
    expect_counts(g, 0, 0);
  }
  conn_guard_free(g);
}

Test(conn_guard, the_limit_counts_reservations_and_open_connections_in_order) {
  conn_guard_t *g = guard(4, 1000);
  conn_info_t *c[8];
  for (unsigned i = 0; i < 8; i++) {
    struct sockaddr_in in = addr_of(i + 1);
    cr_assert(conn_guard_accept(g, (struct sockaddr *)&in), "connection %u refused", i + 1);
    c[i] = conn_guard_opened(g, -1, (struct sockaddr *)&in);
    cr_expect_eq(conn_guard_over(c[i]), i < 4 ? CONN_OVER_NONE : CONN_OVER_GLOBAL);
  }
  struct sockaddr_in in = addr_of(100);
  cr_expect_not(conn_guard_accept(g, (struct sockaddr *)&in), "past the reserve: refused");
  expect_counts(g, 8, 8);
  conn_guard_closed(g, c[0]);
  cr_expect(conn_guard_accept(g, (struct sockaddr *)&in), "a slot freed: accepted");
  conn_info_t *d = conn_guard_opened(g, -1, (struct sockaddr *)&in);
  cr_expect_eq(conn_guard_over(d), CONN_OVER_GLOBAL, "8 open: past the limit of 4");
  conn_guard_closed(g, d);
  for (unsigned i = 1; i < 8; i++) conn_guard_closed(g, c[i]);
  expect_counts(g, 0, 0);
  conn_guard_free(g);
}

Test(conn_guard, a_reservation_without_its_connection_is_released_by_the_next_accept) {
  conn_guard_t *g = guard(4, 1000);
  struct sockaddr_in a = addr_of(1), b = addr_of(2);
  /* The library let a in, then failed to set its connection up: no conn_guard_opened. */
  cr_assert(conn_guard_accept(g, (struct sockaddr *)&a));
  expect_counts(g, 1, 1);
  /* The same thread's next accept releases it and reserves for b. */
  cr_assert(conn_guard_accept(g, (struct sockaddr *)&b));
  expect_counts(g, 1, 1);
  conn_info_t *c = conn_guard_opened(g, -1, (struct sockaddr *)&b);
  cr_expect_eq(conn_guard_over(c), CONN_OVER_NONE);
  expect_counts(g, 1, 1);
  conn_guard_closed(g, c);
  expect_counts(g, 0, 0);
  /* A connection opened without a reservation is counted then. */
  c = conn_guard_opened(g, -1, (struct sockaddr *)&a);
  expect_counts(g, 1, 1);
  conn_guard_closed(g, c);
  expect_counts(g, 0, 0);
  conn_guard_free(g);
}

typedef struct quiet {
  conn_guard_t *g;
  bool          ok;
} quiet_t;

/* Reserves a slot, as the accept policy does, and ends without a connection or another
 * accept: a thread whose last set-up failed and that accepts nothing more. */
static void *reserve_and_exit(void *arg) {
  quiet_t *q = arg;
  struct sockaddr_in in = addr_of(7);
  q->ok = conn_guard_accept(q->g, (struct sockaddr *)&in);
  return NULL;
}

Test(conn_guard, a_reservation_left_by_a_quiet_thread_is_released_after_a_few_seconds) {
  conn_guard_t *g = guard(4, 1000);
  quiet_t arg = {.g = g};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, reserve_and_exit, &arg), 0);
  pthread_join(t, NULL);
  cr_assert(arg.ok);
  expect_counts(g, 1, 1);
  /* The watchdog drops it after 5 s; the bound here is a liveness one. */
  unsigned n = 1;
  for (int i = 0; i < 300 && n; i++) {
    usleep(50 * 1000);
    conn_guard_counts(g, &n, NULL);
  }
  expect_counts(g, 0, 0);
  conn_guard_free(g);
}
