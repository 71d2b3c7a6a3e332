/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print jobs (reference §4.3): create, list, get, start, cancel and delete, under
 * /print/printers/{printerId}/jobs and /print/shares/{shareId}/jobs (the same objects).
 *
 * Decisions for what the Graph docs leave open (docs/jobs.md):
 *  - $expand=documents needs a non-Basic job permission (decision.documents); with only a
 *    Basic one the request is refused with 403 naming the permissions that would do.
 *  - Cancel: the job's creator or a Printer/Global Administrator; anyone else gets 403 (not 404)
 *    even when the job is not theirs to see. Terminal jobs: 409.
 *  - DELETE .../jobs/{id}: 405 notSupported (jobs leave /jobs through retention).
 *  - Job creation limits (--max-jobs-per-printer-window, --max-jobs-per-user-window over
 *    --job-limit-window seconds) are sliding windows counted in the store, in the create's own
 *    transaction (store/limits.h), so every process sharing a database counts the same jobs;
 *    the IPP share endpoint's creates count in the same windows.
 */
#include "graph/jobs.h"

#include "app.h"
#include "core/enums.h"
#include "graph/authorize.h"
#include "graph/documents.h"
#include "graph/json.h"
#include "graph/model.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "graph/shares.h"
#include "http/router.h"
#include "store/printers.h"
#include "store/shares.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JOB_PAGE_MAX 100          /* rows per page of GET .../jobs */
#define JOB_DISPLAY_NAME_MAX 256  /* characters of the beta displayName */

/* ---- request bodies -------------------------------------------------------------------- */

static const json_field_t MARGIN_FIELDS[] = {
    {.name = "top", .kind = JF_INT32, .nullable = true},
    {.name = "bottom", .kind = JF_INT32, .nullable = true},
    {.name = "left", .kind = JF_INT32, .nullable = true},
    {.name = "right", .kind = JF_INT32, .nullable = true},
};
const json_schema_t GRAPH_PRINT_MARGIN_SCHEMA = {"microsoft.graph.printMargin", MARGIN_FIELDS, 4};

/* integerRange: both members are nullable in the CSDL (as in printers.c); in a page range a
 * null or missing start is the first page and a null or missing end the last one. */
static const json_field_t RANGE_FIELDS[] = {
    {.name = "start", .kind = JF_INT64, .nullable = true},
    {.name = "end", .kind = JF_INT64, .nullable = true},
};
static const json_schema_t RANGE = {"microsoft.graph.integerRange", RANGE_FIELDS, 2};

static const json_field_t CONFIG_FIELDS[] = {
    {.name = "collate", .kind = JF_BOOL, .nullable = true},
    {.name = "colorMode", .kind = JF_ENUM, .enm = &ENUM_PRINT_COLOR_MODE, .nullable = true},
    {.name = "copies", .kind = JF_INT32, .nullable = true},
    {.name = "dpi", .kind = JF_INT32, .nullable = true},
    {.name = "duplexMode", .kind = JF_ENUM, .enm = &ENUM_PRINT_DUPLEX_MODE, .nullable = true},
    {.name = "feedOrientation", .kind = JF_ENUM, .enm = &ENUM_PRINTER_FEED_ORIENTATION,
     .nullable = true},
    {.name = "finishings", .kind = JF_ARRAY, .elem = JF_ENUM, .enm = &ENUM_PRINT_FINISHING,
     .nullable = true},
    {.name = "fitPdfToPage", .kind = JF_BOOL, .nullable = true},
    {.name = "inputBin", .kind = JF_STRING, .nullable = true, .max_len = 256},
    {.name = "margin", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_MARGIN_SCHEMA, .nullable = true},
    {.name = "mediaSize", .kind = JF_STRING, .nullable = true, .max_len = 256},
    {.name = "mediaType", .kind = JF_STRING, .nullable = true, .max_len = 256},
    {.name = "multipageLayout", .kind = JF_ENUM, .enm = &ENUM_PRINT_MULTIPAGE_LAYOUT,
     .nullable = true},
    {.name = "orientation", .kind = JF_ENUM, .enm = &ENUM_PRINT_ORIENTATION, .nullable = true},
    {.name = "outputBin", .kind = JF_STRING, .nullable = true, .max_len = 256},
    {.name = "pageRanges", .kind = JF_ARRAY, .elem = JF_OBJECT, .sub = &RANGE, .nullable = true},
    {.name = "pagesPerSheet", .kind = JF_INT32, .nullable = true},
    {.name = "quality", .kind = JF_ENUM, .enm = &ENUM_PRINT_QUALITY, .nullable = true},
    {.name = "scaling", .kind = JF_ENUM, .enm = &ENUM_PRINT_SCALING, .nullable = true},
};
const json_schema_t GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA = {"microsoft.graph.printJobConfiguration", CONFIG_FIELDS,
                                     sizeof CONFIG_FIELDS / sizeof CONFIG_FIELDS[0]};

/* A printJob as a create body: only configuration (and displayName in beta) are writable. */
static const json_field_t JOB_V1_FIELDS[] = {
    {.name = "configuration", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA},
    GRAPH_JOB_READONLY_FIELDS,
};
static const json_schema_t JOB_V1 = {"microsoft.graph.printJob", JOB_V1_FIELDS,
                                     sizeof JOB_V1_FIELDS / sizeof JOB_V1_FIELDS[0]};

static const json_field_t JOB_BETA_FIELDS[] = {
    {.name = "configuration", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA},
    {.name = "displayName", .kind = JF_STRING, .nullable = true, .max_len = JOB_DISPLAY_NAME_MAX},
    {.name = "completedDateTime", .kind = JF_DATETIME, .readonly = true},
    GRAPH_JOB_READONLY_FIELDS,
};
static const json_schema_t JOB_BETA = {"microsoft.graph.printJob", JOB_BETA_FIELDS,
                                       sizeof JOB_BETA_FIELDS / sizeof JOB_BETA_FIELDS[0]};

/* start and cancel take no parameters (an empty body or {}). */
static const json_schema_t NO_PARAMS = {"the action's parameters", NULL, 0};

/* The rules the schema cannot say: ranges of numbers and the media size names. Returns true,
 * or false with a message naming the property. */
static bool config_check(const json_t *cfg, char *err, size_t errlen) {
  static const char *const positive[] = {"copies", "dpi", "pagesPerSheet"};
  for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++) {
    json_t *v = json_object_get(cfg, positive[i]);
    if (json_is_integer(v) && json_integer_value(v) < 1) {
      snprintf(err, errlen, "Property 'configuration/%s' must be at least 1, not %lld.",
               positive[i], (long long)json_integer_value(v));
      return false;
    }
  }
  json_t *margin = json_object_get(cfg, "margin");
  if (json_is_object(margin)) {
    const char *key;
    json_t *v;
    json_object_foreach(margin, key, v) {
      if (json_is_integer(v) && json_integer_value(v) < 0) {
        snprintf(err, errlen, "Property 'configuration/margin/%s' must not be negative (margins "
                 "are in microns).", key);
        return false;
      }
    }
  }
  json_t *ranges = json_object_get(cfg, "pageRanges");
  size_t i;
  json_t *r;
  json_array_foreach(ranges, i, r) {
    json_t *start = json_object_get(r, "start"), *end = json_object_get(r, "end");
    long long lo = json_is_integer(start) ? (long long)json_integer_value(start) : 1;
    long long hi = json_is_integer(end) ? (long long)json_integer_value(end) : INT32_MAX;
    if (lo < 1 || hi < lo || hi > INT32_MAX) {
      snprintf(err, errlen, "Property 'configuration/pageRanges[%zu]' must satisfy 1 <= start <= "
               "end <= %d (inclusive page numbers; a null start is the first page, a null end "
               "the last), not start %lld and end %lld.", i, INT32_MAX, lo, hi);
      return false;
    }
  }
  json_t *media = json_object_get(cfg, "mediaSize");
  if (json_is_string(media) && enum_lookup(&ENUM_PRINT_MEDIA_SIZE, json_string_value(media), true) < 0) {
    snprintf(err, errlen, "Property 'configuration/mediaSize' has the value '%.80s', which is not "
             "a media size name (names are exact, e.g. 'A4', 'North America Letter', 'JIS B5').",
             json_string_value(media));
    return false;
  }
  return true;
}

/* The printJobConfiguration schema and value rules, for the pull-printing actions (PATCH job,
 * redirect); see graph/jobs.h. */

bool graph_job_config_check(const json_t *cfg, char *err, size_t errlen) {
  return config_check(cfg, err, errlen);
}

/* ---- paths and the parent printer or share ---------------------------------------------- */

bool graph_job_path_is_share(const http_request_t *req) {
  return req->nsegs >= 2 && strcasecmp(req->segs[1], "shares") == 0;
}

void graph_job_ctx_clear(graph_job_ctx_t *ctx) {
  if (!ctx) return;
  store_job_clear(&ctx->job);
  free(ctx->printer_id);
  memset(ctx, 0, sizeof *ctx);
}

/* Finds the printer or share of params[0] in the caller's tenant. On success *printer_id
 * (malloc'd) is the printer whose jobs the path reaches and, through a share, *share (when
 * not NULL) the share. Replies 404 (or 500) and returns false otherwise. */
static bool resolve_parent(http_request_t *req, http_response_t *res, const caller_t *caller,
                           bool via_share, char **printer_id, store_share_t *share) {
  store_t *st = APP(req)->store;
  const char *id = http_request_param(req, 0);
  *printer_id = NULL;
  if (via_share) {
    store_share_t s;
    if (graph_share_failure(req, res, store_share_get(st, caller->tenant, id, &s), id))
      return false;
    *printer_id = xstrdup(s.printer_id);
    if (share) *share = s;
    else store_share_clear(&s);
    return true;
  }
  store_printer_t p;
  if (graph_printer_failure(req, res, store_printer_get(st, caller->tenant, id, &p), id))
    return false;
  *printer_id = xstrdup(p.id);
  store_printer_clear(&p);
  return true;
}

/* The operation a request on a job path checks: printer_op, or its share twin
 * (perm_op_via_share) when the path is under /print/shares. */
static perm_op_t job_op(const http_request_t *req, perm_op_t printer_op) {
  return graph_job_path_is_share(req) ? perm_op_via_share(printer_op) : printer_op;
}

/* True when the caller created job j. */
static bool job_is_own(const caller_t *c, const store_job_t *j) {
  return c->user_id && j->created_by_id && strcmp(c->user_id, j->created_by_id) == 0;
}

typedef struct {
  http_request_t  *req;
  http_response_t *res;
  bool             hide_others;
  graph_job_ctx_t *ctx;
  bool             ok; /* out */
} job_find_arg_t;

static void job_find(void *arg);

/* See graph/jobs.h. */
bool graph_job_authorize(http_request_t *req, http_response_t *res, perm_op_t printer_op,
                         graph_job_ctx_t *ctx) {
  memset(ctx, 0, sizeof *ctx);
  ctx->via_share = graph_job_path_is_share(req);
  ctx->caller = graph_authorize(req, res, job_op(req, printer_op), &ctx->decision);
  return ctx->caller != NULL;
}

/* graph_job_resolve, with the own-jobs rule optional (cancel answers 403 instead of 404). */
static bool job_resolve(http_request_t *req, http_response_t *res, perm_op_t printer_op,
                        bool hide_others, graph_job_ctx_t *ctx) {
  if (!graph_job_authorize(req, res, printer_op, ctx)) return false;
  /* Through a share: the share and the job, in one read transaction. Through a printer the
   * job comes first, often from the hot-job cache without any transaction. */
  job_find_arg_t a = {req, res, hide_others, ctx, false};
  if (ctx->via_share) store_read_together(APP(req)->store, job_find, &a);
  else job_find(&a);
  return a.ok;
}

/* The store part of job_resolve: the job of the path, on its printer or share. */
static void job_find(void *arg) {
  job_find_arg_t *a = arg;
  http_request_t *req = a->req;
  http_response_t *res = a->res;
  graph_job_ctx_t *ctx = a->ctx;
  bool hide_others = a->hide_others;
  const char *job_id = http_request_param(req, 1);
  store_rc_t rc = STORE_NOT_FOUND;
  if (!ctx->via_share &&
      (rc = store_job_get(APP(req)->store, ctx->caller->tenant, job_id, &ctx->job)) == STORE_OK &&
      strcmp(ctx->job.printer_id, http_request_param(req, 0)) == 0) {
    /* The job is in the caller's tenant on the printer of the path, so that printer exists
     * there (jobs reference their printer): no need to read the printer as well. */
    ctx->printer_id = xstrdup(ctx->job.printer_id);
  } else {
    if (!ctx->via_share && rc == STORE_OK) store_job_clear(&ctx->job);
    if (!resolve_parent(req, res, ctx->caller, ctx->via_share, &ctx->printer_id, NULL)) {
      graph_job_ctx_clear(ctx);
      return;
    }
    rc = store_job_get(APP(req)->store, ctx->caller->tenant, job_id, &ctx->job);
  }
  bool visible = rc == STORE_OK && strcmp(ctx->job.printer_id, ctx->printer_id) == 0;
  if (visible && hide_others && caller_is_delegated(ctx->caller) && !ctx->decision.all_jobs &&
      !job_is_own(ctx->caller, &ctx->job))
    visible = false;
  if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
    graph_reply_store_error(req, res);
    graph_job_ctx_clear(ctx);
    return;
  }
  if (!visible) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "The print job '%s' was not found on this %s.", job_id,
                      ctx->via_share ? "printer share" : "printer");
    graph_job_ctx_clear(ctx);
    return;
  }
  a->ok = true;
}

/* See graph/jobs.h. */
bool graph_job_failure(http_request_t *req, http_response_t *res, int rc,
                       const graph_job_ctx_t *ctx, const char *why) {
  if (rc != STORE_CONFLICT)
    return graph_reply_item_failure(req, res, rc, "The print job '%s' was not found.",
                                    ctx->job.id_str);
  graph_reply_error(req, res, 409, "notAllowed", NULL, "%s",
                    why ? why : "The job changed meanwhile; read it and try again.");
  return true;
}

/* See graph/jobs.h. */
bool graph_job_owner_rule(const graph_job_ctx_t *ctx, const char **owner) {
  *owner = NULL;
  if (!caller_is_delegated(ctx->caller) || ctx->decision.all_jobs) return true;
  *owner = ctx->caller->user_id;
  return *owner != NULL;
}

/* See graph/jobs.h. */
bool graph_job_direct(http_request_t *req, http_response_t *res, perm_op_t printer_op,
                      graph_job_direct_fn *fn) {
  graph_job_ctx_t ctx;
  if (!graph_job_authorize(req, res, printer_op, &ctx)) return true;
  bool done = fn(req, res, &ctx);
  graph_job_ctx_clear(&ctx);
  return done;
}

/* Resolves a job for a handler; see graph/jobs.h. */
bool graph_job_resolve(http_request_t *req, http_response_t *res, perm_op_t printer_op,
                       graph_job_ctx_t *ctx) {
  return job_resolve(req, res, printer_op, true, ctx);
}

/* ---- query options ------------------------------------------------------------------------ */

static const char *const SELECT_V1[] = {
    "id", "createdDateTime", "createdBy", "status", "configuration", "isFetchable",
    "redirectedFrom", "redirectedTo", "errorCode", "acknowledgedDateTime", "documents", "tasks",
    NULL};
static const char *const SELECT_BETA[] = {
    "id", "createdDateTime", "createdBy", "status", "configuration", "isFetchable",
    "redirectedFrom", "redirectedTo", "errorCode", "acknowledgedDateTime", "displayName",
    "completedDateTime", "documents", "tasks", NULL};
static const char *const EXPAND[] = {"documents", "tasks", NULL};

static const odata_spec_t LIST_QUERY = {
    .mask = QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_TOP |
            QUERY_OPT_SKIP | QUERY_OPT_SKIPTOKEN | QUERY_OPT_ORDERBY,
    .select = SELECT_V1, .select_beta = SELECT_BETA, .expand = EXPAND};
static const odata_spec_t GET_QUERY = {.mask = QUERY_OPT_SELECT | QUERY_OPT_EXPAND,
                                       .select = SELECT_V1, .select_beta = SELECT_BETA,
                                       .expand = EXPAND};

/* The graph_job_json expansion flags of the parsed query q into *flags, after the documents
 * rule (decision d). Replies 403 and returns false when q expands what d does not allow. */
static bool job_expansions(http_request_t *req, http_response_t *res, const perm_decision_t *d,
                           const query_t *q, unsigned *flags) {
  *flags = 0;
  if (odata_expanded(q, "documents")) {
    if (!d->documents) {
      graph_reply_error(req, res, 403, "accessDenied", NULL,
                        "Missing permission: $expand=documents shows document metadata, which "
                        "needs PrintJob.Read, PrintJob.ReadWrite, PrintJob.Read.All or "
                        "PrintJob.ReadWrite.All (the Basic permissions cover job metadata only).");
      return false;
    }
    *flags |= GRAPH_JOB_JSON_DOCUMENTS;
  }
  if (odata_expanded(q, "tasks")) *flags |= GRAPH_JOB_JSON_TASKS;
  return true;
}

/* ---- activity limits --------------------------------------------------------------------- */

/* Replies 429 with Retry-After for the window l refused. */
static void job_limits_reply(http_request_t *req, http_response_t *res, const store_limits_t *l) {
  const config_t *cfg = APP(req)->cfg;
  int64_t secs = (l->retry_us + 999999) / 1000000;
  if (secs < 1) secs = 1;
  char hdr[32];
  snprintf(hdr, sizeof hdr, "%lld", (long long)secs);
  http_response_header(res, "Retry-After", hdr);
  if (l->refused == STORE_JOB_LIMIT_PRINTER)
    graph_reply_error(req, res, 429, "activityLimitReached", "throttledRequest",
                      "Too many print jobs were created on this printer: at most %u in any %u "
                      "seconds. Retry after %lld seconds.", cfg->max_jobs_per_printer_window,
                      cfg->job_limit_window, (long long)secs);
  else
    graph_reply_error(req, res, 429, "activityLimitReached", "throttledRequest",
                      "You created too many print jobs: at most %u in any %u seconds. Retry "
                      "after %lld seconds.", cfg->max_jobs_per_user_window, cfg->job_limit_window,
                      (long long)secs);
}

/* ---- handlers ---------------------------------------------------------------------------- */

/* POST .../jobs: 201 with the new job (state paused, uploadPending) and its empty document. */
static void job_create(http_request_t *req, http_response_t *res) {
  bool via_share = graph_job_path_is_share(req);
  perm_decision_t d;
  json_t *body;
  const caller_t *caller =
      graph_authorize_body(req, res, job_op(req, OP_PRINTER_JOB_CREATE), &d, true, &body);
  if (!caller) return;
  char *printer_id = NULL;
  char *config_text = NULL, *groups = NULL;
  store_share_t share = {0};
  store_job_t job = {0};
  store_document_t doc = {0};

  if (json_object_get(body, "documents")) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'documents' cannot be supplied: the service creates the job's "
                      "document; upload its content with createUploadSession.");
    goto done;
  }
  if (!graph_json_check(req, res, body, req->version == API_BETA ? &JOB_BETA : &JOB_V1))
    goto done;
  json_t *cfg = json_object_get(body, "configuration");
  char err[512];
  if (cfg && !config_check(cfg, err, sizeof err)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err);
    goto done;
  }
  json_t *name = json_object_get(body, "displayName");

  config_text = cfg ? json_dumps(cfg, JSON_COMPACT) : xstrdup("{}");
  store_limit_t windows[2];
  store_limits_t limits;
  const config_t *conf = APP(req)->cfg;
  store_job_new_t n = {
      .tenant = caller->tenant,
      .display_name = json_is_string(name) ? json_string_value(name) : NULL,
      .configuration = config_text,
      .created_by_id = caller->user_id,
      .created_by_upn = caller->upn,
      .created_by_name = caller->name,
      .created_by_ip = req->peer[0] ? req->peer : NULL,
      .created_by_groups = groups = caller_groups_json(caller),
      .limits = &limits,
  };
  store_rc_t rc = STORE_NOT_FOUND;
  if (via_share) {
    /* Through a share that lets every user print (or for an application), the store reads
     * the share's printer in the job's own transaction instead of a read transaction before
     * it. Any other outcome writes nothing and is answered by the full path below, which reads
     * the share first, so every answer and its order (404, 403, then the job's) stay the same. */
    store_job_limits_init(windows, &limits, caller->tenant, NULL, caller->user_id,
                          conf->max_jobs_per_printer_window, conf->max_jobs_per_user_window,
                          conf->job_limit_window); /* the store names the share's printer */
    n.share_id = http_request_param(req, 0);
    n.share_any_caller = caller_is_app(caller);
    rc = store_job_create(APP(req)->store, &n, &job, &doc);
    n.share_id = NULL;
  }
  if (rc != STORE_OK) {
    if (!resolve_parent(req, res, caller, via_share, &printer_id, via_share ? &share : NULL))
      goto done;
    if (via_share && !graph_share_user_may_print(req, res, caller, &share)) goto done;
    store_job_limits_init(windows, &limits, caller->tenant, printer_id, caller->user_id,
                          conf->max_jobs_per_printer_window, conf->max_jobs_per_user_window,
                          conf->job_limit_window);
    n.printer_id = printer_id;
    rc = store_job_create(APP(req)->store, &n, &job, &doc);
  }
  if (rc == STORE_LIMITED) {
    job_limits_reply(req, res, &limits);
  } else if (rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "The printer '%s' was not found.",
                      printer_id);
  } else if (rc == STORE_CONFLICT) {
    graph_reply_error(req, res, 409, "notAllowed", NULL,
                      "The printer is not accepting jobs (isAcceptingJobs is false).");
  } else if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
  } else {
    /* The job written straight as text (as a GET writes it), its document appended as the
     * last member: the same bytes as the tree below, which takes over when a value needs the
     * tree's rules. */
    buf_t text = BUF_INIT;
    graph_jw_t w = {&text, true, false};
    if (graph_job_json_write(req, &job, GRAPH_JOB_JSON_CONTEXT, NULL, &text) && text.len &&
        text.data[text.len - 1] == '}') {
      text.len--; /* the job's closing brace */
      buf_puts(&text, ",\"documents\":[");
      graph_document_json_write(req, &doc, &w);
      buf_puts(&text, "]}");
    } else {
      w.ok = false;
    }
    if (!graph_reply_json_written(req, res, 201, w.ok, &text)) {
      json_t *o = graph_job_json(req, &job, GRAPH_JOB_JSON_CONTEXT);
      json_t *docs = json_array();
      json_array_append_new(docs, graph_document_json(req, &doc));
      json_object_set_new(o, "documents", docs);
      graph_reply_json(req, res, 201, o);
    }
  }
done:
  store_job_clear(&job);
  store_document_clear(&doc);
  store_share_clear(&share);
  free(config_text);
  free(groups);
  free(printer_id);
  json_decref(body);
}

/* GET .../jobs: a page of the jobs the caller may see. */
static void job_list(http_request_t *req, http_response_t *res) {
  bool via_share = graph_job_path_is_share(req);
  perm_decision_t d;
  query_t q;
  const caller_t *caller =
      graph_authorize_query(req, res, job_op(req, OP_PRINTER_JOBS_LIST), &d, &LIST_QUERY, &q);
  if (!caller) return;
  unsigned flags = 0;
  char *printer_id = NULL;
  store_job_t *jobs = NULL;
  size_t n = 0;
  char *next = NULL, *err = NULL;
  if (!job_expansions(req, res, &d, &q, &flags)) goto done;
  if (!resolve_parent(req, res, caller, via_share, &printer_id, NULL)) goto done;

  const char *own = caller_is_delegated(caller) && !d.all_jobs ? caller->user_id : NULL;
  store_rc_t rc = store_job_list(APP(req)->store, caller->tenant, printer_id, own, &q,
                                 JOB_PAGE_MAX, &jobs, &n, &next, &err);
  if (graph_reply_list_failure(req, res, rc, err,
                               "The query options do not fit the jobs collection."))
    goto done;
  json_t *value = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *o = graph_job_json(req, &jobs[i], flags);
    if (!o) {
      json_decref(value);
      graph_reply_store_error(req, res);
      goto done;
    }
    odata_apply_select(o, &q);
    json_array_append_new(value, o);
  }
  json_t *context = via_share ? graph_context(req, "print/shares('%s')/jobs",
                                               http_request_param(req, 0))
                              : graph_context(req, "print/printers('%s')/jobs", printer_id);
  graph_reply_collection(req, res, context, value, next);
done:
  store_jobs_free(jobs, n);
  free(next);
  free(err);
  free(printer_id);
  query_clear(&q);
}

/* GET .../jobs/{id} */
static void job_get(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_GET, &ctx)) return;
  query_t q;
  unsigned flags = 0;
  if (odata_parse_request(req, res, &GET_QUERY, &q) &&
      job_expansions(req, res, &ctx.decision, &q, &flags)) {
    /* Written straight as text when nothing is expanded; otherwise (or when a value needs the
     * tree's rules) through the jansson tree, which gives the same bytes. */
    buf_t text = BUF_INIT;
    bool ok = graph_job_json_write(req, &ctx.job, flags | GRAPH_JOB_JSON_CONTEXT, &q, &text);
    if (!graph_reply_json_written(req, res, 200, ok, &text)) {
      json_t *o = graph_job_json(req, &ctx.job, flags | GRAPH_JOB_JSON_CONTEXT);
      if (!o) {
        graph_reply_store_error(req, res);
      } else {
        odata_apply_select(o, &q);
        graph_reply_json(req, res, 200, o);
      }
    }
  }
  query_clear(&q);
  graph_job_ctx_clear(&ctx);
}

/* Accepts an empty body or {} for an action without parameters. */
static bool no_params(http_request_t *req, http_response_t *res) {
  json_t *body = graph_json_body(req, res, true);
  if (!body) return false;
  bool ok = graph_json_check(req, res, body, &NO_PARAMS);
  json_decref(body);
  return ok;
}

/* The 200 of a start: the job's printJobStatus after the transition, with its context. */
static void reply_started(http_request_t *req, http_response_t *res, const store_job_t *after) {
  /* Written straight as text; the tree gives the same bytes and takes over when a value
   * needs its rules. */
  char *context = graph_context_url(req, "microsoft.graph.printJobStatus");
  buf_t text = BUF_INIT;
  bool ok = graph_job_status_json_write(req, after, context, &text);
  if (!graph_reply_json_written(req, res, 200, ok, &text)) {
    json_t *o = graph_job_status_json(req, after);
    json_object_set_new(o, "@odata.context", json_string(context));
    graph_reply_json(req, res, 200, o);
  }
  free(context);
}

/* The job a direct action (start_direct, cancel_direct) names and the printer it must be on:
 * the path's (*printer_id, the caller frees it), or through a share the share's, which the
 * store reads in the action's own transaction (*share_id, the path's; *printer_id NULL).
 * Returns 1 when the action may go to the store; 0 with nothing replied when the full path must
 * answer (the id is not a job id, or the body has parameters: the full path answers those after
 * the share's or the job's 404 or 403, if any). */
static int direct_target(http_request_t *req, http_response_t *res, const graph_job_ctx_t *ctx,
                         int64_t *id, char **printer_id, const char **share_id) {
  *printer_id = NULL;
  *share_id = NULL;
  *id = store_job_id_parse(http_request_param(req, 1));
  if (*id <= 0) return 0;
  if (!no_params(req, res)) {
    http_response_clear(res);
    return 0;
  }
  if (ctx->via_share) *share_id = http_request_param(req, 0);
  else *printer_id = xstrdup(http_request_param(req, 0));
  return 1;
}

/* The start's store write without the job read before it: the store checks the job's printer
 * (the path's, or the share's, which it reads in the same transaction) and, for a delegated
 * caller limited to its own jobs, its creator as it starts it. Any other outcome than 200 (a
 * missing share too) is answered by job_start's full path, which reads the share and the job
 * first as before, so every answer and its order (404, then the body's 400, then 409) stay the
 * same. Returns true after replying 200; false with nothing replied and nothing changed. */
static bool start_direct(http_request_t *req, http_response_t *res, const graph_job_ctx_t *ctx) {
  const char *owner;
  if (!graph_job_owner_rule(ctx, &owner)) return false;
  int64_t id;
  char *printer_id;
  const char *share_id;
  if (!direct_target(req, res, ctx, &id, &printer_id, &share_id)) return false;
  store_job_t after;
  store_job_change_t ch;
  const char *url = server_public_url(req->server);
  store_rc_t rc =
      share_id ? store_job_start_on_share(APP(req)->store, ctx->caller->tenant, share_id, owner,
                                          id, url, &after, &ch)
               : store_job_start_on(APP(req)->store, ctx->caller->tenant, printer_id, owner, id,
                                    url, &after, &ch);
  if (rc == STORE_OK) reply_started(req, res, &after);
  store_job_clear(&after);
  store_job_change_clear(&ch);
  free(printer_id);
  return rc == STORE_OK;
}

/* POST .../jobs/{id}/start: 200 with the job's printJobStatus after the transition. */
static void job_start(http_request_t *req, http_response_t *res) {
  if (graph_job_direct(req, res, OP_PRINTER_JOB_START, start_direct)) return;
  graph_job_ctx_t ctx;
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_START, &ctx)) return;
  if (!no_params(req, res)) {
    graph_job_ctx_clear(&ctx);
    return;
  }
  store_job_t after;
  store_job_change_t ch;
  store_rc_t rc = store_job_start(APP(req)->store, ctx.caller->tenant, ctx.job.id,
                                  server_public_url(req->server), &after, &ch);
  if (!graph_job_failure(req, res, rc, &ctx, ch.why)) reply_started(req, res, &after);
  store_job_clear(&after);
  store_job_change_clear(&ch);
  graph_job_ctx_clear(&ctx);
}

/* The cancel's store write without the job read before it, for a caller who may cancel it
 * only as its creator (their user id) or as an administrator: the store checks the job's
 * printer (the path's, or the share's, which it reads in the same transaction) and its creator
 * as it cancels it. Any other outcome than 204 (a missing share too) is answered by
 * job_cancel's full path, which reads the share and the job first as before, so every answer
 * and its order (404, 403, then the body's 400, then 409) stay the same. Returns true after
 * replying 204; false with nothing replied and nothing changed. */
static bool cancel_direct(http_request_t *req, http_response_t *res, const graph_job_ctx_t *ctx) {
  const char *owner = ctx->decision.admin ? NULL : ctx->caller->user_id;
  if (!ctx->decision.admin && !owner) return false;
  int64_t id;
  char *printer_id;
  const char *share_id;
  if (!direct_target(req, res, ctx, &id, &printer_id, &share_id)) return false;
  store_job_change_t ch;
  store_rc_t rc =
      share_id ? store_job_cancel_on_share(APP(req)->store, ctx->caller->tenant, share_id, owner,
                                           id, NULL, &ch)
               : store_job_cancel_on(APP(req)->store, ctx->caller->tenant, printer_id, owner, id,
                                     NULL, &ch);
  if (rc == STORE_OK) {
    if (ch.task_id)
      log_info("job %s canceled; its print task %s was aborted", http_request_param(req, 1),
               ch.task_id);
    graph_reply_no_content(res);
  }
  store_job_change_clear(&ch);
  free(printer_id);
  return rc == STORE_OK;
}

/* POST .../jobs/{id}/cancel: 204. The creator or a Printer/Global Administrator only. */
static void job_cancel(http_request_t *req, http_response_t *res) {
  if (graph_job_direct(req, res, OP_PRINTER_JOB_CANCEL, cancel_direct)) return;
  graph_job_ctx_t ctx;
  if (!job_resolve(req, res, OP_PRINTER_JOB_CANCEL, false, &ctx)) return;
  if (!job_is_own(ctx.caller, &ctx.job) && !ctx.decision.admin) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "Print job '%s' was created by another user: canceling another user's job "
                      "requires the Printer Administrator or Global Administrator role.",
                      ctx.job.id_str);
    graph_job_ctx_clear(&ctx);
    return;
  }
  if (!no_params(req, res)) {
    graph_job_ctx_clear(&ctx);
    return;
  }
  store_job_change_t ch;
  store_rc_t rc = store_job_cancel(APP(req)->store, ctx.caller->tenant, ctx.job.id, NULL, &ch);
  if (!graph_job_failure(req, res, rc, &ctx, ch.why)) {
    if (ch.task_id)
      log_info("job %s canceled; its print task %s was aborted", ctx.job.id_str, ch.task_id);
    graph_reply_no_content(res);
  }
  store_job_change_clear(&ch);
  graph_job_ctx_clear(&ctx);
}

/* DELETE .../jobs/{id}: 405. Jobs are canceled, and leave /jobs when their retention ends. */
static void job_delete(http_request_t *req, http_response_t *res) {
  if (!graph_authorize(req, res, job_op(req, OP_PRINTER_JOB_DELETE), NULL)) return;
  http_response_header(res, "Allow", "GET, PATCH");
  graph_reply_error(req, res, 405, "notSupported", NULL,
                    "Print jobs cannot be deleted. Cancel the job with POST .../jobs/{id}/cancel; "
                    "finished jobs leave the jobs collection when their retention period ends.");
}

static route_t ROUTES[] = {
    GRAPH_JOB_ROUTES("POST", "", job_create, ROUTE_GRAPH | ROUTE_JSON_BODY, ".create"),
    GRAPH_JOB_ROUTES("GET", "", job_list, ROUTE_GRAPH, ".list"),
    GRAPH_JOB_ROUTES("GET", "/{id}", job_get, ROUTE_GRAPH, ".get"),
    GRAPH_JOB_ROUTES("DELETE", "/{id}", job_delete, ROUTE_GRAPH, ".delete"),
    GRAPH_JOB_ROUTES("POST", "/{id}/start", job_start, ROUTE_GRAPH | ROUTE_JSON_BODY, ".start"),
    GRAPH_JOB_ROUTES("POST", "/{id}/cancel", job_cancel, ROUTE_GRAPH | ROUTE_JSON_BODY,
                     ".cancel"),
};

void graph_jobs_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
