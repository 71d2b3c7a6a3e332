/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's WAL VFS (store/sqlite-vfs.c): a commit's frames reach the -wal file in
 * one write, with synchronous=FULL and NORMAL; the bytes are in the file when db_write returns
 * (a reader on its own file handle sees the commit); reads of spilled frames on the writer's
 * handle see them; a large transaction never writes more than the bound at once; and a failed
 * delayed write (ENOSPC) fails the commit, leaves nothing of it, and the store recovers.
 *
 * The writes are counted beneath SQLite: the unix VFS lets a program replace the system calls
 * it makes (xSetSystemCall), so each test counts (and can fail) the write calls whose file
 * descriptor is the -wal file. Criterion runs each test in its own process.
 */
#include "store/db.h"
#include "store/sqlite-vfs.h"
#include "util/log.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- counting the -wal file's writes under SQLite ---------------------------------------- */

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);

static pwrite_fn g_pwrite, g_pwrite64;
static write_fn g_write;
static atomic_int g_wal_writes;     /* write calls on a -wal file */
static atomic_long g_wal_max;       /* the largest of them, bytes */
static atomic_int g_fail_enospc;    /* >0: fail the next write calls on a -wal file */

static bool is_wal_fd(int fd) {
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 4) return false;
  path[n] = '\0';
  return !strcmp(path + n - 4, "-wal");
}

/* Counts a write of n bytes on fd; true when it must fail with ENOSPC instead. */
static bool note_write(int fd, size_t n) {
  if (!is_wal_fd(fd)) return false;
  if (atomic_load(&g_fail_enospc) > 0) {
    atomic_fetch_sub(&g_fail_enospc, 1);
    return true;
  }
  atomic_fetch_add(&g_wal_writes, 1);
  long cur = atomic_load(&g_wal_max);
  while ((long)n > cur && !atomic_compare_exchange_weak(&g_wal_max, &cur, (long)n)) {
  }
  return false;
}

static ssize_t count_pwrite(int fd, const void *b, size_t n, off_t off) {
  if (note_write(fd, n)) return errno = ENOSPC, -1;
  return g_pwrite(fd, b, n, off);
}

static ssize_t count_pwrite64(int fd, const void *b, size_t n, off_t off) {
  if (note_write(fd, n)) return errno = ENOSPC, -1;
  return g_pwrite64(fd, b, n, off);
}

static ssize_t count_write(int fd, const void *b, size_t n) {
  if (note_write(fd, n)) return errno = ENOSPC, -1;
  return g_write(fd, b, n);
}

/* Puts the counting calls under the unix VFS (whichever of write, pwrite, pwrite64 it has). */
static void hook_writes(void) {
  sqlite3_vfs *unix_vfs = sqlite3_vfs_find(NULL);
  cr_assert_not_null(unix_vfs);
  cr_assert_geq(unix_vfs->iVersion, 3, "the default VFS cannot replace its system calls");
  int hooked = 0;
  if ((g_pwrite = (pwrite_fn)unix_vfs->xGetSystemCall(unix_vfs, "pwrite")))
    hooked += unix_vfs->xSetSystemCall(unix_vfs, "pwrite", (sqlite3_syscall_ptr)count_pwrite) ==
              SQLITE_OK;
  if ((g_pwrite64 = (pwrite_fn)unix_vfs->xGetSystemCall(unix_vfs, "pwrite64")))
    hooked += unix_vfs->xSetSystemCall(unix_vfs, "pwrite64",
                                       (sqlite3_syscall_ptr)count_pwrite64) == SQLITE_OK;
  if ((g_write = (write_fn)unix_vfs->xGetSystemCall(unix_vfs, "write")))
    hooked += unix_vfs->xSetSystemCall(unix_vfs, "write", (sqlite3_syscall_ptr)count_write) ==
              SQLITE_OK;
  cr_assert_gt(hooked, 0, "no write system call of the unix VFS could be replaced");
}

/* ---- a store in a temporary directory ----------------------------------------------------- */

static char g_dir[PATH_MAX];
static char g_db[PATH_MAX + 16];
static char g_wal[PATH_MAX + 32];

static void setup(void) {
  log_set_level(LOG_ERROR);
  const char *tmp = getenv("TMPDIR");
  snprintf(g_dir, sizeof g_dir, "%s/spoold-vfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  cr_assert_not_null(mkdtemp(g_dir));
  snprintf(g_db, sizeof g_db, "%s/v.db", g_dir);
  snprintf(g_wal, sizeof g_wal, "%s-wal", g_db);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

static void teardown(void) {
  if (g_dir[0]) nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(sqlite_vfs, .init = setup, .fini = teardown);

static db_t *open_db(bool normal) {
  char url[PATH_MAX + 32];
  snprintf(url, sizeof url, "sqlite:%s", g_db);
  db_options_t o = {.sqlite_sync_normal = normal};
  char *err = NULL;
  db_t *db = db_open(url, 1, &o, &err);
  cr_assert_not_null(db, "%s", err ? err : "?");
  return db;
}

static int exec_fn(db_conn_t *c, void *arg) {
  return db_exec(c, arg);
}

static int64_t wal_size(void) {
  struct stat sb;
  return stat(g_wal, &sb) == 0 ? (int64_t)sb.st_size : -1;
}


/* A commit touching several pages: rows into two tables with an index each. */
#define SCHEMA                                                                                   \
  "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX a_v ON a (v);"                \
  "CREATE TABLE b (id INTEGER PRIMARY KEY, w TEXT); CREATE INDEX b_w ON b (w);"

static const char *insert_sql(int i, char *out, size_t n) {
  snprintf(out, n,
           "INSERT INTO a (v) VALUES (printf('a%%d-%%.3000c', %d, 'x'));"
           "INSERT INTO b (w) VALUES (printf('b%%d-%%.3000c', %d, 'y'));",
           i, i);
  return out;
}

/* Each commit's frames reach the -wal file in exactly one write, and are there (file size and
 * a reader's own handle) when db_write returns. */
static void one_write_per_commit(bool normal) {
  hook_writes();
  db_t *db = open_db(normal);
  cr_assert_eq(db_write(db, exec_fn, SCHEMA), 0);
  int64_t pages = 0;
  for (int i = 0; i < 20; i++) {
    char sql[256];
    int64_t before = wal_size();
    atomic_store(&g_wal_writes, 0);
    cr_assert_eq(db_write(db, exec_fn, (void *)insert_sql(i, sql, sizeof sql)), 0);
    int64_t after = wal_size();
    cr_assert_gt(after, before, "commit %d: the WAL did not grow by the time db_write returned",
                 i);
    int64_t frames = (after - before) / (4096 + 24);
    cr_assert_geq(frames, 2, "commit %d wrote %lld frame(s): the test needs several", i,
                  (long long)frames);
    pages += frames;
    cr_assert_eq(atomic_load(&g_wal_writes), 1,
                 "commit %d (%lld frames): %d writes to the -wal file, want 1", i,
                 (long long)frames, atomic_load(&g_wal_writes));
    cr_assert_eq(test_db_count(db, "SELECT count(*) FROM a"), i + 1);
    cr_assert_eq(test_db_count(db, "SELECT count(*) FROM b"), i + 1);
  }
  cr_assert_gt(pages, 40);
  db_close(db);

  /* Closed and reopened (the WAL checkpointed into the database): every row is there. */
  sqlite3 *h = NULL;
  cr_assert_eq(sqlite3_open_v2(g_db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  cr_assert_eq(sqlite3_prepare_v2(h, "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)",
                                  -1, &st, NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_eq(sqlite3_column_int(st, 0), 40);
  sqlite3_finalize(st);
  sqlite3_close(h);
}

Test(sqlite_vfs, one_write_per_commit_full) {
  one_write_per_commit(false);
}

Test(sqlite_vfs, one_write_per_commit_normal) {
  one_write_per_commit(true);
}

/* A write of the delayed bytes that fails for space fails the commit (DB_FULL), nothing of it
 * is visible, and the next commits work. */
static void flush_error_fails_commit(bool normal) {
  hook_writes();
  db_t *db = open_db(normal);
  char sql[256];
  cr_assert_eq(db_write(db, exec_fn, SCHEMA), 0);
  cr_assert_eq(db_write(db, exec_fn, (void *)insert_sql(0, sql, sizeof sql)), 0);
  atomic_store(&g_wal_writes, 0);
  atomic_store(&g_fail_enospc, 1);
  cr_assert_eq(db_write(db, exec_fn, (void *)insert_sql(1, sql, sizeof sql)), DB_FULL);
  cr_assert_eq(atomic_load(&g_fail_enospc), 0, "the failing write was never attempted");
  cr_assert_eq(test_db_count(db, "SELECT count(*) FROM a"), 1);
  cr_assert_eq(test_db_count(db, "SELECT count(*) FROM b"), 1);
  cr_assert_eq(db_write(db, exec_fn, (void *)insert_sql(2, sql, sizeof sql)), 0);
  cr_assert_eq(test_db_count(db, "SELECT count(*) FROM a"), 2);
  cr_assert_eq(test_db_count(db, "SELECT count(*) FROM a WHERE v LIKE 'a1-%'"), 0);
  cr_assert_eq(test_db_count(db, "SELECT count(*) FROM a WHERE v LIKE 'a2-%'"), 1);
  db_close(db);

  sqlite3 *h = NULL;
  cr_assert_eq(sqlite3_open_v2(g_db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  cr_assert_eq(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  sqlite3_close(h);
}

Test(sqlite_vfs, flush_error_fails_commit_full) {
  flush_error_fails_commit(false);
}

Test(sqlite_vfs, flush_error_fails_commit_normal) {
  flush_error_fails_commit(true);
}

/* Straight through SQLite with the VFS by name: a transaction larger than the page cache
 * spills frames to the WAL and reads them back on the same handle; a transaction larger than
 * the buffer bound never writes more than the bound at once; another connection (default VFS)
 * sees exactly the committed rows; integrity_check passes. */
Test(sqlite_vfs, spill_and_read_back_large_transaction) {
  hook_writes();
  const char *vfs = store_sqlite_vfs_name();
  cr_assert_not_null(vfs);
  cr_assert_neq(sqlite3_vfs_find(NULL), sqlite3_vfs_find(vfs), "registered as the default");
  sqlite3 *w = NULL, *r = NULL;
  cr_assert_eq(sqlite3_open_v2(g_db, &w, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
               SQLITE_OK);
  cr_assert_eq(sqlite3_exec(w,
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                            "PRAGMA cache_size=8;" SCHEMA,
                            NULL, NULL, NULL),
               SQLITE_OK, "%s", sqlite3_errmsg(w));
  atomic_store(&g_wal_writes, 0);
  atomic_store(&g_wal_max, 0);
  /* About 2 MiB of rows in one transaction, with a cache of 8 pages. */
  cr_assert_eq(sqlite3_exec(w,
                            "BEGIN;"
                            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                            "WHERE i < 500) INSERT INTO a (v) SELECT printf('%d-%.3000c', i, 'z') "
                            "FROM n;"
                            "UPDATE a SET v = v || 'u' WHERE id % 7 = 0;",
                            NULL, NULL, NULL),
               SQLITE_OK, "%s", sqlite3_errmsg(w));
  sqlite3_stmt *st = NULL;
  cr_assert_eq(sqlite3_prepare_v2(w, "SELECT count(*), sum(length(v)) FROM a", -1, &st, NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_eq(sqlite3_column_int(st, 0), 500);
  int64_t len_in_txn = sqlite3_column_int64(st, 1);
  sqlite3_finalize(st);
  cr_assert_eq(sqlite3_exec(w, "COMMIT", NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(w));
  cr_assert_gt(atomic_load(&g_wal_writes), 1);
  cr_assert_leq(atomic_load(&g_wal_max), 0x1ffff, "a write of %ld bytes",
                atomic_load(&g_wal_max));

  cr_assert_eq(sqlite3_open_v2(g_db, &r, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_prepare_v2(r, "SELECT count(*), sum(length(v)) FROM a", -1, &st, NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_eq(sqlite3_column_int(st, 0), 500);
  cr_assert_eq(sqlite3_column_int64(st, 1), len_in_txn);
  sqlite3_finalize(st);
  cr_assert_eq(sqlite3_prepare_v2(r, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  sqlite3_close(r);
  cr_assert_eq(sqlite3_close(w), SQLITE_OK);
}
