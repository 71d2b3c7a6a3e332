/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/sqltrace.so: a statement trace of spoold's SQLite writer, for the bench's check that
 * bench/floor runs spoold's statements (bench/run.sh, figure 2's store floor).
 *
 *   SQLTRACE_FILE=FILE LD_PRELOAD=sqltrace.so spoold serve ...
 *
 * Wraps sqlite3_step: each time a statement of a read-write connection (the writer) starts
 * (its first step after a reset), its SQL text as prepared (sqlite3_sql, `?` placeholders, no
 * values) is appended to FILE as one line. `bench/floor lifecycle --sql-out FILE` writes its own
 * statements the same way, so the two files compare line by line.
 *
 * Build: cc -O2 -shared -fPIC -o sqltrace.so sqltrace.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

static int (*real_step)(sqlite3_stmt *);
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;

int sqlite3_step(sqlite3_stmt *s) {
  if (!real_step) real_step = (int (*)(sqlite3_stmt *))dlsym(RTLD_NEXT, "sqlite3_step");
  if (s && !sqlite3_stmt_busy(s) && sqlite3_db_readonly(sqlite3_db_handle(s), "main") == 0) {
    pthread_mutex_lock(&mu);
    const char *path = getenv("SQLTRACE_FILE");
    if (!out && path) out = fopen(path, "a");
    if (out) {
      fprintf(out, "%s\n", sqlite3_sql(s));
      fflush(out);
    }
    pthread_mutex_unlock(&mu);
  }
  return real_step(s);
}
