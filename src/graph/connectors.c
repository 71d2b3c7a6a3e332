/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print connectors (reference §4.6): GET /print/connectors (C1), GET/PATCH/DELETE
 * /print/connectors/{id} (C2-C4) and GET /print/printers/{id}/connectors[/{id}] (C5, P10).
 *
 * A connector exists only once it has registered itself through Universal Print's registration
 * service, which spoold does not run (printers register directly, POST /print/printers/create).
 * So every tenant's connector collection is empty: lists answer an empty collection, and a
 * connector id is always 404 itemNotFound, after the usual authorization and query checks.
 */
#include "app.h"
#include "graph/authorize.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* printConnector's properties, for $select and $orderby. */
static const char *const PROPS[] = {"id", "displayName", "fullyQualifiedDomainName",
                                    "operatingSystem", "appVersion", "registeredDateTime",
                                    "location", NULL};

/* C1: $select, $top, $orderby (and the skip token of a next page); $count, $search and $filter
 * are refused. */
#define LIST_OPTIONS \
  (QUERY_OPT_SELECT | QUERY_OPT_TOP | QUERY_OPT_ORDERBY | QUERY_OPT_SKIPTOKEN | QUERY_OPT_FORMAT)

static const odata_spec_t LIST_QUERY = {.mask = LIST_OPTIONS, .select = PROPS};

/* Authorizes the list operation op and parses and checks its query options ($orderby names
 * too: no store call sees them). Returns the caller, or NULL after replying. */
static const caller_t *list_step(http_request_t *req, http_response_t *res, perm_op_t op) {
  query_t q;
  const caller_t *c = graph_authorize_query(req, res, op, NULL, &LIST_QUERY, &q);
  char err[768] = "";
  for (size_t i = 0; c && !err[0] && i < q.norderby; i++) {
    buf_t path = BUF_INIT;
    query_path_format(&q.orderby[i].path, &path);
    bool known = false;
    for (size_t k = 0; PROPS[k] && !known; k++)
      known = query_path_equals(&q.orderby[i].path, PROPS[k]);
    if (!known) snprintf(err, sizeof err, "Invalid $orderby: unknown property '%.60s'", path.data);
    buf_free(&path);
  }
  query_clear(&q);
  if (!err[0]) return c;
  graph_reply_error(req, res, 400, "invalidRequest", ODATA_INNER_CODE, "%s", err);
  return NULL;
}

static void connector_not_found(http_request_t *req, http_response_t *res, const char *id) {
  graph_reply_error(req, res, 404, "itemNotFound", NULL, "Connector '%.128s' was not found.", id);
}

/* GET /print/connectors */
static void connectors_list(http_request_t *req, http_response_t *res) {
  if (!list_step(req, res, OP_CONNECTORS_LIST)) return;
  graph_reply_collection(req, res, graph_context(req, "print/connectors"), json_array(), NULL);
}

/* GET /print/connectors/{id} */
static void connector_get(http_request_t *req, http_response_t *res) {
  if (!graph_authorize(req, res, OP_CONNECTOR_GET, NULL)) return;
  connector_not_found(req, res, req->params[0]);
}

/* PATCH /print/connectors/{id} */
static void connector_update(http_request_t *req, http_response_t *res) {
  json_t *body;
  if (!graph_authorize_body(req, res, OP_CONNECTOR_UPDATE, NULL, false, &body)) return;
  json_decref(body);
  connector_not_found(req, res, req->params[0]);
}

/* DELETE /print/connectors/{id} */
static void connector_delete(http_request_t *req, http_response_t *res) {
  if (!graph_authorize(req, res, OP_CONNECTOR_DELETE, NULL)) return;
  connector_not_found(req, res, req->params[0]);
}

/* GET /print/printers/{id}/connectors */
static void printer_connectors_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = list_step(req, res, OP_PRINTER_CONNECTORS_LIST);
  if (!c || !graph_printer_exists(req, res, c->tenant, req->params[0])) return;
  graph_reply_collection(req, res,
                         graph_context(req, "print/printers('%s')/connectors", req->params[0]),
                         json_array(), NULL);
}

/* GET /print/printers/{id}/connectors/{connectorId} */
static void printer_connector_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_CONNECTORS_LIST, NULL);
  if (!c || !graph_printer_exists(req, res, c->tenant, req->params[0])) return;
  connector_not_found(req, res, req->params[1]);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/print/connectors", connectors_list, ROUTE_GRAPH, "connectors.list"),
    ROUTE("GET", "/print/connectors/{id}", connector_get, ROUTE_GRAPH, "connectors.get"),
    ROUTE("PATCH", "/print/connectors/{id}", connector_update, ROUTE_GRAPH | ROUTE_JSON_BODY,
          "connectors.update"),
    ROUTE("DELETE", "/print/connectors/{id}", connector_delete, ROUTE_GRAPH, "connectors.delete"),
    ROUTE("GET", "/print/printers/{id}/connectors", printer_connectors_list, ROUTE_GRAPH,
          "printers.connectors.list"),
    ROUTE("GET", "/print/printers/{id}/connectors/{cid}", printer_connector_get, ROUTE_GRAPH,
          "printers.connectors.get"),
};

/* Registers the connector routes. */
void graph_connectors_routes(void) { router_add(ROUTES, COUNT(ROUTES)); }
