/* SPDX-License-Identifier: Apache-2.0 */
/* Building responses; the server converts them to libmicrohttpd responses. */
#include "http/response.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void http_response_init(http_response_t *res) {
  memset(res, 0, sizeof *res);
  res->fd = -1;
}

void http_response_clear(http_response_t *res) {
  for (size_t i = 0; i < res->nheaders; i++) {
    free(res->headers[i].name);
    free(res->headers[i].value);
  }
  free(res->body);
  if (res->fd >= 0) close(res->fd);
  if (res->src_free && res->src_arg) res->src_free(res->src_arg);
  http_response_init(res);
}

void http_response_header(http_response_t *res, const char *name, const char *value) {
  for (size_t i = 0; i < res->nheaders; i++) {
    if (strcasecmp(res->headers[i].name, name) == 0) {
      free(res->headers[i].value);
      res->headers[i].value = xstrdup(value);
      return;
    }
  }
  if (res->nheaders == HTTP_MAX_HEADERS) return;
  res->headers[res->nheaders].name = xstrdup(name);
  res->headers[res->nheaders].value = xstrdup(value);
  res->nheaders++;
}

void http_response_body(http_response_t *res, int status, const char *content_type, char *body,
                        size_t len) {
  free(res->body);
  res->status = status;
  res->body = body;
  res->body_len = len;
  if (content_type) http_response_header(res, "Content-Type", content_type);
}

void http_response_empty(http_response_t *res, int status) {
  free(res->body);
  res->body = NULL;
  res->body_len = 0;
  res->status = status;
}
