/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The first steps every Graph handler runs, in this order: authenticate the
 * bearer token (401), check the tenant's subscription (403), and check the
 * operation's row of the permission table (403). Refusals are answered here
 * with a message that says what is missing.
 */
#ifndef SPOOLD_GRAPH_AUTHORIZE_H
#define SPOOLD_GRAPH_AUTHORIZE_H

#include "auth/identity.h"
#include "core/permissions.h"
#include "core/query.h"
#include "graph/odata.h"
#include "http/request.h"
#include "http/response.h"

#include <jansson.h>
#include <stdbool.h>

/* Returns the caller when op is allowed, filling *d (when not NULL) with the decision (own
 * versus all jobs, seed rule...). The caller belongs to the request and is freed with it.
 * Returns NULL after replying 401, 403 or 503. */
const caller_t *graph_authorize(http_request_t *req, http_response_t *res, perm_op_t op,
                                perm_decision_t *d);

/* The opening of every list and get handler: graph_authorize (401/403/503), then
 * odata_parse_request with the operation's spec (400). *q is initialized before anything else,
 * so the caller may query_clear it on every path (after a refusal it holds nothing). Returns
 * the caller (it belongs to the request), or NULL after replying. */
const caller_t *graph_authorize_query(http_request_t *req, http_response_t *res, perm_op_t op,
                                      perm_decision_t *d, const odata_spec_t *spec, query_t *q);

/* The opening of a handler that takes a JSON body: graph_authorize (401/403/503), then
 * graph_json_body (400/415; allow_empty as there). Returns the caller with *body (the caller
 * decrefs it), or NULL after replying, *body then NULL. */
const caller_t *graph_authorize_body(http_request_t *req, http_response_t *res, perm_op_t op,
                                     perm_decision_t *d, bool allow_empty, json_t **body);

/* Authenticates only (no tenant or permission check): for endpoints whose rule is not a
 * table row. NULL after replying 401. */
const caller_t *graph_authenticate(http_request_t *req, http_response_t *res);

/* Authenticates and checks the tenant's subscription, without a permission-table row: for the
 * /spoold/v1 extension routes (ROUTE_EXT) whose rule the handler checks itself. NULL after
 * replying 401, 403 or 503. The caller belongs to the request. */
const caller_t *graph_authenticate_tenant(http_request_t *req, http_response_t *res);

/* The two steps above without their 401/403 answers, for a gate that answers refusals its
 * own way (the development control API answers 404). graph_request_caller verifies the bearer
 * token: on AUTH_OK *out is the caller, attached to req (freed with it; its tenant and app go
 * to the request log); otherwise the auth_verify code, with why filled. A request already
 * authenticated returns its caller. */
int graph_request_caller(http_request_t *req, const caller_t **out, char *why, size_t whylen);
/* Checks c's tenant subscription (auth_tenant_check): AUTH_TENANT_ACTIVE, AUTH_TENANT_INACTIVE
 * with why filled and nothing answered, or AUTH_TENANT_ERROR after answering 503
 * serviceNotAvailable with Retry-After. */
int graph_check_tenant(http_request_t *req, http_response_t *res, const caller_t *c, char *why,
                       size_t whylen);

#endif
