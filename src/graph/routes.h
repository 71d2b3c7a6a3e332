/* SPDX-License-Identifier: Apache-2.0 */
/* Registers every Graph route table (one per resource file) with the router. */
#ifndef SPOOLD_GRAPH_ROUTES_H
#define SPOOLD_GRAPH_ROUTES_H

#include <stdbool.h>

#include "http/router.h"

/* A job route twice, for the two ways to the same jobs: under a printer
 * (/print/printers/{id}/jobs<p>, named printers.jobs<n>) and under a share
 * (/print/shares/{id}/jobs<p>, shares.jobs<n>). The handler tells them apart by the path
 * (graph_job_path_is_share). Two route_t initializers, for a route table. */
#define GRAPH_JOB_ROUTES(m, p, h, f, n)                                 \
  ROUTE(m, "/print/printers/{id}/jobs" p, h, f, "printers.jobs" n),      \
  ROUTE(m, "/print/shares/{id}/jobs" p, h, f, "shares.jobs" n)

/* Registers the Graph route tables (served under /v1.0 and /beta), in the order the router
 * needs where two patterns could match one path. Called once at start. */
void graph_routes_register(void);

/* Registers the extension route tables: routes flagged ROUTE_EXT, served under /spoold/v1 (what
 * Graph does not define, design.md), with Graph's error envelope and the same bearer
 * authentication (graph_authenticate_tenant or graph_authorize). Tables that exist only in
 * development mode are registered only when dev is true; without it their paths answer 404. */
void graph_ext_routes_register(bool dev);

/* Route tables of the resource files. */
void graph_print_routes(void);
void graph_jobs_routes(void); /* jobs.c */
void graph_documents_routes(void); /* documents.c (also /upload/{id} and /download/{token}) */
void graph_shares_routes(void);        /* shares.c */
void graph_share_members_routes(void); /* share-members.c */
void graph_tasks_routes(void);     /* tasks.c: task definitions, tasks, triggers */
void graph_pullprint_routes(void); /* pullprint.c: abort, redirect, job PATCH */
void graph_printers_routes(void);   /* printers.c */
void graph_operations_routes(void); /* operations.c: printers/create, /print/operations */
void graph_pull_printers_routes(void); /* pull-printers.c: /print/pullPrintPrinters */
void graph_connectors_routes(void); /* connectors.c */
void graph_services_routes(void);   /* services.c */
void graph_reports_routes(void);    /* reports.c: /reports usage and archived jobs */
void graph_subscription_routes(void); /* subscriptions.c: /subscriptions */
void graph_metadata_routes(void); /* metadata.c: /$metadata; qualified operation names */
void graph_print_passwords_routes(void); /* print-passwords.c: /spoold/v1 print passwords */

#endif
