/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The permission model of reference §3 and §4 as one data table.
 *
 * Every Graph operation the service answers has an id (perm_op_t) and one row in the table
 * (permissions.c): the delegated scopes (scp) and application roles (roles) it accepts, the
 * directory role a delegated caller must also hold, and flags for the extra rules that the
 * handler enforces once it has loaded the object (own jobs, the seed rule, app ownership...).
 * perm_check() is the single place that reads it. An operation that has no row is refused.
 *
 * Handler order: auth_verify -> auth_tenant_check -> perm_check -> find the object (404 for
 * other tenants) -> the flag rules below -> act. A refusal is 403 accessDenied with the message
 * perm_check wrote, which names a permission that would have been accepted.
 *
 * Pure data and pure functions: no I/O, no store, no HTTP.
 */
#ifndef SPOOLD_CORE_PERMISSIONS_H
#define SPOOLD_CORE_PERMISSIONS_H

#include <stdbool.h>
#include <stddef.h>

struct caller; /* core/caller.h */

typedef enum perm_op {
  OP_UNKNOWN = 0, /* never in the table: always refused */

  /* §4.8 the /print singleton and its settings */
  OP_PRINT_GET,                 /* GET /print */
  OP_PRINT_UPDATE,              /* PATCH /print */
  OP_SETTINGS_GET,              /* GET /print/settings [beta] */
  OP_SETTINGS_UPDATE,           /* PATCH /print/settings [beta] */

  /* §4.1 printers */
  OP_PRINTER_CREATE,            /* P1 POST /print/printers/create */
  OP_OPERATIONS_LIST,           /* GET /print/operations (CSDL) */
  OP_OPERATION_GET,             /* P2 GET /print/operations/{id} */
  OP_PRINTERS_LIST,             /* P3 GET /print/printers */
  OP_PRINTER_GET,               /* P4 GET /print/printers/{id}, /print/shares/{id}/printer */
  OP_PRINTER_UPDATE,            /* P5 PATCH /print/printers/{id} (JSON or application/ipp) */
  OP_PRINTER_DELETE,            /* P6 DELETE /print/printers/{id} */
  OP_PRINTER_RESTORE_DEFAULTS,  /* P7 POST /print/printers/{id}/restoreFactoryDefaults */
  OP_PRINTER_GET_CAPABILITIES,  /* P8 GET /print/printers/{id}/getCapabilities [beta] */
  OP_PRINTER_SHARES_LIST,       /* P9 GET /print/printers/{id}/shares[/{shareId}] */
  OP_PRINTER_CONNECTORS_LIST,   /* P10/C5 GET /print/printers/{id}/connectors */
  OP_TASK_TRIGGERS_LIST,        /* P11 GET /print/printers/{id}/taskTriggers */
  OP_TASK_TRIGGER_CREATE,       /* P12 POST /print/printers/{id}/taskTriggers */
  OP_TASK_TRIGGER_GET,          /* P13 GET .../taskTriggers/{id}[/definition] */
  OP_TASK_TRIGGER_DELETE,       /* P14 DELETE .../taskTriggers/{id} */
  OP_PRINTER_PULL_PRINTERS_LIST,/* P16/PP10 GET /print/printers/{id}/pullPrintPrinters */

  /* §4.2 printer shares */
  OP_SHARE_CREATE,              /* S1 POST /print/shares */
  OP_SHARES_LIST,               /* S2 GET /print/shares */
  OP_SHARE_GET,                 /* S3 GET /print/shares/{id} */
  OP_SHARE_UPDATE,              /* S4 PATCH /print/shares/{id} */
  OP_SHARE_DELETE,              /* S5 DELETE /print/shares/{id} */
  OP_SHARE_ALLOWED_USERS_LIST,  /* S6 GET .../allowedUsers */
  OP_SHARE_ALLOWED_USER_ADD,    /* S6 POST .../allowedUsers/$ref */
  OP_SHARE_ALLOWED_USER_REMOVE, /* S6 DELETE .../allowedUsers/{userId}/$ref */
  OP_SHARE_ALLOWED_GROUPS_LIST, /* S7 */
  OP_SHARE_ALLOWED_GROUP_ADD,   /* S7 */
  OP_SHARE_ALLOWED_GROUP_REMOVE,/* S7 */
  OP_SHARE_PULL_PRINTER_GET,    /* S9/PP11 GET /print/shares/{id}/pullPrintPrinter */

  /* §4.3, §4.4 jobs and documents reached through /print/printers/{printerId}/jobs */
  OP_PRINTER_JOB_CREATE,        /* J1 POST .../jobs */
  OP_PRINTER_JOBS_LIST,         /* J3 GET .../jobs */
  OP_PRINTER_JOB_GET,           /* J4 GET .../jobs/{id} */
  OP_PRINTER_JOB_UPDATE,        /* J5 PATCH .../jobs/{id} */
  OP_PRINTER_JOB_DELETE,        /* J11 DELETE .../jobs/{id} (CSDL only) */
  OP_PRINTER_JOB_START,         /* J6 POST .../jobs/{id}/start */
  OP_PRINTER_JOB_CANCEL,        /* J7 POST .../jobs/{id}/cancel */
  OP_PRINTER_JOB_ABORT,         /* J8 POST .../jobs/{id}/abort */
  OP_PRINTER_JOB_REDIRECT,      /* J9 POST .../jobs/{id}/redirect */
  OP_PRINTER_JOB_RELEASE,       /* J10 POST .../jobs/release (printer prefix only) */
  OP_PRINTER_JOB_TASKS_GET,     /* GET .../jobs/{id}/tasks[/{taskId}] (CSDL; $expand=tasks) */
  OP_PRINTER_JOB_DOCUMENT_GET,  /* D1 GET .../jobs/{id}/documents[/{docId}] */
  OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, /* D2 POST .../documents/{id}/createUploadSession */
  OP_PRINTER_JOB_DOCUMENT_DOWNLOAD,       /* D4 GET .../documents/{id}/$value */
  OP_PRINTER_JOB_DOCUMENT_UPLOAD_DATA,    /* D5 POST .../documents/{id}/uploadData [legacy] */

  /* the same through /print/shares/{shareId}/jobs */
  OP_SHARE_JOB_CREATE,          /* J2 */
  OP_SHARE_JOBS_LIST,
  OP_SHARE_JOB_GET,
  OP_SHARE_JOB_UPDATE,
  OP_SHARE_JOB_DELETE,
  OP_SHARE_JOB_START,
  OP_SHARE_JOB_CANCEL,
  OP_SHARE_JOB_ABORT,
  OP_SHARE_JOB_REDIRECT,
  OP_SHARE_JOB_TASKS_GET,
  OP_SHARE_JOB_DOCUMENT_GET,
  OP_SHARE_JOB_DOCUMENT_UPLOAD_SESSION,
  OP_SHARE_JOB_DOCUMENT_DOWNLOAD,
  OP_SHARE_JOB_DOCUMENT_UPLOAD_DATA,

  /* §4.5 task definitions and tasks */
  OP_TASK_DEFINITION_CREATE,    /* T1 */
  OP_TASK_DEFINITIONS_LIST,     /* T2 */
  OP_TASK_DEFINITION_GET,       /* T3 */
  OP_TASK_DEFINITION_UPDATE,    /* T4 */
  OP_TASK_DEFINITION_DELETE,    /* T5 */
  OP_TASKS_LIST,                /* T6 */
  OP_TASK_GET,                  /* T7 (and .../tasks/{id}/definition|trigger) */
  OP_TASK_UPDATE,               /* T8 */

  /* §4.6 connectors */
  OP_CONNECTORS_LIST,           /* C1 */
  OP_CONNECTOR_GET,             /* C2 */
  OP_CONNECTOR_UPDATE,          /* C3 */
  OP_CONNECTOR_DELETE,          /* C4 */

  /* §4.7 services and endpoints */
  OP_SERVICES_LIST,             /* V1 */
  OP_SERVICE_GET,               /* V2 */
  OP_SERVICE_ENDPOINTS_LIST,    /* V3 */
  OP_SERVICE_ENDPOINT_GET,      /* V4 */

  /* §4.9 reports (each op covers its list, /{id} and /$count) */
  OP_REPORT_DAILY_BY_PRINTER,   /* R1, R2 */
  OP_REPORT_MONTHLY_BY_PRINTER, /* R3 */
  OP_REPORT_DAILY_BY_USER,      /* R4 */
  OP_REPORT_MONTHLY_BY_USER,    /* R5 */
  OP_REPORT_ARCHIVED_BY_PRINTER,/* R6 */
  OP_REPORT_ARCHIVED_BY_USER,   /* R7 */
  OP_REPORT_ARCHIVED_BY_GROUP,  /* R8 */

  /* §4.10 pull-print printers */
  OP_PULL_PRINTERS_LIST,        /* PP1 */
  OP_PULL_PRINTER_CREATE,       /* PP2 */
  OP_PULL_PRINTER_GET,          /* PP3 (also /print/operations/{id}/pullPrintPrinter) */
  OP_PULL_PRINTER_UPDATE,       /* PP4 */
  OP_PULL_PRINTER_DELETE,       /* PP5 */
  OP_PULL_PRINTER_MEMBER_ADD,   /* PP6 */
  OP_PULL_PRINTER_MEMBER_REMOVE,/* PP7 */
  OP_PULL_PRINTER_RESTORE_DEFAULTS,   /* PP8 */
  OP_PULL_PRINTER_MEMBER_SUGGESTIONS, /* PP9 */

  /* §4.11 userPrint [beta] */
  OP_USER_RECENT_SHARES,        /* GET /me/print/recentPrinterShares */

  /* §7 change-notification subscriptions on print resources (application only) */
  OP_SUBSCRIPTION_CREATE_TASKS,        /* resource print/taskDefinitions/{id}/tasks */
  OP_SUBSCRIPTION_CREATE_PRINTER_JOBS, /* resource print/printers/{id}/jobs (JobFetchable) */
  OP_SUBSCRIPTIONS_LIST,
  OP_SUBSCRIPTION_GET,
  OP_SUBSCRIPTION_UPDATE,       /* renew */
  OP_SUBSCRIPTION_DELETE,
  /* /spoold/v1 extensions: print passwords for desktop printing over IPP (HTTP Basic) */
  OP_ME_PRINT_PASSWORDS,        /* GET/POST /spoold/v1/me/printPasswords, DELETE .../{id} */
  OP_USER_PRINT_PASSWORDS,      /* GET /spoold/v1/users/{id}/printPasswords, DELETE .../{id} */

  OP__COUNT
} perm_op_t;

/* Directory role a delegated caller must hold in addition to a scope. */
typedef enum perm_admin {
  PERM_ADMIN_NONE = 0,
  PERM_ADMIN_PRINTER,  /* Printer Administrator or Global Administrator */
  PERM_ADMIN_REPORTS,  /* Printer Administrator, Global Administrator or Reports Reader */
} perm_admin_t;

/* Extra rules of a row. perm_check enforces the PERM_*_NEEDS_* ones; the handler enforces the
 * others once it has the object. */
enum {
  PERM_JOBS = 1u << 0,            /* job operation: a delegated caller acts on its own jobs only
                                     unless decision.all_jobs (a .All scope plus an admin role) */
  PERM_SEED_RULE = 1u << 1,       /* app callers: the job must have a processing printTask created
                                     by a trigger the calling app created (§5.3) */
  PERM_APP_NEEDS_PRINTER_READ = 1u << 2, /* app job operations also need Printer.Read.All or
                                            Printer.ReadWrite.All (checked here) */
  PERM_DLG_NEEDS_PRINTER_READ = 1u << 3, /* delegated: also a Get-printer scope (checked here) */
  PERM_DLG_NEEDS_SHARE_READ = 1u << 4,   /* delegated: also a Get-printerShare scope (here) */
  PERM_DLG_NEEDS_USER_READ = 1u << 5,    /* delegated: also a directory scope to list users */
  PERM_DLG_NEEDS_GROUP_READ = 1u << 6,   /* delegated: also a directory scope to list groups */
  PERM_APP_OWNED = 1u << 7,       /* only objects the calling app created (task definitions and
                                     their tasks, subscriptions): others are 404 */
  PERM_APP_REGISTRAR = 1u << 8,   /* app callers: only the app that registered the printer, and
                                     only printers with hasPhysicalDevice false */
  PERM_SAME_APP_AS_DEFINITION = 1u << 9, /* the token's appid must equal the appId that created
                                            the bound task definition */
  PERM_REDUCED_FOR_NON_ADMIN = 1u << 10, /* non-admin callers get the reduced property set */
  PERM_RESOURCE_CHECK = 1u << 11, /* subscriptions: also perm_check the create op of the
                                     subscription's resource */
};

typedef struct perm_rule {
  perm_op_t          op;
  const char        *name;      /* log/metrics label, e.g. "printers.jobs.abort" */
  const char        *action;    /* for messages, e.g. "abort a job" */
  const char *const *delegated; /* accepted scopes, NULL-terminated; empty = not supported */
  const char *const *app;       /* accepted roles, NULL-terminated; empty = not supported */
  perm_admin_t       admin;     /* required of delegated callers */
  unsigned           flags;
} perm_rule_t;

/* A permission the table knows. */
enum { PERM_KIND_DELEGATED = 1u << 0, PERM_KIND_APP = 1u << 1 };
typedef struct perm_permission {
  const char *name;
  unsigned    kinds;     /* PERM_KIND_* where the permission exists */
  bool        all_users; /* a job permission that reaches every user's jobs (".All") */
  bool        basic;     /* job metadata only, no document metadata or content */
  bool        print;     /* a Universal Print permission (false: directory permissions used by
                            PERM_DLG_NEEDS_USER_READ / _GROUP_READ) */
} perm_permission_t;

typedef struct perm_decision {
  bool        allowed;
  int         status;     /* 0 when allowed, else 403 */
  bool        all_jobs;   /* PERM_JOBS: may see and act on every user's jobs; false = own only */
  bool        documents;  /* PERM_JOBS: holds a non-Basic permission covering those jobs, so
                             document metadata ($expand=documents) may be shown */
  bool        admin;      /* delegated caller with the Printer or Global Administrator role */
  bool        seed_rule;  /* the handler must enforce the seed rule (app caller, PERM_SEED_RULE) */
  const char *granted;    /* the held permission that matched (static); NULL when refused */
  unsigned    flags;      /* the row's PERM_* flags */
} perm_decision_t;

/* Decides whether caller may run op. Fills *d (always) and, when refused, why with a message
 * for the 403 body, e.g. "Missing permission: this operation needs the application permission
 * PrintJob.ReadWriteBasic.All, PrintJob.Manage.All or PrintJob.ReadWrite.All", "delegated tokens
 * cannot call this operation; only application permissions may abort a job", "this operation
 * requires the Printer Administrator or Global Administrator role". Unknown ops are refused.
 * The tenant's subscription is checked separately (auth_tenant_check). */
bool perm_check(perm_op_t op, const struct caller *caller, perm_decision_t *d, char *why,
                size_t whylen);

/* The row of op, or NULL when op has none. */
const perm_rule_t *perm_rule(perm_op_t op);
/* The row's name ("printers.jobs.abort"), or "unknown". */
const char *perm_op_name(perm_op_t op);
/* The share-prefix twin of a printer-prefix job op (OP_PRINTER_JOB_ABORT -> OP_SHARE_JOB_ABORT),
 * so one handler can serve both paths; OP_UNKNOWN when there is none (release). Other ops come
 * back unchanged. */
perm_op_t perm_op_via_share(perm_op_t printer_op);

/* The permissions the table knows (for `spoold token` warnings); *n receives the count. */
const perm_permission_t *perm_permissions(size_t *n);
/* The known permission called name (case-insensitive), or NULL. */
const perm_permission_t *perm_permission_find(const char *name);

#endif
