/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The temporary store of a unit test, one way for every test file: a fresh directory under
 * $TMPDIR and a store URL in it (SQLite), or, when SPOOLD_TEST_PG names a PostgreSQL server
 * (tests/lib/pg.sh), a fresh schema on it, so the same store tests run against both backends.
 *
 *   TestSuite(store_things, .init = test_store_setup, .fini = test_store_teardown);
 *   Test(store_things, works) { store_t *st = test_store_open(2); ... store_close(st); }
 */
#ifndef SPOOLD_TESTS_STORE_FIXTURE_H
#define SPOOLD_TESTS_STORE_FIXTURE_H

#include <stddef.h>

#include "store/db.h"
#include "store/store.h"

/* A suite's .init: makes the test's directory and picks its store URL (a new schema on
 * PostgreSQL), and quiets the log to errors. Fails the running test when either cannot be
 * made. */
void test_store_setup(void);

/* A suite's .fini: removes the test's directory and everything in it. */
void test_store_teardown(void);

/* The test's directory (valid after test_store_setup) and its store URL. */
const char *test_store_dir(void);
const char *test_store_dburl(void);

/* Opens (and migrates) the test's store with nreaders read connections; fails the test when it
 * cannot. The caller closes it with store_close(). */
store_t *test_store_open(int nreaders);

/* Writes a store URL for directory dir to out: "sqlite:DIR/spoold.db", or with
 * SPOOLD_TEST_PG=postgres://USER@HOST:PORT a new empty schema on that server's postgres
 * database ("...?options=-csearch_path%3DNAME"). Fails the running test when the schema
 * cannot be made. (test_store_setup calls it; a test needing a second store calls it.) */
void test_store_url(const char *dir, char *out, size_t n);

/* True when the tests run against PostgreSQL (SPOOLD_TEST_PG is set). */
int test_store_is_pg(void);

/* A closure for db_read/db_write, or to call inside another closure: runs the query sql, which
 * returns one integer, into n (-1 without a row), with p1 (when not NULL) as its one text
 * parameter. Returns 0, or DB_ERROR without a row. */
typedef struct {
  const char *sql;
  int64_t     n;
  const char *p1;
} test_count_t;
int     test_count_fn(db_conn_t *c, void *arg);
/* The integer the query sql returns, read in a read transaction of db; fails the running test
 * when the read fails or returns no row. test_db_count_with binds p1 (when not NULL) as its
 * one text parameter. */
int64_t test_db_count(db_t *db, const char *sql);
int64_t test_db_count_with(db_t *db, const char *sql, const char *p1);

/* A closure for db_write, or to call inside another closure: runs the statement sql, which
 * returns no row, with the text parameters p up to the first NULL (a parameter left unbound is
 * NULL). Returns 0, or DB_ERROR when it fails or returns a row. */
#define TEST_DB_EXEC_MAX 4
typedef struct {
  const char *sql;
  const char *p[TEST_DB_EXEC_MAX];
} test_exec_t;
int test_exec_fn(db_conn_t *c, void *arg);
/* Runs the statement sql through test_exec_fn in a write transaction of db with the text
 * parameters that follow it, up to TEST_DB_EXEC_MAX of them, the first NULL ending them; fails
 * the running test when the write fails. */
void test_db_exec(db_t *db, const char *sql, ...) __attribute__((sentinel));

#endif
