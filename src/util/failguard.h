/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Repeated failures kept in memory (per process): for each key (e.g. client address plus the
 * credential it sent) how many failures happened lately, so that a client failing again and
 * again is answered more and more slowly, and its log lines are written once per interval
 * with a count instead of once per failure.
 *
 * A key's failures are counted until the key has been quiet for the window; the first `free`
 * failures carry no delay, each later one twice the delay of the one before (from base_ms up
 * to max_ms). Log lines: the first failure of a key in each log interval is logged, with the
 * number of failures left unlogged since the previous logged one. The table has a fixed size;
 * when it is full the key seen least recently is forgotten. Thread-safe.
 */
#ifndef SPOOLD_UTIL_FAILGUARD_H
#define SPOOLD_UTIL_FAILGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct failguard failguard_t;

typedef struct failguard_config {
  unsigned free;            /* failures of a key answered without delay */
  unsigned base_ms;         /* delay of the first delayed failure */
  unsigned max_ms;          /* cap of the delay */
  int64_t  window_us;       /* a key quiet this long starts again from zero */
  int64_t  log_interval_us; /* at most one logged failure per key per interval */
  size_t   capacity;        /* keys remembered (rounded up to a multiple of 4) */
} failguard_config_t;

typedef struct failguard_verdict {
  unsigned count;       /* failures of the key in its window, this one included */
  unsigned delay_ms;    /* how long to hold this failure's answer */
  bool     log;         /* log this failure */
  uint64_t unlogged;    /* when log: failures of the key not logged since its last logged one */
} failguard_verdict_t;

/* A new table (the config is copied). The caller owns it (failguard_free). */
failguard_t *failguard_new(const failguard_config_t *cfg);
/* Frees g and every key it tracks; NULL is fine. */
void failguard_free(failguard_t *g);

/* Records a failure of key (len bytes) at now_us and says how to answer and log it. */
void failguard_fail(failguard_t *g, const void *key, size_t len, int64_t now_us,
                    failguard_verdict_t *out);

/* Forgets key (after a success with the same credential). */
void failguard_forget(failguard_t *g, const void *key, size_t len);

#endif
