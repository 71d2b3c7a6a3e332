/* SPDX-License-Identifier: Apache-2.0 */
/* Graph replies: JSON bodies, the error envelope, context URLs. */
#include "graph/reply.h"
#include "app.h"
#include "core/query.h"
#include "graph/odata.h"
#include "http/router.h"
#include "http/server.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* b as valid UTF-8 for a JSON string: each byte that does not start a well-formed sequence
 * becomes U+FFFD. A message can hold client text cut at a buffer's end in the middle of a
 * character (a long property name), and jansson refuses invalid UTF-8, which would drop the
 * whole message from the envelope. */
static void utf8_scrub(const char *text, buf_t *out) {
  const unsigned char *s = (const unsigned char *)text;
  size_t len = strlen(text);
  for (size_t i = 0; i < len;) {
    size_t n = s[i] < 0x80 ? 1 : s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4;
    if (i + n <= len && query_utf8_valid(text + i, n)) {
      buf_append(out, text + i, n);
      i += n;
    } else {
      buf_puts(out, "\xEF\xBF\xBD");
      i++;
    }
  }
}

void graph_reply_error(http_request_t *req, http_response_t *res, int status, const char *code,
                       const char *inner_code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = xvasprintf(fmt, ap);
  va_end(ap);
  graph_reply_error_message(req, res, status, code, inner_code, msg);
  free(msg);
}

/* Logs a request answered 500 (or the 503/507 a 500 became) with what the store met. */
static void log_failure(const http_request_t *req, int status, const char *code) {
  const char *cause = store_failure_since(req->start_us);
  const char *op = req->route && req->route->name ? req->route->name : "no route";
  if (!cause) cause = "no database error was noted for it (see the lines before)";
  if (status == 500)
    log_error("%s %s (%s, request-id %s) answered %d %s: %s", req->method ? req->method : "?",
              req->raw_path ? req->raw_path : "?", op, req->request_id, status, code, cause);
  else
    log_warn("%s %s (%s, request-id %s) answered %d %s: %s", req->method ? req->method : "?",
             req->raw_path ? req->raw_path : "?", op, req->request_id, status, code, cause);
}

void graph_reply_error_message(http_request_t *req, http_response_t *res, int status,
                               const char *code, const char *inner_code, const char *message) {
  bool failed = status == 500;
  const char *retry_after = NULL;
  /* A failure during this request's store write that was for lack of space is the client's
   * 507, as for document bytes: the change was not made and can be retried once there is room. */
  if (failed && store_write_full_since(req->start_us)) {
    status = 507;
    code = "quotaLimitReached";
    inner_code = NULL;
    message = "The server has no storage space left to save this change; nothing was changed. "
              "Try again later.";
    retry_after = "60";
  }
  /* A write given up because it kept conflicting with concurrent writes to the same rows (on
   * PostgreSQL, from any process) is transient: 503 and a hint to send it again. */
  if (status == 500 && store_write_busy_since(req->start_us)) {
    status = 503;
    code = "serviceNotAvailable";
    inner_code = NULL;
    message = "The change kept conflicting with concurrent changes to the same data and was "
              "not made; nothing was changed. Retry shortly.";
    retry_after = "1";
  }
  /* A failure while the database cannot be reached is an outage, not a bug: 503 and a hint
   * when to retry (any process of a scale-out deployment recovers by itself). */
  const app_t *app = req ? req->app : NULL;
  if (status == 500 && app && app->store && !store_reachable(app->store)) {
    status = 503;
    code = "serviceNotAvailable";
    inner_code = NULL;
    message = "The service's database cannot be reached right now; retry shortly.";
    retry_after = "5";
  }
  if (failed) log_failure(req, status, code);
  /* innerError.date as Graph writes it: UTC, seconds, no zone designator. */
  char date[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);

  json_t *inner = json_object();
  if (inner_code) json_object_set_new(inner, "code", json_string(inner_code));
  json_object_set_new(inner, "date", json_string(date));
  json_object_set_new(inner, "request-id", json_string(req->request_id));
  json_object_set_new(inner, "client-request-id",
                      json_string(req->client_request_id ? req->client_request_id
                                                         : req->request_id));
  json_t *err = json_object();
  json_object_set_new(err, "code", json_string(code));
  buf_t clean = BUF_INIT;
  if (!query_utf8_valid(message, strlen(message))) {
    utf8_scrub(message, &clean);
    message = clean.data ? clean.data : "";
  }
  json_object_set_new(err, "message", json_string(message));
  buf_free(&clean);
  json_object_set_new(err, "innerError", inner);
  json_t *root = json_object();
  json_object_set_new(root, "error", err);

  char *body = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  http_response_body(res, status, "application/json", body, strlen(body));
  res->error_code = code;
  if (status == 401) http_response_header(res, "WWW-Authenticate", "Bearer");
  if (retry_after) http_response_header(res, "Retry-After", retry_after);
}

/* A weak validator of a GET answer's bytes: FNV-1a's step over 8-byte words (then the last
 * bytes one by one), enough to tell a poller that nothing changed, and an eighth of the
 * multiplications of the byte-wise hash on every read. */
static void body_etag(const char *body, size_t len, char out[24]) {
  static const char hex[] = "0123456789abcdef";
  uint64_t h = 1469598103934665603ULL, w;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    memcpy(&w, body + i, 8);
    h ^= w;
    h *= 1099511628211ULL;
  }
  for (; i < len; i++) {
    h ^= (unsigned char)body[i];
    h *= 1099511628211ULL;
  }
  h ^= h >> 32; /* the high bits of each word reach the low digits too */
  memcpy(out, "W/\"", 3);
  for (int k = 0; k < 16; k++) out[3 + k] = hex[(h >> (60 - 4 * k)) & 15];
  out[19] = '"';
  out[20] = '\0';
}

void graph_reply_json(http_request_t *req, http_response_t *res, int status, json_t *obj) {
  char *body = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  graph_reply_json_text(req, res, status, body, strlen(body));
}

void graph_reply_json_text(http_request_t *req, http_response_t *res, int status, char *body,
                           size_t len) {
  if (status == 200 && req && !strcmp(req->method, "GET")) {
    char etag[24];
    body_etag(body, len, etag);
    http_response_header(res, "ETag", etag);
    const char *inm = http_request_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) { /* the client's copy is current: no body */
      free(body);
      http_response_empty(res, 304);
      return;
    }
  }
  http_response_body(res, status, GRAPH_JSON_TYPE, body, len);
}

bool graph_reply_json_written(http_request_t *req, http_response_t *res, int status, bool ok,
                              buf_t *text) {
  if (ok) {
    size_t len = text->len;
    graph_reply_json_text(req, res, status, buf_detach(text), len);
  }
  buf_free(text);
  return ok;
}

void graph_reply_no_content(http_response_t *res) { http_response_empty(res, 204); }

/* See reply.h. */
void graph_reply_operation_accepted(http_request_t *req, http_response_t *res,
                                    const char *op_id) {
  char *base = graph_base_url(req);
  char *url = xasprintf("%s/print/operations/%s", base, op_id);
  free(base);
  http_response_empty(res, 202);
  http_response_header(res, "Operation-Location", url);
  http_response_header(res, "Retry-After", GRAPH_OPERATION_RETRY_AFTER);
  free(url);
}

char *graph_base_url(const http_request_t *req) {
  buf_t b = BUF_INIT;
  buf_puts(&b, server_public_url(req->server));
  buf_puts(&b, req->version == API_BETA ? "/beta" : "/v1.0");
  return buf_detach(&b);
}

/* The $select list of a GET as a context URL carries it: "id,displayName" (spaces dropped), or
 * NULL when there is none (or it is "*"). */
static char *select_list(const http_request_t *req) {
  if (!req->method || strcmp(req->method, "GET") != 0) return NULL;
  for (size_t i = 0; i < req->nquery; i++) {
    if (!req->query[i].name || strcasecmp(req->query[i].name, "$select") != 0) continue;
    const char *v = req->query[i].value ? req->query[i].value : "";
    buf_t b = BUF_INIT;
    for (const char *p = v; *p; p++)
      if (*p != ' ' && *p != '\t' && *p != '+') buf_putc(&b, *p);
    if (!b.data || !strcmp(b.data, "*")) {
      buf_free(&b);
      return NULL;
    }
    return buf_detach(&b);
  }
  return NULL;
}

/* "<base>/$metadata#<fmt...>" with the $select list (caller frees). */
static char *context_vurl(const http_request_t *req, const char *fmt, va_list ap) {
  buf_t b = BUF_INIT;
  char *base = graph_base_url(req);
  buf_printf(&b, "%s/$metadata#", base);
  free(base);
  buf_vprintf(&b, fmt, ap);
  /* $select is part of the context: "#print/printers(id,displayName)", ".../$entity" after it */
  char *sel = select_list(req);
  if (sel) {
    static const char entity[] = "/$entity";
    size_t n = strlen(entity);
    bool is_entity = b.len >= n && !strcmp(b.data + b.len - n, entity);
    if (is_entity) b.len -= n;
    b.data[b.len] = '\0';
    buf_printf(&b, "(%s)%s", sel, is_entity ? entity : "");
    free(sel);
  }
  return buf_detach(&b);
}

json_t *graph_context(const http_request_t *req, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *url = context_vurl(req, fmt, ap);
  va_end(ap);
  json_t *s = json_string(url);
  free(url);
  return s;
}

char *graph_context_url(const http_request_t *req, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *url = context_vurl(req, fmt, ap);
  va_end(ap);
  return url;
}

json_t *graph_json_string_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *graph_json_time_or_null(int64_t us) {
  if (us <= 0) return json_null();
  char t[TIME_ISO_LEN];
  time_format_iso(us, t);
  return json_string(t);
}

json_t *graph_with_context(json_t *context, json_t *entity) {
  json_t *o = json_object();
  json_object_set_new(o, "@odata.context", context);
  json_object_update(o, entity);
  json_decref(entity);
  return o;
}

/* True when the request carries $count=true (the operation accepted it: odata_parse_request). */
static bool count_requested(const http_request_t *req) {
  for (size_t i = 0; i < req->nquery; i++)
    if (req->query[i].name && !strcasecmp(req->query[i].name, "$count"))
      return req->query[i].value && !strcasecmp(req->query[i].value, "true");
  return false;
}

void graph_reply_collection(http_request_t *req, http_response_t *res, json_t *context,
                            json_t *value, const char *next) {
  graph_reply_collection_counted(req, res, context, value, next, -1);
}

void graph_reply_collection_counted(http_request_t *req, http_response_t *res, json_t *context,
                                    json_t *value, const char *next, int64_t count) {
  if (count < 0 && req->odata_total >= 0) count = req->odata_total;
  if (count < 0 && !next) count = (int64_t)json_array_size(value);
  if (req->count_segment) {
    json_decref(context);
    json_decref(value);
    if (count < 0) { /* a paged collection whose store cannot count: never a wrong number */
      graph_reply_error(req, res, 500, "generalException", NULL,
                        "The request could not be completed; try again.");
      return;
    }
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", (long long)count);
    http_response_body(res, 200, "text/plain", xstrndup(num, (size_t)n), (size_t)n);
    return;
  }
  json_t *o = json_object();
  json_object_set_new(o, "@odata.context", context);
  if (count >= 0 && count_requested(req))
    json_object_set_new(o, "@odata.count", json_integer(count));
  json_object_set_new(o, "value", value);
  if (next) {
    char *path = graph_request_path(req);
    char *link = odata_build_next_link(server_public_url(req->server), path, req->query,
                                       req->nquery, next);
    json_object_set_new(o, "@odata.nextLink", json_string(link));
    free(link);
    free(path);
  }
  graph_reply_json(req, res, 200, o);
}

void graph_reply_store_error(http_request_t *req, http_response_t *res) {
  graph_reply_error(req, res, 500, "generalException", NULL,
                    "The request could not be completed; try again.");
}

bool graph_reply_item_failure(http_request_t *req, http_response_t *res, int rc, const char *fmt,
                              ...) {
  if (rc == STORE_OK) return false;
  if (rc != STORE_NOT_FOUND) {
    graph_reply_store_error(req, res);
    return true;
  }
  buf_t msg = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&msg, fmt, ap);
  va_end(ap);
  graph_reply_error_message(req, res, 404, "itemNotFound", NULL, msg.data ? msg.data : "");
  buf_free(&msg);
  return true;
}

bool graph_reply_list_failure(http_request_t *req, http_response_t *res, int rc, const char *err,
                              const char *fallback) {
  if (rc == STORE_OK) return false;
  if (rc == STORE_INVALID)
    graph_reply_error(req, res, 400, "invalidRequest", ODATA_INNER_CODE, "%s",
                      err ? err : fallback ? fallback : "");
  else
    graph_reply_store_error(req, res);
  return true;
}

char *graph_request_path(const http_request_t *req) {
  buf_t b = BUF_INIT;
  buf_puts(&b, req->version == API_BETA ? "/beta" : "/v1.0");
  for (size_t i = 0; i < req->nsegs; i++) buf_printf(&b, "/%s", req->segs[i]);
  return buf_detach(&b);
}

/* ---- JSON text as jansson writes it (see reply.h) ----------------------------------------- */

void graph_jw_str(graph_jw_t *w, const char *s) {
  if (!s) {
    w->ok = false;
    return;
  }
  size_t n = strlen(s);
  if (!query_utf8_valid(s, n)) {
    w->ok = false;
    return;
  }
  buf_t *b = w->b;
  buf_reserve(b, n + 2);
  buf_putc(b, '"');
  const char *run = s;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    buf_append(b, run, (size_t)(p - run));
    run = p + 1;
    switch (c) {
      case '"': buf_puts(b, "\\\""); break;
      case '\\': buf_puts(b, "\\\\"); break;
      case '\b': buf_puts(b, "\\b"); break;
      case '\f': buf_puts(b, "\\f"); break;
      case '\n': buf_puts(b, "\\n"); break;
      case '\r': buf_puts(b, "\\r"); break;
      case '\t': buf_puts(b, "\\t"); break;
      default: buf_printf(b, "\\u%04X", (unsigned)c); break; /* jansson: upper-case hex */
    }
  }
  buf_append(b, run, strlen(run));
  buf_putc(b, '"');
}

void graph_jw_key(graph_jw_t *w, const char *name) {
  /* one reservation for the separator, the quoted name and the colon */
  size_t n = strlen(name);
  buf_reserve(w->b, n + 4);
  char *p = w->b->data + w->b->len;
  if (!w->first) *p++ = ',';
  w->first = false;
  *p++ = '"';
  memcpy(p, name, n);
  p += n;
  *p++ = '"';
  *p++ = ':';
  *p = '\0';
  w->b->len = (size_t)(p - w->b->data);
}

void graph_jw_str_or_null(graph_jw_t *w, const char *s) {
  if (s) graph_jw_str(w, s);
  else buf_puts(w->b, "null");
}

void graph_jw_bool(graph_jw_t *w, bool v) { buf_puts(w->b, v ? "true" : "false"); }

void graph_jw_int(graph_jw_t *w, int64_t v) {
  buf_printf(w->b, "%" JSON_INTEGER_FORMAT, (json_int_t)v);
}

void graph_jw_iso_or_null(graph_jw_t *w, int64_t us) {
  if (us <= 0) {
    buf_puts(w->b, "null");
    return;
  }
  char t[TIME_ISO_LEN];
  time_format_iso(us, t);
  graph_jw_str(w, t);
}
