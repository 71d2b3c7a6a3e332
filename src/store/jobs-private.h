/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the job row. The jobs table is read and written only by the job module
 * (jobs.c, jobs-archive.c); every other store module (pullprint.c, documents.c, ipp-devices.c,
 * ipp-events.c, shares.c) goes through these functions, so the columns, the job id counter,
 * the status columns, timestamps and IPP events are written one way. (reports.c and check.c
 * read it in their aggregate queries.) Each function runs
 * inside the caller's transaction (it takes a db_conn_t *) and returns 0, a STORE_* code or a
 * DB_* error that a closure may return as it is.
 */
#ifndef SPOOLD_STORE_JOBS_PRIVATE_H
#define SPOOLD_STORE_JOBS_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/job.h"
#include "store/db.h"
#include "store/ipp.h"
#include "store/jobs.h"

/* The columns of a job row, each prefixed with P (a string literal: "j." for jobs aliased j,
 * "" unqualified, as a RETURNING clause names them on SQLite), in the order
 * store_job_read_row() reads them. */
#define STORE_JOB_COLS_AS(P)                                                                  \
  P "id, " P "tenant_id, " P "printer_id, " P "display_name, " P "phase, " P "state, "        \
  P "details, " P "description, " P "is_fetchable, " P "is_acquired, " P "acknowledged_us, "  \
  P "configuration, " P "created_us, " P "updated_us, " P "completed_us, " P "held_us, "      \
  P "created_by_id, " P "created_by_upn, " P "created_by_name, " P "created_by_ip, "          \
  P "redirected_from, " P "redirected_to, " P "error_code"
/* The columns of a job row (jobs aliased j), in the order store_job_read_row() reads them. */
#define STORE_JOB_COLS  STORE_JOB_COLS_AS("j.")
/* The same columns unqualified, as RETURNING names them. */
#define STORE_JOB_COLS_BARE STORE_JOB_COLS_AS("")
#define STORE_JOB_NCOLS 23

/* Fills the store_job_t at item (zeroed first; the caller clears it) from columns 0 ..
 * STORE_JOB_NCOLS-1 of the current row of s, selected with STORE_JOB_COLS. A phase out of
 * range reads as JOB_ABORTED. (A row reader of store_step_row / store_query_page_items.) */
void store_job_read_row(db_stmt_t *s, void *item);

/* The columns of a document row (documents aliased d), in the order
 * store_document_read_row() reads them. */
#define STORE_DOC_COLS                                                                   \
  "d.id, d.tenant_id, d.job_id, d.display_name, d.content_type, d.size, d.uploaded_us, " \
  "d.downloaded_us, d.sha256, d.blob_key"

/* Fills the store_document_t at item (zeroed first; the caller clears it) from a row of
 * STORE_DOC_COLS. */
void store_document_read_row(db_stmt_t *s, void *item);

/* Reads job id of tenant into *j (cleared first; the caller clears it): 0, STORE_NOT_FOUND or
 * DB_ERROR. */
int store_job_load(db_conn_t *c, const char *tenant, int64_t id, store_job_t *j);

/* Takes the next job id from the 'job' id counter (db_next_id) into *id:
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
  const char *configuration; /* the job's configuration as the caller read it in this
                                transaction, or NULL: a terminal phase's usage is written by
                                the phase UPDATE as monochrome and one-sided, and corrected by
                                store_usage_record when the configuration the UPDATE returns is
                                color or two-sided */
} job_phase_change_t;

/* The one place a job changes phase: writes phase `to` and its wire view (with chg's overrides;
 * NULL: none) on job id, guarded by the phase read earlier (`from`), with the timestamps that go
 * with it (held_us when a hold starts, completed_us on a terminal phase, then its usage,
 * store_usage_record) and, unless chg->no_ipp_event, the IPP events of the change. 0,
 * STORE_CONFLICT (the phase changed meanwhile) or DB_ERROR. */
int store_job_set_phase(db_conn_t *c, const char *tenant, int64_t id, job_phase_t from,
                        job_phase_t to, const job_phase_change_t *chg, int64_t now);

/* store_job_set_phase() that also reads the job as the change left it into *out (cleared
 * first; the caller clears it, also after an error), from the same UPDATE: a closure that
 * answers with the job needs no read after it. */
int store_job_set_phase_read(db_conn_t *c, const char *tenant, int64_t id, job_phase_t from,
                             job_phase_t to, const job_phase_change_t *chg, int64_t now,
                             store_job_t *out);

/* What the store modules outside the job module read of a job's status. */
typedef struct store_job_state {
  char    *printer_id;   /* "" when unset */
  int64_t  phase;        /* as stored: the caller checks the range (< JOB_PHASE_COUNT) */
  unsigned details;      /* JOB_DETAIL_* bits */
  int      device_state; /* the device's IPP job-state, 0 when it reported none */
  char    *description;  /* "" when unset */
  bool     no_ipp_subs;  /* the reader checked that the job's printer has no live IPP
                          * subscription now (no event to write); false: not checked */
} store_job_state_t;

/* Releases the strings of *s and zeroes it (NULL is fine). */
void store_job_state_clear(store_job_state_t *s);

/* Reads the status of job id of tenant into *out (zeroed first; the caller clears it, also
 * after an error): 0, STORE_NOT_FOUND or DB_ERROR. */
int store_job_state_read(db_conn_t *c, const char *tenant, int64_t id, store_job_state_t *out);

/* Sets the status details (JOB_DETAIL_* bits) of job id, phase unchanged (documents.c: an
 * upload pending or done), and updated_us to now. 0 or a DB_* error. */
int store_job_set_details(db_conn_t *c, int64_t id, unsigned details, int64_t now);

/* Replaces the configuration (JSON text, borrowed) of job id of tenant while it is still in
 * phase, updated_us = now: 0, STORE_CONFLICT (the phase changed meanwhile) or DB_ERROR. */
int store_job_set_configuration(db_conn_t *c, const char *tenant, int64_t id, job_phase_t phase,
                                const char *configuration, int64_t now);

/* Copies the creator's groups of job from_id to job to_id, both of tenant (a redirected job
 * keeps them for getGroupArchivedPrintJobs). 0 or a DB_* error. */
int store_job_copy_groups(db_conn_t *c, const char *tenant, int64_t from_id, int64_t to_id);

/* Records that output device device_uuid acquired job id (Acknowledge-Job): is_acquired, the
 * first acknowledgement and processing times (kept when already set) and the device. The
 * caller moves the phase with store_job_set_phase(). 0 or a DB_* error. */
int store_job_device_acquire(db_conn_t *c, const char *tenant, int64_t id,
                             const char *device_uuid, int64_t now);

/* Records the device's view of job id that st reports (Update-Job-Status: each member left
 * unchanged when st says so), updated_us = now. The caller moves the phase. 0 or a DB_*
 * error. */
int store_job_device_report(db_conn_t *c, const char *tenant, int64_t id,
                            const store_ipp_job_status_t *st, int64_t now);

/* *n = the jobs of printer_id of tenant a device still has to print (fetchable, acquired,
 * processing, stopped). 0 or DB_ERROR. */
int store_jobs_count_queued(db_conn_t *c, const char *tenant, const char *printer_id,
                            int64_t *n);

/* *last_us = when user_id last created a job on printer_id of tenant, 0 when never. 0 or
 * DB_ERROR. */
int store_job_last_created(db_conn_t *c, const char *tenant, const char *printer_id,
                           const char *user_id, int64_t *last_us);

/* copiesPrinted of a terminal job (jobs-archive.c): its configuration's copies (1 when unset)
 * once completed, 0 otherwise. configuration may be NULL. */
int64_t store_copies_printed(job_phase_t phase, const char *configuration);

/* Records, on job id that has just become terminal at now, what its usage counts under
 * (jobs-archive.c; reported by store/reports.h): the UTC day and month of now and whether its
 * configuration (its JSON text as stored, NULL when none; borrowed) prints in colour and on
 * both sides; a job that was redirected (counted = false) gets none and is not counted. 0 or
 * DB_ERROR. */
int store_usage_record(db_conn_t *c, const char *tenant, int64_t id, bool counted,
                       const char *configuration, int64_t now);

/* What store_usage_record() writes, computed without writing it: the usage of a job that
 * becomes terminal at now with configuration (JSON text, NULL when none; borrowed). */
typedef struct store_usage_cols {
  int64_t day_us, month_us; /* the UTC day and month of now */
  bool    is_color, is_duplex;
} store_usage_cols_t;
void store_usage_of(const char *configuration, int64_t now, store_usage_cols_t *out);

#endif
