/* SPDX-License-Identifier: Apache-2.0 */
/* The temporary store of a unit test: a directory and SQLite, or a fresh PostgreSQL schema
 * (see store-fixture.h). */
#include "store-fixture.h"
#include "util/log.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int test_store_is_pg(void) {
  const char *pg = getenv("SPOOLD_TEST_PG");
  return pg && *pg;
}

void test_store_url(const char *dir, char *out, size_t n) {
  const char *pg = getenv("SPOOLD_TEST_PG");
  if (!pg || !*pg) {
    snprintf(out, n, "sqlite:%s/spoold.db", dir);
    return;
  }
  static unsigned counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char schema[64];
  snprintf(schema, sizeof schema, "t_%ld_%u_%ld", (long)getpid(), ++counter, (long)ts.tv_nsec);
  char admin[512], sql[128];
  snprintf(admin, sizeof admin, "%s/postgres", pg);
  snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
  PGconn *c = PQconnectdb(admin);
  cr_assert(c && PQstatus(c) == CONNECTION_OK, "cannot connect to %s: %s", admin,
            c ? PQerrorMessage(c) : "out of memory");
  PGresult *r = PQexec(c, sql);
  cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  snprintf(out, n, "%s/postgres?options=-csearch_path%%3D%s", pg, schema);
}

static char g_dir[256];
static char g_url[320];

void test_store_setup(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/spoold-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  cr_assert_not_null(mkdtemp(g_dir), "mkdtemp %s", g_dir);
  test_store_url(g_dir, g_url, sizeof g_url);
  log_set_level(LOG_ERROR);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb, (void)type, (void)ftw;
  return remove(path);
}

void test_store_teardown(void) {
  if (g_dir[0]) nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  g_dir[0] = '\0';
}

const char *test_store_dir(void) { return g_dir; }
const char *test_store_dburl(void) { return g_url; }

store_t *test_store_open(int nreaders) {
  char *err = NULL;
  store_t *st = store_open(g_url, nreaders, true, &err);
  cr_assert_not_null(st, "store_open %s: %s", g_url, err ? err : "?");
  return st;
}

/* See store-fixture.h. */
int test_count_fn(db_conn_t *c, void *arg) {
  test_count_t *a = arg;
  db_stmt_t *s = db_prepare(c, a->sql);
  if (!s) return DB_ERROR;
  if (a->p1) db_bind_text(s, 1, a->p1);
  int rc = db_step(s);
  a->n = rc == DB_ROW ? db_col_int64(s, 0) : -1;
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* See store-fixture.h. */
int64_t test_db_count_with(db_t *db, const char *sql, const char *p1) {
  test_count_t a = {.sql = sql, .n = -1, .p1 = p1};
  cr_assert_eq(db_read(db, test_count_fn, &a), 0, "count: %s", sql);
  return a.n;
}

/* See store-fixture.h. */
int64_t test_db_count(db_t *db, const char *sql) { return test_db_count_with(db, sql, NULL); }

/* See store-fixture.h. */
int test_exec_fn(db_conn_t *c, void *arg) {
  test_exec_t *a = arg;
  db_stmt_t *s = db_prepare(c, a->sql);
  if (!s) return DB_ERROR;
  for (int i = 0; i < TEST_DB_EXEC_MAX && a->p[i]; i++) db_bind_text(s, i + 1, a->p[i]);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* See store-fixture.h. */
void test_db_exec(db_t *db, const char *sql, ...) {
  test_exec_t a = {.sql = sql};
  size_t n = 0;
  const char *p;
  va_list ap;
  va_start(ap, sql);
  while ((p = va_arg(ap, const char *)) && n < TEST_DB_EXEC_MAX) a.p[n++] = p;
  va_end(ap);
  cr_assert_null(p, "more than %d parameters: %s", TEST_DB_EXEC_MAX, sql);
  cr_assert_eq(db_write(db, test_exec_fn, &a), 0, "%s", sql);
}
