/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the notification outbox, written by other store modules INSIDE the
 * write closure of the change that causes a notification (job start creating a print task,
 * a job becoming fetchable, ...), so the change and its notifications commit together or not
 * at all.
 *
 * Each function finds the tenant's active (unexpired) subscriptions matching the change and
 * inserts one outbox row per subscription holding the complete notification (reference §7.4).
 * With no matching subscription it inserts nothing and returns 0. After the caller's
 * transaction commits, the delivery worker (src/notify/delivery.c) is woken (db_after_commit),
 * so callers do nothing else.
 *
 * Return value: 0, or a DB_* error the closure must return (rolling its change back).
 * The string arguments are borrowed; none may be NULL unless said otherwise.
 */
#ifndef SPOOLD_STORE_OUTBOX_H
#define SPOOLD_STORE_OUTBOX_H

#include "store/db.h"

/* A print task was created under task definition definition_id (the job start of a printer
 * with a trigger). Notifies subscriptions on "print/taskDefinitions/{definition_id}/tasks",
 * changeType "created". parent_url is the task's parentUrl, the absolute URL of its job
 * (e.g. "https://host/v1.0/print/printers/{printerId}/jobs/{jobId}"; borrowed, never NULL:
 * DB_ERROR). */
int store_outbox_task_created(db_conn_t *c, const char *tenant, const char *definition_id,
                              const char *task_id, const char *parent_url);

/* Print task task_id under definition_id was aborted by the held-job timeout (spoold's answer
 * to a gap: Graph defines no notification for it). Notifies the definition's task
 * subscriptions with changeType "updated" and the same resource and resourceData as
 * "created", so the app learns that the job it was holding is gone. The parentUrl is built from
 * the tasks row (inserted earlier) and public_url (borrowed; "<public_url>/v1.0/print/printers/
 * {printerId}/jobs/{jobId}"). */
int store_outbox_task_updated(db_conn_t *c, const char *tenant, const char *definition_id,
                              const char *task_id, const char *public_url);

/* Job job_id (decimal) of printer printer_id became fetchable (isFetchable false -> true).
 * Notifies subscriptions on "print/printers/{printer_id}/jobs", changeType "updated" with
 * notificationQueryOptions "$filter = isFetchable eq true". */
int store_outbox_job_fetchable(db_conn_t *c, const char *tenant, const char *printer_id,
                               const char *job_id);

/* ---- payloads (pure; exposed for the unit tests) ------------------------------------------ */

/* What a change notification says. resource is the changed object's path
 * ("print/taskDefinitions/{d}/tasks/{t}"), odata_type its resourceData @odata.type
 * ("#Microsoft.Graph.PrintTask"), object_id its id; parent_url (tasks) may be NULL. */
typedef struct store_outbox_change {
  const char *subscription_id;
  int64_t     subscription_expires_us;
  const char *change_type;
  const char *resource;
  const char *client_state;  /* NULL: null */
  const char *tenant;
  const char *odata_type;
  const char *object_id;
  const char *parent_url;    /* NULL: left out */
} store_outbox_change_t;

/* The request body {"value":[notification]} of reference §7.4 (malloc'd; caller frees). */
char *store_outbox_change_payload(const store_outbox_change_t *n);

/* The body of a lifecycle notification (event "subscriptionRemoved" or "missed") for a
 * subscription (malloc'd; caller frees). client_state may be NULL. */
char *store_outbox_lifecycle_payload(const char *event, const char *subscription_id,
                                     int64_t subscription_expires_us, const char *resource,
                                     const char *client_state, const char *tenant);

/* Queues one outbox row in the caller's write closure and arranges the delivery worker's
 * wake-up after the commit. Returns 0 or a DB_* error. */
int store_outbox_insert(db_conn_t *c, const char *tenant, const char *subscription_id, int kind,
                        const char *url, const char *payload, int64_t now_us);

#endif
