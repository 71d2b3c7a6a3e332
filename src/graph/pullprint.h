/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull printing on the Graph surface, part 2: the application actions on a held job (reference
 * §4.3 J5, J8, J9, §5.3), under /print/printers/{p}/jobs/{j} and /print/shares/{s}/jobs/{j}:
 *
 *   POST  .../abort     {"reason"?}                          204
 *   POST  .../redirect  {"destinationPrinterId","configuration"?}  200 the new job
 *   PATCH .../jobs/{j}  {"configuration":{...}}              200 the job
 *
 * and the seed rule check other handlers need (app-token createUploadSession).
 */
#ifndef SPOOLD_GRAPH_PULLPRINT_H
#define SPOOLD_GRAPH_PULLPRINT_H

#include <stdbool.h>

#include "graph/jobs.h"
#include "http/request.h"
#include "http/response.h"

/* The seed rule (§5.3) for a job resolved with graph_job_resolve: when ctx->decision.seed_rule
 * is set (an application caller of an operation flagged PERM_SEED_RULE), the job must have a
 * print task in state processing created by a trigger of the calling application. Returns
 * true when the rule holds or does not apply; otherwise replies 403 accessDenied (processing
 * tasks exist, none from the caller's trigger), 409 notAllowed (no processing task at all),
 * 404 or 500, and returns false. A read-only check: the actions that change the job check the
 * rule again inside their transaction. */
bool graph_job_seed_rule_check(http_request_t *req, http_response_t *res,
                               const graph_job_ctx_t *ctx);

/* Registers the routes above (from graph_routes_register). */
void graph_pullprint_routes(void);

#endif
