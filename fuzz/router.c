/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the request line as the server reads it: URI parsing (http/request.c:
 * http_request_parse_uri: percent-decoding, the /v1.0, /beta and /spoold/v1 prefixes, OData
 * key syntax, query parameters) and route matching (http/router.c) against the server's real
 * route tables (Graph, extension, health and IPP routes, development ones included).
 *
 * Input: "<METHOD> <URI>" (the method is what precedes the first space). Checked: decoded
 * segments and parameters are NUL-free strings; a match names a route with the request's
 * method (HEAD matches GET) and as many segments as the path (one fewer for a collection's
 * ".../$count"), exactly as many captured keys as its pattern has, each an existing non-empty
 * segment, and matching again gives the same route (no hidden state);
 * a 405 comes with a non-empty Allow list naming only real methods.
 */
#include "fuzz.h"

#include "graph/routes.h"
#include "health.h"
#include "http/request.h"
#include "http/router.h"
#include "ipp/ipp.h"

#include <stdbool.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  health_register(true);
  graph_routes_register();
  graph_ext_routes_register(true);
  ipp_routes_register();
  return 0;
}

static size_t pattern_keys(const route_t *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->nsegs; i++) n += r->segs[i][0] == '{';
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 8192) return 0;
  char *s = fuzz_cstr(data, size);
  if (strlen(s) != size) { /* a NUL cannot arrive in a request line */
    free(s);
    return 0;
  }
  char *sp = strchr(s, ' ');
  const char *method = "GET", *uri = s;
  if (sp) {
    *sp = '\0';
    method = s;
    uri = sp + 1;
  }
  http_request_t req;
  memset(&req, 0, sizeof req);
  req.method = method;
  if (http_request_parse_uri(&req, uri)) {
    FUZZ_CHECK(req.nsegs <= HTTP_MAX_SEGMENTS, "%zu segments", req.nsegs);
    for (size_t i = 0; i < req.nsegs; i++) FUZZ_CHECK(req.segs[i] != NULL, "segment %zu", i);
    for (size_t i = 0; i < req.nquery; i++)
      FUZZ_CHECK(req.query[i].name && req.query[i].value, "parameter %zu", i);
    char allow[128] = "";
    router_result_t rr = router_match(&req, allow, sizeof allow);
    if (rr == ROUTER_MATCH) {
      const route_t *r = req.route;
      FUZZ_CHECK(r != NULL, "a match without a route");
      FUZZ_CHECK(!strcmp(r->method, method) || (!strcmp(method, "HEAD") && !strcmp(r->method, "GET")),
                 "%s matched route %s (%s)", method, r->name, r->method);
      /* a collection's ".../$count" matches the collection's route, one segment shorter */
      FUZZ_CHECK(!req.count_segment || ((r->flags & ROUTE_COLLECTION) &&
                                        !strcmp(req.segs[req.nsegs - 1], "$count")),
                 "route %s matched as a $count path", r->name);
      FUZZ_CHECK(r->nsegs + (req.count_segment ? 1 : 0) == req.nsegs,
                 "route %s has %zu segments, the path %zu", r->name, r->nsegs, req.nsegs);
      size_t keys = pattern_keys(r);
      FUZZ_CHECK(req.nparams == (keys < HTTP_MAX_PARAMS ? keys : HTTP_MAX_PARAMS),
                 "route %s captured %zu keys of %zu", r->name, req.nparams, keys);
      for (size_t i = 0; i < req.nparams; i++) {
        bool found = false;
        for (size_t k = 0; k < req.nsegs; k++) found = found || req.params[i] == req.segs[k];
        FUZZ_CHECK(found && req.params[i][0], "key %zu of %s is not a path segment", i, r->name);
      }
      req.route = NULL;
      FUZZ_CHECK(router_match(&req, NULL, 0) == ROUTER_MATCH && req.route == r,
                 "matching again gave another answer");
    } else if (rr == ROUTER_BAD_METHOD) {
      FUZZ_CHECK(allow[0] != '\0', "405 without an Allow list for %s %s", method, uri);
      static const char *const methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE"};
      char copy[128];
      snprintf(copy, sizeof copy, "%s", allow);
      for (char *save = NULL, *m = strtok_r(copy, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
        bool known = false;
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) known = known || !strcmp(m, methods[i]);
        FUZZ_CHECK(known, "Allow lists %s", m);
      }
      FUZZ_CHECK(strcmp(method, "HEAD") != 0 || !strstr(allow, "GET"), "HEAD refused where GET is allowed");
    } else {
      FUZZ_CHECK(rr == ROUTER_NOT_FOUND, "router answered %d", rr);
    }
  }
  http_request_free_uri(&req);
  free(s);
  return 0;
}
