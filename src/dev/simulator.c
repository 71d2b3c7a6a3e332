/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Simulated printers (development mode): each is an output device, on its own thread, that
 * speaks IPP INFRA to this same server over HTTP exactly as a print proxy does (docs/ipp.md):
 *
 *   Update-Output-Device-Attributes (printer-state, -reasons, -message, accepting jobs)
 *   Get-Jobs which-jobs=fetchable -> Fetch-Job -> Acknowledge-Job -> Fetch-Document ->
 *   Acknowledge-Document -> Update-Job-Status processing -> (time per page) ->
 *   Update-Document-Status completed -> Update-Job-Status completed
 *
 * It authenticates with a device token issued for it when the simulation starts (which
 * replaces the printer's earlier device token). Its behaviour is scriptable through
 * POST /spoold/v1/dev/printers/{id}/simulation: ready, offline (it stops talking to the
 * server), jammed or out of paper (printer stopped with media-jam-error / media-empty-error, a
 * job in progress or the next one reported processing-stopped until it is ready again), fail
 * the next N jobs (aborted by the printer), a time per page or per job, and a directory the
 * documents are written to.
 */
#include "app.h"
#include "dev/dev-private.h"
#include "ipp/device-auth.h"
#include "mapping/mapping.h"
#include "store/printers.h"
#include "store/pullprint.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <cups/ipp.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 200         /* Get-Jobs interval when idle */
#define SCAN_MS 1000        /* --simulate-printers: how often new printers are looked for */
#define MAX_PAGE_MS 600000
#define MAX_JOB_SECONDS 86400

typedef enum { SIM_READY = 0, SIM_OFFLINE, SIM_JAMMED, SIM_OUT_OF_PAPER } sim_state_t;
static const char *const STATE_NAMES[] = {"ready", "offline", "jammed", "outOfPaper"};

typedef struct sim_behaviour {
  sim_state_t state;
  int         page_ms;
  int         job_ms;        /* < 0: pages x page_ms */
  int         fail_next;     /* the next N jobs fail */
  char       *output_dir;    /* NULL: documents are not written */
} sim_behaviour_t;

typedef struct sim {
  char           *printer_id, *tenant;
  char            device_uuid[ID_GUID_LEN + 10];
  char            token[IPP_DEVICE_TOKEN_LEN + 1];
  char           *url;         /* http://host:port/ipp/print/{id} */
  char           *printer_uri; /* ipp://host:port/ipp/print/{id} */
  pthread_t       thread;
  pthread_mutex_t mu;
  pthread_cond_t  cv;
  bool            stop;        /* guarded by mu */
  bool            enabled;     /* false: stopped through DELETE (not restarted by the scan) */
  bool            running;     /* the thread exists */
  sim_behaviour_t b;           /* guarded by mu */
  /* what the thread reports (guarded by mu) */
  long            printed, failed;
  long            current_job;
  char            last_error[256];
  /* thread-only */
  CURL           *curl;
  int             request_id;
  int             pushed;      /* the state last pushed with Update-Output-Device-Attributes, -1 */
  struct sim     *next;
} sim_t;

/* The simulated printers (--dev only; one set per process, started by dev_start and stopped
 * by dev_stop). */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t  cv;
  sim_t          *list;
  app_t          *app;
  bool            all, started, stop;
  pthread_t       scanner;
  bool            scanning;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* ---- the IPP client ---------------------------------------------------------------------- */

static size_t body_cb(char *data, size_t size, size_t nmemb, void *arg) {
  buf_append(arg, data, size * nmemb);
  return size * nmemb;
}

static void set_error(sim_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(sim_t *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&s->mu);
  vsnprintf(s->last_error, sizeof s->last_error, fmt, ap);
  pthread_mutex_unlock(&s->mu);
  va_end(ap);
}

/* A request of operation op for this device (printer-uri, output-device-uuid, job-id when
 * job > 0). */
static ipp_t *new_request(sim_t *s, ipp_op_t op, long job) {
  ipp_t *r = ippNewRequest(op);
  ippSetRequestId(r, ++s->request_id);
  ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, s->printer_uri);
  if (job > 0) ippAddInteger(r, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", (int)job);
  if (op != IPP_OP_GET_JOBS)
    ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_URI, "output-device-uuid", NULL, s->device_uuid);
  return r;
}

/* Sends req (deleted here). Returns the IPP status, or -1 for a transport or HTTP failure
 * (http_status then holds the HTTP status, 0 without an answer). *resp (when not NULL)
 * receives the response; *rest (when not NULL) the bytes after it (a document). */
static int send_ipp(sim_t *s, ipp_t *req, ipp_t **resp, buf_t *rest, long *http_status) {
  if (resp) *resp = NULL;
  if (http_status) *http_status = 0;
  buf_t in = BUF_INIT;
  ipp_op_t op = ippGetOperation(req);
  size_t out_len = 0;
  char *out = ipp_map_encode(req, &out_len);
  ippDelete(req);
  if (!out) return -1;
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/ipp");
  char auth[IPP_DEVICE_TOKEN_LEN + 32];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->token);
  h = curl_slist_append(h, auth);
  h = curl_slist_append(h, "Expect:");
  CURL *c = s->curl;
  curl_easy_setopt(c, CURLOPT_URL, s->url);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, out);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)out_len);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &in);
  CURLcode cc = curl_easy_perform(c);
  curl_slist_free_all(h);
  free(out);
  long status = 0;
  if (cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (http_status) *http_status = status;
  if (cc != CURLE_OK || status != 200) {
    set_error(s, "%s: %s", ippOpString(op),
              cc != CURLE_OK ? curl_easy_strerror(cc) : status == 401 ? "HTTP 401 (credentials "
              "refused)" : "HTTP error");
    buf_free(&in);
    return -1;
  }
  ipp_t *r = ippNew();
  size_t used = 0;
  if (ipp_map_decode(in.data, in.len, r, &used) != IPP_STATE_DATA) {
    ippDelete(r);
    buf_free(&in);
    set_error(s, "%s: the answer is not IPP", ippOpString(op));
    return -1;
  }
  int st = (int)ippGetStatusCode(r);
  if (rest && used < in.len) buf_append(rest, in.data + used, in.len - used);
  buf_free(&in);
  if (resp) *resp = r;
  else ippDelete(r);
  return st;
}

/* ---- behaviour --------------------------------------------------------------------------- */

/* Waits up to ms or until woken; false when the simulation is stopping. */
static bool sim_wait(sim_t *s, int ms) {
  struct timespec until = time_deadline(CLOCK_MONOTONIC, (int64_t)ms * 1000);
  pthread_mutex_lock(&s->mu);
  if (!s->stop) pthread_cond_timedwait(&s->cv, &s->mu, &until);
  bool go = !s->stop;
  pthread_mutex_unlock(&s->mu);
  return go;
}

static sim_state_t current_state(sim_t *s) {
  pthread_mutex_lock(&s->mu);
  sim_state_t st = s->b.state;
  pthread_mutex_unlock(&s->mu);
  return st;
}

static bool stopping(sim_t *s) {
  pthread_mutex_lock(&s->mu);
  bool st = s->stop;
  pthread_mutex_unlock(&s->mu);
  return st;
}

/* Pushes the printer's state for behaviour state st (printing: a job is being printed). */
static void push_state(sim_t *s, sim_state_t st, bool printing) {
  int key = (int)st * 2 + (printing ? 1 : 0);
  if (s->pushed == key) return;
  ipp_t *r = new_request(s, IPP_OP_UPDATE_OUTPUT_DEVICE_ATTRIBUTES, 0);
  int pstate = IPP_PSTATE_IDLE;
  const char *reasons[2] = {"none", NULL};
  int nreasons = 1;
  const char *msg = "Ready (simulated printer).";
  if (st == SIM_JAMMED) {
    pstate = IPP_PSTATE_STOPPED;
    reasons[0] = "media-jam-error";
    msg = "Media jam (simulated printer).";
  } else if (st == SIM_OUT_OF_PAPER) {
    pstate = IPP_PSTATE_STOPPED;
    reasons[0] = "media-empty-error";
    reasons[1] = "media-needed-error";
    nreasons = 2;
    msg = "Out of paper (simulated printer).";
  } else if (printing) {
    pstate = IPP_PSTATE_PROCESSING;
    msg = "Printing (simulated printer).";
  }
  ippAddInteger(r, IPP_TAG_PRINTER, IPP_TAG_ENUM, "printer-state", pstate);
  ippAddStrings(r, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-state-reasons", nreasons, NULL,
                reasons);
  ippAddString(r, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-state-message", NULL, msg);
  ippAddBoolean(r, IPP_TAG_PRINTER, "printer-is-accepting-jobs", 1);
  if (send_ipp(s, r, NULL, NULL, NULL) == IPP_STATUS_OK) s->pushed = key;
}

/* Update-Job-Status; returns the IPP status (or -1). */
static int job_status(sim_t *s, long job, int state, const char *reason, const char *message,
                      int impressions) {
  ipp_t *r = new_request(s, IPP_OP_UPDATE_JOB_STATUS, job);
  ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_ENUM, "output-device-job-state", state);
  if (reason) ippAddString(r, IPP_TAG_JOB, IPP_TAG_KEYWORD, "output-device-job-state-reasons",
                           NULL, reason);
  if (message) ippAddString(r, IPP_TAG_JOB, IPP_TAG_TEXT, "output-device-job-state-message",
                            NULL, message);
  if (impressions >= 0)
    ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-impressions-completed", impressions);
  return send_ipp(s, r, NULL, NULL, NULL);
}

/* Pages of a document: PDF page objects counted, else 1. */
static int count_pages(const char *data, size_t len) {
  int n = 0;
  for (size_t i = 0; i + 10 < len; i++) {
    if (data[i] != '/' || memcmp(data + i, "/Type", 5) != 0) continue;
    size_t j = i + 5;
    while (j < len && (data[j] == ' ' || data[j] == '\n' || data[j] == '\r')) j++;
    if (j + 5 <= len && memcmp(data + j, "/Page", 5) == 0 && (j + 5 == len || data[j + 5] != 's'))
      n++;
  }
  return n > 0 ? n : 1;
}

static const char *extension_for(const char *format) {
  if (!format) return "bin";
  if (!strcasecmp(format, "application/pdf")) return "pdf";
  if (!strcasecmp(format, "application/oxps")) return "oxps";
  if (!strcasecmp(format, "image/pwg-raster")) return "pwg";
  if (!strcasecmp(format, "image/urf")) return "urf";
  if (!strcasecmp(format, "text/plain")) return "txt";
  return "bin";
}

/* Writes the document into dir as <printerId>-<jobId>.<ext> (temporary file, fsync, rename). */
static void write_document(sim_t *s, const char *dir, long job, const char *format,
                           const buf_t *doc) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%s-%ld.%s", dir, s->printer_id, job, extension_for(format));
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  size_t off = 0;
  while (ok && off < doc->len) {
    ssize_t w = write(fd, doc->data + off, doc->len - off);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) off += (size_t)w;
  }
  if (ok) ok = fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (ok) ok = rename(tmp, path) == 0;
  if (!ok) {
    unlink(tmp);
    set_error(s, "cannot write %s: %s", path, strerror(errno));
    log_warn("dev: simulated printer %s cannot write %s: %s", s->printer_id, path,
             strerror(errno));
  }
}

/* Waits for the printing time of job, reporting processing-stopped while the printer is
 * jammed or out of paper and going on once it is ready. False when the simulation stops or the
 * server refused an update (the job was canceled or aborted meanwhile). */
static bool print_for(sim_t *s, long job, int64_t total_ms) {
  int64_t done = 0;
  bool stopped = false;
  while (done < total_ms) {
    if (stopping(s)) return false;
    sim_state_t st = current_state(s);
    if (st == SIM_JAMMED || st == SIM_OUT_OF_PAPER) {
      push_state(s, st, true);
      if (!stopped) {
        int rc = job_status(s, job, IPP_JSTATE_STOPPED, "printer-stopped",
                            st == SIM_JAMMED ? "Media jam (simulated printer)."
                                             : "Out of paper (simulated printer).", -1);
        if (rc != IPP_STATUS_OK) return false;
        stopped = true;
      }
      if (!sim_wait(s, 50)) return false;
      continue;
    }
    if (st == SIM_OFFLINE) { /* silent: nothing reaches the server */
      if (!sim_wait(s, 50)) return false;
      continue;
    }
    if (stopped) {
      push_state(s, SIM_READY, true);
      if (job_status(s, job, IPP_JSTATE_PROCESSING, "job-printing", NULL, -1) != IPP_STATUS_OK)
        return false;
      stopped = false;
    }
    int64_t step = total_ms - done < 50 ? total_ms - done : 50;
    int64_t t0 = time_mono_us();
    if (!sim_wait(s, (int)step)) return false;
    done += (time_mono_us() - t0) / 1000;
  }
  return true;
}

/* Fetches, acknowledges and prints job; false when the device could not take it. */
static bool print_job(sim_t *s, long job) {
  ipp_t *resp = NULL;
  int rc = send_ipp(s, new_request(s, IPP_OP_FETCH_JOB, job), &resp, NULL, NULL);
  if (rc != IPP_STATUS_OK) {
    ippDelete(resp);
    return false; /* taken by another device, canceled, not fetchable any more */
  }
  int copies = 1;
  ipp_attribute_t *a = ippFindAttribute(resp, "copies", IPP_TAG_INTEGER);
  if (a && ippGetInteger(a, 0) > 0) copies = ippGetInteger(a, 0);
  ippDelete(resp);
  if (send_ipp(s, new_request(s, IPP_OP_ACKNOWLEDGE_JOB, job), NULL, NULL, NULL) != IPP_STATUS_OK)
    return false;
  pthread_mutex_lock(&s->mu);
  s->current_job = job;
  pthread_mutex_unlock(&s->mu);

  ipp_t *fd = new_request(s, IPP_OP_FETCH_DOCUMENT, job);
  ippAddInteger(fd, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "document-number", 1);
  buf_t doc = BUF_INIT;
  rc = send_ipp(s, fd, &resp, &doc, NULL);
  char format[128] = "";
  if (rc == IPP_STATUS_OK) {
    a = ippFindAttribute(resp, "document-format", IPP_TAG_MIMETYPE);
    if (a) snprintf(format, sizeof format, "%s", ippGetString(a, 0, NULL));
  }
  ippDelete(resp);
  if (rc != IPP_STATUS_OK) goto out;
  ipp_t *ad = new_request(s, IPP_OP_ACKNOWLEDGE_DOCUMENT, job);
  ippAddInteger(ad, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "document-number", 1);
  if (send_ipp(s, ad, NULL, NULL, NULL) != IPP_STATUS_OK) goto out;

  pthread_mutex_lock(&s->mu);
  bool fail = s->b.fail_next > 0;
  if (fail) s->b.fail_next--;
  int page_ms = s->b.page_ms, job_ms = s->b.job_ms;
  char *dir = s->b.output_dir ? xstrdup(s->b.output_dir) : NULL;
  pthread_mutex_unlock(&s->mu);

  if (fail) {
    rc = job_status(s, job, IPP_JSTATE_ABORTED, "aborted-by-system",
                    "The simulated printer failed the job.", 0);
    if (rc == IPP_STATUS_OK) {
      pthread_mutex_lock(&s->mu);
      s->failed++;
      pthread_mutex_unlock(&s->mu);
      log_info("dev: simulated printer %s failed job %ld", s->printer_id, job);
    }
    free(dir);
    goto out;
  }
  int pages = count_pages(doc.data, doc.len) * copies;
  push_state(s, current_state(s), true);
  if (job_status(s, job, IPP_JSTATE_PROCESSING, "job-printing", NULL, 0) != IPP_STATUS_OK ||
      !print_for(s, job, job_ms >= 0 ? job_ms : (int64_t)pages * page_ms)) {
    free(dir);
    goto out;
  }
  if (dir) write_document(s, dir, job, format, &doc);
  free(dir);
  ipp_t *ud = new_request(s, IPP_OP_UPDATE_DOCUMENT_STATUS, job);
  ippAddInteger(ud, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "document-number", 1);
  ippAddInteger(ud, IPP_TAG_DOCUMENT, IPP_TAG_ENUM, "output-device-document-state",
                IPP_DSTATE_COMPLETED);
  ippAddInteger(ud, IPP_TAG_DOCUMENT, IPP_TAG_INTEGER, "impressions-completed", pages);
  send_ipp(s, ud, NULL, NULL, NULL);
  if (job_status(s, job, IPP_JSTATE_COMPLETED, "job-completed-successfully", NULL, pages) ==
      IPP_STATUS_OK) {
    pthread_mutex_lock(&s->mu);
    s->printed++;
    pthread_mutex_unlock(&s->mu);
    log_info("dev: simulated printer %s printed job %ld (%d page(s))", s->printer_id, job, pages);
  }
out:
  buf_free(&doc);
  pthread_mutex_lock(&s->mu);
  s->current_job = 0;
  pthread_mutex_unlock(&s->mu);
  return true;
}

/* The first fetchable job of the printer, 0 when none (or on failure). */
static long next_job(sim_t *s, long *http_status) {
  ipp_t *r = new_request(s, IPP_OP_GET_JOBS, 0);
  ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", NULL, "fetchable");
  ippAddInteger(r, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "limit", 1);
  ipp_t *resp = NULL;
  long job = 0;
  if (send_ipp(s, r, &resp, NULL, http_status) == IPP_STATUS_OK) {
    ipp_attribute_t *a = ippFindAttribute(resp, "job-id", IPP_TAG_INTEGER);
    if (a) job = ippGetInteger(a, 0);
  }
  ippDelete(resp);
  return job;
}

static void *sim_main(void *arg) {
  sim_t *s = arg;
  s->curl = curl_easy_init();
  if (!s->curl) abort();
  curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "spoold-simulated-printer/1");
  /* our own server, possibly with its self-signed certificate */
  curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 0L);
  s->pushed = -1;
  int refused = 0;
  while (!stopping(s)) {
    sim_state_t st = current_state(s);
    if (st == SIM_OFFLINE) {
      s->pushed = -1; /* tell the server again once back */
      sim_wait(s, POLL_MS);
      continue;
    }
    push_state(s, st, false);
    long http = 0;
    long job = next_job(s, &http);
    if (http == 401 || http == 403) {
      /* the printer is gone or its token was replaced: stop */
      if (++refused >= 3) {
        log_warn("dev: simulated printer %s stops: the server refuses its credentials",
                 s->printer_id);
        break;
      }
    } else {
      refused = 0;
    }
    if (job > 0 && current_state(s) == SIM_OFFLINE) {
      /* switched off while the Get-Jobs was on its way: a printer that is off takes nothing */
      log_info("dev: simulated printer %s went offline: job %ld stays in spoold", s->printer_id,
               job);
      continue;
    }
    if (job <= 0 || !print_job(s, job)) sim_wait(s, POLL_MS);
  }
  curl_easy_cleanup(s->curl);
  s->curl = NULL;
  return NULL;
}

/* ---- the list of simulations -------------------------------------------------------------- */

static json_t *sim_json(sim_t *s) {
  json_t *o = json_object();
  pthread_mutex_lock(&s->mu);
  json_object_set_new(o, "printerId", json_string(s->printer_id));
  json_object_set_new(o, "deviceUuid", json_string(s->device_uuid));
  json_object_set_new(o, "state", json_string(STATE_NAMES[s->b.state]));
  json_object_set_new(o, "pageMs", json_integer(s->b.page_ms));
  json_object_set_new(o, "jobSeconds",
                      s->b.job_ms >= 0 ? json_real(s->b.job_ms / 1000.0) : json_null());
  json_object_set_new(o, "failNextJobs", json_integer(s->b.fail_next));
  json_object_set_new(o, "outputDirectory",
                      s->b.output_dir ? json_string(s->b.output_dir) : json_null());
  json_object_set_new(o, "jobsPrinted", json_integer(s->printed));
  json_object_set_new(o, "jobsFailed", json_integer(s->failed));
  json_object_set_new(o, "currentJobId", s->current_job
                                             ? json_sprintf("%ld", s->current_job)
                                             : json_null());
  json_object_set_new(o, "running", json_boolean(s->running && s->enabled));
  json_object_set_new(o, "lastError", s->last_error[0] ? json_string(s->last_error) : json_null());
  pthread_mutex_unlock(&s->mu);
  return o;
}

/* Finds a simulation (g.mu held). */
static sim_t *find(const char *tenant, const char *id) {
  for (sim_t *s = g.list; s; s = s->next)
    if (!strcasecmp(s->printer_id, id) && (!tenant || !strcmp(s->tenant, tenant))) return s;
  return NULL;
}

/* Stops s's thread (g.mu held; the thread never takes g.mu). */
static void sim_halt(sim_t *s) {
  if (!s->running) return;
  pthread_mutex_lock(&s->mu);
  s->stop = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->running = false;
}

static void sim_free(sim_t *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s->printer_id);
  free(s->tenant);
  free(s->url);
  free(s->printer_uri);
  free(s->b.output_dir);
  free(s);
}

/* Creates a simulation and starts its thread (g.mu held). NULL with *status on failure. */
static sim_t *sim_create(const char *tenant, const char *id, const sim_behaviour_t *b,
                         int *status, char *err, size_t errlen) {
  store_printer_t p;
  store_rc_t rc = store_printer_get(g.app->store, tenant, id, &p);
  if (rc != STORE_OK) {
    *status = rc == STORE_NOT_FOUND ? 404 : 500;
    return NULL;
  }
  sim_t *s = xcalloc(1, sizeof *s);
  s->printer_id = xstrdup(p.id);
  s->tenant = xstrdup(tenant);
  store_printer_clear(&p);
  if (ipp_device_token_issue(g.app->store, s->printer_id, s->token) != STORE_OK) {
    *status = 500;
    snprintf(err, errlen, "no device token could be issued for the simulated printer");
    free(s->printer_id);
    free(s->tenant);
    free(s);
    return NULL;
  }
  char guid[ID_GUID_LEN + 1];
  id_guid(guid);
  snprintf(s->device_uuid, sizeof s->device_uuid, "urn:uuid:%s", guid);
  const char *base = server_listen_url(g.app->server);
  buf_t u = BUF_INIT;
  buf_printf(&u, "%s/ipp/print/%s", base, s->printer_id);
  s->url = buf_detach(&u);
  const char *hostport = strstr(base, "://");
  buf_printf(&u, "%s://%s/ipp/print/%s", !strncmp(base, "https", 5) ? "ipps" : "ipp",
             hostport ? hostport + 3 : base, s->printer_id);
  s->printer_uri = buf_detach(&u);
  s->b = *b;
  s->b.output_dir = b->output_dir ? xstrdup(b->output_dir) : NULL;
  s->enabled = true;
  pthread_mutex_init(&s->mu, NULL);
  time_cond_init_monotonic(&s->cv);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int prc = pthread_create(&s->thread, NULL, sim_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (prc != 0) {
    *status = 500;
    snprintf(err, errlen, "the simulated printer's thread could not be started");
    sim_free(s);
    return NULL;
  }
  s->running = true;
  s->next = g.list;
  g.list = s;
  log_info("dev: printer %s is simulated (device %s)", s->printer_id, s->device_uuid);
  return s;
}

static void default_behaviour(sim_behaviour_t *b) {
  memset(b, 0, sizeof *b);
  b->state = SIM_READY;
  b->page_ms = g.app ? (int)g.app->cfg->simulate_page_ms : 200; /* 0 too: no wait per page */
  b->job_ms = -1;
  b->output_dir = g.app ? g.app->cfg->simulate_output : NULL;
}

/* Parses a behaviour over *b (members absent stay). false with err on a bad member. */
static bool parse_behaviour(const json_t *o, sim_behaviour_t *b, char *err, size_t errlen) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)o, key, v) {
    if (!strcmp(key, "state")) {
      int found = -1;
      for (int i = 0; i < 4 && json_is_string(v); i++)
        if (!strcmp(STATE_NAMES[i], json_string_value(v))) found = i;
      if (found < 0) {
        snprintf(err, errlen, "'state' must be ready, offline, jammed or outOfPaper");
        return false;
      }
      b->state = (sim_state_t)found;
    } else if (!strcmp(key, "pageMs")) {
      if (!json_is_integer(v) || json_integer_value(v) < 0 ||
          json_integer_value(v) > MAX_PAGE_MS) {
        snprintf(err, errlen, "'pageMs' must be a whole number from 0 to %d", MAX_PAGE_MS);
        return false;
      }
      b->page_ms = (int)json_integer_value(v);
    } else if (!strcmp(key, "jobSeconds")) {
      if (json_is_null(v)) {
        b->job_ms = -1;
      } else if (!json_is_number(v) || json_number_value(v) < 0 ||
                 json_number_value(v) > MAX_JOB_SECONDS) {
        snprintf(err, errlen, "'jobSeconds' must be null or a number from 0 to %d",
                 MAX_JOB_SECONDS);
        return false;
      } else {
        b->job_ms = (int)(json_number_value(v) * 1000);
      }
    } else if (!strcmp(key, "failNextJobs")) {
      if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000) {
        snprintf(err, errlen, "'failNextJobs' must be a whole number from 0 to 1000000");
        return false;
      }
      b->fail_next = (int)json_integer_value(v);
    } else if (!strcmp(key, "outputDirectory")) {
      if (json_is_null(v)) {
        b->output_dir = NULL;
      } else {
        struct stat stt;
        if (!json_is_string(v) || json_string_value(v)[0] != '/') {
          snprintf(err, errlen, "'outputDirectory' must be null or an absolute path");
          return false;
        }
        if (stat(json_string_value(v), &stt) != 0 || !S_ISDIR(stt.st_mode) ||
            access(json_string_value(v), W_OK) != 0) {
          snprintf(err, errlen, "'outputDirectory' %s is not a writable directory",
                   json_string_value(v));
          return false;
        }
        b->output_dir = (char *)json_string_value(v); /* borrowed until copied */
      }
    } else {
      snprintf(err, errlen, "'%s' is not a simulation member (state, pageMs, jobSeconds, "
               "failNextJobs, outputDirectory)", key);
      return false;
    }
  }
  return true;
}

/* See dev-private.h. */
json_t *dev_sim_set(app_t *app, const char *tenant, const char *id, const json_t *behaviour,
                    int *status, char *err, size_t errlen) {
  (void)app;
  *status = 0;
  pthread_mutex_lock(&g.mu);
  sim_t *s = find(tenant, id);
  sim_behaviour_t b;
  if (s) {
    pthread_mutex_lock(&s->mu);
    b = s->b;
    pthread_mutex_unlock(&s->mu);
  } else {
    default_behaviour(&b);
  }
  if (!parse_behaviour(behaviour, &b, err, errlen)) {
    pthread_mutex_unlock(&g.mu);
    *status = 400;
    return NULL;
  }
  if (s && !s->running) { /* stopped (DELETE or refused credentials): start afresh */
    for (sim_t **pp = &g.list; *pp; pp = &(*pp)->next)
      if (*pp == s) {
        *pp = s->next;
        break;
      }
    sim_behaviour_t keep = b;
    keep.output_dir = b.output_dir ? xstrdup(b.output_dir) : NULL;
    sim_free(s);
    s = sim_create(tenant, id, &keep, status, err, errlen);
    free(keep.output_dir);
  } else if (s) {
    pthread_mutex_lock(&s->mu);
    char *dir = b.output_dir ? xstrdup(b.output_dir) : NULL;
    free(s->b.output_dir);
    s->b = b;
    s->b.output_dir = dir;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  } else {
    s = sim_create(tenant, id, &b, status, err, errlen);
  }
  json_t *o = s ? sim_json(s) : NULL;
  pthread_mutex_unlock(&g.mu);
  return o;
}

/* See dev-private.h. */
json_t *dev_sim_get(const char *tenant, const char *id) {
  pthread_mutex_lock(&g.mu);
  sim_t *s = find(tenant, id);
  json_t *o = s && s->enabled ? sim_json(s) : NULL;
  pthread_mutex_unlock(&g.mu);
  return o;
}

/* See dev-private.h. */
bool dev_sim_remove(const char *tenant, const char *id) {
  pthread_mutex_lock(&g.mu);
  sim_t *s = find(tenant, id);
  bool found = s && s->enabled;
  if (found) {
    sim_halt(s);
    s->enabled = false; /* kept, so the --simulate-printers scan does not start it again */
  }
  pthread_mutex_unlock(&g.mu);
  return found;
}

/* See dev-private.h. */
void dev_sim_remove_tenant(const char *tenant) {
  sim_t *gone = NULL;
  pthread_mutex_lock(&g.mu);
  for (sim_t **pp = &g.list; *pp;) {
    sim_t *s = *pp;
    if (strcmp(s->tenant, tenant) != 0) {
      pp = &s->next;
      continue;
    }
    *pp = s->next;
    s->next = gone;
    gone = s;
  }
  pthread_mutex_unlock(&g.mu);
  /* stopped outside g.mu: a device in the middle of a request finishes it first */
  while (gone) {
    sim_t *s = gone;
    gone = s->next;
    sim_halt(s);
    sim_free(s);
  }
}

/* --simulate-printers: starts a simulation for every printer that has none. */
static void *scan_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g.mu);
  while (!g.stop) {
    pthread_mutex_unlock(&g.mu);
    char **ids = NULL, **tenants = NULL;
    size_t n = 0;
    store_rc_t rc = store_printer_all_ids(g.app->store, &ids, &tenants, &n);
    pthread_mutex_lock(&g.mu);
    for (size_t i = 0; rc == STORE_OK && i < n && !g.stop; i++) {
      if (find(tenants[i], ids[i])) continue;
      sim_behaviour_t b;
      default_behaviour(&b);
      int status = 0;
      char err[256];
      if (!sim_create(tenants[i], ids[i], &b, &status, err, sizeof err) && status != 404)
        log_warn("dev: printer %s cannot be simulated", ids[i]);
    }
    /* simulations of printers that no longer exist end */
    for (sim_t **pp = &g.list; rc == STORE_OK && *pp;) {
      sim_t *s = *pp;
      bool exists = false;
      for (size_t i = 0; i < n && !exists; i++) exists = !strcasecmp(ids[i], s->printer_id);
      if (exists) {
        pp = &s->next;
        continue;
      }
      sim_halt(s);
      *pp = s->next;
      sim_free(s);
    }
    pthread_mutex_unlock(&g.mu);
    store_strings_free(ids, n);
    store_strings_free(tenants, n);
    pthread_mutex_lock(&g.mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += SCAN_MS / 1000;
    if (!g.stop) pthread_cond_timedwait(&g.cv, &g.mu, &until);
  }
  pthread_mutex_unlock(&g.mu);
  return NULL;
}

/* See dev-private.h. */
int dev_sim_start(app_t *app, bool all, char **err) {
  pthread_mutex_lock(&g.mu);
  g.app = app;
  g.all = all;
  g.stop = false;
  g.started = true;
  pthread_mutex_unlock(&g.mu);
  if (!all) return 0;
  sigset_t sigs, old;
  sigfillset(&sigs);
  pthread_sigmask(SIG_SETMASK, &sigs, &old);
  int rc = pthread_create(&g.scanner, NULL, scan_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    if (err) *err = xstrdup("cannot start the printer simulator thread");
    return -1;
  }
  g.scanning = true;
  return 0;
}

/* See dev-private.h. */
void dev_sim_stop(void) {
  pthread_mutex_lock(&g.mu);
  if (!g.started) {
    pthread_mutex_unlock(&g.mu);
    return;
  }
  g.stop = true;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  if (g.scanning) pthread_join(g.scanner, NULL);
  g.scanning = false;
  pthread_mutex_lock(&g.mu);
  while (g.list) {
    sim_t *s = g.list;
    g.list = s->next;
    sim_halt(s);
    sim_free(s);
  }
  g.started = false;
  pthread_mutex_unlock(&g.mu);
}
