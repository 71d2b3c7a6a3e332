/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job and task state machines (core/job.c): every event from every phase against a table
 * written out here independently, the wire view of every phase, and the task transitions.
 */
#include "core/enums.h"
#include "core/job.h"

#include <criterion/criterion.h>
#include <string.h>

#define NO (-1) /* refused */

static const char *const PHASE_NAMES[JOB_PHASE_COUNT] = {
    "CREATED", "HELD", "FETCHABLE", "ACQUIRED", "PROCESSING", "STOPPED", "COMPLETED", "CANCELED",
    "ABORTED"};
static const char *const EVENT_NAMES[JOB_EVENT_COUNT] = {
    "UPLOAD_DONE", "START", "START_HELD", "CANCEL", "ABORT", "REDIRECT", "UPDATE",
    "TASK_COMPLETED", "TASK_ABORTED", "TASK_TIMEOUT", "DEVICE_ACK", "DEVICE_PROCESSING",
    "DEVICE_STOPPED", "DEVICE_COMPLETED", "DEVICE_ABORTED", "DEVICE_CANCELED"};

/* expected[phase][event]: the next phase with the document uploaded, or NO. */
static const int EXPECTED[JOB_PHASE_COUNT][JOB_EVENT_COUNT] = {
    [JOB_CREATED] = {
        [JOB_EV_UPLOAD_DONE] = JOB_CREATED, [JOB_EV_START] = JOB_FETCHABLE,
        [JOB_EV_START_HELD] = JOB_HELD, [JOB_EV_CANCEL] = JOB_CANCELED,
        [JOB_EV_ABORT] = NO, [JOB_EV_REDIRECT] = NO, [JOB_EV_UPDATE] = NO,
        [JOB_EV_TASK_COMPLETED] = NO, [JOB_EV_TASK_ABORTED] = NO, [JOB_EV_TASK_TIMEOUT] = NO,
        [JOB_EV_DEVICE_ACK] = NO, [JOB_EV_DEVICE_PROCESSING] = NO, [JOB_EV_DEVICE_STOPPED] = NO,
        [JOB_EV_DEVICE_COMPLETED] = NO, [JOB_EV_DEVICE_ABORTED] = NO,
        [JOB_EV_DEVICE_CANCELED] = NO},
    [JOB_HELD] = {
        [JOB_EV_UPLOAD_DONE] = JOB_HELD, [JOB_EV_START] = NO, [JOB_EV_START_HELD] = NO,
        [JOB_EV_CANCEL] = JOB_CANCELED, [JOB_EV_ABORT] = JOB_ABORTED,
        [JOB_EV_REDIRECT] = JOB_COMPLETED, [JOB_EV_UPDATE] = JOB_HELD,
        [JOB_EV_TASK_COMPLETED] = JOB_FETCHABLE, [JOB_EV_TASK_ABORTED] = JOB_ABORTED,
        [JOB_EV_TASK_TIMEOUT] = JOB_ABORTED, [JOB_EV_DEVICE_ACK] = NO,
        [JOB_EV_DEVICE_PROCESSING] = NO, [JOB_EV_DEVICE_STOPPED] = NO,
        [JOB_EV_DEVICE_COMPLETED] = NO, [JOB_EV_DEVICE_ABORTED] = NO,
        [JOB_EV_DEVICE_CANCELED] = NO},
    [JOB_FETCHABLE] = {
        [JOB_EV_UPLOAD_DONE] = NO, [JOB_EV_START] = NO, [JOB_EV_START_HELD] = NO,
        [JOB_EV_CANCEL] = JOB_CANCELED, [JOB_EV_ABORT] = NO, [JOB_EV_REDIRECT] = NO,
        [JOB_EV_UPDATE] = NO, [JOB_EV_TASK_COMPLETED] = NO, [JOB_EV_TASK_ABORTED] = NO,
        [JOB_EV_TASK_TIMEOUT] = NO, [JOB_EV_DEVICE_ACK] = JOB_ACQUIRED,
        [JOB_EV_DEVICE_PROCESSING] = JOB_PROCESSING, [JOB_EV_DEVICE_STOPPED] = JOB_STOPPED,
        [JOB_EV_DEVICE_COMPLETED] = JOB_COMPLETED, [JOB_EV_DEVICE_ABORTED] = JOB_ABORTED,
        [JOB_EV_DEVICE_CANCELED] = JOB_CANCELED},
    [JOB_ACQUIRED] = {
        [JOB_EV_UPLOAD_DONE] = NO, [JOB_EV_START] = NO, [JOB_EV_START_HELD] = NO,
        [JOB_EV_CANCEL] = JOB_CANCELED, [JOB_EV_ABORT] = NO, [JOB_EV_REDIRECT] = NO,
        [JOB_EV_UPDATE] = NO, [JOB_EV_TASK_COMPLETED] = NO, [JOB_EV_TASK_ABORTED] = NO,
        [JOB_EV_TASK_TIMEOUT] = NO, [JOB_EV_DEVICE_ACK] = JOB_ACQUIRED,
        [JOB_EV_DEVICE_PROCESSING] = JOB_PROCESSING, [JOB_EV_DEVICE_STOPPED] = JOB_STOPPED,
        [JOB_EV_DEVICE_COMPLETED] = JOB_COMPLETED, [JOB_EV_DEVICE_ABORTED] = JOB_ABORTED,
        [JOB_EV_DEVICE_CANCELED] = JOB_CANCELED},
    [JOB_PROCESSING] = {
        [JOB_EV_UPLOAD_DONE] = NO, [JOB_EV_START] = NO, [JOB_EV_START_HELD] = NO,
        [JOB_EV_CANCEL] = JOB_CANCELED, [JOB_EV_ABORT] = NO, [JOB_EV_REDIRECT] = NO,
        [JOB_EV_UPDATE] = NO, [JOB_EV_TASK_COMPLETED] = NO, [JOB_EV_TASK_ABORTED] = NO,
        [JOB_EV_TASK_TIMEOUT] = NO, [JOB_EV_DEVICE_ACK] = NO,
        [JOB_EV_DEVICE_PROCESSING] = JOB_PROCESSING, [JOB_EV_DEVICE_STOPPED] = JOB_STOPPED,
        [JOB_EV_DEVICE_COMPLETED] = JOB_COMPLETED, [JOB_EV_DEVICE_ABORTED] = JOB_ABORTED,
        [JOB_EV_DEVICE_CANCELED] = JOB_CANCELED},
    [JOB_STOPPED] = {
        [JOB_EV_UPLOAD_DONE] = NO, [JOB_EV_START] = NO, [JOB_EV_START_HELD] = NO,
        [JOB_EV_CANCEL] = JOB_CANCELED, [JOB_EV_ABORT] = NO, [JOB_EV_REDIRECT] = NO,
        [JOB_EV_UPDATE] = NO, [JOB_EV_TASK_COMPLETED] = NO, [JOB_EV_TASK_ABORTED] = NO,
        [JOB_EV_TASK_TIMEOUT] = NO, [JOB_EV_DEVICE_ACK] = NO,
        [JOB_EV_DEVICE_PROCESSING] = JOB_PROCESSING, [JOB_EV_DEVICE_STOPPED] = JOB_STOPPED,
        [JOB_EV_DEVICE_COMPLETED] = JOB_COMPLETED, [JOB_EV_DEVICE_ABORTED] = JOB_ABORTED,
        [JOB_EV_DEVICE_CANCELED] = JOB_CANCELED},
    /* terminal phases refuse everything */
    [JOB_COMPLETED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO},
    [JOB_CANCELED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO},
    [JOB_ABORTED] = {NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO},
};

Test(job_transition, every_event_from_every_phase) {
  for (int p = 0; p < JOB_PHASE_COUNT; p++) {
    for (int e = 0; e < JOB_EVENT_COUNT; e++) {
      job_phase_t next = (job_phase_t)-1;
      const char *why = "unset";
      bool ok = job_transition((job_phase_t)p, (job_event_t)e, true, &next, &why);
      int want = EXPECTED[p][e];
      if (want == NO) {
        cr_assert(!ok, "%s + %s should be refused (got %s)", PHASE_NAMES[p], EVENT_NAMES[e],
                  ok ? PHASE_NAMES[next] : "-");
        cr_assert_not_null(why, "%s + %s: a refusal says why", PHASE_NAMES[p], EVENT_NAMES[e]);
        cr_assert_gt(strlen(why), 10, "%s + %s: a sentence", PHASE_NAMES[p], EVENT_NAMES[e]);
      } else {
        cr_assert(ok, "%s + %s should be allowed (%s)", PHASE_NAMES[p], EVENT_NAMES[e],
                  why ? why : "");
        cr_assert_eq(next, (job_phase_t)want, "%s + %s -> %s, expected %s", PHASE_NAMES[p],
                     EVENT_NAMES[e], PHASE_NAMES[next], PHASE_NAMES[want]);
        cr_assert_null(why, "%s + %s: no reason when allowed", PHASE_NAMES[p], EVENT_NAMES[e]);
      }
    }
  }
}

Test(job_transition, start_needs_the_document) {
  job_phase_t next;
  const char *why;
  cr_assert(!job_transition(JOB_CREATED, JOB_EV_START, false, &next, &why));
  cr_assert_not_null(strstr(why, "uploaded"), "%s", why);
  cr_assert(!job_transition(JOB_CREATED, JOB_EV_START_HELD, false, &next, &why));
  cr_assert_not_null(strstr(why, "uploaded"), "%s", why);
  /* Only START looks at the upload: the other events give the same answer either way. */
  for (int p = 0; p < JOB_PHASE_COUNT; p++)
    for (int e = 0; e < JOB_EVENT_COUNT; e++) {
      if (e == JOB_EV_START || e == JOB_EV_START_HELD) continue;
      job_phase_t a = 0, b = 0;
      const char *wa, *wb;
      bool oa = job_transition((job_phase_t)p, (job_event_t)e, true, &a, &wa);
      bool ob = job_transition((job_phase_t)p, (job_event_t)e, false, &b, &wb);
      cr_assert_eq(oa, ob, "%s + %s", PHASE_NAMES[p], EVENT_NAMES[e]);
      if (oa) cr_assert_eq(a, b);
    }
}

Test(job_transition, refusal_messages_name_the_state) {
  job_phase_t next;
  const char *why;
  cr_assert(!job_transition(JOB_CANCELED, JOB_EV_CANCEL, true, &next, &why));
  cr_assert_not_null(strstr(why, "canceled"), "%s", why);
  cr_assert(!job_transition(JOB_COMPLETED, JOB_EV_CANCEL, true, &next, &why));
  cr_assert_not_null(strstr(why, "completed"), "%s", why);
  cr_assert(!job_transition(JOB_ABORTED, JOB_EV_START, true, &next, &why));
  cr_assert_not_null(strstr(why, "aborted"), "%s", why);
  cr_assert(!job_transition(JOB_FETCHABLE, JOB_EV_START, true, &next, &why));
  cr_assert_not_null(strstr(why, "already been started"), "%s", why);
}

Test(job_phase, terminal_phases) {
  for (int p = 0; p < JOB_PHASE_COUNT; p++) {
    bool t = p == JOB_COMPLETED || p == JOB_CANCELED || p == JOB_ABORTED;
    cr_assert_eq(job_phase_terminal((job_phase_t)p), t, "%s", PHASE_NAMES[p]);
    cr_assert_neq(strcmp(job_phase_describe((job_phase_t)p), "unknown"), 0);
  }
  cr_assert_str_eq(job_phase_describe(JOB_PHASE_COUNT), "unknown");
}

static const char *state_name(job_phase_t p) {
  return enum_emit(&ENUM_PRINT_JOB_PROCESSING_STATE, job_phase_view(p).state, false);
}

Test(job_phase, wire_views) {
  job_status_view_t v = job_phase_view(JOB_CREATED);
  cr_assert_str_eq(state_name(JOB_CREATED), "paused");
  cr_assert_eq(v.details, JOB_DETAIL_UPLOAD_PENDING);
  cr_assert_str_eq(v.description, "The job is not a candidate for processing yet.");
  cr_assert(!v.fetchable);

  v = job_phase_view(JOB_HELD);
  cr_assert_str_eq(state_name(JOB_HELD), "paused");
  cr_assert_eq(v.details, 0u);
  cr_assert_str_eq(v.description, "The job is waiting for a print task to complete.");
  cr_assert(!v.fetchable);

  v = job_phase_view(JOB_FETCHABLE);
  cr_assert_str_eq(state_name(JOB_FETCHABLE), "processing");
  cr_assert_eq(v.details, JOB_DETAIL_INTERPRETING);
  cr_assert_str_eq(v.description, "The print job is currently being processed.");
  cr_assert(v.fetchable);

  cr_assert_str_eq(state_name(JOB_ACQUIRED), "processing");
  cr_assert_str_eq(state_name(JOB_PROCESSING), "processing");
  cr_assert_str_eq(state_name(JOB_STOPPED), "stopped");
  cr_assert_str_eq(state_name(JOB_COMPLETED), "completed");
  cr_assert_eq(job_phase_view(JOB_COMPLETED).details, JOB_DETAIL_COMPLETED_SUCCESSFULLY);
  cr_assert_str_eq(state_name(JOB_CANCELED), "canceled");
  cr_assert_str_eq(state_name(JOB_ABORTED), "aborted");
  for (int p = JOB_COMPLETED; p <= JOB_ABORTED; p++)
    cr_assert(!job_phase_view((job_phase_t)p).fetchable, "%s", PHASE_NAMES[p]);
  /* The detail bits are the indexes of printJobStateDetail. */
  cr_assert_str_eq(enum_emit(&ENUM_PRINT_JOB_STATE_DETAIL, 0, false), "uploadPending");
  cr_assert_eq(JOB_DETAIL_INTERPRETING, 1 << enum_lookup(&ENUM_PRINT_JOB_STATE_DETAIL,
                                                         "interpreting", false));
  /* Out of range phases show as aborted rather than reading past the table. */
  cr_assert_eq(job_phase_view(JOB_PHASE_COUNT).state, job_phase_view(JOB_ABORTED).state);
}

Test(task_transition, only_processing_moves) {
  const char *why;
  for (int cur = TASK_PENDING; cur <= TASK_ABORTED; cur++)
    for (int next = TASK_PENDING; next <= TASK_ABORTED; next++) {
      bool ok = task_transition_allowed((task_state_t)cur, (task_state_t)next, &why);
      bool want = cur == TASK_PROCESSING && (next == TASK_COMPLETED || next == TASK_ABORTED);
      cr_assert_eq(ok, want, "task %d -> %d", cur, next);
      if (!ok) cr_assert_not_null(why);
    }
}

/* ---- the seed rule ------------------------------------------------------------------------ */

#define MAX_TASKS 3

typedef struct {
  const char *name;
  job_phase_t phase;
  const char *apps[MAX_TASKS]; /* the processing tasks' trigger apps, oldest first */
  size_t      n;
  const char *app;             /* the caller */
  job_seed_t  seed;
  size_t      task;            /* JOB_SEED_OK: the seed task's index */
  const char *why;             /* JOB_SEED_NO_TASK: the sentence, written out here */
} seed_case_t;

static const seed_case_t SEED_CASES[] = {
    {"the caller's task", JOB_HELD, {"app-a"}, 1, "app-a", JOB_SEED_OK, 0, NULL},
    {"the caller's task after another's", JOB_HELD, {"app-b", "app-a"}, 2, "app-a", JOB_SEED_OK,
     1, NULL},
    {"the oldest of two of the caller's", JOB_HELD, {"app-a", "app-b", "app-a"}, 3, "app-a",
     JOB_SEED_OK, 0, NULL},
    {"a task without a trigger app is skipped", JOB_HELD, {NULL, "app-a"}, 2, "app-a",
     JOB_SEED_OK, 1, NULL},
    {"another app's task", JOB_HELD, {"app-b"}, 1, "app-a", JOB_SEED_OTHER_APP, 0, NULL},
    {"only tasks without a trigger app", JOB_HELD, {NULL, NULL}, 2, "app-a", JOB_SEED_OTHER_APP,
     0, NULL},
    {"a caller without an app matches nothing", JOB_HELD, {"app-a"}, 1, NULL, JOB_SEED_OTHER_APP,
     0, NULL},
    {"a NULL app does not match a NULL trigger app", JOB_HELD, {NULL}, 1, NULL,
     JOB_SEED_OTHER_APP, 0, NULL},
    {"names compare exactly", JOB_HELD, {"App-A"}, 1, "app-a", JOB_SEED_OTHER_APP, 0, NULL},
    {"a held job with no task", JOB_HELD, {NULL}, 0, "app-a", JOB_SEED_NO_TASK, 0,
     "It has no print task in the processing state."},
    {"a created job with no task", JOB_CREATED, {NULL}, 0, "app-a", JOB_SEED_NO_TASK, 0,
     "The job has not been started, so no print task is processing it."},
    {"a completed job with no task", JOB_COMPLETED, {NULL}, 0, "app-a", JOB_SEED_NO_TASK, 0,
     "The job has already completed."},
    {"a fetchable job with no task", JOB_FETCHABLE, {NULL}, 0, NULL, JOB_SEED_NO_TASK, 0,
     "The job has no print task in the processing state."},
};

Test(job_seed, decide_table) {
  for (size_t i = 0; i < sizeof SEED_CASES / sizeof SEED_CASES[0]; i++) {
    const seed_case_t *t = &SEED_CASES[i];
    job_seed_decision_t d = job_seed_decide(t->phase, t->apps, t->n, t->app);
    cr_expect_eq(d.seed, t->seed, "%s: seed %d, expected %d", t->name, d.seed, t->seed);
    if (t->seed == JOB_SEED_OK)
      cr_expect_eq(d.task, t->task, "%s: task %zu, expected %zu", t->name, d.task, t->task);
    if (t->why)
      cr_expect_str_eq(d.why ? d.why : "(null)", t->why, "%s: why '%s'", t->name,
                       d.why ? d.why : "(null)");
    else
      cr_expect_null(d.why, "%s: why '%s', expected none", t->name, d.why);
  }
}
