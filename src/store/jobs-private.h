/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the job phase change shared by every module that moves a job (jobs.c,
 * pullprint.c, ipp-devices.c), so the status columns, timestamps and IPP events are written one way.
 */
#ifndef SPOOLD_STORE_JOBS_PRIVATE_H
#define SPOOLD_STORE_JOBS_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/job.h"
#include "store/db.h"

/* Overrides of the phase's default wire view; a NULL pointer means none. */
typedef struct job_phase_change {
  const char *description;   /* NULL: the phase's default description */
  int         details;       /* < 0: the phase's default details (JOB_DETAIL_* bits) */
  const char *redirected_to; /* NULL: unchanged */
  bool        no_ipp_event;  /* the caller writes the IPP events itself (device changes) */
} job_phase_change_t;

int store_job_set_phase(db_conn_t *c, const char *tenant, int64_t id, job_phase_t from,
                        job_phase_t to, const job_phase_change_t *chg, int64_t now);

/* copiesPrinted of a terminal job (pullprint.c): its configuration's copies (1 when unset) once
 * completed, 0 otherwise. configuration may be NULL. */
int64_t store_copies_printed(job_phase_t phase, const char *configuration);

/* Records, on job id that has just become terminal at now, what its usage counts under
 * (reports.c; store/reports.h): the UTC day and month of now and whether its configuration
 * prints in colour and on both sides; a job that was redirected (counted = false) gets none
 * and is not counted. 0 or DB_ERROR. */
int store_usage_record(db_conn_t *c, const char *tenant, int64_t id, bool counted, int64_t now);

#endif
