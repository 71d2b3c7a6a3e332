/* SPDX-License-Identifier: Apache-2.0 */
/* The held-job timeout and job retention sweeper (sweeper.h). */
#include "sweeper.h"

#include "blob/blob.h"
#include "store/pullprint.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SWEEP_BATCH 100  /* jobs per transaction */
#define SWEEP_BATCHES 50 /* transactions per pass at most, so a pass never runs for long */

struct sweeper {
  sweeper_config_t cfg;
  pthread_t        thread;
  pthread_mutex_t  mu;
  pthread_cond_t   cv;
  bool             stop;
};

/* See sweeper.h. */
void sweeper_duration_text(int64_t seconds, char *out, size_t outlen) {
  static const struct {
    int64_t     s;
    const char *one, *many;
  } units[] = {{86400, "day", "days"}, {3600, "hour", "hours"}, {60, "minute", "minutes"},
               {1, "second", "seconds"}};
  if (seconds < 0) seconds = 0;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (seconds == 0 ? units[i].s != 1 : seconds % units[i].s != 0) continue;
    /* 72 hours reads better than 3 days for the documented default; keep days for whole
     * weeks and beyond 3 days. */
    if (units[i].s == 86400 && seconds < 4 * 86400 && seconds % 3600 == 0) continue;
    int64_t n = seconds / units[i].s;
    snprintf(out, outlen, "%" PRId64 " %s", n, n == 1 ? units[i].one : units[i].many);
    return;
  }
  snprintf(out, outlen, "%" PRId64 " seconds", seconds);
}

/* See sweeper.h. */
void sweeper_pass(const sweeper_config_t *cfg, int64_t now_us, size_t *expired,
                  size_t *archived) {
  size_t total_expired = 0, total_archived = 0;
  char dur[64];
  sweeper_duration_text(cfg->task_timeout_s, dur, sizeof dur);
  buf_t desc = BUF_INIT;
  buf_printf(&desc, "The print task did not complete within %s; the job was aborted.", dur);
  int64_t held_before = now_us - cfg->task_timeout_s * 1000000;
  for (int i = 0; i < SWEEP_BATCHES; i++) {
    size_t n = 0;
    if (store_jobs_expire_held(cfg->store, held_before, desc.data, cfg->public_url,
                               SWEEP_BATCH, &n) != STORE_OK) {
      log_error("sweeper: aborting timed-out held jobs failed");
      break;
    }
    total_expired += n;
    if (n < SWEEP_BATCH) break;
  }
  buf_free(&desc);

  int64_t ended_before = now_us - cfg->job_retention_s * 1000000;
  for (int i = 0; i < SWEEP_BATCHES; i++) {
    size_t n = 0, nkeys = 0;
    char **keys = NULL;
    if (store_jobs_archive(cfg->store, ended_before, SWEEP_BATCH, &n, &keys, &nkeys) !=
        STORE_OK) {
      log_error("sweeper: archiving jobs past retention failed");
      break;
    }
    for (size_t k = 0; cfg->blobs && k < nkeys; k++) {
      int rc = blob_remove(cfg->blobs, keys[k]);
      if (rc != 0) log_warn("sweeper: removing blob %s failed: %s", keys[k], strerror(-rc));
    }
    store_strings_free(keys, nkeys);
    total_archived += n;
    if (n < SWEEP_BATCH) break;
  }
  if (total_expired)
    log_info("sweeper: aborted %zu job(s) whose print task did not complete within %s",
             total_expired, dur);
  if (total_archived)
    log_info("sweeper: archived %zu job(s) past the job retention", total_archived);
  if (expired) *expired = total_expired;
  if (archived) *archived = total_archived;
}

static void *sweeper_main(void *arg) {
  sweeper_t *s = arg;
  pthread_mutex_lock(&s->mu);
  while (!s->stop) {
    pthread_mutex_unlock(&s->mu);
    sweeper_pass(&s->cfg, time_now_us(), NULL, NULL);
    pthread_mutex_lock(&s->mu);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)s->cfg.interval_s;
    while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT) {
    }
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* See sweeper.h. */
sweeper_t *sweeper_start(const sweeper_config_t *cfg, char **err) {
  sweeper_t *s = xcalloc(1, sizeof *s);
  s->cfg = *cfg;
  pthread_mutex_init(&s->mu, NULL);
  time_cond_init_monotonic(&s->cv);
  int rc = pthread_create(&s->thread, NULL, sweeper_main, s);
  if (rc != 0) {
    buf_t b = BUF_INIT;
    buf_printf(&b, "cannot start the job sweeper thread: %s", strerror(rc));
    *err = buf_detach(&b);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return NULL;
  }
  return s;
}

/* See sweeper.h. */
void sweeper_run_now(sweeper_t *s, size_t *expired, size_t *archived) {
  if (!s) return;
  sweeper_pass(&s->cfg, time_now_us(), expired, archived);
}

/* See sweeper.h. */
void sweeper_stop(sweeper_t *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->stop = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
