/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printers in the store: the printers table, the registration operations that create them
 * (print_operations, GET /print/operations) and the tenant's device CA (device_cas).
 *
 * A printer belongs to its tenant; deleting it deletes its jobs (and their documents, upload
 * sessions and tasks), its share and its task trigger (ON DELETE CASCADE, migration 2). The
 * operation that registered it stays, without its printer.
 *
 * The complex Graph types of a printer (location, defaults, capabilities, releaseMechanisms,
 * status.details) are kept as JSON text exactly as validated by the Graph layer; updates merge
 * them member-wise inside the write transaction (store_printer_update).
 *
 * Ownership: strings in the structs below are malloc'd; release them with the matching
 * *_clear() / *_free() function.
 */
#ifndef SPOOLD_STORE_PRINTERS_H
#define SPOOLD_STORE_PRINTERS_H

#include "core/query.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_PRINTER_NAME_MAX 256  /* characters of a printer's displayName (our limit) */
#define STORE_PRINTER_PAGE_MAX 100  /* printers per page of GET /print/printers */

/* Content types a printer accepts when its capabilities list none (see
 * store_printer_accepts_content_type). */
#define STORE_PRINTER_DEFAULT_CONTENT_TYPES "application/pdf", "application/oxps"

typedef struct store_printer {
  char   *id;                  /* GUID */
  char   *tenant;
  char   *display_name;
  char   *manufacturer;        /* NULL when unset */
  char   *model;               /* NULL when unset */
  bool    has_physical_device;
  char   *physical_device_id;  /* NULL for most virtual printers */
  char   *connector_id;        /* NULL: not behind a connector */
  int     is_accepting_jobs;   /* 1, 0, or -1 when unknown (JSON null) */
  int     status_state;        /* index in ENUM_PRINTER_PROCESSING_STATE */
  char   *status_details;      /* JSON array of printerProcessingStateDetail names; never NULL */
  char   *status_description;  /* never NULL ("" when none) */
  char   *location;            /* JSON printerLocation object; NULL when unset */
  char   *defaults;            /* JSON printerDefaults object; NULL when unset */
  char   *factory_defaults;    /* JSON: what restoreFactoryDefaults restores; NULL = none */
  char   *capabilities;        /* JSON printerCapabilities object; NULL when never reported */
  char   *release_mechanisms;  /* JSON array of printReleaseMechanism; NULL when unset */
  int64_t registered_us;       /* registeredDateTime */
  int64_t last_seen_us;        /* lastSeenDateTime; 0 when the device was never seen */
  char   *registered_by_app;   /* appid of the client that registered it; NULL if unknown */
  char   *cert_sha256;         /* hex SHA-256 of the device certificate's DER; may be NULL */
  /* The printer's share (at most one), for isShared and $expand=shares. */
  char   *share_id;            /* NULL when the printer is not shared */
  char   *share_display_name;
  bool    share_allow_all_users;
  int64_t share_created_us;
} store_printer_t;

/* Releases what *p holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_printer_clear(store_printer_t *p);
/* Clears v[0..n) and frees v. */
void store_printers_free(store_printer_t *v, size_t n);

/* True when printer p is shared (isShared). */
static inline bool store_printer_is_shared(const store_printer_t *p) { return p->share_id != NULL; }

/* True when p accepts documents of content type ct (a MIME type; parameters after ';' and
 * case are ignored): ct is one of capabilities.contentTypes, or, when the capabilities list no
 * contentTypes, one of STORE_PRINTER_DEFAULT_CONTENT_TYPES (application/pdf and
 * application/oxps). Matching is exact otherwise (no wildcards). */
bool store_printer_accepts_content_type(const store_printer_t *p, const char *ct);

/* Reads printer id of tenant into *out (the caller clears it); STORE_NOT_FOUND when the tenant
 * has no such printer. *out is zeroed unless STORE_OK. */
store_rc_t store_printer_get(store_t *st, const char *tenant, const char *id,
                             store_printer_t *out);

/* STORE_OK when id is a printer of tenant, STORE_NOT_FOUND when not (or either is NULL),
 * STORE_ERROR on failure. Reads nothing but the row's existence. */
store_rc_t store_printer_exists(store_t *st, const char *tenant, const char *id);

/* One page of a list. */
typedef struct store_printer_page {
  store_printer_t *items;
  size_t           n;
  char            *next;  /* $skiptoken of the next page, NULL on the last page */
} store_printer_page_t;

/* Releases the page's items and next-page token and zeroes it (NULL is a no-op); the struct
 * itself stays the caller's. */
void store_printer_page_clear(store_printer_page_t *p);

/* Lists the tenant's printers with the query's $filter, $orderby, $top, $skip and $skiptoken
 * (at most STORE_PRINTER_PAGE_MAX per page). Queryable properties: id, displayName,
 * manufacturer, model, isAcceptingJobs, hasPhysicalDevice, isShared, registeredDateTime,
 * lastSeenDateTime (filter and sort) and status/state (filter). STORE_INVALID with a message in
 * err (a 400 for the client) when the query does not fit. *out is cleared first; the caller
 * clears it. */
store_rc_t store_printer_list(store_t *st, const char *tenant, const query_t *q,
                              store_printer_page_t *out, char *err, size_t errlen);

/* store_printer_list restricted to the members of pull-print printer pull_printer_id of tenant:
 * the printers with a member row, or every printer when it has includeAllPrinters (none when
 * it does not exist: the caller checks that first). */
store_rc_t store_printer_list_pull_members(store_t *st, const char *tenant,
                                           const char *pull_printer_id, const query_t *q,
                                           store_printer_page_t *out, char *err, size_t errlen);

/* A partial update. The *_merge members are JSON texts merged member-wise into the stored
 * object (util/jsonmerge.h: a member set to null becomes null, nested objects merge, arrays and
 * scalars replace); the text "null" clears the whole property; NULL leaves it unchanged. */
typedef struct store_printer_patch {
  const char *display_name;        /* NULL: unchanged */
  bool        set_manufacturer;
  const char *manufacturer;        /* NULL clears */
  bool        set_model;
  const char *model;               /* NULL clears */
  bool        set_is_accepting_jobs;
  int         is_accepting_jobs;   /* 1, 0 or -1 (null) */
  const char *status_merge;        /* printerStatus members: state, details, description */
  const char *location_merge;
  const char *defaults_merge;
  bool        defaults_are_factory;/* the registering application sets defaults: they are
                                      merged into the factory defaults too */
  const char *capabilities_merge;
  bool        set_release_mechanisms;
  const char *release_mechanisms;  /* JSON array; NULL clears */
} store_printer_patch_t;

/* Applies p to printer id in one write transaction; STORE_NOT_FOUND when the tenant has no
 * such printer. On STORE_OK *out (if not NULL; the caller clears it) receives the printer
 * after the update. */
store_rc_t store_printer_update(store_t *st, const char *tenant, const char *id,
                                const store_printer_patch_t *p, store_printer_t *out);

/* Sets defaults back to the factory defaults (the built-in defaults recorded at registration,
 * merged with what the registering application reported since); STORE_NOT_FOUND when the tenant
 * has no such printer. */
store_rc_t store_printer_restore_defaults(store_t *st, const char *tenant, const char *id);

/* Deletes printer id with its jobs, share and task trigger; STORE_NOT_FOUND when the tenant
 * has no such printer. */
store_rc_t store_printer_delete(store_t *st, const char *tenant, const char *id);

/* Every printer of every tenant (development mode: simulated printers): *ids and *tenants
 * receive malloc'd arrays of *n malloc'd strings, ordered by id (store_strings_free each). */
store_rc_t store_printer_all_ids(store_t *st, char ***ids, char ***tenants, size_t *n);

/* ---- registration -------------------------------------------------------------------------- */

/* The tenant's device CA and a certificate serial number reserved for one signature. */
typedef struct store_device_ca {
  char   *key_pem;
  char   *cert_pem;
  int64_t serial;
} store_device_ca_t;

/* Releases what *ca holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_device_ca_clear(store_device_ca_t *ca);

/* Reserves the next serial number of tenant's device CA (next_serial is incremented in the same
 * write transaction) and returns the CA with it. When the tenant has no CA yet: with new_key_pem
 * and new_cert_pem (made by the caller) that CA is stored first, starting at serial 1 (if
 * another request stored one in the meantime, that one wins); without them STORE_NOT_FOUND. */
store_rc_t store_device_ca_reserve(store_t *st, const char *tenant, const char *new_key_pem,
                                   const char *new_cert_pem, store_device_ca_t *out);

/* A printer to register, with the succeeded printerCreateOperation that records it. */
typedef struct store_printer_new {
  const char *id;
  const char *tenant;
  const char *display_name;
  const char *manufacturer;
  const char *model;
  bool        has_physical_device;
  const char *physical_device_id;
  const char *connector_id;
  const char *defaults;          /* JSON printerDefaults; also recorded as factory defaults */
  const char *registered_by_app;
  const char *cert_pem;          /* the issued chain (device certificate first) */
  const char *cert_sha256;
  const char *operation_id;
  int64_t     now_us;            /* registeredDateTime and the operation's createdDateTime */
} store_printer_new_t;

/* Inserts the printer (status unknown, accepting jobs) and its succeeded operation in one write
 * transaction. STORE_CONFLICT when an id is taken. */
store_rc_t store_printer_register(store_t *st, const store_printer_new_t *n);

/* A printerCreateOperation. */
typedef struct store_operation {
  char   *id;
  char   *tenant;
  int64_t created_us;
  int     state;        /* index in ENUM_PRINT_OPERATION_PROCESSING_STATE */
  char   *description;  /* never NULL */
  char   *printer_id;   /* the registered printer; NULL unless succeeded */
  char   *certificate;  /* PEM chain; NULL unless succeeded */
} store_operation_t;

/* Releases what *op holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_operation_clear(store_operation_t *op);
/* Clears v[0..n) and frees v. */
void store_operations_free(store_operation_t *v, size_t n);

/* Records an operation that ended without a printer (state failed, with the reason). */
store_rc_t store_operation_add_failed(store_t *st, const char *tenant, const char *id,
                                      int64_t now_us, const char *description);

/* Reads operation id of tenant into *op and, when it registered a printer that still exists
 * and printer is not NULL, that printer into *printer (*has_printer says whether). The caller
 * clears both. STORE_NOT_FOUND when the tenant has no such operation. */
store_rc_t store_operation_get(store_t *st, const char *tenant, const char *id,
                               store_operation_t *op, store_printer_t *printer,
                               bool *has_printer);

typedef struct store_operation_page {
  store_operation_t *items;
  size_t             n;
  char              *next;
} store_operation_page_t;

/* Releases the page's items and next-page token and zeroes it (NULL is a no-op); the struct
 * itself stays the caller's. */
void store_operation_page_clear(store_operation_page_t *p);

/* Lists the tenant's operations with $filter/$orderby on id, createdDateTime and status/state,
 * $top (at most STORE_PRINTER_PAGE_MAX), $skip and $skiptoken. STORE_INVALID with err when the
 * query does not fit. */
store_rc_t store_operation_list(store_t *st, const char *tenant, const query_t *q,
                                store_operation_page_t *out, char *err, size_t errlen);

#endif
