/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printers: the printers table (migration 2) with the share that points at each printer
 * (LEFT JOIN shares, for isShared and $expand=shares), the printer registration operations
 * (print_operations) and the tenant's device CA (device_cas).
 *
 * JSON columns (location, defaults, factory_defaults, capabilities, release_mechanisms,
 * status_details) hold what the Graph layer validated; partial updates merge into them here,
 * inside the write transaction, so concurrent updates of different members all survive.
 */
#include "store/printers.h"
#include "core/enums.h"
#include "store/query.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/jsonmerge.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PRINTER_COLS                                                                          \
  "p.id, p.tenant_id, p.display_name, p.manufacturer, p.model, p.has_physical_device,"        \
  " p.physical_device_id, p.connector_id, p.is_accepting_jobs, p.status_state,"               \
  " p.status_details, p.status_description, p.location, p.defaults, p.factory_defaults,"      \
  " p.capabilities, p.release_mechanisms, p.registered_us, p.last_seen_us,"                   \
  " p.registered_by_app, p.cert_sha256, s.id, s.display_name, s.allow_all_users, s.created_us"
#define PRINTER_NCOLS 25
#define PRINTER_FROM "printers p LEFT JOIN shares s ON s.printer_id = p.id"

#define OP_COLS \
  "o.id, o.tenant_id, o.created_us, o.state, o.description, o.printer_id, o.certificate"
#define OP_NCOLS 7

#define OP_SUCCEEDED 2 /* printOperationProcessingState: succeeded */
#define OP_FAILED 3    /* failed */
#define OP_SUCCESS_TEXT "The operation has completed successfully."

/* printerProcessingState / printOperationProcessingState indexes as member names, for $filter. */
#define PRINTER_STATE_SQL                                                                       \
  "(CASE p.status_state WHEN 0 THEN 'unknown' WHEN 1 THEN 'idle' WHEN 2 THEN 'processing'"     \
  " WHEN 3 THEN 'stopped' ELSE 'unknownFutureValue' END)"
#define OP_STATE_SQL                                                                            \
  "(CASE o.state WHEN 0 THEN 'notStarted' WHEN 1 THEN 'running' WHEN 2 THEN 'succeeded'"       \
  " WHEN 3 THEN 'failed' ELSE 'unknownFutureValue' END)"

static const store_qfield_t PRINTER_FIELDS[] = {
  /* path                 sql                      type               filter sort  notnull */
  {"id", "p.id", STORE_QT_STRING, true, true, true, NULL},
  {"displayName", "p.display_name", STORE_QT_STRING, true, true, true, NULL},
  {"manufacturer", "p.manufacturer", STORE_QT_STRING, true, true, false, NULL},
  {"model", "p.model", STORE_QT_STRING, true, true, false, NULL},
  {"isAcceptingJobs", "p.is_accepting_jobs", STORE_QT_BOOL, true, true, false, NULL},
  {"hasPhysicalDevice", "p.has_physical_device", STORE_QT_BOOL, true, true, true, NULL},
  {"isShared", "(CASE WHEN s.id IS NULL THEN 0 ELSE 1 END)", STORE_QT_BOOL, true, true, true,
   NULL},
  {"registeredDateTime", "p.registered_us", STORE_QT_DATETIME, true, true, true, NULL},
  {"lastSeenDateTime", "p.last_seen_us", STORE_QT_DATETIME, true, true, false, NULL},
  {"status/state", PRINTER_STATE_SQL, STORE_QT_ENUM, true, false, true,
   &ENUM_PRINTER_PROCESSING_STATE},
  STORE_PRINTER_BASE_JSON_QFIELDS,
};

static const store_qfield_t OP_FIELDS[] = {
  {"id", "o.id", STORE_QT_STRING, true, true, true, NULL},
  {"createdDateTime", "o.created_us", STORE_QT_DATETIME, true, true, true, NULL},
  {"status/state", OP_STATE_SQL, STORE_QT_ENUM, true, false, true,
   &ENUM_PRINT_OPERATION_PROCESSING_STATE},
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- structs -------------------------------------------------------------------------------- */

/* Releases the strings of *p and zeroes it. */
void store_printer_clear(store_printer_t *p) {
  if (!p) return;
  free(p->id);
  free(p->tenant);
  free(p->display_name);
  free(p->manufacturer);
  free(p->model);
  free(p->physical_device_id);
  free(p->connector_id);
  free(p->status_details);
  free(p->status_description);
  free(p->location);
  free(p->defaults);
  free(p->factory_defaults);
  free(p->capabilities);
  free(p->release_mechanisms);
  free(p->registered_by_app);
  free(p->cert_sha256);
  free(p->share_id);
  free(p->share_display_name);
  memset(p, 0, sizeof *p);
}

/* Clears each of v[0..n) and frees v. */
void store_printers_free(store_printer_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_printer_clear(&v[i]);
  free(v);
}

/* Releases a page of printers and zeroes it. */
void store_printer_page_clear(store_printer_page_t *p) {
  if (!p) return;
  store_printers_free(p->items, p->n);
  free(p->next);
  memset(p, 0, sizeof *p);
}

/* The members of store_operation_t, in the order of OP_COLS. */
static const store_col_t OP_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_operation_t, id),
  STORE_COL(TEXT_EMPTY, store_operation_t, tenant),
  STORE_COL(I64, store_operation_t, created_us),
  STORE_COL(INT, store_operation_t, state),
  STORE_COL(TEXT_EMPTY, store_operation_t, description),
  STORE_COL(TEXT, store_operation_t, printer_id),
  STORE_COL(TEXT, store_operation_t, certificate),
};
_Static_assert(STORE_NCOLS(OP_MAP) == OP_NCOLS, "OP_MAP names each of OP_COLS");

/* Releases the strings of *op and zeroes it. */
void store_operation_clear(store_operation_t *op) {
  if (!op) return;
  store_cols_free(OP_MAP, OP_NCOLS, op);
  memset(op, 0, sizeof *op);
}

/* Clears each of v[0..n) and frees v. */
void store_operations_free(store_operation_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_operation_clear(&v[i]);
  free(v);
}

/* Releases a page of operations and zeroes it. */
void store_operation_page_clear(store_operation_page_t *p) {
  if (!p) return;
  store_operations_free(p->items, p->n);
  free(p->next);
  memset(p, 0, sizeof *p);
}

/* Releases the CA's strings and zeroes it. */
void store_device_ca_clear(store_device_ca_t *ca) {
  if (!ca) return;
  free(ca->key_pem);
  free(ca->cert_pem);
  memset(ca, 0, sizeof *ca);
}

/* Fills the store_printer_t at item from a row of PRINTER_COLS. */
static void printer_from_row(db_stmt_t *s, void *item) {
  store_printer_t *p = item;
  p->id = store_col_strdup(s, 0, true);
  p->tenant = store_col_strdup(s, 1, true);
  p->display_name = store_col_strdup(s, 2, true);
  p->manufacturer = store_col_strdup(s, 3, false);
  p->model = store_col_strdup(s, 4, false);
  p->has_physical_device = db_col_int64(s, 5) != 0;
  p->physical_device_id = store_col_strdup(s, 6, false);
  p->connector_id = store_col_strdup(s, 7, false);
  p->is_accepting_jobs = db_col_null(s, 8) ? -1 : db_col_int64(s, 8) != 0;
  p->status_state = (int)db_col_int64(s, 9);
  p->status_details = db_col_null(s, 10) ? xstrdup("[]") : store_col_strdup(s, 10, true);
  p->status_description = store_col_strdup(s, 11, true);
  p->location = store_col_strdup(s, 12, false);
  p->defaults = store_col_strdup(s, 13, false);
  p->factory_defaults = store_col_strdup(s, 14, false);
  p->capabilities = store_col_strdup(s, 15, false);
  p->release_mechanisms = store_col_strdup(s, 16, false);
  p->registered_us = db_col_int64(s, 17);
  p->last_seen_us = db_col_null(s, 18) ? 0 : db_col_int64(s, 18);
  p->registered_by_app = store_col_strdup(s, 19, false);
  p->cert_sha256 = store_col_strdup(s, 20, false);
  p->share_id = store_col_strdup(s, 21, false);
  p->share_display_name = p->share_id ? store_col_strdup(s, 22, true) : NULL;
  p->share_allow_all_users = p->share_id && db_col_int64(s, 23) != 0;
  p->share_created_us = p->share_id ? db_col_int64(s, 24) : 0;
}

/* Fills the store_operation_t at item from a row of OP_COLS. */
static void operation_from_row(db_stmt_t *s, void *item) {
  store_cols_read(s, OP_MAP, OP_NCOLS, item);
}

/* ---- content types -------------------------------------------------------------------------- */

/* ct without parameters and surrounding spaces, lower-cased, into out. */
static void media_type(const char *ct, char *out, size_t outlen) {
  size_t o = 0;
  while (*ct == ' ' || *ct == '\t') ct++;
  for (; *ct && *ct != ';' && o + 1 < outlen; ct++) out[o++] = (char)tolower((unsigned char)*ct);
  while (o && (out[o - 1] == ' ' || out[o - 1] == '\t')) o--;
  out[o] = '\0';
}

/* True when p accepts ct (see printers.h). */
bool store_printer_accepts_content_type(const store_printer_t *p, const char *ct) {
  static const char *const builtin[] = {STORE_PRINTER_DEFAULT_CONTENT_TYPES, NULL};
  char want[256], have[256];
  if (!p || !ct) return false;
  media_type(ct, want, sizeof want);
  if (!want[0]) return false;
  json_t *caps = p->capabilities ? json_loads(p->capabilities, 0, NULL) : NULL;
  json_t *list = caps ? json_object_get(caps, "contentTypes") : NULL;
  bool listed = json_is_array(list) && json_array_size(list) > 0, ok = false;
  if (listed) {
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
      if (!json_is_string(v)) continue;
      media_type(json_string_value(v), have, sizeof have);
      if (strcmp(have, want) == 0) ok = true;
    }
  } else {
    for (size_t i = 0; builtin[i]; i++)
      if (strcmp(builtin[i], want) == 0) ok = true;
  }
  json_decref(caps);
  return ok;
}

/* ---- JSON merging --------------------------------------------------------------------------- */

/* Applies a printerStatus patch {state?, details?, description?} to p. */
static int merge_status(store_printer_t *p, const char *patch) {
  if (!patch) return 0;
  json_t *pj = json_loads(patch, 0, NULL);
  if (!json_is_object(pj)) {
    json_decref(pj);
    return DB_ERROR;
  }
  int rc = 0;
  json_t *v = json_object_get(pj, "state");
  if (json_is_string(v)) {
    int i = enum_lookup(&ENUM_PRINTER_PROCESSING_STATE, json_string_value(v), true);
    if (i < 0) rc = DB_ERROR;
    else p->status_state = i;
  }
  v = json_object_get(pj, "details");
  if (json_is_array(v) || json_is_null(v)) {
    free(p->status_details);
    p->status_details = json_is_array(v) ? json_dumps(v, JSON_COMPACT) : xstrdup("[]");
  }
  v = json_object_get(pj, "description");
  if (v) {
    free(p->status_description);
    p->status_description = xstrdup(json_is_string(v) ? json_string_value(v) : "");
  }
  json_decref(pj);
  return rc;
}

static void replace(char **field, const char *value) {
  free(*field);
  *field = value ? xstrdup(value) : NULL;
}

/* ---- reads ---------------------------------------------------------------------------------- */

#define PRINTER_BY_ID_SQL \
  "SELECT " PRINTER_COLS " FROM " PRINTER_FROM " WHERE p.id = ? AND p.tenant_id = ?"

/* Reads printer id of tenant into *out: 0, STORE_NOT_FOUND or a DB error. */
static int printer_read(db_conn_t *c, const char *tenant, const char *id, store_printer_t *out) {
  return store_read_by_id(c, PRINTER_BY_ID_SQL, id, tenant, printer_from_row, out);
}

static void printer_clear(void *p) { store_printer_clear(p); }

/* Reads printer id of tenant into *out (see printers.h). */
store_rc_t store_printer_get(store_t *st, const char *tenant, const char *id,
                             store_printer_t *out) {
  return store_get_by_id(st, PRINTER_BY_ID_SQL, id, tenant, printer_from_row, printer_clear, out,
                         sizeof *out);
}

#define PRINTER_EXISTS_SQL "SELECT 1 FROM printers WHERE id = ? AND tenant_id = ?"

/* See store-private.h. */
int store_printer_row_exists(db_conn_t *c, const char *tenant, const char *printer_id) {
  return store_row_exists(c, PRINTER_EXISTS_SQL, printer_id, tenant);
}

/* See printers.h. */
store_rc_t store_printer_exists(store_t *st, const char *tenant, const char *id) {
  return store_get_by_id(st, PRINTER_EXISTS_SQL, id, tenant, NULL, NULL, NULL, 0);
}

/* A list query over a compiled store_query_t: the tenant (and a second parameter, arg2, when
 * base_where has one) bound to base_where; rows are read by row_fn into an array of elem bytes
 * each. */
typedef struct {
  const char          *tenant;
  const char          *arg2;     /* a second '?' of base_where (after the tenant), or NULL */
  store_query_t        cq;       /* compiled by run_list, cleared there */
  const char          *cols;
  int                  ncols;
  const char          *from;
  const char          *base_where;
  size_t               elem;
  void               (*row_fn)(db_stmt_t *s, void *item);
  void               (*clear_fn)(void *items, size_t n);
  void                *items;
  size_t               n;
  char                *next;
} list_arg_t;

static void list_reset(list_arg_t *a) {
  if (a->items) a->clear_fn(a->items, a->n);
  a->items = NULL;
  a->n = 0;
  free(a->next);
  a->next = NULL;
}

static int list_fn(db_conn_t *c, void *arg) {
  list_arg_t *a = arg;
  list_reset(a);
  query_value_t base[] = {{.type = QUERY_VAL_STRING, .u.s = (char *)a->tenant},
                          {.type = QUERY_VAL_STRING, .u.s = (char *)a->arg2}};
  store_list_sql_t l = {a->cols, a->ncols, a->from, a->base_where, base, a->arg2 ? 2 : 1};
  return store_query_list_items(c, &a->cq, &l, a->elem, a->row_fn, &a->items, &a->n, &a->next);
}

static void printers_clear(void *items, size_t n) { store_printers_free(items, n); }
static void operations_clear(void *items, size_t n) { store_operations_free(items, n); }

/* Compiles q and runs the list; STORE_INVALID with err when the query does not fit. */
static store_rc_t run_list(store_t *st, list_arg_t *a, const query_t *q,
                           const store_qfield_t *fields, size_t nfields, char *err,
                           size_t errlen) {
  if (store_query_compile_db(st->db, q, fields, nfields, "id", STORE_PRINTER_PAGE_MAX, &a->cq,
                             err, errlen) != 0)
    return STORE_INVALID;
  store_rc_t rc = store_rc(db_read(st->db, list_fn, a));
  store_query_clear(&a->cq);
  if (rc != STORE_OK) list_reset(a);
  return rc;
}

/* Lists the tenant's printers (see printers.h). */
store_rc_t store_printer_list(store_t *st, const char *tenant, const query_t *q,
                              store_printer_page_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!tenant || !q) return STORE_ERROR;
  list_arg_t a = {.tenant = tenant, .cols = PRINTER_COLS, .ncols = PRINTER_NCOLS,
                  .from = PRINTER_FROM, .base_where = "p.tenant_id = ?",
                  .elem = sizeof(store_printer_t), .row_fn = printer_from_row,
                  .clear_fn = printers_clear};
  store_rc_t rc = run_list(st, &a, q, PRINTER_FIELDS, NFIELDS(PRINTER_FIELDS), err, errlen);
  if (rc == STORE_OK) {
    out->items = a.items;
    out->n = a.n;
    out->next = a.next;
  }
  return rc;
}

/* Lists the member printers of a pull-print printer (see printers.h). */
store_rc_t store_printer_list_pull_members(store_t *st, const char *tenant,
                                           const char *pull_printer_id, const query_t *q,
                                           store_printer_page_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!tenant || !pull_printer_id || !q) return STORE_ERROR;
  list_arg_t a = {.tenant = tenant, .arg2 = pull_printer_id, .cols = PRINTER_COLS,
                  .ncols = PRINTER_NCOLS, .from = PRINTER_FROM,
                  .base_where = "p.tenant_id = ? AND EXISTS (SELECT 1 FROM pull_printers pp"
                                " WHERE pp.id = ? AND pp.tenant_id = p.tenant_id AND"
                                " (pp.include_all_printers = 1 OR EXISTS (SELECT 1 FROM"
                                " pull_printer_members m WHERE m.pull_printer_id = pp.id AND"
                                " m.printer_id = p.id)))",
                  .elem = sizeof(store_printer_t), .row_fn = printer_from_row,
                  .clear_fn = printers_clear};
  store_rc_t rc = run_list(st, &a, q, PRINTER_FIELDS, NFIELDS(PRINTER_FIELDS), err, errlen);
  if (rc == STORE_OK) {
    out->items = a.items;
    out->n = a.n;
    out->next = a.next;
  }
  return rc;
}

/* ---- updates -------------------------------------------------------------------------------- */

typedef struct {
  const char                  *tenant;
  const char                  *id;
  const store_printer_patch_t *patch;
  store_printer_t              out;
} update_arg_t;

static int apply_patch(store_printer_t *p, const store_printer_patch_t *x) {
  if (x->display_name) replace(&p->display_name, x->display_name);
  if (x->set_manufacturer) replace(&p->manufacturer, x->manufacturer);
  if (x->set_model) replace(&p->model, x->model);
  if (x->set_is_accepting_jobs)
    p->is_accepting_jobs = x->is_accepting_jobs < 0 ? -1 : x->is_accepting_jobs != 0;
  if (x->set_release_mechanisms) replace(&p->release_mechanisms, x->release_mechanisms);
  int rc = merge_status(p, x->status_merge);
  if (rc == 0) rc = store_json_merge_text(&p->location, x->location_merge);
  if (rc == 0) rc = store_json_merge_text(&p->defaults, x->defaults_merge);
  if (rc == 0 && x->defaults_are_factory) rc = store_json_merge_text(&p->factory_defaults, x->defaults_merge);
  if (rc == 0) rc = store_json_merge_text(&p->capabilities, x->capabilities_merge);
  return rc;
}

static int update_fn(db_conn_t *c, void *arg) {
  update_arg_t *a = arg;
  store_printer_clear(&a->out);  /* a backend may run a closure again: start clean */
  int rc = printer_read(c, a->tenant, a->id, &a->out);
  if (rc != 0) return rc;
  if ((rc = apply_patch(&a->out, a->patch)) != 0) return rc;
  const store_printer_t *p = &a->out;
  db_stmt_t *s = db_prepare(c,
    "UPDATE printers SET display_name = ?, manufacturer = ?, model = ?, is_accepting_jobs = ?,"
    " status_state = ?, status_details = ?, status_description = ?, location = ?, defaults = ?,"
    " factory_defaults = ?, capabilities = ?, release_mechanisms = ?"
    " WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, p->display_name);
  db_bind_text(s, 2, p->manufacturer);
  db_bind_text(s, 3, p->model);
  if (p->is_accepting_jobs < 0) db_bind_null(s, 4);
  else db_bind_int64(s, 4, p->is_accepting_jobs);
  db_bind_int64(s, 5, p->status_state);
  db_bind_text(s, 6, p->status_details);
  db_bind_text(s, 7, p->status_description);
  db_bind_text(s, 8, p->location);
  db_bind_text(s, 9, p->defaults);
  db_bind_text(s, 10, p->factory_defaults);
  db_bind_text(s, 11, p->capabilities);
  db_bind_text(s, 12, p->release_mechanisms);
  db_bind_text(s, 13, a->id);
  db_bind_text(s, 14, a->tenant);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Applies p to printer id in one write transaction (see printers.h). */
store_rc_t store_printer_update(store_t *st, const char *tenant, const char *id,
                                const store_printer_patch_t *p, store_printer_t *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!tenant || !id) return STORE_NOT_FOUND;
  if (!p) return STORE_ERROR;
  update_arg_t a = {.tenant = tenant, .id = id, .patch = p};
  store_rc_t rc = store_rc(db_write(st->db, update_fn, &a));
  if (rc == STORE_OK && out) *out = a.out;
  else store_printer_clear(&a.out);
  return rc;
}

typedef struct {
  const char *sql;
  const char *tenant;
  const char *id;
} exec_arg_t;

/* Runs a statement "... WHERE id = ? AND tenant_id = ?": STORE_NOT_FOUND when no row. */
static int exec_fn(db_conn_t *c, void *arg) {
  exec_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, a->sql);
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  return db_changes(c) > 0 ? 0 : STORE_NOT_FOUND;
}

/* Restores the factory defaults of printer id (see printers.h). */
store_rc_t store_printer_restore_defaults(store_t *st, const char *tenant, const char *id) {
  if (!tenant || !id) return STORE_NOT_FOUND;
  exec_arg_t a = {"UPDATE printers SET defaults = factory_defaults WHERE id = ? AND tenant_id = ?",
                  tenant, id};
  return store_rc(db_write(st->db, exec_fn, &a));
}

/* Deletes printer id and, by cascade, its jobs, share and trigger (see printers.h). */
store_rc_t store_printer_delete(store_t *st, const char *tenant, const char *id) {
  if (!tenant || !id) return STORE_NOT_FOUND;
  exec_arg_t a = {"DELETE FROM printers WHERE id = ? AND tenant_id = ?", tenant, id};
  return store_rc(db_write(st->db, exec_fn, &a));
}

typedef struct {
  char  **ids, **tenants;
  size_t  n;
} all_arg_t;

static void all_clear(all_arg_t *a) {
  for (size_t i = 0; i < a->n; i++) {
    free(a->ids[i]);
    free(a->tenants[i]);
  }
  free(a->ids);
  free(a->tenants);
  a->ids = a->tenants = NULL;
  a->n = 0;
}

static int all_fn(db_conn_t *c, void *arg) {
  all_arg_t *a = arg;
  all_clear(a);
  db_stmt_t *s = db_prepare(c, "SELECT id, tenant_id FROM printers ORDER BY id");
  if (!s) return DB_ERROR;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    a->ids = xrealloc(a->ids, (a->n + 1) * sizeof *a->ids);
    a->tenants = xrealloc(a->tenants, (a->n + 1) * sizeof *a->tenants);
    a->ids[a->n] = store_col_strdup(s, 0, true);
    a->tenants[a->n] = store_col_strdup(s, 1, true);
    a->n++;
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Every printer id with its tenant (see printers.h). */
store_rc_t store_printer_all_ids(store_t *st, char ***ids, char ***tenants, size_t *n) {
  all_arg_t a = {0};
  store_rc_t rc = store_rc(db_read(st->db, all_fn, &a));
  if (rc != STORE_OK) all_clear(&a);
  *ids = a.ids;
  *tenants = a.tenants;
  *n = a.n;
  return rc;
}

/* ---- registration --------------------------------------------------------------------------- */

typedef struct {
  const char        *tenant;
  const char        *key_pem;
  const char        *cert_pem;
  int64_t            now_us;
  store_device_ca_t  out;
} ca_arg_t;

static int ca_reserve_fn(db_conn_t *c, void *arg) {
  ca_arg_t *a = arg;
  store_device_ca_clear(&a->out);
  db_stmt_t *s;
  int rc;
  if (a->key_pem && a->cert_pem) {
    s = db_prepare(c, "INSERT INTO device_cas (tenant_id, key_pem, cert_pem, next_serial,"
                      " created_us) VALUES (?, ?, ?, 1, ?) ON CONFLICT (tenant_id) DO NOTHING");
    if (!s) return DB_ERROR;
    db_bind_text(s, 1, a->tenant);
    db_bind_text(s, 2, a->key_pem);
    db_bind_text(s, 3, a->cert_pem);
    db_bind_int64(s, 4, a->now_us);
    rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE) return rc;
  }
  s = db_prepare(c, "SELECT key_pem, cert_pem, next_serial FROM device_cas WHERE tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  rc = db_step(s);
  if (rc == DB_ROW) {
    a->out.key_pem = store_col_strdup(s, 0, true);
    a->out.cert_pem = store_col_strdup(s, 1, true);
    a->out.serial = db_col_int64(s, 2);
  }
  db_reset(s);
  if (rc != DB_ROW) return rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
  s = db_prepare(c, "UPDATE device_cas SET next_serial = next_serial + 1 WHERE tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Reserves a serial of the tenant's device CA, storing a new CA first if needed (see
 * printers.h). On STORE_OK the caller clears *out. */
store_rc_t store_device_ca_reserve(store_t *st, const char *tenant, const char *new_key_pem,
                                   const char *new_cert_pem, store_device_ca_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant) return STORE_NOT_FOUND;
  ca_arg_t a = {.tenant = tenant, .key_pem = new_key_pem, .cert_pem = new_cert_pem,
                .now_us = time_now_us()};
  store_rc_t rc = store_rc(db_write(st->db, ca_reserve_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_device_ca_clear(&a.out);
  return rc;
}

static int register_fn(db_conn_t *c, void *arg) {
  const store_printer_new_t *n = arg;
  db_stmt_t *s = db_prepare(c,
    "INSERT INTO printers (id, tenant_id, display_name, manufacturer, model,"
    " has_physical_device, physical_device_id, connector_id, is_accepting_jobs, status_state,"
    " status_details, status_description, defaults, factory_defaults, registered_us,"
    " registered_by_app, cert_pem, cert_sha256)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 0, '[]', '', ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, n->id);
  db_bind_text(s, 2, n->tenant);
  db_bind_text(s, 3, n->display_name);
  db_bind_text(s, 4, n->manufacturer);
  db_bind_text(s, 5, n->model);
  db_bind_int64(s, 6, n->has_physical_device ? 1 : 0);
  db_bind_text(s, 7, n->physical_device_id);
  db_bind_text(s, 8, n->connector_id);
  db_bind_text(s, 9, n->defaults);
  db_bind_text(s, 10, n->defaults);
  db_bind_int64(s, 11, n->now_us);
  db_bind_text(s, 12, n->registered_by_app);
  db_bind_text(s, 13, n->cert_pem);
  db_bind_text(s, 14, n->cert_sha256);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc;
  s = db_prepare(c, "INSERT INTO print_operations (id, tenant_id, created_us, state, description,"
                    " printer_id, certificate) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, n->operation_id);
  db_bind_text(s, 2, n->tenant);
  db_bind_int64(s, 3, n->now_us);
  db_bind_int64(s, 4, OP_SUCCEEDED);
  db_bind_text(s, 5, OP_SUCCESS_TEXT);
  db_bind_text(s, 6, n->id);
  db_bind_text(s, 7, n->cert_pem);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Inserts a registered printer and its succeeded operation (see printers.h). */
store_rc_t store_printer_register(store_t *st, const store_printer_new_t *n) {
  if (!n || !n->id || !n->tenant || !n->display_name || !n->operation_id) return STORE_ERROR;
  return store_rc(db_write(st->db, register_fn, (void *)n));
}

typedef struct {
  const char *tenant;
  const char *id;
  int64_t     now_us;
  const char *description;
} failed_arg_t;

static int failed_fn(db_conn_t *c, void *arg) {
  failed_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "INSERT INTO print_operations (id, tenant_id, created_us, state,"
                               " description) VALUES (?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, a->now_us);
  db_bind_int64(s, 4, OP_FAILED);
  db_bind_text(s, 5, a->description ? a->description : "");
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Records a failed registration (see printers.h). */
store_rc_t store_operation_add_failed(store_t *st, const char *tenant, const char *id,
                                      int64_t now_us, const char *description) {
  if (!tenant || !id) return STORE_ERROR;
  failed_arg_t a = {tenant, id, now_us, description};
  return store_rc(db_write(st->db, failed_fn, &a));
}

typedef struct {
  const char        *tenant;
  const char        *id;
  bool               want_printer;
  store_operation_t  op;
  store_printer_t    printer;
  bool               has_printer;
} op_get_arg_t;

static int op_get_fn(db_conn_t *c, void *arg) {
  op_get_arg_t *a = arg;
  store_operation_clear(&a->op);
  store_printer_clear(&a->printer);
  a->has_printer = false;
  db_stmt_t *s = db_prepare(c, "SELECT " OP_COLS " FROM print_operations o"
                               " WHERE o.id = ? AND o.tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  int rc = store_step_row(s, operation_from_row, &a->op);
  if (rc != 0) return rc;
  if (!a->want_printer || !a->op.printer_id) return 0;
  rc = printer_read(c, a->tenant, a->op.printer_id, &a->printer);
  if (rc == STORE_NOT_FOUND) return 0;  /* deleted since */
  if (rc != 0) return rc;
  a->has_printer = true;
  return 0;
}

/* Reads an operation and the printer it registered (see printers.h). */
store_rc_t store_operation_get(store_t *st, const char *tenant, const char *id,
                               store_operation_t *op, store_printer_t *printer,
                               bool *has_printer) {
  memset(op, 0, sizeof *op);
  if (printer) memset(printer, 0, sizeof *printer);
  if (has_printer) *has_printer = false;
  if (!tenant || !id) return STORE_NOT_FOUND;
  op_get_arg_t a = {.tenant = tenant, .id = id, .want_printer = printer != NULL};
  store_rc_t rc = store_rc(db_read(st->db, op_get_fn, &a));
  if (rc != STORE_OK) {
    store_operation_clear(&a.op);
    store_printer_clear(&a.printer);
    return rc;
  }
  *op = a.op;
  if (printer) *printer = a.printer;
  if (has_printer) *has_printer = a.has_printer;
  return STORE_OK;
}

/* Lists the tenant's operations (see printers.h). */
store_rc_t store_operation_list(store_t *st, const char *tenant, const query_t *q,
                                store_operation_page_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!tenant || !q) return STORE_ERROR;
  list_arg_t a = {.tenant = tenant, .cols = OP_COLS, .ncols = OP_NCOLS,
                  .from = "print_operations o", .base_where = "o.tenant_id = ?",
                  .elem = sizeof(store_operation_t), .row_fn = operation_from_row,
                  .clear_fn = operations_clear};
  store_rc_t rc = run_list(st, &a, q, OP_FIELDS, NFIELDS(OP_FIELDS), err, errlen);
  if (rc == STORE_OK) {
    out->items = a.items;
    out->n = a.n;
    out->next = a.next;
  }
  return rc;
}
