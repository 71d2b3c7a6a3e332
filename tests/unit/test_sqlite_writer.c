/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's hand-over of its writer connection (store/sqlite.c, "A lone writer
 * commits inline"): a lone write runs and commits on its caller's thread; a write arriving
 * while that commit runs waits and is committed by the writer thread afterwards, never on the
 * connection at the same time; a write inside a read transaction and a db_write_fk_off still
 * go to the writer thread; db_close waits for an inline commit and drains what queued behind
 * it. SQLite only (PostgreSQL has no writer thread), so the suite is not a store_* one.
 * These tests open the database with --inline-commit on (DB_INLINE_ON), so that they do not
 * depend on the machine's CPU pressure (the auto mode's gate, util/cpupressure.h, has tests of
 * its own in test_cpupressure.c); one checks that off sends a lone write to the writer thread.
 */
#include "store/db-backend.h"
#include "store/db.h"
#include "util/fiber.h"
#include "util/log.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include "thread-check.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

TestSuite(sqlite_writer, .init = test_store_setup, .fini = test_store_teardown, .timeout = 60);

/* A SQLite database in the test's directory, whatever SPOOLD_TEST_PG says, with
 * --inline-commit mode. */
static db_t *open_db_mode(int mode) {
  char url[4200];
  snprintf(url, sizeof url, "sqlite:%s/w.db", test_store_dir());
  char *err = NULL;
  db_options_t opts = {.inline_commit = mode};
  db_t *db = db_open(url, 2, &opts, &err);
  cr_assert_not_null(db, "%s", err ? err : "?");
  return db;
}

static db_t *open_db(void) { return open_db_mode(DB_INLINE_ON); }

static int exec_fn(db_conn_t *c, void *arg) { return db_exec(c, arg); }

/* A closure that notes the thread it ran on and inserts a row. */
typedef struct {
  const char *sql;       /* the insert */
  pthread_t   ran_on;
  atomic_int  ran;
} noted_t;

static int noted_fn(db_conn_t *c, void *arg) {
  noted_t *n = arg;
  n->ran_on = pthread_self();
  atomic_store(&n->ran, 1);
  return db_exec(c, n->sql);
}

static int count_rows(db_t *db) { return (int)test_db_count(db, "SELECT count(*) FROM t"); }

/* The writer has committed something, so it is running and waits for work (the very first
 * write may reach it before its thread started to wait, and then queues). */
static void warm_up(db_t *db) {
  cr_assert_eq(db_write(db, exec_fn, "CREATE TABLE t (v TEXT)"), 0);
}

/* A lone write commits on its caller's thread, durable and counted as a commit; a write from
 * inside a read transaction and a db_write_fk_off are committed by the writer thread. */
static int write_inside_read_fn(db_conn_t *c, void *arg) {
  (void)c;
  db_t *db = ((void **)arg)[0];
  noted_t *n = ((void **)arg)[1];
  return db_write(db, noted_fn, n);
}

Test(sqlite_writer, lone_write_commits_on_the_callers_thread) {
  db_t *db = open_db();
  warm_up(db);
  db_stats_t before, after;
  db_get_stats(db, &before);
  noted_t a = {.sql = "INSERT INTO t VALUES ('a')"}, b = {.sql = "INSERT INTO t VALUES ('b')"};
  cr_assert_eq(db_write(db, noted_fn, &a), 0);
  cr_assert(pthread_equal(a.ran_on, pthread_self()), "a lone write went to the writer thread");
  cr_assert_eq(db_write(db, noted_fn, &b), 0);
  cr_assert(pthread_equal(b.ran_on, pthread_self()), "a second lone write went to the writer");
  db_get_stats(db, &after);
  cr_assert_eq(after.commits - before.commits, 2);
  cr_assert_eq(after.closures - before.closures, 2);
  cr_assert_eq(after.inline_commits - before.inline_commits, 2);
  cr_assert_eq(count_rows(db), 2);

  noted_t r = {.sql = "INSERT INTO t VALUES ('r')"};
  void *args[] = {db, &r};
  cr_assert_eq(db_read(db, write_inside_read_fn, args), 0);
  cr_assert(!pthread_equal(r.ran_on, pthread_self()), "a write inside a read ran inline");

  noted_t f = {.sql = "INSERT INTO t VALUES ('f')"};
  cr_assert_eq(db_write_fk_off(db, noted_fn, &f), 0);
  cr_assert(!pthread_equal(f.ran_on, pthread_self()), "a db_write_fk_off ran inline");
  cr_assert_eq(count_rows(db), 4);
  db_close(db);

  /* durable: a fresh open sees every row */
  db = open_db();
  cr_assert_eq(count_rows(db), 4);
  db_close(db);
}

/* --inline-commit off: a lone write goes to the writer thread, and none counts as inline. */
Test(sqlite_writer, off_sends_a_lone_write_to_the_writer) {
  db_t *db = open_db_mode(DB_INLINE_OFF);
  warm_up(db);
  db_stats_t before, after;
  db_get_stats(db, &before);
  cr_assert_not(before.inline_allowed);
  for (int i = 0; i < 3; i++) {
    noted_t n = {.sql = "INSERT INTO t VALUES ('x')"};
    cr_assert_eq(db_write(db, noted_fn, &n), 0);
    cr_assert(!pthread_equal(n.ran_on, pthread_self()), "write %d ran inline with off", i);
  }
  db_get_stats(db, &after);
  cr_assert_eq(after.commits - before.commits, 3);
  cr_assert_eq(after.inline_commits, 0);
  cr_assert_eq(count_rows(db), 3);
  db_close(db);

  db = open_db_mode(DB_INLINE_ON);
  db_get_stats(db, &after);
  cr_assert(after.inline_allowed, "on allows inline commits");
  db_close(db);
}

/* A lone write from a thread that serves other clients (an HTTP worker with other
 * connections open, util/fiber.h) goes to the writer thread: committing inline would hold those
 * clients for the commit. With one client (its own) it commits inline again. */
Test(sqlite_writer, lone_write_of_a_shared_thread_goes_to_the_writer) {
  db_t *db = open_db();
  warm_up(db);
  db_stats_t before, after;
  fiber_thread_clients_add(2);
  db_get_stats(db, &before);
  for (int i = 0; i < 3; i++) {
    noted_t n = {.sql = "INSERT INTO t VALUES ('x')"};
    cr_assert_eq(db_write(db, noted_fn, &n), 0);
    cr_assert(!pthread_equal(n.ran_on, pthread_self()), "write %d ran inline beside a client", i);
  }
  db_get_stats(db, &after);
  cr_assert_eq(after.commits - before.commits, 3);
  cr_assert_eq(after.inline_commits - before.inline_commits, 0);

  fiber_thread_clients_add(-1);
  noted_t n = {.sql = "INSERT INTO t VALUES ('y')"};
  cr_assert_eq(db_write(db, noted_fn, &n), 0);
  cr_assert(pthread_equal(n.ran_on, pthread_self()), "a lone client's write went to the writer");
  fiber_thread_clients_add(-1);
  cr_assert_eq(fiber_thread_clients(), 0);
  cr_assert_eq(count_rows(db), 4);
  db_close(db);
}

/* An inline commit held open by its closure until g_gate; what it saw of the others. */
static atomic_int g_gate, g_a_running, g_a_done, g_b_queued, g_close_started, g_close_returned;

typedef struct {
  db_t      *db;
  noted_t    n;
  int        rc;
  bool       raw;    /* through the backend's write, not db_write (see close_waits_...) */
} writer_t;

static int blocking_fn(db_conn_t *c, void *arg) {
  noted_t *n = arg;
  n->ran_on = pthread_self();
  atomic_store(&g_a_running, 1);
  while (!atomic_load(&g_gate)) usleep(1000);
  int rc = db_exec(c, n->sql);
  atomic_store(&g_a_done, 1);
  return rc;
}

/* Runs once A committed: sees A's row, and ran after A's closure returned. */
static int after_a_fn(db_conn_t *c, void *arg) {
  CHECK(atomic_load(&g_a_done));
  test_count_t cnt = {.sql = "SELECT count(*) FROM t WHERE v = 'a'"};
  CHECK(test_count_fn(c, &cnt) == 0 && cnt.n == 1);
  return noted_fn(c, arg);
}

static void *a_thread(void *arg) {
  writer_t *w = arg;
  w->rc = w->raw ? w->db->be->write(w->db, blocking_fn, &w->n) : db_write(w->db, blocking_fn, &w->n);
  return NULL;
}

static void *b_thread(void *arg) {
  writer_t *w = arg;
  atomic_store(&g_b_queued, 1);
  w->rc = w->raw ? w->db->be->write(w->db, after_a_fn, &w->n) : db_write(w->db, after_a_fn, &w->n);
  return NULL;
}

/* B's write arrives while A's commits inline on A's thread: B waits (its closure does not run
 * on the connection meanwhile) and the writer thread commits it after A's commit. */
Test(sqlite_writer, write_during_inline_commit_goes_to_the_writer) {
  db_t *db = open_db();
  warm_up(db);
  db_stats_t before, after;
  db_get_stats(db, &before);
  writer_t a = {.db = db, .n = {.sql = "INSERT INTO t VALUES ('a')"}, .rc = -100};
  writer_t b = {.db = db, .n = {.sql = "INSERT INTO t VALUES ('b')"}, .rc = -100};
  pthread_t ta, tb;
  cr_assert_eq(pthread_create(&ta, NULL, a_thread, &a), 0);
  while (!atomic_load(&g_a_running)) usleep(1000);
  cr_assert_eq(pthread_create(&tb, NULL, b_thread, &b), 0);
  while (!atomic_load(&g_b_queued)) usleep(1000);
  usleep(200 * 1000);  /* let B reach the queue */
  cr_assert_eq(atomic_load(&b.n.ran), 0, "B's closure ran while A's inline commit held the "
                                         "connection");
  atomic_store(&g_gate, 1);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  cr_assert_eq(a.rc, 0);
  cr_assert_eq(b.rc, 0);
  cr_assert(pthread_equal(a.n.ran_on, ta), "A's lone write did not commit on its own thread");
  cr_assert(!pthread_equal(b.n.ran_on, tb) && !pthread_equal(b.n.ran_on, ta),
            "B's write, queued during A's inline commit, was not committed by the writer");
  db_get_stats(db, &after);
  cr_assert_eq(after.commits - before.commits, 2);
  cr_assert_eq(after.inline_commits - before.inline_commits, 1);
  cr_assert_eq(count_rows(db), 2);
  db_close(db);
  CHECKS_PASSED();
}

static void *close_thread(void *arg) {
  atomic_store(&g_close_started, 1);
  db_close(arg);
  atomic_store(&g_close_returned, 1);
  return NULL;
}

/* db_close while an inline commit runs (B queued behind it): close waits for the commit, the
 * writer then drains B, and both rows are in the database afterwards. The writes go through
 * the backend's write directly: db_write's own bookkeeping after the commit would touch the
 * closed db (db.h: no closure may be running at db_close; the backend still drains). */
Test(sqlite_writer, close_waits_for_an_inline_commit) {
  db_t *db = open_db();
  warm_up(db);
  writer_t a = {.db = db, .n = {.sql = "INSERT INTO t VALUES ('a')"}, .rc = -100, .raw = true};
  writer_t b = {.db = db, .n = {.sql = "INSERT INTO t VALUES ('b')"}, .rc = -100, .raw = true};
  pthread_t ta, tb, tc;
  cr_assert_eq(pthread_create(&ta, NULL, a_thread, &a), 0);
  while (!atomic_load(&g_a_running)) usleep(1000);
  cr_assert_eq(pthread_create(&tb, NULL, b_thread, &b), 0);
  while (!atomic_load(&g_b_queued)) usleep(1000);
  usleep(200 * 1000);  /* let B reach the queue */
  cr_assert_eq(pthread_create(&tc, NULL, close_thread, db), 0);
  while (!atomic_load(&g_close_started)) usleep(1000);
  usleep(200 * 1000);  /* give a close that would not wait the time to return */
  cr_assert_eq(atomic_load(&g_close_returned), 0, "db_close returned during an inline commit");
  atomic_store(&g_gate, 1);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  pthread_join(tc, NULL);
  cr_assert_eq(a.rc, 0);
  cr_assert_eq(b.rc, 0);
  cr_assert(pthread_equal(a.n.ran_on, ta), "A's lone write did not commit on its own thread");

  db = open_db();
  cr_assert_eq(count_rows(db), 2);
  db_close(db);
  CHECKS_PASSED();
}

/* The store turns off SQLite's process-wide allocation count, whose global mutex every
 * sqlite3_malloc and sqlite3_free took (store/sqlite.c, sq_memstatus_off): after an open and
 * writes that allocate (a table, rows, a RETURNING), SQLite has counted nothing. */
Test(sqlite_writer, sqlite_allocations_are_not_counted) {
  db_t *db = open_db_mode(DB_INLINE_OFF);
  warm_up(db);
  cr_assert_eq(db_write(db, exec_fn, "INSERT INTO t VALUES ('a'), ('b')"), 0);
  cr_assert_eq(db_write(db, exec_fn, "UPDATE t SET v = v || 'x' RETURNING v"), 0);
  cr_assert_eq(count_rows(db), 2);
  cr_assert_eq(sqlite3_memory_used(), 0, "SQLite counted %lld bytes",
               (long long)sqlite3_memory_used());
  db_close(db);
}

/* The fill waits for half the writers of the last commit (rounded up), not all of them: with
 * 16 clients the batches then alternate between two groups of 8, one committing while the
 * other's answers and next requests go through the HTTP threads. A lone writer's next write
 * (expect 1) still needs only itself, and no target exceeds a batch. */
Test(sqlite_writer, fill_waits_for_half_the_last_commits_writers) {
  cr_assert_eq(sqlite_fill_target(0), 0);
  cr_assert_eq(sqlite_fill_target(1), 1);
  cr_assert_eq(sqlite_fill_target(2), 1);
  cr_assert_eq(sqlite_fill_target(3), 2);
  cr_assert_eq(sqlite_fill_target(16), 8);
  cr_assert_eq(sqlite_fill_target(17), 9);
  cr_assert_eq(sqlite_fill_target(64), 32);
  cr_assert_eq(sqlite_fill_target(128), 64);
  cr_assert_eq(sqlite_fill_target(1000), 64);
}
