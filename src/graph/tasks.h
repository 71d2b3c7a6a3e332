/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull printing on the Graph surface, part 1 (reference §4.5, P11-P14): task definitions
 * (/print/taskDefinitions), their print tasks (.../tasks[/{id}[/definition|/trigger]]), the
 * task triggers of printers (/print/printers/{id}/taskTriggers[/{id}[/definition]]) and the
 * job-side read view of tasks (.../jobs/{id}/tasks[/{id}], printer and share prefixes).
 *
 * The JSON builders are shared with the job handlers ($expand=tasks) and the notifications.
 */
#ifndef SPOOLD_GRAPH_TASKS_H
#define SPOOLD_GRAPH_TASKS_H

#include <jansson.h>

#include "http/request.h"
#include "store/jobs.h"
#include "store/tasks.h"

/* The printTask JSON of t: id, parentUrl (the absolute job URL
 * "<public-url>/v1.0/print/printers/{p}/jobs/{j}") and status {state, description}. No
 * @odata.context: the caller adds the one of its path (an $expand=tasks item has none).
 * Returns a new reference. */
json_t *graph_task_json(const http_request_t *req, const store_task_t *t);

/* The printTaskDefinition JSON of d: id, displayName, createdBy {appId, displayName}. */
json_t *graph_task_definition_json(const http_request_t *req, const store_task_definition_t *d);

/* The printTaskTrigger JSON of t: id, event. */
json_t *graph_task_trigger_json(const http_request_t *req, const store_task_trigger_t *t);

/* Registers the routes above (from graph_routes_register). */
void graph_tasks_routes(void);

#endif
