/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull-print printers (reference §4.10): virtual queues of a tenant (pull_printers, migration
 * 9) with their member printers (pull_printer_members), the succeeded printOperation that
 * records each creation (print_operations.pull_printer_id) and the shares that publish one
 * (shares.pull_printer_id).
 *
 * A printer is a member of a pull-print printer when it has a member row, or when the
 * pull-print printer has include_all_printers (then every printer of the tenant is one).
 * Member rows go with their printer (ON DELETE CASCADE); a share that published a deleted
 * pull-print printer stops publishing it (ON DELETE SET NULL).
 *
 * JSON columns (location, defaults, factory_defaults) hold what the Graph layer validated;
 * partial updates merge into them inside the write transaction (util/jsonmerge.h).
 *
 * Ownership: strings in the structs are malloc'd; release with the _clear functions.
 */
#ifndef SPOOLD_STORE_PULL_PRINTERS_H
#define SPOOLD_STORE_PULL_PRINTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/query.h"
#include "store/store.h"

#define STORE_PULL_PRINTER_PAGE_MAX 100 /* items per page of a list */

typedef struct store_pull_printer {
  char   *id;
  char   *tenant;
  char   *display_name;
  bool    include_all_printers;
  char   *location;      /* JSON printerLocation, or NULL */
  char   *defaults;      /* JSON printerDefaults, or NULL */
  int64_t registered_us; /* registeredDateTime */
} store_pull_printer_t;

/* Releases what *p holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_pull_printer_clear(store_pull_printer_t *p);

typedef struct store_pull_printer_page {
  store_pull_printer_t *items;
  size_t                n;
  char                 *next;   /* page token for @odata.nextLink, or NULL */
} store_pull_printer_page_t;

/* Releases the page's items and next-page token and zeroes it (NULL is a no-op); the struct
 * itself stays the caller's. */
void store_pull_printer_page_clear(store_pull_printer_page_t *p);

/* A pull-print printer to create, with the succeeded operation that records it. */
typedef struct store_pull_printer_new {
  const char *id;
  const char *tenant;
  const char *display_name;
  bool        include_all_printers;
  const char *location;          /* JSON or NULL */
  const char *defaults;          /* JSON: the initial defaults */
  const char *factory_defaults;  /* JSON: what restoreFactoryDefaults restores */
  const char *operation_id;
  int64_t     now_us;            /* registeredDateTime and the operation's createdDateTime */
} store_pull_printer_new_t;

/* Inserts the pull-print printer and its succeeded operation in one write transaction.
 * STORE_CONFLICT when an id is taken. */
store_rc_t store_pull_printer_create(store_t *st, const store_pull_printer_new_t *n);

/* Reads pull-print printer id of tenant into *out (caller clears). STORE_NOT_FOUND when the
 * tenant has none with that id. */
store_rc_t store_pull_printer_get(store_t *st, const char *tenant, const char *id,
                                  store_pull_printer_t *out);

/* Lists the tenant's pull-print printers with $filter/$orderby on id, displayName,
 * includeAllPrinters, registeredDateTime (and $filter on the location members), $top (at most
 * STORE_PULL_PRINTER_PAGE_MAX), $skip, $skiptoken and $count (q->count / q->total). When
 * member_of is not NULL, only those that printer member_of is a member of (explicitly or by
 * includeAllPrinters). STORE_INVALID with err when the query does not fit. The caller clears
 * *out. */
store_rc_t store_pull_printer_list(store_t *st, const char *tenant, const char *member_of,
                                   const query_t *q, store_pull_printer_page_t *out, char *err,
                                   size_t errlen);

/* What PATCH changes (reference PP4: only these). NULL / false: unchanged. */
typedef struct store_pull_printer_patch {
  bool        set_include_all_printers;
  bool        include_all_printers;
  const char *location_merge;   /* JSON object merged member by member into location */
  const char *defaults_merge;   /* JSON object merged into defaults */
} store_pull_printer_patch_t;

/* Applies patch to pull-print printer id in one write transaction and reads the result into
 * *out (caller clears). STORE_NOT_FOUND when there is no such pull-print printer. */
store_rc_t store_pull_printer_update(store_t *st, const char *tenant, const char *id,
                                     const store_pull_printer_patch_t *patch,
                                     store_pull_printer_t *out);

/* Deletes pull-print printer id with its member rows (printers stay); shares that published it
 * stop doing so. STORE_NOT_FOUND when there is none. */
store_rc_t store_pull_printer_delete(store_t *st, const char *tenant, const char *id);

/* Sets the defaults back to the factory defaults. STORE_NOT_FOUND when there is none. */
store_rc_t store_pull_printer_restore_defaults(store_t *st, const char *tenant, const char *id);

/* Why adding or removing a member did not happen. */
typedef enum store_pull_member_err {
  STORE_PULL_MEMBER_OK = 0,
  STORE_PULL_MEMBER_NO_PULL_PRINTER, /* STORE_NOT_FOUND: no such pull-print printer */
  STORE_PULL_MEMBER_NO_PRINTER,      /* STORE_NOT_FOUND: no such printer in the tenant */
  STORE_PULL_MEMBER_NOT_MEMBER,      /* STORE_NOT_FOUND (remove): the printer has no member row */
  STORE_PULL_MEMBER_ALREADY,         /* STORE_CONFLICT (add): the printer is already a member */
} store_pull_member_err_t;

/* Adds printer_id of tenant to the members of pull-print printer id; *why says which part was
 * missing or that it is one already. */
store_rc_t store_pull_printer_member_add(store_t *st, const char *tenant, const char *id,
                                         const char *printer_id, int64_t now_us,
                                         store_pull_member_err_t *why);

/* Removes the member row of printer_id (the printer itself stays). */
store_rc_t store_pull_printer_member_remove(store_t *st, const char *tenant, const char *id,
                                            const char *printer_id,
                                            store_pull_member_err_t *why);

/* STORE_OK when printer_id is a member of pull-print printer id of tenant (a member row, or
 * includeAllPrinters and the printer is the tenant's), STORE_NOT_FOUND when not (or either does
 * not exist). */
store_rc_t store_pull_printer_has_member(store_t *st, const char *tenant, const char *id,
                                         const char *printer_id);

/* The id of the pull-print printer an operation created, into *out (malloc'd; NULL when the
 * operation created none or it was deleted since). STORE_NOT_FOUND when the tenant has no such
 * operation. */
store_rc_t store_pull_printer_of_operation(store_t *st, const char *tenant, const char *op_id,
                                           char **out);

#endif
