/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who is calling, as the permission table (core/permissions.c) sees it: the caller_t layout.
 * auth/identity.c builds and frees callers from verified bearer tokens (caller_from_claims,
 * caller_free) and ipp/device-auth.c from device credentials; core only reads them.
 */
#ifndef SPOOLD_CORE_CALLER_H
#define SPOOLD_CORE_CALLER_H

#include <stddef.h>
#include <stdint.h>

/* Directory role template ids carried in wids. */
#define CALLER_WID_PRINTER_ADMIN "644ef478-e28f-4e28-b9dc-3fdde9aa0b1f"
#define CALLER_WID_GLOBAL_ADMIN  "62e90394-69f5-4237-9190-012177145e10"
#define CALLER_WID_REPORTS_READER "4a5d8f65-41da-4de4-8968-e035b65339cf"

#define CALLER_MAX_ID 128 /* longest tid/oid/appid accepted */

typedef enum caller_kind {
  CALLER_DELEGATED = 1, /* a signed-in user through an app: permissions in scp */
  CALLER_APP = 2,       /* an application as itself: permissions in roles */
  CALLER_DEVICE = 3,    /* a printer on the IPP endpoint (ipp/device-auth.h); Graph refuses it */
} caller_kind_t;

typedef struct caller {
  caller_kind_t kind;
  char   *tenant;   /* tid; never NULL */
  char   *user_id;  /* oid: the user (delegated; never NULL then) or the app's service
                       principal (application; may be NULL) */
  char   *upn;      /* upn, else preferred_username; may be NULL */
  char   *name;     /* display name; may be NULL */
  char   *app_id;   /* appid, else azp: the client application; may be NULL for delegated */
  char   *idtyp;    /* "app", "user", ... as sent; may be NULL */
  char   *issuer;   /* iss */
  char  **scopes;   /* scp split on spaces (delegated) */
  size_t  nscopes;
  char  **roles;    /* roles (application permissions, or app roles of a user) */
  size_t  nroles;
  char  **groups;   /* group object ids */
  size_t  ngroups;
  char  **wids;     /* directory role template ids */
  size_t  nwids;
  int64_t expires;  /* exp, seconds since the epoch */
} caller_t;

#endif
