/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print jobs on the Graph surface: /print/printers/{p}/jobs and /print/shares/{s}/jobs (the
 * same objects reached two ways). Routes capture params[0] = the printer or share id and
 * params[1] = the job id.
 *
 * graph_job_resolve() runs the common steps of every .../jobs/{id}[/...] handler (including
 * the documents handlers): authorize, find the printer or share, load the job, apply the
 * own-jobs rule. The JSON of a job is built by graph_job_json() (job-json.c).
 */
#ifndef SPOOLD_GRAPH_JOBS_H
#define SPOOLD_GRAPH_JOBS_H

#include "auth/identity.h"
#include "core/query.h"
#include "core/permissions.h"
#include "http/request.h"
#include "http/response.h"
#include "store/jobs.h"
#include "util/buf.h"

#include <jansson.h>
#include <stdbool.h>

struct app;

typedef struct graph_job_ctx {
  const caller_t *caller;    /* belongs to the request */
  perm_decision_t decision;  /* of the operation actually checked (printer op or share twin) */
  store_job_t     job;
  bool            via_share; /* the path was /print/shares/{id}/jobs/... */
  char           *printer_id;/* the job's printer (malloc'd) */
} graph_job_ctx_t;

/* For a request on .../printers/{p}/jobs/{j}[/...] or .../shares/{s}/jobs/{j}[/...]:
 * authorizes printer_op (or its share twin, perm_op_via_share, when the path starts with
 * /print/shares), resolves the printer or share in the caller's tenant (404; through a share
 * the share's printer), loads job j on that printer (404 when it is not there), applies the
 * own-jobs rule (a delegated caller without decision.all_jobs sees only jobs it created; other
 * jobs are 404) and fills *ctx. Returns false after replying; *ctx is then cleared. */
bool graph_job_resolve(http_request_t *req, http_response_t *res, perm_op_t printer_op,
                       graph_job_ctx_t *ctx);
/* The opening of graph_job_resolve without its reads, for an action whose store write checks
 * the job itself: authorizes printer_op as graph_job_resolve does (401/403; false after
 * replying) and fills ctx->caller, ctx->decision and ctx->via_share; ctx->job and
 * ctx->printer_id stay empty. The caller clears *ctx with graph_job_ctx_clear. */
bool graph_job_authorize(http_request_t *req, http_response_t *res, perm_op_t printer_op,
                         graph_job_ctx_t *ctx);
/* The own-jobs rule of graph_job_resolve for an action whose store write checks the job's
 * creator itself (ctx from graph_job_authorize): *owner is the caller's user id when the rule
 * limits the caller to its own jobs, else NULL. False when it limits a caller without a user id
 * (the action must go through graph_job_resolve). */
bool graph_job_owner_rule(const graph_job_ctx_t *ctx, const char **owner);
/* An action's store write without the reads before it, for graph_job_direct: with ctx from
 * graph_job_authorize, true after replying the action's success; false with nothing replied and
 * nothing changed, for the action's full path to answer. */
typedef bool graph_job_direct_fn(http_request_t *req, http_response_t *res,
                                 const graph_job_ctx_t *ctx);
/* The opening of an action whose store write checks the job itself (start, cancel,
 * createUploadSession): authorizes printer_op as graph_job_authorize does and tries fn. True
 * when the request is answered (the 401/403, or fn's success); false with nothing replied, for
 * the full path (graph_job_resolve and the reads before the write) to answer every other
 * outcome in its own order. */
bool graph_job_direct(http_request_t *req, http_response_t *res, perm_op_t printer_op,
                      graph_job_direct_fn *fn);
/* Frees the job and printer id ctx owns and zeroes it; NULL is fine. */
void graph_job_ctx_clear(graph_job_ctx_t *ctx);

/* Answers a failed store call on the job of ctx: STORE_CONFLICT is 409 notAllowed with why (NULL:
 * the job changed meanwhile), STORE_NOT_FOUND 404 itemNotFound naming the job, any other 500.
 * Returns false, having written nothing, when rc is STORE_OK; true after replying. */
bool graph_job_failure(http_request_t *req, http_response_t *res, int rc,
                       const graph_job_ctx_t *ctx, const char *why);

/* True when the request path is under /print/shares (either version prefix). */
bool graph_job_path_is_share(const http_request_t *req);

/* The rules of a printJobConfiguration its schema (GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA,
 * graph/model.h) cannot say (number ranges, media size names): false with a message naming the
 * property. For the pull-printing actions that take a configuration. */
bool graph_job_config_check(const json_t *cfg, char *err, size_t errlen);

/* The read-only properties of a printJob every request schema of a job names (json_field_t
 * rows of graph/json.h): a body may carry them as read, a change is refused. */
#define GRAPH_JOB_READONLY_FIELDS                                               \
  {.name = "id", .kind = JF_STRING, .readonly = true},                          \
  {.name = "createdDateTime", .kind = JF_DATETIME, .readonly = true},           \
  {.name = "createdBy", .kind = JF_OBJECT, .readonly = true},                   \
  {.name = "status", .kind = JF_OBJECT, .readonly = true},                      \
  {.name = "isFetchable", .kind = JF_BOOL, .readonly = true},                   \
  {.name = "redirectedFrom", .kind = JF_STRING, .readonly = true},              \
  {.name = "redirectedTo", .kind = JF_STRING, .readonly = true},                \
  {.name = "errorCode", .kind = JF_INT32, .readonly = true},                    \
  {.name = "acknowledgedDateTime", .kind = JF_DATETIME, .readonly = true},      \
  {.name = "tasks", .kind = JF_ARRAY, .readonly = true}

/* graph_job_json flags */
enum {
  GRAPH_JOB_JSON_CONTEXT = 1u << 0,   /* add @odata.context (the $entity of the request path) */
  GRAPH_JOB_JSON_DOCUMENTS = 1u << 1, /* add "documents" (expanded) */
  GRAPH_JOB_JSON_TASKS = 1u << 2,     /* add "tasks" (expanded) */
};

/* The printJob JSON of j: every printJob property of the request's API version (beta adds
 * displayName and the beta status members). Documents and tasks are read from the store when
 * the flags ask for them. Returns a new reference, NULL on a store error. */
json_t *graph_job_json(const http_request_t *req, const store_job_t *j, unsigned flags);
/* The printJob of j written as compact JSON text into out: the bytes that json_dumps
 * (JSON_COMPACT) gives for graph_job_json(req, j, flags) after odata_apply_select(q) (q may be
 * NULL: every member). Only for flags without expansions and q without $expand; returns false
 * when it does not apply (flags or $expand, or a value the tree would drop, such as a string
 * that is not valid UTF-8): out then holds partial text, which the caller discards before
 * taking the general path. */
bool graph_job_json_write(const http_request_t *req, const store_job_t *j, unsigned flags,
                          const query_t *q, buf_t *out);
/* The printJobStatus JSON of j (version-dependent members as in graph_job_json). */
json_t *graph_job_status_json(const http_request_t *req, const store_job_t *j);
/* The answer of a job's start as compact JSON text into out: the bytes json_dumps(JSON_COMPACT)
 * gives for graph_job_status_json(req, j) with "@odata.context": context added as its last
 * member. Returns false when a value needs the tree (graph_jw_t): out then holds partial
 * text, which the caller discards before answering through the tree. */
bool graph_job_status_json_write(const http_request_t *req, const store_job_t *j,
                                 const char *context, buf_t *out);

#endif
