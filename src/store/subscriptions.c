/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Change-notification subscriptions (POST/GET/PATCH/DELETE /subscriptions) and their expiry.
 *
 * An expired subscription is invisible (get, list, renew and matching all compare expires_us
 * with the current time) until store_subscription_sweep() removes it and queues its
 * subscriptionRemoved lifecycle notification.
 */
#include "store/outbox.h"
#include "store/store-private.h"
#include "store/subscriptions.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define SUB_COLS                                                                            \
  "id, tenant_id, app_id, creator_id, resource, kind, target_id, change_type, client_state," \
  " notification_url, lifecycle_url, query_options, tls_version, expires_us, created_us"

/* Subscriptions one sweep removes at most (the next sweep takes the rest). */
#define SWEEP_BATCH 256

/* Releases the strings of *s and zeroes it. */
void store_subscription_clear(store_subscription_t *s) {
  if (!s) return;
  free(s->id);
  free(s->tenant);
  free(s->app_id);
  free(s->creator_id);
  free(s->resource);
  free(s->target_id);
  free(s->change_type);
  free(s->client_state);
  free(s->notification_url);
  free(s->lifecycle_url);
  free(s->query_options);
  free(s->tls_version);
  memset(s, 0, sizeof *s);
}

/* Fills the store_subscription_t at item from a row of SUB_COLS. */
static void sub_from_row(db_stmt_t *s, void *item) {
  store_subscription_t *o = item;
  o->id = store_col_strdup(s, 0, true);
  o->tenant = store_col_strdup(s, 1, true);
  o->app_id = store_col_strdup(s, 2, true);
  o->creator_id = store_col_strdup(s, 3, false);
  o->resource = store_col_strdup(s, 4, true);
  o->kind = (store_sub_kind_t)db_col_int64(s, 5);
  o->target_id = store_col_strdup(s, 6, true);
  o->change_type = store_col_strdup(s, 7, true);
  o->client_state = store_col_strdup(s, 8, false);
  o->notification_url = store_col_strdup(s, 9, true);
  o->lifecycle_url = store_col_strdup(s, 10, false);
  o->query_options = store_col_strdup(s, 11, false);
  o->tls_version = store_col_strdup(s, 12, true);
  o->expires_us = db_col_int64(s, 13);
  o->created_us = db_col_int64(s, 14);
}

/* ---- the watched object -------------------------------------------------------------------- */

typedef struct {
  const char      *tenant;
  store_sub_kind_t kind;
  const char      *target;
  char            *canonical;  /* out */
  char            *owner;      /* out: task definitions only */
} target_arg_t;

/* Finds the target, exactly or ignoring case; 0, STORE_NOT_FOUND or DB_ERROR. */
static int target_find(db_conn_t *c, target_arg_t *a) {
  static const char *const sql[2][2] = {
    {"SELECT id, created_by_app FROM task_definitions WHERE tenant_id = ? AND id = ?",
     "SELECT id, created_by_app FROM task_definitions WHERE tenant_id = ? AND lower(id) = lower(?)"},
    {"SELECT id, NULL FROM printers WHERE tenant_id = ? AND id = ?",
     "SELECT id, NULL FROM printers WHERE tenant_id = ? AND lower(id) = lower(?)"},
  };
  int k = a->kind == STORE_SUB_TASKS ? 0 : 1;
  free(a->canonical);
  free(a->owner);
  a->canonical = a->owner = NULL;
  for (int pass = 0; pass < 2; pass++) {
    db_stmt_t *s = db_prepare(c, sql[k][pass]);
    db_bind_text(s, 1, a->tenant);
    db_bind_text(s, 2, a->target);
    int rc = db_step(s);
    if (rc == DB_ROW) {
      a->canonical = store_col_strdup(s, 0, true);
      a->owner = store_col_strdup(s, 1, false);
    }
    db_reset(s);
    if (rc == DB_ROW) return 0;
    if (rc != DB_DONE) return DB_ERROR;
  }
  return STORE_NOT_FOUND;
}

static int target_fn(db_conn_t *c, void *arg) { return target_find(c, arg); }

/* Looks up the object a subscription would watch (see subscriptions.h). */
store_rc_t store_subscription_target(store_t *st, const char *tenant, store_sub_kind_t kind,
                                     const char *target_id, char **canonical_id,
                                     char **owner_app) {
  *canonical_id = NULL;
  if (owner_app) *owner_app = NULL;
  if (!tenant || !target_id) return STORE_NOT_FOUND;
  target_arg_t a = {.tenant = tenant, .kind = kind, .target = target_id};
  store_rc_t rc = store_rc(db_read(st->db, target_fn, &a));
  if (rc == STORE_OK) {
    *canonical_id = a.canonical;
    if (owner_app) *owner_app = a.owner;
    else free(a.owner);
  } else {
    free(a.canonical);
    free(a.owner);
  }
  return rc;
}

/* ---- create ---------------------------------------------------------------------------- */

typedef struct {
  const store_subscription_t *sub;
  const char                 *tenant;
  const char                 *id;
  const char                 *app_id;
  int64_t                     expires_us;
  const char                 *url;
  store_subscription_t       *out;
  unsigned                    removed;
} sub_arg_t;

/* Deletes subscription id and its pending change notifications; 0 or DB_ERROR. */
static int sub_remove(db_conn_t *c, const char *id) {
  db_stmt_t *s = db_prepare(c, "DELETE FROM outbox WHERE subscription_id = ? AND kind = ?");
  db_bind_text(s, 1, id);
  db_bind_int64(s, 2, STORE_OUTBOX_CHANGE);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return DB_ERROR;
  s = db_prepare(c, "DELETE FROM subscriptions WHERE id = ?");
  db_bind_text(s, 1, id);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

static int create_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  const store_subscription_t *n = a->sub;
  int64_t now = time_now_us();

  target_arg_t t = {.tenant = n->tenant, .kind = n->kind, .target = n->target_id};
  int rc = target_find(c, &t);
  free(t.canonical);
  free(t.owner);
  if (rc != 0) return rc;

  /* One subscription per app, resource and changeType; an expired one not yet swept goes. */
  db_stmt_t *s = db_prepare(c, "SELECT id, expires_us FROM subscriptions WHERE tenant_id = ?"
                               " AND app_id = ? AND resource = ? AND change_type = ?");
  db_bind_text(s, 1, n->tenant);
  db_bind_text(s, 2, n->app_id);
  db_bind_text(s, 3, n->resource);
  db_bind_text(s, 4, n->change_type);
  rc = db_step(s);
  char *old = rc == DB_ROW ? store_col_strdup(s, 0, true) : NULL;
  bool live = rc == DB_ROW && db_col_int64(s, 1) > now;
  db_reset(s);
  if (rc != DB_ROW && rc != DB_DONE) return DB_ERROR;
  if (old) {
    rc = live ? STORE_CONFLICT : sub_remove(c, old);
    free(old);
    if (rc != 0) return rc;
  }

  s = db_prepare(c, "INSERT INTO subscriptions (" SUB_COLS ")"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  db_bind_text(s, 1, n->id);
  db_bind_text(s, 2, n->tenant);
  db_bind_text(s, 3, n->app_id);
  db_bind_text(s, 4, n->creator_id);
  db_bind_text(s, 5, n->resource);
  db_bind_int64(s, 6, n->kind);
  db_bind_text(s, 7, n->target_id);
  db_bind_text(s, 8, n->change_type);
  db_bind_text(s, 9, n->client_state);
  db_bind_text(s, 10, n->notification_url);
  db_bind_text(s, 11, n->lifecycle_url);
  db_bind_text(s, 12, n->query_options);
  db_bind_text(s, 13, n->tls_version ? n->tls_version : "v1_2");
  db_bind_int64(s, 14, n->expires_us);
  db_bind_int64(s, 15, n->created_us ? n->created_us : now);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Creates a subscription (see subscriptions.h). */
store_rc_t store_subscription_create(store_t *st, const store_subscription_t *s) {
  if (!s || !s->id || !s->tenant || !s->app_id || !s->resource || !s->target_id ||
      !s->change_type || !s->notification_url)
    return STORE_ERROR;
  sub_arg_t a = {.sub = s};
  return store_rc(db_write(st->db, create_fn, &a));
}

/* ---- read ---------------------------------------------------------------------------------- */

/* Reads unexpired subscription a->id of a->tenant (and of a->app_id when set) into a->out. */
static int sub_read(db_conn_t *c, sub_arg_t *a) {
  store_subscription_clear(a->out);
  db_stmt_t *s = db_prepare(c, "SELECT " SUB_COLS " FROM subscriptions"
                               " WHERE id = ? AND tenant_id = ? AND expires_us > ?");
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, time_now_us());
  int rc = db_step(s);
  if (rc == DB_ROW) sub_from_row(s, a->out);
  db_reset(s);
  if (rc == DB_DONE) return STORE_NOT_FOUND;
  if (rc != DB_ROW) return DB_ERROR;
  if (a->app_id && strcmp(a->app_id, a->out->app_id) != 0) {
    store_subscription_clear(a->out);
    return STORE_NOT_FOUND;
  }
  return 0;
}

static int get_fn(db_conn_t *c, void *arg) { return sub_read(c, arg); }

/* Reads an unexpired subscription (see subscriptions.h). */
store_rc_t store_subscription_get(store_t *st, const char *tenant, const char *id,
                                  store_subscription_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !id) return STORE_NOT_FOUND;
  sub_arg_t a = {.tenant = tenant, .id = id, .out = out};
  store_rc_t rc = store_rc(db_read(st->db, get_fn, &a));
  if (rc != STORE_OK) store_subscription_clear(out);
  return rc;
}

typedef struct {
  const char *tenant;
  const char *app_id;
  int (*fn)(const store_subscription_t *s, void *arg);
  void *arg;
} list_arg_t;

static int list_fn(db_conn_t *c, void *arg) {
  list_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "SELECT " SUB_COLS " FROM subscriptions WHERE tenant_id = ?"
                               " AND app_id = ? AND expires_us > ? ORDER BY created_us, id");
  db_bind_text(s, 1, a->tenant);
  db_bind_text(s, 2, a->app_id);
  db_bind_int64(s, 3, time_now_us());
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    store_subscription_t sub = {0};
    sub_from_row(s, &sub);
    int stop = a->fn(&sub, a->arg);
    store_subscription_clear(&sub);
    if (stop) {
      rc = DB_DONE;
      break;
    }
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Walks the app's unexpired subscriptions (see subscriptions.h). */
store_rc_t store_subscription_list(store_t *st, const char *tenant, const char *app_id,
                                   int (*fn)(const store_subscription_t *s, void *arg),
                                   void *arg) {
  if (!tenant || !app_id || !fn) return STORE_ERROR;
  list_arg_t a = {.tenant = tenant, .app_id = app_id, .fn = fn, .arg = arg};
  return store_rc(db_read(st->db, list_fn, &a));
}

/* ---- renew and delete ------------------------------------------------------------------ */

static int renew_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  int rc = sub_read(c, a);
  if (rc != 0) return rc;
  db_stmt_t *s = db_prepare(c, "UPDATE subscriptions SET expires_us = ?,"
                               " notification_url = ? WHERE id = ?");
  const char *url = a->url ? a->url : a->out->notification_url;
  db_bind_int64(s, 1, a->expires_us);
  db_bind_text(s, 2, url);
  db_bind_text(s, 3, a->id);
  rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return DB_ERROR;
  if (a->url && strcmp(a->url, a->out->notification_url) != 0) {
    s = db_prepare(c, "UPDATE outbox SET url = ? WHERE subscription_id = ? AND kind = ?");
    db_bind_text(s, 1, a->url);
    db_bind_text(s, 2, a->id);
    db_bind_int64(s, 3, STORE_OUTBOX_CHANGE);
    rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE) return DB_ERROR;
    free(a->out->notification_url);
    a->out->notification_url = xstrdup(a->url);
  }
  a->out->expires_us = a->expires_us;
  return 0;
}

/* Renews a subscription (see subscriptions.h). */
store_rc_t store_subscription_renew(store_t *st, const char *tenant, const char *id,
                                    const char *app_id, int64_t expires_us,
                                    const char *notification_url, store_subscription_t *out) {
  store_subscription_t local = {0};
  if (out) memset(out, 0, sizeof *out);
  if (!tenant || !id || !app_id) return STORE_NOT_FOUND;
  sub_arg_t a = {.tenant = tenant, .id = id, .app_id = app_id, .expires_us = expires_us,
                 .url = notification_url, .out = out ? out : &local};
  store_rc_t rc = store_rc(db_write(st->db, renew_fn, &a));
  if (rc != STORE_OK || !out) store_subscription_clear(a.out);
  return rc;
}

static int delete_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "SELECT app_id FROM subscriptions WHERE id = ? AND tenant_id = ?");
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  int rc = db_step(s);
  bool mine = rc == DB_ROW && strcmp(db_col_text(s, 0) ? db_col_text(s, 0) : "", a->app_id) == 0;
  db_reset(s);
  if (rc != DB_ROW && rc != DB_DONE) return DB_ERROR;
  if (!mine) return STORE_NOT_FOUND;
  return sub_remove(c, a->id);
}

/* Deletes a subscription and its pending change notifications (see subscriptions.h). */
store_rc_t store_subscription_delete(store_t *st, const char *tenant, const char *id,
                                     const char *app_id) {
  if (!tenant || !id || !app_id) return STORE_NOT_FOUND;
  sub_arg_t a = {.tenant = tenant, .id = id, .app_id = app_id};
  return store_rc(db_write(st->db, delete_fn, &a));
}

/* ---- expiry ----------------------------------------------------------------------------- */

static int sweep_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  int64_t now = a->expires_us;
  a->removed = 0;
  int turn = store_sweep_turn(c, DB_SWEEP_SUBSCRIPTIONS);
  if (turn != 1) return turn == 0 ? 0 : DB_ERROR;  /* another process is sweeping */
  store_subscription_t *subs = NULL;
  size_t n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT " SUB_COLS " FROM subscriptions WHERE expires_us <= ?"
                               " ORDER BY expires_us LIMIT ?");
  db_bind_int64(s, 1, now);
  db_bind_int64(s, 2, SWEEP_BATCH);
  int out = store_read_rows(s, sizeof *subs, sub_from_row, (void **)&subs, &n);
  int64_t t = time_now_us();
  for (size_t i = 0; out == 0 && i < n; i++) {
    store_subscription_t *x = &subs[i];
    out = sub_remove(c, x->id);
    if (out == 0 && x->lifecycle_url && *x->lifecycle_url) {
      char *payload = store_outbox_lifecycle_payload("subscriptionRemoved", x->id, x->expires_us,
                                                     x->resource, x->client_state, x->tenant);
      out = store_outbox_insert(c, x->tenant, x->id, STORE_OUTBOX_SUBSCRIPTION_REMOVED,
                                x->lifecycle_url, payload, t);
      free(payload);
    }
    if (out == 0) a->removed++;
  }
  for (size_t i = 0; i < n; i++) store_subscription_clear(&subs[i]);
  free(subs);
  return out;
}

static int expired_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "SELECT id FROM subscriptions WHERE expires_us <= ? LIMIT 1");
  db_bind_int64(s, 1, a->expires_us);
  return store_step_row(s, NULL, NULL);
}

/* Removes expired subscriptions (see subscriptions.h). A read transaction looks first, so an
 * idle sweep costs no write. */
store_rc_t store_subscription_sweep(store_t *st, int64_t now_us, unsigned *removed) {
  if (removed) *removed = 0;
  sub_arg_t a = {.expires_us = now_us};
  store_rc_t rc = store_rc(db_read(st->db, expired_fn, &a));
  if (rc == STORE_NOT_FOUND) return STORE_OK;
  if (rc != STORE_OK) return rc;
  rc = store_rc(db_write(st->db, sweep_fn, &a));
  if (rc == STORE_OK && removed) *removed = a.removed;
  return rc;
}
