/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request bodies: strict JSON parsing and validation against a property
 * schema, with 400 messages that name the property and the reason.
 *
 * Parsing rejects duplicate keys, invalid UTF-8, NUL characters, trailing
 * data and nesting deeper than GRAPH_JSON_MAX_DEPTH. Validation rejects
 * unknown properties, wrong types, unknown enum members and read-only
 * properties. Instance annotations ("@odata.type") and property annotations
 * ("printer@odata.bind") pass validation; handlers read the ones they use.
 */
#ifndef SPOOLD_GRAPH_JSON_H
#define SPOOLD_GRAPH_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "core/enums.h"
#include "http/request.h"
#include "http/response.h"

#define GRAPH_JSON_MAX_DEPTH 64

typedef enum {
  JF_STRING,
  JF_BOOL,
  JF_INT32,
  JF_INT64,
  JF_DOUBLE,
  JF_DATETIME,  /* ISO 8601 string */
  JF_DATE,      /* Edm.Date: "YYYY-MM-DD" */
  JF_ENUM,      /* string member of .enm */
  JF_OBJECT,    /* nested object validated against .sub */
  JF_ARRAY,     /* array of .elem (with .enm / .sub as for a scalar of that kind) */
} json_kind_t;

typedef struct json_schema json_schema_t;

typedef struct json_field {
  const char          *name;
  json_kind_t          kind;
  json_kind_t          elem;      /* element kind for JF_ARRAY */
  const enum_def_t    *enm;       /* JF_ENUM, or arrays of enums */
  const json_schema_t *sub;       /* JF_OBJECT, or arrays of objects */
  bool                 nullable;
  bool                 readonly;  /* present in the type but not writable by clients */
  size_t               max_len;   /* strings: maximum length in characters (0 = none) */
  unsigned char        api;       /* 0: under both prefixes; JF_API_V1 / JF_API_BETA: only there
                                     ($metadata and the JSON writers that follow the table) */
} json_field_t;

#define JF_API_V1   1
#define JF_API_BETA 2

struct json_schema {
  const char         *type_name;  /* "microsoft.graph.printSettings", for messages */
  const json_field_t *fields;
  size_t              nfields;
};

/* Parses the request body as a JSON object. On failure replies 400 (or 415 for a non-JSON
 * Content-Type) and returns NULL. An empty body yields NULL with a 400 unless allow_empty, in
 * which case an empty object is returned. The caller owns the returned reference. */
json_t *graph_json_body(http_request_t *req, http_response_t *res, bool allow_empty);

/* Validates obj against schema. accept_evolvable: the request carried
 * `Prefer: include-unknown-enum-members`. On failure writes a message naming the property path
 * (e.g. "settings/documentConversionEnabled") into err and returns false. */
bool graph_json_validate(const json_t *obj, const json_schema_t *schema, bool accept_evolvable,
                         char *err, size_t errlen);

/* Validates and, on failure, replies 400 invalidRequest with the message. */
bool graph_json_check(http_request_t *req, http_response_t *res, const json_t *obj,
                      const json_schema_t *schema);

/* graph_json_check for the parameters of an OData action: a parameter sent as null is the same
 * as one left out, so after validation the nullable parameters whose value is null are removed
 * from obj and every handler sees one shape for "not given". */
bool graph_json_check_params(http_request_t *req, http_response_t *res, json_t *obj,
                             const json_schema_t *schema);

/* True when the request asked for evolvable enum members. */
bool graph_prefers_evolvable(const http_request_t *req);

/* Nesting depth of JSON text outside strings (for the pre-parse check). */
int graph_json_depth(const char *text, size_t len);

#endif
