/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print usage reports and archived print jobs under /reports (reference §2.13, §4.9):
 * dailyPrintUsageByPrinter, monthlyPrintUsageByPrinter, dailyPrintUsageByUser and
 * monthlyPrintUsageByUser (R1-R5: list, get by id, /$count) and the functions
 * getPrinterArchivedPrintJobs, getUserArchivedPrintJobs and getGroupArchivedPrintJobs
 * (R6-R8). The figures come from store/reports.h; who may read them from the permission table
 * (Reports.Read.All with the Printer Administrator, Global Administrator or Reports Reader
 * role; application tokens are refused, as the v1.0 pages list them as not supported).
 *
 * A record's id is "<usageDate>_<printerId>" or "<usageDate>_<userPrincipalName>" (usageDate
 * YYYY-MM-DD; the first of the month for monthly records), so a list's ids can be read back.
 */
#include "app.h"
#include "core/enums.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/odata.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "http/server.h"
#include "store/reports.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The four usage collections, indexed by store_usage_kind_t. */
static const struct {
  const char *name;  /* the navigation property under /reports */
  perm_op_t   op;
  const char *type;  /* the entity type */
} USAGE[] = {
  [STORE_USAGE_DAILY_BY_PRINTER] = {"dailyPrintUsageByPrinter", OP_REPORT_DAILY_BY_PRINTER,
                                    "printUsageByPrinter"},
  [STORE_USAGE_MONTHLY_BY_PRINTER] = {"monthlyPrintUsageByPrinter", OP_REPORT_MONTHLY_BY_PRINTER,
                                      "printUsageByPrinter"},
  [STORE_USAGE_DAILY_BY_USER] = {"dailyPrintUsageByUser", OP_REPORT_DAILY_BY_USER,
                                 "printUsageByUser"},
  [STORE_USAGE_MONTHLY_BY_USER] = {"monthlyPrintUsageByUser", OP_REPORT_MONTHLY_BY_USER,
                                   "printUsageByUser"},
};

#define USAGE_COMMON                                                                              \
  "id", "usageDate", "completedBlackAndWhiteJobCount", "completedColorJobCount",                 \
      "incompleteJobCount", "completedJobCount", "pageCount", "blackAndWhitePageCount",           \
      "colorPageCount", "mediaSheetCount", "doubleSidedSheetCount", "singleSidedSheetCount"
static const char *const PRINTER_SELECT[] = {USAGE_COMMON, "printerId", "printerName", NULL};
static const char *const USER_SELECT[] = {USAGE_COMMON, "userPrincipalName", NULL};

#define LIST_OPTIONS                                                                              \
  (QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_TOP | QUERY_OPT_SKIP | QUERY_OPT_SKIPTOKEN |    \
   QUERY_OPT_ORDERBY | QUERY_OPT_COUNT | QUERY_OPT_FORMAT)

static const odata_spec_t PRINTER_LIST = {.mask = LIST_OPTIONS, .select = PRINTER_SELECT};
static const odata_spec_t USER_LIST = {.mask = LIST_OPTIONS, .select = USER_SELECT};
static const odata_spec_t PRINTER_GET = {.mask = QUERY_OPT_SELECT | QUERY_OPT_FORMAT,
                                         .select = PRINTER_SELECT};
static const odata_spec_t USER_GET = {.mask = QUERY_OPT_SELECT | QUERY_OPT_FORMAT,
                                      .select = USER_SELECT};
static const odata_spec_t COUNT_QUERY = {.mask = QUERY_OPT_FILTER};

/* The collection a request names: its second segment (after "reports"). */
static store_usage_kind_t usage_kind(const http_request_t *req) {
  for (size_t k = 0; k < COUNT(USAGE); k++)
    if (req->nsegs > 1 && strcasecmp(req->segs[1], USAGE[k].name) == 0)
      return (store_usage_kind_t)k;
  return STORE_USAGE_DAILY_BY_PRINTER; /* not reached: every route names one */
}

/* "YYYY-MM-DD" of us. */
static void format_date(int64_t us, char out[11]) {
  char t[TIME_ISO_LEN];
  time_format_iso(us, t);
  memcpy(out, t, 10);
  out[10] = '\0';
}

static json_t *usage_json(store_usage_kind_t kind, const store_usage_t *u) {
  char date[11];
  format_date(u->usage_us, date);
  bool by_user = store_usage_by_user(kind);
  const char *who = by_user ? (u->upn ? u->upn : u->key) : u->key;
  buf_t id = BUF_INIT;
  buf_printf(&id, "%s_%s", date, who);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(id.data));
  buf_free(&id);
  json_object_set_new(o, "usageDate", json_string(date));
  json_object_set_new(o, "completedBlackAndWhiteJobCount", json_integer(u->bw_jobs));
  json_object_set_new(o, "completedColorJobCount", json_integer(u->color_jobs));
  json_object_set_new(o, "incompleteJobCount", json_integer(u->incomplete_jobs));
  json_object_set_new(o, "completedJobCount", json_integer(u->bw_jobs + u->color_jobs));
  json_object_set_new(o, "pageCount", json_integer(u->pages));
  json_object_set_new(o, "blackAndWhitePageCount", json_integer(u->pages - u->color_pages));
  json_object_set_new(o, "colorPageCount", json_integer(u->color_pages));
  json_object_set_new(o, "mediaSheetCount", json_integer(u->duplex_sheets + u->simplex_sheets));
  json_object_set_new(o, "doubleSidedSheetCount", json_integer(u->duplex_sheets));
  json_object_set_new(o, "singleSidedSheetCount", json_integer(u->simplex_sheets));
  if (by_user) {
    json_object_set_new(o, "userPrincipalName", json_string(who));
  } else {
    json_object_set_new(o, "printerId", json_string(u->key));
    json_object_set_new(o, "printerName",
                        u->printer_name ? json_string(u->printer_name) : json_null());
  }
  return o;
}

/* Authorizes the usage report of the path (*kind) and parses its query options (by_user or
 * by_printer, as the report is, into *q) with graph_authorize_query. Returns the caller, or
 * NULL after replying (*q then holds nothing); the caller clears *q. */
static const caller_t *usage_step(http_request_t *req, http_response_t *res,
                                  store_usage_kind_t *kind, const odata_spec_t *by_user,
                                  const odata_spec_t *by_printer, query_t *q) {
  *kind = usage_kind(req);
  return graph_authorize_query(req, res, USAGE[*kind].op, NULL,
                               store_usage_by_user(*kind) ? by_user : by_printer, q);
}

/* GET /reports/{usage} */
static void usage_list(http_request_t *req, http_response_t *res) {
  store_usage_kind_t kind;
  query_t q;
  const caller_t *c = usage_step(req, res, &kind, &USER_LIST, &PRINTER_LIST, &q);
  if (!c) return;
  store_usage_t *v = NULL;
  size_t n = 0;
  int64_t total = 0;
  char *next = NULL, *err = NULL;
  store_rc_t rc = store_usage_list(APP(req)->store, c->tenant, kind, &q, QUERY_PAGE_MAX, &v, &n,
                                   q.count ? &total : NULL, &next, &err);
  if (!graph_reply_list_failure(req, res, rc, err, "The query options do not fit this report.")) {
    json_t *value = json_array();
    for (size_t i = 0; i < n; i++) {
      json_t *o = usage_json(kind, &v[i]);
      odata_apply_select(o, &q);
      json_array_append_new(value, o);
    }
    graph_reply_collection_counted(req, res, graph_context(req, "reports/%s", USAGE[kind].name),
                                   value, next, q.count ? total : -1);
  }
  store_usages_free(v, n);
  free(next);
  free(err);
  query_clear(&q);
}

/* GET /reports/{usage}/$count: the number of records matching $filter, as text/plain. */
static void usage_count(http_request_t *req, http_response_t *res) {
  store_usage_kind_t kind;
  query_t q;
  const caller_t *c = usage_step(req, res, &kind, &COUNT_QUERY, &COUNT_QUERY, &q);
  if (!c) return;
  q.top = 0; /* only the count */
  store_usage_t *v = NULL;
  size_t n = 0;
  int64_t total = 0;
  char *next = NULL, *err = NULL;
  store_rc_t rc = store_usage_list(APP(req)->store, c->tenant, kind, &q, QUERY_PAGE_MAX, &v, &n,
                                   &total, &next, &err);
  if (!graph_reply_list_failure(req, res, rc, err, "The query options do not fit this report.")) {
    char num[24];
    int len = snprintf(num, sizeof num, "%lld", (long long)total);
    http_response_body(res, 200, "text/plain", xstrdup(num), (size_t)len);
  }
  store_usages_free(v, n);
  free(next);
  free(err);
  query_clear(&q);
}

/* Splits id "YYYY-MM-DD_<key>" into the day's (month's) start and key; false when it is not
 * such an id (or, for a monthly record, the date is not the 1st). */
static bool parse_usage_id(store_usage_kind_t kind, const char *id, int64_t *us, const char **key) {
  if (strlen(id) < 12 || id[10] != '_') return false;
  char t[32];
  snprintf(t, sizeof t, "%.10sT00:00:00Z", id);
  if (!time_parse_iso(t, us) || *us < 0) return false;
  if (store_usage_monthly(kind) && time_month_start_us(*us) != *us) return false;
  *key = id + 11;
  return true;
}

/* GET /reports/{usage}/{id} */
static void usage_get(http_request_t *req, http_response_t *res) {
  store_usage_kind_t kind;
  query_t q;
  const caller_t *c = usage_step(req, res, &kind, &USER_GET, &PRINTER_GET, &q);
  if (!c) return;
  const char *id = req->params[0];
  int64_t us = 0;
  const char *key = NULL;
  store_usage_t u = {0};
  store_rc_t rc = parse_usage_id(kind, id, &us, &key)
                    ? store_usage_get(APP(req)->store, c->tenant, kind, us, key, &u)
                    : STORE_NOT_FOUND;
  if (!graph_reply_item_failure(req, res, rc, "The %s record '%.200s' was not found.",
                                USAGE[kind].type, id)) {
    json_t *o = graph_with_context(graph_context(req, "reports/%s/$entity", USAGE[kind].name),
                                   usage_json(kind, &u));
    odata_apply_select(o, &q);
    graph_reply_json(req, res, 200, o);
  }
  store_usage_clear(&u);
  query_clear(&q);
}

/* ---- the archived-job functions ------------------------------------------------------------- */

static const struct {
  const char        *name;
  const char        *param; /* the parameter naming whose jobs */
  perm_op_t          op;
  store_archive_by_t by;
} FUNCTIONS[] = {
  {"getPrinterArchivedPrintJobs", "printerId", OP_REPORT_ARCHIVED_BY_PRINTER,
   STORE_ARCHIVE_BY_PRINTER},
  {"getUserArchivedPrintJobs", "userId", OP_REPORT_ARCHIVED_BY_USER, STORE_ARCHIVE_BY_USER},
  {"getGroupArchivedPrintJobs", "groupId", OP_REPORT_ARCHIVED_BY_GROUP, STORE_ARCHIVE_BY_GROUP},
};

#define MAX_FN_PARAMS 8

typedef struct {
  char *name, *value; /* value NULL: the literal null */
  bool  quoted;
} fn_param_t;

static void fn_params_clear(fn_param_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(p[i].name);
    free(p[i].value);
  }
}

/* Parses "a='x',b=2024-01-01T00:00:00Z,c=null" (the text inside the parentheses; @alias
 * values are looked up among the query parameters). Returns the number of parameters, or -1
 * with a message in err. */
static int parse_fn_params(const http_request_t *req, const char *s, size_t len, fn_param_t *out,
                           char *err, size_t errlen) {
  size_t n = 0, i = 0;
  while (i < len) {
    size_t ns = i;
    while (i < len && s[i] != '=') i++;
    if (i == len || i == ns) {
      snprintf(err, errlen, "Invalid function parameters: expected name=value at position %zu",
               ns + 1);
      goto fail;
    }
    if (n == MAX_FN_PARAMS) {
      snprintf(err, errlen, "Invalid function parameters: too many parameters");
      goto fail;
    }
    fn_param_t *p = &out[n++];
    memset(p, 0, sizeof *p);
    p->name = xstrndup(s + ns, i - ns);
    i++; /* '=' */
    buf_t v = BUF_INIT;
    if (i < len && s[i] == '\'') {
      p->quoted = true;
      i++;
      for (;;) {
        if (i >= len) {
          buf_free(&v);
          snprintf(err, errlen, "Invalid function parameters: unterminated string for '%.60s'",
                   p->name);
          goto fail;
        }
        if (s[i] == '\'') {
          if (i + 1 < len && s[i + 1] == '\'') {
            buf_putc(&v, '\'');
            i += 2;
            continue;
          }
          i++;
          break;
        }
        buf_putc(&v, s[i++]);
      }
      p->value = buf_detach(&v);
      if (!p->value) p->value = xstrdup("");
    } else {
      size_t vs = i;
      while (i < len && s[i] != ',') i++;
      char *raw = xstrndup(s + vs, i - vs);
      if (raw[0] == '@') { /* a parameter alias: its value is a query parameter */
        const char *found = NULL;
        for (size_t k = 0; k < req->nquery && !found; k++)
          if (strcmp(req->query[k].name, raw) == 0) found = req->query[k].value;
        if (!found) {
          snprintf(err, errlen, "Invalid function parameters: the alias '%.60s' has no value",
                   raw);
          free(raw);
          goto fail;
        }
        free(raw);
        raw = xstrdup(found);
        size_t rl = strlen(raw);
        if (rl >= 2 && raw[0] == '\'' && raw[rl - 1] == '\'') {
          memmove(raw, raw + 1, rl - 2);
          raw[rl - 2] = '\0';
          p->quoted = true;
        }
      }
      if (!p->quoted && strcmp(raw, "null") == 0) {
        free(raw);
        raw = NULL;
      }
      p->value = raw;
    }
    if (i < len) {
      if (s[i] != ',') {
        snprintf(err, errlen, "Invalid function parameters: expected ',' at position %zu", i + 1);
        goto fail;
      }
      i++;
    }
  }
  return (int)n;
fail:
  fn_params_clear(out, n);
  return -1;
}

/* The date-time parameter name among p: *us = its value, or dflt for null. false after
 * replying 400 when it is missing or not a date-time. */
static bool fn_datetime(http_request_t *req, http_response_t *res, const fn_param_t *p, size_t n,
                        const char *name, int64_t dflt, int64_t *us) {
  for (size_t i = 0; i < n; i++) {
    if (strcasecmp(p[i].name, name) != 0) continue;
    if (!p[i].value) {
      *us = dflt;
      return true;
    }
    if (time_parse_iso(p[i].value, us)) return true;
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "The parameter '%s' must be a date-time such as 2024-05-01T00:00:00Z or "
                      "null, not '%.60s'.", name, p[i].value);
    return false;
  }
  graph_reply_error(req, res, 400, "invalidRequest", NULL,
                    "The parameter '%s' is missing (give null for no bound).", name);
  return false;
}

static json_t *archived_json(http_request_t *req, const store_archived_job_t *j) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)j->id);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(id));
  json_object_set_new(o, "printerId", graph_json_string_or_null(j->printer_id));
  json_object_set_new(o, "printerName", graph_json_string_or_null(j->printer_name));
  json_object_set_new(o, "processingState",
                      json_string(enum_emit(&ENUM_PRINT_JOB_PROCESSING_STATE, j->state,
                                            graph_prefers_evolvable(req))));
  json_object_set_new(o, "createdDateTime", graph_json_time_or_null(j->created_us));
  json_object_set_new(o, "acquiredDateTime", graph_json_time_or_null(j->acquired_us));
  json_object_set_new(o, "completionDateTime", graph_json_time_or_null(j->completed_us));
  json_object_set_new(o, "acquiredByPrinter", json_boolean(j->acquired));
  json_object_set_new(o, "copiesPrinted", json_integer(j->copies_printed));
  if (j->by_id || j->by_upn || j->by_name) {
    json_t *by = json_object();
    json_object_set_new(by, "id", graph_json_string_or_null(j->by_id));
    json_object_set_new(by, "displayName", graph_json_string_or_null(j->by_name));
    json_object_set_new(by, "ipAddress", graph_json_string_or_null(j->by_ip));
    json_object_set_new(by, "userPrincipalName", graph_json_string_or_null(j->by_upn));
    json_object_set_new(o, "createdBy", by);
  } else {
    json_object_set_new(o, "createdBy", json_null());
  }
  if (req->version == API_BETA) {
    json_object_set_new(o, "pageCount", json_integer(j->pages));
    json_object_set_new(o, "blackAndWhitePageCount", json_integer(j->color ? 0 : j->pages));
    json_object_set_new(o, "colorPageCount", json_integer(j->color ? j->pages : 0));
    json_object_set_new(o, "simplexPageCount", json_integer(j->duplex ? 0 : j->pages));
    json_object_set_new(o, "duplexPageCount", json_integer(j->duplex ? j->pages : 0));
  }
  return o;
}

static const odata_spec_t FUNCTION_QUERY = {
    .mask = QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN | QUERY_OPT_FORMAT};

/* GET /reports/{function}(...): the three archived-job functions; anything else is 404. */
static void report_function(http_request_t *req, http_response_t *res) {
  const char *seg = req->params[0];
  if (strncasecmp(seg, "microsoft.graph.", 16) == 0) seg += 16;
  const char *open = strchr(seg, '(');
  size_t seglen = strlen(seg);
  int f = -1;
  for (size_t k = 0; open && k < COUNT(FUNCTIONS); k++)
    if (strlen(FUNCTIONS[k].name) == (size_t)(open - seg) &&
        strncasecmp(seg, FUNCTIONS[k].name, (size_t)(open - seg)) == 0)
      f = (int)k;
  if (f < 0 || seg[seglen - 1] != ')') {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Resource not found for the segment '%.80s'.", req->params[0]);
    return;
  }
  const caller_t *c = graph_authorize(req, res, FUNCTIONS[f].op, NULL);
  if (!c) return;
  fn_param_t p[MAX_FN_PARAMS];
  char err[256];
  int np = parse_fn_params(req, open + 1, (size_t)(seg + seglen - 1 - (open + 1)), p, err,
                           sizeof err);
  if (np < 0) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err);
    return;
  }
  query_t q;
  query_init(&q);
  store_archived_job_t *v = NULL;
  size_t n = 0;
  char *next = NULL, *serr = NULL;
  const char *who = NULL;
  for (int i = 0; i < np; i++) {
    bool known = strcasecmp(p[i].name, FUNCTIONS[f].param) == 0 ||
                 strcasecmp(p[i].name, "startDateTime") == 0 ||
                 strcasecmp(p[i].name, "endDateTime") == 0;
    if (!known) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "%s has no parameter '%.60s' (it takes %s, startDateTime and "
                        "endDateTime).", FUNCTIONS[f].name, p[i].name, FUNCTIONS[f].param);
      goto done;
    }
    if (strcasecmp(p[i].name, FUNCTIONS[f].param) == 0) who = p[i].value;
  }
  if (!who || !who[0]) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "The parameter '%s' is required and must be a string such as '%s'.",
                      FUNCTIONS[f].param, "00000000-0000-0000-0000-000000000000");
    goto done;
  }
  int64_t start, end;
  if (!fn_datetime(req, res, p, (size_t)np, "startDateTime", INT64_MIN, &start) ||
      !fn_datetime(req, res, p, (size_t)np, "endDateTime", INT64_MAX, &end))
    goto done;
  if (start > end) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "startDateTime must not be later than endDateTime.");
    goto done;
  }
  if (!odata_parse_request(req, res, &FUNCTION_QUERY, &q)) goto done;
  store_rc_t rc = store_archived_jobs(APP(req)->store, c->tenant, FUNCTIONS[f].by, who, start,
                                      end, &q, QUERY_PAGE_MAX, &v, &n, &next, &serr);
  if (!graph_reply_list_failure(req, res, rc, serr,
                                "The query options do not fit this function.")) {
    json_t *value = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(value, archived_json(req, &v[i]));
    graph_reply_collection(req, res,
                           graph_context(req, "Collection(microsoft.graph.archivedPrintJob)"),
                           value, next);
  }
done:
  store_archived_jobs_free(v, n);
  free(next);
  free(serr);
  query_clear(&q);
  fn_params_clear(p, (size_t)np);
}

#define USAGE_ROUTES(NAME)                                                                        \
  ROUTE("GET", "/reports/" NAME, usage_list, ROUTE_GRAPH, "reports." NAME),                       \
  ROUTE("GET", "/reports/" NAME "/$count", usage_count, ROUTE_GRAPH, "reports." NAME ".count"),   \
  ROUTE("GET", "/reports/" NAME "/{id}", usage_get, ROUTE_GRAPH, "reports." NAME ".get")

static route_t ROUTES[] = {
    USAGE_ROUTES("dailyPrintUsageByPrinter"),
    USAGE_ROUTES("monthlyPrintUsageByPrinter"),
    USAGE_ROUTES("dailyPrintUsageByUser"),
    USAGE_ROUTES("monthlyPrintUsageByUser"),
    /* last: the function calls, whose segment holds the parameters */
    ROUTE("GET", "/reports/{fn}", report_function, ROUTE_GRAPH, "reports.function"),
};

/* Registers the /reports routes. */
void graph_reports_routes(void) { router_add(ROUTES, COUNT(ROUTES)); }
