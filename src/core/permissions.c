/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The permission table (reference §3 and §4) and perm_check(), its only reader.
 *
 * Lists are "least privileged first" as the reference gives them. Where the reference records
 * that documentation pages disagree, the choice is noted on the row.
 */
#include "core/permissions.h"
#include "core/caller.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE   ((const char *const[]){NULL})

/* ---- the permissions that exist ------------------------------------------------------------ */

#define D PERM_KIND_DELEGATED
#define A PERM_KIND_APP

static const perm_permission_t PERMISSIONS[] = {
  /* name                               kinds  all    basic  print */
  {"Printer.Create",                    D,     false, false, true},
  {"Printer.Read.All",                  D | A, false, false, true},
  {"Printer.ReadWrite.All",             D | A, false, false, true},
  {"Printer.FullControl.All",           D,     false, false, true},
  {"PrinterShare.ReadBasic.All",        D,     false, false, true},
  {"PrinterShare.Read.All",             D,     false, false, true},
  {"PrinterShare.ReadWrite.All",        D,     false, false, true},
  {"PrintJob.Create",                   D,     false, true,  true},
  {"PrintJob.ReadBasic",                D,     false, true,  true},
  {"PrintJob.Read",                     D,     false, false, true},
  {"PrintJob.ReadWriteBasic",           D,     false, true,  true},
  {"PrintJob.ReadWrite",                D,     false, false, true},
  {"PrintJob.ReadBasic.All",            D | A, true,  true,  true},
  {"PrintJob.Read.All",                 D | A, true,  false, true},
  {"PrintJob.ReadWriteBasic.All",       D | A, true,  true,  true},
  {"PrintJob.ReadWrite.All",            D | A, true,  false, true},
  {"PrintJob.Manage.All",               A,     true,  true,  true},
  {"PrintTaskDefinition.ReadWrite.All", A,     false, false, true},
  {"PrintConnector.Read.All",           D,     false, false, true},
  {"PrintConnector.ReadWrite.All",      D,     false, false, true},
  {"PrintSettings.Read.All",            D,     false, false, true},
  {"PrintSettings.ReadWrite.All",       D,     false, false, true},
  {"Reports.Read.All",                  D,     false, false, true},
  {"PullPrintPrinter.Read.All",         D | A, false, false, true},
  {"PullPrintPrinter.ReadWrite.All",    D,     false, false, true},
  {"PullPrintPrinter.FullControl.All",  D,     false, false, true},
  /* directory permissions needed to list a share's allowed users and groups */
  {"User.ReadBasic.All",                D,     false, false, false},
  {"User.Read.All",                     D,     false, false, false},
  {"User.ReadWrite.All",                D,     false, false, false},
  {"GroupMember.Read.All",              D,     false, false, false},
  {"Group.Read.All",                    D,     false, false, false},
  {"Group.ReadWrite.All",               D,     false, false, false},
  {"Directory.Read.All",                D,     false, false, false},
  {"Directory.ReadWrite.All",           D,     false, false, false},
};

#undef D
#undef A

/* ---- permission lists used by several rows ------------------------------------------------- */

/* printers */
#define PRN_READ_D   L("Printer.Read.All", "Printer.ReadWrite.All", "Printer.FullControl.All")
#define PRN_RW_D     L("Printer.ReadWrite.All", "Printer.FullControl.All")
#define PRN_FC_D     L("Printer.FullControl.All")
#define PRN_CREATE_D L("Printer.Create", "Printer.ReadWrite.All", "Printer.FullControl.All")
#define PRN_READ_A   L("Printer.Read.All", "Printer.ReadWrite.All")
#define PRN_RW_A     L("Printer.ReadWrite.All")
/* shares */
#define SHR_BASIC_D  L("PrinterShare.ReadBasic.All", "PrinterShare.Read.All", \
                       "PrinterShare.ReadWrite.All")
#define SHR_READ_D   L("PrinterShare.Read.All", "PrinterShare.ReadWrite.All")
#define SHR_RW_D     L("PrinterShare.ReadWrite.All")
/* jobs */
#define JOB_READ_D   L("PrintJob.ReadBasic", "PrintJob.ReadWriteBasic", "PrintJob.Read", \
                       "PrintJob.Read.All", "PrintJob.ReadBasic.All", "PrintJob.ReadWrite", \
                       "PrintJob.ReadWrite.All", "PrintJob.ReadWriteBasic.All")
#define JOB_READ_A   L("PrintJob.ReadBasic.All", "PrintJob.Read.All", "PrintJob.ReadWrite.All", \
                       "PrintJob.ReadWriteBasic.All")
#define JOB_CREATE_PRN_D L("PrintJob.Create", "PrintJob.ReadWriteBasic", "PrintJob.ReadWrite", \
                           "PrintJob.ReadWriteBasic.All", "PrintJob.ReadWrite.All")
/* J2: the permission mapping does not list PrintJob.Create for share jobs (reference J2) */
#define JOB_CREATE_SHR_D L("PrintJob.ReadWriteBasic", "PrintJob.ReadWrite", \
                           "PrintJob.ReadWriteBasic.All", "PrintJob.ReadWrite.All")
#define JOB_UPDATE_A L("PrintJob.ReadWriteBasic.All", "PrintJob.ReadWrite.All", \
                       "PrintJob.Manage.All")
#define JOB_START_D  L("PrintJob.Create", "PrintJob.ReadWriteBasic", "PrintJob.ReadWrite", \
                       "PrintJob.ReadWriteBasic.All", "PrintJob.ReadWrite.All")
#define JOB_CANCEL_D L("PrintJob.ReadWriteBasic", "PrintJob.ReadWrite", \
                       "PrintJob.ReadWriteBasic.All", "PrintJob.ReadWrite.All")
#define JOB_ABORT_A  L("PrintJob.ReadWriteBasic.All", "PrintJob.Manage.All", \
                       "PrintJob.ReadWrite.All")
/* J9: the newest generated table names PrintJob.Manage.All only (older pages also listed
 * PrintJob.ReadWriteBasic.All and PrintJob.ReadWrite.All) */
#define JOB_REDIRECT_A L("PrintJob.Manage.All")
#define JOB_RELEASE_D L("PrintJob.ReadWriteBasic", "PrintJob.ReadWrite", "PrintJob.ReadWrite.All", \
                        "PrintJob.ReadWriteBasic.All")
/* documents: Basic scopes never reach document metadata or content */
#define DOC_READ_D   L("PrintJob.Read", "PrintJob.Read.All", "PrintJob.ReadWrite", \
                       "PrintJob.ReadWrite.All")
#define DOC_READ_A   L("PrintJob.Read.All", "PrintJob.ReadWrite.All")
#define DOC_UPLOAD_D L("PrintJob.Create", "PrintJob.ReadWrite", "PrintJob.ReadWrite.All")
#define DOC_UPLOAD_A L("PrintJob.ReadWrite.All")
/* everything else */
#define TASKDEF_A    L("PrintTaskDefinition.ReadWrite.All")
#define CONN_READ_D  L("PrintConnector.Read.All", "PrintConnector.ReadWrite.All")
#define CONN_RW_D    L("PrintConnector.ReadWrite.All")
#define SET_READ_D   L("PrintSettings.Read.All", "PrintSettings.ReadWrite.All")
#define SET_RW_D     L("PrintSettings.ReadWrite.All")
#define REPORTS_D    L("Reports.Read.All")
#define PPP_READ_D   L("PullPrintPrinter.Read.All", "PullPrintPrinter.ReadWrite.All", \
                       "PullPrintPrinter.FullControl.All")
#define PPP_RW_D     L("PullPrintPrinter.ReadWrite.All", "PullPrintPrinter.FullControl.All")
#define PPP_FC_D     L("PullPrintPrinter.FullControl.All")
#define PPP_READ_A   L("PullPrintPrinter.Read.All")
#define SUBS_A       L("PrintTaskDefinition.ReadWrite.All", "Printer.Read.All", \
                       "Printer.ReadWrite.All")
/* §4.7: "any Universal Print delegated permission" */
#define ANY_PRINT_D  L("PrinterShare.ReadBasic.All", "PrintJob.Create", "Printer.Read.All", \
                       "Printer.Create", "Printer.ReadWrite.All", "Printer.FullControl.All", \
                       "PrinterShare.Read.All", "PrinterShare.ReadWrite.All", \
                       "PrintJob.ReadBasic", "PrintJob.Read", "PrintJob.ReadWriteBasic", \
                       "PrintJob.ReadWrite", "PrintJob.ReadBasic.All", "PrintJob.Read.All", \
                       "PrintJob.ReadWriteBasic.All", "PrintJob.ReadWrite.All", \
                       "PrintConnector.Read.All", "PrintConnector.ReadWrite.All", \
                       "PrintSettings.Read.All", "PrintSettings.ReadWrite.All", \
                       "Reports.Read.All", "PullPrintPrinter.Read.All", \
                       "PullPrintPrinter.ReadWrite.All", "PullPrintPrinter.FullControl.All")

/* Lists behind the PERM_*_NEEDS_* flags. */
static const char *const NEED_PRINTER_READ_D[] = {"Printer.Read.All", "Printer.ReadWrite.All",
                                                  "Printer.FullControl.All", NULL};
static const char *const NEED_PRINTER_READ_A[] = {"Printer.Read.All", "Printer.ReadWrite.All",
                                                  NULL};
static const char *const NEED_SHARE_READ_D[] = {"PrinterShare.ReadBasic.All",
                                                "PrinterShare.Read.All",
                                                "PrinterShare.ReadWrite.All", NULL};
static const char *const NEED_USER_READ_D[] = {"User.ReadBasic.All", "User.Read.All",
                                               "User.ReadWrite.All", "Directory.Read.All",
                                               "Directory.ReadWrite.All", NULL};
static const char *const NEED_GROUP_READ_D[] = {"GroupMember.Read.All", "Group.Read.All",
                                                "Group.ReadWrite.All", "Directory.Read.All",
                                                "Directory.ReadWrite.All", NULL};

/* ---- the table ----------------------------------------------------------------------------- */

#define ADM PERM_ADMIN_PRINTER
#define NOADM PERM_ADMIN_NONE
/* jobs through a printer / a share: delegated callers also need to be able to get the printer
 * (share); app callers always go through the printer rule */
#define JP (PERM_JOBS | PERM_DLG_NEEDS_PRINTER_READ)
#define JS (PERM_JOBS | PERM_DLG_NEEDS_SHARE_READ)
#define APR PERM_APP_NEEDS_PRINTER_READ

#define ROW(op, name, action, dlg, app, admin, flags) \
  [op] = {op, name, action, dlg, app, admin, flags}

static const perm_rule_t RULES[OP__COUNT] = {
  /* §4.8 settings: GET/PATCH /print carry the same settings as the beta /print/settings */
  ROW(OP_PRINT_GET, "print.get", "read the print settings", SET_READ_D, NONE, ADM, 0),
  ROW(OP_PRINT_UPDATE, "print.update", "update the print settings", SET_RW_D, NONE, ADM, 0),
  ROW(OP_SETTINGS_GET, "settings.get", "read the print settings", SET_READ_D, NONE, ADM, 0),
  ROW(OP_SETTINGS_UPDATE, "settings.update", "update the print settings", SET_RW_D, NONE, ADM, 0),

  /* §4.1 printers */
  ROW(OP_PRINTER_CREATE, "printers.create", "register a printer", PRN_CREATE_D, NONE, ADM, 0),
  ROW(OP_OPERATIONS_LIST, "operations.list", "list printer operations", PRN_CREATE_D, NONE, ADM, 0),
  ROW(OP_OPERATION_GET, "operations.get", "read a printer operation", PRN_CREATE_D, NONE, ADM, 0),
  ROW(OP_PRINTERS_LIST, "printers.list", "list printers", PRN_READ_D, NONE, ADM, 0),
  ROW(OP_PRINTER_GET, "printers.get", "read a printer", PRN_READ_D, PRN_READ_A, NOADM, 0),
  ROW(OP_PRINTER_UPDATE, "printers.update", "update a printer", PRN_RW_D, PRN_RW_A, ADM,
      PERM_APP_REGISTRAR),
  ROW(OP_PRINTER_DELETE, "printers.delete", "unregister a printer", PRN_FC_D, NONE, ADM, 0),
  ROW(OP_PRINTER_RESTORE_DEFAULTS, "printers.restoreFactoryDefaults",
      "restore a printer's factory defaults", PRN_RW_D, NONE, ADM, 0),
  ROW(OP_PRINTER_GET_CAPABILITIES, "printers.getCapabilities", "read a printer's capabilities",
      PRN_READ_D, NONE, NOADM, 0),
  ROW(OP_PRINTER_SHARES_LIST, "printers.shares.list", "list a printer's shares", SHR_BASIC_D,
      NONE, NOADM, 0),
  ROW(OP_PRINTER_CONNECTORS_LIST, "printers.connectors.list", "list a printer's connectors",
      CONN_READ_D, NONE, ADM, PERM_DLG_NEEDS_PRINTER_READ),
  ROW(OP_TASK_TRIGGERS_LIST, "printers.taskTriggers.list", "list a printer's task triggers",
      PRN_READ_D, NONE, ADM, 0),
  ROW(OP_TASK_TRIGGER_CREATE, "printers.taskTriggers.create", "create a task trigger",
      PRN_RW_D, NONE, ADM, PERM_SAME_APP_AS_DEFINITION),
  ROW(OP_TASK_TRIGGER_GET, "printers.taskTriggers.get", "read a task trigger", PRN_READ_D, NONE,
      ADM, 0),
  ROW(OP_TASK_TRIGGER_DELETE, "printers.taskTriggers.delete", "delete a task trigger", PRN_RW_D,
      NONE, ADM, 0),
  ROW(OP_PRINTER_PULL_PRINTERS_LIST, "printers.pullPrintPrinters.list",
      "list the pull-print printers of a printer", PPP_FC_D, NONE, ADM, 0),

  /* §4.2 shares: reads are open to users (non-admins get fewer properties), changes are
   * admin operations */
  ROW(OP_SHARE_CREATE, "shares.create", "share a printer", SHR_RW_D, NONE, ADM, 0),
  ROW(OP_SHARES_LIST, "shares.list", "list printer shares", SHR_BASIC_D, NONE, NOADM,
      PERM_REDUCED_FOR_NON_ADMIN),
  ROW(OP_SHARE_GET, "shares.get", "read a printer share", SHR_BASIC_D, NONE, NOADM, 0),
  ROW(OP_SHARE_UPDATE, "shares.update", "update a printer share", SHR_RW_D, NONE, ADM, 0),
  ROW(OP_SHARE_DELETE, "shares.delete", "delete a printer share", SHR_RW_D, NONE, ADM, 0),
  ROW(OP_SHARE_ALLOWED_USERS_LIST, "shares.allowedUsers.list", "list a share's allowed users",
      SHR_READ_D, NONE, ADM, PERM_DLG_NEEDS_USER_READ),
  ROW(OP_SHARE_ALLOWED_USER_ADD, "shares.allowedUsers.add", "allow a user to use a share",
      SHR_RW_D, NONE, ADM, 0),
  ROW(OP_SHARE_ALLOWED_USER_REMOVE, "shares.allowedUsers.remove",
      "remove a user from a share", SHR_RW_D, NONE, ADM, 0),
  ROW(OP_SHARE_ALLOWED_GROUPS_LIST, "shares.allowedGroups.list",
      "list a share's allowed groups", SHR_READ_D, NONE, ADM, PERM_DLG_NEEDS_GROUP_READ),
  ROW(OP_SHARE_ALLOWED_GROUP_ADD, "shares.allowedGroups.add", "allow a group to use a share",
      SHR_RW_D, NONE, ADM, 0),
  ROW(OP_SHARE_ALLOWED_GROUP_REMOVE, "shares.allowedGroups.remove",
      "remove a group from a share", SHR_RW_D, NONE, ADM, 0),
  ROW(OP_SHARE_PULL_PRINTER_GET, "shares.pullPrintPrinter.get",
      "read a share's pull-print printer", PPP_READ_D, NONE, ADM, PERM_DLG_NEEDS_SHARE_READ),

  /* §4.3/4.4 jobs through a printer */
  ROW(OP_PRINTER_JOB_CREATE, "printers.jobs.create", "create a print job", JOB_CREATE_PRN_D,
      NONE, NOADM, JP),
  ROW(OP_PRINTER_JOBS_LIST, "printers.jobs.list", "list print jobs", JOB_READ_D, JOB_READ_A,
      NOADM, JP | APR),
  ROW(OP_PRINTER_JOB_GET, "printers.jobs.get", "read a print job", JOB_READ_D, JOB_READ_A,
      NOADM, JP | APR),
  ROW(OP_PRINTER_JOB_UPDATE, "printers.jobs.update", "update a job", NONE, JOB_UPDATE_A, NOADM,
      JP | APR | PERM_SEED_RULE),
  /* J11: no documented semantics; treated like cancel */
  ROW(OP_PRINTER_JOB_DELETE, "printers.jobs.delete", "delete a print job", JOB_CANCEL_D, NONE,
      NOADM, JP),
  ROW(OP_PRINTER_JOB_START, "printers.jobs.start", "start a print job", JOB_START_D, NONE,
      NOADM, JP),
  ROW(OP_PRINTER_JOB_CANCEL, "printers.jobs.cancel", "cancel a print job", JOB_CANCEL_D, NONE,
      NOADM, JP),
  ROW(OP_PRINTER_JOB_ABORT, "printers.jobs.abort", "abort a job", NONE, JOB_ABORT_A, NOADM,
      JP | APR | PERM_SEED_RULE),
  ROW(OP_PRINTER_JOB_REDIRECT, "printers.jobs.redirect", "redirect a job", NONE,
      JOB_REDIRECT_A, NOADM, JP | APR | PERM_SEED_RULE),
  ROW(OP_PRINTER_JOB_RELEASE, "printers.jobs.release", "release a held job", JOB_RELEASE_D,
      NONE, NOADM, JP),
  ROW(OP_PRINTER_JOB_TASKS_GET, "printers.jobs.tasks.get", "read a job's tasks", JOB_READ_D,
      JOB_READ_A, NOADM, JP | APR),
  ROW(OP_PRINTER_JOB_DOCUMENT_GET, "printers.jobs.documents.get", "read a job's documents",
      DOC_READ_D, DOC_READ_A, NOADM, JP | APR),
  /* D2: app tokens only through the printer prefix and only under the seed rule */
  ROW(OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, "printers.jobs.documents.createUploadSession",
      "create an upload session", DOC_UPLOAD_D, DOC_UPLOAD_A, NOADM, JP | APR | PERM_SEED_RULE),
  ROW(OP_PRINTER_JOB_DOCUMENT_DOWNLOAD, "printers.jobs.documents.download",
      "download a document", DOC_READ_D, DOC_READ_A, NOADM, JP | APR),
  ROW(OP_PRINTER_JOB_DOCUMENT_UPLOAD_DATA, "printers.jobs.documents.uploadData",
      "upload document data", DOC_UPLOAD_D, NONE, NOADM, JP),

  /* the same through a share */
  ROW(OP_SHARE_JOB_CREATE, "shares.jobs.create", "create a print job", JOB_CREATE_SHR_D, NONE,
      NOADM, JS),
  ROW(OP_SHARE_JOBS_LIST, "shares.jobs.list", "list print jobs", JOB_READ_D, JOB_READ_A, NOADM,
      JS | APR),
  ROW(OP_SHARE_JOB_GET, "shares.jobs.get", "read a print job", JOB_READ_D, JOB_READ_A, NOADM,
      JS | APR),
  ROW(OP_SHARE_JOB_UPDATE, "shares.jobs.update", "update a job", NONE, JOB_UPDATE_A, NOADM,
      JS | APR | PERM_SEED_RULE),
  ROW(OP_SHARE_JOB_DELETE, "shares.jobs.delete", "delete a print job", JOB_CANCEL_D, NONE,
      NOADM, JS),
  ROW(OP_SHARE_JOB_START, "shares.jobs.start", "start a print job", JOB_START_D, NONE, NOADM,
      JS),
  ROW(OP_SHARE_JOB_CANCEL, "shares.jobs.cancel", "cancel a print job", JOB_CANCEL_D, NONE,
      NOADM, JS),
  ROW(OP_SHARE_JOB_ABORT, "shares.jobs.abort", "abort a job", NONE, JOB_ABORT_A, NOADM,
      JS | APR | PERM_SEED_RULE),
  ROW(OP_SHARE_JOB_REDIRECT, "shares.jobs.redirect", "redirect a job", NONE, JOB_REDIRECT_A,
      NOADM, JS | APR | PERM_SEED_RULE),
  ROW(OP_SHARE_JOB_TASKS_GET, "shares.jobs.tasks.get", "read a job's tasks", JOB_READ_D,
      JOB_READ_A, NOADM, JS | APR),
  ROW(OP_SHARE_JOB_DOCUMENT_GET, "shares.jobs.documents.get", "read a job's documents",
      DOC_READ_D, DOC_READ_A, NOADM, JS | APR),
  ROW(OP_SHARE_JOB_DOCUMENT_UPLOAD_SESSION, "shares.jobs.documents.createUploadSession",
      "create an upload session", DOC_UPLOAD_D, NONE, NOADM, JS),
  ROW(OP_SHARE_JOB_DOCUMENT_DOWNLOAD, "shares.jobs.documents.download", "download a document",
      DOC_READ_D, DOC_READ_A, NOADM, JS | APR),
  ROW(OP_SHARE_JOB_DOCUMENT_UPLOAD_DATA, "shares.jobs.documents.uploadData",
      "upload document data", DOC_UPLOAD_D, NONE, NOADM, JS),

  /* §4.5 task definitions and tasks: application only, each app sees its own */
  ROW(OP_TASK_DEFINITION_CREATE, "taskDefinitions.create", "create a task definition", NONE,
      TASKDEF_A, NOADM, PERM_APP_OWNED),
  ROW(OP_TASK_DEFINITIONS_LIST, "taskDefinitions.list", "list task definitions", NONE,
      TASKDEF_A, NOADM, PERM_APP_OWNED),
  ROW(OP_TASK_DEFINITION_GET, "taskDefinitions.get", "read a task definition", NONE, TASKDEF_A,
      NOADM, PERM_APP_OWNED),
  ROW(OP_TASK_DEFINITION_UPDATE, "taskDefinitions.update", "update a task definition", NONE,
      TASKDEF_A, NOADM, PERM_APP_OWNED),
  ROW(OP_TASK_DEFINITION_DELETE, "taskDefinitions.delete", "delete a task definition", NONE,
      TASKDEF_A, NOADM, PERM_APP_OWNED),
  ROW(OP_TASKS_LIST, "taskDefinitions.tasks.list", "list print tasks", NONE, TASKDEF_A, NOADM,
      PERM_APP_OWNED),
  ROW(OP_TASK_GET, "taskDefinitions.tasks.get", "read a print task", NONE, TASKDEF_A, NOADM,
      PERM_APP_OWNED),
  ROW(OP_TASK_UPDATE, "taskDefinitions.tasks.update", "update a print task", NONE, TASKDEF_A,
      NOADM, PERM_APP_OWNED),

  /* §4.6 connectors */
  ROW(OP_CONNECTORS_LIST, "connectors.list", "list connectors", CONN_READ_D, NONE, ADM, 0),
  ROW(OP_CONNECTOR_GET, "connectors.get", "read a connector", CONN_READ_D, NONE, ADM, 0),
  ROW(OP_CONNECTOR_UPDATE, "connectors.update", "update a connector", CONN_RW_D, NONE, ADM, 0),
  ROW(OP_CONNECTOR_DELETE, "connectors.delete", "delete a connector", CONN_RW_D, NONE, ADM, 0),

  /* §4.7 services: any Universal Print delegated permission */
  ROW(OP_SERVICES_LIST, "services.list", "list print services", ANY_PRINT_D, NONE, NOADM, 0),
  ROW(OP_SERVICE_GET, "services.get", "read a print service", ANY_PRINT_D, NONE, NOADM, 0),
  ROW(OP_SERVICE_ENDPOINTS_LIST, "services.endpoints.list", "list print service endpoints",
      ANY_PRINT_D, NONE, NOADM, 0),
  ROW(OP_SERVICE_ENDPOINT_GET, "services.endpoints.get", "read a print service endpoint",
      ANY_PRINT_D, NONE, NOADM, 0),

  /* §4.9 reports: the v1 pages list application permissions as not supported */
  ROW(OP_REPORT_DAILY_BY_PRINTER, "reports.dailyPrintUsageByPrinter", "read print usage reports",
      REPORTS_D, NONE, PERM_ADMIN_REPORTS, 0),
  ROW(OP_REPORT_MONTHLY_BY_PRINTER, "reports.monthlyPrintUsageByPrinter",
      "read print usage reports", REPORTS_D, NONE, PERM_ADMIN_REPORTS, 0),
  ROW(OP_REPORT_DAILY_BY_USER, "reports.dailyPrintUsageByUser", "read print usage reports",
      REPORTS_D, NONE, PERM_ADMIN_REPORTS, 0),
  ROW(OP_REPORT_MONTHLY_BY_USER, "reports.monthlyPrintUsageByUser", "read print usage reports",
      REPORTS_D, NONE, PERM_ADMIN_REPORTS, 0),
  ROW(OP_REPORT_ARCHIVED_BY_PRINTER, "reports.getPrinterArchivedPrintJobs",
      "read archived print jobs", REPORTS_D, NONE, PERM_ADMIN_REPORTS, 0),
  ROW(OP_REPORT_ARCHIVED_BY_USER, "reports.getUserArchivedPrintJobs", "read archived print jobs",
      REPORTS_D, NONE, PERM_ADMIN_REPORTS, 0),
  ROW(OP_REPORT_ARCHIVED_BY_GROUP, "reports.getGroupArchivedPrintJobs",
      "read archived print jobs", REPORTS_D, NONE, PERM_ADMIN_REPORTS, 0),

  /* §4.10 pull-print printers (PP9's permissions are not documented: the write family) */
  ROW(OP_PULL_PRINTERS_LIST, "pullPrintPrinters.list", "list pull-print printers", PPP_READ_D,
      PPP_READ_A, ADM, 0),
  ROW(OP_PULL_PRINTER_CREATE, "pullPrintPrinters.create", "create a pull-print printer",
      PPP_FC_D, NONE, ADM, 0),
  ROW(OP_PULL_PRINTER_GET, "pullPrintPrinters.get", "read a pull-print printer", PPP_READ_D,
      PPP_READ_A, ADM, 0),
  ROW(OP_PULL_PRINTER_UPDATE, "pullPrintPrinters.update", "update a pull-print printer",
      PPP_RW_D, NONE, ADM, 0),
  ROW(OP_PULL_PRINTER_DELETE, "pullPrintPrinters.delete", "delete a pull-print printer",
      PPP_FC_D, NONE, ADM, 0),
  ROW(OP_PULL_PRINTER_MEMBER_ADD, "pullPrintPrinters.printers.add",
      "add a printer to a pull-print printer", PPP_RW_D, NONE, ADM, 0),
  ROW(OP_PULL_PRINTER_MEMBER_REMOVE, "pullPrintPrinters.printers.remove",
      "remove a printer from a pull-print printer", PPP_RW_D, NONE, ADM, 0),
  ROW(OP_PULL_PRINTER_RESTORE_DEFAULTS, "pullPrintPrinters.restoreFactoryDefaults",
      "restore a pull-print printer's factory defaults", PPP_RW_D, NONE, ADM, 0),
  ROW(OP_PULL_PRINTER_MEMBER_SUGGESTIONS, "pullPrintPrinters.memberSuggestions",
      "list member suggestions of a pull-print printer", PPP_RW_D, NONE, ADM, 0),

  /* §4.11 */
  ROW(OP_USER_RECENT_SHARES, "me.print.recentPrinterShares", "list recently used shares",
      SHR_BASIC_D, NONE, NOADM, 0),

  /* §7 subscriptions: application only; create is checked per resource */
  ROW(OP_SUBSCRIPTION_CREATE_TASKS, "subscriptions.create.tasks",
      "subscribe to a task definition's tasks", NONE, TASKDEF_A, NOADM, PERM_APP_OWNED),
  ROW(OP_SUBSCRIPTION_CREATE_PRINTER_JOBS, "subscriptions.create.printerJobs",
      "subscribe to a printer's jobs", NONE, PRN_READ_A, NOADM, 0),
  ROW(OP_SUBSCRIPTIONS_LIST, "subscriptions.list", "list print subscriptions", NONE, SUBS_A,
      NOADM, PERM_APP_OWNED),
  ROW(OP_SUBSCRIPTION_GET, "subscriptions.get", "read a print subscription", NONE, SUBS_A, NOADM,
      PERM_APP_OWNED),
  ROW(OP_SUBSCRIPTION_UPDATE, "subscriptions.update", "renew a print subscription", NONE,
      SUBS_A, NOADM, PERM_APP_OWNED | PERM_RESOURCE_CHECK),
  ROW(OP_SUBSCRIPTION_DELETE, "subscriptions.delete", "delete a print subscription", NONE,
      SUBS_A, NOADM, PERM_APP_OWNED | PERM_RESOURCE_CHECK),

  /* /spoold/v1 print passwords: a user's own (whoever may print through a share), and any
   * user's for a Printer/Global Administrator (who already manages who may print) */
  ROW(OP_ME_PRINT_PASSWORDS, "me.printPasswords", "manage your print passwords",
      JOB_CREATE_SHR_D, NONE, NOADM, 0),
  ROW(OP_USER_PRINT_PASSWORDS, "users.printPasswords", "manage users' print passwords",
      SHR_RW_D, NONE, ADM, 0),
};

/* Printer-prefix job ops and their share-prefix twins. */
static const struct { perm_op_t printer, share; } VIA_SHARE[] = {
  {OP_PRINTER_JOB_CREATE, OP_SHARE_JOB_CREATE},
  {OP_PRINTER_JOBS_LIST, OP_SHARE_JOBS_LIST},
  {OP_PRINTER_JOB_GET, OP_SHARE_JOB_GET},
  {OP_PRINTER_JOB_UPDATE, OP_SHARE_JOB_UPDATE},
  {OP_PRINTER_JOB_DELETE, OP_SHARE_JOB_DELETE},
  {OP_PRINTER_JOB_START, OP_SHARE_JOB_START},
  {OP_PRINTER_JOB_CANCEL, OP_SHARE_JOB_CANCEL},
  {OP_PRINTER_JOB_ABORT, OP_SHARE_JOB_ABORT},
  {OP_PRINTER_JOB_REDIRECT, OP_SHARE_JOB_REDIRECT},
  {OP_PRINTER_JOB_RELEASE, OP_UNKNOWN},
  {OP_PRINTER_JOB_TASKS_GET, OP_SHARE_JOB_TASKS_GET},
  {OP_PRINTER_JOB_DOCUMENT_GET, OP_SHARE_JOB_DOCUMENT_GET},
  {OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, OP_SHARE_JOB_DOCUMENT_UPLOAD_SESSION},
  {OP_PRINTER_JOB_DOCUMENT_DOWNLOAD, OP_SHARE_JOB_DOCUMENT_DOWNLOAD},
  {OP_PRINTER_JOB_DOCUMENT_UPLOAD_DATA, OP_SHARE_JOB_DOCUMENT_UPLOAD_DATA},
};

/* ---- lookups ------------------------------------------------------------------------------- */

const perm_rule_t *perm_rule(perm_op_t op) {
  if ((int)op <= OP_UNKNOWN || (int)op >= OP__COUNT) return NULL;
  const perm_rule_t *r = &RULES[op];
  return r->name && r->op == op ? r : NULL;
}

const char *perm_op_name(perm_op_t op) {
  const perm_rule_t *r = perm_rule(op);
  return r ? r->name : "unknown";
}

perm_op_t perm_op_via_share(perm_op_t printer_op) {
  for (size_t i = 0; i < sizeof VIA_SHARE / sizeof VIA_SHARE[0]; i++)
    if (VIA_SHARE[i].printer == printer_op) return VIA_SHARE[i].share;
  return printer_op;
}

const perm_permission_t *perm_permissions(size_t *n) {
  *n = sizeof PERMISSIONS / sizeof PERMISSIONS[0];
  return PERMISSIONS;
}

const perm_permission_t *perm_permission_find(const char *name) {
  for (size_t i = 0; name && i < sizeof PERMISSIONS / sizeof PERMISSIONS[0]; i++)
    if (!strcasecmp(PERMISSIONS[i].name, name)) return &PERMISSIONS[i];
  return NULL;
}

/* ---- the decision -------------------------------------------------------------------------- */

static size_t count(const char *const *l) {
  size_t n = 0;
  while (l && l[n]) n++;
  return n;
}

/* The permissions of the caller's own kind (scp for delegated, roles for app). */
static bool holds(const caller_t *c, const char *perm) {
  char *const *l = c->kind == CALLER_DELEGATED ? c->scopes : c->roles;
  size_t n = c->kind == CALLER_DELEGATED ? c->nscopes : c->nroles;
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(l[i], perm)) return true;
  return false;
}

/* A directory role in wids (delegated callers only carry them meaningfully). */
static bool has_wid(const caller_t *c, const char *wid) {
  for (size_t i = 0; c->kind == CALLER_DELEGATED && i < c->nwids; i++)
    if (!strcasecmp(c->wids[i], wid)) return true;
  return false;
}

static const char *first_held(const caller_t *c, const char *const *l) {
  for (size_t i = 0; l && l[i]; i++)
    if (holds(c, l[i])) return l[i];
  return NULL;
}

/* Writes "A, B or C" (or, for long lists, "one of N ..., such as A, B or C"). */
static void name_list(char *out, size_t outlen, const char *const *l, const char *kind) {
  size_t n = count(l), shown = n > 8 ? 3 : n, o = 0;
  int w;
  if (n > 8) {
    w = snprintf(out, outlen, "any of %zu Universal Print %s permissions, such as ", n, kind);
  } else {
    w = snprintf(out, outlen, "the %s permission ", kind);
  }
  o = w > 0 ? (size_t)w : 0;
  for (size_t i = 0; i < shown && o < outlen; i++) {
    const char *sep = i == 0 ? "" : i + 1 == shown ? " or " : ", ";
    w = snprintf(out + o, outlen - o, "%s%s", sep, l[i]);
    o += w > 0 ? (size_t)w : 0;
  }
}

static bool refuse(perm_decision_t *d, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool refuse(perm_decision_t *d, char *why, size_t whylen, const char *fmt, ...) {
  d->allowed = false;
  d->status = 403;
  d->granted = NULL;
  d->all_jobs = d->documents = d->seed_rule = false;
  if (why && whylen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* Checks one PERM_*_NEEDS_* requirement; false (refused) when the caller holds none. */
static bool need(const caller_t *c, const char *const *l, const char *what, perm_decision_t *d,
                 char *why, size_t whylen) {
  if (first_held(c, l)) return true;
  char names[512];
  name_list(names, sizeof names, l, c->kind == CALLER_APP ? "application" : "delegated");
  refuse(d, why, whylen, "Missing permission: %s also need %s", what, names);
  return false;
}

bool perm_check(perm_op_t op, const caller_t *c, perm_decision_t *d, char *why, size_t whylen) {
  const perm_rule_t *r = perm_rule(op);
  memset(d, 0, sizeof *d);
  if (!r) return refuse(d, why, whylen, "operation %d is not in the permission table", (int)op);
  d->flags = r->flags;
  if (!c) return refuse(d, why, whylen, "no authenticated caller");
  if (c->kind == CALLER_DEVICE)
    return refuse(d, why, whylen, "device tokens cannot call this operation");

  bool app = c->kind == CALLER_APP;
  const char *const *accepted = app ? r->app : r->delegated;
  if (!count(accepted)) {
    if (app)
      return refuse(d, why, whylen, "application tokens cannot call this operation; only "
                    "delegated (user) permissions may %s", r->action);
    return refuse(d, why, whylen, "delegated tokens cannot call this operation; only "
                  "application permissions may %s", r->action);
  }
  const char *granted = first_held(c, accepted);
  if (!granted) {
    char names[512];
    name_list(names, sizeof names, accepted, app ? "application" : "delegated");
    return refuse(d, why, whylen, "Missing permission: this operation needs %s", names);
  }

  /* Extra permissions some operations need on top (reference §3.2). */
  if (app && (r->flags & PERM_APP_NEEDS_PRINTER_READ) &&
      !need(c, NEED_PRINTER_READ_A, "application job operations", d, why, whylen))
    return false;
  if (!app) {
    if ((r->flags & PERM_DLG_NEEDS_PRINTER_READ) &&
        !need(c, NEED_PRINTER_READ_D,
              (r->flags & PERM_JOBS) ? "jobs reached through a printer" : "operations on a printer",
              d, why, whylen))
      return false;
    if ((r->flags & PERM_DLG_NEEDS_SHARE_READ) &&
        !need(c, NEED_SHARE_READ_D,
              (r->flags & PERM_JOBS) ? "jobs reached through a share" : "operations on a share",
              d, why, whylen))
      return false;
    if ((r->flags & PERM_DLG_NEEDS_USER_READ) &&
        !need(c, NEED_USER_READ_D, "listing users", d, why, whylen))
      return false;
    if ((r->flags & PERM_DLG_NEEDS_GROUP_READ) &&
        !need(c, NEED_GROUP_READ_D, "listing groups", d, why, whylen))
      return false;
  }

  bool admin = !app && (has_wid(c, CALLER_WID_PRINTER_ADMIN) ||
                        has_wid(c, CALLER_WID_GLOBAL_ADMIN));
  if (!app && r->admin == PERM_ADMIN_PRINTER && !admin)
    return refuse(d, why, whylen, "this operation requires the Printer Administrator or Global "
                  "Administrator role");
  if (!app && r->admin == PERM_ADMIN_REPORTS && !admin &&
      !has_wid(c, CALLER_WID_REPORTS_READER))
    return refuse(d, why, whylen, "this operation requires the Printer Administrator, Global "
                  "Administrator or Reports Reader role");

  d->allowed = true;
  d->status = 0;
  d->granted = granted;
  d->admin = admin;
  d->seed_rule = app && (r->flags & PERM_SEED_RULE);
  if (r->flags & PERM_JOBS) {
    /* Visibility: an application's job permissions are all .All; a user reaches other users'
     * jobs only with a .All scope and an administrator role. */
    /* (the caller's few permissions are checked before the table is searched: every
     * request of a job route runs this) */
    for (size_t i = 0; accepted[i] && (app || admin); i++) {
      if (!holds(c, accepted[i])) continue;
      const perm_permission_t *p = perm_permission_find(accepted[i]);
      if (p && p->all_users) d->all_jobs = true;
    }
    for (size_t i = 0; accepted[i]; i++) {
      if (!holds(c, accepted[i])) continue;
      const perm_permission_t *p = perm_permission_find(accepted[i]);
      if (p && !p->basic && (!d->all_jobs || p->all_users)) d->documents = true;
    }
  }
  if (why && whylen) why[0] = '\0';
  return true;
}
