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
#include "http/request.h"
#include "http/response.h"

/* Returns the caller when op is allowed, filling *d (when not NULL) with the decision (own
 * versus all jobs, seed rule...). The caller belongs to the request and is freed with it.
 * Returns NULL after replying 401, 403 or 503. */
const caller_t *graph_authorize(http_request_t *req, http_response_t *res, perm_op_t op,
                                perm_decision_t *d);

/* Authenticates only (no tenant or permission check): for endpoints whose rule is not a
 * table row. NULL after replying 401. */
const caller_t *graph_authenticate(http_request_t *req, http_response_t *res);

/* Authenticates and checks the tenant's subscription, without a permission-table row: for the
 * /spoold/v1 extension routes (ROUTE_EXT) whose rule the handler checks itself. NULL after
 * replying 401, 403 or 503. The caller belongs to the request. */
const caller_t *graph_authenticate_tenant(http_request_t *req, http_response_t *res);

#endif
