/* SPDX-License-Identifier: Apache-2.0 */
/* Entity references: parsing @odata.bind / @odata.id values, building @odata.id URLs. */
#include "graph/refs.h"
#include "graph/json.h"
#include "graph/reply.h"
#include "http/server.h"
#include "util/buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GRAPH_HOST_URL "https://graph.microsoft.com"

static const json_schema_t REFERENCE = {"microsoft.graph.referenceCreate", NULL, 0};

const char *graph_ref_body_id(http_request_t *req, http_response_t *res, const json_t *body,
                              const char *what, const char *example) {
  if (!graph_json_check(req, res, body, &REFERENCE)) return NULL;
  json_t *ref = json_object_get(body, "@odata.id");
  if (json_is_string(ref)) return json_string_value(ref);
  graph_reply_error(req, res, 400, "invalidRequest", NULL,
                    "Property '@odata.id' is required: the URL of the %s to add, e.g. "
                    GRAPH_HOST_URL "/v1.0/%s.", what, example);
  return NULL;
}

/* Skips prefix (case-insensitive) at *s; true when it was there. */
static bool skip_prefix(const char **s, const char *prefix, size_t len) {
  if (strncasecmp(*s, prefix, len) != 0) return false;
  *s += len;
  return true;
}

/* After an absolute URL's origin (and path prefix) the path must start with '/' (or end). */
static bool skip_origin(const char **s, const char *origin) {
  size_t len = strlen(origin);
  while (len && origin[len - 1] == '/') len--;
  const char *p = *s;
  if (!len || !skip_prefix(&p, origin, len) || (*p && *p != '/')) return false;
  *s = p;
  return true;
}

static bool key_char(int c) {
  return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Copies a key of [s, s+len) into out; false when it is empty, too long or has other
 * characters. */
static bool copy_key(const char *s, size_t len, char *out, size_t outlen) {
  if (len == 0 || len > GRAPH_REF_KEY_MAX || len >= outlen) return false;
  for (size_t i = 0; i < len; i++)
    if (!key_char((unsigned char)s[i])) return false;
  memcpy(out, s, len);
  out[len] = '\0';
  return true;
}

/* Matches "<set>/<key>", "<set>('<key>')" or "<set>(<key>)" as the whole of p. */
static bool match_set(const char *p, const char *set, char *out, size_t outlen) {
  size_t n = strlen(set);
  if (strncasecmp(p, set, n) != 0) return false;
  p += n;
  if (*p == '/') return copy_key(p + 1, strlen(p + 1), out, outlen);
  if (*p != '(') return false;
  p++;
  size_t len = strlen(p);
  if (len < 2 || p[len - 1] != ')') return false;
  len--;
  if (p[0] == '\'') {
    if (len < 2 || p[len - 1] != '\'') return false;
    return copy_key(p + 1, len - 2, out, outlen);
  }
  return copy_key(p, len, out, outlen);
}

bool graph_ref_key(const http_request_t *req, const char *url, const char *const *sets,
                   char *out, size_t outlen) {
  if (!url || !sets || !out || outlen == 0) return false;
  out[0] = '\0';
  const char *p = url;
  if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
    const char *ours = req && req->server ? server_public_url(req->server) : NULL;
    if (!(ours && skip_origin(&p, ours)) && !skip_origin(&p, GRAPH_HOST_URL)) return false;
  }
  if (*p == '/') p++;
  if (!skip_prefix(&p, "v1.0/", 5)) skip_prefix(&p, "beta/", 5);
  for (size_t i = 0; sets[i]; i++)
    if (match_set(p, sets[i], out, outlen)) return true;
  out[0] = '\0';
  return false;
}

char *graph_ref_url(const http_request_t *req, const char *path) {
  char *base = graph_base_url(req);
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s/%s", base, path);
  free(base);
  return buf_detach(&b);
}
