/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pull-printing sweeper: a thread that, every --sweep-interval, aborts the jobs held by a
 * print task longer than --task-timeout (design notes: never silently deleted) and moves the
 * jobs that ended more than --job-retention ago out of /jobs into the archive
 * (store/pullprint.h), removing the document bytes no row refers to any more.
 *
 * Started by `spoold serve` after the store and the blob store are open; stopped before they
 * close. With several processes on one database each runs its own sweeper: every pass is one
 * transaction, so two passes never abort or archive a job twice.
 */
#ifndef SPOOLD_SWEEPER_H
#define SPOOLD_SWEEPER_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct blob_store;

typedef struct sweeper sweeper_t;

typedef struct sweeper_config {
  struct store      *store;          /* borrowed */
  struct blob_store *blobs;          /* borrowed; NULL: bytes are left to the documents sweeper */
  const char        *public_url;     /* borrowed: the server's, for the parentUrl of the
                                        notifications of the tasks a timeout aborts */
  int64_t            task_timeout_s; /* > 0 */
  int64_t            job_retention_s;/* > 0 */
  int64_t            interval_s;     /* > 0 */
} sweeper_config_t;

/* Starts the thread (its first pass runs at once). Returns NULL with a malloc'd *err when the
 * thread cannot be started. The caller stops it with sweeper_stop. */
sweeper_t *sweeper_start(const sweeper_config_t *cfg, char **err);
/* Wakes the thread, waits for it to finish its pass and frees s. NULL is a no-op. */
void       sweeper_stop(sweeper_t *s);

/* Runs one pass of both sweeps on the calling thread at the service clock's now (development
 * mode, after the clock moved); *expired and *archived as for sweeper_pass. */
void       sweeper_run_now(sweeper_t *s, size_t *expired, size_t *archived);

/* One pass of both sweeps, now (the thread's body; tests call it directly). *expired and
 * *archived (either may be NULL) receive the numbers of jobs aborted and archived. */
void sweeper_pass(const sweeper_config_t *cfg, int64_t now_us, size_t *expired, size_t *archived);

/* "72 hours", "1 day", "90 minutes", "2 seconds": a duration for messages, in the largest unit
 * that divides it exactly (seconds otherwise). */
void sweeper_duration_text(int64_t seconds, char *out, size_t outlen);

#endif
