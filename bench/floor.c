/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/floor: what the store alone costs, with SQLite and no HTTP, no spoold: the floors
 * docs/benchmarks.md sets next to spoold's lifecycle and read figures.
 *
 *   floor lifecycle DB [--duration S] [--count N] [--template ID] [--sql-out FILE]
 *       One job after the other, the two durable transactions spoold's writer commits for one
 *       lifecycle job (create, then cancel), with the same statements, on a copy of a store
 *       spoold made (its schema, printer and share), with spoold's writer settings (WAL,
 *       synchronous=FULL). Prints mode=lifecycle jobs=N secs=S jobs_per_s=R cpu_us_per_job=C
 *       commits_per_job=2. --sql-out appends the text of each statement it starts to FILE, one
 *       a line, as bench/sqltrace.so writes spoold's (the bench compares the two for one job).
 *   floor read DB --lo A --hi B [--duration S] [--count N]
 *       The SELECT of a job read (GET .../jobs/{id}) for uniformly random ids in [A, B], one
 *       after the other on one read-only connection with spoold's reader settings, in one read
 *       transaction (spoold's readers keep their snapshot while nothing is committed): SQLite's
 *       B-tree alone, no hot-job cache. Prints mode=read reads=N secs=S reads_per_s=R
 *       cpu_us_per_read=C misses=M (ids that found no row: must be 0).
 *
 * The statements are spoold's as a statement trace of `bench/loadgen lifecycle` shows them
 * (bench/sqltrace.c: every statement the writer connection starts), for the configuration
 * bench/run.sh runs spoold with (no job creation windows: no limits statements). They live in
 * the table LIFECYCLE_SQL below and the string JOB_SELECT, and nowhere else here; each names
 * the store function it comes from, so a change there is a change here:
 *   create  src/store/jobs.c job_create_fn: job_create_printer's share and printer check (the
 *           job is created through a share: store_job_new_t.share_id), store_job_next_id
 *           (db_next_id in src/store/db.c), store_job_insert, store_job_document_insert (the
 *           answer is built from the inserted values, not read back)
 *   cancel  src/store/jobs.c job_cancel_fn: change_share_printer's read of the share's printer
 *           (store_job_cancel_on_share), then job_set_phase's UPDATE for a job neither held nor
 *           finished (JOB_WHERE_UNHELD, nothing read before it), with the usage of
 *           src/store/jobs-archive.c's store_usage_of in it, the job returned by it and whether
 *           the printer has IPP subscriptions (JOB_NO_IPP_SUBS_SQL: none, so
 *           store_ipp_events_emit of src/store/ipp-events.c runs no statement)
 *   read    src/store/jobs.c job_get_fn through store_job_load (STORE_JOB_COLS)
 * and each closure runs inside BEGIN IMMEDIATE, SAVEPOINT closure ... RELEASE closure, COMMIT,
 * as src/store/sqlite.c's writer runs a batch of one. The pragmas are sq_conn_open's
 * (src/store/sqlite.c); the writer's WAL hook checkpoints (PASSIVE) at 1000 frames, which is
 * SQLite's own wal_autocheckpoint default used here. Each bench run checks the list against a
 * trace of spoold for one job and reports whether they are the same (bench/run.sh).
 *
 * Build: cc -O2 -o floor floor.c -lsqlite3
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static sqlite3 *db;

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  exit(1);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int64_t wall_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { /* xorshift64 */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* ---- spoold's statements ------------------------------------------------------------------- */

/* store_job_load's SELECT (STORE_JOB_COLS): the job read (figure 4's floor). */
#define JOB_SELECT                                                                               \
  "SELECT j.id, j.tenant_id, j.printer_id, j.display_name, j.phase, j.state, j.details,"       \
  " j.description, j.is_fetchable, j.is_acquired, j.acknowledged_us, j.configuration,"          \
  " j.created_us, j.updated_us, j.completed_us, j.held_us, j.created_by_id, j.created_by_upn,"  \
  " j.created_by_name, j.created_by_ip, j.redirected_from, j.redirected_to, j.error_code"       \
  " FROM jobs j WHERE j.tenant_id = ? AND j.id = ?"

enum {
  S_BEGIN, S_SAVEPOINT, S_RELEASE, S_COMMIT,     /* src/store/sqlite.c, the writer's batch */
  S_PRINTER, S_NEXT_ID, S_NEXT_ID_READ, S_INSERT_JOB, S_INSERT_DOC, /* create */
  S_SHARE_PRINTER, S_SET_PHASE, S_SET_PHASE_READ,                     /* cancel */
  S_N
};
static const char *const LIFECYCLE_SQL[S_N] = {
  [S_BEGIN] = "BEGIN IMMEDIATE",
  [S_SAVEPOINT] = "SAVEPOINT closure",
  [S_RELEASE] = "RELEASE closure",
  [S_COMMIT] = "COMMIT",
  /* job_create_printer, through a share */
  [S_PRINTER] = "SELECT p.is_accepting_jobs, p.id, s.allow_all_users FROM shares s"
                " JOIN printers p ON p.id = s.printer_id AND p.tenant_id = s.tenant_id"
                " WHERE s.id = ? AND s.tenant_id = ?",
  /* db_next_id (src/store/db.c), SQLite's form: the UPDATE, then the value read back */
  [S_NEXT_ID] = "UPDATE counters SET value = value + 1 WHERE name = ?",
  [S_NEXT_ID_READ] = "SELECT value FROM counters WHERE name = ?",
  /* store_job_insert */
  [S_INSERT_JOB] =
    "INSERT INTO jobs (id, tenant_id, printer_id, display_name, phase, state, details,"
    " description, is_fetchable, is_acquired, configuration, created_us, updated_us, held_us,"
    " created_by_id, created_by_upn, created_by_upn_lc, created_by_name, created_by_ip,"
    " created_by_groups, redirected_from)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  /* store_job_document_insert */
  [S_INSERT_DOC] = "INSERT INTO documents (id, tenant_id, job_id, display_name,"
                   " content_type, size, uploaded_us, sha256, blob_key)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  /* change_share_printer */
  [S_SHARE_PRINTER] = "SELECT printer_id FROM shares WHERE id = ? AND tenant_id = ?",
  /* job_set_phase, SQLite's form (JOB_SET_PHASE_ONLY: JOB_SET_PHASE_SQL, JOB_WHERE_UNHELD),
   * then the row read back (JOB_READ_BACK: STORE_JOB_COLS_BARE, JOB_NO_IPP_SUBS_SQL) */
  [S_SET_PHASE] =
    "UPDATE jobs SET phase = ?, state = ?, details = ?, description = ?,"
    " is_fetchable = ?, updated_us = ?,"
    " held_us = CASE WHEN ? = 1 THEN ? ELSE held_us END,"
    " completed_us = CASE WHEN ? = 1 THEN ? ELSE completed_us END,"
    " redirected_to = COALESCE(?, redirected_to),"
    " usage_day = COALESCE(?, usage_day), usage_month = COALESCE(?, usage_month),"
    " is_color = COALESCE(?, is_color), is_duplex = COALESCE(?, is_duplex)"
    " WHERE tenant_id = ? AND id = ? AND phase NOT IN (?, ?, ?, ?)",
  [S_SET_PHASE_READ] =
    "SELECT id, tenant_id, printer_id, display_name, phase, state, details, description,"
    " is_fetchable, is_acquired, acknowledged_us, configuration, created_us, updated_us,"
    " completed_us, held_us, created_by_id, created_by_upn, created_by_name, created_by_ip,"
    " redirected_from, redirected_to, error_code, device_state,"
    " NOT EXISTS (SELECT 1 FROM ipp_subscriptions s WHERE s.tenant_id = jobs.tenant_id"
    " AND s.printer_id = jobs.printer_id AND (s.expires_us IS NULL OR s.expires_us > ?))"
    " FROM jobs WHERE tenant_id = ? AND id = ?",
};
static sqlite3_stmt *st[S_N];
static FILE *sql_out; /* --sql-out */

/* Notes statement i in --sql-out's file when it starts (as bench/sqltrace.c does for spoold). */
static void trace(int i) {
  if (sql_out && !sqlite3_stmt_busy(st[i])) fprintf(sql_out, "%s\n", sqlite3_sql(st[i]));
}

/* Steps s to its end (reading every row, as the store does), then resets it. */
static void run(int i) {
  int rc;
  trace(i);
  while ((rc = sqlite3_step(st[i])) == SQLITE_ROW) {}
  if (rc != SQLITE_DONE) die(LIFECYCLE_SQL[i]);
  sqlite3_reset(st[i]);
  sqlite3_clear_bindings(st[i]);
}

/* Steps s to its first row (the statement must give one) and leaves it there. */
static void row(int i) {
  trace(i);
  if (sqlite3_step(st[i]) != SQLITE_ROW) die(LIFECYCLE_SQL[i]);
}

static void text(int i, int col, const char *v) {
  if (v) sqlite3_bind_text(st[i], col, v, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(st[i], col);
}
static void i64(int i, int col, int64_t v) { sqlite3_bind_int64(st[i], col, v); }

static void open_db(const char *path, int writer) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE |
              (writer ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
  if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) die(path);
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  /* sq_conn_open's settings (src/store/sqlite.c) */
  const char *pragmas = writer ? "PRAGMA journal_mode=WAL;"
                                 "PRAGMA synchronous=FULL;"
                                 "PRAGMA foreign_keys=ON;"
                                 "PRAGMA temp_store=MEMORY;"
                                 "PRAGMA journal_size_limit=67108864;"
                               : "PRAGMA foreign_keys=ON;"
                                 "PRAGMA temp_store=MEMORY;"
                                 "PRAGMA query_only=ON;";
  char *err = NULL;
  if (sqlite3_exec(db, pragmas, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "floor: %s: %s\n", path, err ? err : "pragmas failed");
    exit(1);
  }
}

/* The job whose owner, tenant and printer the new jobs take (a job spoold created). */
typedef struct {
  char *tenant, *printer, *share, *by_id, *by_upn, *by_upn_lc, *by_name, *by_ip;
} tpl_t;

static char *col_dup(sqlite3_stmt *s, int i) {
  const unsigned char *v = sqlite3_column_text(s, i);
  return v ? strdup((const char *)v) : NULL;
}

static void template_read(int64_t id, tpl_t *t) {
  sqlite3_stmt *s;
  const char *sql = id > 0 ? "SELECT tenant_id, printer_id, created_by_id, created_by_upn,"
                             " created_by_name, created_by_ip FROM jobs WHERE id = ?"
                           : "SELECT tenant_id, printer_id, created_by_id, created_by_upn,"
                             " created_by_name, created_by_ip FROM jobs ORDER BY id LIMIT 1";
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) die(sql);
  if (id > 0) sqlite3_bind_int64(s, 1, id);
  if (sqlite3_step(s) != SQLITE_ROW) {
    fprintf(stderr, "floor: no template job in the store: seed it through the API first\n");
    exit(1);
  }
  t->tenant = col_dup(s, 0);
  t->printer = col_dup(s, 1);
  t->by_id = col_dup(s, 2);
  t->by_upn = col_dup(s, 3);
  t->by_name = col_dup(s, 4);
  t->by_ip = col_dup(s, 5);
  sqlite3_finalize(s);
  /* the share the lifecycle's jobs are created and cancelled through: one of the printer's */
  const char *share_sql = "SELECT id FROM shares WHERE tenant_id = ? AND printer_id = ?"
                          " ORDER BY id LIMIT 1";
  if (sqlite3_prepare_v2(db, share_sql, -1, &s, NULL) != SQLITE_OK) die(share_sql);
  sqlite3_bind_text(s, 1, t->tenant, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, t->printer, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s) != SQLITE_ROW) {
    fprintf(stderr, "floor: the template job's printer has no share: make one through the API\n");
    exit(1);
  }
  t->share = col_dup(s, 0);
  sqlite3_finalize(s);
  t->by_upn_lc = t->by_upn ? strdup(t->by_upn) : NULL;
  for (char *p = t->by_upn_lc; p && *p; p++) *p = (char)tolower((unsigned char)*p);
}

/* A time-ordered (version 7) GUID, as src/util/ids.c gives a new document. */
static void guid_v7(char out[48]) {
  uint64_t ms = (uint64_t)(wall_us() / 1000), a = rnd(), b = rnd();
  snprintf(out, 48, "%08llx-%04llx-7%03llx-%04llx-%012llx",
           (unsigned long long)((ms >> 16) & 0xffffffffull),
           (unsigned long long)(ms & 0xffff), (unsigned long long)(a & 0xfff),
           (unsigned long long)(0x8000 | ((a >> 12) & 0x3fff)),
           (unsigned long long)(b & 0xffffffffffffull));
}

static int64_t day_start_us(int64_t us) { return us - us % 86400000000LL; }
static int64_t month_start_us(int64_t us) {
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  return (int64_t)timegm(&tm) * 1000000;
}

static void begin(void) {
  run(S_BEGIN);
  run(S_SAVEPOINT);
}
static void commit(void) {
  run(S_RELEASE);
  run(S_COMMIT);
}

/* job_create_fn for a job through a share with an empty body (bench/loadgen lifecycle). */
static int64_t create(const tpl_t *t) {
  begin();
  text(S_PRINTER, 1, t->share);
  text(S_PRINTER, 2, t->tenant);
  run(S_PRINTER);
  text(S_NEXT_ID, 1, "job");
  run(S_NEXT_ID);
  if (sqlite3_changes(db) != 1) die(LIFECYCLE_SQL[S_NEXT_ID]);
  text(S_NEXT_ID_READ, 1, "job");
  row(S_NEXT_ID_READ);
  int64_t id = sqlite3_column_int64(st[S_NEXT_ID_READ], 0);
  run(S_NEXT_ID_READ);
  int64_t now = wall_us();
  int c = 1;
  i64(S_INSERT_JOB, c++, id);
  text(S_INSERT_JOB, c++, t->tenant);
  text(S_INSERT_JOB, c++, t->printer);
  text(S_INSERT_JOB, c++, NULL);                 /* display_name */
  i64(S_INSERT_JOB, c++, 0);                     /* phase: created */
  i64(S_INSERT_JOB, c++, 3);                     /* state: pending */
  i64(S_INSERT_JOB, c++, 1);                     /* details */
  text(S_INSERT_JOB, c++, "The job is not a candidate for processing yet.");
  i64(S_INSERT_JOB, c++, 0);                     /* is_fetchable */
  text(S_INSERT_JOB, c++, "{}");                 /* configuration */
  i64(S_INSERT_JOB, c++, now);
  i64(S_INSERT_JOB, c++, now);
  text(S_INSERT_JOB, c++, NULL);                 /* held_us */
  text(S_INSERT_JOB, c++, t->by_id);
  text(S_INSERT_JOB, c++, t->by_upn);
  text(S_INSERT_JOB, c++, t->by_upn_lc);
  text(S_INSERT_JOB, c++, t->by_name);
  text(S_INSERT_JOB, c++, t->by_ip);
  text(S_INSERT_JOB, c++, NULL);                 /* created_by_groups */
  text(S_INSERT_JOB, c++, NULL);                 /* redirected_from */
  run(S_INSERT_JOB);
  char doc[48];
  guid_v7(doc);
  text(S_INSERT_DOC, 1, doc);
  text(S_INSERT_DOC, 2, t->tenant);
  i64(S_INSERT_DOC, 3, id);
  text(S_INSERT_DOC, 4, "");
  text(S_INSERT_DOC, 5, "");
  i64(S_INSERT_DOC, 6, 0);
  for (int k = 7; k <= 9; k++) text(S_INSERT_DOC, k, NULL);
  run(S_INSERT_DOC);
  commit();
  return id;
}

/* job_cancel_fn for a job just created (not held: no task is read or aborted; no IPP
 * subscription: no event is written). */
static void cancel(const tpl_t *t, int64_t id) {
  begin();
  text(S_SHARE_PRINTER, 1, t->share);
  text(S_SHARE_PRINTER, 2, t->tenant);
  run(S_SHARE_PRINTER);
  int64_t now = wall_us();
  int c = 1;
  i64(S_SET_PHASE, c++, 7);                      /* phase: canceled */
  i64(S_SET_PHASE, c++, 6);                      /* state: canceled */
  i64(S_SET_PHASE, c++, 0);
  text(S_SET_PHASE, c++, "The print job was canceled.");
  i64(S_SET_PHASE, c++, 0);
  i64(S_SET_PHASE, c++, now);
  i64(S_SET_PHASE, c++, 0);
  i64(S_SET_PHASE, c++, now);
  i64(S_SET_PHASE, c++, 1);
  i64(S_SET_PHASE, c++, now);
  text(S_SET_PHASE, c++, NULL);
  i64(S_SET_PHASE, c++, day_start_us(now));      /* the usage, written by the same UPDATE */
  i64(S_SET_PHASE, c++, month_start_us(now));
  i64(S_SET_PHASE, c++, 0);
  i64(S_SET_PHASE, c++, 0);
  text(S_SET_PHASE, c++, t->tenant);
  i64(S_SET_PHASE, c++, id);
  i64(S_SET_PHASE, c++, 1);                      /* not held, */
  i64(S_SET_PHASE, c++, 6);                      /* completed, */
  i64(S_SET_PHASE, c++, 7);                      /* canceled */
  i64(S_SET_PHASE, c++, 8);                      /* or aborted */
  run(S_SET_PHASE);
  if (sqlite3_changes(db) != 1) die(LIFECYCLE_SQL[S_SET_PHASE]);
  i64(S_SET_PHASE_READ, 1, now);                 /* live IPP subscriptions */
  text(S_SET_PHASE_READ, 2, t->tenant);
  i64(S_SET_PHASE_READ, 3, id);
  row(S_SET_PHASE_READ);
  if (!sqlite3_column_int64(st[S_SET_PHASE_READ], 24)) die("the printer has IPP subscriptions");
  run(S_SET_PHASE_READ);
  commit();
}

static int lifecycle(const char *path, double duration, long count, int64_t tpl_id,
                     const char *sql_path) {
  if (sql_path && !(sql_out = fopen(sql_path, "a"))) {
    perror(sql_path);
    return 1;
  }
  open_db(path, 1);
  tpl_t t = {0};
  template_read(tpl_id, &t);
  for (int i = 0; i < S_N; i++)
    if (sqlite3_prepare_v3(db, LIFECYCLE_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], NULL) !=
        SQLITE_OK)
      die(LIFECYCLE_SQL[i]);
  double t0 = now_s(), c0 = cpu_s(), end = t0 + duration;
  long n = 0;
  while (count > 0 ? n < count : now_s() < end) {
    cancel(&t, create(&t));
    n++;
  }
  double secs = now_s() - t0, cpu = cpu_s() - c0;
  printf("mode=lifecycle jobs=%ld secs=%.3f jobs_per_s=%.1f cpu_us_per_job=%.1f commits_per_job=2\n",
         n, secs, n / secs, n ? cpu / n * 1e6 : 0.0);
  for (int i = 0; i < S_N; i++) sqlite3_finalize(st[i]);
  if (sqlite3_close(db) != SQLITE_OK) die("close");
  if (sql_out) fclose(sql_out);
  return n > 0 ? 0 : 1;
}

static int reads(const char *path, double duration, long count, int64_t lo, int64_t hi) {
  if (lo < 1 || hi < lo) {
    fprintf(stderr, "floor: read needs --lo and --hi with 1 <= lo <= hi\n");
    return 2;
  }
  open_db(path, 0);
  rng ^= (uint64_t)wall_us();
  /* the tenant of the jobs read (every seeded job has the template's) */
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT tenant_id FROM jobs WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
    die("tenant");
  sqlite3_bind_int64(s, 1, lo);
  if (sqlite3_step(s) != SQLITE_ROW) {
    fprintf(stderr, "floor: no job %lld in %s\n", (long long)lo, path);
    return 1;
  }
  char *tenant = col_dup(s, 0);
  sqlite3_finalize(s);
  if (sqlite3_prepare_v3(db, JOB_SELECT, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
    die(JOB_SELECT);
  if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) die("BEGIN");
  double t0 = now_s(), c0 = cpu_s(), end = t0 + duration;
  long n = 0, misses = 0;
  uint64_t span = (uint64_t)(hi - lo + 1);
  sqlite3_bind_text(s, 1, tenant, -1, SQLITE_STATIC);
  while (count > 0 ? n < count : (n & 63) || now_s() < end) {
    sqlite3_bind_int64(s, 2, lo + (int64_t)(rnd() % span));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) misses++;
    else if (rc != SQLITE_ROW) die("read");
    else { /* decode the row as store_job_read_row does */
      for (int i = 0; i < sqlite3_column_count(s); i++) (void)sqlite3_column_text(s, i);
    }
    sqlite3_reset(s);
    n++;
  }
  double secs = now_s() - t0, cpu = cpu_s() - c0;
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  printf("mode=read reads=%ld secs=%.3f reads_per_s=%.0f cpu_us_per_read=%.2f misses=%ld\n", n,
         secs, n / secs, n ? cpu / n * 1e6 : 0.0, misses);
  sqlite3_finalize(s);
  free(tenant);
  sqlite3_close(db);
  return misses ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[1], "lifecycle") && strcmp(argv[1], "read"))) {
    fprintf(stderr, "usage: floor lifecycle DB [--duration S] [--count N] [--template ID] [--sql-out FILE]\n"
                    "       floor read DB --lo A --hi B [--duration S] [--count N]\n");
    return 2;
  }
  /* as spoold's store does (sq_memstatus_off, src/store/sqlite.c) */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  double duration = 10;
  long count = 0;
  int64_t tpl = 0, lo = 0, hi = 0;
  const char *sql_path = NULL;
  for (int i = 3; i < argc; i += 2) {
    if (i + 1 >= argc) {
      fprintf(stderr, "floor: %s needs a value\n", argv[i]);
      return 2;
    }
    const char *a = argv[i], *v = argv[i + 1];
    if (!strcmp(a, "--duration")) duration = atof(v);
    else if (!strcmp(a, "--count")) count = atol(v);
    else if (!strcmp(a, "--template")) tpl = atoll(v);
    else if (!strcmp(a, "--lo")) lo = atoll(v);
    else if (!strcmp(a, "--hi")) hi = atoll(v);
    else if (!strcmp(a, "--sql-out")) sql_path = v;
    else {
      fprintf(stderr, "floor: unknown option %s\n", a);
      return 2;
    }
  }
  if (!strcmp(argv[1], "lifecycle")) return lifecycle(argv[2], duration, count, tpl, sql_path);
  return reads(argv[2], duration, count, lo, hi);
}
