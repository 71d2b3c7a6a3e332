/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OData query options as data: the parsed form of $filter, $select, $expand,
 * $top, $skip, $skiptoken, $orderby, $count, $search and $format, plus the
 * keyset page tokens carried in $skiptoken.
 *
 * Pure data, no I/O. graph/odata.c fills a query_t from the request's query
 * parameters; store/query.c compiles it into SQL for one resource. A query_t
 * owns everything it points to; query_clear() releases it.
 *
 * Page tokens: a token names the position after the last row of a page by
 * that row's sort-key values (the $orderby keys, then the unique id). It
 * also carries a fingerprint of the $filter/$orderby/$search it was issued
 * for, so a token replayed with a different query is refused. Tokens are
 * base64url text, opaque to clients; they carry no secret.
 */
#ifndef SPOOLD_CORE_QUERY_H
#define SPOOLD_CORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Limits. */
#define QUERY_MAX_PATH_SEGS 8    /* a/b/c... in a property path */
#define QUERY_MAX_ORDERBY   8    /* $orderby terms */
#define QUERY_MAX_KEYS      (QUERY_MAX_ORDERBY + 1) /* sort keys in a page token (+ the id) */
#define QUERY_TOKEN_MAX     4096 /* characters in an encoded page token */
#define QUERY_TOKEN_MAX_STR 1024 /* bytes of one string sort key in a page token */

/* Page sizes: without $top a page holds QUERY_PAGE_DEFAULT rows; $top asks for up to n rows
 * per page, and a $top above the operation's maximum yields pages of the maximum (with a
 * nextLink), as Graph does. */
#define QUERY_PAGE_DEFAULT 100
#define QUERY_PAGE_MAX     999

/* The query options, as bits (query_t.present, and the supported mask of odata_parse()). */
enum {
  QUERY_OPT_FILTER    = 1u << 0,
  QUERY_OPT_SELECT    = 1u << 1,
  QUERY_OPT_EXPAND    = 1u << 2,
  QUERY_OPT_TOP       = 1u << 3,
  QUERY_OPT_SKIP      = 1u << 4,
  QUERY_OPT_SKIPTOKEN = 1u << 5,
  QUERY_OPT_ORDERBY   = 1u << 6,
  QUERY_OPT_COUNT     = 1u << 7,
  QUERY_OPT_SEARCH    = 1u << 8,
  QUERY_OPT_FORMAT    = 1u << 9,
};

/* ---- typed values (filter literals, sort keys, SQL bind values) ------------------------- */

typedef enum {
  QUERY_VAL_NULL = 0,
  QUERY_VAL_STRING,
  QUERY_VAL_INT64,
  QUERY_VAL_DOUBLE,
  QUERY_VAL_BOOL,
  QUERY_VAL_DATETIME, /* microseconds since the Unix epoch, UTC, in u.i */
} query_vtype_t;

typedef struct query_value {
  query_vtype_t type;
  union {
    char   *s;  /* STRING: NUL-terminated UTF-8; owned by whoever owns the value */
    int64_t i;  /* INT64, DATETIME */
    double  d;  /* DOUBLE */
    bool    b;  /* BOOL */
  } u;
} query_value_t;

/* Frees a STRING value's text and resets v to NULL. */
void query_value_clear(query_value_t *v);
/* Deep copy (a STRING's text is duplicated). */
query_value_t query_value_copy(const query_value_t *v);
/* Short type name for messages: "string", "integer", "number", "boolean", "null", "date-time". */
const char *query_vtype_name(query_vtype_t t);
/* True when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or NUL bytes). */
bool query_utf8_valid(const char *s, size_t len);

/* ---- property paths --------------------------------------------------------------------- */

/* "createdBy/userPrincipalName" as {"createdBy", "userPrincipalName"}. Owns the segments. */
typedef struct query_path {
  char  *segs[QUERY_MAX_PATH_SEGS];
  size_t nsegs;
} query_path_t;

/* Frees the segments p owns and empties it. */
void query_path_clear(query_path_t *p);
/* Appends "a/b/c" to out. */
void query_path_format(const query_path_t *p, buf_t *out);
/* Case-insensitive comparison of p with the text form "a/b/c". */
bool query_path_equals(const query_path_t *p, const char *text);

/* ---- $filter AST ------------------------------------------------------------------------ */

/* ANY / ALL: the lambda operators `path/any(v: predicate)`, `path/all(v: predicate)` over a
 * collection-valued property; `path/any()` (no variable, no kid) is true for a non-empty one. */
typedef enum {
  QUERY_F_CMP, QUERY_F_AND, QUERY_F_OR, QUERY_F_NOT, QUERY_F_ANY, QUERY_F_ALL
} query_fkind_t;
typedef enum {
  QUERY_OP_EQ, QUERY_OP_NE, QUERY_OP_GT, QUERY_OP_GE, QUERY_OP_LT, QUERY_OP_LE,
  /* the string functions startswith(path, 'x'), endswith, contains: case-insensitive, as Graph */
  QUERY_OP_STARTSWITH, QUERY_OP_ENDSWITH, QUERY_OP_CONTAINS
} query_op_t;

/* One node. CMP: `path op value`, or `op(path, value)` for the string functions (the parser puts the property on the left, mirroring the
 * operator of `literal op property`; a bare boolean property `p` is `p eq true` with
 * implicit set). AND/OR: n-ary over kids (nkids >= 2). NOT: one kid. ANY/ALL: path is the
 * collection, var the lambda variable and kids[0] the predicate, in which a path whose first
 * segment is var names the element (`c`, or `c/member`); `any()` has neither. A node owns its
 * kids, path, value and var. pos is the 1-based character position in the $filter text. */
typedef struct query_filter {
  query_fkind_t         kind;
  query_op_t            op;
  query_path_t          path;
  query_value_t         value;
  bool                  implicit;
  struct query_filter **kids;
  size_t                nkids;
  size_t                pos;
  char                 *var;      /* ANY / ALL: the lambda variable, NULL for `any()` */
} query_filter_t;

/* A new zeroed node of the given kind (caller owns; free with query_filter_free). */
query_filter_t *query_filter_new(query_fkind_t kind, size_t pos);
/* Appends kid to an AND/OR/NOT node; the node takes ownership. */
void query_filter_add(query_filter_t *parent, query_filter_t *kid);
/* Frees f and everything below it. NULL is fine. */
void query_filter_free(query_filter_t *f);
/* Appends a canonical, fully parenthesized form, e.g. `(and (eq status/state 'x') (not (gt
 * size 5)))` or `(any capabilities/colorModes c (eq c 'color'))`, used for fingerprints and
 * tests. */
void query_filter_format(const query_filter_t *f, buf_t *out);
/* "eq", "ne", ..., "startswith", "endswith", "contains" */
const char *query_op_name(query_op_t op);

/* ---- page tokens ------------------------------------------------------------------------ */

/* A decoded $skiptoken. keys are the sort keys of the last row of the previous page in
 * $orderby order, the unique id last. Owns the keys' strings. */
typedef struct query_pagetoken {
  uint8_t       version;
  uint64_t      fingerprint;
  query_value_t keys[QUERY_MAX_KEYS];
  size_t        nkeys;
} query_pagetoken_t;

/* Encodes a token for the given fingerprint and keys (1..QUERY_MAX_KEYS values of any type,
 * strings at most QUERY_TOKEN_MAX_STR bytes of UTF-8). Returns a malloc'd base64url string the
 * caller frees, or NULL when the keys cannot be encoded (too many, string too long). */
char *query_pagetoken_encode(uint64_t fingerprint, const query_value_t *keys, size_t nkeys);
/* Decodes and fully validates a token (version, lengths, types, UTF-8, checksum, no trailing
 * bytes). Returns 0 and fills *out (release with query_pagetoken_clear), or -1 for any
 * malformed token (out is left cleared). Does not check the fingerprint: compare
 * out->fingerprint with query_fingerprint() of the current query. */
int query_pagetoken_decode(const char *text, query_pagetoken_t *out);
/* Frees what a decoded token owns (its string keys) and leaves *t cleared. */
void query_pagetoken_clear(query_pagetoken_t *t);

/* ---- the whole query -------------------------------------------------------------------- */

typedef struct query_order {
  query_path_t path;
  bool         desc;
} query_order_t;

typedef struct query {
  unsigned           present;    /* QUERY_OPT_* bits of the options given */
  query_filter_t    *filter;     /* NULL when no $filter */
  char             **select;     /* top-level property names; nselect == 0 means all */
  size_t             nselect;
  char             **expand;     /* navigation property names */
  size_t             nexpand;
  int64_t            top;        /* -1 when absent */
  int64_t            skip;       /* 0 when absent */
  char              *skiptoken;  /* the $skiptoken text as received, or NULL */
  query_pagetoken_t *token;      /* the decoded, fingerprint-checked token, or NULL */
  query_order_t      orderby[QUERY_MAX_ORDERBY];
  size_t             norderby;
  bool               count;      /* $count=true, or a .../$count path */
  int64_t           *total;      /* with count: where a list writes the number of entities the
                                    $filter selects across all pages (not owned; may be NULL) */
  char              *search;     /* $search text, or NULL */
} query_t;

/* Initializes an empty query (no options; top = -1). */
void query_init(query_t *q);
/* Frees everything q owns and re-initializes it. */
void query_clear(query_t *q);
/* 64-bit fingerprint of the options that define a result order and set: $filter (canonical
 * form, so spacing does not matter), $orderby and $search. */
uint64_t query_fingerprint(const query_t *q);
/* Rows per page for q: QUERY_PAGE_DEFAULT (capped at max) without $top, else min($top, max). */
int64_t query_page_size(const query_t *q, int64_t max);

#endif
