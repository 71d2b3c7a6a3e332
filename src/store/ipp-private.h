/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the IPP events of job and printer changes (ipp-events.c), written by
 * every job transition INSIDE its own write closure (jobs.c, pullprint.c, ipp-devices.c), so
 * that a change and the events that report it to output devices commit together or not at all.
 */
#ifndef SPOOLD_STORE_IPP_PRIVATE_H
#define SPOOLD_STORE_IPP_PRIVATE_H

#include "store/db.h"

#include <stddef.h>
#include <stdint.h>

/* One candidate event of a change: delivered as `name` to subscriptions that asked for `name`
 * or for `also` (may be NULL). A change lists candidates in priority order and a subscription
 * gets at most one event per change: the first candidate it asked for. */
typedef struct ev_candidate {
  const char *name;
  const char *also;
} ev_candidate_t;

/* What an event row carries besides its name. */
typedef struct ev_payload {
  int64_t     job_id;
  int         job_phase, job_device_state;
  unsigned    job_details;
  int         printer_state, printer_accepting;
  const char *printer_details;
  const char *text;
} ev_payload_t;

/* Delivers one change (candidates in priority order, p its payload) to the live subscriptions
 * of the printer: each gets at most one event, the first candidate it asked for. Runs inside
 * the caller's write closure; returns 0 or a DB_* error the closure must return. */
int store_ipp_events_emit(db_conn_t *c, const char *tenant, const char *printer_id,
                          const ev_candidate_t *cand, size_t ncand, const ev_payload_t *p,
                          int64_t now);

/* Job job_id of tenant changed from phase `from` (a job_phase_t, or -1 for a job inserted in
 * this transaction) to the phase its row holds now: writes one event for every live ippget
 * subscription of the job's printer that asked for it (job-fetchable; job-completed and
 * job-stopped, also to job-state-changed subscribers; job-state-changed otherwise). Nothing is
 * written when the phase did not change or nobody subscribed. Returns 0 or a DB_* error the
 * closure must return. */
int store_ipp_job_changed(db_conn_t *c, const char *tenant, int64_t job_id, int from,
                          int64_t now_us);
/* The same, from the job's status js as its row holds it now (borrowed), when the caller has
 * it already (store_job_set_phase reads it back from its UPDATE, together with whether the
 * printer has any live subscription: js->no_ipp_subs spares the subscriptions' SELECT). */
struct store_job_state;
int store_ipp_job_state_changed(db_conn_t *c, const char *tenant, int64_t job_id, int from,
                                const struct store_job_state *js, int64_t now_us);

/* The channel on which a shared database tells the other processes that IPP events were
 * committed (db_notify / store_listen). */
#define STORE_CH_IPP_EVENTS "spoold_ipp_events"

#endif
