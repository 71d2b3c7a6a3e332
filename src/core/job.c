/* SPDX-License-Identifier: Apache-2.0 */
/* The job and task state machines as tables. */
#include "core/job.h"

#include <stddef.h>
#include <string.h>

/* printJobProcessingState indexes. */
enum { ST_PROCESSING = 2, ST_PAUSED = 3, ST_STOPPED = 4, ST_COMPLETED = 5, ST_CANCELED = 6,
       ST_ABORTED = 7 };

static const job_status_view_t VIEWS[JOB_PHASE_COUNT] = {
    [JOB_CREATED] = {ST_PAUSED, JOB_DETAIL_UPLOAD_PENDING,
                     "The job is not a candidate for processing yet.", false},
    [JOB_HELD] = {ST_PAUSED, 0, "The job is waiting for a print task to complete.", false},
    [JOB_FETCHABLE] = {ST_PROCESSING, JOB_DETAIL_INTERPRETING,
                       "The print job is currently being processed.", true},
    [JOB_ACQUIRED] = {ST_PROCESSING, JOB_DETAIL_INTERPRETING,
                      "The print job is currently being processed by the printer.", true},
    [JOB_PROCESSING] = {ST_PROCESSING, JOB_DETAIL_INTERPRETING,
                        "The print job is currently being processed by the printer.", true},
    [JOB_STOPPED] = {ST_STOPPED, 0,
                     "The printer stopped the job; a problem at the printer must be fixed.", true},
    [JOB_COMPLETED] = {ST_COMPLETED, JOB_DETAIL_COMPLETED_SUCCESSFULLY,
                       "The print job has completed successfully.", false},
    [JOB_CANCELED] = {ST_CANCELED, 0, "The print job was canceled.", false},
    [JOB_ABORTED] = {ST_ABORTED, 0, "The print job was aborted.", false},
};

static const char *const PHASE_TEXT[JOB_PHASE_COUNT] = {
    [JOB_CREATED] = "not started",
    [JOB_HELD] = "held by a print task",
    [JOB_FETCHABLE] = "released to the printer",
    [JOB_ACQUIRED] = "acquired by the printer",
    [JOB_PROCESSING] = "being printed",
    [JOB_STOPPED] = "stopped at the printer",
    [JOB_COMPLETED] = "completed",
    [JOB_CANCELED] = "canceled",
    [JOB_ABORTED] = "aborted",
};

job_status_view_t job_phase_view(job_phase_t p) {
  return p < JOB_PHASE_COUNT ? VIEWS[p] : VIEWS[JOB_ABORTED];
}

bool job_phase_terminal(job_phase_t p) {
  return p == JOB_COMPLETED || p == JOB_CANCELED || p == JOB_ABORTED;
}

const char *job_phase_describe(job_phase_t p) {
  return p < JOB_PHASE_COUNT ? PHASE_TEXT[p] : "unknown";
}

/* Phases a device may report from: the job has reached the printer side. */
static bool at_device(job_phase_t p) {
  return p == JOB_FETCHABLE || p == JOB_ACQUIRED || p == JOB_PROCESSING || p == JOB_STOPPED;
}

bool job_transition(job_phase_t cur, job_event_t ev, bool uploaded, job_phase_t *next,
                    const char **why) {
  *why = NULL;
  if (job_phase_terminal(cur)) {
    *why = cur == JOB_COMPLETED ? "The job has already completed."
           : cur == JOB_CANCELED ? "The job has been canceled."
                                 : "The job has been aborted.";
    return false;
  }
  switch (ev) {
    case JOB_EV_UPLOAD_DONE:
      if (cur == JOB_CREATED || cur == JOB_HELD) {
        *next = cur;
        return true;
      }
      *why = "The job's document can no longer be replaced: the job was released to the printer.";
      return false;
    case JOB_EV_START:
    case JOB_EV_START_HELD:
      if (cur != JOB_CREATED) {
        *why = "The job has already been started.";
        return false;
      }
      if (!uploaded) {
        *why = "The job cannot start before its document is fully uploaded.";
        return false;
      }
      *next = ev == JOB_EV_START ? JOB_FETCHABLE : JOB_HELD;
      return true;
    case JOB_EV_CANCEL:
      *next = JOB_CANCELED;
      return true;
    case JOB_EV_ABORT:
    case JOB_EV_REDIRECT:
    case JOB_EV_UPDATE:
    case JOB_EV_TASK_COMPLETED:
    case JOB_EV_TASK_ABORTED:
    case JOB_EV_TASK_TIMEOUT:
      if (cur != JOB_HELD) {
        *why = cur == JOB_CREATED ? "The job has not been started, so no print task is processing it."
                                  : "The job has no print task in the processing state.";
        return false;
      }
      *next = ev == JOB_EV_UPDATE           ? JOB_HELD
              : ev == JOB_EV_TASK_COMPLETED ? JOB_FETCHABLE
              : ev == JOB_EV_REDIRECT       ? JOB_COMPLETED
                                            : JOB_ABORTED;
      return true;
    case JOB_EV_DEVICE_ACK:
      if (cur != JOB_FETCHABLE && cur != JOB_ACQUIRED) break;
      *next = JOB_ACQUIRED;
      return true;
    case JOB_EV_DEVICE_PROCESSING:
    case JOB_EV_DEVICE_STOPPED:
    case JOB_EV_DEVICE_COMPLETED:
    case JOB_EV_DEVICE_ABORTED:
    case JOB_EV_DEVICE_CANCELED:
      if (!at_device(cur)) break;
      *next = ev == JOB_EV_DEVICE_PROCESSING ? JOB_PROCESSING
              : ev == JOB_EV_DEVICE_STOPPED  ? JOB_STOPPED
              : ev == JOB_EV_DEVICE_COMPLETED ? JOB_COMPLETED
              : ev == JOB_EV_DEVICE_ABORTED   ? JOB_ABORTED
                                              : JOB_CANCELED;
      return true;
    case JOB_EVENT_COUNT:
      break;
  }
  *why = "The job has not been released to the printer.";
  return false;
}

bool task_transition_allowed(task_state_t cur, task_state_t next, const char **why) {
  *why = NULL;
  if (cur != TASK_PROCESSING) {
    *why = cur == TASK_COMPLETED ? "The task has already completed."
           : cur == TASK_ABORTED ? "The task has already been aborted."
                                 : "The task is not processing.";
    return false;
  }
  if (next == TASK_COMPLETED || next == TASK_ABORTED) return true;
  *why = "A processing task can only be set to completed or aborted.";
  return false;
}

job_seed_decision_t job_seed_decide(job_phase_t phase, const char *const *task_apps, size_t n,
                                    const char *app) {
  job_seed_decision_t d = {JOB_SEED_OTHER_APP, 0, NULL};
  if (n == 0) {
    /* Say why the job has no processing task when its state explains it (it has ended, or was
     * never held); a held job without one simply has none. */
    job_phase_t next;
    const char *why = NULL;
    if (job_transition(phase, JOB_EV_ABORT, true, &next, &why) || !why)
      why = "It has no print task in the processing state.";
    d.seed = JOB_SEED_NO_TASK;
    d.why = why;
    return d;
  }
  for (size_t i = 0; app && i < n; i++) {
    if (task_apps[i] && strcmp(task_apps[i], app) == 0) {
      d.seed = JOB_SEED_OK;
      d.task = i;
      return d;
    }
  }
  return d;
}
