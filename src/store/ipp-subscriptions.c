/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA side of the store (store/ipp.h), ippget subscriptions: create, get, list, renew,
 * cancel, mark polled, and Get-Notifications (the events of ipp-events.c a subscription holds).
 */
#include "store/ipp.h"
#include "store/ipp-private.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define SUB_COLS                                                                            \
  "id, printer_id, events, device_uuid, owner, user_data, lease_s, expires_us, last_seq,"   \
  " created_us, used_us"

#define USED_COALESCE_US 60000000LL  /* used_us at most once a minute */

#define EVENT_COLS                                                                          \
  "subscription_id, seq, event, created_us, job_id, job_phase, job_details,"                \
  " job_device_state, printer_state, printer_details, printer_accepting, text"
void store_ipp_subscription_clear(store_ipp_subscription_t *s) {
  if (!s) return;
  free(s->printer_id);
  free(s->events);
  free(s->device_uuid);
  free(s->owner);
  free(s->user_data);
  memset(s, 0, sizeof *s);
}

/* ---- subscriptions ----------------------------------------------------------------------- */

static void sub_row(db_stmt_t *s, void *item) {
  store_ipp_subscription_t *o = item;
  memset(o, 0, sizeof *o);
  o->id = db_col_int64(s, 0);
  o->printer_id = store_col_strdup(s, 1, true);
  o->events = store_col_strdup(s, 2, true);
  o->device_uuid = store_col_strdup(s, 3, false);
  o->owner = store_col_strdup(s, 4, false);
  o->user_data = store_col_blob_dup(s, 5, &o->user_data_len);
  o->lease_s = db_col_int64(s, 6);
  o->expires_us = store_col_i64_or(s, 7, 0);
  o->last_seq = db_col_int64(s, 8);
  o->created_us = db_col_int64(s, 9);
  o->used_us = db_col_int64(s, 10);
}

/* Reads live subscription id of printer_id; 0, STORE_NOT_FOUND or DB_ERROR. */
static int sub_load(db_conn_t *c, const char *tenant, const char *printer_id, int64_t id,
                    int64_t now, store_ipp_subscription_t *o) {
  db_stmt_t *s = db_prepare(c, "SELECT " SUB_COLS " FROM ipp_subscriptions"
                               " WHERE id = ? AND tenant_id = ? AND printer_id = ?"
                               " AND (expires_us IS NULL OR expires_us > ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, id);
  db_bind_text(s, 2, tenant);
  db_bind_text(s, 3, printer_id);
  db_bind_int64(s, 4, now);
  return store_step_row(s, sub_row, o);
}

typedef struct {
  const char                     *tenant;
  const char                     *printer_id;
  const store_ipp_subscription_t *n;
  int64_t                         id;
  int64_t                         lease_s;
  int64_t                         now;
  store_ipp_subscription_t        out;
  const int64_t                  *ids;
  size_t                          nids;
} sub_arg_t;

static int sub_create_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  /* Expired subscriptions, and abandoned lease-0 ones, go first. */
  db_stmt_t *s = db_prepare(c, "DELETE FROM ipp_subscriptions WHERE printer_id = ?"
                               " AND tenant_id = ? AND ((expires_us IS NOT NULL AND"
                               " expires_us <= ?) OR (lease_s = 0 AND used_us < ?))");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, a->now);
  db_bind_int64(s, 4, a->now - (int64_t)STORE_IPP_SUB_IDLE_S * 1000000);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  s = db_prepare(c, "SELECT COUNT(*) FROM ipp_subscriptions WHERE printer_id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  rc = db_step(s);
  int64_t count = rc == DB_ROW ? db_col_int64(s, 0) : 0;
  db_reset(s);
  if (rc != DB_ROW) return DB_ERROR;
  if (count >= STORE_IPP_SUBS_MAX) {
    s = db_prepare(c, "DELETE FROM ipp_subscriptions WHERE id = (SELECT id FROM"
                      " ipp_subscriptions WHERE printer_id = ? AND tenant_id = ?"
                      " ORDER BY used_us, id LIMIT 1)");
    if (!s) return DB_ERROR;
    db_bind_text(s, 1, a->printer_id);
    db_bind_text(s, 2, a->tenant);
    if ((rc = store_step_done(s)) != 0) return rc;
  }
  if (db_next_id(c, "ipp_subscription", &a->id) != 0) return DB_ERROR;
  if (a->id <= 0 || a->id > 2147483647) {
    log_error("store: the IPP subscription id space is exhausted");
    return DB_ERROR;
  }
  const store_ipp_subscription_t *n = a->n;
  s = db_prepare(c, "INSERT INTO ipp_subscriptions (" SUB_COLS ", tenant_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->id);
  db_bind_text(s, 2, a->printer_id);
  db_bind_text(s, 3, n->events ? n->events : "");
  db_bind_text(s, 4, n->device_uuid);
  db_bind_text(s, 5, n->owner);
  if (n->user_data) db_bind_blob(s, 6, n->user_data, n->user_data_len);
  else db_bind_null(s, 6);
  db_bind_int64(s, 7, n->lease_s);
  if (n->lease_s > 0) db_bind_int64(s, 8, a->now + n->lease_s * 1000000);
  else db_bind_null(s, 8);
  db_bind_int64(s, 9, a->now);
  db_bind_int64(s, 10, a->now);
  db_bind_text(s, 11, a->tenant);
  return store_step_done(s);
}

/* Create-Printer-Subscriptions (one subscription); see ipp.h. */
store_rc_t store_ipp_subscription_create(store_t *st, const char *tenant, const char *printer_id,
                                         const store_ipp_subscription_t *n, int64_t now_us,
                                         int64_t *id) {
  *id = 0;
  if (!tenant || !printer_id || !n) return STORE_NOT_FOUND;
  sub_arg_t a = {.tenant = tenant, .printer_id = printer_id, .n = n, .now = now_us};
  store_rc_t rc = store_rc(db_write(st->db, sub_create_fn, &a));
  if (rc == STORE_OK) *id = a.id;
  return rc;
}

static int sub_get_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  store_ipp_subscription_clear(&a->out);
  return sub_load(c, a->tenant, a->printer_id, a->id, a->now, &a->out);
}

/* Reads a live subscription; see ipp.h. */
store_rc_t store_ipp_subscription_get(store_t *st, const char *tenant, const char *printer_id,
                                      int64_t id, int64_t now_us, store_ipp_subscription_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !printer_id || id <= 0) return STORE_NOT_FOUND;
  sub_arg_t a = {.tenant = tenant, .printer_id = printer_id, .id = id, .now = now_us};
  store_rc_t rc = store_rc(db_read(st->db, sub_get_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_ipp_subscription_clear(&a.out);
  return rc;
}

typedef struct {
  const char               *tenant;
  const char               *printer_id;
  int64_t                   now, limit;
  store_ipp_subscription_t *subs;
  size_t                    n;
} sub_list_arg_t;

static void sub_list_reset(sub_list_arg_t *a) {
  for (size_t i = 0; i < a->n; i++) store_ipp_subscription_clear(&a->subs[i]);
  free(a->subs);
  a->subs = NULL;
  a->n = 0;
}

static int sub_list_fn(db_conn_t *c, void *arg) {
  sub_list_arg_t *a = arg;
  sub_list_reset(a);
  db_stmt_t *s = db_prepare(c, "SELECT " SUB_COLS " FROM ipp_subscriptions"
                               " WHERE tenant_id = ? AND printer_id = ?"
                               " AND (expires_us IS NULL OR expires_us > ?) ORDER BY id LIMIT ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  db_bind_text(s, 2, a->printer_id);
  db_bind_int64(s, 3, a->now);
  db_bind_int64(s, 4, a->limit > 0 ? a->limit : 1);
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    a->subs = xrealloc(a->subs, (a->n + 1) * sizeof *a->subs);
    sub_row(s, &a->subs[a->n++]);
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Lists a printer's subscriptions; see ipp.h. */
store_rc_t store_ipp_subscription_list(store_t *st, const char *tenant, const char *printer_id,
                                       int64_t now_us, int64_t limit,
                                       store_ipp_subscription_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  sub_list_arg_t a = {.tenant = tenant, .printer_id = printer_id, .now = now_us, .limit = limit};
  store_rc_t rc = store_rc(db_read(st->db, sub_list_fn, &a));
  if (rc != STORE_OK) {
    sub_list_reset(&a);
    return rc;
  }
  *out = a.subs;
  *n = a.n;
  return STORE_OK;
}

static int sub_renew_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "UPDATE ipp_subscriptions SET lease_s = ?, expires_us = ?,"
                               " used_us = ? WHERE id = ? AND tenant_id = ? AND printer_id = ?"
                               " AND (expires_us IS NULL OR expires_us > ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->lease_s);
  if (a->lease_s > 0) db_bind_int64(s, 2, a->now + a->lease_s * 1000000);
  else db_bind_null(s, 2);
  db_bind_int64(s, 3, a->now);
  db_bind_int64(s, 4, a->id);
  db_bind_text(s, 5, a->tenant);
  db_bind_text(s, 6, a->printer_id);
  db_bind_int64(s, 7, a->now);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  return db_changes(c) == 1 ? 0 : STORE_NOT_FOUND;
}

/* Renew-Subscription; see ipp.h. */
store_rc_t store_ipp_subscription_renew(store_t *st, const char *tenant, const char *printer_id,
                                        int64_t id, int64_t lease_s, int64_t now_us) {
  if (!tenant || !printer_id || id <= 0) return STORE_NOT_FOUND;
  sub_arg_t a = {.tenant = tenant, .printer_id = printer_id, .id = id, .lease_s = lease_s,
                 .now = now_us};
  return store_rc(db_write(st->db, sub_renew_fn, &a));
}

static int sub_cancel_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "DELETE FROM ipp_subscriptions WHERE id = ? AND tenant_id = ?"
                               " AND printer_id = ? AND (expires_us IS NULL OR expires_us > ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->printer_id);
  db_bind_int64(s, 4, a->now);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  return db_changes(c) == 1 ? 0 : STORE_NOT_FOUND;
}

/* Cancel-Subscription; see ipp.h. */
store_rc_t store_ipp_subscription_cancel(store_t *st, const char *tenant, const char *printer_id,
                                         int64_t id, int64_t now_us) {
  if (!tenant || !printer_id || id <= 0) return STORE_NOT_FOUND;
  sub_arg_t a = {.tenant = tenant, .printer_id = printer_id, .id = id, .now = now_us};
  return store_rc(db_write(st->db, sub_cancel_fn, &a));
}

static int sub_used_fn(db_conn_t *c, void *arg) {
  sub_arg_t *a = arg;
  for (size_t i = 0; i < a->nids; i++) {
    db_stmt_t *s = db_prepare(c, "UPDATE ipp_subscriptions SET used_us = ?"
                                 " WHERE id = ? AND tenant_id = ? AND used_us < ?");
    if (!s) return DB_ERROR;
    db_bind_int64(s, 1, a->now);
    db_bind_int64(s, 2, a->ids[i]);
    db_bind_text(s, 3, a->tenant);
    db_bind_int64(s, 4, a->now - USED_COALESCE_US);
    int rc = store_step_done(s);
    if (rc != 0) return rc;
  }
  return 0;
}

/* Marks subscriptions as polled; see ipp.h. */
store_rc_t store_ipp_subscriptions_used(store_t *st, const char *tenant, const int64_t *ids,
                                        size_t n, int64_t now_us) {
  if (!tenant || !n) return STORE_OK;
  sub_arg_t a = {.tenant = tenant, .ids = ids, .nids = n, .now = now_us};
  return store_rc(db_write(st->db, sub_used_fn, &a));
}

typedef struct {
  const char               *tenant;
  const char               *printer_id;
  const int64_t            *ids;
  size_t                    n;
  const int64_t            *seqs;
  size_t                    nseqs;
  size_t                    max;
  int64_t                   now;
  store_ipp_subscription_t *subs;
  store_ipp_event_t        *events;
  size_t                    nevents;
  int64_t                   missing;
} events_arg_t;

static void events_reset(events_arg_t *a) {
  for (size_t i = 0; a->subs && i < a->n; i++) store_ipp_subscription_clear(&a->subs[i]);
  free(a->subs);
  a->subs = NULL;
  store_ipp_events_free(a->events, a->nevents);
  a->events = NULL;
  a->nevents = 0;
  a->missing = 0;
}

static int events_get_fn(db_conn_t *c, void *arg) {
  events_arg_t *a = arg;
  events_reset(a);
  a->subs = xcalloc(a->n ? a->n : 1, sizeof *a->subs);
  size_t cap = 0;
  for (size_t i = 0; i < a->n; i++) {
    int rc = sub_load(c, a->tenant, a->printer_id, a->ids[i], a->now, &a->subs[i]);
    if (rc == STORE_NOT_FOUND) {
      a->missing = a->ids[i];
      return rc;
    }
    if (rc != 0) return rc;
  }
  for (size_t i = 0; i < a->n && a->nevents < a->max; i++) {
    int64_t from = i < a->nseqs && a->seqs[i] > 0 ? a->seqs[i] : 1;
    db_stmt_t *s = db_prepare(c, "SELECT " EVENT_COLS " FROM ipp_events"
                                 " WHERE subscription_id = ? AND seq >= ? AND created_us >= ?"
                                 " ORDER BY seq LIMIT ?");
    if (!s) return DB_ERROR;
    db_bind_int64(s, 1, a->ids[i]);
    db_bind_int64(s, 2, from);
    db_bind_int64(s, 3, a->now - (int64_t)STORE_IPP_EVENT_LIFE_S * 1000000);
    db_bind_int64(s, 4, (int64_t)(a->max - a->nevents));
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
      if (a->nevents == cap) {
        cap = cap ? cap * 2 : 8;
        a->events = xrealloc(a->events, cap * sizeof *a->events);
      }
      store_ipp_event_t *e = &a->events[a->nevents++];
      memset(e, 0, sizeof *e);
      e->subscription_id = db_col_int64(s, 0);
      e->seq = db_col_int64(s, 1);
      e->event = store_col_strdup(s, 2, true);
      e->created_us = db_col_int64(s, 3);
      e->job_id = store_col_i64_or(s, 4, 0);
      e->job_phase = (int)store_col_i64_or(s, 5, 0);
      e->job_details = (unsigned)store_col_i64_or(s, 6, 0);
      e->job_device_state = (int)store_col_i64_or(s, 7, 0);
      e->printer_state = (int)store_col_i64_or(s, 8, -1);
      e->printer_details = store_col_strdup(s, 9, false);
      e->printer_accepting = (int)store_col_i64_or(s, 10, -1);
      e->text = store_col_strdup(s, 11, false);
    }
    db_reset(s);
    if (rc != DB_DONE) return DB_ERROR;
  }
  return 0;
}

/* Get-Notifications; see ipp.h. */
store_rc_t store_ipp_events_get(store_t *st, const char *tenant, const char *printer_id,
                                const int64_t *ids, size_t n, const int64_t *seqs, size_t nseqs,
                                size_t max, int64_t now_us, store_ipp_subscription_t **subs,
                                store_ipp_event_t **events, size_t *nevents, int64_t *missing) {
  *subs = NULL;
  *events = NULL;
  *nevents = 0;
  *missing = 0;
  if (!tenant || !printer_id || !n) return STORE_NOT_FOUND;
  events_arg_t a = {.tenant = tenant, .printer_id = printer_id, .ids = ids, .n = n,
                    .seqs = seqs, .nseqs = nseqs, .max = max ? max : 1, .now = now_us};
  store_rc_t rc = store_rc(db_read(st->db, events_get_fn, &a));
  if (rc != STORE_OK) {
    *missing = rc == STORE_NOT_FOUND ? a.missing : 0;
    events_reset(&a);
    return rc;
  }
  *subs = a.subs;
  *events = a.events;
  *nevents = a.nevents;
  return STORE_OK;
}

