/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: page tokens (core/query.c) and the OData -> SQL compiler (store/query.c),
 * including keyset paging run for real on an in-memory SQLite database. */

/* The store_query_* inline helpers call db_*; route them to a small SQLite shim of this file
 * (the real db.c needs a running store). */
#define db_stmt        test_db_stmt
#define db_bind_text   test_db_bind_text
#define db_bind_int64  test_db_bind_int64
#define db_bind_double test_db_bind_double
#define db_bind_null   test_db_bind_null
#define db_col_null    test_db_col_null
#define db_col_text    test_db_col_text
#define db_col_int64   test_db_col_int64
#define db_col_double  test_db_col_double

#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/enums.h"
#include "core/query.h"
#include "graph/odata.h"
#include "store-fixture.h"
#include "store/db.h"
#include "store/query.h"
#include "util/b64.h"

struct test_db_stmt {
  sqlite3_stmt *st;
};

void test_db_bind_text(db_stmt_t *s, int i, const char *v) {
  sqlite3_bind_text(s->st, i, v, -1, SQLITE_TRANSIENT);
}
void test_db_bind_int64(db_stmt_t *s, int i, int64_t v) { sqlite3_bind_int64(s->st, i, v); }
void test_db_bind_double(db_stmt_t *s, int i, double v) { sqlite3_bind_double(s->st, i, v); }
void test_db_bind_null(db_stmt_t *s, int i) { sqlite3_bind_null(s->st, i); }
bool test_db_col_null(db_stmt_t *s, int c) { return sqlite3_column_type(s->st, c) == SQLITE_NULL; }
const char *test_db_col_text(db_stmt_t *s, int c) {
  return (const char *)sqlite3_column_text(s->st, c);
}
int64_t test_db_col_int64(db_stmt_t *s, int c) { return sqlite3_column_int64(s->st, c); }
double test_db_col_double(db_stmt_t *s, int c) { return sqlite3_column_double(s->st, c); }

/* ---- page tokens ----------------------------------------------------------------------------- */

Test(query_token, round_trip_every_type) {
  query_value_t keys[] = {
      {.type = QUERY_VAL_NULL},
      {.type = QUERY_VAL_STRING, .u.s = "Zoë's ☃ printer"},
      {.type = QUERY_VAL_STRING, .u.s = ""},
      {.type = QUERY_VAL_INT64, .u.i = INT64_MIN},
      {.type = QUERY_VAL_INT64, .u.i = INT64_MAX},
      {.type = QUERY_VAL_INT64, .u.i = -1},
      {.type = QUERY_VAL_DOUBLE, .u.d = -0.5},
      {.type = QUERY_VAL_BOOL, .u.b = true},
      {.type = QUERY_VAL_DATETIME, .u.i = 1714558830123456},
  };
  size_t n = sizeof keys / sizeof keys[0];
  char *tok = query_pagetoken_encode(0x0123456789abcdefull, keys, n);
  cr_assert_not_null(tok);
  for (const char *p = tok; *p; p++)
    cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
              "token is not base64url: %s", tok);
  query_pagetoken_t t;
  cr_assert_eq(query_pagetoken_decode(tok, &t), 0);
  cr_assert_eq(t.fingerprint, 0x0123456789abcdefull);
  cr_assert_eq(t.nkeys, n);
  cr_assert_eq(t.keys[0].type, QUERY_VAL_NULL);
  cr_assert_eq(t.keys[1].type, QUERY_VAL_STRING);
  cr_assert_str_eq(t.keys[1].u.s, "Zoë's ☃ printer");
  cr_assert_str_eq(t.keys[2].u.s, "");
  cr_assert_eq(t.keys[3].u.i, INT64_MIN);
  cr_assert_eq(t.keys[4].u.i, INT64_MAX);
  cr_assert_eq(t.keys[5].u.i, -1);
  cr_assert_eq(t.keys[6].type, QUERY_VAL_DOUBLE);
  cr_assert_eq(t.keys[6].u.d, -0.5);
  cr_assert_eq(t.keys[7].type, QUERY_VAL_BOOL);
  cr_assert(t.keys[7].u.b);
  cr_assert_eq(t.keys[8].type, QUERY_VAL_DATETIME);
  cr_assert_eq(t.keys[8].u.i, 1714558830123456);
  query_pagetoken_clear(&t);
  free(tok);
}

Test(query_token, compact) {
  query_value_t keys[] = {{.type = QUERY_VAL_INT64, .u.i = 123456}};
  char *tok = query_pagetoken_encode(1, keys, 1);
  cr_assert_not_null(tok);
  cr_assert_lt(strlen(tok), 32, "%s", tok);
  free(tok);
}

Test(query_token, encode_refuses_bad_keys) {
  query_value_t k[QUERY_MAX_KEYS + 1];
  for (size_t i = 0; i <= QUERY_MAX_KEYS; i++) k[i] = (query_value_t){.type = QUERY_VAL_NULL};
  cr_assert_null(query_pagetoken_encode(1, k, 0));
  cr_assert_null(query_pagetoken_encode(1, k, QUERY_MAX_KEYS + 1));
  char *big = malloc(QUERY_TOKEN_MAX_STR + 2);
  memset(big, 'x', QUERY_TOKEN_MAX_STR + 1);
  big[QUERY_TOKEN_MAX_STR + 1] = '\0';
  query_value_t s = {.type = QUERY_VAL_STRING, .u.s = big};
  cr_assert_null(query_pagetoken_encode(1, &s, 1));
  big[QUERY_TOKEN_MAX_STR] = '\0'; /* exactly the maximum is fine */
  char *tok = query_pagetoken_encode(1, &s, 1);
  cr_assert_not_null(tok);
  free(tok);
  free(big);
  query_value_t bad = {.type = QUERY_VAL_STRING, .u.s = "\xff"};
  cr_assert_null(query_pagetoken_encode(1, &bad, 1));
  query_value_t nan = {.type = QUERY_VAL_DOUBLE, .u.d = NAN};
  cr_assert_null(query_pagetoken_encode(1, &nan, 1));
}

static char *sample_token(void) {
  query_value_t keys[] = {{.type = QUERY_VAL_STRING, .u.s = "Lobby printer"},
                          {.type = QUERY_VAL_DATETIME, .u.i = 1700000000000000},
                          {.type = QUERY_VAL_INT64, .u.i = 42}};
  return query_pagetoken_encode(99, keys, 3);
}

Test(query_token, any_changed_character_is_rejected) {
  static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char *tok = sample_token();
  size_t len = strlen(tok);
  query_pagetoken_t t;
  for (size_t i = 0; i < len; i++) {
    char orig = tok[i];
    for (const char *a = alpha; *a; a++) {
      if (*a == orig) continue;
      tok[i] = *a;
      cr_assert_eq(query_pagetoken_decode(tok, &t), -1, "tampered token accepted: %s", tok);
      cr_assert_eq(t.nkeys, 0);
    }
    tok[i] = orig;
  }
  cr_assert_eq(query_pagetoken_decode(tok, &t), 0);
  query_pagetoken_clear(&t);
  free(tok);
}

Test(query_token, truncated_extended_or_garbage_rejected) {
  char *tok = sample_token();
  size_t len = strlen(tok);
  query_pagetoken_t t;
  for (size_t n = 0; n < len; n++) {
    char *prefix = strndup(tok, n);
    cr_assert_eq(query_pagetoken_decode(prefix, &t), -1, "prefix of %zu accepted", n);
    free(prefix);
  }
  buf_t b = BUF_INIT;
  buf_printf(&b, "%sA", tok);
  cr_assert_eq(query_pagetoken_decode(b.data, &t), -1);
  buf_reset(&b);
  buf_printf(&b, "%sAA", tok);
  cr_assert_eq(query_pagetoken_decode(b.data, &t), -1);
  buf_reset(&b);
  buf_printf(&b, "%s=", tok);
  cr_assert_eq(query_pagetoken_decode(b.data, &t), -1);
  buf_free(&b);
  const char *garbage[] = {"", "A", "====", "a b", "abc/def", "%41%42", "eyJhIjoxfQ", NULL};
  for (size_t i = 0; garbage[i]; i++)
    cr_assert_eq(query_pagetoken_decode(garbage[i], &t), -1, "garbage '%s' accepted", garbage[i]);
  char *huge = malloc(QUERY_TOKEN_MAX + 2);
  memset(huge, 'A', QUERY_TOKEN_MAX + 1);
  huge[QUERY_TOKEN_MAX + 1] = '\0';
  cr_assert_eq(query_pagetoken_decode(huge, &t), -1);
  free(huge);
  free(tok);
}

/* Forges tokens with a valid checksum but a bad structure (the layout is in core/query.c). */
static char *forge(const unsigned char *body, size_t len) {
  unsigned char raw[256];
  memcpy(raw, body, len);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) {
    h ^= raw[i];
    h *= 0x100000001b3ull;
  }
  uint32_t c = (uint32_t)h;
  raw[len] = (unsigned char)(c >> 24);
  raw[len + 1] = (unsigned char)(c >> 16);
  raw[len + 2] = (unsigned char)(c >> 8);
  raw[len + 3] = (unsigned char)c;
  char *out = malloc(512);
  cr_assert(b64url_encode(raw, len + 4, out, 512) > 0);
  return out;
}

#define FP 0, 0, 0, 0, 0, 0, 0, 9

Test(query_token, forged_structure_rejected) {
  query_pagetoken_t t;
  /* the forger itself works */
  const unsigned char good[] = {1, FP, 1, 2, 84};
  char *tok = forge(good, sizeof good);
  cr_assert_eq(query_pagetoken_decode(tok, &t), 0);
  cr_assert_eq(t.fingerprint, 9);
  cr_assert_eq(t.keys[0].u.i, 42);
  query_pagetoken_clear(&t);
  free(tok);

  struct { const char *what; unsigned char b[32]; size_t len; } bad[] = {
      {"version 2", {2, FP, 1, 2, 84}, 12},
      {"no keys", {1, FP, 0}, 10},
      {"too many keys", {1, FP, QUERY_MAX_KEYS + 1, 0}, 11},
      {"unknown tag", {1, FP, 1, 7}, 11},
      {"missing key", {1, FP, 2, 0}, 11},
      {"trailing byte", {1, FP, 1, 0, 0}, 12},
      {"non-minimal varint", {1, FP, 1, 2, 0x80, 0x00}, 13},
      {"varint overflow",
       {1, FP, 1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, 21},
      {"truncated varint", {1, FP, 1, 2, 0x80}, 12},
      {"string past end", {1, FP, 1, 1, 5, 'a', 'b'}, 14},
      {"string invalid utf-8", {1, FP, 1, 1, 2, 0xc3, 0x28}, 14},
      {"string with NUL", {1, FP, 1, 1, 2, 'a', 0}, 14},
      {"NaN double", {1, FP, 1, 3, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0}, 19},
      {"short double", {1, FP, 1, 3, 0x3f, 0xf0}, 13},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tok = forge(bad[i].b, bad[i].len);
    cr_assert_eq(query_pagetoken_decode(tok, &t), -1, "%s accepted", bad[i].what);
    cr_assert_eq(t.nkeys, 0);
    free(tok);
  }
}

Test(query_token, fingerprint_ignores_spacing_but_not_meaning) {
  query_t a, b, c;
  char err[256];
  const unsigned FO = QUERY_OPT_FILTER | QUERY_OPT_ORDERBY;
  http_param_t pa[] = {{"$filter", "a eq 1 and b eq 'x'"}, {"$orderby", "a desc"}};
  http_param_t pb[] = {{"$orderby", "a  desc"}, {"$filter", "(a eq 1)  and (b eq 'x')"}};
  http_param_t pc[] = {{"$filter", "a eq 1 and b eq 'x'"}, {"$orderby", "a"}};
  cr_assert_eq(odata_parse(pa, 2, FO, &a, err, sizeof err, NULL), 0);
  cr_assert_eq(odata_parse(pb, 2, FO, &b, err, sizeof err, NULL), 0);
  cr_assert_eq(odata_parse(pc, 2, FO, &c, err, sizeof err, NULL), 0);
  cr_assert_eq(query_fingerprint(&a), query_fingerprint(&b));
  cr_assert_neq(query_fingerprint(&a), query_fingerprint(&c));
  query_clear(&a);
  query_clear(&b);
  query_clear(&c);
}

/* ---- the SQL compiler ------------------------------------------------------------------------ */

static const store_qfield_t JOB_FIELDS[] = {
    {"id", "j.id", STORE_QT_INT64, true, true, true, NULL},
    {"createdDateTime", "j.created_us", STORE_QT_DATETIME, true, true, true, NULL},
    {"createdBy/userPrincipalName", "j.created_by_upn", STORE_QT_STRING, true, true, false, NULL},
    {"status/state", "j.state", STORE_QT_ENUM, true, true, true, &ENUM_PRINT_JOB_PROCESSING_STATE},
    {"isFetchable", "j.is_fetchable", STORE_QT_BOOL, true, false, true, NULL},
    {"displayName", "j.display_name", STORE_QT_STRING, true, true, false, NULL},
    {"size", "j.size", STORE_QT_DOUBLE, true, true, false, NULL},
    {"configuration/copies", "j.copies", STORE_QT_INT64, false, false, false, NULL},
};
#define NJOB (sizeof JOB_FIELDS / sizeof JOB_FIELDS[0])

#define OPTS (QUERY_OPT_FILTER | QUERY_OPT_ORDERBY | QUERY_OPT_TOP | QUERY_OPT_SKIP | \
              QUERY_OPT_SKIPTOKEN | QUERY_OPT_COUNT)

static char g_err[512];

/* Parses filter/orderby (either may be NULL) plus an optional token into q. */
static void parse_q(query_t *q, const char *filter, const char *orderby, const char *token) {
  http_param_t p[3];
  size_t n = 0;
  if (filter) p[n++] = (http_param_t){"$filter", (char *)filter};
  if (orderby) p[n++] = (http_param_t){"$orderby", (char *)orderby};
  if (token) p[n++] = (http_param_t){"$skiptoken", (char *)token};
  cr_assert_eq(odata_parse(p, n, OPTS, q, g_err, sizeof g_err, NULL), 0, "%s", g_err);
}

/* Compiles filter/orderby; returns the compiled query (asserting success). */
static void compile_ok(store_query_t *cq, const char *filter, const char *orderby) {
  query_t q;
  parse_q(&q, filter, orderby, NULL);
  cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", QUERY_PAGE_MAX, cq, g_err,
                                   sizeof g_err), 0, "%s", g_err);
  query_clear(&q);
}

/* Compiles and expects a failure whose message contains both needles. */
static void compile_fails(const char *filter, const char *orderby, const char *n1,
                          const char *n2) {
  query_t q;
  store_query_t cq;
  parse_q(&q, filter, orderby, NULL);
  cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", QUERY_PAGE_MAX, &cq, g_err,
                                   sizeof g_err), -1, "compiled: %s / %s", filter, orderby);
  cr_assert(strstr(g_err, n1), "'%s' not in '%s'", n1, g_err);
  if (n2) cr_assert(strstr(g_err, n2), "'%s' not in '%s'", n2, g_err);
  cr_assert_null(cq.where);
  query_clear(&q);
}

static void assert_where(const char *filter, const char *sql) {
  store_query_t cq;
  compile_ok(&cq, filter, NULL);
  cr_assert_str_eq(cq.where, sql, "filter: %s", filter);
  cr_assert_str_eq(cq.filter, sql);
  store_query_clear(&cq);
}

Test(store_query, filter_sql_and_binds) {
  store_query_t cq;
  compile_ok(&cq, "status/state eq 'processing' and createdBy/userPrincipalName eq 'a@b.c'", NULL);
  cr_assert_str_eq(cq.where, "(j.state = ? AND j.created_by_upn = ?)");
  cr_assert_eq(cq.nbinds, 2);
  cr_assert_eq(cq.nfilter_binds, 2);
  cr_assert_eq(cq.binds[0].type, QUERY_VAL_STRING);
  cr_assert_str_eq(cq.binds[0].u.s, "processing");
  cr_assert_str_eq(cq.binds[1].u.s, "a@b.c");
  cr_assert_str_eq(cq.order_by, "j.id ASC");
  cr_assert_str_eq(cq.key_cols, "j.id");
  cr_assert_eq(cq.nkeys, 1);
  cr_assert_eq(cq.limit, QUERY_PAGE_DEFAULT);
  cr_assert_eq(cq.offset, 0);
  store_query_clear(&cq);

  compile_ok(&cq, "createdDateTime ge 2024-05-01T00:00:00Z", NULL);
  cr_assert_str_eq(cq.where, "j.created_us >= ?");
  cr_assert_eq(cq.binds[0].type, QUERY_VAL_DATETIME);
  cr_assert_eq(cq.binds[0].u.i, 1714521600000000);
  store_query_clear(&cq);

  /* a quoted ISO date-time is accepted for a date-time property */
  compile_ok(&cq, "createdDateTime lt '2024-05-01T00:00:00Z'", NULL);
  cr_assert_eq(cq.binds[0].type, QUERY_VAL_DATETIME);
  cr_assert_eq(cq.binds[0].u.i, 1714521600000000);
  store_query_clear(&cq);

  compile_ok(&cq, "size gt 2", NULL); /* an integer literal for a number property */
  cr_assert_eq(cq.binds[0].type, QUERY_VAL_DOUBLE);
  cr_assert_eq(cq.binds[0].u.d, 2.0);
  store_query_clear(&cq);

  compile_ok(&cq, "isFetchable", NULL);
  cr_assert_str_eq(cq.where, "j.is_fetchable = ?");
  cr_assert_eq(cq.binds[0].type, QUERY_VAL_BOOL);
  cr_assert(cq.binds[0].u.b);
  store_query_clear(&cq);

  compile_ok(&cq, "ID eq 7 or Status/State in ('pending', 'paused')", NULL);
  store_query_clear(&cq);
}

Test(store_query, string_functions_fold_ascii_and_escape_like) {
  store_query_t cq;
  compile_ok(&cq, "startswith(displayName,'Ab%_!c')", NULL);
  cr_assert(strstr(cq.where, "replace(") && strstr(cq.where, "j.display_name, 'A', 'a')"), "%s", cq.where);
  cr_assert(strstr(cq.where, " LIKE ? ESCAPE '!'"), "%s", cq.where);
  cr_assert_str_eq(cq.binds[0].u.s, "ab!%!_!!c%");
  store_query_clear(&cq);
  compile_ok(&cq, "endswith(displayName,'X')", NULL);
  cr_assert_str_eq(cq.binds[0].u.s, "%x");
  store_query_clear(&cq);
  compile_ok(&cq, "not contains(displayName,'q')", NULL);
  cr_assert(strncmp(cq.where, "(j.display_name IS NULL OR ", 27) == 0, "%s", cq.where);
  cr_assert(strstr(cq.where, " NOT LIKE ? ESCAPE '!')"), "%s", cq.where);
  cr_assert_str_eq(cq.binds[0].u.s, "%q%");
  store_query_clear(&cq);
  compile_fails("startswith(status/state,'p')", NULL, "startswith() applies to string properties",
                "status/state");
}

Test(store_query, null_and_negation_follow_odata) {
  assert_where("displayName eq null", "j.display_name IS NULL");
  assert_where("displayName ne null", "j.display_name IS NOT NULL");
  assert_where("not (displayName eq null)", "j.display_name IS NOT NULL");
  /* null ne 'x' is true in OData */
  assert_where("displayName ne 'x'", "(j.display_name <> ? OR j.display_name IS NULL)");
  assert_where("not (displayName eq 'x')", "(j.display_name <> ? OR j.display_name IS NULL)");
  assert_where("not (displayName ne 'x')", "j.display_name = ?");
  /* not (null gt 5) is true in OData */
  assert_where("not (size gt 5)", "(j.size <= ? OR j.size IS NULL)");
  assert_where("size le 5", "j.size <= ?");
  /* a NOT NULL column needs no IS NULL arm */
  assert_where("id ne 5", "j.id <> ?");
  assert_where("not (id lt 5)", "j.id >= ?");
  /* De Morgan */
  assert_where("not (id eq 1 or id eq 2)", "(j.id <> ? AND j.id <> ?)");
  assert_where("not (id eq 1 and not (id gt 2))", "(j.id <> ? OR j.id > ?)");
  assert_where("not not id eq 1", "j.id = ?");
}

Test(store_query, filter_errors_name_the_property) {
  compile_fails("foo/bar eq 1", NULL, "unknown property 'foo/bar'", "$filter");
  compile_fails("configuration/copies eq 1", NULL, "'configuration/copies'", "cannot be filtered");
  compile_fails("id eq 'seven'", NULL, "'id'", "string");
  compile_fails("id eq 1.5", NULL, "'id'", "number");
  compile_fails("createdBy/userPrincipalName eq 5", NULL, "'createdBy/userPrincipalName'",
                "integer");
  compile_fails("displayName eq 2024-05-01T00:00:00Z", NULL, "'displayName'", "date-time");
  compile_fails("createdDateTime gt 'yesterday'", NULL, "'createdDateTime'", "string");
  compile_fails("isFetchable eq 1", NULL, "'isFetchable'", "boolean");
  compile_fails("status/state eq 'bogus'", NULL, "'bogus'", "processing");
  compile_fails("status/state gt 'pending'", NULL, "'status/state'", "only eq and ne");
  compile_fails("isFetchable lt true", NULL, "'isFetchable'", "only eq and ne");
  compile_fails("size gt null", NULL, "'gt null'", "$filter");
  compile_fails("displayName", NULL, "'displayName'", "not a boolean");
}

Test(store_query, orderby_sql) {
  store_query_t cq;
  compile_ok(&cq, NULL, "createdDateTime desc");
  cr_assert_str_eq(cq.order_by, "j.created_us DESC, j.id ASC");
  cr_assert_str_eq(cq.key_cols, "j.created_us, j.id");
  cr_assert_eq(cq.nkeys, 2);
  cr_assert_eq(cq.key_types[0], STORE_QT_DATETIME);
  cr_assert_eq(cq.key_types[1], STORE_QT_INT64);
  cr_assert_null(cq.where);
  store_query_clear(&cq);

  compile_ok(&cq, NULL, "displayName, size desc");
  cr_assert_str_eq(cq.order_by, "j.display_name ASC NULLS FIRST, j.size DESC NULLS LAST, j.id ASC");
  store_query_clear(&cq);

  /* the id ends the order: later terms are checked but cannot change it */
  compile_ok(&cq, NULL, "id desc, displayName");
  cr_assert_str_eq(cq.order_by, "j.id DESC");
  cr_assert_eq(cq.nkeys, 1);
  store_query_clear(&cq);

  compile_fails(NULL, "nope", "$orderby", "unknown property 'nope'");
  compile_fails(NULL, "isFetchable", "$orderby", "'isFetchable'");
  compile_fails(NULL, "id, nope desc", "$orderby", "'nope'");
}

Test(store_query, select_and_count_sql) {
  store_query_t cq;
  compile_ok(&cq, "size gt 1", "displayName");
  char *sql = store_query_select_sql(&cq, "j.id, j.state", "jobs j", "j.tenant = ?");
  cr_assert_str_eq(sql, "SELECT j.id, j.state, j.display_name, j.id FROM jobs j WHERE "
                        "(j.tenant = ?) AND (j.size > ?) ORDER BY j.display_name ASC NULLS FIRST, "
                        "j.id ASC LIMIT ?");
  free(sql);
  sql = store_query_count_sql(&cq, "jobs j", "j.tenant = ?");
  cr_assert_str_eq(sql, "SELECT COUNT(*) FROM jobs j WHERE (j.tenant = ?) AND (j.size > ?)");
  free(sql);
  sql = store_query_count_sql(&cq, "jobs j", NULL);
  cr_assert_str_eq(sql, "SELECT COUNT(*) FROM jobs j WHERE j.size > ?");
  free(sql);
  store_query_clear(&cq);

  compile_ok(&cq, NULL, NULL);
  sql = store_query_select_sql(&cq, "j.id", "jobs j", NULL);
  cr_assert_str_eq(sql, "SELECT j.id, j.id FROM jobs j ORDER BY j.id ASC LIMIT ?");
  free(sql);
  store_query_clear(&cq);
}

Test(store_query, top_and_skip) {
  query_t q;
  store_query_t cq;
  http_param_t p[] = {{"$top", "5000"}, {"$skip", "20"}};
  cr_assert_eq(odata_parse(p, 2, OPTS, &q, g_err, sizeof g_err, NULL), 0);
  cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", 100, &cq, g_err, sizeof g_err), 0);
  cr_assert_eq(cq.limit, 100);
  cr_assert_eq(cq.offset, 20);
  char *sql = store_query_select_sql(&cq, "j.id", "jobs j", NULL);
  cr_assert(strstr(sql, "LIMIT ? OFFSET ?"), "%s", sql);
  free(sql);
  store_query_clear(&cq);
  query_clear(&q);
}

/* Compiles orderby (+filter) with a token holding keys; returns cq. */
static void compile_with_token(store_query_t *cq, const char *filter, const char *orderby,
                               const query_value_t *keys, size_t nkeys) {
  query_t q;
  parse_q(&q, filter, orderby, NULL);
  char *tok = query_pagetoken_encode(query_fingerprint(&q), keys, nkeys);
  cr_assert_not_null(tok);
  query_clear(&q);
  parse_q(&q, filter, orderby, tok);
  free(tok);
  cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", QUERY_PAGE_MAX, cq, g_err,
                                   sizeof g_err), 0, "%s", g_err);
  query_clear(&q);
}

#define DT(v) {.type = QUERY_VAL_DATETIME, .u.i = (v)}
#define I64(v) {.type = QUERY_VAL_INT64, .u.i = (v)}
#define STR(v) {.type = QUERY_VAL_STRING, .u.s = (v)}
#define DBL(v) {.type = QUERY_VAL_DOUBLE, .u.d = (v)}
#define NUL {.type = QUERY_VAL_NULL}

Test(store_query, keyset_asc_and_desc) {
  store_query_t cq;
  query_value_t k1[] = {DT(100), I64(7)};
  compile_with_token(&cq, NULL, "createdDateTime", k1, 2);
  cr_assert_str_eq(cq.where, "j.created_us >= ? AND ((j.created_us > ?) OR (j.created_us = ? AND "
                             "j.id > ?))");
  cr_assert_eq(cq.nbinds, 4);
  cr_assert_eq(cq.nfilter_binds, 0);
  cr_assert_eq(cq.binds[0].u.i, 100);
  cr_assert_eq(cq.binds[3].u.i, 7);
  cr_assert_null(cq.filter);
  store_query_clear(&cq);

  compile_with_token(&cq, NULL, "createdDateTime desc", k1, 2);
  cr_assert_str_eq(cq.where, "j.created_us <= ? AND ((j.created_us < ?) OR (j.created_us = ? AND "
                             "j.id > ?))");
  store_query_clear(&cq);

  query_value_t k2[] = {I64(7)};
  compile_with_token(&cq, NULL, NULL, k2, 1);
  cr_assert_str_eq(cq.where, "((j.id > ?))");
  store_query_clear(&cq);
  compile_with_token(&cq, NULL, "id desc", k2, 1);
  cr_assert_str_eq(cq.where, "((j.id < ?))");
  store_query_clear(&cq);
}

Test(store_query, keyset_with_nulls) {
  store_query_t cq;
  /* ascending: NULLs first, so after a NULL come the other NULLs (by id) and every value */
  query_value_t k1[] = {NUL, I64(7)};
  compile_with_token(&cq, NULL, "displayName", k1, 2);
  cr_assert_str_eq(cq.where, "((j.display_name IS NOT NULL) OR (j.display_name IS NULL AND "
                             "j.id > ?))");
  cr_assert_eq(cq.nbinds, 1);
  store_query_clear(&cq);

  query_value_t k2[] = {STR("m"), I64(7)};
  compile_with_token(&cq, NULL, "displayName", k2, 2);
  cr_assert_str_eq(cq.where, "j.display_name >= ? AND ((j.display_name > ?) OR "
                             "(j.display_name = ? AND j.id > ?))");
  store_query_clear(&cq);

  /* descending: NULLs last, so after a value come smaller values and every NULL */
  compile_with_token(&cq, NULL, "displayName desc", k2, 2);
  cr_assert_str_eq(cq.where, "(((j.display_name < ? OR j.display_name IS NULL)) OR "
                             "(j.display_name = ? AND j.id > ?))");
  store_query_clear(&cq);

  compile_with_token(&cq, NULL, "displayName desc", k1, 2);
  cr_assert_str_eq(cq.where, "((j.display_name IS NULL AND j.id > ?))");
  store_query_clear(&cq);
}

Test(store_query, keyset_mixed_with_filter) {
  store_query_t cq;
  query_value_t k[] = {STR("m"), NUL, I64(7)};
  compile_with_token(&cq, "status/state eq 'completed'", "displayName desc, size", k, 3);
  cr_assert_str_eq(cq.filter, "j.state = ?");
  cr_assert_str_eq(cq.where,
                   "(j.state = ?) AND ((((j.display_name < ? OR j.display_name IS NULL)) OR "
                   "(j.display_name = ? AND j.size IS NOT NULL) OR "
                   "(j.display_name = ? AND j.size IS NULL AND j.id > ?)))");
  cr_assert_eq(cq.nfilter_binds, 1);
  cr_assert_eq(cq.nbinds, 5);
  cr_assert_str_eq(cq.binds[0].u.s, "completed");
  cr_assert_str_eq(cq.binds[1].u.s, "m");
  cr_assert_eq(cq.binds[4].u.i, 7);
  cr_assert_str_eq(cq.order_by, "j.display_name DESC NULLS LAST, j.size ASC NULLS FIRST, j.id ASC");
  store_query_clear(&cq);
}

Test(store_query, token_must_fit_the_collection) {
  query_t q;
  store_query_t cq;
  /* right fingerprint, wrong shape: 1 key where the order needs 2 */
  parse_q(&q, NULL, "createdDateTime", NULL);
  query_value_t one[] = {I64(7)};
  char *tok = query_pagetoken_encode(query_fingerprint(&q), one, 1);
  query_clear(&q);
  parse_q(&q, NULL, "createdDateTime", tok);
  cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", 100, &cq, g_err, sizeof g_err), -1);
  cr_assert(strstr(g_err, "$skiptoken"), "%s", g_err);
  query_clear(&q);
  free(tok);

  /* wrong types: a string where the date-time key is, a NULL for a NOT NULL key */
  query_value_t wrong[][2] = {{STR("x"), I64(7)}, {NUL, I64(7)}, {DT(1), STR("7")},
                              {DT(1), NUL}};
  for (size_t i = 0; i < 4; i++) {
    parse_q(&q, NULL, "createdDateTime", NULL);
    tok = query_pagetoken_encode(query_fingerprint(&q), wrong[i], 2);
    query_clear(&q);
    parse_q(&q, NULL, "createdDateTime", tok);
    cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", 100, &cq, g_err, sizeof g_err),
                 -1, "shape %zu accepted", i);
    cr_assert(strstr(g_err, "$skiptoken"), "%s", g_err);
    query_clear(&q);
    free(tok);
  }
}

/* ---- keyset paging run on SQLite -------------------------------------------------------------
 * Every page of every order is fetched through the real compiler and page tokens; the pages
 * must concatenate to exactly the rows a reference sort/filter in C gives. */

typedef struct row {
  int64_t     id;
  int64_t     created;
  const char *name;   /* NULL allowed */
  const char *state;
  bool        has_size;
  double      size;
  int         fetchable;
  const char *upn;    /* NULL allowed */
} row_t;

#define NROWS 157
static row_t g_rows[NROWS];

static void make_rows(void) {
  static const char *names[] = {"alpha", "Beta", "gamma", "delta", "o'neil", "Zoë", "beta"};
  static const char *states[] = {"pending", "processing", "completed", "aborted"};
  static const char *upns[] = {"a@x", "b@x"};
  for (int i = 0; i < NROWS; i++) {
    row_t *r = &g_rows[i];
    r->id = 1000 - i * 3; /* ids not in insertion order */
    r->created = (int64_t)((i * 37) % 20) * 1000;
    r->name = i % 5 == 0 ? NULL : names[(i * 11) % 7];
    r->state = states[(i * 7) % 4];
    r->has_size = i % 4 != 0;
    r->size = ((i * 13) % 9) / 2.0;
    r->fetchable = i % 2;
    r->upn = i % 3 == 0 ? NULL : upns[i % 2];
  }
}

static sqlite3 *open_db(void) {
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db,
                            "CREATE TABLE jobs(tenant TEXT NOT NULL, id INTEGER PRIMARY KEY, "
                            "created_us INTEGER NOT NULL, display_name TEXT, state TEXT NOT NULL, "
                            "size REAL, is_fetchable INTEGER NOT NULL, created_by_upn TEXT, "
                            "copies INTEGER)",
                            NULL, NULL, NULL), SQLITE_OK);
  sqlite3_stmt *st;
  cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO jobs VALUES(?,?,?,?,?,?,?,?,1)", -1, &st, NULL),
               SQLITE_OK);
  for (int i = 0; i < NROWS; i++) {
    const row_t *r = &g_rows[i];
    /* another tenant's row next to each one: base_where must keep them out */
    for (int t = 0; t < 2; t++) {
      sqlite3_bind_text(st, 1, t ? "other" : "T", -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, r->id + t * 100000);
      sqlite3_bind_int64(st, 3, r->created);
      if (r->name) sqlite3_bind_text(st, 4, r->name, -1, SQLITE_STATIC);
      else sqlite3_bind_null(st, 4);
      sqlite3_bind_text(st, 5, r->state, -1, SQLITE_STATIC);
      if (r->has_size) sqlite3_bind_double(st, 6, r->size);
      else sqlite3_bind_null(st, 6);
      sqlite3_bind_int(st, 7, r->fetchable);
      if (r->upn) sqlite3_bind_text(st, 8, r->upn, -1, SQLITE_STATIC);
      else sqlite3_bind_null(st, 8);
      cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
      sqlite3_reset(st);
    }
  }
  sqlite3_finalize(st);
  return db;
}

/* Reference order: one sort key of a row as a typed value (NULL-aware). */
static query_value_t row_key(const row_t *r, const char *field) {
  if (!strcmp(field, "displayName"))
    return r->name ? (query_value_t)STR((char *)r->name) : (query_value_t)NUL;
  if (!strcmp(field, "size")) return r->has_size ? (query_value_t)DBL(r->size) : (query_value_t)NUL;
  if (!strcmp(field, "createdDateTime")) return (query_value_t)DT(r->created);
  if (!strcmp(field, "status/state")) return (query_value_t)STR((char *)r->state);
  if (!strcmp(field, "createdBy/userPrincipalName"))
    return r->upn ? (query_value_t)STR((char *)r->upn) : (query_value_t)NUL;
  return (query_value_t)I64(r->id);
}

static int cmp_value(const query_value_t *a, const query_value_t *b) {
  if (a->type == QUERY_VAL_NULL || b->type == QUERY_VAL_NULL)
    return (b->type == QUERY_VAL_NULL) - (a->type == QUERY_VAL_NULL); /* NULL is smallest */
  switch (a->type) {
    case QUERY_VAL_STRING: return strcmp(a->u.s, b->u.s); /* binary, like SQLite and COLLATE "C" */
    case QUERY_VAL_DOUBLE: return (a->u.d > b->u.d) - (a->u.d < b->u.d);
    default: return (a->u.i > b->u.i) - (a->u.i < b->u.i);
  }
}

typedef struct order_spec {
  const char *fields[3];
  bool        desc[3];
} order_spec_t;

static const order_spec_t *g_order;

static int cmp_rows(const void *pa, const void *pb) {
  const row_t *a = *(const row_t *const *)pa, *b = *(const row_t *const *)pb;
  for (int i = 0; i < 3 && g_order->fields[i]; i++) {
    query_value_t va = row_key(a, g_order->fields[i]), vb = row_key(b, g_order->fields[i]);
    int c = cmp_value(&va, &vb);
    if (c) return g_order->desc[i] ? -c : c;
  }
  return (a->id > b->id) - (a->id < b->id);
}

/* Reference filters (OData semantics) for the filters used below. */
static bool ref_filter(int which, const row_t *r) {
  switch (which) {
    case 0: return true;
    case 1: return !(r->name && !strcmp(r->name, "beta"));     /* displayName ne 'beta' */
    case 2: return !(r->has_size && r->size > 2) || !strcmp(r->state, "completed");
    /* not (size gt 2) or status/state eq 'completed' */
    case 3: return r->fetchable && (r->upn == NULL || strcmp(r->upn, "a@x") != 0);
    /* isFetchable and not (createdBy/userPrincipalName eq 'a@x') */
  }
  return false;
}
static const char *const FILTERS[] = {
    NULL, "displayName ne 'beta'", "not (size gt 2) or status/state eq 'completed'",
    "isFetchable and not (createdBy/userPrincipalName eq 'a@x')"};

/* Fetches every page of (filter, orderby) with page size `top`; returns the ids in order. */
static size_t fetch_all(sqlite3 *db, const char *filter, const char *orderby, const char *top,
                        int64_t *ids, size_t max, size_t *npages) {
  char *tok = NULL;
  size_t n = 0;
  *npages = 0;
  for (;;) {
    http_param_t p[4];
    size_t np = 0;
    if (filter) p[np++] = (http_param_t){"$filter", (char *)filter};
    if (orderby) p[np++] = (http_param_t){"$orderby", (char *)orderby};
    p[np++] = (http_param_t){"$top", (char *)top};
    if (tok) p[np++] = (http_param_t){"$skiptoken", tok};
    query_t q;
    store_query_t cq;
    cr_assert_eq(odata_parse(p, np, OPTS, &q, g_err, sizeof g_err, NULL), 0, "%s", g_err);
    cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", QUERY_PAGE_MAX, &cq, g_err,
                                     sizeof g_err), 0, "%s", g_err);
    char *sql = store_query_select_sql(&cq, "j.id", "jobs j", "j.tenant = ?");
    struct test_db_stmt s;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s.st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    test_db_bind_text(&s, 1, "T");
    int next_idx = store_query_bind_select(&cq, &s, 2);
    cr_assert_eq(next_idx - 1, sqlite3_bind_parameter_count(s.st), "%s", sql);
    free(tok);
    tok = NULL;
    int64_t got = 0;
    bool more = false;
    int rc;
    while ((rc = sqlite3_step(s.st)) == SQLITE_ROW) {
      if (got == cq.limit) {
        more = true;
        break;
      }
      cr_assert_lt(n, max);
      ids[n++] = sqlite3_column_int64(s.st, 0);
      if (++got == cq.limit) tok = store_query_row_token(&cq, &s, 1);
    }
    cr_assert(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(s.st);
    free(sql);
    int64_t limit = cq.limit;
    store_query_clear(&cq);
    query_clear(&q);
    (*npages)++;
    if (limit == 0) cr_assert_null(tok); /* $top=0: an empty page, no nextLink */
    if (!more || limit == 0) {
      free(tok);
      return n;
    }
    cr_assert_not_null(tok);
    cr_assert_lt(*npages, 1000);
  }
}

Test(store_query_sqlite, keyset_pages_match_reference_order) {
  make_rows();
  sqlite3 *db = open_db();
  static const struct { const char *orderby; order_spec_t spec; } orders[] = {
      {NULL, {{NULL}, {0}}},
      {"id desc", {{"id"}, {true}}},
      {"displayName", {{"displayName"}, {false}}},
      {"displayName desc", {{"displayName"}, {true}}},
      {"displayName desc,size", {{"displayName", "size"}, {true, false}}},
      {"size desc,displayName", {{"size", "displayName"}, {true, false}}},
      {"createdDateTime desc", {{"createdDateTime"}, {true}}},
      {"status/state,size desc,createdDateTime", {{"status/state", "size", "createdDateTime"},
                                                  {false, true, false}}},
      {"createdBy/userPrincipalName desc,displayName", {{"createdBy/userPrincipalName",
                                                         "displayName"}, {true, false}}},
  };
  static const char *tops[] = {"1", "7", "1000"};
  int64_t got[NROWS + 1];
  const row_t *ref[NROWS];
  for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
    for (int f = 0; f < 4; f++) {
      size_t nref = 0;
      for (int i = 0; i < NROWS; i++)
        if (ref_filter(f, &g_rows[i])) ref[nref++] = &g_rows[i];
      g_order = &orders[o].spec;
      qsort(ref, nref, sizeof ref[0], cmp_rows);
      for (size_t t = 0; t < 3; t++) {
        size_t npages;
        size_t n = fetch_all(db, FILTERS[f], orders[o].orderby, tops[t], got, NROWS + 1, &npages);
        cr_assert_eq(n, nref, "order '%s' filter %d top %s: %zu rows, expected %zu",
                     orders[o].orderby, f, tops[t], n, nref);
        for (size_t i = 0; i < n; i++)
          cr_assert_eq(got[i], ref[i]->id, "order '%s' filter %d top %s: row %zu is %lld, "
                       "expected %lld", orders[o].orderby, f, tops[t], i, (long long)got[i],
                       (long long)ref[i]->id);
        int64_t per = atoll(tops[t]);
        size_t expect_pages = nref ? (nref + (size_t)per - 1) / (size_t)per : 1;
        cr_assert_eq(npages, expect_pages, "order '%s' top %s: %zu pages", orders[o].orderby,
                     tops[t], npages);
      }
    }
  }
  sqlite3_close(db);
}

Test(store_query_sqlite, count_ignores_paging) {
  make_rows();
  sqlite3 *db = open_db();
  store_query_t cq;
  compile_ok(&cq, FILTERS[2], "displayName");
  char *sql = store_query_count_sql(&cq, "jobs j", "j.tenant = ?");
  struct test_db_stmt s;
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s.st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  test_db_bind_text(&s, 1, "T");
  int idx = store_query_bind_count(&cq, &s, 2);
  cr_assert_eq(idx - 1, sqlite3_bind_parameter_count(s.st));
  cr_assert_eq(sqlite3_step(s.st), SQLITE_ROW);
  int64_t expected = 0;
  for (int i = 0; i < NROWS; i++) expected += ref_filter(2, &g_rows[i]);
  cr_assert_eq(sqlite3_column_int64(s.st, 0), expected);
  sqlite3_finalize(s.st);
  free(sql);
  store_query_clear(&cq);
  sqlite3_close(db);
}

Test(store_query_sqlite, top_zero_gives_no_rows_and_no_token) {
  make_rows();
  sqlite3 *db = open_db();
  int64_t ids[4];
  size_t npages;
  cr_assert_eq(fetch_all(db, NULL, NULL, "0", ids, 4, &npages), 0);
  cr_assert_eq(npages, 1);
  sqlite3_close(db);
}

Test(store_query_sqlite, skip_applies_to_the_first_page) {
  make_rows();
  sqlite3 *db = open_db();
  query_t q;
  store_query_t cq;
  http_param_t p[] = {{"$skip", "150"}, {"$orderby", "id desc"}};
  cr_assert_eq(odata_parse(p, 2, OPTS, &q, g_err, sizeof g_err, NULL), 0);
  cr_assert_eq(store_query_compile(&q, JOB_FIELDS, NJOB, "id", 100, &cq, g_err, sizeof g_err), 0);
  char *sql = store_query_select_sql(&cq, "j.id", "jobs j", "j.tenant = ?");
  struct test_db_stmt s;
  cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s.st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
  test_db_bind_text(&s, 1, "T");
  store_query_bind_select(&cq, &s, 2);
  int n = 0;
  int64_t last = 0;
  while (sqlite3_step(s.st) == SQLITE_ROW) {
    last = sqlite3_column_int64(s.st, 0);
    n++;
  }
  cr_assert_eq(n, NROWS - 150);
  cr_assert_eq(last, 1000 - (NROWS - 1) * 3); /* the smallest id */
  sqlite3_finalize(s.st);
  free(sql);
  store_query_clear(&cq);
  query_clear(&q);
  sqlite3_close(db);
}

/* ---- JSON member fields (location/..., capabilities/...) -------------------------------- */

static const store_qfield_t JSON_FIELDS[] = {
    {"id", "p.id", STORE_QT_STRING, true, true, true, NULL},
    STORE_PRINTER_BASE_JSON_QFIELDS,
};

static int compile_json(db_t *db, const char *filter, const char *orderby, store_query_t *cq) {
  query_t q;
  parse_q(&q, filter, orderby, NULL);
  int rc = store_query_compile_db(db, &q, JSON_FIELDS, sizeof JSON_FIELDS / sizeof JSON_FIELDS[0],
                                  "id", QUERY_PAGE_MAX, cq, g_err, sizeof g_err);
  query_clear(&q);
  return rc;
}

/* SQLite, or PostgreSQL under tests/lib/pg.sh (SPOOLD_TEST_PG): each backend's own dialect. */
Test(store_query, json_member_paths_in_the_backend_dialect, .init = test_store_setup,
     .fini = test_store_teardown) {
  bool pg = test_store_is_pg();
  char *err = NULL;
  db_t *db = db_open(test_store_dburl(), 1, NULL, &err);
  cr_assert_not_null(db, "%s", err ? err : "");
  store_query_t cq;
  cr_assert_eq(compile_json(db, "location/Building eq 'B1'", NULL, &cq), 0, "%s", g_err);
  cr_assert_str_eq(cq.where, pg ? "((p.location)::jsonb #>> '{building}') = ?"
                                : "json_extract(p.location, '$.building') = ?");
  cr_assert_str_eq(cq.binds[0].u.s, "B1");
  store_query_clear(&cq);
  cr_assert_eq(compile_json(db, "capabilities/copiesPerJob/end ge 5", NULL, &cq), 0, "%s", g_err);
  cr_assert_str_eq(cq.where, pg ? "(((p.capabilities)::jsonb #>> '{copiesPerJob,end}')::bigint) >= ?"
                                : "json_extract(p.capabilities, '$.copiesPerJob.end') >= ?");
  cr_assert_eq(cq.binds[0].type, QUERY_VAL_INT64);
  store_query_clear(&cq);
  cr_assert_eq(compile_json(db, "location/latitude lt 3.5", NULL, &cq), 0, "%s", g_err);
  cr_assert_str_eq(cq.where, pg ? "(((p.location)::jsonb #>> '{latitude}')::double precision) < ?"
                                : "json_extract(p.location, '$.latitude') < ?");
  store_query_clear(&cq);
  /* a JSON member may be absent: ne matches it too; JSON booleans compare as 0/1 */
  cr_assert_eq(compile_json(db, "capabilities/collation ne true", NULL, &cq), 0, "%s", g_err);
  const char *coll = pg ? "(CASE ((p.capabilities)::jsonb #>> '{collation}') WHEN 'true' THEN 1 "
                          "WHEN 'false' THEN 0 END)"
                        : "json_extract(p.capabilities, '$.collation')";
  char want[512];
  snprintf(want, sizeof want, "(%s <> ? OR %s IS NULL)", coll, coll);
  cr_assert_str_eq(cq.where, want);
  store_query_clear(&cq);
  cr_assert_eq(compile_json(db, "startswith(location/site,'HQ')", NULL, &cq), 0, "%s", g_err);
  cr_assert(strstr(cq.where, pg ? "((p.location)::jsonb #>> '{site}'), 'A', 'a')"
                                : "json_extract(p.location, '$.site'), 'A', 'a')"), "%s", cq.where);
  cr_assert_str_eq(cq.binds[0].u.s, "hq%");
  store_query_clear(&cq);
  /* refusals name the path */
  cr_assert_eq(compile_json(db, "location/wing eq 'x'", NULL, &cq), -1);
  cr_assert(strstr(g_err, "unknown property 'location/wing'"), "%s", g_err);
  cr_assert_eq(compile_json(db, NULL, "location/building", &cq), -1);
  cr_assert(strstr(g_err, "location/building"), "%s", g_err);
  cr_assert_eq(compile_json(db, "location/latitude eq 'x'", NULL, &cq), -1);
  cr_assert(strstr(g_err, "location/latitude") && strstr(g_err, "a number"), "%s", g_err);
  /* without a database the dialect is unknown: refused, not guessed */
  cr_assert_eq(compile_json(NULL, "location/building eq 'B1'", NULL, &cq), -1);
  cr_assert(strstr(g_err, "'location/building'") && strstr(g_err, "cannot be filtered on"), "%s",
            g_err);
  /* keys are spliced into SQL: only identifiers pass */
  const char *bad[] = {"a'b"};
  cr_assert_null(db_sql_json_scalar(db, "p.location", bad, 1, DB_JSON_TEXT));
  db_close(db);
}
