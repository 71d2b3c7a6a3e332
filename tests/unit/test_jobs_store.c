/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print jobs in the store (store/jobs.c) on SQLite: create (ids from the counters table, the
 * empty document, printers not accepting jobs), get, list (own jobs, filters, keyset paging),
 * start (refused before the upload, fetchable without a trigger, held with a print task when
 * the printer has one) and cancel (terminal jobs refused, a held job's task aborted), plus ids
 * staying unique under concurrent creates.
 */
#include "graph/odata.h"
#include "store/db-backend.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/shares.h"
#include "store/store-private.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include "store-fixture.h"
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_printer(store_t *st, const char *tenant, const char *id, const char *accepting) {
  test_db_exec(st->db,
               "INSERT INTO printers (id, tenant_id, display_name, has_physical_device,"
               " is_accepting_jobs, registered_us) VALUES (?, ?, 'P', 0, ?, 1)",
               id, tenant, accepting, NULL);
}

/* Task definition d1 of app-x in t1 and its trigger tr1 on p1: a start there holds the job. */
static void add_trigger(store_t *st) {
  test_db_exec(st->db,
               "INSERT INTO task_definitions (id, tenant_id, display_name, created_by_app,"
               " created_us) VALUES ('d1', ?, 'D', 'app-x', 1)",
               "t1", NULL);
  test_db_exec(st->db,
               "INSERT INTO task_triggers (id, tenant_id, printer_id, definition_id, event,"
               " created_by_app, created_us) VALUES ('tr1', ?, ?, 'd1', 0, 'app-x', 1)",
               "t1", "p1", NULL);
}

static store_t *jobs_fixture(void) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_add(st, "t2", "", TENANT_ACTIVE), STORE_OK);
  add_printer(st, "t1", "p1", NULL);  /* accepting unknown: accepts */
  add_printer(st, "t1", "p2", "0");   /* not accepting */
  add_printer(st, "t2", "p3", "1");
  return st;
}

static store_rc_t create(store_t *st, const char *tenant, const char *printer, const char *user,
                         const char *upn, store_job_t *job, store_document_t *doc) {
  store_job_new_t n = {.tenant = tenant, .printer_id = printer, .configuration = "{\"copies\":2}",
                       .created_by_id = user, .created_by_upn = upn, .created_by_name = "U"};
  return store_job_create(st, &n, job, doc);
}

TestSuite(store_jobs, .init = test_store_setup, .fini = test_store_teardown, .timeout = 60);

Test(store_jobs, create_and_get) {
  store_t *st = jobs_fixture();
  store_job_t j;
  store_document_t d;
  cr_assert_eq(create(st, "t1", "p1", "u1", "Alice@Example.test", &j, &d), STORE_OK);
  cr_assert_eq(j.id, 1);
  cr_assert_str_eq(j.id_str, "1");
  cr_assert_eq(j.phase, JOB_CREATED);
  cr_assert_eq(j.state, 3 /* paused */);
  cr_assert_eq(j.details, JOB_DETAIL_UPLOAD_PENDING);
  cr_assert_str_eq(j.description, "The job is not a candidate for processing yet.");
  cr_assert(!j.is_fetchable && !j.is_acquired);
  cr_assert_str_eq(j.configuration, "{\"copies\":2}");
  cr_assert_str_eq(j.created_by_upn, "Alice@Example.test", "stored as sent");
  cr_assert_null(j.redirected_from);
  cr_assert(!j.has_error_code);
  cr_assert_eq(d.job_id, 1);
  cr_assert_eq(strlen(d.id), 36);
  cr_assert_str_eq(d.display_name, "");
  cr_assert_eq(d.size, 0);
  store_document_clear(&d);

  store_job_t g;
  cr_assert_eq(store_job_get(st, "t1", "1", &g), STORE_OK);
  cr_assert_str_eq(g.printer_id, "p1");
  cr_assert_eq(g.created_us, j.created_us);
  store_job_clear(&g);
  cr_assert_eq(store_job_get(st, "t2", "1", &g), STORE_NOT_FOUND, "another tenant");
  cr_assert_eq(store_job_get(st, "t1", "01", &g), STORE_NOT_FOUND, "not canonical");
  cr_assert_eq(store_job_get(st, "t1", "x", &g), STORE_NOT_FOUND);
  cr_assert_eq(store_job_get(st, "t1", "99999999999", &g), STORE_NOT_FOUND);

  store_document_t *docs;
  size_t n;
  cr_assert_eq(store_job_documents(st, "t1", 1, &docs, &n), STORE_OK);
  cr_assert_eq(n, 1u);
  store_documents_free(docs, n);

  /* The next id follows; a refused create does not use one up. */
  cr_assert_eq(create(st, "t1", "p2", "u1", NULL, NULL, NULL), STORE_CONFLICT);
  cr_assert_eq(create(st, "t1", "p3", "u1", NULL, NULL, NULL), STORE_NOT_FOUND, "other tenant");
  cr_assert_eq(create(st, "t1", "nope", "u1", NULL, NULL, NULL), STORE_NOT_FOUND);
  store_job_t j2;
  cr_assert_eq(create(st, "t2", "p3", "u9", NULL, &j2, NULL), STORE_OK);
  cr_assert_eq(j2.id, 2);
  store_job_clear(&j2);
  store_job_clear(&j);
  store_close(st);
}

static store_rc_t page(store_t *st, const char *own, const char *filter, int64_t top,
                       const char *token, store_job_t **jobs, size_t *n, char **next) {
  query_t q;
  query_init(&q);
  q.top = top;
  char err[256];
  if (filter) cr_assert_eq(odata_parse_filter(filter, &q.filter, err, sizeof err), 0, "%s", err);
  if (token) {
    q.token = calloc(1, sizeof *q.token);
    cr_assert_eq(query_pagetoken_decode(token, q.token), 0);
  }
  char *e = NULL;
  store_rc_t rc = store_job_list(st, "t1", "p1", own, &q, 100, jobs, n, next, &e);
  free(e);
  query_clear(&q);
  return rc;
}

Test(store_jobs, list_own_filters_and_pages) {
  store_t *st = jobs_fixture();
  for (int i = 0; i < 25; i++)
    cr_assert_eq(create(st, "t1", "p1", i % 2 ? "u1" : "u2",
                        i % 2 ? "Alice@Example.test" : "bob@example.test", NULL, NULL),
                 STORE_OK);
  store_job_t *jobs;
  size_t n;
  char *next;
  /* Every job, 10 per page, in id order, no duplicates or gaps. */
  int64_t expect = 1;
  char *token = NULL;
  int pages = 0;
  do {
    cr_assert_eq(page(st, NULL, NULL, 10, token, &jobs, &n, &next), STORE_OK);
    free(token);
    for (size_t i = 0; i < n; i++) cr_assert_eq(jobs[i].id, expect++);
    store_jobs_free(jobs, n);
    token = next;
    pages++;
  } while (token);
  cr_assert_eq(expect, 26);
  cr_assert_eq(pages, 3);

  /* Own jobs only. */
  cr_assert_eq(page(st, "u1", NULL, 100, NULL, &jobs, &n, &next), STORE_OK);
  cr_assert_eq(n, 12u);
  for (size_t i = 0; i < n; i++) cr_assert_str_eq(jobs[i].created_by_id, "u1");
  cr_assert_null(next);
  store_jobs_free(jobs, n);

  /* UPNs compare case-insensitively. */
  cr_assert_eq(page(st, NULL, "createdBy/userPrincipalName eq 'ALICE@example.TEST'", 100, NULL,
                    &jobs, &n, &next), STORE_OK);
  cr_assert_eq(n, 12u);
  store_jobs_free(jobs, n);
  /* id as the string Graph uses. */
  cr_assert_eq(page(st, NULL, "id eq '7'", 100, NULL, &jobs, &n, &next), STORE_OK);
  cr_assert_eq(n, 1u);
  cr_assert_eq(jobs[0].id, 7);
  store_jobs_free(jobs, n);
  cr_assert_eq(page(st, NULL, "id eq 'seven'", 100, NULL, &jobs, &n, &next), STORE_INVALID);
  /* status/state by member name; isFetchable. */
  cr_assert_eq(page(st, NULL, "status/state eq 'paused' and isFetchable eq false", 100, NULL,
                    &jobs, &n, &next), STORE_OK);
  cr_assert_eq(n, 25u);
  store_jobs_free(jobs, n);
  cr_assert_eq(page(st, NULL, "status/state eq 'processing'", 100, NULL, &jobs, &n, &next),
               STORE_OK);
  cr_assert_eq(n, 0u);
  store_jobs_free(jobs, n);
  cr_assert_eq(page(st, NULL, "status/state eq 'sleeping'", 100, NULL, &jobs, &n, &next),
               STORE_INVALID);
  /* A page token carries the fingerprint of the query as written (before the literals are
   * normalized), so the next request's odata_parse accepts it. */
  query_t q;
  query_init(&q);
  q.top = 5;
  char err[256];
  cr_assert_eq(odata_parse_filter("createdBy/userPrincipalName eq 'BOB@example.test' and "
                                  "id ge '1'", &q.filter, err, sizeof err), 0, "%s", err);
  uint64_t fp = query_fingerprint(&q);
  char *e = NULL;
  cr_assert_eq(store_job_list(st, "t1", "p1", NULL, &q, 100, &jobs, &n, &next, &e), STORE_OK);
  cr_assert_eq(n, 5u);
  cr_assert_not_null(next);
  query_pagetoken_t tok;
  cr_assert_eq(query_pagetoken_decode(next, &tok), 0);
  cr_assert_eq(tok.fingerprint, fp);
  query_pagetoken_clear(&tok);
  free(next);
  store_jobs_free(jobs, n);
  query_clear(&q);
  store_close(st);
}

/* store_job_create through a share (n.share_id): the job goes to the share's printer, read in
 * the job's transaction, whose window the printer limit counts; a missing share, another
 * tenant's share, or one that does not let every user print (unless share_any_caller) is not
 * found and nothing is written. */
Test(store_jobs, create_through_share) {
  store_t *st = jobs_fixture();
  store_share_t open1, closed, other, off;
  store_share_why_t why;
  add_printer(st, "t1", "p4", NULL);
  cr_assert_eq(store_share_create(st, "t1", "p1", "Open", true, &open1, &why), STORE_OK);
  cr_assert_eq(store_share_create(st, "t1", "p4", "Members only", false, &closed, &why), STORE_OK);
  cr_assert_eq(store_share_create(st, "t2", "p3", "Other tenant", true, &other, &why), STORE_OK);
  cr_assert_eq(store_share_create(st, "t1", "p2", "Not accepting", true, &off, &why), STORE_OK);
  store_limit_t windows[2];
  store_limits_t limits;
  store_job_limits_init(windows, &limits, "t1", NULL, "u1", 1, 0, 600);
  store_job_new_t n = {.tenant = "t1", .configuration = "{}", .created_by_id = "u1",
                       .limits = &limits};
  store_job_t j;
  const char *missing[] = {"nope", other.id, closed.id};
  for (size_t i = 0; i < 3; i++) {
    n.share_id = missing[i];
    cr_assert_eq(store_job_create(st, &n, &j, NULL), STORE_NOT_FOUND, "%s", missing[i]);
  }
  n.share_id = off.id;
  cr_assert_eq(store_job_create(st, &n, &j, NULL), STORE_CONFLICT);
  n.share_id = closed.id;
  n.share_any_caller = true;
  cr_assert_eq(store_job_create(st, &n, &j, NULL), STORE_OK, "an application may");
  cr_assert_str_eq(j.printer_id, "p4");
  store_job_clear(&j);
  n.share_id = open1.id;
  n.share_any_caller = false;
  cr_assert_eq(store_job_create(st, &n, &j, NULL), STORE_OK);
  cr_assert_eq(j.id, 2, "nothing was written by the refused creates");
  cr_assert_str_eq(j.printer_id, "p1");
  store_job_clear(&j);
  /* the printer window counted the job on p1: a second one there is refused */
  store_job_limits_init(windows, &limits, "t1", "p1", "u2", 1, 0, 600);
  n.share_id = NULL;
  n.printer_id = "p1";
  n.created_by_id = "u2";
  cr_assert_eq(store_job_create(st, &n, &j, NULL), STORE_LIMITED);
  cr_assert_eq(limits.refused, STORE_JOB_LIMIT_PRINTER);
  store_share_clear(&open1);
  store_share_clear(&closed);
  store_share_clear(&other);
  store_share_clear(&off);
  store_close(st);
}

/* store_job_start_on_share / store_job_cancel_on_share: the share's printer is read in the
 * action's transaction; a missing share, another tenant's share or a share of another printer
 * than the job's is not found and nothing is written. */
Test(store_jobs, start_and_cancel_on_share) {
  store_t *st = jobs_fixture();
  store_share_t s1, s3;
  store_share_why_t why;
  cr_assert_eq(store_share_create(st, "t1", "p2", "Other printer", true, &s1, &why), STORE_OK);
  cr_assert_eq(store_share_create(st, "t2", "p3", "Other tenant", true, &s3, &why), STORE_OK);
  store_job_t j, after;
  store_job_change_t ch;
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, &j, NULL), STORE_OK);
  test_db_exec(st->db, "UPDATE documents SET uploaded_us = 5, size = 3 WHERE job_id = ?", "1",
               NULL);
  const char *refused[] = {"nope", s1.id, s3.id};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_eq(store_job_start_on_share(st, "t1", refused[i], NULL, j.id, "http://x", &after,
                                          &ch),
                 STORE_NOT_FOUND, "%s", refused[i]);
    store_job_change_clear(&ch);
    cr_assert_eq(store_job_cancel_on_share(st, "t1", refused[i], NULL, j.id, &after, &ch),
                 STORE_NOT_FOUND, "%s", refused[i]);
    store_job_change_clear(&ch);
  }
  store_share_t s;
  cr_assert_eq(store_share_create(st, "t1", "p1", "The job's printer", true, &s, &why), STORE_OK);
  store_job_t still;
  cr_assert_eq(store_job_get(st, "t1", "1", &still), STORE_OK);
  cr_assert_eq(still.phase, JOB_CREATED, "a refused start or cancel changes nothing");
  store_job_clear(&still);
  cr_assert_eq(store_job_start_on_share(st, "t1", s.id, "u2", j.id, "http://x", &after, &ch),
               STORE_NOT_FOUND, "another user's job");
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_start_on_share(st, "t1", s.id, "u1", j.id, "http://x", &after, &ch),
               STORE_OK);
  cr_assert_eq(after.phase, JOB_FETCHABLE);
  store_job_clear(&after);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_cancel_on_share(st, "t1", s.id, "u2", j.id, &after, &ch),
               STORE_NOT_FOUND, "another user's job");
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_cancel_on_share(st, "t1", s.id, "u1", j.id, &after, &ch), STORE_OK);
  cr_assert_eq(after.phase, JOB_CANCELED);
  store_job_clear(&after);
  store_job_change_clear(&ch);
  store_share_clear(&s);
  store_share_clear(&s1);
  store_share_clear(&s3);
  store_job_clear(&j);
  store_close(st);
}

Test(store_jobs, start_without_trigger) {
  store_t *st = jobs_fixture();
  store_job_t j, after;
  store_job_change_t ch;
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, &j, NULL), STORE_OK);
  cr_assert_eq(store_job_start(st, "t1", j.id, "http://x", &after, &ch), STORE_CONFLICT);
  cr_assert_not_null(strstr(ch.why, "uploaded"), "%s", ch.why);
  store_job_change_clear(&ch);
  test_db_exec(st->db, "UPDATE documents SET uploaded_us = 5, size = 3 WHERE job_id = ?", "1",
               NULL);
  cr_assert_eq(store_job_start(st, "t2", j.id, "http://x", &after, &ch), STORE_NOT_FOUND);
  store_job_change_clear(&ch);
  /* store_job_start_on: a job on another printer, or created by another user, is not found,
   * and nothing is written */
  cr_assert_eq(store_job_start_on(st, "t1", "p2", NULL, j.id, "http://x", &after, &ch),
               STORE_NOT_FOUND);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_start_on(st, "t1", "p1", "u2", j.id, "http://x", &after, &ch),
               STORE_NOT_FOUND);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_start_on(st, "t1", "p1", "u1", j.id, "http://x", &after, &ch), STORE_OK);
  cr_assert_eq(after.phase, JOB_FETCHABLE);
  cr_assert_eq(after.state, 2 /* processing */);
  cr_assert_eq(after.details, JOB_DETAIL_INTERPRETING);
  cr_assert(after.is_fetchable);
  cr_assert_null(ch.task_id);
  cr_assert_eq(ch.from, JOB_CREATED);
  cr_assert_eq(ch.to, JOB_FETCHABLE);
  store_job_clear(&after);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_start(st, "t1", j.id, "http://x", &after, &ch), STORE_CONFLICT);
  cr_assert_not_null(strstr(ch.why, "already"), "%s", ch.why);
  store_job_change_clear(&ch);

  /* store_job_cancel_on: a job on another printer, or created by another user, is not found,
   * and its phase UPDATE is undone */
  cr_assert_eq(store_job_cancel_on(st, "t1", "p2", NULL, j.id, &after, &ch), STORE_NOT_FOUND);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_cancel_on(st, "t1", "p1", "u2", j.id, &after, &ch), STORE_NOT_FOUND);
  store_job_change_clear(&ch);
  char idtext[24];
  snprintf(idtext, sizeof idtext, "%lld", (long long)j.id);
  store_job_t still;
  cr_assert_eq(store_job_get(st, "t1", idtext, &still), STORE_OK);
  cr_assert_eq(still.phase, JOB_FETCHABLE, "a refused cancel changes nothing");
  cr_assert(still.is_fetchable);
  store_job_clear(&still);

  cr_assert_eq(store_job_cancel_on(st, "t1", "p1", "u1", j.id, &after, &ch), STORE_OK);
  cr_assert_eq(after.phase, JOB_CANCELED);
  cr_assert_eq(after.state, 6 /* canceled */);
  cr_assert(!after.is_fetchable);
  cr_assert_gt(after.completed_us, 0);
  store_job_clear(&after);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_cancel(st, "t1", j.id, &after, &ch), STORE_CONFLICT);
  cr_assert_not_null(strstr(ch.why, "canceled"), "%s", ch.why);
  store_job_change_clear(&ch);
  store_job_clear(&j);
  store_close(st);
}

Test(store_jobs, start_with_trigger_holds_and_cancel_aborts_the_task) {
  store_t *st = jobs_fixture();
  add_trigger(st);
  store_job_t j, after;
  store_job_change_t ch;
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, &j, NULL), STORE_OK);
  test_db_exec(st->db, "UPDATE documents SET uploaded_us = 5 WHERE job_id = ?", "1", NULL);
  cr_assert_eq(store_job_start(st, "t1", j.id, "http://x", &after, &ch), STORE_OK);
  cr_assert_eq(after.phase, JOB_HELD);
  cr_assert_eq(after.state, 3 /* paused */);
  cr_assert_eq(after.details, 0u);
  cr_assert_str_eq(after.description, "The job is waiting for a print task to complete.");
  cr_assert(!after.is_fetchable);
  cr_assert_gt(after.held_us, 0);
  cr_assert_not_null(ch.task_id);
  cr_assert_str_eq(ch.definition_id, "d1");
  store_task_t *tasks;
  size_t n;
  cr_assert_eq(store_job_tasks(st, "t1", j.id, &tasks, &n), STORE_OK);
  cr_assert_eq(n, 1u);
  cr_assert_eq(tasks[0].state, TASK_PROCESSING);
  cr_assert_str_eq(tasks[0].trigger_app, "app-x");
  cr_assert_str_eq(tasks[0].trigger_id, "tr1");
  cr_assert_str_eq(tasks[0].printer_id, "p1");
  store_tasks_free(tasks, n);
  store_job_clear(&after);
  store_job_change_clear(&ch);

  cr_assert_eq(store_job_cancel(st, "t1", j.id, &after, &ch), STORE_OK);
  cr_assert_eq(after.phase, JOB_CANCELED);
  cr_assert_not_null(ch.task_id);
  cr_assert_eq(store_job_tasks(st, "t1", j.id, &tasks, &n), STORE_OK);
  cr_assert_eq(tasks[0].state, TASK_ABORTED);
  store_tasks_free(tasks, n);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tasks WHERE state = 1"), 0);
  store_job_clear(&after);
  store_job_change_clear(&ch);
  store_job_clear(&j);
  store_close(st);
}

/* ---- the answers of create, start and cancel are the rows as stored ----------------------- */

static void str_eq_or_null(const char *a, const char *b, const char *what) {
  if (!a || !b) cr_assert(a == b, "%s: %s against %s", what, a ? a : "NULL", b ? b : "NULL");
  else cr_assert_str_eq(a, b, "%s", what);
}

/* Every member of the answer a equals the job as read back from the store (g). */
static void job_same(const store_job_t *a, const store_job_t *g, const char *when) {
  cr_assert_eq(a->id, g->id, "%s", when);
  cr_assert_str_eq(a->id_str, g->id_str, "%s", when);
  str_eq_or_null(a->tenant, g->tenant, "tenant");
  str_eq_or_null(a->printer_id, g->printer_id, "printer_id");
  str_eq_or_null(a->display_name, g->display_name, "display_name");
  cr_assert_eq(a->phase, g->phase, "%s: phase", when);
  cr_assert_eq(a->state, g->state, "%s: state", when);
  cr_assert_eq(a->details, g->details, "%s: details", when);
  str_eq_or_null(a->description, g->description, "description");
  cr_assert_eq(a->is_fetchable, g->is_fetchable, "%s: is_fetchable", when);
  cr_assert_eq(a->is_acquired, g->is_acquired, "%s: is_acquired", when);
  cr_assert_eq(a->acknowledged_us, g->acknowledged_us, "%s: acknowledged_us", when);
  str_eq_or_null(a->configuration, g->configuration, "configuration");
  cr_assert_eq(a->created_us, g->created_us, "%s: created_us", when);
  cr_assert_eq(a->updated_us, g->updated_us, "%s: updated_us", when);
  cr_assert_eq(a->completed_us, g->completed_us, "%s: completed_us", when);
  cr_assert_eq(a->held_us, g->held_us, "%s: held_us", when);
  str_eq_or_null(a->created_by_id, g->created_by_id, "created_by_id");
  str_eq_or_null(a->created_by_upn, g->created_by_upn, "created_by_upn");
  str_eq_or_null(a->created_by_name, g->created_by_name, "created_by_name");
  str_eq_or_null(a->created_by_ip, g->created_by_ip, "created_by_ip");
  str_eq_or_null(a->redirected_from, g->redirected_from, "redirected_from");
  str_eq_or_null(a->redirected_to, g->redirected_to, "redirected_to");
  cr_assert_eq(a->has_error_code, g->has_error_code, "%s: has_error_code", when);
  cr_assert_eq(a->error_code, g->error_code, "%s: error_code", when);
}

static void job_same_as_stored(store_t *st, const store_job_t *a, const char *when) {
  store_job_t g;
  cr_assert_eq(store_job_get(st, a->tenant, a->id_str, &g), STORE_OK, "%s", when);
  job_same(a, &g, when);
  store_job_clear(&g);
}

/* Reads the usage columns of job id: usage_day, usage_month, is_color, is_duplex (-1: NULL). */
typedef struct {
  int64_t id, v[4];
} usage_arg_t;

static int usage_fn(db_conn_t *c, void *arg) {
  usage_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "SELECT usage_day, usage_month, is_color, is_duplex FROM jobs"
                               " WHERE id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->id);
  int rc = db_step(s);
  for (int i = 0; rc == DB_ROW && i < 4; i++)
    a->v[i] = db_col_null(s, i) ? -1 : db_col_int64(s, i);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

static void usage_of(store_t *st, int64_t id, int64_t v[4]) {
  usage_arg_t a = {.id = id};
  cr_assert_eq(db_read(st->db, usage_fn, &a), 0);
  memcpy(v, a.v, sizeof a.v);
}

Test(store_jobs, answers_are_the_rows_as_stored_and_the_usage_is_recorded) {
  store_t *st = jobs_fixture();
  add_trigger(st);
  /* every creator member set, and one with the NULL-able ones unset */
  store_job_new_t full = {.tenant = "t1", .printer_id = "p1", .display_name = "Report",
                          .configuration = "{\"colorMode\":\"color\",\"duplexMode\":"
                                           "\"flipOnLongEdge\",\"copies\":3}",
                          .created_by_id = "u1", .created_by_upn = "Alice@Example.test",
                          .created_by_name = "Alice", .created_by_ip = "192.0.2.7",
                          .created_by_groups = "[\"g1\"]"};
  store_job_new_t bare = {.tenant = "t1", .printer_id = "p1"};
  store_job_t j1, j2, after;
  store_job_change_t ch;
  cr_assert_eq(store_job_create(st, &full, &j1, NULL), STORE_OK);
  job_same_as_stored(st, &j1, "created, every member set");
  cr_assert_eq(store_job_create(st, &bare, &j2, NULL), STORE_OK);
  cr_assert_null(j2.display_name);
  cr_assert_str_eq(j2.configuration, "{}");
  job_same_as_stored(st, &j2, "created, NULL members");

  /* j1: started (held by the trigger's task), then canceled: a terminal job's usage */
  test_db_exec(st->db, "UPDATE documents SET uploaded_us = 5, size = 3", NULL);
  cr_assert_eq(store_job_start(st, "t1", j1.id, "http://x", &after, &ch), STORE_OK);
  cr_assert_eq(after.phase, JOB_HELD);
  job_same_as_stored(st, &after, "started");
  int64_t u[4];
  usage_of(st, j1.id, u);
  cr_assert(u[0] == -1 && u[1] == -1 && u[2] == -1 && u[3] == -1, "no usage before the end");
  store_job_clear(&after);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_cancel(st, "t1", j1.id, &after, &ch), STORE_OK);
  cr_assert_eq(after.phase, JOB_CANCELED);
  job_same_as_stored(st, &after, "canceled while held");
  usage_of(st, j1.id, u);
  cr_assert_eq(u[0], time_day_start_us(after.completed_us));
  cr_assert_eq(u[1], time_month_start_us(after.completed_us));
  cr_assert_eq(u[2], 1, "colorMode color");
  cr_assert_eq(u[3], 1, "duplexMode flipOnLongEdge");
  store_job_clear(&after);
  store_job_change_clear(&ch);

  /* j2: canceled before its start; monochrome, one-sided */
  cr_assert_eq(store_job_cancel(st, "t1", j2.id, &after, &ch), STORE_OK);
  job_same_as_stored(st, &after, "canceled when created");
  usage_of(st, j2.id, u);
  cr_assert_eq(u[0], time_day_start_us(after.completed_us));
  cr_assert_eq(u[2], 0);
  cr_assert_eq(u[3], 0);
  cr_assert_eq(ch.from, JOB_PHASE_COUNT, "not read before the cancel's UPDATE");
  cr_assert_eq(ch.to, JOB_CANCELED);
  store_job_clear(&after);
  store_job_change_clear(&ch);

  /* j3: canceled before its start, color and two-sided: the cancel's UPDATE reads nothing
   * first, so the usage it writes is corrected from the configuration it returns */
  store_job_t j3;
  cr_assert_eq(store_job_create(st, &full, &j3, NULL), STORE_OK);
  cr_assert_eq(store_job_cancel(st, "t1", j3.id, &after, &ch), STORE_OK);
  job_same_as_stored(st, &after, "canceled when created, color");
  usage_of(st, j3.id, u);
  cr_assert_eq(u[0], time_day_start_us(after.completed_us));
  cr_assert_eq(u[1], time_month_start_us(after.completed_us));
  cr_assert_eq(u[2], 1, "colorMode color");
  cr_assert_eq(u[3], 1, "duplexMode flipOnLongEdge");
  store_job_clear(&after);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_cancel(st, "t1", j3.id, &after, &ch), STORE_CONFLICT);
  cr_assert_not_null(strstr(ch.why, "canceled"), "%s", ch.why);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_cancel(st, "t1", 999999, &after, &ch), STORE_NOT_FOUND);
  store_job_change_clear(&ch);
  store_job_clear(&j1);
  store_job_clear(&j2);
  store_job_clear(&j3);
  store_close(st);
}

/* ---- concurrent creates ------------------------------------------------------------------ */

#define NTHREADS 8
#define PER_THREAD 40

static void *create_many(void *arg) {
  store_t *st = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    store_job_new_t n = {.tenant = "t1", .printer_id = "p1", .created_by_id = "u"};
    if (store_job_create(st, &n, NULL, NULL) != STORE_OK) return (void *)1;
  }
  return NULL;
}

Test(store_jobs, concurrent_creates_get_unique_ids) {
  store_t *st = jobs_fixture();
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, create_many, st);
  int failed = 0;
  for (int i = 0; i < NTHREADS; i++) {
    void *r;
    pthread_join(t[i], &r);
    failed += r != NULL;
  }
  cr_assert_eq(failed, 0);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(DISTINCT id) FROM jobs"), NTHREADS * PER_THREAD);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM documents"), NTHREADS * PER_THREAD);
  if (test_store_is_pg()) {
    /* a sequence: a create that conflicted and ran again left a gap, never a repeat */
    cr_assert_geq(test_db_count(st->db, "SELECT MAX(id) FROM jobs"), NTHREADS * PER_THREAD);
    cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM counters WHERE name = 'job' AND value = 0"), 1,
                 "the counters row is not used on PostgreSQL");
  } else {
    cr_assert_eq(test_db_count(st->db, "SELECT MAX(id) FROM jobs"), NTHREADS * PER_THREAD);
    cr_assert_eq(test_db_count(st->db, "SELECT value FROM counters WHERE name = 'job'"),
                 NTHREADS * PER_THREAD);
  }
  store_close(st);
}

/* A store at schema 12 whose jobs took their ids from the counters row (as a spoold before
 * migration 13 did), upgraded: new ids continue above the existing ones, on both backends. */
Test(store_jobs, ids_continue_above_existing_jobs_after_migration_13) {
  char *err = NULL;
  store_t *st = store_open(test_store_dburl(), 2, false, &err);
  cr_assert_not_null(st, "%s", err ? err : "?");
  cr_assert_eq(db_migrate_to(st->db, 12, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), 12);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  add_printer(st, "t1", "p1", NULL);
  const char *ids[] = {"1", "2", "3", "7"};  /* 7: a row above the counter is respected too */
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    test_db_exec(st->db,
                 "INSERT INTO jobs (id, tenant_id, printer_id, phase, state, details, description,"
                 " is_fetchable, configuration, created_us, updated_us)"
                 " VALUES (CAST(? AS BIGINT), ?, ?, 0, 3, 0, '', 0, '{}', 1, 1)",
                 ids[i], "t1", "p1", NULL);
  test_db_exec(st->db, "UPDATE counters SET value = 3 WHERE name = 'job'", NULL);
  cr_assert_eq(store_migrate(st, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), db_schema_latest());

  store_job_t j;
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, &j, NULL), STORE_OK);
  /* PostgreSQL's sequence starts above the largest id; SQLite's counter row goes on from 3
   * (its single writer never had rows above the counter, this test's 7 aside) */
  cr_assert_eq(j.id, test_store_is_pg() ? 8 : 4);
  store_job_clear(&j);
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, &j, NULL), STORE_OK);
  cr_assert_eq(j.id, test_store_is_pg() ? 9 : 5);
  store_job_clear(&j);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM jobs"), 6);
  store_close(st);

  /* reopened (migrations idempotent), the sequence keeps its place */
  st = test_store_open(2);
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, &j, NULL), STORE_OK);
  cr_assert_eq(j.id, test_store_is_pg() ? 10 : 6);
  store_job_clear(&j);
  store_close(st);
}

/* ---- the hot-job cache (job-cache.c) ----------------------------------------------------- */

typedef struct {
  store_t    *st;
  atomic_bool stop;
  long        reads;
} reader_arg_t;

static void *read_loop(void *arg) {
  reader_arg_t *a = arg;
  while (!atomic_load(&a->stop)) {
    store_job_t g;
    if (store_job_get(a->st, "t1", "1", &g) == STORE_OK) store_job_clear(&g);
    a->reads++;
  }
  return NULL;
}

Test(store_jobs, cached_reads_see_every_committed_write) {
  store_t *st = jobs_fixture();
  cr_assert_eq(st->job_cache != NULL, !test_store_is_pg(), "a cache only when not shared");
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, NULL, NULL), STORE_OK);
  store_job_t g;
  for (int i = 0; i < 3; i++) { /* SQLite: the second read is put, the third a copy of it */
    cr_assert_eq(store_job_get(st, "t1", "1", &g), STORE_OK);
    cr_assert_str_eq(g.configuration, "{\"copies\":2}");
    store_job_clear(&g);
  }
  cr_assert_eq(store_job_get(st, "t2", "1", &g), STORE_NOT_FOUND, "the tenant is in the key");

  /* Readers fill the cache while every write lands: a read after a write returns never sees
   * the state before it (any SQL through the writer, not only the store's job functions). */
  reader_arg_t ra = {.st = st};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, read_loop, &ra);
  char want[32];
  for (int n = 0; n < 200; n++) {
    snprintf(want, sizeof want, "step %d", n);
    test_db_exec(st->db, "UPDATE jobs SET description = ? WHERE id = 1", want, NULL);
    cr_assert_eq(store_job_get(st, "t1", "1", &g), STORE_OK);
    cr_assert_str_eq(g.description, want);
    store_job_clear(&g);
  }
  atomic_store(&ra.stop, true);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  cr_assert_gt(ra.reads, 0);

  store_job_change_t ch;
  memset(&ch, 0, sizeof ch);
  cr_assert_eq(store_job_cancel(st, "t1", 1, NULL, &ch), STORE_OK);
  store_job_change_clear(&ch);
  cr_assert_eq(store_job_get(st, "t1", "1", &g), STORE_OK);
  cr_assert_eq(g.phase, JOB_CANCELED);
  store_job_clear(&g);
  test_db_exec(st->db, "DELETE FROM documents WHERE job_id = 1", NULL);
  test_db_exec(st->db, "DELETE FROM jobs WHERE id = 1", NULL);
  cr_assert_eq(store_job_get(st, "t1", "1", &g), STORE_NOT_FOUND, "a deleted job is gone");
  store_close(st);
}

Test(store_jobs, cache_keeps_a_job_from_its_second_miss_on) {
  store_job_cache_t *c = store_job_cache_new();
  store_job_cache_ver_t v1 = {.gen = 1, .token = 7}, v2 = {.gen = 2, .token = 7};
  store_job_t j = {.id = 5, .tenant = "t1", .printer_id = "p1", .description = "first",
                   .configuration = "{}"};
  store_job_t g;
  memset(&g, 0, sizeof g);
  store_job_cache_put(c, &v1, &j); /* its first miss: noted, nothing kept */
  cr_assert_not(store_job_cache_get(c, &v1, "t1", 5, &g));
  store_job_cache_put(c, &v1, &j); /* its second miss in a row: kept */
  cr_assert(store_job_cache_get(c, &v1, "t1", 5, &g));
  cr_assert_str_eq(g.description, "first");
  cr_assert_str_eq(g.printer_id, "p1");
  store_job_clear(&g);
  cr_assert_not(store_job_cache_get(c, &v1, "t2", 5, &g), "the tenant is in the key");
  cr_assert_not(store_job_cache_get(c, &v2, "t1", 5, &g), "a newer version misses");
  /* read again after a write: the job holds its slot, so its new copy replaces the old one at
   * once */
  j.description = "second";
  store_job_cache_put(c, &v2, &j);
  cr_assert(store_job_cache_get(c, &v2, "t1", 5, &g));
  cr_assert_str_eq(g.description, "second");
  store_job_clear(&g);
  cr_assert_not(store_job_cache_get(c, &v1, "t1", 5, &g), "the older version is gone");
  store_job_cache_free(c);
}

/* ---- store_read_together ----------------------------------------------------------------- */

typedef struct {
  store_t *st;
  int      runs;
  int      phase_inside;
} together_arg_t;

static void together_reads(void *arg) {
  together_arg_t *a = arg;
  a->runs++;
  /* The first read fixes the transaction's snapshot (SQLite takes it at the first statement).
   * A write from inside then stands for another thread's write landing after that: on SQLite
   * the job read below still sees the snapshot from before it. */
  cr_assert_eq(test_db_count(a->st->db, "SELECT COUNT(*) FROM jobs"), 1);
  store_job_change_t ch;
  memset(&ch, 0, sizeof ch);
  cr_assert_eq(store_job_cancel(a->st, "t1", 1, NULL, &ch), STORE_OK);
  store_job_change_clear(&ch);
  store_job_t g;
  cr_assert_eq(store_job_get(a->st, "t1", "1", &g), STORE_OK);
  a->phase_inside = (int)g.phase;
  store_job_clear(&g);
}

Test(store_jobs, read_together_runs_once_and_never_caches_an_older_snapshot) {
  store_t *st = jobs_fixture();
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, NULL, NULL), STORE_OK);
  together_arg_t a = {.st = st};
  store_read_together(st, together_reads, &a);
  cr_assert_eq(a.runs, 1);
  /* SQLite: one snapshot, taken before the cancel; PostgreSQL: each read its own */
  cr_assert_eq(a.phase_inside, test_store_is_pg() ? JOB_CANCELED : JOB_CREATED);
  /* that older copy must not have gone into the hot-job cache */
  store_job_t g;
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(store_job_get(st, "t1", "1", &g), STORE_OK);
    cr_assert_eq(g.phase, JOB_CANCELED);
    store_job_clear(&g);
  }
  store_close(st);
}

/* ---- migration 14: jobs keyed by the rowid on SQLite ------------------------------------- */

typedef struct {
  const char *sql;
  buf_t       out;
} dump_arg_t;

static int dump_fn(db_conn_t *c, void *arg) {
  dump_arg_t *a = arg;
  buf_free(&a->out);
  db_stmt_t *s = db_prepare(c, a->sql);
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    buf_puts(&a->out, db_col_text(s, 0) ? db_col_text(s, 0) : "(null row)");
    buf_puts(&a->out, "\n");
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Every row of table (the comma-separated columns cols, ordered by order) as text lines, NULL
 * written as '~' (caller frees). */
static char *dump(store_t *st, const char *table, const char *cols, const char *order) {
  buf_t sql = BUF_INIT;
  buf_puts(&sql, "SELECT ''");
  char *list = xstrdup(cols);
  for (char *save = NULL, *col = strtok_r(list, ", ", &save); col; col = strtok_r(NULL, ", ", &save))
    buf_printf(&sql, " || '|' || COALESCE(CAST(%s AS TEXT), '~')", col);
  free(list);
  buf_printf(&sql, " FROM %s ORDER BY %s", table, order);
  dump_arg_t a = {sql.data, BUF_INIT};
  cr_assert_eq(db_read(st->db, dump_fn, &a), 0, "%s", sql.data);
  buf_free(&sql);
  return a.out.data ? buf_detach(&a.out) : xstrdup("");
}

#define M14_JOB_COLS                                                                           \
  "id, tenant_id, printer_id, display_name, phase, state, details, description, is_fetchable," \
  " is_acquired, acknowledged_us, configuration, created_us, updated_us, completed_us,"       \
  " held_us, created_by_id, created_by_upn, created_by_upn_lc, created_by_name,"              \
  " created_by_ip, redirected_from, redirected_to, error_code, device_uuid, device_state,"     \
  " device_reasons, device_message, device_doc_state, impressions_completed, processing_us," \
  " usage_day, usage_month, is_color, is_duplex, created_by_groups"

/* What migration 14 must keep: every row of jobs and of what refers to jobs. */
static const struct { const char *table, *cols, *order; } m14_tables[] = {
  {"jobs", M14_JOB_COLS, "id"},
  {"documents", "id, tenant_id, job_id, display_name, content_type, size, uploaded_us,"
                " downloaded_us, sha256, blob_key", "id"},
  {"tasks", "id, tenant_id, definition_id, trigger_id, trigger_app, job_id, printer_id, state,"
            " description, created_us, updated_us", "id"},
  {"upload_sessions", "id, document_id, secret_hash, size, received, blob_key", "id"},
  {"archived_jobs", "id, tenant_id, printer_id, state, created_us, completed_us, usage_day,"
                    " page_count", "id"},
  {"download_tokens", "hash, job_id, doc_id", "hash"},
  {"counters", "name, value", "name"},
};
#define M14_NTABLES (sizeof m14_tables / sizeof m14_tables[0])

/* A store at schema 13 with jobs in every state of interest and rows in every table that
 * refers to them, then migrated: migration 14 keeps every row and index, jobs is keyed by its
 * rowid on SQLite (one B-tree per lookup), the foreign keys act again (cascade on delete, a
 * missing job refused), and new ids continue above the old ones; on PostgreSQL it records its
 * version and changes nothing. */
Test(store_jobs, migration_14_keeps_jobs_and_what_refers_to_them) {
  char *err = NULL;
  store_t *st = store_open(test_store_dburl(), 2, false, &err);
  cr_assert_not_null(st, "%s", err ? err : "?");
  cr_assert_eq(db_migrate_to(st->db, 13, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), 13);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  add_printer(st, "t1", "p1", NULL);
  add_printer(st, "t1", "p2", NULL);
  store_job_t j;
  store_document_t d;
  for (int i = 0; i < 6; i++) {
    cr_assert_eq(create(st, "t1", i % 2 ? "p2" : "p1", "u1", "Alice@Example.test", &j, &d),
                 STORE_OK);
    store_job_clear(&j);
    store_document_clear(&d);
  }
  store_job_change_t ch;
  memset(&ch, 0, sizeof ch);
  cr_assert_eq(store_job_cancel(st, "t1", 3, NULL, &ch), STORE_OK);  /* terminal, usage day */
  store_job_change_clear(&ch);
  test_db_exec(st->db, "UPDATE jobs SET phase = 1, held_us = 5, state = 3 WHERE id = 2", NULL);
  test_db_exec(st->db,
               "UPDATE documents SET size = 4, uploaded_us = 9, sha256 = 'abc', blob_key = 'k2'"
               " WHERE job_id = 2",
               NULL);
  test_db_exec(st->db,
               "INSERT INTO task_definitions (id, tenant_id, display_name, created_by_app,"
               " created_us) VALUES ('d1', ?, 'Release', 'app', 1)",
               "t1", NULL);
  test_db_exec(st->db,
               "INSERT INTO tasks (id, tenant_id, definition_id, trigger_app, job_id,"
               " printer_id, state, created_us, updated_us)"
               " VALUES ('k1', ?, 'd1', 'app', 2, 'p1', 1, 1, 1)",
               "t1", NULL);
  test_db_exec(st->db,
               "INSERT INTO upload_sessions (id, tenant_id, document_id, secret_hash,"
               " document_name, content_type, size, blob_key, expires_us, created_us)"
               " SELECT 'u1', tenant_id, id, 'h', 'a.pdf', 'application/pdf', 4, 'k4', 9, 1"
               " FROM documents WHERE job_id = 4",
               NULL);
  test_db_exec(st->db,
               "INSERT INTO archived_jobs (id, tenant_id, printer_id, state, created_us,"
               " completed_us, acquired, copies_printed, archived_us, usage_day, page_count)"
               " VALUES (CAST(? AS BIGINT), ?, 'p1', 4, 1, 2, 1, 1, 3, 0, 7)",
               "6", "t1", NULL);
  test_db_exec(st->db,
               "INSERT INTO download_tokens (hash, tenant_id, job_id, doc_id, expires_us)"
               " SELECT 'dt', tenant_id, job_id, id, 99 FROM documents WHERE job_id = 5",
               NULL);
  test_db_exec(st->db, "DELETE FROM jobs WHERE id = 6", NULL);  /* archived (above) */
  const bool pg = test_store_is_pg();
  char *before[M14_NTABLES];
  for (size_t i = 0; i < M14_NTABLES; i++)
    before[i] = dump(st, m14_tables[i].table, m14_tables[i].cols, m14_tables[i].order);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM jobs"), 5);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tasks"), 1);
  char *idx_before = NULL;
  if (!pg) {
    cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index'"
                            " AND name = 'sqlite_autoindex_jobs_1'"), 1, "keyed by an index at 13");
    idx_before = dump(st, "sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'"
                          " AND sql IS NOT NULL", "name, sql", "name");
  }

  cr_assert_eq(store_migrate(st, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), db_schema_latest());
  cr_assert_geq(db_schema_latest(), 14);
  for (size_t i = 0; i < M14_NTABLES; i++) {
    char *after = dump(st, m14_tables[i].table, m14_tables[i].cols, m14_tables[i].order);
    cr_assert_str_eq(after, before[i], "table %s changed", m14_tables[i].table);
    free(after);
    free(before[i]);
  }
  if (!pg) {
    char *idx_after = dump(st, "sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'"
                               " AND sql IS NOT NULL", "name, sql", "name");
    cr_assert_str_eq(idx_after, idx_before, "the same indexes on jobs");
    free(idx_after);
    cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_jobs_1'"
                            " OR name = 'jobs_rowid'"), 0, "no index for the key, no leftover");
    cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                            " AND name = 'jobs' AND sql LIKE '%id INTEGER PRIMARY KEY,%'"), 1);
    cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM jobs WHERE rowid <> id"), 0, "id is the rowid");
  }
  free(idx_before);

  /* the foreign keys act again: a document of a missing job is refused, deleting a job
   * deletes its documents and tasks */
  test_exec_t bad = {"INSERT INTO documents (id, tenant_id, job_id) VALUES ('x', 't1', 99)", {0}};
  cr_assert_eq(db_write(st->db, test_exec_fn, &bad), DB_ERROR, "a document of a missing job");
  test_db_exec(st->db, "DELETE FROM jobs WHERE id = 2", NULL);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM documents WHERE job_id = 2"), 0);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM tasks"), 0);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM documents"), 4);

  /* old jobs are served, new ones continue above every id taken (the archived 6 too) */
  store_job_t g;
  cr_assert_eq(store_job_get(st, "t1", "3", &g), STORE_OK);
  cr_assert_eq(g.phase, JOB_CANCELED);
  cr_assert_str_eq(g.configuration, "{\"copies\":2}");
  store_job_clear(&g);
  cr_assert_eq(create(st, "t1", "p1", "u1", NULL, &j, NULL), STORE_OK);
  cr_assert_eq(j.id, 7);
  store_job_clear(&j);
  cr_assert_eq(store_job_get(st, "t1", "7", &g), STORE_OK);
  store_job_clear(&g);
  store_close(st);
}

/* A migration that finds a broken reference (here a document of a missing job, which SQLite
 * lets in only with foreign keys off) fails as a whole: the schema stays at 13, jobs keeps its
 * old definition and every row, and the next start runs it again once the row is gone. */
Test(store_jobs, migration_14_fails_whole_on_a_broken_reference) {
  if (test_store_is_pg()) return;  /* SQLite's rebuild; PostgreSQL has nothing to check */
  char *err = NULL;
  store_t *st = store_open(test_store_dburl(), 2, false, &err);
  cr_assert_not_null(st, "%s", err ? err : "?");
  cr_assert_eq(db_migrate_to(st->db, 13, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  add_printer(st, "t1", "p1", NULL);
  for (int i = 0; i < 3; i++) cr_assert_eq(create(st, "t1", "p1", "u1", NULL, NULL, NULL), STORE_OK);
  char *jobs13 = dump(st, "jobs", M14_JOB_COLS, "id");
  store_close(st);

  char path[4096];
  snprintf(path, sizeof path, "%s/spoold.db", test_store_dir());
  sqlite3 *h = NULL;
  cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(h, "PRAGMA foreign_keys=OFF; INSERT INTO documents (id, tenant_id,"
                               " job_id) VALUES ('orphan', 't1', 42)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(h);

  st = store_open(test_store_dburl(), 2, true, &err);
  cr_assert_null(st);
  cr_assert_not_null(err);
  cr_assert(strstr(err, "database migration 14 failed: foreign key check: a row of documents"),
            "%s", err);
  free(err);
  err = NULL;
  st = store_open(test_store_dburl(), 2, false, &err);
  cr_assert_not_null(st, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), 13);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'jobs'"
                          " AND sql LIKE '%id BIGINT PRIMARY KEY%'"), 1, "the old table");
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'jobs_rowid'"), 0);
  char *now = dump(st, "jobs", M14_JOB_COLS, "id");
  cr_assert_str_eq(now, jobs13);
  free(now);
  cr_assert_eq(test_db_count(st->db, "SELECT COUNT(*) FROM documents"), 4);
  /* the writer's foreign keys are on again after the failed step */
  test_exec_t bad = {"INSERT INTO documents (id, tenant_id, job_id) VALUES ('x', 't1', 99)", {0}};
  cr_assert_eq(db_write(st->db, test_exec_fn, &bad), DB_ERROR, "a document of a missing job");
  test_db_exec(st->db, "DELETE FROM documents WHERE id = 'orphan'", NULL);
  cr_assert_eq(store_migrate(st, &err), 0, "%s", err ? err : "?");
  cr_assert_eq(store_schema_version(st), db_schema_latest());
  now = dump(st, "jobs", M14_JOB_COLS, "id");
  cr_assert_str_eq(now, jobs13);
  free(now);
  free(jobs13);
  store_close(st);
}
