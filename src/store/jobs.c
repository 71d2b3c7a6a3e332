/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print jobs: the jobs table with its documents and print tasks.
 *
 * Every change of a job's phase goes through job_transition() (core/job.h) inside the write
 * closure that applies it, and writes the phase together with its wire view (state, details,
 * description, isFetchable) and its side effects (task rows, outbox rows), so concurrent
 * requests on one job have exactly one winner. Job ids come from db_next_id(c, "job")
 * inside the insert transaction (SQLite: the counters row; PostgreSQL: a sequence).
 */
#include "store/jobs.h"

#include "core/enums.h"
#include "store/ipp-private.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store-private.h"
#include "store/jobs-private.h"
#include "store/tasks-private.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_CANCELED_DESCRIPTION "The print job was canceled, so the task was aborted."

/* ---- clearing ------------------------------------------------------------------------------ */

void store_job_clear(store_job_t *j) {
  if (!j) return;
  free(j->tenant);
  free(j->printer_id);
  free(j->display_name);
  free(j->description);
  free(j->configuration);
  free(j->created_by_id);
  free(j->created_by_upn);
  free(j->created_by_name);
  free(j->created_by_ip);
  free(j->redirected_from);
  free(j->redirected_to);
  memset(j, 0, sizeof *j);
}

void store_jobs_free(store_job_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_job_clear(&v[i]);
  free(v);
}

void store_document_clear(store_document_t *d) {
  if (!d) return;
  free(d->id);
  free(d->tenant);
  free(d->display_name);
  free(d->content_type);
  free(d->sha256);
  free(d->blob_key);
  memset(d, 0, sizeof *d);
}

void store_documents_free(store_document_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_document_clear(&v[i]);
  free(v);
}

void store_task_clear(store_task_t *t) {
  if (!t) return;
  free(t->id);
  free(t->tenant);
  free(t->definition_id);
  free(t->trigger_id);
  free(t->trigger_app);
  free(t->printer_id);
  free(t->description);
  memset(t, 0, sizeof *t);
}

void store_tasks_free(store_task_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_task_clear(&v[i]);
  free(v);
}

void store_job_change_clear(store_job_change_t *c) {
  if (!c) return;
  free(c->task_id);
  free(c->definition_id);
  free(c->why);
  memset(c, 0, sizeof *c);
}

/* ---- rows ---------------------------------------------------------------------------------- */

/* See jobs-private.h. */
void store_job_read_row(db_stmt_t *s, void *item) {
  store_job_t *j = item;
  memset(j, 0, sizeof *j);
  j->id = db_col_int64(s, 0);
  snprintf(j->id_str, sizeof j->id_str, "%" PRId64, j->id);
  j->tenant = store_col_strdup(s, 1, true);
  j->printer_id = store_col_strdup(s, 2, true);
  j->display_name = store_col_strdup(s, 3, false);
  int64_t phase = db_col_int64(s, 4);
  j->phase = phase >= 0 && phase < JOB_PHASE_COUNT ? (job_phase_t)phase : JOB_ABORTED;
  j->state = (int)db_col_int64(s, 5);
  j->details = (unsigned)db_col_int64(s, 6);
  j->description = store_col_strdup(s, 7, true);
  j->is_fetchable = db_col_int64(s, 8) != 0;
  j->is_acquired = db_col_int64(s, 9) != 0;
  j->acknowledged_us = store_col_i64_or(s, 10, 0);
  j->configuration = store_col_strdup(s, 11, true);
  j->created_us = db_col_int64(s, 12);
  j->updated_us = db_col_int64(s, 13);
  j->completed_us = store_col_i64_or(s, 14, 0);
  j->held_us = store_col_i64_or(s, 15, 0);
  j->created_by_id = store_col_strdup(s, 16, false);
  j->created_by_upn = store_col_strdup(s, 17, false);
  j->created_by_name = store_col_strdup(s, 18, false);
  j->created_by_ip = store_col_strdup(s, 19, false);
  j->redirected_from = store_col_strdup(s, 20, false);
  j->redirected_to = store_col_strdup(s, 21, false);
  j->has_error_code = !db_col_null(s, 22);
  j->error_code = j->has_error_code ? (int32_t)db_col_int64(s, 22) : 0;
}

/* See jobs-private.h. */
void store_document_read_row(db_stmt_t *s, void *item) {
  store_document_t *d = item;
  memset(d, 0, sizeof *d);
  d->id = store_col_strdup(s, 0, true);
  d->tenant = store_col_strdup(s, 1, true);
  d->job_id = db_col_int64(s, 2);
  d->display_name = store_col_strdup(s, 3, true);
  d->content_type = store_col_strdup(s, 4, true);
  d->size = db_col_int64(s, 5);
  d->uploaded_us = store_col_i64_or(s, 6, 0);
  d->downloaded_us = store_col_i64_or(s, 7, 0);
  d->sha256 = store_col_strdup(s, 8, false);
  d->blob_key = store_col_strdup(s, 9, false);
}

/* See store/jobs.h. */
int64_t store_job_id_parse(const char *s) {
  if (!s || !*s || *s == '0' || strlen(s) > 10) return 0;
  int64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (!isdigit((unsigned char)*p)) return 0;
    v = v * 10 + (*p - '0');
  }
  return v <= STORE_JOB_ID_MAX ? v : 0;
}

/* See jobs-private.h. */
int store_job_load(db_conn_t *c, const char *tenant, int64_t id, store_job_t *j) {
  store_job_clear(j);
  db_stmt_t *s = db_prepare(c, "SELECT " STORE_JOB_COLS
                               " FROM jobs j WHERE j.tenant_id = ? AND j.id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_int64(s, 2, id);
  return store_step_row(s, store_job_read_row, j);
}

/* ---- get ----------------------------------------------------------------------------------- */

typedef struct {
  const char *tenant;
  int64_t     id;
  store_job_t job;
} job_get_arg_t;

static int job_get_fn(db_conn_t *c, void *arg) {
  job_get_arg_t *a = arg;
  store_job_clear(&a->job);
  return store_job_load(c, a->tenant, a->id, &a->job);
}

/* Reads job id (decimal string) of tenant; see store/jobs.h. */
store_rc_t store_job_get(store_t *st, const char *tenant, const char *id, store_job_t *out) {
  memset(out, 0, sizeof *out);
  int64_t n = store_job_id_parse(id);
  if (!tenant || n == 0) return STORE_NOT_FOUND;
  /* The version is read before the read transaction begins: a write that ends after this
   * point makes the copy put below unusable (job-cache.c). */
  store_job_cache_ver_t ver;
  bool cached = st->job_cache && store_job_cache_version(st->db, &ver);
  if (cached && store_job_cache_get(st->job_cache, &ver, tenant, n, out)) return STORE_OK;
  job_get_arg_t a = {.tenant = tenant, .id = n};
  store_rc_t rc = store_rc(db_read(st->db, job_get_fn, &a));
  if (rc == STORE_OK) {
    *out = a.job;
    /* not from a transaction begun earlier (store_read_together): its snapshot may predate ver */
    if (cached && !store_in_read_together()) store_job_cache_put(st->job_cache, &ver, out);
  } else {
    store_job_clear(&a.job);
  }
  return rc;
}

/* ---- documents and tasks ------------------------------------------------------------------- */

typedef struct {
  const char       *tenant;
  int64_t           job_id;
  store_document_t *docs;
  store_task_t     *tasks;
  size_t            n;
} job_children_arg_t;

/* See jobs-private.h. */
int store_job_documents_read(db_conn_t *c, const char *tenant, int64_t job_id,
                             store_document_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT " STORE_DOC_COLS " FROM documents d"
                               " WHERE d.tenant_id = ? AND d.job_id = ? ORDER BY d.id");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_int64(s, 2, job_id);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 2;
      *out = xrealloc(*out, cap * sizeof **out);
    }
    store_document_read_row(s, &(*out)[(*n)++]);
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

static int job_documents_fn(db_conn_t *c, void *arg) {
  job_children_arg_t *a = arg;
  store_documents_free(a->docs, a->n);
  return store_job_documents_read(c, a->tenant, a->job_id, &a->docs, &a->n);
}

/* The documents of a job; see store/jobs.h. */
store_rc_t store_job_documents(store_t *st, const char *tenant, int64_t job_id,
                               store_document_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  job_children_arg_t a = {.tenant = tenant, .job_id = job_id};
  store_rc_t rc = store_rc(db_read(st->db, job_documents_fn, &a));
  if (rc != STORE_OK) {
    store_documents_free(a.docs, a.n);
    return rc;
  }
  *out = a.docs;
  *n = a.n;
  return STORE_OK;
}

static int job_tasks_fn(db_conn_t *c, void *arg) {
  job_children_arg_t *a = arg;
  store_tasks_free(a->tasks, a->n);
  a->tasks = NULL;
  a->n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT " STORE_TASK_COLS " FROM tasks t"
                               " WHERE t.tenant_id = ? AND t.job_id = ? ORDER BY t.id");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  db_bind_int64(s, 2, a->job_id);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    if (a->n == cap) {
      cap = cap ? cap * 2 : 2;
      a->tasks = xrealloc(a->tasks, cap * sizeof *a->tasks);
    }
    store_task_from_row(s, &a->tasks[a->n++]);
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* The print tasks of a job; see store/jobs.h. */
store_rc_t store_job_tasks(store_t *st, const char *tenant, int64_t job_id, store_task_t **out,
                           size_t *n) {
  *out = NULL;
  *n = 0;
  job_children_arg_t a = {.tenant = tenant, .job_id = job_id};
  store_rc_t rc = store_rc(db_read(st->db, job_tasks_fn, &a));
  if (rc != STORE_OK) {
    store_tasks_free(a.tasks, a.n);
    return rc;
  }
  *out = a.tasks;
  *n = a.n;
  return STORE_OK;
}

/* ---- create -------------------------------------------------------------------------------- */

/* ASCII lower-case copy (UPNs compare case-insensitively); NULL for NULL. */
/* See jobs-private.h. */
int store_job_next_id(db_conn_t *c, int64_t *id) {
  if (db_next_id(c, "job", id) != 0) return DB_ERROR;
  return *id > 0 && *id <= STORE_JOB_ID_MAX ? 0 : STORE_CONFLICT;
}

/* See jobs-private.h. */
int store_job_insert(db_conn_t *c, const store_job_row_t *r) {
  job_status_view_t v = job_phase_view(r->phase);
  db_stmt_t *s = db_prepare(c,
    "INSERT INTO jobs (id, tenant_id, printer_id, display_name, phase, state, details,"
    " description, is_fetchable, is_acquired, configuration, created_us, updated_us, held_us,"
    " created_by_id, created_by_upn, created_by_upn_lc, created_by_name, created_by_ip,"
    " created_by_groups, redirected_from)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  char *upn_lc = NULL;
  if (r->created_by_upn) {
    upn_lc = xstrdup(r->created_by_upn);
    for (char *p = upn_lc; *p; p++) *p = (char)tolower((unsigned char)*p);
  }
  int i = 1;
  db_bind_int64(s, i++, r->id);
  db_bind_text(s, i++, r->tenant);
  db_bind_text(s, i++, r->printer_id);
  db_bind_text(s, i++, r->display_name);
  db_bind_int64(s, i++, r->phase);
  db_bind_int64(s, i++, v.state);
  db_bind_int64(s, i++, v.details);
  db_bind_text(s, i++, v.description);
  db_bind_int64(s, i++, v.fetchable ? 1 : 0);
  db_bind_text(s, i++, r->configuration ? r->configuration : "{}");
  db_bind_int64(s, i++, r->now);
  db_bind_int64(s, i++, r->now);
  if (r->phase == JOB_HELD) db_bind_int64(s, i++, r->now);
  else db_bind_null(s, i++);
  db_bind_text(s, i++, r->created_by_id);
  db_bind_text(s, i++, r->created_by_upn);
  db_bind_text(s, i++, upn_lc);
  db_bind_text(s, i++, r->created_by_name);
  db_bind_text(s, i++, r->created_by_ip);
  db_bind_text(s, i++, r->created_by_groups);
  db_bind_text(s, i++, r->redirected_from);
  int rc = store_step_done(s);
  free(upn_lc);
  return rc;
}

/* See jobs-private.h. */
int store_job_document_insert(db_conn_t *c, const store_document_t *d) {
  db_stmt_t *s = db_prepare(c, "INSERT INTO documents (id, tenant_id, job_id, display_name,"
                               " content_type, size, uploaded_us, sha256, blob_key)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, d->id);
  db_bind_text(s, 2, d->tenant);
  db_bind_int64(s, 3, d->job_id);
  db_bind_text(s, 4, d->display_name ? d->display_name : "");
  db_bind_text(s, 5, d->content_type ? d->content_type : "");
  db_bind_int64(s, 6, d->size);
  if (d->uploaded_us > 0) db_bind_int64(s, 7, d->uploaded_us);
  else db_bind_null(s, 7);
  db_bind_text(s, 8, d->sha256);
  db_bind_text(s, 9, d->blob_key);
  return store_step_done(s);
}

/* A copy of NULL-able text (NULL stays NULL), or "" for NULL when empty_for_null, as
 * store_col_strdup() reads the column back. */
static char *text_dup(const char *t, bool empty_for_null) {
  return t ? xstrdup(t) : empty_for_null ? xstrdup("") : NULL;
}

/* Fills *j (zeroed first) with job row r as store_job_insert() writes it and
 * store_job_read_row() would read it back. */
static void job_from_row(const store_job_row_t *r, store_job_t *j) {
  job_status_view_t v = job_phase_view(r->phase);
  memset(j, 0, sizeof *j);
  j->id = r->id;
  snprintf(j->id_str, sizeof j->id_str, "%" PRId64, j->id);
  j->tenant = text_dup(r->tenant, true);
  j->printer_id = text_dup(r->printer_id, true);
  j->display_name = text_dup(r->display_name, false);
  j->phase = r->phase;
  j->state = v.state;
  j->details = v.details;
  j->description = text_dup(v.description, true);
  j->is_fetchable = v.fetchable;
  j->configuration = xstrdup(r->configuration ? r->configuration : "{}");
  j->created_us = j->updated_us = r->now;
  j->held_us = r->phase == JOB_HELD ? r->now : 0;
  j->created_by_id = text_dup(r->created_by_id, false);
  j->created_by_upn = text_dup(r->created_by_upn, false);
  j->created_by_name = text_dup(r->created_by_name, false);
  j->created_by_ip = text_dup(r->created_by_ip, false);
  j->redirected_from = text_dup(r->redirected_from, false);
}

typedef struct {
  const store_job_new_t *n;
  char                  *share_printer; /* n->share_id's printer, once read */
  store_job_t            job;
  store_document_t       doc;
} job_create_arg_t;

/* The printer of a new job must be in the tenant and accepting jobs (NULL = unknown,
 * accepted); through a share (n->share_id) it is the share's, read in the same statement, and
 * the share must let every user print unless n->share_any_caller. Sets *printer_id (into
 * a->share_printer through a share). 0, STORE_NOT_FOUND, STORE_CONFLICT or DB_ERROR. */
static int job_create_printer(db_conn_t *c, job_create_arg_t *a, const char **printer_id) {
  const store_job_new_t *n = a->n;
  free(a->share_printer);
  a->share_printer = NULL;
  *printer_id = n->printer_id;
  db_stmt_t *s = db_prepare(
      c, n->share_id ? "SELECT p.is_accepting_jobs, p.id, s.allow_all_users FROM shares s"
                       " JOIN printers p ON p.id = s.printer_id AND p.tenant_id = s.tenant_id"
                       " WHERE s.id = ? AND s.tenant_id = ?"
                     : "SELECT is_accepting_jobs FROM printers WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, n->share_id ? n->share_id : n->printer_id);
  db_bind_text(s, 2, n->tenant);
  int rc = db_step(s);
  bool refused = rc == DB_ROW && !db_col_null(s, 0) && db_col_int64(s, 0) == 0;
  bool denied = false;
  if (rc == DB_ROW && n->share_id) {
    a->share_printer = store_col_strdup(s, 1, false);
    *printer_id = a->share_printer;
    denied = !n->share_any_caller && db_col_int64(s, 2) == 0;
  }
  db_reset(s);
  if (rc == DB_DONE || denied) return STORE_NOT_FOUND;
  if (rc != DB_ROW || !*printer_id) return DB_ERROR;
  return refused ? STORE_CONFLICT : 0;
}

/* store_limits_take_in of n->limits, whose printer window (STORE_JOB_LIMIT_PRINTER) counts the
 * jobs of printer_id when the job's printer was read from its share. */
static int job_create_limits(db_conn_t *c, const store_job_new_t *n, const char *printer_id) {
  store_limits_t *l = n->limits;
  l->now_us = time_now_us();
  if (!n->share_id || l->n > STORE_JOB_LIMIT_USER + 1) return store_limits_take_in(c, l);
  store_limit_t v[STORE_JOB_LIMIT_USER + 1];
  memcpy(v, l->v, l->n * sizeof *v);
  if (l->n > STORE_JOB_LIMIT_PRINTER) v[STORE_JOB_LIMIT_PRINTER].name = printer_id;
  store_limits_t mine = *l;
  mine.v = v;
  int rc = store_limits_take_in(c, &mine);
  l->refused = mine.refused;
  l->retry_us = mine.retry_us;
  return rc;
}

static int job_create_fn(db_conn_t *c, void *arg) {
  job_create_arg_t *a = arg;
  const store_job_new_t *n = a->n;
  store_job_clear(&a->job);
  store_document_clear(&a->doc);

  const char *printer_id;
  int rc = job_create_printer(c, a, &printer_id);
  if (rc != 0) return rc;

  /* The activity windows, counted in this transaction: a refused job leaves nothing. */
  if (n->limits) {
    rc = job_create_limits(c, n, printer_id);
    if (rc != 0) return rc;
  }

  /* The next job id, taken inside this transaction (rolled back with it). */
  int64_t id = 0;
  rc = store_job_next_id(c, &id);
  if (rc == STORE_CONFLICT) {
    log_error("store: the job id space is exhausted (next id %" PRId64 ")", id);
    return DB_ERROR;
  }
  if (rc != 0) return rc;

  store_job_row_t row = {.id = id, .tenant = n->tenant, .printer_id = printer_id,
                         .display_name = n->display_name, .configuration = n->configuration,
                         .phase = JOB_CREATED, .now = time_now_us(),
                         .created_by_id = n->created_by_id, .created_by_upn = n->created_by_upn,
                         .created_by_name = n->created_by_name,
                         .created_by_ip = n->created_by_ip,
                         .created_by_groups = n->created_by_groups};
  rc = store_job_insert(c, &row);
  if (rc != 0) return rc;

  /* Exactly one document per job, empty until an upload session names it. */
  a->doc.id = xmalloc(ID_GUID_LEN + 1);
  id_guid_ordered(a->doc.id);
  a->doc.tenant = xstrdup(n->tenant);
  a->doc.job_id = id;
  a->doc.display_name = xstrdup("");
  a->doc.content_type = xstrdup("");
  rc = store_job_document_insert(c, &a->doc);
  if (rc != 0) return rc;

  job_from_row(&row, &a->job); /* the job as inserted, without reading it back */
  return 0;
}

/* Creates a job with its empty document; see store/jobs.h. */
store_rc_t store_job_create(store_t *st, const store_job_new_t *n, store_job_t *job,
                            store_document_t *doc) {
  if (job) memset(job, 0, sizeof *job);
  if (doc) memset(doc, 0, sizeof *doc);
  if (!n || !n->tenant || !(n->share_id ? n->share_id : n->printer_id)) return STORE_NOT_FOUND;
  job_create_arg_t a = {.n = n};
  store_rc_t rc = store_rc(db_write(st->db, job_create_fn, &a));
  free(a.share_printer);
  if (rc == STORE_OK && job) *job = a.job;
  else store_job_clear(&a.job);
  if (rc == STORE_OK && doc) *doc = a.doc;
  else store_document_clear(&a.doc);
  return rc;
}

/* ---- list ---------------------------------------------------------------------------------- */

/* status/state is stored as its printJobProcessingState index; $filter compares member names. */
#define JOB_STATE_NAME_SQL                                                                      \
  "(CASE j.state WHEN 0 THEN 'unknown' WHEN 1 THEN 'pending' WHEN 2 THEN 'processing'"          \
  " WHEN 3 THEN 'paused' WHEN 4 THEN 'stopped' WHEN 5 THEN 'completed' WHEN 6 THEN 'canceled'" \
  " WHEN 7 THEN 'aborted' ELSE 'unknownFutureValue' END)"

static const store_qfield_t JOB_FIELDS[] = {
    {"id", "j.id", STORE_QT_INT64, true, true, true, NULL},
    {"createdDateTime", "j.created_us", STORE_QT_DATETIME, true, true, true, NULL},
    {"createdBy/userPrincipalName", "j.created_by_upn_lc", STORE_QT_STRING, true, true, false, NULL},
    {"createdBy/id", "j.created_by_id", STORE_QT_STRING, true, false, false, NULL},
    {"createdBy/displayName", "j.created_by_name", STORE_QT_STRING, true, false, false, NULL},
    {"status/state", JOB_STATE_NAME_SQL, STORE_QT_ENUM, true, false, true,
     &ENUM_PRINT_JOB_PROCESSING_STATE},
    {"isFetchable", "j.is_fetchable", STORE_QT_BOOL, true, true, true, NULL},
    {"displayName", "j.display_name", STORE_QT_STRING, true, false, false, NULL},
    {"acknowledgedDateTime", "j.acknowledged_us", STORE_QT_DATETIME, true, true, false, NULL},
    {"errorCode", "j.error_code", STORE_QT_INT64, true, false, false, NULL},
};
#define NJOB_FIELDS (sizeof JOB_FIELDS / sizeof JOB_FIELDS[0])

/* Rewrites the literals of q's filter as the columns hold them (see store_job_list). Returns 0,
 * or -1 with a message. */
static int job_filter_normalize(query_filter_t *f, char *err, size_t errlen) {
  if (!f) return 0;
  if (f->kind != QUERY_F_CMP) {
    for (size_t i = 0; i < f->nkids; i++)
      if (job_filter_normalize(f->kids[i], err, errlen) != 0) return -1;
    return 0;
  }
  if (f->value.type != QUERY_VAL_STRING) return 0;
  if (query_path_equals(&f->path, "id")) {
    int64_t id = store_job_id_parse(f->value.u.s);
    if (id == 0) {
      snprintf(err, errlen, "Invalid $filter: '%.40s' is not a print job id; job ids are decimal "
               "numbers such as '5182' (position %zu)", f->value.u.s, f->pos);
      return -1;
    }
    query_value_clear(&f->value);
    f->value.type = QUERY_VAL_INT64;
    f->value.u.i = id;
  } else if (query_path_equals(&f->path, "createdBy/userPrincipalName")) {
    for (char *p = f->value.u.s; *p; p++) *p = (char)tolower((unsigned char)*p);
  }
  return 0;
}

typedef struct {
  const char    *tenant;
  const char    *printer_id;
  const char    *own;
  store_query_t *cq;
  store_job_t   *jobs;
  size_t         n;
  char          *next;
} job_list_arg_t;

static void job_list_reset(job_list_arg_t *a) {
  store_jobs_free(a->jobs, a->n);
  a->jobs = NULL;
  a->n = 0;
  free(a->next);
  a->next = NULL;
}


static int job_list_fn(db_conn_t *c, void *arg) {
  job_list_arg_t *a = arg;
  job_list_reset(a);
  const char *base = a->own ? "j.tenant_id = ? AND j.printer_id = ? AND j.created_by_id = ?"
                            : "j.tenant_id = ? AND j.printer_id = ?";
  char *sql = store_query_select_sql(a->cq, STORE_JOB_COLS, "jobs j", base);
  db_stmt_t *s = db_prepare(c, sql);
  free(sql);
  if (!s) return DB_ERROR;
  int idx = 1;
  db_bind_text(s, idx++, a->tenant);
  db_bind_text(s, idx++, a->printer_id);
  if (a->own) db_bind_text(s, idx++, a->own);
  store_query_bind_select(a->cq, s, idx);
  if (store_query_page_items(a->cq, s, STORE_JOB_NCOLS, sizeof *a->jobs, store_job_read_row,
                             (void **)&a->jobs, &a->n, &a->next) != 0)
    return DB_ERROR;
  query_value_t vals[] = {{.type = QUERY_VAL_STRING, .u.s = (char *)a->tenant},
                          {.type = QUERY_VAL_STRING, .u.s = (char *)a->printer_id},
                          {.type = QUERY_VAL_STRING, .u.s = (char *)a->own}};
  return store_query_count(c, a->cq, "jobs j", base, vals, a->own ? 3 : 2) != 0 ? DB_ERROR : 0;
}

/* One page of a printer's jobs; see store/jobs.h. */
store_rc_t store_job_list(store_t *st, const char *tenant, const char *printer_id,
                          const char *own_user_id, query_t *q, int64_t max_page,
                          store_job_t **out, size_t *n, char **next, char **err) {
  *out = NULL;
  *n = 0;
  *next = NULL;
  if (err) *err = NULL;
  char msg[512];
  /* Page tokens carry the fingerprint of the query as the client wrote it (odata_parse checks
   * the next request's token against that), not of the normalized literals. */
  uint64_t fingerprint = query_fingerprint(q);
  if (job_filter_normalize(q->filter, msg, sizeof msg) != 0) {
    if (err) *err = xstrdup(msg);
    return STORE_INVALID;
  }
  store_query_t cq;
  if (store_query_compile(q, JOB_FIELDS, NJOB_FIELDS, "id", max_page, &cq, msg, sizeof msg) != 0) {
    if (err) *err = xstrdup(msg);
    return STORE_INVALID;
  }
  cq.fingerprint = fingerprint;
  job_list_arg_t a = {.tenant = tenant, .printer_id = printer_id, .own = own_user_id, .cq = &cq};
  store_rc_t rc = store_rc(db_read(st->db, job_list_fn, &a));
  store_query_clear(&cq);
  if (rc != STORE_OK) {
    job_list_reset(&a);
    return rc;
  }
  *out = a.jobs;
  *n = a.n;
  *next = a.next;
  return STORE_OK;
}

/* ---- transitions --------------------------------------------------------------------------- */

/* The columns of a store_job_state_t, read by job_state_read_row. */
#define JOB_STATE_COLS  "printer_id, phase, details, device_state, description"
#define JOB_STATE_NCOLS 5

static void job_state_read_row(db_stmt_t *s, store_job_state_t *out) {
  out->printer_id = store_col_strdup(s, 0, true);
  out->phase = db_col_int64(s, 1);
  out->details = (unsigned)db_col_int64(s, 2);
  out->device_state = (int)store_col_i64_or(s, 3, 0);
  out->description = store_col_strdup(s, 4, true);
}

/* The phase UPDATE of store_job_set_phase up to its WHERE. The usage columns are bound NULL
 * (kept) unless the change makes the job terminal (and not redirected): then the phase UPDATE
 * writes its usage itself (job_set_phase). */
#define JOB_SET_PHASE_SQL                                                                 \
  "UPDATE jobs SET phase = ?, state = ?, details = ?, description = ?,"                   \
  " is_fetchable = ?, updated_us = ?,"                                                     \
  " held_us = CASE WHEN ? = 1 THEN ? ELSE held_us END,"                                    \
  " completed_us = CASE WHEN ? = 1 THEN ? ELSE completed_us END,"                          \
  " redirected_to = COALESCE(?, redirected_to),"                                           \
  " usage_day = COALESCE(?, usage_day), usage_month = COALESCE(?, usage_month),"           \
  " is_color = COALESCE(?, is_color), is_duplex = COALESCE(?, is_duplex)"
/* Its guards: the phase read earlier, or (FROM_UNHELD) any phase but held and the terminal ones */
#define JOB_WHERE_FROM    " WHERE tenant_id = ? AND id = ? AND phase = ?"
#define JOB_WHERE_UNHELD  " WHERE tenant_id = ? AND id = ? AND phase NOT IN (?, ?, ?, ?)"
/* job_set_phase's `from` for a change that does not know the job's phase: the UPDATE takes the
 * job in any phase but held and the terminal ones (a cancel that read nothing before). */
#define FROM_UNHELD JOB_PHASE_COUNT

/* The last RETURNING column of the phase UPDATE when the change writes IPP events: 1 when the
 * job's printer has no live IPP subscription (store_ipp_events_emit's condition, bound with the
 * same now), so that the events need no statement of their own then. */
#define JOB_NO_IPP_SUBS_SQL                                                                   \
  ", NOT EXISTS (SELECT 1 FROM ipp_subscriptions s WHERE s.tenant_id = jobs.tenant_id"       \
  " AND s.printer_id = jobs.printer_id AND (s.expires_us IS NULL OR s.expires_us > ?))"
#define JOB_RET_ALL   " RETURNING " STORE_JOB_COLS_BARE ", device_state"
#define JOB_RET_STATE " RETURNING " JOB_STATE_COLS ", configuration"

/* The statements of job_set_phase: [from is FROM_UNHELD][the whole row back][IPP events]. */
static const char *const JOB_SET_PHASE[2][2][2] = {
  {{JOB_SET_PHASE_SQL JOB_WHERE_FROM JOB_RET_STATE,
    JOB_SET_PHASE_SQL JOB_WHERE_FROM JOB_RET_STATE JOB_NO_IPP_SUBS_SQL},
   {JOB_SET_PHASE_SQL JOB_WHERE_FROM JOB_RET_ALL,
    JOB_SET_PHASE_SQL JOB_WHERE_FROM JOB_RET_ALL JOB_NO_IPP_SUBS_SQL}},
  {{JOB_SET_PHASE_SQL JOB_WHERE_UNHELD JOB_RET_STATE,
    JOB_SET_PHASE_SQL JOB_WHERE_UNHELD JOB_RET_STATE JOB_NO_IPP_SUBS_SQL},
   {JOB_SET_PHASE_SQL JOB_WHERE_UNHELD JOB_RET_ALL,
    JOB_SET_PHASE_SQL JOB_WHERE_UNHELD JOB_RET_ALL JOB_NO_IPP_SUBS_SQL}},
};

/* The same without RETURNING, and the row read back after it, for a backend whose RETURNING
 * costs more than a second statement (db_returning_costly): [from is FROM_UNHELD] and
 * [the whole row][IPP events]. */
static const char *const JOB_SET_PHASE_ONLY[2] = {JOB_SET_PHASE_SQL JOB_WHERE_FROM,
                                                  JOB_SET_PHASE_SQL JOB_WHERE_UNHELD};
#define JOB_READ_BACK_WHERE " FROM jobs WHERE tenant_id = ? AND id = ?"
static const char *const JOB_READ_BACK[2][2] = {
  {"SELECT " JOB_STATE_COLS ", configuration" JOB_READ_BACK_WHERE,
   "SELECT " JOB_STATE_COLS ", configuration" JOB_NO_IPP_SUBS_SQL JOB_READ_BACK_WHERE},
  {"SELECT " STORE_JOB_COLS_BARE ", device_state" JOB_READ_BACK_WHERE,
   "SELECT " STORE_JOB_COLS_BARE ", device_state" JOB_NO_IPP_SUBS_SQL JOB_READ_BACK_WHERE},
};

/* Writes the change; with out, the whole row comes back into *out, else only what the usage and
 * the IPP events need. from may be FROM_UNHELD (see there). */
static int job_set_phase(db_conn_t *c, const char *tenant, int64_t id, job_phase_t from,
                         job_phase_t to, const job_phase_change_t *chg, int64_t now,
                         store_job_t *out) {
  static const job_phase_change_t defaults = {NULL, -1, NULL, false, NULL};
  if (!chg) chg = &defaults;
  if (out) store_job_clear(out);
  job_status_view_t v = job_phase_view(to);
  bool unheld = from == FROM_UNHELD;
  bool counted = job_phase_terminal(to) && chg->redirected_to == NULL;
  bool events = !chg->no_ipp_event;
  bool read_back = db_returning_costly(c);
  db_stmt_t *s = db_prepare(c, read_back ? JOB_SET_PHASE_ONLY[unheld]
                                         : JOB_SET_PHASE[unheld][out != NULL][events]);
  if (!s) return DB_ERROR;
  int i = 1;
  db_bind_int64(s, i++, to);
  db_bind_int64(s, i++, v.state);
  db_bind_int64(s, i++, chg->details >= 0 ? chg->details : (int64_t)v.details);
  db_bind_text(s, i++, chg->description ? chg->description : v.description);
  db_bind_int64(s, i++, v.fetchable ? 1 : 0);
  db_bind_int64(s, i++, now);
  db_bind_int64(s, i++, to == JOB_HELD && from != JOB_HELD ? 1 : 0); /* the hold starts */
  db_bind_int64(s, i++, now);
  db_bind_int64(s, i++, job_phase_terminal(to) ? 1 : 0);
  db_bind_int64(s, i++, now);
  db_bind_text(s, i++, chg->redirected_to);
  if (counted) {
    /* What store_usage_record would write. Without the configuration (not read by the caller)
     * the job counts as monochrome and one-sided here, and is corrected below when the
     * configuration the UPDATE returns says otherwise. */
    store_usage_cols_t u;
    store_usage_of(chg->configuration, now, &u);
    db_bind_int64(s, i++, u.day_us);
    db_bind_int64(s, i++, u.month_us);
    db_bind_int64(s, i++, u.is_color ? 1 : 0);
    db_bind_int64(s, i++, u.is_duplex ? 1 : 0);
  } else {
    for (int k = 0; k < 4; k++) db_bind_null(s, i++);
  }
  db_bind_text(s, i++, tenant);
  db_bind_int64(s, i++, id);
  if (unheld) {
    db_bind_int64(s, i++, JOB_HELD);
    db_bind_int64(s, i++, JOB_COMPLETED);
    db_bind_int64(s, i++, JOB_CANCELED);
    db_bind_int64(s, i++, JOB_ABORTED);
  } else {
    db_bind_int64(s, i++, from);
  }
  if (events && !read_back) db_bind_int64(s, i++, now); /* JOB_NO_IPP_SUBS_SQL */
  /* The row comes back as the UPDATE left it: what the usage and the IPP events need (and with
   * out the whole job), without reading the job again (or, read_back, read by its key in the
   * same transaction right after). No row: the guard on the phase did not match. */
  store_job_state_t js = {0};
  char *configuration = NULL;
  int rc = db_step(s);
  if (read_back && rc == DB_DONE) {
    db_reset(s);
    bool changed = db_changes(c) == 1;
    s = changed ? db_prepare(c, JOB_READ_BACK[out != NULL][events]) : NULL;
    if (!s) return changed ? DB_ERROR : STORE_CONFLICT; /* nothing to clear yet */
    i = 1;
    if (events) db_bind_int64(s, i++, now); /* JOB_NO_IPP_SUBS_SQL, among the columns */
    db_bind_text(s, i++, tenant);
    db_bind_int64(s, i++, id);
    rc = db_step(s);
  }
  if (rc == DB_ROW && out) {
    store_job_read_row(s, out);
    /* js borrows out's strings: not cleared below */
    js.printer_id = out->printer_id;
    js.phase = db_col_int64(s, 4);
    js.details = out->details;
    js.device_state = (int)store_col_i64_or(s, STORE_JOB_NCOLS, 0);
    js.description = out->description;
    if (events) js.no_ipp_subs = db_col_int64(s, STORE_JOB_NCOLS + 1) != 0;
    rc = db_step(s); /* DB_DONE: (tenant, id) names one row */
  } else if (rc == DB_ROW) {
    job_state_read_row(s, &js);
    configuration = store_col_strdup(s, JOB_STATE_NCOLS, false);
    if (events) js.no_ipp_subs = db_col_int64(s, JOB_STATE_NCOLS + 1) != 0;
    rc = db_step(s);
  } else if (rc == DB_DONE) {
    rc = STORE_CONFLICT;
  }
  db_reset(s);
  if (rc == DB_DONE) rc = 0;
  else if (rc != STORE_CONFLICT) rc = DB_ERROR;
  if (rc == 0 && counted && !chg->configuration) { /* the usage's correction, when needed */
    const char *cfg = out ? out->configuration : configuration;
    store_usage_cols_t u;
    store_usage_of(cfg, now, &u);
    if ((u.is_color || u.is_duplex) && store_usage_record(c, tenant, id, true, cfg, now) != 0)
      rc = DB_ERROR;
  }
  if (rc == 0 && events) /* IPP events, same transaction; FROM_UNHELD: the phase changed */
    rc = store_ipp_job_state_changed(c, tenant, id, unheld ? -1 : (int)from, &js, now);
  if (!out) store_job_state_clear(&js);
  free(configuration);
  return rc;
}

/* See jobs-private.h. */
int store_job_set_phase(db_conn_t *c, const char *tenant, int64_t id, job_phase_t from,
                        job_phase_t to, const job_phase_change_t *chg, int64_t now) {
  return job_set_phase(c, tenant, id, from, to, chg, now, NULL);
}

/* See jobs-private.h. */
int store_job_set_phase_read(db_conn_t *c, const char *tenant, int64_t id, job_phase_t from,
                             job_phase_t to, const job_phase_change_t *chg, int64_t now,
                             store_job_t *out) {
  return job_set_phase(c, tenant, id, from, to, chg, now, out);
}

typedef struct {
  const char        *tenant;
  int64_t            id;
  const char        *public_url;
  const char        *printer_id; /* cancel, start: the job must be on this printer; NULL: any */
  const char        *owner;      /* and created by this user; NULL: by anyone */
  const char        *share_id;   /* or on this share's printer, read in the same transaction */
  char              *share_printer; /* that printer's id, once read (printer_id points here) */
  store_job_t        job;
  store_job_change_t ch;
} job_change_arg_t;

static void job_change_reset(job_change_arg_t *a) {
  store_job_clear(&a->job);
  store_job_change_clear(&a->ch);
}

static void share_printer_row(db_stmt_t *s, void *out) {
  *(char **)out = store_col_strdup(s, 0, false);
}

/* Where the cancel or the start names a share (a->share_id), reads the printer the job must
 * be on in the closure's own transaction instead of a read transaction of its own before it:
 * 0 (a->printer_id then names it), STORE_NOT_FOUND (no such share in the tenant) or DB_ERROR. */
static int change_share_printer(db_conn_t *c, job_change_arg_t *a) {
  if (!a->share_id) return 0;
  free(a->share_printer);
  a->share_printer = NULL;
  a->printer_id = NULL;
  int rc = store_read_by_id(c, "SELECT printer_id FROM shares WHERE id = ? AND tenant_id = ?",
                            a->share_id, a->tenant, share_printer_row, &a->share_printer);
  if (rc == 0 && !a->share_printer) rc = DB_ERROR;
  if (rc == 0) a->printer_id = a->share_printer;
  return rc;
}

static int refuse(job_change_arg_t *a, const char *why) {
  a->ch.why = xstrdup(why ? why : "The job's state does not allow this.");
  return STORE_CONFLICT;
}

/* A job row (STORE_JOB_COLS) and whether its documents are uploaded (one more column). */
typedef struct {
  store_job_t *job;
  bool         uploaded;
} job_uploaded_row_t;

static void job_uploaded_read_row(db_stmt_t *s, void *out) {
  job_uploaded_row_t *r = out;
  store_job_read_row(s, r->job);
  r->uploaded = db_col_int64(s, STORE_JOB_NCOLS) != 0;
}

/* Reads job id of tenant into *j (cleared first) and, in the same statement, whether every
 * document of it is fully uploaded (and it has one): 0, STORE_NOT_FOUND or DB_ERROR. */
static int job_load_uploaded(db_conn_t *c, const char *tenant, int64_t id, store_job_t *j,
                             bool *uploaded) {
  store_job_clear(j);
  db_stmt_t *s = db_prepare(c, "SELECT " STORE_JOB_COLS ", (SELECT CASE WHEN COUNT(*) > 0 AND"
                               " COUNT(*) = COUNT(d.uploaded_us) THEN 1 ELSE 0 END"
                               " FROM documents d WHERE d.tenant_id = j.tenant_id"
                               " AND d.job_id = j.id)"
                               " FROM jobs j WHERE j.tenant_id = ? AND j.id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_int64(s, 2, id);
  job_uploaded_row_t r = {.job = j};
  int rc = store_step_row(s, job_uploaded_read_row, &r);
  *uploaded = rc == 0 && r.uploaded;
  return rc;
}

/* Whether a->job is on a->printer_id and created by a->owner, where the cancel or the start names them. */
static bool change_target(const job_change_arg_t *a) {
  const store_job_t *j = &a->job;
  if (a->printer_id && (!j->printer_id || strcmp(j->printer_id, a->printer_id) != 0)) return false;
  return !a->owner || (j->created_by_id && strcmp(j->created_by_id, a->owner) == 0);
}

static int job_start_fn(db_conn_t *c, void *arg) {
  job_change_arg_t *a = arg;
  job_change_reset(a);
  int rc = change_share_printer(c, a);
  if (rc != 0) return rc;
  bool uploaded = false;
  rc = job_load_uploaded(c, a->tenant, a->id, &a->job, &uploaded);
  if (rc != 0) return rc;
  if (!change_target(a)) return STORE_NOT_FOUND; /* before anything is written */

  /* START and START_HELD have the same preconditions; the trigger decides between them. */
  job_phase_t next;
  const char *why;
  a->ch.from = a->job.phase;
  if (!job_transition(a->job.phase, JOB_EV_START, uploaded, &next, &why)) return refuse(a, why);
  int64_t now = time_now_us();
  rc = store_trigger_fire(c, a->tenant, a->job.printer_id, a->id, a->public_url, now,
                          &a->ch.task_id, &a->ch.definition_id);
  if (rc != 0) return rc;
  if (a->ch.task_id && !job_transition(a->job.phase, JOB_EV_START_HELD, uploaded, &next, &why))
    return refuse(a, why);
  a->ch.to = next;
  /* The job as the change left it (nothing later in this closure writes its row) becomes the
   * answer: no read after the UPDATE. */
  store_job_t was = a->job;
  memset(&a->job, 0, sizeof a->job);
  rc = store_job_set_phase_read(c, a->tenant, a->id, was.phase, next, NULL, now, &a->job);
  if (rc == 0 && next == JOB_FETCHABLE)
    rc = store_outbox_job_fetchable(c, a->tenant, was.printer_id, was.id_str);
  store_job_clear(&was);
  return rc;
}

/* Starts a job; see store/jobs.h. */
store_rc_t store_job_start(store_t *st, const char *tenant, int64_t job_id,
                           const char *public_url, store_job_t *out, store_job_change_t *ch) {
  return store_job_start_on(st, tenant, NULL, NULL, job_id, public_url, out, ch);
}

/* Runs the change closure fn on a and hands its job and change out (the start and the cancel). */
static store_rc_t job_change(store_t *st, db_txn_fn fn, job_change_arg_t *a, store_job_t *out,
                             store_job_change_t *ch) {
  if (out) memset(out, 0, sizeof *out);
  if (ch) memset(ch, 0, sizeof *ch);
  store_rc_t rc = store_rc(db_write(st->db, fn, a));
  free(a->share_printer);
  if (rc == STORE_OK && out) *out = a->job;
  else store_job_clear(&a->job);
  if (ch) *ch = a->ch;
  else store_job_change_clear(&a->ch);
  return rc;
}

/* Starts a job of a printer and an owner; see store/jobs.h. */
store_rc_t store_job_start_on(store_t *st, const char *tenant, const char *printer_id,
                              const char *owner, int64_t job_id, const char *public_url,
                              store_job_t *out, store_job_change_t *ch) {
  job_change_arg_t a = {.tenant = tenant, .id = job_id, .public_url = public_url ? public_url : "",
                        .printer_id = printer_id, .owner = owner};
  return job_change(st, job_start_fn, &a, out, ch);
}

/* Starts a job of a share's printer and an owner; see store/jobs.h. */
store_rc_t store_job_start_on_share(store_t *st, const char *tenant, const char *share_id,
                                    const char *owner, int64_t job_id, const char *public_url,
                                    store_job_t *out, store_job_change_t *ch) {
  job_change_arg_t a = {.tenant = tenant, .id = job_id, .public_url = public_url ? public_url : "",
                        .share_id = share_id ? share_id : "", .owner = owner};
  return job_change(st, job_start_fn, &a, out, ch);
}

static int job_cancel_fn(db_conn_t *c, void *arg) {
  job_change_arg_t *a = arg;
  job_change_reset(a);
  int rc = change_share_printer(c, a); /* before anything is written */
  if (rc != 0) return rc;
  int64_t now = time_now_us();
  /* A job neither held nor finished (the state machine lets every such phase be canceled, and
   * nothing else happens then) is canceled by its phase UPDATE alone, which also gives the job
   * back as the answer; nothing is read before it. A job not on the printer or not of the
   * owner the caller named is STORE_NOT_FOUND, and returning it undoes the UPDATE. */
  rc = job_set_phase(c, a->tenant, a->id, FROM_UNHELD, JOB_CANCELED, NULL, now, &a->job);
  if (rc != STORE_CONFLICT) {
    a->ch.from = FROM_UNHELD;
    a->ch.to = JOB_CANCELED;
    if (rc == 0 && !change_target(a)) return STORE_NOT_FOUND;
    return rc;
  }
  /* No row: the job is held (its task is aborted too), finished (refused), or not there. */
  store_job_clear(&a->job);
  rc = store_job_load(c, a->tenant, a->id, &a->job);
  if (rc != 0) return rc;
  if (!change_target(a)) return STORE_NOT_FOUND;
  job_phase_t next;
  const char *why;
  a->ch.from = a->job.phase;
  if (!job_transition(a->job.phase, JOB_EV_CANCEL, true, &next, &why)) return refuse(a, why);
  a->ch.to = next;
  /* The job as the change left it is the answer (the tasks below do not touch its row); the
   * usage of the now terminal job goes into the same UPDATE. */
  store_job_t was = a->job;
  memset(&a->job, 0, sizeof a->job);
  job_phase_change_t chg = {NULL, -1, NULL, false, was.configuration};
  rc = store_job_set_phase_read(c, a->tenant, a->id, was.phase, next, &chg, now, &a->job);
  store_job_clear(&was);
  if (rc != 0) return rc;

  if (a->ch.from == JOB_HELD) {
    /* Canceling a held job aborts the task that holds it (design notes, "Gaps"). */
    char **tasks = NULL, **defs = NULL;
    size_t ntasks = 0;
    rc = store_task_job_processing(c, a->tenant, a->id, &tasks, &defs, &ntasks);
    if (rc == 0 && ntasks > 0) {
      a->ch.task_id = tasks[0];
      a->ch.definition_id = defs[0];
      tasks[0] = defs[0] = NULL;
    }
    store_strings_free(tasks, ntasks);
    store_strings_free(defs, ntasks);
    if (rc == 0) rc = store_task_job_abort_all(c, a->tenant, a->id, TASK_CANCELED_DESCRIPTION, now);
    if (rc != 0) return rc;
  }
  return 0;
}

/* Cancels a job; see store/jobs.h. */
store_rc_t store_job_cancel(store_t *st, const char *tenant, int64_t job_id, store_job_t *out,
                            store_job_change_t *ch) {
  return store_job_cancel_on(st, tenant, NULL, NULL, job_id, out, ch);
}

/* Cancels a job of a printer and an owner; see store/jobs.h. */
store_rc_t store_job_cancel_on(store_t *st, const char *tenant, const char *printer_id,
                               const char *owner, int64_t job_id, store_job_t *out,
                               store_job_change_t *ch) {
  job_change_arg_t a = {.tenant = tenant, .id = job_id, .printer_id = printer_id, .owner = owner};
  return job_change(st, job_cancel_fn, &a, out, ch);
}

/* Cancels a job of a share's printer and an owner; see store/jobs.h. */
store_rc_t store_job_cancel_on_share(store_t *st, const char *tenant, const char *share_id,
                                     const char *owner, int64_t job_id, store_job_t *out,
                                     store_job_change_t *ch) {
  job_change_arg_t a = {.tenant = tenant, .id = job_id, .share_id = share_id ? share_id : "",
                        .owner = owner};
  return job_change(st, job_cancel_fn, &a, out, ch);
}

/* ---- the job row for the other store modules (jobs-private.h) ------------------------------ */

/* See jobs-private.h. */
void store_job_state_clear(store_job_state_t *s) {
  if (!s) return;
  free(s->printer_id);
  free(s->description);
  memset(s, 0, sizeof *s);
}

/* See jobs-private.h. */
int store_job_state_read(db_conn_t *c, const char *tenant, int64_t id, store_job_state_t *out) {
  memset(out, 0, sizeof *out);
  db_stmt_t *s = db_prepare(c, "SELECT " JOB_STATE_COLS " FROM jobs WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, id);
  db_bind_text(s, 2, tenant);
  int rc = db_step(s);
  if (rc == DB_ROW) job_state_read_row(s, out);
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

/* See jobs-private.h. */
int store_job_set_details(db_conn_t *c, int64_t id, unsigned details, int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE jobs SET details = ?, updated_us = ? WHERE id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, (int64_t)details);
  db_bind_int64(s, 2, now);
  db_bind_int64(s, 3, id);
  return store_step_done(s);
}

/* See jobs-private.h. */
int store_job_set_configuration(db_conn_t *c, const char *tenant, int64_t id, job_phase_t phase,
                                const char *configuration, int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE jobs SET configuration = ?, updated_us = ?"
                               " WHERE id = ? AND tenant_id = ? AND phase = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, configuration);
  db_bind_int64(s, 2, now);
  db_bind_int64(s, 3, id);
  db_bind_text(s, 4, tenant);
  db_bind_int64(s, 5, phase);
  int rc = db_step(s) == DB_DONE ? 0 : DB_ERROR;
  db_reset(s);
  if (rc == 0 && db_changes(c) != 1) rc = STORE_CONFLICT;
  return rc;
}

/* See jobs-private.h. */
int store_job_copy_groups(db_conn_t *c, const char *tenant, int64_t from_id, int64_t to_id) {
  db_stmt_t *s = db_prepare(c, "UPDATE jobs SET created_by_groups = (SELECT g.created_by_groups"
                               " FROM jobs g WHERE g.tenant_id = ? AND g.id = ?)"
                               " WHERE tenant_id = ? AND id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_int64(s, 2, from_id);
  db_bind_text(s, 3, tenant);
  db_bind_int64(s, 4, to_id);
  return store_step_done(s);
}

/* See jobs-private.h. */
int store_job_device_acquire(db_conn_t *c, const char *tenant, int64_t id,
                             const char *device_uuid, int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE jobs SET is_acquired = 1,"
                               " acknowledged_us = COALESCE(acknowledged_us, ?),"
                               " processing_us = COALESCE(processing_us, ?), device_uuid = ?"
                               " WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, now);
  db_bind_int64(s, 2, now);
  db_bind_text(s, 3, device_uuid);
  db_bind_int64(s, 4, id);
  db_bind_text(s, 5, tenant);
  return store_step_done(s);
}

/* See jobs-private.h. */
int store_job_device_report(db_conn_t *c, const char *tenant, int64_t id,
                            const store_ipp_job_status_t *st, int64_t now) {
  db_stmt_t *s = db_prepare(c,
      "UPDATE jobs SET device_state = COALESCE(?, device_state),"
      " device_reasons = COALESCE(?, device_reasons), device_message = COALESCE(?, device_message),"
      " device_doc_state = COALESCE(?, device_doc_state),"
      " impressions_completed = COALESCE(?, impressions_completed), updated_us = ?"
      " WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  if (st->device_state > 0) db_bind_int64(s, 1, st->device_state);
  else db_bind_null(s, 1);
  db_bind_text(s, 2, st->device_reasons);
  db_bind_text(s, 3, st->device_message);
  if (st->device_doc_state > 0) db_bind_int64(s, 4, st->device_doc_state);
  else db_bind_null(s, 4);
  if (st->impressions >= 0) db_bind_int64(s, 5, st->impressions);
  else db_bind_null(s, 5);
  db_bind_int64(s, 6, now);
  db_bind_int64(s, 7, id);
  db_bind_text(s, 8, tenant);
  return store_step_done(s);
}

/* See jobs-private.h. */
int store_jobs_count_queued(db_conn_t *c, const char *tenant, const char *printer_id,
                            int64_t *n) {
  *n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT COUNT(*) FROM jobs WHERE tenant_id = ? AND printer_id = ?"
                               " AND phase IN (?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_text(s, 2, printer_id);
  db_bind_int64(s, 3, JOB_FETCHABLE);
  db_bind_int64(s, 4, JOB_ACQUIRED);
  db_bind_int64(s, 5, JOB_PROCESSING);
  db_bind_int64(s, 6, JOB_STOPPED);
  int rc = db_step(s);
  if (rc == DB_ROW) *n = db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* See jobs-private.h. */
int store_job_last_created(db_conn_t *c, const char *tenant, const char *printer_id,
                           const char *user_id, int64_t *last_us) {
  *last_us = 0;
  db_stmt_t *s = db_prepare(c,
    "SELECT MAX(created_us) FROM jobs WHERE printer_id = ? AND created_by_id = ?"
    " AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, printer_id);
  db_bind_text(s, 2, user_id);
  db_bind_text(s, 3, tenant);
  int rc = db_step(s);
  if (rc == DB_ROW && !db_col_null(s, 0)) *last_us = db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}
