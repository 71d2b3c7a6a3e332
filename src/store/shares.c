/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printer shares and their allowed users and groups (store/shares.h).
 *
 * Tables (migration 2): shares (one row per share, UNIQUE printer_id so a printer has at most
 * one share) and share_members (kind 0 = allowedUsers, 1 = allowedGroups). Every statement
 * filters on the caller's tenant.
 */
#include "store/shares.h"
#include "store/jobs-private.h"
#include "store/query.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_COLS                                                                          \
  "s.id, s.tenant_id, s.printer_id, s.display_name, s.allow_all_users, s.created_us,"        \
  " s.pull_printer_id"
#define SHARE_NCOLS 7
#define MEMBER_COLS "m.member_id, m.display_name, m.upn, m.added_us"
#define MEMBER_NCOLS 4

/* ---- structs ------------------------------------------------------------------------------- */

/* The members of store_share_t, in the order of SHARE_COLS. */
static const store_col_t SHARE_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_share_t, id),
  STORE_COL(TEXT_EMPTY, store_share_t, tenant),
  STORE_COL(TEXT_EMPTY, store_share_t, printer_id),
  STORE_COL(TEXT_EMPTY, store_share_t, display_name),
  STORE_COL(BOOL, store_share_t, allow_all_users),
  STORE_COL(I64, store_share_t, created_us),
  STORE_COL(TEXT, store_share_t, pull_printer_id),
};
_Static_assert(STORE_NCOLS(SHARE_MAP) == SHARE_NCOLS, "SHARE_MAP names each of SHARE_COLS");

/* The members of store_share_member_t, in the order of MEMBER_COLS. */
static const store_col_t MEMBER_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_share_member_t, id),
  STORE_COL(TEXT, store_share_member_t, display_name),
  STORE_COL(TEXT, store_share_member_t, upn),
  STORE_COL(I64, store_share_member_t, added_us),
};
_Static_assert(STORE_NCOLS(MEMBER_MAP) == MEMBER_NCOLS, "MEMBER_MAP names each of MEMBER_COLS");

/* Releases the strings of *s and zeroes it. */
void store_share_clear(store_share_t *s) {
  if (!s) return;
  store_cols_free(SHARE_MAP, SHARE_NCOLS, s);
  memset(s, 0, sizeof *s);
}

void store_shares_free(store_share_t *v, size_t n) {
  for (size_t i = 0; i < n; i++) store_share_clear(&v[i]);
  free(v);
}

void store_share_page_clear(store_share_page_t *p) {
  if (!p) return;
  store_shares_free(p->items, p->n);
  free(p->next);
  memset(p, 0, sizeof *p);
}

void store_share_member_clear(store_share_member_t *m) {
  if (!m) return;
  store_cols_free(MEMBER_MAP, MEMBER_NCOLS, m);
  memset(m, 0, sizeof *m);
}

void store_share_member_page_clear(store_share_member_page_t *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) store_share_member_clear(&p->items[i]);
  free(p->items);
  free(p->next);
  memset(p, 0, sizeof *p);
}

void store_share_access_clear(store_share_access_t *a) {
  if (!a) return;
  free(a->upn);
  free(a->display_name);
  free(a->group);
  memset(a, 0, sizeof *a);
}

/* Fills the store_share_t at item from a row of SHARE_COLS. */
static void share_row(db_stmt_t *s, void *item) {
  store_cols_read(s, SHARE_MAP, SHARE_NCOLS, item);
}

/* Member ids are GUIDs stored lower-case; ids from tokens and URLs may come in any case. */
static void lower_id(const char *in, char *out, size_t outlen) {
  size_t i = 0;
  for (; in && in[i] && i + 1 < outlen; i++) out[i] = (char)tolower((unsigned char)in[i]);
  out[i] = '\0';
}

/* ---- reads --------------------------------------------------------------------------------- */

#define SHARE_BY_ID_SQL "SELECT " SHARE_COLS " FROM shares s WHERE s.id = ? AND s.tenant_id = ?"
#define SHARE_BY_PRINTER_SQL                                                                    \
  "SELECT " SHARE_COLS " FROM shares s WHERE s.printer_id = ? AND s.tenant_id = ?"

/* Reads one share by id or by printer into *out; 0, STORE_NOT_FOUND or a DB error. */
static int share_read(db_conn_t *c, const char *tenant, const char *key, bool by_printer,
                      store_share_t *out) {
  return store_read_by_id(c, by_printer ? SHARE_BY_PRINTER_SQL : SHARE_BY_ID_SQL, key, tenant,
                          share_row, out);
}

static void share_clear(void *s) { store_share_clear(s); }

typedef struct {
  const char    *tenant, *pull_printer_id;
  size_t         max;
  store_share_t *items;
  size_t         n;
} by_pull_arg_t;

static int by_pull_fn(db_conn_t *c, void *arg) {
  by_pull_arg_t *a = arg;
  store_shares_free(a->items, a->n);
  a->items = NULL;
  a->n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT " SHARE_COLS " FROM shares s WHERE s.pull_printer_id = ?"
                               " AND s.tenant_id = ? ORDER BY s.id LIMIT ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->pull_printer_id);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, (int64_t)a->max);
  return store_read_rows(s, sizeof *a->items, share_row, (void **)&a->items, &a->n);
}

/* See shares.h. */
store_rc_t store_share_list_by_pull_printer(store_t *st, const char *tenant,
                                            const char *pull_printer_id, size_t max,
                                            store_share_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!tenant || !pull_printer_id) return STORE_ERROR;
  by_pull_arg_t a = {.tenant = tenant, .pull_printer_id = pull_printer_id, .max = max};
  store_rc_t rc = store_rc(db_read(st->db, by_pull_fn, &a));
  if (rc != STORE_OK) {
    store_shares_free(a.items, a.n);
    return rc;
  }
  *out = a.items;
  *n = a.n;
  return STORE_OK;
}

static store_rc_t get_share(store_t *st, const char *tenant, const char *key, bool by_printer,
                            store_share_t *out) {
  return store_get_by_id(st, by_printer ? SHARE_BY_PRINTER_SQL : SHARE_BY_ID_SQL, key, tenant,
                         share_row, share_clear, out, sizeof *out);
}

store_rc_t store_share_get(store_t *st, const char *tenant, const char *share_id,
                           store_share_t *out) {
  return get_share(st, tenant, share_id, false, out);
}

typedef struct {
  const char   *id;
  store_share_t out;
} find_arg_t;

static int find_fn(db_conn_t *c, void *arg) {
  find_arg_t *a = arg;
  store_share_clear(&a->out);
  return store_read_by_id(c, "SELECT " SHARE_COLS " FROM shares s WHERE s.id = ?", a->id, NULL,
                          share_row, &a->out);
}

/* A share of any tenant; see shares.h. */
store_rc_t store_share_find(store_t *st, const char *share_id, store_share_t *out) {
  memset(out, 0, sizeof *out);
  if (!share_id) return STORE_NOT_FOUND;
  find_arg_t a = {.id = share_id};
  store_rc_t rc = store_rc(db_read(st->db, find_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_share_clear(&a.out);
  return rc;
}

/* The print rule of a share; see shares.h. */
static bool token_differs(const char *stored, const char *token) {
  return token && (!stored || strcmp(stored, token) != 0);
}

store_rc_t store_share_may_print(store_t *st, const store_share_t *s, bool is_app,
                                 const char *user_id, const char *upn, const char *name,
                                 char *const *groups, size_t ngroups, bool *allowed) {
  *allowed = false;
  if (!s) return STORE_ERROR;
  if (is_app || s->allow_all_users) {
    *allowed = true;
    return STORE_OK;
  }
  store_share_access_t a;
  store_rc_t rc = store_share_access(st, s->tenant, s->id, user_id, groups, ngroups, &a);
  if (rc != STORE_OK) return rc;
  *allowed = a.user || a.group;
  if (a.user && (token_differs(a.upn, upn) || token_differs(a.display_name, name)) &&
      store_share_member_seen(st, s->tenant, user_id, upn, name) != STORE_OK)
    log_warn("share %s: could not record the name of allowed user %s", s->id, user_id);
  store_share_access_clear(&a);
  return STORE_OK;
}

store_rc_t store_share_get_by_printer(store_t *st, const char *tenant, const char *printer_id,
                                      store_share_t *out) {
  return get_share(st, tenant, printer_id, true, out);
}

/* ---- create, update, delete ---------------------------------------------------------------- */

/* 0 when printer_id has no share other than except_id (may be NULL), STORE_CONFLICT (the other
 * share's id in why) when it has one, or a DB error. */
static int printer_free(db_conn_t *c, const char *printer_id, const char *except_id,
                        store_share_why_t *why) {
  db_stmt_t *s = db_prepare(c, "SELECT id FROM shares WHERE printer_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, printer_id);
  int rc = db_step(s);
  int ret = 0;
  if (rc == DB_ROW) {
    const char *other = db_col_text(s, 0);
    if (!except_id || !other || strcmp(other, except_id) != 0) {
      why->err = STORE_SHARE_ERR_PRINTER_SHARED;
      snprintf(why->other_share_id, sizeof why->other_share_id, "%s", other ? other : "");
      ret = STORE_CONFLICT;
    }
  } else if (rc != DB_DONE) {
    ret = DB_ERROR;
  }
  db_reset(s);
  return ret;
}

typedef struct {
  const char                *tenant;
  const char                *share_id;
  const char                *printer_id;
  const char                *display_name;
  bool                       allow_all_users;
  const store_share_patch_t *patch;
  store_share_t              out;
  store_share_why_t          why;
} write_arg_t;

static int create_fn(db_conn_t *c, void *arg) {
  write_arg_t *a = arg;
  store_share_clear(&a->out);
  memset(&a->why, 0, sizeof a->why);
  int rc = store_printer_row_exists(c, a->tenant, a->printer_id);
  if (rc == STORE_NOT_FOUND) a->why.err = STORE_SHARE_ERR_NO_PRINTER;
  if (rc != 0) return rc;
  if ((rc = printer_free(c, a->printer_id, NULL, &a->why)) != 0) return rc;

  char id[ID_GUID_LEN + 1];
  id_guid(id);
  int64_t now = time_now_us();
  db_stmt_t *s = db_prepare(c,
    "INSERT INTO shares (id, tenant_id, printer_id, display_name, allow_all_users, created_us)"
    " VALUES (?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->printer_id);
  db_bind_text(s, 4, a->display_name);
  db_bind_int64(s, 5, a->allow_all_users ? 1 : 0);
  db_bind_int64(s, 6, now);
  rc = db_step(s);
  db_reset(s);
  if (rc == DB_CONSTRAINT) {  /* the UNIQUE printer_id: shared in the meantime */
    a->why.err = STORE_SHARE_ERR_PRINTER_SHARED;
    return STORE_CONFLICT;
  }
  if (rc != DB_DONE) return rc;
  a->out.id = xstrdup(id);
  a->out.tenant = xstrdup(a->tenant);
  a->out.printer_id = xstrdup(a->printer_id);
  a->out.display_name = xstrdup(a->display_name);
  a->out.allow_all_users = a->allow_all_users;
  a->out.created_us = now;
  return 0;
}

/* Hands the closure's results to the caller. */
static store_rc_t finish_write(store_rc_t rc, write_arg_t *a, store_share_t *out,
                               store_share_why_t *why) {
  if (why) *why = a->why;
  if (rc == STORE_OK && out) *out = a->out;
  else store_share_clear(&a->out);
  return rc;
}

store_rc_t store_share_create(store_t *st, const char *tenant, const char *printer_id,
                              const char *display_name, bool allow_all_users,
                              store_share_t *out, store_share_why_t *why) {
  if (out) memset(out, 0, sizeof *out);
  if (why) memset(why, 0, sizeof *why);
  if (!tenant || !printer_id || !display_name) return STORE_ERROR;
  write_arg_t a = {.tenant = tenant, .printer_id = printer_id, .display_name = display_name,
                   .allow_all_users = allow_all_users};
  return finish_write(store_rc(db_write(st->db, create_fn, &a)), &a, out, why);
}

static int update_fn(db_conn_t *c, void *arg) {
  write_arg_t *a = arg;
  const store_share_patch_t *p = a->patch;
  store_share_clear(&a->out);
  memset(&a->why, 0, sizeof a->why);
  int rc = share_read(c, a->tenant, a->share_id, false, &a->out);
  if (rc == STORE_NOT_FOUND) a->why.err = STORE_SHARE_ERR_NO_SHARE;
  if (rc != 0) return rc;

  if (p->printer_id && strcmp(p->printer_id, a->out.printer_id) != 0) {
    rc = store_printer_row_exists(c, a->tenant, p->printer_id);
    if (rc == STORE_NOT_FOUND) a->why.err = STORE_SHARE_ERR_NO_PRINTER;
    if (rc != 0) return rc;
    if ((rc = printer_free(c, p->printer_id, a->share_id, &a->why)) != 0) return rc;
    free(a->out.printer_id);
    a->out.printer_id = xstrdup(p->printer_id);
  }
  if (p->display_name) {
    free(a->out.display_name);
    a->out.display_name = xstrdup(p->display_name);
  }
  if (p->set_allow_all_users) a->out.allow_all_users = p->allow_all_users;
  if (p->set_pull_printer) {
    if (p->pull_printer_id) {
      db_stmt_t *q = db_prepare(c, "SELECT 1 FROM pull_printers WHERE id = ? AND tenant_id = ?");
      if (!q) return DB_ERROR;
      db_bind_text(q, 1, p->pull_printer_id);
      db_bind_text(q, 2, a->tenant);
      rc = db_step(q);
      db_reset(q);
      if (rc == DB_DONE) {
        a->why.err = STORE_SHARE_ERR_NO_PULL_PRINTER;
        return STORE_NOT_FOUND;
      }
      if (rc != DB_ROW) return DB_ERROR;
    }
    free(a->out.pull_printer_id);
    a->out.pull_printer_id = p->pull_printer_id ? xstrdup(p->pull_printer_id) : NULL;
  }

  db_stmt_t *s = db_prepare(c,
    "UPDATE shares SET printer_id = ?, display_name = ?, allow_all_users = ?,"
    " pull_printer_id = ? WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->out.printer_id);
  db_bind_text(s, 2, a->out.display_name);
  db_bind_int64(s, 3, a->out.allow_all_users ? 1 : 0);
  db_bind_text(s, 4, a->out.pull_printer_id);
  db_bind_text(s, 5, a->share_id);
  db_bind_text(s, 6, a->tenant);
  rc = db_step(s);
  db_reset(s);
  if (rc == DB_CONSTRAINT) {
    a->why.err = STORE_SHARE_ERR_PRINTER_SHARED;
    return STORE_CONFLICT;
  }
  return rc == DB_DONE ? 0 : rc;
}

store_rc_t store_share_update(store_t *st, const char *tenant, const char *share_id,
                              const store_share_patch_t *p, store_share_t *out,
                              store_share_why_t *why) {
  if (out) memset(out, 0, sizeof *out);
  if (why) memset(why, 0, sizeof *why);
  if (!tenant || !share_id || !p) return STORE_ERROR;
  write_arg_t a = {.tenant = tenant, .share_id = share_id, .patch = p};
  return finish_write(store_rc(db_write(st->db, update_fn, &a)), &a, out, why);
}

static int delete_fn(db_conn_t *c, void *arg) {
  write_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "DELETE FROM shares WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->share_id);
  db_bind_text(s, 2, a->tenant);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  return db_changes(c) > 0 ? 0 : STORE_NOT_FOUND;
}

store_rc_t store_share_delete(store_t *st, const char *tenant, const char *share_id) {
  if (!tenant || !share_id) return STORE_NOT_FOUND;
  write_arg_t a = {.tenant = tenant, .share_id = share_id};
  return store_rc(db_write(st->db, delete_fn, &a));
}

/* ---- lists --------------------------------------------------------------------------------- */

/* What $filter and $orderby may name on a share. The printer's columns come from the join.
 * All but the last SHARE_NFULL_ONLY are what callers with the reduced property set may name:
 * its members id, displayName, manufacturer, model and location/..., and capabilities/...
 * (reference §4.2 S2: filtering on capabilities gives the reduced set, so it is open to them). */
static const store_qfield_t SHARE_FIELDS[] = {
  {"id", "s.id", STORE_QT_STRING, true, true, true, NULL},
  {"displayName", "s.display_name", STORE_QT_STRING, true, true, true, NULL},
  {"manufacturer", "p.manufacturer", STORE_QT_STRING, true, true, false, NULL},
  {"model", "p.model", STORE_QT_STRING, true, true, false, NULL},
  STORE_PRINTER_BASE_JSON_QFIELDS,
  {"createdDateTime", "s.created_us", STORE_QT_DATETIME, true, true, true, NULL},
  {"allowAllUsers", "s.allow_all_users", STORE_QT_BOOL, true, true, true, NULL},
  {"isAcceptingJobs", "p.is_accepting_jobs", STORE_QT_BOOL, true, true, false, NULL},
};
#define SHARE_NFIELDS (sizeof SHARE_FIELDS / sizeof SHARE_FIELDS[0])
#define SHARE_NFULL_ONLY 3
#define SHARE_NREDUCED (SHARE_NFIELDS - SHARE_NFULL_ONLY)

typedef struct {
  const char               *tenant;
  const char               *share_id;    /* member lists */
  const char               *printer_id;  /* share lists: NULL = all */
  store_share_member_kind_t kind;
  store_query_t            *cq;
  store_share_page_t        shares;
  store_share_member_page_t members;
} list_arg_t;

#define SHARE_LIST_FROM "shares s JOIN printers p ON p.id = s.printer_id"

static int list_fn(db_conn_t *c, void *arg) {
  list_arg_t *a = arg;
  store_share_page_clear(&a->shares);
  query_value_t vals[] = {{.type = QUERY_VAL_STRING, .u.s = (char *)a->tenant},
                          {.type = QUERY_VAL_STRING, .u.s = (char *)a->printer_id}};
  store_list_sql_t l = {SHARE_COLS, SHARE_NCOLS, SHARE_LIST_FROM,
                        a->printer_id ? "s.tenant_id = ? AND s.printer_id = ?" : "s.tenant_id = ?",
                        vals, a->printer_id ? 2 : 1};
  return store_query_list_items(c, a->cq, &l, sizeof *a->shares.items, share_row,
                                (void **)&a->shares.items, &a->shares.n, &a->shares.next);
}

store_rc_t store_share_list(store_t *st, const char *tenant, const char *printer_id,
                            const query_t *q, bool reduced, store_share_page_t *out, char *err,
                            size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!tenant || !q) return STORE_ERROR;
  store_query_t cq;
  if (store_query_compile_db(st->db, q, SHARE_FIELDS, reduced ? SHARE_NREDUCED : SHARE_NFIELDS,
                             "id", QUERY_PAGE_MAX, &cq, err, errlen) != 0)
    return STORE_INVALID;
  list_arg_t a = {.tenant = tenant, .printer_id = printer_id, .cq = &cq};
  store_rc_t rc = store_rc(db_read(st->db, list_fn, &a));
  store_query_clear(&cq);
  if (rc == STORE_OK) *out = a.shares;
  else store_share_page_clear(&a.shares);
  return rc;
}

/* ---- members ------------------------------------------------------------------------------- */

static const store_qfield_t USER_FIELDS[] = {
  {"id", "m.member_id", STORE_QT_STRING, true, true, true, NULL},
  {"displayName", "m.display_name", STORE_QT_STRING, true, true, false, NULL},
  {"userPrincipalName", "m.upn", STORE_QT_STRING, true, true, false, NULL},
};
/* Groups: id and displayName (the first two). */
#define USER_NFIELDS (sizeof USER_FIELDS / sizeof USER_FIELDS[0])
#define GROUP_NFIELDS 2

typedef struct {
  const char               *tenant;
  const char               *share_id;
  store_share_member_kind_t kind;
  char                      member[64];
  bool                      changed;      /* add: inserted; remove: share found */
} member_arg_t;

/* 0 when share_id is a share of tenant, STORE_NOT_FOUND when not, or a DB error. */
static int share_exists(db_conn_t *c, const char *tenant, const char *share_id) {
  db_stmt_t *s = db_prepare(c, "SELECT 1 FROM shares WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, share_id);
  db_bind_text(s, 2, tenant);
  return store_step_row(s, NULL, NULL);
}

static int member_add_fn(db_conn_t *c, void *arg) {
  member_arg_t *a = arg;
  a->changed = false;
  int rc = share_exists(c, a->tenant, a->share_id);
  if (rc != 0) return rc;
  db_stmt_t *s = db_prepare(c,
    "INSERT INTO share_members (share_id, tenant_id, kind, member_id, added_us)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (share_id, kind, member_id) DO NOTHING");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->share_id);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, a->kind);
  db_bind_text(s, 4, a->member);
  db_bind_int64(s, 5, time_now_us());
  rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  a->changed = db_changes(c) > 0;
  return 0;
}

store_rc_t store_share_member_add(store_t *st, const char *tenant, const char *share_id,
                                  store_share_member_kind_t kind, const char *member_id,
                                  bool *added) {
  if (added) *added = false;
  if (!tenant || !share_id || !member_id) return STORE_NOT_FOUND;
  member_arg_t a = {.tenant = tenant, .share_id = share_id, .kind = kind};
  lower_id(member_id, a.member, sizeof a.member);
  store_rc_t rc = store_rc(db_write(st->db, member_add_fn, &a));
  if (added) *added = rc == STORE_OK && a.changed;
  return rc;
}

static int member_remove_fn(db_conn_t *c, void *arg) {
  member_arg_t *a = arg;
  a->changed = false;
  int rc = share_exists(c, a->tenant, a->share_id);
  if (rc != 0) return rc;
  a->changed = true;
  db_stmt_t *s = db_prepare(c,
    "DELETE FROM share_members WHERE share_id = ? AND tenant_id = ? AND kind = ?"
    " AND member_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->share_id);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, a->kind);
  db_bind_text(s, 4, a->member);
  rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  return db_changes(c) > 0 ? 0 : STORE_NOT_FOUND;
}

store_rc_t store_share_member_remove(store_t *st, const char *tenant, const char *share_id,
                                     store_share_member_kind_t kind, const char *member_id,
                                     bool *share_found) {
  if (share_found) *share_found = false;
  if (!tenant || !share_id || !member_id) return STORE_NOT_FOUND;
  member_arg_t a = {.tenant = tenant, .share_id = share_id, .kind = kind};
  lower_id(member_id, a.member, sizeof a.member);
  store_rc_t rc = store_rc(db_write(st->db, member_remove_fn, &a));
  if (share_found) *share_found = a.changed;
  return rc;
}

/* Fills the store_share_member_t at item from a row of MEMBER_COLS. */
static void member_row(db_stmt_t *s, void *item) {
  store_cols_read(s, MEMBER_MAP, MEMBER_NCOLS, item);
}

static int member_list_fn(db_conn_t *c, void *arg) {
  list_arg_t *a = arg;
  store_share_member_page_t *pg = &a->members;
  store_share_member_page_clear(pg);
  int rc = share_exists(c, a->tenant, a->share_id);
  if (rc != 0) return rc;
  query_value_t vals[] = {{.type = QUERY_VAL_STRING, .u.s = (char *)a->share_id},
                          {.type = QUERY_VAL_STRING, .u.s = (char *)a->tenant},
                          {.type = QUERY_VAL_INT64, .u.i = a->kind}};
  store_list_sql_t l = {MEMBER_COLS, MEMBER_NCOLS, "share_members m",
                        "m.share_id = ? AND m.tenant_id = ? AND m.kind = ?", vals, 3};
  return store_query_list_items(c, a->cq, &l, sizeof *pg->items, member_row, (void **)&pg->items,
                                &pg->n, &pg->next);
}

store_rc_t store_share_member_list(store_t *st, const char *tenant, const char *share_id,
                                   store_share_member_kind_t kind, const query_t *q,
                                   store_share_member_page_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!tenant || !share_id || !q) return STORE_NOT_FOUND;
  store_query_t cq;
  if (store_query_compile(q, USER_FIELDS, kind == STORE_SHARE_USER ? USER_NFIELDS : GROUP_NFIELDS,
                          "id", QUERY_PAGE_MAX, &cq, err, errlen) != 0)
    return STORE_INVALID;
  list_arg_t a = {.tenant = tenant, .share_id = share_id, .kind = kind, .cq = &cq};
  store_rc_t rc = store_rc(db_read(st->db, member_list_fn, &a));
  store_query_clear(&cq);
  if (rc == STORE_OK) *out = a.members;
  else store_share_member_page_clear(&a.members);
  return rc;
}

/* ---- who may print --------------------------------------------------------------------------- */

typedef struct {
  const char           *tenant;
  const char           *share_id;
  const char           *user_id;
  char *const          *groups;
  size_t                ngroups;
  store_share_access_t  out;
} access_arg_t;

static int access_fn(db_conn_t *c, void *arg) {
  access_arg_t *a = arg;
  store_share_access_clear(&a->out);
  db_stmt_t *s = db_prepare(c,
    "SELECT upn, display_name FROM share_members"
    " WHERE share_id = ? AND tenant_id = ? AND kind = ? AND member_id = ?");
  if (!s) return DB_ERROR;
  char id[64];
  if (a->user_id) {
    lower_id(a->user_id, id, sizeof id);
    db_bind_text(s, 1, a->share_id);
    db_bind_text(s, 2, a->tenant);
    db_bind_int64(s, 3, STORE_SHARE_USER);
    db_bind_text(s, 4, id);
    int rc = db_step(s);
    if (rc == DB_ROW) {
      a->out.user = true;
      a->out.upn = store_col_strdup(s, 0, false);
      a->out.display_name = store_col_strdup(s, 1, false);
    }
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE) return rc;
  }
  /* A token carries at most a few hundred groups (Entra ID sends an overage claim instead of
   * more): one primary-key lookup each. */
  for (size_t i = 0; i < a->ngroups && !a->out.group; i++) {
    if (!a->groups[i]) continue;
    lower_id(a->groups[i], id, sizeof id);
    db_bind_text(s, 1, a->share_id);
    db_bind_text(s, 2, a->tenant);
    db_bind_int64(s, 3, STORE_SHARE_GROUP);
    db_bind_text(s, 4, id);
    int rc = db_step(s);
    if (rc == DB_ROW) a->out.group = xstrdup(id);
    db_reset(s);
    if (rc != DB_ROW && rc != DB_DONE) return rc;
  }
  return 0;
}

store_rc_t store_share_access(store_t *st, const char *tenant, const char *share_id,
                              const char *user_id, char *const *groups, size_t ngroups,
                              store_share_access_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !share_id) return STORE_NOT_FOUND;
  access_arg_t a = {.tenant = tenant, .share_id = share_id, .user_id = user_id,
                    .groups = groups, .ngroups = groups ? ngroups : 0};
  store_rc_t rc = store_rc(db_read(st->db, access_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_share_access_clear(&a.out);
  return rc;
}

typedef struct {
  const char *tenant;
  char        user[64];
  const char *upn;
  const char *name;
  bool        stale;   /* some entry differs from what the token says */
} seen_arg_t;

/* True when the stored text differs from a given (non-NULL) value. */
static bool differs(db_stmt_t *s, int col, const char *given) {
  if (!given) return false;
  const char *v = db_col_text(s, col);
  return !v || strcmp(v, given) != 0;
}

static int seen_check_fn(db_conn_t *c, void *arg) {
  seen_arg_t *a = arg;
  a->stale = false;
  db_stmt_t *s = db_prepare(c,
    "SELECT upn, display_name FROM share_members WHERE tenant_id = ? AND kind = ?"
    " AND member_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  db_bind_int64(s, 2, STORE_SHARE_USER);
  db_bind_text(s, 3, a->user);
  int rc;
  while ((rc = db_step(s)) == DB_ROW)
    if (differs(s, 0, a->upn) || differs(s, 1, a->name)) a->stale = true;
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

static int seen_update_fn(db_conn_t *c, void *arg) {
  seen_arg_t *a = arg;
  const char *sql[2] = {
    "UPDATE share_members SET upn = ? WHERE tenant_id = ? AND kind = ? AND member_id = ?",
    "UPDATE share_members SET display_name = ? WHERE tenant_id = ? AND kind = ?"
    " AND member_id = ?",
  };
  const char *val[2] = {a->upn, a->name};
  for (int i = 0; i < 2; i++) {
    if (!val[i]) continue;
    db_stmt_t *s = db_prepare(c, sql[i]);
    if (!s) return DB_ERROR;
    db_bind_text(s, 1, val[i]);
    db_bind_text(s, 2, a->tenant);
    db_bind_int64(s, 3, STORE_SHARE_USER);
    db_bind_text(s, 4, a->user);
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE) return rc;
  }
  return 0;
}

store_rc_t store_share_member_seen(store_t *st, const char *tenant, const char *user_id,
                                   const char *upn, const char *display_name) {
  if (!tenant || !user_id || (!upn && !display_name)) return STORE_OK;
  seen_arg_t a = {.tenant = tenant, .upn = upn, .name = display_name};
  lower_id(user_id, a.user, sizeof a.user);
  /* Most calls change nothing: look first, on a read connection, and write only then. */
  store_rc_t rc = store_rc(db_read(st->db, seen_check_fn, &a));
  if (rc != STORE_OK || !a.stale) return rc;
  return store_rc(db_write(st->db, seen_update_fn, &a));
}

typedef struct {
  const char *tenant;
  const char *printer_id;
  const char *user_id;
  int64_t     last_us;
} last_used_arg_t;

static int last_used_fn(db_conn_t *c, void *arg) {
  last_used_arg_t *a = arg;
  return store_job_last_created(c, a->tenant, a->printer_id, a->user_id, &a->last_us);
}

store_rc_t store_share_last_used(store_t *st, const char *tenant, const char *printer_id,
                                 const char *user_id, int64_t *last_us) {
  *last_us = 0;
  if (!tenant || !printer_id || !user_id) return STORE_OK;
  last_used_arg_t a = {.tenant = tenant, .printer_id = printer_id, .user_id = user_id};
  store_rc_t rc = store_rc(db_read(st->db, last_used_fn, &a));
  if (rc == STORE_OK) *last_us = a.last_us;
  return rc;
}
