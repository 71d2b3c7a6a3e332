/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Activity limits counted in the store (migration 11): "at most LIMIT in any WINDOW" per printer
 * (jobs created), per user (jobs created) and per user (document bytes uploaded). Every process
 * sharing the store counts the same rows, so N processes allow the limit once, not N times.
 *
 * A take reads the key's rows inside the window and, when the amount fits, adds it, in one
 * write transaction (serializable on PostgreSQL: two processes that both read room and both
 * write are serialized, one of them runs again and sees the other's row). A take of several
 * keys is all or none. Rows are events (bucket_us 1: at_us is the event's time) or buckets of
 * events (at_us the bucket's start, amount their sum), so a busy key keeps at most
 * window / bucket_us rows.
 */
#ifndef SPOOLD_STORE_LIMITS_H
#define SPOOLD_STORE_LIMITS_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
  STORE_LIMIT_PRINTER_JOBS = 1, /* jobs created on a printer (name: the printer id) */
  STORE_LIMIT_USER_JOBS = 2,    /* jobs created by a user (name: the user id, "" for none) */
  STORE_LIMIT_USER_UPLOAD = 3,  /* document bytes uploaded by a user (name: the user id) */
} store_limit_kind_t;

typedef struct store_limit {
  store_limit_kind_t kind;
  const char        *name;       /* borrowed */
  uint64_t           limit;      /* total amount allowed in any window; 0 = unlimited */
  int64_t            window_us;  /* > 0 */
  int64_t            bucket_us;  /* events counted in buckets this long (>= 1; 1 = exact) */
  uint64_t           amount;     /* what this request takes (1 for a job) */
} store_limit_t;

typedef struct store_limits {
  const char          *tenant;
  const store_limit_t *v;         /* borrowed */
  size_t               n;
  int64_t              now_us;
  /* out, on STORE_LIMITED: the index in v of the first full limit, and how long until every
   * full one has room for its amount (>= 1) */
  size_t               refused;
  int64_t              retry_us;
} store_limits_t;

/* The job creation windows of a new job (store_job_new_t.limits), the same for every way a job
 * is created (Graph, the IPP share endpoint): v[STORE_JOB_LIMIT_PRINTER] counts the jobs created
 * on printer_id, v[STORE_JOB_LIMIT_USER] those created by user_id (NULL: ""), at most
 * max_printer / max_user (0: no limit) in any window_s seconds (0: 600). Fills v (room for
 * two) and *l, which borrow tenant, printer_id and user_id. */
enum { STORE_JOB_LIMIT_PRINTER = 0, STORE_JOB_LIMIT_USER = 1 };
/* Fills v[0..2) and *l as the comment above says (v and *l are the caller's, nothing to free;
 * l->now_us is left 0 for the caller to set). */
void store_job_limits_init(store_limit_t v[2], store_limits_t *l, const char *tenant,
                           const char *printer_id, const char *user_id, unsigned max_printer,
                           unsigned max_user, unsigned window_s);

/* The upload volume window of a document of bytes bytes uploaded by user_id (NULL: ""), the
 * same for every way a document arrives (a Graph upload fragment, a document through the IPP
 * share endpoint): at most max_bytes (0: no limit) in any window_s seconds (0: 900), counted in
 * buckets of a sixtieth of the window. Fills *v and *l, which borrow tenant and user_id. */
void store_upload_limit_init(store_limit_t *v, store_limits_t *l, const char *tenant,
                             const char *user_id, uint64_t max_bytes, unsigned window_s,
                             uint64_t bytes);

/* Takes each of l->v's amounts from its window at l->now_us in one write transaction, if every
 * one fits; STORE_LIMITED (nothing written, l->refused and l->retry_us set) when one does not.
 * store_job_create takes the job limits inside its own transaction (store_job_new_t.limits). */
store_rc_t store_limits_take(store_t *st, store_limits_t *l);

/* Deletes the rows of every window that ended before before_us (the sweeper; one process at a
 * time on a shared store). *n (may be NULL) receives the number deleted. */
store_rc_t store_limits_prune(store_t *st, int64_t before_us, int *n);

#endif
