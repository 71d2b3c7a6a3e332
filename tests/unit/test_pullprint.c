/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull printing: the member-wise JSON merge (util/jsonmerge.h), the sweeper's duration text,
 * and on SQLite the task definitions / triggers / tasks store (store/tasks.h) and the task
 * governed job transitions (store/pullprint.h): the seed rule, abort, configuration update,
 * redirect, task completion and abort, held-job expiry, retention, and one winner per job when
 * transitions race on threads.
 */
#include "store/db.h"
#include "store/jobs.h"
#include "store/pullprint.h"
#include "store/store-private.h"
#include "store/store.h"
#include "store/tasks.h"
#include "sweeper.h"
#include "util/buf.h"
#include "util/jsonmerge.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pure functions --------------------------------------------------------------------- */

static char *merged(const char *base, const char *patch) {
  char *s = json_merge_members_text(base, patch);
  cr_assert_not_null(s, "merge of %s and %s", base ? base : "NULL", patch);
  return s;
}

Test(pullprint_pure, merge_members) {
  char *s = merged("{\"copies\":1,\"colorMode\":\"color\",\"margin\":{\"top\":10,\"left\":5}}",
                   "{\"colorMode\":\"grayscale\",\"margin\":{\"top\":0}}");
  cr_assert_str_eq(s, "{\"copies\":1,\"colorMode\":\"grayscale\",\"margin\":{\"top\":0,\"left\":5}}");
  free(s);
  /* arrays and scalars replace; null sets null; new members are added */
  s = merged("{\"pageRanges\":[{\"start\":1,\"end\":2}],\"dpi\":600}",
             "{\"pageRanges\":[{\"start\":3,\"end\":3}],\"dpi\":null,\"copies\":2}");
  cr_assert_str_eq(s, "{\"pageRanges\":[{\"start\":3,\"end\":3}],\"dpi\":null,\"copies\":2}");
  free(s);
  /* an object replaces a scalar and the other way round */
  s = merged("{\"margin\":null}", "{\"margin\":{\"top\":1}}");
  cr_assert_str_eq(s, "{\"margin\":{\"top\":1}}");
  free(s);
  s = merged("{\"margin\":{\"top\":1}}", "{\"margin\":null}");
  cr_assert_str_eq(s, "{\"margin\":null}");
  free(s);
  s = merged(NULL, "{\"copies\":2}");
  cr_assert_str_eq(s, "{\"copies\":2}");
  free(s);
  s = merged("", "{}");
  cr_assert_str_eq(s, "{}");
  free(s);
  cr_assert_null(json_merge_members_text("{}", "[1]"));
  cr_assert_null(json_merge_members_text("[]", "{}"));
  cr_assert_null(json_merge_members_text("{}", "not json"));
  cr_assert_null(json_merge_members_text("{}", NULL));
}

Test(pullprint_pure, duration_text) {
  static const struct {
    int64_t     s;
    const char *text;
  } cases[] = {
      {72 * 3600, "72 hours"}, {7 * 86400, "7 days"}, {4 * 86400, "4 days"}, {86400, "24 hours"},
      {3600, "1 hour"},        {2, "2 seconds"},      {1, "1 second"},      {90 * 60, "90 minutes"},
      {60, "1 minute"},        {61, "61 seconds"},    {0, "0 seconds"},     {3 * 86400 + 1, "259201 seconds"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[64];
    sweeper_duration_text(cases[i].s, out, sizeof out);
    cr_assert_str_eq(out, cases[i].text, "%" PRId64 " seconds", cases[i].s);
  }
}

/* ---- store fixture ---------------------------------------------------------------------- */

static void pp_printer(store_t *st, const char *tenant, const char *id, const char *accepting) {
  test_db_exec(st->db,
               "INSERT INTO printers (id, tenant_id, display_name, has_physical_device,"
               " is_accepting_jobs, registered_us) VALUES (?, ?, 'P', 0, ?, 1)",
               id, tenant, accepting, NULL);
}

#define APP_X "app-x"
#define APP_Y "app-y"
#define URL "https://print.example.test"

typedef struct world {
  store_t *st;
  char     def[40], def_y[40], trig[40];
} world_t;

/* Tenant t1 with printers v (trigger -> app X's definition), p (no trigger), w (not accepting),
 * and tenant t2. */
static void world_open(world_t *w) {
  w->st = test_store_open(4);
  cr_assert_eq(store_tenant_add(w->st, "t1", "", TENANT_ACTIVE), STORE_OK);
  cr_assert_eq(store_tenant_add(w->st, "t2", "", TENANT_ACTIVE), STORE_OK);
  pp_printer(w->st, "t1", "v", NULL);
  pp_printer(w->st, "t1", "p", "1");
  pp_printer(w->st, "t1", "w", "0");
  pp_printer(w->st, "t2", "q", "1");
  store_task_definition_t d;
  cr_assert_eq(store_task_definition_create(w->st, "t1", APP_X, "Release", NULL, &d), STORE_OK);
  snprintf(w->def, sizeof w->def, "%s", d.id);
  store_task_definition_clear(&d);
  cr_assert_eq(store_task_definition_create(w->st, "t1", APP_Y, "Other", "Y Inc", &d), STORE_OK);
  snprintf(w->def_y, sizeof w->def_y, "%s", d.id);
  store_task_definition_clear(&d);
  store_task_trigger_t g;
  store_trigger_refusal_t why;
  cr_assert_eq(store_task_trigger_create(w->st, "t1", "v", w->def, 0, APP_X, &g, &why), STORE_OK);
  snprintf(w->trig, sizeof w->trig, "%s", g.id);
  store_task_trigger_clear(&g);
}

/* A job on printer with its document uploaded (blob key "blob-<id>"), started. Returns its id;
 * *task (may be NULL) receives the id of the task a trigger created, if any. */
static int64_t world_job(world_t *w, const char *printer, char *task, size_t tasklen) {
  store_job_new_t n = {.tenant = "t1", .printer_id = printer, .configuration = "{\"copies\":2}",
                       .created_by_id = "u1", .created_by_upn = "u1@example.test"};
  store_job_t j;
  cr_assert_eq(store_job_create(w->st, &n, &j, NULL), STORE_OK);
  int64_t id = j.id;
  char key[64];
  snprintf(key, sizeof key, "blob-%" PRId64, id);
  test_db_exec(w->st->db,
               "UPDATE documents SET uploaded_us = 5, size = 3, blob_key = ? WHERE job_id = ?", key,
               j.id_str, NULL);
  store_job_clear(&j);
  store_job_change_t ch;
  cr_assert_eq(store_job_start(w->st, "t1", id, URL, &j, &ch), STORE_OK);
  if (task) snprintf(task, tasklen, "%s", ch.task_id ? ch.task_id : "");
  store_job_clear(&j);
  store_job_change_clear(&ch);
  return id;
}

static store_job_t world_get(world_t *w, int64_t id) {
  char s[24];
  snprintf(s, sizeof s, "%" PRId64, id);
  store_job_t j;
  cr_assert_eq(store_job_get(w->st, "t1", s, &j), STORE_OK);
  return j;
}

static int world_task_state(world_t *w, const char *task) {
  store_task_t t;
  cr_assert_eq(store_task_get(w->st, "t1", NULL, task, &t), STORE_OK);
  int state = t.state;
  store_task_clear(&t);
  return state;
}

TestSuite(pullprint_store, .init = test_store_setup, .fini = test_store_teardown, .timeout = 120);

/* ---- definitions and triggers ----------------------------------------------------------- */

static int collect_ids(const store_task_definition_t *d, void *arg) {
  buf_t *b = arg;
  buf_printf(b, "%s%s", b->len ? "," : "", d->display_name);
  return 0;
}

Test(pullprint_store, definitions_belong_to_their_app) {
  world_t w;
  world_open(&w);
  store_task_definition_t d;
  cr_assert_eq(store_task_definition_get(w.st, "t1", APP_X, w.def, &d), STORE_OK);
  cr_assert_str_eq(d.created_by_app, APP_X);
  cr_assert_null(d.created_by_name);
  store_task_definition_clear(&d);
  cr_assert_eq(store_task_definition_get(w.st, "t1", APP_Y, w.def, &d), STORE_NOT_FOUND);
  cr_assert_eq(store_task_definition_get(w.st, "t2", NULL, w.def, &d), STORE_NOT_FOUND);

  query_t q;
  query_init(&q);
  buf_t names = BUF_INIT;
  char *next = NULL, *err = NULL;
  cr_assert_eq(store_task_definition_list(w.st, "t1", APP_Y, &q, collect_ids, &names, &next, &err),
               STORE_OK);
  cr_assert_str_eq(names.data, "Other");
  cr_assert_null(next);
  buf_free(&names);

  store_task_definition_patch_t p = {.set_display_name = true, .display_name = "Renamed",
                                     .set_created_by_name = true, .created_by_name = "X Ltd"};
  cr_assert_eq(store_task_definition_update(w.st, "t1", APP_X, w.def, &p, &d), STORE_OK);
  cr_assert_str_eq(d.display_name, "Renamed");
  cr_assert_str_eq(d.created_by_name, "X Ltd");
  store_task_definition_clear(&d);
  cr_assert_eq(store_task_definition_update(w.st, "t1", APP_Y, w.def, &p, &d), STORE_NOT_FOUND);

  /* bound by a trigger: 409; Y's unbound one goes */
  char *why = NULL;
  cr_assert_eq(store_task_definition_delete(w.st, "t1", APP_X, w.def, &why), STORE_CONFLICT);
  cr_assert_not_null(strstr(why, "trigger"), "%s", why);
  free(why);
  cr_assert_eq(store_task_definition_delete(w.st, "t1", APP_Y, w.def_y, &why), STORE_OK);
  cr_assert_eq(store_task_definition_delete(w.st, "t1", APP_Y, w.def_y, &why), STORE_NOT_FOUND);
  store_close(w.st);
}

Test(pullprint_store, trigger_refusals) {
  world_t w;
  world_open(&w);
  store_task_trigger_t g;
  store_trigger_refusal_t why;
  cr_assert_eq(store_task_trigger_create(w.st, "t1", "nope", w.def, 0, APP_X, &g, &why),
               STORE_CONFLICT);
  cr_assert_eq(why, STORE_TRIGGER_NO_PRINTER);
  cr_assert_eq(store_task_trigger_create(w.st, "t2", "q", w.def, 0, APP_X, &g, &why),
               STORE_CONFLICT);
  cr_assert_eq(why, STORE_TRIGGER_NO_DEFINITION, "another tenant's definition is unknown");
  cr_assert_eq(store_task_trigger_create(w.st, "t1", "p", w.def_y, 0, APP_X, &g, &why),
               STORE_CONFLICT);
  cr_assert_eq(why, STORE_TRIGGER_OTHER_APP);
  cr_assert_eq(store_task_trigger_create(w.st, "t1", "v", w.def, 0, APP_X, &g, &why),
               STORE_CONFLICT);
  cr_assert_eq(why, STORE_TRIGGER_EXISTS);
  cr_assert_eq(
      test_db_count_with(w.st->db, "SELECT COUNT(*) FROM task_triggers WHERE tenant_id = ?", "t1"),
      1);
  cr_assert_eq(store_task_trigger_get(w.st, "t1", "p", w.trig, &g), STORE_NOT_FOUND,
               "the trigger is v's, not p's");
  cr_assert_eq(store_task_trigger_delete(w.st, "t1", "p", w.trig), STORE_NOT_FOUND);
  cr_assert_eq(store_task_trigger_delete(w.st, "t1", "v", w.trig), STORE_OK);
  cr_assert_eq(store_task_trigger_create(w.st, "t1", "v", w.def, 0, APP_X, &g, &why), STORE_OK);
  cr_assert_str_eq(g.created_by_app, APP_X);
  store_task_trigger_clear(&g);
  store_close(w.st);
}

/* ---- transitions ------------------------------------------------------------------------ */

Test(pullprint_store, seed_rule_and_abort) {
  world_t w;
  world_open(&w);
  char task[40];
  int64_t id = world_job(&w, "v", task, sizeof task);
  cr_assert_neq(task[0], '\0', "v's trigger fired");
  store_job_t j = world_get(&w, id);
  cr_assert_eq(j.phase, JOB_HELD);
  cr_assert_gt(j.held_us, 0);
  store_job_clear(&j);

  store_pull_result_t r;
  cr_assert_eq(store_job_seed_check(w.st, "t1", id, APP_X, &r), STORE_OK);
  store_pull_result_clear(&r);
  cr_assert_eq(store_job_seed_check(w.st, "t1", id, APP_Y, &r), STORE_CONFLICT);
  cr_assert_eq(r.seed, JOB_SEED_OTHER_APP);
  store_pull_result_clear(&r);
  cr_assert_eq(store_job_seed_check(w.st, "t2", id, APP_X, &r), STORE_NOT_FOUND);
  store_pull_result_clear(&r);

  cr_assert_eq(store_job_abort(w.st, "t1", id, APP_Y, "no", &r), STORE_CONFLICT);
  cr_assert_eq(r.seed, JOB_SEED_OTHER_APP);
  store_pull_result_clear(&r);
  j = world_get(&w, id);
  cr_assert_eq(j.phase, JOB_HELD, "a refused abort changes nothing");
  store_job_clear(&j);
  cr_assert_eq(world_task_state(&w, task), TASK_PROCESSING);

  /* store_job_abort_on: a job on another printer than the one named is not found, and
   * nothing changes */
  cr_assert_eq(store_job_abort_on(w.st, "t1", "p", id, APP_X, "wrong printer", &r),
               STORE_NOT_FOUND);
  store_pull_result_clear(&r);
  cr_assert_eq(store_job_abort_on(w.st, "t2", "v", id, APP_X, "other tenant", &r),
               STORE_NOT_FOUND);
  store_pull_result_clear(&r);
  j = world_get(&w, id);
  cr_assert_eq(j.phase, JOB_HELD, "an abort on another printer changes nothing");
  cr_assert_str_eq(j.printer_id, "v");
  store_job_clear(&j);
  cr_assert_eq(world_task_state(&w, task), TASK_PROCESSING);

  /* and so is a cancel of the held job on another printer (nothing read is changed) */
  store_job_change_t ch;
  cr_assert_eq(store_job_cancel_on(w.st, "t1", "p", NULL, id, NULL, &ch), STORE_NOT_FOUND);
  store_job_change_clear(&ch);
  j = world_get(&w, id);
  cr_assert_eq(j.phase, JOB_HELD, "a cancel on another printer changes nothing");
  store_job_clear(&j);
  cr_assert_eq(world_task_state(&w, task), TASK_PROCESSING);

  cr_assert_eq(store_job_abort_on(w.st, "t1", "v", id, APP_X, "Walked away.", &r), STORE_OK);
  cr_assert_eq(r.from, JOB_HELD);
  cr_assert_eq(r.to, JOB_ABORTED);
  cr_assert_str_eq(r.task_id, task);
  store_pull_result_clear(&r);
  j = world_get(&w, id);
  cr_assert_eq(j.phase, JOB_ABORTED);
  cr_assert_eq(j.state, 7 /* aborted */);
  cr_assert_str_eq(j.description, "Walked away.");
  cr_assert(!j.is_fetchable);
  cr_assert_gt(j.completed_us, 0);
  store_job_clear(&j);
  cr_assert_eq(world_task_state(&w, task), TASK_ABORTED);

  cr_assert_eq(store_job_abort(w.st, "t1", id, APP_X, NULL, &r), STORE_CONFLICT);
  cr_assert_eq(r.seed, JOB_SEED_NO_TASK);
  cr_assert_not_null(strstr(r.why, "aborted"), "%s", r.why);
  store_pull_result_clear(&r);

  /* a job on a printer without a trigger never has a task */
  int64_t plain = world_job(&w, "p", NULL, 0);
  cr_assert_eq(store_job_abort(w.st, "t1", plain, APP_X, NULL, &r), STORE_CONFLICT);
  cr_assert_eq(r.seed, JOB_SEED_NO_TASK);
  store_pull_result_clear(&r);
  store_close(w.st);
}

Test(pullprint_store, task_finish_update_and_redirect) {
  world_t w;
  world_open(&w);
  char task[40], task2[40], task3[40];
  int64_t a = world_job(&w, "v", task, sizeof task);
  store_pull_result_t r;
  store_task_t t;

  /* configuration: merged, job still held */
  cr_assert_eq(store_job_update_configuration(w.st, "t1", a, APP_X, "{\"colorMode\":\"grayscale\"}",
                                              &r), STORE_OK);
  store_pull_result_clear(&r);
  store_job_t j = world_get(&w, a);
  cr_assert_str_eq(j.configuration, "{\"copies\":2,\"colorMode\":\"grayscale\"}");
  cr_assert_eq(j.phase, JOB_HELD);
  store_job_clear(&j);
  cr_assert_eq(store_job_update_configuration(w.st, "t1", a, APP_Y, "{}", &r), STORE_CONFLICT);
  store_pull_result_clear(&r);

  /* completion under the wrong definition is unknown; under its own it releases the job */
  cr_assert_eq(store_task_finish(w.st, "t1", w.def_y, task, TASK_COMPLETED, NULL, &t, &r),
               STORE_NOT_FOUND);
  store_pull_result_clear(&r);
  cr_assert_eq(store_task_finish(w.st, "t1", w.def, task, TASK_COMPLETED, NULL, &t, &r), STORE_OK);
  cr_assert_eq(t.state, TASK_COMPLETED);
  cr_assert_str_eq(t.description, "Task execution is completed.");
  cr_assert_eq(r.to, JOB_FETCHABLE);
  store_task_clear(&t);
  store_pull_result_clear(&r);
  j = world_get(&w, a);
  cr_assert(j.is_fetchable);
  store_job_clear(&j);
  cr_assert_eq(store_task_finish(w.st, "t1", w.def, task, TASK_ABORTED, NULL, &t, &r),
               STORE_CONFLICT);
  store_pull_result_clear(&r);

  /* task aborted: the job is aborted */
  int64_t b = world_job(&w, "v", task2, sizeof task2);
  cr_assert_eq(store_task_finish(w.st, "t1", w.def, task2, TASK_ABORTED, "Bad badge", &t, &r),
               STORE_OK);
  cr_assert_str_eq(t.description, "Bad badge");
  store_task_clear(&t);
  store_pull_result_clear(&r);
  j = world_get(&w, b);
  cr_assert_eq(j.phase, JOB_ABORTED);
  store_job_clear(&j);

  /* redirect: refused to unknown and not-accepting printers, then to p */
  int64_t c = world_job(&w, "v", task3, sizeof task3);
  char from[64], to[64];
  snprintf(from, sizeof from, "blob-%" PRId64, c);
  snprintf(to, sizeof to, "copy-%" PRId64, c);
  store_blob_copy_t copy = {from, to};
  store_job_redirect_t rq = {.tenant = "t1", .job_id = c, .app = APP_X, .destination = "q",
                             .configuration = "{\"copies\":5}", .public_url = URL "/",
                             .blobs = &copy, .nblobs = 1};
  cr_assert_eq(store_job_redirect(w.st, &rq, &r), STORE_CONFLICT);
  cr_assert(r.no_destination, "another tenant's printer");
  store_pull_result_clear(&r);
  rq.destination = "w";
  cr_assert_eq(store_job_redirect(w.st, &rq, &r), STORE_CONFLICT);
  cr_assert(!r.no_destination);
  cr_assert_not_null(strstr(r.why, "not accepting"), "%s", r.why);
  store_pull_result_clear(&r);
  rq.destination = "p";
  rq.nblobs = 0;
  cr_assert_eq(store_job_redirect(w.st, &rq, &r), STORE_CONFLICT, "the copy must be given");
  store_pull_result_clear(&r);
  rq.nblobs = 1;
  cr_assert_eq(store_job_redirect(w.st, &rq, &r), STORE_OK);
  int64_t nid = r.new_job_id;
  cr_assert_gt(nid, c);
  cr_assert_null(r.new_task_id, "p has no trigger");
  store_pull_result_clear(&r);

  store_job_t src = world_get(&w, c), dst = world_get(&w, nid);
  cr_assert_eq(src.phase, JOB_COMPLETED);
  cr_assert(!src.is_fetchable);
  char want[160];
  snprintf(want, sizeof want, URL "/v1.0/print/printers/p/jobs/%" PRId64, nid);
  cr_assert_str_eq(src.redirected_to, want);
  snprintf(want, sizeof want, URL "/v1.0/print/printers/v/jobs/%" PRId64, c);
  cr_assert_str_eq(dst.redirected_from, want);
  cr_assert_str_eq(dst.printer_id, "p");
  cr_assert_eq(dst.phase, JOB_FETCHABLE);
  cr_assert_str_eq(dst.configuration, "{\"copies\":5}");
  cr_assert_str_eq(dst.created_by_upn, "u1@example.test");
  store_job_clear(&src);
  store_job_clear(&dst);
  cr_assert_eq(world_task_state(&w, task3), TASK_COMPLETED);
  char nid_s[24];
  snprintf(nid_s, sizeof nid_s, "%" PRId64, nid);
  cr_assert_eq(test_db_count_with(w.st->db,
                                  "SELECT COUNT(*) FROM documents WHERE job_id = ?"
                                  " AND blob_key LIKE 'copy-%'",
                                  nid_s),
               1);

  /* a destination with a trigger fires it: the new job is held by a new task */
  store_task_trigger_t g;
  store_trigger_refusal_t why;
  cr_assert_eq(store_task_trigger_create(w.st, "t1", "p", w.def, 0, APP_X, &g, &why), STORE_OK);
  store_task_trigger_clear(&g);
  char task4[40];
  int64_t d = world_job(&w, "v", task4, sizeof task4);
  rq.job_id = d;
  rq.configuration = NULL;
  snprintf(from, sizeof from, "blob-%" PRId64, d);
  cr_assert_eq(store_job_redirect(w.st, &rq, &r), STORE_OK);
  cr_assert_not_null(r.new_task_id);
  dst = world_get(&w, r.new_job_id);
  cr_assert_eq(dst.phase, JOB_HELD);
  cr_assert_str_eq(dst.configuration, "{\"copies\":2}");
  store_job_clear(&dst);
  cr_assert_eq(world_task_state(&w, r.new_task_id), TASK_PROCESSING);
  store_pull_result_clear(&r);
  store_close(w.st);
}

Test(pullprint_store, expire_and_archive) {
  world_t w;
  world_open(&w);
  char old[40], fresh[40];
  int64_t a = world_job(&w, "v", old, sizeof old);
  int64_t b = world_job(&w, "v", fresh, sizeof fresh);
  char a_s[24];
  snprintf(a_s, sizeof a_s, "%" PRId64, a);
  test_db_exec(w.st->db, "UPDATE jobs SET held_us = 1000 WHERE id = ?", a_s, NULL);
  size_t n = 0;
  int64_t now = time_now_us();
  cr_assert_eq(store_jobs_expire_held(w.st, now - 10 * 1000000, "Timed out.", URL, 10, &n), STORE_OK);
  cr_assert_eq(n, 1);
  store_job_t j = world_get(&w, a);
  cr_assert_eq(j.phase, JOB_ABORTED);
  cr_assert_str_eq(j.description, "Timed out.");
  store_job_clear(&j);
  cr_assert_eq(world_task_state(&w, old), TASK_ABORTED);
  j = world_get(&w, b);
  cr_assert_eq(j.phase, JOB_HELD);
  store_job_clear(&j);

  /* retention: only terminal jobs that ended before the cutoff */
  char **keys = NULL;
  size_t nkeys = 0;
  cr_assert_eq(store_jobs_archive(w.st, now - 3600 * 1000000LL, 10, &n, &keys, &nkeys), STORE_OK);
  cr_assert_eq(n, 0);
  store_strings_free(keys, nkeys);
  cr_assert_eq(store_jobs_archive(w.st, time_now_us() + 1, 10, &n, &keys, &nkeys), STORE_OK);
  cr_assert_eq(n, 1);
  cr_assert_eq(nkeys, 1);
  char key[64];
  snprintf(key, sizeof key, "blob-%" PRId64, a);
  cr_assert_str_eq(keys[0], key);
  store_strings_free(keys, nkeys);
  cr_assert_eq(store_job_get(w.st, "t1", a_s, &j), STORE_NOT_FOUND);
  cr_assert_eq(test_db_count_with(w.st->db, "SELECT COUNT(*) FROM tasks WHERE job_id = ?", a_s), 0);
  cr_assert_eq(test_db_count_with(w.st->db,
                                  "SELECT COUNT(*) FROM archived_jobs WHERE id = ? AND state = 7",
                                  a_s),
               1);
  j = world_get(&w, b);
  cr_assert_eq(j.phase, JOB_HELD, "held jobs are not archived");
  store_job_clear(&j);

  /* the sweeper pass does both */
  sweeper_config_t cfg = {.store = w.st, .task_timeout_s = 1, .job_retention_s = 3600, .interval_s = 1};
  size_t expired = 0, archived = 0;
  sweeper_pass(&cfg, time_now_us() + 5 * 1000000, &expired, &archived);
  cr_assert_eq(expired, 1);
  cr_assert_eq(archived, 0);
  j = world_get(&w, b);
  cr_assert_str_eq(j.description, "The print task did not complete within 1 second; the job was aborted.");
  store_job_clear(&j);
  store_close(w.st);
}

/* ---- races ------------------------------------------------------------------------------ */

typedef struct race {
  world_t   *w;
  int64_t    job;
  char       task[40];
  int        op;      /* 0 abort, 1 complete, 2 task abort, 3 cancel, 4 update */
  store_rc_t rc;
  atomic_int *go;
} race_t;

static void *race_main(void *arg) {
  race_t *r = arg;
  while (!atomic_load(r->go)) {
  }
  store_pull_result_t res;
  store_task_t t;
  store_job_t j;
  store_job_change_t ch;
  switch (r->op) {
    case 0: r->rc = store_job_abort(r->w->st, "t1", r->job, APP_X, "race", &res); break;
    case 1:
      r->rc = store_task_finish(r->w->st, "t1", r->w->def, r->task, TASK_COMPLETED, NULL, &t, &res);
      store_task_clear(&t);
      break;
    case 2:
      r->rc = store_task_finish(r->w->st, "t1", r->w->def, r->task, TASK_ABORTED, NULL, &t, &res);
      store_task_clear(&t);
      break;
    default:
      r->rc = store_job_cancel(r->w->st, "t1", r->job, &j, &ch);
      store_job_clear(&j);
      store_job_change_clear(&ch);
      memset(&res, 0, sizeof res);
      break;
  }
  store_pull_result_clear(&res);
  return NULL;
}

Test(pullprint_store, one_winner_per_job) {
  world_t w;
  world_open(&w);
  enum { JOBS = 20, OPS = 4 };
  race_t races[JOBS][OPS];
  pthread_t th[JOBS][OPS];
  atomic_int go = 0;
  for (int i = 0; i < JOBS; i++) {
    char task[40];
    int64_t id = world_job(&w, "v", task, sizeof task);
    for (int k = 0; k < OPS; k++) {
      races[i][k] = (race_t){.w = &w, .job = id, .op = k, .rc = STORE_ERROR, .go = &go};
      snprintf(races[i][k].task, sizeof races[i][k].task, "%s", task);
      cr_assert_eq(pthread_create(&th[i][k], NULL, race_main, &races[i][k]), 0);
    }
  }
  atomic_store(&go, 1);
  for (int i = 0; i < JOBS; i++)
    for (int k = 0; k < OPS; k++) pthread_join(th[i][k], NULL);
  for (int i = 0; i < JOBS; i++) {
    int winners = 0, winner = -1;
    for (int k = 0; k < OPS; k++) {
      cr_assert(races[i][k].rc == STORE_OK || races[i][k].rc == STORE_CONFLICT, "job %d op %d: %d",
                i, k, races[i][k].rc);
      if (races[i][k].rc == STORE_OK) {
        winners++;
        if (winner < 0 || k != 3) winner = k;
      }
    }
    store_job_t j = world_get(&w, races[i][0].job);
    int ts = world_task_state(&w, races[i][0].task);
    /* a released job may still be canceled by its owner: completion then cancel both succeed */
    bool released_then_canceled = winners == 2 && races[i][1].rc == STORE_OK &&
                                  races[i][3].rc == STORE_OK;
    cr_assert(winners == 1 || released_then_canceled, "job %d: %d winners", i, winners);
    if (released_then_canceled) {
      cr_assert_eq(j.phase, JOB_CANCELED);
      cr_assert_eq(ts, TASK_COMPLETED);
    } else if (winner == 0 || winner == 2) {
      cr_assert_eq(j.phase, JOB_ABORTED);
      cr_assert_eq(ts, TASK_ABORTED);
    } else if (winner == 1) {
      cr_assert_eq(j.phase, JOB_FETCHABLE);
      cr_assert_eq(ts, TASK_COMPLETED);
    } else {
      cr_assert_eq(j.phase, JOB_CANCELED);
      cr_assert_eq(ts, TASK_ABORTED);
    }
    store_job_clear(&j);
  }
  store_close(w.st);
}
