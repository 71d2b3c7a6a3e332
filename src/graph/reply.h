/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replies in Graph's wire format: JSON entities and collections, and the
 * error envelope {"error":{"code","message","innerError":{...}}}. Every
 * handler answers through these helpers so the envelope, the request-id and
 * the client-request-id echo are the same everywhere.
 */
#ifndef SPOOLD_GRAPH_REPLY_H
#define SPOOLD_GRAPH_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"
#include "http/response.h"
#include "util/buf.h"

/* Content type of JSON answers (Graph's, with OData parameters). */
#define GRAPH_JSON_TYPE \
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

/* Replies with a Graph error. code is the top-level code ("invalidRequest"); inner_code, when
 * not NULL, is put in innerError.code ("fragmentOverlap"). The message is printf-formatted. */
void graph_reply_error(http_request_t *req, http_response_t *res, int status, const char *code,
                       const char *inner_code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The same with a ready message; the http server's error writer (server_config_t). */
void graph_reply_error_message(http_request_t *req, http_response_t *res, int status,
                               const char *code, const char *inner_code, const char *message);

/* Replies status with obj serialized compactly. Steals the reference to obj. */
void graph_reply_json(http_request_t *req, http_response_t *res, int status, json_t *obj);
/* The same with the JSON text already written (body malloc'd, len bytes; takes body): the
 * ETag and 304 of a GET are handled as for graph_reply_json. */
void graph_reply_json_text(http_request_t *req, http_response_t *res, int status, char *body,
                           size_t len);
/* The answer of a handler that writes its JSON as text (graph_jw_t) and falls back to the tree:
 * when ok, replies status with the text in text as graph_reply_json_text and returns true;
 * when not, writes nothing and returns false, and the caller answers through the tree. Either
 * way text is left empty (BUF_INIT). */
bool graph_reply_json_written(http_request_t *req, http_response_t *res, int status, bool ok,
                              buf_t *text);

/* Replies 200 with a collection {"@odata.context": context, "value": value,
 * "@odata.nextLink"?} and takes both references. next is the page token of the next page
 * (NULL on the last page): the nextLink is the request path (graph_request_path) with the
 * request's query options and $skiptoken=next, under --public-url. */
void graph_reply_collection(http_request_t *req, http_response_t *res, json_t *context,
                            json_t *value, const char *next);
/* graph_reply_collection with the number of entities the query selects across all pages
 * (count >= 0; the store's count when the query asked for one, q.count), or -1 when unknown.
 * With $count=true it adds "@odata.count"; for a ".../$count" path (req->count_segment) it
 * answers 200 text/plain with the bare number instead of the collection: count, or the size of
 * value when the collection has no next page. Takes context and value. */
void graph_reply_collection_counted(http_request_t *req, http_response_t *res, json_t *context,
                                    json_t *value, const char *next, int64_t count);

/* Answers a failed store list or query call: STORE_INVALID (the query options do not fit the
 * collection) is 400 invalidRequest with inner code ODATA_INNER_CODE and the message err, or
 * fallback when err is NULL; any other failure is graph_reply_store_error. Returns false, having
 * written nothing, when rc is STORE_OK; true after replying. A STORE_NOT_FOUND that means a
 * missing parent is the caller's to answer first. */
bool graph_reply_list_failure(http_request_t *req, http_response_t *res, int rc, const char *err,
                              const char *fallback);

/* Answers a failed store call on one item (a get, update, delete or action): STORE_NOT_FOUND is
 * 404 itemNotFound with the printf-formatted message naming what was not found, any other
 * failure graph_reply_store_error. Returns false, having written nothing, when rc is STORE_OK;
 * true after replying. Codes with a meaning of their own (STORE_CONFLICT) are the caller's to
 * answer first. */
bool graph_reply_item_failure(http_request_t *req, http_response_t *res, int rc, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));

/* Replies 500 generalException for a store call that failed (STORE_ERROR): the message says
 * only that the request could not be completed, never why (the store logged that). */
void graph_reply_store_error(http_request_t *req, http_response_t *res);

/* The request path without its query, decoded, with the version prefix the client used and
 * keys as plain segments: "/v1.0/print/printers/ID/jobs". The caller frees it. */
char *graph_request_path(const http_request_t *req);

/* Replies 204 No Content. */
void graph_reply_no_content(http_response_t *res);

/* Seconds a client should wait before reading an unfinished operation again (Retry-After). */
#define GRAPH_OPERATION_RETRY_AFTER "1"
/* Replies 202 Accepted without a body to a request that started operation op_id:
 * Operation-Location is the operation's absolute URL (<base>/print/operations/{op_id}) and
 * Retry-After GRAPH_OPERATION_RETRY_AFTER. */
void graph_reply_operation_accepted(http_request_t *req, http_response_t *res,
                                    const char *op_id);

/* The absolute base of Graph URLs for this request: "<public-url>/v1.0" or "<public-url>/beta".
 * Returns a malloc'd string. */
char *graph_base_url(const http_request_t *req);

/* The string s as a new JSON value, or null when s is NULL. */
json_t *graph_json_string_or_null(const char *s);
/* A DateTimeOffset value of time us (microseconds, written in UTC as ISO 8601) as a new JSON
 * value, or null when us <= 0 (not set). */
json_t *graph_json_time_or_null(int64_t us);

/* "<base>/$metadata#<fragment>" as a new JSON string value. */
json_t *graph_context(const http_request_t *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* {"@odata.context": context, ...entity}: a new object with the context URL first and the
 * members of entity after it, as a single entity is answered. Takes both references; the
 * caller owns the result. */
json_t *graph_with_context(json_t *context, json_t *entity);
/* The same context URL as a malloc'd string (caller frees). */
char *graph_context_url(const http_request_t *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* JSON text written the way jansson's json_dumps(JSON_COMPACT) writes the same tree (insertion
 * order, no spaces, the same string escapes), for answers whose tree would only be dumped: the
 * text and the tree give the same bytes. b is the caller's buffer. ok turns false when a value
 * would not have been in the tree (a NULL string, or one that is not valid UTF-8, which
 * json_string refuses): the caller then answers through the tree instead. first is true while
 * nothing was written in the innermost open object or array (the caller sets it after writing
 * '{' or '[', and to false after the closing one). */
typedef struct graph_jw {
  buf_t *b;
  bool   ok;
  bool   first;
} graph_jw_t;

/* Each appends one JSON value (or member name) to w->b, as jansson writes it (graph_jw_t): */
void graph_jw_str(graph_jw_t *w, const char *s);         /* a string (NULL: ok false) */
void graph_jw_key(graph_jw_t *w, const char *name);      /* [,]"name": (an ASCII literal) */
void graph_jw_str_or_null(graph_jw_t *w, const char *s); /* a string, null for NULL */
void graph_jw_bool(graph_jw_t *w, bool v);
void graph_jw_int(graph_jw_t *w, int64_t v);
void graph_jw_iso_or_null(graph_jw_t *w, int64_t us);    /* ISO 8601 time, null for us <= 0 */

#endif
