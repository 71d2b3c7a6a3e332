/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job ticket of a job printed through the share endpoint: IPP job template attributes ->
 * a Graph printJobConfiguration, checked against the printer's Graph capabilities.
 *
 * The keyword and enum conversions invert ipp_map_job_ticket() (mapping.c) by trying each
 * member of the Graph enumeration and keeping the one that maps to the value received, so the
 * mapping tables stay the only place that says which IPP value a Graph member is.
 */
#include "core/enums.h"
#include "ipp/ipp-private.h"
#include "mapping/mapping.h"
#include "ipp/share-ipp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The Graph member of e whose ticket value for ipp_name equals value i of a (keyword or
 * enum), trying {"member_key": m} (or {"member_key": [m]} when as_array); NULL when none. */
static const char *invert(const enum_def_t *e, const char *member_key, bool as_array,
                          const char *ipp_name, ipp_attribute_t *a, int i) {
  for (size_t k = 0; k < e->count; k++) {
    const char *m = e->members[k];
    if (!strcmp(m, "unknownFutureValue")) continue;
    json_t *cfg = json_object();
    json_object_set_new(cfg, member_key, as_array ? json_pack("[s]", m) : json_string(m));
    char *text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    ipp_t *t = ippNew();
    ipp_map_job_ticket(t, IPP_TAG_JOB, text);
    free(text);
    ipp_attribute_t *v = ippFindAttribute(t, ipp_name, IPP_TAG_ZERO);
    bool same = false;
    if (v) {
      ipp_tag_t tag = ippGetValueTag(a);
      if (tag == IPP_TAG_ENUM || tag == IPP_TAG_INTEGER)
        same = ippGetInteger(v, 0) == ippGetInteger(a, i);
      else if (ippGetString(v, 0, NULL) && ippGetString(a, i, NULL))
        same = !strcmp(ippGetString(v, 0, NULL), ippGetString(a, i, NULL));
    }
    ippDelete(t);
    if (same) return m;
  }
  return NULL;
}

/* True when caps has no list member (no constraint) or the list holds v. */
static bool caps_allow_str(json_t *caps, const char *member, const char *v) {
  json_t *arr = json_object_get(caps, member);
  if (!json_is_array(arr) || !json_array_size(arr)) return true;
  size_t i;
  json_t *x;
  json_array_foreach(arr, i, x) if (json_is_string(x) && !strcmp(json_string_value(x), v)) return true;
  return false;
}

static bool caps_allow_int(json_t *caps, const char *member, json_int_t v) {
  json_t *arr = json_object_get(caps, member);
  if (!json_is_array(arr) || !json_array_size(arr)) return true;
  size_t i;
  json_t *x;
  json_array_foreach(arr, i, x) if (json_is_integer(x) && json_integer_value(x) == v) return true;
  return false;
}

/* A job template attribute of the request (job group), or NULL. */
static ipp_attribute_t *job_attr(ipp_t *rq, const char *name) {
  ipp_attribute_t *a = ippFindAttribute(rq, name, IPP_TAG_ZERO);
  return a && ippGetGroupTag(a) == IPP_TAG_JOB ? a : NULL;
}

/* One keyword/enum attribute: sets cfg[member_key] (or appends to it when as_array). */
static bool one_enum(ipp_client_t *c, json_t *cfg, json_t *caps, const char *ipp_name,
                     const enum_def_t *e, const char *member_key, const char *caps_member,
                     bool as_array) {
  ipp_attribute_t *a = job_attr(c->request, ipp_name);
  if (!a) return true;
  ipp_tag_t tag = ippGetValueTag(a);
  bool ok = (tag == IPP_TAG_KEYWORD || tag == IPP_TAG_ENUM || tag == IPP_TAG_NAME) &&
            (as_array || ippGetCount(a) == 1);
  json_t *vals = as_array ? json_array() : NULL;
  for (int i = 0; ok && i < ippGetCount(a); i++) {
    const char *m = invert(e, member_key, as_array, ipp_name, a, i);
    if (!m || !caps_allow_str(caps, caps_member, m)) ok = false;
    else if (as_array) json_array_append_new(vals, json_string(m));
    else json_object_set_new(cfg, member_key, json_string(m));
  }
  if (ok && as_array) json_object_set(cfg, member_key, vals);
  json_decref(vals);
  if (!ok) ipp_respond_unsupported(c, a);
  return ok;
}

/* A string attribute kept as is (output-bin, media-source, media-type). */
static bool one_string(ipp_client_t *c, json_t *cfg, json_t *caps, ipp_attribute_t *a,
                       const char *member_key, const char *caps_member) {
  if (!a) return true;
  const char *v = ippGetString(a, 0, NULL);
  if (ippGetCount(a) != 1 || !v || strlen(v) > 255 || !caps_allow_str(caps, caps_member, v)) {
    ipp_respond_unsupported(c, a);
    return false;
  }
  json_object_set_new(cfg, member_key, json_string(v));
  return true;
}

/* A media name: sets mediaSize. */
static bool one_media(ipp_client_t *c, json_t *cfg, json_t *caps, ipp_attribute_t *a,
                      const char *pwg) {
  const char *g = pwg ? ipp_map_media_to_graph(pwg) : NULL;
  if (!g || !caps_allow_str(caps, "mediaSizes", g)) {
    ipp_respond_unsupported(c, a);
    return false;
  }
  json_object_set_new(cfg, "mediaSize", json_string(g));
  return true;
}

/* The ticket of the request; see share-ipp.h. */
bool ipp_share_ticket(ipp_client_t *c, const char *capabilities, json_t **config) {
  *config = json_object();
  json_t *cfg = *config;
  json_t *caps = capabilities ? json_loads(capabilities, 0, NULL) : NULL;
  if (!json_is_object(caps)) {
    json_decref(caps);
    caps = json_object();
  }
  bool ok = true;
  ipp_attribute_t *a;

  if ((a = job_attr(c->request, "copies"))) {
    int n = ippGetValueTag(a) == IPP_TAG_INTEGER && ippGetCount(a) == 1 ? ippGetInteger(a, 0) : 0;
    json_t *range = json_object_get(caps, "copiesPerJob");
    json_int_t lo = 1, hi = 999;
    if (json_is_object(range)) {
      if (json_is_integer(json_object_get(range, "start")))
        lo = json_integer_value(json_object_get(range, "start"));
      if (json_is_integer(json_object_get(range, "end")))
        hi = json_integer_value(json_object_get(range, "end"));
    }
    if (n < 1 || n < lo || n > hi) {
      ipp_respond_unsupported(c, a);
      ok = false;
    } else {
      json_object_set_new(cfg, "copies", json_integer(n));
    }
  }
  ok = one_enum(c, cfg, caps, "sides", &ENUM_PRINT_DUPLEX_MODE, "duplexMode", "duplexModes",
                false) && ok;
  ok = one_enum(c, cfg, caps, "print-color-mode", &ENUM_PRINT_COLOR_MODE, "colorMode",
                "colorModes", false) && ok;
  ok = one_enum(c, cfg, caps, "orientation-requested", &ENUM_PRINT_ORIENTATION, "orientation",
                "orientations", false) && ok;
  ok = one_enum(c, cfg, caps, "print-quality", &ENUM_PRINT_QUALITY, "quality", "qualities",
                false) && ok;
  ok = one_enum(c, cfg, caps, "print-scaling", &ENUM_PRINT_SCALING, "scaling", "scalings",
                false) && ok;
  if ((a = job_attr(c->request, "finishings"))) {
    /* finishings none (3) alone asks for nothing */
    if (!(ippGetValueTag(a) == IPP_TAG_ENUM && ippGetCount(a) == 1 && ippGetInteger(a, 0) == 3))
      ok = one_enum(c, cfg, caps, "finishings", &ENUM_PRINT_FINISHING, "finishings",
                    "finishings", true) && ok;
  }
  if ((a = job_attr(c->request, "media"))) {
    ok = (ippGetCount(a) == 1 && one_media(c, cfg, caps, a, ippGetString(a, 0, NULL))) && ok;
  }
  if ((a = job_attr(c->request, "media-col")) && ippGetValueTag(a) == IPP_TAG_BEGIN_COLLECTION) {
    ipp_t *col = ippGetCollection(a, 0);
    ipp_attribute_t *m = ippFindAttribute(col, "media-size-name", IPP_TAG_ZERO);
    if (m && ippGetString(m, 0, NULL) && ipp_map_media_to_graph(ippGetString(m, 0, NULL)))
      ok = one_media(c, cfg, caps, a, ippGetString(m, 0, NULL)) && ok;
    ipp_attribute_t *src = ippFindAttribute(col, "media-source", IPP_TAG_ZERO);
    if (src) ok = one_string(c, cfg, caps, src, "inputBin", "inputBins") && ok;
    ipp_attribute_t *type = ippFindAttribute(col, "media-type", IPP_TAG_ZERO);
    if (type) ok = one_string(c, cfg, caps, type, "mediaType", "mediaTypes") && ok;
  }
  if ((a = job_attr(c->request, "output-bin")))
    ok = one_string(c, cfg, caps, a, "outputBin", "outputBins") && ok;
  if ((a = job_attr(c->request, "printer-resolution"))) {
    ipp_res_t units;
    int y, x = ippGetValueTag(a) == IPP_TAG_RESOLUTION ? ippGetResolution(a, 0, &y, &units) : 0;
    int dpi = x > 0 && units == IPP_RES_PER_CM ? (int)(x * 2.54 + 0.5) : x;
    if (dpi <= 0 || ippGetCount(a) != 1 || !caps_allow_int(caps, "dpis", dpi)) {
      ipp_respond_unsupported(c, a);
      ok = false;
    } else {
      json_object_set_new(cfg, "dpi", json_integer(dpi));
    }
  }
  if ((a = job_attr(c->request, "number-up"))) {
    int n = ippGetValueTag(a) == IPP_TAG_INTEGER && ippGetCount(a) == 1 ? ippGetInteger(a, 0) : 0;
    if (n < 1 || !caps_allow_int(caps, "pagesPerSheet", n)) {
      ipp_respond_unsupported(c, a);
      ok = false;
    } else {
      json_object_set_new(cfg, "pagesPerSheet", json_integer(n));
    }
  }
  if ((a = job_attr(c->request, "page-ranges"))) {
    json_t *ranges = json_array();
    bool good = ippGetValueTag(a) == IPP_TAG_RANGE;
    int prev = 0;
    for (int i = 0; good && i < ippGetCount(a); i++) {
      int hi, lo = ippGetRange(a, i, &hi);
      if (lo < 1 || hi < lo || lo <= prev) good = false;
      else json_array_append_new(ranges, json_pack("{s:i,s:i}", "start", lo, "end", hi));
      prev = hi;
    }
    if (!good) {
      ipp_respond_unsupported(c, a);
      ok = false;
    } else {
      json_object_set(cfg, "pageRanges", ranges);
    }
    json_decref(ranges);
  }
  json_decref(caps);
  return ok;
}
