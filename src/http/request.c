/* SPDX-License-Identifier: Apache-2.0 */
/* Request accessors over libmicrohttpd's header table. */
#include "http/request.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

const char *http_request_header(const http_request_t *req, const char *name) {
  if (!req->conn) return NULL;
  return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_query(const http_request_t *req, const char *name) {
  for (size_t i = 0; i < req->nquery; i++)
    if (strcmp(req->query[i].name, name) == 0) return req->query[i].value;
  return NULL;
}

const char *http_request_param(const http_request_t *req, size_t i) {
  return i < req->nparams ? req->params[i] : NULL;
}

void http_request_media_type(const http_request_t *req, char *out, size_t outlen) {
  const char *ct = http_request_header(req, "Content-Type");
  size_t n = 0;
  if (ct) {
    while (*ct == ' ') ct++;
    while (ct[n] && ct[n] != ';' && ct[n] != ' ' && n + 1 < outlen) {
      out[n] = (char)tolower((unsigned char)ct[n]);
      n++;
    }
  }
  out[n] = '\0';
}
