/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The notification outbox: rows written inside the transaction of the change that causes a
 * notification (store/outbox.h), taken and settled by the delivery worker
 * (store/subscriptions.h, src/notify/delivery.c).
 *
 * A row holds the complete request body, so delivery needs no other table and a restart
 * delivers exactly what was committed. Rows are deleted only once delivered (2xx) or dropped
 * after the retry period; change notifications also go with their subscription.
 */
#include "store/outbox.h"
#include "store/store-private.h"
#include "store/subscriptions.h"
#include "store/tasks-private.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTBOX_COLS \
  "id, tenant_id, subscription_id, kind, url, payload, created_us, due_us, attempts"

/* Rows of one endpoint that store_outbox_due() may skip (being delivered) beyond its budget. */
#define OUTBOX_SKIP_MAX 1024
/* Endpoints with due rows that one store_outbox_due() call looks at. */
#define OUTBOX_URLS_MAX 4096

/* ---- the worker's wake-up ---------------------------------------------------------------- */

/* Sets the function called after commits that queued rows (see subscriptions.h). */
void store_outbox_set_listener(store_t *st, void (*fn)(void *arg), void *arg) {
  store_wake_set(&st->outbox_wake, fn, arg);
}

/* ---- payloads ------------------------------------------------------------------------------ */

static json_t *json_string_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static char *dump_value(json_t *notification) {
  json_t *arr = json_array();
  json_array_append_new(arr, notification);
  json_t *body = json_object();
  json_object_set_new(body, "value", arr);
  char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(body);
  if (!text) abort();  /* only on allocation failure */
  char *copy = xstrdup(text);
  free(text);
  return copy;
}

/* The change notification body of reference §7.4. */
char *store_outbox_change_payload(const store_outbox_change_t *n) {
  char exp[TIME_ISO_LEN];
  time_format_iso(n->subscription_expires_us, exp);
  json_t *data = json_object();
  json_object_set_new(data, "@odata.type", json_string(n->odata_type));
  json_object_set_new(data, "@odata.id", json_string(n->resource));
  json_object_set_new(data, "id", json_string(n->object_id));
  if (n->parent_url) json_object_set_new(data, "parentUrl", json_string(n->parent_url));

  json_t *o = json_object();
  json_object_set_new(o, "subscriptionId", json_string(n->subscription_id));
  json_object_set_new(o, "subscriptionExpirationDateTime", json_string(exp));
  json_object_set_new(o, "changeType", json_string(n->change_type));
  json_object_set_new(o, "resource", json_string(n->resource));
  json_object_set_new(o, "clientState", json_string_or_null(n->client_state));
  json_object_set_new(o, "tenantId", json_string(n->tenant));
  json_object_set_new(o, "resourceData", data);
  return dump_value(o);
}

/* The lifecycle notification body (Graph's generic scheme). */
char *store_outbox_lifecycle_payload(const char *event, const char *subscription_id,
                                     int64_t subscription_expires_us, const char *resource,
                                     const char *client_state, const char *tenant) {
  char exp[TIME_ISO_LEN];
  time_format_iso(subscription_expires_us, exp);
  json_t *o = json_object();
  json_object_set_new(o, "lifecycleEvent", json_string(event));
  json_object_set_new(o, "subscriptionId", json_string(subscription_id));
  json_object_set_new(o, "subscriptionExpirationDateTime", json_string(exp));
  json_object_set_new(o, "resource", json_string(resource));
  json_object_set_new(o, "clientState", json_string_or_null(client_state));
  json_object_set_new(o, "tenantId", json_string(tenant));
  return dump_value(o);
}

/* ---- writing rows (inside other modules' closures) ---------------------------------------- */

/* Queues one row and arranges the wake-up after the commit. */
int store_outbox_insert(db_conn_t *c, const char *tenant, const char *subscription_id, int kind,
                        const char *url, const char *payload, int64_t now_us) {
  char id[ID_GUID_LEN + 1];
  id_guid_ordered(id);
  db_stmt_t *s = db_prepare(c, "INSERT INTO outbox (" OUTBOX_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)");
  db_bind_text(s, 1, id);
  db_bind_text(s, 2, tenant);
  db_bind_text(s, 3, subscription_id);
  db_bind_int64(s, 4, kind);
  db_bind_text(s, 5, url);
  db_bind_text(s, 6, payload);
  db_bind_int64(s, 7, now_us);
  db_bind_int64(s, 8, now_us);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
  store_t *st = store_of(c);
  if (st) db_after_commit(c, store_wake_run, &st->outbox_wake);
  return 0;
}

/* A subscription that matches a change. */
typedef struct {
  char   *id;
  char   *client_state;
  char   *url;
  int64_t expires_us;
} match_t;

static void matches_free(match_t *m, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(m[i].id);
    free(m[i].client_state);
    free(m[i].url);
  }
  free(m);
}

/* Fills the match_t at item from a row of find_matches's statement. */
static void match_row(db_stmt_t *s, void *item) {
  match_t *m = item;
  m->id = store_col_strdup(s, 0, true);
  m->client_state = store_col_strdup(s, 1, false);
  m->url = store_col_strdup(s, 2, true);
  m->expires_us = db_col_int64(s, 3);
}

/* Collects the unexpired subscriptions of tenant on (kind, target) into *out; 0 or DB_ERROR. */
static int find_matches(db_conn_t *c, const char *tenant, int kind, const char *target,
                        int64_t now_us, match_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  db_stmt_t *s = db_prepare(c,
    "SELECT id, client_state, notification_url, expires_us FROM subscriptions"
    " WHERE tenant_id = ? AND kind = ? AND target_id = ? AND expires_us > ? ORDER BY id");
  db_bind_text(s, 1, tenant);
  db_bind_int64(s, 2, kind);
  db_bind_text(s, 3, target);
  db_bind_int64(s, 4, now_us);
  if (store_read_rows(s, sizeof **out, match_row, (void **)out, n) != 0) {
    matches_free(*out, *n);
    *out = NULL;
    *n = 0;
    return DB_ERROR;
  }
  return 0;
}

/* Inserts one change row per match; 0 or a DB_* error. */
static int queue_changes(db_conn_t *c, const char *tenant, int kind, const char *target,
                         store_outbox_change_t *n) {
  int64_t now = time_now_us();
  match_t *m;
  size_t nm;
  int rc = find_matches(c, tenant, kind, target, now, &m, &nm);
  for (size_t i = 0; rc == 0 && i < nm; i++) {
    n->subscription_id = m[i].id;
    n->subscription_expires_us = m[i].expires_us;
    n->client_state = m[i].client_state;
    char *payload = store_outbox_change_payload(n);
    rc = store_outbox_insert(c, tenant, m[i].id, STORE_OUTBOX_CHANGE, m[i].url, payload, now);
    free(payload);
  }
  matches_free(m, nm);
  return rc;
}

/* "<public_url>/v1.0/print/printers/{p}/jobs/{j}" for task task_id (inserted earlier in this
 * transaction); NULL when the row is missing. */
static char *task_parent_url(db_conn_t *c, const char *tenant, const char *task_id,
                             const char *public_url) {
  db_stmt_t *s = db_prepare(c, "SELECT printer_id, job_id FROM tasks WHERE id = ? AND tenant_id = ?");
  db_bind_text(s, 1, task_id);
  db_bind_text(s, 2, tenant);
  char *url = NULL;
  if (db_step(s) == DB_ROW) url = store_job_url(public_url, db_col_text(s, 0), db_col_int64(s, 1));
  db_reset(s);
  return url;
}

/* Queues the change_type ("created", "updated") notifications of task task_id under
 * definition_id; parent_url NULL: the URL of the task's job under public_url. */
static int queue_task_change(db_conn_t *c, const char *tenant, const char *definition_id,
                             const char *task_id, const char *change_type,
                             const char *parent_url, const char *public_url) {
  if (!c || !tenant || !definition_id || !task_id) return DB_ERROR;
  char *own_url = NULL;
  if (!parent_url) {
    own_url = task_parent_url(c, tenant, task_id, public_url);
    if (!own_url) {
      log_error("outbox: task %s is not in the tasks table; no parentUrl", task_id);
      return DB_ERROR;
    }
    parent_url = own_url;
  }
  buf_t res = BUF_INIT;
  buf_printf(&res, "print/taskDefinitions/%s/tasks/%s", definition_id, task_id);
  store_outbox_change_t n = {.change_type = change_type, .resource = res.data, .tenant = tenant,
                             .odata_type = "#Microsoft.Graph.PrintTask", .object_id = task_id,
                             .parent_url = parent_url};
  int rc = queue_changes(c, tenant, STORE_SUB_TASKS, definition_id, &n);
  buf_free(&res);
  free(own_url);
  return rc;
}

/* Queues the "task created" notifications (see outbox.h). */
int store_outbox_task_created(db_conn_t *c, const char *tenant, const char *definition_id,
                              const char *task_id, const char *parent_url) {
  if (!parent_url) return DB_ERROR;
  return queue_task_change(c, tenant, definition_id, task_id, "created", parent_url, NULL);
}

/* Queues the "task updated" notifications (see outbox.h). */
int store_outbox_task_updated(db_conn_t *c, const char *tenant, const char *definition_id,
                              const char *task_id, const char *public_url) {
  return queue_task_change(c, tenant, definition_id, task_id, "updated", NULL, public_url);
}

/* Queues the "job fetchable" notifications (see outbox.h). */
int store_outbox_job_fetchable(db_conn_t *c, const char *tenant, const char *printer_id,
                               const char *job_id) {
  if (!c || !tenant || !printer_id || !job_id) return DB_ERROR;
  buf_t res = BUF_INIT;
  buf_printf(&res, "print/printers/%s/jobs/%s", printer_id, job_id);
  store_outbox_change_t n = {.change_type = "updated", .resource = res.data, .tenant = tenant,
                             .odata_type = "#Microsoft.Graph.PrintJob", .object_id = job_id};
  int rc = queue_changes(c, tenant, STORE_SUB_PRINTER_JOBS, printer_id, &n);
  buf_free(&res);
  return rc;
}

/* ---- the worker's side ---------------------------------------------------------------------- */

/* Releases the strings of *r and zeroes it. */
void store_outbox_row_clear(store_outbox_row_t *r) {
  if (!r) return;
  free(r->id);
  free(r->tenant);
  free(r->subscription_id);
  free(r->url);
  free(r->payload);
  memset(r, 0, sizeof *r);
}

static void row_from(db_stmt_t *s, store_outbox_row_t *r) {
  r->id = store_col_strdup(s, 0, true);
  r->tenant = store_col_strdup(s, 1, true);
  r->subscription_id = store_col_strdup(s, 2, true);
  r->kind = (store_outbox_kind_t)db_col_int64(s, 3);
  r->url = store_col_strdup(s, 4, true);
  r->payload = store_col_strdup(s, 5, true);
  r->created_us = db_col_int64(s, 6);
  r->due_us = db_col_int64(s, 7);
  r->attempts = (int)db_col_int64(s, 8);
}

typedef struct {
  int64_t                now_us;
  unsigned               max;
  store_outbox_budget_fn budget;
  store_outbox_take_fn   take;
  void                  *arg;
  int64_t                next_due_us;
} due_arg_t;

/* The endpoints with rows due at now_us, the one waiting longest first (at most
 * OUTBOX_URLS_MAX): *urls is malloc'd, each entry too. DB_DONE when read in full. */
static int due_urls(db_conn_t *c, int64_t now_us, char ***urls, size_t *nurls) {
  size_t cap = 0;
  db_stmt_t *s = db_prepare(c,
    "SELECT url, MIN(due_us) AS first_due FROM outbox WHERE due_us <= ?"
    " GROUP BY url ORDER BY first_due LIMIT ?");
  db_bind_int64(s, 1, now_us);
  db_bind_int64(s, 2, OUTBOX_URLS_MAX);
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    if (*nurls == cap) {
      cap = cap ? cap * 2 : 16;
      *urls = xrealloc(*urls, cap * sizeof **urls);
    }
    (*urls)[(*nurls)++] = store_col_strdup(s, 0, true);
  }
  db_reset(s);
  return rc;
}

/* When the next row falls due after now_us, into *next_due_us (left as it is when none). */
static int next_due(db_conn_t *c, int64_t now_us, int64_t *next_due_us) {
  db_stmt_t *s = db_prepare(c, "SELECT MIN(due_us) FROM outbox WHERE due_us > ?");
  db_bind_int64(s, 1, now_us);
  int rc = db_step(s);
  if (rc == DB_ROW && !db_col_null(s, 0)) *next_due_us = db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

static int due_fn(db_conn_t *c, void *arg) {
  due_arg_t *a = arg;
  a->next_due_us = INT64_MAX;

  char **urls = NULL;
  size_t nurls = 0;
  int rc = due_urls(c, a->now_us, &urls, &nurls);

  unsigned taken = 0;
  for (size_t i = 0; rc == DB_DONE && i < nurls && taken < a->max; i++) {
    unsigned budget = a->budget(urls[i], a->arg);
    if (budget > a->max - taken) budget = a->max - taken;
    if (budget == 0) continue;
    db_stmt_t *s = db_prepare(c, "SELECT " OUTBOX_COLS " FROM outbox WHERE url = ? AND due_us <= ?"
                                 " ORDER BY due_us, id LIMIT ?");
    db_bind_text(s, 1, urls[i]);
    db_bind_int64(s, 2, a->now_us);
    db_bind_int64(s, 3, (int64_t)budget + OUTBOX_SKIP_MAX);
    unsigned got = 0;
    while (got < budget && (rc = db_step(s)) == DB_ROW) {
      store_outbox_row_t r = {0};
      row_from(s, &r);
      if (a->take(&r, a->arg)) got++;
      store_outbox_row_clear(&r);
    }
    if (rc == DB_ROW) rc = DB_DONE;  /* stopped early: budget used */
    db_reset(s);
    taken += got;
  }
  for (size_t i = 0; i < nurls; i++) free(urls[i]);
  free(urls);
  if (rc != DB_DONE) return DB_ERROR;

  return next_due(c, a->now_us, &a->next_due_us);
}

/* The claim of a shared database: the rows locked and leased by one write transaction,
 * offered to take() after its commit. Its loop mirrors due_fn's on purpose and stays apart:
 * here each endpoint's rows are locked (FOR UPDATE SKIP LOCKED, which SQLite lacks) and leased
 * inside a write, while due_fn offers the rows of the one process that delivers on SQLite
 * from a read. */
typedef struct {
  int64_t                now_us, lease_us;
  unsigned               max;
  store_outbox_budget_fn budget;
  void                  *arg;
  store_outbox_row_t    *rows;
  size_t                 n, cap;
  int64_t                next_due_us;
} claim_arg_t;

static void claim_rows_clear(claim_arg_t *a) {
  for (size_t i = 0; i < a->n; i++) store_outbox_row_clear(&a->rows[i]);
  a->n = 0;
}

static int claim_fn(db_conn_t *c, void *arg) {
  claim_arg_t *a = arg;
  claim_rows_clear(a);  /* the closure may run again */
  a->next_due_us = INT64_MAX;
  int64_t until = a->now_us + a->lease_us;

  char **urls = NULL;
  size_t nurls = 0;
  int rc = due_urls(c, a->now_us, &urls, &nurls);

  unsigned taken = 0;
  for (size_t i = 0; rc == DB_DONE && i < nurls && taken < a->max; i++) {
    unsigned budget = a->budget(urls[i], a->arg);
    if (budget > a->max - taken) budget = a->max - taken;
    if (budget == 0) continue;
    /* Rows another process is claiming right now are skipped, not waited for. */
    db_stmt_t *s = db_prepare(c, "SELECT " OUTBOX_COLS " FROM outbox WHERE url = ? AND due_us <= ?"
                                 " ORDER BY due_us, id LIMIT ? FOR UPDATE SKIP LOCKED");
    db_bind_text(s, 1, urls[i]);
    db_bind_int64(s, 2, a->now_us);
    db_bind_int64(s, 3, budget);
    while ((rc = db_step(s)) == DB_ROW) {
      if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->rows = xrealloc(a->rows, a->cap * sizeof *a->rows);
      }
      store_outbox_row_t *r = &a->rows[a->n++];
      memset(r, 0, sizeof *r);
      row_from(s, r);
      r->due_us = until;
      r->claim_us = until;
      taken++;
    }
    db_reset(s);
  }
  for (size_t i = 0; i < nurls; i++) free(urls[i]);
  free(urls);
  if (rc != DB_DONE) return DB_ERROR;

  for (size_t i = 0; i < a->n; i++) {
    db_stmt_t *s = db_prepare(c, "UPDATE outbox SET due_us = ? WHERE id = ?");
    db_bind_int64(s, 1, until);
    db_bind_text(s, 2, a->rows[i].id);
    rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE) return DB_ERROR;
  }

  return next_due(c, a->now_us, &a->next_due_us);
}

/* Offers the due rows endpoint by endpoint (see subscriptions.h). */
store_rc_t store_outbox_due(store_t *st, int64_t now_us, int64_t lease_us, unsigned max,
                            store_outbox_budget_fn budget, store_outbox_take_fn take, void *arg,
                            int64_t *next_due_us) {
  if (next_due_us) *next_due_us = INT64_MAX;
  if (!st || !budget || !take) return STORE_ERROR;
  if (db_shared(st->db) && lease_us > 0) {
    claim_arg_t a = {.now_us = now_us, .lease_us = lease_us, .max = max, .budget = budget,
                     .arg = arg};
    store_rc_t rc = store_rc(db_write(st->db, claim_fn, &a));
    if (rc == STORE_OK) {
      /* Rows take() refuses (no free slot) keep their lease and come back when it ends. */
      for (size_t i = 0; i < a.n; i++) take(&a.rows[i], arg);
      if (next_due_us) *next_due_us = a.next_due_us;
    }
    claim_rows_clear(&a);
    free(a.rows);
    return rc;
  }
  due_arg_t a = {.now_us = now_us, .max = max, .budget = budget, .take = take, .arg = arg};
  store_rc_t rc = store_rc(db_read(st->db, due_fn, &a));
  if (rc == STORE_OK && next_due_us) *next_due_us = a.next_due_us;
  return rc;
}

/* Queues a `missed` lifecycle notification for subscription sub_id unless it has no
 * lifecycleNotificationUrl or one is already pending. *queued is set when it did. */
static int queue_missed(db_conn_t *c, const char *sub_id, int64_t now_us, bool *queued) {
  *queued = false;
  db_stmt_t *s = db_prepare(c, "SELECT COUNT(*) FROM outbox WHERE subscription_id = ? AND kind = ?");
  db_bind_text(s, 1, sub_id);
  db_bind_int64(s, 2, STORE_OUTBOX_MISSED);
  int rc = db_step(s);
  int64_t pending = rc == DB_ROW ? db_col_int64(s, 0) : -1;
  db_reset(s);
  if (pending < 0) return DB_ERROR;
  if (pending > 0) return 0;

  s = db_prepare(c, "SELECT tenant_id, resource, client_state, lifecycle_url, expires_us"
                    " FROM subscriptions WHERE id = ?");
  db_bind_text(s, 1, sub_id);
  rc = db_step(s);
  char *tenant = NULL, *resource = NULL, *state = NULL, *url = NULL;
  int64_t expires = 0;
  if (rc == DB_ROW) {
    tenant = store_col_strdup(s, 0, true);
    resource = store_col_strdup(s, 1, true);
    state = store_col_strdup(s, 2, false);
    url = store_col_strdup(s, 3, false);
    expires = db_col_int64(s, 4);
  }
  db_reset(s);
  int out = rc == DB_ROW || rc == DB_DONE ? 0 : DB_ERROR;
  if (out == 0 && url && *url) {
    char *payload = store_outbox_lifecycle_payload("missed", sub_id, expires, resource, state,
                                                   tenant);
    out = store_outbox_insert(c, tenant, sub_id, STORE_OUTBOX_MISSED, url, payload, now_us);
    free(payload);
    *queued = out == 0;
  }
  free(tenant);
  free(resource);
  free(state);
  free(url);
  return out;
}

typedef struct {
  const store_outbox_result_t *results;
  size_t                       n;
  unsigned                     missed;
} settle_arg_t;

static int settle_fn(db_conn_t *c, void *arg) {
  settle_arg_t *a = arg;
  a->missed = 0;
  int64_t now = time_now_us();
  for (size_t i = 0; i < a->n; i++) {
    const store_outbox_result_t *r = &a->results[i];
    db_stmt_t *s;
    int rc;
    /* A claimed row is settled only while it carries this process's lease. */
    const char *held = r->claim_us ? " AND due_us = ?" : "";
    char sql[160];
    if (r->outcome == STORE_OUTBOX_RETRY) {
      snprintf(sql, sizeof sql, "UPDATE outbox SET attempts = attempts + 1, due_us = ?,"
               " last_error = ? WHERE id = ?%s", held);
      s = db_prepare(c, sql);
      db_bind_int64(s, 1, r->retry_us);
      db_bind_text(s, 2, r->error);
      db_bind_text(s, 3, r->id);
      if (r->claim_us) db_bind_int64(s, 4, r->claim_us);
      rc = db_step(s);
      db_reset(s);
      if (rc != DB_DONE) return DB_ERROR;
      continue;
    }
    char *sub_id = NULL;
    int kind = -1;
    if (r->outcome == STORE_OUTBOX_DROP) {
      snprintf(sql, sizeof sql, "SELECT subscription_id, kind FROM outbox WHERE id = ?%s", held);
      s = db_prepare(c, sql);
      db_bind_text(s, 1, r->id);
      if (r->claim_us) db_bind_int64(s, 2, r->claim_us);
      rc = db_step(s);
      if (rc == DB_ROW) {
        sub_id = store_col_strdup(s, 0, true);
        kind = (int)db_col_int64(s, 1);
      }
      db_reset(s);
      if (rc != DB_ROW && rc != DB_DONE) return DB_ERROR;
    }
    snprintf(sql, sizeof sql, "DELETE FROM outbox WHERE id = ?%s", held);
    s = db_prepare(c, sql);
    db_bind_text(s, 1, r->id);
    if (r->claim_us) db_bind_int64(s, 2, r->claim_us);
    rc = db_step(s);
    db_reset(s);
    if (rc == DB_DONE && kind == STORE_OUTBOX_CHANGE) {
      bool queued = false;
      rc = queue_missed(c, sub_id, now, &queued) == 0 ? DB_DONE : DB_ERROR;
      if (queued) a->missed++;
    }
    free(sub_id);
    if (rc != DB_DONE) return DB_ERROR;
  }
  return 0;
}

/* Applies delivery outcomes in one transaction (see subscriptions.h). */
store_rc_t store_outbox_settle(store_t *st, const store_outbox_result_t *results, size_t n,
                               unsigned *missed) {
  if (missed) *missed = 0;
  if (!st || (n && !results)) return STORE_ERROR;
  if (n == 0) return STORE_OK;
  settle_arg_t a = {.results = results, .n = n};
  store_rc_t rc = store_rc(db_write(st->db, settle_fn, &a));
  if (rc == STORE_OK && missed) *missed = a.missed;
  return rc;
}

static int count_fn(db_conn_t *c, void *arg) {
  db_stmt_t *s = db_prepare(c, "SELECT COUNT(*) FROM outbox");
  int rc = db_step(s);
  if (rc == DB_ROW) *(int64_t *)arg = db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* Number of rows in the outbox. */
store_rc_t store_outbox_count(store_t *st, int64_t *out) {
  *out = 0;
  return store_rc(db_read(st->db, count_fn, out));
}

void store_delivery_state_clear(store_delivery_state_t *d) {
  if (!d) return;
  free(d->last_error);
  memset(d, 0, sizeof *d);
}

typedef struct delivery_arg {
  const char             *tenant, *subscription_id;
  store_delivery_state_t *out;
} delivery_arg_t;

static int delivery_fn(db_conn_t *c, void *arg) {
  delivery_arg_t *a = arg;
  store_delivery_state_clear(a->out);
  db_stmt_t *s = db_prepare(c, "SELECT COUNT(*), MAX(attempts), MIN(due_us), MIN(created_us) "
                               "FROM outbox WHERE tenant_id = ? AND subscription_id = ?");
  db_bind_text(s, 1, a->tenant);
  db_bind_text(s, 2, a->subscription_id);
  int rc = db_step(s);
  if (rc == DB_ROW) {
    a->out->queued = db_col_int64(s, 0);
    a->out->failed_attempts = db_col_null(s, 1) ? 0 : db_col_int64(s, 1);
    a->out->next_attempt_us = db_col_null(s, 2) ? 0 : db_col_int64(s, 2);
    a->out->oldest_us = db_col_null(s, 3) ? 0 : db_col_int64(s, 3);
  }
  db_reset(s);
  if (rc != DB_ROW) return DB_ERROR;
  s = db_prepare(c, "SELECT last_error FROM outbox WHERE tenant_id = ? AND subscription_id = ? "
                    "AND last_error IS NOT NULL ORDER BY due_us DESC LIMIT 1");
  db_bind_text(s, 1, a->tenant);
  db_bind_text(s, 2, a->subscription_id);
  rc = db_step(s);
  if (rc == DB_ROW) a->out->last_error = xstrdup(db_col_text(s, 0));
  db_reset(s);
  return rc == DB_ROW || rc == DB_DONE ? 0 : DB_ERROR;
}

store_rc_t store_subscription_delivery(store_t *st, const char *tenant,
                                       const char *subscription_id, store_delivery_state_t *out) {
  memset(out, 0, sizeof *out);
  delivery_arg_t a = {tenant, subscription_id, out};
  return store_rc(db_read(st->db, delivery_fn, &a));
}
