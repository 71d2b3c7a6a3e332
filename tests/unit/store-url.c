/* SPDX-License-Identifier: Apache-2.0 */
/* The store URL of a unit test: SQLite, or a fresh PostgreSQL schema (see store-url.h). */
#include "store-url.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>
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
