/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printer shares in the store: the shares table (at most one share per printer) and the
 * allowedUsers / allowedGroups of each share (the share_members table).
 *
 * A share belongs to its tenant and points at one printer of the same tenant; deleting the
 * printer or the tenant deletes its share and the share's members (ON DELETE CASCADE). The
 * properties a share mirrors from its printer (manufacturer, model, status, location, ...)
 * are not copied here: read the printer (store/printers.h) with printer_id.
 *
 * Members are directory object ids (GUIDs, stored lower-case). We have no directory, so a
 * user member's displayName and userPrincipalName are what a token of that user last told us
 * (store_share_member_seen); a group's displayName stays unknown (NULL).
 *
 * Ownership: strings in the structs below are malloc'd; release them with the matching
 * *_clear() / *_free() function.
 */
#ifndef SPOOLD_STORE_SHARES_H
#define SPOOLD_STORE_SHARES_H

#include "core/query.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SHARE_NAME_MAX 50 /* characters of a share's displayName (reference §4.2 S1) */

typedef struct store_share {
  char   *id;              /* GUID */
  char   *tenant;
  char   *printer_id;      /* the shared printer (a printer of the same tenant) */
  char   *display_name;    /* the share's own name (not the printer's) */
  bool    allow_all_users;
  int64_t created_us;      /* createdDateTime */
  char   *pull_printer_id; /* the pull-print printer the share publishes, or NULL */
} store_share_t;

/* Releases what *s holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_share_clear(store_share_t *s);
/* Clears v[0..n) and frees v. */
void store_shares_free(store_share_t *v, size_t n);

/* Why a share create/update/delete did not happen, beyond the store_rc_t. */
typedef enum store_share_err {
  STORE_SHARE_ERR_NONE = 0,
  STORE_SHARE_ERR_NO_SHARE,       /* STORE_NOT_FOUND: no such share in the tenant */
  STORE_SHARE_ERR_NO_PRINTER,     /* STORE_NOT_FOUND: no such printer in the tenant */
  STORE_SHARE_ERR_PRINTER_SHARED, /* STORE_CONFLICT: the printer already has a share */
  STORE_SHARE_ERR_NO_PULL_PRINTER,/* STORE_NOT_FOUND: no such pull-print printer in the tenant */
} store_share_err_t;

typedef struct store_share_why {
  store_share_err_t err;
  char              other_share_id[64]; /* PRINTER_SHARED: the printer's existing share */
} store_share_why_t;

/* Reads share share_id of tenant into *out (the caller clears it); STORE_NOT_FOUND when the
 * tenant has no such share. *out is zeroed unless STORE_OK. */
store_rc_t store_share_get(store_t *st, const char *tenant, const char *share_id,
                           store_share_t *out);

/* Reads the share of printer printer_id (a printer of tenant) into *out; STORE_NOT_FOUND when
 * the printer has none (or is not in the tenant). */
store_rc_t store_share_get_by_printer(store_t *st, const char *tenant, const char *printer_id,
                                      store_share_t *out);

/* The shares of tenant that publish pull-print printer pull_printer_id, at most max, by id, into
 * a new array *out of *n shares (the caller frees it with store_shares_free). */
store_rc_t store_share_list_by_pull_printer(store_t *st, const char *tenant,
                                            const char *pull_printer_id, size_t max,
                                            store_share_t **out, size_t *n);

/* Creates a share of printer printer_id with a new id in one write transaction.
 * STORE_NOT_FOUND (why->err NO_PRINTER) when the printer is not in the tenant; STORE_CONFLICT
 * (PRINTER_SHARED, with the existing share's id) when the printer is already shared. On
 * STORE_OK *out (if not NULL; the caller clears it) receives the new share. */
store_rc_t store_share_create(store_t *st, const char *tenant, const char *printer_id,
                              const char *display_name, bool allow_all_users,
                              store_share_t *out, store_share_why_t *why);

/* A partial update: only the members that are set change. */
typedef struct store_share_patch {
  const char *display_name;     /* NULL: unchanged */
  bool        set_allow_all_users;
  bool        allow_all_users;
  const char *printer_id;       /* NULL: unchanged; else share this printer instead (the old
                                   one is no longer shared) */
  bool        set_pull_printer; /* change the pull-print printer the share publishes ... */
  const char *pull_printer_id;  /* ... to this one of the tenant, or NULL: none */
} store_share_patch_t;

/* Applies p to share share_id in one write transaction. STORE_NOT_FOUND (NO_SHARE or
 * NO_PRINTER), STORE_CONFLICT (PRINTER_SHARED: the new printer has another share). On STORE_OK
 * *out (if not NULL; the caller clears it) receives the share after the update. */
store_rc_t store_share_update(store_t *st, const char *tenant, const char *share_id,
                              const store_share_patch_t *p, store_share_t *out,
                              store_share_why_t *why);

/* Deletes share share_id and its members; STORE_NOT_FOUND when the tenant has no such share. */
store_rc_t store_share_delete(store_t *st, const char *tenant, const char *share_id);

/* One page of a list. */
typedef struct store_share_page {
  store_share_t *items;
  size_t         n;
  char          *next;  /* $skiptoken of the next page, NULL on the last page */
} store_share_page_t;

/* Releases the page's items and next-page token and zeroes it (NULL is a no-op); the struct
 * itself stays the caller's. */
void store_share_page_clear(store_share_page_t *p);

/* Lists the tenant's shares (only the share of printer_id when it is not NULL) with the
 * query's $filter, $orderby, $top and $skiptoken. Queryable properties: id, displayName,
 * createdDateTime, allowAllUsers, and the printer's manufacturer, model, isAcceptingJobs and (in
 * $filter) location/... and capabilities/... members; reduced (callers who get the reduced
 * property set) limits them to id, displayName, manufacturer, model, location/... and
 * capabilities/.... STORE_INVALID with a message in err (a 400 for the client) when the
 * query does not fit. *out is cleared first; the caller clears it. */
store_rc_t store_share_list(store_t *st, const char *tenant, const char *printer_id,
                            const query_t *q, bool reduced, store_share_page_t *out, char *err,
                            size_t errlen);

/* ---- allowedUsers / allowedGroups ---------------------------------------------------------- */

typedef enum store_share_member_kind {
  STORE_SHARE_USER = 0,   /* allowedUsers (share_members.kind 0) */
  STORE_SHARE_GROUP = 1,  /* allowedGroups (kind 1) */
} store_share_member_kind_t;

typedef struct store_share_member {
  char   *id;            /* the user's or group's object id (lower-case GUID) */
  char   *display_name;  /* NULL when unknown */
  char   *upn;           /* users: userPrincipalName, NULL when unknown; groups: NULL */
  int64_t added_us;
} store_share_member_t;

/* Releases what *m holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_share_member_clear(store_share_member_t *m);

typedef struct store_share_member_page {
  store_share_member_t *items;
  size_t                n;
  char                 *next;  /* $skiptoken of the next page, NULL on the last page */
} store_share_member_page_t;

/* Releases the page's items and next-page token and zeroes it (NULL is a no-op); the struct
 * itself stays the caller's. */
void store_share_member_page_clear(store_share_member_page_t *p);

/* Adds member_id (a GUID) to the share's users or groups. Adding a member twice is not an
 * error (STORE_OK; *added, when not NULL, tells whether it was new). STORE_NOT_FOUND when the
 * tenant has no such share. */
store_rc_t store_share_member_add(store_t *st, const char *tenant, const char *share_id,
                                  store_share_member_kind_t kind, const char *member_id,
                                  bool *added);

/* Removes member_id from the share's users or groups. STORE_NOT_FOUND when the share is not in
 * the tenant (*share_found false) or the member is not in the list (*share_found true). */
store_rc_t store_share_member_remove(store_t *st, const char *tenant, const char *share_id,
                                     store_share_member_kind_t kind, const char *member_id,
                                     bool *share_found);

/* Lists the share's users or groups with the query's $filter, $orderby, $top and $skiptoken
 * (properties id, displayName and, for users, userPrincipalName). STORE_NOT_FOUND when the
 * tenant has no such share; STORE_INVALID with err for a query that does not fit. */
store_rc_t store_share_member_list(store_t *st, const char *tenant, const char *share_id,
                                   store_share_member_kind_t kind, const query_t *q,
                                   store_share_member_page_t *out, char *err, size_t errlen);

/* Who may print to a share, as far as its member lists go (allowAllUsers is the caller's
 * business: it is on the share). */
typedef struct store_share_access {
  bool  user;          /* user_id is in allowedUsers */
  char *upn;           /* user: the stored userPrincipalName and displayName (NULL unknown) */
  char *display_name;
  char *group;         /* the first of groups[] found in allowedGroups, or NULL */
} store_share_access_t;

/* Releases what *a holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_share_access_clear(store_share_access_t *a);

/* Looks up user_id (may be NULL) in the share's allowedUsers and each of groups[0..ngroups) in
 * its allowedGroups, in one read transaction. Ids compare case-insensitively. */
store_rc_t store_share_access(store_t *st, const char *tenant, const char *share_id,
                              const char *user_id, char *const *groups, size_t ngroups,
                              store_share_access_t *out);

/* Whether a caller may print to share s (the rule job creation through a share applies, for
 * Graph and IPP alike): applications always may; users when s->allow_all_users, or when
 * user_id is in allowedUsers or one of groups[0..ngroups) in allowedGroups. When an allowed
 * user's upn or name (either may be NULL) differ from what is stored, they are recorded
 * (store_share_member_seen). *allowed receives the answer on STORE_OK. */
store_rc_t store_share_may_print(store_t *st, const store_share_t *s, bool is_app,
                                 const char *user_id, const char *upn, const char *name,
                                 char *const *groups, size_t ngroups, bool *allowed);

/* Reads share share_id of any tenant (share ids are GUIDs unique across tenants) into *out:
 * for the IPP share endpoint, whose URL carries no tenant. STORE_NOT_FOUND when unknown. */
store_rc_t store_share_find(store_t *st, const char *share_id, store_share_t *out);

/* Records what a token of user user_id (in tenant) says about the user: upn and display name
 * (either may be NULL: kept as it is). Updates every allowedUsers entry of that user in the
 * tenant, so GET .../allowedUsers shows them. Call it when a user shows up (the jobs code does
 * when a user prints); it writes only when something changed. STORE_OK also when the user is
 * in no list. */
store_rc_t store_share_member_seen(store_t *st, const char *tenant, const char *user_id,
                                   const char *upn, const char *display_name);

/* When user_id last created a job on printer_id (a printer of tenant), for the share's
 * viewPoint.lastUsedDateTime: *last_us = 0 when never. */
store_rc_t store_share_last_used(store_t *st, const char *tenant, const char *printer_id,
                                 const char *user_id, int64_t *last_us);

#endif
