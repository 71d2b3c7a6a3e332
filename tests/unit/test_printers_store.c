/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The printers store module (store/printers.c) on SQLite: registration with its operation, the
 * device CA's serial reservation, get/list/update (member-wise merges, status, factory
 * defaults)/restore/delete, tenant isolation, failed operations, and the content-type rule.
 */
#include "store/printers.h"
#include "core/enums.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static store_t *g_st;

static void setup(void) {
  test_store_setup();
  g_st = test_store_open(2);
  cr_assert_eq(store_tenant_add(g_st, "t1", NULL, TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_add(g_st, "t2", NULL, TENANT_ACTIVE), STORE_OK);
}

static void teardown(void) {
  store_close(g_st);
  test_store_teardown();
}

TestSuite(printers_store, .init = setup, .fini = teardown);

static void reg(const char *tenant, const char *id, const char *op, const char *name,
                bool physical) {
  store_printer_new_t n = {
      .id = id, .tenant = tenant, .display_name = name, .manufacturer = "Contoso", .model = "M1",
      .has_physical_device = physical, .physical_device_id = physical ? "dev-1" : NULL,
      .defaults = "{\"copiesPerJob\":1,\"colorMode\":\"auto\"}", .registered_by_app = "app-a",
      .cert_pem = "-----BEGIN CERTIFICATE-----\n...", .cert_sha256 = "ab", .operation_id = op,
      .now_us = time_now_us(),
  };
  cr_assert_eq(store_printer_register(g_st, &n), STORE_OK);
}

Test(printers_store, register_get_and_operation) {
  reg("t1", "p1", "op1", "Front desk", true);
  store_printer_t p;
  cr_assert_eq(store_printer_get(g_st, "t1", "p1", &p), STORE_OK);
  cr_assert_str_eq(p.display_name, "Front desk");
  cr_assert(p.has_physical_device);
  cr_assert_eq(p.is_accepting_jobs, 1);
  cr_assert_eq(p.status_state, 0, "unknown");
  cr_assert_str_eq(p.status_details, "[]");
  cr_assert_str_eq(p.status_description, "");
  cr_assert_null(p.location);
  cr_assert_str_eq(p.defaults, p.factory_defaults);
  cr_assert_null(p.capabilities);
  cr_assert_str_eq(p.registered_by_app, "app-a");
  cr_assert_not(store_printer_is_shared(&p));
  cr_assert_eq(p.last_seen_us, 0);
  store_printer_clear(&p);
  cr_assert_eq(store_printer_get(g_st, "t2", "p1", &p), STORE_NOT_FOUND, "other tenant");

  store_operation_t op;
  bool has = false;
  cr_assert_eq(store_operation_get(g_st, "t1", "op1", &op, &p, &has), STORE_OK);
  cr_assert_eq(op.state, 2, "succeeded");
  cr_assert_str_eq(op.printer_id, "p1");
  cr_assert_not_null(op.certificate);
  cr_assert(has);
  cr_assert_str_eq(p.id, "p1");
  store_operation_clear(&op);
  store_printer_clear(&p);
  cr_assert_eq(store_operation_get(g_st, "t2", "op1", &op, NULL, NULL), STORE_NOT_FOUND);

  /* the same ids again collide */
  store_printer_new_t again = {
      .id = "p1", .tenant = "t1", .display_name = "x", .operation_id = "op9", .now_us = 1};
  cr_assert_eq(store_printer_register(g_st, &again), STORE_CONFLICT);
}

Test(printers_store, failed_operations_and_list) {
  reg("t1", "p1", "op1", "A", false);
  cr_assert_eq(store_operation_add_failed(g_st, "t1", "op2", time_now_us(), "bad CSR"), STORE_OK);
  store_operation_t op;
  store_printer_t p;
  bool has = true;
  cr_assert_eq(store_operation_get(g_st, "t1", "op2", &op, &p, &has), STORE_OK);
  cr_assert_eq(op.state, 3, "failed");
  cr_assert_str_eq(op.description, "bad CSR");
  cr_assert_null(op.printer_id);
  cr_assert_null(op.certificate);
  cr_assert_not(has);
  store_operation_clear(&op);
  store_printer_clear(&p);

  query_t q;
  query_init(&q);
  store_operation_page_t page;
  char err[256];
  cr_assert_eq(store_operation_list(g_st, "t1", &q, &page, err, sizeof err), STORE_OK, "%s", err);
  cr_assert_eq(page.n, 2);
  cr_assert_null(page.next);
  store_operation_page_clear(&page);
  cr_assert_eq(store_operation_list(g_st, "t2", &q, &page, err, sizeof err), STORE_OK);
  cr_assert_eq(page.n, 0);
  store_operation_page_clear(&page);
  query_clear(&q);
}

Test(printers_store, list_pages_by_id) {
  char id[16], op[16], name[16];
  for (int i = 0; i < 7; i++) {
    snprintf(id, sizeof id, "p%d", i);
    snprintf(op, sizeof op, "o%d", i);
    snprintf(name, sizeof name, "P %d", i);
    reg("t1", id, op, name, i % 2 == 0);
  }
  reg("t2", "other", "oo", "Other", false);
  query_t q;
  query_init(&q);
  q.top = 3;
  store_printer_page_t page;
  char err[256];
  size_t total = 0, pages = 0;
  for (;;) {
    cr_assert_eq(store_printer_list(g_st, "t1", &q, &page, err, sizeof err), STORE_OK, "%s", err);
    for (size_t i = 0; i < page.n; i++) cr_assert_str_eq(page.items[i].tenant, "t1");
    total += page.n;
    pages++;
    if (!page.next) break;
    query_pagetoken_t *t = calloc(1, sizeof *t);
    cr_assert_eq(query_pagetoken_decode(page.next, t), 0);
    if (q.token) {
      query_pagetoken_clear(q.token);
      free(q.token);
    }
    q.token = t; /* the query owns it (query_clear) */
    store_printer_page_clear(&page);
  }
  store_printer_page_clear(&page);
  cr_assert_eq(total, 7);
  cr_assert_eq(pages, 3);
  query_clear(&q);
}

Test(printers_store, update_merges_and_factory_defaults) {
  reg("t1", "p1", "op1", "A", false);
  store_printer_patch_t x = {
      .display_name = "B",
      .set_is_accepting_jobs = true, .is_accepting_jobs = -1,
      .location_merge = "{\"building\":\"B1\",\"floor\":\"2\"}",
      .status_merge = "{\"state\":\"idle\",\"details\":[\"mediaLow\"]}",
      .defaults_merge = "{\"copiesPerJob\":3}",
  };
  store_printer_t p;
  cr_assert_eq(store_printer_update(g_st, "t1", "p1", &x, &p), STORE_OK);
  cr_assert_str_eq(p.display_name, "B");
  cr_assert_eq(p.is_accepting_jobs, -1);
  cr_assert_eq(p.status_state, 1);
  cr_assert_str_eq(p.status_details, "[\"mediaLow\"]");
  cr_assert_str_eq(p.location, "{\"building\":\"B1\",\"floor\":\"2\"}");
  cr_assert_str_eq(p.defaults, "{\"copiesPerJob\":3,\"colorMode\":\"auto\"}");
  cr_assert_str_eq(p.factory_defaults, "{\"copiesPerJob\":1,\"colorMode\":\"auto\"}",
                   "a delegated change is not a factory default");
  store_printer_clear(&p);

  /* member-wise: floor replaced, building kept; the registering app's defaults are factory */
  store_printer_patch_t y = {
      .location_merge = "{\"floor\":\"3\"}",
      .defaults_merge = "{\"colorMode\":\"color\"}", .defaults_are_factory = true,
      .capabilities_merge = "{\"contentTypes\":[\"image/pwg-raster\"]}",
      .set_manufacturer = true, .manufacturer = NULL,
  };
  cr_assert_eq(store_printer_update(g_st, "t1", "p1", &y, &p), STORE_OK);
  cr_assert_str_eq(p.location, "{\"building\":\"B1\",\"floor\":\"3\"}");
  cr_assert_str_eq(p.defaults, "{\"copiesPerJob\":3,\"colorMode\":\"color\"}");
  cr_assert_str_eq(p.factory_defaults, "{\"copiesPerJob\":1,\"colorMode\":\"color\"}");
  cr_assert_null(p.manufacturer);
  cr_assert_not(store_printer_accepts_content_type(&p, "application/pdf"));
  cr_assert(store_printer_accepts_content_type(&p, "Image/PWG-Raster; x=1"));
  store_printer_clear(&p);

  cr_assert_eq(store_printer_restore_defaults(g_st, "t1", "p1"), STORE_OK);
  cr_assert_eq(store_printer_get(g_st, "t1", "p1", &p), STORE_OK);
  cr_assert_str_eq(p.defaults, "{\"copiesPerJob\":1,\"colorMode\":\"color\"}");
  store_printer_clear(&p);

  /* "null" clears a property; another tenant cannot touch it */
  store_printer_patch_t z = {.location_merge = "null"};
  cr_assert_eq(store_printer_update(g_st, "t1", "p1", &z, &p), STORE_OK);
  cr_assert_null(p.location);
  store_printer_clear(&p);
  cr_assert_eq(store_printer_update(g_st, "t2", "p1", &z, NULL), STORE_NOT_FOUND);
  cr_assert_eq(store_printer_restore_defaults(g_st, "t2", "p1"), STORE_NOT_FOUND);
  cr_assert_eq(store_printer_delete(g_st, "t2", "p1"), STORE_NOT_FOUND);
  cr_assert_eq(store_printer_delete(g_st, "t1", "p1"), STORE_OK);
  cr_assert_eq(store_printer_delete(g_st, "t1", "p1"), STORE_NOT_FOUND);
  cr_assert_eq(store_printer_get(g_st, "t1", "p1", &p), STORE_NOT_FOUND);

  /* the operation stays, without its printer */
  store_operation_t op;
  bool has = true;
  cr_assert_eq(store_operation_get(g_st, "t1", "op1", &op, &p, &has), STORE_OK);
  cr_assert_not(has);
  store_operation_clear(&op);
  store_printer_clear(&p);
}

Test(printers_store, device_ca_serials) {
  store_device_ca_t ca;
  cr_assert_eq(store_device_ca_reserve(g_st, "t1", NULL, NULL, &ca), STORE_NOT_FOUND);
  cr_assert_eq(store_device_ca_reserve(g_st, "t1", "KEY1", "CERT1", &ca), STORE_OK);
  cr_assert_str_eq(ca.key_pem, "KEY1");
  cr_assert_eq(ca.serial, 1);
  store_device_ca_clear(&ca);
  /* a CA made by a concurrent request loses: the stored one is kept */
  cr_assert_eq(store_device_ca_reserve(g_st, "t1", "KEY2", "CERT2", &ca), STORE_OK);
  cr_assert_str_eq(ca.key_pem, "KEY1");
  cr_assert_str_eq(ca.cert_pem, "CERT1");
  cr_assert_eq(ca.serial, 2);
  store_device_ca_clear(&ca);
  cr_assert_eq(store_device_ca_reserve(g_st, "t1", NULL, NULL, &ca), STORE_OK);
  cr_assert_eq(ca.serial, 3);
  store_device_ca_clear(&ca);
  cr_assert_eq(store_device_ca_reserve(g_st, "t2", NULL, NULL, &ca), STORE_NOT_FOUND, "per tenant");
}

Test(printers_store, content_types_without_capabilities) {
  store_printer_t p = {0};
  cr_assert(store_printer_accepts_content_type(&p, "application/pdf"));
  cr_assert(store_printer_accepts_content_type(&p, " APPLICATION/OXPS "));
  cr_assert_not(store_printer_accepts_content_type(&p, "image/png"));
  cr_assert_not(store_printer_accepts_content_type(&p, ""));
  cr_assert_not(store_printer_accepts_content_type(&p, NULL));
  p.capabilities = (char *)"{\"contentTypes\":[]}";
  cr_assert(store_printer_accepts_content_type(&p, "application/pdf"), "an empty list = defaults");
  p.capabilities = (char *)"{\"contentTypes\":[\"image/urf\",\"application/pdf\"]}";
  cr_assert(store_printer_accepts_content_type(&p, "application/pdf"));
  cr_assert_not(store_printer_accepts_content_type(&p, "application/oxps"));
}
