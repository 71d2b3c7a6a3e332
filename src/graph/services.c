/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print services and their endpoints (reference §4.7): GET /print/services[/{id}] (V1, V2) and
 * GET /print/services/{id}/endpoints[/{endpointId}] (V3, V4).
 *
 * Universal Print answers one service whose endpoint is Microsoft's discovery service. spoold
 * answers one service (id SERVICES_ID, the same in every tenant and deployment) whose endpoints
 * are this server's own, built from --public-url:
 *   "ipp"   <public-url>/ipp/print   the IPP INFRA endpoint printers and print proxies use
 *   "graph" <public-url>/v1.0        the Graph print API (this API)
 */
#include "app.h"
#include "graph/authorize.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "http/server.h"
#include "util/buf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define SERVICES_ID "80443613-1aa5-4e1d-ad1c-58c622a51666"

static const struct {
  const char *id;
  const char *display_name;
  const char *path; /* appended to --public-url */
} ENDPOINTS[] = {
    {"ipp", "spoold IPP INFRA endpoint (printers and print proxies)", "/ipp/print"},
    {"graph", "spoold Universal Print-compatible Graph API", "/v1.0"},
};

static const char *const ENDPOINT_PROPS[] = {"id", "displayName", "uri", NULL};
static const char *const SERVICE_PROPS[] = {"id", "endpoints", NULL};
static const char *const SERVICE_EXPAND[] = {"endpoints", NULL};

static json_t *endpoint_json(const http_request_t *req, size_t i) {
  buf_t uri = BUF_INIT;
  buf_printf(&uri, "%s%s", server_public_url(req->server), ENDPOINTS[i].path);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(ENDPOINTS[i].id));
  json_object_set_new(o, "displayName", json_string(ENDPOINTS[i].display_name));
  json_object_set_new(o, "uri", json_string(uri.data));
  buf_free(&uri);
  return o;
}

/* The service with its endpoints inline (as the documented example shows them). */
static json_t *service_json(const http_request_t *req) {
  json_t *o = json_object(), *eps = json_array();
  json_object_set_new(o, "id", json_string(SERVICES_ID));
  for (size_t i = 0; i < COUNT(ENDPOINTS); i++) json_array_append_new(eps, endpoint_json(req, i));
  json_object_set_new(o, "endpoints", eps);
  return o;
}

#define LIST_MASK \
  (QUERY_OPT_SELECT | QUERY_OPT_TOP | QUERY_OPT_SKIP | QUERY_OPT_EXPAND | QUERY_OPT_FORMAT)

static const odata_spec_t SERVICE_LIST_QUERY = {.mask = LIST_MASK, .select = SERVICE_PROPS,
                                                .expand = SERVICE_EXPAND};
static const odata_spec_t SERVICE_GET_QUERY = {
    .mask = QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_FORMAT, .select = SERVICE_PROPS,
    .expand = SERVICE_EXPAND};
static const odata_spec_t ENDPOINT_LIST_QUERY = {.mask = LIST_MASK & ~QUERY_OPT_EXPAND,
                                                 .select = ENDPOINT_PROPS};
static const odata_spec_t ENDPOINT_GET_QUERY = {.mask = QUERY_OPT_SELECT | QUERY_OPT_FORMAT,
                                                .select = ENDPOINT_PROPS};

/* GET /print/services */
static void services_list(http_request_t *req, http_response_t *res) {
  query_t q;
  if (!graph_authorize_query(req, res, OP_SERVICES_LIST, NULL, &SERVICE_LIST_QUERY, &q)) return;
  json_t *value = json_array();
  if (q.skip == 0 && q.top != 0) {
    json_t *s = service_json(req);
    odata_apply_select(s, &q);
    json_array_append_new(value, s);
  }
  graph_reply_collection(req, res, graph_context(req, "print/services"), value, NULL);
  query_clear(&q);
}

/* Authorizes op, parses the query options into *q (graph_authorize_query: the caller clears
 * it on every path) and checks the service params[0] exists; false after replying (401/403,
 * 400, 404). */
static bool service_step(http_request_t *req, http_response_t *res, perm_op_t op,
                         const odata_spec_t *spec, query_t *q) {
  if (!graph_authorize_query(req, res, op, NULL, spec, q)) return false;
  if (strcasecmp(req->params[0], SERVICES_ID) == 0) return true;
  graph_reply_error(req, res, 404, "itemNotFound", NULL, "Print service '%.128s' was not found.",
                    req->params[0]);
  return false;
}

/* Replies 200 with entity o under context, q's $select applied. Takes both. */
static void reply_entity(http_request_t *req, http_response_t *res, json_t *context, json_t *o,
                         const query_t *q) {
  o = graph_with_context(context, o);
  odata_apply_select(o, q);
  graph_reply_json(req, res, 200, o);
}

/* GET /print/services/{id} */
static void service_get(http_request_t *req, http_response_t *res) {
  query_t q;
  if (service_step(req, res, OP_SERVICE_GET, &SERVICE_GET_QUERY, &q))
    reply_entity(req, res, graph_context(req, "print/services/$entity"), service_json(req), &q);
  query_clear(&q);
}

/* GET /print/services/{id}/endpoints */
static void endpoints_list(http_request_t *req, http_response_t *res) {
  query_t q;
  if (service_step(req, res, OP_SERVICE_ENDPOINTS_LIST, &ENDPOINT_LIST_QUERY, &q)) {
    json_t *value = json_array();
    for (size_t i = 0; i < COUNT(ENDPOINTS); i++) {
      if ((int64_t)i < q.skip || (q.top >= 0 && (int64_t)i >= q.skip + q.top)) continue;
      json_t *e = endpoint_json(req, i);
      odata_apply_select(e, &q);
      json_array_append_new(value, e);
    }
    graph_reply_collection(req, res,
                           graph_context(req, "Collection(microsoft.graph.printServiceEndpoint)"),
                           value, NULL);
  }
  query_clear(&q);
}

/* GET /print/services/{id}/endpoints/{endpointId} */
static void endpoint_get(http_request_t *req, http_response_t *res) {
  query_t q;
  size_t i = 0;
  if (service_step(req, res, OP_SERVICE_ENDPOINT_GET, &ENDPOINT_GET_QUERY, &q)) {
    while (i < COUNT(ENDPOINTS) && strcasecmp(ENDPOINTS[i].id, req->params[1]) != 0) i++;
    if (i == COUNT(ENDPOINTS))
      graph_reply_error(req, res, 404, "itemNotFound", NULL,
                        "Endpoint '%.128s' of print service '%s' was not found.", req->params[1],
                        SERVICES_ID);
    else
      reply_entity(req, res,
                   graph_context(req, "print/services('%s')/endpoints/$entity", SERVICES_ID),
                   endpoint_json(req, i), &q);
  }
  query_clear(&q);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/print/services", services_list, ROUTE_GRAPH, "services.list"),
    ROUTE("GET", "/print/services/{id}", service_get, ROUTE_GRAPH, "services.get"),
    ROUTE("GET", "/print/services/{id}/endpoints", endpoints_list, ROUTE_GRAPH,
          "services.endpoints.list"),
    ROUTE("GET", "/print/services/{id}/endpoints/{eid}", endpoint_get, ROUTE_GRAPH,
          "services.endpoints.get"),
};

/* Registers the service routes. */
void graph_services_routes(void) { router_add(ROUTES, COUNT(ROUTES)); }
