/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA side of the store (store/ipp.h), events: store_ipp_job_changed() and
 * store_ipp_events_emit() (ipp-private.h) write them inside the write closure of the change they
 * report: every job transition of jobs.c, pullprint.c and ipp-devices.c calls it after updating
 * the job row. Each live subscription of the printer that asked for the change gets one event,
 * numbered by the subscription's own counter (last_seq, incremented in the same transaction, so
 * numbers follow commit order). After such a commit the store's listener (store_ipp_set_listener)
 * runs.
 */
#include "store/ipp.h"
#include "store/ipp-private.h"
#include "store/jobs-private.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define EVENT_COLS                                                                          \
  "subscription_id, seq, event, created_us, job_id, job_phase, job_details,"                \
  " job_device_state, printer_state, printer_details, printer_accepting, text"
/* ---- listener ---------------------------------------------------------------------------- */

/* Sets the function called after commits that wrote events (see ipp.h). */
void store_ipp_set_listener(store_t *st, void (*fn)(void *arg), void *arg) {
  store_wake_set(&st->ipp_wake, fn, arg);
}

void store_ipp_events_free(store_ipp_event_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].event);
    free(v[i].printer_details);
    free(v[i].text);
  }
  free(v);
}

/* ---- small helpers ----------------------------------------------------------------------- */

/* True when the comma-separated list csv holds word exactly. */
static bool csv_has(const char *csv, const char *word) {
  size_t wl = strlen(word);
  for (const char *p = csv; p && *p;) {
    size_t n = strcspn(p, ",");
    if (n == wl && !strncmp(p, word, n)) return true;
    p += n;
    if (*p == ',') p++;
  }
  return false;
}

/* ---- events ------------------------------------------------------------------------------ */


typedef struct live_sub {
  int64_t id;
  char   *events;
} live_sub_t;

/* Inserts the next event of subscription sub_id and prunes its old events. */
static int event_insert(db_conn_t *c, int64_t sub_id, const char *name, const ev_payload_t *p,
                        int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE ipp_subscriptions SET last_seq = last_seq + 1 WHERE id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, sub_id);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  s = db_prepare(c, "SELECT last_seq FROM ipp_subscriptions WHERE id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, sub_id);
  rc = db_step(s);
  int64_t seq = rc == DB_ROW ? db_col_int64(s, 0) : 0;
  db_reset(s);
  if (rc != DB_ROW) return DB_ERROR;

  s = db_prepare(c, "INSERT INTO ipp_events (" EVENT_COLS ")"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, sub_id);
  db_bind_int64(s, 2, seq);
  db_bind_text(s, 3, name);
  db_bind_int64(s, 4, now);
  if (p->job_id > 0) {
    db_bind_int64(s, 5, p->job_id);
    db_bind_int64(s, 6, p->job_phase);
    db_bind_int64(s, 7, p->job_details);
    db_bind_int64(s, 8, p->job_device_state);
  } else {
    db_bind_null(s, 5);
    db_bind_null(s, 6);
    db_bind_null(s, 7);
    db_bind_null(s, 8);
  }
  if (p->printer_state >= 0) db_bind_int64(s, 9, p->printer_state);
  else db_bind_null(s, 9);
  db_bind_text(s, 10, p->printer_details);
  if (p->printer_accepting >= 0) db_bind_int64(s, 11, p->printer_accepting);
  else db_bind_null(s, 11);
  db_bind_text(s, 12, p->text);
  if ((rc = store_step_done(s)) != 0) return rc;

  s = db_prepare(c, "DELETE FROM ipp_events WHERE subscription_id = ?"
                    " AND (seq <= ? OR created_us < ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, sub_id);
  db_bind_int64(s, 2, seq - STORE_IPP_EVENTS_MAX);
  db_bind_int64(s, 3, now - (int64_t)STORE_IPP_EVENT_LIFE_S * 1000000);
  if ((rc = store_step_done(s)) != 0) return rc;
  if (db_notify(c, STORE_CH_IPP_EVENTS) != 0) return DB_ERROR;  /* the other processes */
  store_t *st = store_of(c);
  if (st) db_after_commit(c, store_wake_run, &st->ipp_wake);
  return 0;
}

/* Delivers one change to the live subscriptions of a printer; see ipp-private.h. */
int store_ipp_events_emit(db_conn_t *c, const char *tenant, const char *printer_id,
                          const ev_candidate_t *cand, size_t ncand, const ev_payload_t *p,
                       int64_t now) {
  db_stmt_t *s = db_prepare(c, "SELECT id, events FROM ipp_subscriptions"
                               " WHERE tenant_id = ? AND printer_id = ?"
                               " AND (expires_us IS NULL OR expires_us > ?) ORDER BY id");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_text(s, 2, printer_id);
  db_bind_int64(s, 3, now);
  live_sub_t *subs = NULL;
  size_t n = 0;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    subs = xrealloc(subs, (n + 1) * sizeof *subs);
    subs[n].id = db_col_int64(s, 0);
    subs[n].events = store_col_strdup(s, 1, true);
    n++;
  }
  db_reset(s);
  rc = rc == DB_DONE ? 0 : DB_ERROR;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    for (size_t k = 0; k < ncand; k++) {
      if (csv_has(subs[i].events, cand[k].name) ||
          (cand[k].also && csv_has(subs[i].events, cand[k].also))) {
        rc = event_insert(c, subs[i].id, cand[k].name, p, now);
        break;
      }
    }
  }
  for (size_t i = 0; i < n; i++) free(subs[i].events);
  free(subs);
  return rc;
}

/* Writes the events of a job change; see ipp-private.h. */
int store_ipp_job_changed(db_conn_t *c, const char *tenant, int64_t job_id, int from,
                          int64_t now_us) {
  store_job_state_t js;
  int rc = store_job_state_read(c, tenant, job_id, &js);
  if (rc == 0) rc = store_ipp_job_state_changed(c, tenant, job_id, from, &js, now_us);
  store_job_state_clear(&js);
  return rc == STORE_NOT_FOUND ? 0 : rc;
}

/* See ipp-private.h. */
int store_ipp_job_state_changed(db_conn_t *c, const char *tenant, int64_t job_id, int from,
                                const store_job_state_t *js, int64_t now_us) {
  int rc = 0;
  int phase = (int)js->phase;
  ev_payload_t p = {.job_id = job_id, .job_phase = phase, .job_details = js->details,
                    .job_device_state = js->device_state, .text = js->description,
                    .printer_state = -1, .printer_accepting = -1};
  if (phase != from && !js->no_ipp_subs) { /* no_ipp_subs: nobody to write an event for */
    ev_candidate_t cand[2];
    size_t n = 0;
    if (job_phase_terminal((job_phase_t)phase)) {
      cand[n++] = (ev_candidate_t){"job-completed", "job-state-changed"};
    } else if (phase == JOB_STOPPED) {
      cand[n++] = (ev_candidate_t){"job-stopped", "job-state-changed"};
    } else if (phase == JOB_FETCHABLE) {
      cand[n++] = (ev_candidate_t){"job-fetchable", NULL};
      cand[n++] = (ev_candidate_t){"job-state-changed", NULL};
    } else {
      cand[n++] = (ev_candidate_t){"job-state-changed", NULL};
    }
    rc = store_ipp_events_emit(c, tenant, js->printer_id, cand, n, &p, now_us);
  }
  return rc;
}

