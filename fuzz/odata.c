/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: OData query options and the SQL made from them: the request's query string is
 * split and decoded as the server does (http_request_parse_uri), parsed (graph/odata.c:
 * odata_parse with every option allowed), compiled for a resource whose fields have every
 * query type (store/query.c: store_query_compile), and the SQL run on an in-memory SQLite
 * table with NULLs and ties.
 *
 * Input: the query string (what follows '?'). Checked: a refusal has a message; compiled SQL
 * prepares, has exactly as many placeholders as bind values, and runs; the pages are walked
 * through the @odata.nextLink the server would build (odata_build_next_link, parsed back like
 * a client's next request), and each nextLink is accepted; no row comes twice and, without
 * $skip, the pages hold exactly the rows COUNT(*) counts.
 */
#include "fuzz.h"

#include "core/query.h"
#include "graph/odata.h"
#include "http/request.h"
#include "store/query.h"
#include "util/buf.h"

#include <sqlite3.h>
#include <stdbool.h>

static const store_qfield_t FIELDS[] = {
    {"id", "t.id", STORE_QT_INT64, true, true, true, NULL},
    {"displayName", "t.name", STORE_QT_STRING, true, true, false, NULL},
    {"status/state", "t.state", STORE_QT_ENUM, true, true, true, &ENUM_PRINT_JOB_PROCESSING_STATE},
    {"size", "t.size", STORE_QT_INT64, true, true, false, NULL},
    {"ratio", "t.ratio", STORE_QT_DOUBLE, true, true, false, NULL},
    {"isFetchable", "t.flag", STORE_QT_BOOL, true, true, true, NULL},
    {"createdDateTime", "t.created", STORE_QT_DATETIME, true, true, true, NULL},
    {"createdBy/userPrincipalName", "t.upn", STORE_QT_STRING, true, true, false, NULL},
    {"configuration/copies", "t.size", STORE_QT_INT64, false, false, false, NULL},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])
#define ALL_OPTS 0x3ffu
#define MAX_PAGE 7
#define NROWS 16

static sqlite3 *g_db;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (sqlite3_open(":memory:", &g_db) != SQLITE_OK) abort();
  const char *schema =
      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, state TEXT NOT NULL, size INTEGER, "
      "ratio REAL, flag INTEGER NOT NULL, created INTEGER NOT NULL, upn TEXT);";
  if (sqlite3_exec(g_db, schema, NULL, NULL, NULL) != SQLITE_OK) abort();
  static const char *const states[] = {"pending", "processing", "completed", "aborted"};
  static const char *const names[] = {NULL, "a", "B", "a", "z'q", ""};
  for (int i = 1; i <= NROWS; i++) {
    char sql[512];
    const char *name = names[i % 6];
    char qname[16];
    if (name) snprintf(qname, sizeof qname, "'%s'", i % 6 == 4 ? "z''q" : name);
    snprintf(sql, sizeof sql,
             "INSERT INTO t VALUES(%d, %s, '%s', %s, %s, %d, %lld, %s)", i, name ? qname : "NULL",
             states[i % 4], i % 3 ? "5" : "NULL", i % 5 ? "0.5" : "NULL", i % 2,
             1700000000000000LL + (i % 4) * 1000000LL, i % 3 == 1 ? "'u@x'" : "NULL");
    if (sqlite3_exec(g_db, sql, NULL, NULL, NULL) != SQLITE_OK) abort();
  }
  return 0;
}

static void bind_value(sqlite3_stmt *st, int idx, const query_value_t *v) {
  switch (v->type) {
    case QUERY_VAL_NULL: sqlite3_bind_null(st, idx); break;
    case QUERY_VAL_STRING: sqlite3_bind_text(st, idx, v->u.s, -1, SQLITE_TRANSIENT); break;
    case QUERY_VAL_INT64:
    case QUERY_VAL_DATETIME: sqlite3_bind_int64(st, idx, v->u.i); break;
    case QUERY_VAL_DOUBLE: sqlite3_bind_double(st, idx, v->u.d); break;
    case QUERY_VAL_BOOL: sqlite3_bind_int(st, idx, v->u.b); break;
  }
}

static sqlite3_stmt *prepare(const char *sql) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(g_db, sql, -1, &st, NULL);
  FUZZ_CHECK(rc == SQLITE_OK, "generated SQL does not prepare (%s): %s", sqlite3_errmsg(g_db), sql);
  return st;
}

/* The $skiptoken after the current row, as store_query_row_token makes it. */
static char *row_token(const store_query_t *cq, sqlite3_stmt *st, int first_col) {
  query_value_t keys[QUERY_MAX_KEYS];
  for (size_t i = 0; i < cq->nkeys; i++) {
    int col = first_col + (int)i;
    query_value_t *k = &keys[i];
    k->type = QUERY_VAL_NULL;
    if (sqlite3_column_type(st, col) == SQLITE_NULL) continue;
    switch (cq->key_types[i]) {
      case STORE_QT_STRING:
      case STORE_QT_ENUM:
        k->type = QUERY_VAL_STRING;
        k->u.s = (char *)sqlite3_column_text(st, col);
        break;
      case STORE_QT_INT64: k->type = QUERY_VAL_INT64; k->u.i = sqlite3_column_int64(st, col); break;
      case STORE_QT_DATETIME:
        k->type = QUERY_VAL_DATETIME;
        k->u.i = sqlite3_column_int64(st, col);
        break;
      case STORE_QT_DOUBLE: k->type = QUERY_VAL_DOUBLE; k->u.d = sqlite3_column_double(st, col); break;
      case STORE_QT_BOOL: k->type = QUERY_VAL_BOOL; k->u.b = sqlite3_column_int64(st, col) != 0; break;
    }
  }
  return query_pagetoken_encode(cq->fingerprint, keys, cq->nkeys);
}

/* Parses uri as a request and compiles its query. Returns 1 compiled, 0 refused, -1 bad URI. */
static int compile(const char *uri, http_request_t *req, query_t *q, store_query_t *cq) {
  memset(req, 0, sizeof *req);
  query_init(q);
  if (!http_request_parse_uri(req, uri)) return -1;
  char err[1024] = "";
  const char *inner = NULL;
  if (odata_parse(req->query, req->nquery, ALL_OPTS, q, err, sizeof err, &inner) != 0) {
    FUZZ_CHECK(err[0] && inner && !strcmp(inner, ODATA_INNER_CODE), "refusal without a message");
    return 0;
  }
  err[0] = '\0';
  if (store_query_compile(q, FIELDS, NFIELDS, "id", MAX_PAGE, cq, err, sizeof err) != 0) {
    FUZZ_CHECK(err[0], "compile refusal without a message");
    return 0;
  }
  FUZZ_CHECK(cq->limit >= 0 && cq->limit <= MAX_PAGE, "page size %lld",
             (long long)cq->limit);
  return 1;
}

static void release(http_request_t *req, query_t *q) {
  http_request_free_uri(req);
  query_clear(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192 || memchr(data, 0, size)) return 0;
  buf_t uri = BUF_INIT;
  buf_puts(&uri, "/v1.0/print/printers/P/jobs?");
  buf_append(&uri, data, size);

  http_request_t req;
  query_t q;
  store_query_t cq;
  int rc = compile(uri.data, &req, &q, &cq);
  if (rc != 1) {
    release(&req, &q);
    buf_free(&uri);
    return 0;
  }
  char *count_sql = store_query_count_sql(&cq, "t", NULL);
  sqlite3_stmt *cst = prepare(count_sql);
  FUZZ_CHECK((size_t)sqlite3_bind_parameter_count(cst) == cq.nfilter_binds,
             "count SQL has %d placeholders for %zu values: %s", sqlite3_bind_parameter_count(cst),
             cq.nfilter_binds, count_sql);
  for (size_t i = 0; i < cq.nfilter_binds; i++) bind_value(cst, (int)i + 1, &cq.binds[i]);
  FUZZ_CHECK(sqlite3_step(cst) == SQLITE_ROW, "count failed: %s", sqlite3_errmsg(g_db));
  int64_t count = sqlite3_column_int64(cst, 0);
  sqlite3_finalize(cst);
  free(count_sql);
  bool skipped = cq.offset > 0 || q.token != NULL;

  bool seen[NROWS + 1] = {false};
  int64_t total = 0;
  for (int page = 0; page < NROWS + 2; page++) {
    char *sql = store_query_select_sql(&cq, "t.id", "t", NULL);
    sqlite3_stmt *st = prepare(sql);
    size_t want = cq.nbinds + 1 + (cq.offset > 0);
    FUZZ_CHECK((size_t)sqlite3_bind_parameter_count(st) == want,
               "select SQL has %d placeholders for %zu values: %s",
               sqlite3_bind_parameter_count(st), want, sql);
    int idx = 1;
    for (size_t i = 0; i < cq.nbinds; i++) bind_value(st, idx++, &cq.binds[i]);
    sqlite3_bind_int64(st, idx++, cq.limit + 1);
    if (cq.offset > 0) sqlite3_bind_int64(st, idx++, cq.offset);
    int64_t n = 0;
    char *next = NULL;
    bool more = false;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      if (n == cq.limit) { more = true; break; }
      int64_t id = sqlite3_column_int64(st, 0);
      FUZZ_CHECK(id >= 1 && id <= NROWS, "row id %lld", (long long)id);
      FUZZ_CHECK(!seen[id], "row %lld returned twice (page %d): %s", (long long)id, page, sql);
      seen[id] = true;
      total++;
      if (++n == cq.limit) next = row_token(&cq, st, 1);
    }
    FUZZ_CHECK(step == SQLITE_ROW || step == SQLITE_DONE, "select failed (%s): %s",
               sqlite3_errmsg(g_db), sql);
    sqlite3_finalize(st);
    free(sql);
    if (!more) { free(next); next = NULL; }
    if (!next) break;

    /* The client follows the nextLink. */
    char *link = odata_build_next_link("http://127.0.0.1", req.raw_path, req.query, req.nquery, next);
    free(next);
    const char *path = strstr(link, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    FUZZ_CHECK(path != NULL, "nextLink without a path: %s", link);
    http_request_t req2;
    query_t q2;
    store_query_t cq2;
    int rc2 = compile(path, &req2, &q2, &cq2);
    FUZZ_CHECK(rc2 == 1, "the nextLink is refused (%d): %s (query %s)", rc2, link, uri.data);
    free(link);
    store_query_clear(&cq);
    release(&req, &q);
    req = req2;
    q = q2;
    cq = cq2;
  }
  if (!skipped && cq.limit > 0)
    FUZZ_CHECK(total == count, "the pages hold %lld rows, COUNT(*) says %lld: %s",
               (long long)total, (long long)count, uri.data);
  store_query_clear(&cq);
  release(&req, &q);
  buf_free(&uri);
  return 0;
}
