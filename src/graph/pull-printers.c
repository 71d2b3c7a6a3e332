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
#include "graph/shares.h"
#include "http/router.h"
#include "http/server.h"
#include "store/pull-printers.h"
#include "store/shares.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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

/* The pullPrintPrinter body of PP4: only defaults, includeAllPrinters and location. */
static const json_field_t PATCH_FIELDS[] = {
    {.name = "includeAllPrinters", .kind = JF_BOOL},
    OBJ("defaults", GRAPH_PRINTER_DEFAULTS_SCHEMA),
    OBJ("location", GRAPH_PRINTER_LOCATION_SCHEMA),
};
static const json_schema_t PATCH_SCHEMA = {"microsoft.graph.pullPrintPrinter", PATCH_FIELDS,
                                           COUNT(PATCH_FIELDS)};

/* Properties of the type PATCH does not change, with why. */
static const struct {
  const char *name, *why;
} NOT_PATCHED[] = {
    {"displayName", "is set when the pull-print printer is created and cannot be changed"},
    {"id", "is read-only"},
    {"registeredDateTime", "is read-only"},
    {"isAcceptingJobs", "is read-only (a pull-print printer always accepts jobs)"},
    {"status", "is read-only"},
    {"manufacturer", "is read-only"},
    {"model", "is read-only"},
    {"capabilities", "is read-only"},
};

static const char *const PRINTER_SETS[] = {"print/printers", NULL};

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
    "defaults", "capabilities", "includeAllPrinters", "registeredDateTime", "shares", NULL};
static const char *const EXPAND[] = {"shares", NULL};
#define EXPANDED_SHARES_MAX 100 /* shares inlined by $expand=shares */
/* A list never returns capabilities and defaults (as printer lists). */
static const char *const NOT_LISTED[] = {"capabilities", "defaults", NULL};

static const odata_spec_t LIST_QUERY = {
    .mask = QUERY_OPT_COUNT | QUERY_OPT_EXPAND | QUERY_OPT_FILTER | QUERY_OPT_ORDERBY |
            QUERY_OPT_SELECT | QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN | QUERY_OPT_FORMAT,
    .select = SELECT, .expand = EXPAND, .not_listed = NOT_LISTED,
    .one = "/print/pullPrintPrinters/{id}"};
static const odata_spec_t GET_QUERY = {
    .mask = QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_FORMAT, .select = SELECT,
    .expand = EXPAND};
/* the member printers: as a printer list */
static const char *const MEMBER_SELECT[] = {
    "id", "displayName", "manufacturer", "model", "isAcceptingJobs", "status", "location",
    "hasPhysicalDevice", "isShared", "registeredDateTime", "lastSeenDateTime", NULL};
static const char *const MEMBER_NOT_LISTED[] = {"capabilities", "defaults", NULL};
static const odata_spec_t MEMBERS_QUERY = {
    .mask = QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN |
            QUERY_OPT_ORDERBY | QUERY_OPT_COUNT | QUERY_OPT_FORMAT,
    .select = MEMBER_SELECT, .not_listed = MEMBER_NOT_LISTED, .one = "/print/printers/{id}"};
/* P16: "no OData options" (the nextLink's $skiptoken is ours) */
static const odata_spec_t MEMBER_OF_QUERY = {.mask = QUERY_OPT_SKIPTOKEN | QUERY_OPT_FORMAT};

/* Sets o.shares to the shares that publish p (for $expand=shares); false on a store error. */
static bool expand_shares(const http_request_t *req, const caller_t *c,
                          const store_pull_printer_t *p, json_t *o) {
  store_share_t *shares = NULL;
  size_t n = 0;
  if (store_share_list_by_pull_printer(APP(req)->store, c->tenant, p->id, EXPANDED_SHARES_MAX,
                                       &shares, &n) != STORE_OK)
    return false;
  json_t *arr = json_array();
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    store_printer_t printer = {0};
    store_rc_t rc = store_printer_get(APP(req)->store, c->tenant, shares[i].printer_id, &printer);
    if (rc == STORE_OK)
      json_array_append_new(arr, graph_share_json(req, c, &shares[i], &printer, NULL,
                                                  GRAPH_SHARE_JSON_LIST));
    else if (rc != STORE_NOT_FOUND) /* deleted since: so is the share */
      ok = false;
    store_printer_clear(&printer);
  }
  store_shares_free(shares, n);
  json_object_set_new(o, "shares", arr);
  return ok;
}

/* p as a collection member or entity with $select and $expand applied; NULL on a store error. */
static json_t *pull_printer_entity(const http_request_t *req, const caller_t *c,
                                   const store_pull_printer_t *p, const query_t *q, bool list) {
  json_t *o = pull_printer_json(req, p, !list && odata_select_names(q, "capabilities"), !list);
  if (odata_expanded(q, "shares") && !expand_shares(req, c, p, o)) {
    json_decref(o);
    return NULL;
  }
  odata_apply_select(o, q);
  return o;
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

/* Answers a failed store call on pull-print printer id (see graph_reply_item_failure). */
static bool pull_failure(http_request_t *req, http_response_t *res, store_rc_t rc,
                         const char *id) {
  return graph_reply_item_failure(req, res, rc, "Pull-print printer '%.128s' was not found.", id);
}

/* 204, 404 naming params[0], or 500. */
static void reply_action(http_request_t *req, http_response_t *res, store_rc_t rc) {
  if (!pull_failure(req, res, rc, req->params[0])) graph_reply_no_content(res);
}

/* Replies 200 with pull-print printer p as an entity under q's options, or 500 when its
 * expansion failed. */
static void reply_pull_printer(http_request_t *req, http_response_t *res, const caller_t *c,
                               const store_pull_printer_t *p, const query_t *q) {
  json_t *o = pull_printer_entity(req, c, p, q, false);
  if (o)
    graph_reply_json(req, res, 200, graph_with_context(
                                        graph_context(req, "print/pullPrintPrinters/$entity"), o));
  else
    graph_reply_store_error(req, res);
}

/* ---- handlers -------------------------------------------------------------------------------- */

/* Reads and answers a page of pull-print printers (member_of: only those printer member_of
 * belongs to) under q, as the collection ctx (takes ctx). */
static void reply_list(http_request_t *req, http_response_t *res, const caller_t *c,
                       const query_t *q, const char *member_of, json_t *ctx) {
  store_pull_printer_page_t page;
  char err[512] = "";
  store_rc_t rc = store_pull_printer_list(APP(req)->store, c->tenant, member_of, q, &page, err,
                                          sizeof err);
  json_t *value = NULL;
  if (!graph_reply_list_failure(req, res, rc, err, NULL)) {
    value = json_array();
    for (size_t i = 0; value && i < page.n; i++) {
      json_t *o = pull_printer_entity(req, c, &page.items[i], q, true);
      if (o) {
        json_array_append_new(value, o);
      } else {
        json_decref(value);
        value = NULL;
        graph_reply_store_error(req, res);
      }
    }
  }
  if (value) graph_reply_collection(req, res, ctx, value, page.next);
  else json_decref(ctx);
  store_pull_printer_page_clear(&page);
}

/* GET /print/pullPrintPrinters (PP1) */
static void pull_printers_list(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c =
      graph_authorize_query(req, res, OP_PULL_PRINTERS_LIST, NULL, &LIST_QUERY, &q);
  if (c) reply_list(req, res, c, &q, NULL, graph_context(req, "print/pullPrintPrinters"));
  query_clear(&q);
}

/* GET /print/printers/{id}/pullPrintPrinters (P16/PP10): 404 for an unknown printer (before the
 * query options are read). */
static void printer_pull_printers_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_PULL_PRINTERS_LIST, NULL);
  if (!c || !graph_printer_exists(req, res, c->tenant, req->params[0])) return;
  query_t q;
  if (!odata_parse_request(req, res, &MEMBER_OF_QUERY, &q)) return;
  reply_list(req, res, c, &q, req->params[0],
             graph_context(req, "print/printers('%s')/pullPrintPrinters", req->params[0]));
  query_clear(&q);
}

/* Replies 200 with pull-print printer id (GET_QUERY options). */
static void reply_one(http_request_t *req, http_response_t *res, const caller_t *c,
                      const char *id) {
  query_t q;
  if (!odata_parse_request(req, res, &GET_QUERY, &q)) return;
  store_pull_printer_t p;
  if (!pull_failure(req, res, store_pull_printer_get(APP(req)->store, c->tenant, id, &p), id))
    reply_pull_printer(req, res, c, &p, &q);
  store_pull_printer_clear(&p);
  query_clear(&q);
}

/* GET /print/pullPrintPrinters/{id} (PP3) */
static void pull_printer_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_GET, NULL);
  if (!c) return;
  reply_one(req, res, c, req->params[0]);
}

/* GET /print/operations/{id}/pullPrintPrinter (PP3): 404 when the operation is unknown or
 * created no pull-print printer (a printer registration), or when that one was deleted. */
static void operation_pull_printer_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_GET, NULL);
  if (!c) return;
  char *id = NULL;
  store_rc_t rc = store_pull_printer_of_operation(APP(req)->store, c->tenant, req->params[0], &id);
  if (graph_reply_item_failure(req, res, rc, "Operation '%.128s' was not found.",
                               req->params[0])) {
    /* replied */
  } else if (!id) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Operation '%.128s' has no pull-print printer: it did not create one, or "
                      "the one it created was deleted.", req->params[0]);
  } else {
    reply_one(req, res, c, id);
  }
  free(id);
}

/* POST /print/pullPrintPrinters (PP2): 202 + Operation-Location + Retry-After, no body. The
 * pull-print printer and its succeeded operation are stored before the answer. */
static void pull_printer_create(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, OP_PULL_PRINTER_CREATE, NULL, false, &body);
  if (!c) return;
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
  graph_reply_operation_accepted(req, res, op_id);
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

/* PATCH /print/pullPrintPrinters/{id} (PP4): only defaults, includeAllPrinters and the location
 * members PP4 lists; 200 with the pull-print printer. */
static void pull_printer_update(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, OP_PULL_PRINTER_UPDATE, NULL, false, &body);
  if (!c) return;
  char *location = NULL, *defaults = NULL;
  store_pull_printer_t out = {0};
  for (size_t i = 0; i < COUNT(NOT_PATCHED); i++) {
    if (json_object_get(body, NOT_PATCHED[i].name)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property '%s' %s; PATCH changes only defaults, includeAllPrinters and "
                        "location.", NOT_PATCHED[i].name, NOT_PATCHED[i].why);
      goto done;
    }
  }
  if (!check_complex(req, res, body) || !graph_json_check(req, res, body, &PATCH_SCHEMA))
    goto done;
  json_t *loc = json_object_get(body, "location"), *def = json_object_get(body, "defaults");
  if (loc) location = json_dumps(loc, JSON_COMPACT | JSON_ENCODE_ANY);
  if (def) defaults = json_dumps(def, JSON_COMPACT | JSON_ENCODE_ANY);
  json_t *all = json_object_get(body, "includeAllPrinters");
  store_pull_printer_patch_t patch = {
      .set_include_all_printers = all != NULL,
      .include_all_printers = json_is_true(all),
      .location_merge = location,
      .defaults_merge = defaults,
  };
  store_rc_t rc = store_pull_printer_update(APP(req)->store, c->tenant, req->params[0], &patch,
                                            &out);
  if (!pull_failure(req, res, rc, req->params[0])) {
    query_t q;
    query_init(&q);
    reply_pull_printer(req, res, c, &out, &q);
    query_clear(&q);
  }
done:
  store_pull_printer_clear(&out);
  free(location);
  free(defaults);
  json_decref(body);
}

/* POST /print/pullPrintPrinters/{id}/restoreFactoryDefaults (PP8): 204. */
static void pull_printer_restore_defaults(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_RESTORE_DEFAULTS, NULL);
  if (!c) return;
  reply_action(req, res,
               store_pull_printer_restore_defaults(APP(req)->store, c->tenant, req->params[0]));
}

/* Replies to a refused member change. */
static void reply_member_refused(http_request_t *req, http_response_t *res, store_rc_t rc,
                                 store_pull_member_err_t why, const char *printer) {
  switch (why) {
    case STORE_PULL_MEMBER_NO_PULL_PRINTER:
      pull_failure(req, res, STORE_NOT_FOUND, req->params[0]);
      return;
    case STORE_PULL_MEMBER_NO_PRINTER:
      graph_reply_error(req, res, 404, "itemNotFound", NULL,
                        "Printer '%.128s' referenced by '@odata.id' was not found in this "
                        "tenant.", printer);
      return;
    case STORE_PULL_MEMBER_NOT_MEMBER:
      graph_reply_error(req, res, 404, "itemNotFound", NULL,
                        "Printer '%.128s' is not a member of pull-print printer '%.128s'.",
                        printer, req->params[0]);
      return;
    case STORE_PULL_MEMBER_ALREADY:
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Printer '%.128s' is already a member of pull-print printer '%.128s'.",
                        printer, req->params[0]);
      return;
    case STORE_PULL_MEMBER_OK:
      break;
  }
  (void)rc;
  graph_reply_store_error(req, res);
}

/* POST /print/pullPrintPrinters/{id}/printers/$ref (PP6), body
 * {"@odata.id": "https://graph.microsoft.com/v1.0/print/printers/{printerId}"}: 204. */
static void pull_printer_member_add(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *c =
      graph_authorize_body(req, res, OP_PULL_PRINTER_MEMBER_ADD, NULL, false, &body);
  if (!c) return;
  const char *url = graph_ref_body_id(req, res, body, "printer", "print/printers/{printerId}");
  char printer[GRAPH_REF_KEY_MAX + 1];
  if (!url) {
    /* replied */
  } else if (!graph_ref_key(req, url, PRINTER_SETS, printer, sizeof printer)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property '@odata.id' must be the URL of a printer, e.g. "
                      "https://graph.microsoft.com/v1.0/print/printers/{printerId}.");
  } else {
    store_pull_member_err_t why;
    store_rc_t rc = store_pull_printer_member_add(APP(req)->store, c->tenant, req->params[0],
                                                  printer, time_now_us(), &why);
    if (rc == STORE_OK) graph_reply_no_content(res);
    else reply_member_refused(req, res, rc, why, printer);
  }
  json_decref(body);
}

/* DELETE /print/pullPrintPrinters/{id}/printers/{printerId}/$ref (PP7): 204; the printer stays. */
static void pull_printer_member_remove(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PULL_PRINTER_MEMBER_REMOVE, NULL);
  if (!c) return;
  store_pull_member_err_t why;
  store_rc_t rc = store_pull_printer_member_remove(APP(req)->store, c->tenant, req->params[0],
                                                   req->params[1], &why);
  if (rc == STORE_OK) graph_reply_no_content(res);
  else reply_member_refused(req, res, rc, why, req->params[1]);
}

/* GET /print/pullPrintPrinters/{id}/printers: the member printers (every printer of the tenant
 * with includeAllPrinters), as a printer list. */
static void pull_printer_members_list(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c =
      graph_authorize_query(req, res, OP_PULL_PRINTER_GET, NULL, &MEMBERS_QUERY, &q);
  if (!c) return;
  store_pull_printer_t pp;
  store_printer_page_t page = {0};
  char err[512] = "";
  store_rc_t rc = store_pull_printer_get(APP(req)->store, c->tenant, req->params[0], &pp);
  if (rc == STORE_OK)
    rc = store_printer_list_pull_members(APP(req)->store, c->tenant, req->params[0], &q, &page,
                                         err, sizeof err);
  if (rc == STORE_NOT_FOUND) {
    pull_failure(req, res, rc, req->params[0]);
  } else if (!graph_reply_list_failure(req, res, rc, err, NULL)) {
    json_t *value = json_array();
    for (size_t i = 0; i < page.n; i++) {
      json_t *o = graph_printer_json(req, &page.items[i], false, false);
      odata_apply_select(o, &q);
      json_array_append_new(value, o);
    }
    graph_reply_collection(req, res,
                           graph_context(req, "print/pullPrintPrinters('%s')/printers",
                                         req->params[0]),
                           value, page.next);
  }
  store_printer_page_clear(&page);
  store_pull_printer_clear(&pp);
  query_clear(&q);
}

/* GET /print/shares/{id}/pullPrintPrinter (S9/PP11): the pull-print printer the share publishes
 * (bound with PATCH /print/shares/{id} pullPrintPrinter@odata.bind); 404 when none. */
static void share_pull_printer_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_SHARE_PULL_PRINTER_GET, NULL);
  if (!c) return;
  store_share_t s;
  store_rc_t rc = store_share_get(APP(req)->store, c->tenant, req->params[0], &s);
  if (graph_share_failure(req, res, rc, req->params[0])) {
    /* replied */
  } else if (!s.pull_printer_id) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Printer share '%.128s' does not publish a pull-print printer.",
                      req->params[0]);
  } else {
    reply_one(req, res, c, s.pull_printer_id);
  }
  store_share_clear(&s);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/print/pullPrintPrinters", pull_printers_list, ROUTE_GRAPH,
          "pullPrintPrinters.list"),
    ROUTE("POST", "/print/pullPrintPrinters", pull_printer_create, ROUTE_GRAPH | ROUTE_JSON_BODY,
          "pullPrintPrinters.create"),
    ROUTE("GET", "/print/pullPrintPrinters/{id}", pull_printer_get, ROUTE_GRAPH,
          "pullPrintPrinters.get"),
    ROUTE("PATCH", "/print/pullPrintPrinters/{id}", pull_printer_update,
          ROUTE_GRAPH | ROUTE_JSON_BODY, "pullPrintPrinters.update"),
    ROUTE("DELETE", "/print/pullPrintPrinters/{id}", pull_printer_delete, ROUTE_GRAPH,
          "pullPrintPrinters.delete"),
    ROUTE("POST", "/print/pullPrintPrinters/{id}/restoreFactoryDefaults",
          pull_printer_restore_defaults, ROUTE_GRAPH, "pullPrintPrinters.restoreFactoryDefaults"),
    ROUTE("GET", "/print/pullPrintPrinters/{id}/printers", pull_printer_members_list, ROUTE_GRAPH,
          "pullPrintPrinters.printers.list"),
    ROUTE("POST", "/print/pullPrintPrinters/{id}/printers/$ref", pull_printer_member_add,
          ROUTE_GRAPH | ROUTE_JSON_BODY, "pullPrintPrinters.printers.add"),
    ROUTE("DELETE", "/print/pullPrintPrinters/{id}/printers/{id}/$ref", pull_printer_member_remove,
          ROUTE_GRAPH, "pullPrintPrinters.printers.remove"),
    ROUTE("GET", "/print/shares/{id}/pullPrintPrinter", share_pull_printer_get, ROUTE_GRAPH,
          "shares.pullPrintPrinter.get"),
    ROUTE("GET", "/print/printers/{id}/pullPrintPrinters", printer_pull_printers_list, ROUTE_GRAPH,
          "printers.pullPrintPrinters.list"),
    ROUTE("GET", "/print/operations/{id}/pullPrintPrinter", operation_pull_printer_get,
          ROUTE_GRAPH, "operations.pullPrintPrinter.get"),
};

/* Registers the pull-print printer routes. */
void graph_pull_printers_routes(void) { router_add(ROUTES, COUNT(ROUTES)); }
