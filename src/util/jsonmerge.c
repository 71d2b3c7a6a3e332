/* SPDX-License-Identifier: Apache-2.0 */
/* Member-wise merge of JSON objects (util/jsonmerge.h). */
#include "util/jsonmerge.h"

#include <string.h>

/* Merges patch into dst (both objects), recursing where both members are objects. */
static void merge_into(json_t *dst, const json_t *patch) {
  const char *key;
  json_t *pv;
  json_object_foreach((json_t *)patch, key, pv) {
    json_t *dv = json_object_get(dst, key);
    if (json_is_object(dv) && json_is_object(pv)) merge_into(dv, pv);
    else json_object_set_new(dst, key, json_deep_copy(pv));
  }
}

/* See jsonmerge.h. */
json_t *json_merge_members(const json_t *base, const json_t *patch) {
  if (!json_is_object(patch)) return NULL;
  json_t *out = json_is_object(base) ? json_deep_copy(base) : json_object();
  if (!out) return NULL;
  merge_into(out, patch);
  return out;
}

/* See jsonmerge.h. */
char *json_merge_members_text(const char *base_text, const char *patch_text) {
  json_t *base = NULL, *patch = NULL;
  if (base_text && *base_text) {
    base = json_loads(base_text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(base)) {
      json_decref(base);
      return NULL;
    }
  }
  patch = patch_text ? json_loads(patch_text, JSON_REJECT_DUPLICATES, NULL) : NULL;
  json_t *merged = json_merge_members(base, patch);
  json_decref(base);
  json_decref(patch);
  if (!merged) return NULL;
  char *text = json_dumps(merged, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(merged);
  return text;
}
