/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The printJob and printJobStatus JSON (reference §2.6), shared by the job handlers (jobs.c),
 * the pull-printing actions and anything else that answers with a job.
 */
#include "app.h"
#include "core/enums.h"
#include "graph/documents.h"
#include "graph/jobs.h"
#include "graph/json.h"
#include "graph/model.h"
#include "graph/reply.h"
#include "graph/tasks.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <string.h>
#include <strings.h>

/* printJobConfiguration members in CSDL order, with the enum of enum-valued ones. */
typedef struct config_member {
  const char       *name;
  const enum_def_t *enm;      /* enum member (or array of them), else NULL */
} config_member_t;

static const config_member_t CONFIG_MEMBERS[] = {
    {"collate", NULL},
    {"colorMode", &ENUM_PRINT_COLOR_MODE},
    {"copies", NULL},
    {"dpi", NULL},
    {"duplexMode", &ENUM_PRINT_DUPLEX_MODE},
    {"feedOrientation", &ENUM_PRINTER_FEED_ORIENTATION},
    {"finishings", &ENUM_PRINT_FINISHING},
    {"fitPdfToPage", NULL},
    {"inputBin", NULL},
    {"margin", NULL},
    {"mediaSize", NULL},
    {"mediaType", NULL},
    {"multipageLayout", &ENUM_PRINT_MULTIPAGE_LAYOUT},
    {"orientation", &ENUM_PRINT_ORIENTATION},
    {"outputBin", NULL},
    {"pageRanges", NULL},
    {"pagesPerSheet", NULL},
    {"quality", &ENUM_PRINT_QUALITY},
    {"scaling", &ENUM_PRINT_SCALING},
};
#define NCONFIG_MEMBERS (sizeof CONFIG_MEMBERS / sizeof CONFIG_MEMBERS[0])

static json_t *iso_or_null(int64_t us) {
  if (us <= 0) return json_null();
  char t[TIME_ISO_LEN];
  time_format_iso(us, t);
  return json_string(t);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* An enum member as the caller may see it (evolvable members need the Prefer header). */
static json_t *enum_out(const enum_def_t *e, const json_t *v, bool evolvable) {
  if (!json_is_string(v)) return json_null();
  int i = enum_lookup(e, json_string_value(v), true);
  return json_string(i >= 0 ? enum_emit(e, i, evolvable) : "unknownFutureValue");
}

/* True when the printJobConfiguration member name is collection-valued (its schema says). */
static bool is_collection(const char *name) {
  const json_schema_t *sc = &GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA;
  for (size_t i = 0; i < sc->nfields; i++)
    if (!strcmp(sc->fields[i].name, name)) return sc->fields[i].kind == JF_ARRAY;
  return false;
}

/* The configuration with every member present (null when unset, [] for collections). */
static json_t *config_json(const store_job_t *j, bool evolvable) {
  json_t *stored = j->configuration ? json_loads(j->configuration, JSON_REJECT_DUPLICATES, NULL)
                                    : NULL;
  json_t *o = json_object();
  for (size_t i = 0; i < NCONFIG_MEMBERS; i++) {
    const config_member_t *m = &CONFIG_MEMBERS[i];
    json_t *v = json_is_object(stored) ? json_object_get(stored, m->name) : NULL;
    json_t *out;
    if (!v || json_is_null(v)) {
      out = is_collection(m->name) ? json_array() : json_null(); /* collections: [] never null */
    } else if (m->enm && json_is_array(v)) {
      out = json_array();
      size_t k;
      json_t *el;
      json_array_foreach(v, k, el) json_array_append_new(out, enum_out(m->enm, el, evolvable));
    } else if (m->enm) {
      out = enum_out(m->enm, v, evolvable);
    } else if (!strcmp(m->name, "margin") && json_is_object(v)) {
      static const char *const sides[] = {"top", "bottom", "left", "right"};
      out = json_object();
      for (size_t s = 0; s < 4; s++) {
        json_t *x = json_object_get(v, sides[s]);
        json_object_set_new(out, sides[s], x ? json_incref(x) : json_null());
      }
    } else {
      out = json_incref(v);
    }
    json_object_set_new(o, m->name, out);
  }
  json_decref(stored);
  return o;
}

/* The printJobStatus of j; see graph/jobs.h. */
json_t *graph_job_status_json(const http_request_t *req, const store_job_t *j) {
  bool evolvable = graph_prefers_evolvable(req);
  const char *state = enum_emit(&ENUM_PRINT_JOB_PROCESSING_STATE, j->state, evolvable);
  json_t *o = json_object();
  json_object_set_new(o, "state", json_string(state));
  json_object_set_new(o, "description", json_string(j->description ? j->description : ""));
  json_t *details = json_array();
  for (size_t i = 0; i < ENUM_PRINT_JOB_STATE_DETAIL.count && i < 31; i++)
    if (j->details & (1u << i))
      json_array_append_new(details,
                            json_string(enum_emit(&ENUM_PRINT_JOB_STATE_DETAIL, (int)i, evolvable)));
  json_object_set_new(o, "details", details);
  json_object_set_new(o, "isAcquiredByPrinter", json_boolean(j->is_acquired));
  if (req->version == API_BETA) {
    /* The beta printJobStatus still carries the older names of the same values. */
    json_object_set_new(o, "acquiredByPrinter", json_boolean(j->is_acquired));
    json_object_set_new(o, "processingState", json_string(state));
    json_object_set_new(o, "processingStateDescription",
                        json_string(j->description ? j->description : ""));
  }
  return o;
}

/* The printJob of j; see graph/jobs.h. */
json_t *graph_job_json(const http_request_t *req, const store_job_t *j, unsigned flags) {
  bool beta = req->version == API_BETA;
  json_t *o = json_object();
  if (flags & GRAPH_JOB_JSON_CONTEXT) {
    if (graph_job_path_is_share(req) && http_request_param(req, 0))
      json_object_set_new(o, "@odata.context",
                          graph_context(req, "print/shares('%s')/jobs/$entity",
                                        http_request_param(req, 0)));
    else
      json_object_set_new(o, "@odata.context",
                          graph_context(req, "print/printers('%s')/jobs/$entity", j->printer_id));
  }
  json_object_set_new(o, "id", json_string(j->id_str));
  json_object_set_new(o, "createdDateTime", iso_or_null(j->created_us));
  json_t *by = json_object();
  json_object_set_new(by, "id", str_or_null(j->created_by_id));
  json_object_set_new(by, "displayName", str_or_null(j->created_by_name));
  json_object_set_new(by, "userPrincipalName", str_or_null(j->created_by_upn));
  json_object_set_new(by, "ipAddress", str_or_null(j->created_by_ip));
  json_object_set_new(o, "createdBy", by);
  json_object_set_new(o, "status", graph_job_status_json(req, j));
  json_object_set_new(o, "configuration", config_json(j, graph_prefers_evolvable(req)));
  json_object_set_new(o, "isFetchable", json_boolean(j->is_fetchable));
  json_object_set_new(o, "redirectedFrom", str_or_null(j->redirected_from));
  json_object_set_new(o, "redirectedTo", str_or_null(j->redirected_to));
  json_object_set_new(o, "errorCode", j->has_error_code ? json_integer(j->error_code) : json_null());
  json_object_set_new(o, "acknowledgedDateTime", iso_or_null(j->acknowledged_us));
  if (beta) {
    json_object_set_new(o, "displayName", str_or_null(j->display_name));
    json_object_set_new(o, "completedDateTime", iso_or_null(j->completed_us));
  }

  store_t *st = APP(req)->store;
  if (flags & GRAPH_JOB_JSON_DOCUMENTS) {
    store_document_t *docs;
    size_t n;
    if (store_job_documents(st, j->tenant, j->id, &docs, &n) != STORE_OK) {
      json_decref(o);
      return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, graph_document_json(req, &docs[i]));
    store_documents_free(docs, n);
    json_object_set_new(o, "documents", a);
  }
  if (flags & GRAPH_JOB_JSON_TASKS) {
    store_task_t *tasks;
    size_t n;
    if (store_job_tasks(st, j->tenant, j->id, &tasks, &n) != STORE_OK) {
      json_decref(o);
      return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, graph_task_json(req, &tasks[i]));
    store_tasks_free(tasks, n);
    json_object_set_new(o, "tasks", a);
  }
  return o;
}
