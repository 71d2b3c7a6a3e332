/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printer shares in the store (store/shares.h): one share per printer, create/update (printer
 * swap)/delete, keyset-paged lists with the reduced query fields, allowedUsers/allowedGroups,
 * the print-access lookup and the recording of a user's name; and the entity reference parser
 * (graph/refs.h) that reads printer@odata.bind and @odata.id values.
 *
 * Printers are inserted with SQL here (the unit under test is the share store, not
 * registration). Each test gets its own temporary directory holding the database.
 */
#include "app.h"
#include "graph/odata.h"
#include "graph/refs.h"
#include "graph/shares.h"
#include "store/db.h"
#include "store/shares.h"
#include "store/store-private.h"
#include "store/store.h"
#include "util/log.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


typedef struct {
  const char *tenant;
  const char *id;
  const char *manufacturer;
} printer_arg_t;

static int add_printer_fn(db_conn_t *c, void *arg) {
  printer_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c,
    "INSERT INTO printers (id, tenant_id, display_name, manufacturer, model, has_physical_device,"
    " registered_us) VALUES (?, ?, ?, ?, 'M1', 0, 1)");
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->id);
  db_bind_text(s, 4, a->manufacturer);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

static void add_printer(store_t *st, const char *tenant, const char *id, const char *maker) {
  printer_arg_t a = {tenant, id, maker};
  cr_assert_eq(db_write(st->db, add_printer_fn, &a), 0, "insert printer %s", id);
}

static int delete_printer_fn(db_conn_t *c, void *arg) {
  db_stmt_t *s = db_prepare(c, "DELETE FROM printers WHERE id = ?");
  db_bind_text(s, 1, arg);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}


/* Two tenants: t1 with printers p1..p3, t2 with printer q1. */
static store_t *fixture(void) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_add(st, "t2", "", TENANT_ACTIVE), STORE_OK);
  add_printer(st, "t1", "p1", "Contoso");
  add_printer(st, "t1", "p2", "Fabrikam");
  add_printer(st, "t1", "p3", NULL);
  add_printer(st, "t2", "q1", "Contoso");
  return st;
}

TestSuite(store_shares, .init = test_store_setup, .fini = test_store_teardown, .timeout = 60);

Test(store_shares, create_get_one_per_printer) {
  store_t *st = fixture();
  store_share_t s, g;
  store_share_why_t why;
  cr_assert_eq(store_share_create(st, "t1", "p1", "Front desk", false, &s, &why), STORE_OK);
  cr_assert_eq(why.err, STORE_SHARE_ERR_NONE);
  cr_assert_eq(strlen(s.id), 36);
  cr_assert_str_eq(s.printer_id, "p1");
  cr_assert_str_eq(s.display_name, "Front desk");
  cr_assert_not(s.allow_all_users);
  cr_assert_gt(s.created_us, 0);

  cr_assert_eq(store_share_get(st, "t1", s.id, &g), STORE_OK);
  cr_assert_str_eq(g.id, s.id);
  cr_assert_str_eq(g.tenant, "t1");
  cr_assert_eq(g.created_us, s.created_us);
  store_share_clear(&g);
  cr_assert_eq(store_share_get_by_printer(st, "t1", "p1", &g), STORE_OK);
  cr_assert_str_eq(g.id, s.id);
  store_share_clear(&g);

  /* another tenant sees nothing */
  cr_assert_eq(store_share_get(st, "t2", s.id, &g), STORE_NOT_FOUND);
  cr_assert_null(g.id);
  cr_assert_eq(store_share_get_by_printer(st, "t1", "p2", &g), STORE_NOT_FOUND);

  /* a second share of p1 */
  store_share_t d;
  cr_assert_eq(store_share_create(st, "t1", "p1", "Again", true, &d, &why), STORE_CONFLICT);
  cr_assert_eq(why.err, STORE_SHARE_ERR_PRINTER_SHARED);
  cr_assert_str_eq(why.other_share_id, s.id);
  cr_assert_null(d.id);

  /* unknown printer, and a printer of another tenant */
  cr_assert_eq(store_share_create(st, "t1", "nope", "X", false, NULL, &why), STORE_NOT_FOUND);
  cr_assert_eq(why.err, STORE_SHARE_ERR_NO_PRINTER);
  cr_assert_eq(store_share_create(st, "t1", "q1", "X", false, NULL, &why), STORE_NOT_FOUND);
  cr_assert_eq(why.err, STORE_SHARE_ERR_NO_PRINTER);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM shares"), 1);
  store_share_clear(&s);
  store_close(st);
}

Test(store_shares, update_and_swap_printer) {
  store_t *st = fixture();
  store_share_t a, b, u;
  store_share_why_t why;
  cr_assert_eq(store_share_create(st, "t1", "p1", "A", false, &a, NULL), STORE_OK);
  cr_assert_eq(store_share_create(st, "t1", "p2", "B", false, &b, NULL), STORE_OK);

  store_share_patch_t p = {.display_name = "A2", .set_allow_all_users = true,
                           .allow_all_users = true};
  cr_assert_eq(store_share_update(st, "t1", a.id, &p, &u, &why), STORE_OK);
  cr_assert_str_eq(u.display_name, "A2");
  cr_assert(u.allow_all_users);
  cr_assert_str_eq(u.printer_id, "p1");
  cr_assert_eq(u.created_us, a.created_us);
  store_share_clear(&u);

  /* swap to the free printer p3: p1 is free afterwards */
  p = (store_share_patch_t){.printer_id = "p3"};
  cr_assert_eq(store_share_update(st, "t1", a.id, &p, &u, &why), STORE_OK);
  cr_assert_str_eq(u.printer_id, "p3");
  cr_assert_str_eq(u.display_name, "A2");
  store_share_clear(&u);
  cr_assert_eq(store_share_get_by_printer(st, "t1", "p1", &u), STORE_NOT_FOUND);
  /* "swapping" to its own printer changes nothing */
  cr_assert_eq(store_share_update(st, "t1", a.id, &p, NULL, &why), STORE_OK);

  /* swap to p2, which B shares */
  p = (store_share_patch_t){.printer_id = "p2", .display_name = "lost"};
  cr_assert_eq(store_share_update(st, "t1", a.id, &p, &u, &why), STORE_CONFLICT);
  cr_assert_eq(why.err, STORE_SHARE_ERR_PRINTER_SHARED);
  cr_assert_str_eq(why.other_share_id, b.id);
  cr_assert_null(u.id);
  /* to another tenant's printer, to nothing */
  p = (store_share_patch_t){.printer_id = "q1"};
  cr_assert_eq(store_share_update(st, "t1", a.id, &p, NULL, &why), STORE_NOT_FOUND);
  cr_assert_eq(why.err, STORE_SHARE_ERR_NO_PRINTER);
  cr_assert_eq(store_share_get(st, "t1", a.id, &u), STORE_OK);
  cr_assert_str_eq(u.printer_id, "p3", "a refused update changes nothing");
  cr_assert_str_eq(u.display_name, "A2");
  store_share_clear(&u);
  /* unknown share, share of another tenant */
  cr_assert_eq(store_share_update(st, "t1", "nope", &p, NULL, &why), STORE_NOT_FOUND);
  cr_assert_eq(why.err, STORE_SHARE_ERR_NO_SHARE);
  cr_assert_eq(store_share_update(st, "t2", a.id, &p, NULL, &why), STORE_NOT_FOUND);
  cr_assert_eq(why.err, STORE_SHARE_ERR_NO_SHARE);
  store_share_clear(&a);
  store_share_clear(&b);
  store_close(st);
}

Test(store_shares, delete_and_cascades) {
  store_t *st = fixture();
  store_share_t a, b;
  cr_assert_eq(store_share_create(st, "t1", "p1", "A", false, &a, NULL), STORE_OK);
  cr_assert_eq(store_share_create(st, "t1", "p2", "B", false, &b, NULL), STORE_OK);
  cr_assert_eq(store_share_member_add(st, "t1", a.id, STORE_SHARE_USER, "u1", NULL), STORE_OK);
  cr_assert_eq(store_share_member_add(st, "t1", b.id, STORE_SHARE_GROUP, "g1", NULL), STORE_OK);

  cr_assert_eq(store_share_delete(st, "t2", a.id), STORE_NOT_FOUND, "other tenant");
  cr_assert_eq(store_share_delete(st, "t1", a.id), STORE_OK);
  cr_assert_eq(store_share_delete(st, "t1", a.id), STORE_NOT_FOUND);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM share_members"), 1, "members go too");
  /* the printer is free again */
  cr_assert_eq(store_share_create(st, "t1", "p1", "A again", false, NULL, NULL), STORE_OK);

  /* deleting the printer deletes its share and the share's members */
  cr_assert_eq(db_write(st->db, delete_printer_fn, "p2"), 0);
  store_share_t g;
  cr_assert_eq(store_share_get(st, "t1", b.id, &g), STORE_NOT_FOUND);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM share_members"), 0);
  store_share_clear(&a);
  store_share_clear(&b);
  store_close(st);
}

/* Lists with q built from the given options; returns the page's rc. */
static store_rc_t list(store_t *st, const char *tenant, const char *printer, int64_t top,
                       const char *skiptoken, bool reduced, store_share_page_t *page, char *err,
                       size_t errlen) {
  query_t q;
  query_init(&q);
  q.top = top;
  if (top >= 0) q.present |= QUERY_OPT_TOP;
  if (skiptoken) {
    q.skiptoken = strdup(skiptoken);
    q.token = calloc(1, sizeof *q.token);
    cr_assert_eq(query_pagetoken_decode(skiptoken, q.token), 0);
    q.present |= QUERY_OPT_SKIPTOKEN;
  }
  store_rc_t rc = store_share_list(st, tenant, printer, &q, reduced, page, err, errlen);
  query_clear(&q);
  return rc;
}

Test(store_shares, list_pages_and_filters) {
  store_t *st = fixture();
  char id[32];
  for (int i = 0; i < 150; i++) {
    snprintf(id, sizeof id, "pp%03d", i);
    add_printer(st, "t1", id, i % 2 ? "Contoso" : "Fabrikam");
    char name[32];
    snprintf(name, sizeof name, "Share %03d", i);
    cr_assert_eq(store_share_create(st, "t1", id, name, i % 3 == 0, NULL, NULL), STORE_OK);
  }
  cr_assert_eq(store_share_create(st, "t2", "q1", "other", false, NULL, NULL), STORE_OK);

  /* 150 shares in pages of 50: three pages, no repeats, the last without a token */
  char err[256];
  char *token = NULL;
  char *seen[150];
  size_t nseen = 0;
  for (int pg = 0; pg < 3; pg++) {
    store_share_page_t page;
    cr_assert_eq(list(st, "t1", NULL, 50, token, false, &page, err, sizeof err), STORE_OK, "%s",
                 err);
    cr_assert_eq(page.n, 50, "page %d has %zu", pg, page.n);
    for (size_t i = 0; i < page.n; i++) {
      cr_assert_str_eq(page.items[i].tenant, "t1");
      for (size_t j = 0; j < nseen; j++) cr_assert_str_neq(seen[j], page.items[i].id);
      seen[nseen++] = strdup(page.items[i].id);
    }
    free(token);
    token = page.next ? strdup(page.next) : NULL;
    if (pg < 2) cr_assert_not_null(token, "page %d has a next token", pg);
    else cr_assert_null(token, "the last page has no next token");
    store_share_page_clear(&page);
  }
  for (size_t j = 0; j < nseen; j++) free(seen[j]);

  /* $filter on the printer's manufacturer and the share's allowAllUsers */
  query_t q;
  char qerr[256];
  query_init(&q);
  cr_assert_eq(odata_parse_filter("manufacturer eq 'Contoso' and allowAllUsers eq true",
                                  &q.filter, qerr, sizeof qerr), 0, "%s", qerr);
  q.present |= QUERY_OPT_FILTER;
  store_share_page_t page;
  cr_assert_eq(store_share_list(st, "t1", NULL, &q, false, &page, err, sizeof err), STORE_OK,
               "%s", err);
  cr_assert_eq(page.n, 25); /* odd i (75) that are multiples of 3: 3, 9, ..., 147 */
  store_share_page_clear(&page);
  /* the reduced property set cannot filter on allowAllUsers */
  cr_assert_eq(store_share_list(st, "t1", NULL, &q, true, &page, err, sizeof err),
               STORE_INVALID);
  cr_assert(strstr(err, "allowAllUsers"), "%s", err);
  query_clear(&q);

  /* one printer's share */
  cr_assert_eq(list(st, "t1", "pp007", -1, NULL, true, &page, err, sizeof err), STORE_OK);
  cr_assert_eq(page.n, 1);
  cr_assert_str_eq(page.items[0].printer_id, "pp007");
  store_share_page_clear(&page);
  cr_assert_eq(list(st, "t1", "q1", -1, NULL, false, &page, err, sizeof err), STORE_OK);
  cr_assert_eq(page.n, 0, "another tenant's printer lists nothing");
  store_share_page_clear(&page);
  store_close(st);
}

Test(store_shares, members) {
  store_t *st = fixture();
  store_share_t a;
  cr_assert_eq(store_share_create(st, "t1", "p1", "A", false, &a, NULL), STORE_OK);
  const char *u1 = "0a6cbbb4-6d2b-4e4e-9f2c-2e3c1b0f0001";
  const char *u2 = "0a6cbbb4-6d2b-4e4e-9f2c-2e3c1b0f0002";
  bool added = false;
  cr_assert_eq(store_share_member_add(st, "t1", a.id, STORE_SHARE_USER, u2, &added), STORE_OK);
  cr_assert(added);
  /* twice (in another case): no error, nothing new */
  cr_assert_eq(store_share_member_add(st, "t1", a.id, STORE_SHARE_USER,
                                      "0A6CBBB4-6D2B-4E4E-9F2C-2E3C1B0F0002", &added), STORE_OK);
  cr_assert_not(added);
  cr_assert_eq(store_share_member_add(st, "t1", a.id, STORE_SHARE_USER, u1, NULL), STORE_OK);
  cr_assert_eq(store_share_member_add(st, "t1", a.id, STORE_SHARE_GROUP, u1, NULL), STORE_OK);
  cr_assert_eq(store_share_member_add(st, "t2", a.id, STORE_SHARE_USER, u1, NULL),
               STORE_NOT_FOUND, "another tenant's share");

  query_t q;
  query_init(&q);
  store_share_member_page_t page;
  char err[256];
  cr_assert_eq(store_share_member_list(st, "t1", a.id, STORE_SHARE_USER, &q, &page, err,
                                       sizeof err), STORE_OK);
  cr_assert_eq(page.n, 2);
  cr_assert_str_eq(page.items[0].id, u1, "ordered by id");
  cr_assert_str_eq(page.items[1].id, u2);
  cr_assert_null(page.items[0].upn);
  cr_assert_null(page.items[0].display_name);
  cr_assert_null(page.next);
  store_share_member_page_clear(&page);
  cr_assert_eq(store_share_member_list(st, "t1", a.id, STORE_SHARE_GROUP, &q, &page, err,
                                       sizeof err), STORE_OK);
  cr_assert_eq(page.n, 1);
  store_share_member_page_clear(&page);
  cr_assert_eq(store_share_member_list(st, "t2", a.id, STORE_SHARE_GROUP, &q, &page, err,
                                       sizeof err), STORE_NOT_FOUND);

  /* remove */
  bool found = false;
  cr_assert_eq(store_share_member_remove(st, "t1", a.id, STORE_SHARE_USER, u1, &found),
               STORE_OK);
  cr_assert(found);
  cr_assert_eq(store_share_member_remove(st, "t1", a.id, STORE_SHARE_USER, u1, &found),
               STORE_NOT_FOUND);
  cr_assert(found, "the share exists: the member does not");
  cr_assert_eq(store_share_member_remove(st, "t1", "nope", STORE_SHARE_USER, u2, &found),
               STORE_NOT_FOUND);
  cr_assert_not(found);
  cr_assert_eq(store_share_member_list(st, "t1", a.id, STORE_SHARE_USER, &q, &page, err,
                                       sizeof err), STORE_OK);
  cr_assert_eq(page.n, 1);
  cr_assert_str_eq(page.items[0].id, u2);
  store_share_member_page_clear(&page);
  query_clear(&q);
  store_share_clear(&a);
  store_close(st);
}

Test(store_shares, access_and_seen) {
  store_t *st = fixture();
  store_share_t a, b;
  cr_assert_eq(store_share_create(st, "t1", "p1", "A", false, &a, NULL), STORE_OK);
  cr_assert_eq(store_share_create(st, "t1", "p2", "B", false, &b, NULL), STORE_OK);
  const char *user = "11111111-2222-4333-8444-555555555555";
  const char *group = "66666666-7777-4888-8999-aaaaaaaaaaaa";
  cr_assert_eq(store_share_member_add(st, "t1", a.id, STORE_SHARE_USER, user, NULL), STORE_OK);
  cr_assert_eq(store_share_member_add(st, "t1", b.id, STORE_SHARE_USER, user, NULL), STORE_OK);
  cr_assert_eq(store_share_member_add(st, "t1", b.id, STORE_SHARE_GROUP, group, NULL), STORE_OK);

  store_share_access_t acc;
  char *groups[] = {"00000000-0000-4000-8000-000000000000",
                    "66666666-7777-4888-8999-AAAAAAAAAAAA"};
  /* a: the user (upper-case oid), not the group */
  cr_assert_eq(store_share_access(st, "t1", a.id, "11111111-2222-4333-8444-555555555555", groups,
                                  2, &acc), STORE_OK);
  cr_assert(acc.user);
  cr_assert_null(acc.group);
  store_share_access_clear(&acc);
  /* b: another user, through the group */
  cr_assert_eq(store_share_access(st, "t1", b.id, "99999999-2222-4333-8444-555555555555", groups,
                                  2, &acc), STORE_OK);
  cr_assert_not(acc.user);
  cr_assert_str_eq(acc.group, group);
  store_share_access_clear(&acc);
  /* nobody, no groups */
  cr_assert_eq(store_share_access(st, "t1", a.id, "99999999-2222-4333-8444-555555555555", NULL,
                                  0, &acc), STORE_OK);
  cr_assert_not(acc.user);
  cr_assert_null(acc.group);
  /* another tenant's share answers no */
  cr_assert_eq(store_share_access(st, "t2", a.id, user, groups, 2, &acc), STORE_OK);
  cr_assert_not(acc.user);

  /* the user shows up in a token: both entries learn the upn and name */
  cr_assert_eq(store_share_member_seen(st, "t1", "11111111-2222-4333-8444-555555555555",
                                       "ada@contoso.example", "Ada"), STORE_OK);
  cr_assert_eq(store_share_access(st, "t1", b.id, user, NULL, 0, &acc), STORE_OK);
  cr_assert_str_eq(acc.upn, "ada@contoso.example");
  cr_assert_str_eq(acc.display_name, "Ada");
  store_share_access_clear(&acc);
  /* a token without a name keeps the name */
  cr_assert_eq(store_share_member_seen(st, "t1", user, "ada.l@contoso.example", NULL), STORE_OK);
  cr_assert_eq(store_share_access(st, "t1", a.id, user, NULL, 0, &acc), STORE_OK);
  cr_assert_str_eq(acc.upn, "ada.l@contoso.example");
  cr_assert_str_eq(acc.display_name, "Ada");
  store_share_access_clear(&acc);
  /* another tenant's user of the same id is someone else */
  cr_assert_eq(store_share_member_seen(st, "t2", user, "eve@example", "Eve"), STORE_OK);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM share_members WHERE upn = 'eve@example'"), 0);

  int64_t last = -1;
  cr_assert_eq(store_share_last_used(st, "t1", "p1", user, &last), STORE_OK);
  cr_assert_eq(last, 0, "no jobs yet");
  store_share_clear(&a);
  store_share_clear(&b);
  store_close(st);
}

/* ---- the print rule of a share (graph_share_user_may_print) ------------------------------- */

/* Runs the rule for caller c on share s; returns its answer and the response status. */
static bool may_print(store_t *st, const caller_t *c, const store_share_t *s, int *status,
                      char **body) {
  app_t app = {.store = st};
  http_request_t req;
  memset(&req, 0, sizeof req);
  req.app = &app;
  snprintf(req.request_id, sizeof req.request_id, "%s", "00000000-0000-4000-8000-000000000001");
  http_response_t res;
  http_response_init(&res);
  bool ok = graph_share_user_may_print(&req, &res, c, s);
  *status = res.status;
  *body = res.body ? strndup(res.body, res.body_len) : NULL;
  http_response_clear(&res);
  return ok;
}

Test(store_shares, user_may_print) {
  store_t *st = fixture();
  store_share_t s;
  cr_assert_eq(store_share_create(st, "t1", "p1", "Team", false, &s, NULL), STORE_OK);
  const char *member = "11111111-2222-4333-8444-555555555555";
  const char *group = "66666666-7777-4888-8999-aaaaaaaaaaaa";
  cr_assert_eq(store_share_member_add(st, "t1", s.id, STORE_SHARE_USER, member, NULL), STORE_OK);
  cr_assert_eq(store_share_member_add(st, "t1", s.id, STORE_SHARE_GROUP, group, NULL), STORE_OK);

  char *groups_none[] = {"00000000-0000-4000-8000-000000000000"};
  char *groups_in[] = {"00000000-0000-4000-8000-000000000000", (char *)group};
  caller_t outsider = {.kind = CALLER_DELEGATED, .tenant = "t1",
                       .user_id = "99999999-2222-4333-8444-555555555555", .groups = groups_none,
                       .ngroups = 1};
  caller_t in_group = outsider;
  in_group.groups = groups_in;
  in_group.ngroups = 2;
  caller_t user = {.kind = CALLER_DELEGATED, .tenant = "t1", .user_id = (char *)member,
                   .upn = "ada@contoso.example", .name = "Ada"};
  caller_t app = {.kind = CALLER_APP, .tenant = "t1", .app_id = "a1"};

  int status;
  char *body = NULL;
  cr_assert(may_print(st, &app, &s, &status, &body), "applications are not subject to the rule");
  cr_assert_eq(status, 0);
  cr_assert(may_print(st, &in_group, &s, &status, &body));
  cr_assert(may_print(st, &user, &s, &status, &body));
  cr_assert_eq(status, 0, "no answer written when allowed");
  cr_assert_not(may_print(st, &outsider, &s, &status, &body));
  cr_assert_eq(status, 403);
  cr_assert(strstr(body, "\"accessDenied\""), "%s", body);
  cr_assert(strstr(body, "You are not allowed to print to share 'Team'"), "%s", body);
  cr_assert(strstr(body, "allowedUsers or allowedGroups"), "%s", body);
  free(body);
  body = NULL;

  /* the allowed user was recorded with the token's upn and name */
  store_share_access_t acc;
  cr_assert_eq(store_share_access(st, "t1", s.id, member, NULL, 0, &acc), STORE_OK);
  cr_assert_str_eq(acc.upn, "ada@contoso.example");
  cr_assert_str_eq(acc.display_name, "Ada");
  store_share_access_clear(&acc);

  /* allowAllUsers lets everyone in */
  s.allow_all_users = true;
  cr_assert(may_print(st, &outsider, &s, &status, &body));
  store_share_clear(&s);
  store_close(st);
}

/* ---- reference URLs ---------------------------------------------------------------------- */

TestSuite(graph_refs);

static bool ref(const char *url, const char *const *sets, char *out) {
  http_request_t req;
  memset(&req, 0, sizeof req);
  return graph_ref_key(&req, url, sets, out, GRAPH_REF_KEY_MAX + 1);
}

Test(graph_refs, accepted_forms) {
  static const char *const printers[] = {"print/printers", NULL};
  static const char *const users[] = {"users", "directoryObjects", NULL};
  char k[GRAPH_REF_KEY_MAX + 1];
  const char *ok[] = {
    "https://graph.microsoft.com/v1.0/print/printers/0f0e-1",
    "https://graph.microsoft.com/beta/print/printers/0f0e-1",
    "https://GRAPH.microsoft.com/V1.0/Print/Printers/0f0e-1",
    "https://graph.microsoft.com/v1.0/print/printers('0f0e-1')",
    "https://graph.microsoft.com/v1.0/print/printers(0f0e-1)",
    "/v1.0/print/printers/0f0e-1",
    "/print/printers/0f0e-1",
    "print/printers/0f0e-1",
    "beta/print/printers('0f0e-1')",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    cr_assert(ref(ok[i], printers, k), "accepted: %s", ok[i]);
    cr_assert_str_eq(k, "0f0e-1", "%s", ok[i]);
  }
  cr_assert(ref("https://graph.microsoft.com/v1.0/users/abc", users, k));
  cr_assert_str_eq(k, "abc");
  cr_assert(ref("directoryObjects/abc", users, k));
  cr_assert_str_eq(k, "abc");

  const char *bad[] = {
    "https://graph.microsoft.com.evil.example/v1.0/print/printers/x",
    "https://example.com/v1.0/print/printers/x",
    "https://graph.microsoft.com/v1.0/print/printers/x/jobs",
    "https://graph.microsoft.com/v1.0/print/printers/x?y=1",
    "https://graph.microsoft.com/v1.0/print/printers/",
    "https://graph.microsoft.com/v1.0/print/shares/x",
    "https://graph.microsoft.com/v1.0/print/printersx/y",
    "print/printers('x'",
    "print/printers('x)",
    "print/printers/a b",
    "users/x",
    "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_not(ref(bad[i], printers, k), "refused: %s", bad[i]);
}
