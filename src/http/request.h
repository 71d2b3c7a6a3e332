/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP request as the handlers see it.
 *
 * The server (http/server.c) fills this in from libmicrohttpd: the decoded
 * path split into segments (OData key syntax `jobs('7')` already split into
 * `jobs`, `7`), the percent-decoded query parameters, and the body. Handlers
 * never touch libmicrohttpd directly. The request owns everything it points
 * to; it lives until the response has been queued.
 */
#ifndef SPOOLD_HTTP_REQUEST_H
#define SPOOLD_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_SEGMENTS 16
#define HTTP_MAX_PARAMS 8

/* The path prefix a request came under: none, Graph's /v1.0 or /beta, or the extension prefix
 * /spoold/v1 (what Graph does not define: print passwords, the development control API). */
typedef enum { API_NONE = 0, API_V1 = 1, API_BETA = 2, API_EXT = 3 } api_version_t;

typedef struct http_param {
  char *name;   /* percent-decoded ("$filter") */
  char *value;  /* percent-decoded, '+' kept literally (OData) */
} http_param_t;

struct server;
struct route;
struct caller;

typedef struct http_request {
  struct server *server;
  void          *conn;        /* struct MHD_Connection *, for header lookups */
  const char    *method;      /* "GET", "POST", ... */
  char          *raw_path;    /* path as received, without the query */
  api_version_t  version;     /* /v1.0, /beta or /spoold/v1 prefix, API_NONE otherwise */
  char          *segs[HTTP_MAX_SEGMENTS]; /* decoded segments after the version prefix */
  size_t         nsegs;
  http_param_t  *query;       /* decoded query parameters */
  size_t         nquery;
  char          *query_string;/* raw query string without '?' (NULL if none) */

  const struct route *route;  /* matched route, or NULL */
  const char    *params[HTTP_MAX_PARAMS]; /* captured {keys} of the route, in order */
  size_t         nparams;
  bool           count_segment; /* the path was a collection's ".../$count" (router.h) */
  int64_t        odata_total;   /* graph: the count of the collection the request listed, when
                                   it asked for one; -1 otherwise (set by router_match) */

  char          *body;        /* buffered body (NUL-terminated), NULL if none */
  size_t         body_len;
  uint64_t       content_length; /* declared Content-Length, or UINT64_MAX */

  char           request_id[37];
  char          *client_request_id; /* echoed back; NULL when not sent */
  int64_t        start_us;    /* monotonic start time */
  bool           tls;         /* arrived over TLS */
  char           peer[64];    /* client address */

  void          *app;         /* the application context (app.h), for handlers */
  struct caller *caller;      /* set by authentication (auth/identity.h) */
  void          *handler_state; /* for streaming handlers */
  /* Called once when the request is freed, to release caller/handler_state. */
  void         (*cleanup)(struct http_request *req);
  char          *log_tenant;  /* malloc'd; tenant and app for the request log line */
  char          *log_app;
  bool           log_quiet;   /* a handler set it: no request log line (counted elsewhere) */
  /* Headers given directly (name, value), looked up when there is no libmicrohttpd connection
   * (conn == NULL): requests built by the fuzzing harnesses and tests. Not owned. */
  const http_param_t *headers;
  size_t         nheaders;
} http_request_t;

/* Splits the raw request URI ("/v1.0/print/printers('P')/jobs?$top=5") into raw_path,
 * version, decoded segments (OData key syntax split) and decoded query parameters of req
 * (whose URI fields must be empty). Returns false for a malformed URI (bad percent-encoding, an
 * encoded NUL, more than HTTP_MAX_SEGMENTS segments, no leading '/'); what was parsed so far
 * stays in req either way and is released by http_request_free_uri. */
bool http_request_parse_uri(http_request_t *req, const char *uri);
/* Frees what http_request_parse_uri stored in req and empties those fields. */
void http_request_free_uri(http_request_t *req);

/* Case-insensitive request header lookup; NULL when absent. */
const char *http_request_header(const http_request_t *req, const char *name);
/* Query parameter by exact (decoded) name; NULL when absent. */
const char *http_request_query(const http_request_t *req, const char *name);
/* Captured route key i (0-based), NULL if out of range. */
const char *http_request_param(const http_request_t *req, size_t i);
/* Media type of Content-Type without parameters, lower-cased into out; "" when absent. */
void http_request_media_type(const http_request_t *req, char *out, size_t outlen);

#endif
