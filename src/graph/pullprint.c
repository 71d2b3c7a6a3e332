/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application actions on a held job: abort (J8), redirect (J9), update (J5), and the seed
 * rule check (§5.3), under the printer and share prefixes.
 *
 * Every action runs: graph_job_resolve (401 / 403 permission table / 404) -> the body (400,
 * before anything changes) -> ONE store transaction that checks the seed rule and the state
 * machine and makes the change with its side effects (403 when the processing task comes from
 * another application's trigger, 409 notAllowed when the job has no processing task or its
 * state forbids the change) -> the reply.
 *
 * Decisions (docs/pull-printing.md): abort answers 204 and sets status.description to the
 * reason (default "The print job was aborted."); redirect to a printer that is not in the
 * tenant is 400 invalidRequest (the printer is named in the body, not the path), to a printer
 * not accepting jobs 409 notAllowed; the source job becomes completed (details []) with
 * redirectedTo and is never fetchable; the new job gets a copy of the document bytes.
 */
#include "graph/pullprint.h"

#include "app.h"
#include "blob/blob.h"
#include "graph/json.h"
#include "graph/authorize.h"
#include "graph/jobs.h"
#include "graph/model.h"
#include "graph/printers.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "http/server.h"
#include "store/pull-printers.h"
#include "store/pullprint.h"
#include "store/shares.h"
#include "util/buf.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABORT_REASON_MAX 1024 /* characters of the abort reason */

/* Replies the refusal of a pull-printing transition: 403 for the seed rule's other-app case,
 * 409 otherwise. */
static void reply_refusal(http_request_t *req, http_response_t *res,
                          const store_pull_result_t *r) {
  if (r->seed == JOB_SEED_OTHER_APP)
    graph_reply_error(req, res, 403, "accessDenied", NULL, "%s", r->why);
  else
    graph_reply_error(req, res, 409, "notAllowed", NULL, "%s",
                      r->why ? r->why : "The job's state does not allow this.");
}

/* Replies for a store result other than STORE_OK. */
static void reply_rc(http_request_t *req, http_response_t *res, store_rc_t rc,
                     const graph_job_ctx_t *ctx, const store_pull_result_t *r) {
  if (rc == STORE_CONFLICT) reply_refusal(req, res, r);
  else graph_job_failure(req, res, rc, ctx, NULL);
}

/* The calling application (seed rule); "" when the token names none. */
static const char *caller_app(const graph_job_ctx_t *ctx) {
  return ctx->caller->app_id ? ctx->caller->app_id : "";
}

/* Checks the seed rule; see graph/pullprint.h. */
bool graph_job_seed_rule_check(http_request_t *req, http_response_t *res,
                               const graph_job_ctx_t *ctx) {
  if (!ctx->decision.seed_rule) return true;
  store_pull_result_t r;
  store_rc_t rc = store_job_seed_check(APP(req)->store, ctx->caller->tenant, ctx->job.id,
                                       caller_app(ctx), &r);
  if (rc != STORE_OK) reply_rc(req, res, rc, ctx, &r);
  store_pull_result_clear(&r);
  return rc == STORE_OK;
}

/* ---- abort ------------------------------------------------------------------------------ */

static const json_field_t ABORT_FIELDS[] = {
    /* Edm.String without Nullable="false" in the CSDL: null is the same as no reason */
    {.name = "reason", .kind = JF_STRING, .nullable = true, .max_len = ABORT_REASON_MAX},
};
const json_schema_t GRAPH_JOB_ABORT_PARAMS = {"the abort action's parameters", ABORT_FIELDS, 1};

/* POST .../jobs/{id}/abort {"reason"?}: 204. */
/* The abort's store write without the job read before it: through a printer, by a caller
 * who sees every job of it (not a delegated caller limited to its own jobs), with a valid
 * body. The store checks that the job is on the path's printer as it aborts it; any other
 * outcome than 204 is answered by job_abort's full path, which reads the job first as before,
 * so every answer and its order (404, then the body's 400) stay the same. Returns true after
 * replying 204; false with *rc the write's outcome (STORE_OK: not tried) and *r its result
 * (the caller clears it), nothing replied. */
static bool abort_direct(http_request_t *req, http_response_t *res, const graph_job_ctx_t *ctx,
                         store_rc_t *rc, store_pull_result_t *r) {
  *rc = STORE_OK;
  if (ctx->via_share || (caller_is_delegated(ctx->caller) && !ctx->decision.all_jobs))
    return false;
  int64_t id = store_job_id_parse(http_request_param(req, 1));
  if (id <= 0) return false;
  json_t *body = graph_json_body(req, res, true);
  if (!body || !graph_json_check_params(req, res, body, &GRAPH_JOB_ABORT_PARAMS)) {
    json_decref(body);
    http_response_clear(res); /* the full path answers it, after the job's 404 if any */
    return false;
  }
  json_t *reason = json_object_get(body, "reason");
  const char *text = json_is_string(reason) && json_string_length(reason)
                       ? json_string_value(reason) : NULL;
  *rc = store_job_abort_on(APP(req)->store, ctx->caller->tenant, http_request_param(req, 0), id,
                           caller_app(ctx), text, r);
  json_decref(body);
  if (*rc != STORE_OK) return false;
  graph_reply_no_content(res);
  return true;
}

static void job_abort(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  store_pull_result_t r = {0};
  json_t *body = NULL;
  if (!graph_job_authorize(req, res, OP_PRINTER_JOB_ABORT, &ctx)) return;
  store_rc_t direct = STORE_OK;
  if (abort_direct(req, res, &ctx, &direct, &r)) goto done;
  graph_job_ctx_clear(&ctx);
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_ABORT, &ctx)) goto done;
  if (direct != STORE_OK) { /* the write was made and refused: its answer, the job read */
    reply_rc(req, res, direct, &ctx, &r);
    goto done;
  }
  store_pull_result_clear(&r);
  body = graph_json_body(req, res, true);
  if (!body || !graph_json_check_params(req, res, body, &GRAPH_JOB_ABORT_PARAMS)) goto done;
  json_t *reason = json_object_get(body, "reason");
  const char *text = json_is_string(reason) && json_string_length(reason)
                       ? json_string_value(reason) : NULL;
  store_rc_t rc = store_job_abort(APP(req)->store, ctx.caller->tenant, ctx.job.id,
                                  caller_app(&ctx), text, &r);
  if (rc == STORE_OK) graph_reply_no_content(res);
  else reply_rc(req, res, rc, &ctx, &r);
done:
  store_pull_result_clear(&r);
  json_decref(body);
  graph_job_ctx_clear(&ctx);
}

/* ---- update ----------------------------------------------------------------------------- */

/* The job's properties clients may name: only configuration is writable (J5). */
static const json_field_t UPDATE_FIELDS[] = {
    {.name = "configuration", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA},
    GRAPH_JOB_READONLY_FIELDS,
    {.name = "documents", .kind = JF_ARRAY, .readonly = true},
    {.name = "displayName", .kind = JF_STRING, .readonly = true},
    {.name = "completedDateTime", .kind = JF_DATETIME, .readonly = true},
};
static const json_schema_t UPDATE = {"microsoft.graph.printJob", UPDATE_FIELDS,
                                     sizeof UPDATE_FIELDS / sizeof UPDATE_FIELDS[0]};

static const json_field_t REDIRECT_FIELDS[] = {
    {.name = "destinationPrinterId", .kind = JF_STRING, .max_len = 128},
    {.name = "configuration", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA,
     .nullable = true},
};
static const json_schema_t REDIRECT = {"the redirect action's parameters", REDIRECT_FIELDS,
                                       sizeof REDIRECT_FIELDS / sizeof REDIRECT_FIELDS[0]};

/* Checks the value rules of a configuration; replies 400 and returns false when broken. */
static bool config_ok(http_request_t *req, http_response_t *res, const json_t *cfg) {
  char err[512];
  if (!cfg || json_is_null(cfg) || graph_job_config_check(cfg, err, sizeof err)) return true;
  graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err);
  return false;
}

/* PATCH .../jobs/{id} {"configuration":{...}}: 200 with the job. */
static void job_update(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_UPDATE, &ctx)) return;
  store_pull_result_t r = {0};
  store_job_t job = {0};
  char *patch = NULL;
  json_t *body = graph_json_body(req, res, false);
  if (!body || !graph_json_check(req, res, body, &UPDATE)) goto done;
  json_t *cfg = json_object_get(body, "configuration");
  if (!json_is_object(cfg)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'configuration' is required: it is the only property of a print "
                      "job that can be updated.");
    goto done;
  }
  if (!config_ok(req, res, cfg)) goto done;
  patch = json_dumps(cfg, JSON_COMPACT);
  store_rc_t rc = store_job_update_configuration(APP(req)->store, ctx.caller->tenant, ctx.job.id,
                                                 caller_app(&ctx), patch, &r);
  if (rc != STORE_OK) {
    reply_rc(req, res, rc, &ctx, &r);
    goto done;
  }
  rc = store_job_get(APP(req)->store, ctx.caller->tenant, ctx.job.id_str, &job);
  json_t *o = rc == STORE_OK ? graph_job_json(req, &job, GRAPH_JOB_JSON_CONTEXT) : NULL;
  if (!o) graph_reply_store_error(req, res);
  else graph_reply_json(req, res, 200, o);
done:
  free(patch);
  store_job_clear(&job);
  store_pull_result_clear(&r);
  json_decref(body);
  graph_job_ctx_clear(&ctx);
}

/* ---- redirect --------------------------------------------------------------------------- */

/* Copies the bytes of every document of the job into new blobs, before the transaction that
 * hands them to the redirected job. Returns false after replying 500. */
static bool copy_blobs(http_request_t *req, http_response_t *res, const char *tenant,
                       int64_t job_id, const char *job_id_str, store_blob_copy_t **copies,
                       size_t *ncopies) {
  *copies = NULL;
  *ncopies = 0;
  store_document_t *docs = NULL;
  size_t n = 0;
  if (store_job_documents(APP(req)->store, tenant, job_id, &docs, &n) != STORE_OK) {
    graph_reply_store_error(req, res);
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    if (!docs[i].blob_key) continue;
    blob_store_t *bs = APP(req)->blobs;
    char key[BLOB_KEY_LEN + 1];
    blob_key_new(key);
    int rc = bs ? blob_copy(bs, docs[i].blob_key, key) : -ENOTSUP;
    if (rc != 0) {
      log_error("redirect of job %s: copying blob %s failed: %s", job_id_str,
                docs[i].blob_key, strerror(-rc));
      ok = false;
      break;
    }
    *copies = xrealloc(*copies, (*ncopies + 1) * sizeof **copies);
    (*copies)[*ncopies].from_key = xstrdup(docs[i].blob_key);
    (*copies)[*ncopies].to_key = xstrdup(key);
    (*ncopies)++;
  }
  store_documents_free(docs, n);
  if (!ok) graph_reply_store_error(req, res);
  return ok;
}

/* Frees the copies and, when drop is set (the transaction did not take them), their blobs. */
static void copies_free(http_request_t *req, store_blob_copy_t *copies, size_t n, bool drop) {
  for (size_t i = 0; i < n; i++) {
    if (drop && APP(req)->blobs) blob_remove(APP(req)->blobs, copies[i].to_key);
    free((char *)copies[i].from_key);
    free((char *)copies[i].to_key);
  }
  free(copies);
}

/* POST .../jobs/{id}/redirect {"destinationPrinterId","configuration"?}: 200 with the new job
 * on the destination printer. */
static void job_redirect(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_REDIRECT, &ctx)) return;
  store_pull_result_t r = {0};
  store_job_t job = {0};
  store_blob_copy_t *copies = NULL;
  size_t ncopies = 0;
  bool taken = false;
  char *config = NULL;
  json_t *body = graph_json_body(req, res, false);
  if (!body || !graph_json_check_params(req, res, body, &REDIRECT)) goto done;
  json_t *dest = json_object_get(body, "destinationPrinterId");
  if (!json_is_string(dest) || !json_string_length(dest)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'destinationPrinterId' is required: the id of the printer to "
                      "redirect the job to.");
    goto done;
  }
  json_t *cfg = json_object_get(body, "configuration");
  if (!config_ok(req, res, cfg)) goto done;
  if (json_is_object(cfg)) config = json_dumps(cfg, JSON_COMPACT);

  /* Refuse early, without copying bytes, what the transaction would refuse anyway. */
  if (!graph_job_seed_rule_check(req, res, &ctx)) goto done;
  if (!copy_blobs(req, res, ctx.caller->tenant, ctx.job.id, ctx.job.id_str, &copies, &ncopies))
    goto done;

  store_job_redirect_t rq = {
      .tenant = ctx.caller->tenant,
      .job_id = ctx.job.id,
      .app = caller_app(&ctx),
      .destination = json_string_value(dest),
      .configuration = config,
      .public_url = server_public_url(req->server),
      .blobs = copies,
      .nblobs = ncopies,
  };
  store_rc_t rc = store_job_redirect(APP(req)->store, &rq, &r);
  if (rc == STORE_CONFLICT && r.no_destination) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", r.why);
    goto done;
  }
  if (rc != STORE_OK) {
    reply_rc(req, res, rc, &ctx, &r);
    goto done;
  }
  taken = true;
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, r.new_job_id);
  rc = store_job_get(APP(req)->store, ctx.caller->tenant, id, &job);
  json_t *o = rc == STORE_OK ? graph_job_json(req, &job, 0) : NULL;
  if (!o) {
    graph_reply_store_error(req, res);
    goto done;
  }
  json_object_set_new(o, "@odata.context",
                      graph_context(req, "print/printers('%s')/jobs/$entity", job.printer_id));
  graph_reply_json(req, res, 200, o);
done:
  copies_free(req, copies, ncopies, !taken);
  free(config);
  store_job_clear(&job);
  store_pull_result_clear(&r);
  json_decref(body);
  graph_job_ctx_clear(&ctx);
}

/* ---- routes ----------------------------------------------------------------------------- */

/* Whether printer is a member of the pull-print printer published by the share of printer
 * job_printer (the printer the job was sent to through that share): *member. */
static store_rc_t pull_member_of_share(store_t *st, const char *tenant, const char *job_printer,
                                       const char *printer, bool *member) {
  *member = false;
  store_share_t share = {0};
  store_rc_t rc = store_share_get_by_printer(st, tenant, job_printer, &share);
  if (rc == STORE_NOT_FOUND) return STORE_OK;
  if (rc == STORE_OK && share.pull_printer_id) {
    rc = store_pull_printer_has_member(st, tenant, share.pull_printer_id, printer);
    *member = rc == STORE_OK;
    if (rc == STORE_NOT_FOUND) rc = STORE_OK;
  }
  store_share_clear(&share);
  return rc;
}

/* J10 at a member printer of the pull-print printer whose share the job was sent to: the held
 * job j (its processing task from whichever trigger) is redirected to printer in one
 * transaction (store_job_redirect without the seed rule): a new job there (fetchable unless the
 * printer's own trigger holds it), the source completed with redirectedTo, its task completed.
 * 200 with the new job. */
static void release_at_member(http_request_t *req, http_response_t *res, const caller_t *c,
                              const store_job_t *j, const char *printer) {
  store_blob_copy_t *copies = NULL;
  size_t ncopies = 0;
  store_pull_result_t r = {0};
  store_job_t out = {0};
  bool taken = false;
  if (j->phase != JOB_HELD) {
    graph_reply_error(req, res, 409, "notAllowed", NULL,
                      "The job is not held for release (only a job a print task holds can be "
                      "released).");
    goto done;
  }
  if (!copy_blobs(req, res, c->tenant, j->id, j->id_str, &copies, &ncopies)) goto done;
  store_job_redirect_t rq = {
      .tenant = c->tenant,
      .job_id = j->id,
      .app = NULL,
      .destination = printer,
      .public_url = server_public_url(req->server),
      .blobs = copies,
      .nblobs = ncopies,
  };
  store_rc_t rc = store_job_redirect(APP(req)->store, &rq, &r);
  if (rc == STORE_CONFLICT || (rc == STORE_NOT_FOUND && r.why)) {
    graph_reply_error(req, res, 409, "notAllowed", NULL, "%s",
                      r.why ? r.why : "The job is no longer held for release.");
    goto done;
  }
  if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
    goto done;
  }
  taken = true;
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, r.new_job_id);
  json_t *o = store_job_get(APP(req)->store, c->tenant, id, &out) == STORE_OK
                  ? graph_job_json(req, &out, 0) : NULL;
  if (!o) {
    graph_reply_store_error(req, res);
    goto done;
  }
  json_object_set_new(o, "@odata.context",
                      graph_context(req, "print/printers('%s')/jobs/$entity", printer));
  graph_reply_json(req, res, 200, o);
done:
  copies_free(req, copies, ncopies, !taken);
  store_job_clear(&out);
  store_pull_result_clear(&r);
}

/* J10 POST /print/printers/{id}/jobs/release {"jobId": "..."}: the user at the printer releases
 * their job (any job for an administrator with a .All scope) held there by a print task: the
 * processing task becomes completed (notified as any task change) and the job fetchable, in one
 * transaction (store_task_finish). 200 with the job. The job must be on the named printer;
 * moving it elsewhere is the application's redirect (docs/behaviour.md). */
static void job_release(http_request_t *req, http_response_t *res) {
  perm_decision_t d;
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, OP_PRINTER_JOB_RELEASE, &d, false, &body);
  if (!c) return;
  const char *printer = http_request_param(req, 0);
  store_job_t j = {0};
  store_task_t *tasks = NULL;
  size_t nt = 0;
  store_pull_result_t r = {0};
  json_t *id = json_object_get(body, "jobId");
  const char *unknown = NULL;
  const char *key;
  json_t *v;
  json_object_foreach(body, key, v) if (strcmp(key, "jobId") != 0 && !unknown) unknown = key;
  if (unknown) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "The release action has no parameter '%.60s' (it takes jobId).", unknown);
    goto done;
  }
  if (!json_is_string(id) || !json_string_value(id)[0]) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'jobId' is required and must be the id of a job, as a string.");
    goto done;
  }
  if (!graph_printer_exists(req, res, c->tenant, printer)) goto done;
  const char *job_id = json_string_value(id);
  store_rc_t rc = store_job_get(APP(req)->store, c->tenant, job_id, &j);
  if (rc == STORE_OK && !d.all_jobs &&
      (!j.created_by_id || !c->user_id || strcmp(j.created_by_id, c->user_id) != 0))
    rc = STORE_NOT_FOUND; /* another user's job: not visible here */
  if (rc == STORE_OK && strcmp(j.printer_id, printer) != 0) {
    /* a job held on the printer of a share that publishes a pull-print printer this printer is
     * a member of: released here, i.e. redirected to this printer */
    bool member = false;
    rc = pull_member_of_share(APP(req)->store, c->tenant, j.printer_id, printer, &member);
    if (rc == STORE_OK && !member) rc = STORE_NOT_FOUND; /* another printer's job */
    if (rc == STORE_OK) {
      release_at_member(req, res, c, &j, printer);
      goto done;
    }
  }
  if (rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "The print job '%.40s' was not found on printer '%s'.", job_id, printer);
    goto done;
  }
  if (rc != STORE_OK || store_job_tasks(APP(req)->store, c->tenant, j.id, &tasks, &nt) != STORE_OK) {
    graph_reply_store_error(req, res);
    goto done;
  }
  const store_task_t *held = NULL;
  for (size_t i = 0; i < nt && !held; i++)
    if (tasks[i].state == TASK_PROCESSING) held = &tasks[i];
  if (j.phase != JOB_HELD || !held) {
    graph_reply_error(req, res, 409, "notAllowed", NULL,
                      "The job is not held for release (only a job a print task holds can be "
                      "released).");
    goto done;
  }
  char desc[256];
  snprintf(desc, sizeof desc, "Released at the printer by %.200s.",
           c->upn ? c->upn : c->user_id ? c->user_id : "the user");
  rc = store_task_finish(APP(req)->store, c->tenant, held->definition_id, held->id,
                         TASK_COMPLETED, desc, NULL, &r);
  if (rc == STORE_OK) {
    store_job_clear(&j);
    rc = store_job_get(APP(req)->store, c->tenant, job_id, &j);
  }
  if (rc == STORE_OK) {
    json_t *o = json_object();
    json_object_set_new(o, "@odata.context",
                        graph_context(req, "print/printers('%s')/jobs/$entity", printer));
    json_t *jj = graph_job_json(req, &j, 0);
    if (!jj) {
      json_decref(o);
      graph_reply_store_error(req, res);
      goto done;
    }
    json_object_update(o, jj);
    json_decref(jj);
    graph_reply_json(req, res, 200, o);
  } else if (rc == STORE_CONFLICT || rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 409, "notAllowed", NULL, "%s",
                      r.why ? r.why : "The job is no longer held for release.");
  } else {
    graph_reply_store_error(req, res);
  }
done:
  store_pull_result_clear(&r);
  store_tasks_free(tasks, nt);
  store_job_clear(&j);
  json_decref(body);
}

/* Any other method on .../jobs/release: 405 (release is an action, never a job id). */
static void job_release_method(http_request_t *req, http_response_t *res) {
  http_response_header(res, "Allow", "POST");
  graph_reply_error(req, res, 405, "notSupported", NULL,
                    "release is an action: only POST is supported on this path.");
}

/* Registered before jobs.c's routes (routes.c), so .../jobs/release never reaches .../jobs/{id}. */
static route_t ROUTES[] = {
    ROUTE("POST", "/print/printers/{id}/jobs/release", job_release,
          ROUTE_GRAPH | ROUTE_JSON_BODY, "printers.jobs.release"),
    ROUTE("GET", "/print/printers/{id}/jobs/release", job_release_method, ROUTE_GRAPH,
          "printers.jobs.release.get"),
    ROUTE("PATCH", "/print/printers/{id}/jobs/release", job_release_method,
          ROUTE_GRAPH | ROUTE_ANY_BODY, "printers.jobs.release.patch"),
    ROUTE("DELETE", "/print/printers/{id}/jobs/release", job_release_method, ROUTE_GRAPH,
          "printers.jobs.release.delete"),
    GRAPH_JOB_ROUTES("POST", "/{id}/abort", job_abort, ROUTE_GRAPH | ROUTE_JSON_BODY, ".abort"),
    GRAPH_JOB_ROUTES("POST", "/{id}/redirect", job_redirect, ROUTE_GRAPH | ROUTE_JSON_BODY,
                     ".redirect"),
    GRAPH_JOB_ROUTES("PATCH", "/{id}", job_update, ROUTE_GRAPH | ROUTE_JSON_BODY, ".update"),
};

void graph_pullprint_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
