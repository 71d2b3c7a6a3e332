/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print usage reports and archived print jobs (store/reports.h): one aggregate query over the
 * terminal jobs still listed and the archive, compiled with the OData query of the request.
 */
#include "store/reports.h"
#include "core/enums.h"
#include "core/job.h"
#include "store/jobs-private.h"
#include "store/query.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_US   INT64_C(86400000000)

/* ---- usage records -------------------------------------------------------------------------- */

/* The counted jobs of a tenant within [lo, hi) of usage_day: the listed ones, then the
 * archived ones. Binds: tenant, lo, hi, tenant, lo, hi. */
#define USAGE_JOBS                                                                                \
  "SELECT j.printer_id AS printer_id, p.display_name AS printer_name, j.created_by_upn AS upn,"  \
  " LOWER(COALESCE(j.created_by_upn, '')) AS upn_lc, j.usage_day AS usage_day,"                   \
  " j.usage_month AS usage_month, j.state AS state, j.is_color AS is_color,"                     \
  " j.is_duplex AS is_duplex, j.impressions_completed AS pages"                                  \
  " FROM jobs j LEFT JOIN printers p ON p.id = j.printer_id"                                     \
  " WHERE j.tenant_id = ? AND j.usage_day IS NOT NULL AND j.usage_day >= ? AND j.usage_day < ?"  \
  " UNION ALL"                                                                                   \
  " SELECT a.printer_id, a.printer_name, a.created_by_upn, LOWER(COALESCE(a.created_by_upn, '')),"\
  " a.usage_day, a.usage_month, a.state, a.is_color, a.is_duplex, a.page_count"                  \
  " FROM archived_jobs a"                                                                        \
  " WHERE a.tenant_id = ? AND a.usage_day IS NOT NULL AND a.usage_day >= ? AND a.usage_day < ?"

/* The records, grouped by key and day or month; rid orders them by date, then key. The three
 * '?' of the sums are the completed state; then USAGE_JOBS's. */
#define USAGE_FROM(KEY, BUCKET)                                                                   \
  "(SELECT x.*, CAST(x.usage_us AS TEXT) || '_' || x.k AS rid FROM ("                             \
  "SELECT " KEY " AS k, MAX(u.printer_name) AS printer_name, MAX(u.upn) AS upn,"                  \
  " " BUCKET " AS usage_us,"                                                                      \
  " CAST(SUM(CASE WHEN u.state = ? AND COALESCE(u.is_color, 0) = 0 THEN 1 ELSE 0 END) AS BIGINT)" \
  " AS bw_jobs,"                                                                                 \
  " CAST(SUM(CASE WHEN u.state = ? AND u.is_color = 1 THEN 1 ELSE 0 END) AS BIGINT) AS color_jobs,"\
  " CAST(SUM(CASE WHEN u.state <> ? THEN 1 ELSE 0 END) AS BIGINT) AS incomplete_jobs,"            \
  " CAST(SUM(COALESCE(u.pages, 0)) AS BIGINT) AS pages,"                                          \
  " CAST(SUM(CASE WHEN u.is_color = 1 THEN COALESCE(u.pages, 0) ELSE 0 END) AS BIGINT)"           \
  " AS color_pages,"                                                                             \
  " CAST(SUM(CASE WHEN u.is_duplex = 1 THEN (COALESCE(u.pages, 0) + 1) / 2 ELSE 0 END) AS BIGINT)"\
  " AS duplex_sheets,"                                                                           \
  " CAST(SUM(CASE WHEN COALESCE(u.is_duplex, 0) = 0 THEN COALESCE(u.pages, 0) ELSE 0 END)"        \
  " AS BIGINT) AS simplex_sheets"                                                                \
  " FROM (" USAGE_JOBS ") u GROUP BY " KEY ", " BUCKET ") x) r"

static const char *const USAGE_FROM_SQL[] = {
  [STORE_USAGE_DAILY_BY_PRINTER] = USAGE_FROM("COALESCE(u.printer_id, '')", "u.usage_day"),
  [STORE_USAGE_MONTHLY_BY_PRINTER] = USAGE_FROM("COALESCE(u.printer_id, '')", "u.usage_month"),
  [STORE_USAGE_DAILY_BY_USER] = USAGE_FROM("u.upn_lc", "u.usage_day"),
  [STORE_USAGE_MONTHLY_BY_USER] = USAGE_FROM("u.upn_lc", "u.usage_month"),
};

#define USAGE_COLS                                                                                \
  "r.k, r.printer_name, r.upn, r.usage_us, r.bw_jobs, r.color_jobs, r.incomplete_jobs, r.pages," \
  " r.color_pages, r.duplex_sheets, r.simplex_sheets"
#define USAGE_NCOLS 11

#define COUNT_FIELDS                                                                              \
  {"completedBlackAndWhiteJobCount", "r.bw_jobs", STORE_QT_INT64, true, true, true, NULL},        \
  {"completedColorJobCount", "r.color_jobs", STORE_QT_INT64, true, true, true, NULL},             \
  {"incompleteJobCount", "r.incomplete_jobs", STORE_QT_INT64, true, true, true, NULL},            \
  {"completedJobCount", "(r.bw_jobs + r.color_jobs)", STORE_QT_INT64, true, true, true, NULL},    \
  {"pageCount", "r.pages", STORE_QT_INT64, true, true, true, NULL},                               \
  {"blackAndWhitePageCount", "(r.pages - r.color_pages)", STORE_QT_INT64, true, true, true, NULL},\
  {"colorPageCount", "r.color_pages", STORE_QT_INT64, true, true, true, NULL},                    \
  {"mediaSheetCount", "(r.duplex_sheets + r.simplex_sheets)", STORE_QT_INT64, true, true, true,   \
   NULL},                                                                                         \
  {"doubleSidedSheetCount", "r.duplex_sheets", STORE_QT_INT64, true, true, true, NULL},           \
  {"singleSidedSheetCount", "r.simplex_sheets", STORE_QT_INT64, true, true, true, NULL}

static const store_qfield_t PRINTER_FIELDS[] = {
  {"id", "r.rid", STORE_QT_STRING, false, true, true, NULL},
  {"usageDate", "r.usage_us", STORE_QT_DATETIME, true, true, true, NULL},
  {"printerId", "r.k", STORE_QT_STRING, true, true, true, NULL},
  {"printerName", "r.printer_name", STORE_QT_STRING, true, true, false, NULL},
  COUNT_FIELDS,
};

static const store_qfield_t USER_FIELDS[] = {
  {"id", "r.rid", STORE_QT_STRING, false, true, true, NULL},
  {"usageDate", "r.usage_us", STORE_QT_DATETIME, true, true, true, NULL},
  {"userPrincipalName", "r.k", STORE_QT_STRING, true, true, true, NULL},
  COUNT_FIELDS,
};

void store_usage_clear(store_usage_t *u) {
  if (!u) return;
  free(u->key);
  free(u->printer_name);
  free(u->upn);
  memset(u, 0, sizeof *u);
}

void store_usages_free(store_usage_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_usage_clear(&v[i]);
  free(v);
}

static int completed_state(void) {
  return enum_lookup(&ENUM_PRINT_JOB_PROCESSING_STATE, "completed", true);
}

#define USAGE_NFROM 9 /* the '?' of USAGE_FROM */

/* The values of the '?' of USAGE_FROM, in order, into v (they borrow tenant). */
static void usage_from_values(query_value_t v[USAGE_NFROM], const char *tenant, int64_t lo,
                              int64_t hi) {
  int completed = completed_state();
  size_t i = 0;
  for (int k = 0; k < 3; k++) v[i++] = (query_value_t){.type = QUERY_VAL_INT64, .u.i = completed};
  for (int k = 0; k < 2; k++) {
    v[i++] = (query_value_t){.type = QUERY_VAL_STRING, .u.s = (char *)tenant};
    v[i++] = (query_value_t){.type = QUERY_VAL_INT64, .u.i = lo};
    v[i++] = (query_value_t){.type = QUERY_VAL_INT64, .u.i = hi};
  }
}

/* Binds the '?' of USAGE_FROM from idx on; returns the next index. */
static int bind_usage_from(db_stmt_t *s, int idx, const char *tenant, int64_t lo, int64_t hi) {
  query_value_t v[USAGE_NFROM];
  usage_from_values(v, tenant, lo, hi);
  for (size_t i = 0; i < USAGE_NFROM; i++) store_query_bind_value(s, idx++, &v[i]);
  return idx;
}

static void read_usage(db_stmt_t *s, void *item) {
  store_usage_t *u = item;
  u->key = store_col_strdup(s, 0, true);
  u->printer_name = store_col_strdup(s, 1, false);
  u->upn = store_col_strdup(s, 2, false);
  u->usage_us = db_col_int64(s, 3);
  u->bw_jobs = db_col_int64(s, 4);
  u->color_jobs = db_col_int64(s, 5);
  u->incomplete_jobs = db_col_int64(s, 6);
  u->pages = db_col_int64(s, 7);
  u->color_pages = db_col_int64(s, 8);
  u->duplex_sheets = db_col_int64(s, 9);
  u->simplex_sheets = db_col_int64(s, 10);
}

typedef struct {
  const char          *tenant;
  store_usage_kind_t   kind;
  const store_query_t *cq;      /* its total points at .total when the caller wants one */
  store_usage_t       *out;
  size_t               n;
  int64_t              total;
  char                *next;
} usage_list_arg_t;

static void usage_list_reset(usage_list_arg_t *a) {
  store_usages_free(a->out, a->n);
  a->out = NULL;
  a->n = 0;
  a->total = 0;
  free(a->next);
  a->next = NULL;
}

static int usage_list_fn(db_conn_t *c, void *arg) {
  usage_list_arg_t *a = arg;
  usage_list_reset(a);
  query_value_t base[USAGE_NFROM];
  usage_from_values(base, a->tenant, INT64_MIN, INT64_MAX);
  store_list_sql_t l = {USAGE_COLS, USAGE_NCOLS, USAGE_FROM_SQL[a->kind], NULL, base,
                        USAGE_NFROM};
  return store_query_list_items(c, a->cq, &l, sizeof *a->out, read_usage, (void **)&a->out,
                                &a->n, &a->next);
}

/* Lower-cases the string literals compared with userPrincipalName (keys are lower-cased). */
static void lower_upn_literals(query_filter_t *f) {
  if (!f) return;
  if (f->kind == QUERY_F_CMP && f->value.type == QUERY_VAL_STRING && f->value.u.s &&
      query_path_equals(&f->path, "userPrincipalName"))
    for (char *p = f->value.u.s; *p; p++) *p = (char)tolower((unsigned char)*p);
  for (size_t i = 0; i < f->nkids; i++) lower_upn_literals(f->kids[i]);
}

/* See reports.h. */
store_rc_t store_usage_list(store_t *st, const char *tenant, store_usage_kind_t kind, query_t *q,
                            int64_t max_page, store_usage_t **out, size_t *n, int64_t *total,
                            char **next, char **err) {
  *out = NULL;
  *n = 0;
  *next = NULL;
  *err = NULL;
  if (total) *total = 0;
  bool by_user = store_usage_by_user(kind);
  if (by_user) lower_upn_literals(q->filter);
  store_query_t cq;
  char msg[512];
  if (store_query_compile(q, by_user ? USER_FIELDS : PRINTER_FIELDS,
                          by_user ? COUNT(USER_FIELDS) : COUNT(PRINTER_FIELDS), "id", max_page, &cq,
                          msg, sizeof msg) != 0) {
    *err = xstrdup(msg);
    return STORE_INVALID;
  }
  usage_list_arg_t a = {.tenant = tenant, .kind = kind, .cq = &cq};
  cq.total = total ? &a.total : NULL;  /* counted when the caller asks, whatever q says */
  store_rc_t rc = store_rc(db_read(st->db, usage_list_fn, &a));
  store_query_clear(&cq);
  if (rc != STORE_OK) {
    usage_list_reset(&a);
    return rc;
  }
  *out = a.out;
  *n = a.n;
  *next = a.next;
  if (total) *total = a.total;
  return STORE_OK;
}

typedef struct {
  const char        *tenant;
  store_usage_kind_t kind;
  int64_t            usage_us;
  const char        *key;
  store_usage_t     *out;
} usage_get_arg_t;

static int usage_get_fn(db_conn_t *c, void *arg) {
  usage_get_arg_t *a = arg;
  store_usage_clear(a->out);
  int64_t hi = store_usage_monthly(a->kind) ? time_month_start_us(a->usage_us + 32 * DAY_US)
                                            : a->usage_us + DAY_US;
  buf_t sql = BUF_INIT;
  buf_printf(&sql, "SELECT " USAGE_COLS " FROM %s WHERE r.usage_us = ? AND r.k = ?",
             USAGE_FROM_SQL[a->kind]);
  db_stmt_t *s = db_prepare(c, sql.data);
  buf_free(&sql);
  if (!s) return DB_ERROR;
  int idx = bind_usage_from(s, 1, a->tenant, a->usage_us, hi);
  db_bind_int64(s, idx++, a->usage_us);
  db_bind_text(s, idx, a->key);
  return store_step_row(s, read_usage, a->out);
}

/* See reports.h. */
store_rc_t store_usage_get(store_t *st, const char *tenant, store_usage_kind_t kind,
                           int64_t usage_us, const char *key, store_usage_t *out) {
  memset(out, 0, sizeof *out);
  char *k = xstrdup(key ? key : "");
  if (store_usage_by_user(kind))
    for (char *p = k; *p; p++) *p = (char)tolower((unsigned char)*p);
  usage_get_arg_t a = {.tenant = tenant, .kind = kind, .usage_us = usage_us, .key = k, .out = out};
  store_rc_t rc = store_rc(db_read(st->db, usage_get_fn, &a));
  free(k);
  if (rc != STORE_OK) store_usage_clear(out);
  return rc;
}

/* ---- archived print jobs -------------------------------------------------------------------- */

/* Terminal jobs, listed and archived, of a tenant completed within [lo, hi] and matching WHO
 * (a condition on alias x with one '?'). Binds: tenant, 3 terminal phases, lo, hi, who, then
 * tenant, lo, hi, who. */
#define ARCHIVE_FROM(WHO_J, WHO_A)                                                                \
  "(SELECT j.id AS id, j.printer_id AS printer_id, p.display_name AS printer_name,"             \
  " j.state AS state, j.phase AS phase, j.created_us AS created_us,"                            \
  " j.acknowledged_us AS acquired_us, j.completed_us AS completed_us,"                          \
  " j.is_acquired AS acquired, -1 AS copies, j.configuration AS configuration,"                 \
  " j.created_by_id AS by_id, j.created_by_upn AS by_upn, j.created_by_name AS by_name,"        \
  " j.created_by_ip AS by_ip, j.impressions_completed AS pages, j.is_color AS is_color,"        \
  " j.is_duplex AS is_duplex"                                                                   \
  " FROM jobs j LEFT JOIN printers p ON p.id = j.printer_id"                                    \
  " WHERE j.tenant_id = ? AND j.completed_us IS NOT NULL AND j.phase IN (?, ?, ?)"              \
  " AND j.completed_us >= ? AND j.completed_us <= ? AND " WHO_J                                 \
  " UNION ALL"                                                                                  \
  " SELECT a.id, a.printer_id, a.printer_name, a.state, -1, a.created_us, a.acquired_us,"      \
  " a.completed_us, a.acquired, a.copies_printed, NULL, a.created_by_id, a.created_by_upn,"     \
  " a.created_by_name, NULL, a.page_count, a.is_color, a.is_duplex"                             \
  " FROM archived_jobs a"                                                                       \
  " WHERE a.tenant_id = ? AND a.completed_us >= ? AND a.completed_us <= ? AND " WHO_A ") r"

static const char *const ARCHIVE_FROM_SQL[] = {
  [STORE_ARCHIVE_BY_PRINTER] = ARCHIVE_FROM("j.printer_id = ?", "a.printer_id = ?"),
  [STORE_ARCHIVE_BY_USER] = ARCHIVE_FROM("j.created_by_id = ?", "a.created_by_id = ?"),
  [STORE_ARCHIVE_BY_GROUP] = ARCHIVE_FROM("j.created_by_groups LIKE ?",
                                          "a.created_by_groups LIKE ?"),
};

#define ARCHIVE_COLS                                                                              \
  "r.id, r.printer_id, r.printer_name, r.state, r.phase, r.created_us, r.acquired_us,"          \
  " r.completed_us, r.acquired, r.copies, r.configuration, r.by_id, r.by_upn, r.by_name,"       \
  " r.by_ip, r.pages, r.is_color, r.is_duplex"
#define ARCHIVE_NCOLS 18

static const store_qfield_t ARCHIVE_FIELDS[] = {
  {"id", "r.id", STORE_QT_INT64, false, true, true, NULL},
};

void store_archived_jobs_free(store_archived_job_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].printer_id);
    free(v[i].printer_name);
    free(v[i].by_id);
    free(v[i].by_upn);
    free(v[i].by_name);
    free(v[i].by_ip);
  }
  free(v);
}

typedef struct {
  const char           *tenant;
  store_archive_by_t    by;
  const char           *who;
  int64_t               lo, hi;
  const store_query_t  *cq;
  store_archived_job_t *out;
  size_t                n;
  char                 *next;
} archive_arg_t;

static void archive_reset(archive_arg_t *a) {
  store_archived_jobs_free(a->out, a->n);
  a->out = NULL;
  a->n = 0;
  free(a->next);
  a->next = NULL;
}

static void read_archived(db_stmt_t *s, store_archived_job_t *j) {
  j->id = db_col_int64(s, 0);
  j->printer_id = store_col_strdup(s, 1, false);
  j->printer_name = store_col_strdup(s, 2, false);
  j->state = (int)db_col_int64(s, 3);
  j->created_us = db_col_int64(s, 5);
  j->acquired_us = store_col_i64_or(s, 6, 0);
  j->completed_us = db_col_int64(s, 7);
  j->acquired = db_col_int64(s, 8) != 0;
  int64_t copies = db_col_int64(s, 9);
  j->copies_printed = copies >= 0 ? copies
                                  : store_copies_printed((job_phase_t)db_col_int64(s, 4),
                                                         db_col_text(s, 10));
  j->by_id = store_col_strdup(s, 11, false);
  j->by_upn = store_col_strdup(s, 12, false);
  j->by_name = store_col_strdup(s, 13, false);
  j->by_ip = store_col_strdup(s, 14, false);
  j->pages = store_col_i64_or(s, 15, 0);
  j->color = store_col_i64_or(s, 16, 0) == 1;
  j->duplex = store_col_i64_or(s, 17, 0) == 1;
}

static void archived_row(db_stmt_t *s, void *item) { read_archived(s, item); }

static int archive_fn(db_conn_t *c, void *arg) {
  archive_arg_t *a = arg;
  archive_reset(a);
  char *pattern = NULL;
  const char *who = a->who;
  if (a->by == STORE_ARCHIVE_BY_GROUP) {
    size_t len = strlen(a->who) + 5;
    pattern = xmalloc(len);
    snprintf(pattern, len, "%%\"%s\"%%", a->who);
    who = pattern;
  }
#define TEXT(v) {.type = QUERY_VAL_STRING, .u.s = (char *)(v)}
#define INT(v) {.type = QUERY_VAL_INT64, .u.i = (v)}
  query_value_t base[] = {TEXT(a->tenant), INT(JOB_COMPLETED), INT(JOB_CANCELED),
                          INT(JOB_ABORTED), INT(a->lo), INT(a->hi), TEXT(who),
                          TEXT(a->tenant), INT(a->lo), INT(a->hi), TEXT(who)};
#undef TEXT
#undef INT
  store_list_sql_t l = {ARCHIVE_COLS, ARCHIVE_NCOLS, ARCHIVE_FROM_SQL[a->by], NULL, base,
                        sizeof base / sizeof base[0]};
  int rc = store_query_list_items(c, a->cq, &l, sizeof *a->out, archived_row, (void **)&a->out,
                                  &a->n, &a->next);
  free(pattern);
  return rc;
}

/* See reports.h. */
store_rc_t store_archived_jobs(store_t *st, const char *tenant, store_archive_by_t by,
                               const char *who, int64_t start_us, int64_t end_us, query_t *q,
                               int64_t max_page, store_archived_job_t **out, size_t *n,
                               char **next, char **err) {
  *out = NULL;
  *n = 0;
  *next = NULL;
  *err = NULL;
  /* a group id is matched inside JSON text with LIKE: no wildcard or quote may reach it */
  if (by == STORE_ARCHIVE_BY_GROUP && strpbrk(who, "%_\"\\")) return STORE_OK;
  store_query_t cq;
  char msg[512];
  if (store_query_compile(q, ARCHIVE_FIELDS, COUNT(ARCHIVE_FIELDS), "id", max_page, &cq, msg,
                          sizeof msg) != 0) {
    *err = xstrdup(msg);
    return STORE_INVALID;
  }
  cq.total = NULL;  /* the archived-job functions answer no count */
  archive_arg_t a = {.tenant = tenant, .by = by, .who = who, .lo = start_us, .hi = end_us,
                     .cq = &cq};
  store_rc_t rc = store_rc(db_read(st->db, archive_fn, &a));
  store_query_clear(&cq);
  if (rc != STORE_OK) {
    archive_reset(&a);
    return rc;
  }
  *out = a.out;
  *n = a.n;
  *next = a.next;
  return STORE_OK;
}
