/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print task definitions, task triggers and print tasks (store/tasks.h), and the trigger
 * firing shared with the job transitions (tasks-private.h).
 */
#include "store/tasks.h"
#include "core/enums.h"
#include "core/job.h"
#include "store/outbox.h"
#include "store/printers.h"
#include "store/query.h"
#include "store/store-private.h"
#include "store/tasks-private.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/timeutil.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The default description of a task that a trigger just created. */
#define TASK_PROCESSING_DESCRIPTION "The print task is processing the job."

/* ---- list helper ------------------------------------------------------------------------- */

/* One list: a resource's field map and SQL, and a row callback. */
typedef struct list_arg {
  const query_t        *q;
  const store_qfield_t *fields;
  size_t                nfields;
  const char           *cols;      /* selected columns (ncols of them) */
  int                   ncols;
  const char           *from;
  const char           *where;     /* base condition; its '?' are bound from binds */
  const char           *binds[3];  /* text values of where's '?', in order */
  int                   nbinds;
  int (*row)(db_stmt_t *s, void *arg); /* reads a row and hands it on; non-zero stops */
  void                 *row_arg;
  char                 *next;      /* out */
  char                 *err;       /* out */
} list_arg_t;

static int list_fn(db_conn_t *c, void *arg) {
  list_arg_t *a = arg;
  free(a->next);
  a->next = NULL;
  store_query_t cq;
  char err[512];
  if (store_query_compile(a->q, a->fields, a->nfields, "id", QUERY_PAGE_MAX, &cq, err,
                          sizeof err) != 0) {
    free(a->err);
    a->err = xstrdup(err);
    return STORE_INVALID;
  }
  query_value_t vals[3];
  for (int i = 0; i < a->nbinds && i < 3; i++)
    vals[i] = (query_value_t){.type = QUERY_VAL_STRING, .u.s = (char *)a->binds[i]};
  store_list_sql_t l = {a->cols, a->ncols, a->from, a->where, vals, (size_t)a->nbinds};
  int rc = store_query_list(c, &cq, &l, a->row, a->row_arg, &a->next);
  store_query_clear(&cq);
  return rc;
}

static store_rc_t run_list(store_t *st, list_arg_t *a, char **next, char **err) {
  if (next) *next = NULL;
  if (err) *err = NULL;
  store_rc_t rc = store_rc(db_read(st->db, list_fn, a));
  if (rc == STORE_OK && next) *next = a->next;
  else free(a->next);
  if (rc == STORE_INVALID && err) *err = a->err;
  else free(a->err);
  return rc;
}

/* ---- task definitions ------------------------------------------------------------------- */

#define DEF_COLS "d.id, d.tenant_id, d.display_name, d.created_by_app, d.created_by_name, d.created_us"
#define DEF_NCOLS 6

static const store_qfield_t DEF_FIELDS[] = {
    {"id", "d.id", STORE_QT_STRING, true, true, true, NULL},
    {"displayName", "d.display_name", STORE_QT_STRING, true, true, true, NULL},
    {"createdBy/appId", "d.created_by_app", STORE_QT_STRING, true, true, true, NULL},
    {"createdBy/displayName", "d.created_by_name", STORE_QT_STRING, true, true, false, NULL},
};

/* The members of store_task_definition_t, in the order of DEF_COLS. */
static const store_col_t DEF_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_task_definition_t, id),
  STORE_COL(TEXT_EMPTY, store_task_definition_t, tenant),
  STORE_COL(TEXT_EMPTY, store_task_definition_t, display_name),
  STORE_COL(TEXT_EMPTY, store_task_definition_t, created_by_app),
  STORE_COL(TEXT, store_task_definition_t, created_by_name),
  STORE_COL(I64, store_task_definition_t, created_us),
};
_Static_assert(STORE_NCOLS(DEF_MAP) == DEF_NCOLS, "DEF_MAP names each of DEF_COLS");

/* Releases the strings of *d and zeroes it. */
void store_task_definition_clear(store_task_definition_t *d) {
  if (!d) return;
  store_cols_free(DEF_MAP, DEF_NCOLS, d);
  memset(d, 0, sizeof *d);
}

/* Fills *d (whatever it held is overwritten) from a row of DEF_COLS. */
static void def_from_row(db_stmt_t *s, store_task_definition_t *d) {
  memset(d, 0, sizeof *d);
  store_cols_read(s, DEF_MAP, DEF_NCOLS, d);
}

typedef struct def_arg {
  const char                          *tenant, *app, *id;
  const char                          *display_name, *created_by_name;
  const store_task_definition_patch_t *patch;
  store_task_definition_t              out;
  char                                *why;
} def_arg_t;

/* Reads definition a->id of a->tenant (and a->app when set) into a->out. */
static int def_read(db_conn_t *c, def_arg_t *a) {
  store_task_definition_clear(&a->out);
  db_stmt_t *s = db_prepare(c, "SELECT " DEF_COLS " FROM task_definitions d"
                               " WHERE d.id = ? AND d.tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  int rc = db_step(s);
  if (rc == DB_ROW) def_from_row(s, &a->out);
  db_reset(s);
  if (rc == DB_DONE) return STORE_NOT_FOUND;
  if (rc != DB_ROW) return DB_ERROR;
  if (a->app && strcmp(a->out.created_by_app, a->app) != 0) {
    store_task_definition_clear(&a->out);
    return STORE_NOT_FOUND;
  }
  return 0;
}

static int def_get_fn(db_conn_t *c, void *arg) { return def_read(c, arg); }

static int def_create_fn(db_conn_t *c, void *arg) {
  def_arg_t *a = arg;
  store_task_definition_clear(&a->out);
  char id[ID_GUID_LEN + 1];
  id_guid(id);
  int64_t now = time_now_us();
  db_stmt_t *s = db_prepare(c, "INSERT INTO task_definitions (id, tenant_id, display_name,"
                               " created_by_app, created_by_name, created_us)"
                               " VALUES (?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->display_name);
  db_bind_text(s, 4, a->app);
  db_bind_text(s, 5, a->created_by_name);
  db_bind_int64(s, 6, now);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return rc == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
  a->out.id = xstrdup(id);
  a->out.tenant = xstrdup(a->tenant);
  a->out.display_name = xstrdup(a->display_name);
  a->out.created_by_app = xstrdup(a->app);
  a->out.created_by_name = a->created_by_name ? xstrdup(a->created_by_name) : NULL;
  a->out.created_us = now;
  return 0;
}

/* Creates a definition owned by app; see tasks.h. */
store_rc_t store_task_definition_create(store_t *st, const char *tenant, const char *app,
                                        const char *display_name, const char *created_by_name,
                                        store_task_definition_t *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!tenant || !app || !display_name) return STORE_ERROR;
  def_arg_t a = {.tenant = tenant, .app = app, .display_name = display_name,
                 .created_by_name = created_by_name};
  store_rc_t rc = store_rc(db_write(st->db, def_create_fn, &a));
  if (rc == STORE_OK && out) *out = a.out;
  else store_task_definition_clear(&a.out);
  return rc;
}

/* Reads one definition; see tasks.h. */
store_rc_t store_task_definition_get(store_t *st, const char *tenant, const char *app,
                                     const char *id, store_task_definition_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !id) return STORE_NOT_FOUND;
  def_arg_t a = {.tenant = tenant, .app = app, .id = id};
  store_rc_t rc = store_rc(db_read(st->db, def_get_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_task_definition_clear(&a.out);
  return rc;
}

typedef struct def_list_cb {
  int (*fn)(const store_task_definition_t *d, void *arg);
  void *arg;
} def_list_cb_t;

static int def_list_row(db_stmt_t *s, void *arg) {
  def_list_cb_t *cb = arg;
  store_task_definition_t d;
  def_from_row(s, &d);
  int rc = cb->fn(&d, cb->arg);
  store_task_definition_clear(&d);
  return rc;
}

/* Lists app's definitions; see tasks.h. */
store_rc_t store_task_definition_list(store_t *st, const char *tenant, const char *app,
                                      const query_t *q,
                                      int (*fn)(const store_task_definition_t *d, void *arg),
                                      void *arg, char **next, char **err) {
  def_list_cb_t cb = {fn, arg};
  list_arg_t a = {.q = q, .fields = DEF_FIELDS, .nfields = sizeof DEF_FIELDS / sizeof DEF_FIELDS[0],
                  .cols = DEF_COLS, .ncols = DEF_NCOLS, .from = "task_definitions d",
                  .where = "d.tenant_id = ? AND d.created_by_app = ?",
                  .binds = {tenant, app}, .nbinds = 2, .row = def_list_row, .row_arg = &cb};
  return run_list(st, &a, next, err);
}

static int def_update_fn(db_conn_t *c, void *arg) {
  def_arg_t *a = arg;
  int rc = def_read(c, a);
  if (rc != 0) return rc;
  const store_task_definition_patch_t *p = a->patch;
  if (p->set_display_name) {
    free(a->out.display_name);
    a->out.display_name = xstrdup(p->display_name ? p->display_name : "");
  }
  if (p->set_created_by_name) {
    free(a->out.created_by_name);
    a->out.created_by_name = p->created_by_name ? xstrdup(p->created_by_name) : NULL;
  }
  db_stmt_t *s = db_prepare(c, "UPDATE task_definitions SET display_name = ?, created_by_name = ?"
                               " WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->out.display_name);
  db_bind_text(s, 2, a->out.created_by_name);
  db_bind_text(s, 3, a->id);
  db_bind_text(s, 4, a->tenant);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Updates a definition; see tasks.h. */
store_rc_t store_task_definition_update(store_t *st, const char *tenant, const char *app,
                                        const char *id, const store_task_definition_patch_t *p,
                                        store_task_definition_t *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!tenant || !id) return STORE_NOT_FOUND;
  if (!p) return STORE_ERROR;
  def_arg_t a = {.tenant = tenant, .app = app, .id = id, .patch = p};
  store_rc_t rc = store_rc(db_write(st->db, def_update_fn, &a));
  if (rc == STORE_OK && out) *out = a.out;
  else store_task_definition_clear(&a.out);
  return rc;
}

/* SELECT COUNT(*) with two text binds; -1 on error. */
static int64_t count2(db_conn_t *c, const char *sql, const char *v1, const char *v2) {
  db_stmt_t *s = db_prepare(c, sql);
  if (!s) return -1;
  db_bind_text(s, 1, v1);
  db_bind_text(s, 2, v2);
  int64_t n = db_step(s) == DB_ROW ? db_col_int64(s, 0) : -1;
  db_reset(s);
  return n;
}

static int def_delete_fn(db_conn_t *c, void *arg) {
  def_arg_t *a = arg;
  free(a->why);
  a->why = NULL;
  int rc = def_read(c, a);
  if (rc != 0) return rc;
  int64_t triggers = count2(c, "SELECT COUNT(*) FROM task_triggers WHERE definition_id = ?"
                               " AND tenant_id = ?", a->id, a->tenant);
  int64_t running = count2(c, "SELECT COUNT(*) FROM tasks WHERE definition_id = ?"
                              " AND tenant_id = ? AND state = 1", a->id, a->tenant);
  if (triggers < 0 || running < 0) return DB_ERROR;
  if (triggers > 0 || running > 0) {
    buf_t b = BUF_INIT;
    if (triggers > 0)
      buf_printf(&b, "The task definition is bound by %" PRId64 " task trigger%s; delete the "
                 "printers' task triggers first.", triggers, triggers == 1 ? "" : "s");
    else
      buf_printf(&b, "The task definition has %" PRId64 " print task%s in the processing state; "
                 "complete or abort %s first.", running, running == 1 ? "" : "s",
                 running == 1 ? "it" : "them");
    a->why = buf_detach(&b);
    return STORE_CONFLICT;
  }
  /* Finished tasks go with their definition (tasks.definition_id ON DELETE CASCADE). */
  db_stmt_t *s = db_prepare(c, "DELETE FROM task_definitions WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc == DB_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
}

/* Deletes a definition; see tasks.h. */
store_rc_t store_task_definition_delete(store_t *st, const char *tenant, const char *app,
                                        const char *id, char **why) {
  if (why) *why = NULL;
  if (!tenant || !id) return STORE_NOT_FOUND;
  def_arg_t a = {.tenant = tenant, .app = app, .id = id};
  store_rc_t rc = store_rc(db_write(st->db, def_delete_fn, &a));
  store_task_definition_clear(&a.out);
  if (rc == STORE_CONFLICT && why)
    *why = a.why ? a.why : xstrdup("A task trigger was bound to the task definition meanwhile.");
  else free(a.why);
  return rc;
}

/* ---- task triggers ---------------------------------------------------------------------- */

#define TRIG_COLS "g.id, g.tenant_id, g.printer_id, g.definition_id, g.event, g.created_by_app," \
                  " g.created_us"
#define TRIG_NCOLS 7

/* event is an index; as text it is the member name. */
static const store_qfield_t TRIG_FIELDS[] = {
    {"id", "g.id", STORE_QT_STRING, true, true, true, NULL},
    {"event", "(CASE g.event WHEN 0 THEN 'jobStarted' ELSE 'unknownFutureValue' END)",
     STORE_QT_ENUM, true, false, true, &ENUM_PRINT_EVENT},
};

/* The members of store_task_trigger_t, in the order of TRIG_COLS. */
static const store_col_t TRIG_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_task_trigger_t, id),
  STORE_COL(TEXT_EMPTY, store_task_trigger_t, tenant),
  STORE_COL(TEXT_EMPTY, store_task_trigger_t, printer_id),
  STORE_COL(TEXT_EMPTY, store_task_trigger_t, definition_id),
  STORE_COL(INT, store_task_trigger_t, event),
  STORE_COL(TEXT_EMPTY, store_task_trigger_t, created_by_app),
  STORE_COL(I64, store_task_trigger_t, created_us),
};
_Static_assert(STORE_NCOLS(TRIG_MAP) == TRIG_NCOLS, "TRIG_MAP names each of TRIG_COLS");

/* Releases the strings of *t and zeroes it. */
void store_task_trigger_clear(store_task_trigger_t *t) {
  if (!t) return;
  store_cols_free(TRIG_MAP, TRIG_NCOLS, t);
  memset(t, 0, sizeof *t);
}

/* Fills *t (whatever it held is overwritten) from a row of TRIG_COLS. */
static void trig_from_row(db_stmt_t *s, store_task_trigger_t *t) {
  memset(t, 0, sizeof *t);
  store_cols_read(s, TRIG_MAP, TRIG_NCOLS, t);
}

typedef struct trig_arg {
  const char             *tenant, *printer_id, *definition_id, *app, *id;
  int                     event;
  store_task_trigger_t    out;
  store_trigger_refusal_t refusal;
} trig_arg_t;

static int trig_create_fn(db_conn_t *c, void *arg) {
  trig_arg_t *a = arg;
  store_task_trigger_clear(&a->out);
  a->refusal = STORE_TRIGGER_OK;
  int rc = store_printer_row_exists(c, a->tenant, a->printer_id);
  if (rc == STORE_NOT_FOUND) {
    a->refusal = STORE_TRIGGER_NO_PRINTER;
    return STORE_CONFLICT;
  }
  if (rc != 0) return rc;
  def_arg_t d = {.tenant = a->tenant, .id = a->definition_id};
  rc = def_read(c, &d);
  if (rc == STORE_NOT_FOUND) {
    a->refusal = STORE_TRIGGER_NO_DEFINITION;
    return STORE_CONFLICT;
  }
  if (rc != 0) return rc;
  bool same_app = strcmp(d.out.created_by_app, a->app) == 0;
  store_task_definition_clear(&d.out);
  if (!same_app) {
    a->refusal = STORE_TRIGGER_OTHER_APP;
    return STORE_CONFLICT;
  }
  rc = store_row_exists(c, "SELECT 1 FROM task_triggers WHERE printer_id = ? AND tenant_id = ?",
                        a->printer_id, a->tenant);
  if (rc == 0) {
    a->refusal = STORE_TRIGGER_EXISTS;
    return STORE_CONFLICT;
  }
  if (rc != STORE_NOT_FOUND) return rc;
  char id[ID_GUID_LEN + 1];
  id_guid(id);
  int64_t now = time_now_us();
  db_stmt_t *s = db_prepare(c, "INSERT INTO task_triggers (id, tenant_id, printer_id,"
                               " definition_id, event, created_by_app, created_us)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->printer_id);
  db_bind_text(s, 4, a->definition_id);
  db_bind_int64(s, 5, a->event);
  db_bind_text(s, 6, a->app);
  db_bind_int64(s, 7, now);
  rc = db_step(s);
  db_reset(s);
  if (rc == DB_CONSTRAINT) {
    a->refusal = STORE_TRIGGER_EXISTS; /* the UNIQUE printer_id */
    return STORE_CONFLICT;
  }
  if (rc != DB_DONE) return DB_ERROR;
  a->out.id = xstrdup(id);
  a->out.tenant = xstrdup(a->tenant);
  a->out.printer_id = xstrdup(a->printer_id);
  a->out.definition_id = xstrdup(a->definition_id);
  a->out.event = a->event;
  a->out.created_by_app = xstrdup(a->app);
  a->out.created_us = now;
  return 0;
}

/* Creates a printer's trigger; see tasks.h. */
store_rc_t store_task_trigger_create(store_t *st, const char *tenant, const char *printer_id,
                                     const char *definition_id, int event, const char *app,
                                     store_task_trigger_t *out,
                                     store_trigger_refusal_t *refusal) {
  if (out) memset(out, 0, sizeof *out);
  if (refusal) *refusal = STORE_TRIGGER_OK;
  if (!tenant || !printer_id || !definition_id || !app) return STORE_ERROR;
  trig_arg_t a = {.tenant = tenant, .printer_id = printer_id, .definition_id = definition_id,
                  .event = event, .app = app};
  store_rc_t rc = store_rc(db_write(st->db, trig_create_fn, &a));
  if (rc == STORE_OK && out) *out = a.out;
  else store_task_trigger_clear(&a.out);
  if (refusal) *refusal = rc == STORE_CONFLICT ? a.refusal : STORE_TRIGGER_OK;
  return rc;
}

static int trig_get_fn(db_conn_t *c, void *arg) {
  trig_arg_t *a = arg;
  store_task_trigger_clear(&a->out);
  db_stmt_t *s = db_prepare(c, "SELECT " TRIG_COLS " FROM task_triggers g"
                               " WHERE g.id = ? AND g.tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  int rc = db_step(s);
  if (rc == DB_ROW) trig_from_row(s, &a->out);
  db_reset(s);
  if (rc == DB_DONE) return STORE_NOT_FOUND;
  if (rc != DB_ROW) return DB_ERROR;
  if (a->printer_id && strcmp(a->out.printer_id, a->printer_id) != 0) {
    store_task_trigger_clear(&a->out);
    return STORE_NOT_FOUND;
  }
  return 0;
}

/* Reads one trigger; see tasks.h. */
store_rc_t store_task_trigger_get(store_t *st, const char *tenant, const char *printer_id,
                                  const char *id, store_task_trigger_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !id) return STORE_NOT_FOUND;
  trig_arg_t a = {.tenant = tenant, .printer_id = printer_id, .id = id};
  store_rc_t rc = store_rc(db_read(st->db, trig_get_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_task_trigger_clear(&a.out);
  return rc;
}

typedef struct trig_list_cb {
  int (*fn)(const store_task_trigger_t *t, void *arg);
  void *arg;
} trig_list_cb_t;

static int trig_list_row(db_stmt_t *s, void *arg) {
  trig_list_cb_t *cb = arg;
  store_task_trigger_t t;
  trig_from_row(s, &t);
  int rc = cb->fn(&t, cb->arg);
  store_task_trigger_clear(&t);
  return rc;
}

/* Lists a printer's triggers; see tasks.h. */
store_rc_t store_task_trigger_list(store_t *st, const char *tenant, const char *printer_id,
                                   const query_t *q,
                                   int (*fn)(const store_task_trigger_t *t, void *arg),
                                   void *arg, char **next, char **err) {
  if (next) *next = NULL;
  if (err) *err = NULL;
  store_rc_t rc = store_printer_exists(st, tenant, printer_id);
  if (rc != STORE_OK) return rc;
  trig_list_cb_t cb = {fn, arg};
  list_arg_t a = {.q = q, .fields = TRIG_FIELDS,
                  .nfields = sizeof TRIG_FIELDS / sizeof TRIG_FIELDS[0], .cols = TRIG_COLS,
                  .ncols = TRIG_NCOLS, .from = "task_triggers g",
                  .where = "g.tenant_id = ? AND g.printer_id = ?", .binds = {tenant, printer_id},
                  .nbinds = 2, .row = trig_list_row, .row_arg = &cb};
  return run_list(st, &a, next, err);
}

static int trig_delete_fn(db_conn_t *c, void *arg) {
  trig_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "DELETE FROM task_triggers WHERE id = ? AND tenant_id = ?"
                               " AND printer_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->printer_id);
  int rc = db_step(s);
  db_reset(s);
  if (rc != DB_DONE) return DB_ERROR;
  return db_changes(c) == 1 ? 0 : STORE_NOT_FOUND;
}

/* Deletes a printer's trigger; see tasks.h. */
store_rc_t store_task_trigger_delete(store_t *st, const char *tenant, const char *printer_id,
                                     const char *id) {
  if (!tenant || !printer_id || !id) return STORE_NOT_FOUND;
  trig_arg_t a = {.tenant = tenant, .printer_id = printer_id, .id = id};
  return store_rc(db_write(st->db, trig_delete_fn, &a));
}

/* ---- print tasks ------------------------------------------------------------------------ */

static const store_qfield_t TASK_FIELDS[] = {
    {"id", "t.id", STORE_QT_STRING, true, true, true, NULL},
    {"status/state",
     "(CASE t.state WHEN 0 THEN 'pending' WHEN 1 THEN 'processing' WHEN 2 THEN 'completed'"
     " WHEN 3 THEN 'aborted' ELSE 'unknownFutureValue' END)",
     STORE_QT_ENUM, true, false, true, &ENUM_PRINT_TASK_PROCESSING_STATE},
    {"status/description", "t.description", STORE_QT_STRING, true, true, true, NULL},
};

/* Fills *t from a STORE_TASK_COLS row; see tasks-private.h. */
void store_task_from_row(db_stmt_t *s, void *item) {
  store_task_t *t = item;
  memset(t, 0, sizeof *t);
  t->id = store_col_strdup(s, 0, true);
  t->tenant = store_col_strdup(s, 1, true);
  t->definition_id = store_col_strdup(s, 2, true);
  t->trigger_id = store_col_strdup(s, 3, false);
  t->trigger_app = store_col_strdup(s, 4, true);
  t->job_id = db_col_int64(s, 5);
  t->printer_id = store_col_strdup(s, 6, true);
  t->state = (int)db_col_int64(s, 7);
  t->description = store_col_strdup(s, 8, true);
  t->created_us = db_col_int64(s, 9);
  t->updated_us = db_col_int64(s, 10);
}

typedef struct task_arg {
  const char  *tenant, *definition_id, *id;
  int64_t      job_id;     /* > 0: the task must be this job's */
  store_task_t out;
} task_arg_t;

static int task_get_fn(db_conn_t *c, void *arg) {
  task_arg_t *a = arg;
  store_task_clear(&a->out);
  db_stmt_t *s = db_prepare(c, "SELECT " STORE_TASK_COLS " FROM tasks t"
                               " WHERE t.id = ? AND t.tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->id);
  db_bind_text(s, 2, a->tenant);
  int rc = store_step_row(s, store_task_from_row, &a->out);
  if (rc != 0) return rc;
  if ((a->definition_id && strcmp(a->out.definition_id, a->definition_id) != 0) ||
      (a->job_id > 0 && a->out.job_id != a->job_id)) {
    store_task_clear(&a->out);
    return STORE_NOT_FOUND;
  }
  return 0;
}

/* Reads a task under a definition; see tasks.h. */
store_rc_t store_task_get(store_t *st, const char *tenant, const char *definition_id,
                          const char *id, store_task_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !id) return STORE_NOT_FOUND;
  task_arg_t a = {.tenant = tenant, .definition_id = definition_id, .id = id};
  store_rc_t rc = store_rc(db_read(st->db, task_get_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_task_clear(&a.out);
  return rc;
}

/* Reads a task of a job; see tasks.h. */
store_rc_t store_job_task_get(store_t *st, const char *tenant, int64_t job_id, const char *id,
                              store_task_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !id || job_id <= 0) return STORE_NOT_FOUND;
  task_arg_t a = {.tenant = tenant, .job_id = job_id, .id = id};
  store_rc_t rc = store_rc(db_read(st->db, task_get_fn, &a));
  if (rc == STORE_OK) *out = a.out;
  else store_task_clear(&a.out);
  return rc;
}

typedef struct task_list_cb {
  int (*fn)(const store_task_t *t, void *arg);
  void *arg;
} task_list_cb_t;

static int task_list_row(db_stmt_t *s, void *arg) {
  task_list_cb_t *cb = arg;
  store_task_t t;
  store_task_from_row(s, &t);
  int rc = cb->fn(&t, cb->arg);
  store_task_clear(&t);
  return rc;
}

/* Lists a definition's tasks; see tasks.h. */
store_rc_t store_task_list(store_t *st, const char *tenant, const char *definition_id,
                           const query_t *q, int (*fn)(const store_task_t *t, void *arg),
                           void *arg, char **next, char **err) {
  task_list_cb_t cb = {fn, arg};
  list_arg_t a = {.q = q, .fields = TASK_FIELDS,
                  .nfields = sizeof TASK_FIELDS / sizeof TASK_FIELDS[0], .cols = STORE_TASK_COLS,
                  .ncols = STORE_TASK_NCOLS, .from = "tasks t",
                  .where = "t.tenant_id = ? AND t.definition_id = ?",
                  .binds = {tenant, definition_id}, .nbinds = 2, .row = task_list_row,
                  .row_arg = &cb};
  return run_list(st, &a, next, err);
}

/* ---- trigger firing --------------------------------------------------------------------- */

/* The absolute URL of a job; see tasks-private.h. */
char *store_job_url(const char *public_url, const char *printer_id, int64_t job_id) {
  buf_t b = BUF_INIT;
  const char *base = public_url ? public_url : "";
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/') n--;
  buf_append(&b, base, n);
  buf_printf(&b, "/v1.0/print/printers/%s/jobs/%" PRId64, printer_id, job_id);
  return buf_detach(&b);
}

/* Fires a printer's trigger for a job; see tasks-private.h. */
int store_trigger_fire(db_conn_t *c, const char *tenant, const char *printer_id, int64_t job_id,
                       const char *public_url, int64_t now_us, char **task_id,
                       char **definition_id) {
  if (task_id) *task_id = NULL;
  if (definition_id) *definition_id = NULL;
  db_stmt_t *s = db_prepare(c, "SELECT id, definition_id, created_by_app FROM task_triggers"
                               " WHERE printer_id = ? AND tenant_id = ? AND event = 0");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, printer_id);
  db_bind_text(s, 2, tenant);
  int rc = db_step(s);
  char *trigger = NULL, *def = NULL, *app = NULL;
  if (rc == DB_ROW) {
    trigger = store_col_strdup(s, 0, true);
    def = store_col_strdup(s, 1, true);
    app = store_col_strdup(s, 2, true);
  }
  db_reset(s);
  if (rc == DB_DONE) return 0; /* no trigger: nothing to do */
  if (rc != DB_ROW) return DB_ERROR;

  char id[ID_GUID_LEN + 1];
  id_guid_ordered(id);
  s = db_prepare(c, "INSERT INTO tasks (id, tenant_id, definition_id, trigger_id, trigger_app,"
                    " job_id, printer_id, state, description, created_us, updated_us)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s) rc = DB_ERROR;
  else {
    db_bind_text(s, 1, id);
    db_bind_text(s, 2, tenant);
    db_bind_text(s, 3, def);
    db_bind_text(s, 4, trigger);
    db_bind_text(s, 5, app);
    db_bind_int64(s, 6, job_id);
    db_bind_text(s, 7, printer_id);
    db_bind_int64(s, 8, TASK_PROCESSING);
    db_bind_text(s, 9, TASK_PROCESSING_DESCRIPTION);
    db_bind_int64(s, 10, now_us);
    db_bind_int64(s, 11, now_us);
    rc = db_step(s) == DB_DONE ? 0 : DB_ERROR;
    db_reset(s);
  }
  if (rc == 0) {
    char *parent = store_job_url(public_url, printer_id, job_id);
    rc = store_outbox_task_created(c, tenant, def, id, parent);
    free(parent);
  }
  if (rc == 0) {
    if (task_id) *task_id = xstrdup(id);
    if (definition_id) {
      *definition_id = def;
      def = NULL;
    }
  }
  free(trigger);
  free(def);
  free(app);
  return rc;
}

/* ---- a job's tasks (tasks-private.h) ------------------------------------------------------ */

/* See tasks-private.h. */
int store_task_job_processing(db_conn_t *c, const char *tenant, int64_t job_id, char ***ids,
                              char ***defs, size_t *n) {
  *ids = *defs = NULL;
  *n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT id, definition_id FROM tasks"
                               " WHERE job_id = ? AND tenant_id = ? AND state = ? ORDER BY id");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, job_id);
  db_bind_text(s, 2, tenant);
  db_bind_int64(s, 3, TASK_PROCESSING);
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    *ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
    *defs = xrealloc(*defs, (*n + 1) * sizeof **defs);
    (*ids)[*n] = store_col_strdup(s, 0, true);
    (*defs)[*n] = store_col_strdup(s, 1, true);
    (*n)++;
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* See tasks-private.h. */
int store_task_job_abort_all(db_conn_t *c, const char *tenant, int64_t job_id,
                             const char *description, int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE tasks SET state = ?, description = ?, updated_us = ?"
                               " WHERE job_id = ? AND tenant_id = ? AND state = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, TASK_ABORTED);
  db_bind_text(s, 2, description);
  db_bind_int64(s, 3, now);
  db_bind_int64(s, 4, job_id);
  db_bind_text(s, 5, tenant);
  db_bind_int64(s, 6, TASK_PROCESSING);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}
