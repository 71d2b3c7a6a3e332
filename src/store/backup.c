/* SPDX-License-Identifier: Apache-2.0 */
/* Online SQLite backup and the checks of a backup copy (see backup.h). */
#include "store/backup.h"
#include "util/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP_BUSY_MS 30000

void store_backup_info_clear(store_backup_info_t *info) {
  if (!info) return;
  for (size_t i = 0; i < info->nblob_keys; i++) free(info->blob_keys[i]);
  for (size_t i = 0; i < info->nsession_keys; i++) free(info->session_keys[i]);
  free(info->blob_keys);
  free(info->session_keys);
  memset(info, 0, sizeof *info);
}

char *store_sqlite_path(const char *url, char **err) {
  buf_t e = BUF_INIT;
  if (strncmp(url, "sqlite:", 7) != 0) {
    if (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
      buf_printf(&e, "store %s is PostgreSQL: back it up with pg_dump (see docs/operation.md)",
                 url);
    else
      buf_printf(&e, "store URL \"%s\" is not sqlite:PATH", url);
    *err = buf_detach(&e);
    return NULL;
  }
  const char *p = url + 7;
  if (!strncmp(p, "//", 2)) p += 2;
  if (!*p) {
    buf_printf(&e, "store URL \"%s\" names no database file", url);
    *err = buf_detach(&e);
    return NULL;
  }
  return xstrdup(p);
}

static int db_fail(char **err, const char *what, const char *path, sqlite3 *db) {
  buf_t e = BUF_INIT;
  buf_printf(&e, "%s %s: %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
  *err = buf_detach(&e);
  return -1;
}

static void keys_push(char ***v, size_t *n, const char *key) {
  *v = xrealloc(*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = xstrdup(key);
}

/* integrity_check, schema version and blob keys of an open database. */
static int inspect(sqlite3 *db, const char *path, store_backup_info_t *info, char **err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
    return db_fail(err, "cannot check", path, db);
  buf_t problems = BUF_INIT;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *r = (const char *)sqlite3_column_text(st, 0);
    if (r && strcmp(r, "ok") != 0) buf_printf(&problems, "%s%s", problems.len ? "; " : "", r);
  }
  int rc = sqlite3_finalize(st);
  if (rc != SQLITE_OK) {
    buf_free(&problems);
    return db_fail(err, "cannot check", path, db);
  }
  if (problems.len) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "%s fails the integrity check: %s", path, problems.data);
    buf_free(&problems);
    *err = buf_detach(&e);
    return -1;
  }
  buf_free(&problems);
  info->schema_version = -1;
  if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &st, NULL) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    info->schema_version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  static const char *const Q[2] = {
      "SELECT DISTINCT blob_key FROM documents WHERE blob_key IS NOT NULL"
      " AND blob_key NOT IN (SELECT key FROM blobs)",
      "SELECT DISTINCT blob_key FROM upload_sessions WHERE blob_key NOT IN (SELECT key FROM blobs)",
  };
  for (int q = 0; q < 2; q++) {
    if (sqlite3_prepare_v2(db, Q[q], -1, &st, NULL) != SQLITE_OK)
      return db_fail(err, "cannot list the documents of", path, db);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const char *k = (const char *)sqlite3_column_text(st, 0);
      if (!k) continue;
      if (q == 0) keys_push(&info->blob_keys, &info->nblob_keys, k);
      else keys_push(&info->session_keys, &info->nsession_keys, k);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return db_fail(err, "cannot list the documents of", path, db);
  }
  /* the sessions' blobs count among the blobs too (a session's blob has no document row yet) */
  for (size_t i = 0; i < info->nsession_keys; i++) {
    bool seen = false;
    for (size_t j = 0; j < info->nblob_keys && !seen; j++)
      seen = !strcmp(info->blob_keys[j], info->session_keys[i]);
    if (!seen) keys_push(&info->blob_keys, &info->nblob_keys, info->session_keys[i]);
  }
  return 0;
}

static int fsync_path(const char *path, bool dir) {
  int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int store_backup_sqlite(const char *src_path, const char *dest_path, store_backup_info_t *info,
                        char **err) {
  memset(info, 0, sizeof *info);
  struct stat sb;
  if (stat(src_path, &sb) != 0) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "cannot open the store %s: %s", src_path, strerror(errno));
    *err = buf_detach(&e);
    return -1;
  }
  int fd = open(dest_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640); /* not world-readable */
  if (fd < 0) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "cannot create %s: %s", dest_path, strerror(errno));
    *err = buf_detach(&e);
    return -1;
  }
  close(fd);
  sqlite3 *src = NULL, *dst = NULL;
  int rc = -1;
  /* read-write without create: a WAL reader may need to create the -shm index */
  if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    db_fail(err, "cannot open the store", src_path, src);
    goto out;
  }
  sqlite3_busy_timeout(src, BACKUP_BUSY_MS);
  if (sqlite3_open_v2(dest_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
      SQLITE_OK) {
    db_fail(err, "cannot create", dest_path, dst);
    goto out;
  }
  sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) {
    db_fail(err, "cannot start the backup into", dest_path, dst);
    goto out;
  }
  int step;
  /* -1: every page in one step, so one read transaction: a consistent snapshot */
  while ((step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || step == SQLITE_LOCKED)
    sqlite3_sleep(50);
  sqlite3_backup_finish(b);
  if (step != SQLITE_DONE) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "backup of %s failed: %s", src_path, sqlite3_errstr(step));
    *err = buf_detach(&e);
    goto out;
  }
  /* a self-contained file: no -wal beside it */
  if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
    db_fail(err, "cannot finish", dest_path, dst);
    goto out;
  }
  if (inspect(dst, dest_path, info, err) != 0) goto out;
  rc = 0;
out:
  if (src) sqlite3_close(src);
  if (dst) sqlite3_close(dst);
  if (rc == 0) {
    if (stat(dest_path, &sb) == 0) info->bytes = (int64_t)sb.st_size;
    if (fsync_path(dest_path, false) != 0) {
      buf_t e = BUF_INIT;
      buf_printf(&e, "cannot sync %s: %s", dest_path, strerror(errno));
      *err = buf_detach(&e);
      rc = -1;
    }
  }
  if (rc != 0) {
    store_backup_info_clear(info);
    unlink(dest_path);
  }
  return rc;
}

int store_backup_check(const char *path, store_backup_info_t *info, char **err) {
  memset(info, 0, sizeof *info);
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    db_fail(err, "cannot open", path, db);
    sqlite3_close(db);
    return -1;
  }
  int rc = inspect(db, path, info, err);
  sqlite3_close(db);
  if (rc != 0) store_backup_info_clear(info);
  return rc;
}
