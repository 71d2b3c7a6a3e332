/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store URL a unit test opens: SQLite in the test's directory, or, when SPOOLD_TEST_PG
 * names a PostgreSQL server (tests/lib/pg.sh), a fresh schema on it, so the same store tests
 * run against both backends.
 */
#ifndef SPOOLD_TESTS_STORE_URL_H
#define SPOOLD_TESTS_STORE_URL_H

#include <stddef.h>

/* Writes the URL to out: "sqlite:DIR/spoold.db", or with SPOOLD_TEST_PG=postgres://USER@HOST:PORT
 * a new empty schema on that server's postgres database ("...?options=-csearch_path%3DNAME").
 * Fails the running test when the schema cannot be made. */
void test_store_url(const char *dir, char *out, size_t n);

/* True when the tests run against PostgreSQL (SPOOLD_TEST_PG is set). */
int test_store_is_pg(void);

#endif
