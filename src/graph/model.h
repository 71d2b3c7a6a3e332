/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The entity data model spoold serves, as tables: every enumeration, complex type, entity type
 * (with its navigation properties), bound action and function, and the entity container
 * (singletons and entity sets). GET /v1.0/$metadata and /beta/$metadata write it as CSDL XML
 * (graph/metadata.c), the router accepts each bound operation namespace-qualified
 * ("…/microsoft.graph.abort") because it is listed here, and the conformance suite
 * (tests/api/conformance.test.mjs) checks every answer's JSON against the same document.
 *
 * Properties are json_field_t rows (graph/json.h): the same rows that validate request bodies
 * where a type has one (printerLocation, printerDefaults, printerCapabilities, printerStatus,
 * printJobConfiguration, printSettings, ...). A field's .nullable is the CSDL Nullable, its
 * .api says when it exists only under /v1.0 or /beta; collection-valued properties are always
 * written as arrays ([] when empty), never null.
 *
 * Adding a type: add its json_schema_t (named "microsoft.graph.<name>") to the complex or
 * entity table in model.c, its enums to GRAPH_MODEL_ENUMS, its operations to the operation
 * table. Nothing else needs to change for $metadata.
 */
#ifndef SPOOLD_GRAPH_MODEL_H
#define SPOOLD_GRAPH_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/enums.h"
#include "graph/json.h"
#include "http/request.h"

#define GRAPH_NS "microsoft.graph"

/* A navigation property. type is the qualified entity type ("microsoft.graph.printJob"). */
typedef struct graph_nav {
  const char   *name;
  const char   *type;
  bool          collection;
  bool          contained;   /* ContainsTarget: the entities live under this path */
  unsigned char api;         /* 0, JF_API_V1 or JF_API_BETA as for json_field_t */
} graph_nav_t;

/* An entity type. props are its own structural properties (not those of its base type). */
typedef struct graph_entity_type {
  const json_schema_t *props;      /* type_name is the qualified name */
  const char          *base;       /* qualified base type; NULL: microsoft.graph.entity */
  bool                 abstract;
  bool                 has_stream; /* a media entity (…/$value) */
  const graph_nav_t   *navs;
  size_t               nnavs;
} graph_entity_type_t;

/* A bound action or function. The binding parameter is "bindingParameter". */
typedef struct graph_operation {
  const char          *name;         /* "abort" */
  bool                 function;     /* GET (a function) rather than POST (an action) */
  const char          *binding;      /* qualified type it is bound to */
  bool                 binding_collection;
  const json_schema_t *params;       /* the other parameters; NULL: none */
  const char          *returns;      /* qualified type or "Edm.X"; NULL: nothing */
  bool                 returns_collection;
  unsigned char        api;
} graph_operation_t;

/* A member of the entity container. */
typedef struct graph_container_item {
  const char *name;      /* "print" */
  const char *type;      /* qualified entity type */
  bool        singleton; /* a Singleton, else an EntitySet */
} graph_container_item_t;

/* Schemas the resource files define and the model lists. */
extern const json_schema_t GRAPH_PRINT_SETTINGS_SCHEMA;          /* print.c */
extern const json_schema_t GRAPH_PRINT_RELEASE_MECHANISM_SCHEMA; /* printers.c */
extern const json_schema_t GRAPH_INTEGER_RANGE_SCHEMA;           /* printers.c */
extern const json_schema_t GRAPH_PRINT_MARGIN_SCHEMA;            /* jobs.c */
extern const json_schema_t GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA; /* jobs.c */
extern const json_schema_t GRAPH_JOB_ABORT_PARAMS;               /* pullprint.c */
extern const json_schema_t GRAPH_PRINT_CSR_SCHEMA;               /* operations.c */
extern const json_schema_t GRAPH_PRINTER_CREATE_PARAMS;          /* operations.c */
extern const json_schema_t GRAPH_PRINT_DOCUMENT_UPLOAD_PROPERTIES_SCHEMA; /* documents.c */
extern const json_schema_t GRAPH_CREATE_UPLOAD_SESSION_PARAMS;   /* documents.c */

/* The tables (model.c), each ending with a NULL / zeroed entry. */
extern const enum_def_t *const GRAPH_MODEL_ENUMS[];
extern const json_schema_t *const GRAPH_MODEL_COMPLEX[];
extern const graph_entity_type_t *const GRAPH_MODEL_ENTITIES[];
extern const graph_operation_t GRAPH_MODEL_OPERATIONS[];
extern const graph_container_item_t GRAPH_MODEL_CONTAINER[];

/* True when field or navigation api flag a is served under version v. */
bool graph_model_in_api(unsigned char a, api_version_t v);
/* True when an enum is declared as an EnumType (otherwise its JF_ENUM fields are Edm.String
 * validated against a list, as printerDefaults.mediaSize is). */
bool graph_model_is_enum_type(const enum_def_t *e);
/* True when name (case-insensitive) is a bound action or function of the model: the router
 * accepts "microsoft.graph.<name>" for such a path segment. */
bool graph_model_is_operation(const char *name);

/* Writes the CSDL document for version v (API_V1 or API_BETA) into a malloc'd NUL-terminated
 * string the caller frees. */
char *graph_model_csdl(api_version_t v);

#endif
