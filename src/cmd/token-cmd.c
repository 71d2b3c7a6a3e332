/* SPDX-License-Identifier: Apache-2.0 */
/* `spoold token`: mints a development token (see auth/dev.h). */
#include "cmd/cmd.h"
#include "auth/dev.h"
#include "auth/dev-roles.h"
#include "core/permissions.h"
#include "ipp/device-auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: spoold token --data DIR --tenant TID --app APPID [--roles \"R1 R2\"] [--ttl SECONDS]\n"
    "       spoold token --data DIR --tenant TID --app APPID --user OID --scopes \"S1 S2\"\n"
    "                    [--upn UPN] [--name NAME] [--groups G1,G2] [--admin] [--ttl SECONDS]\n"
    "\n"
    "Prints a bearer token of the development issuer (iss \"" DEV_ISSUER "\", aud\n"
    "\"" DEV_AUDIENCE "\") that `spoold serve --data DIR --dev` accepts. The signing\n"
    "key DIR/" DEV_KEY_FILE " is created when it does not exist yet.\n"
    "\n"
    "Without --user: an application token; --roles lists its application permissions\n"
    "  (e.g. \"Printer.Read.All PrintJob.Manage.All PrintTaskDefinition.ReadWrite.All\").\n"
    "With --user OID: a delegated token for that user; --scopes lists its delegated\n"
    "  permissions (e.g. \"PrinterShare.ReadBasic.All PrintJob.ReadWrite\").\n"
    "  --upn UPN       the user's principal name (createdBy.userPrincipalName)\n"
    "  --name NAME     the user's display name\n"
    "  --groups G1,G2  group object ids\n"
    "  --admin         give the user the Printer Administrator directory role\n"
    "--ttl SECONDS     lifetime (default 3600)\n"
    "\n"
    "       spoold token --data DIR --tenant TID --role admin|user|app [--app APPID]\n"
    "                    [--user OID] [--upn UPN] [--name NAME] [--groups G1,G2] [--ttl SECONDS]\n"
    "Presets with the permissions a first try needs:\n"
    "  admin  a Printer Administrator user: register, share and manage printers, every job,\n"
    "         settings and reports (delegated Printer.Create Printer.Read.All\n"
    "         Printer.ReadWrite.All Printer.FullControl.All PrinterShare.ReadWrite.All\n"
    "         PrintJob.ReadWrite.All PrintConnector.ReadWrite.All PrintSettings.ReadWrite.All\n"
    "         PullPrintPrinter.FullControl.All Reports.Read.All User.Read.All\n"
    "         GroupMember.Read.All)\n"
    "  user   a user who prints: create, upload, start, read and cancel own jobs on shares\n"
    "         (PrinterShare.ReadBasic.All PrintJob.ReadWrite)\n"
    "  app    a pull-print application (application Printer.Read.All PrintJob.ReadWrite.All\n"
    "         PrintJob.Manage.All PrintTaskDefinition.ReadWrite.All): task definitions,\n"
    "         subscriptions, release, abort, redirect\n"
    "  Defaults: admin user 0b9e0f4c-7d7e-4a8f-9a3e-1a2b3c4d5e6f (admin@TID.example), user\n"
    "  7f3c1e2a-4b5d-4c6e-8f90-a1b2c3d4e5f6 (user@TID.example), client app\n"
    "  11111111-2222-3333-4444-555555555555; the app role's id is\n"
    "  22222222-3333-4444-5555-666666666666. A task trigger binds only definitions of the\n"
    "  app the administrator's token names: mint it with --role admin --app <the app's id>.\n"
    "\n"
    "       spoold token --device PRINTER_ID (--data DIR | --store URL)\n"
    "Issues a new device token for a registered printer (the IPP INFRA endpoint's\n"
    "credential: Bearer, or Basic with the printer id as user name) and prints it; the\n"
    "store keeps only its SHA-256, and the printer's earlier device token stops working.\n"
    "Exit status 3: no such printer.\n"
    "\n"
    "Exit status: 0 token printed, 1 key or signing failure, 2 usage error.\n";

typedef struct opt {
  const char  *name;
  const char **value; /* NULL for flags */
  bool        *flag;
} opt_t;

static int usage_error(const char *fmt, const char *arg) {
  return cmd_usage_error("token", fmt, arg);
}

/* Warns about words of list that are not known permissions of the given kind. */
static void warn_unknown(const char *list, unsigned kind) {
  const char *p = list;
  while (p && *p) {
    p += strspn(p, " ");
    size_t n = strcspn(p, " ");
    if (!n) break;
    char name[128];
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), p);
    const perm_permission_t *perm = perm_permission_find(name);
    if (!perm || !(perm->kinds & kind))
      fprintf(stderr, "spoold token: warning: %s is not a Universal Print %s permission\n", name,
              kind == PERM_KIND_APP ? "application" : "delegated");
    p += n;
  }
}

int token_command(int argc, char **argv) {
  const char *data = NULL, *ttl_s = NULL, *device = NULL, *store = NULL, *role_name = NULL;
  bool admin = false, help = false;
  dev_token_req_t r = {0};
  opt_t opts[] = {
    {"--data", &data, NULL},       {"--tenant", &r.tenant, NULL},
    {"--app", &r.app_id, NULL},    {"--roles", &r.roles, NULL},
    {"--user", &r.user_oid, NULL}, {"--upn", &r.upn, NULL},
    {"--scopes", &r.scopes, NULL}, {"--name", &r.name, NULL},
    {"--groups", &r.groups, NULL}, {"--ttl", &ttl_s, NULL},
    {"--device", &device, NULL},   {"--admin", NULL, &admin},
    {"--store", &store, NULL},     {"--role", &role_name, NULL},
    {"--help", NULL, &help},       {"-h", NULL, &help},
  };
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    opt_t *o = NULL;
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
      if (strlen(opts[k].name) == nlen && !strncmp(opts[k].name, arg, nlen)) o = &opts[k];
    if (!o) return usage_error(arg[0] == '-' ? "unknown option %s" : "unexpected argument %s", arg);
    if (o->flag) {
      if (eq) return usage_error("%s takes no value", o->name);
      *o->flag = true;
      continue;
    }
    if (*o->value) return usage_error("%s is given twice", o->name);
    if (eq) *o->value = eq + 1;
    else if (i + 1 < argc) *o->value = argv[++i];
    else return usage_error("%s needs a value", o->name);
  }
  if (help) {
    fputs(USAGE, stdout);
    return 0;
  }
  if (device) {
    /* A printer's device token: a random secret kept as a hash in the store, not a JWT. */
    if (r.tenant || r.app_id || r.roles || r.user_oid || r.upn || r.scopes || r.name ||
        r.groups || admin || ttl_s || role_name)
      return usage_error("%s", "--device takes only --data DIR or --store URL (a device token "
                         "is the printer's own credential, not a development JWT)");
    return ipp_device_token_command(data, store, device);
  }
  if (store) return usage_error("%s", "--store is for --device tokens");
  if (!data) return usage_error("%s", "--data DIR is required (the server's data directory)");
  if (ttl_s) {
    char *end = NULL;
    errno = 0;
    long ttl = strtol(ttl_s, &end, 10);
    if (errno || !*ttl_s || *end || ttl < 1 || ttl > DEV_TTL_MAX)
      return usage_error("--ttl must be a whole number of seconds between 1 and 31622400, not "
                         "\"%s\"", ttl_s);
    r.ttl = ttl;
  }
  r.admin = admin;
  r.kind = r.user_oid ? DEV_TOKEN_USER : DEV_TOKEN_APP;
  char upn[320];
  if (role_name) {
    const dev_role_t *role = dev_role_find(role_name);
    if (!role)
      return usage_error("--role must be admin, user or app (a device token is --device "
                         "PRINTER_ID), not \"%s\"", role_name);
    if (role->kind == DEV_TOKEN_USER ? r.roles != NULL : (r.scopes || r.user_oid || admin))
      return usage_error("--role %s is a preset: it takes --tenant, --app, --upn, --name, --groups "
                         "and --ttl (and --user for user roles), not permission options", role_name);
    if (role->kind == DEV_TOKEN_USER && r.scopes)
      return usage_error("--role %s is a preset: it takes no --scopes", role_name);
    dev_role_apply(role, &r, upn, sizeof upn);
  }

  char *err = NULL;
  if (dev_token_check(&r, &err) != 0) { /* before touching the data directory */
    int rc = usage_error("%s", err);
    free(err);
    return rc;
  }
  bool created = false;
  dev_key_t *k = dev_key_open(data, &created, &err);
  if (!k) {
    fprintf(stderr, "spoold token: %s\n", err);
    free(err);
    return 1;
  }
  if (created) fprintf(stderr, "spoold token: created the development signing key %s\n",
                       dev_key_path(k));
  char *tok = dev_token_mint(k, &r, &err);
  dev_key_free(k);
  if (!tok) {
    fprintf(stderr, "spoold token: %s\n", err);
    free(err);
    return 1;
  }
  if (r.kind == DEV_TOKEN_APP) warn_unknown(r.roles, PERM_KIND_APP);
  else warn_unknown(r.scopes, PERM_KIND_DELEGATED);
  printf("%s\n", tok);
  free(tok);
  return fflush(stdout) == 0 ? 0 : 1;
}
