// SPDX-License-Identifier: Apache-2.0
// What a race on one held job may end in: the pull-printing actions (abort, redirect, task
// completion, task abort, cancel) sent at once, on one process (pullprint.test.mjs) or spread
// over several sharing a store (multiprocess.test.mjs). Exactly one wins, except that a job
// released by its task's completion may still be canceled by its owner.
//
//   const { won, key } = raceWinners({ abort: res1, redirect: res2, ... });
//   assert.deepEqual([job.status.state, task.status.state], HELD_JOB_RACE_OUTCOMES[key]);

// The winners' names ("+"-joined, sorted) -> [job state, task state] afterwards.
export const HELD_JOB_RACE_OUTCOMES = Object.freeze({
  abort: ["aborted", "aborted"],
  taskAbort: ["aborted", "aborted"],
  cancel: ["canceled", "aborted"],
  redirect: ["completed", "completed"],
  complete: ["processing", "completed"],
  // a released job may still be canceled by its owner
  "cancel+complete": ["canceled", "completed"],
});

// The contenders of ops ({name: response}) whose answer was a success, sorted, and their key
// in HELD_JOB_RACE_OUTCOMES ("" when none won).
export function raceWinners(ops) {
  const won = Object.entries(ops).filter(([, r]) => r.status < 300).map(([k]) => k).sort();
  return { won, key: won.join("+") };
}
