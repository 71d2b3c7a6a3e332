/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The /print singleton: GET and PATCH /print (its only structural property
 * is `settings`), and the beta paths GET and PATCH /print/settings.
 */
#include "app.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/model.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "store/store.h"

#include <string.h>

static const json_field_t AIRPRINT_FIELDS[] = {
    {.name = "incompatiblePrinters", .kind = JF_ENUM, .enm = &ENUM_INCOMPATIBLE_PRINTER_SETTINGS,
     .nullable = true},
};
static const json_schema_t AIRPRINT = {"microsoft.graph.airPrintSettings", AIRPRINT_FIELDS, 1};

static const json_field_t DISCOVERY_FIELDS[] = {
    {.name = "airPrint", .kind = JF_OBJECT, .sub = &AIRPRINT, .nullable = true},
};
static const json_schema_t DISCOVERY = {"microsoft.graph.printerDiscoverySettings",
                                        DISCOVERY_FIELDS, 1};

static const json_field_t SETTINGS_FIELDS[] = {
    {.name = "documentConversionEnabled", .kind = JF_BOOL},
    {.name = "printerDiscoverySettings", .kind = JF_OBJECT, .sub = &DISCOVERY, .nullable = true},
};
const json_schema_t GRAPH_PRINT_SETTINGS_SCHEMA = {"microsoft.graph.printSettings", SETTINGS_FIELDS, 2};

static const json_field_t PRINT_FIELDS[] = {
    {.name = "settings", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_SETTINGS_SCHEMA},
};
static const json_schema_t PRINT = {"microsoft.graph.print", PRINT_FIELDS, 1};

/* printSettings as JSON. */
static json_t *settings_json(const store_settings_t *s) {
  json_t *o = json_object();
  json_object_set_new(o, "documentConversionEnabled", json_boolean(s->document_conversion_enabled));
  if (s->airprint_incompatible_printers) {
    json_t *air = json_object();
    json_object_set_new(air, "incompatiblePrinters",
                        json_string(s->airprint_incompatible_printers));
    json_t *disc = json_object();
    json_object_set_new(disc, "airPrint", air);
    json_object_set_new(o, "printerDiscoverySettings", disc);
  } else {
    json_object_set_new(o, "printerDiscoverySettings", json_null());
  }
  return o;
}

/* Turns a validated printSettings object into a partial update. */
static void settings_patch(const json_t *settings, store_settings_patch_t *p) {
  json_t *v = json_object_get(settings, "documentConversionEnabled");
  if (v) {
    p->set_document_conversion_enabled = true;
    p->document_conversion_enabled = json_is_true(v);
  }
  json_t *disc = json_object_get(settings, "printerDiscoverySettings");
  if (disc) {
    p->set_airprint_incompatible_printers = true;
    json_t *air = json_is_object(disc) ? json_object_get(disc, "airPrint") : NULL;
    json_t *inc = json_is_object(air) ? json_object_get(air, "incompatiblePrinters") : NULL;
    p->airprint_incompatible_printers = json_is_string(inc) ? json_string_value(inc) : NULL;
  }
}

static bool load_settings(http_request_t *req, http_response_t *res, const caller_t *caller,
                          store_settings_t *out) {
  if (store_settings_get(APP(req)->store, caller->tenant, out) == STORE_OK) return true;
  graph_reply_store_error(req, res);
  return false;
}

/* GET /print */
static void print_get(http_request_t *req, http_response_t *res) {
  const caller_t *caller = graph_authorize(req, res, OP_PRINT_GET, NULL);
  if (!caller) return;
  store_settings_t s = {0};
  if (!load_settings(req, res, caller, &s)) return;
  json_t *o = json_object();
  json_object_set_new(o, "@odata.context", graph_context(req, "print"));
  json_object_set_new(o, "settings", settings_json(&s));
  store_settings_clear(&s);
  graph_reply_json(req, res, 200, o);
}

/* GET /print/settings (beta) */
static void settings_get(http_request_t *req, http_response_t *res) {
  const caller_t *caller = graph_authorize(req, res, OP_SETTINGS_GET, NULL);
  if (!caller) return;
  store_settings_t s = {0};
  if (!load_settings(req, res, caller, &s)) return;
  json_t *o = settings_json(&s);
  json_object_set_new(o, "@odata.context", graph_context(req, "print/settings"));
  store_settings_clear(&s);
  graph_reply_json(req, res, 200, o);
}

static void apply_patch(http_request_t *req, http_response_t *res, const caller_t *caller,
                        const json_t *settings) {
  store_settings_patch_t p = {0};
  if (settings) settings_patch(settings, &p);
  if (store_settings_update(APP(req)->store, caller->tenant, &p, NULL) != STORE_OK) {
    graph_reply_store_error(req, res);
    return;
  }
  graph_reply_no_content(res);
}

/* PATCH /print {"settings":{...}}: 204 once durable. */
static void print_patch(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *caller = graph_authorize_body(req, res, OP_PRINT_UPDATE, NULL, false, &body);
  if (!caller) return;
  if (graph_json_check(req, res, body, &PRINT)) {
    json_t *settings = json_object_get(body, "settings");
    if (json_is_null(settings)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL, "Property 'settings' cannot be null.");
    } else {
      apply_patch(req, res, caller, settings);
    }
  }
  json_decref(body);
}

/* PATCH /print/settings (beta) {"documentConversionEnabled": true}: 204. */
static void settings_patch_handler(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *caller = graph_authorize_body(req, res, OP_SETTINGS_UPDATE, NULL, false, &body);
  if (!caller) return;
  if (graph_json_check(req, res, body, &GRAPH_PRINT_SETTINGS_SCHEMA)) apply_patch(req, res, caller, body);
  json_decref(body);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/print", print_get, ROUTE_GRAPH, "print.get"),
    ROUTE("PATCH", "/print", print_patch, ROUTE_GRAPH | ROUTE_JSON_BODY, "print.update"),
    ROUTE("GET", "/print/settings", settings_get, ROUTE_GRAPH, "print.settings.get"),
    ROUTE("PATCH", "/print/settings", settings_patch_handler, ROUTE_GRAPH | ROUTE_JSON_BODY,
     "print.settings.update"),
};

void graph_print_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
