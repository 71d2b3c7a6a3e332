/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /print/printers: list (P3), get (P4), update (P5, JSON or IPP), delete (P6), restoreFactoryDefaults
 * (P7) and getCapabilities (P8), plus the printer's JSON and the schemas of its complex types.
 *
 * Wire shape of a printer: every property of printerBase and printer is present; complex values
 * carry every member of their type (null when unset, capability collections [] when unset);
 * capabilities only when $select names them (never in lists); defaults never in lists.
 */
#include "graph/printers.h"
#include "app.h"
#include "graph/authorize.h"
#include "graph/model.h"
#include "graph/odata.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "mapping/mapping.h"
#include "http/server.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- schemas --------------------------------------------------------------------------------- */

#define STR(n) {.name = (n), .kind = JF_STRING, .nullable = true}
#define STRS(n) {.name = (n), .kind = JF_ARRAY, .elem = JF_STRING, .nullable = true}
#define INT(n) {.name = (n), .kind = JF_INT32, .nullable = true}
#define INTS(n) {.name = (n), .kind = JF_ARRAY, .elem = JF_INT32, .nullable = true}
#define BOOLF(n) {.name = (n), .kind = JF_BOOL, .nullable = true}
#define ENUMF(n, e) {.name = (n), .kind = JF_ENUM, .enm = &(e), .nullable = true}
#define ENUMS(n, e) {.name = (n), .kind = JF_ARRAY, .elem = JF_ENUM, .enm = &(e), .nullable = true}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const json_field_t LOCATION_FIELDS[] = {
    {.name = "latitude", .kind = JF_DOUBLE, .nullable = true},
    {.name = "longitude", .kind = JF_DOUBLE, .nullable = true},
    INT("altitudeInMeters"),
    STR("streetAddress"),
    STRS("subunit"),
    STR("city"),
    STR("postalCode"),
    STR("stateOrProvince"),
    STR("countryOrRegion"),
    STR("site"),
    STR("building"),
    STR("floor"),
    STR("floorDescription"),
    STR("roomName"),
    STR("roomDescription"),
    STRS("organization"),
    STRS("subdivision"),
};
const json_schema_t GRAPH_PRINTER_LOCATION_SCHEMA = {"microsoft.graph.printerLocation",
                                                     LOCATION_FIELDS, COUNT(LOCATION_FIELDS)};

static const json_field_t DEFAULTS_FIELDS[] = {
    ENUMF("colorMode", ENUM_PRINT_COLOR_MODE),
    STR("contentType"),
    INT("copiesPerJob"),
    INT("dpi"),
    ENUMF("duplexMode", ENUM_PRINT_DUPLEX_MODE),
    ENUMS("finishings", ENUM_PRINT_FINISHING),
    BOOLF("fitPdfToPage"),
    STR("inputBin"),
    STR("mediaColor"),
    ENUMF("mediaSize", ENUM_PRINT_MEDIA_SIZE),
    STR("mediaType"),
    ENUMF("multipageLayout", ENUM_PRINT_MULTIPAGE_LAYOUT),
    ENUMF("orientation", ENUM_PRINT_ORIENTATION),
    STR("outputBin"),
    INT("pagesPerSheet"),
    ENUMF("quality", ENUM_PRINT_QUALITY),
    ENUMF("scaling", ENUM_PRINT_SCALING),
};
const json_schema_t GRAPH_PRINTER_DEFAULTS_SCHEMA = {"microsoft.graph.printerDefaults",
                                                     DEFAULTS_FIELDS, COUNT(DEFAULTS_FIELDS)};

static const json_field_t RANGE_FIELDS[] = {
    {.name = "start", .kind = JF_INT64, .nullable = true},
    {.name = "end", .kind = JF_INT64, .nullable = true},
};
const json_schema_t GRAPH_INTEGER_RANGE_SCHEMA = {"microsoft.graph.integerRange", RANGE_FIELDS,
                                    COUNT(RANGE_FIELDS)};

static const json_field_t CAPABILITIES_FIELDS[] = {
    INTS("bottomMargins"),
    BOOLF("collation"),
    ENUMS("colorModes", ENUM_PRINT_COLOR_MODE),
    STRS("contentTypes"),
    {.name = "copiesPerJob", .kind = JF_OBJECT, .sub = &GRAPH_INTEGER_RANGE_SCHEMA, .nullable = true},
    INTS("dpis"),
    ENUMS("duplexModes", ENUM_PRINT_DUPLEX_MODE),
    ENUMS("feedOrientations", ENUM_PRINTER_FEED_ORIENTATION),
    ENUMS("finishings", ENUM_PRINT_FINISHING),
    STRS("inputBins"),
    /* computed from colorModes */
    {.name = "isColorPrintingSupported", .kind = JF_BOOL, .nullable = true, .readonly = true},
    BOOLF("isPageRangeSupported"),
    INTS("leftMargins"),
    STRS("mediaColors"),
    ENUMS("mediaSizes", ENUM_PRINT_MEDIA_SIZE),
    STRS("mediaTypes"),
    ENUMS("multipageLayouts", ENUM_PRINT_MULTIPAGE_LAYOUT),
    ENUMS("orientations", ENUM_PRINT_ORIENTATION),
    STRS("outputBins"),
    INTS("pagesPerSheet"),
    ENUMS("qualities", ENUM_PRINT_QUALITY),
    INTS("rightMargins"),
    ENUMS("scalings", ENUM_PRINT_SCALING),
    BOOLF("supportsFitPdfToPage"),
    INTS("topMargins"),
    {.name = "queueBufferSizeInBytes", .kind = JF_INT32, .nullable = true, .api = JF_API_BETA},
};
const json_schema_t GRAPH_PRINTER_CAPABILITIES_SCHEMA = {
    "microsoft.graph.printerCapabilities", CAPABILITIES_FIELDS, COUNT(CAPABILITIES_FIELDS)};

static const json_field_t STATUS_FIELDS[] = {
    {.name = "state", .kind = JF_ENUM, .enm = &ENUM_PRINTER_PROCESSING_STATE},
    ENUMS("details", ENUM_PRINTER_PROCESSING_STATE_DETAIL),
    STR("description"),
};
const json_schema_t GRAPH_PRINTER_STATUS_SCHEMA = {"microsoft.graph.printerStatus", STATUS_FIELDS,
                                                   COUNT(STATUS_FIELDS)};

static const json_field_t RELEASE_FIELDS[] = {
    {.name = "releaseType", .kind = JF_ENUM, .enm = &ENUM_PRINT_RELEASE_TYPE},
};
const json_schema_t GRAPH_PRINT_RELEASE_MECHANISM_SCHEMA = {"microsoft.graph.printReleaseMechanism", RELEASE_FIELDS,
                                      COUNT(RELEASE_FIELDS)};

/* The printer as a PATCH body; who may set which property is checked before (patch_rule). */
#define NAME(n) \
  {.name = (n), .kind = JF_STRING, .nullable = true, .max_len = STORE_PRINTER_NAME_MAX}
#define OBJ(n, sc) {.name = (n), .kind = JF_OBJECT, .sub = &(sc), .nullable = true}
#define RO(n, k) {.name = (n), .kind = (k), .readonly = true}
static const json_field_t PRINTER_FIELDS[] = {
    RO("id", JF_STRING),
    {.name = "displayName", .kind = JF_STRING, .max_len = STORE_PRINTER_NAME_MAX},
    NAME("manufacturer"),
    NAME("model"),
    BOOLF("isAcceptingJobs"),
    {.name = "status", .kind = JF_OBJECT, .sub = &GRAPH_PRINTER_STATUS_SCHEMA},
    OBJ("location", GRAPH_PRINTER_LOCATION_SCHEMA),
    OBJ("defaults", GRAPH_PRINTER_DEFAULTS_SCHEMA),
    OBJ("capabilities", GRAPH_PRINTER_CAPABILITIES_SCHEMA),
    {.name = "releaseMechanisms", .kind = JF_ARRAY, .elem = JF_OBJECT, .sub = &GRAPH_PRINT_RELEASE_MECHANISM_SCHEMA,
     .nullable = true},
    RO("hasPhysicalDevice", JF_BOOL),
    RO("isShared", JF_BOOL),
    RO("registeredDateTime", JF_DATETIME),
    RO("lastSeenDateTime", JF_DATETIME),
    RO("printerProvidedReleaseSupport", JF_OBJECT),
};
static const json_schema_t PRINTER = {"microsoft.graph.printer", PRINTER_FIELDS,
                                      COUNT(PRINTER_FIELDS)};

/* ---- semantic checks ------------------------------------------------------------------------- */

static bool fail_at(char *err, size_t errlen, const char *what, const char *name,
                    const char *rule) {
  snprintf(err, errlen, "Property '%s/%s' %s.", what, name, rule);
  return false;
}

static bool min_one(json_t *obj, const char *what, const char *name, char *err, size_t errlen) {
  json_t *v = json_object_get(obj, name);
  if (json_is_integer(v) && json_integer_value(v) < 1)
    return fail_at(err, errlen, what, name, "must be at least 1");
  return true;
}

/* Every integer of the array obj.name is at least min; else err says rule. */
static bool all_at_least(json_t *obj, const char *what, const char *name, json_int_t min,
                         const char *rule, char *err, size_t errlen) {
  json_t *arr = json_object_get(obj, name), *v;
  size_t i;
  if (!json_is_array(arr)) return true;
  json_array_foreach(arr, i, v) {
    if (json_is_integer(v) && json_integer_value(v) < min)
      return fail_at(err, errlen, what, name, rule);
  }
  return true;
}

static bool all_min_one(json_t *obj, const char *what, const char *name, char *err,
                        size_t errlen) {
  return all_at_least(obj, what, name, 1, "must hold values of at least 1", err, errlen);
}

static bool all_non_negative(json_t *obj, const char *what, const char *name, char *err,
                             size_t errlen) {
  return all_at_least(obj, what, name, 0, "must hold values of at least 0 (microns)", err,
                      errlen);
}

/* A MIME type "type/subtype" (parameters allowed after ';'). */
static bool is_mime(const char *s) {
  const char *slash = strchr(s, '/');
  if (!slash || slash == s || !slash[1] || slash[1] == ';') return false;
  for (const char *p = s; *p && *p != ';'; p++)
    if (*p == ' ' || *p == ',' || (*p == '/' && p != slash)) return false;
  return true;
}

/* Checks (and normalizes) a location, defaults or capabilities object (see printers.h). */
bool graph_printer_check_complex(json_t *obj, const char *what, char *err, size_t errlen) {
  if (!json_is_object(obj)) return true;
  if (strcmp(what, "location") == 0) {
    /* The documentation's examples spell subunit "subUnit"; accept that spelling. */
    json_t *alias = json_object_get(obj, "subUnit");
    if (alias) {
      if (json_object_get(obj, "subunit"))
        return fail_at(err, errlen, what, "subUnit", "duplicates 'subunit'; send only subunit");
      json_object_set(obj, "subunit", alias);
      json_object_del(obj, "subUnit");
    }
    return true;
  }
  if (strcmp(what, "defaults") == 0) {
    json_t *ct = json_object_get(obj, "contentType");
    if (json_is_string(ct) && !is_mime(json_string_value(ct)))
      return fail_at(err, errlen, what, "contentType",
                     "must be a MIME type such as application/pdf");
    return min_one(obj, what, "copiesPerJob", err, errlen) &&
           min_one(obj, what, "dpi", err, errlen) &&
           min_one(obj, what, "pagesPerSheet", err, errlen);
  }
  if (strcmp(what, "capabilities") == 0) {
    json_t *cts = json_object_get(obj, "contentTypes"), *v;
    size_t i;
    if (json_is_array(cts)) {
      json_array_foreach(cts, i, v) {
        if (json_is_string(v) && !is_mime(json_string_value(v)))
          return fail_at(err, errlen, what, "contentTypes",
                         "must hold MIME types such as application/pdf");
      }
    }
    json_t *r = json_object_get(obj, "copiesPerJob");
    if (json_is_object(r)) {
      json_t *s = json_object_get(r, "start"), *e = json_object_get(r, "end");
      if (json_is_integer(s) && json_integer_value(s) < 1)
        return fail_at(err, errlen, what, "copiesPerJob/start", "must be at least 1");
      if (json_is_integer(s) && json_is_integer(e) && json_integer_value(s) > json_integer_value(e))
        return fail_at(err, errlen, what, "copiesPerJob", "must have start <= end");
    }
    return all_min_one(obj, what, "dpis", err, errlen) &&
           all_min_one(obj, what, "pagesPerSheet", err, errlen) &&
           all_non_negative(obj, what, "bottomMargins", err, errlen) &&
           all_non_negative(obj, what, "topMargins", err, errlen) &&
           all_non_negative(obj, what, "leftMargins", err, errlen) &&
           all_non_negative(obj, what, "rightMargins", err, errlen) &&
           min_one(obj, what, "queueBufferSizeInBytes", err, errlen);
  }
  return true;
}

/* ---- JSON out -------------------------------------------------------------------------------- */

static json_t *emit_object(const json_t *stored, const json_schema_t *sc, bool evo,
                           bool empty_arrays);

/* A stored enum member as it goes on the wire (evolvable members hidden unless preferred). */
static json_t *emit_enum(const enum_def_t *e, const json_t *v, bool evo) {
  if (!json_is_string(v)) return json_null();
  int i = enum_lookup(e, json_string_value(v), true);
  return json_string(i < 0 ? json_string_value(v) : enum_emit(e, i, evo));
}

static json_t *emit_value(const json_t *v, const json_field_t *f, bool evo, bool empty_arrays) {
  if (!v || json_is_null(v))
    return f->kind == JF_ARRAY ? json_array() : json_null(); /* collections: [] never null */
  switch (f->kind) {
    case JF_ENUM: return emit_enum(f->enm, v, evo);
    case JF_OBJECT: return emit_object(v, f->sub, evo, empty_arrays);
    case JF_ARRAY: {
      json_t *a = json_array(), *el;
      size_t i;
      if (!json_is_array(v)) return a;
      json_array_foreach(v, i, el) {
        if (f->elem == JF_ENUM) json_array_append_new(a, emit_enum(f->enm, el, evo));
        else if (f->elem == JF_OBJECT)
          json_array_append_new(a, emit_object(el, f->sub, evo, false));
        else json_array_append(a, el);
      }
      return a;
    }
    default: return json_deep_copy(v);
  }
}

/* Every member of schema sc, from the stored object (which may be NULL). */
static json_t *emit_object(const json_t *stored, const json_schema_t *sc, bool evo,
                           bool empty_arrays) {
  json_t *o = json_object();
  for (size_t i = 0; i < sc->nfields; i++) {
    const json_field_t *f = &sc->fields[i];
    json_t *v = json_is_object(stored) ? json_object_get(stored, f->name) : NULL;
    json_object_set_new(o, f->name, emit_value(v, f, evo, empty_arrays));
  }
  return o;
}

/* A stored JSON column parsed (NULL when unset or unreadable; the caller decrefs). */
static json_t *parse_column(const char *text) {
  return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

static json_t *status_json(const http_request_t *req, const store_printer_t *p) {
  bool evo = graph_prefers_evolvable(req);
  json_t *st = json_object();
  json_object_set_new(st, "state",
                      json_string(enum_emit(&ENUM_PRINTER_PROCESSING_STATE, p->status_state, evo)));
  json_t *stored = parse_column(p->status_details), *details = json_array(), *v;
  size_t i;
  if (json_is_array(stored)) {
    json_array_foreach(stored, i, v) {
      json_array_append_new(details, emit_enum(&ENUM_PRINTER_PROCESSING_STATE_DETAIL, v, evo));
    }
  }
  json_decref(stored);
  json_object_set_new(st, "details", details);
  json_object_set_new(st, "description",
                      json_string(p->status_description ? p->status_description : ""));
  return st;
}

/* printerCapabilities of p; the caller owns the result. */
json_t *graph_printer_capabilities_json(const http_request_t *req, const store_printer_t *p) {
  json_t *stored = parse_column(p->capabilities);
  json_t *caps = emit_object(stored, &GRAPH_PRINTER_CAPABILITIES_SCHEMA,
                             graph_prefers_evolvable(req), true);
  json_decref(stored);
  /* isColorPrintingSupported follows colorModes: null while the device reported none. */
  json_t *modes = json_object_get(caps, "colorModes"), *m;
  size_t i;
  if (json_array_size(modes) > 0) {
    bool color = false;
    json_array_foreach(modes, i, m) {
      const char *s = json_string_value(m);
      if (s && (strcmp(s, "color") == 0 || strcmp(s, "auto") == 0)) color = true;
    }
    json_object_set_new(caps, "isColorPrintingSupported", json_boolean(color));
  }
  for (size_t k = 0; k < GRAPH_PRINTER_CAPABILITIES_SCHEMA.nfields; k++) {
    const json_field_t *f = &GRAPH_PRINTER_CAPABILITIES_SCHEMA.fields[k];
    if (!graph_model_in_api(f->api, req->version)) json_object_del(caps, f->name);
  }
  return caps;
}

/* The printerBase members of p (what a share mirrors); the caller owns the result. */
json_t *graph_printer_base_json(const http_request_t *req, const store_printer_t *p,
                                bool with_capabilities) {
  bool evo = graph_prefers_evolvable(req);
  json_t *o = json_object();
  json_object_set_new(o, "displayName", json_string(p->display_name ? p->display_name : ""));
  json_object_set_new(o, "manufacturer",
                      p->manufacturer ? json_string(p->manufacturer) : json_null());
  json_object_set_new(o, "model", p->model ? json_string(p->model) : json_null());
  json_object_set_new(o, "isAcceptingJobs",
                      p->is_accepting_jobs < 0 ? json_null() : json_boolean(p->is_accepting_jobs));
  json_object_set_new(o, "status", status_json(req, p));
  json_t *loc = parse_column(p->location);
  json_object_set_new(o, "location", emit_object(loc, &GRAPH_PRINTER_LOCATION_SCHEMA, evo, false));
  json_decref(loc);
  json_t *def = parse_column(p->defaults);
  json_object_set_new(o, "defaults", emit_object(def, &GRAPH_PRINTER_DEFAULTS_SCHEMA, evo, false));
  json_decref(def);
  if (with_capabilities)
    json_object_set_new(o, "capabilities", graph_printer_capabilities_json(req, p));
  return o;
}

static json_t *time_json(int64_t us) {
  char t[TIME_ISO_LEN];
  time_format_iso(us, t);
  return json_string(t);
}


/* The release mechanisms column as a JSON array (v1.0). */
static json_t *release_json(const store_printer_t *p, bool evo) {
  json_t *stored = parse_column(p->release_mechanisms), *out = json_array(), *el;
  size_t i;
  if (json_is_array(stored)) {
    json_array_foreach(stored, i, el) {
      json_array_append_new(out, emit_object(el, &GRAPH_PRINT_RELEASE_MECHANISM_SCHEMA, evo, false));
    }
  }
  json_decref(stored);
  return out;
}

/* The printer entity of p without @odata.context; the caller owns the result. */
json_t *graph_printer_json(const http_request_t *req, const store_printer_t *p,
                           bool with_capabilities, bool with_defaults) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(p->id));
  json_t *base = graph_printer_base_json(req, p, with_capabilities);
  if (!with_defaults) json_object_del(base, "defaults");
  json_object_update(o, base);
  json_decref(base);
  json_object_set_new(o, "hasPhysicalDevice", json_boolean(p->has_physical_device));
  json_object_set_new(o, "isShared", json_boolean(store_printer_is_shared(p)));
  json_object_set_new(o, "registeredDateTime", time_json(p->registered_us));
  json_object_set_new(o, "lastSeenDateTime",
                      p->last_seen_us ? time_json(p->last_seen_us) : json_null());
  if (req->version != API_BETA) {
    json_object_set_new(o, "releaseMechanisms", release_json(p, graph_prefers_evolvable(req)));
    /* No device reports printer-provided release support to us (yet). */
    json_object_set_new(o, "printerProvidedReleaseSupport", json_null());
  }
  return o;
}

/* The printer's share as an expanded navigation property (printerBase members mirrored from
 * the printer, without defaults and capabilities, as share lists do). */
static json_t *share_json(const http_request_t *req, const store_printer_t *p) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(p->share_id));
  json_object_set_new(o, "displayName",
                      json_string(p->share_display_name ? p->share_display_name : ""));
  json_t *base = graph_printer_base_json(req, p, false);
  json_object_del(base, "displayName");
  json_object_del(base, "defaults");
  json_object_update(o, base);
  json_decref(base);
  json_object_set_new(o, "allowAllUsers", json_boolean(p->share_allow_all_users));
  json_object_set_new(o, "createdDateTime", time_json(p->share_created_us));
  return o;
}

/* ---- query options --------------------------------------------------------------------------- */

#define SELECT_COMMON                                                                      \
  "id", "displayName", "manufacturer", "model", "isAcceptingJobs", "status", "location",   \
      "defaults", "capabilities", "hasPhysicalDevice", "isShared", "registeredDateTime",   \
      "lastSeenDateTime", "shares"
static const char *const SELECT_V1[] = {SELECT_COMMON, "releaseMechanisms",
                                        "printerProvidedReleaseSupport", NULL};
static const char *const SELECT_BETA[] = {SELECT_COMMON, NULL};
static const char *const EXPAND[] = {"shares", NULL};
/* A list never returns capabilities and defaults (only GET /print/printers/{id} does). */
static const char *const NOT_LISTED[] = {"capabilities", "defaults", NULL};

static const odata_spec_t LIST_QUERY = {
    .mask = QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_TOP | QUERY_OPT_SKIP |
            QUERY_OPT_SKIPTOKEN | QUERY_OPT_ORDERBY | QUERY_OPT_FORMAT,
    .select = SELECT_V1, .select_beta = SELECT_BETA, .expand = EXPAND,
    .not_listed = NOT_LISTED, .one = "/print/printers/{id}"};
static const odata_spec_t GET_QUERY = {
    .mask = QUERY_OPT_SELECT | QUERY_OPT_EXPAND | QUERY_OPT_FORMAT,
    .select = SELECT_V1, .select_beta = SELECT_BETA, .expand = EXPAND};
static const odata_spec_t FORMAT_QUERY = {.mask = QUERY_OPT_FORMAT};

/* A printer as a collection member or entity, with $select and $expand=shares applied. */
static json_t *printer_entity(const http_request_t *req, const store_printer_t *p,
                              const query_t *q, bool list) {
  bool caps = !list && odata_select_names(q, "capabilities");
  json_t *o = graph_printer_json(req, p, caps, !list);
  if (odata_expanded(q, "shares")) {
    json_t *shares = json_array();
    if (store_printer_is_shared(p)) json_array_append_new(shares, share_json(req, p));
    json_object_set_new(o, "shares", shares);
  }
  odata_apply_select(o, q);
  return o;
}

/* ---- handlers -------------------------------------------------------------------------------- */

/* See printers.h. */
bool graph_printer_failure(http_request_t *req, http_response_t *res, int rc, const char *id) {
  return graph_reply_item_failure(req, res, rc, "Printer '%.128s' was not found.", id);
}

/* Loads printer id of the caller's tenant; false after replying 404 or 500. */
static bool load_printer(http_request_t *req, http_response_t *res, const caller_t *c,
                         const char *id, store_printer_t *out) {
  store_rc_t rc = store_printer_get(APP(req)->store, c->tenant, id, out);
  return !graph_printer_failure(req, res, rc, id);
}

/* See printers.h. */
bool graph_printer_exists(http_request_t *req, http_response_t *res, const char *tenant,
                          const char *id) {
  return !graph_printer_failure(req, res, store_printer_exists(APP(req)->store, tenant, id), id);
}

/* Replies 200 with printer p as an entity (q: its $select and $expand). */
static void reply_printer(http_request_t *req, http_response_t *res, const store_printer_t *p,
                          const query_t *q) {
  graph_reply_json(req, res, 200,
                   graph_with_context(graph_context(req, "print/printers/$entity"),
                                      printer_entity(req, p, q, false)));
}

/* GET /print/printers */
static void printers_list(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c = graph_authorize_query(req, res, OP_PRINTERS_LIST, NULL, &LIST_QUERY, &q);
  if (!c) return;
  store_printer_page_t page;
  char err[512] = "";
  store_rc_t rc = store_printer_list(APP(req)->store, c->tenant, &q, &page, err, sizeof err);
  if (!graph_reply_list_failure(req, res, rc, err, NULL)) {
    json_t *value = json_array();
    for (size_t i = 0; i < page.n; i++)
      json_array_append_new(value, printer_entity(req, &page.items[i], &q, true));
    graph_reply_collection(req, res, graph_context(req, "print/printers"), value, page.next);
  }
  store_printer_page_clear(&page);
  query_clear(&q);
}

/* GET /print/printers/{id} */
static void printer_get(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c = graph_authorize_query(req, res, OP_PRINTER_GET, NULL, &GET_QUERY, &q);
  if (!c) return;
  store_printer_t p;
  if (load_printer(req, res, c, req->params[0], &p)) {
    reply_printer(req, res, &p, &q);
    store_printer_clear(&p);
  }
  query_clear(&q);
}

/* Who may set a printer property with PATCH. */
typedef enum { PR_BOTH, PR_DELEGATED, PR_APP, PR_READONLY, PR_NAVIGATION } patch_rule_t;

static const struct {
  const char  *name;
  patch_rule_t rule;
} PATCH_RULES[] = {
    {"displayName", PR_BOTH},         {"defaults", PR_BOTH},
    {"location", PR_DELEGATED},       {"releaseMechanisms", PR_DELEGATED},
    {"capabilities", PR_APP},         {"manufacturer", PR_APP},
    {"model", PR_APP},                {"status", PR_APP},
    {"isAcceptingJobs", PR_APP},      {"id", PR_READONLY},
    {"hasPhysicalDevice", PR_READONLY}, {"isShared", PR_READONLY},
    {"registeredDateTime", PR_READONLY}, {"lastSeenDateTime", PR_READONLY},
    {"printerProvidedReleaseSupport", PR_READONLY}, {"jobs", PR_NAVIGATION},
    {"shares", PR_NAVIGATION},        {"connectors", PR_NAVIGATION},
    {"taskTriggers", PR_NAVIGATION},  {"pullPrintPrinters", PR_NAVIGATION},
};

/* Checks that the caller's kind may set every property of body; false after replying 400. */
static bool check_patch_rules(http_request_t *req, http_response_t *res, const caller_t *c,
                              json_t *body) {
  bool app = c->kind == CALLER_APP;
  const char *key;
  json_t *v;
  json_object_foreach(body, key, v) {
    if (strchr(key, '@')) continue;
    for (size_t i = 0; i < COUNT(PATCH_RULES); i++) {
      if (strcmp(PATCH_RULES[i].name, key) != 0) continue;
      switch (PATCH_RULES[i].rule) {
        case PR_BOTH: break;
        case PR_DELEGATED:
          if (app) {
            graph_reply_error(req, res, 400, "invalidRequest", "propertyNotUpdateable",
                              "Property '%s' cannot be updated with an application token; "
                              "applications may update defaults, capabilities, displayName, "
                              "manufacturer, model, status and isAcceptingJobs.", key);
            return false;
          }
          break;
        case PR_APP:
          if (!app) {
            graph_reply_error(req, res, 400, "invalidRequest", "propertyNotUpdateable",
                              "Property '%s' can be updated only by the application that "
                              "registered the printer, with an application token; delegated "
                              "callers may update displayName, location, defaults and "
                              "releaseMechanisms.", key);
            return false;
          }
          break;
        case PR_READONLY:
          graph_reply_error(req, res, 400, "invalidRequest", "propertyNotUpdateable",
                            "Property '%s' is read-only and cannot be updated.", key);
          return false;
        case PR_NAVIGATION:
          graph_reply_error(req, res, 400, "invalidRequest", "propertyNotUpdateable",
                            "Property '%s' is a navigation property and cannot be updated with "
                            "PATCH on the printer.", key);
          return false;
      }
    }
  }
  return true;
}

/* JSON text of v for a merge patch ("null" for null); caller frees. NULL when v is absent. */
static char *dump_or_null(json_t *v) {
  return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* Validates a PATCH body; false after replying 400. */
static bool check_patch_body(http_request_t *req, http_response_t *res, json_t *body) {
  char err[768];
  static const char *const complex[] = {"location", "defaults", "capabilities"};
  for (size_t i = 0; i < COUNT(complex); i++) {
    if (!graph_printer_check_complex(json_object_get(body, complex[i]), complex[i], err,
                                     sizeof err)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err);
      return false;
    }
  }
  if (!graph_json_check(req, res, body, &PRINTER)) return false;
  json_t *name = json_object_get(body, "displayName");
  if (name) {
    const char *s = json_string_value(name);
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property 'displayName' cannot be empty.");
      return false;
    }
  }
  return true;
}

/* The application rule of P5: only the registering app, only virtual printers. */
static bool check_registrar(http_request_t *req, http_response_t *res, const caller_t *c,
                            const perm_decision_t *d, const store_printer_t *p) {
  if (c->kind != CALLER_APP || !(d->flags & PERM_APP_REGISTRAR)) return true;
  if (!p->registered_by_app || !c->app_id || strcasecmp(p->registered_by_app, c->app_id) != 0) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "Only the application that registered printer '%s' may update it with an "
                      "application token; application '%s' did not register it.",
                      p->id, c->app_id ? c->app_id : "(none)");
    return false;
  }
  if (p->has_physical_device) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "Applications may update only printers without a physical device "
                      "(hasPhysicalDevice false); printer '%s' has one, so it reports its own "
                      "state.", p->id);
    return false;
  }
  return true;
}

/* PATCH /print/printers/{id} with application/ipp (applications only): the printer-attributes
 * group is mapped as Update-Output-Device-Attributes maps a device's (mapping/mapping.h); 204. */
static void printer_update_ipp(http_request_t *req, http_response_t *res, const caller_t *c,
                               const perm_decision_t *d) {
  if (c->kind != CALLER_APP) {
    graph_reply_error(req, res, 415, "invalidRequest", NULL,
                      "Content-Type 'application/ipp' is accepted only from the application that "
                      "registered the printer, with an application token; delegated callers must "
                      "send application/json.");
    return;
  }
  char err[512];
  store_ipp_printer_patch_t ip;
  memset(&ip, 0, sizeof ip);
  store_ipp_printer_patch_clear(&ip);
  store_printer_t p = {0};
  if (!ipp_map_printer_group(req->body, req->body_len, &ip, err, sizeof err)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err);
    goto done;
  }
  if (!load_printer(req, res, c, req->params[0], &p) || !check_registrar(req, res, c, d, &p))
    goto done;

  store_printer_patch_t x = {0};
  json_t *status = json_object();
  if (ip.status_state >= 0)
    json_object_set_new(status, "state",
                        json_string(ENUM_PRINTER_PROCESSING_STATE.members[ip.status_state]));
  if (ip.status_details) json_object_set_new(status, "details", json_loads(ip.status_details, 0, NULL));
  if (ip.status_description)
    json_object_set_new(status, "description", json_string(ip.status_description));
  char *status_text = json_object_size(status) ? json_dumps(status, JSON_COMPACT) : NULL;
  json_decref(status);
  x.status_merge = status_text;
  if (ip.accepting >= 0) {
    x.set_is_accepting_jobs = true;
    x.is_accepting_jobs = ip.accepting;
  }
  x.capabilities_merge = ip.capabilities_merge;
  x.defaults_merge = ip.defaults_merge;
  x.defaults_are_factory = true; /* as for the registering application's JSON PATCH */

  store_rc_t rc = store_printer_update(APP(req)->store, c->tenant, p.id, &x, NULL);
  free(status_text);
  if (!graph_printer_failure(req, res, rc, req->params[0])) graph_reply_no_content(res);
done:
  store_printer_clear(&p);
  store_ipp_printer_patch_clear(&ip);
}

/* PATCH /print/printers/{id}: application/json (200 with the printer) or, from the registering
 * application, application/ipp (204; printer_update_ipp). */
static void printer_update(http_request_t *req, http_response_t *res) {
  perm_decision_t d;
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_UPDATE, &d);
  if (!c) return;
  char media[128];
  http_request_media_type(req, media, sizeof media);
  if (!strcmp(media, "application/ipp")) {
    printer_update_ipp(req, res, c, &d);
    return;
  }
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  store_printer_t p = {0}, out = {0};
  if (!check_patch_rules(req, res, c, body) || !check_patch_body(req, res, body) ||
      !load_printer(req, res, c, req->params[0], &p) || !check_registrar(req, res, c, &d, &p))
    goto done;

  store_printer_patch_t x = {0};
  json_t *v;
  if ((v = json_object_get(body, "displayName"))) x.display_name = json_string_value(v);
  if ((v = json_object_get(body, "manufacturer"))) {
    x.set_manufacturer = true;
    x.manufacturer = json_string_value(v);
  }
  if ((v = json_object_get(body, "model"))) {
    x.set_model = true;
    x.model = json_string_value(v);
  }
  if ((v = json_object_get(body, "isAcceptingJobs"))) {
    x.set_is_accepting_jobs = true;
    x.is_accepting_jobs = json_is_null(v) ? -1 : json_is_true(v);
  }
  char *status = dump_or_null(json_object_get(body, "status"));
  char *location = dump_or_null(json_object_get(body, "location"));
  char *defaults = dump_or_null(json_object_get(body, "defaults"));
  char *caps = dump_or_null(json_object_get(body, "capabilities"));
  char *release = NULL;
  if ((v = json_object_get(body, "releaseMechanisms"))) {
    x.set_release_mechanisms = true;
    release = json_is_null(v) ? NULL : json_dumps(v, JSON_COMPACT);
    x.release_mechanisms = release;
  }
  x.status_merge = status;
  x.location_merge = location;
  x.defaults_merge = defaults;
  x.defaults_are_factory = c->kind == CALLER_APP;
  x.capabilities_merge = caps;

  store_rc_t rc = store_printer_update(APP(req)->store, c->tenant, p.id, &x, &out);
  if (!graph_printer_failure(req, res, rc, req->params[0])) {
    query_t q;
    query_init(&q);
    reply_printer(req, res, &out, &q);
    query_clear(&q);
  }
  free(status);
  free(location);
  free(defaults);
  free(caps);
  free(release);
done:
  store_printer_clear(&out);
  store_printer_clear(&p);
  json_decref(body);
}

/* Replies to a store result of an action on printer params[0]: 204, 404 or 500. */
static void reply_action(http_request_t *req, http_response_t *res, store_rc_t rc) {
  if (!graph_printer_failure(req, res, rc, req->params[0])) graph_reply_no_content(res);
}

/* DELETE /print/printers/{id}: 204; its jobs, share and task trigger go with it. */
static void printer_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_DELETE, NULL);
  if (!c) return;
  reply_action(req, res, store_printer_delete(APP(req)->store, c->tenant, req->params[0]));
}

/* POST /print/printers/{id}/restoreFactoryDefaults: 204. */
static void printer_restore_defaults(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_RESTORE_DEFAULTS, NULL);
  if (!c) return;
  reply_action(req, res,
               store_printer_restore_defaults(APP(req)->store, c->tenant, req->params[0]));
}

/* GET /print/printers/{id}/getCapabilities: 200 with printerCapabilities. */
static void printer_get_capabilities(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c =
      graph_authorize_query(req, res, OP_PRINTER_GET_CAPABILITIES, NULL, &FORMAT_QUERY, &q);
  query_clear(&q); /* $format only: nothing the reply uses */
  if (!c) return;
  store_printer_t p;
  if (!load_printer(req, res, c, req->params[0], &p)) return;
  graph_reply_json(req, res, 200,
                   graph_with_context(graph_context(req, "microsoft.graph.printerCapabilities"),
                                      graph_printer_capabilities_json(req, &p)));
  store_printer_clear(&p);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/print/printers", printers_list, ROUTE_GRAPH, "printers.list"),
    ROUTE("GET", "/print/printers/{id}", printer_get, ROUTE_GRAPH, "printers.get"),
    ROUTE("PATCH", "/print/printers/{id}", printer_update, ROUTE_GRAPH | ROUTE_ANY_BODY,
          "printers.update"),
    ROUTE("DELETE", "/print/printers/{id}", printer_delete, ROUTE_GRAPH, "printers.delete"),
    ROUTE("POST", "/print/printers/{id}/restoreFactoryDefaults", printer_restore_defaults,
          ROUTE_GRAPH, "printers.restoreFactoryDefaults"),
    ROUTE("GET", "/print/printers/{id}/getCapabilities", printer_get_capabilities, ROUTE_GRAPH,
          "printers.getCapabilities"),
};

/* Registers the printer routes. */
void graph_printers_routes(void) { router_add(ROUTES, COUNT(ROUTES)); }
