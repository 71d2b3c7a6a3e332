/* SPDX-License-Identifier: Apache-2.0 */
/* Router: case-insensitive literals, captures, version scoping, 404 versus 405 with Allow. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "http/router.h"

static void h_get(http_request_t *req, http_response_t *res) { (void)req; (void)res; }
static void h_patch(http_request_t *req, http_response_t *res) { (void)req; (void)res; }

static route_t ROUTES[] = {
    ROUTE("GET", "/print", h_get, ROUTE_GRAPH, "print.get"),
    ROUTE("PATCH", "/print", h_patch, ROUTE_GRAPH, "print.update"),
    ROUTE("GET", "/print/printers/{id}/jobs", h_get, ROUTE_GRAPH, "jobs.list"),
    ROUTE("GET", "/print/printers/{id}/jobs/{id}", h_get, ROUTE_GRAPH, "jobs.get"),
    ROUTE("POST", "/print/printers/{id}/jobs/{id}/abort", h_patch, ROUTE_GRAPH, "jobs.abort"),
    ROUTE("GET", "/healthz", h_get, 0, "healthz"),
    ROUTE("GET", "/me/printPasswords", h_get, ROUTE_EXT, "ext.printPasswords.list"),
};

static void setup(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
static void teardown(void) { router_reset(); }

TestSuite(router, .init = setup, .fini = teardown);

static http_request_t make(const char *method, api_version_t v, const char *path) {
  http_request_t r;
  memset(&r, 0, sizeof r);
  r.method = method;
  r.version = v;
  static char storage[HTTP_MAX_SEGMENTS][64];
  char copy[512];
  snprintf(copy, sizeof copy, "%s", path);
  for (char *tok = strtok(copy, "/"); tok && r.nsegs < HTTP_MAX_SEGMENTS; tok = strtok(NULL, "/")) {
    snprintf(storage[r.nsegs], sizeof storage[0], "%s", tok);
    r.segs[r.nsegs] = storage[r.nsegs];
    r.nsegs++;
  }
  return r;
}

Test(router, matches_literal_case_insensitively) {
  http_request_t r = make("GET", API_V1, "/PRINT");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert_str_eq(r.route->name, "print.get");
}

Test(router, captures_keys_in_order) {
  http_request_t r = make("GET", API_BETA, "/print/Printers/p-1/JOBS/42");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert_str_eq(r.route->name, "jobs.get");
  cr_assert_eq(r.nparams, 2);
  cr_assert_str_eq(r.params[0], "p-1");
  cr_assert_str_eq(r.params[1], "42");
}

Test(router, keys_keep_their_case) {
  http_request_t r = make("POST", API_V1, "/print/printers/AbC/jobs/7/ABORT");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert_str_eq(r.params[0], "AbC");
  cr_assert_str_eq(r.route->name, "jobs.abort");
}

Test(router, wrong_method_lists_allowed_methods) {
  char allow[64];
  http_request_t r = make("DELETE", API_V1, "/print");
  cr_assert_eq(router_match(&r, allow, sizeof allow), ROUTER_BAD_METHOD);
  cr_assert_str_eq(allow, "GET, PATCH");
  cr_assert_null(r.route);
}

Test(router, unknown_path_is_not_found) {
  http_request_t r = make("GET", API_V1, "/print/nothing");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("GET", API_V1, "/print/printers/p");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND, "segment count must match");
}

Test(router, graph_routes_need_a_version_and_others_must_not_have_one) {
  http_request_t r = make("GET", API_NONE, "/print");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("GET", API_V1, "/healthz");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("GET", API_NONE, "/healthz");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
}

Test(router, head_is_served_by_get) {
  http_request_t r = make("HEAD", API_V1, "/print");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert_str_eq(r.route->name, "print.get");
}

Test(router, empty_key_never_matches) {
  http_request_t r = make("GET", API_V1, "/print/printers/x/jobs/y");
  r.segs[2] = (char *)"";
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
}

Test(router, extension_routes_only_under_the_extension_prefix) {
  http_request_t r = make("GET", API_EXT, "/ME/printpasswords");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert_str_eq(r.route->name, "ext.printPasswords.list");
  r = make("GET", API_V1, "/me/printPasswords");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("GET", API_NONE, "/me/printPasswords");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("GET", API_EXT, "/print");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND, "Graph routes are not extension routes");
  r = make("GET", API_EXT, "/healthz");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
}

static bool is_abort(const char *segment) { return strcmp(segment, "abort") == 0; }

Test(router, dollar_segments_are_never_keys_and_count_finds_the_collection) {
  http_request_t r = make("GET", API_V1, "/print/printers/p/jobs/$count");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert_str_eq(r.route->name, "jobs.list");
  cr_assert(r.count_segment);
  cr_assert_eq(r.nsegs, 5, "the request keeps its segments");
  r = make("GET", API_V1, "/print/printers/p/jobs/7");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert(!r.count_segment);
  r = make("GET", API_V1, "/print/printers/$count/jobs/7"); /* never a key */
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("GET", API_V1, "/print/printers/p/jobs/7/$count"); /* an entity is not a collection */
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("POST", API_V1, "/print/printers/p/jobs/$count");
  cr_assert_neq(router_match(&r, NULL, 0), ROUTER_MATCH);
}

Test(router, bound_operations_may_be_namespace_qualified) {
  router_set_operation_check("microsoft.graph", is_abort);
  http_request_t r = make("POST", API_V1, "/print/printers/p/jobs/7/Microsoft.Graph.abort");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_MATCH);
  cr_assert_str_eq(r.route->name, "jobs.abort");
  r = make("GET", API_V1, "/microsoft.graph.print"); /* not an operation */
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  r = make("POST", API_V1, "/print/printers/p/jobs/7/other.ns.abort");
  cr_assert_eq(router_match(&r, NULL, 0), ROUTER_NOT_FOUND);
  router_set_operation_check(NULL, NULL);
}
