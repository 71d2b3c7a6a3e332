/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull printing in the store, part 2: the job transitions a print task governs (reference
 * §5.1-5.3, design notes "Gaps").
 *
 * Every function is ONE write transaction holding the whole change: the seed rule check, the
 * job's phase (through job_transition(), core/job.h), its print task, a redirected job's new
 * row and documents, and the outbox rows of the notifications the change causes. Each state
 * change is a conditional update on the phase read in the same closure, and closures run one
 * at a time on the single writer, so of concurrent abort / redirect / update / task completion
 * / task abort / cancel / timeout on one job exactly one wins; the others get STORE_CONFLICT
 * and change nothing.
 *
 * Ownership: strings in store_pull_result_t are malloc'd (store_pull_result_clear).
 */
#ifndef SPOOLD_STORE_PULLPRINT_H
#define SPOOLD_STORE_PULLPRINT_H

#include "core/job.h"
#include "store/jobs.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a transition did, or why it was refused. */
typedef struct store_pull_result {
  job_seed_t   seed;       /* on STORE_CONFLICT: which part of the seed rule (core/job.h) failed,
                              or OK when the state machine (or something else) refused */
  bool         no_destination; /* redirect: the destination printer is not in the tenant */
  char        *why;        /* on STORE_CONFLICT: a sentence for the 403/409/400 message */
  char        *task_id;    /* the task that changed (the seed task) */
  job_phase_t  from, to;   /* the job's phase before and after */
  int64_t      new_job_id; /* redirect: the job created on the destination printer */
  char        *new_task_id;/* redirect: the task its printer's trigger created, or NULL */
} store_pull_result_t;

/* Releases what *r holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_pull_result_clear(store_pull_result_t *r);

/* Read-only check of the seed rule for job job_id of tenant and application app (for
 * createUploadSession with an application token). STORE_OK when it holds; STORE_CONFLICT with
 * r->seed and r->why when not; STORE_NOT_FOUND when there is no such job. */
store_rc_t store_job_seed_check(store_t *st, const char *tenant, int64_t job_id,
                                const char *app, store_pull_result_t *r);

/* POST .../abort by app: the seed rule, then the job -> JOB_ABORTED with status.description =
 * reason (NULL: the phase's default "The print job was aborted.") and the seed task ->
 * aborted, in one transaction. */
store_rc_t store_job_abort(store_t *st, const char *tenant, int64_t job_id, const char *app,
                           const char *reason, store_pull_result_t *r);

/* store_job_abort of a job on printer printer_id (NULL: any printer): STORE_NOT_FOUND, with
 * nothing written, also when the job is on another printer. */
store_rc_t store_job_abort_on(store_t *st, const char *tenant, const char *printer_id,
                              int64_t job_id, const char *app, const char *reason,
                              store_pull_result_t *r);

/* PATCH .../jobs/{id} {"configuration": patch} by app: the seed rule, then the job's
 * configuration = deep merge of patch (JSON object text) over the stored one (objects merged
 * member by member, anything else replaced; null sets null). The job stays held. */
store_rc_t store_job_update_configuration(store_t *st, const char *tenant, int64_t job_id,
                                          const char *app, const char *patch,
                                          store_pull_result_t *r);

/* A document blob copied for the redirected job: the source document's blob key and the key
 * of the copy made beforehand (outside the transaction). */
typedef struct store_blob_copy {
  const char *from_key;
  const char *to_key;
} store_blob_copy_t;

typedef struct store_job_redirect {
  const char              *tenant;
  int64_t                  job_id;        /* the source job */
  const char              *app;           /* the caller (seed rule); NULL: no seed rule, the
                                             oldest processing task (a user's release at a
                                             member of a pull-print printer, J10) */
  const char              *destination;   /* destinationPrinterId */
  const char              *configuration; /* JSON object text merged over the source's; NULL */
  const char              *public_url;    /* base of redirectedFrom/To and parentUrl */
  const store_blob_copy_t *blobs;         /* one per source document holding bytes */
  size_t                   nblobs;
} store_job_redirect_t;

/* POST .../redirect by app, in one transaction: the seed rule; a new job on the destination
 * printer (same tenant) with redirectedFrom = the source job's URL, the source's creator, a
 * copy of each document row (blob key from rq->blobs) and the merged configuration; when the
 * destination printer has a trigger it fires (a new task, the new job held), otherwise the
 * new job is fetchable (outbox job-fetchable); the source -> JOB_COMPLETED (never fetchable)
 * with redirectedTo = the new job's URL; the seed task -> completed. r->new_job_id is the new
 * job. STORE_CONFLICT with r->no_destination when the destination printer is not the
 * tenant's; with r->why when it is not accepting jobs or a document changed since its blob
 * was copied. */
store_rc_t store_job_redirect(store_t *st, const store_job_redirect_t *rq,
                              store_pull_result_t *r);

/* PATCH /print/taskDefinitions/{d}/tasks/{t} {"status":{"state":next,"description"}} by the
 * owning app (the caller checked the definition is the app's): task_transition_allowed(), then
 * completed -> the job JOB_EV_TASK_COMPLETED (fetchable; outbox job-fetchable), aborted -> the
 * job JOB_EV_TASK_ABORTED (aborted), in one transaction. description NULL: "Task execution is
 * completed." / "Task execution was aborted.". On STORE_OK *out (may be NULL) receives the
 * task after the change. STORE_NOT_FOUND when the task is not under definition_id. */
store_rc_t store_task_finish(store_t *st, const char *tenant, const char *definition_id,
                             const char *task_id, task_state_t next, const char *description,
                             store_task_t *out, store_pull_result_t *r);

#endif
