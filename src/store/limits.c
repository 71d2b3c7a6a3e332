/* SPDX-License-Identifier: Apache-2.0 */
/* Activity limits counted in the store (store/limits.h). */
#include "store/store-private.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

/* See limits.h. */
void store_job_limits_init(store_limit_t v[2], store_limits_t *l, const char *tenant,
                           const char *printer_id, const char *user_id, unsigned max_printer,
                           unsigned max_user, unsigned window_s) {
  int64_t window = (int64_t)(window_s ? window_s : 600) * 1000000;
  v[STORE_JOB_LIMIT_PRINTER] = (store_limit_t){STORE_LIMIT_PRINTER_JOBS, printer_id, max_printer,
                                               window, 1, 1};
  v[STORE_JOB_LIMIT_USER] = (store_limit_t){STORE_LIMIT_USER_JOBS, user_id ? user_id : "",
                                            max_user, window, 1, 1};
  *l = (store_limits_t){.tenant = tenant, .v = v, .n = 2};
}

/* Buckets of the upload volume window: a user's uploads are counted in window / VOL_BUCKETS
 * long buckets (one store row each). */
#define VOL_BUCKETS 60

/* See limits.h. */
void store_upload_limit_init(store_limit_t *v, store_limits_t *l, const char *tenant,
                             const char *user_id, uint64_t max_bytes, unsigned window_s,
                             uint64_t bytes) {
  int64_t window = (int64_t)(window_s ? window_s : 900) * 1000000;
  *v = (store_limit_t){STORE_LIMIT_USER_UPLOAD, user_id ? user_id : "", max_bytes, window,
                       window / VOL_BUCKETS > 0 ? window / VOL_BUCKETS : 1, bytes};
  *l = (store_limits_t){.tenant = tenant, .v = v, .n = 1};
}

typedef struct {
  int64_t  at;
  uint64_t amount;
} lim_row_t;

/* Fills the lim_row_t at item from a row (at_us, amount). */
static void lim_row(db_stmt_t *s, void *item) {
  int64_t amount = db_col_int64(s, 1);
  *(lim_row_t *)item = (lim_row_t){db_col_int64(s, 0), amount > 0 ? (uint64_t)amount : 0};
}

/* Reads the rows of key lim inside the window that ends at now (oldest first) into *rows. */
static int lim_rows(db_conn_t *c, const char *tenant, const store_limit_t *lim, int64_t start,
                    lim_row_t **rows, size_t *n) {
  *rows = NULL;
  *n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT at_us, amount FROM activity_windows WHERE tenant_id = ?"
                               " AND kind = ? AND name = ? AND at_us > ? ORDER BY at_us");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_int64(s, 2, lim->kind);
  db_bind_text(s, 3, lim->name ? lim->name : "");
  db_bind_int64(s, 4, start);
  return store_read_rows(s, sizeof **rows, lim_row, (void **)rows, n);
}

/* The bucket start of time t. */
static int64_t lim_bucket(const store_limit_t *lim, int64_t t) {
  int64_t b = lim->bucket_us > 0 ? lim->bucket_us : 1;
  int64_t r = t % b;
  return t - (r < 0 ? r + b : r);
}

/* Checks one limit: 0 when its amount fits; else 1 with *wait_us, the time until it would. */
static int lim_check(db_conn_t *c, const char *tenant, const store_limit_t *lim, int64_t now,
                     int64_t *wait_us) {
  int64_t at = lim_bucket(lim, now);
  lim_row_t *rows = NULL;
  size_t n = 0;
  int rc = lim_rows(c, tenant, lim, at - lim->window_us, &rows, &n);
  if (rc != 0) {
    free(rows);
    return rc;
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) sum += rows[i].amount;
  if (sum + lim->amount <= lim->limit) {
    free(rows);
    return 0;
  }
  /* room again once enough of the oldest rows have left the window; the whole window when the
   * amount alone is more than the limit */
  int64_t when = at + lim->window_us;
  uint64_t freed = 0;
  for (size_t i = 0; i < n; i++) {
    freed += rows[i].amount;
    if (sum - freed + lim->amount <= lim->limit) {
      when = rows[i].at + lim->window_us;
      break;
    }
  }
  free(rows);
  *wait_us = when - now > 0 ? when - now : 1;
  return 1;
}

/* Adds lim's amount to its bucket (a new row, or the bucket's row of this key). */
static int lim_add(db_conn_t *c, const char *tenant, const store_limit_t *lim, int64_t now) {
  int64_t at = lim_bucket(lim, now);
  const char *name = lim->name ? lim->name : "";
  db_stmt_t *s = db_prepare(c, "UPDATE activity_windows SET amount = amount + ? WHERE tenant_id = ?"
                               " AND kind = ? AND name = ? AND at_us = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, (int64_t)lim->amount);
  db_bind_text(s, 2, tenant);
  db_bind_int64(s, 3, lim->kind);
  db_bind_text(s, 4, name);
  db_bind_int64(s, 5, at);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  if (db_changes(c) > 0) return 0;
  s = db_prepare(c, "INSERT INTO activity_windows (tenant_id, kind, name, at_us, amount)"
                    " VALUES (?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, tenant);
  db_bind_int64(s, 2, lim->kind);
  db_bind_text(s, 3, name);
  db_bind_int64(s, 4, at);
  db_bind_int64(s, 5, (int64_t)lim->amount);
  return store_step_done(s);
}

/* See store-private.h. */
int store_limits_take_in(db_conn_t *c, store_limits_t *l) {
  l->refused = 0;
  l->retry_us = 0;
  bool full = false;
  for (size_t i = 0; i < l->n; i++) {
    const store_limit_t *lim = &l->v[i];
    if (lim->limit == 0 || lim->window_us <= 0) continue;
    int64_t wait = 0;
    int rc = lim_check(c, l->tenant, lim, l->now_us, &wait);
    if (rc < 0 || rc > 1) return rc;
    if (rc == 1) {
      if (!full) l->refused = i;
      full = true;
      if (wait > l->retry_us) l->retry_us = wait;
    }
  }
  if (full) return STORE_LIMITED;
  for (size_t i = 0; i < l->n; i++) {
    const store_limit_t *lim = &l->v[i];
    if (lim->limit == 0 || lim->window_us <= 0) continue;
    int rc = lim_add(c, l->tenant, lim, l->now_us);
    if (rc != 0) return rc;
  }
  return 0;
}

static int limits_take_fn(db_conn_t *c, void *arg) { return store_limits_take_in(c, arg); }

/* See store/limits.h. */
store_rc_t store_limits_take(store_t *st, store_limits_t *l) {
  if (!l->tenant) return STORE_NOT_FOUND;
  return store_rc(db_write(st->db, limits_take_fn, l));
}

typedef struct {
  int64_t before;
  int     n;
} lim_prune_arg_t;

static int limits_prune_fn(db_conn_t *c, void *arg) {
  lim_prune_arg_t *a = arg;
  a->n = 0;
  int turn = store_sweep_turn(c, DB_SWEEP_LIMITS);
  if (turn != 1) return turn == 0 ? 0 : turn;
  db_stmt_t *s = db_prepare(c, "DELETE FROM activity_windows WHERE at_us < ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->before);
  int rc = store_step_done(s);
  if (rc == 0) a->n = (int)db_changes(c);
  return rc;
}

/* See store/limits.h. */
store_rc_t store_limits_prune(store_t *st, int64_t before_us, int *n) {
  lim_prune_arg_t a = {.before = before_us};
  store_rc_t rc = store_rc(db_write(st->db, limits_prune_fn, &a));
  if (n) *n = rc == STORE_OK ? a.n : 0;
  return rc;
}
