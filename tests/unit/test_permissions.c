/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The permission table (core/permissions.c), walked row by row: every accepted scope and role
 * allows (with the admin role and extra permissions a row needs), callers without one are
 * refused with a message naming an accepted permission, delegated tokens are refused on
 * application-only rows and vice versa, admin rows refuse non-admin users, unknown ops are
 * refused; plus job visibility, the seed-rule flag and the reference's specific rules.
 */
#include "auth/identity.h"
#include "core/permissions.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A caller on the stack: up to 32 permissions and 3 wids, never freed. */
typedef struct test_caller {
  caller_t c;
  char    *perms[33];
  char    *wids[4];
} test_caller_t;

static caller_t *mk(test_caller_t *t, caller_kind_t kind, const char *const *perms,
                    const char *const *wids) {
  memset(t, 0, sizeof *t);
  t->c.kind = kind;
  t->c.tenant = "t1";
  t->c.user_id = "u1";
  t->c.app_id = "app1";
  size_t n = 0;
  for (; perms && perms[n]; n++) {
    cr_assert(n < 32, "too many permissions for a test caller");
    t->perms[n] = (char *)perms[n];
  }
  if (kind == CALLER_APP) {
    t->c.roles = t->perms;
    t->c.nroles = n;
  } else {
    t->c.scopes = t->perms;
    t->c.nscopes = n;
  }
  size_t w = 0;
  for (; wids && wids[w] && w < 3; w++) t->wids[w] = (char *)wids[w];
  t->c.wids = t->wids;
  t->c.nwids = w;
  return &t->c;
}

static const char *const ADMIN[] = {CALLER_WID_PRINTER_ADMIN, NULL};
static const char *const GLOBAL_ADMIN[] = {CALLER_WID_GLOBAL_ADMIN, NULL};
static const char *const REPORTS_READER[] = {CALLER_WID_REPORTS_READER, NULL};

static size_t count(const char *const *l) {
  size_t n = 0;
  while (l && l[n]) n++;
  return n;
}

static bool in(const char *const *l, const char *s) {
  for (size_t i = 0; l && l[i]; i++)
    if (!strcmp(l[i], s)) return true;
  return false;
}

/* The extra permission a row's flags require of this caller kind (NULL when none). */
static const char *extra_for(const perm_rule_t *r, caller_kind_t kind, const char *primary) {
  if (kind == CALLER_APP)
    return (r->flags & PERM_APP_NEEDS_PRINTER_READ) && strcmp(primary, "Printer.Read.All") &&
                   strcmp(primary, "Printer.ReadWrite.All")
               ? "Printer.Read.All"
               : NULL;
  if (r->flags & PERM_DLG_NEEDS_PRINTER_READ) return "Printer.Read.All";
  if (r->flags & PERM_DLG_NEEDS_SHARE_READ) return "PrinterShare.ReadBasic.All";
  if (r->flags & PERM_DLG_NEEDS_USER_READ) return "User.ReadBasic.All";
  if (r->flags & PERM_DLG_NEEDS_GROUP_READ) return "GroupMember.Read.All";
  return NULL;
}

Test(permissions, every_op_has_a_consistent_row) {
  for (int op = OP_UNKNOWN + 1; op < OP__COUNT; op++) {
    const perm_rule_t *r = perm_rule((perm_op_t)op);
    cr_assert(r, "op %d has no row", op);
    cr_expect_eq((int)r->op, op);
    cr_expect(r->name && *r->name && r->action && *r->action, "op %d: name/action", op);
    cr_expect(count(r->delegated) + count(r->app) > 0, "%s accepts nothing", r->name);
    cr_expect_str_eq(perm_op_name((perm_op_t)op), r->name);
    for (int o2 = OP_UNKNOWN + 1; o2 < op; o2++)
      cr_expect_str_neq(perm_rule((perm_op_t)o2)->name, r->name, "duplicate name %s", r->name);
    for (size_t i = 0; r->delegated[i]; i++) {
      const perm_permission_t *p = perm_permission_find(r->delegated[i]);
      cr_expect(p && (p->kinds & PERM_KIND_DELEGATED), "%s: %s is not a delegated permission",
                r->name, r->delegated[i]);
      for (size_t j = 0; j < i; j++)
        cr_expect_str_neq(r->delegated[i], r->delegated[j], "%s: listed twice", r->name);
    }
    for (size_t i = 0; r->app[i]; i++) {
      const perm_permission_t *p = perm_permission_find(r->app[i]);
      cr_expect(p && (p->kinds & PERM_KIND_APP), "%s: %s is not an application permission",
                r->name, r->app[i]);
    }
    if (r->flags & PERM_SEED_RULE) cr_expect(count(r->app), "%s: seed rule without app", r->name);
    if (r->admin != PERM_ADMIN_NONE)
      cr_expect(count(r->delegated), "%s: admin rule without delegated scopes", r->name);
  }
}

Test(permissions, walk_the_whole_table) {
  char why[1024];
  perm_decision_t d;
  test_caller_t t;
  for (int op = OP_UNKNOWN + 1; op < OP__COUNT; op++) {
    const perm_rule_t *r = perm_rule((perm_op_t)op);
    const char *const *admin = r->admin != PERM_ADMIN_NONE ? ADMIN : NULL;

    /* each accepted delegated scope allows (plus the admin role / extra scope the row needs) */
    for (size_t i = 0; r->delegated[i]; i++) {
      const char *s = r->delegated[i], *extra = extra_for(r, CALLER_DELEGATED, s);
      const char *perms[] = {s, extra, NULL};
      caller_t *c = mk(&t, CALLER_DELEGATED, perms, admin);
      cr_expect(perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: %s refused: %s",
                r->name, s, why);
      cr_expect(d.allowed && d.status == 0 && d.granted && !strcmp(d.granted, s),
                "%s: %s granted %s", r->name, s, d.granted ? d.granted : "(null)");
      cr_expect_eq(d.flags, r->flags);
      cr_expect(!d.seed_rule, "%s: the seed rule is for app callers", r->name);
      if (extra && !in(r->delegated, extra)) { /* without the extra: refused, naming it */
        const char *only[] = {s, NULL};
        c = mk(&t, CALLER_DELEGATED, only, admin);
        cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: %s without %s",
                  r->name, s, extra);
        cr_expect(strstr(why, "Missing permission") && strstr(why, extra), "%s: \"%s\"",
                  r->name, why);
      }
      if (admin) { /* without an admin role: refused */
        c = mk(&t, CALLER_DELEGATED, perms, NULL);
        cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: non-admin allowed",
                  r->name);
        cr_expect_eq(d.status, 403);
        cr_expect_str_eq(why, r->admin == PERM_ADMIN_REPORTS
                                  ? "this operation requires the Printer Administrator, Global "
                                    "Administrator or Reports Reader role"
                                  : "this operation requires the Printer Administrator or Global "
                                    "Administrator role", "%s", r->name);
        c = mk(&t, CALLER_DELEGATED, perms, GLOBAL_ADMIN);
        cr_expect(perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: global admin: %s",
                  r->name, why);
        c = mk(&t, CALLER_DELEGATED, perms, REPORTS_READER);
        cr_expect_eq(perm_check((perm_op_t)op, c, &d, why, sizeof why),
                     r->admin == PERM_ADMIN_REPORTS, "%s: reports reader", r->name);
      }
    }

    /* each accepted application role allows */
    for (size_t i = 0; r->app[i]; i++) {
      const char *s = r->app[i], *extra = extra_for(r, CALLER_APP, s);
      const char *perms[] = {s, extra, NULL};
      caller_t *c = mk(&t, CALLER_APP, perms, NULL);
      cr_expect(perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: role %s refused: %s",
                r->name, s, why);
      cr_expect(d.granted && !strcmp(d.granted, s), "%s: granted", r->name);
      cr_expect_eq(d.seed_rule, (r->flags & PERM_SEED_RULE) != 0, "%s: seed rule", r->name);
      cr_expect(!d.admin);
      if (r->flags & PERM_JOBS) cr_expect(d.all_jobs, "%s: app job permissions are .All", r->name);
      if (extra) {
        const char *only[] = {s, NULL};
        c = mk(&t, CALLER_APP, only, NULL);
        cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: %s without %s",
                  r->name, s, extra);
        cr_expect(strstr(why, "Missing permission") && strstr(why, "Printer.Read.All") &&
                  strstr(why, "Printer.ReadWrite.All"), "%s: \"%s\"", r->name, why);
      }
    }

    /* a delegated caller holding none of the scopes (but everything else) is refused */
    const char *unrelated_d[] = {"User.Read", "Printer.Read.All", "PrinterShare.ReadBasic.All",
                                 "User.ReadBasic.All", "GroupMember.Read.All", NULL};
    caller_t *c = mk(&t, CALLER_DELEGATED, unrelated_d, ADMIN);
    if (count(r->delegated) && !in(r->delegated, "Printer.Read.All") &&
        !in(r->delegated, "PrinterShare.ReadBasic.All")) {
      cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: allowed", r->name);
      cr_expect(strstr(why, "Missing permission: this operation needs ") &&
                strstr(why, "delegated permission") && strstr(why, r->delegated[0]),
                "%s: \"%s\" names no accepted scope", r->name, why);
    } else if (!count(r->delegated)) {
      cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: allowed", r->name);
      char want[256];
      snprintf(want, sizeof want, "delegated tokens cannot call this operation; only "
               "application permissions may %s", r->action);
      cr_expect_str_eq(why, want);
    }
    /* an application holding none of the roles is refused */
    const char *unrelated_a[] = {"User.Read.All", "Printer.Read.All", NULL};
    c = mk(&t, CALLER_APP, unrelated_a, ADMIN);
    if (count(r->app) && !in(r->app, "Printer.Read.All")) {
      cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: allowed", r->name);
      cr_expect(strstr(why, "Missing permission: this operation needs ") &&
                strstr(why, "application permission") && strstr(why, r->app[0]),
                "%s: \"%s\"", r->name, why);
    } else if (!count(r->app)) {
      const char *all_roles[] = {"Printer.ReadWrite.All", "PrintJob.ReadWrite.All",
                                 "PrintJob.Manage.All", "PrintTaskDefinition.ReadWrite.All",
                                 "PullPrintPrinter.Read.All", "Printer.Read.All", NULL};
      c = mk(&t, CALLER_APP, all_roles, NULL);
      cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: app allowed", r->name);
      char want[256];
      snprintf(want, sizeof want, "application tokens cannot call this operation; only "
               "delegated (user) permissions may %s", r->action);
      cr_expect_str_eq(why, want);
    }

    /* an application's roles never count as scopes, nor scopes as roles */
    if (count(r->app) && !count(r->delegated)) {
      c = mk(&t, CALLER_DELEGATED, r->app, ADMIN);
      cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s", r->name);
    }
    if (count(r->delegated) && !count(r->app)) {
      c = mk(&t, CALLER_APP, r->delegated, NULL);
      cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s", r->name);
    }

    /* no caller, device callers */
    cr_expect(!perm_check((perm_op_t)op, NULL, &d, why, sizeof why));
    c = mk(&t, CALLER_DEVICE, r->app, NULL);
    cr_expect(!perm_check((perm_op_t)op, c, &d, why, sizeof why), "%s: device", r->name);
  }
}

Test(permissions, unknown_ops_are_refused) {
  perm_op_t bad[] = {OP_UNKNOWN, OP__COUNT, (perm_op_t)(OP__COUNT + 1), (perm_op_t)-1,
                     (perm_op_t)9999};
  const char *const all[] = {"PrintJob.ReadWrite.All", "Printer.FullControl.All", NULL};
  test_caller_t t;
  caller_t *c = mk(&t, CALLER_DELEGATED, all, ADMIN);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    perm_decision_t d;
    char why[256] = "";
    cr_expect(!perm_check(bad[i], c, &d, why, sizeof why), "op %d", (int)bad[i]);
    cr_expect(!d.allowed && d.status == 403);
    cr_expect(strstr(why, "not in the permission table"), "%s", why);
    cr_expect_null(perm_rule(bad[i]));
    cr_expect_str_eq(perm_op_name(bad[i]), "unknown");
  }
}

static bool check(perm_op_t op, caller_kind_t kind, const char *const *perms, bool admin,
                  perm_decision_t *d, char *why, size_t whylen) {
  test_caller_t t;
  return perm_check(op, mk(&t, kind, perms, admin ? ADMIN : NULL), d, why, whylen);
}

#define PERMS(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(permissions, messages) {
  perm_decision_t d;
  char why[512];
  cr_expect(!check(OP_PRINTER_JOB_ABORT, CALLER_DELEGATED, PERMS("PrintJob.ReadWrite.All"), true,
                   &d, why, sizeof why));
  cr_expect_str_eq(why, "delegated tokens cannot call this operation; only application "
                        "permissions may abort a job");
  cr_expect(!check(OP_PRINTER_JOB_ABORT, CALLER_APP, PERMS("Printer.Read.All"), false, &d, why,
                   sizeof why));
  cr_expect_str_eq(why, "Missing permission: this operation needs the application permission "
                        "PrintJob.ReadWriteBasic.All, PrintJob.Manage.All or "
                        "PrintJob.ReadWrite.All");
  cr_expect(!check(OP_PRINTER_JOB_ABORT, CALLER_APP, PERMS("PrintJob.Manage.All"), false, &d,
                   why, sizeof why));
  cr_expect_str_eq(why, "Missing permission: application job operations also need the "
                        "application permission Printer.Read.All or Printer.ReadWrite.All");
  cr_expect(!check(OP_PRINTERS_LIST, CALLER_DELEGATED, PERMS("Printer.Read.All"), false, &d, why,
                   sizeof why));
  cr_expect_str_eq(why, "this operation requires the Printer Administrator or Global "
                        "Administrator role");
  cr_expect(!check(OP_PRINTER_JOB_CANCEL, CALLER_APP, PERMS("PrintJob.ReadWrite.All"), false, &d,
                   why, sizeof why));
  cr_expect_str_eq(why, "application tokens cannot call this operation; only delegated (user) "
                        "permissions may cancel a print job");
  cr_expect(!check(OP_SHARE_JOB_CREATE, CALLER_DELEGATED, PERMS("PrintJob.ReadWrite"), false, &d,
                   why, sizeof why));
  cr_expect_str_eq(why, "Missing permission: jobs reached through a share also need the "
                        "delegated permission PrinterShare.ReadBasic.All, PrinterShare.Read.All "
                        "or PrinterShare.ReadWrite.All");
  cr_expect(!check(OP_SERVICES_LIST, CALLER_DELEGATED, PERMS("User.Read"), false, &d, why,
                   sizeof why));
  cr_expect(strstr(why, "any of 24 Universal Print delegated permissions, such as "
                        "PrinterShare.ReadBasic.All"), "%s", why);
  /* a short buffer truncates safely */
  char tiny[16];
  cr_expect(!check(OP_SERVICES_LIST, CALLER_DELEGATED, PERMS("User.Read"), false, &d, tiny,
                   sizeof tiny));
  cr_expect_eq(strlen(tiny), sizeof tiny - 1);
}

Test(permissions, job_visibility) {
  perm_decision_t d;
  char why[512];
  const char *share = "PrinterShare.ReadBasic.All";
  /* own jobs with a non-.All scope, even for an administrator */
  cr_assert(check(OP_SHARE_JOBS_LIST, CALLER_DELEGATED, PERMS("PrintJob.ReadBasic", share), true,
                  &d, why, sizeof why), "%s", why);
  cr_expect(!d.all_jobs && !d.documents && d.admin);
  cr_assert(check(OP_SHARE_JOBS_LIST, CALLER_DELEGATED, PERMS("PrintJob.Read", share), false, &d,
                  why, sizeof why));
  cr_expect(!d.all_jobs && d.documents);
  /* .All without the admin role: still own jobs */
  cr_assert(check(OP_SHARE_JOBS_LIST, CALLER_DELEGATED, PERMS("PrintJob.Read.All", share), false,
                  &d, why, sizeof why));
  cr_expect(!d.all_jobs && d.documents && !d.admin);
  /* .All with the admin role: every user's jobs */
  cr_assert(check(OP_SHARE_JOBS_LIST, CALLER_DELEGATED, PERMS("PrintJob.Read.All", share), true,
                  &d, why, sizeof why));
  cr_expect(d.all_jobs && d.documents && d.admin);
  cr_assert(check(OP_SHARE_JOBS_LIST, CALLER_DELEGATED, PERMS("PrintJob.ReadBasic.All", share),
                  true, &d, why, sizeof why));
  cr_expect(d.all_jobs && !d.documents, "Basic: job metadata only");
  /* own documents do not extend to everyone's */
  cr_assert(check(OP_SHARE_JOBS_LIST, CALLER_DELEGATED,
                  PERMS("PrintJob.ReadBasic.All", "PrintJob.Read", share), true, &d, why,
                  sizeof why));
  cr_expect(d.all_jobs && !d.documents);
  /* cancelling another user's job needs the administrator role */
  cr_assert(check(OP_SHARE_JOB_CANCEL, CALLER_DELEGATED, PERMS("PrintJob.ReadWrite.All", share),
                  false, &d, why, sizeof why));
  cr_expect(!d.all_jobs);
  /* applications: any .All role reaches every job */
  cr_assert(check(OP_PRINTER_JOBS_LIST, CALLER_APP,
                  PERMS("PrintJob.ReadBasic.All", "Printer.Read.All"), false, &d, why,
                  sizeof why));
  cr_expect(d.all_jobs && !d.documents);
  cr_assert(check(OP_PRINTER_JOB_GET, CALLER_APP, PERMS("PrintJob.Read.All", "Printer.Read.All"),
                  false, &d, why, sizeof why));
  cr_expect(d.all_jobs && d.documents);
  /* non-job rows report no job visibility */
  cr_assert(check(OP_PRINTER_GET, CALLER_APP, PERMS("Printer.Read.All"), false, &d, why,
                  sizeof why));
  cr_expect(!d.all_jobs && !d.documents);
}

Test(permissions, reference_rules) {
  perm_decision_t d;
  char why[512];
  /* seed rule: app createUploadSession through a printer; share prefix is delegated only */
  cr_assert(check(OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, CALLER_APP,
                  PERMS("PrintJob.ReadWrite.All", "Printer.Read.All"), false, &d, why,
                  sizeof why));
  cr_expect(d.seed_rule);
  cr_expect(!check(OP_SHARE_JOB_DOCUMENT_UPLOAD_SESSION, CALLER_APP,
                   PERMS("PrintJob.ReadWrite.All", "Printer.Read.All"), false, &d, why,
                   sizeof why));
  cr_assert(check(OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, CALLER_DELEGATED,
                  PERMS("PrintJob.Create", "Printer.Read.All"), false, &d, why, sizeof why));
  cr_expect(!d.seed_rule);
  cr_expect(!check(OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, CALLER_DELEGATED,
                   PERMS("PrintJob.ReadWriteBasic", "Printer.Read.All"), false, &d, why,
                   sizeof why), "Basic scopes cannot upload");
  /* J2 does not accept PrintJob.Create; J1 and J6 do */
  cr_expect(!check(OP_SHARE_JOB_CREATE, CALLER_DELEGATED,
                   PERMS("PrintJob.Create", "PrinterShare.ReadBasic.All"), false, &d, why,
                   sizeof why));
  cr_expect(check(OP_PRINTER_JOB_CREATE, CALLER_DELEGATED,
                  PERMS("PrintJob.Create", "Printer.Read.All"), false, &d, why, sizeof why));
  cr_expect(check(OP_SHARE_JOB_START, CALLER_DELEGATED,
                  PERMS("PrintJob.Create", "PrinterShare.ReadBasic.All"), false, &d, why,
                  sizeof why));
  /* redirect: PrintJob.Manage.All only */
  cr_expect(!check(OP_PRINTER_JOB_REDIRECT, CALLER_APP,
                   PERMS("PrintJob.ReadWrite.All", "Printer.Read.All"), false, &d, why,
                   sizeof why));
  cr_expect(check(OP_PRINTER_JOB_REDIRECT, CALLER_APP,
                  PERMS("PrintJob.Manage.All", "Printer.ReadWrite.All"), false, &d, why,
                  sizeof why));
  cr_expect(d.seed_rule);
  /* subscriptions: application only, the permission depends on the resource */
  cr_expect(check(OP_SUBSCRIPTION_CREATE_TASKS, CALLER_APP,
                  PERMS("PrintTaskDefinition.ReadWrite.All"), false, &d, why, sizeof why));
  cr_expect(!check(OP_SUBSCRIPTION_CREATE_TASKS, CALLER_APP, PERMS("Printer.ReadWrite.All"),
                   false, &d, why, sizeof why));
  cr_expect(strstr(why, "PrintTaskDefinition.ReadWrite.All"), "%s", why);
  cr_expect(check(OP_SUBSCRIPTION_CREATE_PRINTER_JOBS, CALLER_APP, PERMS("Printer.Read.All"),
                  false, &d, why, sizeof why));
  cr_expect(check(OP_SUBSCRIPTION_CREATE_PRINTER_JOBS, CALLER_APP, PERMS("Printer.ReadWrite.All"),
                  false, &d, why, sizeof why));
  cr_expect(!check(OP_SUBSCRIPTION_CREATE_PRINTER_JOBS, CALLER_APP,
                   PERMS("PrintTaskDefinition.ReadWrite.All"), false, &d, why, sizeof why));
  cr_expect(!check(OP_SUBSCRIPTION_CREATE_TASKS, CALLER_DELEGATED,
                   PERMS("PrintTaskDefinition.ReadWrite.All"), true, &d, why, sizeof why));
  cr_expect(strstr(why, "delegated tokens cannot call this operation"), "%s", why);
  cr_assert(check(OP_SUBSCRIPTION_DELETE, CALLER_APP, PERMS("Printer.Read.All"), false, &d, why,
                  sizeof why));
  cr_expect(d.flags & PERM_RESOURCE_CHECK);
  /* S9 needs both a pull-print scope and a share scope */
  cr_expect(!check(OP_SHARE_PULL_PRINTER_GET, CALLER_DELEGATED,
                   PERMS("PullPrintPrinter.Read.All"), true, &d, why, sizeof why));
  cr_expect(check(OP_SHARE_PULL_PRINTER_GET, CALLER_DELEGATED,
                  PERMS("PullPrintPrinter.Read.All", "PrinterShare.ReadBasic.All"), true, &d,
                  why, sizeof why));
  /* reports accept the Reports Reader role too */
  test_caller_t t;
  cr_expect(perm_check(OP_REPORT_ARCHIVED_BY_USER,
                       mk(&t, CALLER_DELEGATED, PERMS("Reports.Read.All"), REPORTS_READER), &d,
                       why, sizeof why));
  cr_expect(!perm_check(OP_REPORT_ARCHIVED_BY_USER,
                        mk(&t, CALLER_DELEGATED, PERMS("Reports.Read.All"), NULL), &d, why,
                        sizeof why));
  cr_expect(strstr(why, "Reports Reader"), "%s", why);
  /* non-admins may list shares with a reduced property set */
  cr_assert(check(OP_SHARES_LIST, CALLER_DELEGATED, PERMS("PrinterShare.ReadBasic.All"), false,
                  &d, why, sizeof why));
  cr_expect(!d.admin && (d.flags & PERM_REDUCED_FOR_NON_ADMIN));
  /* app printer update: registrar rule; task triggers: same app as the definition */
  cr_assert(check(OP_PRINTER_UPDATE, CALLER_APP, PERMS("Printer.ReadWrite.All"), false, &d, why,
                  sizeof why));
  cr_expect(d.flags & PERM_APP_REGISTRAR);
  cr_assert(check(OP_TASK_TRIGGER_CREATE, CALLER_DELEGATED, PERMS("Printer.ReadWrite.All"), true,
                  &d, why, sizeof why));
  cr_expect(d.flags & PERM_SAME_APP_AS_DEFINITION);
  /* permission names match case-insensitively; a role is not a scope */
  cr_expect(check(OP_PRINTER_GET, CALLER_DELEGATED, PERMS("printer.read.all"), false, &d, why,
                  sizeof why));
  cr_expect(!check(OP_TASK_DEFINITION_CREATE, CALLER_DELEGATED,
                   PERMS("PrintTaskDefinition.ReadWrite.All"), true, &d, why, sizeof why));
  /* wids of an application token never make it an administrator */
  cr_expect(check(OP_PULL_PRINTERS_LIST, CALLER_APP, PERMS("PullPrintPrinter.Read.All"), true,
                  &d, why, sizeof why));
  cr_expect(!d.admin);
}

Test(permissions, share_twins) {
  for (int op = OP_UNKNOWN + 1; op < OP__COUNT; op++) {
    const perm_rule_t *r = perm_rule((perm_op_t)op);
    if (strncmp(r->name, "printers.jobs.", 14) != 0) {
      cr_expect_eq(perm_op_via_share((perm_op_t)op), (perm_op_t)op, "%s", r->name);
      continue;
    }
    perm_op_t twin = perm_op_via_share((perm_op_t)op);
    if (op == OP_PRINTER_JOB_RELEASE) {
      cr_expect_eq(twin, OP_UNKNOWN);
      continue;
    }
    const perm_rule_t *s = perm_rule(twin);
    cr_assert(s, "%s has no share twin", r->name);
    cr_expect_str_eq(s->name + 7, r->name + 9, "%s / %s", r->name, s->name); /* same suffix */
    cr_expect_str_eq(s->action, r->action);
    cr_expect(s->flags & PERM_DLG_NEEDS_SHARE_READ, "%s", s->name);
    cr_expect(!(s->flags & PERM_DLG_NEEDS_PRINTER_READ), "%s", s->name);
    cr_expect_eq(s->flags & PERM_JOBS, r->flags & PERM_JOBS);
  }
}

Test(permissions, services_accept_every_print_delegated_permission) {
  const perm_rule_t *r = perm_rule(OP_SERVICES_LIST);
  size_t n, want = 0;
  const perm_permission_t *all = perm_permissions(&n);
  for (size_t i = 0; i < n; i++) {
    if (!all[i].print || !(all[i].kinds & PERM_KIND_DELEGATED)) continue;
    want++;
    cr_expect(in(r->delegated, all[i].name), "services.list misses %s", all[i].name);
  }
  cr_expect_eq(count(r->delegated), want);
}
