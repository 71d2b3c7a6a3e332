/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenants: one row per directory tenant (the tokens' tid) with its subscription state.
 *
 * Every other table's rows belong to a tenant and reference tenants(id) ON DELETE CASCADE
 * (see migrations.c), so removing the tenants row removes everything the tenant owns.
 */
#include "store/store-private.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define TENANT_COLS "id, display_name, state, created_us"

typedef struct {
  const char     *id;
  const char     *display_name;
  tenant_state_t  state;
  store_tenant_t *out;
} tenant_arg_t;

static void tenant_from_row(db_stmt_t *s, void *item) {
  store_tenant_t *t = item;
  t->id = store_col_strdup(s, 0, true);
  t->display_name = store_col_strdup(s, 1, true);
  t->state = db_col_int64(s, 2) == TENANT_SUSPENDED ? TENANT_SUSPENDED : TENANT_ACTIVE;
  t->created_us = db_col_int64(s, 3);
}

/* Releases the strings of *t and zeroes it. */
void store_tenant_clear(store_tenant_t *t) {
  if (!t) return;
  free(t->id);
  free(t->display_name);
  memset(t, 0, sizeof *t);
}

static int tenant_get_fn(db_conn_t *c, void *arg) {
  tenant_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "SELECT " TENANT_COLS " FROM tenants WHERE id = ?");
  db_bind_text(s, 1, a->id);
  return store_step_row(s, tenant_from_row, a->out);
}

/* Reads tenant id into *out (the caller clears it with store_tenant_clear); *out is zeroed
 * unless STORE_OK. */
store_rc_t store_tenant_get(store_t *st, const char *id, store_tenant_t *out) {
  memset(out, 0, sizeof *out);
  if (!id) return STORE_NOT_FOUND;
  tenant_arg_t a = {.id = id, .out = out};
  store_rc_t rc = store_rc(db_read(st->db, tenant_get_fn, &a));
  if (rc != STORE_OK) store_tenant_clear(out);
  return rc;
}

static int tenant_add_fn(db_conn_t *c, void *arg) {
  tenant_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "INSERT INTO tenants (" TENANT_COLS ") VALUES (?, ?, ?, ?)");
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->display_name ? a->display_name : "");
  db_bind_int64(s, 3, a->state);
  db_bind_int64(s, 4, time_now_us());
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Creates tenant id; STORE_CONFLICT when it exists. display_name may be NULL (""). */
store_rc_t store_tenant_add(store_t *st, const char *id, const char *display_name,
                            tenant_state_t state) {
  if (!id || !*id) return STORE_ERROR;
  tenant_arg_t a = {.id = id, .display_name = display_name, .state = state};
  return store_rc(db_write(st->db, tenant_add_fn, &a));
}

static int tenant_ensure_fn(db_conn_t *c, void *arg) {
  tenant_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "INSERT INTO tenants (" TENANT_COLS ") VALUES (?, '', ?, ?)"
                               " ON CONFLICT (id) DO NOTHING");
  db_bind_text(s, 1, a->id);
  db_bind_int64(s, 2, TENANT_ACTIVE);
  db_bind_int64(s, 3, time_now_us());
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Creates tenant id (active, no display name) unless it exists; STORE_OK either way. */
store_rc_t store_tenant_ensure(store_t *st, const char *id) {
  if (!id || !*id) return STORE_ERROR;
  /* The common case, a known tenant, costs a read instead of a durable commit. */
  store_tenant_t t;
  store_rc_t rc = store_tenant_get(st, id, &t);
  store_tenant_clear(&t);
  if (rc != STORE_NOT_FOUND) return rc;
  tenant_arg_t a = {.id = id};
  return store_rc(db_write(st->db, tenant_ensure_fn, &a));
}

static int tenant_set_state_fn(db_conn_t *c, void *arg) {
  tenant_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "UPDATE tenants SET state = ? WHERE id = ?");
  db_bind_int64(s, 1, a->state);
  db_bind_text(s, 2, a->id);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  return db_changes(c) ? 0 : STORE_NOT_FOUND;
}

/* Sets tenant id's subscription state (suspend / resume); STORE_NOT_FOUND when unknown. */
store_rc_t store_tenant_set_state(store_t *st, const char *id, tenant_state_t state) {
  if (!id) return STORE_NOT_FOUND;
  tenant_arg_t a = {.id = id, .state = state};
  return store_rc(db_write(st->db, tenant_set_state_fn, &a));
}

static int tenant_remove_fn(db_conn_t *c, void *arg) {
  tenant_arg_t *a = arg;
  /* ON DELETE CASCADE (foreign_keys=ON) removes the tenant's rows in every other table. */
  db_stmt_t *s = db_prepare(c, "DELETE FROM tenants WHERE id = ?");
  db_bind_text(s, 1, a->id);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  return db_changes(c) ? 0 : STORE_NOT_FOUND;
}

/* Removes tenant id and every row that belongs to it; STORE_NOT_FOUND when unknown. */
store_rc_t store_tenant_remove(store_t *st, const char *id) {
  if (!id) return STORE_NOT_FOUND;
  tenant_arg_t a = {.id = id};
  return store_rc(db_write(st->db, tenant_remove_fn, &a));
}

typedef struct {
  store_tenant_t *v;
  size_t          n;
} tenant_list_t;

static void tenant_list_clear(tenant_list_t *l) {
  for (size_t i = 0; i < l->n; i++) store_tenant_clear(&l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

static int tenant_list_fn(db_conn_t *c, void *arg) {
  tenant_list_t *l = arg;
  tenant_list_clear(l);  /* the closure may run again */
  db_stmt_t *s = db_prepare(c, "SELECT " TENANT_COLS " FROM tenants ORDER BY id");
  return store_read_rows(s, sizeof *l->v, tenant_from_row, (void **)&l->v, &l->n);
}

/* Calls fn for each tenant ordered by id until fn returns non-zero. fn runs after the read
 * transaction has ended, so it may call the store; the tenant it gets is valid during the
 * call only. */
store_rc_t store_tenant_list(store_t *st, int (*fn)(const store_tenant_t *t, void *arg),
                             void *arg) {
  tenant_list_t l = {NULL, 0};
  store_rc_t rc = store_rc(db_read(st->db, tenant_list_fn, &l));
  bool walking = rc == STORE_OK && fn;
  for (size_t i = 0; i < l.n; i++) {
    if (walking && fn(&l.v[i], arg)) walking = false;
    store_tenant_clear(&l.v[i]);
  }
  free(l.v);
  return rc;
}
