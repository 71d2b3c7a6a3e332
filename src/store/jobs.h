/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print jobs in the store: the jobs table (one row per printJob) and the documents and tasks
 * rows created with it.
 *
 * A job's id is a decimal number taken from the 'job' id counter (db_next_id) inside the insert
 * transaction; it is unique across tenants, increasing (with gaps on PostgreSQL, whose sequence
 * is not rolled back) and fits in an int32 (it is also the IPP job-id).
 * The phase column is a job_phase_t (core/job.h); state/details/description/is_fetchable are
 * the wire view of that phase, written together with it by every transition.
 *
 * Ownership: strings in store_job_t are malloc'd; release them with store_job_clear().
 */
#ifndef SPOOLD_STORE_JOBS_H
#define SPOOLD_STORE_JOBS_H

#include "core/job.h"
#include "core/query.h"
#include "store/limits.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

#define STORE_JOB_ID_MAX 2147483647 /* job ids are IPP job-ids: they fit in an int32 */

typedef struct store_job {
  int64_t     id;
  char        id_str[24];       /* id as a decimal string (the Graph id) */
  char       *tenant;
  char       *printer_id;
  char       *display_name;     /* beta displayName; NULL when unset */
  job_phase_t phase;
  int         state;            /* printJobProcessingState index (ENUM_PRINT_JOB_PROCESSING_STATE) */
  unsigned    details;          /* JOB_DETAIL_* bits */
  char       *description;      /* status description; never NULL */
  bool        is_fetchable;
  bool        is_acquired;      /* status.isAcquiredByPrinter */
  int64_t     acknowledged_us;  /* acknowledgedDateTime; 0 = null */
  char       *configuration;    /* JSON text of the printJobConfiguration as stored ("{}") */
  int64_t     created_us;
  int64_t     updated_us;
  int64_t     completed_us;     /* 0 = not terminal */
  int64_t     held_us;          /* when a print task started holding it; 0 = not held */
  char       *created_by_id;    /* createdBy: the user's oid (or the app's id); may be NULL */
  char       *created_by_upn;   /* userPrincipalName as sent in the token; may be NULL */
  char       *created_by_name;  /* displayName; may be NULL */
  char       *created_by_ip;    /* ipAddress; may be NULL */
  char       *redirected_from;  /* absolute URL of the source job (store_job_url, tasks-private.h);
                                   NULL = null */
  char       *redirected_to;    /* absolute URL of the destination job; NULL = null */
  bool        has_error_code;   /* errorCode is set */
  int32_t     error_code;
} store_job_t;

/* Releases what *j holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_job_clear(store_job_t *j);

/* Parses a Graph job id: 1..STORE_JOB_ID_MAX in canonical decimal (no sign, no leading zero).
 * Returns the id, or 0 when s is not one. */
int64_t store_job_id_parse(const char *s);

/* Reads job id (the decimal string) of tenant into *out; STORE_NOT_FOUND when there is no such
 * job in that tenant or id is not a job id. *out is zeroed unless STORE_OK. */
store_rc_t store_job_get(store_t *st, const char *tenant, const char *id, store_job_t *out);

/* ---- documents of a job -------------------------------------------------------------------- */

typedef struct store_document {
  char   *id;             /* GUID */
  char   *tenant;
  int64_t job_id;
  char   *display_name;   /* "" until an upload session names it */
  char   *content_type;   /* "" until then */
  int64_t size;           /* 0 until then */
  int64_t uploaded_us;    /* 0 = not fully uploaded */
  int64_t downloaded_us;  /* 0 = never downloaded */
  char   *sha256;         /* NULL until uploaded */
  char   *blob_key;       /* NULL until uploaded */
} store_document_t;

/* Releases what *d holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_document_clear(store_document_t *d);
/* Clears each of v[0..n) (store_document_clear) and frees v (NULL is a no-op). */
void store_documents_free(store_document_t *v, size_t n);

/* The documents of job job_id (a job of tenant), ordered by id. *out is malloc'd (free with
 * store_documents_free); *n may be 0. */
store_rc_t store_job_documents(store_t *st, const char *tenant, int64_t job_id,
                               store_document_t **out, size_t *n);

/* ---- print tasks of a job ------------------------------------------------------------------ */

typedef struct store_task {
  char   *id;
  char   *tenant;
  char   *definition_id;
  char   *trigger_id;     /* may be NULL */
  char   *trigger_app;    /* appid that created the trigger */
  int64_t job_id;
  char   *printer_id;
  int     state;          /* task_state_t */
  char   *description;
  int64_t created_us;
  int64_t updated_us;
} store_task_t;

/* Releases what *t holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_task_clear(store_task_t *t);
/* Clears each of v[0..n) (store_task_clear) and frees v (NULL is a no-op). */
void store_tasks_free(store_task_t *v, size_t n);
/* The print tasks of job job_id, ordered by id. */
store_rc_t store_job_tasks(store_t *st, const char *tenant, int64_t job_id, store_task_t **out,
                           size_t *n);

/* ---- create ------------------------------------------------------------------------------ */

typedef struct store_job_new {
  const char *tenant;
  const char *printer_id;
  const char *share_id;         /* when set, instead of printer_id: the printer of this share of
                                   the tenant, read in the job's transaction */
  bool        share_any_caller; /* with share_id: also when the share does not let every user
                                   print (the caller is an application) */
  const char *display_name;     /* NULL = unset */
  const char *configuration;    /* JSON text ("{}" when none) */
  const char *created_by_id;
  const char *created_by_upn;
  const char *created_by_name;
  const char *created_by_ip;
  const char *created_by_groups; /* JSON array of the creator's group ids; NULL = none known */
  store_limits_t *limits;        /* NULL = none; else taken in the job's transaction (see
                                    store_job_create; its out fields are set) */
} store_job_new_t;

/* Creates a job in phase JOB_CREATED with one empty document (new GUID), taking the next id
 * from the 'job' id counter, all in one transaction. STORE_NOT_FOUND when the printer is gone
 * (or not in tenant), or through n->share_id when the share is not in the tenant or does not
 * let every user print (unless n->share_any_caller), before anything is written; STORE_CONFLICT when the printer is not accepting jobs
 * (is_accepting_jobs = 0; NULL, unknown, accepts); STORE_ERROR (logged) when the id space
 * (int32) is exhausted; STORE_LIMITED when n->limits is set and one of its windows is full
 * (n->limits->refused and ->retry_us say which and for how long; nothing is written). On
 * STORE_OK *job and *doc (either may be NULL) receive the rows as written. */
store_rc_t store_job_create(store_t *st, const store_job_new_t *n, store_job_t *job,
                            store_document_t *doc);

/* ---- list ------------------------------------------------------------------------------ */

/* Lists one page of the jobs of printer_id in tenant: q's $filter, $orderby, $top/$skip and
 * keyset $skiptoken (core/query.h), page size at most max_page; restricted to created_by_id =
 * own_user_id when that is not NULL. Filterable: id, createdDateTime, createdBy/id,
 * createdBy/userPrincipalName (compared case-insensitively), createdBy/displayName,
 * status/state, isFetchable, displayName, acknowledgedDateTime, errorCode; sortable: id,
 * createdDateTime, createdBy/userPrincipalName, isFetchable, acknowledgedDateTime. Default
 * order: id ascending. Before compiling, q's filter literals are normalized in place: string
 * literals compared with id must be decimal job ids (they become integers) and literals
 * compared with createdBy/userPrincipalName are lower-cased.
 * On STORE_OK *out (malloc'd, free with store_jobs_free) holds *n jobs and *next a malloc'd
 * page token for the next page (NULL on the last page). STORE_INVALID with *err (malloc'd)
 * when q does not fit the collection. */
store_rc_t store_job_list(store_t *st, const char *tenant, const char *printer_id,
                          const char *own_user_id, query_t *q, int64_t max_page,
                          store_job_t **out, size_t *n, char **next, char **err);
void store_jobs_free(store_job_t *v, size_t n);

/* ---- transitions ------------------------------------------------------------------------- */

/* Outcome of a transition: what it did besides changing the job. */
typedef struct store_job_change {
  job_phase_t from, to;       /* the phases before and after; a cancel that found the job
                                 neither held nor finished leaves from at JOB_PHASE_COUNT (its
                                 phase is not read before the UPDATE that cancels it) */
  char       *task_id;        /* start: the print task created (held), cancel: the task aborted */
  char       *definition_id;  /* the task's definition */
  char       *why;            /* on STORE_CONFLICT: why the transition was refused (malloc'd) */
} store_job_change_t;

/* Releases what *c holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_job_change_clear(store_job_change_t *c);

/* POST .../start: in one transaction checks the job (tenant, id) is in JOB_CREATED with its
 * document uploaded (documents.uploaded_us set), then either holds it (the printer has a task
 * trigger: store_trigger_fire() creates a print task in state processing under the trigger's
 * definition and queues its notifications, with the job's URL built from public_url as
 * parentUrl) or makes it fetchable (store_outbox_job_fetchable()). STORE_CONFLICT with ch->why
 * when the state machine refuses. On STORE_OK *out holds the job after the change and *ch what
 * it did (ch->task_id: the task created when held). */
store_rc_t store_job_start(store_t *st, const char *tenant, int64_t job_id,
                           const char *public_url, store_job_t *out, store_job_change_t *ch);

/* store_job_start of a job on printer printer_id (NULL: any) created by user owner (NULL: by
 * anyone): STORE_NOT_FOUND, with nothing written, also when the job is on another printer or
 * was created by someone else. */
store_rc_t store_job_start_on(store_t *st, const char *tenant, const char *printer_id,
                              const char *owner, int64_t job_id, const char *public_url,
                              store_job_t *out, store_job_change_t *ch);

/* store_job_start_on with the printer of share share_id of the tenant, read in the start's own
 * transaction (no read transaction before it): STORE_NOT_FOUND, with nothing written, also when
 * there is no such share. */
store_rc_t store_job_start_on_share(store_t *st, const char *tenant, const char *share_id,
                                    const char *owner, int64_t job_id, const char *public_url,
                                    store_job_t *out, store_job_change_t *ch);

/* POST .../cancel: moves the job to JOB_CANCELED; a held job's processing task is aborted in
 * the same transaction (ch->task_id names it). STORE_CONFLICT with ch->why for a terminal job.
 * On STORE_OK *out (may be NULL) holds the job after the change. */
store_rc_t store_job_cancel(store_t *st, const char *tenant, int64_t job_id, store_job_t *out,
                            store_job_change_t *ch);

/* store_job_cancel of a job on printer printer_id (NULL: any) created by user owner (NULL: by
 * anyone): STORE_NOT_FOUND, with nothing written, also when the job is on another printer or
 * was created by someone else. */
store_rc_t store_job_cancel_on(store_t *st, const char *tenant, const char *printer_id,
                               const char *owner, int64_t job_id, store_job_t *out,
                               store_job_change_t *ch);

/* store_job_cancel_on with the printer of share share_id of the tenant, read in the cancel's own
 * transaction (no read transaction before it): STORE_NOT_FOUND, with nothing written, also when
 * there is no such share. */
store_rc_t store_job_cancel_on_share(store_t *st, const char *tenant, const char *share_id,
                                     const char *owner, int64_t job_id, store_job_t *out,
                                     store_job_change_t *ch);

/* ---- the sweeps (jobs-archive.c) ------------------------------------------------------------ */

/* The timeout sweep: aborts (JOB_EV_TASK_TIMEOUT) up to max held jobs, of every tenant, held
 * since before held_before_us, with status.description = description, and aborts their
 * processing tasks, all in one transaction; the tasks' "updated" notifications carry their
 * job's URL under public_url (borrowed; e.g. "https://print.example.com"). *n receives the
 * number of jobs aborted. */
store_rc_t store_jobs_expire_held(store_t *st, int64_t held_before_us, const char *description,
                                  const char *public_url, size_t max, size_t *n);

/* The retention sweep: moves up to max terminal jobs (completed, canceled, aborted) of every
 * tenant that became terminal before terminal_before_us out of /jobs, in one transaction: each
 * gets a row in archived_jobs (the archivedPrintJob facts kept for reports) and its jobs row
 * is deleted with its documents, upload sessions and tasks. *n receives the number of jobs
 * archived; *blob_keys (malloc'd array of malloc'd strings, *nkeys of them; free with
 * store_strings_free) the blob keys no remaining row refers to, for the caller to delete once
 * this returns. */
store_rc_t store_jobs_archive(store_t *st, int64_t terminal_before_us, size_t max, size_t *n,
                              char ***blob_keys, size_t *nkeys);

#endif
