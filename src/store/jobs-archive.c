/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The end of a job's life (store/jobs.h, jobs-private.h): the usage a job records when it
 * becomes terminal, the held-job timeout sweep and the retention sweep that moves terminal jobs
 * into archived_jobs. Part of the job module with jobs.c: the jobs table is read and written
 * here and in jobs.c only.
 */
#include "store/jobs.h"
#include "core/job.h"
#include "store/jobs-private.h"
#include "store/outbox.h"
#include "store/store-private.h"
#include "store/tasks-private.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* ---- recording a terminal job's usage ----------------------------------------------------- */

/* See jobs-private.h. */
void store_usage_of(const char *configuration, int64_t now, store_usage_cols_t *out) {
  json_t *cfg = configuration ? json_loads(configuration, 0, NULL) : NULL;
  const char *color = json_string_value(json_object_get(cfg, "colorMode"));
  const char *duplex = json_string_value(json_object_get(cfg, "duplexMode"));
  out->is_color = color && strcmp(color, "color") == 0;
  out->is_duplex = duplex && strncmp(duplex, "flipOn", 6) == 0; /* flipOnLongEdge, flipOnShortEdge */
  json_decref(cfg);
  out->day_us = time_day_start_us(now);
  out->month_us = time_month_start_us(now);
}

/* See jobs-private.h. */
int store_usage_record(db_conn_t *c, const char *tenant, int64_t id, bool counted,
                       const char *configuration, int64_t now) {
  if (!counted) return 0;
  store_usage_cols_t u;
  store_usage_of(configuration, now, &u);
  db_stmt_t *s = db_prepare(c, "UPDATE jobs SET usage_day = ?, usage_month = ?, is_color = ?, is_duplex = ?"
                    " WHERE tenant_id = ? AND id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, u.day_us);
  db_bind_int64(s, 2, u.month_us);
  db_bind_int64(s, 3, u.is_color ? 1 : 0);
  db_bind_int64(s, 4, u.is_duplex ? 1 : 0);
  db_bind_text(s, 5, tenant);
  db_bind_int64(s, 6, id);
  return store_step_done(s) == 0 ? 0 : DB_ERROR;
}

/* ---- timeout sweep ---------------------------------------------------------------------- */

typedef struct job_ref {
  int64_t id;
  char   *tenant;
} job_ref_t;

/* Fills the job_ref_t at item from a row (id, tenant_id). */
static void job_ref_row(db_stmt_t *s, void *item) {
  job_ref_t *r = item;
  r->id = db_col_int64(s, 0);
  r->tenant = store_col_strdup(s, 1, true);
}

static void job_refs_free(job_ref_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i].tenant);
  free(v);
}

typedef struct sweep_arg {
  int64_t     before_us;
  const char *description;
  const char *public_url; /* for the parentUrl of the tasks' notifications */
  size_t      max;
  size_t      n;          /* out */
  char      **keys;       /* out: archive */
  size_t      nkeys;
} sweep_arg_t;

static int expire_fn(db_conn_t *c, void *arg) {
  sweep_arg_t *a = arg;
  a->n = 0;
  int turn = store_sweep_turn(c, DB_SWEEP_HELD);
  if (turn != 1) return turn == 0 ? 0 : DB_ERROR;  /* another process is sweeping */
  /* phase = 1 written out: the partial index jobs_held (migration 10) holds phase 1 only, and
   * a planner uses it only for a query naming that value. */
  _Static_assert(JOB_HELD == 1, "jobs_held's WHERE phase = 1 is JOB_HELD");
  db_stmt_t *s = db_prepare(c, "SELECT id, tenant_id FROM jobs WHERE phase = 1 AND held_us < ?"
                               " ORDER BY held_us, id LIMIT ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->before_us);
  db_bind_int64(s, 2, (int64_t)a->max);
  job_ref_t *refs = NULL;
  size_t n = 0;
  int rc = store_read_rows(s, sizeof *refs, job_ref_row, (void **)&refs, &n);
  int64_t now = time_now_us();
  buf_t task_desc = BUF_INIT;
  buf_printf(&task_desc, "Task execution was aborted: %s", a->description);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    job_phase_t next;
    const char *why;
    if (!job_transition(JOB_HELD, JOB_EV_TASK_TIMEOUT, true, &next, &why)) continue;
    job_phase_change_t chg = {a->description, -1, NULL, false, NULL};
    rc = store_job_set_phase(c, refs[i].tenant, refs[i].id, JOB_HELD, next, &chg, now);
    if (rc == STORE_CONFLICT) {
      rc = 0; /* cannot happen under the single writer; skip it anyway */
      continue;
    }
    char **tasks = NULL, **defs = NULL;
    size_t ntasks = 0;
    if (rc == 0) rc = store_task_job_processing(c, refs[i].tenant, refs[i].id, &tasks, &defs, &ntasks);
    if (rc == 0) rc = store_task_job_abort_all(c, refs[i].tenant, refs[i].id, task_desc.data, now);
    for (size_t t = 0; rc == 0 && t < ntasks; t++)
      rc = store_outbox_task_updated(c, refs[i].tenant, defs[t], tasks[t], a->public_url);
    store_strings_free(tasks, ntasks);
    store_strings_free(defs, ntasks);
    if (rc == 0) a->n++;
  }
  buf_free(&task_desc);
  job_refs_free(refs, n);
  return rc;
}

/* Aborts held jobs whose task timed out; see jobs.h. */
store_rc_t store_jobs_expire_held(store_t *st, int64_t held_before_us, const char *description,
                                  const char *public_url, size_t max, size_t *n) {
  if (n) *n = 0;
  if (!description || max == 0) return STORE_ERROR;
  sweep_arg_t a = {.before_us = held_before_us, .description = description,
                   .public_url = public_url, .max = max};
  store_rc_t rc = store_rc(db_write(st->db, expire_fn, &a));
  if (rc == STORE_OK && n) *n = a.n;
  return rc;
}

/* ---- retention -------------------------------------------------------------------------- */

static void keys_add(char ***keys, size_t *n, const char *k) {
  if (!k) return;
  for (size_t i = 0; i < *n; i++)
    if (!strcmp((*keys)[i], k)) return;
  *keys = xrealloc(*keys, (*n + 1) * sizeof **keys);
  (*keys)[(*n)++] = xstrdup(k);
}

/* Adds the blob keys selected by sql (one int64 bind: the job id) to keys. */
static int collect_keys(db_conn_t *c, const char *sql, int64_t job_id, char ***keys, size_t *n) {
  db_stmt_t *s = db_prepare(c, sql);
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, job_id);
  int rc;
  while ((rc = db_step(s)) == DB_ROW) keys_add(keys, n, db_col_text(s, 0));
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* See jobs-private.h. */
int64_t store_copies_printed(job_phase_t phase, const char *configuration) {
  if (phase != JOB_COMPLETED) return 0;
  json_t *cfg = configuration ? json_loads(configuration, 0, NULL) : NULL;
  json_t *copies = json_object_get(cfg, "copies");
  int64_t n = json_is_integer(copies) && json_integer_value(copies) > 0
                ? (int64_t)json_integer_value(copies) : 1;
  json_decref(cfg);
  return n;
}

/* A terminal job's facts kept in archived_jobs. */
typedef struct archived {
  int64_t id, created_us, acquired_us, completed_us, copies;
  bool    acquired_null, acquired;
  int     state;
  char   *tenant, *printer_id, *printer_name, *by_id, *by_upn, *by_name, *groups;
  /* usage (migration 8): NULL columns stay NULL */
  int64_t usage_day, usage_month, color, duplex, pages;
  bool    usage_null, color_null, duplex_null, pages_null;
} archived_t;

static void archived_free(archived_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i].tenant);
    free(v[i].printer_id);
    free(v[i].printer_name);
    free(v[i].by_id);
    free(v[i].by_upn);
    free(v[i].by_name);
    free(v[i].groups);
  }
  free(v);
}

/* Fills the archived_t at item from a row of archive_select's statement. */
static void archived_row(db_stmt_t *s, void *item) {
  archived_t *r = item;
  r->id = db_col_int64(s, 0);
  r->tenant = store_col_strdup(s, 1, true);
  r->printer_id = store_col_strdup(s, 2, false);
  r->printer_name = store_col_strdup(s, 3, false);
  r->state = (int)db_col_int64(s, 4);
  r->copies = store_copies_printed((job_phase_t)db_col_int64(s, 5), db_col_text(s, 10));
  r->created_us = db_col_int64(s, 6);
  r->acquired_null = db_col_null(s, 7);
  r->acquired_us = db_col_int64(s, 7);
  r->completed_us = db_col_int64(s, 8);
  r->acquired = db_col_int64(s, 9) != 0;
  r->by_id = store_col_strdup(s, 11, false);
  r->by_upn = store_col_strdup(s, 12, false);
  r->by_name = store_col_strdup(s, 13, false);
  r->usage_null = db_col_null(s, 14) || db_col_null(s, 15);
  r->usage_day = db_col_int64(s, 14);
  r->usage_month = db_col_int64(s, 15);
  r->color_null = db_col_null(s, 16);
  r->color = db_col_int64(s, 16);
  r->duplex_null = db_col_null(s, 17);
  r->duplex = db_col_int64(s, 17);
  r->pages_null = db_col_null(s, 18);
  r->pages = db_col_int64(s, 18);
  r->groups = store_col_strdup(s, 19, false);
}

/* Reads up to a->max terminal jobs past retention into *out. The unary + keeps the planner on
 * jobs_completed: a phase index would visit every terminal job. */
static int archive_select(db_conn_t *c, const sweep_arg_t *a, archived_t **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  db_stmt_t *s = db_prepare(c,
    "SELECT j.id, j.tenant_id, j.printer_id, p.display_name, j.state, j.phase, j.created_us,"
    " j.acknowledged_us, COALESCE(j.completed_us, j.updated_us), j.is_acquired,"
    " j.configuration, j.created_by_id, j.created_by_upn, j.created_by_name,"
    " j.usage_day, j.usage_month, j.is_color, j.is_duplex, j.impressions_completed,"
    " j.created_by_groups"
    " FROM jobs j LEFT JOIN printers p ON p.id = j.printer_id"
    " WHERE j.completed_us IS NOT NULL AND j.completed_us < ? AND +j.phase IN (?, ?, ?)"
    " ORDER BY j.completed_us, j.id LIMIT ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->before_us);
  db_bind_int64(s, 2, JOB_COMPLETED);
  db_bind_int64(s, 3, JOB_CANCELED);
  db_bind_int64(s, 4, JOB_ABORTED);
  db_bind_int64(s, 5, (int64_t)a->max);
  return store_read_rows(s, sizeof **out, archived_row, (void **)out, nout);
}

/* Writes the archived_jobs row of *r. */
static int archive_insert(db_conn_t *c, const archived_t *r, int64_t now) {
  db_stmt_t *s = db_prepare(c,
    "INSERT INTO archived_jobs (id, tenant_id, printer_id, printer_name, state, created_us,"
    " acquired_us, completed_us, acquired, copies_printed, created_by_id, created_by_upn,"
    " created_by_name, archived_us, usage_day, usage_month, is_color, is_duplex, page_count,"
    " created_by_groups) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, r->id);
  db_bind_text(s, 2, r->tenant);
  db_bind_text(s, 3, r->printer_id);
  db_bind_text(s, 4, r->printer_name);
  db_bind_int64(s, 5, r->state);
  db_bind_int64(s, 6, r->created_us);
  if (r->acquired_null) db_bind_null(s, 7);
  else db_bind_int64(s, 7, r->acquired_us);
  db_bind_int64(s, 8, r->completed_us);
  db_bind_int64(s, 9, r->acquired ? 1 : 0);
  db_bind_int64(s, 10, r->copies);
  db_bind_text(s, 11, r->by_id);
  db_bind_text(s, 12, r->by_upn);
  db_bind_text(s, 13, r->by_name);
  db_bind_int64(s, 14, now);
  if (r->usage_null) {
    db_bind_null(s, 15);
    db_bind_null(s, 16);
  } else {
    db_bind_int64(s, 15, r->usage_day);
    db_bind_int64(s, 16, r->usage_month);
  }
  if (r->color_null) db_bind_null(s, 17);
  else db_bind_int64(s, 17, r->color);
  if (r->duplex_null) db_bind_null(s, 18);
  else db_bind_int64(s, 18, r->duplex);
  if (r->pages_null) db_bind_null(s, 19);
  else db_bind_int64(s, 19, r->pages);
  db_bind_text(s, 20, r->groups);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
}

static int archive_fn(db_conn_t *c, void *arg) {
  sweep_arg_t *a = arg;
  store_strings_free(a->keys, a->nkeys);
  a->keys = NULL;
  a->nkeys = 0;
  a->n = 0;
  int turn = store_sweep_turn(c, DB_SWEEP_RETENTION);
  if (turn != 1) return turn == 0 ? 0 : DB_ERROR;  /* another process is sweeping */
  archived_t *jobs = NULL;
  size_t n = 0;
  int rc = archive_select(c, a, &jobs, &n);
  int64_t now = time_now_us();
  char **cand = NULL;
  size_t ncand = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = archive_insert(c, &jobs[i], now);
    if (rc == 0)
      rc = collect_keys(c, "SELECT blob_key FROM documents WHERE job_id = ?", jobs[i].id, &cand,
                        &ncand);
    if (rc == 0)
      rc = collect_keys(c, "SELECT u.blob_key FROM upload_sessions u"
                           " JOIN documents d ON d.id = u.document_id WHERE d.job_id = ?",
                        jobs[i].id, &cand, &ncand);
    if (rc != 0) break;
    /* Documents, their upload sessions and the job's tasks go with it (ON DELETE CASCADE). */
    db_stmt_t *del = db_prepare(c, "DELETE FROM jobs WHERE id = ?");
    if (!del) {
      rc = DB_ERROR;
      break;
    }
    db_bind_int64(del, 1, jobs[i].id);
    rc = db_step(del) == DB_DONE ? 0 : DB_ERROR;
    db_reset(del);
    if (rc == 0) a->n++;
  }
  /* Only blobs no remaining document or upload session refers to are deleted. */
  for (size_t i = 0; rc == 0 && i < ncand; i++) {
    db_stmt_t *q = db_prepare(c, "SELECT 1 FROM documents WHERE blob_key = ?"
                                 " UNION ALL SELECT 1 FROM upload_sessions WHERE blob_key = ?");
    if (!q) {
      rc = DB_ERROR;
      break;
    }
    db_bind_text(q, 1, cand[i]);
    db_bind_text(q, 2, cand[i]);
    int qrc = db_step(q);
    db_reset(q);
    if (qrc == DB_DONE) keys_add(&a->keys, &a->nkeys, cand[i]);
    else if (qrc != DB_ROW) rc = DB_ERROR;
  }
  store_strings_free(cand, ncand);
  archived_free(jobs, n);
  return rc;
}

/* Archives terminal jobs past retention; see jobs.h. */
store_rc_t store_jobs_archive(store_t *st, int64_t terminal_before_us, size_t max, size_t *n,
                              char ***blob_keys, size_t *nkeys) {
  if (n) *n = 0;
  if (blob_keys) *blob_keys = NULL;
  if (nkeys) *nkeys = 0;
  if (max == 0) return STORE_ERROR;
  sweep_arg_t a = {.before_us = terminal_before_us, .max = max};
  store_rc_t rc = store_rc(db_write(st->db, archive_fn, &a));
  if (rc == STORE_OK) {
    if (n) *n = a.n;
    if (blob_keys && nkeys) {
      *blob_keys = a.keys;
      *nkeys = a.nkeys;
      a.keys = NULL;
    }
  }
  store_strings_free(a.keys, a.nkeys);
  return rc;
}
