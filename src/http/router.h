/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The route table: method + path pattern -> handler.
 *
 * Patterns are written without the version prefix, e.g.
 * "/print/printers/{id}/jobs/{id}". Literal segments match
 * case-insensitively; "{...}" captures one segment into req->params.
 * Routes flagged ROUTE_GRAPH are served only under /v1.0 and /beta; routes
 * flagged ROUTE_EXT only under the extension prefix /spoold/v1 (what Graph does
 * not define; answered with the same error envelope and bearer authentication);
 * the others (health, metrics, upload sessions, IPP) only without a prefix.
 */
#ifndef SPOOLD_HTTP_ROUTER_H
#define SPOOLD_HTTP_ROUTER_H

#include "http/request.h"
#include "http/response.h"

enum {
  ROUTE_GRAPH = 1 << 0,  /* under /v1.0 and /beta */
  ROUTE_JSON_BODY = 1 << 1, /* body must be JSON (415 otherwise) when one is sent */
  ROUTE_STREAM = 1 << 2, /* body is streamed to body_chunk, not buffered */
  ROUTE_ANY_BODY = 1 << 3, /* body buffered whatever its type (up to --max-body) */
  ROUTE_EXT = 1 << 4,    /* under /spoold/v1 only (pattern written without the prefix) */
  ROUTE_COLLECTION = 1 << 5, /* GET of a collection: also answers ".../$count" (set by router_add
                                for every GET route whose name ends in ".list") */
};

typedef void (*route_handler_fn)(http_request_t *req, http_response_t *res);
/* Streaming body callback: called once with data == NULL and len == 0 when the headers are in,
 * then with each chunk; return 0 to go on, or fill res and return -1 to stop (the rest of the
 * body is then read and discarded, and res is the answer), or, from the first call only,
 * ROUTE_CHUNK_ANSWER_NOW to send res at once without reading the body (the connection is then
 * closed, as for an over-size body). */
#define ROUTE_CHUNK_ANSWER_NOW 1
typedef int (*route_chunk_fn)(http_request_t *req, http_response_t *res, const char *data,
                              size_t len);

typedef struct route {
  const char      *method;  /* "GET", "POST", "PATCH", "PUT", "DELETE" */
  const char      *pattern; /* "/print/printers/{id}" */
  route_handler_fn handler; /* called once the whole body is in (or streamed) */
  int              flags;
  const char      *name;    /* metrics/log label, e.g. "printers.get" */
  route_chunk_fn   body_chunk; /* for ROUTE_STREAM */
  /* filled by router_build: */
  char            *segs[HTTP_MAX_SEGMENTS];
  size_t           nsegs;
} route_t;

/* Table entries: ROUTE("GET", "/print", print_get, ROUTE_GRAPH, "print.get"). */
#define ROUTE(m, p, h, f, n) {.method = (m), .pattern = (p), .handler = (h), .flags = (f), .name = (n)}
/* A route whose body is handed to chunk as it arrives. */
#define ROUTE_STREAMED(m, p, h, chunk, f, n)                                              \
  {.method = (m), .pattern = (p), .handler = (h), .flags = (f) | ROUTE_STREAM, .name = (n), \
   .body_chunk = (chunk)}

typedef enum { ROUTER_MATCH, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD } router_result_t;

/* Adds routes (the array must outlive the router). Call before serving. */
void router_add(route_t *routes, size_t n);
/* Namespace-qualified bound operations: when set, the last literal segment of a route also
 * matches "<ns>.<segment>" (case-insensitive) if is_op(segment) says the segment names a bound
 * action or function ("…/jobs/{id}/microsoft.graph.abort"). */
void router_set_operation_check(const char *ns, bool (*is_op)(const char *segment));

/* Matches req (segs, version, method). A "{...}" key never captures a segment that starts with
 * '$' ($count, $ref, $value are path segments of OData, never keys). A GET of ".../$count" whose
 * path without it is a ROUTE_COLLECTION route matches that route with req->count_segment set.
 * On ROUTER_MATCH sets req->route and params.
 * On ROUTER_BAD_METHOD writes the allowed methods ("GET, PATCH") into allow. */
router_result_t router_match(http_request_t *req, char *allow, size_t allowlen);
/* Removes every route (tests). */
void router_reset(void);

#endif
