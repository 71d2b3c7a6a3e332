/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP share endpoint: POST /ipp/share/{shareId} (see share-ipp.h and docs/ipp-printing.md).
 *
 * The body is streamed: the IPP message is collected until libcups can decode it, then
 * Print-Job's and Send-Document's document data go straight into a new blob as they arrive
 * (never whole in memory). Every request runs the same steps:
 *   find the share (404) -> decode -> authenticate the user unless the operation is
 *   Get-Printer-Attributes (HTTP 401 with WWW-Authenticate, 403) -> the tenant's subscription ->
 *   the permission table row of share job creation (bearer tokens) -> the share's access rule
 *   (allowAllUsers, allowedUsers, allowedGroups; HTTP 403) -> RFC 8011 validation
 *   (ipp_validate) -> the operation.
 * Refusals happen before a job row is written: a Print-Job whose format, ticket or user is
 * refused leaves no job behind. A job row is written once the document's first bytes are in
 * (application/octet-stream is sniffed from them); a request that dies after that cancels its
 * job, as does a Print-Job whose document is past the user's upload volume window (counted in
 * the transaction that stores the document, like a Graph upload's bytes).
 *
 * The user is the job's createdBy; requesting-user-name is never used for identity. Get-Jobs
 * and Get-Job-Attributes show the user's own jobs only; another user's job is not found.
 */
#include "ipp/share-ipp.h"
#include "auth/identity.h"
#include "blob/blob.h"
#include "core/permissions.h"
#include "http/router.h"
#include "http/server.h"
#include "ipp/ipp.h"
#include "ipp/share-auth.h"
#include "mapping/mapping.h"
#include "store/documents.h"
#include "store/jobs.h"
#include "store/printers.h"
#include "store/shares.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HEAD_MAX     (256 * 1024) /* bytes of IPP attributes before the document */
#define SNIFF_LEN    8            /* bytes application/octet-stream is recognized from */
#define FORMAT_MAX   128
#define SPOOL_COPY   (1024 * 1024) /* bytes per step of the spool-to-blob copy */

const ipp_op_t IPP_SHARE_OPERATIONS[] = {
    IPP_OP_PRINT_JOB,      IPP_OP_VALIDATE_JOB,       IPP_OP_CREATE_JOB,
    IPP_OP_SEND_DOCUMENT,  IPP_OP_CANCEL_JOB,         IPP_OP_GET_JOB_ATTRIBUTES,
    IPP_OP_GET_JOBS,       IPP_OP_GET_PRINTER_ATTRIBUTES, IPP_OP_CANCEL_MY_JOBS,
    IPP_OP_CLOSE_JOB,      0,
};

typedef struct share_req {
  ipp_client_t  c;
  store_share_t share;
  buf_t         head;          /* the message until it decodes */
  bool          parsed;
  bool          answered;      /* c.res holds the answer (HTTP or IPP) */
  bool          prepared;      /* authenticated, authorized and validated */
  bool          auth_held;     /* a failed authentication whose 401 is held back (slowed down) */
  int64_t       hold_until_us; /* monotonic */
  char          hold_why[512];
  /* Print-Job / Send-Document */
  bool          doc_op;
  bool          last_document;
  char          format[FORMAT_MAX]; /* document-format asked ("application/octet-stream": sniff) */
  char         *doc_name;
  char         *job_name;
  char         *config;        /* Print-Job: the ticket as printJobConfiguration JSON */
  unsigned char sniff[SNIFF_LEN];
  size_t        nsniff;
  bool          sink_open;     /* the job exists and the blob is open */
  bool          job_made;      /* this request created the job (Print-Job) */
  bool          done;          /* the document was recorded (nothing to undo) */
  int64_t       job_id;
  char         *doc_id;
  blob_t       *blob;
  char          blob_key[BLOB_KEY_LEN + 1];
  uint64_t      expected;      /* document bytes the Content-Length announces; UINT64_MAX unknown */
  int           spool_fd;      /* unknown length (chunked): an unlinked file the bytes go to
                                  first, copied into a blob of the final size at the end; -1 */
  uint64_t      written;
} share_req_t;

/* ---- answers ------------------------------------------------------------------------------ */

/* An HTTP-level refusal (authentication, transport, unknown share). */
static void answer_http(share_req_t *st, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void answer_http(share_req_t *st, int status, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ipp_reply_http(&st->c, status, msg);
  st->answered = true;
}

static void answer_ipp(share_req_t *st) {
  ipp_reply(&st->c);
  st->answered = true;
}

/* ---- the user ----------------------------------------------------------------------------- */

static void answer_unauthorized(share_req_t *st) {
  answer_http(st, 401, "Unauthorized: %s.", st->hold_why);
  http_response_header(st->c.res, "WWW-Authenticate", IPP_SHARE_WWW_AUTHENTICATE);
}

/* A held authentication failure: parks the request until its time is up, then answers 401. */
static void answer_held(share_req_t *st) {
  int64_t left_ms = (st->hold_until_us - time_mono_us() + 999) / 1000;
  if (left_ms > 0 && server_park(st->c.req, (unsigned)left_ms)) return;
  answer_unauthorized(st);
}

/* Authenticates and authorizes the user for anything but Get-Printer-Attributes; false after
 * answering at the HTTP level. */
static bool authorize(share_req_t *st) {
  ipp_client_t *c = &st->c;
  app_t *app = c->app;
  char why[512];
  caller_t *user = NULL;
  switch (ipp_share_authenticate(c->req, app, &st->share, &user, why, sizeof why)) {
    case IPP_USER_OK: break;
    case IPP_USER_INSECURE:
      answer_http(st, 403, "Forbidden: %s.", why);
      return false;
    case IPP_USER_ERROR:
      http_response_header(c->res, "Retry-After", "5");
      answer_http(st, 503, "The credentials could not be checked; retry shortly.");
      return false;
    default: {
      /* repeated failures are answered more and more slowly and logged once per interval
       * (ipp_auth_failure, shared with the INFRA endpoint) */
      char what[128];
      snprintf(what, sizeof what, "user authentication failed for share %.64s", st->share.id);
      unsigned delay = ipp_auth_failure(c->req, c->now_us, !http_request_header(c->req,
                                        "Authorization"), what, why);
      snprintf(st->hold_why, sizeof st->hold_why, "%s", why);
      if (delay) {
        st->auth_held = true;
        st->hold_until_us = time_mono_us() + (int64_t)delay * 1000;
        return false;
      }
      answer_unauthorized(st);
      return false;
    }
  }
  ipp_auth_success(c->req);
  c->caller = user;
  if (!c->req->log_tenant) c->req->log_tenant = xstrdup(user->tenant);
  int trc = auth_tenant_check(app->auth, app->store, user, why, sizeof why);
  if (trc == AUTH_TENANT_ERROR) {
    http_response_header(c->res, "Retry-After", "5");
    answer_http(st, 503, "The tenant's subscription could not be checked; retry shortly.");
    return false;
  }
  if (trc != AUTH_TENANT_ACTIVE) {
    answer_http(st, 403, "Forbidden: %s", why);
    return false;
  }
  /* A bearer token needs a permission that creates share jobs (the Graph rule); a print
   * password was created under that rule. */
  perm_decision_t d;
  if (strcmp(user->issuer ? user->issuer : "", "spoold:print-password") != 0 &&
      !perm_check(OP_SHARE_JOB_CREATE, user, &d, why, sizeof why)) {
    answer_http(st, 403, "Forbidden: %s", why);
    return false;
  }
  bool allowed = false;
  if (store_share_may_print(app->store, &st->share, caller_is_app(user), user->user_id, user->upn,
                            user->name, user->groups, user->ngroups, &allowed) != STORE_OK) {
    http_response_header(c->res, "Retry-After", "5");
    answer_http(st, 503, "The share's members could not be read; retry shortly.");
    return false;
  }
  if (!allowed) {
    log_info("ipp share %s: user %s is not allowed to print", st->share.id, user->user_id);
    answer_http(st, 403, "Forbidden: you are not allowed to print to share '%s'; ask an "
                "administrator to add you or one of your groups to its allowedUsers or "
                "allowedGroups.", st->share.display_name);
    return false;
  }
  return true;
}

/* Authorization (unless Get-Printer-Attributes) and RFC 8011 validation, once. false after
 * answering (HTTP, or an IPP status the caller sends with answer_ipp). */
static bool prepare(share_req_t *st) {
  if (st->prepared) return true;
  if (st->c.op != IPP_OP_GET_PRINTER_ATTRIBUTES && !authorize(st)) return false;
  if (!ipp_validate(&st->c)) return false;
  st->prepared = true;
  return true;
}

static bool job_is_own(const ipp_client_t *c, const store_job_t *j) {
  return c->caller && c->caller->user_id && j->created_by_id &&
         !strcmp(c->caller->user_id, j->created_by_id);
}

/* Reads the user's job c->job_id of the share's printer; false after answering. */
static bool own_job(ipp_client_t *c, store_ipp_job_t *j) {
  if (!ipp_require_job_id(c)) return false;
  store_rc_t rc = store_ipp_job_get(c->store, c->device.tenant, c->device.printer_id, c->job_id, j);
  if (rc == STORE_OK && !job_is_own(c, &j->job)) {
    store_ipp_job_clear(j);
    rc = STORE_NOT_FOUND;
  }
  if (rc != STORE_OK) {
    ipp_respond_job_rc(c, rc);
    return false;
  }
  return true;
}

static int compare_names(void *a, void *b, void *data) {
  (void)data;
  return strcmp(a, b);
}

/* Adds the job-id, job-uri, job-state, job-state-reasons and job-state-message of job_id. */
static void add_job_summary(ipp_client_t *c, int64_t job_id) {
  store_ipp_job_t j;
  if (store_ipp_job_get(c->store, c->device.tenant, c->device.printer_id, job_id, &j) != STORE_OK)
    return;
  cups_array_t *ra = cupsArrayNew(compare_names, NULL);
  static const char *const names[] = {"job-id", "job-uri", "job-state", "job-state-reasons",
                                      "job-state-message"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) cupsArrayAdd(ra, (void *)names[i]);
  ipp_add_job_attributes(c, c->response, IPP_TAG_JOB, &j, ra);
  cupsArrayDelete(ra);
  store_ipp_job_clear(&j);
}

/* ---- formats ------------------------------------------------------------------------------ */

/* The format of a document from its first bytes, or NULL. */
static const char *sniff_format(const unsigned char *b, size_t n) {
  if (n >= 5 && !memcmp(b, "%PDF-", 5)) return "application/pdf";
  if (n >= 4 && !memcmp(b, "RaS2", 4)) return "image/pwg-raster";
  if (n >= 8 && !memcmp(b, "UNIRAST", 8)) return "image/urf";
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "image/jpeg";
  if (n >= 4 && !memcmp(b, "%!PS", 4)) return "application/postscript";
  return NULL;
}

/* Reads document-format (default application/octet-stream) and compression into st; checks
 * that the printer takes the format (octet-stream is decided later, from the bytes). false
 * after setting the IPP status. */
static bool check_format(share_req_t *st) {
  ipp_client_t *c = &st->c;
  ipp_attribute_t *a = ipp_op_attr(c, "compression", IPP_TAG_ZERO);
  if (a && (ippGetValueTag(a) != IPP_TAG_KEYWORD || ippGetCount(a) != 1 ||
            strcmp(ippGetString(a, 0, NULL), "none") != 0)) {
    ipp_respond(c, IPP_STATUS_ERROR_COMPRESSION_NOT_SUPPORTED,
                "Compressed documents are not supported; send them uncompressed.");
    ipp_respond_unsupported(c, a);
    return false;
  }
  snprintf(st->format, sizeof st->format, "application/octet-stream");
  a = ipp_op_attr(c, "document-format", IPP_TAG_ZERO);
  if (a) {
    const char *f = ippGetString(a, 0, NULL);
    if (ippGetValueTag(a) != IPP_TAG_MIMETYPE || ippGetCount(a) != 1 || !f || !*f ||
        strlen(f) >= sizeof st->format) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "document-format must be one mimeMediaType.");
      ipp_respond_unsupported(c, a);
      return false;
    }
    snprintf(st->format, sizeof st->format, "%s", f);
  }
  if (strcasecmp(st->format, "application/octet-stream") != 0 &&
      !store_printer_accepts_content_type(&c->printer, st->format)) {
    ipp_respond(c, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                "This printer does not accept \"%s\" documents.", st->format);
    ipp_respond_unsupported(c, a);
    return false;
  }
  return true;
}

/* Reads job-name and document-name (operation attributes) into st. */
static void read_names(share_req_t *st) {
  ipp_attribute_t *a = ipp_op_attr(&st->c, "job-name", IPP_TAG_ZERO);
  const char *v = a ? ippGetString(a, 0, NULL) : NULL;
  if (v && *v && strlen(v) <= 255) st->job_name = xstrdup(v);
  a = ipp_op_attr(&st->c, "document-name", IPP_TAG_ZERO);
  v = a ? ippGetString(a, 0, NULL) : NULL;
  if (v && *v && strlen(v) <= 255) st->doc_name = xstrdup(v);
}

/* The ticket of a new job: st->config. false after setting the IPP status. */
static bool read_ticket(share_req_t *st) {
  json_t *cfg = NULL;
  bool ok = ipp_share_ticket(&st->c, st->c.printer.capabilities, &cfg);
  if (ok) st->config = json_dumps(cfg, JSON_COMPACT);
  else ipp_respond(&st->c, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
                   "The job ticket asks for what this printer does not support (see the "
                   "unsupported attributes).");
  json_decref(cfg);
  return ok;
}

/* Creates the Graph job of a Print-Job or Create-Job, counted in the job creation windows as a
 * Graph create is (in the same transaction: a refused create writes nothing); false after
 * setting the IPP status. */
static bool create_job(share_req_t *st) {
  ipp_client_t *c = &st->c;
  const caller_t *u = c->caller;
  const config_t *conf = c->app->cfg;
  store_limit_t windows[2];
  store_limits_t limits;
  store_job_limits_init(windows, &limits, st->share.tenant, st->share.printer_id, u->user_id,
                        conf->max_jobs_per_printer_window, conf->max_jobs_per_user_window,
                        conf->job_limit_window);
  store_job_new_t n = {
      .tenant = st->share.tenant,
      .printer_id = st->share.printer_id,
      .display_name = st->job_name,
      .configuration = st->config ? st->config : "{}",
      .created_by_id = u->user_id,
      .created_by_upn = u->upn,
      .created_by_name = u->name,
      .created_by_ip = c->req->peer[0] ? c->req->peer : NULL,
      .created_by_groups = caller_groups_json(u),
      .limits = &limits,
  };
  store_job_t job;
  store_document_t doc;
  store_rc_t rc = store_job_create(c->store, &n, &job, &doc);
  free((char *)n.created_by_groups);
  if (rc == STORE_LIMITED) {
    /* As CUPS answers a quota or its job limit: client-error-not-possible, with the reason. */
    long long secs = (long long)((limits.retry_us + 999999) / 1000000);
    if (secs < 1) secs = 1;
    if (limits.refused == STORE_JOB_LIMIT_PRINTER)
      ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "Too many print jobs were created on this "
                  "printer: at most %u in any %u seconds. Retry after %lld seconds.",
                  conf->max_jobs_per_printer_window, conf->job_limit_window, secs);
    else
      ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "You created too many print jobs: at most "
                  "%u in any %u seconds. Retry after %lld seconds.",
                  conf->max_jobs_per_user_window, conf->job_limit_window, secs);
    return false;
  }
  if (rc == STORE_CONFLICT) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS, "The printer is not accepting jobs.");
    return false;
  }
  if (rc != STORE_OK) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The job could not be created; retry shortly.");
    return false;
  }
  st->job_id = job.id;
  free(st->doc_id);
  st->doc_id = xstrdup(doc.id);
  log_info("ipp share %s: job %" PRId64 " created by %s", st->share.id, job.id, u->user_id);
  store_job_clear(&job);
  store_document_clear(&doc);
  return true;
}

/* ---- document data ------------------------------------------------------------------------ */

/* Undoes what a failed document operation wrote: the blob, and a job it created. */
static void undo_document(share_req_t *st) {
  app_t *app = st->c.app;
  if (st->blob) {
    blob_close(st->blob);
    st->blob = NULL;
  }
  if (st->spool_fd >= 0) {
    close(st->spool_fd);
    st->spool_fd = -1;
  }
  if (st->blob_key[0]) {
    blob_remove(app->blobs, st->blob_key);
    st->blob_key[0] = '\0';
  }
  if (st->job_made && !st->done) {
    store_job_change_t ch;
    if (store_job_cancel(app->store, st->share.tenant, st->job_id, NULL, &ch) != STORE_OK)
      log_warn("ipp share %s: cannot cancel the unfinished job %" PRId64, st->share.id,
               st->job_id);
    store_job_change_clear(&ch);
    st->job_made = false;
  }
}

/* An unlinked read-write file in dir (O_TMPFILE, else mkstemp + unlink); -1 with errno. */
static int open_spool(const char *dir) {
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  char path[4096];
  snprintf(path, sizeof path, "%s/.ipp-spool-XXXXXX", dir);
  fd = mkstemp(path);
  if (fd >= 0) unlink(path);
  return fd;
}

/* Creates and opens the blob of a size bytes document; false after setting the IPP status. */
static bool open_blob(share_req_t *st, uint64_t size) {
  ipp_client_t *c = &st->c;
  blob_key_new(st->blob_key);
  int rc = blob_create(c->app->blobs, st->blob_key, size);
  if (rc == 0) rc = blob_open(c->app->blobs, st->blob_key, true, &st->blob, NULL);
  if (rc != 0) {
    log_error("ipp share: cannot create blob %s: %s", st->blob_key, strerror(-rc));
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored; retry shortly.");
    return false;
  }
  return true;
}

/* The first bytes are in (or the whole, shorter document): settles the format, creates the
 * job (Print-Job) and the blob. false after setting the IPP status. */
static bool open_sink(share_req_t *st) {
  ipp_client_t *c = &st->c;
  if (!strcasecmp(st->format, "application/octet-stream")) {
    const char *f = sniff_format(st->sniff, st->nsniff);
    if (!f || !store_printer_accepts_content_type(&c->printer, f)) {
      ipp_respond(c, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                  f ? "The document is %s, which this printer does not accept."
                    : "The document's format is not one this printer accepts%s.",
                  f ? f : "");
      return false;
    }
    snprintf(st->format, sizeof st->format, "%s", f);
  }
  if (c->op == IPP_OP_PRINT_JOB) {
    if (!create_job(st)) return false;
    st->job_made = true;
  }
  if (st->expected == UINT64_MAX) { /* chunked: spool first (a blob is created at its size) */
    st->spool_fd = open_spool(c->app->cfg->data_dir);
    if (st->spool_fd < 0) {
      log_error("ipp share: cannot open a spool file in %s: %s", c->app->cfg->data_dir,
                strerror(errno));
      ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored; retry shortly.");
      return false;
    }
    st->sink_open = true;
    return true;
  }
  if (!open_blob(st, st->expected)) return false;
  st->sink_open = true;
  return true;
}

static bool sink_write(share_req_t *st, const void *data, size_t len) {
  ipp_client_t *c = &st->c;
  uint64_t max = c->app->cfg->max_document_size;
  if (max && st->written + len > max) {
    ipp_respond(c, IPP_STATUS_ERROR_REQUEST_ENTITY,
                "The document is larger than this server accepts (%" PRIu64 " bytes).", max);
    return false;
  }
  if (st->expected != UINT64_MAX && st->written + len > st->expected) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "The body is longer than its Content-Length.");
    return false;
  }
  int rc = 0;
  if (st->blob) {
    rc = blob_pwrite(st->blob, st->written, data, len);
  } else {
    const char *p = data;
    for (size_t left = len; left && rc == 0;) {
      ssize_t n = pwrite(st->spool_fd, p, left, (off_t)(st->written + (len - left)));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) rc = n < 0 ? -errno : -EIO;
      else {
        p += n;
        left -= (size_t)n;
      }
    }
  }
  if (rc != 0) {
    log_error("ipp share: writing blob %s failed: %s", st->blob_key, strerror(-rc));
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored.");
    return false;
  }
  st->written += len;
  return true;
}

/* Document bytes; false after setting the IPP status. */
static bool doc_data(share_req_t *st, const char *data, size_t len) {
  if (!st->sink_open) {
    size_t take = SNIFF_LEN - st->nsniff < len ? SNIFF_LEN - st->nsniff : len;
    memcpy(st->sniff + st->nsniff, data, take);
    st->nsniff += take;
    data += take;
    len -= take;
    if (st->nsniff < SNIFF_LEN) return true;
    if (!open_sink(st) || !sink_write(st, st->sniff, st->nsniff)) return false;
  }
  return len == 0 || sink_write(st, data, len);
}

/* The whole document is in: records it through an upload session (the Graph document path),
 * then starts the job when this was the last document. Sets the IPP status. */
static void doc_finish(share_req_t *st) {
  ipp_client_t *c = &st->c;
  app_t *app = c->app;
  if (!st->sink_open) {
    if (st->nsniff == 0) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "The request carries no document data.");
      return;
    }
    if (!open_sink(st) || !sink_write(st, st->sniff, st->nsniff)) {
      undo_document(st);
      return;
    }
  }
  int brc = 0;
  if (st->spool_fd >= 0) { /* copy the spooled bytes into a blob of their size */
    if (!open_blob(st, st->written)) {
      undo_document(st);
      return;
    }
    unsigned char *buf = xmalloc(SPOOL_COPY);
    for (uint64_t off = 0; off < st->written && brc == 0;) {
      size_t want = st->written - off < SPOOL_COPY ? (size_t)(st->written - off) : SPOOL_COPY;
      ssize_t n = pread(st->spool_fd, buf, want, (off_t)off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) brc = n < 0 ? -errno : -EIO;
      else if ((brc = blob_pwrite(st->blob, off, buf, (size_t)n)) == 0) off += (uint64_t)n;
    }
    free(buf);
    close(st->spool_fd);
    st->spool_fd = -1;
  } else if (st->written != st->expected) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "The body is shorter than its Content-Length.");
    undo_document(st);
    return;
  }
  if (brc == 0) brc = blob_sync(st->blob);
  blob_close(st->blob);
  st->blob = NULL;
  char sha[BLOB_SHA256_HEX + 1];
  if (brc == 0) brc = blob_sha256(app->blobs, st->blob_key, st->written, sha);
  if (brc != 0) {
    log_error("ipp share: cannot sync blob %s: %s", st->blob_key, strerror(-brc));
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The document could not be stored.");
    undo_document(st);
    return;
  }
  char sid[ID_GUID_LEN + 1], secret[64], secret_hash[2 * SHA256_DIGEST_LENGTH + 1];
  unsigned char md[SHA256_DIGEST_LENGTH];
  id_guid(sid);
  id_secret(secret, sizeof secret, 32);
  SHA256((const unsigned char *)secret, strlen(secret), md);
  for (size_t i = 0; i < sizeof md; i++) snprintf(secret_hash + 2 * i, 3, "%02x", md[i]);
  int64_t now = time_now_us();
  char fallback[32];
  snprintf(fallback, sizeof fallback, "job-%" PRId64, st->job_id);
  store_upload_session_new_t n = {
      .tenant = st->share.tenant,
      .job_id = st->job_id,
      .document_id = st->doc_id,
      .id = sid,
      .secret_hash = secret_hash,
      .document_name = st->doc_name ? st->doc_name : st->job_name ? st->job_name : fallback,
      .content_type = st->format,
      .size = (int64_t)st->written,
      .blob_key = st->blob_key,
      .expires_us = now + (int64_t)app->cfg->upload_session_ttl * 1000000,
      .now_us = now,
      .created_by_id = c->caller->user_id,
      .allowed_phases = 1u << JOB_CREATED,
  };
  store_blob_keys_t drop = {0};
  char *why = NULL;
  store_rc_t rc = store_upload_session_create(app->store, &n, &drop, &why);
  for (size_t i = 0; rc == STORE_OK && i < drop.n; i++) blob_remove(app->blobs, drop.v[i]);
  store_blob_keys_clear(&drop);
  /* the user's upload volume, counted as a Graph upload is, in the transaction that stores
   * the document */
  store_limit_t volume;
  store_limits_t limits;
  store_upload_limit_init(&volume, &limits, st->share.tenant, c->caller->user_id,
                          app->cfg->upload_volume_limit, app->cfg->upload_volume_window,
                          st->written);
  limits.now_us = now;
  if (rc == STORE_OK) {
    store_document_t doc;
    rc = store_upload_complete(app->store, sid, 0, st->written - 1, NULL, sha, now, &limits, &doc,
                               &drop, &why, NULL);
    if (rc == STORE_OK) {
      for (size_t i = 0; i < drop.n; i++) blob_remove(app->blobs, drop.v[i]);
      store_blob_keys_clear(&drop);
      store_document_clear(&doc);
    }
  }
  if (rc == STORE_LIMITED) {
    /* as the job windows answer (create_job): client-error-not-possible with the wait */
    long long secs = (long long)((limits.retry_us + 999999) / 1000000);
    if (secs < 1) secs = 1;
    ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "You uploaded too many document bytes: at most "
                "%llu in any %u seconds. Retry after %lld seconds.",
                (unsigned long long)app->cfg->upload_volume_limit,
                app->cfg->upload_volume_window, secs);
    char *blob = NULL;
    if (store_upload_session_delete(app->store, sid, now, &blob) != STORE_OK)
      log_warn("ipp share %s: cannot delete upload session %s", st->share.id, sid);
    free(blob);
    undo_document(st);
    return;
  }
  if (rc != STORE_OK) {
    ipp_respond(c, rc == STORE_CONFLICT ? IPP_STATUS_ERROR_NOT_POSSIBLE : IPP_STATUS_ERROR_INTERNAL,
                "%s", why ? why : "The document could not be recorded.");
    free(why);
    undo_document(st);
    return;
  }
  free(why);
  st->done = true;
  st->blob_key[0] = '\0'; /* the document owns it now */
  if (st->last_document) {
    store_job_t after;
    store_job_change_t ch;
    rc = store_job_start(app->store, st->share.tenant, st->job_id,
                         server_public_url(c->req->server), &after, &ch);
    if (rc == STORE_OK && ch.task_id)
      log_info("ipp share %s: job %" PRId64 " held by print task %s", st->share.id, st->job_id,
               ch.task_id);
    else if (rc != STORE_OK)
      log_warn("ipp share %s: job %" PRId64 " could not be started: %s", st->share.id,
               st->job_id, ch.why ? ch.why : "store error");
    store_job_clear(&after);
    store_job_change_clear(&ch);
    if (rc != STORE_OK) {
      ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The job could not be started.");
      return;
    }
  }
  add_job_summary(c, st->job_id);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* Print-Job / Send-Document once the attributes are in: every check that can refuse without
 * the document. false after setting the IPP status (or answering at the HTTP level). */
static bool doc_begin(share_req_t *st) {
  ipp_client_t *c = &st->c;
  if (!prepare(st)) return false;
  if (c->op == IPP_OP_PRINT_JOB) {
    st->last_document = true;
    if (!check_format(st) || !read_ticket(st)) return false;
    read_names(st);
    return true;
  }
  /* Send-Document */
  ipp_attribute_t *last = ipp_op_attr(c, "last-document", IPP_TAG_ZERO);
  if (!last || ippGetValueTag(last) != IPP_TAG_BOOLEAN || ippGetCount(last) != 1) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Missing or bad last-document (one boolean).");
    if (last) ipp_respond_unsupported(c, last);
    return false;
  }
  st->last_document = ippGetBoolean(last, 0);
  store_ipp_job_t j;
  if (!own_job(c, &j)) return false;
  bool ok = j.job.phase == JOB_CREATED && !j.doc_uploaded_us;
  if (!ok) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, j.job.phase == JOB_CREATED
                    ? "Job #%" PRId64 " already has its document; a job holds one document."
                    : "Job #%" PRId64 " no longer accepts documents.", j.job.id);
  } else {
    st->job_id = j.job.id;
    st->doc_id = xstrdup(j.doc_id ? j.doc_id : "");
  }
  store_ipp_job_clear(&j);
  if (!ok || !check_format(st)) return false;
  read_names(st);
  return true;
}

/* ---- the other operations ---------------------------------------------------------------- */

static void op_validate_job(share_req_t *st) {
  if (!check_format(st) || !read_ticket(st)) return;
  ipp_respond(&st->c, IPP_STATUS_OK, NULL);
}

static void op_create_job(share_req_t *st) {
  if (!read_ticket(st)) return;
  read_names(st);
  if (!create_job(st)) return;
  add_job_summary(&st->c, st->job_id);
  ipp_respond(&st->c, IPP_STATUS_OK, NULL);
}

/* Cancels job j for Cancel-Job / Cancel-My-Jobs / Close-Job; false with the status set. */
static bool cancel_one(ipp_client_t *c, const store_ipp_job_t *j) {
  store_job_change_t ch;
  store_rc_t rc = store_job_cancel(c->store, c->device.tenant, j->job.id, NULL, &ch);
  bool ok = rc == STORE_OK;
  if (rc == STORE_CONFLICT)
    ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "Job #%" PRId64 " is already %s.", j->job.id,
                job_phase_describe(j->job.phase));
  else if (!ok)
    ipp_respond_job_rc(c, rc);
  store_job_change_clear(&ch);
  return ok;
}

static void op_cancel_job(share_req_t *st) {
  store_ipp_job_t j;
  if (!own_job(&st->c, &j)) return;
  if (cancel_one(&st->c, &j)) ipp_respond(&st->c, IPP_STATUS_OK, NULL);
  store_ipp_job_clear(&j);
}

/* Close-Job: a job whose document arrived is already started; one without a document has
 * nothing to print and is canceled. */
static void op_close_job(share_req_t *st) {
  ipp_client_t *c = &st->c;
  store_ipp_job_t j;
  if (!own_job(c, &j)) return;
  if (j.job.phase == JOB_CREATED && !j.doc_uploaded_us) {
    if (cancel_one(c, &j))
      ipp_respond(c, IPP_STATUS_OK, "Job #%" PRId64 " had no document and was canceled.", j.job.id);
  } else if (j.job.phase == JOB_CREATED) {
    store_job_t after;
    store_job_change_t ch;
    store_rc_t rc = store_job_start(c->store, c->device.tenant, j.job.id,
                                    server_public_url(c->req->server), &after, &ch);
    if (rc == STORE_OK) ipp_respond(c, IPP_STATUS_OK, NULL);
    else ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "%s", ch.why ? ch.why : "Not possible.");
    store_job_clear(&after);
    store_job_change_clear(&ch);
  } else {
    ipp_respond(c, IPP_STATUS_OK, NULL);
  }
  store_ipp_job_clear(&j);
}

static void op_cancel_my_jobs(share_req_t *st) {
  ipp_client_t *c = &st->c;
  ipp_attribute_t *ids = ipp_op_attr(c, "job-ids", IPP_TAG_ZERO);
  if (ids && ippGetValueTag(ids) != IPP_TAG_INTEGER) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "job-ids must be integers.");
    ipp_respond_unsupported(c, ids);
    return;
  }
  store_ipp_job_filter_t f = {.which = STORE_IPP_NOT_COMPLETED, .user_id = c->caller->user_id,
                              .limit = IPP_MAX_JOBS_LISTED};
  store_ipp_job_t *jobs = NULL;
  size_t n = 0;
  if (store_ipp_job_list(c->store, c->device.tenant, c->device.printer_id, &f, &jobs, &n) !=
      STORE_OK) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The jobs could not be read; retry shortly.");
    return;
  }
  /* with job-ids, every id must be one of the user's active jobs before any is canceled */
  for (int i = 0; ids && i < ippGetCount(ids); i++) {
    bool found = false;
    for (size_t k = 0; k < n && !found; k++) found = jobs[k].job.id == ippGetInteger(ids, i);
    if (!found) {
      ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE,
                  "Job #%d is not one of your active jobs on this printer.", ippGetInteger(ids, i));
      ipp_respond_unsupported(c, ids);
      store_ipp_jobs_free(jobs, n);
      return;
    }
  }
  bool ok = true;
  for (size_t k = 0; k < n; k++) {
    bool named = !ids;
    for (int i = 0; ids && i < ippGetCount(ids); i++) named = named || jobs[k].job.id == ippGetInteger(ids, i);
    if (named && !cancel_one(c, &jobs[k])) ok = false;
  }
  store_ipp_jobs_free(jobs, n);
  if (ok) ipp_respond(c, IPP_STATUS_OK, NULL);
}

static void op_get_job_attributes(share_req_t *st) {
  ipp_client_t *c = &st->c;
  store_ipp_job_t j;
  if (!own_job(c, &j)) return;
  cups_array_t *ra = ippCreateRequestedArray(c->request);
  ipp_add_job_attributes(c, c->response, IPP_TAG_JOB, &j, ra);
  cupsArrayDelete(ra);
  store_ipp_job_clear(&j);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* Get-Jobs: the user's own jobs (my-jobs or not), which-jobs, limit, requested-attributes. */
static void op_get_jobs(share_req_t *st) {
  ipp_client_t *c = &st->c;
  store_ipp_job_filter_t f = {.which = STORE_IPP_NOT_COMPLETED, .user_id = c->caller->user_id,
                              .limit = IPP_MAX_JOBS_LISTED};
  if (!ipp_get_jobs_filter(c, &f, false)) return;
  ipp_attribute_t *a;
  if ((a = ipp_op_attr(c, "my-jobs", IPP_TAG_ZERO)) &&
      (ippGetValueTag(a) != IPP_TAG_BOOLEAN || ippGetCount(a) != 1)) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "my-jobs must be one boolean.");
    ipp_respond_unsupported(c, a);
    return;
  }
  ipp_respond_job_list(c, &f);
}

static void dispatch(share_req_t *st) {
  ipp_client_t *c = &st->c;
  switch (c->op) {
    case IPP_OP_GET_PRINTER_ATTRIBUTES: ipp_share_get_printer_attributes(c, &st->share); break;
    case IPP_OP_VALIDATE_JOB: op_validate_job(st); break;
    case IPP_OP_CREATE_JOB: op_create_job(st); break;
    case IPP_OP_CANCEL_JOB: op_cancel_job(st); break;
    case IPP_OP_CANCEL_MY_JOBS: op_cancel_my_jobs(st); break;
    case IPP_OP_CLOSE_JOB: op_close_job(st); break;
    case IPP_OP_GET_JOB_ATTRIBUTES: op_get_job_attributes(st); break;
    case IPP_OP_GET_JOBS: op_get_jobs(st); break;
    case IPP_OP_IDENTIFY_PRINTER: ipp_share_identify_printer(c); break;
    default:
      ipp_respond(c, IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED,
                  "Operation 0x%04x (%s) is not supported by this printer.", (unsigned)c->op,
                  ippOpString(c->op));
      break;
  }
}

/* ---- the request ------------------------------------------------------------------------- */

static void share_req_free(http_request_t *req) {
  share_req_t *st = req->handler_state;
  if (!st) return;
  if (st->sink_open || st->job_made || st->spool_fd >= 0) undo_document(st);
  buf_free(&st->head);
  free(st->doc_name);
  free(st->job_name);
  free(st->config);
  free(st->doc_id);
  ipp_client_t *c = &st->c;
  ippDelete(c->request);
  ippDelete(c->response);
  free(c->printer_uri);
  free(c->share_id);
  caller_free(c->caller);
  store_printer_clear(&c->printer);
  free(c->device.tenant);
  free(c->device.printer_id);
  store_share_clear(&st->share);
  free(st);
  req->handler_state = NULL;
}

/* Headers in: the share and its printer; false after answering. */
static bool begin(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  share_req_t *st = xcalloc(1, sizeof *st);
  req->handler_state = st;
  req->cleanup = share_req_free;
  ipp_client_t *c = &st->c;
  *c = (ipp_client_t){.req = req, .res = res, .app = app, .store = app->store, .doc_fd = -1,
                      .now_us = time_now_us()};
  st->spool_fd = -1;
  st->expected = UINT64_MAX;
  const char *id = http_request_param(req, 0);
  snprintf(c->target, sizeof c->target, "/ipp/share/%s", id);
  char mt[64];
  http_request_media_type(req, mt, sizeof mt);
  if (strcmp(mt, "application/ipp") != 0) {
    answer_http(st, 400, "The request body must be application/ipp.");
    return false;
  }
  store_rc_t rc = store_share_find(app->store, id, &st->share);
  if (rc == STORE_NOT_FOUND) {
    answer_http(st, 404, "There is no printer share '%.64s'.", id);
    return false;
  }
  if (rc == STORE_OK) rc = store_printer_get(app->store, st->share.tenant, st->share.printer_id,
                                             &c->printer);
  if (rc != STORE_OK) {
    http_response_header(res, "Retry-After", "5");
    answer_http(st, 503, "The printer share could not be read; retry shortly.");
    return false;
  }
  c->share_id = xstrdup(st->share.id);
  c->device.tenant = xstrdup(st->share.tenant);
  c->device.printer_id = xstrdup(st->share.printer_id);
  c->device.method = "basic";
  return true;
}

/* Tries to decode the collected message: 1 decoded, 0 more bytes needed, -1 answered. */
static int decode_head(share_req_t *st, bool final, size_t *used) {
  ipp_client_t *c = &st->c;
  const unsigned char *b = (const unsigned char *)st->head.data;
  if (st->head.len < 9) {
    if (!final) return 0;
    answer_http(st, 400, "The request body is not an IPP message.");
    return -1;
  }
  ipp_t *rq = ippNew();
  ipp_state_t state = ipp_map_decode(b, st->head.len, rq, used);
  if (state != IPP_STATE_DATA && !final && st->head.len < HEAD_MAX) {
    ippDelete(rq);
    return 0;
  }
  int major = b[0], minor = b[1];
  int request_id = (int)((uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7]);
  bool ok_version = major >= 1 && major <= 2;
  c->op = (ipp_op_t)(b[2] << 8 | b[3]);
  c->request = rq;
  c->response = ipp_new_response(state == IPP_STATE_DATA ? rq : NULL, ok_version ? major : 1,
                                 ok_version ? minor : 1, request_id);
  st->parsed = true;
  if (state != IPP_STATE_DATA) {
    ipp_respond(c, ok_version ? IPP_STATUS_ERROR_BAD_REQUEST
                              : IPP_STATUS_ERROR_VERSION_NOT_SUPPORTED,
                "The IPP request could not be decoded (truncated or malformed attributes).");
    answer_ipp(st);
    return -1;
  }
  return 1;
}

/* The document's length from Content-Length, once the used bytes of IPP attributes are known. */
static void set_expected(share_req_t *st, size_t used) {
  uint64_t cl = st->c.req->content_length;
  st->expected = cl != UINT64_MAX && cl >= used ? cl - used : UINT64_MAX;
}

/* Streaming body callback of POST /ipp/share/{id}. */
static int share_chunk(http_request_t *req, http_response_t *res, const char *data, size_t len) {
  if (!data) return begin(req, res) ? 0 : ROUTE_CHUNK_ANSWER_NOW;
  share_req_t *st = req->handler_state;
  if (!st || st->answered) return -1;
  if (st->parsed) {
    if (!st->doc_op) return 0; /* data after a non-document request is ignored */
    if (doc_data(st, data, len)) return 0;
    undo_document(st);
    if (!st->answered) answer_ipp(st);
    return -1;
  }
  buf_append(&st->head, data, len);
  size_t used = 0;
  int r = decode_head(st, false, &used);
  if (r <= 0) return r;
  if (st->c.op != IPP_OP_PRINT_JOB && st->c.op != IPP_OP_SEND_DOCUMENT) return 0;
  /* a document operation: check everything now, then stream the rest into the blob */
  if (!doc_begin(st)) {
    if (st->auth_held) return 0; /* answered (slowly) once the body is in */
    if (!st->answered) answer_ipp(st);
    return -1;
  }
  st->doc_op = true;
  set_expected(st, used);
  if (used < st->head.len && !doc_data(st, st->head.data + used, st->head.len - used)) {
    undo_document(st);
    if (!st->answered) answer_ipp(st);
    return -1;
  }
  buf_free(&st->head);
  return 0;
}

/* POST /ipp/share/{id}: the whole body is in. */
static void share_post(http_request_t *req, http_response_t *res) {
  share_req_t *st = req->handler_state;
  if (!st) {
    if (share_chunk(req, res, NULL, 0) != 0) return;
    st = req->handler_state;
  }
  if (st->answered) return;
  if (st->auth_held) {
    answer_held(st);
    return;
  }
  if (!st->parsed) {
    size_t used = 0;
    if (decode_head(st, true, &used) < 0) return;
    if (st->c.op == IPP_OP_PRINT_JOB || st->c.op == IPP_OP_SEND_DOCUMENT) {
      if (!doc_begin(st)) {
        if (st->auth_held) answer_held(st);
        else if (!st->answered) answer_ipp(st);
        return;
      }
      st->doc_op = true;
      set_expected(st, used);
      if (used < st->head.len && !doc_data(st, st->head.data + used, st->head.len - used)) {
        undo_document(st);
        answer_ipp(st);
        return;
      }
    }
  }
  if (st->doc_op) {
    doc_finish(st);
    answer_ipp(st);
    return;
  }
  if (prepare(st)) dispatch(st);
  if (st->auth_held) {
    answer_held(st);
    return;
  }
  if (!st->answered) answer_ipp(st);
}

/* GET /ipp/share/{id}: printer-more-info, a page naming the share and how to add it. */
static void share_page(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  store_share_t s;
  const char *id = http_request_param(req, 0);
  if (store_share_find(app->store, id, &s) != STORE_OK) {
    const char *msg = "There is no such printer share.\n";
    http_response_body(res, 404, "text/plain; charset=utf-8", xstrdup(msg), strlen(msg));
    return;
  }
  buf_t b = BUF_INIT;
  const char *pub = server_public_url(req->server);
  const char *host = strstr(pub, "://");
  host = host ? host + 3 : pub;
  buf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
  for (const char *p = s.display_name; p && *p; p++) {
    if (*p == '<') buf_puts(&b, "&lt;");
    else if (*p == '&') buf_puts(&b, "&amp;");
    else buf_append(&b, p, 1);
  }
  buf_printf(&b, "</title></head><body><h1>Printer share</h1><p>Add this printer with the URI "
                 "<code>%s://%s/ipp/share/%s</code>, your user name and a print password "
                 "(<code>POST /spoold/v1/me/printPasswords</code>).</p></body></html>\n",
             req->tls ? "ipps" : "ipp", host, s.id);
  store_share_clear(&s);
  size_t len = b.len;
  http_response_body(res, 200, "text/html; charset=utf-8", buf_detach(&b), len);
}

static route_t ROUTES[] = {
    ROUTE_STREAMED("POST", "/ipp/share/{id}", share_post, share_chunk, 0, "ipp.share"),
    ROUTE("GET", "/ipp/share/{id}", share_page, 0, "ipp.share.page"),
};

/* Registers the share endpoint's routes; see share-ipp.h. */
void ipp_share_routes_register(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
