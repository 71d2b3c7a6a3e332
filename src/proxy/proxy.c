/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `spoold proxy`: one worker thread per printer between spoold's IPP INFRA endpoint and the
 * real printer (proxy-private.h). The INFRA side speaks to spoold as an output device
 * (docs/ipp.md) with the printer's device token; the device side is proxy-device.c.
 */
#include "proxy/proxy.h"
#include "proxy/proxy-private.h"
#include "util/buf.h"
#include "util/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The connection to spoold for one printer. */
typedef struct infra {
  char              host[256];
  char              resource[1100]; /* /ipp/print/{printerId} */
  int               port;
  http_encryption_t encryption;
  http_t           *http;
  char              printer_uri[1500];
  char              token[512];
  const char       *uuid;
  const char       *printer_id;
  proxy_http_t     *tls;          /* with a client certificate: libcurl instead of libcups */
  char              url[1500];    /* https://host:port/ipp/print/{printerId} */
  volatile int     *stop;
} infra_t;

/* A worker's memory of what it last reported per job, so it reports only changes. */
typedef struct reported {
  int id, state;
} reported_t;

typedef struct worker {
  const proxy_cfg_t         *cfg;
  const proxy_printer_cfg_t *pc;
  infra_t                    infra;
  proxy_state_t              state;
  proxy_device_t            *device;
  reported_t                 reported[PROXY_MAX_JOBS];
  size_t                     nreported;
  bool                       server_down; /* logged once per outage */
  ipp_status_t               last_status; /* of the last answer; 0 when none came */
  int                        sub_id;      /* the ippget subscription to job events, or 0 */
  int                        next_seq;    /* the first event not seen yet */
  bool                       no_notify;   /* spoold offers no notifications: poll Get-Jobs */
  volatile int              *wait_fd;     /* the socket of a Get-Notifications in progress */
} worker_t;

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Never ask anyone for a password: the device token is the credential. */
static const char *no_password(const char *prompt, http_t *http, const char *method,
                               const char *resource, void *data) {
  (void)prompt, (void)http, (void)method, (void)resource, (void)data;
  return NULL;
}

/* ---- the INFRA side ------------------------------------------------------------------------ */

static int infra_init(infra_t *in, const proxy_cfg_t *cfg, const proxy_printer_cfg_t *pc,
                      const char *uuid, volatile int *stop, char *err, size_t errlen) {
  const char *server = cfg->server, *printer_id = pc->printer_id, *token_file = pc->token_file;
  memset(in, 0, sizeof *in);
  in->stop = stop;
  char scheme[16], user[64], path[256];
  if (httpSeparateURI(HTTP_URI_CODING_ALL, server, scheme, sizeof scheme, user, sizeof user,
                      in->host, sizeof in->host, &in->port, path, sizeof path) < HTTP_URI_STATUS_OK) {
    snprintf(err, errlen, "--server %s is not a URL", server);
    return -1;
  }
  bool tls = !strcmp(scheme, "https");
  in->encryption = tls ? HTTP_ENCRYPTION_ALWAYS : HTTP_ENCRYPTION_IF_REQUESTED;
  if (in->port <= 0) in->port = tls ? 443 : 80;
  snprintf(in->resource, sizeof in->resource, "/ipp/print/%s", printer_id);
  httpAssembleURI(HTTP_URI_CODING_ALL, in->printer_uri, sizeof in->printer_uri, tls ? "ipps" : "ipp",
                  NULL, in->host, in->port, in->resource);
  in->uuid = uuid;
  in->printer_id = printer_id;
  if (pc->cert_file) {
    /* libcups 2.4 (GnuTLS) presents no client certificate: these requests go through libcurl */
    snprintf(in->url, sizeof in->url, "https://%s:%d%s", in->host, in->port, in->resource);
    FILE *c = fopen(pc->cert_file, "r"), *k = fopen(pc->key_file, "r");
    if (!c || !k) {
      snprintf(err, errlen, "cannot read %s: %s", !c ? pc->cert_file : pc->key_file, strerror(errno));
      if (c) fclose(c);
      if (k) fclose(k);
      return -1;
    }
    fclose(c);
    fclose(k);
    if (!(in->tls = proxy_http_new(cfg->ca_file, pc->cert_file, pc->key_file))) {
      snprintf(err, errlen, "libcurl cannot be set up");
      return -1;
    }
    return 0;
  }
  FILE *f = fopen(token_file, "r");
  if (!f || !fgets(in->token, sizeof in->token, f)) {
    snprintf(err, errlen, "cannot read the device token from %s: %s", token_file,
             f ? "the file is empty" : strerror(errno));
    if (f) fclose(f);
    return -1;
  }
  fclose(f);
  in->token[strcspn(in->token, " \t\r\n")] = '\0';
  return 0;
}

static ipp_t *infra_request(infra_t *in, ipp_op_t op, int job_id) {
  ipp_t *req = ippNewRequest(op);
  ippSetVersion(req, 2, 0);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, in->printer_uri);
  if (job_id > 0) ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "output-device-uuid", NULL, in->uuid);
  return req;
}

/* spoold answered res to the request named what: notes that it answers again and the status;
 * returns res, or NULL (res freed, the status logged) when the status is an error. */
static ipp_t *infra_answered(worker_t *w, ipp_t *res, const char *what) {
  infra_t *in = &w->infra;
  if (w->server_down) log_info("proxy %s: spoold answers again", in->printer_id);
  w->server_down = false;
  w->last_status = ippGetStatusCode(res);
  if (ippGetStatusCode(res) > IPP_STATUS_OK_CONFLICTING) {
    log_warn("proxy %s: %s: %s", in->printer_id, what, ippErrorString(ippGetStatusCode(res)));
    ippDelete(res);
    return NULL;
  }
  return res;
}

/* Sends req (consumed) to spoold; the answer when it is successful, else NULL (logged). outfd:
 * where the data after the answer goes (Fetch-Document), or -1. */
/* infra_call over libcurl with the client certificate. */
static ipp_t *infra_call_tls(worker_t *w, ipp_t *req, int outfd, const char *what) {
  infra_t *in = &w->infra;
  char err[512] = "";
  long http = 0;
  ipp_t *res = proxy_http_ipp(in->tls, in->url, req, outfd, 90, in->stop, &http, err, sizeof err);
  ippDelete(req);
  if (!res) {
    if (!w->server_down || http)
      log_warn("proxy %s: %s: %s%s", in->printer_id, what, err, http ? "" : "; retrying");
    w->server_down = !http;
    return NULL;
  }
  return infra_answered(w, res, what);
}

static ipp_t *infra_call(worker_t *w, ipp_t *req, int outfd, const char *what) {
  infra_t *in = &w->infra;
  w->last_status = 0;
  if (in->tls) return infra_call_tls(w, req, outfd, what);
  if (!in->http)
    in->http = httpConnect2(in->host, in->port, NULL, AF_UNSPEC, in->encryption, 1, 30000, NULL);
  if (!in->http) {
    ippDelete(req);
    if (!w->server_down) log_warn("proxy %s: spoold at %s:%d does not answer; retrying",
                                  in->printer_id, in->host, in->port);
    w->server_down = true;
    return NULL;
  }
  httpSetAuthString(in->http, "Bearer", in->token);
  ipp_t *res = outfd >= 0 ? cupsDoIORequest(in->http, req, in->resource, -1, outfd)
                          : cupsDoRequest(in->http, req, in->resource);
  if (!res) {
    httpClose(in->http);
    in->http = NULL;
    if (!w->server_down) log_warn("proxy %s: %s: %s", in->printer_id, what, cupsLastErrorString());
    w->server_down = true;
    return NULL;
  }
  return infra_answered(w, res, what);
}

/* Update-Job-Status (output-device-job-state and reasons, a message, impressions). */
static bool report_job(worker_t *w, int job_id, int state, const char *reasons, const char *msg,
                       int impressions) {
  ipp_t *req = infra_request(&w->infra, IPP_OP_UPDATE_JOB_STATUS, job_id);
  ippAddInteger(req, IPP_TAG_JOB, IPP_TAG_ENUM, "output-device-job-state", state);
  ippAddString(req, IPP_TAG_JOB, IPP_TAG_KEYWORD, "output-device-job-state-reasons", NULL,
               reasons ? reasons : "none");
  if (msg) ippAddString(req, IPP_TAG_JOB, IPP_TAG_TEXT, "output-device-job-state-message", NULL, msg);
  if (impressions >= 0)
    ippAddInteger(req, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-impressions-completed", impressions);
  ipp_t *res = infra_call(w, req, -1, "Update-Job-Status");
  ippDelete(res);
  return res != NULL;
}

static void report_document(worker_t *w, int job_id, int state) {
  ipp_t *req = infra_request(&w->infra, IPP_OP_UPDATE_DOCUMENT_STATUS, job_id);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "document-number", 1);
  ippAddInteger(req, IPP_TAG_DOCUMENT, IPP_TAG_ENUM, "output-device-document-state", state);
  ippDelete(infra_call(w, req, -1, "Update-Document-Status"));
}

/* The state spoold holds for the job (IPP job-state), 0 when it cannot be read. */
static int spoold_job_state(worker_t *w, int job_id) {
  ipp_t *req = infra_request(&w->infra, IPP_OP_GET_JOB_ATTRIBUTES, job_id);
  static const char *const want[] = {"job-state"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 1, NULL, want);
  ipp_t *res = infra_call(w, req, -1, "Get-Job-Attributes");
  ipp_attribute_t *a = res ? ippFindAttribute(res, "job-state", IPP_TAG_ENUM) : NULL;
  int st = a ? ippGetInteger(a, 0) : 0;
  ippDelete(res);
  return st;
}

/* Update-Output-Device-Attributes with what the printer says about itself. */
static bool describe(worker_t *w) {
  ipp_t *req = infra_request(&w->infra, IPP_OP_UPDATE_OUTPUT_DEVICE_ATTRIBUTES, 0);
  bool online = proxy_device_describe(w->device, req);
  ipp_t *res = infra_call(w, req, -1, "Update-Output-Device-Attributes");
  ippDelete(res);
  return online && res;
}

/* ---- learning of released jobs: notifications, or polling --------------------------------- */

/* Subscribes (ippget) to the printer's job events once: job-fetchable tells of a released job,
 * job-state-changed of a cancel or abort. false when there is no subscription (yet): spoold
 * does not offer notifications (no_notify is then set, and the worker polls Get-Jobs), or does
 * not answer now. */
static bool subscribe(worker_t *w) {
  if (w->sub_id > 0) return true;
  if (w->no_notify) return false;
  ipp_t *req = infra_request(&w->infra, IPP_OP_CREATE_PRINTER_SUBSCRIPTIONS, 0);
  ippAddString(req, IPP_TAG_SUBSCRIPTION, IPP_TAG_KEYWORD, "notify-pull-method", NULL, "ippget");
  static const char *const events[] = {"job-fetchable", "job-state-changed"};
  ippAddStrings(req, IPP_TAG_SUBSCRIPTION, IPP_TAG_KEYWORD, "notify-events", 2, NULL, events);
  /* no lease to renew: spoold drops a subscription nobody polls (a proxy that went away) */
  ippAddInteger(req, IPP_TAG_SUBSCRIPTION, IPP_TAG_INTEGER, "notify-lease-duration", 0);
  ipp_t *res = infra_call(w, req, -1, "Create-Printer-Subscriptions");
  ipp_attribute_t *id = res ? ippFindAttribute(res, "notify-subscription-id", IPP_TAG_INTEGER) : NULL;
  if (id) {
    w->sub_id = ippGetInteger(id, 0);
    w->next_seq = 1;
    log_info("proxy %s: subscribed to job events (subscription %d): released jobs are taken "
             "as soon as spoold tells", w->pc->printer_id, w->sub_id);
  } else if (w->last_status) {
    /* spoold answered, and not with a subscription: it has none to offer */
    w->no_notify = true;
    log_info("proxy %s: spoold offers no job notifications (%s); looking for released jobs "
             "every %g s", w->pc->printer_id, ippErrorString(w->last_status), w->cfg->poll_s);
  }
  ippDelete(res);
  return w->sub_id > 0;
}

/* Waits for job events with Get-Notifications notify-wait=true (spoold answers when an event
 * is there, or after its own limit). true when it waited (or events came); false when the
 * caller should sleep instead (the answer came at once without events: the server does not
 * wait; or the request failed). */
static bool wait_events(worker_t *w) {
  ipp_t *req = infra_request(&w->infra, IPP_OP_GET_NOTIFICATIONS, 0);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-subscription-ids", w->sub_id);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-sequence-numbers", w->next_seq);
  ippAddBoolean(req, IPP_TAG_OPERATION, "notify-wait", 1);
  double t0 = mono_s();
  if (w->infra.http) *w->wait_fd = httpGetFd(w->infra.http);
  ipp_t *res = infra_call(w, req, -1, "Get-Notifications");
  *w->wait_fd = -1;
  if (!res) {
    if (w->last_status == IPP_STATUS_ERROR_NOT_FOUND) w->sub_id = 0; /* gone: subscribe again */
    return false;
  }
  int nevents = 0, job = 0;
  bool fetchable = false;
  for (ipp_attribute_t *a = ippFirstAttribute(res);; a = ippNextAttribute(res)) {
    const char *name = a ? ippGetName(a) : NULL;
    if (!name) { /* the end of an event group */
      if (fetchable && job > 0)
        log_info("proxy %s: spoold tells: job %d is fetchable", w->pc->printer_id, job);
      job = 0;
      fetchable = false;
      if (!a) break;
      continue;
    }
    if (ippGetGroupTag(a) != IPP_TAG_EVENT_NOTIFICATION) continue;
    if (!strcmp(name, "notify-sequence-number") && ippGetValueTag(a) == IPP_TAG_INTEGER) {
      nevents++;
      if (ippGetInteger(a, 0) >= w->next_seq) w->next_seq = ippGetInteger(a, 0) + 1;
    } else if (!strcmp(name, "notify-job-id") && ippGetValueTag(a) == IPP_TAG_INTEGER) {
      job = ippGetInteger(a, 0);
    } else if (!strcmp(name, "notify-subscribed-event")) {
      const char *e = ippGetString(a, 0, NULL);
      fetchable = e && !strcmp(e, "job-fetchable");
    }
  }
  ippDelete(res);
  return nevents > 0 || mono_s() - t0 >= 1;
}

/* ---- one job ------------------------------------------------------------------------------- */

static void job_name(int id, char *out, size_t len) { snprintf(out, len, "spoold-job-%d", id); }

static void forget(worker_t *w, int id) {
  if (proxy_state_drop(&w->state, id) != 0)
    log_error("proxy %s: cannot write %s: %s", w->pc->printer_id, w->state.path, strerror(errno));
  for (size_t i = 0; i < w->nreported; i++)
    if (w->reported[i].id == id) w->reported[i] = w->reported[--w->nreported];
}

/* Fetches the job's ticket and document and sends them to the printer. The job is ACKED in the
 * state file already; on return it is SENT, or finished and forgotten. */
static void send_job(worker_t *w, int id) {
  char path[1200], name[64], msg[1024], format[256] = "";
  ipp_t *ticket = infra_call(w, infra_request(&w->infra, IPP_OP_FETCH_JOB, id), -1, "Fetch-Job");
  if (!ticket) return; /* retried on the next round */
  snprintf(path, sizeof path, "%s/%s-%d.document", w->cfg->state_dir, w->pc->printer_id, id);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    log_error("proxy %s: job %d: cannot create %s: %s", w->pc->printer_id, id, path, strerror(errno));
    ippDelete(ticket);
    return;
  }
  ipp_t *req = infra_request(&w->infra, IPP_OP_FETCH_DOCUMENT, id);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "document-number", 1);
  ipp_t *doc = infra_call(w, req, fd, "Fetch-Document");
  if (!doc) goto done;
  ipp_attribute_t *f = ippFindAttribute(doc, "document-format", IPP_TAG_MIMETYPE);
  if (f) snprintf(format, sizeof format, "%s", ippGetString(f, 0, NULL));
  ippDelete(doc);
  req = infra_request(&w->infra, IPP_OP_ACKNOWLEDGE_DOCUMENT, id);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "document-number", 1);
  ippDelete(infra_call(w, req, -1, "Acknowledge-Document"));

  /* From here the printer may have it: a crash now is resolved by looking for the job name. */
  if (proxy_state_set(&w->state, id, PROXY_JOB_SENDING, 0) != 0) {
    log_error("proxy %s: job %d: cannot write the state file: %s", w->pc->printer_id, id, strerror(errno));
    goto done;
  }
  job_name(id, name, sizeof name);
  int device_job = 0;
  if (!proxy_device_print(w->device, ticket, name, format, fd, &device_job, msg, sizeof msg)) {
    log_warn("proxy %s: job %d: %s", w->pc->printer_id, id, msg);
    report_document(w, id, IPP_DSTATE_ABORTED);
    report_job(w, id, IPP_JSTATE_ABORTED, "aborted-by-system", msg, -1);
    forget(w, id);
  } else if (proxy_device_is_raw(w->device)) {
    log_info("proxy %s: job %d: sent to %s", w->pc->printer_id, id, w->pc->uri);
    report_document(w, id, IPP_DSTATE_COMPLETED);
    report_job(w, id, IPP_JSTATE_COMPLETED, "job-completed-successfully", NULL, -1);
    forget(w, id);
  } else {
    log_info("proxy %s: job %d: printer job %d on %s", w->pc->printer_id, id, device_job, w->pc->uri);
    proxy_state_set(&w->state, id, PROXY_JOB_SENT, device_job);
    report_job(w, id, IPP_JSTATE_PROCESSING, "job-printing", NULL, -1);
  }
done:
  close(fd);
  unlink(path);
  ippDelete(ticket);
}

/* Takes a fetchable job: acknowledges it, remembers that durably, then prints it. */
static void take_job(worker_t *w, int id) {
  ipp_t *req = infra_request(&w->infra, IPP_OP_ACKNOWLEDGE_JOB, id);
  ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_ENUM, "fetch-status-code", IPP_STATUS_OK);
  ipp_t *res = infra_call(w, req, -1, "Acknowledge-Job");
  if (!res) return; /* another device took it, or spoold is away */
  ippDelete(res);
  if (proxy_state_set(&w->state, id, PROXY_JOB_ACKED, 0) != 0) {
    log_error("proxy %s: job %d: cannot write the state file: %s", w->pc->printer_id, id, strerror(errno));
    return;
  }
  log_info("proxy %s: job %d: acknowledged", w->pc->printer_id, id);
  send_job(w, id);
}

static void take_new_jobs(worker_t *w) {
  ipp_t *req = infra_request(&w->infra, IPP_OP_GET_JOBS, 0);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", NULL, "fetchable");
  static const char *const want[] = {"job-id"};
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 1, NULL, want);
  ipp_t *res = infra_call(w, req, -1, "Get-Jobs");
  int ids[PROXY_MAX_JOBS];
  size_t n = 0;
  for (ipp_attribute_t *a = res ? ippFindAttribute(res, "job-id", IPP_TAG_INTEGER) : NULL;
       a && n < PROXY_MAX_JOBS; a = ippFindNextAttribute(res, "job-id", IPP_TAG_INTEGER))
    ids[n++] = ippGetInteger(a, 0);
  ippDelete(res);
  for (size_t i = 0; i < n; i++)
    if (!proxy_state_find(&w->state, ids[i])) take_job(w, ids[i]);
}

/* Reports a printer job's state to spoold when it changed since the last report. */
static void follow_sent(worker_t *w, proxy_job_t *j) {
  int id = j->id, device_job = j->device_job;
  int sp = spoold_job_state(w, id);
  if (sp == IPP_JSTATE_CANCELED || sp == IPP_JSTATE_ABORTED) {
    /* Canceled or aborted in spoold after release: stop it on the paper. */
    bool ok = proxy_device_cancel(w->device, device_job);
    log_info("proxy %s: job %d: %s in spoold; Cancel-Job of printer job %d %s", w->pc->printer_id,
             id, sp == IPP_JSTATE_CANCELED ? "canceled" : "aborted", device_job,
             ok ? "accepted" : "refused (it may have finished)");
    report_job(w, id, IPP_JSTATE_CANCELED, "job-canceled-at-device", NULL, -1);
    forget(w, id);
    return;
  }
  char reasons[128] = "none";
  int impressions = -1;
  int st = proxy_device_job_state(w->device, device_job, reasons, sizeof reasons, &impressions);
  if (!st) return; /* the printer does not answer now */
  if (st == PROXY_DEVICE_JOB_GONE) {
    /* The printer restarted and lost the job before finishing it: send it again. */
    log_warn("proxy %s: job %d: the printer no longer knows its job %d; sending it again",
             w->pc->printer_id, id, device_job);
    if (proxy_state_set(&w->state, id, PROXY_JOB_ACKED, 0) == 0) send_job(w, id);
    return;
  }
  reported_t *r = NULL;
  for (size_t i = 0; i < w->nreported; i++)
    if (w->reported[i].id == id) r = &w->reported[i];
  if (r && r->state == st && st < IPP_JSTATE_CANCELED) return;
  if (st >= IPP_JSTATE_CANCELED) {
    report_document(w, id, st == IPP_JSTATE_COMPLETED ? IPP_DSTATE_COMPLETED
                           : st == IPP_JSTATE_CANCELED ? IPP_DSTATE_CANCELED : IPP_DSTATE_ABORTED);
    if (report_job(w, id, st, reasons, NULL, impressions)) {
      log_info("proxy %s: job %d: %s on the printer", w->pc->printer_id, id,
               st == IPP_JSTATE_COMPLETED ? "completed" : st == IPP_JSTATE_CANCELED ? "canceled" : "aborted");
      forget(w, id);
    }
    return;
  }
  if (report_job(w, id, st, reasons, NULL, impressions)) {
    if (!r && w->nreported < PROXY_MAX_JOBS) r = &w->reported[w->nreported++];
    if (r) *r = (reported_t){id, st};
  }
}

/* Moves every job of the state file on by one step. */
static void follow_jobs(worker_t *w) {
  for (size_t i = 0; i < w->state.njobs; i++) {
    proxy_job_t j = w->state.jobs[i];
    size_t before = w->state.njobs;
    if (j.stage == PROXY_JOB_ACKED) {
      send_job(w, j.id); /* acknowledged before a restart, never sent */
    } else if (j.stage == PROXY_JOB_SENDING) {
      char name[64];
      job_name(j.id, name, sizeof name);
      int found = proxy_device_find_job(w->device, name);
      if (found) {
        proxy_state_set(&w->state, j.id, PROXY_JOB_SENT, found);
      } else {
        /* It may or may not have reached the printer (raw printers cannot be asked): never
         * print it twice. */
        const char *why = "The proxy stopped while sending this job; it is not sent again, "
                          "so that it is not printed twice.";
        log_warn("proxy %s: job %d: %s", w->pc->printer_id, j.id, why);
        report_job(w, j.id, IPP_JSTATE_ABORTED, "aborted-by-system", why, -1);
        forget(w, j.id);
      }
    } else {
      follow_sent(w, &j);
    }
    if (w->state.njobs < before) i--; /* this slot now holds another job */
  }
}

void *proxy_worker_run(void *arg) {
  proxy_worker_t *pw = arg;
  worker_t *w = xcalloc(1, sizeof *w);
  w->cfg = pw->cfg;
  w->pc = pw->pc;
  w->wait_fd = pw->wait_fd;
  char err[1024];
  if (proxy_state_open(&w->state, w->cfg->state_dir, w->pc->printer_id, err, sizeof err) != 0 ||
      !(w->device = proxy_device_new(w->pc->uri, w->pc->formats, err, sizeof err)) ||
      infra_init(&w->infra, w->cfg, w->pc, w->state.uuid, pw->stop, err, sizeof err) != 0) {
    log_error("proxy %s: %s", w->pc->printer_id, err);
    *pw->failed = 1;
    *pw->stop = 1;
    goto out;
  }
  log_info("proxy %s: %s as output device %s (authenticated by %s), %zu job(s) in hand",
           w->pc->printer_id, w->pc->uri, w->state.uuid,
           w->infra.tls ? "its TLS client certificate" : "its device token", w->state.njobs);
  double next_describe = 0;
  bool online = false;
  while (!*pw->stop) {
    double now = mono_s();
    if (now >= next_describe) {
      bool was = online;
      online = describe(w);
      if (online != was)
        log_info("proxy %s: the printer at %s is %s", w->pc->printer_id, w->pc->uri,
                 online ? "ready" : "not answering; jobs wait in spoold");
      next_describe = now + (online ? w->cfg->attrs_s : 5);
    }
    if (online) take_new_jobs(w);
    follow_jobs(w);
    if (*pw->stop) break;
    /* Idle with a subscription: wait for spoold's next event instead of polling. With jobs in
     * hand, their progress on the printer is followed every second or two. */
    double pause = w->state.njobs ? (w->cfg->poll_s < 2 ? w->cfg->poll_s : 2)
                                  : online ? w->cfg->poll_s : 5;
    if (!w->state.njobs && online && !*pw->stop) {
      bool had = w->sub_id > 0;
      /* a new subscription: look once more for jobs released before it existed */
      if (subscribe(w) && (!had || wait_events(w))) pause = 0;
    }
    for (double until = mono_s() + pause; !*pw->stop && mono_s() < until;) {
      struct timespec ts = {0, 50 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  if (w->sub_id > 0 && !w->server_down) {
    ipp_t *req = infra_request(&w->infra, IPP_OP_CANCEL_SUBSCRIPTION, 0);
    ippAddInteger(req, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-subscription-id", w->sub_id);
    ippDelete(infra_call(w, req, -1, "Cancel-Subscription"));
  }
out:
  if (w->infra.http) httpClose(w->infra.http);
  proxy_http_free(w->infra.tls);
  proxy_device_free(w->device);
  proxy_state_close(&w->state);
  free(w);
  return NULL;
}

/* ---- the command --------------------------------------------------------------------------- */

/* Set by the signal handler and read by the workers: globals on purpose, since a signal
 * handler can reach nothing else. */
static volatile int g_stop, g_failed;
static volatile int g_wait_fd[PROXY_MAX_PRINTERS];

/* Stops the workers; a worker waiting in Get-Notifications is woken by shutting its socket
 * (shutdown is async-signal-safe). */
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
  for (size_t i = 0; i < PROXY_MAX_PRINTERS; i++)
    if (g_wait_fd[i] >= 0) shutdown(g_wait_fd[i], SHUT_RDWR);
}

/* --discover: browses DNS-SD, logs the candidates (and prints them when no printer is
 * configured), keeps them in DIR/discovered, and gives each --register NAME without a URI the
 * URI of the printer announced as NAME. 0, or -1 after saying what failed. */
static int discover(proxy_cfg_t *cfg) {
  proxy_candidate_t *list = NULL;
  size_t n = 0;
  char err[512];
  if (proxy_discover(cfg->discover_s, &list, &n, err, sizeof err) != 0) {
    fprintf(stderr, "spoold proxy: %s\n", err);
    log_error("proxy: %s", err);
    return -1;
  }
  buf_t file = BUF_INIT;
  buf_puts(&file, "# spoold proxy --discover: printers announced over DNS-SD (name, URI, formats)\n");
  for (size_t i = 0; i < n; i++) {
    log_info("proxy: discovered '%s' at %s%s%s", list[i].name, list[i].uri,
             list[i].formats ? ", prints " : "", list[i].formats ? list[i].formats : "");
    buf_printf(&file, "%s\t%s\t%s\n", list[i].name, list[i].uri,
               list[i].formats ? list[i].formats : "");
    if (!cfg->nprinters) printf("%s\t%s\t%s\n", list[i].name, list[i].uri,
                               list[i].formats ? list[i].formats : "");
  }
  if (!n) log_info("proxy: no printer announced over DNS-SD within %g s", cfg->discover_s);
  if (cfg->state_dir) {
    buf_t path = BUF_INIT;
    buf_printf(&path, "%s/discovered", cfg->state_dir);
    if (mkdir(cfg->state_dir, 0700) == 0 || errno == EEXIST)
      proxy_state_write_file(path.data, file.data, file.len);
    buf_free(&path);
  }
  buf_free(&file);
  int rc = 0;
  for (size_t k = 0; k < cfg->nprinters && rc == 0; k++) {
    proxy_printer_cfg_t *p = &cfg->printers[k];
    if (p->printer_id || p->uri) continue;
    for (size_t i = 0; i < n && !p->uri; i++)
      if (!strcmp(list[i].name, p->register_name)) {
        p->uri = xstrdup(list[i].uri);
        if (!p->formats && list[i].formats) p->formats = xstrdup(list[i].formats);
      }
    if (!p->uri) {
      fprintf(stderr, "spoold proxy: --register %s: no printer of that name was announced over "
              "DNS-SD (%zu found; give --uri, or see `spoold proxy --discover`)\n",
              p->register_name, n);
      rc = -1;
    }
  }
  proxy_candidates_free(list, n);
  return rc;
}

int proxy_command(int argc, char **argv) {
  proxy_cfg_t cfg;
  char *err = NULL;
  int rc = proxy_cfg_load(&cfg, argc, argv, &err);
  if (rc != 0) {
    if (rc < 0) fprintf(stderr, "spoold proxy: %s\n", err);
    free(err);
    proxy_cfg_free(&cfg);
    return rc < 0 ? 2 : 0;
  }
  cupsSetPasswordCB2(no_password, NULL);
  for (size_t i = 0; i < PROXY_MAX_PRINTERS; i++) g_wait_fd[i] = -1;
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (cfg.discover && discover(&cfg) != 0) {
    proxy_cfg_free(&cfg);
    curl_global_cleanup();
    return 1;
  }
  if (!cfg.nprinters) { /* --discover alone: the list was the answer */
    proxy_cfg_free(&cfg);
    curl_global_cleanup();
    return 0;
  }
  for (size_t i = 0; i < cfg.nprinters && !g_stop; i++) {
    if (cfg.printers[i].printer_id) continue;
    char rerr[1024];
    if (proxy_register(&cfg, &cfg.printers[i], rerr, sizeof rerr) != 0) {
      fprintf(stderr, "spoold proxy: %s\n", rerr);
      log_error("proxy: %s", rerr);
      proxy_cfg_free(&cfg);
      curl_global_cleanup();
      return 1;
    }
  }

  pthread_t threads[PROXY_MAX_PRINTERS];
  proxy_worker_t workers[PROXY_MAX_PRINTERS];
  for (size_t i = 0; i < cfg.nprinters; i++) {
    workers[i] = (proxy_worker_t){&cfg, &cfg.printers[i], &g_stop, &g_failed, &g_wait_fd[i]};
    pthread_create(&threads[i], NULL, proxy_worker_run, &workers[i]);
  }
  log_info("spoold proxy: %zu printer(s) for %s, state in %s", cfg.nprinters, cfg.server,
           cfg.state_dir);
  for (size_t i = 0; i < cfg.nprinters; i++) pthread_join(threads[i], NULL);
  log_info("spoold proxy: stopped");
  proxy_cfg_free(&cfg);
  curl_global_cleanup();
  return g_failed ? 1 : 0;
}
