/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Change notifications: resource normalisation, the JobFetchable filter, the retry schedule,
 * webhook URL rules and notification payloads (pure), and the store side (subscriptions, the
 * outbox written inside another module's transaction, endpoint-fair selection of due rows,
 * settling outcomes, expiry, db_after_commit).
 */
#include "graph/subscriptions.h"
#include "notify/notify.h"
#include "store/db.h"
#include "store/outbox.h"
#include "store/store-private.h"
#include "store/subscriptions.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include "store-fixture.h"
#include <ftw.h>
#include <netinet/in.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- resources -------------------------------------------------------------------------- */

static void expect_resource(const char *in, store_sub_kind_t kind, const char *id) {
  store_sub_kind_t k = 0;
  char *target = NULL;
  char err[256] = "";
  cr_assert(graph_subscription_resource_parse(in, &k, &target, err, sizeof err), "%s: %s", in, err);
  cr_assert_eq(k, kind, "%s", in);
  cr_assert_str_eq(target, id, "%s", in);
  free(target);
}

static void expect_bad_resource(const char *in) {
  store_sub_kind_t k = 0;
  char *target = NULL;
  char err[256] = "";
  cr_assert_not(graph_subscription_resource_parse(in, &k, &target, err, sizeof err), "%s accepted", in);
  cr_assert_null(target);
  cr_assert(strstr(err, "not supported"), "%s", err);
}

Test(notify_resource, forms) {
  const char *d = "0b8b2a5e-1c1d-4f6a-9a3e-2f1d3c4b5a69";
  expect_resource("print/taskDefinitions/0b8b2a5e-1c1d-4f6a-9a3e-2f1d3c4b5a69/tasks",
                  STORE_SUB_TASKS, d);
  expect_resource("/print/taskdefinitions/0b8b2a5e-1c1d-4f6a-9a3e-2f1d3c4b5a69/tasks",
                  STORE_SUB_TASKS, d);
  expect_resource("PRINT/TASKDEFINITIONS/0b8b2a5e-1c1d-4f6a-9a3e-2f1d3c4b5a69/TASKS",
                  STORE_SUB_TASKS, d);
  expect_resource("print/taskDefinitions('0b8b2a5e-1c1d-4f6a-9a3e-2f1d3c4b5a69')/tasks",
                  STORE_SUB_TASKS, d);
  expect_resource("print/taskDefinitions(0b8b2a5e-1c1d-4f6a-9a3e-2f1d3c4b5a69)/tasks/",
                  STORE_SUB_TASKS, d);
  expect_resource("print/printers/P1/jobs", STORE_SUB_PRINTER_JOBS, "P1");
  expect_resource("/Print/Printers('P1')/Jobs", STORE_SUB_PRINTER_JOBS, "P1");
  expect_resource("print/printers(\"P1\")/jobs", STORE_SUB_PRINTER_JOBS, "P1");
}

Test(notify_resource, refusals) {
  expect_bad_resource("");
  expect_bad_resource("print/printers");
  expect_bad_resource("print/printers/P1/jobs/7");
  expect_bad_resource("print/printers/P1/tasks");
  expect_bad_resource("print/shares/S1/jobs");
  expect_bad_resource("me/messages");
  expect_bad_resource("print//printers/P1/jobs");
  expect_bad_resource("print/printers('P1/jobs");
  expect_bad_resource("print/printers/P 1/jobs");
  expect_bad_resource("print/printers/P1/jobs?x=1");
  store_sub_kind_t k;
  char *t = NULL;
  char err[64];
  cr_assert_not(graph_subscription_resource_parse(NULL, &k, &t, err, sizeof err));
}

Test(notify_resource, format) {
  char *r = graph_subscription_resource_format(STORE_SUB_TASKS, "D");
  cr_assert_str_eq(r, "print/taskDefinitions/D/tasks");
  free(r);
  r = graph_subscription_resource_format(STORE_SUB_PRINTER_JOBS, "P");
  cr_assert_str_eq(r, "print/printers/P/jobs");
  free(r);
}

Test(notify_resource, fetchable_filter) {
  cr_assert(graph_subscription_fetchable_filter("$filter = isFetchable eq true"));
  cr_assert(graph_subscription_fetchable_filter("$filter=isFetchable eq true"));
  cr_assert(graph_subscription_fetchable_filter("  $filter  =   isFetchable   eq   true  "));
  cr_assert(graph_subscription_fetchable_filter("$FILTER = isfetchable EQ TRUE") ||
            graph_subscription_fetchable_filter("$FILTER = isfetchable eq true"));
  cr_assert(graph_subscription_fetchable_filter("?$filter=isFetchable eq true"));
  cr_assert(graph_subscription_fetchable_filter("$filter = (isFetchable eq true)"));
  cr_assert_not(graph_subscription_fetchable_filter(NULL));
  cr_assert_not(graph_subscription_fetchable_filter(""));
  cr_assert_not(graph_subscription_fetchable_filter("$filter = isFetchable eq false"));
  cr_assert_not(graph_subscription_fetchable_filter("$filter = isFetchable ne true"));
  cr_assert_not(graph_subscription_fetchable_filter("$filter = isAcquired eq true"));
  cr_assert_not(graph_subscription_fetchable_filter("isFetchable eq true"));
  cr_assert_not(graph_subscription_fetchable_filter("$filter = isFetchable eq true and isAcquired eq true"));
  cr_assert_not(graph_subscription_fetchable_filter("$select = isFetchable"));
}

/* ---- back-off ------------------------------------------------------------------------------- */

Test(notify_backoff, doubles_with_bounded_jitter) {
  const int64_t s = 1000000, cap = 600 * s;
  int64_t expect[] = {1 * s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s, 256 * s};
  for (unsigned i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    cr_assert_eq(notify_backoff_us(i + 1, s, cap, 0), expect[i], "failure %u", i + 1);
    int64_t hi = notify_backoff_us(i + 1, s, cap, UINT32_MAX);
    cr_assert_geq(hi, expect[i]);
    cr_assert_leq(hi, expect[i] + expect[i] / 4, "failure %u: %lld", i + 1, (long long)hi);
  }
  /* Capped at 10 minutes including the jitter, whatever the attempt number. */
  for (unsigned f = 10; f < 200; f += 7) {
    for (uint32_t r = 0; r < 2000000000u; r += 399999999u) {
      int64_t d = notify_backoff_us(f, s, cap, r);
      cr_assert_leq(d, cap);
      cr_assert_geq(d, cap - cap / 5);
    }
  }
  /* Retries keep getting further apart whatever the jitter. */
  for (unsigned f = 1; f < 9; f++)
    cr_assert_gt(notify_backoff_us(f + 1, s, cap, 0), notify_backoff_us(f, s, cap, UINT32_MAX));
  /* A short base (the tests' --webhook-retry-base-ms) scales the schedule. */
  cr_assert_eq(notify_backoff_us(3, 100000, cap, 0), 400000);
  cr_assert_eq(notify_backoff_us(1000000, s, cap, 0), cap - cap / 5);
}

/* ---- webhook URLs ------------------------------------------------------------------------ */

static void url_ok(const char *url, const char *allow) {
  char err[256] = "";
  cr_assert(webhook_url_check(url, allow, err, sizeof err), "%s: %s", url, err);
}

static void url_bad(const char *url, const char *allow, const char *why) {
  char err[256] = "";
  cr_assert_not(webhook_url_check(url, allow, err, sizeof err), "%s accepted", url);
  cr_assert(strstr(err, why), "%s: '%s' lacks '%s'", url, err, why);
}

Test(notify_webhook, url_rules) {
  url_ok("https://hooks.example.com/api/notify", NULL);
  url_ok("http://127.0.0.1:8080/n?x=1", "");
  url_ok("https://HOOKS.example.com/n", "hooks.example.com, other.example");
  url_ok("http://[::1]:9000/n", "::1");
  url_bad("ftp://example.com/n", NULL, "only http and https");
  url_bad("https://user:pw@example.com/n", NULL, "credentials");
  url_bad("https://user@example.com/n", NULL, "credentials");
  url_bad("/relative/path", NULL, "not an absolute");
  url_bad("", NULL, "empty");
  url_bad("https://exa mple.com/", NULL, "space");
  url_bad("https://evil.example.net/n", "hooks.example.com,127.0.0.1", "allow-list");
  url_bad("https://hooks.example.com.evil.net/n", "hooks.example.com", "allow-list");
}

/* ---- webhook address classes --------------------------------------------------------------- */

static webhook_addr_class_t classify(const char *text) {
  struct sockaddr_in in = {.sin_family = AF_INET};
  struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
  if (inet_pton(AF_INET, text, &in.sin_addr) == 1)
    return webhook_addr_classify((struct sockaddr *)&in);
  cr_assert_eq(inet_pton(AF_INET6, text, &in6.sin6_addr), 1, "%s", text);
  return webhook_addr_classify((struct sockaddr *)&in6);
}

Test(notify_webhook, address_classes) {
  static const struct { const char *a; webhook_addr_class_t c; } cases[] = {
      {"127.0.0.1", WEBHOOK_ADDR_LOOPBACK}, {"127.255.0.9", WEBHOOK_ADDR_LOOPBACK},
      {"0.0.0.0", WEBHOOK_ADDR_UNSPECIFIED}, {"0.1.2.3", WEBHOOK_ADDR_UNSPECIFIED},
      {"10.0.0.1", WEBHOOK_ADDR_PRIVATE}, {"172.16.0.1", WEBHOOK_ADDR_PRIVATE},
      {"172.31.255.255", WEBHOOK_ADDR_PRIVATE}, {"192.168.1.1", WEBHOOK_ADDR_PRIVATE},
      {"100.64.0.1", WEBHOOK_ADDR_PRIVATE}, {"255.255.255.255", WEBHOOK_ADDR_PRIVATE},
      {"169.254.169.254", WEBHOOK_ADDR_LINK_LOCAL}, {"224.0.0.1", WEBHOOK_ADDR_MULTICAST},
      {"239.255.255.250", WEBHOOK_ADDR_MULTICAST},
      {"8.8.8.8", WEBHOOK_ADDR_PUBLIC}, {"172.32.0.1", WEBHOOK_ADDR_PUBLIC},
      {"172.15.255.255", WEBHOOK_ADDR_PUBLIC}, {"192.169.0.1", WEBHOOK_ADDR_PUBLIC},
      {"11.0.0.1", WEBHOOK_ADDR_PUBLIC}, {"126.255.255.255", WEBHOOK_ADDR_PUBLIC},
      {"::", WEBHOOK_ADDR_UNSPECIFIED}, {"::1", WEBHOOK_ADDR_LOOPBACK},
      {"::ffff:127.0.0.1", WEBHOOK_ADDR_LOOPBACK}, {"::ffff:10.1.2.3", WEBHOOK_ADDR_PRIVATE},
      {"::ffff:169.254.169.254", WEBHOOK_ADDR_LINK_LOCAL}, {"::ffff:0.0.0.0", WEBHOOK_ADDR_UNSPECIFIED},
      {"::ffff:8.8.8.8", WEBHOOK_ADDR_PUBLIC}, {"::127.0.0.1", WEBHOOK_ADDR_LOOPBACK},
      {"64:ff9b::a00:1", WEBHOOK_ADDR_PRIVATE}, {"2002:7f00:1::", WEBHOOK_ADDR_LOOPBACK},
      {"fc00::1", WEBHOOK_ADDR_PRIVATE}, {"fd12:3456::1", WEBHOOK_ADDR_PRIVATE},
      {"fe80::1", WEBHOOK_ADDR_LINK_LOCAL}, {"febf::1", WEBHOOK_ADDR_LINK_LOCAL},
      {"fec0::1", WEBHOOK_ADDR_PRIVATE}, {"ff02::1", WEBHOOK_ADDR_MULTICAST},
      {"2001:4860:4860::8888", WEBHOOK_ADDR_PUBLIC}, {"2606:4700::1111", WEBHOOK_ADDR_PUBLIC},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    cr_assert_eq(classify(cases[i].a), cases[i].c, "%s: class %d, expected %d", cases[i].a,
                 classify(cases[i].a), cases[i].c);
}

Test(notify_webhook, guard_allow_list) {
  webhook_guard_t g;
  webhook_guard_init(&g, "http://hooks.internal:8080/n", "other.example, HOOKS.internal", false);
  cr_assert(g.allow_inward);
  cr_assert_not(g.allow_loopback);
  webhook_guard_init(&g, "http://evil.example/n", "hooks.internal", true);
  cr_assert_not(g.allow_inward);
  cr_assert(g.allow_loopback);
  webhook_guard_init(&g, "http://[::1]:9/n", "::1", false);
  cr_assert(g.allow_inward);
  webhook_guard_init(&g, "http://127.0.0.1/n", NULL, false);
  cr_assert_not(g.allow_inward);
  cr_assert_str_empty(g.refused);
}

/* ---- payloads ------------------------------------------------------------------------------ */

Test(notify_payload, task_created) {
  store_outbox_change_t n = {
      .subscription_id = "S", .subscription_expires_us = 1700000000000000LL,
      .change_type = "created", .resource = "print/taskDefinitions/D/tasks/K",
      .client_state = "secret", .tenant = "T", .odata_type = "#Microsoft.Graph.PrintTask",
      .object_id = "K", .parent_url = "https://h/v1.0/print/printers/P/jobs/7"};
  char *text = store_outbox_change_payload(&n);
  json_error_t e;
  json_t *body = json_loads(text, 0, &e);
  cr_assert_not_null(body, "%s", text);
  json_t *v = json_object_get(body, "value");
  cr_assert_eq(json_array_size(v), 1);
  json_t *o = json_array_get(v, 0);
  cr_assert_str_eq(json_string_value(json_object_get(o, "subscriptionId")), "S");
  cr_assert_str_eq(json_string_value(json_object_get(o, "subscriptionExpirationDateTime")),
                   "2023-11-14T22:13:20.0000000Z");
  cr_assert_str_eq(json_string_value(json_object_get(o, "changeType")), "created");
  cr_assert_str_eq(json_string_value(json_object_get(o, "resource")),
                   "print/taskDefinitions/D/tasks/K");
  cr_assert_str_eq(json_string_value(json_object_get(o, "clientState")), "secret");
  cr_assert_str_eq(json_string_value(json_object_get(o, "tenantId")), "T");
  json_t *rd = json_object_get(o, "resourceData");
  cr_assert_str_eq(json_string_value(json_object_get(rd, "@odata.type")), "#Microsoft.Graph.PrintTask");
  cr_assert_str_eq(json_string_value(json_object_get(rd, "@odata.id")),
                   "print/taskDefinitions/D/tasks/K");
  cr_assert_str_eq(json_string_value(json_object_get(rd, "id")), "K");
  cr_assert_str_eq(json_string_value(json_object_get(rd, "parentUrl")),
                   "https://h/v1.0/print/printers/P/jobs/7");
  json_decref(body);
  free(text);
}

Test(notify_payload, job_fetchable_and_lifecycle) {
  store_outbox_change_t n = {.subscription_id = "S", .change_type = "updated",
                             .resource = "print/printers/P/jobs/7", .tenant = "T",
                             .odata_type = "#Microsoft.Graph.PrintJob", .object_id = "7"};
  char *text = store_outbox_change_payload(&n);
  json_t *body = json_loads(text, 0, NULL);
  json_t *o = json_array_get(json_object_get(body, "value"), 0);
  cr_assert(json_is_null(json_object_get(o, "clientState")));
  json_t *rd = json_object_get(o, "resourceData");
  cr_assert_str_eq(json_string_value(json_object_get(rd, "@odata.type")), "#Microsoft.Graph.PrintJob");
  cr_assert_null(json_object_get(rd, "parentUrl"));
  json_decref(body);
  free(text);

  text = store_outbox_lifecycle_payload("missed", "S", 0, "print/printers/P/jobs", "c", "T");
  body = json_loads(text, 0, NULL);
  o = json_array_get(json_object_get(body, "value"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(o, "lifecycleEvent")), "missed");
  cr_assert_str_eq(json_string_value(json_object_get(o, "subscriptionId")), "S");
  cr_assert_str_eq(json_string_value(json_object_get(o, "resource")), "print/printers/P/jobs");
  cr_assert_str_eq(json_string_value(json_object_get(o, "tenantId")), "T");
  json_decref(body);
  free(text);
}

/* ---- the store side ------------------------------------------------------------------------ */

static void notify_teardown(void) {
  test_store_teardown(); /* the listener goes with the store */
}

static int exec_fn(db_conn_t *c, void *arg) { return db_exec(c, arg); }

/* A store with tenant T, task definitions D1 (app A) and D2 (app B), printer P1 with job 7
 * and task K1 of D1 for it. */
static store_t *open_seeded(void) {
  store_t *st = test_store_open(2);
  cr_assert_eq(db_write(st->db, exec_fn,
    "INSERT INTO tenants (id, state, created_us) VALUES ('T', 0, 1);"
    "INSERT INTO tenants (id, state, created_us) VALUES ('U', 0, 1);"
    "INSERT INTO task_definitions (id, tenant_id, display_name, created_by_app, created_us)"
    " VALUES ('d1-guid', 'T', 'one', 'A', 1);"
    "INSERT INTO task_definitions (id, tenant_id, display_name, created_by_app, created_us)"
    " VALUES ('d2-guid', 'T', 'two', 'B', 1);"
    "INSERT INTO printers (id, tenant_id, display_name, has_physical_device, registered_us)"
    " VALUES ('p1-guid', 'T', 'P', 0, 1);"), 0);
  return st;
}

static store_subscription_t sub_for(const char *id, const char *app, store_sub_kind_t kind,
                                    const char *target, const char *url, const char *lifecycle,
                                    int64_t expires_us) {
  static char resource[4][128];
  static int slot;
  char *r = resource[slot++ % 4];
  snprintf(r, 128, kind == STORE_SUB_TASKS ? "print/taskDefinitions/%s/tasks"
                                           : "print/printers/%s/jobs", target);
  return (store_subscription_t){
      .id = (char *)id, .tenant = "T", .app_id = (char *)app, .creator_id = (char *)app,
      .resource = r, .kind = kind, .target_id = (char *)target,
      .change_type = kind == STORE_SUB_TASKS ? "created" : "updated", .client_state = "cs",
      .notification_url = (char *)url, .lifecycle_url = (char *)lifecycle,
      .query_options = kind == STORE_SUB_TASKS ? NULL : "$filter = isFetchable eq true",
      .tls_version = "v1_2", .expires_us = expires_us};
}

typedef struct {
  const char *def, *task, *printer, *job;
} change_arg_t;

static int task_created_fn(db_conn_t *c, void *arg) {
  change_arg_t *a = arg;
  return store_outbox_task_created(c, "T", a->def, a->task, "https://h/v1.0/print/printers/p1-guid/jobs/7");
}

static int job_fetchable_fn(db_conn_t *c, void *arg) {
  change_arg_t *a = arg;
  return store_outbox_job_fetchable(c, "T", a->printer, a->job);
}

static int failing_fn(db_conn_t *c, void *arg) {
  int rc = task_created_fn(c, arg);
  return rc == 0 ? DB_ERROR : rc;  /* the change fails: its notifications must go too */
}

static int wakeups;
static void count_wakeup(void *arg) {
  (void)arg;
  __atomic_add_fetch(&wakeups, 1, __ATOMIC_SEQ_CST);
}

TestSuite(notify_store, .init = test_store_setup, .fini = notify_teardown, .timeout = 60);

Test(notify_store, subscription_lifecycle) {
  store_t *st = open_seeded();
  int64_t later = time_now_us() + 3600LL * 1000000;

  char *canon = NULL, *owner = NULL;
  cr_assert_eq(store_subscription_target(st, "T", STORE_SUB_TASKS, "D1-GUID", &canon, &owner),
               STORE_OK);
  cr_assert_str_eq(canon, "d1-guid");
  cr_assert_str_eq(owner, "A");
  free(canon);
  free(owner);
  cr_assert_eq(store_subscription_target(st, "U", STORE_SUB_TASKS, "d1-guid", &canon, &owner),
               STORE_NOT_FOUND, "another tenant's definition");
  cr_assert_eq(store_subscription_target(st, "T", STORE_SUB_PRINTER_JOBS, "P1-GUID", &canon, NULL),
               STORE_OK);
  cr_assert_str_eq(canon, "p1-guid");
  free(canon);

  store_subscription_t s = sub_for("s1", "A", STORE_SUB_TASKS, "d1-guid", "http://h/n", NULL, later);
  cr_assert_eq(store_subscription_create(st, &s), STORE_OK);
  store_subscription_t dup = sub_for("s2", "A", STORE_SUB_TASKS, "d1-guid", "http://h/m", NULL, later);
  cr_assert_eq(store_subscription_create(st, &dup), STORE_CONFLICT);
  store_subscription_t other = sub_for("s3", "B", STORE_SUB_TASKS, "d1-guid", "http://h/n", NULL, later);
  cr_assert_eq(store_subscription_create(st, &other), STORE_OK, "another app may");
  store_subscription_t gone = sub_for("s4", "A", STORE_SUB_PRINTER_JOBS, "nope", "http://h/n", NULL, later);
  cr_assert_eq(store_subscription_create(st, &gone), STORE_NOT_FOUND);

  store_subscription_t got;
  cr_assert_eq(store_subscription_get(st, "T", "s1", &got), STORE_OK);
  cr_assert_str_eq(got.resource, "print/taskDefinitions/d1-guid/tasks");
  cr_assert_str_eq(got.client_state, "cs");
  cr_assert_null(got.lifecycle_url);
  store_subscription_clear(&got);
  cr_assert_eq(store_subscription_get(st, "U", "s1", &got), STORE_NOT_FOUND);

  cr_assert_eq(store_subscription_renew(st, "T", "s1", "B", later + 1, NULL, NULL), STORE_NOT_FOUND,
               "another app's subscription");
  cr_assert_eq(store_subscription_renew(st, "T", "s1", "A", later + 5, "http://h/new", &got), STORE_OK);
  cr_assert_eq(got.expires_us, later + 5);
  cr_assert_str_eq(got.notification_url, "http://h/new");
  store_subscription_clear(&got);

  cr_assert_eq(store_subscription_delete(st, "T", "s1", "B"), STORE_NOT_FOUND);
  cr_assert_eq(store_subscription_delete(st, "T", "s1", "A"), STORE_OK);
  cr_assert_eq(store_subscription_get(st, "T", "s1", &got), STORE_NOT_FOUND);
  cr_assert_eq(store_subscription_create(st, &dup), STORE_OK, "free again after the delete");
  store_close(st);
}

typedef struct {
  char   urls[16][64];
  char   ids[16][40];
  int64_t claims[16];
  int    n;
  unsigned budget;
  const char *busy_id;  /* refused by take */
} pick_t;

static unsigned pick_budget(const char *url, void *arg) {
  (void)url;
  return ((pick_t *)arg)->budget;
}

static bool pick_take(const store_outbox_row_t *r, void *arg) {
  pick_t *p = arg;
  if (p->busy_id && strcmp(p->busy_id, r->id) == 0) return false;
  if (p->n == 16) return false;
  snprintf(p->urls[p->n], sizeof p->urls[0], "%s", r->url);
  snprintf(p->ids[p->n], sizeof p->ids[0], "%s", r->id);
  p->claims[p->n] = r->claim_us;
  p->n++;
  return true;
}

Test(notify_store, outbox_in_the_callers_transaction) {
  store_t *st = open_seeded();
  int64_t later = time_now_us() + 3600LL * 1000000;
  store_subscription_t a = sub_for("sa", "A", STORE_SUB_TASKS, "d1-guid", "http://a/n", NULL, later);
  store_subscription_t b = sub_for("sb", "B", STORE_SUB_TASKS, "d1-guid", "http://b/n", NULL, later);
  store_subscription_t j = sub_for("sj", "A", STORE_SUB_PRINTER_JOBS, "p1-guid", "http://a/j", NULL, later);
  store_subscription_t old = sub_for("so", "C", STORE_SUB_TASKS, "d1-guid", "http://c/n", NULL,
                                     time_now_us() - 1);
  cr_assert_eq(store_subscription_create(st, &a), STORE_OK);
  cr_assert_eq(store_subscription_create(st, &b), STORE_OK);
  cr_assert_eq(store_subscription_create(st, &j), STORE_OK);
  cr_assert_eq(store_subscription_create(st, &old), STORE_OK);

  wakeups = 0;
  store_outbox_set_listener(st, count_wakeup, NULL);
  change_arg_t ch = {.def = "d1-guid", .task = "k1", .printer = "p1-guid", .job = "7"};
  cr_assert_neq(db_write(st->db, failing_fn, &ch), 0);
  int64_t n = -1;
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 0, "a failed change queues nothing");
  cr_assert_eq(wakeups, 0, "and wakes nobody");

  cr_assert_eq(db_write(st->db, task_created_fn, &ch), 0);
  cr_assert_eq(wakeups, 1, "one wake-up after the commit");
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 2, "one row per unexpired matching subscription");
  cr_assert_eq(db_write(st->db, job_fetchable_fn, &ch), 0);
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 3);
  change_arg_t none = {.def = "d2-guid", .task = "k2"};
  cr_assert_eq(db_write(st->db, task_created_fn, &none), 0);
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 3, "no subscription on d2");

  /* Endpoint by endpoint: a budget of 1 takes one row per URL. */
  pick_t p = {.budget = 1};
  int64_t next = 0;
  cr_assert_eq(store_outbox_due(st, time_now_us(), 0, 10, pick_budget, pick_take, &p, &next), STORE_OK);
  cr_assert_eq(p.n, 3);
  cr_assert_eq(next, INT64_MAX);
  pick_t q = {.budget = 5, .busy_id = p.ids[0]};
  cr_assert_eq(store_outbox_due(st, time_now_us(), 0, 10, pick_budget, pick_take, &q, NULL), STORE_OK);
  cr_assert_eq(q.n, 2, "the busy row is skipped");
  pick_t none_due = {.budget = 5};
  cr_assert_eq(store_outbox_due(st, 0, 0, 10, pick_budget, pick_take, &none_due, &next), STORE_OK);
  cr_assert_eq(none_due.n, 0);
  cr_assert_gt(next, 0);

  /* Settle: one delivered, one retried later, one dropped. */
  int64_t now = time_now_us();
  store_outbox_result_t r[3] = {
      {.id = p.ids[0], .outcome = STORE_OUTBOX_DELIVERED},
      {.id = p.ids[1], .outcome = STORE_OUTBOX_RETRY, .retry_us = now + 60000000, .error = "HTTP 500"},
      {.id = p.ids[2], .outcome = STORE_OUTBOX_DROP, .error = "timeout"},
  };
  unsigned missed = 9;
  cr_assert_eq(store_outbox_settle(st, r, 3, &missed), STORE_OK);
  cr_assert_eq(missed, 0, "no lifecycle URL, no missed notification");
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 1);
  pick_t later_pick = {.budget = 5};
  cr_assert_eq(store_outbox_due(st, now, 0, 10, pick_budget, pick_take, &later_pick, &next), STORE_OK);
  cr_assert_eq(later_pick.n, 0, "the retry is not due yet");
  cr_assert_eq(next, now + 60000000);

  /* Deleting a subscription takes its pending change notifications with it. */
  cr_assert_eq(store_subscription_delete(st, "T", "sa", "A"), STORE_OK);
  cr_assert_eq(store_subscription_delete(st, "T", "sb", "B"), STORE_OK);
  cr_assert_eq(store_subscription_delete(st, "T", "sj", "A"), STORE_OK);
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 0);
  store_close(st);
}

/* A shared database (PostgreSQL): rows are claimed with a lease, so a second look (another
 * process) does not get them until the lease ends; an outcome recorded under a lease that
 * ended and was taken over changes nothing. On SQLite (one process) nothing is claimed. */
Test(notify_store, outbox_claims_with_a_lease) {
  store_t *st = open_seeded();
  int64_t now = time_now_us(), lease = 10LL * 1000000;
  store_subscription_t a = sub_for("sa", "A", STORE_SUB_TASKS, "d1-guid", "http://a/n", NULL,
                                   now + 3600LL * 1000000);
  cr_assert_eq(store_subscription_create(st, &a), STORE_OK);
  change_arg_t ch = {.def = "d1-guid", .task = "k1"};
  cr_assert_eq(db_write(st->db, task_created_fn, &ch), 0);
  cr_assert_eq(db_write(st->db, task_created_fn, &ch), 0);
  now = time_now_us();
  pick_t p = {.budget = 5};
  int64_t next = 0;
  cr_assert_eq(store_outbox_due(st, now, lease, 10, pick_budget, pick_take, &p, &next), STORE_OK);
  cr_assert_eq(p.n, 2);
  pick_t q = {.budget = 5};
  cr_assert_eq(store_outbox_due(st, now, lease, 10, pick_budget, pick_take, &q, NULL), STORE_OK);
  int64_t n = 0;
  if (!store_is_shared(st)) {
    cr_assert_eq(p.claims[0], 0);
    cr_assert_eq(q.n, 2, "one process: the rows are offered again, the worker skips its own");
    store_close(st);
    return;
  }
  cr_assert_eq(p.claims[0], now + lease);
  cr_assert_eq(p.claims[1], now + lease);
  cr_assert_eq(next, now + lease, "the next look is due when the lease ends");
  cr_assert_eq(q.n, 0, "leased rows are not offered to another look");
  /* The holder died: after the lease another look takes them, with a new lease. */
  pick_t r2 = {.budget = 5};
  int64_t later = now + lease + 1;
  cr_assert_eq(store_outbox_due(st, later, lease, 10, pick_budget, pick_take, &r2, NULL),
               STORE_OK);
  cr_assert_eq(r2.n, 2);
  cr_assert_eq(r2.claims[0], later + lease);
  /* The first holder's outcomes come late: they change nothing. */
  store_outbox_result_t stale[2] = {
      {.id = p.ids[0], .outcome = STORE_OUTBOX_DELIVERED, .claim_us = p.claims[0]},
      {.id = p.ids[1], .outcome = STORE_OUTBOX_RETRY, .retry_us = now, .claim_us = p.claims[1]}};
  cr_assert_eq(store_outbox_settle(st, stale, 2, NULL), STORE_OK);
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 2, "the new holder's rows stay");
  pick_t none = {.budget = 5};
  cr_assert_eq(store_outbox_due(st, later, lease, 10, pick_budget, pick_take, &none, NULL),
               STORE_OK);
  cr_assert_eq(none.n, 0, "the stale retry did not move the lease");
  store_outbox_result_t ok[2] = {
      {.id = r2.ids[0], .outcome = STORE_OUTBOX_DELIVERED, .claim_us = r2.claims[0]},
      {.id = r2.ids[1], .outcome = STORE_OUTBOX_DELIVERED, .claim_us = r2.claims[1]}};
  cr_assert_eq(store_outbox_settle(st, ok, 2, NULL), STORE_OK);
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 0);
  store_close(st);
}

/* Sweeps take turns across processes: while one process's sweep transaction runs (here: a
 * write closure of st holding the subscriptions sweep's turn), another process's sweep of the
 * same kind (st2, a second pool on the same database) does nothing; afterwards it sweeps. */
typedef struct {
  store_t *other;
  int      turn;
  unsigned removed_meanwhile;
  store_rc_t rc_meanwhile;
} turn_arg_t;

static int hold_turn_fn(db_conn_t *c, void *arg) {
  turn_arg_t *a = arg;
  a->turn = store_sweep_turn(c, DB_SWEEP_SUBSCRIPTIONS);
  a->rc_meanwhile = store_subscription_sweep(a->other, time_now_us(), &a->removed_meanwhile);
  return 0;
}

Test(notify_store, sweeps_take_turns_across_processes) {
  store_t *st = open_seeded();
  if (!store_is_shared(st)) {  /* one process: nothing to take turns with */
    store_close(st);
    return;
  }
  char *err = NULL;
  store_t *st2 = store_open(test_store_dburl(), 2, false, &err);
  cr_assert_not_null(st2, "%s", err ? err : "?");
  store_subscription_t old = sub_for("so", "C", STORE_SUB_TASKS, "d1-guid", "http://c/n", NULL,
                                     time_now_us() - 1);
  cr_assert_eq(store_subscription_create(st, &old), STORE_OK);
  turn_arg_t a = {.other = st2};
  /* The lock is database-wide: a test running beside this one may hold it for a moment. */
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(db_write(st->db, hold_turn_fn, &a), 0);
    if (a.turn == 1) break;
    usleep(20000);
  }
  cr_assert_eq(a.turn, 1);
  cr_assert_eq(a.rc_meanwhile, STORE_OK);
  cr_assert_eq(a.removed_meanwhile, 0, "the other process's sweep waits its turn");
  unsigned removed = 0;
  cr_assert_eq(store_subscription_sweep(st2, time_now_us(), &removed), STORE_OK);
  cr_assert_eq(removed, 1, "and runs once the turn is free");
  store_close(st2);
  store_close(st);
}

Test(notify_store, lifecycle_missed_and_removed) {
  store_t *st = open_seeded();
  int64_t now = time_now_us();
  store_subscription_t a = sub_for("sa", "A", STORE_SUB_TASKS, "d1-guid", "http://a/n",
                                   "http://a/life", now + 3600LL * 1000000);
  cr_assert_eq(store_subscription_create(st, &a), STORE_OK);
  change_arg_t ch = {.def = "d1-guid", .task = "k1"};
  cr_assert_eq(db_write(st->db, task_created_fn, &ch), 0);
  cr_assert_eq(db_write(st->db, task_created_fn, &ch), 0);
  pick_t p = {.budget = 5};
  cr_assert_eq(store_outbox_due(st, time_now_us(), 0, 10, pick_budget, pick_take, &p, NULL), STORE_OK);
  cr_assert_eq(p.n, 2);
  store_outbox_result_t r[2] = {{.id = p.ids[0], .outcome = STORE_OUTBOX_DROP},
                                {.id = p.ids[1], .outcome = STORE_OUTBOX_DROP}};
  unsigned missed = 0;
  cr_assert_eq(store_outbox_settle(st, r, 2, &missed), STORE_OK);
  cr_assert_eq(missed, 1, "one pending `missed` per subscription");
  pick_t m = {.budget = 5};
  cr_assert_eq(store_outbox_due(st, time_now_us(), 0, 10, pick_budget, pick_take, &m, NULL), STORE_OK);
  cr_assert_eq(m.n, 1);
  cr_assert_str_eq(m.urls[0], "http://a/life");

  /* Expiry: the sweep removes the subscription and queues subscriptionRemoved. */
  unsigned removed = 0;
  cr_assert_eq(store_subscription_sweep(st, now, &removed), STORE_OK);
  cr_assert_eq(removed, 0);
  cr_assert_eq(store_subscription_sweep(st, now + 3601LL * 1000000, &removed), STORE_OK);
  cr_assert_eq(removed, 1);
  store_subscription_t got;
  cr_assert_eq(store_subscription_get(st, "T", "sa", &got), STORE_NOT_FOUND);
  int64_t n = 0;
  cr_assert_eq(store_outbox_count(st, &n), STORE_OK);
  cr_assert_eq(n, 2, "the missed and the subscriptionRemoved notifications");
  store_close(st);
}
