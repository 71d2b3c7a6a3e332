/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sliding-window activity limits kept in memory (per process): "at most N events per key in
 * any window of W microseconds". Each key remembers the times of its events in the current
 * window (a sliding log), so the answer is exact and Retry-After is when the oldest event of
 * the window leaves it.
 *
 * A limiter has classes (e.g. 0 = per printer, 1 = per user), each with its own limit and
 * window; a request takes one event from several keys at once, all or none. Keys whose events
 * have all left their window are dropped. Thread-safe.
 */
#ifndef SPOOLD_UTIL_RATELIMIT_H
#define SPOOLD_UTIL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ratelimit ratelimit_t;

typedef struct ratelimit_class {
  unsigned limit;      /* events per window; 0 = unlimited */
  int64_t  window_us;  /* window length (> 0) */
} ratelimit_class_t;

typedef struct ratelimit_key {
  unsigned    cls;     /* index into the classes given to ratelimit_new */
  const char *name;    /* e.g. a printer id, "tenant/user" (borrowed) */
} ratelimit_key_t;

/* A new limiter with n classes (copied). The caller owns it (ratelimit_free). */
ratelimit_t *ratelimit_new(const ratelimit_class_t *classes, size_t n);
void ratelimit_free(ratelimit_t *rl);

/* Records one event at now_us for every key, if none of them is at its limit. Returns true
 * when recorded. Otherwise records nothing, returns false, and sets *retry_us (when not NULL)
 * to how long until every refused key has room again and *refused (when not NULL) to the index
 * in keys of the first refused key. */
bool ratelimit_take(ratelimit_t *rl, const ratelimit_key_t *keys, size_t nkeys, int64_t now_us,
                    int64_t *retry_us, size_t *refused);

/* Number of keys currently remembered (for tests and metrics). */
size_t ratelimit_size(ratelimit_t *rl);

#endif
