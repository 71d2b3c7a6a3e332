/* Registers every Graph route table (one per resource file) with the router. */
#ifndef SPOOLD_GRAPH_ROUTES_H
#define SPOOLD_GRAPH_ROUTES_H

void graph_routes_register(void);

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
void graph_connectors_routes(void); /* connectors.c */
void graph_services_routes(void);   /* services.c */
/* /subscriptions (notify/subscriptions.c). */
void notify_subscription_routes(void);

#endif
