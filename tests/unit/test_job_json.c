/* SPDX-License-Identifier: Apache-2.0 */
/* The printJob written as text (graph_job_json_write) against the jansson tree it replaces on
 * the read path (graph_job_json + odata_apply_select + json_dumps): the same bytes for every
 * version, Prefer header, $select and awkward value, or false where the tree must answer. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "core/query.h"
#include "graph/jobs.h"
#include "graph/odata.h"
#include "http/request.h"

static const http_param_t PREFER_EVOLVABLE[] = {
    {.name = "Prefer", .value = "include-unknown-enum-members"}};

static app_t g_app; /* no store: nothing here reads one */

static void request(http_request_t *req, api_version_t v, bool evolvable) {
  memset(req, 0, sizeof *req);
  req->app = &g_app;
  req->method = "GET";
  req->version = v;
  if (evolvable) {
    req->headers = PREFER_EVOLVABLE;
    req->nheaders = 1;
  }
}

static store_job_t job(const char *config, const char *name, const char *desc) {
  store_job_t j;
  memset(&j, 0, sizeof j);
  j.id = 42;
  strcpy(j.id_str, "42");
  j.printer_id = "p-1";
  j.display_name = (char *)name;
  j.state = 3;
  j.details = 0x15;
  j.description = (char *)desc;
  j.is_fetchable = true;
  j.acknowledged_us = 1700000000123456;
  j.configuration = (char *)config;
  j.created_us = 1600000000000001;
  j.completed_us = 0;
  j.created_by_id = "u-1";
  j.created_by_upn = "a\"b\\c@example.com";
  j.created_by_name = NULL;
  j.created_by_ip = "127.0.0.1";
  j.redirected_to = "https://example.com/v1.0/print/printers/x/jobs/7";
  j.has_error_code = true;
  j.error_code = -17;
  return j;
}

/* Compares both paths for req, j and a $select list (NULL: none). */
static void same(const http_request_t *req, const store_job_t *j, const char *const *sel) {
  query_t q;
  query_init(&q);
  size_t n = 0;
  while (sel && sel[n]) n++;
  q.select = (char **)sel;
  q.nselect = n;
  json_t *o = graph_job_json(req, j, 0);
  cr_assert_not_null(o);
  odata_apply_select(o, &q);
  char *want = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  buf_t got = BUF_INIT;
  cr_assert(graph_job_json_write(req, j, 0, &q, &got), "fast path refused: %s", want);
  cr_assert_str_eq(got.data, want);
  free(want);
  buf_free(&got);
}

static const char *const SEL_NONE[] = {NULL};
static const char *const SEL_SOME[] = {"status", "CONFIGURATION", "displayName", NULL};
static const char *const SEL_ONE[] = {"errorCode", NULL};

static void all_variants(const store_job_t *j) {
  const char *const *sels[] = {NULL, SEL_NONE, SEL_SOME, SEL_ONE};
  for (int v = 0; v < 2; v++)
    for (int e = 0; e < 2; e++)
      for (size_t s = 0; s < sizeof sels / sizeof sels[0]; s++) {
        http_request_t req;
        request(&req, v ? API_BETA : API_V1, e);
        same(&req, j, sels[s]);
      }
}

Test(job_json, text_equals_tree_for_plain_jobs) {
  store_job_t j = job("{}", "Report.pdf", "");
  all_variants(&j);
  j.configuration = NULL;
  j.has_error_code = false;
  j.acknowledged_us = 0;
  j.redirected_to = NULL;
  j.details = 0;
  all_variants(&j);
}

Test(job_json, text_equals_tree_for_configurations) {
  static const char *const configs[] = {
      "{\"copies\":3,\"colorMode\":\"color\",\"duplexMode\":\"twoSidedLongEdge\","
      "\"finishings\":[\"staple\",\"stapleTripleLeft\",\"bogus\",7],\"dpi\":600,"
      "\"margin\":{\"right\":5,\"top\":1.5},\"mediaSize\":\"A4\",\"fitPdfToPage\":true,"
      "\"pageRanges\":[{\"start\":1,\"end\":3},{\"end\":9,\"start\":5}],"
      "\"orientation\":\"landscape\",\"quality\":null,\"inputBin\":\"tray-1\\u00e9\\n\"}",
      "{\"scaling\":\"fill\",\"margin\":7,\"outputBin\":\"\\\"x\\\"\",\"copies\":1e300,"
      "\"extra\":{\"z\":1,\"a\":[true,false,null]},\"feedOrientation\":\"longEdgeFirst\"}",
      "[1,2,3]",
      "not json",
      "{\"copies\":1,\"copies\":2}",
      "{\"multipageLayout\":\"clockwiseFromTopLeft\",\"pagesPerSheet\":4,\"mediaType\":\"\"}",
  };
  for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
    store_job_t j = job(configs[i], NULL, "Printing");
    all_variants(&j);
  }
}

Test(job_json, text_equals_tree_for_awkward_strings) {
  store_job_t j = job("{}", "tab\there \x01\x1f\x7f \b\f/\xc3\xa9\xe2\x82\xac\xf0\x9f\x96\xa8",
                      "line\r\nbreak \"quoted\" back\\slash");
  all_variants(&j);
}

Test(job_json, falls_back_where_the_tree_decides) {
  http_request_t req;
  request(&req, API_V1, false);
  buf_t b = BUF_INIT;
  store_job_t j = job("{}", NULL, "bad \xc3 utf-8"); /* json_string refuses it */
  cr_assert_not(graph_job_json_write(&req, &j, 0, NULL, &b));
  buf_reset(&b);
  j = job("{}", NULL, "");
  cr_assert_not(graph_job_json_write(&req, &j, GRAPH_JOB_JSON_TASKS, NULL, &b));
  buf_reset(&b);
  query_t q;
  query_init(&q);
  char *expand[] = {"documents"};
  q.expand = expand;
  q.nexpand = 1;
  cr_assert_not(graph_job_json_write(&req, &j, 0, &q, &b));
  buf_free(&b);
}
