/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull-print printers (reference §4.10): /print/pullPrintPrinters list (PP1), create (PP2,
 * asynchronous: 202 + Operation-Location, the result at /print/operations/{id}/pullPrintPrinter),
 * get (PP3), update (PP4), delete (PP5), member printers by $ref (PP6, PP7),
 * restoreFactoryDefaults (PP8), a printer's pull-print printers (P16/PP10) and the pull-print
 * printer an operation created.
 *
 * Wire shape (printerBase + pullPrintPrinter): id, displayName, manufacturer and model (null:
 * a virtual queue has no device), isAcceptingJobs (always true), status (idle), location,
 * defaults (not in lists), capabilities (only when $select'ed, never in lists),
 * includeAllPrinters, registeredDateTime. Decisions: docs/behaviour.md "Pull-print printers".
 */
#include "app.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/model.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/refs.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "http/server.h"
#include "store/pull-printers.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define RETRY_AFTER "1" /* seconds, as printer registration */

/* ---- schemas --------------------------------------------------------------------------------- */

#define OBJ(n, sc) {.name = (n), .kind = JF_OBJECT, .sub = &(sc), .nullable = true}
#define RO(n, k) {.name = (n), .kind = (k), .readonly = true, .nullable = true}

/* The pullPrintPrinter body of PP2 (displayName required; checked after the schema). */
static const json_field_t CREATE_FIELDS[] = {
    {.name = "displayName", .kind = JF_STRING, .max_len = STORE_PRINTER_NAME_MAX},
    {.name = "includeAllPrinters", .kind = JF_BOOL, .nullable = true},
    OBJ("defaults", GRAPH_PRINTER_DEFAULTS_SCHEMA),
    OBJ("location", GRAPH_PRINTER_LOCATION_SCHEMA),
    RO("id", JF_STRING),
    RO("registeredDateTime", JF_DATETIME),
    RO("isAcceptingJobs", JF_BOOL),
    RO("manufacturer", JF_STRING),
    RO("model", JF_STRING),
    {.name = "status", .kind = JF_OBJECT, .sub = &GRAPH_PRINTER_STATUS_SCHEMA, .readonly = true},
    {.name = "capabilities", .kind = JF_OBJECT, .sub = &GRAPH_PRINTER_CAPABILITIES_SCHEMA,
     .readonly = true, .nullable = true},
};
static const json_schema_t CREATE_SCHEMA = {"microsoft.graph.pullPrintPrinter", CREATE_FIELDS,
                                            COUNT(CREATE_FIELDS)};

/* The members of printerLocation PP4 may change (reference §4.10 PP4); create accepts the same. */
static const char *const LOCATION_WRITABLE[] = {
    "building", "city", "countryOrRegion", "floor", "floorDescription", "organization",
    "roomDescription", "roomName", "site", "stateOrProvince", "subdivision", NULL};

/* ---- JSON ------------------------------------------------------------------------------------ */

static json_t *time_json(int64_t us) {
  char t[TIME_ISO_LEN];
  time_format_iso(us, t);
  return json_string(t);
}

/* The pullPrintPrinter entity of p (no @odata.context; the caller owns it). The printerBase
 * members are written by graph_printer_base_json over a printer that has no device: no
 * manufacturer or model, always accepting jobs, idle. */
static json_t *pull_printer_json(const http_request_t *req, const store_pull_printer_t *p,
                                 bool with_capabilities, bool with_defaults) {
  store_printer_t v = {
      .display_name = p->display_name,
      .is_accepting_jobs = 1,
      .status_state = 1, /* idle */
      .status_details = "[]",
      .status_description = "",
      .location = p->location,
      .defaults = p->defaults,
  };
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(p->id));
  json_t *base = graph_printer_base_json(req, &v, with_capabilities);
  if (!with_defaults) json_object_del(base, "defaults");
  json_object_update(o, base);
  json_decref(base);
  json_object_set_new(o, "includeAllPrinters", json_boolean(p->include_all_printers));
  json_object_set_new(o, "registeredDateTime", time_json(p->registered_us));
  return o;
}

/* ---- query options --------------------------------------------------------------------------- */

static const char *const SELECT[] = {
    "id", "displayName", "manufacturer", "model", "isAcceptingJobs", "status", "location",
    "defaults", "capabilities", "includeAllPrinters", "registeredDateTime", NULL};
/* A list never returns capabilities and defaults (as printer lists). */
static const char *const NOT_LISTED[] = {"capabilities", "defaults", NULL};

static const odata_spec_t LIST_QUERY = {
    .mask = QUERY_OPT_COUNT | QUERY_OPT_FILTER | QUERY_OPT_ORDERBY | QUERY_OPT_SELECT |
            QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN | QUERY_OPT_FORMAT,
    .select = SELECT, .not_listed = NOT_LISTED, .one = "/print/pullPrintPrinters/{id}"};
static const odata_spec_t GET_QUERY = {
    .mask = QUERY_OPT_SELECT | QUERY_OPT_FORMAT, .select = SELECT};
/* P16: "no OData options" (the nextLink's $skiptoken is ours) */
static const odata_spec_t MEMBER_OF_QUERY = {.mask = QUERY_OPT_SKIPTOKEN | QUERY_OPT_FORMAT};

static bool named_in_select(const query_t *q, const char *name) {
  for (size_t i = 0; i < q->nselect; i++)
    if (strcasecmp(q->select[i], name) == 0) return true;
  return false;
}

/* p as a collection member or entity with $select applied. */
static json_t *pull_printer_entity(const http_request_t *req, const store_pull_printer_t *p,
                                   const query_t *q, bool list) {
  json_t *o = pull_printer_json(req, p, !list && named_in_select(q, "capabilities"), !list);
  odata_apply_select(o, q);
  return o;
}

/* {"@odata.context": ctx, ...o}; steals o. */
static json_t *with_context(json_t *ctx, json_t *o) {
  json_t *out = json_object();
  json_object_set_new(out, "@odata.context", ctx);
  json_object_update(out, o);
  json_decref(o);
  return out;
}

/* ---- body checks ----------------------------------------------------------------------------- */

static bool blank(const char *s) {
  if (!s) return true;
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  return *s == '\0';
}

/* The complex-value rules and the writable location members; false after replying 400. */
static bool check_complex(http_request_t *req, http_response_t *res, json_t *body) {
  char err[512];
  static const char *const what[] = {"location", "defaults"};
  for (size_t i = 0; i < COUNT(what); i++) {
    if (!graph_printer_check_complex(json_object_get(body, what[i]), what[i], err, sizeof err)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err);
      return false;
    }
  }
  json_t *loc = json_object_get(body, "location");
  const char *k;
  json_t *v;
  if (json_is_object(loc)) {
    json_object_foreach(loc, k, v) {
      if (k[0] == '@') continue;
      bool ok = false;
      for (size_t i = 0; LOCATION_WRITABLE[i]; i++)
        if (strcmp(k, LOCATION_WRITABLE[i]) == 0) ok = true;
      /* unknown members are the schema's to refuse */
      bool known = false;
      for (size_t i = 0; i < GRAPH_PRINTER_LOCATION_SCHEMA.nfields; i++)
        if (strcmp(k, GRAPH_PRINTER_LOCATION_SCHEMA.fields[i].name) == 0) known = true;
      if (!ok && known) {
        graph_reply_error(req, res, 400, "invalidRequest", NULL,
                          "Property 'location/%s' cannot be set on a pull-print printer; its "
                          "location takes building, city, countryOrRegion, floor, "
                          "floorDescription, organization, roomDescription, roomName, site, "
                          "stateOrProvince and subdivision.", k);
        return false;
      }
    }
  }
  return true;
}

/* ---- replies --------------------------------------------------------------------------------- */

static void reply_not_found(http_request_t *req, http_response_t *res, const char *id) {
  graph_reply_error(req, res, 404, "itemNotFound", NULL,
                    "Pull-print printer '%.128s' was not found.", id);
}

/* 204, 404 naming params[0], or 500. */
static void reply_action(http_request_t *req, http_response_t *res, store_rc_t rc) {
  if (rc == STORE_OK) graph_reply_no_content(res);
  else if (rc == STORE_NOT_FOUND) reply_not_found(req, res, req->params[0]);
  else graph_reply_store_error(req, res);
}

/* ---- handlers -------------------------------------------------------------------------------- */

/* Lists pull-print printers (member_of: only those printer member_of belongs to) under ctx. */
static void list_common(http_request_t *req, http_response_t *res, const caller_t *c,
                        const odata_spec_t *spec, const char *member_of, const char *ctx) {
  query_t q;
  if (!odata_parse_request(req, res, spec, &q)) return;
  store_pull_printer_page_t page;
  char err[512] = "";
  store_rc_t rc = store_pull_printer_list(APP(req)->store, c->tenant, member_of, &q, &page, err,
                                          sizeof err);
  if (rc == STORE_INVALID) {
    graph_reply_error(req, res, 400, "invalidRequest", ODATA_INNER_CODE, "%s", err);
  } else if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
  } else {
    json_t *value = json_array();
    for (size_t i = 0; i < page.n; i++)
      json_array_append_new(value, pull_printer_entity(req, &page.items[i], &q, true));
    graph_reply_collection(req, res, graph_context(req, "%s", ctx), value, page.next);
  }
  store_pull_printer_page_clear(&page);
  query_clear(&q);
}

/* GET /print/pullPrintPrinters (PP1) */
static void pull_printers_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTERS_LIST, NULL);
  if (!c) return;
  list_common(req, res, c, &LIST_QUERY, NULL, "print/pullPrintPrinters");
}

/* GET /print/printers/{id}/pullPrintPrinters (P16/PP10): 404 for an unknown printer. */
static void printer_pull_printers_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_PULL_PRINTERS_LIST, NULL);
  if (!c) return;
  if (!graph_printer_exists(req, res, c->tenant, req->params[0])) return;
  buf_t ctx = BUF_INIT;
  buf_printf(&ctx, "print/printers('%s')/pullPrintPrinters", req->params[0]);
  list_common(req, res, c, &MEMBER_OF_QUERY, req->params[0], ctx.data);
  buf_free(&ctx);
}

/* Replies 200 with pull-print printer id (GET_QUERY options) under context ctx. */
static void reply_one(http_request_t *req, http_response_t *res, const caller_t *c,
                      const char *id, const char *ctx) {
  query_t q;
  if (!odata_parse_request(req, res, &GET_QUERY, &q)) return;
  store_pull_printer_t p;
  store_rc_t rc = store_pull_printer_get(APP(req)->store, c->tenant, id, &p);
  if (rc == STORE_NOT_FOUND) reply_not_found(req, res, id);
  else if (rc != STORE_OK) graph_reply_store_error(req, res);
  else
    graph_reply_json(req, res, 200,
                     with_context(graph_context(req, "%s", ctx), pull_printer_entity(req, &p, &q, false)));
  store_pull_printer_clear(&p);
  query_clear(&q);
}

/* GET /print/pullPrintPrinters/{id} (PP3) */
static void pull_printer_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_GET, NULL);
  if (!c) return;
  reply_one(req, res, c, req->params[0], "print/pullPrintPrinters/$entity");
}

/* GET /print/operations/{id}/pullPrintPrinter (PP3): 404 when the operation is unknown or
 * created no pull-print printer (a printer registration), or when that one was deleted. */
static void operation_pull_printer_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_GET, NULL);
  if (!c) return;
  char *id = NULL;
  store_rc_t rc = store_pull_printer_of_operation(APP(req)->store, c->tenant, req->params[0], &id);
  if (rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "Operation '%.128s' was not found.",
                      req->params[0]);
  } else if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
  } else if (!id) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Operation '%.128s' has no pull-print printer: it did not create one, or "
                      "the one it created was deleted.", req->params[0]);
  } else {
    reply_one(req, res, c, id, "print/pullPrintPrinters/$entity");
  }
  free(id);
}

/* POST /print/pullPrintPrinters (PP2): 202 + Operation-Location + Retry-After, no body. The
 * pull-print printer and its succeeded operation are stored before the answer. */
static void pull_printer_create(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_CREATE, NULL);
  if (!c) return;
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  char *location = NULL, *defaults = NULL;
  if (!check_complex(req, res, body) || !graph_json_check(req, res, body, &CREATE_SCHEMA))
    goto done;
  json_t *name = json_object_get(body, "displayName");
  if (!name) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "Property 'displayName' is required.");
    goto done;
  }
  if (blank(json_string_value(name))) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'displayName' cannot be empty.");
    goto done;
  }
  json_t *loc = json_object_get(body, "location"), *def = json_object_get(body, "defaults");
  if (json_is_object(loc)) location = json_dumps(loc, JSON_COMPACT);
  /* the body's defaults over the built-in ones a new printer gets (the factory defaults) */
  if (json_is_object(def)) {
    json_t *builtin = json_loads(GRAPH_PRINTER_BUILTIN_DEFAULTS, 0, NULL);
    json_object_update(builtin, def);
    defaults = json_dumps(builtin, JSON_COMPACT);
    json_decref(builtin);
  }
  char op_id[ID_GUID_LEN + 1], id[ID_GUID_LEN + 1];
  id_guid(op_id);
  id_guid(id);
  store_pull_printer_new_t n = {
      .id = id,
      .tenant = c->tenant,
      .display_name = json_string_value(name),
      .include_all_printers = json_is_true(json_object_get(body, "includeAllPrinters")),
      .location = location,
      .defaults = defaults ? defaults : GRAPH_PRINTER_BUILTIN_DEFAULTS,
      .factory_defaults = GRAPH_PRINTER_BUILTIN_DEFAULTS,
      .operation_id = op_id,
      .now_us = time_now_us(),
  };
  if (store_pull_printer_create(APP(req)->store, &n) != STORE_OK) {
    graph_reply_store_error(req, res);
    goto done;
  }
  char *base = graph_base_url(req);
  buf_t url = BUF_INIT;
  buf_printf(&url, "%s/print/operations/%s", base, op_id);
  free(base);
  http_response_empty(res, 202);
  http_response_header(res, "Operation-Location", url.data);
  http_response_header(res, "Retry-After", RETRY_AFTER);
  buf_free(&url);
done:
  free(location);
  free(defaults);
  json_decref(body);
}

/* DELETE /print/pullPrintPrinters/{id} (PP5): 204; member printers and shares stay. */
static void pull_printer_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_DELETE, NULL);
  if (!c) return;
  reply_action(req, res, store_pull_printer_delete(APP(req)->store, c->tenant, req->params[0]));
}

static route_t ROUTES[] = {
    ROUTE("GET", "/print/pullPrintPrinters", pull_printers_list, ROUTE_GRAPH,
          "pullPrintPrinters.list"),
    ROUTE("POST", "/print/pullPrintPrinters", pull_printer_create, ROUTE_GRAPH | ROUTE_JSON_BODY,
          "pullPrintPrinters.create"),
    ROUTE("GET", "/print/pullPrintPrinters/{id}", pull_printer_get, ROUTE_GRAPH,
          "pullPrintPrinters.get"),
    ROUTE("DELETE", "/print/pullPrintPrinters/{id}", pull_printer_delete, ROUTE_GRAPH,
          "pullPrintPrinters.delete"),
    ROUTE("GET", "/print/printers/{id}/pullPrintPrinters", printer_pull_printers_list, ROUTE_GRAPH,
          "printers.pullPrintPrinters.list"),
    ROUTE("GET", "/print/operations/{id}/pullPrintPrinter", operation_pull_printer_get,
          ROUTE_GRAPH, "operations.pullPrintPrinter.get"),
};

/* Registers the pull-print printer routes. */
void graph_pull_printers_routes(void) { router_add(ROUTES, COUNT(ROUTES)); }
