/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job transitions governed by print tasks (store/pullprint.h): abort, redirect,
 * configuration update, task completion and abort, the held-job timeout and job retention.
 *
 * Pattern of every closure: read the job's phase and its processing tasks, decide with the
 * pure state machines (core/job.h), then write with updates conditional on what was read
 * ("... WHERE phase = ?", "... WHERE state = processing"), and the notifications the change
 * causes (store/outbox.h), all inside the one write closure.
 */
#include "store/pullprint.h"
#include "core/job.h"
#include "store/ipp-private.h"
#include "store/outbox.h"
#include "store/store-private.h"
#include "store/jobs-private.h"
#include "store/tasks-private.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/jsonmerge.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_DESC_COMPLETED "Task execution is completed."
#define TASK_DESC_ABORTED "Task execution was aborted."
#define TASK_DESC_JOB_ABORTED "Task execution was aborted: the print job was aborted."
#define TASK_DESC_REDIRECTED "Task execution is completed: the print job was redirected."
#define JOB_DESC_TASK_ABORTED "The print job was aborted: its print task was aborted."
#define JOB_DESC_REDIRECTED "The print job was redirected to another printer."

/* Releases the strings of *r and zeroes it. */
void store_pull_result_clear(store_pull_result_t *r) {
  if (!r) return;
  free(r->why);
  free(r->task_id);
  free(r->new_task_id);
  memset(r, 0, sizeof *r);
}

static int refuse(store_pull_result_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets r->why and returns STORE_CONFLICT. */
static int refuse(store_pull_result_t *r, const char *fmt, ...) {
  free(r->why);
  va_list ap;
  va_start(ap, fmt);
  r->why = xvasprintf(fmt, ap);
  va_end(ap);
  return STORE_CONFLICT;
}

/* Refuses with "<what>: <why>" (why from the state machines, its first letter lowered). */
static int refuse_state(store_pull_result_t *r, const char *what, const char *why) {
  if (!why || !*why) return refuse(r, "%s: its state does not allow it.", what);
  return refuse(r, "%s: %c%s", what, tolower((unsigned char)why[0]), why + 1);
}

/* ---- the job row ------------------------------------------------------------------------ */

/* Moves job j (read in this transaction) from its phase to phase to (store_job_set_phase) with
 * a description (NULL: the phase's), details (< 0: the phase's) and redirected_to (NULL:
 * unchanged); a terminal job's usage is written by the same UPDATE from j's configuration. */
static int job_set_phase(db_conn_t *c, const char *tenant, const store_job_t *j,
                         job_phase_t to, const char *description, int details, int64_t now,
                         const char *redirected_to) {
  job_phase_change_t chg = {description, details, redirected_to, false, j->configuration};
  return store_job_set_phase(c, tenant, j->id, j->phase, to, &chg, now);
}

/* The outbox row of a job that just became fetchable. */
static int job_fetchable_notify(db_conn_t *c, const char *tenant, const char *printer_id,
                                int64_t job_id) {
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, job_id);
  return store_outbox_job_fetchable(c, tenant, printer_id, id);
}

/* ---- tasks ------------------------------------------------------------------------------ */

/* Moves processing task task_id to state with description. STORE_CONFLICT when it is no
 * longer processing. */
static int task_set_state(db_conn_t *c, const char *tenant, const char *task_id,
                          task_state_t state, const char *description, int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE tasks SET state = ?, description = ?, updated_us = ?"
                               " WHERE id = ? AND tenant_id = ? AND state = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, state);
  db_bind_text(s, 2, description);
  db_bind_int64(s, 3, now);
  db_bind_text(s, 4, task_id);
  db_bind_text(s, 5, tenant);
  db_bind_int64(s, 6, TASK_PROCESSING);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return DB_ERROR;
  return db_changes(c) == 1 ? 0 : STORE_CONFLICT;
}

/* The seed rule for job (already read, phase j->phase) and app, doing `what` ("abort",
 * "redirect", "update"): reads the job's processing tasks and decides with job_seed_decide()
 * (core/job.h). 0 with r->task_id set when the job has a processing task from app's trigger
 * (app NULL: from any trigger, the oldest: a user's release, which the caller authorized);
 * STORE_CONFLICT with r->seed and r->why otherwise. */
static int seed_rule(db_conn_t *c, const char *tenant, int64_t job_id, const store_job_t *j,
                     const char *app, const char *what, store_pull_result_t *r) {
  db_stmt_t *s = db_prepare(c, "SELECT id, trigger_app FROM tasks"
                               " WHERE job_id = ? AND tenant_id = ? AND state = ?"
                               " ORDER BY created_us, id");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, job_id);
  db_bind_text(s, 2, tenant);
  db_bind_int64(s, 3, TASK_PROCESSING);
  char **ids = NULL, **apps = NULL;
  size_t n = 0;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    ids = xrealloc(ids, (n + 1) * sizeof *ids);
    apps = xrealloc(apps, (n + 1) * sizeof *apps);
    ids[n] = store_col_strdup(s, 0, true);
    apps[n++] = store_col_strdup(s, 1, false);
  }
  db_reset(s);
  if (rc != DB_DONE) {
    rc = DB_ERROR;
    goto done;
  }
  if (!app && n > 0) app = apps[0]; /* the oldest processing task, whoever's trigger made it */
  job_seed_decision_t d = job_seed_decide(j->phase, (const char *const *)apps, n, app);
  if (d.seed == JOB_SEED_OK) {
    free(r->task_id);
    r->task_id = xstrdup(ids[d.task]);
    rc = 0;
  } else if (d.seed == JOB_SEED_NO_TASK) {
    r->seed = JOB_SEED_NO_TASK;
    buf_t b = BUF_INIT;
    buf_printf(&b, "The job cannot be %s", what);
    rc = refuse_state(r, b.data, d.why);
    buf_free(&b);
  } else {
    r->seed = JOB_SEED_OTHER_APP;
    rc = refuse(r, "The job's processing print task was created by a task trigger of another "
                "application; only the application that created the trigger may have the job "
                "%s.", what);
  }
done:
  store_strings_free(ids, n);
  store_strings_free(apps, n);
  return rc;
}

/* ---- seed check ------------------------------------------------------------------------- */

typedef struct pull_arg {
  const char          *tenant, *app, *text;  /* text: reason, or configuration patch */
  const char          *printer_id;           /* abort: the job's printer; NULL: any */
  int64_t              job_id;
  store_pull_result_t *r;
} pull_arg_t;

static int seed_check_fn(db_conn_t *c, void *arg) {
  pull_arg_t *a = arg;
  store_pull_result_clear(a->r);
  store_job_t j = {0};
  int rc = store_job_load(c, a->tenant, a->job_id, &j);
  if (rc == 0) {
    a->r->from = a->r->to = j.phase;
    rc = seed_rule(c, a->tenant, a->job_id, &j, a->app, "changed", a->r);
  }
  store_job_clear(&j);
  return rc;
}

/* Checks the seed rule; see pullprint.h. */
store_rc_t store_job_seed_check(store_t *st, const char *tenant, int64_t job_id,
                                const char *app, store_pull_result_t *r) {
  memset(r, 0, sizeof *r);
  if (!tenant || job_id <= 0) return STORE_NOT_FOUND;
  pull_arg_t a = {.tenant = tenant, .app = app, .job_id = job_id, .r = r};
  return store_rc(db_read(st->db, seed_check_fn, &a));
}

/* ---- abort ------------------------------------------------------------------------------ */

static int abort_fn(db_conn_t *c, void *arg) {
  pull_arg_t *a = arg;
  store_pull_result_t *r = a->r;
  store_pull_result_clear(r);
  store_job_t j = {0};
  int rc = store_job_load(c, a->tenant, a->job_id, &j);
  if (rc != 0) goto done;
  if (a->printer_id && (!j.printer_id || strcmp(j.printer_id, a->printer_id) != 0)) {
    rc = STORE_NOT_FOUND; /* not on the printer the caller named: nothing is written */
    goto done;
  }
  r->from = r->to = j.phase;
  rc = seed_rule(c, a->tenant, a->job_id, &j, a->app, "aborted", r);
  if (rc != 0) goto done;
  const char *why = NULL;
  job_phase_t next;
  if (!job_transition(j.phase, JOB_EV_ABORT, true, &next, &why)) {
    rc = refuse_state(r, "The job cannot be aborted", why);
    goto done;
  }
  int64_t now = time_now_us();
  rc = job_set_phase(c, a->tenant, &j, next, a->text, -1, now, NULL);
  if (rc == 0) rc = task_set_state(c, a->tenant, r->task_id, TASK_ABORTED, TASK_DESC_JOB_ABORTED,
                                   now);
  if (rc == 0) r->to = next;
  else if (rc == STORE_CONFLICT) rc = refuse(r, "The job changed while it was being aborted.");
done:
  store_job_clear(&j);
  return rc;
}

/* Aborts a held job; see pullprint.h. */
store_rc_t store_job_abort(store_t *st, const char *tenant, int64_t job_id, const char *app,
                           const char *reason, store_pull_result_t *r) {
  return store_job_abort_on(st, tenant, NULL, job_id, app, reason, r);
}

/* Aborts a held job of a printer; see pullprint.h. */
store_rc_t store_job_abort_on(store_t *st, const char *tenant, const char *printer_id,
                              int64_t job_id, const char *app, const char *reason,
                              store_pull_result_t *r) {
  memset(r, 0, sizeof *r);
  if (!tenant || job_id <= 0) return STORE_NOT_FOUND;
  pull_arg_t a = {.tenant = tenant, .app = app, .text = reason, .printer_id = printer_id,
                  .job_id = job_id, .r = r};
  return store_rc(db_write(st->db, abort_fn, &a));
}

/* ---- configuration update ---------------------------------------------------------------- */

static int update_fn(db_conn_t *c, void *arg) {
  pull_arg_t *a = arg;
  store_pull_result_t *r = a->r;
  store_pull_result_clear(r);
  store_job_t j = {0};
  char *merged = NULL;
  int rc = store_job_load(c, a->tenant, a->job_id, &j);
  if (rc != 0) goto done;
  r->from = r->to = j.phase;
  rc = seed_rule(c, a->tenant, a->job_id, &j, a->app, "updated", r);
  if (rc != 0) goto done;
  const char *why = NULL;
  job_phase_t next;
  if (!job_transition(j.phase, JOB_EV_UPDATE, true, &next, &why)) {
    rc = refuse_state(r, "The job cannot be updated", why);
    goto done;
  }
  /* The merge happens here, under the write lock: concurrent patches of different members
   * both survive. */
  merged = json_merge_members_text(j.configuration, a->text);
  if (!merged) {
    rc = DB_ERROR;
    goto done;
  }
  rc = store_job_set_configuration(c, a->tenant, a->job_id, j.phase, merged, time_now_us());
  if (rc == STORE_CONFLICT) rc = refuse(r, "The job changed while it was being updated.");
  if (rc == 0) r->to = next;
done:
  free(merged);
  store_job_clear(&j);
  return rc;
}

/* Merges a configuration patch into a held job; see pullprint.h. */
store_rc_t store_job_update_configuration(store_t *st, const char *tenant, int64_t job_id,
                                          const char *app, const char *patch,
                                          store_pull_result_t *r) {
  memset(r, 0, sizeof *r);
  if (!tenant || job_id <= 0) return STORE_NOT_FOUND;
  if (!patch) return STORE_ERROR;
  pull_arg_t a = {.tenant = tenant, .app = app, .text = patch, .job_id = job_id, .r = r};
  return store_rc(db_write(st->db, update_fn, &a));
}

/* ---- redirect --------------------------------------------------------------------------- */

/* Reads the destination printer: 0 with *accepting set, STORE_NOT_FOUND when it is not the
 * tenant's, or DB_ERROR. A printer whose isAcceptingJobs is unknown (NULL) accepts jobs. */
static int destination_read(db_conn_t *c, const char *tenant, const char *printer_id,
                            bool *accepting) {
  db_stmt_t *s = db_prepare(c, "SELECT is_accepting_jobs FROM printers"
                               " WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, printer_id);
  db_bind_text(s, 2, tenant);
  int rc = db_step(s);
  *accepting = !(rc == DB_ROW && !db_col_null(s, 0) && db_col_int64(s, 0) == 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

/* 1 when printer_id has a jobStarted trigger, 0 when not. */
static int has_trigger(db_conn_t *c, const char *tenant, const char *printer_id) {
  db_stmt_t *s = db_prepare(c, "SELECT 1 FROM task_triggers WHERE printer_id = ?"
                               " AND tenant_id = ? AND event = 0");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, printer_id);
  db_bind_text(s, 2, tenant);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : DB_ERROR;
}

typedef struct redirect_arg {
  const store_job_redirect_t *rq;
  store_pull_result_t        *r;
} redirect_arg_t;

/* The copy's key of the blob from_key, or NULL when none was made. */
static const char *blob_copy_of(const store_job_redirect_t *rq, const char *from_key) {
  for (size_t i = 0; i < rq->nblobs; i++)
    if (rq->blobs[i].from_key && !strcmp(rq->blobs[i].from_key, from_key))
      return rq->blobs[i].to_key;
  return NULL;
}

/* Copies the document rows of job from to job to (new ids, blob keys from rq->blobs). */
static int documents_copy(db_conn_t *c, const store_job_redirect_t *rq, int64_t to,
                          store_pull_result_t *r) {
  store_document_t *docs = NULL;
  size_t n = 0;
  int rc = store_job_documents_read(c, rq->tenant, rq->job_id, &docs, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    store_document_t *d = &docs[i];
    const char *key = NULL;
    if (d->blob_key) {
      key = blob_copy_of(rq, d->blob_key);
      if (!key) {
        rc = refuse(r, "The job's document changed while the job was being redirected; retry.");
        break;
      }
    }
    free(d->blob_key);
    d->blob_key = key ? xstrdup(key) : NULL;
    free(d->id);
    d->id = xmalloc(ID_GUID_LEN + 1);
    id_guid_ordered(d->id);
    d->job_id = to;
    rc = store_job_document_insert(c, d) == 0 ? 0 : DB_ERROR;
  }
  store_documents_free(docs, n);
  return rc;
}

static int redirect_fn(db_conn_t *c, void *arg) {
  redirect_arg_t *a = arg;
  const store_job_redirect_t *rq = a->rq;
  store_pull_result_t *r = a->r;
  store_pull_result_clear(r);
  store_job_t j = {0};
  char *config = NULL, *from_url = NULL, *to_url = NULL;
  int rc = store_job_load(c, rq->tenant, rq->job_id, &j);
  if (rc != 0) goto done;
  r->from = r->to = j.phase;
  rc = seed_rule(c, rq->tenant, rq->job_id, &j, rq->app, "redirected", r);
  if (rc != 0) goto done;
  const char *why = NULL;
  job_phase_t next;
  if (!job_transition(j.phase, JOB_EV_REDIRECT, true, &next, &why)) {
    rc = refuse_state(r, "The job cannot be redirected", why);
    goto done;
  }
  bool accepting = true;
  rc = destination_read(c, rq->tenant, rq->destination, &accepting);
  if (rc == STORE_NOT_FOUND) {
    r->no_destination = true;
    rc = refuse(r, "There is no printer '%s' in this tenant to redirect the job to.",
                rq->destination);
    goto done;
  }
  if (rc != 0) goto done;
  if (!accepting) {
    rc = refuse(r, "The destination printer '%s' is not accepting jobs.", rq->destination);
    goto done;
  }
  config = rq->configuration ? json_merge_members_text(j.configuration, rq->configuration)
                             : xstrdup(j.configuration ? j.configuration : "{}");
  if (!config) {
    rc = DB_ERROR;
    goto done;
  }
  int64_t new_id = 0;
  rc = store_job_next_id(c, &new_id);
  if (rc == STORE_CONFLICT) rc = refuse(r, "No job id is left for the redirected job.");
  if (rc != 0) goto done;
  rc = has_trigger(c, rq->tenant, rq->destination);
  if (rc < 0) goto done;
  bool held = rc == 1;
  job_phase_t new_phase = held ? JOB_HELD : JOB_FETCHABLE;
  int64_t now = time_now_us();
  from_url = store_job_url(rq->public_url, j.printer_id, rq->job_id);
  to_url = store_job_url(rq->public_url, rq->destination, new_id);

  store_job_row_t row = {.id = new_id, .tenant = rq->tenant, .printer_id = rq->destination,
                         .display_name = j.display_name, .configuration = config,
                         .phase = new_phase, .now = now, .created_by_id = j.created_by_id,
                         .created_by_upn = j.created_by_upn, .created_by_name = j.created_by_name,
                         .created_by_ip = j.created_by_ip, .redirected_from = from_url};
  rc = store_job_insert(c, &row);
  if (rc != 0) {
    rc = rc == DB_CONSTRAINT ? refuse(r, "The redirected job's id is taken; retry.") : DB_ERROR;
    goto done;
  }
  /* the creator's groups go with the job (getGroupArchivedPrintJobs) */
  if ((rc = store_job_copy_groups(c, rq->tenant, rq->job_id, new_id)) != 0) goto done;
  rc = documents_copy(c, rq, new_id, r);
  if (rc != 0) goto done;
  if (held) {
    rc = store_trigger_fire(c, rq->tenant, rq->destination, new_id, rq->public_url, now,
                            &r->new_task_id, NULL);
    if (rc == 0 && !r->new_task_id) rc = DB_ERROR; /* the trigger vanished within the closure */
  } else {
    rc = job_fetchable_notify(c, rq->tenant, rq->destination, new_id);
  }
  if (rc == 0) rc = store_ipp_job_changed(c, rq->tenant, new_id, -1, now); /* the new job */
  if (rc != 0) goto done;
  rc = job_set_phase(c, rq->tenant, &j, next, JOB_DESC_REDIRECTED, 0, now, to_url);
  if (rc == 0) rc = task_set_state(c, rq->tenant, r->task_id, TASK_COMPLETED,
                                   TASK_DESC_REDIRECTED, now);
  if (rc == STORE_CONFLICT) rc = refuse(r, "The job changed while it was being redirected.");
  if (rc == 0) {
    r->to = next;
    r->new_job_id = new_id;
  }
done:
  free(config);
  free(from_url);
  free(to_url);
  store_job_clear(&j);
  return rc;
}

/* Redirects a held job; see pullprint.h. */
store_rc_t store_job_redirect(store_t *st, const store_job_redirect_t *rq,
                              store_pull_result_t *r) {
  memset(r, 0, sizeof *r);
  if (!rq || !rq->tenant || rq->job_id <= 0) return STORE_NOT_FOUND;
  if (!rq->destination || !rq->public_url) return STORE_ERROR;
  redirect_arg_t a = {rq, r};
  return store_rc(db_write(st->db, redirect_fn, &a));
}

/* ---- task completion and abort ----------------------------------------------------------- */

typedef struct finish_arg {
  const char          *tenant, *definition_id, *task_id, *description;
  task_state_t         next;
  store_task_t         out;
  store_pull_result_t *r;
} finish_arg_t;

/* Reads task id of tenant under definition_id into *t (STORE_NOT_FOUND otherwise). */
static int task_read(db_conn_t *c, const char *tenant, const char *definition_id,
                     const char *id, store_task_t *t) {
  store_task_clear(t);
  db_stmt_t *s = db_prepare(c, "SELECT " STORE_TASK_COLS " FROM tasks t"
                               " WHERE t.id = ? AND t.tenant_id = ? AND t.definition_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, id);
  db_bind_text(s, 2, tenant);
  db_bind_text(s, 3, definition_id);
  return store_step_row(s, store_task_from_row, t);
}

static int finish_fn(db_conn_t *c, void *arg) {
  finish_arg_t *a = arg;
  store_pull_result_t *r = a->r;
  store_pull_result_clear(r);
  store_job_t j = {0};
  int rc = task_read(c, a->tenant, a->definition_id, a->task_id, &a->out);
  if (rc != 0) goto done;
  const char *why = NULL;
  if (!task_transition_allowed((task_state_t)a->out.state, a->next, &why)) {
    rc = refuse(r, "%s", why ? why : "The task's state does not allow this change.");
    goto done;
  }
  rc = store_job_load(c, a->tenant, a->out.job_id, &j);
  if (rc == STORE_NOT_FOUND) {
    rc = refuse(r, "The task's print job no longer exists.");
    goto done;
  }
  if (rc != 0) goto done;
  r->from = r->to = j.phase;
  job_event_t ev = a->next == TASK_COMPLETED ? JOB_EV_TASK_COMPLETED : JOB_EV_TASK_ABORTED;
  job_phase_t next;
  if (!job_transition(j.phase, ev, true, &next, &why)) {
    rc = refuse_state(r, a->next == TASK_COMPLETED ? "The task's print job cannot be released"
                                                   : "The task's print job cannot be aborted",
                      why);
    goto done;
  }
  int64_t now = time_now_us();
  const char *desc = a->description ? a->description
                     : a->next == TASK_COMPLETED ? TASK_DESC_COMPLETED : TASK_DESC_ABORTED;
  rc = task_set_state(c, a->tenant, a->task_id, a->next, desc, now);
  if (rc == 0)
    rc = job_set_phase(c, a->tenant, &j, next,
                       next == JOB_ABORTED ? JOB_DESC_TASK_ABORTED : NULL, -1, now, NULL);
  if (rc == 0 && job_phase_view(next).fetchable)
    rc = job_fetchable_notify(c, a->tenant, j.printer_id, a->out.job_id);
  if (rc == STORE_CONFLICT) rc = refuse(r, "The task or its job changed meanwhile.");
  if (rc == 0) {
    r->to = next;
    r->task_id = xstrdup(a->task_id);
    a->out.state = a->next;
    free(a->out.description);
    a->out.description = xstrdup(desc);
    a->out.updated_us = now;
  }
done:
  store_job_clear(&j);
  return rc;
}

/* Completes or aborts a task and releases or aborts its job; see pullprint.h. */
store_rc_t store_task_finish(store_t *st, const char *tenant, const char *definition_id,
                             const char *task_id, task_state_t next, const char *description,
                             store_task_t *out, store_pull_result_t *r) {
  if (out) memset(out, 0, sizeof *out);
  memset(r, 0, sizeof *r);
  if (!tenant || !definition_id || !task_id) return STORE_NOT_FOUND;
  finish_arg_t a = {.tenant = tenant, .definition_id = definition_id, .task_id = task_id,
                    .description = description, .next = next, .r = r};
  store_rc_t rc = store_rc(db_write(st->db, finish_fn, &a));
  if (rc == STORE_OK && out) *out = a.out;
  else store_task_clear(&a.out);
  return rc;
}
