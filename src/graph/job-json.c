/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The printJob and printJobStatus JSON (reference §2.6), shared by the job handlers (jobs.c),
 * the pull-printing actions and anything else that answers with a job.
 */
#include "app.h"
#include "core/enums.h"
#include "core/query.h"
#include "graph/documents.h"
#include "graph/jobs.h"
#include "graph/json.h"
#include "graph/model.h"
#include "graph/odata.h"
#include "graph/reply.h"
#include "graph/tasks.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <pthread.h>
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
  json_object_set_new(o, "createdDateTime", graph_json_time_or_null(j->created_us));
  json_t *by = json_object();
  json_object_set_new(by, "id", graph_json_string_or_null(j->created_by_id));
  json_object_set_new(by, "displayName", graph_json_string_or_null(j->created_by_name));
  json_object_set_new(by, "userPrincipalName", graph_json_string_or_null(j->created_by_upn));
  json_object_set_new(by, "ipAddress", graph_json_string_or_null(j->created_by_ip));
  json_object_set_new(o, "createdBy", by);
  json_object_set_new(o, "status", graph_job_status_json(req, j));
  json_object_set_new(o, "configuration", config_json(j, graph_prefers_evolvable(req)));
  json_object_set_new(o, "isFetchable", json_boolean(j->is_fetchable));
  json_object_set_new(o, "redirectedFrom", graph_json_string_or_null(j->redirected_from));
  json_object_set_new(o, "redirectedTo", graph_json_string_or_null(j->redirected_to));
  json_object_set_new(o, "errorCode", j->has_error_code ? json_integer(j->error_code) : json_null());
  json_object_set_new(o, "acknowledgedDateTime", graph_json_time_or_null(j->acknowledged_us));
  if (beta) {
    json_object_set_new(o, "displayName", graph_json_string_or_null(j->display_name));
    json_object_set_new(o, "completedDateTime", graph_json_time_or_null(j->completed_us));
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

/* ---- the printJob written straight as text ------------------------------------------------ */

/* Any JSON value as jansson dumps it (the stored configuration's members). */
static void jw_value(graph_jw_t *w, const json_t *v) {
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  if (!s) {
    w->ok = false;
    return;
  }
  buf_puts(w->b, s);
  free(s);
}

static void jw_enum(graph_jw_t *w, const enum_def_t *e, const json_t *v, bool evolvable) {
  if (!json_is_string(v)) {
    buf_puts(w->b, "null");
    return;
  }
  int i = enum_lookup(e, json_string_value(v), true);
  graph_jw_str(w, i >= 0 ? enum_emit(e, i, evolvable) : "unknownFutureValue");
}

static void jw_config_members(graph_jw_t *w, json_t *stored, bool evolvable);

/* The text of a configuration without settings (every member null, collections []), made
 * once: most jobs are created without settings, and building it walks the schema per member. */
static char *g_empty_config;
static pthread_once_t g_empty_config_once = PTHREAD_ONCE_INIT;
static void empty_config_init(void) {
  buf_t b = BUF_INIT;
  graph_jw_t w = {.b = &b, .ok = true};
  jw_config_members(&w, NULL, false);
  g_empty_config = buf_detach(&b);
}

/* config_json() as text. */
static void jw_config(graph_jw_t *w, const store_job_t *j, bool evolvable) {
  if (!j->configuration || !strcmp(j->configuration, "{}")) { /* nothing to parse */
    pthread_once(&g_empty_config_once, empty_config_init);
    buf_puts(w->b, g_empty_config);
    return;
  }
  json_t *stored = json_loads(j->configuration, JSON_REJECT_DUPLICATES, NULL);
  jw_config_members(w, stored, evolvable);
  json_decref(stored);
}

/* The members of config_json() as text, from the stored configuration (NULL: none). */
static void jw_config_members(graph_jw_t *w, json_t *stored, bool evolvable) {
  buf_putc(w->b, '{');
  w->first = true;
  for (size_t i = 0; i < NCONFIG_MEMBERS; i++) {
    const config_member_t *m = &CONFIG_MEMBERS[i];
    json_t *v = json_is_object(stored) ? json_object_get(stored, m->name) : NULL;
    graph_jw_key(w, m->name);
    if (!v || json_is_null(v)) {
      buf_puts(w->b, is_collection(m->name) ? "[]" : "null");
    } else if (m->enm && json_is_array(v)) {
      buf_putc(w->b, '[');
      size_t k;
      json_t *el;
      json_array_foreach(v, k, el) {
        if (k) buf_putc(w->b, ',');
        jw_enum(w, m->enm, el, evolvable);
      }
      buf_putc(w->b, ']');
    } else if (m->enm) {
      jw_enum(w, m->enm, v, evolvable);
    } else if (!strcmp(m->name, "margin") && json_is_object(v)) {
      static const char *const sides[] = {"top", "bottom", "left", "right"};
      buf_putc(w->b, '{');
      w->first = true;
      for (size_t s = 0; s < 4; s++) {
        json_t *x = json_object_get(v, sides[s]);
        graph_jw_key(w, sides[s]);
        if (x) jw_value(w, x);
        else buf_puts(w->b, "null");
      }
      buf_putc(w->b, '}');
      w->first = false;
    } else {
      jw_value(w, v);
    }
  }
  buf_putc(w->b, '}');
}

/* graph_job_status_json() as text. */
static void jw_status(graph_jw_t *w, const http_request_t *req, const store_job_t *j, bool evolvable) {
  const char *state = enum_emit(&ENUM_PRINT_JOB_PROCESSING_STATE, j->state, evolvable);
  const char *desc = j->description ? j->description : "";
  buf_putc(w->b, '{');
  w->first = true;
  graph_jw_key(w, "state");
  graph_jw_str(w, state);
  graph_jw_key(w, "description");
  graph_jw_str(w, desc);
  graph_jw_key(w, "details");
  buf_putc(w->b, '[');
  bool first = true;
  for (size_t i = 0; i < ENUM_PRINT_JOB_STATE_DETAIL.count && i < 31; i++)
    if (j->details & (1u << i)) {
      if (!first) buf_putc(w->b, ',');
      first = false;
      graph_jw_str(w, enum_emit(&ENUM_PRINT_JOB_STATE_DETAIL, (int)i, evolvable));
    }
  buf_putc(w->b, ']');
  graph_jw_key(w, "isAcquiredByPrinter");
  graph_jw_bool(w, j->is_acquired);
  if (req->version == API_BETA) {
    graph_jw_key(w, "acquiredByPrinter");
    graph_jw_bool(w, j->is_acquired);
    graph_jw_key(w, "processingState");
    graph_jw_str(w, state);
    graph_jw_key(w, "processingStateDescription");
    graph_jw_str(w, desc);
  }
  buf_putc(w->b, '}');
}

/* The start's answer as text; see graph/jobs.h. */
bool graph_job_status_json_write(const http_request_t *req, const store_job_t *j,
                                 const char *context, buf_t *out) {
  graph_jw_t w = {out, true, true};
  buf_reserve(out, 512);
  jw_status(&w, req, j, graph_prefers_evolvable(req));
  out->data[--out->len] = '\0'; /* reopen the object for the context, its last member */
  w.first = false;
  graph_jw_key(&w, "@odata.context");
  graph_jw_str(&w, context);
  buf_putc(out, '}');
  return w.ok;
}

/* True when odata_apply_select(q) keeps the member name (without $expand). */
static bool kept(const query_t *q, const char *name) {
  return !q || q->nselect == 0 || !strcmp(name, "id") || odata_selected(q, name);
}

/* The printJob as text; see graph/jobs.h. */
bool graph_job_json_write(const http_request_t *req, const store_job_t *j, unsigned flags,
                          const query_t *q, buf_t *out) {
  if (flags & ~(unsigned)GRAPH_JOB_JSON_CONTEXT) return false;
  if (q && q->nexpand) return false;
  bool beta = req->version == API_BETA;
  bool evolvable = graph_prefers_evolvable(req);
  graph_jw_t w = {out, true, true};
  buf_reserve(out, 1024);
  buf_putc(out, '{');
  if (flags & GRAPH_JOB_JSON_CONTEXT) {
    char *ctx = graph_job_path_is_share(req) && http_request_param(req, 0)
                    ? graph_context_url(req, "print/shares('%s')/jobs/$entity",
                                        http_request_param(req, 0))
                    : graph_context_url(req, "print/printers('%s')/jobs/$entity", j->printer_id);
    graph_jw_key(&w, "@odata.context");
    graph_jw_str(&w, ctx);
    free(ctx);
  }
  graph_jw_key(&w, "id");
  graph_jw_str(&w, j->id_str);
  if (kept(q, "createdDateTime")) {
    graph_jw_key(&w, "createdDateTime");
    graph_jw_iso_or_null(&w, j->created_us);
  }
  if (kept(q, "createdBy")) {
    graph_jw_key(&w, "createdBy");
    buf_putc(out, '{');
    w.first = true;
    graph_jw_key(&w, "id");
    graph_jw_str_or_null(&w, j->created_by_id);
    graph_jw_key(&w, "displayName");
    graph_jw_str_or_null(&w, j->created_by_name);
    graph_jw_key(&w, "userPrincipalName");
    graph_jw_str_or_null(&w, j->created_by_upn);
    graph_jw_key(&w, "ipAddress");
    graph_jw_str_or_null(&w, j->created_by_ip);
    buf_putc(out, '}');
    w.first = false;
  }
  if (kept(q, "status")) {
    graph_jw_key(&w, "status");
    jw_status(&w, req, j, evolvable);
    w.first = false;
  }
  if (kept(q, "configuration")) {
    graph_jw_key(&w, "configuration");
    jw_config(&w, j, evolvable);
    w.first = false;
  }
  if (kept(q, "isFetchable")) {
    graph_jw_key(&w, "isFetchable");
    graph_jw_bool(&w, j->is_fetchable);
  }
  if (kept(q, "redirectedFrom")) {
    graph_jw_key(&w, "redirectedFrom");
    graph_jw_str_or_null(&w, j->redirected_from);
  }
  if (kept(q, "redirectedTo")) {
    graph_jw_key(&w, "redirectedTo");
    graph_jw_str_or_null(&w, j->redirected_to);
  }
  if (kept(q, "errorCode")) {
    graph_jw_key(&w, "errorCode");
    if (j->has_error_code) buf_printf(out, "%" JSON_INTEGER_FORMAT, (json_int_t)j->error_code);
    else buf_puts(out, "null");
  }
  if (kept(q, "acknowledgedDateTime")) {
    graph_jw_key(&w, "acknowledgedDateTime");
    graph_jw_iso_or_null(&w, j->acknowledged_us);
  }
  if (beta && kept(q, "displayName")) {
    graph_jw_key(&w, "displayName");
    graph_jw_str_or_null(&w, j->display_name);
  }
  if (beta && kept(q, "completedDateTime")) {
    graph_jw_key(&w, "completedDateTime");
    graph_jw_iso_or_null(&w, j->completed_us);
  }
  buf_putc(out, '}');
  return w.ok;
}
