/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Role presets of the development issuer: what a first try needs for each role, so nobody
 * assembles scope lists by hand (`spoold token --role ROLE`, the console's dev sign-in).
 */
#ifndef SPOOLD_AUTH_DEV_ROLES_H
#define SPOOLD_AUTH_DEV_ROLES_H

#include "auth/dev.h"

#include <stddef.h>

typedef struct dev_role {
  const char      *name;        /* "admin", "user", "app" */
  const char      *summary;     /* one line for --help */
  dev_token_kind_t kind;        /* DEV_TOKEN_USER or DEV_TOKEN_APP */
  const char      *permissions; /* delegated scopes (USER) or application roles (APP) */
  bool             admin;       /* the Printer Administrator directory role */
  const char      *user_oid;    /* default oid for USER roles */
  const char      *upn_local;   /* default UPN's local part ("admin" -> admin@TENANT.example) */
  const char      *app_id;      /* default appid */
} dev_role_t;

/* The preset of name, or NULL when there is none. Static storage. */
const dev_role_t *dev_role_find(const char *name);
/* All presets (*n of them), in the order --help lists them. Static storage. */
const dev_role_t *dev_roles(size_t *n);
/* Fills r (kind, permissions, admin and the default ids) from role for tenant; fields the
 * caller set already (non-NULL) are kept. upn_buf receives the default UPN when r->upn is
 * NULL and the role is a user role. */
void dev_role_apply(const dev_role_t *role, dev_token_req_t *r, char *upn_buf, size_t upn_len);

#endif
