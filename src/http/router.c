/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route table and matching.
 *
 * The table is small (tens of routes) and matched linearly segment by
 * segment; literal segments compare case-insensitively, as Graph does.
 */
#include "http/router.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ROUTE_SETS 32

/* The route tables. Process globals on purpose: routes are registered once at start, before
 * the server runs, read-only afterwards, and router_match is called by the server and by the
 * fuzzing harnesses alike without a context. */
static struct {
  route_t *routes;
  size_t   n;
} g_sets[MAX_ROUTE_SETS];
static size_t g_nsets;
static const char *g_op_ns;
static bool (*g_is_op)(const char *segment);

void router_set_operation_check(const char *ns, bool (*is_op)(const char *segment)) {
  g_op_ns = ns;
  g_is_op = is_op;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void split_pattern(route_t *r) {
  r->nsegs = 0;
  const char *p = r->pattern;
  while (*p == '/') p++;
  while (*p && r->nsegs < HTTP_MAX_SEGMENTS) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    r->segs[r->nsegs++] = xstrndup(p, len);
    p += len;
    while (*p == '/') p++;
  }
}

void router_add(route_t *routes, size_t n) {
  if (g_nsets == MAX_ROUTE_SETS) return;
  for (size_t i = 0; i < n; i++) {
    split_pattern(&routes[i]);
    if (!strcmp(routes[i].method, "GET") && routes[i].name && ends_with(routes[i].name, ".list"))
      routes[i].flags |= ROUTE_COLLECTION;
  }
  g_sets[g_nsets].routes = routes;
  g_sets[g_nsets].n = n;
  g_nsets++;
}

void router_reset(void) {
  for (size_t s = 0; s < g_nsets; s++)
    for (size_t i = 0; i < g_sets[s].n; i++) {
      route_t *r = &g_sets[s].routes[i];
      for (size_t k = 0; k < r->nsegs; k++) free(r->segs[k]);
      r->nsegs = 0;
    }
  g_nsets = 0;
}

/* True when the path matches the pattern; captures go to params. */
static bool path_matches(const route_t *r, http_request_t *req, const char **params,
                         size_t *nparams) {
  if (r->flags & ROUTE_GRAPH) {
    if (req->version != API_V1 && req->version != API_BETA) return false;
  } else if (r->flags & ROUTE_EXT) {
    if (req->version != API_EXT) return false;
  } else if (req->version != API_NONE) {
    return false;
  }
  if (r->nsegs != req->nsegs) return false;
  size_t np = 0;
  for (size_t i = 0; i < r->nsegs; i++) {
    const char *pat = r->segs[i];
    const char *seg = req->segs[i];
    if (pat[0] == '{') {
      if (!seg[0] || seg[0] == '$') return false; /* never an empty key, never $count/$ref */
      if (np < HTTP_MAX_PARAMS) params[np++] = seg;
    } else if (strcasecmp(pat, seg) != 0) {
      size_t nl = g_op_ns ? strlen(g_op_ns) : 0;
      bool qualified = nl && i + 1 == r->nsegs && strncasecmp(seg, g_op_ns, nl) == 0 &&
                       seg[nl] == '.' && strcasecmp(pat, seg + nl + 1) == 0 && g_is_op(pat);
      if (!qualified) return false;
    }
  }
  *nparams = np;
  return true;
}

static router_result_t match_routes(http_request_t *req, char *allow, size_t allowlen,
                                    bool collections_only);

router_result_t router_match(http_request_t *req, char *allow, size_t allowlen) {
  req->count_segment = false;
  req->odata_total = -1;
  router_result_t rc = match_routes(req, allow, allowlen, false);
  if (rc == ROUTER_NOT_FOUND && req->nsegs > 1 && !strcmp(req->segs[req->nsegs - 1], "$count") &&
      (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))) {
    req->nsegs--;
    if (match_routes(req, NULL, 0, true) == ROUTER_MATCH) {
      req->count_segment = true;
      rc = ROUTER_MATCH;
    }
    req->nsegs++;
  }
  return rc;
}

static router_result_t match_routes(http_request_t *req, char *allow, size_t allowlen,
                                    bool collections_only) {
  buf_t methods = BUF_INIT;
  bool path_found = false;
  for (size_t s = 0; s < g_nsets; s++) {
    for (size_t i = 0; i < g_sets[s].n; i++) {
      const route_t *r = &g_sets[s].routes[i];
      if (collections_only && !(r->flags & ROUTE_COLLECTION)) continue;
      const char *params[HTTP_MAX_PARAMS];
      size_t np = 0;
      if (!path_matches(r, req, params, &np)) continue;
      if (strcmp(r->method, req->method) == 0 ||
          (strcmp(req->method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
        req->route = r;
        memcpy(req->params, params, np * sizeof *params);
        req->nparams = np;
        buf_free(&methods);
        return ROUTER_MATCH;
      }
      path_found = true;
      if (!methods.data || !strstr(methods.data, r->method)) {
        if (methods.len) buf_puts(&methods, ", ");
        buf_puts(&methods, r->method);
      }
    }
  }
  if (allow && allowlen) snprintf(allow, allowlen, "%s", methods.data ? methods.data : "");
  buf_free(&methods);
  return path_found ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}
