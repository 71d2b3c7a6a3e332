/* SPDX-License-Identifier: Apache-2.0 */
/* Role presets of the development issuer (auth/dev-roles.h). */
#include "auth/dev-roles.h"

#include <stdio.h>
#include <string.h>

/* The development app id that user tokens name (the client the person uses), and the pull-print
 * application's own id. */
#define DEV_CLIENT_APP "11111111-2222-3333-4444-555555555555"
#define DEV_PULLPRINT_APP "22222222-3333-4444-5555-666666666666"

static const dev_role_t ROLES[] = {
    {"admin", "a Printer Administrator: register, share and manage printers, see every job",
     DEV_TOKEN_USER,
     "Printer.Create Printer.Read.All Printer.ReadWrite.All Printer.FullControl.All "
     "PrinterShare.ReadWrite.All PrintJob.ReadWrite.All PrintConnector.ReadWrite.All "
     "PrintSettings.ReadWrite.All PullPrintPrinter.FullControl.All Reports.Read.All User.Read.All "
     "GroupMember.Read.All",
     true, "0b9e0f4c-7d7e-4a8f-9a3e-1a2b3c4d5e6f", "admin", DEV_CLIENT_APP},
    {"user", "a user who prints to shares: create, upload, start, read and cancel own jobs",
     DEV_TOKEN_USER, "PrinterShare.ReadBasic.All PrintJob.ReadWrite", false,
     "7f3c1e2a-4b5d-4c6e-8f90-a1b2c3d4e5f6", "user", DEV_CLIENT_APP},
    {"app", "a pull-print application: task definitions, subscriptions, release/abort/redirect",
     DEV_TOKEN_APP,
     "Printer.Read.All PrintJob.ReadWrite.All PrintJob.Manage.All "
     "PrintTaskDefinition.ReadWrite.All",
     false, NULL, NULL, DEV_PULLPRINT_APP},
};

const dev_role_t *dev_roles(size_t *n) {
  *n = sizeof ROLES / sizeof ROLES[0];
  return ROLES;
}

const dev_role_t *dev_role_find(const char *name) {
  for (size_t i = 0; name && i < sizeof ROLES / sizeof ROLES[0]; i++)
    if (!strcmp(ROLES[i].name, name)) return &ROLES[i];
  return NULL;
}

void dev_role_apply(const dev_role_t *role, dev_token_req_t *r, char *upn_buf, size_t upn_len) {
  r->kind = role->kind;
  if (!r->app_id) r->app_id = role->app_id;
  if (role->kind == DEV_TOKEN_APP) {
    if (!r->roles) r->roles = role->permissions;
    return;
  }
  if (!r->scopes) r->scopes = role->permissions;
  if (!r->user_oid) r->user_oid = role->user_oid;
  r->admin = r->admin || role->admin;
  if (!r->upn && upn_buf && upn_len) {
    snprintf(upn_buf, upn_len, "%s@%s.example", role->upn_local, r->tenant ? r->tenant : "tenant");
    r->upn = upn_buf;
  }
}
