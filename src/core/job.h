/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The print job and print task state machines (reference §5, design notes "Gaps").
 *
 * A job moves through phases; each phase fixes the Graph printJobStatus
 * (state, details, description) and isFetchable. Every change of phase
 * goes through job_transition(), which says whether an event is allowed in
 * the current phase and what the next phase is, so the HTTP handlers, the
 * IPP side and the timeout sweeper all obey one table. Pure functions, no I/O.
 */
#ifndef SPOOLD_CORE_JOB_H
#define SPOOLD_CORE_JOB_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  JOB_CREATED = 0,   /* paused [uploadPending]: waiting for the document and `start` */
  JOB_HELD,          /* paused []: started, held by a processing print task */
  JOB_FETCHABLE,     /* processing [interpreting], isFetchable: released to the printer */
  JOB_ACQUIRED,      /* processing, isAcquiredByPrinter: a device acknowledged it */
  JOB_PROCESSING,    /* processing: the device reports it is printing */
  JOB_STOPPED,       /* stopped: the device reports a problem to fix */
  JOB_COMPLETED,     /* completed: terminal (also a redirected source job) */
  JOB_CANCELED,      /* canceled: terminal */
  JOB_ABORTED,       /* aborted: terminal */
  JOB_PHASE_COUNT
} job_phase_t;

typedef enum {
  JOB_EV_UPLOAD_DONE,    /* the document's last byte landed */
  JOB_EV_START,          /* POST .../start without a task trigger on the printer */
  JOB_EV_START_HELD,     /* POST .../start on a printer with a jobStarted trigger */
  JOB_EV_CANCEL,         /* POST .../cancel by the owner or an administrator */
  JOB_EV_ABORT,          /* POST .../abort by the app owning the processing task */
  JOB_EV_REDIRECT,       /* POST .../redirect by the app owning the processing task */
  JOB_EV_UPDATE,         /* PATCH .../jobs/{id} or app upload by the task's app */
  JOB_EV_TASK_COMPLETED, /* the task was PATCHed to completed */
  JOB_EV_TASK_ABORTED,   /* the task was PATCHed to aborted */
  JOB_EV_TASK_TIMEOUT,   /* the task was not finished within --task-timeout */
  JOB_EV_DEVICE_ACK,     /* IPP Acknowledge-Job */
  JOB_EV_DEVICE_PROCESSING,
  JOB_EV_DEVICE_STOPPED,
  JOB_EV_DEVICE_COMPLETED,
  JOB_EV_DEVICE_ABORTED,
  JOB_EV_DEVICE_CANCELED,
  JOB_EVENT_COUNT
} job_event_t;

/* printJobStateDetail members as bits (index in ENUM_PRINT_JOB_STATE_DETAIL). */
enum {
  JOB_DETAIL_UPLOAD_PENDING = 1 << 0,
  JOB_DETAIL_TRANSFORMING = 1 << 1,
  JOB_DETAIL_COMPLETED_SUCCESSFULLY = 1 << 2,
  JOB_DETAIL_COMPLETED_WITH_WARNINGS = 1 << 3,
  JOB_DETAIL_COMPLETED_WITH_ERRORS = 1 << 4,
  JOB_DETAIL_RELEASE_WAIT = 1 << 5,
  JOB_DETAIL_INTERPRETING = 1 << 6,
};

/* What a phase looks like on the wire. */
typedef struct job_status_view {
  int         state;        /* index in ENUM_PRINT_JOB_PROCESSING_STATE */
  unsigned    details;      /* JOB_DETAIL_* bits */
  const char *description;  /* default description (an abort reason replaces it) */
  bool        fetchable;    /* isFetchable */
} job_status_view_t;

/* The status of a job in phase p. */
job_status_view_t job_phase_view(job_phase_t p);
/* True for completed, canceled and aborted. */
bool job_phase_terminal(job_phase_t p);
/* Name for messages ("held by a print task"). */
const char *job_phase_describe(job_phase_t p);

/* Applies event ev to a job in phase cur. Returns true and sets *next when the event is allowed;
 * otherwise returns false and sets *why to a sentence saying why (for a 409 notAllowed).
 * uploaded: the job's document is complete (START needs it). */
bool job_transition(job_phase_t cur, job_event_t ev, bool uploaded, job_phase_t *next,
                    const char **why);

/* ---- print tasks ---------------------------------------------------------------------- */

/* printTaskProcessingState indexes (ENUM_PRINT_TASK_PROCESSING_STATE). */
typedef enum {
  TASK_PENDING = 0,
  TASK_PROCESSING = 1,
  TASK_COMPLETED = 2,
  TASK_ABORTED = 3,
} task_state_t;

/* A task's owner may move it from processing to completed or aborted; nothing else. Returns
 * false with *why for any other change. */
bool task_transition_allowed(task_state_t cur, task_state_t next, const char **why);

/* ---- the seed rule ---------------------------------------------------------------------- */

/* The outcome of the seed rule (reference §5.3): an application may act on a held job (abort,
 * redirect, update its configuration, start or cancel it) only while the job has a print task in
 * state processing that a task trigger of that same application created. */
typedef enum job_seed {
  JOB_SEED_OK = 0,    /* a processing task of the application's trigger: the seed task */
  JOB_SEED_NO_TASK,   /* no processing task on the job at all (409 notAllowed) */
  JOB_SEED_OTHER_APP, /* processing tasks exist, none from the application's trigger (403) */
} job_seed_t;

typedef struct job_seed_decision {
  job_seed_t  seed;
  size_t      task; /* JOB_SEED_OK: the index in task_apps of the seed task */
  const char *why;  /* JOB_SEED_NO_TASK: a sentence saying why the job has no processing task
                     * (static); NULL otherwise */
} job_seed_decision_t;

/* Decides the seed rule for application app (NULL: the token names none, which matches no task)
 * on a job in phase phase whose processing tasks, oldest first, were created by the triggers of
 * task_apps[0..n) (a NULL entry: a task with no trigger application). The seed task is the
 * oldest one of app. Pure; borrows everything. */
job_seed_decision_t job_seed_decide(job_phase_t phase, const char *const *task_apps, size_t n,
                                    const char *app);

#endif
