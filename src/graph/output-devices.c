/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /spoold/v1/printers/{id}/outputDevices: the output devices (printers or proxies) that
 * registered with the printer's IPP INFRA endpoint, each with what it last pushed, read the way
 * the printer's Graph status and capabilities are (mapping/mapping.h). Graph has no such
 * collection; the console's printer page shows it. Same permission as reading the printer.
 */
#include "graph/output-devices.h"
#include "app.h"
#include "core/enums.h"
#include "graph/authorize.h"
#include "graph/reply.h"
#include "http/router.h"
#include "mapping/mapping.h"
#include "store/ipp.h"
#include "store/printers.h"
#include "store/pullprint.h"

#include <jansson.h>
#include <stdlib.h>

/* One device as JSON: its uuid and the Graph-shaped status and capabilities it reported. */
static json_t *device_json(const char *uuid, const void *attrs, size_t len) {
  ipp_t *ipp = ipp_map_attrs_decode(attrs, len);
  store_ipp_printer_patch_t p = {.status_state = -1, .accepting = -1};
  ipp_map_device_patch(ipp, NULL, &p);
  json_t *o = json_object();
  json_object_set_new(o, "uuid", json_string(uuid));
  json_t *status = json_object();
  json_object_set_new(status, "state",
                      p.status_state >= 0
                          ? json_string(ENUM_PRINTER_PROCESSING_STATE.members[p.status_state])
                          : json_null());
  json_t *details = p.status_details ? json_loads(p.status_details, 0, NULL) : NULL;
  json_object_set_new(status, "details", details ? details : json_array());
  json_object_set_new(status, "description",
                      p.status_description ? json_string(p.status_description) : json_null());
  json_object_set_new(o, "status", status);
  json_object_set_new(o, "isAcceptingJobs",
                      p.accepting < 0 ? json_null() : json_boolean(p.accepting == 1));
  json_t *caps = p.capabilities_merge ? json_loads(p.capabilities_merge, 0, NULL) : NULL;
  json_object_set_new(o, "capabilities", caps ? caps : json_object());
  ipp_attribute_t *mm = ippFindAttribute(ipp, "printer-make-and-model", IPP_TAG_ZERO);
  json_object_set_new(o, "makeAndModel",
                      mm && ippGetString(mm, 0, NULL) ? json_string(ippGetString(mm, 0, NULL))
                                                      : json_null());
  store_ipp_printer_patch_clear(&p);
  ippDelete(ipp);
  return o;
}

static void output_devices(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_GET, NULL);
  if (!c) return;
  store_t *st = APP(req)->store;
  const char *id = http_request_param(req, 0);
  store_printer_t printer = {0};
  char **uuids = NULL;
  size_t n = 0;
  int64_t queued = 0;
  store_rc_t rc = store_printer_get(st, c->tenant, id, &printer);
  if (rc == STORE_OK) rc = store_ipp_printer_counts(st, c->tenant, id, &queued, &uuids, &n);
  if (rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "Printer '%s' was not found.", id);
    goto done;
  }
  json_t *value = json_array();
  for (size_t i = 0; rc == STORE_OK && i < n; i++) {
    void *attrs = NULL;
    size_t len = 0;
    store_rc_t drc = store_ipp_device_get(st, c->tenant, id, uuids[i], &attrs, &len);
    if (drc == STORE_OK) json_array_append_new(value, device_json(uuids[i], attrs, len));
    else if (drc != STORE_NOT_FOUND) rc = drc; /* one deregistered meanwhile is left out */
    free(attrs);
  }
  if (rc != STORE_OK) {
    json_decref(value);
    graph_reply_store_error(req, res);
    goto done;
  }
  json_t *o = json_object();
  json_object_set_new(o, "queuedJobCount", json_integer(queued));
  json_object_set_new(o, "value", value);
  graph_reply_json(req, res, 200, o);
done:
  store_strings_free(uuids, n);
  store_printer_clear(&printer);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/printers/{id}/outputDevices", output_devices, ROUTE_EXT,
          "ext.printers.outputDevices"),
};

void graph_output_devices_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
