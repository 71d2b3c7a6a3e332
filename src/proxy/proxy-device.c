/* SPDX-License-Identifier: Apache-2.0 */
/* The real printer behind a Graph printer: IPP (ipp://, ipps://) through libcups' client, or
 * raw bytes to a JetDirect port (socket://) (proxy-private.h). */
#include "proxy/proxy-private.h"
#include "util/buf.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct proxy_device {
  char             *uri;
  bool              raw;
  char              host[256];
  char              resource[1024];
  int               port;
  http_encryption_t encryption;
  http_t           *http;    /* IPP: the connection, made when first needed */
  char             *formats; /* raw: what the printer takes */
};

/* Printer attributes copied to spoold (Update-Output-Device-Attributes); what spoold does not
 * map it ignores, so the list errs on the side of more. */
static const char *const DESCRIBE[] = {
    "printer-state", "printer-state-reasons", "printer-state-message",
    "printer-is-accepting-jobs", "printer-make-and-model", "color-supported",
    "document-format-supported", "document-format-default", "sides-supported", "sides-default",
    "print-color-mode-supported", "print-color-mode-default", "copies-supported",
    "copies-default", "media-supported", "media-default", "media-type-supported",
    "media-source-supported", "finishings-supported", "finishings-default",
    "print-quality-supported", "print-quality-default", "orientation-requested-supported",
    "orientation-requested-default", "printer-resolution-supported", "printer-resolution-default",
    "number-up-supported", "output-bin-supported", "output-bin-default", "page-ranges-supported",
    "print-scaling-supported", "print-scaling-default", "marker-levels", "marker-names",
    "marker-types", "marker-colors"};

/* Job ticket attributes passed from Fetch-Job to Print-Job. */
static const char *const TICKET[] = {
    "copies", "sides", "media", "media-col", "print-color-mode", "print-quality",
    "orientation-requested", "finishings", "page-ranges", "printer-resolution", "number-up",
    "output-bin", "print-scaling", "multiple-document-handling"};

static bool in_list(const char *name, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(list[i], name)) return true;
  return false;
}

proxy_device_t *proxy_device_new(const char *uri, const char *formats, char *err, size_t errlen) {
  char scheme[32], user[256];
  proxy_device_t *d = xcalloc(1, sizeof *d);
  if (httpSeparateURI(HTTP_URI_CODING_ALL, uri, scheme, sizeof scheme, user, sizeof user, d->host,
                      sizeof d->host, &d->port, d->resource, sizeof d->resource) < HTTP_URI_STATUS_OK) {
    snprintf(err, errlen, "the printer URI '%s' is malformed", uri);
    free(d);
    return NULL;
  }
  if (!strcmp(scheme, "socket")) {
    d->raw = true;
    if (d->port <= 0) d->port = 9100;
  } else if (!strcmp(scheme, "ipp") || !strcmp(scheme, "ipps")) {
    d->encryption = strcmp(scheme, "ipps") ? HTTP_ENCRYPTION_IF_REQUESTED : HTTP_ENCRYPTION_ALWAYS;
    if (d->port <= 0) d->port = 631;
  } else {
    snprintf(err, errlen, "the printer URI '%s' is not ipp://, ipps:// or socket://", uri);
    free(d);
    return NULL;
  }
  d->uri = xstrdup(uri);
  d->formats = xstrdup(formats && *formats ? formats : "application/pdf");
  return d;
}

void proxy_device_free(proxy_device_t *d) {
  if (!d) return;
  if (d->http) httpClose(d->http);
  free(d->uri);
  free(d->formats);
  free(d);
}

bool proxy_device_is_raw(const proxy_device_t *d) { return d->raw; }

static http_t *conn(proxy_device_t *d) {
  if (!d->http)
    d->http = httpConnect2(d->host, d->port, NULL, AF_UNSPEC, d->encryption, 1, 10000, NULL);
  return d->http;
}

/* Sends req (consumed) to the printer; the answer, or NULL (the connection is dropped so the
 * next call reconnects). */
static ipp_t *ipp_call(proxy_device_t *d, ipp_t *req, int infd) {
  http_t *http = conn(d);
  if (!http) {
    ippDelete(req);
    return NULL;
  }
  /* both free req */
  ipp_t *res = infd >= 0 ? cupsDoIORequest(http, req, d->resource, infd, -1)
                         : cupsDoRequest(http, req, d->resource);
  if (!res) {
    httpClose(d->http);
    d->http = NULL;
  }
  return res;
}

static ipp_t *printer_request(proxy_device_t *d, ipp_op_t op) {
  ipp_t *req = ippNewRequest(op);
  ippSetVersion(req, 2, 0);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, d->uri);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, "spoold-proxy");
  return req;
}

/* A raw printer counts as reachable when its port accepts a connection. */
static int raw_connect(proxy_device_t *d) {
  char port[16];
  snprintf(port, sizeof port, "%d", d->port);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
  if (getaddrinfo(d->host, port, &hints, &ai) != 0) return -1;
  int fd = -1;
  for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(ai);
  return fd;
}

static void add_offline(ipp_t *req, const char *why) {
  ippAddInteger(req, IPP_TAG_PRINTER, IPP_TAG_ENUM, "printer-state", IPP_PSTATE_STOPPED);
  ippAddString(req, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-state-reasons", NULL,
               "connecting-to-device");
  ippAddString(req, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-state-message", NULL, why);
}

bool proxy_device_describe(proxy_device_t *d, ipp_t *req) {
  char why[512];
  if (d->raw) {
    int fd = raw_connect(d);
    if (fd < 0) {
      snprintf(why, sizeof why, "The printer at %s does not answer.", d->uri);
      add_offline(req, why);
      return false;
    }
    close(fd);
    ippAddInteger(req, IPP_TAG_PRINTER, IPP_TAG_ENUM, "printer-state", IPP_PSTATE_IDLE);
    ippAddString(req, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-state-reasons", NULL, "none");
    ippAddBoolean(req, IPP_TAG_PRINTER, "printer-is-accepting-jobs", 1);
    char *list = xstrdup(d->formats);
    const char *vals[16];
    int n = 0;
    for (char *save = NULL, *f = strtok_r(list, ",", &save); f && n < 16; f = strtok_r(NULL, ",", &save))
      vals[n++] = f;
    ippAddStrings(req, IPP_TAG_PRINTER, IPP_TAG_MIMETYPE, "document-format-supported", n, NULL, vals);
    free(list);
    return true;
  }
  ipp_t *q = printer_request(d, IPP_OP_GET_PRINTER_ATTRIBUTES);
  ippAddStrings(q, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                (int)(sizeof DESCRIBE / sizeof DESCRIBE[0]), NULL, DESCRIBE);
  ipp_t *res = ipp_call(d, q, -1);
  if (!res || ippGetStatusCode(res) > IPP_STATUS_OK_CONFLICTING) {
    snprintf(why, sizeof why, "The printer at %s does not answer: %s", d->uri,
             cupsLastErrorString());
    ippDelete(res);
    add_offline(req, why);
    return false;
  }
  for (ipp_attribute_t *a = ippFirstAttribute(res); a; a = ippNextAttribute(res)) {
    const char *name = ippGetName(a);
    if (name && ippGetGroupTag(a) == IPP_TAG_PRINTER &&
        in_list(name, DESCRIBE, sizeof DESCRIBE / sizeof DESCRIBE[0]))
      ippCopyAttribute(req, a, 0);
  }
  ippDelete(res);
  return true;
}

static bool raw_print(proxy_device_t *d, int fd, char *msg, size_t msglen) {
  int s = raw_connect(d);
  if (s < 0) {
    snprintf(msg, msglen, "The printer at %s does not answer.", d->uri);
    return false;
  }
  char buf[65536];
  ssize_t n;
  bool ok = lseek(fd, 0, SEEK_SET) == 0;
  while (ok && (n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t off = 0; ok && off < n;) {
      ssize_t w = send(s, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      ok = w > 0;
      off += w > 0 ? w : 0;
    }
  }
  /* Half-close and wait for the printer to close: it has then taken every byte. */
  shutdown(s, SHUT_WR);
  struct pollfd p = {.fd = s, .events = POLLIN};
  while (ok && poll(&p, 1, 30000) > 0 && read(s, buf, sizeof buf) > 0) {
  }
  close(s);
  if (!ok) snprintf(msg, msglen, "Sending to %s failed: %s", d->uri, strerror(errno));
  return ok;
}

bool proxy_device_print(proxy_device_t *d, ipp_t *fetched, const char *job_name,
                        const char *format, int fd, int *device_job, char *msg, size_t msglen) {
  *device_job = 0;
  if (d->raw) return raw_print(d, fd, msg, msglen);
  ipp_t *req = printer_request(d, IPP_OP_PRINT_JOB);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", NULL, job_name);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL,
               format && *format ? format : "application/octet-stream");
  for (ipp_attribute_t *a = ippFirstAttribute(fetched); a; a = ippNextAttribute(fetched)) {
    const char *name = ippGetName(a);
    if (name && ippGetGroupTag(a) == IPP_TAG_JOB && in_list(name, TICKET, sizeof TICKET / sizeof TICKET[0]))
      ippCopyAttribute(req, a, 0);
  }
  if (lseek(fd, 0, SEEK_SET) != 0) {
    ippDelete(req);
    snprintf(msg, msglen, "The fetched document cannot be read: %s", strerror(errno));
    return false;
  }
  ipp_t *res = ipp_call(d, req, fd);
  ipp_status_t st = res ? ippGetStatusCode(res) : cupsLastError();
  if (!res || st > IPP_STATUS_OK_CONFLICTING) {
    snprintf(msg, msglen, "The printer refused the job: %s", cupsLastErrorString());
    ippDelete(res);
    return false;
  }
  ipp_attribute_t *id = ippFindAttribute(res, "job-id", IPP_TAG_INTEGER);
  *device_job = id ? ippGetInteger(id, 0) : 0;
  ippDelete(res);
  if (!*device_job) snprintf(msg, msglen, "The printer answered Print-Job without a job-id.");
  return *device_job > 0;
}

int proxy_device_find_job(proxy_device_t *d, const char *job_name) {
  if (d->raw) return 0;
  ipp_t *req = printer_request(d, IPP_OP_GET_JOBS);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", NULL, "all");
  static const char *const want[] = {"job-id", "job-name"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 2, NULL, want);
  ipp_t *res = ipp_call(d, req, -1);
  int found = 0, id = 0;
  for (ipp_attribute_t *a = res ? ippFirstAttribute(res) : NULL; a && !found; a = ippNextAttribute(res)) {
    const char *name = ippGetName(a);
    if (!name) continue;
    if (!strcmp(name, "job-id")) id = ippGetInteger(a, 0);
    else if (!strcmp(name, "job-name") && !strcmp(ippGetString(a, 0, NULL), job_name)) found = id;
  }
  ippDelete(res);
  return found;
}

int proxy_device_job_state(proxy_device_t *d, int device_job, char *reasons, size_t reasonslen,
                           int *impressions) {
  ipp_t *req = printer_request(d, IPP_OP_GET_JOB_ATTRIBUTES);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", device_job);
  static const char *const want[] = {"job-state", "job-state-reasons", "job-impressions-completed"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 3, NULL, want);
  ipp_t *res = ipp_call(d, req, -1);
  int state = 0;
  if (res && ippGetStatusCode(res) <= IPP_STATUS_OK_CONFLICTING) {
    ipp_attribute_t *a = ippFindAttribute(res, "job-state", IPP_TAG_ENUM);
    state = a ? ippGetInteger(a, 0) : 0;
    a = ippFindAttribute(res, "job-state-reasons", IPP_TAG_KEYWORD);
    if (reasons) snprintf(reasons, reasonslen, "%s", a ? ippGetString(a, 0, NULL) : "none");
    a = ippFindAttribute(res, "job-impressions-completed", IPP_TAG_INTEGER);
    if (impressions) *impressions = a ? ippGetInteger(a, 0) : -1;
  } else if (res && ippGetStatusCode(res) == IPP_STATUS_ERROR_NOT_FOUND) {
    state = PROXY_DEVICE_JOB_GONE; /* the printer forgot it (restarted): it is not printing it */
  }
  ippDelete(res);
  return state;
}

bool proxy_device_cancel(proxy_device_t *d, int device_job) {
  if (d->raw || device_job <= 0) return false;
  ipp_t *req = printer_request(d, IPP_OP_CANCEL_JOB);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", device_job);
  ipp_t *res = ipp_call(d, req, -1);
  bool ok = res && ippGetStatusCode(res) <= IPP_STATUS_OK_CONFLICTING;
  ippDelete(res);
  return ok;
}

/* The printer's make and model for registration; see proxy-private.h. */
void proxy_device_make_model(proxy_device_t *d, char *make, size_t makelen, char *model,
                             size_t modellen) {
  snprintf(make, makelen, "%s", d->raw ? "Generic" : "Unknown");
  snprintf(model, modellen, "%s", d->raw ? "JetDirect printer" : "IPP printer");
  if (d->raw) return;
  ipp_t *q = printer_request(d, IPP_OP_GET_PRINTER_ATTRIBUTES);
  static const char *const want[] = {"printer-make-and-model"};
  ippAddStrings(q, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 1, NULL, want);
  ipp_t *res = ipp_call(d, q, -1);
  ipp_attribute_t *a = res ? ippFindAttribute(res, "printer-make-and-model", IPP_TAG_TEXT) : NULL;
  const char *mm = a ? ippGetString(a, 0, NULL) : NULL;
  if (mm && *mm) {
    size_t sp = strcspn(mm, " ");
    snprintf(make, makelen, "%.*s", (int)sp, mm);
    snprintf(model, modellen, "%s", mm[sp] ? mm + sp + 1 : mm);
  }
  ippDelete(res);
}
