/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: $filter lambda operators (any / all) and isColorPrintingSupported over the JSON
 * collection members of printerBase (store/query.c with db_sql_json_elements), compiled in the
 * backend's dialect and run on the backend itself: SQLite, or PostgreSQL under tests/lib/pg.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/query.h"
#include "graph/odata.h"
#include "store-fixture.h"
#include "store/db.h"
#include "store/query.h"

static char g_err[512];

static const store_qfield_t FIELDS[] = {
    {"id", "p.id", STORE_QT_STRING, true, true, true, NULL},
    STORE_PRINTER_BASE_JSON_QFIELDS,
};

static int compile_json(db_t *db, const char *filter, const char *orderby, store_query_t *cq) {
  (void)orderby;
  query_t q;
  query_init(&q);
  cr_assert_eq(odata_parse_filter(filter, &q.filter, g_err, sizeof g_err), 0, "%s: %s", filter,
               g_err);
  q.present |= QUERY_OPT_FILTER;
  int rc = store_query_compile_db(db, &q, FIELDS, sizeof FIELDS / sizeof FIELDS[0], "id",
                                  QUERY_PAGE_MAX, cq, g_err, sizeof g_err);
  query_clear(&q);
  return rc;
}

/* ---- collection members: lambda any / all, and isColorPrintingSupported ------------------- */

/* Three printers as a derived table p: a (colour, A4 and Letter, 300/600 dpi, subunit 'East
 * wing'), b (grayscale only, A4, 1200 dpi, empty subunit list) and c (no capabilities, no
 * location). */
#define LAMBDA_ROWS                                                                             \
  "(SELECT 'a' AS id, '{\"subunit\":[\"East wing\",\"Lab\"]}' AS location, "                    \
  "'{\"colorModes\":[\"blackAndWhite\",\"color\"],\"mediaSizes\":[\"A4\",\"North America "    \
  "Letter\"],\"dpis\":[300,600]}' AS capabilities "                                             \
  "UNION ALL SELECT 'b', '{\"subunit\":[]}', "                                                  \
  "'{\"colorModes\":[\"grayscale\"],\"mediaSizes\":[\"A4\"],\"dpis\":[1200],\"duplexModes\":null}' " \
  "UNION ALL SELECT 'c', NULL, NULL) p"

typedef struct {
  store_query_t *cq;
  char           ids[64];
} lambda_run_t;

static int lambda_run_fn(db_conn_t *c, void *arg) {
  lambda_run_t *r = arg;
  char *sql = store_query_select_sql(r->cq, "p.id", LAMBDA_ROWS, NULL);
  db_stmt_t *s = db_prepare(c, sql);
  free(sql);
  if (!s) return DB_ERROR;
  store_query_bind_select(r->cq, s, 1);
  r->ids[0] = '\0';
  int rc;
  while ((rc = db_step(s)) == DB_ROW) strncat(r->ids, db_col_text(s, 0), 1);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* The ids (in order, as one string) of the rows filter selects, or "ERR" when it does not
 * compile (message in g_err). */
static const char *lambda_ids(db_t *db, const char *filter) {
  static lambda_run_t r;
  store_query_t cq;
  if (compile_json(db, filter, NULL, &cq) != 0) return "ERR";
  r.cq = &cq;
  int rc = db_read(db, lambda_run_fn, &r);
  store_query_clear(&cq);
  cr_assert_eq(rc, 0, "%s did not run", filter);
  return r.ids;
}

Test(store_query, lambda_any_all_on_json_collections, .init = test_store_setup,
     .fini = test_store_teardown) {
  bool pg = test_store_is_pg();
  char *err = NULL;
  db_t *db = db_open(test_store_dburl(), 1, NULL, &err);
  cr_assert_not_null(db, "%s", err ? err : "");

  /* the SQL in each dialect */
  store_query_t cq;
  cr_assert_eq(compile_json(db, "capabilities/colorModes/any(c: c eq 'color')", NULL, &cq), 0,
               "%s", g_err);
  cr_assert_str_eq(cq.where,
                   pg ? "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(((p."
                        "capabilities)::jsonb #> '{colorModes}')) WHEN 'array' THEN ((p.capabilities)"
                        "::jsonb #> '{colorModes}') END) AS e1(value) WHERE e1.value = ?)"
                      : "EXISTS (SELECT 1 FROM json_each(CASE json_type(p.capabilities, "
                        "'$.colorModes') WHEN 'array' THEN p.capabilities ELSE '[]' END, "
                        "'$.colorModes') AS e1 WHERE e1.value = ?)");
  cr_assert_str_eq(cq.binds[0].u.s, "color");
  store_query_clear(&cq);
  cr_assert_eq(compile_json(db, "capabilities/dpis/all(d: d ge 600)", NULL, &cq), 0, "%s", g_err);
  cr_assert(strncmp(cq.where, "NOT EXISTS (SELECT 1 FROM ", 26) == 0, "%s", cq.where);
  cr_assert(strstr(cq.where, pg ? "WHERE ((e1.value::bigint) < ? OR (e1.value::bigint) IS NULL))"
                              : "WHERE (e1.value < ? OR e1.value IS NULL))"), "%s",
            cq.where);
  cr_assert_eq(cq.binds[0].type, QUERY_VAL_INT64);
  store_query_clear(&cq);

  /* what they select, on the backend itself */
  cr_assert_str_eq(lambda_ids(db, "capabilities/colorModes/any(c: c eq 'color')"), "a");
  cr_assert_str_eq(lambda_ids(db, "location/subunit/any(s: s eq 'east wing')"), "",
                   "eq is exact, as on scalar members");
  cr_assert_str_eq(lambda_ids(db, "location/subunit/any(s: s eq 'East wing')"), "a");
  cr_assert_str_eq(lambda_ids(db, "capabilities/colorModes/any(c: c eq 'Color')"), "ERR",
                   "enum members are exact names, as on scalar enum properties");
  cr_assert_str_eq(lambda_ids(db, "capabilities/colorModes/any(c: c in ('color','grayscale'))"),
                   "ab");
  cr_assert_str_eq(lambda_ids(db, "not capabilities/colorModes/any(c: c eq 'color')"), "bc");
  cr_assert_str_eq(lambda_ids(db, "capabilities/mediaSizes/any(m: m eq 'North America Letter')"),
                   "a");
  cr_assert_str_eq(lambda_ids(db, "capabilities/mediaSizes/all(m: m eq 'A4')"), "bc",
                   "all is true on an absent collection");
  cr_assert_str_eq(lambda_ids(db, "not capabilities/mediaSizes/all(m: m eq 'A4')"), "a");
  cr_assert_str_eq(lambda_ids(db, "capabilities/dpis/any(d: d ge 600)"), "ab");
  cr_assert_str_eq(lambda_ids(db, "capabilities/dpis/all(d: d ge 600)"), "bc");
  cr_assert_str_eq(lambda_ids(db, "capabilities/dpis/any()"), "ab");
  cr_assert_str_eq(lambda_ids(db, "capabilities/duplexModes/any()"), "", "null is no element");
  cr_assert_str_eq(lambda_ids(db, "location/subunit/any()"), "a");
  cr_assert_str_eq(lambda_ids(db, "location/subunit/any(s: startswith(s,'EAST'))"), "a",
                   "the string functions stay case-insensitive");
  cr_assert_str_eq(lambda_ids(db, "location/subunit/any(s: s ne 'Lab')"), "a");
  cr_assert_str_eq(lambda_ids(db, "location/subunit/all(s: s ne 'Lab')"), "bc");
  cr_assert_str_eq(lambda_ids(db, "capabilities/dpis/any(d: d eq 1200 and id eq 'b')"), "b",
                   "the predicate may name the entity's own properties");
  /* isColorPrintingSupported: computed from colorModes (null without any) */
  cr_assert_str_eq(lambda_ids(db, "capabilities/isColorPrintingSupported"), "a");
  cr_assert_str_eq(lambda_ids(db, "capabilities/isColorPrintingSupported eq false"), "b");
  cr_assert_str_eq(lambda_ids(db, "capabilities/isColorPrintingSupported eq null"), "c");
  cr_assert_str_eq(lambda_ids(db, "capabilities/isColorPrintingSupported ne true"), "bc");

  /* refusals name what is wrong */
  cr_assert_str_eq(lambda_ids(db, "capabilities/colorModes eq 'color'"), "ERR");
  cr_assert(strstr(g_err, "'capabilities/colorModes'") && strstr(g_err, "is a collection") &&
                strstr(g_err, "any("), "%s", g_err);
  cr_assert_str_eq(lambda_ids(db, "capabilities/colorModes/any(c: c eq 'rainbow')"), "ERR");
  cr_assert(strstr(g_err, "'rainbow'") && strstr(g_err, "capabilities/colorModes"), "%s", g_err);
  cr_assert_str_eq(lambda_ids(db, "capabilities/dpis/any(d: d eq '300')"), "ERR");
  cr_assert(strstr(g_err, "capabilities/dpis") && strstr(g_err, "an integer"), "%s", g_err);
  cr_assert_str_eq(lambda_ids(db, "location/building/any(b: b eq 'x')"), "ERR");
  cr_assert(strstr(g_err, "any() applies to collection-valued") && strstr(g_err, "location/building"),
            "%s", g_err);
  cr_assert_str_eq(lambda_ids(db, "capabilities/wings/any(w: w eq 'x')"), "ERR");
  cr_assert(strstr(g_err, "unknown property 'capabilities/wings'"), "%s", g_err);
  cr_assert_str_eq(lambda_ids(db, "capabilities/dpis/any(d: d/x eq 1)"), "ERR");
  cr_assert(strstr(g_err, "'d/x'") && strstr(g_err, "without members"), "%s", g_err);
  cr_assert_str_eq(lambda_ids(db, "capabilities/dpis/any(d: x eq 1)"), "ERR");
  cr_assert(strstr(g_err, "unknown property 'x'"), "%s", g_err);
  cr_assert_eq(compile_json(NULL, "capabilities/dpis/any(d: d eq 1)", NULL, &cq), -1);
  cr_assert(strstr(g_err, "'capabilities/dpis'") && strstr(g_err, "cannot be filtered on"), "%s",
            g_err);
  char *value = NULL;
  const char *keys[] = {"dpis"};
  cr_assert_null(db_sql_json_elements(db, "p.capabilities", keys, 1, DB_JSON_INT, "e'", &value));
  cr_assert_null(value);

  db_close(db);
}
