/* SPDX-License-Identifier: Apache-2.0 */
/* Authentication, subscription and permission checks in front of every Graph handler. */
#include "graph/authorize.h"
#include "app.h"
#include "graph/json.h"
#include "graph/reply.h"
#include "util/buf.h"

#include <string.h>

static void free_caller(http_request_t *req) {
  caller_free(req->caller);
  req->caller = NULL;
}

int graph_request_caller(http_request_t *req, const caller_t **out, char *why, size_t whylen) {
  *out = req->caller;
  if (req->caller) return AUTH_OK;
  app_t *app = APP(req);
  caller_t *c = NULL;
  int rc = auth_verify(app->auth, http_request_header(req, "Authorization"), &c, why, whylen);
  if (rc != AUTH_OK) return rc;
  req->caller = c;
  req->cleanup = free_caller;
  req->log_tenant = xstrdup(c->tenant);
  if (c->app_id) req->log_app = xstrdup(c->app_id);
  *out = c;
  return AUTH_OK;
}

const caller_t *graph_authenticate(http_request_t *req, http_response_t *res) {
  const caller_t *c = NULL;
  char why[256];
  int rc = graph_request_caller(req, &c, why, sizeof why);
  if (rc != AUTH_OK) {
    char www[512];
    auth_www_authenticate(rc, why, www, sizeof www);
    graph_reply_error(req, res, 401, "unauthenticated", NULL,
                      "Authentication failed: %s.", why);
    http_response_header(res, "WWW-Authenticate", www);
    return NULL;
  }
  return c;
}

int graph_check_tenant(http_request_t *req, http_response_t *res, const caller_t *c, char *why,
                       size_t whylen) {
  app_t *app = APP(req);
  int rc = auth_tenant_check(app->auth, app->store, c, why, whylen);
  if (rc == AUTH_TENANT_ERROR) {
    http_response_header(res, "Retry-After", "5");
    graph_reply_error(req, res, 503, "serviceNotAvailable", NULL,
                      "The tenant's subscription could not be checked; retry shortly.");
  }
  return rc;
}

const caller_t *graph_authenticate_tenant(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authenticate(req, res);
  if (!c) return NULL;
  char why[512];
  int rc = graph_check_tenant(req, res, c, why, sizeof why);
  if (rc == AUTH_TENANT_ERROR) return NULL;
  if (rc != AUTH_TENANT_ACTIVE) {
    graph_reply_error(req, res, 403, "accessDenied", NULL, "%s", why);
    return NULL;
  }
  return c;
}

const caller_t *graph_authorize(http_request_t *req, http_response_t *res, perm_op_t op,
                                perm_decision_t *d) {
  const caller_t *c = graph_authenticate_tenant(req, res);
  if (!c) return NULL;
  char why[512];
  perm_decision_t local;
  if (!d) d = &local;
  if (!perm_check(op, c, d, why, sizeof why)) {
    graph_reply_error(req, res, 403, "accessDenied", NULL, "%s", why);
    return NULL;
  }
  return c;
}

/* See authorize.h. */
const caller_t *graph_authorize_query(http_request_t *req, http_response_t *res, perm_op_t op,
                                      perm_decision_t *d, const odata_spec_t *spec, query_t *q) {
  query_init(q);
  const caller_t *c = graph_authorize(req, res, op, d);
  if (!c || !odata_parse_request(req, res, spec, q)) return NULL;
  return c;
}

/* See authorize.h. */
const caller_t *graph_authorize_body(http_request_t *req, http_response_t *res, perm_op_t op,
                                     perm_decision_t *d, bool allow_empty, json_t **body) {
  *body = NULL;
  const caller_t *c = graph_authorize(req, res, op, d);
  if (!c || !(*body = graph_json_body(req, res, allow_empty))) return NULL;
  return c;
}
