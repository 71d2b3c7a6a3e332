/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store layer on SQLite: migrations, tenants, print settings, and the db.h machinery (group
 * commit, savepoint isolation of closures, constraint mapping, read-only snapshots).
 *
 * Each test gets its own temporary directory (removed afterwards) holding the database.
 */
#include "store/db-backend.h"
#include "store/store-private.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include "store-fixture.h"
#include "thread-check.h"
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- small closures over the raw db ------------------------------------------------------- */


static int insert_tenant(db_conn_t *c, const char *id) {
  db_stmt_t *s = db_prepare(c, "INSERT INTO tenants (id, state, created_us) VALUES (?, 0, 1)");
  db_bind_text(s, 1, id);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

static int insert_tenant_fn(db_conn_t *c, void *arg) { return insert_tenant(c, arg); }

/* ---- migrations and opening --------------------------------------------------------------- */

TestSuite(store_migrations, .init = test_store_setup, .fini = test_store_teardown, .timeout = 60);

Test(store_migrations, from_empty) {
  char *err = NULL;
  store_t *st = store_open(test_store_dburl(), 2, false, &err);
  cr_assert_not_null(st, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), 0);
  cr_assert(store_ping(st));
  cr_assert_eq(store_migrate(st, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), db_schema_latest());
  cr_assert_geq(db_schema_latest(), 1);
  cr_assert_eq(store_tenant_add(st, "t1", "One", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM print_settings"), 0);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM schema_migrations"), db_schema_latest());
  store_close(st);
  CHECKS_PASSED();
}

Test(store_migrations, reopen_is_idempotent) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "One", TENANT_SUSPENDED), STORE_OK);
  store_close(st);

  st = test_store_open(2);
  cr_assert_eq(store_schema_version(st), db_schema_latest());
  char *err = NULL;
  cr_assert_eq(store_migrate(st, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), db_schema_latest());
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM schema_migrations"), db_schema_latest());
  store_tenant_t t;
  cr_assert_eq(store_tenant_get(st, "t1", &t), STORE_OK);
  cr_assert_str_eq(t.display_name, "One");
  cr_assert_eq(t.state, TENANT_SUSPENDED);
  store_tenant_clear(&t);
  store_close(st);
  CHECKS_PASSED();
}

static int add_future_version_fn(db_conn_t *c, void *arg) {
  db_stmt_t *s = db_prepare(c, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)");
  db_bind_int64(s, 1, *(int *)arg);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

Test(store_migrations, newer_schema_is_refused) {
  store_t *st = test_store_open(1);
  int future = db_schema_latest() + 1;
  cr_assert_eq(db_write(st->db, add_future_version_fn, &future), 0);
  store_close(st);

  char *err = NULL;
  st = store_open(test_store_dburl(), 1, true, &err);
  cr_assert_null(st);
  cr_assert_not_null(err);
  char want[128];
  snprintf(want, sizeof want, "database schema version %d is newer than this spoold (%d)", future,
           db_schema_latest());
  cr_assert_str_eq(err, want);
  free(err);

  /* Without migrating it opens, and says which version it found. */
  err = NULL;
  st = store_open(test_store_dburl(), 1, false, &err);
  cr_assert_not_null(st, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), future);
  cr_assert_neq(store_migrate(st, &err), 0);
  cr_assert_not_null(strstr(err, "is newer than this spoold"));
  free(err);
  store_close(st);
  CHECKS_PASSED();
}

Test(store_migrations, bad_urls_say_why) {
  char *err = NULL;
  cr_assert_null(store_open("mysql://localhost/x", 1, true, &err));
  cr_assert_not_null(strstr(err, "unknown store URL scheme \"mysql\""), "%s", err);
  cr_assert_not_null(strstr(err, "sqlite:PATH"), "%s", err);
  free(err);

  err = NULL;
  cr_assert_null(store_open("/var/lib/spoold.db", 1, true, &err));
  cr_assert_not_null(strstr(err, "has no scheme"), "%s", err);
  free(err);

  char url[400];
  snprintf(url, sizeof url, "sqlite:%s/missing/spoold.db", test_store_dir());
  err = NULL;
  cr_assert_null(store_open(url, 1, true, &err));
  cr_assert_not_null(strstr(err, "/missing/spoold.db"), "%s", err);
  cr_assert_not_null(strstr(err, "No such file or directory"), "%s", err);
  free(err);

  err = NULL;
  cr_assert_null(store_open("sqlite::memory:", 1, true, &err));
  cr_assert_not_null(err);
  free(err);

  /* A file that is not a database. */
  char path[300];
  snprintf(path, sizeof path, "%s/junk.db", test_store_dir());
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  for (int i = 0; i < 200; i++) fputs("this is not an sqlite database\n", f);
  fclose(f);
  snprintf(url, sizeof url, "sqlite:%s", path);
  err = NULL;
  cr_assert_null(store_open(url, 1, true, &err));
  cr_assert_not_null(strstr(err, path), "%s", err);
  cr_assert_not_null(strstr(err, "not a database"), "%s", err);
  free(err);
  CHECKS_PASSED();
}

Test(store_migrations, sqlite_triple_slash_url) {
  char url[400], *err = NULL;
  snprintf(url, sizeof url, "sqlite://%s/x.db", test_store_dir());
  store_t *st = store_open(url, 1, true, &err);
  cr_assert_not_null(st, "%s", err ? err : "?");
  store_close(st);
  snprintf(url, sizeof url, "%s/x.db", test_store_dir());
  cr_assert_eq(access(url, F_OK), 0);
  CHECKS_PASSED();
}

/* ---- tenants ------------------------------------------------------------------------------ */

TestSuite(store_tenants, .init = test_store_setup, .fini = test_store_teardown, .timeout = 60);

Test(store_tenants, add_get_duplicate) {
  store_t *st = test_store_open(2);
  int64_t before = time_now_us();
  cr_assert_eq(store_tenant_add(st, "t1", "Contoso", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_add(st, "t2", NULL, TENANT_SUSPENDED), STORE_OK);
  cr_assert_eq(store_tenant_add(st, "t1", "Other", TENANT_SUSPENDED), STORE_CONFLICT);

  store_tenant_t t;
  cr_assert_eq(store_tenant_get(st, "t1", &t), STORE_OK);
  cr_assert_str_eq(t.id, "t1");
  cr_assert_str_eq(t.display_name, "Contoso");
  cr_assert_eq(t.state, TENANT_ACTIVE);
  cr_assert_geq(t.created_us, before);
  cr_assert_leq(t.created_us, time_now_us());
  store_tenant_clear(&t);

  cr_assert_eq(store_tenant_get(st, "t2", &t), STORE_OK);
  cr_assert_str_eq(t.display_name, "");
  cr_assert_eq(t.state, TENANT_SUSPENDED);
  store_tenant_clear(&t);

  cr_assert_eq(store_tenant_get(st, "nope", &t), STORE_NOT_FOUND);
  cr_assert_null(t.id);
  store_close(st);
  CHECKS_PASSED();
}

Test(store_tenants, ensure) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_ensure(st, "dev"), STORE_OK);
  cr_assert_eq(store_tenant_ensure(st, "dev"), STORE_OK);
  store_tenant_t t;
  cr_assert_eq(store_tenant_get(st, "dev", &t), STORE_OK);
  cr_assert_eq(t.state, TENANT_ACTIVE);
  cr_assert_str_eq(t.display_name, "");
  store_tenant_clear(&t);

  /* ensure never changes an existing tenant */
  cr_assert_eq(store_tenant_add(st, "s", "Suspended Inc", TENANT_SUSPENDED), STORE_OK);
  cr_assert_eq(store_tenant_ensure(st, "s"), STORE_OK);
  cr_assert_eq(store_tenant_get(st, "s", &t), STORE_OK);
  cr_assert_eq(t.state, TENANT_SUSPENDED);
  cr_assert_str_eq(t.display_name, "Suspended Inc");
  store_tenant_clear(&t);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 2);
  store_close(st);
  CHECKS_PASSED();
}

Test(store_tenants, suspend_resume) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  store_tenant_t t;
  cr_assert_eq(store_tenant_set_state(st, "t1", TENANT_SUSPENDED), STORE_OK);
  cr_assert_eq(store_tenant_get(st, "t1", &t), STORE_OK);
  cr_assert_eq(t.state, TENANT_SUSPENDED);
  store_tenant_clear(&t);
  cr_assert_eq(store_tenant_set_state(st, "t1", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_get(st, "t1", &t), STORE_OK);
  cr_assert_eq(t.state, TENANT_ACTIVE);
  store_tenant_clear(&t);
  cr_assert_eq(store_tenant_set_state(st, "nope", TENANT_SUSPENDED), STORE_NOT_FOUND);
  store_close(st);
  CHECKS_PASSED();
}

typedef struct {
  char ids[8][16];
  int  n;
  int  stop_after;
} list_acc_t;

static int list_cb(const store_tenant_t *t, void *arg) {
  list_acc_t *a = arg;
  snprintf(a->ids[a->n++], sizeof a->ids[0], "%s", t->id);
  return a->n == a->stop_after;
}

static int list_cb_reenters(const store_tenant_t *t, void *arg) {
  store_tenant_t again;
  CHECK((store_tenant_get(arg, t->id, &again)) == (STORE_OK));
  store_tenant_clear(&again);
  return 0;
}

Test(store_tenants, list_in_id_order) {
  store_t *st = test_store_open(1);
  const char *ids[] = {"c", "a", "d", "b"};
  for (int i = 0; i < 4; i++) cr_assert_eq(store_tenant_add(st, ids[i], ids[i], 0), STORE_OK);

  list_acc_t acc = {.stop_after = -1};
  cr_assert_eq(store_tenant_list(st, list_cb, &acc), STORE_OK);
  cr_assert_eq(acc.n, 4);
  cr_assert_str_eq(acc.ids[0], "a");
  cr_assert_str_eq(acc.ids[1], "b");
  cr_assert_str_eq(acc.ids[2], "c");
  cr_assert_str_eq(acc.ids[3], "d");

  list_acc_t two = {.stop_after = 2};
  cr_assert_eq(store_tenant_list(st, list_cb, &two), STORE_OK);
  cr_assert_eq(two.n, 2);

  /* the callback may use the store, even with a single read connection */
  cr_assert_eq(store_tenant_list(st, list_cb_reenters, st), STORE_OK);
  store_close(st);
  CHECKS_PASSED();
}

Test(store_tenants, remove_cascades) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_add(st, "t2", "", TENANT_ACTIVE), STORE_OK);
  store_settings_patch_t p = {.set_document_conversion_enabled = true,
                              .document_conversion_enabled = false,
                              .set_airprint_incompatible_printers = true,
                              .airprint_incompatible_printers = "hide"};
  cr_assert_eq(store_settings_update(st, "t1", &p, NULL), STORE_OK);
  cr_assert_eq(store_settings_update(st, "t2", &p, NULL), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM print_settings"), 2);

  cr_assert_eq(store_tenant_remove(st, "t1"), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM print_settings WHERE tenant_id = 't1'"), 0);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM print_settings WHERE tenant_id = 't2'"), 1);
  store_tenant_t t;
  cr_assert_eq(store_tenant_get(st, "t1", &t), STORE_NOT_FOUND);
  store_settings_t s;
  cr_assert_eq(store_settings_get(st, "t1", &s), STORE_NOT_FOUND);
  cr_assert_eq(store_tenant_remove(st, "t1"), STORE_NOT_FOUND);

  /* a re-created tenant starts from the defaults */
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_settings_get(st, "t1", &s), STORE_OK);
  cr_assert(s.document_conversion_enabled);
  cr_assert_null(s.airprint_incompatible_printers);
  store_settings_clear(&s);
  store_close(st);
  CHECKS_PASSED();
}

/* ---- settings ----------------------------------------------------------------------------- */

TestSuite(store_settings, .init = test_store_setup, .fini = test_store_teardown, .timeout = 60);

Test(store_settings, defaults_update_partial) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  store_settings_t s;
  cr_assert_eq(store_settings_get(st, "t1", &s), STORE_OK);
  cr_assert(s.document_conversion_enabled);
  cr_assert_null(s.airprint_incompatible_printers);
  store_settings_clear(&s);

  /* full update */
  store_settings_patch_t p = {.set_document_conversion_enabled = true,
                              .document_conversion_enabled = false,
                              .set_airprint_incompatible_printers = true,
                              .airprint_incompatible_printers = "show"};
  cr_assert_eq(store_settings_update(st, "t1", &p, &s), STORE_OK);
  cr_assert_not(s.document_conversion_enabled);
  cr_assert_str_eq(s.airprint_incompatible_printers, "show");
  store_settings_clear(&s);

  /* only the discovery member */
  p = (store_settings_patch_t){.set_airprint_incompatible_printers = true,
                               .airprint_incompatible_printers = "hide"};
  cr_assert_eq(store_settings_update(st, "t1", &p, &s), STORE_OK);
  cr_assert_not(s.document_conversion_enabled);
  cr_assert_str_eq(s.airprint_incompatible_printers, "hide");
  store_settings_clear(&s);

  /* only conversion; output optional */
  p = (store_settings_patch_t){.set_document_conversion_enabled = true,
                               .document_conversion_enabled = true};
  cr_assert_eq(store_settings_update(st, "t1", &p, NULL), STORE_OK);
  cr_assert_eq(store_settings_get(st, "t1", &s), STORE_OK);
  cr_assert(s.document_conversion_enabled);
  cr_assert_str_eq(s.airprint_incompatible_printers, "hide");
  store_settings_clear(&s);

  /* NULL clears the discovery member */
  p = (store_settings_patch_t){.set_airprint_incompatible_printers = true};
  cr_assert_eq(store_settings_update(st, "t1", &p, &s), STORE_OK);
  cr_assert(s.document_conversion_enabled);
  cr_assert_null(s.airprint_incompatible_printers);
  store_settings_clear(&s);

  /* empty patch: creates nothing new but answers the current state */
  p = (store_settings_patch_t){0};
  cr_assert_eq(store_settings_update(st, "t1", &p, &s), STORE_OK);
  cr_assert(s.document_conversion_enabled);
  store_settings_clear(&s);

  /* unknown tenant */
  cr_assert_eq(store_settings_get(st, "nope", &s), STORE_NOT_FOUND);
  cr_assert_eq(store_settings_update(st, "nope", &p, &s), STORE_NOT_FOUND);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM print_settings"), 1);
  store_close(st);
  CHECKS_PASSED();
}

typedef struct {
  store_t                *st;
  store_settings_patch_t  p;
} patch_job_t;

static void *patch_thread(void *arg) {
  patch_job_t *j = arg;
  for (int i = 0; i < 50; i++)
    CHECK((store_settings_update(j->st, "t1", &j->p, NULL)) == (STORE_OK));
  return NULL;
}

Test(store_settings, concurrent_patches_of_different_members_both_survive) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  patch_job_t a = {st, {.set_document_conversion_enabled = true,
                        .document_conversion_enabled = false}};
  patch_job_t b = {st, {.set_airprint_incompatible_printers = true,
                        .airprint_incompatible_printers = "hide"}};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, patch_thread, &a);
  pthread_create(&tb, NULL, patch_thread, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  store_settings_t s;
  cr_assert_eq(store_settings_get(st, "t1", &s), STORE_OK);
  cr_assert_not(s.document_conversion_enabled);
  cr_assert_str_eq(s.airprint_incompatible_printers, "hide");
  store_settings_clear(&s);
  store_close(st);
  CHECKS_PASSED();
}

/* ---- db.h: group commit, isolation, constraints, readers ---------------------------------- */

TestSuite(store_db, .init = test_store_setup, .fini = test_store_teardown, .timeout = 180);

#define NTHREADS 16
#define NWRITES  200

typedef struct {
  store_t *st;
  int      t;
} writer_arg_t;

static void *writer_thread(void *arg) {
  writer_arg_t *w = arg;
  for (int i = 0; i < NWRITES; i++) {
    char id[32];
    snprintf(id, sizeof id, "t%02d-%04d", w->t, i);
    CHECK((store_tenant_add(w->st, id, id, TENANT_ACTIVE)) == (STORE_OK));
    /* once db_write returned, every read connection sees the row */
    store_tenant_t t;
    CHECK((store_tenant_get(w->st, id, &t)) == (STORE_OK));
    store_tenant_clear(&t);
  }
  return NULL;
}

static int count_cb(const store_tenant_t *t, void *arg) {
  (void)t;
  ++*(int *)arg;
  return 0;
}

Test(store_db, concurrent_writers_group_commit) {
  store_t *st = test_store_open(4);
  store_stats_t before, after;
  store_get_stats(st, &before);

  pthread_t th[NTHREADS];
  writer_arg_t args[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    args[i] = (writer_arg_t){st, i};
    cr_assert_eq(pthread_create(&th[i], NULL, writer_thread, &args[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);

  store_get_stats(st, &after);
  uint64_t commits = after.commits - before.commits;
  uint64_t closures = after.closures - before.closures;
  cr_log_info("%llu closures in %llu commits", (unsigned long long)closures,
              (unsigned long long)commits);
  cr_assert_eq(closures, NTHREADS * NWRITES);
  /* the histogram is cumulative and its +Inf bucket counts every commit */
  for (int i = 1; i < 8; i++) cr_assert_geq(after.batch_le[i], after.batch_le[i - 1]);
  cr_assert_eq(after.batch_le[7], after.commits);
  cr_assert_eq(after.batch_le[6], after.commits, "a batch above the 64 cap");
  /* every commit is timed: the commit time histogram is cumulative, its +Inf bucket counts
   * every commit, and the bounds ascend */
  cr_assert_eq(after.commit_timed - before.commit_timed, commits);
  cr_assert_eq(after.commit_le[STORE_COMMIT_BUCKETS - 1], after.commit_timed);
  for (int i = 1; i < STORE_COMMIT_BUCKETS; i++)
    cr_assert_geq(after.commit_le[i], after.commit_le[i - 1]);
  for (int i = 1; i < STORE_COMMIT_BUCKETS - 1; i++)
    cr_assert_gt(store_commit_bound_us(i), store_commit_bound_us(i - 1));
  /* and every write from its caller's view, in the same buckets */
  cr_assert_eq(after.write_n - before.write_n, NTHREADS * NWRITES);
  cr_assert_eq(after.write_le[STORE_COMMIT_BUCKETS - 1], after.write_n);
  for (int i = 1; i < STORE_COMMIT_BUCKETS; i++)
    cr_assert_geq(after.write_le[i], after.write_le[i - 1]);
  if (test_store_is_pg()) {
    /* PostgreSQL commits concurrent transactions in parallel: one closure per commit */
    cr_assert_eq(commits, closures);
    cr_assert_eq(after.batch_le[0], after.commits);
  } else {
    cr_assert_lt(commits, closures, "no group commit: %llu commits for %llu closures",
                 (unsigned long long)commits, (unsigned long long)closures);
    cr_assert_lt(after.batch_le[0], after.commits, "every batch had one closure");
  }
  store_close(st);

  /* durable: a fresh open sees every row */
  st = test_store_open(2);
  int n = 0;
  cr_assert_eq(store_tenant_list(st, count_cb, &n), STORE_OK);
  cr_assert_eq(n, NTHREADS * NWRITES);
  store_close(st);
  CHECKS_PASSED();
}

/* A batch of four closures behind a blocked one: two commit, one fails on its own terms and
 * one hits a constraint; each failure undoes only its own changes. */
static atomic_int g_gate, g_blocker_running, g_queued;

static int blocker_fn(db_conn_t *c, void *arg) {
  (void)arg;
  int rc = insert_tenant(c, "blocker");
  atomic_store(&g_blocker_running, 1);
  while (!atomic_load(&g_gate)) usleep(1000);
  return rc;
}

static int fail_after_insert_fn(db_conn_t *c, void *arg) {
  (void)arg;
  CHECK((insert_tenant(c, "c")) == (0));
  return 7;
}

static int constraint_after_insert_fn(db_conn_t *c, void *arg) {
  (void)arg;
  CHECK((insert_tenant(c, "e")) == (0));
  return insert_tenant(c, "blocker");  /* committed by the previous batch: duplicate */
}

typedef struct {
  store_t  *st;
  db_txn_fn fn;
  void     *arg;
  int       rc;
} write_job_t;

static void *write_job_thread(void *arg) {
  write_job_t *j = arg;
  if (j->fn != blocker_fn) atomic_fetch_add(&g_queued, 1);
  j->rc = db_write(j->st->db, j->fn, j->arg);
  return NULL;
}

Test(store_db, failing_closure_rolls_back_alone) {
  store_t *st = test_store_open(2);
  db_stats_t before, after;
  db_get_stats(st->db, &before);

  write_job_t jobs[] = {
    {st, blocker_fn, NULL, -100},
    {st, insert_tenant_fn, "b", -100},
    {st, fail_after_insert_fn, NULL, -100},
    {st, insert_tenant_fn, "d", -100},
    {st, constraint_after_insert_fn, NULL, -100},
  };
  pthread_t th[5];
  cr_assert_eq(pthread_create(&th[0], NULL, write_job_thread, &jobs[0]), 0);
  while (!atomic_load(&g_blocker_running)) usleep(1000);
  for (int i = 1; i < 5; i++)
    cr_assert_eq(pthread_create(&th[i], NULL, write_job_thread, &jobs[i]), 0);
  while (atomic_load(&g_queued) < 4) usleep(1000);
  usleep(200 * 1000);  /* let the four reach the queue */
  atomic_store(&g_gate, 1);
  for (int i = 0; i < 5; i++) pthread_join(th[i], NULL);

  cr_assert_eq(jobs[0].rc, 0);
  cr_assert_eq(jobs[1].rc, 0);
  cr_assert_eq(jobs[2].rc, 7);
  cr_assert_eq(jobs[3].rc, 0);
  cr_assert_eq(jobs[4].rc, DB_CONSTRAINT);

  db_get_stats(st->db, &after);
  if (test_store_is_pg()) {  /* one transaction per closure; the failed ones do not commit */
    cr_assert_eq(after.commits - before.commits, 3);
    cr_assert_eq(after.closures - before.closures, 3);
  } else {
    cr_assert_eq(after.commits - before.commits, 2, "expected the blocker's batch and one of 4");
    cr_assert_eq(after.closures - before.closures, 5);
    cr_assert_eq(after.batch_le[0] - before.batch_le[0], 1);  /* size 1 */
    cr_assert_eq(after.batch_le[1] - before.batch_le[1], 1);  /* size <= 2 */
    cr_assert_eq(after.batch_le[2] - before.batch_le[2], 2);  /* size <= 4 */
  }

  store_tenant_t t;
  const char *present[] = {"blocker", "b", "d"}, *absent[] = {"c", "e"};
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(store_tenant_get(st, present[i], &t), STORE_OK, "%s", present[i]);
    store_tenant_clear(&t);
  }
  for (int i = 0; i < 2; i++)
    cr_assert_eq(store_tenant_get(st, absent[i], &t), STORE_NOT_FOUND, "%s", absent[i]);
  store_close(st);
  CHECKS_PASSED();
}

/* Each failing statement runs in a closure of its own: after a failed statement a closure
 * returns (db.h; PostgreSQL has aborted the transaction by then). */
static int dup_tenant_fn(db_conn_t *c, void *arg) {
  (void)arg;
  CHECK((insert_tenant(c, "x")) == (0));
  return insert_tenant(c, "x");
}

static int fk_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "INSERT INTO print_settings (tenant_id, document_conversion_enabled)"
                               " VALUES (?, 1)");
  db_bind_text(s, 1, "nope");
  int rc = db_step(s);
  db_reset(s);
  return rc;
}

static int not_null_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "INSERT INTO tenants (id, state, created_us) VALUES (?, NULL, 1)");
  db_bind_text(s, 1, "y");
  int rc = db_step(s);
  db_reset(s);
  return rc;
}

static int exec_fn(db_conn_t *c, void *arg) { return db_exec(c, arg); }

static int bad_bind_fn(db_conn_t *c, void *arg) {
  (void)arg;
  CHECK((db_step(NULL)) == (DB_ERROR));
  /* a bad bind index makes the step fail instead of running with a missing value */
  db_stmt_t *s = db_prepare(c, "SELECT ?");
  db_bind_int64(s, 5, 1);
  int rc = db_step(s);
  db_reset(s);
  return rc;
}

static int select_param_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "SELECT ?");
  db_bind_int64(s, 1, 42);
  CHECK((db_step(s)) == (DB_ROW));
  CHECK((db_col_int64(s, 0)) == (42));
  db_reset(s);
  return 0;
}

static int syntax_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "SELEC 1");  /* SQLite refuses it here, PostgreSQL at the step */
  int rc = s ? db_step(s) : DB_ERROR;
  db_reset(s);
  return rc;
}

Test(store_db, constraints_map_to_db_constraint) {
  store_t *st = test_store_open(1);
  cr_assert_eq(db_write(st->db, dup_tenant_fn, NULL), DB_CONSTRAINT);   /* unique */
  cr_assert_eq(db_write(st->db, insert_tenant_fn, "x"), 0);
  cr_assert_eq(db_write(st->db, fk_fn, NULL), DB_CONSTRAINT);           /* foreign key */
  cr_assert_eq(db_write(st->db, not_null_fn, NULL), DB_CONSTRAINT);     /* not null */
  cr_assert_eq(db_write(st->db, exec_fn,                                /* through db_exec */
                        "INSERT INTO tenants (id, state, created_us) VALUES ('x', 0, 1)"),
               DB_CONSTRAINT);
  /* a plain error is not a constraint */
  cr_assert_eq(db_write(st->db, exec_fn, "INSERT INTO no_such_table VALUES (1)"), DB_ERROR);
  cr_assert_eq(db_write(st->db, syntax_fn, NULL), DB_ERROR);
  cr_assert_eq(db_write(st->db, bad_bind_fn, NULL), DB_ERROR);
  cr_assert_eq(db_write(st->db, select_param_fn, NULL), 0);
  cr_assert_eq(db_write(st->db, insert_tenant_fn, "x"), DB_CONSTRAINT);
  cr_assert_eq(store_tenant_add(st, "x", "", 0), STORE_CONFLICT);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1);
  store_close(st);
  CHECKS_PASSED();
}

/* Fails every attempt the way a lost serialization conflict does (SQLSTATE 40001); counts them. */
static int conflict_fn(db_conn_t *c, void *arg) {
  (*(int *)arg)++;
  return db_exec(c, "DO $$BEGIN RAISE EXCEPTION 'made to conflict' USING ERRCODE = '40001'; END$$");
}

Test(store_db, failures_are_noted_for_the_caller) {
  store_t *st = test_store_open(1);
  int64_t t0 = time_mono_us();
  cr_assert_null(store_failure_since(t0));
  /* a failing statement: its cause is kept for the caller's thread (SQLite: from the writer) */
  cr_assert_eq(db_write(st->db, exec_fn, "INSERT INTO no_such_table VALUES (1)"), DB_ERROR);
  const char *why = store_failure_since(t0);
  cr_assert_not_null(why);
  cr_assert(strstr(why, "no_such_table") != NULL, "%s", why);
  cr_assert(strstr(why, test_store_is_pg() ? "(42P01)" : "(1)") != NULL, "%s", why);
  cr_assert_not(store_write_busy_since(t0));
  cr_assert_null(store_failure_since(time_mono_us() + 1), "only failures since the time asked");
  /* a read's failure too */
  int64_t t1 = time_mono_us();
  cr_assert_eq(db_read(st->db, exec_fn, "SELECT * FROM no_such_view"), DB_ERROR);
  cr_assert(store_failure_since(t1) && strstr(store_failure_since(t1), "no_such_view"));
  if (test_store_is_pg()) {
    /* a write that loses every attempt is given up after a bounded number: DB_BUSY, nothing
     * committed, the caller told so and why */
    int attempts = 0;
    int64_t t2 = time_mono_us();
    cr_assert_eq(db_write(st->db, conflict_fn, &attempts), DB_BUSY);
    cr_assert_eq(attempts, 51);
    cr_assert(store_write_busy_since(t2));
    why = store_failure_since(t2);
    cr_assert(why && strstr(why, "given up after 51 conflicting attempts") &&
              strstr(why, "made to conflict") && strstr(why, "(40001)"), "%s", why ? why : "");
    cr_assert_eq(store_rc(DB_BUSY), STORE_ERROR);
    cr_assert_not(store_write_busy_since(time_mono_us() + 1));
  }
  store_close(st);
}

typedef struct {
  store_t *st;
  int64_t  first, second;
} snap_arg_t;

static void *add_tenant_thread(void *arg) {
  CHECK((store_tenant_add(arg, "late", "", 0)) == (STORE_OK));
  return NULL;
}

static int snapshot_fn(db_conn_t *c, void *arg) {
  snap_arg_t *a = arg;
  test_count_t n = {"SELECT COUNT(*) FROM tenants", -1};
  CHECK((test_count_fn(c, &n)) == (0));
  a->first = n.n;
  /* a write commits while this read transaction is open */
  pthread_t th;
  pthread_create(&th, NULL, add_tenant_thread, a->st);
  pthread_join(th, NULL);
  CHECK((test_count_fn(c, &n)) == (0));
  a->second = n.n;
  return 0;
}

Test(store_db, reads_see_committed_data_in_a_snapshot) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", 0), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1);
  snap_arg_t a = {st, -1, -1};
  cr_assert_eq(db_read(st->db, snapshot_fn, &a), 0);
  cr_assert_eq(a.first, 1);
  cr_assert_eq(a.second, 1, "the read transaction saw a later commit");
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 2);
  store_close(st);
  CHECKS_PASSED();
}

static int write_through_reader_fn(db_conn_t *c, void *arg) {
  (void)arg;
  CHECK((insert_tenant(c, "r")) != (0));
  CHECK((db_exec(c, "DELETE FROM tenants")) == (DB_ERROR));
  CHECK((db_exec(c, "CREATE TABLE evil (x INTEGER)")) == (DB_ERROR));
  return 0;
}

Test(store_db, read_connections_are_read_only) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", 0), STORE_OK);
  cr_assert_eq(db_read(st->db, write_through_reader_fn, NULL), 0);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1);
  store_close(st);
  CHECKS_PASSED();
}

static int nested_write_fn(db_conn_t *c, void *arg) {
  (void)c;
  store_t *st = arg;
  CHECK((db_write(st->db, insert_tenant_fn, "n")) == (DB_ERROR));
  CHECK((db_read(st->db, insert_tenant_fn, "n")) == (DB_ERROR));
  return 0;
}

static int nested_read_fn(db_conn_t *c, void *arg) {
  (void)c;
  store_t *st = arg;
  /* with one reader this would wait forever if it asked the pool again */
  store_tenant_t t;
  CHECK((store_tenant_get(st, "t1", &t)) == (STORE_OK));
  store_tenant_clear(&t);
  return 0;
}

Test(store_db, nesting) {
  store_t *st = test_store_open(1);
  cr_assert_eq(store_tenant_add(st, "t1", "", 0), STORE_OK);
  cr_assert_eq(db_write(st->db, nested_write_fn, st), 0);
  cr_assert_eq(db_read(st->db, nested_read_fn, st), 0);
  store_close(st);
  CHECKS_PASSED();
}

/* Statement cache: the same text prepared twice while the first is active gives a second
 * statement; many distinct texts get trimmed between transactions. */
static int cache_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *a = db_prepare(c, "SELECT id FROM tenants ORDER BY id");
  CHECK((db_step(a)) == (DB_ROW));
  db_stmt_t *b = db_prepare(c, "SELECT id FROM tenants ORDER BY id");
  CHECK((a) != (b));
  CHECK((db_step(b)) == (DB_ROW));
  CHECK(!strcmp(db_col_text(a, 0), "t1"));
  CHECK((db_step(a)) == (DB_ROW));
  CHECK(!strcmp(db_col_text(a, 0), "t2"));
  CHECK(!strcmp(db_col_text(b, 0), "t1"));
  db_reset(b);
  CHECK((db_prepare(c, "SELECT id FROM tenants ORDER BY id")) == (b));
  /* a is left active on purpose: the end of the closure resets it */
  for (int i = 0; i < 300; i++) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT %d", i);
    db_stmt_t *s = db_prepare(c, sql);
    CHECK((db_step(s)) == (DB_ROW));
    CHECK((db_col_int64(s, 0)) == (i));
    db_reset(s);
  }
  return 0;
}

static int blob_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "SELECT ?, ?, ?, ?, ?");
  db_bind_blob(s, 1, "a\0b", 3);
  db_bind_blob(s, 2, "", 0);
  db_bind_double(s, 3, 2.5);
  db_bind_null(s, 4);
  db_bind_text(s, 5, NULL);
  CHECK((db_step(s)) == (DB_ROW));
  size_t len = 99;
  const void *p = db_col_blob(s, 0, &len);
  CHECK((len) == (3));
  CHECK((memcmp(p, "a\0b", 3)) == (0));
  CHECK(!(db_col_null(s, 1)));
  db_col_blob(s, 1, &len);
  CHECK((len) == (0));
  CHECK(fabs((db_col_double(s, 2)) - (2.5)) < (1e-9));
  CHECK(db_col_null(s, 3));
  CHECK(db_col_null(s, 4));
  CHECK((db_col_text(s, 4)) == NULL);
  CHECK((db_step(s)) == (DB_DONE));
  db_reset(s);
  return 0;
}

Test(store_db, statements) {
  store_t *st = test_store_open(1);
  cr_assert_eq(store_tenant_add(st, "t1", "", 0), STORE_OK);
  cr_assert_eq(store_tenant_add(st, "t2", "", 0), STORE_OK);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(db_read(st->db, cache_fn, NULL), 0);
    cr_assert_eq(db_write(st->db, cache_fn, NULL), 0);
  }
  cr_assert_eq(db_read(st->db, blob_fn, NULL), 0);
  cr_assert(store_ping(st));
  store_close(st);
  CHECKS_PASSED();
}

typedef struct {
  store_t    *st;
  atomic_int  inside, left;
} pool_arg_t;

static int hold_reader_fn(db_conn_t *c, void *arg) {
  (void)c;
  pool_arg_t *a = arg;
  atomic_fetch_add(&a->inside, 1);
  usleep(100 * 1000);
  atomic_store(&a->left, 1);
  return 0;
}

static void *hold_reader_thread(void *arg) {
  pool_arg_t *a = arg;
  CHECK((db_read(a->st->db, hold_reader_fn, a)) == (0));
  return NULL;
}

static int check_left_fn(db_conn_t *c, void *arg) {
  (void)c;
  pool_arg_t *a = arg;
  return atomic_load(&a->left) ? 0 : 1;
}

Test(store_db, readers_wait_for_a_free_connection) {
  /* one reader (SQLite); PostgreSQL's pool holds nreaders + 2 connections for reads and writes */
  enum { MAXHOLD = 3 };
  int nhold = test_store_is_pg() ? 3 : 1;
  pool_arg_t a = {.st = test_store_open(1)};
  pthread_t th[MAXHOLD];
  for (int i = 0; i < nhold; i++) pthread_create(&th[i], NULL, hold_reader_thread, &a);
  while (atomic_load(&a.inside) < nhold) usleep(1000);
  cr_assert_eq(db_read(a.st->db, check_left_fn, &a), 0, "got a busy connection");
  for (int i = 0; i < nhold; i++) pthread_join(th[i], NULL);
  store_close(a.st);
  CHECKS_PASSED();
}

typedef struct {
  int64_t sync, fk, temp, jsl, busy, query_only;
  char    mode[16];
} pragmas_t;

static int64_t pragma_int(db_conn_t *c, const char *sql) {
  db_stmt_t *s = db_prepare(c, sql);
  int64_t v = db_step(s) == DB_ROW ? db_col_int64(s, 0) : -1;
  db_reset(s);
  return v;
}

static int writer_pragmas_fn(db_conn_t *c, void *arg) {
  pragmas_t *p = arg;
  p->sync = pragma_int(c, "PRAGMA synchronous");
  p->fk = pragma_int(c, "PRAGMA foreign_keys");
  p->temp = pragma_int(c, "PRAGMA temp_store");
  p->jsl = pragma_int(c, "PRAGMA journal_size_limit");
  p->busy = pragma_int(c, "PRAGMA busy_timeout");
  p->query_only = pragma_int(c, "PRAGMA query_only");
  db_stmt_t *s = db_prepare(c, "PRAGMA journal_mode");
  if (db_step(s) == DB_ROW) snprintf(p->mode, sizeof p->mode, "%s", db_col_text(s, 0));
  db_reset(s);
  return 0;
}

typedef struct {
  char sync[16], iso[32], ro[8];
} pg_settings_t;

static void show(db_conn_t *c, const char *sql, char *out, size_t n) {
  db_stmt_t *s = db_prepare(c, sql);
  if (db_step(s) == DB_ROW && db_col_text(s, 0)) snprintf(out, n, "%s", db_col_text(s, 0));
  db_reset(s);
}

static int pg_settings_fn(db_conn_t *c, void *arg) {
  pg_settings_t *p = arg;
  show(c, "SHOW synchronous_commit", p->sync, sizeof p->sync);
  show(c, "SHOW transaction_isolation", p->iso, sizeof p->iso);
  show(c, "SHOW transaction_read_only", p->ro, sizeof p->ro);
  return 0;
}

Test(store_db, connection_settings) {
  store_t *st = test_store_open(1);
  if (test_store_is_pg()) {
    pg_settings_t w = {0}, r = {0};
    cr_assert_eq(db_write(st->db, pg_settings_fn, &w), 0);
    cr_assert_str_eq(w.sync, "on");
    cr_assert_str_eq(w.iso, "serializable");
    cr_assert_str_eq(w.ro, "off");
    cr_assert_eq(db_read(st->db, pg_settings_fn, &r), 0);
    cr_assert_str_eq(r.iso, "repeatable read");
    cr_assert_str_eq(r.ro, "on");
    store_close(st);
    return;
  }
  pragmas_t w = {0}, r = {0};
  cr_assert_eq(db_write(st->db, writer_pragmas_fn, &w), 0);
  cr_assert_str_eq(w.mode, "wal");
  cr_assert_eq(w.sync, 2, "synchronous=FULL");
  cr_assert_eq(w.fk, 1);
  cr_assert_eq(w.temp, 2, "temp_store=MEMORY");
  cr_assert_eq(w.jsl, 64 * 1024 * 1024);
  cr_assert_eq(w.busy, 5000);
  cr_assert_eq(w.query_only, 0);
  cr_assert_eq(db_read(st->db, writer_pragmas_fn, &r), 0);
  cr_assert_str_eq(r.mode, "wal");
  cr_assert_eq(r.query_only, 1);
  cr_assert_eq(r.busy, 5000);
  CHECKS_PASSED();
  store_close(st);
}

/* PostgreSQL: a statement is prepared once per connection and executed by name afterwards; a
 * connection the server dropped is connected again before it is lent, with none prepared. */
typedef struct {
  const char *sql;
  int64_t     a, b;
} two_arg_t;

static int two_fn(db_conn_t *c, void *arg) {
  two_arg_t *t = arg;
  db_stmt_t *s = db_prepare(c, t->sql);
  CHECK(db_step(s) == DB_ROW);
  t->a = db_col_int64(s, 0);
  t->b = db_col_int64(s, 1);
  db_reset(s);
  return 0;
}

static int kill_fn(db_conn_t *c, void *arg) {
  db_stmt_t *s = db_prepare(c, "SELECT pg_terminate_backend(CAST(? AS INTEGER))");
  db_bind_int64(s, 1, *(int64_t *)arg);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

#define PREPARED_SQL "SELECT pg_backend_pid(), (SELECT COUNT(*) FROM pg_prepared_statements" \
                     " WHERE statement LIKE 'SELECT pg_backend_pid(), %')"

Test(store_db, statements_prepared_once_per_connection) {
  if (!test_store_is_pg()) return;  /* SQLite keeps its statements itself (db_prepare) */
  store_t *st = test_store_open(1);  /* one caller at a time borrows the first connection */
  two_arg_t t1 = {PREPARED_SQL, 0, 0}, t2 = t1;
  cr_assert_eq(db_read(st->db, two_fn, &t1), 0);
  cr_assert_eq(db_read(st->db, two_fn, &t2), 0);
  cr_assert_eq(t1.a, t2.a, "the same connection");
  cr_assert_eq(t1.b, 1, "prepared by the first read");
  cr_assert_eq(t2.b, 1, "the second read used it, not another one");

  /* another store kills that backend, and waits until it is gone */
  char *err = NULL;
  store_t *other = store_open(test_store_dburl(), 1, false, &err);
  cr_assert_not_null(other, "%s", err ? err : "?");
  cr_assert_eq(db_write(other->db, kill_fn, &t1.a), 0);
  for (int i = 0; i < 500; i++) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %lld",
             (long long)t1.a);
    if (test_db_count(other->db, sql) == 0) break;
    usleep(10000);
  }
  store_close(other);
  usleep(300000);  /* a backend leaves pg_stat_activity a moment before it closes its socket */

  two_arg_t t3 = t1;
  cr_assert_eq(db_read(st->db, two_fn, &t3), 0, "the read runs on a new connection");
  cr_assert_neq(t3.a, t1.a);
  cr_assert_eq(t3.b, 1, "prepared again on the new connection");
  cr_assert_eq(store_tenant_add(st, "t1", "", 0), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1);
  store_close(st);
  CHECKS_PASSED();
}

/* --sqlite-synchronous normal: the writer commits with synchronous=NORMAL (SQLite); a
 * PostgreSQL store refuses the option, naming it. */
Test(store_db, synchronous_normal_option) {
  store_options_t o = {.sqlite_sync_normal = true};
  char *err = NULL;
  store_t *st = store_open_opts(test_store_dburl(), 1, true, &o, &err);
  if (test_store_is_pg()) {
    cr_assert_null(st);
    cr_assert(err && strstr(err, "--sqlite-synchronous"), "%s", err ? err : "no message");
    free(err);
    return;
  }
  cr_assert_not_null(st, "%s", err ? err : "");
  pragmas_t w = {0};
  cr_assert_eq(db_write(st->db, writer_pragmas_fn, &w), 0);
  cr_assert_str_eq(w.mode, "wal");
  cr_assert_eq(w.sync, 1, "synchronous=NORMAL");
  store_close(st);
  st = test_store_open(1);  /* the default again */
  cr_assert_eq(db_write(st->db, writer_pragmas_fn, &w), 0);
  cr_assert_eq(w.sync, 2, "synchronous=FULL");
  store_close(st);
  CHECKS_PASSED();
}

/* The pages each commit writes are counted (SQLite: WAL frames; PostgreSQL: not counted). */
Test(store_db, pages_written_are_counted) {
  store_t *st = test_store_open(1);
  store_stats_t before, after;
  store_get_stats(st, &before);
  cr_assert_eq(store_tenant_add(st, "pages", "Pages", TENANT_ACTIVE), STORE_OK);
  store_get_stats(st, &after);
  cr_assert_eq(after.commits, before.commits + 1);
  if (test_store_is_pg()) cr_assert_eq(after.pages, 0);
  else cr_assert_geq(after.pages, before.pages + 1, "a commit wrote no page");
  store_close(st);
}

/* SQLite readers keep their snapshot between closures while nothing was committed
 * (sqlite.c, "Snapshot reuse"): a read after a commit of this process, and after a commit of
 * another connection on the same file (as `spoold tenant remove` would make), sees it. */
Test(store_db, reused_read_snapshot_sees_later_commits) {
  store_t *st = test_store_open(1);
  cr_assert_eq(store_tenant_add(st, "s1", "", 0), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1); /* the snapshot again */
  cr_assert_eq(store_tenant_add(st, "s2", "", 0), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 2, "a commit of this process");
  if (!test_store_is_pg()) {
    char path[4096];
    snprintf(path, sizeof path, "%s/spoold.db", test_store_dir());
    sqlite3 *h = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    cr_assert_eq(sqlite3_exec(h, "INSERT INTO tenants (id, state, created_us) VALUES ('s3', 0, 1)",
                              NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 3, "a commit of another connection");
    cr_assert_eq(sqlite3_exec(h, "DELETE FROM tenants WHERE id = 's3'", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 2, "a delete of another connection");
    sqlite3_close(h);
  }
  store_close(st);
}

static int big_row_fn(db_conn_t *c, void *arg) {
  char id[32], name[2048];
  snprintf(id, sizeof id, "c%d", *(int *)arg);
  memset(name, 'x', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  db_stmt_t *s = db_prepare(c, "INSERT INTO tenants (id, display_name, state, created_us) VALUES (?, ?, 0, 1)");
  db_bind_text(s, 1, id);
  db_bind_text(s, 2, name);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* ... and a snapshot left open by an idle reader does not keep the writer's checkpoint from
 * copying the WAL into the database: after more than a checkpoint's worth of pages written
 * behind it, every frame of the WAL is in the database. */
Test(store_db, idle_read_snapshot_does_not_hold_back_checkpoints) {
  if (test_store_is_pg()) return;
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "c0", "", 0), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1); /* leaves a snapshot open */
  for (int i = 1; i <= 2500; i++) { /* ~5 MiB, no read in between: over the 1000-page checkpoint */
    cr_assert_eq(db_write(st->db, big_row_fn, &i), 0);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/spoold.db", test_store_dir());
  sqlite3 *h = NULL;
  cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(h, "SELECT COUNT(*) FROM tenants", NULL, NULL, NULL), SQLITE_OK);
  int log = -1, done = -1;
  /* PASSIVE: copies what no reader's snapshot needs; an idle snapshot from before the writes
   * would leave the frames written after it uncopied */
  cr_assert_eq(sqlite3_wal_checkpoint_v2(h, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done), SQLITE_OK);
  cr_assert_gt(log, 0, "the WAL holds the writes");
  cr_assert_eq(done, log, "%d of %d WAL frames copied", done, log);
  sqlite3_close(h);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 2501);
  store_close(st);
}

/* The checkpointer (sqlite.c, "Checkpoints"): while four threads keep the writer busy and a
 * fifth keeps reading, the WAL is copied into the database by checkpoints off the writer's
 * path and SQLite starts it over, so the -wal file stays near the hard bound (SQ_WAL_MAX_PAGES,
 * 9,000 frames) although several times as many frames are written, plus 1,000 frames for each
 * RESTART a read held off (one preempted for longer than the writer waits for it: the writer
 * then tries again 1,000 frames later), which the store counts, so the bound is exact however
 * slow the machine; without checkpoints that start the log over it would hold all 36,000
 * frames, or 64 MiB after journal_size_limit truncated it. */
#define CKPT_ROWS      400
#define CKPT_FRAMES    (4 * 9000)  /* WAL frames to write: four times the bound */
/* the -wal file's bytes at most: sqlite.c's SQ_WAL_MAX_PAGES (9,000 frames) and one commit (ten
 * rows, a page each, and the pages above them), plus SQ_CHECKPOINT_PAGES (1,000) for each
 * RESTART a read held off (counted: spoold_store_wal_restarts_deferred_total) */
#define CKPT_WAL_MAX(deferred) ((9000 + 100 + 1000 * (long long)(deferred)) * (4096 + 24) + 32)

typedef struct {
  store_t    *st;
  int         seed;
  atomic_int *writers_left;
} ckpt_arg_t;

static int ckpt_update_fn(db_conn_t *c, void *arg) {
  int *k = arg;
  char id[32], name[3000];
  memset(name, 'a' + *k % 26, sizeof name - 1);
  name[sizeof name - 1] = '\0';
  for (int i = 0; i < 10; i++) {  /* ten rows of a page each: ten WAL frames */
    snprintf(id, sizeof id, "k%d", (*k + i * 37) % CKPT_ROWS);
    db_stmt_t *s = db_prepare(c, "UPDATE tenants SET display_name = ? WHERE id = ?");
    db_bind_text(s, 1, name);
    db_bind_text(s, 2, id);
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE) return rc;
  }
  return 0;
}

static void *ckpt_writer(void *arg) {
  ckpt_arg_t *a = arg;
  store_stats_t stats;
  for (int k = a->seed; k < a->seed + 100000; k += 4) {
    CHECK(db_write(a->st->db, ckpt_update_fn, &k) == 0);
    store_get_stats(a->st, &stats);
    if (stats.pages >= CKPT_FRAMES) break;
  }
  atomic_fetch_sub(a->writers_left, 1);
  return NULL;
}

static void *ckpt_reader(void *arg) {
  ckpt_arg_t *a = arg;
  while (atomic_load(a->writers_left) > 0)
    CHECK(test_db_count(a->st->db, "SELECT COUNT(*) FROM tenants WHERE display_name <> ''") == CKPT_ROWS);
  return NULL;
}

Test(store_db, checkpointer_copies_wal_while_writes_go_on) {
  if (test_store_is_pg()) return;
  store_t *st = test_store_open(2);
  for (int i = 0; i < CKPT_ROWS; i++) {
    char id[32];
    snprintf(id, sizeof id, "k%d", i);
    cr_assert_eq(store_tenant_add(st, id, "x", 0), STORE_OK);
  }
  store_stats_t before, after;
  store_get_stats(st, &before);
  atomic_int left = 4;
  ckpt_arg_t args[5];
  pthread_t th[5];
  for (int i = 0; i < 5; i++) {
    args[i] = (ckpt_arg_t){.st = st, .seed = i, .writers_left = &left};
    cr_assert_eq(pthread_create(&th[i], NULL, i < 4 ? ckpt_writer : ckpt_reader, &args[i]), 0);
  }
  for (int i = 0; i < 5; i++) pthread_join(th[i], NULL);
  CHECKS_PASSED();
  store_get_stats(st, &after);
  cr_assert_geq(after.pages, CKPT_FRAMES, "%llu WAL frames written", (unsigned long long)after.pages);
  cr_assert_gt(after.checkpoints, before.checkpoints, "the checkpointer ran");
  char wal[4200];
  snprintf(wal, sizeof wal, "%s/spoold.db-wal", test_store_dir());
  struct stat sb;
  cr_assert_eq(stat(wal, &sb), 0);
  cr_assert_leq(sb.st_size, CKPT_WAL_MAX(after.wal_restarts_deferred - before.wal_restarts_deferred),
                "the WAL grew to %lld bytes (%llu frames written, "
                "%llu checkpoints by the checkpointer, %llu by the writer, %llu RESTARTs held off)",
                (long long)sb.st_size, (unsigned long long)(after.pages - before.pages),
                (unsigned long long)(after.checkpoints - before.checkpoints),
                (unsigned long long)(after.checkpoints_writer - before.checkpoints_writer),
                (unsigned long long)(after.wal_restarts_deferred - before.wal_restarts_deferred));
  store_close(st);
  /* the writer's close, the last one, copied everything and removed the WAL */
  cr_assert_neq(stat(wal, &sb), 0, "the WAL file is left after the close");
  st = test_store_open(1);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants WHERE length(display_name) = 2999"),
               CKPT_ROWS, "every row was updated and its last version is in the database");
  store_close(st);
}

/* Whether another process could take a write lock on len bytes at off of path: false when a
 * process holds a lock there (F_GETLK only reports other processes' locks, hence the fork). */
static bool other_process_finds_unlocked(const char *path, off_t off, off_t len) {
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = len};
    _exit(fd < 0 || fcntl(fd, F_GETLK, &fl) != 0 ? 2 : fl.l_type == F_UNLCK ? 1 : 0);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 2, "the child could not test %s", path);
  return WEXITSTATUS(status) == 1;
}

/* SQLite's POSIX locks live as long as every descriptor of the file stays open in the process:
 * spoold's own descriptors of the database and its -shm file (the change token's mapping, the
 * directory check of a second open) must not drop them. Without its shared lock on the WAL
 * index (byte 128 of -shm), the next process to open the database (spoold backup) believes it
 * is the first and truncates the index under the server: SIGBUS. */
Test(store_db, own_file_access_keeps_sqlite_locks) {
  if (test_store_is_pg()) return;
  store_t *st = test_store_open(1);
  cr_assert_eq(store_tenant_add(st, "k1", "", 0), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1);
  uint64_t token = 0;
  cr_assert(db_change_token(st->db, &token), "the change token maps the -shm file");
  char db[4096], shm[4200];
  snprintf(db, sizeof db, "%s/spoold.db", test_store_dir());
  snprintf(shm, sizeof shm, "%s-shm", db);
  cr_assert_not(other_process_finds_unlocked(shm, 128, 1), "the WAL index's lock is held");
  /* SHARED_FIRST .. +SHARED_SIZE of the database file: a WAL connection's shared lock */
  cr_assert_not(other_process_finds_unlocked(db, 0x40000002, 510), "the database's lock is held");

  store_t *again = test_store_open(1); /* a second store on the same file checks it first */
  cr_assert_not(other_process_finds_unlocked(db, 0x40000002, 510), "kept after a second open");
  cr_assert_not(other_process_finds_unlocked(shm, 128, 1), "kept after a second open");
  store_close(again);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tenants"), 1);
  store_close(st);
}
