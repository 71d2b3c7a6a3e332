/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/seed: fills a stopped spoold's SQLite store with jobs, quickly and without the API.
 *
 *   seed DB COUNT [TEMPLATE_JOB_ID]
 *   seed --query DB SQL     prints the first column of the first row (the bench's counts)
 *   seed --version          prints the SQLite library version
 *
 * Copies a template job (default: the newest job in the store, e.g. one the bench created and
 * canceled through the API) and its document COUNT times, with new ids following the job
 * counter, in ONE transaction: each copy gets a new job id, a new document id (GUID-shaped,
 * increasing) and creation/completion times spread over the last COUNT milliseconds (so no
 * copy is past --job-retention and the sweeper leaves them alone). Every other column keeps the
 * template's value; the column lists are read from the database itself (PRAGMA table_info),
 * so the copies follow whatever schema src/store/migrations.c created. The job counter is
 * moved past the new ids, as the store does for every new job.
 *
 * spoold must be stopped (the tool takes the database's write lock and switches the journal
 * off while it writes; it restores WAL at the end).
 *
 * Build: cc -O2 -o seed seed.c -lsqlite3
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static sqlite3 *db;

static void die(const char *what) {
  fprintf(stderr, "seed: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  exit(1);
}

static void exec(const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "seed: %s\n  in: %.300s\n", err ? err : "?", sql);
    exit(1);
  }
}

static long long one_int(const char *sql) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) die(sql);
  long long v = -1;
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* Appends the SELECT expression of each column of table to cols/exprs, using the overrides
 * (column name -> SQL expression over n, the copy number 1..COUNT, and t, the template). */
static void build(const char *table, const char *const *over, char *cols, char *exprs,
                  size_t sz) {
  char sql[128];
  snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) die(sql);
  cols[0] = exprs[0] = '\0';
  int found = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(s, 1);
    const char *e = NULL;
    for (int i = 0; over[i]; i += 2)
      if (!strcmp(over[i], name)) e = over[i + 1];
    size_t cl = strlen(cols), el = strlen(exprs);
    snprintf(cols + cl, sz - cl, "%s%s", cl ? ", " : "", name);
    if (e) snprintf(exprs + el, sz - el, "%s%s", el ? ", " : "", e);
    else snprintf(exprs + el, sz - el, "%st.%s", el ? ", " : "", name);
    found++;
  }
  sqlite3_finalize(s);
  if (!found) {
    fprintf(stderr, "seed: table %s not found: is this a spoold store?\n", table);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("%s\n", sqlite3_libversion());
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "--query")) {
    if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die(argv[2]);
    sqlite3_busy_timeout(db, 5000);
    printf("%lld\n", one_int(argv[3]));
    sqlite3_close(db);
    return 0;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: seed DB COUNT [TEMPLATE_JOB_ID]\n");
    return 2;
  }
  long long count = atoll(argv[2]);
  if (count < 1) {
    fprintf(stderr, "seed: COUNT must be at least 1\n");
    return 2;
  }
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) die(argv[1]);
  sqlite3_busy_timeout(db, 5000);
  long long tpl = argc > 3 ? atoll(argv[3]) : one_int("SELECT MAX(id) FROM jobs");
  if (tpl < 0) {
    fprintf(stderr, "seed: the store has no job to copy; create one through the API first\n");
    return 1;
  }
  long long base = one_int("SELECT value FROM counters WHERE name = 'job'");
  long long maxid = one_int("SELECT MAX(id) FROM jobs");
  if (maxid > base) base = maxid;
  if (base + count > 2147483647LL) {
    fprintf(stderr, "seed: job ids must fit in an int32 (IPP job-id)\n");
    return 1;
  }
  struct timeval tv;
  gettimeofday(&tv, NULL);
  long long now_us = (long long)tv.tv_sec * 1000000 + tv.tv_usec;

  /* Bulk-load settings: nothing here must survive a crash (the bench re-seeds). */
  exec("PRAGMA journal_mode=DELETE; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
       "PRAGMA cache_size=-262144; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;");

  char time_e[128], id_e[64], doc_id_e[256];
  snprintf(id_e, sizeof id_e, "%lld + n", base);
  snprintf(time_e, sizeof time_e, "%lld - (%lld - n) * 1000", now_us, count);
  /* GUID-shaped, unique per (base, n), increasing in n so the index inserts append. */
  snprintf(doc_id_e, sizeof doc_id_e,
           "printf('5eed%%04x-0000-4000-8000-%%012x', %lld %% 65536, %lld + n)", base, base);
  /* completed_us follows the copy's time when the template has one. */
  char completed_e[256];
  snprintf(completed_e, sizeof completed_e,
           "CASE WHEN t.completed_us IS NULL THEN NULL ELSE %s END", time_e);
  const char *job_over[] = {"id", id_e, "created_us", time_e, "updated_us", time_e,
                            "completed_us", completed_e, NULL};
  const char *doc_over[] = {"id", doc_id_e, "job_id", id_e, NULL};

  static char cols[8192], exprs[8192], sql[20000];
  exec("BEGIN IMMEDIATE");
  build("jobs", job_over, cols, exprs, sizeof cols);
  snprintf(sql, sizeof sql,
           "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %lld)"
           " INSERT INTO jobs (%s) SELECT %s FROM seq, jobs t WHERE t.id = %lld",
           count, cols, exprs, tpl);
  exec(sql);
  if (one_int("SELECT COUNT(*) FROM documents WHERE job_id = (SELECT MAX(id) FROM jobs)") == 0) {
    build("documents", doc_over, cols, exprs, sizeof cols);
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < %lld)"
             " INSERT INTO documents (%s) SELECT %s FROM seq,"
             " (SELECT * FROM documents WHERE job_id = %lld LIMIT 1) t",
             count, cols, exprs, tpl);
    exec(sql);
  }
  snprintf(sql, sizeof sql, "UPDATE counters SET value = %lld WHERE name = 'job'", base + count);
  exec(sql);
  exec("COMMIT");
  exec("PRAGMA journal_mode=WAL");
  printf("seed: %lld jobs (ids %lld..%lld, copies of job %lld) now %lld jobs, %lld documents\n",
         count, base + 1, base + count, tpl, one_int("SELECT COUNT(*) FROM jobs"),
         one_int("SELECT COUNT(*) FROM documents"));
  sqlite3_close(db);
  return 0;
}
