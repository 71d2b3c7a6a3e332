/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiles a parsed OData query (core/query.h) into SQL for one resource:
 * the $filter as a boolean expression with '?' placeholders and typed bind
 * values, the ORDER BY (always ending with the unique id as tiebreaker), the
 * keyset condition that starts the page after a $skiptoken, and the page
 * size. Private to src/store, like db.h.
 *
 * The SQL uses only syntax SQLite (>= 3.30) and PostgreSQL share. NULLs sort
 * first ascending and last descending (written as NULLS FIRST / NULLS LAST on
 * nullable columns), so both backends order rows identically. The keyset
 * condition is the row-value comparison "(k1, ..., id) > (v1, ..., vid)"
 * expanded into an OR of ANDs (directions may be mixed), preceded by a plain
 * range bound on the first key so an index on (k1, ..., id) serves every page
 * at the same cost. $filter comparisons follow OData's two-valued logic:
 * `x ne 'a'` and `not (x gt 5)` match rows where x is NULL.
 *
 * Typical list function:
 *
 *   store_query_t cq;
 *   if (store_query_compile(q, JOB_FIELDS, n, "id", QUERY_PAGE_MAX, &cq, err, sizeof err))
 *     -> 400 invalidRequest / invalidQueryOption with err
 *   then inside its db_read closure:
 *   query_value_t base[] = {{.type = QUERY_VAL_STRING, .u.s = tenant},
 *                           {.type = QUERY_VAL_STRING, .u.s = printer}};
 *   store_list_sql_t l = {"j.id, j.state, ...", NCOLS, "jobs j",
 *                         "j.tenant = ? AND j.printer_id = ?", base, 2};
 *   rc = store_query_list_items(c, &cq, &l, sizeof *items, read_row, (void **)&items, &n,
 *                               &next);    next != NULL -> @odata.nextLink; $count when asked
 *   and after it: store_query_clear(&cq);
 */
#ifndef SPOOLD_STORE_QUERY_H
#define SPOOLD_STORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/enums.h"
#include "core/query.h"
#include "store/db.h"

typedef enum {
  STORE_QT_STRING,   /* text */
  STORE_QT_ENUM,     /* text holding an enum member name; eq / ne / in only */
  STORE_QT_INT64,    /* integer */
  STORE_QT_DOUBLE,   /* real */
  STORE_QT_BOOL,     /* integer 0/1 (not a boolean column); eq / ne only */
  STORE_QT_DATETIME, /* integer microseconds since the epoch, UTC */
} store_qtype_t;

/* A field whose sql is STORE_QF_JSON("p.location") reads a member of that JSON text column:
 * the member named by the field's path after its first segment ("location/building" ->
 * building), written in the database's dialect by db_sql_json_scalar (so such a field needs
 * store_query_compile_db). It may be filtered on, not sorted on. */
#define STORE_QF_JSON_PREFIX "json:"
#define STORE_QF_JSON(col)   STORE_QF_JSON_PREFIX col

/* A field whose sql is STORE_QF_JSON_ARRAY("p.capabilities") is a collection-valued member of
 * that JSON text column (the path after its first segment, as for STORE_QF_JSON): $filter
 * tests its elements with the lambda operators, path/any(x: x eq 'v') and path/all(x: ...),
 * the element having the field's type (and enum_def); comparing the collection itself is
 * refused. Read through db_sql_json_elements (so it needs store_query_compile_db). */
#define STORE_QF_JSON_ARRAY_PREFIX "jsonarray:"
#define STORE_QF_JSON_ARRAY(col)   STORE_QF_JSON_ARRAY_PREFIX col

/* A boolean field derived from an array member: STORE_QF_JSON_HAS("p.capabilities",
 * "colorModes", "color,auto") is null while capabilities/colorModes is absent or empty, true
 * when one of its elements is one of the listed values (plain words, no quotes), else false. */
#define STORE_QF_JSON_HAS_PREFIX "jsonhas:"
#define STORE_QF_JSON_HAS(col, member, values) STORE_QF_JSON_HAS_PREFIX col ":" member ":" values

/* The location/... and capabilities/... members of printerBase (printers and shares, with the
 * printer's row as p) that $filter may name: the scalar members of printerLocation and of
 * printerCapabilities, their collections (through any/all) and isColorPrintingSupported,
 * computed from colorModes as the printer's JSON computes it (graph/printers.c). */
#define STORE_PRINTER_BASE_JSON_QFIELDS                                                        \
  {"location/streetAddress", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/city", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL},   \
  {"location/postalCode", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/stateOrProvince", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/countryOrRegion", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/site", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL},   \
  {"location/building", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/floor", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL},  \
  {"location/floorDescription", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/roomName", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/roomDescription", STORE_QF_JSON("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/latitude", STORE_QF_JSON("p.location"), STORE_QT_DOUBLE, true, false, false, NULL}, \
  {"location/longitude", STORE_QF_JSON("p.location"), STORE_QT_DOUBLE, true, false, false, NULL}, \
  {"location/altitudeInMeters", STORE_QF_JSON("p.location"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/collation", STORE_QF_JSON("p.capabilities"), STORE_QT_BOOL, true, false, false, NULL}, \
  {"capabilities/isPageRangeSupported", STORE_QF_JSON("p.capabilities"), STORE_QT_BOOL, true, false, false, NULL}, \
  {"capabilities/supportsFitPdfToPage", STORE_QF_JSON("p.capabilities"), STORE_QT_BOOL, true, false, false, NULL}, \
  {"capabilities/copiesPerJob/start", STORE_QF_JSON("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/copiesPerJob/end", STORE_QF_JSON("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/isColorPrintingSupported", STORE_QF_JSON_HAS("p.capabilities", "colorModes", "color,auto"), \
   STORE_QT_BOOL, true, false, false, NULL}, \
  {"location/subunit", STORE_QF_JSON_ARRAY("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/organization", STORE_QF_JSON_ARRAY("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"location/subdivision", STORE_QF_JSON_ARRAY("p.location"), STORE_QT_STRING, true, false, false, NULL}, \
  {"capabilities/bottomMargins", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/topMargins", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/leftMargins", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/rightMargins", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/dpis", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/pagesPerSheet", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_INT64, true, false, false, NULL}, \
  {"capabilities/contentTypes", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_STRING, true, false, false, NULL}, \
  {"capabilities/inputBins", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_STRING, true, false, false, NULL}, \
  {"capabilities/mediaColors", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_STRING, true, false, false, NULL}, \
  {"capabilities/mediaTypes", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_STRING, true, false, false, NULL}, \
  {"capabilities/outputBins", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_STRING, true, false, false, NULL}, \
  {"capabilities/colorModes", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_COLOR_MODE}, \
  {"capabilities/duplexModes", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_DUPLEX_MODE}, \
  {"capabilities/feedOrientations", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINTER_FEED_ORIENTATION}, \
  {"capabilities/finishings", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_FINISHING}, \
  {"capabilities/mediaSizes", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_MEDIA_SIZE}, \
  {"capabilities/multipageLayouts", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_MULTIPAGE_LAYOUT}, \
  {"capabilities/orientations", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_ORIENTATION}, \
  {"capabilities/qualities", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_QUALITY}, \
  {"capabilities/scalings", STORE_QF_JSON_ARRAY("p.capabilities"), STORE_QT_ENUM, true, false, false, &ENUM_PRINT_SCALING}

/* One queryable property of a resource. Field maps are static tables in the store modules;
 * sql is trusted text (never from a client). */
typedef struct store_qfield {
  const char       *path;       /* OData path ("createdBy/userPrincipalName"), any case */
  const char       *sql;        /* SQL expression: "j.created_by_upn" */
  store_qtype_t     type;
  bool              filterable; /* may appear in $filter */
  bool              sortable;   /* may appear in $orderby */
  bool              not_null;   /* the expression is never NULL: simpler, index-friendlier SQL */
  const enum_def_t *enum_def;   /* STORE_QT_ENUM: members accepted in $filter, or NULL for any */
} store_qfield_t;

/* A compiled query. Owns its strings and bind values; release with store_query_clear. */
typedef struct store_query {
  char          *filter;        /* boolean SQL of $filter alone, NULL when none */
  char          *where;         /* $filter AND the keyset condition, NULL when neither */
  char          *order_by;      /* "a DESC NULLS LAST, j.id ASC" (without ORDER BY) */
  char          *key_cols;      /* the sort key expressions "a, j.id", to select after the row */
  query_value_t *binds;         /* values of the '?' in where, in order ... */
  size_t         nbinds;
  size_t         nfilter_binds; /* ... of which the first nfilter_binds belong to filter */
  store_qtype_t  key_types[QUERY_MAX_KEYS];
  size_t         nkeys;
  int64_t        limit;         /* rows per page (may be 0: then no row and no nextLink) */
  int64_t        offset;        /* $skip; 0 when a $skiptoken gives the position */
  uint64_t       fingerprint;   /* of the query, for the next page token */
  int64_t       *total;         /* the query's count output (q->count and q->total), or NULL */
} store_query_t;

/* Compiles q for the resource described by fields[0..nfields). id_path names the field that
 * is the resource's unique key (not_null), used as the last sort key. max_page caps the page
 * size (QUERY_PAGE_MAX, or less). Unknown, unfilterable or unsortable properties, type
 * mismatches, unknown enum members, and a $skiptoken whose keys do not fit this resource and
 * order fail: -1 with a message naming the option and property in err (a 400 for the client,
 * inner code invalidQueryOption). On success returns 0 and fills *out. */
int store_query_compile(const query_t *q, const store_qfield_t *fields, size_t nfields,
                        const char *id_path, int64_t max_page, store_query_t *out, char *err,
                        size_t errlen);
/* store_query_compile for a resource with STORE_QF_JSON fields: their SQL is written in db's
 * dialect (store_query_compile passes NULL: such fields are then refused as unfilterable). */
int store_query_compile_db(db_t *db, const query_t *q, const store_qfield_t *fields,
                           size_t nfields, const char *id_path, int64_t max_page,
                           store_query_t *out, char *err, size_t errlen);
/* Releases what a compiled query holds and zeroes it (clearing twice is harmless); the struct
 * is the caller's. */
void store_query_clear(store_query_t *cq);

/* "SELECT <cols>, <key_cols> FROM <from> [WHERE (<base_where>) AND (<where>)] ORDER BY
 * <order_by> LIMIT ? [OFFSET ?]". base_where may be NULL; its '?' come first. The key columns
 * follow cols, so they start at column index = number of columns in cols. Bind with
 * store_query_bind_select (the LIMIT is limit + 1: the extra row tells whether there is a
 * next page). Returns a malloc'd string. */
char *store_query_select_sql(const store_query_t *cq, const char *cols, const char *from,
                             const char *base_where);
/* "SELECT COUNT(*) FROM <from> [WHERE (<base_where>) AND (<filter>)]" for @odata.count (the
 * keyset condition and paging do not apply). Bind with store_query_bind_count. */
char *store_query_count_sql(const store_query_t *cq, const char *from, const char *base_where);

/* When the query asked for a count (cq->total not NULL), runs store_query_count_sql(cq, from,
 * base_where) with base_where's '?' bound from base[0..nbase) and writes the number to
 * *cq->total. Call it in the list's read closure, so the count and the page agree. Returns 0 or
 * DB_ERROR. */
int store_query_count(db_conn_t *c, const store_query_t *cq, const char *from,
                      const char *base_where, const query_value_t *base, size_t nbase);

/* Binds one value at idx (BOOL as 0/1, DATETIME as its microseconds). */
static inline void store_query_bind_value(db_stmt_t *s, int idx, const query_value_t *v) {
  switch (v->type) {
    case QUERY_VAL_NULL: db_bind_null(s, idx); break;
    case QUERY_VAL_STRING: db_bind_text(s, idx, v->u.s); break;
    case QUERY_VAL_INT64:
    case QUERY_VAL_DATETIME: db_bind_int64(s, idx, v->u.i); break;
    case QUERY_VAL_DOUBLE: db_bind_double(s, idx, v->u.d); break;
    case QUERY_VAL_BOOL: db_bind_int64(s, idx, v->u.b ? 1 : 0); break;
  }
}

/* Binds the values of a store_query_select_sql statement from index idx on (after the caller's
 * base_where values). Returns the next free index. */
static inline int store_query_bind_select(const store_query_t *cq, db_stmt_t *s, int idx) {
  for (size_t i = 0; i < cq->nbinds; i++) store_query_bind_value(s, idx++, &cq->binds[i]);
  db_bind_int64(s, idx++, cq->limit + 1);
  if (cq->offset > 0) db_bind_int64(s, idx++, cq->offset);
  return idx;
}

/* Binds the values of a store_query_count_sql statement from index idx on. */
static inline int store_query_bind_count(const store_query_t *cq, db_stmt_t *s, int idx) {
  for (size_t i = 0; i < cq->nfilter_binds; i++) store_query_bind_value(s, idx++, &cq->binds[i]);
  return idx;
}

/* The $skiptoken that continues after the current row of s, whose key columns start at
 * first_col. Returns a malloc'd token (caller frees), NULL if a key cannot be encoded. */
static inline char *store_query_row_token(const store_query_t *cq, db_stmt_t *s, int first_col) {
  query_value_t keys[QUERY_MAX_KEYS];
  for (size_t i = 0; i < cq->nkeys; i++) {
    int col = first_col + (int)i;
    query_value_t *k = &keys[i];
    k->type = QUERY_VAL_NULL;
    if (db_col_null(s, col)) continue;
    switch (cq->key_types[i]) {
      case STORE_QT_STRING:
      case STORE_QT_ENUM: k->type = QUERY_VAL_STRING; k->u.s = (char *)db_col_text(s, col); break;
      case STORE_QT_INT64: k->type = QUERY_VAL_INT64; k->u.i = db_col_int64(s, col); break;
      case STORE_QT_DATETIME: k->type = QUERY_VAL_DATETIME; k->u.i = db_col_int64(s, col); break;
      case STORE_QT_DOUBLE: k->type = QUERY_VAL_DOUBLE; k->u.d = db_col_double(s, col); break;
      case STORE_QT_BOOL: k->type = QUERY_VAL_BOOL; k->u.b = db_col_int64(s, col) != 0; break;
    }
    if (k->type == QUERY_VAL_STRING && !k->u.s) k->type = QUERY_VAL_NULL;
  }
  return query_pagetoken_encode(cq->fingerprint, keys, cq->nkeys);
}

/* One page of a list: steps s (a store_query_select_sql statement, bound with
 * store_query_bind_select, whose key columns start at column ncols) and calls row(s, arg) for
 * each of the first cq->limit rows; when a further row exists (the extra one the LIMIT
 * fetches), *next receives the $skiptoken after the last row read (malloc'd), else NULL (*next
 * is freed first). A non-zero return of row stops the page there, without a next token. Resets
 * s. Returns 0 or DB_ERROR. */
int store_query_page(const store_query_t *cq, db_stmt_t *s, int ncols,
                     int (*row)(db_stmt_t *s, void *arg), void *arg, char **next);

/* store_query_page into an array: each row is appended to *items (elements of elem bytes, grown
 * with xrealloc; *n of them, appended after any already there), zeroed and then filled by
 * read(s, item). The caller frees the array and its elements (also after an error). */
int store_query_page_items(const store_query_t *cq, db_stmt_t *s, int ncols, size_t elem,
                           void (*read)(db_stmt_t *s, void *item), void **items, size_t *n,
                           char **next);

/* What a list reads besides the query: the columns (ncols of them), the FROM clause and the
 * base condition (NULL for none) whose '?' are bound, in order, from base[0..nbase). */
typedef struct store_list_sql {
  const char          *cols;
  int                  ncols;
  const char          *from;
  const char          *where;
  const query_value_t *base;
  size_t               nbase;
} store_list_sql_t;

/* Inside a read transaction: one page of the list l under cq, the whole statement in one call:
 * store_query_select_sql, its base values and cq's bound, store_query_page with row(s, arg),
 * then store_query_count when cq asks for a count (so the page and the count agree). *next as
 * store_query_page leaves it. Returns 0 or DB_ERROR. */
int store_query_list(db_conn_t *c, const store_query_t *cq, const store_list_sql_t *l,
                     int (*row)(db_stmt_t *s, void *arg), void *arg, char **next);
/* store_query_list into an array, as store_query_page_items fills it (the caller frees the
 * array and its elements, also after an error). */
int store_query_list_items(db_conn_t *c, const store_query_t *cq, const store_list_sql_t *l,
                           size_t elem, void (*read)(db_stmt_t *s, void *item), void **items,
                           size_t *n, char **next);

#endif
