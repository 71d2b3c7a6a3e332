/*
 * Private to src/store: the IPP events of job changes, written by every job transition INSIDE
 * its own write closure (jobs.c, pullprint.c, ipp.c), so that a change and the events that
 * report it to output devices commit together or not at all.
 */
#ifndef SPOOLD_STORE_IPP_PRIVATE_H
#define SPOOLD_STORE_IPP_PRIVATE_H

#include "store/db.h"

#include <stdint.h>

/* Job job_id of tenant changed from phase `from` (a job_phase_t, or -1 for a job inserted in
 * this transaction) to the phase its row holds now: writes one event for every live ippget
 * subscription of the job's printer that asked for it (job-fetchable; job-completed and
 * job-stopped, also to job-state-changed subscribers; job-state-changed otherwise). Nothing is
 * written when the phase did not change or nobody subscribed. Returns 0 or a DB_* error the
 * closure must return. */
int store_ipp_job_changed(db_conn_t *c, const char *tenant, int64_t job_id, int from,
                          int64_t now_us);

#endif
