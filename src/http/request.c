/* SPDX-License-Identifier: Apache-2.0 */
/* Request URI parsing, and accessors over libmicrohttpd's header table. */
#include "http/request.h"
#include "util/buf.h"

#include <ctype.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Percent-decodes [s, s+len) into a new string; '+' stays '+' (RFC 3986, as OData wants).
 * Returns NULL for a malformed escape or an encoded NUL. */
static char *pct_decode(const char *s, size_t len) {
  char *out = xmalloc(len + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '%') {
      if (i + 2 >= len) goto bad;
      int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
      if (a < 0 || b < 0) goto bad;
      char c = (char)(a << 4 | b);
      if (c == '\0') goto bad;
      out[o++] = c;
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
bad:
  free(out);
  return NULL;
}

/* Adds one decoded segment, splitting OData key syntax: "jobs('7')" -> "jobs", "7". A segment
 * whose parentheses hold named parameters (a function call) is kept whole; empty parentheses
 * (a function called without parameters) are dropped: "getCapabilities()" -> "getCapabilities". */
static bool add_segment(http_request_t *req, char *seg) {
  char *open = strchr(seg, '(');
  size_t len = strlen(seg);
  if (open && open != seg && len > 0 && seg[len - 1] == ')') {
    char *inner = open + 1;
    size_t ilen = (size_t)(seg + len - 1 - inner);
    if (ilen == 0) { /* "getCapabilities()": a function called without parameters */
      if (req->nsegs + 1 > HTTP_MAX_SEGMENTS) return false;
      *open = '\0';
      req->segs[req->nsegs++] = seg;
      return true;
    }
    bool quoted = ilen >= 2 && inner[0] == '\'' && inner[ilen - 1] == '\'';
    bool named = false;
    if (!quoted) named = memchr(inner, '=', ilen) != NULL;
    if (!named) {
      if (req->nsegs + 2 > HTTP_MAX_SEGMENTS) return false;
      *open = '\0';
      buf_t key = BUF_INIT;
      if (quoted) {
        for (size_t i = 1; i + 1 < ilen; i++) {
          buf_putc(&key, inner[i]);
          if (inner[i] == '\'' && inner[i + 1] == '\'') i++; /* '' is an escaped quote */
        }
      } else {
        buf_append(&key, inner, ilen);
      }
      req->segs[req->nsegs++] = xstrdup(seg);
      req->segs[req->nsegs++] = buf_detach(&key);
      free(seg);
      return true;
    }
  }
  if (req->nsegs + 1 > HTTP_MAX_SEGMENTS) return false;
  req->segs[req->nsegs++] = seg;
  return true;
}

/* Splits the raw URI into version, segments and query; see request.h. */
bool http_request_parse_uri(http_request_t *req, const char *uri) {
  const char *q = strchr(uri, '?');
  size_t plen = q ? (size_t)(q - uri) : strlen(uri);
  req->raw_path = xstrndup(uri, plen);
  if (plen == 0 || uri[0] != '/') return false;

  const char *p = uri;
  const char *end = uri + plen;
  bool first = true;
  while (p < end) {
    while (p < end && *p == '/') p++;
    if (p >= end) break;
    const char *e = memchr(p, '/', (size_t)(end - p));
    if (!e) e = end;
    char *seg = pct_decode(p, (size_t)(e - p));
    if (!seg) return false;
    if (first && (strcasecmp(seg, "v1.0") == 0 || strcasecmp(seg, "beta") == 0)) {
      req->version = strcasecmp(seg, "beta") == 0 ? API_BETA : API_V1;
      free(seg);
    } else if (!add_segment(req, seg)) {
      free(seg);
      return false;
    }
    first = false;
    p = e;
  }
  /* The extension prefix /spoold/v1 (two segments, matched case-insensitively like the rest). */
  if (req->version == API_NONE && req->nsegs >= 2 && strcasecmp(req->segs[0], "spoold") == 0 &&
      strcasecmp(req->segs[1], "v1") == 0) {
    free(req->segs[0]);
    free(req->segs[1]);
    memmove(req->segs, req->segs + 2, (req->nsegs - 2) * sizeof *req->segs);
    req->nsegs -= 2;
    req->version = API_EXT;
  }

  if (q && q[1]) {
    req->query_string = xstrdup(q + 1);
    size_t cap = 4;
    req->query = xcalloc(cap, sizeof *req->query);
    const char *s = q + 1;
    while (*s) {
      const char *amp = strchr(s, '&');
      size_t len = amp ? (size_t)(amp - s) : strlen(s);
      if (len) {
        const char *eq = memchr(s, '=', len);
        size_t nlen = eq ? (size_t)(eq - s) : len;
        char *name = pct_decode(s, nlen);
        char *value = eq ? pct_decode(eq + 1, len - nlen - 1) : xstrdup("");
        if (!name || !value) {
          free(name);
          free(value);
          return false;
        }
        if (req->nquery == cap) {
          cap *= 2;
          req->query = xrealloc(req->query, cap * sizeof *req->query);
        }
        req->query[req->nquery].name = name;
        req->query[req->nquery].value = value;
        req->nquery++;
      }
      if (!amp) break;
      s = amp + 1;
    }
  }
  return true;
}

/* Frees the parsed URI fields; see request.h. */
void http_request_free_uri(http_request_t *req) {
  for (size_t i = 0; i < req->nsegs; i++) free(req->segs[i]);
  req->nsegs = 0;
  for (size_t i = 0; i < req->nquery; i++) {
    free(req->query[i].name);
    free(req->query[i].value);
  }
  free(req->query);
  req->query = NULL;
  req->nquery = 0;
  free(req->query_string);
  req->query_string = NULL;
  free(req->raw_path);
  req->raw_path = NULL;
}


const char *http_request_header(const http_request_t *req, const char *name) {
  if (!req->conn) {
    for (size_t i = 0; i < req->nheaders; i++)
      if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
  }
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
