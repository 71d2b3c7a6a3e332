/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the job row, one implementation of each thing every module that reads,
 * inserts or moves a job needs (jobs.c, pullprint.c, ipp-devices.c), so the columns, the job id
 * counter, the status columns, timestamps and IPP events are written one way. Each function runs
 * inside the caller's transaction (it takes a db_conn_t *) and returns 0, a STORE_* code or a
 * DB_* error that a closure may return as it is.
 */
#ifndef SPOOLD_STORE_JOBS_PRIVATE_H
#define SPOOLD_STORE_JOBS_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/job.h"
#include "store/db.h"
#include "store/jobs.h"

/* The columns of a job row (jobs aliased j), in the order store_job_read_row() reads them. */
#define STORE_JOB_COLS                                                                        \
  "j.id, j.tenant_id, j.printer_id, j.display_name, j.phase, j.state, j.details, "            \
  "j.description, j.is_fetchable, j.is_acquired, j.acknowledged_us, j.configuration, "        \
  "j.created_us, j.updated_us, j.completed_us, j.held_us, j.created_by_id, j.created_by_upn, " \
  "j.created_by_name, j.created_by_ip, j.redirected_from, j.redirected_to, j.error_code"
#define STORE_JOB_NCOLS 23

/* Fills *j (zeroed first; the caller clears it) from columns 0 .. STORE_JOB_NCOLS-1 of the
 * current row of s, selected with STORE_JOB_COLS. A phase out of range reads as JOB_ABORTED. */
void store_job_read_row(db_stmt_t *s, store_job_t *j);

/* Reads job id of tenant into *j (cleared first; the caller clears it): 0, STORE_NOT_FOUND or
 * DB_ERROR. */
int store_job_load(db_conn_t *c, const char *tenant, int64_t id, store_job_t *j);

/* Takes the next job id from the 'job' counter (rolled back with the transaction) into *id:
 * 0, STORE_CONFLICT when the id space (1..STORE_JOB_ID_MAX) is exhausted, or DB_ERROR. */
int store_job_next_id(db_conn_t *c, int64_t *id);

/* A job row to insert. Strings are borrowed; NULL ones are stored as NULL except
 * configuration ("{}"). */
typedef struct store_job_row {
  int64_t     id;              /* from store_job_next_id() */
  const char *tenant, *printer_id, *display_name, *configuration;
  job_phase_t phase;           /* the status columns are the phase's default view */
  int64_t     now;             /* created_us and updated_us, and held_us when phase is held */
  const char *created_by_id, *created_by_upn, *created_by_name, *created_by_ip;
  const char *created_by_groups; /* JSON array of the creator's group ids, or NULL */
  const char *redirected_from; /* the job URL it was redirected from, or NULL */
} store_job_row_t;

/* Inserts job row r (not acquired; created_by_upn_lc is created_by_upn lower-cased). 0,
 * DB_CONSTRAINT (the id is taken) or DB_ERROR. Writes no IPP event or notification. */
int store_job_insert(db_conn_t *c, const store_job_row_t *r);

/* Reads the document rows of job job_id of tenant, ordered by id, into a new array *out of *n
 * (the caller frees it with store_documents_free(), also after an error). 0 or DB_ERROR. */
int store_job_documents_read(db_conn_t *c, const char *tenant, int64_t job_id,
                             store_document_t **out, size_t *n);

/* Inserts document row d (id, tenant, job_id, display_name, content_type, size, uploaded_us
 * (0: NULL), sha256, blob_key; strings borrowed, NULL display_name/content_type stored as "").
 * 0, DB_CONSTRAINT or DB_ERROR. */
int store_job_document_insert(db_conn_t *c, const store_document_t *d);


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
