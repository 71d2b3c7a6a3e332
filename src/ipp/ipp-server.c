/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA endpoint: POST /ipp/print/{printerId}.
 *
 * Every request runs the same steps: authenticate the device (device-auth.c; HTTP 401/403
 * before any IPP is parsed) -> check the tenant's subscription -> decode the body with libcups
 * (ippReadIO over the buffered body) -> validate it as RFC 8011 §4.1 asks (version, request-id,
 * group order, attributes-charset and attributes-natural-language first, the target URI naming
 * this printer) -> record lastSeenDateTime -> call the operation's handler -> encode the
 * response (ippWriteIO into memory) and send it, followed by the document for Fetch-Document.
 * Malformed requests get an IPP status (client-error-bad-request,
 * server-error-version-not-supported, ...), never a crash; bodies are bounded by --max-body.
 *
 * Long polling: Get-Notifications with notify-wait parks the request (server_park) instead of
 * blocking a worker thread; commits that write IPP events wake it (store_ipp_set_listener).
 */
#include "ipp/ipp.h"
#include "auth/identity.h"
#include "blob/blob.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "ipp/ipp-private.h"
#include "ipp/share-ipp.h"
#include "util/buf.h"
#include "mapping/mapping.h"
#include "util/failguard.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- what the endpoint supports ----------------------------------------------------------- */

const ipp_op_t IPP_OPERATIONS[] = {
    IPP_OP_GET_JOB_ATTRIBUTES,
    IPP_OP_GET_JOBS,
    IPP_OP_GET_PRINTER_ATTRIBUTES,
    IPP_OP_GET_SUBSCRIPTION_ATTRIBUTES,
    IPP_OP_GET_SUBSCRIPTIONS,
    IPP_OP_CREATE_PRINTER_SUBSCRIPTIONS,
    IPP_OP_RENEW_SUBSCRIPTION,
    IPP_OP_CANCEL_SUBSCRIPTION,
    IPP_OP_GET_NOTIFICATIONS,
    IPP_OP_ACKNOWLEDGE_DOCUMENT,
    IPP_OP_ACKNOWLEDGE_JOB,
    IPP_OP_FETCH_DOCUMENT,
    IPP_OP_FETCH_JOB,
    IPP_OP_GET_OUTPUT_DEVICE_ATTRIBUTES,
    IPP_OP_UPDATE_ACTIVE_JOBS,
    IPP_OP_DEREGISTER_OUTPUT_DEVICE,
    IPP_OP_UPDATE_DOCUMENT_STATUS,
    IPP_OP_UPDATE_JOB_STATUS,
    IPP_OP_UPDATE_OUTPUT_DEVICE_ATTRIBUTES,
    IPP_OP_ACKNOWLEDGE_IDENTIFY_PRINTER,
    0,
};

const char *const IPP_EVENTS[] = {
    "job-completed",          "job-fetchable",        "job-state-changed", "job-stopped",
    "printer-config-changed", "printer-state-changed", "printer-stopped",  NULL,
};

/* ---- responses ----------------------------------------------------------------------------- */

/* Sets status and status-message; see ipp-private.h. The message is added to the operation
 * group when the response is written (after other groups may have been added). */
void ipp_respond(ipp_client_t *c, ipp_status_t status, const char *fmt, ...) {
  const char *busy = NULL;
  if (status == IPP_STATUS_ERROR_INTERNAL && c->req) {
    /* A write given up because it kept conflicting with concurrent writes is transient:
     * server-error-busy, which clients retry (as Graph answers 503). Either is logged with
     * what the store met. */
    if (store_write_busy_since(c->req->start_us)) {
      status = IPP_STATUS_ERROR_BUSY;
      busy = "The change kept conflicting with concurrent changes and was not made; retry "
             "shortly.";
    }
    const char *cause = store_failure_since(c->req->start_us);
    if (!cause) cause = "no database error was noted for it (see the lines before)";
    const char *path = c->req->raw_path ? c->req->raw_path : "?";
    if (busy)
      log_warn("ipp: %s on %s (request-id %s) answered %s: %s", ippOpString(c->op), path,
               c->req->request_id, ippErrorString(status), cause);
    else
      log_error("ipp: %s on %s (request-id %s) answered %s: %s", ippOpString(c->op), path,
                c->req->request_id, ippErrorString(status), cause);
  }
  ippSetStatusCode(c->response, status);
  if (busy) {
    snprintf(c->status_message, sizeof c->status_message, "%s", busy);
    return;
  }
  if (!fmt) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->status_message, sizeof c->status_message, fmt, ap);
  va_end(ap);
}

/* Copies attr into the unsupported group; see ipp-private.h. */
void ipp_respond_unsupported(ipp_client_t *c, ipp_attribute_t *attr) {
  if (!attr) return;
  ipp_attribute_t *copy = ippCopyAttribute(c->response, attr, 0);
  if (copy) ippSetGroupTag(c->response, &copy, IPP_TAG_UNSUPPORTED_GROUP);
}

/* The operation attribute name; see ipp-private.h. */
ipp_attribute_t *ipp_op_attr(ipp_client_t *c, const char *name, ipp_tag_t tag) {
  ipp_attribute_t *a = ippFindAttribute(c->request, name, IPP_TAG_ZERO);
  if (!a || ippGetGroupTag(a) != IPP_TAG_OPERATION) return NULL;
  if (tag != IPP_TAG_ZERO && ippGetValueTag(a) != tag) return NULL;
  return a;
}

bool ipp_wants(cups_array_t *ra, const char *name) {
  return !ra || cupsArrayFind(ra, (void *)name) != NULL;
}

/* Printer attributes returned only when requested by name. */
static const char *const IPP_NAMED_ONLY[] = {"media-col-database"};

bool ipp_wants_printer_attr(cups_array_t *ra, const char *name) {
  if (ra) return cupsArrayFind(ra, (void *)name) != NULL;
  for (size_t i = 0; i < sizeof IPP_NAMED_ONLY / sizeof IPP_NAMED_ONLY[0]; i++)
    if (!strcmp(name, IPP_NAMED_ONLY[i])) return false;
  return true;
}

/* output-device-uuid; see ipp-private.h. */
bool ipp_require_device_uuid(ipp_client_t *c) {
  ipp_attribute_t *a = ippFindAttribute(c->request, "output-device-uuid", IPP_TAG_ZERO);
  if (!a) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Missing required output-device-uuid.");
    return false;
  }
  const char *v = ippGetString(a, 0, NULL);
  if (ippGetValueTag(a) != IPP_TAG_URI || ippGetCount(a) != 1 || !v || !*v || strlen(v) > 255) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "output-device-uuid must be one uri value.");
    ipp_respond_unsupported(c, a);
    return false;
  }
  c->device_uuid = v;
  return true;
}

/* job-id or job-uri; see ipp-private.h. */
bool ipp_require_job_id(ipp_client_t *c) {
  if (c->job_id > 0) return true;
  ipp_attribute_t *a = ipp_op_attr(c, "job-id", IPP_TAG_ZERO);
  if (a) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "job-id must be one positive integer.");
    ipp_respond_unsupported(c, a);
  } else {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Missing required job-id (or job-uri).");
  }
  return false;
}

/* A device transition's refusal; see ipp-private.h. */
void ipp_respond_refusal(ipp_client_t *c, const store_ipp_result_t *r) {
  ipp_status_t status = IPP_STATUS_ERROR_NOT_POSSIBLE;
  if (r->refusal == STORE_IPP_REFUSED_NOT_FETCHABLE) status = IPP_STATUS_ERROR_NOT_FETCHABLE;
  ipp_respond(c, status, "%s", r->why ? r->why : "The job's state does not allow this.");
}

/* Not found or store failure; see ipp-private.h. */
void ipp_respond_job_rc(ipp_client_t *c, store_rc_t rc) {
  if (rc == STORE_NOT_FOUND)
    ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "Job #%" PRId64 " does not exist on this printer.",
                c->job_id);
  else
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The job could not be read; retry shortly.");
}

void ipp_respond_transition(ipp_client_t *c, store_rc_t rc, const store_ipp_result_t *r) {
  if (rc == STORE_OK) ipp_respond(c, IPP_STATUS_OK, NULL);
  else if (rc == STORE_CONFLICT) ipp_respond_refusal(c, r);
  else ipp_respond_job_rc(c, rc);
}

void ipp_job_uri(ipp_client_t *c, int64_t job_id, char *out, size_t outlen) {
  snprintf(out, outlen, "%s/%" PRId64, c->printer_uri, job_id);
}

int ipp_up_time(ipp_client_t *c, int64_t us) {
  int64_t s = (us - c->printer.registered_us) / 1000000;
  return s < 1 ? 1 : s > 2147483647 ? 2147483647 : (int)s;
}

/* ---- decoding and encoding ------------------------------------------------------------------ */

/* A plain-text HTTP answer; see ipp-private.h. */
void ipp_reply_http(ipp_client_t *c, int status, const char *msg) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s\n", msg);
  size_t len = b.len;
  http_response_body(c->res, status, "text/plain; charset=utf-8", buf_detach(&b), len);
}

/* The response with its groups in RFC 8011 order: the operation group (status-message after
 * attributes-charset and attributes-natural-language), then the unsupported-attributes group,
 * then the others as the handler added them (separators kept). */
static ipp_t *ordered_response(ipp_client_t *c) {
  ipp_t *in = c->response, *out = ippNew();
  int minor, major = ippGetVersion(in, &minor);
  ippSetVersion(out, major, minor);
  ippSetRequestId(out, ippGetRequestId(in));
  ippSetStatusCode(out, ippGetStatusCode(in));
  static const ipp_tag_t passes[] = {IPP_TAG_OPERATION, IPP_TAG_UNSUPPORTED_GROUP, IPP_TAG_ZERO};
  for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++) {
    ipp_tag_t prev = IPP_TAG_ZERO;
    for (ipp_attribute_t *a = ippFirstAttribute(in); a; a = ippNextAttribute(in)) {
      ipp_tag_t g = ippGetGroupTag(a);
      if (!ippGetName(a)) { /* a separator between two groups of the same kind */
        if (passes[p] == IPP_TAG_ZERO && prev != IPP_TAG_ZERO) ippAddSeparator(out);
        prev = IPP_TAG_ZERO;
        continue;
      }
      bool mine = passes[p] == IPP_TAG_ZERO ? g != IPP_TAG_OPERATION && g != IPP_TAG_UNSUPPORTED_GROUP
                                            : g == passes[p];
      if (!mine) continue;
      ippCopyAttribute(out, a, 0);
      prev = g;
      if (passes[p] == IPP_TAG_OPERATION && c->status_message[0] &&
          !strcmp(ippGetName(a), "attributes-natural-language"))
        ippAddString(out, IPP_TAG_OPERATION, IPP_TAG_TEXT, "status-message", NULL, c->status_message);
    }
  }
  return out;
}

/* Sends c->response (and the document of Fetch-Document); see ipp-private.h. */
void ipp_reply(ipp_client_t *c) {
  size_t len = 0;
  ipp_t *ordered = ordered_response(c);
  char *body = ipp_map_encode(ordered, &len);
  ippDelete(ordered);
  if (!body) {
    log_error("ipp: cannot encode the response to %s", ippOpString(c->op));
    ipp_reply_http(c, 500, "The server could not encode its IPP response.");
    return;
  }
  http_response_body(c->res, 200, "application/ipp", body, len);
  if (c->doc_read) {
    c->res->src_read = c->doc_read;
    c->res->src_free = c->doc_free;
    c->res->src_arg = c->doc_arg;
    c->res->src_offset = 0;
    c->res->src_len = c->doc_len;
    c->doc_read = NULL;
    c->doc_free = NULL;
    c->doc_arg = NULL;
  }
  if (c->doc_fd >= 0) {
    c->res->fd = c->doc_fd;
    c->res->fd_offset = 0;
    c->res->fd_len = c->doc_len;
    c->doc_fd = -1;
  }
}

/* A new response for request; see ipp-private.h. */
ipp_t *ipp_new_response(ipp_t *request, int major, int minor, int request_id) {
  ipp_t *r = ippNew();
  ippSetVersion(r, major, minor);
  ippSetRequestId(r, request_id);
  ippSetStatusCode(r, IPP_STATUS_OK);
  ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_CHARSET, "attributes-charset", NULL, "utf-8");
  const char *lang = "en";
  ipp_attribute_t *a = request ? ippFindAttribute(request, "attributes-natural-language",
                                                  IPP_TAG_LANGUAGE)
                               : NULL;
  const char *v = a ? ippGetString(a, 0, NULL) : NULL;
  if (v && strlen(v) < 64) lang = v;
  ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_LANGUAGE, "attributes-natural-language", NULL, lang);
  return r;
}

/* ---- validation ----------------------------------------------------------------------------- */

/* The path of a URI ("ipp://host:631/ipp/print/x" -> "/ipp/print/x") into out, without a
 * trailing slash; false when uri is not an absolute ipp/ipps/http/https URI. */
static bool uri_path(const char *uri, char *out, size_t outlen) {
  const char *sep = strstr(uri, "://");
  if (!sep) return false;
  size_t slen = (size_t)(sep - uri);
  static const char *const schemes[] = {"ipp", "ipps", "http", "https"};
  bool ok = false;
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
    ok = ok || (strlen(schemes[i]) == slen && !strncasecmp(uri, schemes[i], slen));
  if (!ok) return false;
  const char *path = strchr(sep + 3, '/');
  if (!path) return false;
  size_t n = strcspn(path, "?#");
  if (n >= outlen) return false;
  memcpy(out, path, n);
  out[n] = '\0';
  while (n > 1 && out[n - 1] == '/') out[--n] = '\0';
  return true;
}

/* Checks the target (printer-uri, or job-uri): it must name this printer. Sets printer_uri and
 * job_id. false after answering. */
static bool check_target(ipp_client_t *c) {
  ipp_attribute_t *pu = ipp_op_attr(c, "printer-uri", IPP_TAG_ZERO);
  ipp_attribute_t *ju = pu ? NULL : ipp_op_attr(c, "job-uri", IPP_TAG_ZERO);
  ipp_attribute_t *t = pu ? pu : ju;
  if (!t) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Missing required printer-uri.");
    return false;
  }
  const char *uri = ippGetString(t, 0, NULL);
  char path[1024], want[sizeof c->target];
  if (ippGetValueTag(t) != IPP_TAG_URI || ippGetCount(t) != 1 || !uri ||
      !uri_path(uri, path, sizeof path)) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Bad %s value.", ippGetName(t));
    ipp_respond_unsupported(c, t);
    return false;
  }
  snprintf(want, sizeof want, "%s", c->target);
  size_t wl = strlen(want);
  if (strncasecmp(path, want, wl) != 0 || (path[wl] && path[wl] != '/')) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "The %s does not name this printer (%s).",
                ippGetName(t), want);
    return false;
  }
  size_t ulen = strlen(uri);
  const char *rest = path + wl;
  if (ju) {
    /* job-uri: "<printer-uri>/<job-id>" */
    char *end;
    long long id = rest[0] == '/' ? strtoll(rest + 1, &end, 10) : 0;
    if (id <= 0 || id > 2147483647 || *end) {
      ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "The job-uri does not name a job.");
      return false;
    }
    c->job_id = id;
    const char *slash = strrchr(uri, '/');
    c->printer_uri = xstrndup(uri, (size_t)(slash - uri));
  } else {
    if (*rest) {
      ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "The printer-uri does not name this printer.");
      return false;
    }
    while (ulen > 1 && uri[ulen - 1] == '/') ulen--;
    c->printer_uri = xstrndup(uri, ulen);
    ipp_attribute_t *jid = ipp_op_attr(c, "job-id", IPP_TAG_ZERO);
    if (jid && ippGetValueTag(jid) == IPP_TAG_INTEGER && ippGetCount(jid) == 1 &&
        ippGetInteger(jid, 0) > 0)
      c->job_id = ippGetInteger(jid, 0);
  }
  return true;
}

/* RFC 8011 §4.1 checks of the request; see ipp-private.h. */
bool ipp_validate(ipp_client_t *c) {
  ipp_t *rq = c->request;
  int minor, major = ippGetVersion(rq, &minor);
  if (major < 1 || major > 2) {
    ippSetVersion(c->response, 1, 1);
    ipp_respond(c, IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED,
                "IPP version %d.%d is not supported; use 1.1 or 2.0.", major, minor);
    return false;
  }
  if (ippGetRequestId(rq) <= 0) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "The request-id must be greater than 0.");
    return false;
  }
  ipp_tag_t prev = IPP_TAG_ZERO;
  for (ipp_attribute_t *a = ippFirstAttribute(rq); a; a = ippNextAttribute(rq)) {
    ipp_tag_t g = ippGetGroupTag(a);
    if (g == IPP_TAG_ZERO) continue;
    if (g < prev) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Attribute groups are out of order (%s "
                  "after %s).", ippTagString(g), ippTagString(prev));
      return false;
    }
    prev = g;
    if (!ippGetName(a) || !*ippGetName(a)) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "An attribute has no name.");
      return false;
    }
  }
  ipp_attribute_t *cs = ippFirstAttribute(rq);
  ipp_attribute_t *nl = cs ? ippNextAttribute(rq) : NULL;
  if (!cs || ippGetGroupTag(cs) != IPP_TAG_OPERATION || strcmp(ippGetName(cs), "attributes-charset") ||
      ippGetValueTag(cs) != IPP_TAG_CHARSET || ippGetCount(cs) != 1) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST,
                "attributes-charset must be the first operation attribute.");
    return false;
  }
  if (!nl || ippGetGroupTag(nl) != IPP_TAG_OPERATION ||
      strcmp(ippGetName(nl), "attributes-natural-language") ||
      ippGetValueTag(nl) != IPP_TAG_LANGUAGE || ippGetCount(nl) != 1) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST,
                "attributes-natural-language must be the second operation attribute.");
    return false;
  }
  const char *charset = ippGetString(cs, 0, NULL);
  if (!charset || (strcasecmp(charset, "utf-8") && strcasecmp(charset, "us-ascii"))) {
    ipp_respond(c, IPP_STATUS_ERROR_CHARSET, "Character set \"%s\" is not supported; use utf-8.",
                charset ? charset : "");
    ipp_respond_unsupported(c, cs);
    return false;
  }
  if (!check_target(c)) return false;
  ipp_attribute_t *user = ipp_op_attr(c, "requesting-user-name", IPP_TAG_ZERO);
  if (user && (ippGetValueTag(user) == IPP_TAG_NAME || ippGetValueTag(user) == IPP_TAG_NAMELANG))
    c->user = ippGetString(user, 0, NULL);
  return true;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static void dispatch(ipp_client_t *c) {
  switch (c->op) {
    case IPP_OP_GET_PRINTER_ATTRIBUTES: ipp_get_printer_attributes(c); break;
    case IPP_OP_GET_JOBS: ipp_get_jobs(c); break;
    case IPP_OP_GET_JOB_ATTRIBUTES: ipp_get_job_attributes(c); break;
    case IPP_OP_CREATE_PRINTER_SUBSCRIPTIONS: ipp_create_printer_subscriptions(c); break;
    case IPP_OP_GET_SUBSCRIPTION_ATTRIBUTES: ipp_get_subscription_attributes(c); break;
    case IPP_OP_GET_SUBSCRIPTIONS: ipp_get_subscriptions(c); break;
    case IPP_OP_RENEW_SUBSCRIPTION: ipp_renew_subscription(c); break;
    case IPP_OP_CANCEL_SUBSCRIPTION: ipp_cancel_subscription(c); break;
    case IPP_OP_GET_NOTIFICATIONS: ipp_get_notifications(c); break;
    case IPP_OP_ACKNOWLEDGE_DOCUMENT: ipp_acknowledge_document(c); break;
    case IPP_OP_ACKNOWLEDGE_JOB: ipp_acknowledge_job(c); break;
    case IPP_OP_FETCH_DOCUMENT: ipp_fetch_document(c); break;
    case IPP_OP_FETCH_JOB: ipp_fetch_job(c); break;
    case IPP_OP_GET_OUTPUT_DEVICE_ATTRIBUTES: ipp_get_output_device_attributes(c); break;
    case IPP_OP_UPDATE_ACTIVE_JOBS: ipp_update_active_jobs(c); break;
    case IPP_OP_DEREGISTER_OUTPUT_DEVICE: ipp_deregister_output_device(c); break;
    case IPP_OP_UPDATE_DOCUMENT_STATUS: ipp_update_document_status(c); break;
    case IPP_OP_UPDATE_JOB_STATUS: ipp_update_job_status(c); break;
    case IPP_OP_UPDATE_OUTPUT_DEVICE_ATTRIBUTES: ipp_update_output_device_attributes(c); break;
    case IPP_OP_ACKNOWLEDGE_IDENTIFY_PRINTER: ipp_acknowledge_identify_printer(c); break;
    default:
      ipp_respond(c, IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED,
                  "Operation 0x%04x (%s) is not supported by this infrastructure printer.",
                  (unsigned)c->op, ippOpString(c->op));
      break;
  }
}

/* Answers an authentication failure at the HTTP level. */
static void reply_auth(ipp_client_t *c, ipp_auth_result_t rc, const char *why) {
  char msg[512];
  switch (rc) {
    case IPP_AUTH_FORBIDDEN:
      snprintf(msg, sizeof msg, "Forbidden: %.480s.", why);
      ipp_reply_http(c, 403, msg);
      return;
    case IPP_AUTH_ERROR:
      http_response_header(c->res, "Retry-After", "5");
      ipp_reply_http(c, 503, "The printer's credentials could not be checked; retry shortly.");
      return;
    default:
      snprintf(msg, sizeof msg, "Unauthorized: %.480s.", why);
      ipp_reply_http(c, 401, msg);
      http_response_header(c->res, "WWW-Authenticate", IPP_DEVICE_WWW_AUTHENTICATE);
      return;
  }
}

/* ---- repeated authentication failures ------------------------------------------------------ */

/* A device that keeps failing authentication (ippproxy retries at once, thousands of times a
 * second) is answered more and more slowly, per client address and credential, and per
 * address whatever the credential; the request is parked meanwhile, so no worker thread waits.
 * Its log lines are written once per interval with a count. A request without credentials
 * (the HTTP challenge that precedes every authenticated exchange) is never delayed. */
#define AUTH_FREE_PER_CREDENTIAL 2   /* failures answered at once */
#define AUTH_FREE_PER_ADDRESS 20
#define AUTH_DELAY_BASE_MS 250       /* then 250 ms, 500 ms, 1 s, 2 s, 4 s, 4 s, ... */
#define AUTH_DELAY_MAX_MS 4000
#define AUTH_WINDOW_S 60             /* a key quiet this long starts again */
#define AUTH_LOG_INTERVAL_S 10       /* one logged failure per key per interval */

/* Makes app->ipp; see ipp.h. */
void ipp_open(app_t *app) {
  failguard_config_t cred = {AUTH_FREE_PER_CREDENTIAL, AUTH_DELAY_BASE_MS, AUTH_DELAY_MAX_MS,
                             (int64_t)AUTH_WINDOW_S * 1000000,
                             (int64_t)AUTH_LOG_INTERVAL_S * 1000000, 4096};
  failguard_config_t addr = cred;
  addr.free = AUTH_FREE_PER_ADDRESS;
  addr.capacity = 1024;
  ipp_endpoint_t *st = xcalloc(1, sizeof *st);
  st->fail_cred = failguard_new(&cred);
  st->fail_addr = failguard_new(&addr);
  pthread_mutex_init(&st->pw_mu, NULL);
  app->ipp = st;
}

/* Frees app->ipp; see ipp.h. */
void ipp_close(app_t *app) {
  ipp_endpoint_t *st = app->ipp;
  if (!st) return;
  failguard_free(st->fail_cred);
  failguard_free(st->fail_addr);
  pthread_mutex_destroy(&st->pw_mu);
  OPENSSL_cleanse(st->pw_cache, sizeof st->pw_cache);
  free(st);
  app->ipp = NULL;
}

/* The failure key of req: its client address and its credential ("" without one). */
static char *guard_key(const http_request_t *req) {
  const char *auth = http_request_header(req, "Authorization");
  buf_t k = BUF_INIT;
  buf_printf(&k, "%s\n%s", req->peer, auth ? auth : "");
  return buf_detach(&k);
}

/* An authentication failure held back before it is answered (req->handler_state). */
typedef struct auth_hold {
  int64_t           until_us; /* monotonic */
  ipp_auth_result_t rc;
  char              why[512];
} auth_hold_t;

static void auth_hold_cleanup(http_request_t *req) {
  free(req->handler_state);
  req->handler_state = NULL;
}

/* Counts a failed authentication and logs it; see ipp-private.h. */
unsigned ipp_auth_failure(http_request_t *req, int64_t now_us, bool no_credentials,
                          const char *what, const char *why) {
  app_t *app = APP(req);
  failguard_verdict_t v = {.log = true}, va = {0}; /* without ipp_open: logged, never held */
  if (app->ipp) {
    char *key = guard_key(req);
    failguard_fail(app->ipp->fail_cred, key, strlen(key), now_us, &v);
    if (!no_credentials)
      failguard_fail(app->ipp->fail_addr, req->peer, strlen(req->peer), now_us, &va);
    free(key);
  }
  if (!v.log) {
    req->log_quiet = true;
  } else if (!no_credentials) {
    char more[96] = "";
    if (v.unlogged)
      snprintf(more, sizeof more, " (%" PRIu64 " more failures with this credential not logged "
               "since the last report)", v.unlogged);
    log_warn("ipp: %s from %s: %s%s", what, req->peer, why, more);
  }
  if (no_credentials) return 0;
  return v.delay_ms > va.delay_ms ? v.delay_ms : va.delay_ms;
}

/* Forgets the failures of req's credential; see ipp-private.h. */
void ipp_auth_success(http_request_t *req) {
  app_t *app = APP(req);
  if (!http_request_header(req, "Authorization") || !app->ipp) return;
  char *key = guard_key(req);
  failguard_forget(app->ipp->fail_cred, key, strlen(key));
  free(key);
}

/* Failed device authentications held (parked). A process-wide counter, like every counter of
 * /metrics: the registry (http/metrics.c) is the process's, and its collector takes no app. */
static atomic_uint_fast64_t g_auth_held;

static void auth_metrics(buf_t *out, void *arg) {
  (void)arg;
  buf_printf(out,
             "# HELP spoold_ipp_auth_failures_held_total Failed device authentications on "
             "/ipp/print answered late because the credential kept failing.\n"
             "# TYPE spoold_ipp_auth_failures_held_total counter\n"
             "spoold_ipp_auth_failures_held_total %llu\n",
             (unsigned long long)atomic_load(&g_auth_held));
}

/* Answers a failed authentication: counts it, logs it (or not, see above) and answers it now
 * or, when the client keeps failing, parks the request and answers on a later run. */
static void auth_failed(ipp_client_t *c, ipp_auth_result_t rc, const char *why) {
  http_request_t *req = c->req;
  char what[128];
  snprintf(what, sizeof what, "device authentication failed for printer %.64s",
           http_request_param(req, 0) ? http_request_param(req, 0) : "-");
  unsigned d = ipp_auth_failure(req, c->now_us, rc == IPP_AUTH_NONE, what, why);
  unsigned delay = rc == IPP_AUTH_ERROR ? 0 : d;
  if (delay && server_park(req, delay)) {
    atomic_fetch_add(&g_auth_held, 1);
    auth_hold_t *h = xcalloc(1, sizeof *h);
    h->until_us = time_mono_us() + (int64_t)delay * 1000;
    h->rc = rc;
    snprintf(h->why, sizeof h->why, "%s", why);
    req->handler_state = h;
    req->cleanup = auth_hold_cleanup;
    return;
  }
  reply_auth(c, rc, why);
}

/* POST /ipp/print/{printerId} */
static void ipp_post(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  ipp_client_t c = {.req = req, .res = res, .app = app, .store = app->store, .doc_fd = -1,
                    .now_us = time_now_us()};
  snprintf(c.target, sizeof c.target, "/ipp/print/%s", http_request_param(req, 0));
  if (req->cleanup == auth_hold_cleanup) { /* a held failure: answer once its time is up */
    auth_hold_t *h = req->handler_state;
    int64_t left_ms = (h->until_us - time_mono_us() + 999) / 1000;
    if (left_ms <= 0 || !server_park(req, (unsigned)left_ms)) reply_auth(&c, h->rc, h->why);
    return;
  }
  char why[512];
  ipp_auth_result_t arc = ipp_device_authenticate(req, app->store, http_request_param(req, 0),
                                                  &c.device, why, sizeof why);
  if (arc != IPP_AUTH_OK) {
    auth_failed(&c, arc, why);
    return;
  }
  /* a credential that works now owes nothing for its earlier failures */
  if (req->handler_state == NULL) ipp_auth_success(req);
  if (!req->log_tenant) req->log_tenant = xstrdup(c.device.tenant);
  caller_t device = {.kind = CALLER_DEVICE, .tenant = c.device.tenant};
  int trc = auth_tenant_check(app->auth, app->store, &device, why, sizeof why);
  if (trc != AUTH_TENANT_ACTIVE) {
    if (trc == AUTH_TENANT_ERROR) {
      http_response_header(res, "Retry-After", "5");
      ipp_reply_http(&c, 503, "The tenant's subscription could not be checked; retry shortly.");
    } else {
      snprintf(why + strlen(why), sizeof why - strlen(why), ".");
      ipp_reply_http(&c, 403, why);
    }
    goto out;
  }
  /* lastSeenDateTime: every authenticated device request counts, well-formed or not. */
  if (store_ipp_printer_seen(app->store, c.device.tenant, c.device.printer_id, c.now_us) != STORE_OK)
    log_warn("ipp: cannot record lastSeenDateTime of printer %s", c.device.printer_id);
  char mt[64];
  http_request_media_type(req, mt, sizeof mt);
  if (strcmp(mt, "application/ipp") != 0) {
    ipp_reply_http(&c, 400, "The request body must be application/ipp.");
    goto out;
  }
  const unsigned char *body = (const unsigned char *)req->body;
  if (!body || req->body_len < 9) {
    ipp_reply_http(&c, 400, "The request body is not an IPP message.");
    goto out;
  }
  int major = body[0], minor = body[1];
  int request_id = (int)((uint32_t)body[4] << 24 | (uint32_t)body[5] << 16 |
                         (uint32_t)body[6] << 8 | body[7]);
  c.op = (ipp_op_t)(body[2] << 8 | body[3]);
  c.request = ippNew();
  ipp_state_t state = ipp_map_decode(body, req->body_len, c.request, NULL);
  bool ok_version = major >= 1 && major <= 2;
  c.response = ipp_new_response(state == IPP_STATE_DATA ? c.request : NULL,
                            ok_version ? major : 1, ok_version ? minor : 1, request_id);
  if (state != IPP_STATE_DATA) {
    ipp_respond(&c, ok_version ? IPP_STATUS_ERROR_BAD_REQUEST
                               : IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED,
                "The IPP request could not be decoded (truncated or malformed attributes).");
  } else if (ipp_validate(&c)) {
    store_rc_t rc = store_printer_get(app->store, c.device.tenant, c.device.printer_id, &c.printer);
    if (rc == STORE_OK)
      dispatch(&c);
    else if (rc == STORE_NOT_FOUND)
      ipp_respond(&c, IPP_STATUS_ERROR_NOT_FOUND, "The printer no longer exists.");
    else
      ipp_respond(&c, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, "The printer could not be read; retry.");
  }
  if (!c.parked) ipp_reply(&c);
out:
  if (c.doc_fd >= 0) close(c.doc_fd);
  if (c.doc_free) c.doc_free(c.doc_arg);
  ippDelete(c.request);
  ippDelete(c.response);
  free(c.printer_uri);
  store_printer_clear(&c.printer);
  ipp_device_clear(&c.device);
}

static route_t ROUTES[] = {
    ROUTE("POST", "/ipp/print/{id}", ipp_post, ROUTE_ANY_BODY, "ipp.print"),
};

/* Registers the route; see ipp.h. */
void ipp_routes_register(void) {
  router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]);
  ipp_share_routes_register();
  metrics_add_collector(auth_metrics, NULL);
}

static void events_written(void *arg) { server_wake_parked(arg); }

/* Wakes waiting Get-Notifications on new events; see ipp.h. */
void ipp_start(app_t *app) {
  if (app && app->server && app->store)
    store_ipp_set_listener(app->store, events_written, app->server);
}

/* Disconnects the wake-up again; see ipp.h. */
void ipp_stop(app_t *app) {
  if (app && app->store) store_ipp_set_listener(app->store, NULL, NULL);
}
