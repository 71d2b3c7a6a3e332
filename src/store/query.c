/* SPDX-License-Identifier: Apache-2.0 */
/* OData query -> SQL pieces (filter, order, keyset, paging) in the SQLite/PostgreSQL subset. */
#include "store/query.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct compiler {
  db_t                 *db;     /* for STORE_QF_JSON fields; may be NULL */
  const store_qfield_t *fields;
  size_t                nfields;
  buf_t                 sql;
  query_value_t        *binds;
  size_t                nbinds;
  char                 *err;
  size_t                errlen;
  const char           *lambda_var;  /* compiling a lambda's predicate: its variable ... */
  const store_qfield_t *lambda_elem; /* ... and the element it names */
  int                   naliases;    /* FROM items named so far (e1, e2, ...) */
} compiler_t;

static int cfail(compiler_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int cfail(compiler_t *c, const char *fmt, ...) {
  if (c->err && c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static void add_bind(compiler_t *c, query_value_t v) {
  c->binds = xrealloc(c->binds, (c->nbinds + 1) * sizeof *c->binds);
  c->binds[c->nbinds++] = v;
}

static const store_qfield_t *find_field(const compiler_t *c, const query_path_t *path) {
  for (size_t i = 0; i < c->nfields; i++)
    if (query_path_equals(path, c->fields[i].path)) return &c->fields[i];
  return NULL;
}

static bool has_prefix(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_json_field(const store_qfield_t *f) {
  return has_prefix(f->sql, STORE_QF_JSON_PREFIX) || has_prefix(f->sql, STORE_QF_JSON_HAS_PREFIX);
}

static bool is_array_field(const store_qfield_t *f) {
  return has_prefix(f->sql, STORE_QF_JSON_ARRAY_PREFIX);
}

/* Splits the member path "a/b/c" (in tmp, which it overwrites) into keys after skipping skip
 * segments. Returns the number of keys. */
static size_t member_keys(char *tmp, size_t skip, const char **keys) {
  size_t nkeys = 0;
  char *save = NULL;
  for (char *seg = strtok_r(tmp, "/", &save); seg && nkeys < QUERY_MAX_PATH_SEGS;
       seg = strtok_r(NULL, "/", &save)) {
    if (skip) skip--;
    else keys[nkeys++] = seg;
  }
  return nkeys;
}

static db_json_kind_t json_kind(store_qtype_t t) {
  return t == STORE_QT_BOOL     ? DB_JSON_BOOL
         : t == STORE_QT_DOUBLE ? DB_JSON_DOUBLE
         : t == STORE_QT_INT64  ? DB_JSON_INT
                                : DB_JSON_TEXT;
}

/* The elements of the JSON array member keys[0..nkeys) of col as a FROM item with a fresh
 * alias, and their value expression in *value (both the caller's), or NULL. */
static char *elements_sql(compiler_t *c, const char *col, const char **keys, size_t nkeys,
                          store_qtype_t type, char **value) {
  char alias[16];
  snprintf(alias, sizeof alias, "e%d", ++c->naliases);
  return db_sql_json_elements(c->db, col, keys, nkeys, json_kind(type), alias, value);
}

/* STORE_QF_JSON_HAS "col:member:v1,v2": null while the array member is absent or empty, else
 * 1 when one of its elements is one of the values, else 0. Caller frees; NULL without a db. */
static char *json_has_sql(compiler_t *c, const store_qfield_t *f) {
  char spec[256];
  snprintf(spec, sizeof spec, "%s", f->sql + strlen(STORE_QF_JSON_HAS_PREFIX));
  char *member = strchr(spec, ':');
  char *values = member ? strchr(member + 1, ':') : NULL;
  if (!values) return NULL;
  *member++ = '\0';
  *values++ = '\0';
  const char *keys[QUERY_MAX_PATH_SEGS];
  size_t nkeys = member_keys(member, 0, keys);
  char *v1 = NULL, *v2 = NULL;
  char *all = elements_sql(c, spec, keys, nkeys, STORE_QT_STRING, &v1);
  char *some = elements_sql(c, spec, keys, nkeys, STORE_QT_STRING, &v2);
  char *out = NULL;
  if (all && some) {
    buf_t b = BUF_INIT;
    buf_printf(&b, "(CASE WHEN NOT EXISTS (SELECT 1 FROM %s) THEN NULL WHEN EXISTS (SELECT 1 "
                   "FROM %s WHERE %s IN (", all, some, v2);
    char *save = NULL;
    int i = 0;
    for (char *v = strtok_r(values, ",", &save); v; v = strtok_r(NULL, ",", &save))
      buf_printf(&b, "%s'%s'", i++ ? ", " : "", v); /* trusted text from a static table */
    buf_puts(&b, ")) THEN 1 ELSE 0 END)");
    out = buf_detach(&b);
  }
  free(all);
  free(some);
  free(v1);
  free(v2);
  return out;
}

/* The SQL reading a STORE_QF_JSON (or STORE_QF_JSON_HAS) field's member in the database's
 * dialect (caller frees), or NULL when there is no database to write it for. */
static char *json_field_sql(compiler_t *c, const store_qfield_t *f) {
  if (has_prefix(f->sql, STORE_QF_JSON_HAS_PREFIX)) return json_has_sql(c, f);
  const char *keys[QUERY_MAX_PATH_SEGS];
  char        tmp[256];
  snprintf(tmp, sizeof tmp, "%s", f->path);
  size_t nkeys = member_keys(tmp, 1, keys); /* after the column's own name */
  return db_sql_json_scalar(c->db, f->sql + strlen(STORE_QF_JSON_PREFIX), keys, nkeys,
                            json_kind(f->type));
}

static const char *type_name(store_qtype_t t) {
  switch (t) {
    case STORE_QT_STRING: return "a string";
    case STORE_QT_ENUM: return "an enumeration";
    case STORE_QT_INT64: return "an integer";
    case STORE_QT_DOUBLE: return "a number";
    case STORE_QT_BOOL: return "a boolean";
    case STORE_QT_DATETIME: return "a date-time";
  }
  return "?";
}

/* The literal as it must be bound for field f, or -1 (message in c->err) when it does not fit. */
static int convert_literal(compiler_t *c, const store_qfield_t *f, const query_filter_t *n,
                           query_value_t *out) {
  const query_value_t *v = &n->value;
  *out = (query_value_t){.type = QUERY_VAL_NULL};
  if (v->type == QUERY_VAL_NULL) return 0;
  switch (f->type) {
    case STORE_QT_STRING:
      if (v->type == QUERY_VAL_STRING) goto copy;
      break;
    case STORE_QT_ENUM:
      if (v->type != QUERY_VAL_STRING) break;
      if (f->enum_def && enum_lookup(f->enum_def, v->u.s, true) < 0) {
        char members[512];
        enum_describe(f->enum_def, members, sizeof members);
        return cfail(c, "Invalid $filter: '%.60s' is not a valid value for '%s' (position %zu); "
                        "expected one of: %s", v->u.s, f->path, n->pos, members);
      }
      goto copy;
    case STORE_QT_INT64:
      if (v->type == QUERY_VAL_INT64) goto copy;
      break;
    case STORE_QT_DOUBLE:
      if (v->type == QUERY_VAL_DOUBLE) goto copy;
      if (v->type == QUERY_VAL_INT64) {
        out->type = QUERY_VAL_DOUBLE;
        out->u.d = (double)v->u.i;
        return 0;
      }
      break;
    case STORE_QT_BOOL:
      if (v->type == QUERY_VAL_BOOL) goto copy;
      break;
    case STORE_QT_DATETIME:
      if (v->type == QUERY_VAL_DATETIME) goto copy;
      /* A quoted ISO 8601 value is accepted too: it is unambiguous. */
      if (v->type == QUERY_VAL_STRING && time_parse_iso(v->u.s, &out->u.i)) {
        out->type = QUERY_VAL_DATETIME;
        return 0;
      }
      break;
  }
  if (n->implicit)
    return cfail(c, "Invalid $filter: property '%s' (position %zu) is not a boolean; compare it "
                    "with a value", f->path, n->pos);
  return cfail(c, "Invalid $filter: property '%s' is %s and cannot be compared with the %s "
                  "literal (position %zu)", f->path, type_name(f->type),
               query_vtype_name(v->type), n->pos);
copy:
  *out = query_value_copy(v);
  return 0;
}

static query_op_t negate(query_op_t op) {
  switch (op) {
    case QUERY_OP_STARTSWITH:
    case QUERY_OP_ENDSWITH:
    case QUERY_OP_CONTAINS: return op; /* negated in compile_function */
    case QUERY_OP_EQ: return QUERY_OP_NE;
    case QUERY_OP_NE: return QUERY_OP_EQ;
    case QUERY_OP_GT: return QUERY_OP_LE;
    case QUERY_OP_GE: return QUERY_OP_LT;
    case QUERY_OP_LT: return QUERY_OP_GE;
    case QUERY_OP_LE: return QUERY_OP_GT;
  }
  return op;
}

/* ASCII letters folded to lower case by the same SQL on SQLite and PostgreSQL (their lower()
 * differ beyond ASCII), so both give the same answers. */
static void put_folded(buf_t *b, const char *expr) {
  for (char c = 'A'; c <= 'Z'; c++) buf_puts(b, "replace(");
  buf_puts(b, expr);
  for (char c = 'A'; c <= 'Z'; c++) buf_printf(b, ", '%c', '%c')", c, c - 'A' + 'a');
}

static bool is_function(query_op_t op) {
  return op == QUERY_OP_STARTSWITH || op == QUERY_OP_ENDSWITH || op == QUERY_OP_CONTAINS;
}

/* startswith / endswith / contains as LIKE over the folded column and a folded, escaped
 * pattern ('!' escapes %, _ and itself). Under `not`, a NULL property matches. */
static int compile_function(compiler_t *c, const store_qfield_t *f, const query_filter_t *n,
                            bool neg) {
  if (f->type != STORE_QT_STRING)
    return cfail(c, "Invalid $filter: %s() applies to string properties; '%s' is %s (position %zu)",
                 query_op_name(n->op), f->path, type_name(f->type), n->pos);
  if (n->value.type != QUERY_VAL_STRING)
    return cfail(c, "Invalid $filter: the second argument of %s() must be a string literal "
                    "(position %zu)", query_op_name(n->op), n->pos);
  buf_t pat = BUF_INIT;
  if (n->op != QUERY_OP_STARTSWITH) buf_putc(&pat, '%');
  for (const char *p = n->value.u.s; *p; p++) {
    char ch = *p;
    if (ch == '%' || ch == '_' || ch == '!') buf_putc(&pat, '!');
    buf_putc(&pat, ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch);
  }
  if (n->op != QUERY_OP_ENDSWITH) buf_putc(&pat, '%');
  add_bind(c, (query_value_t){.type = QUERY_VAL_STRING, .u.s = buf_detach(&pat)});
  if (!c->binds[c->nbinds - 1].u.s) c->binds[c->nbinds - 1].u.s = xstrdup("%");
  if (neg) buf_printf(&c->sql, "(%s IS NULL OR ", f->sql);
  put_folded(&c->sql, f->sql);
  buf_printf(&c->sql, " %sLIKE ? ESCAPE '!'", neg ? "NOT " : "");
  if (neg) buf_putc(&c->sql, ')');
  return 0;
}

static const char *sql_op(query_op_t op) {
  static const char *const ops[] = {"=", "<>", ">", ">=", "<", "<="};
  return ops[op];
}

static int compile_value_cmp(compiler_t *c, const store_qfield_t *f, const query_filter_t *n,
                             bool neg);

/* A comparison. neg: the comparison sits under an odd number of `not`s; the operator is
 * negated here so the SQL never needs NOT (which would turn SQL's NULL into a match). */
static int compile_cmp(compiler_t *c, const query_filter_t *n, bool neg) {
  buf_t path = BUF_INIT;
  query_path_format(&n->path, &path);
  if (c->lambda_var && n->path.nsegs && strcmp(n->path.segs[0], c->lambda_var) == 0) {
    /* the lambda's element */
    int rc = n->path.nsegs == 1 ? compile_value_cmp(c, c->lambda_elem, n, neg)
             : cfail(c, "Invalid $filter: '%s' (position %zu): the elements of '%s' are values "
                        "without members; compare '%s' itself", path.data, n->pos,
                     c->lambda_elem->path, c->lambda_var);
    buf_free(&path);
    return rc;
  }
  const store_qfield_t *f = find_field(c, &n->path);
  if (f && is_array_field(f)) {
    int rc = cfail(c, "Invalid $filter: property '%s' (position %zu) is a collection; test its "
                      "elements with %s/any(x: x eq ...) or %s/all(x: ...)", f->path, n->pos,
                   f->path, f->path);
    buf_free(&path);
    return rc;
  }
  if (!f || !f->filterable) {
    int rc = cfail(c, f ? "Invalid $filter: property '%s' (position %zu) cannot be filtered on"
                        : "Invalid $filter: unknown property '%s' (position %zu)",
                   path.data, n->pos);
    buf_free(&path);
    return rc;
  }
  buf_free(&path);
  if (is_json_field(f)) {
    /* The member's expression in this database's dialect, compiled as a column would be. */
    char *expr = json_field_sql(c, f);
    if (!expr)
      return cfail(c, "Invalid $filter: property '%s' (position %zu) cannot be filtered on",
                   f->path, n->pos);
    store_qfield_t jf = *f;
    jf.sql = expr;
    jf.not_null = false;
    int rc = compile_value_cmp(c, &jf, n, neg);
    free(expr);
    return rc;
  }
  return compile_value_cmp(c, f, n, neg);
}

/* compile_cmp once the field is known: f->sql is the expression compared. */
static int compile_value_cmp(compiler_t *c, const store_qfield_t *f, const query_filter_t *n,
                             bool neg) {
  if (is_function(n->op)) return compile_function(c, f, n, neg);
  bool ordering = n->op != QUERY_OP_EQ && n->op != QUERY_OP_NE;
  if (ordering && (f->type == STORE_QT_ENUM || f->type == STORE_QT_BOOL))
    return cfail(c, "Invalid $filter: property '%s' is %s; only eq and ne apply to it "
                    "(position %zu)", f->path, type_name(f->type), n->pos);
  query_value_t v;
  if (convert_literal(c, f, n, &v) != 0) return -1;
  query_op_t op = neg ? negate(n->op) : n->op;

  if (v.type == QUERY_VAL_NULL) {
    if (ordering)
      return cfail(c, "Invalid $filter: '%s null' is not supported (position %zu); use eq or ne",
                   query_op_name(n->op), n->pos);
    buf_printf(&c->sql, "%s IS %sNULL", f->sql, op == QUERY_OP_NE ? "NOT " : "");
    return 0;
  }
  add_bind(c, v);
  /* OData: null ne 'a' is true, and not (null gt 5) is true; SQL says NULL to both. */
  bool or_null = !f->not_null && (op == QUERY_OP_NE || (ordering && neg));
  if (or_null) buf_printf(&c->sql, "(%s %s ? OR %s IS NULL)", f->sql, sql_op(op), f->sql);
  else buf_printf(&c->sql, "%s %s ?", f->sql, sql_op(op));
  return 0;
}

static int compile_node(compiler_t *c, const query_filter_t *n, bool neg);

/* path/any(v: p) as EXISTS (SELECT 1 FROM <elements> WHERE p), path/all(v: p) as NOT EXISTS
 * (... WHERE not p): true on an empty or absent collection, as OData says. Under negation
 * EXISTS and NOT EXISTS swap (both are two-valued). */
static int compile_lambda(compiler_t *c, const query_filter_t *n, bool neg) {
  buf_t path = BUF_INIT;
  query_path_format(&n->path, &path);
  const store_qfield_t *f = find_field(c, &n->path);
  bool is_all = n->kind == QUERY_F_ALL;
  int rc = -1;
  if (!f || !f->filterable)
    rc = cfail(c, f ? "Invalid $filter: property '%s' (position %zu) cannot be filtered on"
                    : "Invalid $filter: unknown property '%s' (position %zu)",
               path.data, n->pos);
  else if (!is_array_field(f))
    rc = cfail(c, "Invalid $filter: %s() applies to collection-valued properties; '%s' "
                  "(position %zu) is a single value", is_all ? "all" : "any", f->path, n->pos);
  buf_free(&path);
  if (!f || !f->filterable || !is_array_field(f)) return rc;
  if (c->lambda_var)
    return cfail(c, "Invalid $filter: lambda operators do not nest (position %zu)", n->pos);

  const char *keys[QUERY_MAX_PATH_SEGS];
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s", f->path);
  size_t nkeys = member_keys(tmp, 1, keys);
  char *value = NULL;
  char *from = elements_sql(c, f->sql + strlen(STORE_QF_JSON_ARRAY_PREFIX), keys, nkeys, f->type,
                            &value);
  if (!from) {
    free(value);
    return cfail(c, "Invalid $filter: property '%s' (position %zu) cannot be filtered on",
                 f->path, n->pos);
  }
  buf_printf(&c->sql, "%sEXISTS (SELECT 1 FROM %s", is_all != neg ? "NOT " : "", from);
  rc = 0;
  if (n->nkids) {
    store_qfield_t elem = *f;
    elem.sql = value;
    elem.not_null = false;
    c->lambda_var = n->var;
    c->lambda_elem = &elem;
    buf_puts(&c->sql, " WHERE ");
    rc = compile_node(c, n->kids[0], is_all);
    c->lambda_var = NULL;
    c->lambda_elem = NULL;
  }
  buf_putc(&c->sql, ')');
  free(from);
  free(value);
  return rc;
}

static int compile_node(compiler_t *c, const query_filter_t *n, bool neg) {
  switch (n->kind) {
    case QUERY_F_CMP:
      return compile_cmp(c, n, neg);
    case QUERY_F_ANY:
    case QUERY_F_ALL:
      return compile_lambda(c, n, neg);
    case QUERY_F_NOT:
      return compile_node(c, n->kids[0], !neg);
    case QUERY_F_AND:
    case QUERY_F_OR: {
      /* De Morgan under negation. */
      bool is_and = (n->kind == QUERY_F_AND) != neg;
      buf_putc(&c->sql, '(');
      for (size_t i = 0; i < n->nkids; i++) {
        if (i) buf_puts(&c->sql, is_and ? " AND " : " OR ");
        if (compile_node(c, n->kids[i], neg) != 0) return -1;
      }
      buf_putc(&c->sql, ')');
      return 0;
    }
  }
  return cfail(c, "Invalid $filter");
}

/* ---- order and keyset ------------------------------------------------------------------- */

typedef struct key {
  const store_qfield_t *f;
  bool                  desc;
} sortkey_t;

static bool value_fits(const store_qfield_t *f, const query_value_t *v) {
  if (v->type == QUERY_VAL_NULL) return !f->not_null;
  switch (f->type) {
    case STORE_QT_STRING:
    case STORE_QT_ENUM: return v->type == QUERY_VAL_STRING;
    case STORE_QT_INT64: return v->type == QUERY_VAL_INT64;
    case STORE_QT_DOUBLE: return v->type == QUERY_VAL_DOUBLE;
    case STORE_QT_BOOL: return v->type == QUERY_VAL_BOOL;
    case STORE_QT_DATETIME: return v->type == QUERY_VAL_DATETIME;
  }
  return false;
}

/* k = v, NULL-aware. */
static void key_eq(compiler_t *c, const sortkey_t *k, const query_value_t *v) {
  if (v->type == QUERY_VAL_NULL) {
    buf_printf(&c->sql, "%s IS NULL", k->f->sql);
    return;
  }
  buf_printf(&c->sql, "%s = ?", k->f->sql);
  add_bind(c, query_value_copy(v));
}

/* Rows that sort after v on key k alone (NULLs first ascending, last descending). Returns
 * false when no row can (descending after NULL). */
static bool key_after(compiler_t *c, const sortkey_t *k, const query_value_t *v) {
  const char *e = k->f->sql;
  if (v->type == QUERY_VAL_NULL) {
    if (k->desc) return false;
    buf_printf(&c->sql, "%s IS NOT NULL", e);
    return true;
  }
  if (k->desc && !k->f->not_null) buf_printf(&c->sql, "(%s < ? OR %s IS NULL)", e, e);
  else buf_printf(&c->sql, "%s %s ?", e, k->desc ? "<" : ">");
  add_bind(c, query_value_copy(v));
  return true;
}

/* (k1..kn) after (v1..vn): OR over i of (k1 = v1 AND ... AND k(i-1) = v(i-1) AND ki after vi),
 * led by a range bound on k1 when it is exact, so an index on the keys is scanned from the
 * position rather than from the start. */
static void compile_keyset(compiler_t *c, const sortkey_t *keys, size_t nkeys,
                           const query_value_t *vals) {
  const query_value_t *v1 = &vals[0];
  bool bound = nkeys > 1 && v1->type != QUERY_VAL_NULL && (!keys[0].desc || keys[0].f->not_null);
  if (bound) {
    buf_printf(&c->sql, "%s %s ? AND ", keys[0].f->sql, keys[0].desc ? "<=" : ">=");
    add_bind(c, query_value_copy(v1));
  }
  buf_putc(&c->sql, '(');
  size_t terms = 0;
  for (size_t i = 0; i < nkeys; i++) {
    if (vals[i].type == QUERY_VAL_NULL && keys[i].desc) continue; /* nothing after NULL */
    if (terms++) buf_puts(&c->sql, " OR ");
    buf_putc(&c->sql, '(');
    for (size_t j = 0; j < i; j++) {
      key_eq(c, &keys[j], &vals[j]);
      buf_puts(&c->sql, " AND ");
    }
    key_after(c, &keys[i], &vals[i]);
    buf_putc(&c->sql, ')');
  }
  if (!terms) buf_puts(&c->sql, "1 = 0");
  buf_putc(&c->sql, ')');
}

/* Compiles q for one resource's field map into *out (caller clears it); no JSON fields. */
int store_query_compile(const query_t *q, const store_qfield_t *fields, size_t nfields,
                        const char *id_path, int64_t max_page, store_query_t *out, char *err,
                        size_t errlen) {
  return store_query_compile_db(NULL, q, fields, nfields, id_path, max_page, out, err, errlen);
}

/* Compiles q for one resource's field map into *out (caller clears it), JSON fields in db's
 * dialect. */
int store_query_compile_db(db_t *db, const query_t *q, const store_qfield_t *fields,
                           size_t nfields, const char *id_path, int64_t max_page,
                           store_query_t *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  compiler_t c = {.db = db, .fields = fields, .nfields = nfields, .err = err, .errlen = errlen};
  const store_qfield_t *idf = NULL;
  for (size_t i = 0; i < nfields && !idf; i++)
    if (strcasecmp(fields[i].path, id_path) == 0) idf = &fields[i];
  if (!idf || !idf->not_null) {
    cfail(&c, "Internal error: no unique key field '%s'", id_path);
    goto bad;
  }

  /* $filter */
  if (q->filter) {
    if (compile_node(&c, q->filter, false) != 0) goto bad;
    out->filter = buf_detach(&c.sql);
    out->nfilter_binds = c.nbinds;
  }

  /* $orderby, then the id as tiebreaker (terms after the id cannot change the order). */
  sortkey_t keys[QUERY_MAX_KEYS];
  size_t nkeys = 0;
  bool have_id = false;
  for (size_t i = 0; i < q->norderby; i++) {
    buf_t path = BUF_INIT;
    query_path_format(&q->orderby[i].path, &path);
    const store_qfield_t *f = find_field(&c, &q->orderby[i].path);
    if (!f || ((!f->sortable || is_json_field(f)) && f != idf)) {
      cfail(&c, f ? "Invalid $orderby: property '%s' cannot be used for sorting"
                  : "Invalid $orderby: unknown property '%s'", path.data);
      buf_free(&path);
      goto bad;
    }
    buf_free(&path);
    if (have_id) continue;
    keys[nkeys++] = (sortkey_t){f, q->orderby[i].desc};
    have_id = f == idf;
  }
  if (!have_id) keys[nkeys++] = (sortkey_t){idf, false};

  buf_t ob = BUF_INIT, kc = BUF_INIT;
  for (size_t i = 0; i < nkeys; i++) {
    const char *dir = keys[i].desc ? (keys[i].f->not_null ? "DESC" : "DESC NULLS LAST")
                                   : (keys[i].f->not_null ? "ASC" : "ASC NULLS FIRST");
    buf_printf(&ob, "%s%s %s", i ? ", " : "", keys[i].f->sql, dir);
    buf_printf(&kc, "%s%s", i ? ", " : "", keys[i].f->sql);
    out->key_types[i] = keys[i].f->type;
  }
  out->order_by = buf_detach(&ob);
  out->key_cols = buf_detach(&kc);
  out->nkeys = nkeys;

  /* The keyset condition of a $skiptoken. */
  char *keyset = NULL;
  if (q->token) {
    bool ok = q->token->nkeys == nkeys;
    for (size_t i = 0; ok && i < nkeys; i++) ok = value_fits(keys[i].f, &q->token->keys[i]);
    if (!ok) {
      cfail(&c, "Invalid $skiptoken: the token does not belong to this collection or order "
                "(follow @odata.nextLink as returned)");
      goto bad;
    }
    compile_keyset(&c, keys, nkeys, q->token->keys);
    keyset = buf_detach(&c.sql);
  }
  if (out->filter && keyset) {
    buf_t w = BUF_INIT;
    buf_printf(&w, "(%s) AND (%s)", out->filter, keyset);
    out->where = buf_detach(&w);
    free(keyset);
  } else if (out->filter) {
    out->where = xstrdup(out->filter);
  } else {
    out->where = keyset;
  }

  out->binds = c.binds;
  out->nbinds = c.nbinds;
  out->limit = query_page_size(q, max_page);
  if (out->limit < 0) out->limit = 0;
  out->offset = q->token ? 0 : q->skip;
  out->fingerprint = query_fingerprint(q);
  out->total = q->count ? q->total : NULL;
  return 0;

bad:
  buf_free(&c.sql);
  for (size_t i = 0; i < c.nbinds; i++) query_value_clear(&c.binds[i]);
  free(c.binds);
  store_query_clear(out);
  return -1;
}

/* Frees everything cq owns. */
void store_query_clear(store_query_t *cq) {
  free(cq->filter);
  free(cq->where);
  free(cq->order_by);
  free(cq->key_cols);
  for (size_t i = 0; i < cq->nbinds; i++) query_value_clear(&cq->binds[i]);
  free(cq->binds);
  memset(cq, 0, sizeof *cq);
}

static void put_where(buf_t *b, const char *base, const char *cond) {
  bool has_base = base && *base;
  if (!has_base && !cond) return;
  buf_puts(b, " WHERE ");
  if (has_base && cond) buf_printf(b, "(%s) AND (%s)", base, cond);
  else buf_puts(b, has_base ? base : cond);
}

/* The paged SELECT; the caller frees the string. */
char *store_query_select_sql(const store_query_t *cq, const char *cols, const char *from,
                             const char *base_where) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "SELECT %s, %s FROM %s", cols, cq->key_cols, from);
  put_where(&b, base_where, cq->where);
  buf_printf(&b, " ORDER BY %s LIMIT ?", cq->order_by);
  if (cq->offset > 0) buf_puts(&b, " OFFSET ?");
  return buf_detach(&b);
}

/* The COUNT(*) for @odata.count; the caller frees the string. */
char *store_query_count_sql(const store_query_t *cq, const char *from, const char *base_where) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "SELECT COUNT(*) FROM %s", from);
  put_where(&b, base_where, cq->filter);
  return buf_detach(&b);
}

/* Counts the rows the filter selects into *cq->total; see query.h. */
int store_query_count(db_conn_t *c, const store_query_t *cq, const char *from,
                      const char *base_where, const query_value_t *base, size_t nbase) {
  if (!cq->total) return 0;
  char *sql = store_query_count_sql(cq, from, base_where);
  db_stmt_t *s = db_prepare(c, sql);
  free(sql);
  if (!s) return DB_ERROR;
  int idx = 1;
  for (size_t i = 0; i < nbase; i++) store_query_bind_value(s, idx++, &base[i]);
  store_query_bind_count(cq, s, idx);
  int rc = db_step(s);
  if (rc == DB_ROW) *cq->total = db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* See query.h. */
int store_query_page(const store_query_t *cq, db_stmt_t *s, int ncols,
                     int (*row)(db_stmt_t *s, void *arg), void *arg, char **next) {
  free(*next);
  *next = NULL;
  int64_t n = 0;
  bool more = false;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    if (n == cq->limit) {
      more = true;
      break;
    }
    if (row(s, arg) != 0) break;
    if (++n == cq->limit) *next = store_query_row_token(cq, s, ncols);
  }
  db_reset(s);
  if (!more) {
    free(*next);
    *next = NULL;
  }
  return rc == DB_ROW || rc == DB_DONE ? 0 : DB_ERROR;
}

typedef struct {
  void  **items;
  size_t *n, cap, elem;
  void (*read)(db_stmt_t *s, void *item);
} items_arg_t;

static int items_row(db_stmt_t *s, void *arg) {
  items_arg_t *a = arg;
  if (*a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 16;
    *a->items = xrealloc(*a->items, a->cap * a->elem);
  }
  char *item = (char *)*a->items + *a->n * a->elem;
  memset(item, 0, a->elem);
  a->read(s, item);
  (*a->n)++;
  return 0;
}

/* See query.h. */
int store_query_page_items(const store_query_t *cq, db_stmt_t *s, int ncols, size_t elem,
                           void (*read)(db_stmt_t *s, void *item), void **items, size_t *n,
                           char **next) {
  items_arg_t a = {.items = items, .n = n, .cap = *n, .elem = elem, .read = read};
  return store_query_page(cq, s, ncols, items_row, &a, next);
}

/* See store-private.h. */
int store_read_rows(db_stmt_t *s, size_t elem, void (*read)(db_stmt_t *s, void *item),
                    void **items, size_t *n) {
  if (!s) return DB_ERROR;
  items_arg_t a = {.items = items, .n = n, .cap = *n, .elem = elem, .read = read};
  int rc;
  while ((rc = db_step(s)) == DB_ROW) items_row(s, &a);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* See query.h. */
int store_query_list(db_conn_t *c, const store_query_t *cq, const store_list_sql_t *l,
                     int (*row)(db_stmt_t *s, void *arg), void *arg, char **next) {
  char *sql = store_query_select_sql(cq, l->cols, l->from, l->where);
  db_stmt_t *s = db_prepare(c, sql);
  free(sql);
  if (!s) return DB_ERROR;
  int idx = 1;
  for (size_t i = 0; i < l->nbase; i++) store_query_bind_value(s, idx++, &l->base[i]);
  store_query_bind_select(cq, s, idx);
  if (store_query_page(cq, s, l->ncols, row, arg, next) != 0) return DB_ERROR;
  return store_query_count(c, cq, l->from, l->where, l->base, l->nbase);
}

/* See query.h. */
int store_query_list_items(db_conn_t *c, const store_query_t *cq, const store_list_sql_t *l,
                           size_t elem, void (*read)(db_stmt_t *s, void *item), void **items,
                           size_t *n, char **next) {
  items_arg_t a = {.items = items, .n = n, .cap = *n, .elem = elem, .read = read};
  return store_query_list(c, cq, l, items_row, &a, next);
}
