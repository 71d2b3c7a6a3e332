/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA side of the store (store/ipp.h), devices: device credentials, the device's view
 * of jobs and the device transitions (acknowledge, job status), output devices and their
 * printer attributes. ippget subscriptions are in ipp-subscriptions.c, the events that report
 * changes to them in ipp-events.c.
 */
#include "store/ipp.h"
#include "store/ipp-private.h"
#include "store/pullprint.h"
#include "store/store-private.h"
#include "store/jobs-private.h"
#include "util/buf.h"
#include "util/jsonmerge.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of a job row with its device view and document, in the order job_row() reads. */
#define IPP_JOB_COLS                                                                            \
  STORE_JOB_COLS ","                                                                            \
  " j.device_uuid, j.device_state, j.device_reasons, j.device_message, j.device_doc_state,"     \
  " j.impressions_completed, j.processing_us,"                                                  \
  " d.id, d.display_name, d.content_type, d.size, d.uploaded_us, d.blob_key,"       \
  " d.sha256"
#define IPP_JOB_FROM "jobs j LEFT JOIN documents d ON d.job_id = j.id"


#define SEEN_COALESCE_US 1000000LL   /* last_seen_us is written at most once a second */
/* ---- clearing ---------------------------------------------------------------------------- */

void store_ipp_credentials_clear(store_ipp_credentials_t *c) {
  if (!c) return;
  free(c->printer_id);
  free(c->tenant);
  free(c->secret_hash);
  free(c->cert_sha256);
  memset(c, 0, sizeof *c);
}

void store_ipp_job_clear(store_ipp_job_t *j) {
  if (!j) return;
  store_job_clear(&j->job);
  free(j->device_uuid);
  free(j->device_reasons);
  free(j->device_message);
  free(j->doc_id);
  free(j->doc_name);
  free(j->doc_type);
  free(j->doc_blob);
  free(j->doc_sha256);
  memset(j, 0, sizeof *j);
}

void store_ipp_jobs_free(store_ipp_job_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_ipp_job_clear(&v[i]);
  free(v);
}

void store_ipp_result_clear(store_ipp_result_t *r) {
  if (!r) return;
  free(r->why);
  memset(r, 0, sizeof *r);
}

void store_ipp_printer_patch_clear(store_ipp_printer_patch_t *p) {
  if (!p) return;
  free(p->status_details);
  free(p->status_description);
  free(p->capabilities_merge);
  free(p->defaults_merge);
  memset(p, 0, sizeof *p);
  p->status_state = -1;
  p->accepting = -1;
}

/* ---- small helpers ----------------------------------------------------------------------- */

static bool same_text(const char *a, const char *b) {
  return (!a && !b) || (a && b && !strcmp(a, b));
}

/* ---- credentials ------------------------------------------------------------------------- */

typedef struct {
  const char             *printer_id;
  const char             *hash;
  store_ipp_credentials_t out;
} cred_arg_t;

static int cred_get_fn(db_conn_t *c, void *arg) {
  cred_arg_t *a = arg;
  store_ipp_credentials_clear(&a->out);
  db_stmt_t *s = db_prepare(c, "SELECT id, tenant_id, device_secret_hash, cert_sha256"
                               " FROM printers WHERE id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  int rc = db_step(s);
  if (rc == DB_ROW) {
    a->out.printer_id = store_col_strdup(s, 0, true);
    a->out.tenant = store_col_strdup(s, 1, true);
    a->out.secret_hash = store_col_strdup(s, 2, false);
    a->out.cert_sha256 = store_col_strdup(s, 3, false);
  }
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

/* Reads a printer's device credentials; see ipp.h. */
store_rc_t store_ipp_credentials_get(store_t *st, const char *printer_id,
                                     store_ipp_credentials_t *out) {
  memset(out, 0, sizeof *out);
  if (!printer_id) return STORE_NOT_FOUND;
  cred_arg_t a = {.printer_id = printer_id};
  store_rc_t rc = store_rc(db_read(st->db, cred_get_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_ipp_credentials_clear(&a.out);
  return rc;
}

static int secret_set_fn(db_conn_t *c, void *arg) {
  cred_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "UPDATE printers SET device_secret_hash = ? WHERE id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->hash);
  db_bind_text(s, 2, a->printer_id);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  return db_changes(c) == 1 ? 0 : STORE_NOT_FOUND;
}

/* Replaces a printer's device token hash; see ipp.h. */
store_rc_t store_ipp_device_secret_set(store_t *st, const char *printer_id,
                                       const char *secret_hash) {
  if (!printer_id || !secret_hash) return STORE_NOT_FOUND;
  cred_arg_t a = {.printer_id = printer_id, .hash = secret_hash};
  return store_rc(db_write(st->db, secret_set_fn, &a));
}

/* Sets last_seen_us unless it is less than a second old; 0 or DB_ERROR. */
static int printer_seen(db_conn_t *c, const char *tenant, const char *printer_id, int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE printers SET last_seen_us = ?"
                               " WHERE id = ? AND tenant_id = ?"
                               " AND (last_seen_us IS NULL OR last_seen_us < ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, now);
  db_bind_text(s, 2, printer_id);
  db_bind_text(s, 3, tenant);
  db_bind_int64(s, 4, now - SEEN_COALESCE_US);
  return store_step_done(s);
}

typedef struct {
  const char *tenant;
  const char *printer_id;
  int64_t     now;
} seen_arg_t;

static int seen_fn(db_conn_t *c, void *arg) {
  seen_arg_t *a = arg;
  return printer_seen(c, a->tenant, a->printer_id, a->now);
}

/* Records a device request for lastSeenDateTime; see ipp.h. */
store_rc_t store_ipp_printer_seen(store_t *st, const char *tenant, const char *printer_id,
                                  int64_t now_us) {
  seen_arg_t a = {tenant, printer_id, now_us};
  return store_rc(db_write(st->db, seen_fn, &a));
}

/* ---- job rows ---------------------------------------------------------------------------- */

/* Fills *j (zeroed first) from a row selected with IPP_JOB_COLS. */
static void job_row(db_stmt_t *s, void *item) {
  store_ipp_job_t *j = item;
  memset(j, 0, sizeof *j);
  store_job_read_row(s, &j->job);
  _Static_assert(STORE_JOB_NCOLS == 23, "the device columns follow the job's 23");
  j->device_uuid = store_col_strdup(s, 23, false);
  j->device_state = (int)store_col_i64_or(s, 24, 0);
  j->device_reasons = store_col_strdup(s, 25, false);
  j->device_message = store_col_strdup(s, 26, false);
  j->device_doc_state = (int)store_col_i64_or(s, 27, 0);
  j->impressions = store_col_i64_or(s, 28, -1);
  j->processing_us = store_col_i64_or(s, 29, 0);
  j->doc_id = store_col_strdup(s, 30, false);
  j->doc_name = store_col_strdup(s, 31, true);
  j->doc_type = store_col_strdup(s, 32, true);
  j->doc_size = store_col_i64_or(s, 33, 0);
  j->doc_uploaded_us = store_col_i64_or(s, 34, 0);
  j->doc_blob = store_col_strdup(s, 35, false);
  j->doc_sha256 = store_col_strdup(s, 36, false);
}

/* Reads job id of printer_id in tenant; 0, STORE_NOT_FOUND or DB_ERROR. */
static int job_load(db_conn_t *c, const char *tenant, const char *printer_id, int64_t id,
                    store_ipp_job_t *j) {
  db_stmt_t *s = db_prepare(c, "SELECT " IPP_JOB_COLS " FROM " IPP_JOB_FROM
                               " WHERE j.id = ? AND j.tenant_id = ? AND j.printer_id = ?"
                               " ORDER BY d.id LIMIT 1");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, id);
  db_bind_text(s, 2, tenant);
  db_bind_text(s, 3, printer_id);
  return store_step_row(s, job_row, j);
}

typedef struct {
  const char                   *tenant;
  const char                   *printer_id;
  int64_t                       id;
  const store_ipp_job_filter_t *f;
  store_ipp_job_t               job;
  store_ipp_job_t              *jobs;
  size_t                        n;
} job_read_arg_t;

static int job_get_fn(db_conn_t *c, void *arg) {
  job_read_arg_t *a = arg;
  store_ipp_job_clear(&a->job);
  return job_load(c, a->tenant, a->printer_id, a->id, &a->job);
}

/* Reads one of a printer's jobs; see ipp.h. */
store_rc_t store_ipp_job_get(store_t *st, const char *tenant, const char *printer_id,
                             int64_t job_id, store_ipp_job_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !printer_id || job_id <= 0) return STORE_NOT_FOUND;
  job_read_arg_t a = {.tenant = tenant, .printer_id = printer_id, .id = job_id};
  store_rc_t rc = store_rc(db_read(st->db, job_get_fn, &a));
  if (rc == STORE_OK) *out = a.job;
  else store_ipp_job_clear(&a.job);
  return rc;
}

static int job_list_fn(db_conn_t *c, void *arg) {
  job_read_arg_t *a = arg;
  const store_ipp_job_filter_t *f = a->f;
  store_ipp_jobs_free(a->jobs, a->n);
  a->jobs = NULL;
  a->n = 0;
  buf_t sql = BUF_INIT;
  buf_printf(&sql, "SELECT " IPP_JOB_COLS " FROM " IPP_JOB_FROM
                   " WHERE j.tenant_id = ? AND j.printer_id = ?");
  switch (f->which) {
    case STORE_IPP_NOT_COMPLETED:
      buf_printf(&sql, " AND j.phase NOT IN (%d, %d, %d)", JOB_COMPLETED, JOB_CANCELED,
                 JOB_ABORTED);
      break;
    case STORE_IPP_COMPLETED:
      buf_printf(&sql, " AND j.phase IN (%d, %d, %d)", JOB_COMPLETED, JOB_CANCELED, JOB_ABORTED);
      break;
    case STORE_IPP_FETCHABLE:
      buf_printf(&sql, " AND j.phase = %d", JOB_FETCHABLE);
      break;
    case STORE_IPP_ALL:
      break;
  }
  if (f->user_upn) buf_puts(&sql, " AND j.created_by_upn_lc = ?");
  if (f->user_id) buf_puts(&sql, " AND j.created_by_id = ?");
  if (f->assigned_only) buf_puts(&sql, " AND j.device_uuid = ?");
  buf_puts(&sql, f->which == STORE_IPP_COMPLETED
                     ? " ORDER BY COALESCE(j.completed_us, j.updated_us) DESC, j.id DESC LIMIT ?"
                     : " ORDER BY j.id LIMIT ?");
  db_stmt_t *s = db_prepare(c, sql.data);
  buf_free(&sql);
  if (!s) return DB_ERROR;
  int i = 1;
  db_bind_text(s, i++, a->tenant);
  db_bind_text(s, i++, a->printer_id);
  char *upn = NULL;
  if (f->user_upn) {
    upn = xstrdup(f->user_upn);
    for (char *p = upn; *p; p++)
      if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    db_bind_text(s, i++, upn);
  }
  if (f->user_id) db_bind_text(s, i++, f->user_id);
  if (f->assigned_only) db_bind_text(s, i++, f->device_uuid ? f->device_uuid : "");
  db_bind_int64(s, i++, f->limit > 0 ? f->limit : 1);
  size_t cap = 0;
  int64_t last_id = 0;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    if (a->n && db_col_int64(s, 0) == last_id) continue; /* a job with two document rows */
    if (a->n == cap) {
      cap = cap ? cap * 2 : 8;
      a->jobs = xrealloc(a->jobs, cap * sizeof *a->jobs);
    }
    job_row(s, &a->jobs[a->n]);
    last_id = a->jobs[a->n].job.id;
    a->n++;
  }
  db_reset(s);
  free(upn);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Lists a printer's jobs; see ipp.h. */
store_rc_t store_ipp_job_list(store_t *st, const char *tenant, const char *printer_id,
                              const store_ipp_job_filter_t *f, store_ipp_job_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  job_read_arg_t a = {.tenant = tenant, .printer_id = printer_id, .f = f};
  store_rc_t rc = store_rc(db_read(st->db, job_list_fn, &a));
  if (rc != STORE_OK) {
    store_ipp_jobs_free(a.jobs, a.n);
    return rc;
  }
  *out = a.jobs;
  *n = a.n;
  return STORE_OK;
}

/* ---- device transitions ------------------------------------------------------------------ */

typedef struct dev_arg dev_arg_t;
typedef struct dev_step dev_step_t;
struct dev_arg {
  const char                   *tenant;
  const char                   *printer_id;
  int64_t                       job_id;
  const char                   *device_uuid;
  const store_ipp_job_status_t *status;  /* Update-Job-Status; NULL for Acknowledge-Job */
  store_ipp_result_t           *r;
  /* the operation: its decision on the job read (0 with *step, or a refusal) and the device
   * columns it writes */
  int (*decide)(dev_arg_t *a, const store_ipp_job_t *j, dev_step_t *step);
  int (*record)(db_conn_t *c, dev_arg_t *a, int64_t now);
};

static int refuse(store_ipp_result_t *r, store_ipp_refusal_t why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets r->refusal and r->why; returns STORE_CONFLICT. */
static int refuse(store_ipp_result_t *r, store_ipp_refusal_t why, const char *fmt, ...) {
  free(r->why);
  va_list ap;
  va_start(ap, fmt);
  r->why = xvasprintf(fmt, ap);
  va_end(ap);
  r->refusal = why;
  return STORE_CONFLICT;
}

/* Refuses a device action on a job that has not reached the printer side, or has ended. */
static int refuse_phase(store_ipp_result_t *r, job_phase_t phase) {
  if (phase == JOB_HELD)
    return refuse(r, STORE_IPP_REFUSED_HELD, "The job is held by a print task and is not "
                  "released to the printer yet.");
  if (phase == JOB_CREATED)
    return refuse(r, STORE_IPP_REFUSED_NOT_FETCHABLE, "The job has not been started yet.");
  return refuse(r, STORE_IPP_REFUSED_TERMINAL, "The job is already %s.",
                job_phase_describe(phase));
}

/* Moves job id from `from` to `to` (store_job_set_phase); the caller writes the IPP events once
 * the device columns are updated too. */
static int set_phase(db_conn_t *c, const char *tenant, int64_t id, job_phase_t from,
                     job_phase_t to, int details, const char *description, int64_t now) {
  job_phase_change_t chg = {description, details, NULL, true, NULL};
  return store_job_set_phase(c, tenant, id, from, to, &chg, now);
}

/* What a device transition does to the job it has read: change its phase to next (change),
 * and write the device's columns (record). */
struct dev_step {
  job_phase_t next;
  bool        change;
  bool        record;
};

/* Acknowledge-Job: the device takes the job (JOB_EV_DEVICE_ACK), unless it has it already. */
static int ack_decide(dev_arg_t *a, const store_ipp_job_t *j, dev_step_t *step) {
  job_phase_t phase = j->job.phase;
  if (j->device_uuid && strcmp(j->device_uuid, a->device_uuid) != 0)
    return job_phase_terminal(phase) ? refuse_phase(a->r, phase)
                                     : refuse(a->r, STORE_IPP_REFUSED_OTHER_DEVICE,
                                              "Another output device acknowledged the job.");
  if (j->device_uuid && (phase == JOB_ACQUIRED || phase == JOB_PROCESSING || phase == JOB_STOPPED)) {
    step->record = false; /* already ours */
    return 0;
  }
  const char *why;
  if (!job_transition(phase, JOB_EV_DEVICE_ACK, true, &step->next, &why))
    return refuse_phase(a->r, phase);
  step->change = true;
  return 0;
}

static int ack_record(db_conn_t *c, dev_arg_t *a, int64_t now) {
  return store_job_device_acquire(c, a->tenant, a->job_id, a->device_uuid, now);
}

/* Update-Job-Status: the device that acknowledged the job reports on it, with an event when
 * its phase changes. */
static int status_decide(dev_arg_t *a, const store_ipp_job_t *j, dev_step_t *step) {
  job_phase_t phase = j->job.phase;
  if (job_phase_terminal(phase) || phase == JOB_HELD || phase == JOB_CREATED)
    return refuse_phase(a->r, phase);
  if (!j->device_uuid)
    return refuse(a->r, STORE_IPP_REFUSED_NOT_ASSIGNED,
                  "The output device has not acknowledged the job (Acknowledge-Job).");
  if (strcmp(j->device_uuid, a->device_uuid) != 0)
    return refuse(a->r, STORE_IPP_REFUSED_OTHER_DEVICE,
                  "Another output device acknowledged the job.");
  const char *why;
  if (a->status->has_event && !job_transition(phase, a->status->event, true, &step->next, &why))
    return refuse_phase(a->r, phase);
  step->change = step->next != phase;
  return 0;
}

static int status_record(db_conn_t *c, dev_arg_t *a, int64_t now) {
  return store_job_device_report(c, a->tenant, a->job_id, a->status, now);
}

/* A device transition (a->decide, a->record) in one transaction: the job read, the decision,
 * the phase change, the device's columns, lastSeenDateTime and the IPP events. */
static int transition_fn(db_conn_t *c, void *arg) {
  dev_arg_t *a = arg;
  store_ipp_result_clear(a->r);
  store_ipp_job_t j;
  int rc = job_load(c, a->tenant, a->printer_id, a->job_id, &j);
  if (rc != 0) return rc;
  job_phase_t phase = j.job.phase;
  a->r->from = a->r->to = phase;
  dev_step_t step = {.next = phase, .record = true};
  rc = a->decide(a, &j, &step);
  store_ipp_job_clear(&j);
  if (rc != 0) return rc;
  int64_t now = time_now_us();
  const store_ipp_job_status_t *st = a->status;
  if (step.change && (rc = set_phase(c, a->tenant, a->job_id, phase, step.next,
                                     st ? st->details : -1, st ? st->description : NULL, now)) != 0)
    return rc;
  if (step.record && (rc = a->record(c, a, now)) != 0) return rc;
  if ((rc = printer_seen(c, a->tenant, a->printer_id, now)) != 0) return rc;
  if (step.change && (rc = store_ipp_job_changed(c, a->tenant, a->job_id, (int)phase, now)) != 0)
    return rc;
  a->r->to = step.next;
  return 0;
}

/* Runs a device transition on job_id of printer_id for device_uuid. */
static store_rc_t device_transition(store_t *st, dev_arg_t *a) {
  memset(a->r, 0, sizeof *a->r);
  if (!a->tenant || !a->printer_id || a->job_id <= 0 || !a->device_uuid) return STORE_NOT_FOUND;
  if (a->decide == status_decide && !a->status) return STORE_ERROR;
  return store_rc(db_write(st->db, transition_fn, a));
}

/* Acknowledge-Job; see ipp.h. */
store_rc_t store_ipp_job_acknowledge(store_t *st, const char *tenant, const char *printer_id,
                                     int64_t job_id, const char *device_uuid,
                                     store_ipp_result_t *r) {
  dev_arg_t a = {.tenant = tenant, .printer_id = printer_id, .job_id = job_id,
                 .device_uuid = device_uuid, .r = r, .decide = ack_decide, .record = ack_record};
  return device_transition(st, &a);
}

/* Update-Job-Status / Update-Document-Status; see ipp.h. */
store_rc_t store_ipp_job_status(store_t *st, const char *tenant, const char *printer_id,
                                int64_t job_id, const char *device_uuid,
                                const store_ipp_job_status_t *s, store_ipp_result_t *r) {
  dev_arg_t a = {.tenant = tenant, .printer_id = printer_id, .job_id = job_id,
                 .device_uuid = device_uuid, .status = s, .r = r, .decide = status_decide,
                 .record = status_record};
  return device_transition(st, &a);
}

/* ---- output devices ---------------------------------------------------------------------- */

typedef struct {
  const char        *tenant;
  const char        *printer_id;
  const char        *uuid;
  store_ipp_merge_fn merge;
  void              *merge_arg;
  int64_t            now;
  void              *attrs;
  size_t             len;
  int64_t            queued;
  char             **uuids;
  size_t             nuuids;
} device_arg_t;

/* The printer columns a device update reads and writes. */
typedef struct printer_cols {
  int   state;
  char *details, *description;
  int   accepting;            /* 1, 0, -1 (NULL) */
  char *capabilities, *defaults, *factory_defaults;
} printer_cols_t;

static void printer_cols_clear(printer_cols_t *p) {
  free(p->details);
  free(p->description);
  free(p->capabilities);
  free(p->defaults);
  free(p->factory_defaults);
  memset(p, 0, sizeof *p);
}

static int printer_cols_read(db_conn_t *c, const char *tenant, const char *id, printer_cols_t *p) {
  db_stmt_t *s = db_prepare(c, "SELECT status_state, status_details, status_description,"
                               " is_accepting_jobs, capabilities, defaults, factory_defaults"
                               " FROM printers WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, id);
  db_bind_text(s, 2, tenant);
  int rc = db_step(s);
  if (rc == DB_ROW) {
    p->state = (int)db_col_int64(s, 0);
    p->details = store_col_strdup(s, 1, true);
    p->description = store_col_strdup(s, 2, true);
    p->accepting = db_col_null(s, 3) ? -1 : db_col_int64(s, 3) != 0;
    p->capabilities = store_col_strdup(s, 4, false);
    p->defaults = store_col_strdup(s, 5, false);
    p->factory_defaults = store_col_strdup(s, 6, false);
  }
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

/* Merges patch (JSON object text) into *text; 0 or DB_ERROR (not an object). */
static int merge_into(char **text, const char *patch) {
  if (!patch) return 0;
  char *merged = json_merge_members_text(*text, patch);
  if (!merged) return DB_ERROR;
  free(*text);
  *text = merged;
  return 0;
}

typedef struct {
  void  *data;
  size_t len;
} attrs_t;

static void attrs_row(db_stmt_t *s, void *out) {
  attrs_t *b = out;
  b->data = store_col_blob_dup(s, 0, &b->len);
}

/* Reads the stored attributes of output device a->uuid of a->printer_id: 0 with *data (caller
 * frees) and *len, STORE_NOT_FOUND (*data NULL) or DB_ERROR. */
static int device_attrs_read(db_conn_t *c, const device_arg_t *a, void **data, size_t *len) {
  attrs_t b = {0};
  *data = NULL;
  *len = 0;
  db_stmt_t *s = db_prepare(c, "SELECT attributes FROM ipp_devices"
                               " WHERE printer_id = ? AND uuid = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->uuid);
  db_bind_text(s, 3, a->tenant);
  int rc = store_step_row(s, attrs_row, &b);
  *data = b.data;
  *len = b.len;
  return rc;
}

static int device_update_fn(db_conn_t *c, void *arg) {
  device_arg_t *a = arg;
  void *old = NULL, *attrs = NULL;
  size_t old_len = 0, len = 0;
  store_ipp_printer_patch_t patch;
  printer_cols_t before = {0}, after = {0};
  memset(&patch, 0, sizeof patch);
  store_ipp_printer_patch_clear(&patch);

  int rc = device_attrs_read(c, a, &old, &old_len);
  if (rc != 0 && rc != STORE_NOT_FOUND) return rc;
  bool exists = rc == 0;
  db_stmt_t *s;
  if ((rc = printer_cols_read(c, a->tenant, a->printer_id, &before)) != 0) goto done;
  if (a->merge(old, old_len, &attrs, &len, &patch, a->merge_arg) != 0) {
    rc = STORE_INVALID;
    goto done;
  }
  s = db_prepare(c, exists ? "UPDATE ipp_devices SET attributes = ?, updated_us = ?"
                             " WHERE printer_id = ? AND uuid = ? AND tenant_id = ?"
                           : "INSERT INTO ipp_devices (attributes, updated_us, printer_id, uuid,"
                             " tenant_id, created_us) VALUES (?, ?, ?, ?, ?, ?)");
  if (!s) {
    rc = DB_ERROR;
    goto done;
  }
  db_bind_blob(s, 1, attrs, len);
  db_bind_int64(s, 2, a->now);
  db_bind_text(s, 3, a->printer_id);
  db_bind_text(s, 4, a->uuid);
  db_bind_text(s, 5, a->tenant);
  if (!exists) db_bind_int64(s, 6, a->now);
  if ((rc = store_step_done(s)) != 0) goto done;

  /* The Graph printer after the patch. */
  after.state = patch.status_state >= 0 ? patch.status_state : before.state;
  after.details = xstrdup(patch.status_details ? patch.status_details : before.details);
  after.description = xstrdup(patch.status_description ? patch.status_description
                                                         : before.description);
  after.accepting = patch.accepting >= 0 ? patch.accepting : before.accepting;
  after.capabilities = before.capabilities ? xstrdup(before.capabilities) : NULL;
  after.defaults = before.defaults ? xstrdup(before.defaults) : NULL;
  after.factory_defaults = before.factory_defaults ? xstrdup(before.factory_defaults) : NULL;
  if ((rc = merge_into(&after.capabilities, patch.capabilities_merge)) != 0 ||
      (rc = merge_into(&after.defaults, patch.defaults_merge)) != 0 ||
      (rc = merge_into(&after.factory_defaults, patch.defaults_merge)) != 0)
    goto done;
  s = db_prepare(c, "UPDATE printers SET status_state = ?, status_details = ?,"
                    " status_description = ?, is_accepting_jobs = ?, capabilities = ?,"
                    " defaults = ?, factory_defaults = ?, last_seen_us = ?"
                    " WHERE id = ? AND tenant_id = ?");
  if (!s) {
    rc = DB_ERROR;
    goto done;
  }
  db_bind_int64(s, 1, after.state);
  db_bind_text(s, 2, after.details);
  db_bind_text(s, 3, after.description);
  if (after.accepting < 0) db_bind_null(s, 4);
  else db_bind_int64(s, 4, after.accepting);
  db_bind_text(s, 5, after.capabilities);
  db_bind_text(s, 6, after.defaults);
  db_bind_text(s, 7, after.factory_defaults);
  db_bind_int64(s, 8, a->now);
  db_bind_text(s, 9, a->printer_id);
  db_bind_text(s, 10, a->tenant);
  if ((rc = store_step_done(s)) != 0) goto done;

  /* Events for what changed. */
  ev_payload_t p = {.printer_state = after.state, .printer_accepting = after.accepting,
                    .printer_details = after.details, .text = after.description};
  if (after.state != before.state || !same_text(after.details, before.details) ||
      after.accepting != before.accepting || !same_text(after.description, before.description)) {
    ev_candidate_t cand[2];
    size_t n = 0;
    if (after.state == 3 /* stopped */ && before.state != 3)
      cand[n++] = (ev_candidate_t){"printer-stopped", NULL};
    cand[n++] = (ev_candidate_t){"printer-state-changed", NULL};
    if ((rc = store_ipp_events_emit(c, a->tenant, a->printer_id, cand, n, &p, a->now)) != 0) goto done;
  }
  if (!same_text(after.capabilities, before.capabilities) ||
      !same_text(after.defaults, before.defaults)) {
    ev_candidate_t cand = {"printer-config-changed", NULL};
    rc = store_ipp_events_emit(c, a->tenant, a->printer_id, &cand, 1, &p, a->now);
  }
done:
  free(old);
  free(attrs);
  store_ipp_printer_patch_clear(&patch);
  printer_cols_clear(&before);
  printer_cols_clear(&after);
  return rc;
}

/* Update-Output-Device-Attributes; see ipp.h. */
store_rc_t store_ipp_device_update(store_t *st, const char *tenant, const char *printer_id,
                                   const char *uuid, store_ipp_merge_fn merge, void *arg,
                                   int64_t now_us) {
  if (!tenant || !printer_id || !uuid) return STORE_NOT_FOUND;
  if (!merge) return STORE_ERROR;
  device_arg_t a = {.tenant = tenant, .printer_id = printer_id, .uuid = uuid, .merge = merge,
                    .merge_arg = arg, .now = now_us};
  int rc = db_write(st->db, device_update_fn, &a);
  return rc == STORE_INVALID ? STORE_INVALID : store_rc(rc);
}

static int device_get_fn(db_conn_t *c, void *arg) {
  device_arg_t *a = arg;
  free(a->attrs);
  a->attrs = NULL;
  a->len = 0;
  return device_attrs_read(c, a, &a->attrs, &a->len);
}

/* Get-Output-Device-Attributes; see ipp.h. */
store_rc_t store_ipp_device_get(store_t *st, const char *tenant, const char *printer_id,
                                const char *uuid, void **attrs, size_t *len) {
  *attrs = NULL;
  *len = 0;
  if (!tenant || !printer_id || !uuid) return STORE_NOT_FOUND;
  device_arg_t a = {.tenant = tenant, .printer_id = printer_id, .uuid = uuid};
  store_rc_t rc = store_rc(db_read(st->db, device_get_fn, &a));
  if (rc == STORE_OK) {
    *attrs = a.attrs;
    *len = a.len;
  } else {
    free(a.attrs);
  }
  return rc;
}

static int device_remove_fn(db_conn_t *c, void *arg) {
  device_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "DELETE FROM ipp_devices"
                               " WHERE printer_id = ? AND uuid = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->uuid);
  db_bind_text(s, 3, a->tenant);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  if (db_changes(c) != 1) return STORE_NOT_FOUND;
  s = db_prepare(c, "DELETE FROM ipp_subscriptions"
                    " WHERE printer_id = ? AND device_uuid = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->uuid);
  db_bind_text(s, 3, a->tenant);
  if ((rc = store_step_done(s)) != 0) return rc;
  return printer_seen(c, a->tenant, a->printer_id, a->now);
}

/* Deregister-Output-Device; see ipp.h. */
store_rc_t store_ipp_device_remove(store_t *st, const char *tenant, const char *printer_id,
                                   const char *uuid) {
  if (!tenant || !printer_id || !uuid) return STORE_NOT_FOUND;
  device_arg_t a = {.tenant = tenant, .printer_id = printer_id, .uuid = uuid,
                    .now = time_now_us()};
  return store_rc(db_write(st->db, device_remove_fn, &a));
}

static int counts_fn(db_conn_t *c, void *arg) {
  device_arg_t *a = arg;
  store_strings_free(a->uuids, a->nuuids);
  a->uuids = NULL;
  a->nuuids = 0;
  int rc = store_jobs_count_queued(c, a->tenant, a->printer_id, &a->queued);
  if (rc != 0) return rc;
  db_stmt_t *s = db_prepare(c, "SELECT uuid FROM ipp_devices WHERE printer_id = ? AND tenant_id = ?"
                    " ORDER BY uuid");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  while ((rc = db_step(s)) == DB_ROW) {
    a->uuids = xrealloc(a->uuids, (a->nuuids + 1) * sizeof *a->uuids);
    a->uuids[a->nuuids++] = store_col_strdup(s, 0, true);
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* queued-job-count and output devices; see ipp.h. */
store_rc_t store_ipp_printer_counts(store_t *st, const char *tenant, const char *printer_id,
                                    int64_t *queued, char ***uuids, size_t *nuuids) {
  *queued = 0;
  if (uuids) *uuids = NULL;
  if (nuuids) *nuuids = 0;
  device_arg_t a = {.tenant = tenant, .printer_id = printer_id};
  store_rc_t rc = store_rc(db_read(st->db, counts_fn, &a));
  if (rc == STORE_OK) {
    *queued = a.queued;
    if (uuids && nuuids) {
      *uuids = a.uuids;
      *nuuids = a.nuuids;
      a.uuids = NULL;
    }
  }
  store_strings_free(a.uuids, a.nuuids);
  return rc;
}

