/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /v1.0/$metadata and /beta/$metadata: the CSDL of what spoold serves, written from the model
 * tables (graph/model.c). Like Graph's, the document is public: no token is needed.
 */
#include "graph/model.h"
#include "graph/routes.h"
#include "http/router.h"

#include <string.h>

static void metadata_get(http_request_t *req, http_response_t *res) {
  char *xml = graph_model_csdl(req->version);
  http_response_body(res, 200, "application/xml", xml, strlen(xml));
}

static route_t routes[] = {
    ROUTE("GET", "/$metadata", metadata_get, ROUTE_GRAPH, "metadata.get"),
};

void graph_metadata_routes(void) {
  router_add(routes, sizeof routes / sizeof routes[0]);
  router_set_operation_check(GRAPH_NS, graph_model_is_operation);
}
