/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entity references in request bodies: the values of "x@odata.bind" and "@odata.id"
 * ("https://graph.microsoft.com/v1.0/print/printers/{id}", "users/{id}", ...), and the
 * @odata.id URLs we emit for references.
 *
 * Accepted forms of a reference to an entity of the collection at `set` ("print/printers",
 * "users"), the set matched case-insensitively:
 *   <our --public-url>/{v1.0|beta}/<set>/<key>
 *   https://graph.microsoft.com/{v1.0|beta}/<set>/<key>
 *   /{v1.0|beta}/<set>/<key>     /<set>/<key>     <set>/<key>
 * with the key also in OData key syntax: <set>('<key>') or <set>(<key>). A key is 1..128
 * characters of [A-Za-z0-9._~-]; nothing may follow it (no query, fragment or further path).
 */
#ifndef SPOOLD_GRAPH_REFS_H
#define SPOOLD_GRAPH_REFS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "http/request.h"
#include "http/response.h"

#define GRAPH_REF_KEY_MAX 128

/* Extracts the key from url when it references an entity of one of sets (NULL-terminated, e.g.
 * {"users", "directoryObjects", NULL}). Returns true with the key in out (at least
 * GRAPH_REF_KEY_MAX + 1 bytes), false when url is not such a reference. */
bool graph_ref_key(const http_request_t *req, const char *url, const char *const *sets,
                   char *out, size_t outlen);

/* The "@odata.id" of the body of a POST .../$ref (a referenceCreate: no other member), or NULL
 * after replying 400: the body has other members, or no "@odata.id" string. what ("printer") and
 * example ("print/printers/{printerId}") word the message. The result points into body. */
const char *graph_ref_body_id(http_request_t *req, http_response_t *res, const json_t *body,
                              const char *what, const char *example);

/* The absolute URL of an entity, "<public-url>/<version>/<path>", e.g. for path
 * "users/0f6..."; the caller frees it. */
char *graph_ref_url(const http_request_t *req, const char *path);

#endif
