/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printer registration (P1, POST /print/printers/create) and its long-running operation
 * (P2, GET /print/operations/{id}; GET /print/operations lists them).
 *
 * Registration completes inside the request: the body is validated (400 for a missing or
 * malformed property), the certificate signing request is checked and signed by the tenant's
 * device CA (created on first use), and the printer and a succeeded printerCreateOperation are
 * stored in one transaction. A request the CA refuses (bad base64, not PKCS#10, a self-signature
 * that does not verify, a weak key, a digest other than SHA-256) or an unknown connectorId ends
 * as a failed operation whose description says why. Either way the answer is 202 with
 * Operation-Location and Retry-After, as Universal Print does.
 */
#include "app.h"
#include "auth/device-ca.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/model.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "http/server.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const json_field_t CSR_FIELDS[] = {
    {.name = "content", .kind = JF_STRING, .max_len = DEVICE_CA_MAX_CSR},
    /* accepted and not used: we encrypt nothing for the device */
    {.name = "transportKey", .kind = JF_STRING, .nullable = true, .max_len = DEVICE_CA_MAX_CSR},
};
const json_schema_t GRAPH_PRINT_CSR_SCHEMA = {"microsoft.graph.printCertificateSigningRequest", CSR_FIELDS,
                                  COUNT(CSR_FIELDS)};

static const json_field_t CREATE_FIELDS[] = {
    {.name = "displayName", .kind = JF_STRING, .max_len = STORE_PRINTER_NAME_MAX},
    {.name = "manufacturer", .kind = JF_STRING, .max_len = STORE_PRINTER_NAME_MAX},
    {.name = "model", .kind = JF_STRING, .max_len = STORE_PRINTER_NAME_MAX},
    {.name = "physicalDeviceId", .kind = JF_STRING, .nullable = true, .max_len = 256},
    /* Edm.Boolean without Nullable="false": null is the default, true */
    {.name = "hasPhysicalDevice", .kind = JF_BOOL, .nullable = true},
    {.name = "certificateSigningRequest", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_CSR_SCHEMA},
    {.name = "connectorId", .kind = JF_STRING, .nullable = true, .max_len = 256},
};
const json_schema_t GRAPH_PRINTER_CREATE_PARAMS = {"microsoft.graph.printer.create (action parameters)",
                                     CREATE_FIELDS, COUNT(CREATE_FIELDS)};

static bool blank(const char *s) {
  if (!s) return true;
  while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
  return *s == '\0';
}

/* Checks the presence rules the schema cannot express; false after replying 400. */
static bool check_required(http_request_t *req, http_response_t *res, json_t *body) {
  static const char *const required[] = {"displayName", "manufacturer", "model",
                                         "certificateSigningRequest"};
  for (size_t i = 0; i < COUNT(required); i++) {
    if (!json_object_get(body, required[i])) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL, "Property '%s' is required.",
                        required[i]);
      return false;
    }
  }
  if (blank(json_string_value(json_object_get(body, "displayName")))) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'displayName' cannot be empty.");
    return false;
  }
  json_t *csr = json_object_get(body, "certificateSigningRequest");
  if (!json_object_get(csr, "content")) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'certificateSigningRequest/content' is required: the base64 "
                      "PKCS#10 certificate signing request of the device.");
    return false;
  }
  json_t *phys = json_object_get(body, "hasPhysicalDevice");
  bool physical = !phys || json_is_true(phys);
  if (physical && blank(json_string_value(json_object_get(body, "physicalDeviceId")))) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'physicalDeviceId' is required when hasPhysicalDevice is true "
                      "(the default); send the device's UUID, or hasPhysicalDevice false for a "
                      "printer without a device.");
    return false;
  }
  return true;
}

/* The tenant's CA with a reserved serial, creating the CA on first use. */
static store_rc_t reserve_ca(store_t *st, const char *tenant, store_device_ca_t *ca, char *why,
                             size_t whylen) {
  store_rc_t rc = store_device_ca_reserve(st, tenant, NULL, NULL, ca);
  if (rc != STORE_NOT_FOUND) return rc;
  char *key = NULL, *cert = NULL;
  if (device_ca_create(tenant, time_now_us() / 1000000, &key, &cert, why, whylen) != DEVICE_CA_OK)
    return STORE_ERROR;
  rc = store_device_ca_reserve(st, tenant, key, cert, ca);
  free(key);
  free(cert);
  return rc;
}

/* Signs the CSR and stores the printer. Returns 0 when registered, 1 when the request is
 * refused (why holds the operation's description), -1 on an internal error (logged). */
static int register_printer(http_request_t *req, const caller_t *c, json_t *body,
                            const char *op_id, const char *printer_id, int64_t now_us, char *why,
                            size_t whylen) {
  store_t *st = APP(req)->store;
  const char *content = json_string_value(
      json_object_get(json_object_get(body, "certificateSigningRequest"), "content"));
  const char *connector = json_string_value(json_object_get(body, "connectorId"));
  if (connector) {
    /* Connectors come only from the registration service, which we do not run. */
    snprintf(why, whylen, "The connector '%.128s' does not exist in this tenant.", connector);
    return 1;
  }
  if (device_ca_check_csr(content, why, whylen) != DEVICE_CA_OK) return 1;

  store_device_ca_t ca;
  char err[256] = "";
  if (reserve_ca(st, c->tenant, &ca, err, sizeof err) != STORE_OK) {
    log_error("printer registration: the device CA of tenant %s is unavailable%s%s", c->tenant,
              err[0] ? ": " : "", err);
    return -1;
  }
  char *cert = NULL, *fp = NULL;
  int rc = device_ca_sign(ca.key_pem, ca.cert_pem, content, printer_id, ca.serial,
                          now_us / 1000000, &cert, &fp, why, whylen);
  store_device_ca_clear(&ca);
  if (rc == DEVICE_CA_BAD_CSR) return 1;
  if (rc != DEVICE_CA_OK) {
    log_error("printer registration: signing failed for tenant %s: %s", c->tenant, why);
    return -1;
  }
  json_t *phys = json_object_get(body, "hasPhysicalDevice");
  store_printer_new_t n = {
      .id = printer_id,
      .tenant = c->tenant,
      .display_name = json_string_value(json_object_get(body, "displayName")),
      .manufacturer = json_string_value(json_object_get(body, "manufacturer")),
      .model = json_string_value(json_object_get(body, "model")),
      .has_physical_device = !phys || json_is_true(phys),
      .physical_device_id = json_string_value(json_object_get(body, "physicalDeviceId")),
      .connector_id = NULL,
      .defaults = GRAPH_PRINTER_BUILTIN_DEFAULTS,
      .registered_by_app = c->app_id,
      .cert_pem = cert,
      .cert_sha256 = fp,
      .operation_id = op_id,
      .now_us = now_us,
  };
  store_rc_t src = store_printer_register(st, &n);
  free(cert);
  free(fp);
  if (src != STORE_OK) {
    log_error("printer registration: storing printer %s failed", printer_id);
    return -1;
  }
  return 0;
}

/* POST /print/printers/create: 202 + Operation-Location + Retry-After, no body. */
static void printer_create(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, OP_PRINTER_CREATE, NULL, false, &body);
  if (!c) return;
  if (!graph_json_check_params(req, res, body, &GRAPH_PRINTER_CREATE_PARAMS) || !check_required(req, res, body)) {
    json_decref(body);
    return;
  }
  char op_id[ID_GUID_LEN + 1], printer_id[ID_GUID_LEN + 1], why[512] = "";
  id_guid(op_id);
  id_guid(printer_id);
  int64_t now = time_now_us();
  int rc = register_printer(req, c, body, op_id, printer_id, now, why, sizeof why);
  json_decref(body);
  if (rc == 1 &&
      store_operation_add_failed(APP(req)->store, c->tenant, op_id, now, why) != STORE_OK)
    rc = -1;
  if (rc < 0) {
    graph_reply_store_error(req, res);
    return;
  }
  graph_reply_operation_accepted(req, res, op_id);
}

/* ---- /print/operations ----------------------------------------------------------------------- */

static const char *const OP_SELECT[] = {"id", "createdDateTime", "status", "certificate",
                                        "printer", NULL};
static const char *const OP_EXPAND[] = {"printer", NULL};
static const odata_spec_t OP_GET_QUERY = {
    .mask = QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_FORMAT,
    .select = OP_SELECT, .expand = OP_EXPAND};
static const odata_spec_t OP_LIST_QUERY = {
    .mask = QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_TOP | QUERY_OPT_SKIP |
            QUERY_OPT_SKIPTOKEN | QUERY_OPT_ORDERBY | QUERY_OPT_FORMAT,
    .select = OP_SELECT, .expand = OP_EXPAND};

/* A printerCreateOperation; printer (when not NULL) is inlined. */
static json_t *operation_json(const http_request_t *req, const store_operation_t *op,
                              const store_printer_t *printer) {
  char t[TIME_ISO_LEN];
  time_format_iso(op->created_us, t);
  json_t *o = json_object();
  json_object_set_new(o, "@odata.type", json_string("#microsoft.graph.printerCreateOperation"));
  json_object_set_new(o, "id", json_string(op->id));
  json_object_set_new(o, "createdDateTime", json_string(t));
  json_t *status = json_object();
  json_object_set_new(status, "state",
                      json_string(enum_emit(&ENUM_PRINT_OPERATION_PROCESSING_STATE, op->state,
                                            graph_prefers_evolvable(req))));
  json_object_set_new(status, "description", json_string(op->description ? op->description : ""));
  json_object_set_new(o, "status", status);
  json_object_set_new(o, "certificate",
                      op->certificate ? json_string(op->certificate) : json_null());
  if (printer) json_object_set_new(o, "printer", graph_printer_json(req, printer, false, true));
  return o;
}

static bool unfinished(const store_operation_t *op) {
  return op->state < 2; /* notStarted, running */
}

/* GET /print/operations/{id}: the printerCreateOperation, with the printer once succeeded. */
static void operation_get(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c = graph_authorize_query(req, res, OP_OPERATION_GET, NULL, &OP_GET_QUERY, &q);
  if (!c) return;
  store_operation_t op;
  store_printer_t p;
  bool has_printer = false;
  store_rc_t rc = store_operation_get(APP(req)->store, c->tenant, req->params[0], &op, &p,
                                      &has_printer);
  if (!graph_reply_item_failure(req, res, rc, "Operation '%.128s' was not found.",
                                req->params[0])) {
    json_t *o = graph_with_context(graph_context(req, "print/operations/$entity"),
                                   operation_json(req, &op, has_printer ? &p : NULL));
    odata_apply_select(o, &q);
    if (unfinished(&op)) http_response_header(res, "Retry-After", GRAPH_OPERATION_RETRY_AFTER);
    graph_reply_json(req, res, 200, o);
    store_operation_clear(&op);
    store_printer_clear(&p);
  }
  query_clear(&q);
}

/* GET /print/operations: the tenant's registration operations (printers not inlined unless
 * $expand=printer). */
static void operations_list(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c =
      graph_authorize_query(req, res, OP_OPERATIONS_LIST, NULL, &OP_LIST_QUERY, &q);
  if (!c) return;
  store_operation_page_t page;
  char err[512] = "";
  store_rc_t rc = store_operation_list(APP(req)->store, c->tenant, &q, &page, err, sizeof err);
  if (!graph_reply_list_failure(req, res, rc, err, NULL)) {
    bool expand = odata_expanded(&q, "printer");
    json_t *value = json_array();
    for (size_t i = 0; i < page.n; i++) {
      store_operation_t *op = &page.items[i];
      store_printer_t p = {0};
      bool have = expand && op->printer_id &&
                  store_printer_get(APP(req)->store, c->tenant, op->printer_id, &p) == STORE_OK;
      json_t *o = operation_json(req, op, have ? &p : NULL);
      store_printer_clear(&p);
      odata_apply_select(o, &q);
      json_array_append_new(value, o);
    }
    graph_reply_collection(req, res, graph_context(req, "print/operations"), value, page.next);
  }
  store_operation_page_clear(&page);
  query_clear(&q);
}

static route_t ROUTES[] = {
    ROUTE("POST", "/print/printers/create", printer_create, ROUTE_GRAPH | ROUTE_JSON_BODY,
          "printers.create"),
    ROUTE("GET", "/print/operations", operations_list, ROUTE_GRAPH, "operations.list"),
    ROUTE("GET", "/print/operations/{id}", operation_get, ROUTE_GRAPH, "operations.get"),
};

/* Registers the registration and operation routes. */
void graph_operations_routes(void) { router_add(ROUTES, COUNT(ROUTES)); }
