/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integrity checks of the store (store.h "integrity"): SQLite's own page checks, consistency
 * checks that hold on both backends, whether the store is empty, and the walk over stored
 * documents that `spoold check` verifies against their bytes.
 */
#include "store/db-backend.h"
#include "store/db.h"
#include "store/store-private.h"
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  bool              full;
  store_problem_fn  fn;
  void             *arg;
  unsigned          problems;
} check_arg_t;

static void problem(check_arg_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(check_arg_t *a, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  a->problems++;
  if (a->fn) a->fn(line, a->arg);
}

/* PRAGMA quick_check / integrity_check: every row but a single "ok" is a problem. */
static int sqlite_pages(db_conn_t *c, check_arg_t *a) {
  db_stmt_t *s = db_prepare(c, a->full ? "PRAGMA integrity_check" : "PRAGMA quick_check");
  if (!s) return DB_ERROR;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    const char *v = db_col_text(s, 0);
    if (v && !strcmp(v, "ok")) continue;
    char *line = xstrdup(v ? v : "(no message)");
    for (char *p = line; *p; p++)
      if (*p == '\n') *p = ' ';  /* one line per problem */
    problem(a, "database: %s", line);
    free(line);
  }
  if (rc != DB_DONE)  /* the check itself stopped on damage: that is a finding too */
    problem(a, "database: %s stopped: %s", a->full ? "PRAGMA integrity_check" : "PRAGMA quick_check",
            db_errmsg(c));
  db_reset(s);
  return 0;
}

/* Rows one statement selects as problems: each row's columns joined into fmt. */
static int rows_as_problems(db_conn_t *c, check_arg_t *a, const char *sql, const char *what) {
  db_stmt_t *s = db_prepare(c, sql);
  if (!s) return DB_ERROR;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    const char *id = db_col_text(s, 0);
    const char *extra = db_col_text(s, 1);
    problem(a, "%s %s: %s", what, id ? id : "?", extra ? extra : "");
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* What both backends can check with SQL: rows the application never leaves behind. */
static int consistency(db_conn_t *c, check_arg_t *a) {
  int rc = rows_as_problems(
      c, a,
      "SELECT id, 'uploaded but no SHA-256 or blob key is recorded' FROM documents"
      " WHERE uploaded_us IS NOT NULL AND (sha256 IS NULL OR blob_key IS NULL)",
      "document");
  if (rc) return rc;
  rc = rows_as_problems(c, a,
                        "SELECT d.id, 'its job ' || CAST(d.job_id AS TEXT) || ' is missing'"
                        " FROM documents d LEFT JOIN jobs j ON j.id = d.job_id"
                        " WHERE j.id IS NULL",
                        "document");
  if (rc) return rc;
  rc = rows_as_problems(c, a,
                        "SELECT j.id, 'its printer ' || j.printer_id || ' is missing'"
                        " FROM jobs j LEFT JOIN printers p ON p.id = j.printer_id"
                        " WHERE p.id IS NULL",
                        "job");
  if (rc) return rc;
  if (db_table_exists(c, "blob_chunks")) {
    rc = rows_as_problems(
        c, a,
        "SELECT k.key, 'chunk ' || CAST(k.idx AS TEXT) || ' lies outside the blob or is too long'"
        " FROM blob_chunks k JOIN blobs b ON b.key = k.key"
        " WHERE k.idx * b.chunk_size >= b.size OR LENGTH(k.data) > b.chunk_size",
        "blob");
    if (rc) return rc;
  }
  return 0;
}

static int check_fn(db_conn_t *c, void *arg) {
  check_arg_t *a = arg;
  a->problems = 0;  /* the closure may run again */
  int rc = 0;
  if (!c->be->shared) rc = sqlite_pages(c, a);
  if (rc == 0 && a->full && db_table_exists(c, "documents")) rc = consistency(c, a);
  return rc;
}

/* Checks the database; see store.h. */
int store_check_database(store_t *st, bool full, store_problem_fn fn, void *arg) {
  check_arg_t a = {.full = full, .fn = fn, .arg = arg};
  /* a damaged file may also fail the read transaction's end: what was found still stands */
  if (db_read(st->db, check_fn, &a) != 0 && a.problems == 0) return -1;
  int have = db_schema_version(st->db), want = db_schema_latest();
  if (full && have != want) problem(&a, "database: schema version %d, this spoold's is %d", have, want);
  return (int)a.problems;
}

static int empty_fn(db_conn_t *c, void *arg) {
  int64_t *n = arg;
  *n = 0;
  /* Another process sharing the database may be creating the schema right now (its
   * migrations commit one by one): a schema without all three tables is a new one. */
  if (!db_table_exists(c, "tenants") || !db_table_exists(c, "printers") ||
      !db_table_exists(c, "jobs"))
    return 0;
  db_stmt_t *s = db_prepare(c, "SELECT (SELECT COUNT(*) FROM tenants) + (SELECT COUNT(*) FROM"
                               " printers) + (SELECT COUNT(*) FROM jobs)");
  int rc = db_step(s);
  if (rc == DB_ROW) *n = db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* Whether the store holds no tenant, printer or job; see store.h. */
store_rc_t store_is_empty(store_t *st, bool *empty) {
  int64_t n = 0;
  int rc = db_read(st->db, empty_fn, &n);
  *empty = rc == 0 && n == 0;
  return store_rc(rc);
}

typedef struct {
  store_document_ref_t *v;
  size_t                n;
} docs_arg_t;

static void docs_clear(docs_arg_t *a) {
  for (size_t i = 0; i < a->n; i++) {
    free(a->v[i].id);
    free(a->v[i].tenant);
    free(a->v[i].blob_key);
    free(a->v[i].sha256);
  }
  free(a->v);
  a->v = NULL;
  a->n = 0;
}

/* Fills the store_document_ref_t at item from a row of docs_fn's statement. */
static void doc_row(db_stmt_t *s, void *item) {
  store_document_ref_t *d = item;
  d->id = store_col_strdup(s, 0, true);
  d->tenant = store_col_strdup(s, 1, true);
  d->job_id = db_col_int64(s, 2);
  d->size = db_col_int64(s, 3);
  d->blob_key = store_col_strdup(s, 4, true);
  d->sha256 = store_col_strdup(s, 5, false);
}

static int docs_fn(db_conn_t *c, void *arg) {
  docs_arg_t *a = arg;
  docs_clear(a);
  db_stmt_t *s = db_prepare(c, "SELECT id, tenant_id, job_id, size, blob_key, sha256"
                               " FROM documents WHERE uploaded_us IS NOT NULL"
                               " AND blob_key IS NOT NULL ORDER BY job_id, id");
  return store_read_rows(s, sizeof *a->v, doc_row, (void **)&a->v, &a->n);
}

/* Every uploaded document; see store.h. */
store_rc_t store_documents_uploaded(store_t *st, store_document_ref_t **out, size_t *n) {
  docs_arg_t a = {0};
  int rc = db_read(st->db, docs_fn, &a);
  if (rc != 0) docs_clear(&a);
  *out = a.v;
  *n = a.n;
  return store_rc(rc);
}

/* Frees what store_documents_uploaded returned. */
void store_document_refs_free(store_document_ref_t *v, size_t n) {
  docs_arg_t a = {v, n};
  docs_clear(&a);
}
