/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's HTTP client for what libcups' client cannot do (proxy-private.h): INFRA requests
 * authenticated with the printer's TLS client certificate (libcups 2.4 with GnuTLS presents no
 * client certificate), and the Graph calls of registration. libcurl carries the bytes; the IPP
 * messages are written and read by libcups' ippWriteIO/ippReadIO in memory, so the IPP side is
 * the same as over libcups' own connection.
 */
#include "proxy/proxy-private.h"
#include "util/buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct proxy_http {
  CURL *curl; /* kept between requests: the connection is reused */
  char *ca_file, *cert_file, *key_file;
};

proxy_http_t *proxy_http_new(const char *ca_file, const char *cert_file, const char *key_file) {
  proxy_http_t *h = xcalloc(1, sizeof *h);
  h->curl = curl_easy_init();
  if (!h->curl) {
    free(h);
    return NULL;
  }
  h->ca_file = ca_file ? xstrdup(ca_file) : NULL;
  h->cert_file = cert_file ? xstrdup(cert_file) : NULL;
  h->key_file = key_file ? xstrdup(key_file) : NULL;
  return h;
}

void proxy_http_free(proxy_http_t *h) {
  if (!h) return;
  curl_easy_cleanup(h->curl);
  free(h->ca_file);
  free(h->cert_file);
  free(h->key_file);
  free(h);
}

/* ---- the common request ---------------------------------------------------------------------- */

typedef struct sink {
  buf_t         body;
  int           fd;      /* body to this file instead of memory (Fetch-Document) */
  bool          fd_failed;
  char         *location; /* Operation-Location */
  int           retry_after;
  volatile int *stop;
} sink_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
  sink_t *s = arg;
  size_t len = size * n;
  if (s->fd < 0) {
    buf_append(&s->body, p, len);
    return len;
  }
  for (size_t off = 0; off < len;) {
    ssize_t w = write(s->fd, p + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      s->fd_failed = true;
      return 0; /* curl stops with a write error */
    }
    off += (size_t)w;
  }
  return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
  sink_t *s = arg;
  size_t len = size * n;
  char line[2048];
  snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
  line[strcspn(line, "\r\n")] = '\0';
  if (!strncasecmp(line, "Operation-Location:", 19)) {
    const char *v = line + 19;
    v += strspn(v, " \t");
    free(s->location);
    s->location = xstrdup(v);
  } else if (!strncasecmp(line, "Retry-After:", 12)) {
    s->retry_after = atoi(line + 12);
  }
  return len;
}

/* Called about once a second while a transfer waits: a long poll ends when the proxy stops. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  const sink_t *s = arg;
  return s->stop && *s->stop ? 1 : 0;
}

/* Runs one request; the HTTP status, or 0 with the reason in err. */
static long perform(proxy_http_t *h, const char *method, const char *url,
                    struct curl_slist *headers, const void *body, size_t bodylen, sink_t *s,
                    long timeout_s, char *err, size_t errlen) {
  CURL *c = h->curl;
  curl_easy_reset(c);
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
  if (h->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
  if (h->cert_file) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (h->key_file) {
    curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (!strcmp(method, "POST") || !strcmp(method, "PATCH")) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
    if (strcmp(method, "POST")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  } else {
    snprintf(err, errlen, "%s", s->fd_failed ? "the document could not be written"
                                : *ebuf ? ebuf : curl_easy_strerror(rc));
  }
  return status;
}

/* ---- IPP over HTTP ---------------------------------------------------------------------------- */

static ssize_t write_mem(void *ctx, ipp_uchar_t *data, size_t len) {
  buf_append(ctx, data, len);
  return (ssize_t)len;
}

typedef struct reader {
  const unsigned char *mem; /* the answer in memory, or */
  int                  fd;  /* in this file */
  size_t               len, pos;
} reader_t;

/* ippReadIO asks for exactly the bytes it needs, so pos ends at the end of the IPP message. */
static ssize_t read_src(void *ctx, ipp_uchar_t *data, size_t len) {
  reader_t *r = ctx;
  if (r->mem) {
    size_t n = r->len - r->pos < len ? r->len - r->pos : len;
    memcpy(data, r->mem + r->pos, n);
    r->pos += n;
    return (ssize_t)n;
  }
  ssize_t n = pread(r->fd, data, len, (off_t)r->pos);
  if (n > 0) r->pos += (size_t)n;
  return n;
}

/* Moves the bytes after the IPP answer (the document) to the start of fd. */
static bool shift_document(int fd, size_t from) {
  char buf[65536];
  size_t to = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof buf, (off_t)from);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    if (pwrite(fd, buf, (size_t)n, (off_t)to) != n) return false;
    from += (size_t)n;
    to += (size_t)n;
  }
  return ftruncate(fd, (off_t)to) == 0 && lseek(fd, 0, SEEK_END) >= 0;
}

/* Sends the IPP request req (not consumed) to url; see proxy-private.h. */
ipp_t *proxy_http_ipp(proxy_http_t *h, const char *url, ipp_t *req, int outfd, long timeout_s,
                      volatile int *stop, long *http_status, char *err, size_t errlen) {
  *http_status = 0;
  buf_t out = BUF_INIT;
  ippSetState(req, IPP_STATE_IDLE);
  if (ippWriteIO(&out, write_mem, 1, NULL, req) != IPP_STATE_DATA) {
    snprintf(err, errlen, "the IPP request could not be encoded");
    buf_free(&out);
    return NULL;
  }
  struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/ipp");
  hd = curl_slist_append(hd, "Expect:");
  sink_t s = {.body = BUF_INIT, .fd = outfd, .stop = stop};
  if (outfd >= 0 && (ftruncate(outfd, 0) != 0 || lseek(outfd, 0, SEEK_SET) != 0)) {
    snprintf(err, errlen, "the document file cannot be reset: %s", strerror(errno));
    curl_slist_free_all(hd);
    buf_free(&out);
    return NULL;
  }
  long status = perform(h, "POST", url, hd, out.data, out.len, &s, timeout_s, err, errlen);
  curl_slist_free_all(hd);
  buf_free(&out);
  free(s.location);
  *http_status = status;
  ipp_t *res = NULL;
  if (status == 200) {
    reader_t r = {.mem = outfd < 0 ? (const unsigned char *)s.body.data : NULL, .fd = outfd,
                  .len = s.body.len};
    res = ippNew();
    if (outfd < 0 && !s.body.data) {
      ippDelete(res);
      res = NULL;
    } else if (ippReadIO(&r, read_src, 1, NULL, res) != IPP_STATE_DATA) {
      ippDelete(res);
      res = NULL;
    }
    if (!res) snprintf(err, errlen, "the answer is not an IPP message");
    else if (outfd >= 0 && !shift_document(outfd, r.pos)) {
      snprintf(err, errlen, "the document file cannot be written: %s", strerror(errno));
      ippDelete(res);
      res = NULL;
    }
  } else if (status) {
    snprintf(err, errlen, "HTTP status %ld%s", status,
             status == 401 ? " (the certificate is not this printer's)" : "");
  }
  buf_free(&s.body);
  return res;
}

/* ---- JSON (registration) ------------------------------------------------------------------- */

/* One Graph request; see proxy-private.h. */
long proxy_http_json(proxy_http_t *h, const char *method, const char *url, const char *token,
                     const char *body, char **resp, char **location, int *retry_after,
                     char *err, size_t errlen) {
  struct curl_slist *hd = NULL;
  buf_t auth = BUF_INIT;
  buf_printf(&auth, "Authorization: Bearer %s", token);
  hd = curl_slist_append(hd, auth.data);
  hd = curl_slist_append(hd, "Accept: application/json");
  if (body) hd = curl_slist_append(hd, "Content-Type: application/json");
  sink_t s = {.body = BUF_INIT, .fd = -1};
  long status = perform(h, method, url, hd, body, body ? strlen(body) : 0, &s, 60, err, errlen);
  curl_slist_free_all(hd);
  buf_free(&auth);
  if (resp) *resp = s.body.data ? buf_detach(&s.body) : xstrdup("");
  buf_free(&s.body);
  if (location) *location = s.location;
  else free(s.location);
  if (retry_after) *retry_after = s.retry_after;
  return status;
}
