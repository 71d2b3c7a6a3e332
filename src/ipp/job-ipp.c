/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job operations of the IPP INFRA endpoint: Get-Jobs, Get-Job-Attributes, Fetch-Job,
 * Acknowledge-Job, Update-Job-Status and Update-Active-Jobs.
 *
 * IPP job ids are the Graph job ids. A job is fetchable (job-state pending, reason
 * job-fetchable) once it is released to the printer: a job held by a processing print task is
 * never offered (Fetch-Job answers client-error-not-possible) until its task completes.
 * Acknowledge-Job makes it the device's (Graph: isAcquiredByPrinter, acknowledgedDateTime);
 * Update-Job-Status moves the Graph job through job_transition() (store/ipp.h).
 */
#include "core/enums.h"
#include "ipp/ipp-private.h"
#include "mapping/mapping.h"
#include "util/buf.h"
#include "util/log.h"

#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- job attributes ------------------------------------------------------------------------- */

/* urn:uuid for a job: a name-based (SHA-256) UUID of its tenant and id, stable everywhere. */
static void job_uuid(const store_job_t *j, char out[46]) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "spoold-job:%s:%" PRId64, j->tenant ? j->tenant : "", j->id);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)b.data, b.len, md);
  buf_free(&b);
  md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 layout */
  md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  snprintf(out, 46,
           "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
           md[12], md[13], md[14], md[15]);
}

static void add_date(ipp_t *ipp, ipp_tag_t group, const char *name, int64_t us) {
  if (us > 0) ippAddDate(ipp, group, name, ippTimeToDate((time_t)(us / 1000000)));
  else ippAddOutOfBand(ipp, group, IPP_TAG_NOVALUE, name);
}

/* Adds a job's attributes; see ipp-private.h. */
void ipp_add_job_attributes(ipp_client_t *c, ipp_t *ipp, ipp_tag_t group,
                            const store_ipp_job_t *j, cups_array_t *ra) {
  const store_job_t *g = &j->job;
  char uri[1024];
  if (ipp_wants(ra, "job-id")) ippAddInteger(ipp, group, IPP_TAG_INTEGER, "job-id", (int)g->id);
  if (ipp_wants(ra, "job-uri")) {
    ipp_job_uri(c, g->id, uri, sizeof uri);
    ippAddString(ipp, group, IPP_TAG_URI, "job-uri", NULL, uri);
  }
  if (ipp_wants(ra, "job-printer-uri"))
    ippAddString(ipp, group, IPP_TAG_URI, "job-printer-uri", NULL, c->printer_uri);
  if (ipp_wants(ra, "job-uuid")) {
    char u[46];
    job_uuid(g, u);
    ippAddString(ipp, group, IPP_TAG_URI, "job-uuid", NULL, u);
  }
  if (ipp_wants(ra, "job-name")) {
    char fallback[32];
    snprintf(fallback, sizeof fallback, "Job %" PRId64, g->id);
    const char *name = g->display_name && *g->display_name ? g->display_name
                       : j->doc_name && *j->doc_name       ? j->doc_name
                                                           : fallback;
    ippAddString(ipp, group, IPP_TAG_NAME, "job-name", NULL, name);
  }
  const char *user = g->created_by_upn ? g->created_by_upn
                     : g->created_by_name ? g->created_by_name
                     : g->created_by_id   ? g->created_by_id
                                          : "anonymous";
  if (ipp_wants(ra, "job-originating-user-name"))
    ippAddString(ipp, group, IPP_TAG_NAME, "job-originating-user-name", NULL, user);
  if (ipp_wants(ra, "job-originating-user-uri") && g->created_by_upn) {
    char mail[512];
    snprintf(mail, sizeof mail, "mailto:%s", g->created_by_upn);
    ippAddString(ipp, group, IPP_TAG_URI, "job-originating-user-uri", NULL, mail);
  }
  int state = ipp_map_job_state(g->phase);
  if (ipp_wants(ra, "job-state")) ippAddInteger(ipp, group, IPP_TAG_ENUM, "job-state", state);
  if (ipp_wants(ra, "job-state-reasons")) {
    const char *reasons[4];
    size_t n = ipp_map_job_reasons(g->phase, g->details, j->device_state, reasons, 4);
    ippAddStrings(ipp, group, IPP_TAG_KEYWORD, "job-state-reasons", (int)n, NULL, reasons);
  }
  if (ipp_wants(ra, "job-state-message") && g->description)
    ippAddString(ipp, group, IPP_TAG_TEXT, "job-state-message", NULL, g->description);
  if (ipp_wants(ra, "job-printer-up-time"))
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "job-printer-up-time", ipp_up_time(c, c->now_us));
  if (ipp_wants(ra, "time-at-creation"))
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "time-at-creation", ipp_up_time(c, g->created_us));
  if (ipp_wants(ra, "time-at-processing")) {
    if (j->processing_us) ippAddInteger(ipp, group, IPP_TAG_INTEGER, "time-at-processing",
                                        ipp_up_time(c, j->processing_us));
    else ippAddOutOfBand(ipp, group, IPP_TAG_NOVALUE, "time-at-processing");
  }
  if (ipp_wants(ra, "time-at-completed")) {
    if (g->completed_us) ippAddInteger(ipp, group, IPP_TAG_INTEGER, "time-at-completed",
                                       ipp_up_time(c, g->completed_us));
    else ippAddOutOfBand(ipp, group, IPP_TAG_NOVALUE, "time-at-completed");
  }
  if (ipp_wants(ra, "date-time-at-creation"))
    add_date(ipp, group, "date-time-at-creation", g->created_us);
  if (ipp_wants(ra, "date-time-at-processing"))
    add_date(ipp, group, "date-time-at-processing", j->processing_us);
  if (ipp_wants(ra, "date-time-at-completed"))
    add_date(ipp, group, "date-time-at-completed", g->completed_us);
  if (ipp_wants(ra, "number-of-documents"))
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "number-of-documents", 1);
  if (ipp_wants(ra, "job-k-octets"))
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "job-k-octets",
                  (int)((j->doc_size + 1023) / 1024 > 2147483647 ? 2147483647
                                                                 : (j->doc_size + 1023) / 1024));
  if (j->doc_type && *j->doc_type) {
    if (ipp_wants(ra, "document-format-supplied"))
      ippAddString(ipp, group, IPP_TAG_MIMETYPE, "document-format-supplied", NULL, j->doc_type);
    if (ipp_wants(ra, "document-format"))
      ippAddString(ipp, group, IPP_TAG_MIMETYPE, "document-format", NULL, j->doc_type);
  }
  if (j->doc_name && *j->doc_name && ipp_wants(ra, "document-name-supplied"))
    ippAddString(ipp, group, IPP_TAG_NAME, "document-name-supplied", NULL, j->doc_name);
  if (ipp_wants(ra, "job-impressions-completed"))
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "job-impressions-completed",
                  j->impressions > 0 ? (int)(j->impressions > 2147483647 ? 2147483647
                                                                         : j->impressions)
                                     : 0);
  if (j->device_uuid) {
    if (ipp_wants(ra, "output-device-assigned"))
      ippAddString(ipp, group, IPP_TAG_NAME, "output-device-assigned", NULL, j->device_uuid);
    if (ipp_wants(ra, "output-device-uuid-assigned"))
      ippAddString(ipp, group, IPP_TAG_URI, "output-device-uuid-assigned", NULL, j->device_uuid);
  }
  if (j->device_state && ipp_wants(ra, "output-device-job-state"))
    ippAddInteger(ipp, group, IPP_TAG_ENUM, "output-device-job-state", j->device_state);
  if (j->device_reasons && *j->device_reasons && ipp_wants(ra, "output-device-job-state-reasons")) {
    char *copy = xstrdup(j->device_reasons);
    const char *vals[32];
    int n = 0;
    for (char *tok = strtok(copy, ","); tok && n < 32; tok = strtok(NULL, ",")) vals[n++] = tok;
    if (n) ippAddStrings(ipp, group, IPP_TAG_KEYWORD, "output-device-job-state-reasons", n, NULL,
                         vals);
    free(copy);
  }
  if (j->device_message && ipp_wants(ra, "output-device-job-state-message"))
    ippAddString(ipp, group, IPP_TAG_TEXT, "output-device-job-state-message", NULL,
                 j->device_message);

  /* The job ticket: the Graph configuration as job template attributes. */
  ipp_t *ticket = ippNew();
  ipp_map_job_ticket(ticket, group, g->configuration);
  for (ipp_attribute_t *a = ippFirstAttribute(ticket); a; a = ippNextAttribute(ticket))
    if (ipp_wants(ra, ippGetName(a))) ippCopyAttribute(ipp, a, 0);
  ippDelete(ticket);
}

/* ---- Get-Jobs ------------------------------------------------------------------------------- */

/* Get-Jobs' which-jobs and limit, for both IPP endpoints; see ipp-private.h. */
bool ipp_get_jobs_filter(ipp_client_t *c, store_ipp_job_filter_t *f, bool allow_fetchable) {
  ipp_attribute_t *a = ipp_op_attr(c, "which-jobs", IPP_TAG_ZERO);
  if (a) {
    const char *w = ippGetString(a, 0, NULL);
    if (ippGetValueTag(a) != IPP_TAG_KEYWORD || ippGetCount(a) != 1 || !w) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "which-jobs must be one keyword.");
      ipp_respond_unsupported(c, a);
      return false;
    }
    if (!strcmp(w, "not-completed")) f->which = STORE_IPP_NOT_COMPLETED;
    else if (!strcmp(w, "completed")) f->which = STORE_IPP_COMPLETED;
    else if (allow_fetchable && !strcmp(w, "fetchable")) f->which = STORE_IPP_FETCHABLE;
    else if (!strcmp(w, "all")) f->which = STORE_IPP_ALL;
    else {
      ipp_respond(c, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, "which-jobs \"%s\" is not supported.",
                  w);
      ipp_respond_unsupported(c, a);
      return false;
    }
  }
  if ((a = ipp_op_attr(c, "limit", IPP_TAG_ZERO))) {
    if (ippGetValueTag(a) != IPP_TAG_INTEGER || ippGetCount(a) != 1 || ippGetInteger(a, 0) < 1) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "limit must be one integer of at least 1.");
      ipp_respond_unsupported(c, a);
      return false;
    }
    if (ippGetInteger(a, 0) < f->limit) f->limit = ippGetInteger(a, 0);
  }
  return true;
}

/* Get-Jobs: which-jobs (not-completed, completed, fetchable, all), limit, my-jobs with
 * requesting-user-name, requesting-user-uri (one user's jobs: mailto:<upn> or
 * urn:uuid:<user object id>), requested-attributes. */
void ipp_get_jobs(ipp_client_t *c) {
  store_ipp_job_filter_t f = {.which = STORE_IPP_NOT_COMPLETED, .limit = IPP_MAX_JOBS_LISTED};
  if (!ipp_get_jobs_filter(c, &f, true)) return;
  ipp_attribute_t *a;
  if ((a = ipp_op_attr(c, "my-jobs", IPP_TAG_ZERO))) {
    if (ippGetValueTag(a) != IPP_TAG_BOOLEAN || ippGetCount(a) != 1) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "my-jobs must be one boolean.");
      ipp_respond_unsupported(c, a);
      return;
    }
    if (ippGetBoolean(a, 0)) f.user_upn = c->user ? c->user : "";
  }
  if ((a = ipp_op_attr(c, "requesting-user-uri", IPP_TAG_ZERO))) {
    const char *u = ippGetString(a, 0, NULL);
    if (ippGetValueTag(a) != IPP_TAG_URI || !u) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "requesting-user-uri must be a uri.");
      ipp_respond_unsupported(c, a);
      return;
    }
    if (!strncasecmp(u, "mailto:", 7)) f.user_upn = u + 7;
    else if (!strncasecmp(u, "urn:uuid:", 9)) f.user_id = u + 9;
    else f.user_upn = u;
  }
  ipp_respond_job_list(c, &f);
}

void ipp_respond_job_list(ipp_client_t *c, const store_ipp_job_filter_t *f) {
  store_ipp_job_t *jobs = NULL;
  size_t n = 0;
  store_rc_t rc = store_ipp_job_list(c->store, c->device.tenant, c->device.printer_id, f, &jobs, &n);
  if (rc != STORE_OK) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The jobs could not be read; retry shortly.");
    return;
  }
  cups_array_t *ra = ippCreateRequestedArray(c->request);
  for (size_t i = 0; i < n; i++) {
    if (i) ippAddSeparator(c->response);
    ipp_add_job_attributes(c, c->response, IPP_TAG_JOB, &jobs[i], ra);
  }
  cupsArrayDelete(ra);
  store_ipp_jobs_free(jobs, n);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* ---- Get-Job-Attributes --------------------------------------------------------------------- */

void ipp_get_job_attributes(ipp_client_t *c) {
  if (!ipp_require_job_id(c)) return;
  store_ipp_job_t j;
  store_rc_t rc = store_ipp_job_get(c->store, c->device.tenant, c->device.printer_id, c->job_id, &j);
  if (rc != STORE_OK) {
    ipp_respond_job_rc(c, rc);
    return;
  }
  cups_array_t *ra = ippCreateRequestedArray(c->request);
  ipp_add_job_attributes(c, c->response, IPP_TAG_JOB, &j, ra);
  cupsArrayDelete(ra);
  store_ipp_job_clear(&j);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* ---- Fetch-Job ------------------------------------------------------------------------------- */

/* May the device fetch the job? See ipp-private.h. */
int ipp_check_fetchable(ipp_client_t *c, const store_ipp_job_t *j) {
  job_phase_t p = j->job.phase;
  if (p == JOB_HELD) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "Job #%" PRId64 " is held by a print task and "
                "is not released to the printer yet.", j->job.id);
    return -1;
  }
  if (p == JOB_CREATED) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_FETCHABLE, "Job #%" PRId64 " has not been started.",
                j->job.id);
    return -1;
  }
  if (job_phase_terminal(p)) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "Job #%" PRId64 " is already %s.", j->job.id,
                job_phase_describe(p));
    return -1;
  }
  if (j->device_uuid && strcmp(j->device_uuid, c->device_uuid) != 0) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE,
                "Job #%" PRId64 " was acknowledged by another output device.", j->job.id);
    return -1;
  }
  return 0;
}

/* Fetch-Job: the job's attributes (the job ticket) for a released job, or for a job this
 * device already acknowledged. */
void ipp_fetch_job(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c) || !ipp_require_job_id(c)) return;
  store_ipp_job_t j;
  store_rc_t rc = store_ipp_job_get(c->store, c->device.tenant, c->device.printer_id, c->job_id, &j);
  if (rc != STORE_OK) {
    ipp_respond_job_rc(c, rc);
    return;
  }
  if (ipp_check_fetchable(c, &j) == 0) {
    ipp_add_job_attributes(c, c->response, IPP_TAG_JOB, &j, NULL);
    ipp_respond(c, IPP_STATUS_OK, NULL);
  }
  store_ipp_job_clear(&j);
}

/* ---- Acknowledge-Job -------------------------------------------------------------------------- */

/* Acknowledge-Job: the device takes the job (Graph isAcquiredByPrinter, acknowledgedDateTime),
 * or declines it with a fetch-status-code other than successful-ok (the job stays fetchable). */
void ipp_acknowledge_job(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c) || !ipp_require_job_id(c)) return;
  ipp_attribute_t *fsc = ippFindAttribute(c->request, "fetch-status-code", IPP_TAG_ZERO);
  if (fsc && (ippGetValueTag(fsc) != IPP_TAG_ENUM || ippGetCount(fsc) != 1)) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "fetch-status-code must be one enum.");
    ipp_respond_unsupported(c, fsc);
    return;
  }
  if (fsc && ippGetInteger(fsc, 0) != IPP_STATUS_OK) {
    /* Declined: the job stays released for another try or another device. */
    store_ipp_job_t j;
    store_rc_t rc = store_ipp_job_get(c->store, c->device.tenant, c->device.printer_id, c->job_id,
                                      &j);
    if (rc != STORE_OK) {
      ipp_respond_job_rc(c, rc);
      return;
    }
    ipp_attribute_t *msg = ippFindAttribute(c->request, "fetch-status-message", IPP_TAG_ZERO);
    log_info("ipp: printer %s device %s declined job %" PRId64 ": %s (%s)",
             c->device.printer_id, c->device_uuid, c->job_id,
             ippErrorString((ipp_status_t)ippGetInteger(fsc, 0)),
             msg && ippGetString(msg, 0, NULL) ? ippGetString(msg, 0, NULL) : "no message");
    store_ipp_job_clear(&j);
    ipp_respond(c, IPP_STATUS_OK, "The job was not acknowledged; it stays fetchable.");
    return;
  }
  store_ipp_result_t r;
  store_rc_t rc = store_ipp_job_acknowledge(c->store, c->device.tenant, c->device.printer_id,
                                            c->job_id, c->device_uuid, &r);
  ipp_respond_transition(c, rc, &r);
  store_ipp_result_clear(&r);
}

/* ---- Update-Job-Status ------------------------------------------------------------------------ */

/* Joins the keyword values of attr with commas (malloc'd), NULL when attr is NULL. */
static char *join_keywords(ipp_attribute_t *attr) {
  if (!attr) return NULL;
  buf_t b = BUF_INIT;
  buf_puts(&b, "");
  for (int i = 0; i < ippGetCount(attr) && b.len < 1024; i++) {
    const char *v = ippGetString(attr, i, NULL);
    if (!v || strchr(v, ',')) continue;
    if (b.len) buf_putc(&b, ',');
    buf_puts(&b, v);
  }
  return buf_detach(&b);
}

/* A text attribute's first value, or NULL. */
static const char *text_value(ipp_t *ipp, const char *name) {
  ipp_attribute_t *a = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
  ipp_tag_t t = a ? ippGetValueTag(a) : IPP_TAG_ZERO;
  return a && (t == IPP_TAG_TEXT || t == IPP_TAG_TEXTLANG) ? ippGetString(a, 0, NULL) : NULL;
}

/* Update-Job-Status: the device's view of a job it acknowledged (output-device-job-state,
 * output-device-job-state-reasons, output-device-job-state-message, job-impressions-completed,
 * in the job or operation group). processing, processing-stopped, completed, aborted and
 * canceled move the Graph job; a terminal job answers client-error-not-possible. */
void ipp_report_job_status(ipp_client_t *c, const store_ipp_job_status_t *s) {
  store_ipp_result_t r;
  store_rc_t rc = store_ipp_job_status(c->store, c->device.tenant, c->device.printer_id, c->job_id,
                                       c->device_uuid, s, &r);
  ipp_respond_transition(c, rc, &r);
  store_ipp_result_clear(&r);
}

void ipp_update_job_status(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c) || !ipp_require_job_id(c)) return;
  store_ipp_job_status_t s = {.details = -1, .impressions = -1};
  ipp_attribute_t *st = ippFindAttribute(c->request, "output-device-job-state", IPP_TAG_ZERO);
  if (st) {
    bool valid = false;
    if ((ippGetValueTag(st) == IPP_TAG_ENUM || ippGetValueTag(st) == IPP_TAG_INTEGER) &&
        ippGetCount(st) == 1) {
      s.device_state = ippGetInteger(st, 0);
      s.has_event = ipp_map_device_job_event(s.device_state, &s.event, &valid);
    }
    if (!valid) {
      ipp_respond(c, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
                  "output-device-job-state must be one job-state value (3 to 9).");
      ipp_respond_unsupported(c, st);
      return;
    }
  }
  ipp_attribute_t *reasons = ippFindAttribute(c->request, "output-device-job-state-reasons",
                                              IPP_TAG_ZERO);
  if (reasons && ippGetValueTag(reasons) != IPP_TAG_KEYWORD) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "output-device-job-state-reasons must be keywords.");
    ipp_respond_unsupported(c, reasons);
    return;
  }
  ipp_attribute_t *imp = ippFindAttribute(c->request, "job-impressions-completed", IPP_TAG_ZERO);
  if (imp) {
    if (ippGetValueTag(imp) != IPP_TAG_INTEGER || ippGetInteger(imp, 0) < 0) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "job-impressions-completed must be an integer.");
      ipp_respond_unsupported(c, imp);
      return;
    }
    s.impressions = ippGetInteger(imp, 0);
  }
  char *joined = join_keywords(reasons);
  s.device_reasons = joined;
  const char *message = text_value(c->request, "output-device-job-state-message");
  const char *ms = text_value(c->request, "microsoft-output-device-job-state-message");
  s.device_message = message ? message : ms;
  if (s.has_event) {
    switch (s.event) {
      case JOB_EV_DEVICE_COMPLETED:
        s.details = (int)ipp_map_completed_details(reasons);
        s.description = s.details == JOB_DETAIL_COMPLETED_WITH_ERRORS
                            ? "The print job completed with errors at the printer."
                        : s.details == JOB_DETAIL_COMPLETED_WITH_WARNINGS
                            ? "The print job completed with warnings at the printer."
                            : NULL;
        break;
      case JOB_EV_DEVICE_CANCELED:
        s.description = "The print job was canceled at the printer.";
        break;
      case JOB_EV_DEVICE_ABORTED:
        s.description = "The print job was aborted by the printer.";
        break;
      default:
        break;
    }
    if (s.device_message && *s.device_message && s.event != JOB_EV_DEVICE_PROCESSING)
      s.description = s.device_message;
  }
  ipp_report_job_status(c, &s);
  free(joined);
}

/* ---- Update-Active-Jobs ----------------------------------------------------------------------- */

/* Update-Active-Jobs: the device lists its active jobs (job-ids) with its states
 * (output-device-job-states). The answer lists, with the server's real job-state, every listed
 * job whose state differs and every job this device acknowledged that is still active but was
 * not listed; listed ids the printer does not know, or that another device took, come back in
 * the unsupported group. The cancel/abort channel that survives missed events. */
void ipp_update_active_jobs(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c)) return;
  ipp_attribute_t *ids = ippFindAttribute(c->request, "job-ids", IPP_TAG_ZERO);
  ipp_attribute_t *states = ippFindAttribute(c->request, "output-device-job-states", IPP_TAG_ZERO);
  int n = ids ? ippGetCount(ids) : 0;
  if ((ids == NULL) != (states == NULL) ||
      (ids && (ippGetValueTag(ids) != IPP_TAG_INTEGER ||
               (ippGetValueTag(states) != IPP_TAG_ENUM && ippGetValueTag(states) != IPP_TAG_INTEGER) ||
               ippGetCount(states) != n))) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "job-ids (integers) and output-device-job-states "
                "(enums) must be given together, with the same number of values.");
    return;
  }
  if (n > IPP_MAX_JOBS_LISTED) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "At most %d jobs may be listed.",
                IPP_MAX_JOBS_LISTED);
    return;
  }
  int *diff_ids = xcalloc((size_t)n + IPP_MAX_JOBS_LISTED + 1, sizeof *diff_ids);
  int *diff_states = xcalloc((size_t)n + IPP_MAX_JOBS_LISTED + 1, sizeof *diff_states);
  int *unknown = xcalloc((size_t)n + 1, sizeof *unknown);
  int ndiff = 0, nunknown = 0;
  bool failed = false;
  for (int i = 0; i < n && !failed; i++) {
    int id = ippGetInteger(ids, i);
    store_ipp_job_t j;
    store_rc_t rc = id > 0 ? store_ipp_job_get(c->store, c->device.tenant, c->device.printer_id,
                                                id, &j)
                           : STORE_NOT_FOUND;
    if (rc == STORE_NOT_FOUND ||
        (rc == STORE_OK && j.device_uuid && strcmp(j.device_uuid, c->device_uuid) != 0)) {
      unknown[nunknown++] = id;
    } else if (rc != STORE_OK) {
      failed = true;
    } else {
      int real = ipp_map_job_state(j.job.phase);
      if (real != ippGetInteger(states, i)) {
        diff_ids[ndiff] = id;
        diff_states[ndiff++] = real;
      }
    }
    if (rc == STORE_OK) store_ipp_job_clear(&j);
  }
  /* Active jobs this device acknowledged that it did not list. */
  store_ipp_job_filter_t f = {.which = STORE_IPP_NOT_COMPLETED, .device_uuid = c->device_uuid,
                              .assigned_only = true, .limit = IPP_MAX_JOBS_LISTED};
  store_ipp_job_t *mine = NULL;
  size_t nmine = 0;
  if (!failed && store_ipp_job_list(c->store, c->device.tenant, c->device.printer_id, &f, &mine,
                                    &nmine) != STORE_OK)
    failed = true;
  for (size_t k = 0; !failed && k < nmine; k++) {
    bool listed = false;
    for (int i = 0; i < n && !listed; i++) listed = ippGetInteger(ids, i) == mine[k].job.id;
    if (!listed) {
      diff_ids[ndiff] = (int)mine[k].job.id;
      diff_states[ndiff++] = ipp_map_job_state(mine[k].job.phase);
    }
  }
  store_ipp_jobs_free(mine, nmine);
  if (failed) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The jobs could not be read; retry shortly.");
  } else {
    if (ndiff) {
      ippAddIntegers(c->response, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-ids", ndiff, diff_ids);
      ippAddIntegers(c->response, IPP_TAG_OPERATION, IPP_TAG_ENUM, "output-device-job-states",
                     ndiff, diff_states);
    }
    if (nunknown)
      ippAddIntegers(c->response, IPP_TAG_UNSUPPORTED_GROUP, IPP_TAG_INTEGER, "job-ids", nunknown,
                     unknown);
    ipp_respond(c, IPP_STATUS_OK, NULL);
  }
  free(diff_ids);
  free(diff_states);
  free(unknown);
}
