/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: what the job transitions need from the pull-printing tables inside
 * their own write closures (jobs.c for start and cancel, pullprint.c for redirect).
 */
#ifndef SPOOLD_STORE_TASKS_PRIVATE_H
#define SPOOLD_STORE_TASKS_PRIVATE_H

#include "store/db.h"
#include "store/jobs.h"

#include <stddef.h>
#include <stdint.h>

/* Columns of a tasks row in the order task_from_row() reads them, for "SELECT " TASK_COLS. */
#define STORE_TASK_COLS                                                                    \
  "t.id, t.tenant_id, t.definition_id, t.trigger_id, t.trigger_app, t.job_id, t.printer_id," \
  " t.state, t.description, t.created_us, t.updated_us"
#define STORE_TASK_NCOLS 11

/* Fills the store_task_t at item (zeroed first; the caller clears it) from a row selected with
 * STORE_TASK_COLS (a row reader of store_step_row / store_query_page_items). */
void store_task_from_row(db_stmt_t *s, void *item);

/* "<public_url>/v1.0/print/printers/{printer_id}/jobs/{job_id}" (malloc'd): the absolute URL of
 * a job as parentUrl, redirectedFrom and redirectedTo carry it. */
char *store_job_url(const char *public_url, const char *printer_id, int64_t job_id);

/* Fires the jobStarted trigger of printer_id for job job_id, inside the caller's write
 * closure c: when the printer has a trigger, inserts a print task in state processing under
 * the trigger's definition (trigger_id and trigger_app recorded, description "The print task
 * is processing the job.") and its outbox notification (store_outbox_task_created with the
 * parentUrl built from public_url). The caller moves the job to JOB_HELD in the same closure.
 * *task_id and *definition_id (malloc'd, either may be NULL) receive the new task's ids, or
 * NULL when the printer has no trigger. Returns 0 or a DB_* error the closure must return. */
int store_trigger_fire(db_conn_t *c, const char *tenant, const char *printer_id, int64_t job_id,
                       const char *public_url, int64_t now_us, char **task_id,
                       char **definition_id);

/* The ids and definition ids of job job_id's processing tasks, ordered by id, into new arrays
 * *ids and *defs of *n (the caller frees both with store_strings_free(), also after an error).
 * 0 or DB_ERROR. */
int store_task_job_processing(db_conn_t *c, const char *tenant, int64_t job_id, char ***ids,
                              char ***defs, size_t *n);

/* Moves every processing task of job job_id to aborted with description at now. 0 or
 * DB_ERROR. Writes no notification (the caller writes them for the ids it read). */
int store_task_job_abort_all(db_conn_t *c, const char *tenant, int64_t job_id,
                             const char *description, int64_t now);

#endif
