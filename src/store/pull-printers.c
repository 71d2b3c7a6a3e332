/* SPDX-License-Identifier: Apache-2.0 */
/* Pull-print printers and their members (see pull-printers.h). */
#include "store/pull-printers.h"
#include "store/query.h"
#include "store/store-private.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#define PP_COLS                                                                               \
  "p.id, p.tenant_id, p.display_name, p.include_all_printers, p.location, p.defaults,"      \
  " p.registered_us"
#define PP_NCOLS 7
#define PP_FROM "pull_printers p"
#define PP_WHERE "p.tenant_id = ?"
#define PP_WHERE_MEMBER                                                                       \
  "p.tenant_id = ? AND (p.include_all_printers = 1 OR EXISTS (SELECT 1 FROM"                 \
  " pull_printer_members m WHERE m.pull_printer_id = p.id AND m.printer_id = ?))"

#define OP_SUCCEEDED 2 /* printOperationProcessingState: succeeded */
#define OP_SUCCESS_TEXT "The operation has completed successfully."

#define LOC(n, t) {"location/" n, STORE_QF_JSON("p.location"), t, true, false, false, NULL}
static const store_qfield_t PP_FIELDS[] = {
  /* path                 sql                      type               filter sort  notnull */
  {"id", "p.id", STORE_QT_STRING, true, true, true, NULL},
  {"displayName", "p.display_name", STORE_QT_STRING, true, true, true, NULL},
  {"includeAllPrinters", "p.include_all_printers", STORE_QT_BOOL, true, true, true, NULL},
  {"registeredDateTime", "p.registered_us", STORE_QT_DATETIME, true, true, true, NULL},
  /* a pull-print printer always accepts jobs */
  {"isAcceptingJobs", "1", STORE_QT_BOOL, true, false, true, NULL},
  LOC("streetAddress", STORE_QT_STRING), LOC("city", STORE_QT_STRING),
  LOC("postalCode", STORE_QT_STRING), LOC("stateOrProvince", STORE_QT_STRING),
  LOC("countryOrRegion", STORE_QT_STRING), LOC("site", STORE_QT_STRING),
  LOC("building", STORE_QT_STRING), LOC("floor", STORE_QT_STRING),
  LOC("floorDescription", STORE_QT_STRING), LOC("roomName", STORE_QT_STRING),
  LOC("roomDescription", STORE_QT_STRING), LOC("latitude", STORE_QT_DOUBLE),
  LOC("longitude", STORE_QT_DOUBLE), LOC("altitudeInMeters", STORE_QT_INT64),
  /* the collections, through any/all */
  {"location/subunit", STORE_QF_JSON_ARRAY("p.location"), STORE_QT_STRING, true, false, false, NULL},
  {"location/organization", STORE_QF_JSON_ARRAY("p.location"), STORE_QT_STRING, true, false, false,
   NULL},
  {"location/subdivision", STORE_QF_JSON_ARRAY("p.location"), STORE_QT_STRING, true, false, false,
   NULL},
};
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- structs -------------------------------------------------------------------------------- */

/* The members of store_pull_printer_t, in the order of PP_COLS. */
static const store_col_t PP_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_pull_printer_t, id),
  STORE_COL(TEXT_EMPTY, store_pull_printer_t, tenant),
  STORE_COL(TEXT_EMPTY, store_pull_printer_t, display_name),
  STORE_COL(BOOL, store_pull_printer_t, include_all_printers),
  STORE_COL(TEXT, store_pull_printer_t, location),
  STORE_COL(TEXT, store_pull_printer_t, defaults),
  STORE_COL(I64, store_pull_printer_t, registered_us),
};
_Static_assert(STORE_NCOLS(PP_MAP) == PP_NCOLS, "PP_MAP names each of PP_COLS");

/* See pull-printers.h. */
void store_pull_printer_clear(store_pull_printer_t *p) {
  if (!p) return;
  store_cols_free(PP_MAP, PP_NCOLS, p);
  memset(p, 0, sizeof *p);
}

static void pull_printers_free(store_pull_printer_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_pull_printer_clear(&v[i]);
  free(v);
}

/* See pull-printers.h. */
void store_pull_printer_page_clear(store_pull_printer_page_t *p) {
  if (!p) return;
  pull_printers_free(p->items, p->n);
  free(p->next);
  memset(p, 0, sizeof *p);
}

/* Fills the store_pull_printer_t at item from a row of PP_COLS. */
static void pp_from_row(db_stmt_t *s, void *item) { store_cols_read(s, PP_MAP, PP_NCOLS, item); }

#define PP_BY_ID_SQL "SELECT " PP_COLS " FROM " PP_FROM " WHERE p.id = ? AND " PP_WHERE

/* Reads pull-print printer id of tenant inside a transaction: 0, STORE_NOT_FOUND or DB_ERROR. */
static int pp_read(db_conn_t *c, const char *tenant, const char *id, store_pull_printer_t *out) {
  return store_read_by_id(c, PP_BY_ID_SQL, id, tenant, pp_from_row, out);
}

/* 0 when pull-print printer id is in tenant, STORE_NOT_FOUND or DB_ERROR. */
static int pp_exists(db_conn_t *c, const char *tenant, const char *id) {
  return store_row_exists(c, "SELECT 1 FROM pull_printers WHERE id = ? AND tenant_id = ?", id,
                          tenant);
}

/* ---- create --------------------------------------------------------------------------------- */

static int create_fn(db_conn_t *c, void *arg) {
  const store_pull_printer_new_t *n = arg;
  db_stmt_t *s = db_prepare(c,
    "INSERT INTO pull_printers (id, tenant_id, display_name, include_all_printers, location,"
    " defaults, factory_defaults, registered_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, n->id);
  db_bind_text(s, 2, n->tenant);
  db_bind_text(s, 3, n->display_name);
  db_bind_int64(s, 4, n->include_all_printers ? 1 : 0);
  db_bind_text(s, 5, n->location);
  db_bind_text(s, 6, n->defaults);
  db_bind_text(s, 7, n->factory_defaults);
  db_bind_int64(s, 8, n->now_us);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  s = db_prepare(c, "INSERT INTO print_operations (id, tenant_id, created_us, state, description,"
                    " pull_printer_id) VALUES (?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, n->operation_id);
  db_bind_text(s, 2, n->tenant);
  db_bind_int64(s, 3, n->now_us);
  db_bind_int64(s, 4, OP_SUCCEEDED);
  db_bind_text(s, 5, OP_SUCCESS_TEXT);
  db_bind_text(s, 6, n->id);
  return store_step_done(s);
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_create(store_t *st, const store_pull_printer_new_t *n) {
  if (!n || !n->id || !n->tenant || !n->display_name || !n->operation_id) return STORE_ERROR;
  return store_rc(db_write(st->db, create_fn, (void *)n));
}

/* ---- get ------------------------------------------------------------------------------------ */

static void pp_clear(void *p) { store_pull_printer_clear(p); }

/* See pull-printers.h. */
store_rc_t store_pull_printer_get(store_t *st, const char *tenant, const char *id,
                                  store_pull_printer_t *out) {
  return store_get_by_id(st, PP_BY_ID_SQL, id, tenant, pp_from_row, pp_clear, out, sizeof *out);
}

/* ---- list ----------------------------------------------------------------------------------- */

typedef struct {
  const char               *tenant, *member_of;
  store_query_t             cq;
  store_pull_printer_page_t out;
} list_arg_t;

static int list_fn(db_conn_t *c, void *arg) {
  list_arg_t *a = arg;
  store_pull_printer_page_clear(&a->out);
  query_value_t base[] = {{.type = QUERY_VAL_STRING, .u.s = (char *)a->tenant},
                          {.type = QUERY_VAL_STRING, .u.s = (char *)a->member_of}};
  store_list_sql_t l = {PP_COLS, PP_NCOLS, PP_FROM, a->member_of ? PP_WHERE_MEMBER : PP_WHERE,
                        base, a->member_of ? 2 : 1};
  return store_query_list_items(c, &a->cq, &l, sizeof *a->out.items, pp_from_row,
                                (void **)&a->out.items, &a->out.n, &a->out.next);
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_list(store_t *st, const char *tenant, const char *member_of,
                                   const query_t *q, store_pull_printer_page_t *out, char *err,
                                   size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!tenant || !q) return STORE_ERROR;
  list_arg_t a = {.tenant = tenant, .member_of = member_of};
  if (store_query_compile_db(st->db, q, PP_FIELDS, NFIELDS(PP_FIELDS), "id",
                             STORE_PULL_PRINTER_PAGE_MAX, &a.cq, err, errlen) != 0)
    return STORE_INVALID;
  store_rc_t rc = store_rc(db_read(st->db, list_fn, &a));
  store_query_clear(&a.cq);
  if (rc == STORE_OK) *out = a.out;
  else store_pull_printer_page_clear(&a.out);
  return rc;
}

/* ---- update, delete, restoreFactoryDefaults ------------------------------------------------- */

typedef struct {
  const char                       *tenant, *id;
  const store_pull_printer_patch_t *patch;
  store_pull_printer_t              out;
} update_arg_t;

static int update_fn(db_conn_t *c, void *arg) {
  update_arg_t *a = arg;
  store_pull_printer_clear(&a->out);
  int rc = pp_read(c, a->tenant, a->id, &a->out);
  if (rc != 0) return rc;
  store_pull_printer_t *p = &a->out;
  const store_pull_printer_patch_t *x = a->patch;
  if (x->set_include_all_printers) p->include_all_printers = x->include_all_printers;
  if ((rc = store_json_merge_text(&p->location, x->location_merge)) != 0) return rc;
  if ((rc = store_json_merge_text(&p->defaults, x->defaults_merge)) != 0) return rc;
  db_stmt_t *s = db_prepare(c, "UPDATE pull_printers SET include_all_printers = ?, location = ?,"
                               " defaults = ? WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, p->include_all_printers ? 1 : 0);
  db_bind_text(s, 2, p->location);
  db_bind_text(s, 3, p->defaults);
  db_bind_text(s, 4, a->id);
  db_bind_text(s, 5, a->tenant);
  return store_step_done(s);
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_update(store_t *st, const char *tenant, const char *id,
                                     const store_pull_printer_patch_t *patch,
                                     store_pull_printer_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !id || !patch) return STORE_NOT_FOUND;
  update_arg_t a = {.tenant = tenant, .id = id, .patch = patch};
  store_rc_t rc = store_rc(db_write(st->db, update_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_pull_printer_clear(&a.out);
  return rc;
}

typedef struct {
  const char *tenant, *id, *sql;
} exec_arg_t;

/* Runs a.sql (binding id, tenant) on an existing pull-print printer. */
static int exec_fn(db_conn_t *c, void *arg) {
  exec_arg_t *a = arg;
  int rc = pp_exists(c, a->tenant, a->id);
  if (rc != 0) return rc;
  db_stmt_t *s = db_prepare(c, a->sql);
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  return store_step_done(s);
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_delete(store_t *st, const char *tenant, const char *id) {
  if (!tenant || !id) return STORE_NOT_FOUND;
  exec_arg_t a = {tenant, id, "DELETE FROM pull_printers WHERE id = ? AND tenant_id = ?"};
  return store_rc(db_write(st->db, exec_fn, &a));
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_restore_defaults(store_t *st, const char *tenant, const char *id) {
  if (!tenant || !id) return STORE_NOT_FOUND;
  exec_arg_t a = {tenant, id,
                  "UPDATE pull_printers SET defaults = factory_defaults WHERE id = ? AND"
                  " tenant_id = ?"};
  return store_rc(db_write(st->db, exec_fn, &a));
}

/* ---- members -------------------------------------------------------------------------------- */

typedef struct {
  const char             *tenant, *id, *printer_id;
  int64_t                 now_us;
  bool                    add;
  store_pull_member_err_t why;
} member_arg_t;

static int member_fn(db_conn_t *c, void *arg) {
  member_arg_t *a = arg;
  a->why = STORE_PULL_MEMBER_OK;
  int rc = pp_exists(c, a->tenant, a->id);
  if (rc == STORE_NOT_FOUND) a->why = STORE_PULL_MEMBER_NO_PULL_PRINTER;
  if (rc != 0) return rc;
  rc = store_row_exists(c, "SELECT 1 FROM pull_printer_members WHERE pull_printer_id = ? AND"
                           " printer_id = ?", a->id, a->printer_id);
  if (rc != 0 && rc != STORE_NOT_FOUND) return rc;
  bool member = rc == 0;
  db_stmt_t *s;
  if (!a->add) {
    if (!member) {
      a->why = STORE_PULL_MEMBER_NOT_MEMBER;
      return STORE_NOT_FOUND;
    }
    s = db_prepare(c, "DELETE FROM pull_printer_members WHERE pull_printer_id = ? AND"
                      " printer_id = ?");
    if (!s) return DB_ERROR;
    db_bind_text(s, 1, a->id);
    db_bind_text(s, 2, a->printer_id);
    return store_step_done(s);
  }
  rc = store_printer_row_exists(c, a->tenant, a->printer_id);
  if (rc == STORE_NOT_FOUND) a->why = STORE_PULL_MEMBER_NO_PRINTER;
  if (rc != 0) return rc;
  if (member) {
    a->why = STORE_PULL_MEMBER_ALREADY;
    return STORE_CONFLICT;
  }
  s = db_prepare(c, "INSERT INTO pull_printer_members (pull_printer_id, printer_id, tenant_id,"
                    " added_us) VALUES (?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->printer_id);
  db_bind_text(s, 3, a->tenant);
  db_bind_int64(s, 4, a->now_us);
  return store_step_done(s);
}

static store_rc_t run_member(store_t *st, member_arg_t *a, store_pull_member_err_t *why) {
  store_rc_t rc = store_rc(db_write(st->db, member_fn, a));
  /* two concurrent adds: the loser hits the primary key */
  if (rc == STORE_CONFLICT && a->add) a->why = STORE_PULL_MEMBER_ALREADY;
  if (why) *why = a->why;
  return rc;
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_member_add(store_t *st, const char *tenant, const char *id,
                                         const char *printer_id, int64_t now_us,
                                         store_pull_member_err_t *why) {
  if (!tenant || !id || !printer_id) return STORE_NOT_FOUND;
  member_arg_t a = {.tenant = tenant, .id = id, .printer_id = printer_id, .now_us = now_us,
                    .add = true};
  return run_member(st, &a, why);
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_member_remove(store_t *st, const char *tenant, const char *id,
                                            const char *printer_id,
                                            store_pull_member_err_t *why) {
  if (!tenant || !id || !printer_id) return STORE_NOT_FOUND;
  member_arg_t a = {.tenant = tenant, .id = id, .printer_id = printer_id, .add = false};
  return run_member(st, &a, why);
}

typedef struct {
  const char *tenant, *id, *printer_id;
} has_member_arg_t;

static int has_member_fn(db_conn_t *c, void *arg) {
  has_member_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c,
    "SELECT 1 FROM pull_printers pp JOIN printers p ON p.tenant_id = pp.tenant_id"
    " WHERE pp.id = ? AND pp.tenant_id = ? AND p.id = ? AND (pp.include_all_printers = 1 OR"
    " EXISTS (SELECT 1 FROM pull_printer_members m WHERE m.pull_printer_id = pp.id AND"
    " m.printer_id = p.id))");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->printer_id);
  return store_step_row(s, NULL, NULL);
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_has_member(store_t *st, const char *tenant, const char *id,
                                         const char *printer_id) {
  if (!tenant || !id || !printer_id) return STORE_NOT_FOUND;
  has_member_arg_t a = {tenant, id, printer_id};
  return store_rc(db_read(st->db, has_member_fn, &a));
}

/* ---- operations ----------------------------------------------------------------------------- */

typedef struct {
  const char *tenant, *op_id;
  char       *out;
} op_arg_t;

/* The pull-print printer id (column 0, NULL when it is gone) into the char * at out. */
static void op_row(db_stmt_t *s, void *out) { *(char **)out = store_col_strdup(s, 0, false); }

static int op_fn(db_conn_t *c, void *arg) {
  op_arg_t *a = arg;
  free(a->out);
  a->out = NULL;
  db_stmt_t *s = db_prepare(c, "SELECT p.id FROM print_operations o LEFT JOIN pull_printers p"
                               " ON p.id = o.pull_printer_id WHERE o.id = ? AND o.tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->op_id);
  db_bind_text(s, 2, a->tenant);
  return store_step_row(s, op_row, &a->out);
}

/* See pull-printers.h. */
store_rc_t store_pull_printer_of_operation(store_t *st, const char *tenant, const char *op_id,
                                           char **out) {
  *out = NULL;
  if (!tenant || !op_id) return STORE_NOT_FOUND;
  op_arg_t a = {.tenant = tenant, .op_id = op_id};
  store_rc_t rc = store_rc(db_read(st->db, op_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else free(a.out);
  return rc;
}
