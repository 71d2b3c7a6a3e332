/* SPDX-License-Identifier: Apache-2.0 */
/* Strict request-body parsing and schema validation. */
#include "graph/json.h"
#include "graph/reply.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int graph_json_depth(const char *text, size_t len) {
  int depth = 0, max = 0;
  bool in_str = false, esc = false;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') {
      if (++depth > max) max = depth;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return max;
}

bool graph_prefers_evolvable(const http_request_t *req) {
  const char *p = http_request_header(req, "Prefer");
  return p && strcasestr(p, "include-unknown-enum-members") != NULL;
}

json_t *graph_json_body(http_request_t *req, http_response_t *res, bool allow_empty) {
  if (req->body_len == 0) {
    if (allow_empty) return json_object();
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "A request body is required: send a JSON object.");
    return NULL;
  }
  char media[128];
  http_request_media_type(req, media, sizeof media);
  if (media[0] && strcmp(media, "application/json") != 0) {
    graph_reply_error(req, res, 415, "invalidRequest", NULL,
                      "Content-Type '%s' is not supported here: send application/json.", media);
    return NULL;
  }
  if (graph_json_depth(req->body, req->body_len) > GRAPH_JSON_MAX_DEPTH) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Malformed JSON: nesting is deeper than %d levels.", GRAPH_JSON_MAX_DEPTH);
    return NULL;
  }
  json_error_t e;
  json_t *root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
  if (!root) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Malformed JSON at line %d, column %d: %s.", e.line, e.column, e.text);
    return NULL;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "The request body must be a JSON object.");
    return NULL;
  }
  return root;
}

static const char *kind_name(json_kind_t k, const enum_def_t *enm) {
  switch (k) {
    case JF_STRING: return "a string";
    case JF_BOOL: return "a Boolean (true or false)";
    case JF_INT32: return "a 32-bit integer";
    case JF_INT64: return "an integer";
    case JF_DOUBLE: return "a number";
    case JF_DATETIME: return "an ISO 8601 date-time string";
    case JF_DATE: return "a date string (YYYY-MM-DD)";
    case JF_ENUM: return enm ? enm->name : "an enumeration member";
    case JF_OBJECT: return "an object";
    case JF_ARRAY: return "an array";
  }
  return "a value";
}

static bool check_object(const json_t *obj, const json_schema_t *schema, const char *prefix,
                         bool accept_evolvable, char *err, size_t errlen);

/* Length of a (valid UTF-8) string value in UTF-16 code units, the "characters" Graph counts:
 * one per code point, two for those outside the Basic Multilingual Plane. */
static size_t utf16_length(const json_t *v) {
  const unsigned char *s = (const unsigned char *)json_string_value(v);
  size_t len = json_string_length(v), n = 0;
  for (size_t i = 0; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) n++;  /* a lead byte starts a code point */
    if (s[i] >= 0xF0) n++;           /* a 4-byte sequence is a surrogate pair in UTF-16 */
  }
  return n;
}

/* Checks one non-null, non-array value of the given kind. */
static bool check_scalar(const json_t *v, json_kind_t kind, const json_field_t *f,
                         bool accept_evolvable, const char *path, char *err, size_t errlen) {
  switch (kind) {
    case JF_STRING:
      if (!json_is_string(v)) break;
      if (f->max_len && utf16_length(v) > f->max_len) {
        snprintf(err, errlen, "Property '%s' is too long: at most %zu characters are allowed.",
                 path, f->max_len);
        return false;
      }
      return true;
    case JF_BOOL:
      if (json_is_boolean(v)) return true;
      break;
    case JF_INT32:
      if (json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
          json_integer_value(v) <= INT32_MAX)
        return true;
      break;
    case JF_INT64:
      if (json_is_integer(v)) return true;
      break;
    case JF_DOUBLE:
      if (json_is_number(v)) return true;
      break;
    case JF_DATETIME: {
      int64_t us;
      if (json_is_string(v) && time_parse_iso(json_string_value(v), &us)) return true;
      break;
    }
    case JF_DATE: {
      const char *d = json_is_string(v) ? json_string_value(v) : NULL;
      char tmp[32];
      int64_t us;
      if (d && strlen(d) == 10 && d[4] == '-' && d[7] == '-' &&
          snprintf(tmp, sizeof tmp, "%sT00:00:00Z", d) > 0 && time_parse_iso(tmp, &us))
        return true;
      break;
    }
    case JF_ENUM: {
      if (!json_is_string(v)) break;
      const char *s = json_string_value(v);
      if (strcmp(s, "unknownFutureValue") != 0 && enum_lookup(f->enm, s, accept_evolvable) >= 0)
        return true;
      char members[1024];
      enum_describe(f->enm, members, sizeof members);
      snprintf(err, errlen, "Property '%s' has the value '%s', which is not a member of %s (%s).",
               path, s, f->enm->name, members);
      return false;
    }
    case JF_OBJECT:
      if (!json_is_object(v)) break;
      return check_object(v, f->sub, path, accept_evolvable, err, errlen);
    case JF_ARRAY:
      break; /* arrays of arrays do not occur in the Graph print model */
  }
  snprintf(err, errlen, "Property '%s' must be %s.", path, kind_name(kind, f->enm));
  return false;
}

/* Checks one property value against its field: read-only, null, array or scalar. */
static bool check_value(const json_t *v, const json_field_t *f, const char *path,
                        bool accept_evolvable, char *err, size_t errlen) {
  if (f->readonly) {
    snprintf(err, errlen, "Property '%s' is read-only and cannot be set.", path);
    return false;
  }
  if (json_is_null(v)) {
    if (f->nullable) return true;
    snprintf(err, errlen, "Property '%s' cannot be null.", path);
    return false;
  }
  if (f->kind != JF_ARRAY) return check_scalar(v, f->kind, f, accept_evolvable, path, err, errlen);
  if (!json_is_array(v)) {
    snprintf(err, errlen, "Property '%s' must be an array.", path);
    return false;
  }
  size_t idx;
  json_t *el;
  json_array_foreach(v, idx, el) {
    char elpath[600];
    snprintf(elpath, sizeof elpath, "%s[%zu]", path, idx);
    if (!check_scalar(el, f->elem, f, accept_evolvable, elpath, err, errlen)) return false;
  }
  return true;
}

/* Checks every member of obj; annotations (names with '@') are left to the handlers. */
static bool check_object(const json_t *obj, const json_schema_t *schema, const char *prefix,
                         bool accept_evolvable, char *err, size_t errlen) {
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)obj, key, val) {
    if (strchr(key, '@')) continue;
    char path[512];
    if (prefix && prefix[0]) snprintf(path, sizeof path, "%s/%s", prefix, key);
    else snprintf(path, sizeof path, "%s", key);
    const json_field_t *f = NULL;
    for (size_t i = 0; i < schema->nfields && !f; i++)
      if (strcmp(schema->fields[i].name, key) == 0) f = &schema->fields[i];
    if (!f) {
      snprintf(err, errlen, "Property '%s' does not exist on type '%s'.", path, schema->type_name);
      return false;
    }
    if (!check_value(val, f, path, accept_evolvable, err, errlen)) return false;
  }
  return true;
}

bool graph_json_validate(const json_t *obj, const json_schema_t *schema, bool accept_evolvable,
                         char *err, size_t errlen) {
  return check_object(obj, schema, "", accept_evolvable, err, errlen);
}

bool graph_json_check(http_request_t *req, http_response_t *res, const json_t *obj,
                      const json_schema_t *schema) {
  char err[1024];
  if (graph_json_validate(obj, schema, graph_prefers_evolvable(req), err, sizeof err)) return true;
  graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err);
  return false;
}

bool graph_json_check_params(http_request_t *req, http_response_t *res, json_t *obj,
                             const json_schema_t *schema) {
  if (!graph_json_check(req, res, obj, schema)) return false;
  const char *key;
  json_t *val;
  void *tmp;
  json_object_foreach_safe(obj, tmp, key, val) {
    if (json_is_null(val) && !strchr(key, '@')) json_object_del(obj, key);
  }
  return true;
}
