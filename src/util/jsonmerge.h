/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partial updates of complex JSON values (reference §9.4): a PATCH body's object is merged
 * into the stored one member by member, recursively for members that are objects on both
 * sides; any other member (scalar, array, null) replaces the stored one. null is a value here
 * (it sets the member to null), unlike RFC 7396 where it deletes.
 */
#ifndef SPOOLD_UTIL_JSONMERGE_H
#define SPOOLD_UTIL_JSONMERGE_H

#include <jansson.h>

/* Returns a new object: a deep copy of base (an object, or NULL for {}) with patch (an object)
 * merged into it. NULL when patch is not an object. The caller owns the result. */
json_t *json_merge_members(const json_t *base, const json_t *patch);

/* The same on JSON text: base_text (NULL or "" for {}) and patch_text must be JSON objects.
 * Returns the merged object as compact JSON text with keys in their order of appearance
 * (malloc'd), or NULL when either text is not an object. */
char *json_merge_members_text(const char *base_text, const char *patch_text);

#endif
