/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print passwords: the secrets and their PBKDF2 hashes (auth/print-password.h), the store
 * (store/print-passwords.h: per-user limit, login lookup by lower-cased UPN, revocation scoped
 * to the owner) and when HTTP Basic is accepted on the share endpoint (ipp/share-auth.h).
 */
#include "auth/print-password.h"
#include "ipp/share-auth.h"
#include "store/print-passwords.h"
#include "store/store.h"
#include "store-fixture.h"
#include "util/log.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(print_password, secrets_are_random_and_url_safe) {
  char a[PRINT_PASSWORD_LEN + 1], b[PRINT_PASSWORD_LEN + 1];
  print_password_new(a);
  print_password_new(b);
  cr_assert_eq(strlen(a), PRINT_PASSWORD_LEN);
  cr_assert_str_neq(a, b);
  cr_assert_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
               PRINT_PASSWORD_LEN);
}

Test(print_password, hash_verifies_only_its_secret) {
  char h1[PRINT_PASSWORD_HASH_MAX], h2[PRINT_PASSWORD_HASH_MAX];
  cr_assert(print_password_hash("correct horse", h1));
  cr_assert(print_password_hash("correct horse", h2));
  cr_assert_str_neq(h1, h2, "each hash has its own salt");
  cr_assert(!strncmp(h1, "pbkdf2-sha256$100000$", 21), "%s", h1);
  cr_assert(print_password_verify("correct horse", h1));
  cr_assert(print_password_verify("correct horse", h2));
  cr_assert(!print_password_verify("correct horsf", h1));
  cr_assert(!print_password_verify("", h1));
  /* malformed stored values never verify */
  cr_assert(!print_password_verify("x", "pbkdf2-sha256$10$00$00"));
  cr_assert(!print_password_verify("x", "sha256$abc"));
  cr_assert(!print_password_verify("x", NULL));
  char bad[PRINT_PASSWORD_HASH_MAX];
  snprintf(bad, sizeof bad, "%s", h1);
  bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
  cr_assert(!print_password_verify("correct horse", bad));
}

Test(print_password, basic_only_over_tls_or_loopback_unless_allowed) {
  cr_assert(ipp_share_basic_allowed(false, "127.0.0.1", false));
  cr_assert(ipp_share_basic_allowed(false, "127.3.4.5", false));
  cr_assert(ipp_share_basic_allowed(false, "::1", false));
  cr_assert(!ipp_share_basic_allowed(false, "192.0.2.7", false));
  cr_assert(!ipp_share_basic_allowed(false, "2001:db8::1", false));
  cr_assert(!ipp_share_basic_allowed(false, "1127.0.0.1", false));
  cr_assert(ipp_share_basic_allowed(true, "192.0.2.7", false));
  cr_assert(ipp_share_basic_allowed(false, "192.0.2.7", true));
}

Test(store_print_passwords, create_lookup_revoke, .init = test_store_setup,
     .fini = test_store_teardown) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_add(st, "t2", "", TENANT_ACTIVE), STORE_OK);
  char id[32];
  for (int i = 0; i < STORE_PRINT_PASSWORDS_MAX; i++) {
    snprintf(id, sizeof id, "pw-%d", i);
    store_print_password_t p = {.id = id, .tenant = "t1", .user_id = "u1",
                                .user_name = "Alice@Contoso.TEST", .groups = "[\"g1\"]",
                                .display_name = "d", .hash = "h", .created_us = 1000 + i};
    cr_assert_eq(store_print_password_create(st, &p), STORE_OK);
  }
  store_print_password_t over = {.id = "pw-x", .tenant = "t1", .user_id = "u1",
                                 .user_name = "alice@contoso.test", .hash = "h", .created_us = 5};
  cr_assert_eq(store_print_password_create(st, &over), STORE_CONFLICT, "at most 10 per user");
  store_print_password_t *v = NULL;
  size_t n = 0;
  cr_assert_eq(store_print_password_by_login(st, "t1", "ALICE@contoso.test", &v, &n), STORE_OK);
  cr_assert_eq(n, STORE_PRINT_PASSWORDS_MAX);
  cr_assert_str_eq(v[0].user_name, "alice@contoso.test");
  cr_assert_str_eq(v[0].groups, "[\"g1\"]");
  store_print_passwords_free(v, n);
  cr_assert_eq(store_print_password_by_login(st, "t2", "alice@contoso.test", &v, &n), STORE_OK);
  cr_assert_eq(n, 0, "another tenant's login finds nothing");
  free(v);
  cr_assert_eq(store_print_password_delete(st, "t1", "u2", "pw-0"), STORE_NOT_FOUND,
               "another user cannot revoke it");
  cr_assert_eq(store_print_password_delete(st, "t1", "u1", "pw-0"), STORE_OK);
  store_print_password_t one;
  cr_assert_eq(store_print_password_get(st, "t1", "pw-0", &one), STORE_NOT_FOUND);
  cr_assert_eq(store_print_password_delete(st, "t1", NULL, "pw-1"), STORE_OK, "administrator");
  cr_assert_eq(store_print_password_used(st, "t1", "pw-2", 5000000), STORE_OK);
  cr_assert_eq(store_print_password_get(st, "t1", "pw-2", &one), STORE_OK);
  cr_assert_eq(one.last_used_us, 5000000);
  store_print_password_clear(&one);
  cr_assert_eq(store_print_password_list(st, "t1", "u1", &v, &n), STORE_OK);
  cr_assert_eq(n, STORE_PRINT_PASSWORDS_MAX - 2);
  store_print_passwords_free(v, n);
  store_close(st);
}
