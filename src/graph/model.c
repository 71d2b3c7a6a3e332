/* SPDX-License-Identifier: Apache-2.0 */
/* The entity data model as tables, and its CSDL XML (see model.h). */
#include "graph/model.h"
#include "graph/printers.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define T(n) GRAPH_NS "." n

/* Field shorthands: N = nullable (the CSDL default), NN = Nullable="false". */
#define F(n, k, nul) {.name = (n), .kind = (k), .nullable = (nul)}
#define FO(n, sc, nul) {.name = (n), .kind = JF_OBJECT, .sub = &(sc), .nullable = (nul)}
#define FA(n, k) {.name = (n), .kind = JF_ARRAY, .elem = (k), .nullable = true}
#define FAE(n, e) {.name = (n), .kind = JF_ARRAY, .elem = JF_ENUM, .enm = &(e), .nullable = true}
#define FE(n, e, nul) {.name = (n), .kind = JF_ENUM, .enm = &(e), .nullable = (nul)}
#define SCHEMA(var, name, fields) \
  static const json_schema_t var = {T(name), fields, COUNT(fields)}

/* ---- enumerations ---------------------------------------------------------------------------- */

const enum_def_t *const GRAPH_MODEL_ENUMS[] = {
    &ENUM_PRINT_JOB_PROCESSING_STATE, &ENUM_PRINT_JOB_STATE_DETAIL,
    &ENUM_PRINTER_PROCESSING_STATE,   &ENUM_PRINTER_PROCESSING_STATE_DETAIL,
    &ENUM_PRINT_TASK_PROCESSING_STATE, &ENUM_PRINT_EVENT,
    &ENUM_PRINT_OPERATION_PROCESSING_STATE, &ENUM_PRINT_COLOR_MODE,
    &ENUM_PRINT_DUPLEX_MODE,          &ENUM_PRINT_ORIENTATION,
    &ENUM_PRINT_QUALITY,              &ENUM_PRINT_SCALING,
    &ENUM_PRINTER_FEED_ORIENTATION,   &ENUM_PRINT_MULTIPAGE_LAYOUT,
    &ENUM_PRINT_FINISHING,            &ENUM_PRINT_RELEASE_TYPE,
    &ENUM_INCOMPATIBLE_PRINTER_SETTINGS, &ENUM_PRINT_JOB_RELEASE_METHODS,
    NULL,
};

/* ---- complex types the resource files do not define ------------------------------------------ */

static const json_field_t USER_IDENTITY_FIELDS[] = {
    F("displayName", JF_STRING, true), F("id", JF_STRING, true),
    F("ipAddress", JF_STRING, true), F("userPrincipalName", JF_STRING, true),
};
SCHEMA(USER_IDENTITY, "userIdentity", USER_IDENTITY_FIELDS);

static const json_field_t APP_IDENTITY_FIELDS[] = {
    F("appId", JF_STRING, true), F("displayName", JF_STRING, true),
    F("servicePrincipalId", JF_STRING, true), F("servicePrincipalName", JF_STRING, true),
};
SCHEMA(APP_IDENTITY, "appIdentity", APP_IDENTITY_FIELDS);

static const json_field_t JOB_STATUS_FIELDS[] = {
    F("description", JF_STRING, false),
    FAE("details", ENUM_PRINT_JOB_STATE_DETAIL),
    F("isAcquiredByPrinter", JF_BOOL, false),
    FE("state", ENUM_PRINT_JOB_PROCESSING_STATE, false),
    /* the beta printJobStatus still carries the older names of the same values */
    {.name = "acquiredByPrinter", .kind = JF_BOOL, .api = JF_API_BETA},
    {.name = "processingState", .kind = JF_ENUM, .enm = &ENUM_PRINT_JOB_PROCESSING_STATE,
     .api = JF_API_BETA},
    {.name = "processingStateDescription", .kind = JF_STRING, .nullable = true,
     .api = JF_API_BETA},
};
SCHEMA(JOB_STATUS, "printJobStatus", JOB_STATUS_FIELDS);

static const json_field_t TASK_STATUS_FIELDS[] = {
    F("description", JF_STRING, false),
    FE("state", ENUM_PRINT_TASK_PROCESSING_STATE, false),
};
SCHEMA(TASK_STATUS, "printTaskStatus", TASK_STATUS_FIELDS);

static const json_field_t OP_STATUS_FIELDS[] = {
    F("description", JF_STRING, false),
    FE("state", ENUM_PRINT_OPERATION_PROCESSING_STATE, false),
};
SCHEMA(OP_STATUS, "printOperationStatus", OP_STATUS_FIELDS);

static const json_field_t VIEWPOINT_FIELDS[] = {F("lastUsedDateTime", JF_DATETIME, true)};
SCHEMA(VIEWPOINT, "printerShareViewpoint", VIEWPOINT_FIELDS);

static const json_field_t RELEASE_SUPPORT_FIELDS[] = {
    F("isPullPrintEnabled", JF_BOOL, true),
    FE("jobReleaseMethods", ENUM_PRINT_JOB_RELEASE_METHODS, true),
};
SCHEMA(RELEASE_SUPPORT, "printerProvidedReleaseSupport", RELEASE_SUPPORT_FIELDS);

static const json_field_t UPLOAD_SESSION_FIELDS[] = {
    F("expirationDateTime", JF_DATETIME, true),
    FA("nextExpectedRanges", JF_STRING),
    F("uploadUrl", JF_STRING, true),
};
SCHEMA(UPLOAD_SESSION, "uploadSession", UPLOAD_SESSION_FIELDS);

#define BETA_I32(n) {.name = (n), .kind = JF_INT32, .api = JF_API_BETA}
static const json_field_t ARCHIVED_JOB_FIELDS[] = {
    F("acquiredByPrinter", JF_BOOL, false),
    F("acquiredDateTime", JF_DATETIME, true),
    F("completionDateTime", JF_DATETIME, true),
    F("copiesPrinted", JF_INT32, false),
    FO("createdBy", USER_IDENTITY, true),
    F("createdDateTime", JF_DATETIME, false),
    F("id", JF_STRING, false),
    F("printerId", JF_STRING, true),
    F("printerName", JF_STRING, true),
    FE("processingState", ENUM_PRINT_JOB_PROCESSING_STATE, false),
    BETA_I32("pageCount"), BETA_I32("blackAndWhitePageCount"), BETA_I32("colorPageCount"),
    BETA_I32("simplexPageCount"), BETA_I32("duplexPageCount"),
};
SCHEMA(ARCHIVED_JOB, "archivedPrintJob", ARCHIVED_JOB_FIELDS);

/* printSettings' members (print.c defines printSettings itself). */
static const json_field_t AIRPRINT_FIELDS[] = {
    FE("incompatiblePrinters", ENUM_INCOMPATIBLE_PRINTER_SETTINGS, true),
};
SCHEMA(AIRPRINT, "airPrintSettings", AIRPRINT_FIELDS);
static const json_field_t DISCOVERY_FIELDS[] = {FO("airPrint", AIRPRINT, true)};
SCHEMA(DISCOVERY, "printerDiscoverySettings", DISCOVERY_FIELDS);

const json_schema_t *const GRAPH_MODEL_COMPLEX[] = {
    &GRAPH_PRINT_SETTINGS_SCHEMA, &DISCOVERY, &AIRPRINT,
    &GRAPH_PRINTER_STATUS_SCHEMA, &GRAPH_PRINTER_LOCATION_SCHEMA,
    &GRAPH_PRINTER_DEFAULTS_SCHEMA, &GRAPH_PRINTER_CAPABILITIES_SCHEMA,
    &GRAPH_INTEGER_RANGE_SCHEMA, &GRAPH_PRINT_RELEASE_MECHANISM_SCHEMA, &RELEASE_SUPPORT,
    &VIEWPOINT, &JOB_STATUS, &GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA, &GRAPH_PRINT_MARGIN_SCHEMA,
    &USER_IDENTITY, &APP_IDENTITY, &TASK_STATUS, &OP_STATUS,
    &GRAPH_PRINT_DOCUMENT_UPLOAD_PROPERTIES_SCHEMA, &UPLOAD_SESSION, &GRAPH_PRINT_CSR_SCHEMA,
    &ARCHIVED_JOB, NULL,
};

/* ---- entity types ---------------------------------------------------------------------------- */

#define NAV(n, t, coll, cont) {.name = (n), .type = T(t), .collection = (coll), .contained = (cont)}
static const json_field_t ENTITY_FIELDS[] = {F("id", JF_STRING, false)};
SCHEMA(ENTITY_SCHEMA, "entity", ENTITY_FIELDS);
static const graph_entity_type_t ENTITY_T = {.props = &ENTITY_SCHEMA, .abstract = true};

static const json_field_t PRINT_FIELDS[] = {FO("settings", GRAPH_PRINT_SETTINGS_SCHEMA, true)};
static const json_schema_t PRINT_SCHEMA = {T("print"), PRINT_FIELDS, COUNT(PRINT_FIELDS)};
static const graph_nav_t PRINT_NAVS[] = {
    NAV("connectors", "printConnector", true, true),
    NAV("operations", "printOperation", true, true),
    NAV("printers", "printer", true, true),
    NAV("pullPrintPrinters", "pullPrintPrinter", true, true),
    NAV("services", "printService", true, true),
    NAV("shares", "printerShare", true, true),
    NAV("taskDefinitions", "printTaskDefinition", true, true),
};
/* print is not an entity in Graph's CSDL (no key): written without the entity base type */
static const graph_entity_type_t PRINT_T = {.props = &PRINT_SCHEMA, .navs = PRINT_NAVS,
                                            .nnavs = COUNT(PRINT_NAVS)};

static const json_field_t PRINTER_BASE_FIELDS[] = {
    FO("capabilities", GRAPH_PRINTER_CAPABILITIES_SCHEMA, true),
    FO("defaults", GRAPH_PRINTER_DEFAULTS_SCHEMA, true),
    F("displayName", JF_STRING, false),
    F("isAcceptingJobs", JF_BOOL, true),
    FO("location", GRAPH_PRINTER_LOCATION_SCHEMA, true),
    F("manufacturer", JF_STRING, true),
    F("model", JF_STRING, true),
    FO("status", GRAPH_PRINTER_STATUS_SCHEMA, false),
};
SCHEMA(PRINTER_BASE_SCHEMA, "printerBase", PRINTER_BASE_FIELDS);
static const graph_nav_t PRINTER_BASE_NAVS[] = {NAV("jobs", "printJob", true, true)};
static const graph_entity_type_t PRINTER_BASE_T = {
    .props = &PRINTER_BASE_SCHEMA, .abstract = true, .navs = PRINTER_BASE_NAVS,
    .nnavs = COUNT(PRINTER_BASE_NAVS)};

static const json_field_t PRINTER_FIELDS[] = {
    F("hasPhysicalDevice", JF_BOOL, false),
    F("isShared", JF_BOOL, false),
    F("lastSeenDateTime", JF_DATETIME, true),
    F("registeredDateTime", JF_DATETIME, false),
    {.name = "printerProvidedReleaseSupport", .kind = JF_OBJECT, .sub = &RELEASE_SUPPORT,
     .nullable = true, .api = JF_API_V1},
    {.name = "releaseMechanisms", .kind = JF_ARRAY, .elem = JF_OBJECT,
     .sub = &GRAPH_PRINT_RELEASE_MECHANISM_SCHEMA, .nullable = true, .api = JF_API_V1},
};
SCHEMA(PRINTER_SCHEMA, "printer", PRINTER_FIELDS);
static const graph_nav_t PRINTER_NAVS[] = {
    NAV("connectors", "printConnector", true, false),
    NAV("pullPrintPrinters", "pullPrintPrinter", true, false),
    NAV("shares", "printerShare", true, false),
    NAV("taskTriggers", "printTaskTrigger", true, true),
};
static const graph_entity_type_t PRINTER_T = {.props = &PRINTER_SCHEMA, .base = T("printerBase"),
                                              .navs = PRINTER_NAVS, .nnavs = COUNT(PRINTER_NAVS)};

static const json_field_t SHARE_FIELDS[] = {
    F("allowAllUsers", JF_BOOL, false),
    F("createdDateTime", JF_DATETIME, false),
    FO("viewPoint", VIEWPOINT, true),
};
SCHEMA(SHARE_SCHEMA, "printerShare", SHARE_FIELDS);
static const graph_nav_t SHARE_NAVS[] = {
    NAV("allowedGroups", "group", true, false),
    NAV("allowedUsers", "user", true, false),
    NAV("printer", "printer", false, false),
    NAV("pullPrintPrinter", "pullPrintPrinter", false, false),
};
static const graph_entity_type_t SHARE_T = {.props = &SHARE_SCHEMA, .base = T("printerBase"),
                                            .navs = SHARE_NAVS, .nnavs = COUNT(SHARE_NAVS)};

/* §2.5: a virtual pull queue; its members are printers (managed through $ref) */
static const json_field_t PULL_PRINTER_FIELDS[] = {
    F("includeAllPrinters", JF_BOOL, false),
    F("registeredDateTime", JF_DATETIME, false),
};
SCHEMA(PULL_PRINTER_SCHEMA, "pullPrintPrinter", PULL_PRINTER_FIELDS);
static const graph_nav_t PULL_PRINTER_NAVS[] = {
    NAV("printers", "printer", true, false),
    NAV("shares", "printerShare", true, false),
};
static const graph_entity_type_t PULL_PRINTER_T = {.props = &PULL_PRINTER_SCHEMA,
                                                   .base = T("printerBase"),
                                                   .navs = PULL_PRINTER_NAVS,
                                                   .nnavs = COUNT(PULL_PRINTER_NAVS)};

static const json_field_t JOB_FIELDS[] = {
    F("acknowledgedDateTime", JF_DATETIME, true),
    FO("configuration", GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA, false),
    FO("createdBy", USER_IDENTITY, true),
    F("createdDateTime", JF_DATETIME, false),
    F("errorCode", JF_INT32, true),
    F("isFetchable", JF_BOOL, false),
    F("redirectedFrom", JF_STRING, true),
    F("redirectedTo", JF_STRING, true),
    FO("status", JOB_STATUS, false),
    {.name = "displayName", .kind = JF_STRING, .nullable = true, .api = JF_API_BETA},
    {.name = "completedDateTime", .kind = JF_DATETIME, .nullable = true, .api = JF_API_BETA},
};
SCHEMA(JOB_SCHEMA, "printJob", JOB_FIELDS);
static const graph_nav_t JOB_NAVS[] = {
    NAV("documents", "printDocument", true, true),
    NAV("tasks", "printTask", true, true),
};
static const graph_entity_type_t JOB_T = {.props = &JOB_SCHEMA, .navs = JOB_NAVS,
                                          .nnavs = COUNT(JOB_NAVS)};

static const json_field_t DOCUMENT_FIELDS[] = {
    F("contentType", JF_STRING, true),
    F("displayName", JF_STRING, true),
    F("downloadedDateTime", JF_DATETIME, true),
    F("size", JF_INT64, false),
    F("uploadedDateTime", JF_DATETIME, true),
};
SCHEMA(DOCUMENT_SCHEMA, "printDocument", DOCUMENT_FIELDS);
static const graph_entity_type_t DOCUMENT_T = {.props = &DOCUMENT_SCHEMA, .has_stream = true};

static const json_field_t DEFINITION_FIELDS[] = {
    FO("createdBy", APP_IDENTITY, false),
    F("displayName", JF_STRING, false),
};
SCHEMA(DEFINITION_SCHEMA, "printTaskDefinition", DEFINITION_FIELDS);
static const graph_nav_t DEFINITION_NAVS[] = {NAV("tasks", "printTask", true, true)};
static const graph_entity_type_t DEFINITION_T = {.props = &DEFINITION_SCHEMA,
                                                 .navs = DEFINITION_NAVS,
                                                 .nnavs = COUNT(DEFINITION_NAVS)};

static const json_field_t TASK_FIELDS[] = {
    F("parentUrl", JF_STRING, false),
    FO("status", TASK_STATUS, false),
};
SCHEMA(TASK_SCHEMA, "printTask", TASK_FIELDS);
static const graph_nav_t TASK_NAVS[] = {
    NAV("definition", "printTaskDefinition", false, false),
    NAV("trigger", "printTaskTrigger", false, false),
};
static const graph_entity_type_t TASK_T = {.props = &TASK_SCHEMA, .navs = TASK_NAVS,
                                           .nnavs = COUNT(TASK_NAVS)};

static const json_field_t TRIGGER_FIELDS[] = {FE("event", ENUM_PRINT_EVENT, false)};
SCHEMA(TRIGGER_SCHEMA, "printTaskTrigger", TRIGGER_FIELDS);
static const graph_nav_t TRIGGER_NAVS[] = {NAV("definition", "printTaskDefinition", false, false)};
static const graph_entity_type_t TRIGGER_T = {.props = &TRIGGER_SCHEMA, .navs = TRIGGER_NAVS,
                                              .nnavs = COUNT(TRIGGER_NAVS)};

static const json_field_t OPERATION_FIELDS[] = {
    F("createdDateTime", JF_DATETIME, false),
    FO("status", OP_STATUS, false),
};
SCHEMA(OPERATION_SCHEMA, "printOperation", OPERATION_FIELDS);
/* the pull-print printer an operation created (GET /print/operations/{id}/pullPrintPrinter:
 * on the base type, as the path carries no type cast) */
static const graph_nav_t OPERATION_NAVS[] = {
    NAV("pullPrintPrinter", "pullPrintPrinter", false, false),
};
static const graph_entity_type_t OPERATION_T = {.props = &OPERATION_SCHEMA, .abstract = true,
                                                .navs = OPERATION_NAVS,
                                                .nnavs = COUNT(OPERATION_NAVS)};

static const json_field_t CREATE_OP_FIELDS[] = {F("certificate", JF_STRING, true)};
SCHEMA(CREATE_OP_SCHEMA, "printerCreateOperation", CREATE_OP_FIELDS);
static const graph_nav_t CREATE_OP_NAVS[] = {NAV("printer", "printer", false, false)};
static const graph_entity_type_t CREATE_OP_T = {.props = &CREATE_OP_SCHEMA,
                                                .base = T("printOperation"),
                                                .navs = CREATE_OP_NAVS,
                                                .nnavs = COUNT(CREATE_OP_NAVS)};

static const json_field_t CONNECTOR_FIELDS[] = {
    F("appVersion", JF_STRING, false),
    F("displayName", JF_STRING, false),
    F("fullyQualifiedDomainName", JF_STRING, false),
    FO("location", GRAPH_PRINTER_LOCATION_SCHEMA, true),
    F("operatingSystem", JF_STRING, false),
    F("registeredDateTime", JF_DATETIME, false),
};
SCHEMA(CONNECTOR_SCHEMA, "printConnector", CONNECTOR_FIELDS);
static const graph_entity_type_t CONNECTOR_T = {.props = &CONNECTOR_SCHEMA};

static const json_schema_t SERVICE_SCHEMA = {T("printService"), NULL, 0};
static const graph_nav_t SERVICE_NAVS[] = {NAV("endpoints", "printServiceEndpoint", true, true)};
static const graph_entity_type_t SERVICE_T = {.props = &SERVICE_SCHEMA, .navs = SERVICE_NAVS,
                                              .nnavs = COUNT(SERVICE_NAVS)};

static const json_field_t ENDPOINT_FIELDS[] = {
    F("displayName", JF_STRING, false),
    F("uri", JF_STRING, false),
};
SCHEMA(ENDPOINT_SCHEMA, "printServiceEndpoint", ENDPOINT_FIELDS);
static const graph_entity_type_t ENDPOINT_T = {.props = &ENDPOINT_SCHEMA};

/* The directory objects a share's allowedUsers / allowedGroups name (only what spoold knows). */
static const json_field_t USER_FIELDS[] = {
    F("displayName", JF_STRING, true),
    F("userPrincipalName", JF_STRING, true),
};
SCHEMA(USER_SCHEMA, "user", USER_FIELDS);
static const graph_entity_type_t USER_T = {.props = &USER_SCHEMA};
static const json_field_t GROUP_FIELDS[] = {F("displayName", JF_STRING, true)};
SCHEMA(GROUP_SCHEMA, "group", GROUP_FIELDS);
static const graph_entity_type_t GROUP_T = {.props = &GROUP_SCHEMA};

static const json_field_t SUBSCRIPTION_FIELDS[] = {
    F("applicationId", JF_STRING, true),
    F("changeType", JF_STRING, false),
    F("clientState", JF_STRING, true),
    F("creatorId", JF_STRING, true),
    F("encryptionCertificate", JF_STRING, true),
    F("encryptionCertificateId", JF_STRING, true),
    F("expirationDateTime", JF_DATETIME, false),
    F("includeProperties", JF_BOOL, true),
    F("includeResourceData", JF_BOOL, true),
    F("latestSupportedTlsVersion", JF_STRING, true),
    F("lifecycleNotificationUrl", JF_STRING, true),
    F("notificationQueryOptions", JF_STRING, true),
    F("notificationUrl", JF_STRING, false),
    F("resource", JF_STRING, false),
};
SCHEMA(SUBSCRIPTION_SCHEMA, "subscription", SUBSCRIPTION_FIELDS);
static const graph_entity_type_t SUBSCRIPTION_T = {.props = &SUBSCRIPTION_SCHEMA};

/* Usage reports and archived jobs under /reports (reports.c). */
#define I64(n, nul) F(n, JF_INT64, nul)
static const json_field_t USAGE_FIELDS[] = {
    F("usageDate", JF_DATE, false),
    I64("completedBlackAndWhiteJobCount", false), I64("completedColorJobCount", false),
    I64("incompleteJobCount", false), I64("completedJobCount", true), I64("pageCount", true),
    I64("blackAndWhitePageCount", true), I64("colorPageCount", true),
    I64("mediaSheetCount", true), I64("doubleSidedSheetCount", true),
    I64("singleSidedSheetCount", true),
};
SCHEMA(USAGE_SCHEMA, "printUsage", USAGE_FIELDS);
static const graph_entity_type_t USAGE_T = {.props = &USAGE_SCHEMA};
static const json_field_t USAGE_PRINTER_FIELDS[] = {
    F("printerId", JF_STRING, false), F("printerName", JF_STRING, true),
};
SCHEMA(USAGE_PRINTER_SCHEMA, "printUsageByPrinter", USAGE_PRINTER_FIELDS);
static const graph_entity_type_t USAGE_PRINTER_T = {.props = &USAGE_PRINTER_SCHEMA,
                                                    .base = T("printUsage")};
static const json_field_t USAGE_USER_FIELDS[] = {F("userPrincipalName", JF_STRING, false)};
SCHEMA(USAGE_USER_SCHEMA, "printUsageByUser", USAGE_USER_FIELDS);
static const graph_entity_type_t USAGE_USER_T = {.props = &USAGE_USER_SCHEMA,
                                                 .base = T("printUsage")};

static const json_schema_t REPORTS_SCHEMA = {T("reportRoot"), NULL, 0};
static const graph_nav_t REPORTS_NAVS[] = {
    NAV("dailyPrintUsageByPrinter", "printUsageByPrinter", true, true),
    NAV("dailyPrintUsageByUser", "printUsageByUser", true, true),
    NAV("monthlyPrintUsageByPrinter", "printUsageByPrinter", true, true),
    NAV("monthlyPrintUsageByUser", "printUsageByUser", true, true),
};
/* like print, reportRoot is a keyless singleton type */
static const graph_entity_type_t REPORTS_T = {.props = &REPORTS_SCHEMA, .navs = REPORTS_NAVS,
                                              .nnavs = COUNT(REPORTS_NAVS)};

const graph_entity_type_t *const GRAPH_MODEL_ENTITIES[] = {
    &ENTITY_T,      &PRINT_T,       &PRINTER_BASE_T, &PRINTER_T,   &SHARE_T,
    &PULL_PRINTER_T,
    &JOB_T,         &DOCUMENT_T,    &DEFINITION_T,   &TASK_T,      &TRIGGER_T,
    &OPERATION_T,   &CREATE_OP_T,   &CONNECTOR_T,    &SERVICE_T,   &ENDPOINT_T,
    &USER_T,        &GROUP_T,       &SUBSCRIPTION_T, &REPORTS_T,  &USAGE_T,
    &USAGE_PRINTER_T, &USAGE_USER_T, NULL,
};

/* ---- operations ------------------------------------------------------------------------------ */

static const json_field_t REDIRECT_FIELDS[] = {
    F("destinationPrinterId", JF_STRING, false),
    FO("configuration", GRAPH_PRINT_JOB_CONFIGURATION_SCHEMA, true),
};
SCHEMA(REDIRECT_PARAMS, "redirect", REDIRECT_FIELDS);

#define ARCHIVE_PARAMS(var, key)                                                      \
  static const json_field_t var##_FIELDS[] = {                                        \
      F(key, JF_STRING, false), F("startDateTime", JF_DATETIME, true),                \
      F("endDateTime", JF_DATETIME, true)};                                           \
  SCHEMA(var, key, var##_FIELDS)
ARCHIVE_PARAMS(PRINTER_ARCHIVE_PARAMS, "printerId");
ARCHIVE_PARAMS(USER_ARCHIVE_PARAMS, "userId");
ARCHIVE_PARAMS(GROUP_ARCHIVE_PARAMS, "groupId");
#define ARCHIVE_FN(n, ps)                                                              \
  {.name = (n), .function = true, .binding = T("reportRoot"), .params = &(ps),       \
   .returns = T("archivedPrintJob"), .returns_collection = true}

static const json_field_t RELEASE_FIELDS[] = {F("jobId", JF_STRING, false)};
SCHEMA(RELEASE_PARAMS, "release", RELEASE_FIELDS);

const graph_operation_t GRAPH_MODEL_OPERATIONS[] = {
    /* J10 (pullprint.c); the reference does not capture its answer: spoold returns the job */
    {.name = "release", .binding = T("printJob"), .binding_collection = true,
     .params = &RELEASE_PARAMS, .returns = T("printJob")},
    ARCHIVE_FN("getPrinterArchivedPrintJobs", PRINTER_ARCHIVE_PARAMS),
    ARCHIVE_FN("getUserArchivedPrintJobs", USER_ARCHIVE_PARAMS),
    ARCHIVE_FN("getGroupArchivedPrintJobs", GROUP_ARCHIVE_PARAMS),
    {.name = "create", .binding = T("printer"), .binding_collection = true,
     .params = &GRAPH_PRINTER_CREATE_PARAMS},
    {.name = "restoreFactoryDefaults", .binding = T("printer")},
    {.name = "restoreFactoryDefaults", .binding = T("pullPrintPrinter")},
    {.name = "getCapabilities", .function = true, .binding = T("printer"),
     .returns = T("printerCapabilities")},
    {.name = "start", .binding = T("printJob"), .returns = T("printJobStatus")},
    {.name = "cancel", .binding = T("printJob")},
    {.name = "abort", .binding = T("printJob"), .params = &GRAPH_JOB_ABORT_PARAMS},
    {.name = "redirect", .binding = T("printJob"), .params = &REDIRECT_PARAMS,
     .returns = T("printJob")},
    {.name = "createUploadSession", .binding = T("printDocument"),
     .params = &GRAPH_CREATE_UPLOAD_SESSION_PARAMS, .returns = T("uploadSession")},
    {0},
};

const graph_container_item_t GRAPH_MODEL_CONTAINER[] = {
    {.name = "print", .type = T("print"), .singleton = true},
    {.name = "subscriptions", .type = T("subscription")},
    {.name = "reports", .type = T("reportRoot"), .singleton = true},
    {0},
};

/* ---- queries --------------------------------------------------------------------------------- */

bool graph_model_in_api(unsigned char a, api_version_t v) {
  if (a == JF_API_V1) return v != API_BETA;
  if (a == JF_API_BETA) return v == API_BETA;
  return true;
}

bool graph_model_is_enum_type(const enum_def_t *e) {
  for (size_t i = 0; GRAPH_MODEL_ENUMS[i]; i++)
    if (GRAPH_MODEL_ENUMS[i] == e) return true;
  return false;
}

bool graph_model_is_operation(const char *name) {
  for (size_t i = 0; GRAPH_MODEL_OPERATIONS[i].name; i++)
    if (strcasecmp(GRAPH_MODEL_OPERATIONS[i].name, name) == 0) return true;
  return false;
}

/* ---- CSDL ------------------------------------------------------------------------------------ */

/* The EDM type of a scalar of kind k ("Edm.String", "microsoft.graph.printColorMode"). */
static const char *scalar_type(json_kind_t k, const json_field_t *f) {
  switch (k) {
    case JF_STRING: return "Edm.String";
    case JF_BOOL: return "Edm.Boolean";
    case JF_INT32: return "Edm.Int32";
    case JF_INT64: return "Edm.Int64";
    case JF_DOUBLE: return "Edm.Double";
    case JF_DATETIME: return "Edm.DateTimeOffset";
    case JF_DATE: return "Edm.Date";
    case JF_ENUM: return graph_model_is_enum_type(f->enm) ? NULL : "Edm.String";
    case JF_OBJECT: return f->sub ? f->sub->type_name : NULL;
    case JF_ARRAY: break;
  }
  return NULL;
}

static void put_type(buf_t *b, const json_field_t *f) {
  json_kind_t k = f->kind == JF_ARRAY ? f->elem : f->kind;
  const char *t = scalar_type(k, f);
  if (f->kind == JF_ARRAY) buf_puts(b, "Collection(");
  if (t) buf_puts(b, t);
  else if (k == JF_ENUM) buf_printf(b, GRAPH_NS ".%s", f->enm->name);
  else buf_puts(b, "Edm.String");
  if (f->kind == JF_ARRAY) buf_putc(b, ')');
}

/* The unqualified name of a qualified type. */
static const char *short_name(const char *qualified) {
  const char *dot = strrchr(qualified, '.');
  return dot ? dot + 1 : qualified;
}

static void put_properties(buf_t *b, const json_schema_t *sc, api_version_t v) {
  for (size_t i = 0; sc && i < sc->nfields; i++) {
    const json_field_t *f = &sc->fields[i];
    if (!graph_model_in_api(f->api, v)) continue;
    buf_printf(b, "<Property Name=\"%s\" Type=\"", f->name);
    put_type(b, f);
    buf_putc(b, '"');
    /* a collection is never null on the wire: it is [] when empty */
    if (!f->nullable || f->kind == JF_ARRAY) buf_puts(b, " Nullable=\"false\"");
    buf_puts(b, "/>");
  }
}

static void put_enum(buf_t *b, const enum_def_t *e) {
  buf_printf(b, "<EnumType Name=\"%s\"%s>", e->name, e->flags ? " IsFlags=\"true\"" : "");
  for (size_t i = 0; i < e->count; i++)
    buf_printf(b, "<Member Name=\"%s\" Value=\"%d\"/>", e->members[i], enum_value(e, (int)i));
  buf_puts(b, "</EnumType>");
}

static void put_entity(buf_t *b, const graph_entity_type_t *t, api_version_t v) {
  const char *name = short_name(t->props->type_name);
  bool is_root = t == &ENTITY_T, keyless = t == &PRINT_T || t == &REPORTS_T;
  buf_printf(b, "<EntityType Name=\"%s\"", name);
  if (!is_root && !keyless) buf_printf(b, " BaseType=\"%s\"", t->base ? t->base : T("entity"));
  if (t->abstract) buf_puts(b, " Abstract=\"true\"");
  if (t->has_stream) buf_puts(b, " HasStream=\"true\"");
  buf_putc(b, '>');
  if (is_root) buf_puts(b, "<Key><PropertyRef Name=\"id\"/></Key>");
  put_properties(b, t->props, v);
  for (size_t i = 0; i < t->nnavs; i++) {
    const graph_nav_t *n = &t->navs[i];
    if (!graph_model_in_api(n->api, v)) continue;
    buf_printf(b, "<NavigationProperty Name=\"%s\" Type=\"%s%s%s\"%s/>", n->name,
               n->collection ? "Collection(" : "", n->type, n->collection ? ")" : "",
               n->contained ? " ContainsTarget=\"true\"" : "");
  }
  buf_puts(b, "</EntityType>");
}

static void put_operation(buf_t *b, const graph_operation_t *op, api_version_t v) {
  if (!graph_model_in_api(op->api, v)) return;
  const char *el = op->function ? "Function" : "Action";
  buf_printf(b, "<%s Name=\"%s\" IsBound=\"true\">", el, op->name);
  buf_printf(b, "<Parameter Name=\"bindingParameter\" Type=\"%s%s%s\" Nullable=\"false\"/>",
             op->binding_collection ? "Collection(" : "", op->binding,
             op->binding_collection ? ")" : "");
  for (size_t i = 0; op->params && i < op->params->nfields; i++) {
    const json_field_t *f = &op->params->fields[i];
    buf_printf(b, "<Parameter Name=\"%s\" Type=\"", f->name);
    put_type(b, f);
    buf_printf(b, "\"%s/>", f->nullable ? "" : " Nullable=\"false\"");
  }
  if (op->returns)
    buf_printf(b, "<ReturnType Type=\"%s%s%s\"/>", op->returns_collection ? "Collection(" : "",
               op->returns, op->returns_collection ? ")" : "");
  buf_printf(b, "</%s>", el);
}

char *graph_model_csdl(api_version_t v) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
               "<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">"
               "<edmx:DataServices>"
               "<Schema Namespace=\"" GRAPH_NS "\" Alias=\"graph\" "
               "xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">");
  for (size_t i = 0; GRAPH_MODEL_ENUMS[i]; i++) put_enum(&b, GRAPH_MODEL_ENUMS[i]);
  for (size_t i = 0; GRAPH_MODEL_ENTITIES[i]; i++) put_entity(&b, GRAPH_MODEL_ENTITIES[i], v);
  for (size_t i = 0; GRAPH_MODEL_COMPLEX[i]; i++) {
    const json_schema_t *c = GRAPH_MODEL_COMPLEX[i];
    buf_printf(&b, "<ComplexType Name=\"%s\">", short_name(c->type_name));
    put_properties(&b, c, v);
    buf_puts(&b, "</ComplexType>");
  }
  for (size_t i = 0; GRAPH_MODEL_OPERATIONS[i].name; i++)
    put_operation(&b, &GRAPH_MODEL_OPERATIONS[i], v);
  buf_puts(&b, "<EntityContainer Name=\"GraphService\">");
  for (size_t i = 0; GRAPH_MODEL_CONTAINER[i].name; i++) {
    const graph_container_item_t *c = &GRAPH_MODEL_CONTAINER[i];
    if (c->singleton)
      buf_printf(&b, "<Singleton Name=\"%s\" Type=\"%s\"/>", c->name, c->type);
    else
      buf_printf(&b, "<EntitySet Name=\"%s\" EntityType=\"%s\"/>", c->name, c->type);
  }
  buf_puts(&b, "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
  return buf_detach(&b);
}
