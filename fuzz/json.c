/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: request bodies (src/graph/json.c): strict JSON parsing (graph_json_body: depth
 * pre-check, duplicate keys, objects only) and schema validation (graph_json_check) against
 * the printer schemas the server exports and a print-job-like schema using every field kind,
 * then the PATCH merge of the body into a stored object (util/jsonmerge.c).
 *
 * Input: one flags byte (bit 0: the request carries Prefer: include-unknown-enum-members;
 * bit 1: a body with a non-JSON Content-Type), then the body. Checked: every refusal is a
 * 400/415 Graph error envelope that is valid JSON with a non-empty message; an accepted body
 * is an object; the merge of an accepted object yields an object holding all its members.
 */
#include "fuzz.h"

#include "core/enums.h"
#include "graph/json.h"
#include "graph/printers.h"
#include "http/request.h"
#include "http/response.h"
#include "util/jsonmerge.h"

#include <stdbool.h>

/* A job-creation-like schema with every kind: nullable and not, read-only, bounded strings,
 * enums, nested objects and arrays of each element kind. */
static const json_field_t RANGE_FIELDS[] = {
    {.name = "start", .kind = JF_INT64},
    {.name = "end", .kind = JF_INT64, .nullable = true},
};
static const json_schema_t RANGE = {"microsoft.graph.integerRange", RANGE_FIELDS, 2};
static const json_field_t CONFIG_FIELDS[] = {
    {.name = "collate", .kind = JF_BOOL, .nullable = true},
    {.name = "colorMode", .kind = JF_ENUM, .enm = &ENUM_PRINT_COLOR_MODE, .nullable = true},
    {.name = "copies", .kind = JF_INT32},
    {.name = "scale", .kind = JF_DOUBLE, .nullable = true},
    {.name = "finishings", .kind = JF_ARRAY, .elem = JF_ENUM, .enm = &ENUM_PRINT_FINISHING,
     .nullable = true},
    {.name = "inputBin", .kind = JF_STRING, .nullable = true, .max_len = 8},
    {.name = "pageRanges", .kind = JF_ARRAY, .elem = JF_OBJECT, .sub = &RANGE, .nullable = true},
    {.name = "sizes", .kind = JF_ARRAY, .elem = JF_INT64},
    {.name = "flags", .kind = JF_ARRAY, .elem = JF_BOOL},
    {.name = "when", .kind = JF_ARRAY, .elem = JF_DATETIME},
    {.name = "ratios", .kind = JF_ARRAY, .elem = JF_DOUBLE},
    {.name = "names", .kind = JF_ARRAY, .elem = JF_STRING},
    {.name = "detail", .kind = JF_ENUM, .enm = &ENUM_PRINTER_PROCESSING_STATE_DETAIL},
};
static const json_schema_t CONFIG = {"microsoft.graph.printJobConfiguration", CONFIG_FIELDS,
                                     sizeof CONFIG_FIELDS / sizeof CONFIG_FIELDS[0]};
static const json_field_t JOB_FIELDS[] = {
    {.name = "configuration", .kind = JF_OBJECT, .sub = &CONFIG},
    {.name = "displayName", .kind = JF_STRING, .nullable = true, .max_len = 256},
    {.name = "reason", .kind = JF_STRING, .nullable = true},
    {.name = "createdDateTime", .kind = JF_DATETIME, .readonly = true},
    {.name = "expires", .kind = JF_DATETIME},
    {.name = "location", .kind = JF_OBJECT, .sub = &GRAPH_PRINTER_LOCATION_SCHEMA,
     .nullable = true},
    {.name = "defaults", .kind = JF_OBJECT, .sub = &GRAPH_PRINTER_DEFAULTS_SCHEMA},
    {.name = "capabilities", .kind = JF_OBJECT, .sub = &GRAPH_PRINTER_CAPABILITIES_SCHEMA},
    {.name = "status", .kind = JF_OBJECT, .sub = &GRAPH_PRINTER_STATUS_SCHEMA},
    {.name = "tasks", .kind = JF_ARRAY, .readonly = true},
    {.name = "untyped", .kind = JF_OBJECT},
};
static const json_schema_t JOB = {"microsoft.graph.printJob", JOB_FIELDS,
                                  sizeof JOB_FIELDS / sizeof JOB_FIELDS[0]};

static const json_schema_t *const SCHEMAS[] = {
    &JOB, &CONFIG, &GRAPH_PRINTER_LOCATION_SCHEMA, &GRAPH_PRINTER_DEFAULTS_SCHEMA,
    &GRAPH_PRINTER_CAPABILITIES_SCHEMA, &GRAPH_PRINTER_STATUS_SCHEMA,
};

/* The answer must be a Graph error envelope with a message. */
static void check_error(const http_response_t *res, const char *what) {
  FUZZ_CHECK(res->status == 400 || res->status == 415, "%s answered %d", what, res->status);
  FUZZ_CHECK(res->body != NULL, "%s: error without a body", what);
  json_error_t e;
  json_t *env = json_loadb(res->body, res->body_len, 0, &e);
  FUZZ_CHECK(env != NULL, "%s: error body is not JSON (%s): %.*s", what, e.text,
             (int)res->body_len, res->body);
  json_t *msg = json_object_get(json_object_get(env, "error"), "message");
  FUZZ_CHECK(json_is_string(msg) && json_string_length(msg) > 0,
             "%s: error envelope without a message: %.*s", what, (int)res->body_len, res->body);
  FUZZ_CHECK(json_is_string(json_object_get(json_object_get(env, "error"), "code")),
             "%s: error envelope without a code", what);
  json_decref(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 65536) return 0;
  uint8_t flags = data[0];
  char *body = fuzz_cstr(data + 1, size - 1);
  http_param_t headers[2] = {
      {"Content-Type", (flags & 2) ? "text/plain" : "application/json; charset=utf-8"},
      {"Prefer", (flags & 1) ? "include-unknown-enum-members" : "return=minimal"},
  };
  http_request_t req;
  memset(&req, 0, sizeof req);
  req.method = "POST";
  req.body = body;
  req.body_len = size - 1;
  req.headers = headers;
  req.nheaders = 2;
  memcpy(req.request_id, "00000000-0000-0000-0000-000000000000", 37);

  http_response_t res;
  http_response_init(&res);
  json_t *obj = graph_json_body(&req, &res, (flags & 4) != 0);
  if (!obj) {
    check_error(&res, "graph_json_body");
    http_response_clear(&res);
    free(body);
    return 0;
  }
  FUZZ_CHECK(json_is_object(obj), "graph_json_body accepted a non-object");
  FUZZ_CHECK(res.status == 0, "graph_json_body answered %d and returned a body", res.status);
  FUZZ_CHECK(graph_json_depth(body, size - 1) <= GRAPH_JSON_MAX_DEPTH, "too deep accepted");

  for (size_t i = 0; i < sizeof SCHEMAS / sizeof SCHEMAS[0]; i++) {
    http_response_t r;
    http_response_init(&r);
    char err[512];
    bool ok = graph_json_validate(obj, SCHEMAS[i], (flags & 1) != 0, err, sizeof err);
    bool checked = graph_json_check(&req, &r, obj, SCHEMAS[i]);
    FUZZ_CHECK(ok == checked, "graph_json_validate and graph_json_check disagree");
    if (!checked) {
      FUZZ_CHECK(err[0] != '\0', "refusal without a message");
      check_error(&r, SCHEMAS[i]->type_name);
    } else {
      FUZZ_CHECK(r.status == 0, "a valid body was answered %d", r.status);
    }
    http_response_clear(&r);
  }

  /* PATCH semantics: the body merged into a stored object keeps every member of the body. */
  static const char *const stored =
      "{\"displayName\":\"A\",\"location\":{\"floor\":\"1\",\"site\":\"S\"},\"capabilities\":null}";
  json_t *base = json_loads(stored, 0, NULL);
  json_t *merged = json_merge_members(base, obj);
  FUZZ_CHECK(json_is_object(merged), "merge of an object is not an object");
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    FUZZ_CHECK(json_object_get(merged, key) != NULL, "merge lost member %s", key);
  }
  char *text = json_dumps(obj, JSON_COMPACT);
  if (text) {
    char *mtext = json_merge_members_text(stored, text);
    FUZZ_CHECK(mtext != NULL, "text merge refused an object");
    free(mtext);
    free(text);
  }
  json_decref(merged);
  json_decref(base);
  json_decref(obj);
  http_response_clear(&res);
  free(body);
  return 0;
}
