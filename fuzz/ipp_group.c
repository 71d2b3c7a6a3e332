/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the other IPP entry point, PATCH /print/printers/{id} with Content-Type
 * application/ipp (reference §4.1 P5): a bare RFC 8010 printer-attributes group mapped to Graph
 * capabilities, defaults and status (mapping/mapping.c: ipp_map_printer_group), then mapped back
 * into printer attributes as Get-Printer-Attributes does (ipp_map_printer_capabilities).
 *
 * Input: the PATCH body (tag 0x04, attributes, optional end tag). Checked: a refusal has a
 * message; what an accepted group yields is valid JSON that passes the Graph schemas a client
 * PATCH of the same members must pass (printerCapabilities, printerDefaults, status details),
 * so device input can never store what the API itself would refuse (e.g. a dpi beyond Int32).
 */
#include "fuzz.h"

#include "graph/json.h"
#include "graph/printers.h"
#include "mapping/mapping.h"
#include "store/ipp.h"

#include <cups/ipp.h>

static json_t *load(const char *text, const char *what) {
  json_error_t e;
  json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);
  FUZZ_CHECK(v != NULL, "%s is not JSON (%s): %s", what, e.text, text);
  return v;
}

static void check_schema(const char *text, const json_schema_t *schema) {
  json_t *v = load(text, schema->type_name);
  FUZZ_CHECK(json_is_object(v), "%s is not an object: %s", schema->type_name, text);
  char err[512];
  FUZZ_CHECK(graph_json_validate(v, schema, true, err, sizeof err),
             "the mapping made a %s the API refuses (%s): %s", schema->type_name, err, text);
  json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 256 * 1024) return 0;
  store_ipp_printer_patch_t patch;
  memset(&patch, 0, sizeof patch);
  patch.status_state = -1;
  patch.accepting = -1;
  char err[512] = "";
  if (!ipp_map_printer_group(data, size, &patch, err, sizeof err)) {
    FUZZ_CHECK(err[0] != '\0', "refused without a message");
    store_ipp_printer_patch_clear(&patch);
    return 0;
  }
  FUZZ_CHECK(patch.status_state >= -1 && patch.status_state <= 3, "status state %d",
             patch.status_state);
  FUZZ_CHECK(patch.accepting >= -1 && patch.accepting <= 1, "accepting %d", patch.accepting);
  if (patch.capabilities_merge)
    check_schema(patch.capabilities_merge, &GRAPH_PRINTER_CAPABILITIES_SCHEMA);
  if (patch.defaults_merge) check_schema(patch.defaults_merge, &GRAPH_PRINTER_DEFAULTS_SCHEMA);
  if (patch.status_details) {
    char *wrapped = malloc(strlen(patch.status_details) + 32);
    sprintf(wrapped, "{\"details\":%s}", patch.status_details);
    check_schema(wrapped, &GRAPH_PRINTER_STATUS_SCHEMA);
    free(wrapped);
  }
  ipp_t *ipp = ippNew();
  ipp_map_printer_capabilities(ipp, patch.capabilities_merge, patch.defaults_merge);
  ippDelete(ipp);
  store_ipp_printer_patch_clear(&patch);
  return 0;
}
