/* SPDX-License-Identifier: Apache-2.0 */
/* Role presets of the development issuer (auth/dev-roles.c). */
#include "auth/dev-roles.h"
#include "core/permissions.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* Every permission a preset lists is a Universal Print permission of the preset's kind, so a
 * typo cannot hand out a token that silently lacks a right. */
Test(dev_roles, presets_name_known_permissions_of_their_kind) {
  size_t n;
  const dev_role_t *roles = dev_roles(&n);
  cr_assert_eq(n, 3);
  for (size_t i = 0; i < n; i++) {
    char list[1024];
    snprintf(list, sizeof list, "%s", roles[i].permissions);
    unsigned kind = roles[i].kind == DEV_TOKEN_APP ? PERM_KIND_APP : PERM_KIND_DELEGATED;
    for (char *save = NULL, *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
      const perm_permission_t *p = perm_permission_find(w);
      cr_assert_not_null(p, "%s: unknown permission %s", roles[i].name, w);
      cr_assert(p->kinds & kind, "%s: %s is not of the preset's kind", roles[i].name, w);
    }
  }
}

Test(dev_roles, apply_fills_defaults_and_keeps_what_the_caller_set) {
  char upn[320];
  dev_token_req_t r = {.tenant = "contoso"};
  dev_role_apply(dev_role_find("admin"), &r, upn, sizeof upn);
  cr_assert_eq(r.kind, DEV_TOKEN_USER);
  cr_assert(r.admin);
  cr_assert_str_eq(r.upn, "admin@contoso.example");
  cr_assert_not_null(strstr(r.scopes, "PrinterShare.ReadWrite.All"));
  cr_assert_not_null(strstr(r.scopes, "PullPrintPrinter.FullControl.All"));

  dev_token_req_t u = {.tenant = "t", .user_oid = "oid-1", .upn = "me@t.example"};
  dev_role_apply(dev_role_find("user"), &u, upn, sizeof upn);
  cr_assert_str_eq(u.user_oid, "oid-1");
  cr_assert_str_eq(u.upn, "me@t.example");
  cr_assert_not(u.admin);
  cr_assert_str_eq(u.scopes, "PrinterShare.ReadBasic.All PrintJob.ReadWrite");

  dev_token_req_t a = {.tenant = "t", .app_id = "my-app"};
  dev_role_apply(dev_role_find("app"), &a, upn, sizeof upn);
  cr_assert_eq(a.kind, DEV_TOKEN_APP);
  cr_assert_str_eq(a.app_id, "my-app");
  cr_assert_null(a.user_oid);
  cr_assert_not_null(strstr(a.roles, "PrintJob.Manage.All"));
  cr_assert_null(dev_role_find("device"));
  cr_assert_null(dev_role_find(NULL));
}
