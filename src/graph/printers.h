/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printers on the Graph surface (reference §4.1, §4.6, §4.7): /print/printers[/{id}] (list,
 * get, update, delete, restoreFactoryDefaults, getCapabilities), registration
 * (POST /print/printers/create and /print/operations, operations.c), connectors
 * (connectors.c) and services (services.c).
 *
 * For other resources: the printer as JSON (a share mirrors its printerBase members) and the
 * validation schemas of the printer's complex types.
 */
#ifndef SPOOLD_GRAPH_PRINTERS_H
#define SPOOLD_GRAPH_PRINTERS_H

#include <jansson.h>
#include <stdbool.h>

#include "graph/json.h"
#include "http/request.h"
#include "http/response.h"
#include "store/printers.h"

/* The printerBase members of p as a new JSON object (the caller owns it): displayName,
 * manufacturer, model, isAcceptingJobs, status, location, defaults and, when with_capabilities,
 * capabilities. Complex values carry every member of their type (null when unset; capability
 * collections [] when unset); evolvable enum members become unknownFutureValue unless the
 * request prefers them (Prefer: include-unknown-enum-members); beta-only members appear only
 * under /beta. */
json_t *graph_printer_base_json(const http_request_t *req, const store_printer_t *p,
                                bool with_capabilities);

/* The whole printer entity of p (no @odata.context; the caller owns it): id, the printerBase
 * members (defaults when with_defaults, capabilities when with_capabilities), hasPhysicalDevice,
 * isShared, registeredDateTime, lastSeenDateTime and, under /v1.0, releaseMechanisms and
 * printerProvidedReleaseSupport. List answers leave out defaults and capabilities. */
json_t *graph_printer_json(const http_request_t *req, const store_printer_t *p,
                           bool with_capabilities, bool with_defaults);

/* True when printer id is in tenant; false after replying 404 itemNotFound ("Printer '<id>'
 * was not found.") or the store error. */
bool graph_printer_exists(http_request_t *req, http_response_t *res, const char *tenant,
                          const char *id);

/* Answers a failed store call on printer id as graph_reply_item_failure does, the 404 saying
 * "Printer '<id>' was not found."; false (nothing written) when rc is STORE_OK. */
bool graph_printer_failure(http_request_t *req, http_response_t *res, int rc, const char *id);

/* printerCapabilities of p as a new JSON object (see graph_printer_base_json). */
json_t *graph_printer_capabilities_json(const http_request_t *req, const store_printer_t *p);

/* Validation schemas of the printer's complex types (with the enums of core/enums.h and the
 * mediaSize names). */
extern const json_schema_t GRAPH_PRINTER_LOCATION_SCHEMA;     /* microsoft.graph.printerLocation */
extern const json_schema_t GRAPH_PRINTER_DEFAULTS_SCHEMA;     /* microsoft.graph.printerDefaults */
extern const json_schema_t GRAPH_PRINTER_CAPABILITIES_SCHEMA; /* ...printerCapabilities */
extern const json_schema_t GRAPH_PRINTER_STATUS_SCHEMA;       /* microsoft.graph.printerStatus */

/* Checks what the schemas cannot express in a location, defaults or capabilities object (what
 * names the kind: "location", "defaults", "capabilities"): copiesPerJob, dpi and pagesPerSheet
 * at least 1, integerRange start <= end, contentType(s) type/subtype, and rewrites
 * location.subUnit (the documentation's spelling) in place to subunit. Call it before schema
 * validation (members of the wrong type are skipped here and refused by the schema). Returns
 * false with a message naming the property in err; a non-object obj passes. */
bool graph_printer_check_complex(json_t *obj, const char *what, char *err, size_t errlen);

/* The defaults a printer gets at registration, recorded as its factory defaults (what
 * restoreFactoryDefaults restores until the registering application reports others). */
#define GRAPH_PRINTER_BUILTIN_DEFAULTS                                                         \
  "{\"colorMode\":\"auto\",\"contentType\":\"application/pdf\",\"copiesPerJob\":1,"         \
  "\"duplexMode\":\"oneSided\",\"finishings\":[\"none\"],\"fitPdfToPage\":false,"             \
  "\"multipageLayout\":\"clockwiseFromTopLeft\",\"orientation\":\"portrait\","               \
  "\"pagesPerSheet\":1,\"quality\":\"medium\",\"scaling\":\"auto\"}"

#endif
