/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print passwords (store/print-passwords.h): the print_passwords table.
 */
#include "store/print-passwords.h"
#include "store/store-private.h"
#include "util/buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define PP_COLS                                                                        \
  "id, tenant_id, user_id, user_name, user_display_name, groups, display_name, hash, " \
  "created_us, last_used_us"

/* The members of store_print_password_t, in the order of PP_COLS (last_used_us: NULL is 0,
 * never used). */
static const store_col_t PP_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_print_password_t, id),
  STORE_COL(TEXT_EMPTY, store_print_password_t, tenant),
  STORE_COL(TEXT_EMPTY, store_print_password_t, user_id),
  STORE_COL(TEXT_EMPTY, store_print_password_t, user_name),
  STORE_COL(TEXT, store_print_password_t, user_display_name),
  STORE_COL(TEXT_EMPTY, store_print_password_t, groups),
  STORE_COL(TEXT_EMPTY, store_print_password_t, display_name),
  STORE_COL(TEXT_EMPTY, store_print_password_t, hash),
  STORE_COL(I64, store_print_password_t, created_us),
  STORE_COL(I64, store_print_password_t, last_used_us),
};

/* See print-passwords.h. */
void store_print_password_clear(store_print_password_t *p) {
  if (!p) return;
  store_cols_free(PP_MAP, STORE_NCOLS(PP_MAP), p);
  memset(p, 0, sizeof *p);
}

void store_print_passwords_free(store_print_password_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_print_password_clear(&v[i]);
  free(v);
}

/* Fills the store_print_password_t at item from a row of PP_COLS. */
static void read_row(db_stmt_t *s, void *item) {
  store_cols_read(s, PP_MAP, STORE_NCOLS(PP_MAP), item);
}

static char *lower_dup(const char *s) {
  char *o = xstrdup(s ? s : "");
  for (char *p = o; *p; p++) *p = (char)tolower((unsigned char)*p);
  return o;
}

/* ---- create -------------------------------------------------------------------------------- */

typedef struct {
  const store_print_password_t *p;
  char                         *login;
} create_arg_t;

static int create_fn(db_conn_t *c, void *arg) {
  create_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "SELECT COUNT(*) FROM print_passwords WHERE tenant_id = ? AND "
                               "user_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->p->tenant);
  db_bind_text(s, 2, a->p->user_id);
  int rc = db_step(s);
  int64_t count = rc == DB_ROW ? db_col_int64(s, 0) : 0;
  db_reset(s);
  if (rc != DB_ROW) return rc == DB_DONE ? DB_ERROR : rc;
  if (count >= STORE_PRINT_PASSWORDS_MAX) return STORE_CONFLICT;
  s = db_prepare(c, "INSERT INTO print_passwords (" PP_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                    "?, NULL)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->p->id);
  db_bind_text(s, 2, a->p->tenant);
  db_bind_text(s, 3, a->p->user_id);
  db_bind_text(s, 4, a->login);
  db_bind_text(s, 5, a->p->user_display_name);
  db_bind_text(s, 6, a->p->groups ? a->p->groups : "[]");
  db_bind_text(s, 7, a->p->display_name ? a->p->display_name : "");
  db_bind_text(s, 8, a->p->hash);
  db_bind_int64(s, 9, a->p->created_us);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Inserts a password; see print-passwords.h. */
store_rc_t store_print_password_create(store_t *st, const store_print_password_t *p) {
  if (!p || !p->id || !p->tenant || !p->user_id || !p->hash) return STORE_ERROR;
  create_arg_t a = {.p = p, .login = lower_dup(p->user_name)};
  store_rc_t rc = store_rc(db_write(st->db, create_fn, &a));
  free(a.login);
  return rc;
}

/* ---- reads --------------------------------------------------------------------------------- */

typedef struct {
  const char             *tenant, *key1, *key2;
  int                     mode; /* 0: by user (key1 may be NULL), 1: by login, 2: by id */
  store_print_password_t *v;
  size_t                  n;
} list_arg_t;

static int list_fn(db_conn_t *c, void *arg) {
  list_arg_t *a = arg;
  store_print_passwords_free(a->v, a->n);
  a->v = NULL;
  a->n = 0;
  const char *sql =
      a->mode == 1 ? "SELECT " PP_COLS " FROM print_passwords WHERE tenant_id = ? AND "
                     "user_name = ? ORDER BY created_us, id"
      : a->mode == 2 ? "SELECT " PP_COLS " FROM print_passwords WHERE tenant_id = ? AND id = ?"
      : a->key1 ? "SELECT " PP_COLS " FROM print_passwords WHERE tenant_id = ? AND user_id = ? "
                  "ORDER BY created_us, id"
                : "SELECT " PP_COLS " FROM print_passwords WHERE tenant_id = ? "
                  "ORDER BY created_us, id";
  db_stmt_t *s = db_prepare(c, sql);
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  if (a->mode != 0 || a->key1) db_bind_text(s, 2, a->key1);
  return store_read_rows(s, sizeof *a->v, read_row, (void **)&a->v, &a->n);
}

static store_rc_t run_list(store_t *st, list_arg_t *a, store_print_password_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  store_rc_t rc = store_rc(db_read(st->db, list_fn, a));
  if (rc == STORE_OK) {
    *out = a->v;
    *n = a->n;
  } else {
    store_print_passwords_free(a->v, a->n);
  }
  return rc;
}

/* A user's (or every user's) passwords; see print-passwords.h. */
store_rc_t store_print_password_list(store_t *st, const char *tenant, const char *user_id,
                                     store_print_password_t **out, size_t *n) {
  list_arg_t a = {.tenant = tenant, .key1 = user_id, .mode = 0};
  return run_list(st, &a, out, n);
}

/* The candidates of a login name; see print-passwords.h. */
store_rc_t store_print_password_by_login(store_t *st, const char *tenant, const char *user_name,
                                         store_print_password_t **out, size_t *n) {
  char *login = lower_dup(user_name);
  list_arg_t a = {.tenant = tenant, .key1 = login, .mode = 1};
  store_rc_t rc = run_list(st, &a, out, n);
  free(login);
  return rc;
}

/* One password; see print-passwords.h. */
store_rc_t store_print_password_get(store_t *st, const char *tenant, const char *id,
                                    store_print_password_t *out) {
  memset(out, 0, sizeof *out);
  store_print_password_t *v = NULL;
  size_t n = 0;
  list_arg_t a = {.tenant = tenant, .key1 = id, .mode = 2};
  store_rc_t rc = run_list(st, &a, &v, &n);
  if (rc != STORE_OK) return rc;
  if (n == 0) {
    free(v);
    return STORE_NOT_FOUND;
  }
  *out = v[0];
  memset(&v[0], 0, sizeof v[0]);
  store_print_passwords_free(v, n);
  return STORE_OK;
}

/* ---- delete, used -------------------------------------------------------------------------- */

typedef struct {
  const char *tenant, *user_id, *id;
  int64_t     now_us;
} del_arg_t;

static int delete_fn(db_conn_t *c, void *arg) {
  del_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, a->user_id ? "DELETE FROM print_passwords WHERE tenant_id = ? AND "
                                            "id = ? AND user_id = ?"
                                          : "DELETE FROM print_passwords WHERE tenant_id = ? AND "
                                            "id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  db_bind_text(s, 2, a->id);
  if (a->user_id) db_bind_text(s, 3, a->user_id);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  return db_changes(c) > 0 ? 0 : STORE_NOT_FOUND;
}

/* Revokes a password; see print-passwords.h. */
store_rc_t store_print_password_delete(store_t *st, const char *tenant, const char *user_id,
                                       const char *id) {
  if (!tenant || !id) return STORE_NOT_FOUND;
  del_arg_t a = {.tenant = tenant, .user_id = user_id, .id = id};
  return store_rc(db_write(st->db, delete_fn, &a));
}

static int used_fn(db_conn_t *c, void *arg) {
  del_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "UPDATE print_passwords SET last_used_us = ? WHERE tenant_id = ? "
                               "AND id = ? AND (last_used_us IS NULL OR last_used_us < ?)");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->now_us);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->id);
  db_bind_int64(s, 4, a->now_us - 60 * 1000000LL);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Records a use; see print-passwords.h. */
store_rc_t store_print_password_used(store_t *st, const char *tenant, const char *id,
                                     int64_t now_us) {
  del_arg_t a = {.tenant = tenant, .id = id, .now_us = now_us};
  return store_rc(db_write(st->db, used_fn, &a));
}
