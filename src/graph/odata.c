/* SPDX-License-Identifier: Apache-2.0 */
/* OData system query options: parsing ($filter grammar included), name checks, nextLinks. */
#include "graph/odata.h"
#include "graph/model.h"
#include "graph/reply.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static bool is_ident_start(int c) { return isalpha(c) || c == '_'; }
static bool is_ident_char(int c) { return isalnum(c) || c == '_'; }

/* True when s[0..len) is an OData simple identifier. */
static bool is_ident(const char *s, size_t len) {
  if (len == 0 || !is_ident_start((unsigned char)s[0])) return false;
  for (size_t i = 1; i < len; i++)
    if (!is_ident_char((unsigned char)s[i])) return false;
  return true;
}

/* ==== $filter ============================================================================= */

typedef enum {
  T_EOF, T_LPAREN, T_RPAREN, T_COMMA, T_SLASH, T_COLON, T_IDENT, T_LITERAL
} tok_kind_t;

typedef struct tok {
  tok_kind_t    kind;
  size_t        start;  /* byte offset in the text */
  size_t        len;
  query_value_t val;    /* T_LITERAL; owned by the token until taken */
} tok_t;

typedef struct parser {
  const char *s;
  size_t      len;
  size_t      i;      /* next byte to lex */
  tok_t       tok;    /* current token */
  int         depth;
  int         terms;
  const char *lambda_var; /* inside a lambda's predicate: its variable (no nesting) */
  bool        lambda_ok;  /* the next operand may be `path/any(...)` (a condition's start) */
  char       *err;
  size_t      errlen;
  bool        failed;
} parser_t;

static void perr(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first error only. */
static void perr(parser_t *p, const char *fmt, ...) {
  if (p->failed) return;
  p->failed = true;
  if (!p->err || !p->errlen) return;
  int n = snprintf(p->err, p->errlen, "Invalid $filter: ");
  if (n < 0 || (size_t)n >= p->errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
  va_end(ap);
}

/* "'text'" of the current token (at most 40 bytes of it), or "end of expression". */
static const char *tok_desc(parser_t *p, char *out, size_t outlen) {
  if (p->tok.kind == T_EOF) {
    snprintf(out, outlen, "end of expression at position %zu", p->len + 1);
  } else {
    int n = p->tok.len > 40 ? 40 : (int)p->tok.len;
    snprintf(out, outlen, "'%.*s%s' at position %zu", n, p->s + p->tok.start,
             p->tok.len > 40 ? "..." : "", p->tok.start + 1);
  }
  return out;
}

static void unexpected(parser_t *p, const char *expected) {
  char d[96];
  tok_desc(p, d, sizeof d);
  if (expected) perr(p, "expected %s, found %s", expected, d);
  else perr(p, "unexpected %s", d);
}

static bool tok_is_word(const parser_t *p, const char *w) {
  size_t n = strlen(w);
  return p->tok.kind == T_IDENT && p->tok.len == n && strncasecmp(p->s + p->tok.start, w, n) == 0;
}

static bool is_delim(int c) {
  return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '+' || c == '(' ||
         c == ')' || c == ',' || c == '/' || c == ':';
}

static bool is_guid_at(const char *s, size_t avail) {
  static const char pat[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (avail < 36) return false;
  for (size_t i = 0; i < 36; i++) {
    if (pat[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return false;
  }
  return is_delim((unsigned char)s[36]);
}

static void lex_string(parser_t *p) {
  buf_t b = BUF_INIT;
  size_t i = p->i + 1;
  for (;;) {
    if (i >= p->len) {
      buf_free(&b);
      perr(p, "unterminated string literal starting at position %zu", p->tok.start + 1);
      return;
    }
    if (p->s[i] == '\'') {
      if (i + 1 < p->len && p->s[i + 1] == '\'') {
        buf_putc(&b, '\'');
        i += 2;
        continue;
      }
      i++;
      break;
    }
    buf_putc(&b, p->s[i++]);
  }
  p->tok.kind = T_LITERAL;
  p->tok.val.type = QUERY_VAL_STRING;
  p->tok.val.u.s = buf_detach(&b);
  p->i = i;
}

static void lex_datetime(parser_t *p) {
  size_t i = p->i;
  while (i < p->len && (isalnum((unsigned char)p->s[i]) || p->s[i] == ':' || p->s[i] == '.' ||
                        p->s[i] == '+' || p->s[i] == '-'))
    i++;
  size_t n = i - p->i;
  char tmp[64];
  int64_t us;
  bool ok = false;
  if (n == 10) { /* Edm.Date: midnight UTC */
    snprintf(tmp, sizeof tmp, "%.10sT00:00:00Z", p->s + p->i);
    ok = time_parse_iso(tmp, &us);
  } else if (n < sizeof tmp) {
    memcpy(tmp, p->s + p->i, n);
    tmp[n] = '\0';
    ok = time_parse_iso(tmp, &us);
  }
  if (!ok) {
    perr(p, "invalid date-time literal '%.*s' at position %zu (expected e.g. 2024-05-01T10:20:30Z)",
         n > 40 ? 40 : (int)n, p->s + p->i, p->i + 1);
    return;
  }
  p->tok.kind = T_LITERAL;
  p->tok.val.type = QUERY_VAL_DATETIME;
  p->tok.val.u.i = us;
  p->i = i;
}

static void lex_number(parser_t *p) {
  size_t i = p->i;
  bool is_double = false;
  if (p->s[i] == '-') i++;
  while (i < p->len && isdigit((unsigned char)p->s[i])) i++;
  if (i < p->len && p->s[i] == '.') {
    is_double = true;
    i++;
    size_t d = i;
    while (i < p->len && isdigit((unsigned char)p->s[i])) i++;
    if (i == d) goto bad;
  }
  if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
    is_double = true;
    i++;
    if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
    size_t d = i;
    while (i < p->len && isdigit((unsigned char)p->s[i])) i++;
    if (i == d) goto bad;
  }
  if (i < p->len && !is_delim((unsigned char)p->s[i])) goto bad;
  char tmp[64];
  size_t n = i - p->i;
  if (n >= sizeof tmp) goto range;
  memcpy(tmp, p->s + p->i, n);
  tmp[n] = '\0';
  errno = 0;
  char *end;
  p->tok.kind = T_LITERAL;
  if (is_double) {
    double d = strtod(tmp, &end);
    if (errno == ERANGE || *end) goto range;
    p->tok.val.type = QUERY_VAL_DOUBLE;
    p->tok.val.u.d = d;
  } else {
    long long v = strtoll(tmp, &end, 10);
    if (errno == ERANGE || *end) goto range;
    p->tok.val.type = QUERY_VAL_INT64;
    p->tok.val.u.i = v;
  }
  p->i = i;
  return;
bad:
  while (i < p->len && !is_delim((unsigned char)p->s[i])) i++;
  perr(p, "invalid number '%.*s' at position %zu", (int)(i - p->i > 40 ? 40 : i - p->i),
       p->s + p->i, p->i + 1);
  return;
range:
  perr(p, "number '%.*s' at position %zu is out of range", (int)(i - p->i > 40 ? 40 : i - p->i),
       p->s + p->i, p->i + 1);
}

/* A typed enum literal: the qualified enum type (qlen bytes at p->i) directly followed by a quoted
 * member. The type must be one of the model's enums and the member one of its members; the
 * token is the member as a string literal (compared as the property's enum in the store). */
static void lex_typed_enum(parser_t *p, size_t qlen) {
  const char *s = p->s + p->i;
  size_t nslen = strlen(GRAPH_NS);
  const enum_def_t *e = NULL;
  if (qlen > nslen + 1 && strncmp(s, GRAPH_NS ".", nslen + 1) == 0) {
    for (size_t i = 0; GRAPH_MODEL_ENUMS[i] && !e; i++) {
      const char *name = GRAPH_MODEL_ENUMS[i]->name;
      if (strlen(name) == qlen - nslen - 1 && strncmp(s + nslen + 1, name, qlen - nslen - 1) == 0)
        e = GRAPH_MODEL_ENUMS[i];
    }
  }
  if (!e || p->i + qlen >= p->len || s[qlen] != '\'') {
    perr(p, "unexpected '%.*s' at position %zu (a qualified name is only the type of an enum "
            "literal such as " GRAPH_NS ".printJobProcessingState'processing')",
         qlen > 60 ? 60 : (int)qlen, s, p->i + 1);
    return;
  }
  size_t start = p->i;
  p->i += qlen;
  lex_string(p);
  if (p->failed) return;
  if (enum_lookup(e, p->tok.val.u.s, true) < 0) {
    char members[512];
    enum_describe(e, members, sizeof members);
    perr(p, "'%.60s' at position %zu is not a member of %s (expected one of: %s)", p->tok.val.u.s,
         start + 1, e->name, members);
    return;
  }
  p->tok.start = start;
  p->tok.len = p->i - start;
}

/* Advances to the next token. The previous token's literal, if not taken, is freed. */
static void next(parser_t *p) {
  query_value_clear(&p->tok.val);
  if (p->failed) {
    p->tok.kind = T_EOF;
    return;
  }
  /* '+' counts as a space between tokens: clients that form-encode send it for ' '. */
  while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' ||
                           p->s[p->i] == '\n' || p->s[p->i] == '+'))
    p->i++;
  p->tok.start = p->i;
  p->tok.len = 0;
  p->tok.kind = T_EOF;
  if (p->i >= p->len) return;

  const char *s = p->s + p->i;
  size_t avail = p->len - p->i;
  unsigned char c = (unsigned char)*s;
  if (c == '(' || c == ')' || c == ',' || c == '/' || c == ':') {
    p->tok.kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : c == ',' ? T_COMMA
                : c == '/' ? T_SLASH : T_COLON;
    p->i++;
  } else if (c == '\'') {
    lex_string(p);
  } else if (isxdigit(c) && is_guid_at(s, avail)) {
    p->tok.kind = T_LITERAL;
    p->tok.val.type = QUERY_VAL_STRING;
    p->tok.val.u.s = xstrndup(s, 36);
    p->i += 36;
  } else if (avail >= 5 && isdigit(c) && isdigit((unsigned char)s[1]) &&
             isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-') {
    lex_datetime(p);
  } else if (isdigit(c) || (c == '-' && avail > 1 && isdigit((unsigned char)s[1]))) {
    lex_number(p);
  } else if (is_ident_start(c)) {
    size_t n = 1;
    while (n < avail && is_ident_char((unsigned char)s[n])) n++;
    /* a qualified name: only as the type of an enum literal, microsoft.graph.printColorMode'color' */
    size_t q = n;
    while (q < avail && (s[q] == '.' || is_ident_char((unsigned char)s[q]))) q++;
    if (q > n) {
      lex_typed_enum(p, q);
      return;
    }
    p->tok.kind = T_IDENT;
    p->i += n;
  } else {
    if (c >= 0x20 && c < 0x7f) perr(p, "unexpected character '%c' at position %zu", c, p->i + 1);
    else perr(p, "unexpected character at position %zu", p->i + 1);
    return;
  }
  p->tok.len = p->i - p->tok.start;
}

static const char *const KEYWORDS[] = {"and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le",
                                       "in", "true", "false", "null", NULL};
static const char *const UNSUPPORTED_OPS[] = {"has", "add", "sub", "mul", "div", "divby", "mod",
                                              NULL};

static bool tok_is_keyword(const parser_t *p) {
  for (size_t i = 0; KEYWORDS[i]; i++)
    if (tok_is_word(p, KEYWORDS[i])) return true;
  return false;
}

static bool tok_cmp_op(const parser_t *p, query_op_t *op) {
  static const struct { const char *w; query_op_t op; } ops[] = {
      {"eq", QUERY_OP_EQ}, {"ne", QUERY_OP_NE}, {"gt", QUERY_OP_GT},
      {"ge", QUERY_OP_GE}, {"lt", QUERY_OP_LT}, {"le", QUERY_OP_LE}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    if (tok_is_word(p, ops[i].w)) {
      *op = ops[i].op;
      return true;
    }
  }
  return false;
}

/* An operand: a property path (is_path) or a literal (value moved out of the token). */
typedef struct operand {
  bool          is_path;
  query_fkind_t lambda; /* QUERY_F_ANY / QUERY_F_ALL: the path ended in /any( or /all( */
  query_path_t  path;
  query_value_t val;
  size_t        pos;
} operand_t;

static void operand_clear(operand_t *o) {
  query_path_clear(&o->path);
  query_value_clear(&o->val);
}

static bool peek_lparen(const parser_t *p) {
  size_t i = p->i;
  while (i < p->len && (p->s[i] == ' ' || p->s[i] == '+')) i++;
  return i < p->len && p->s[i] == '(';
}

static bool parse_operand(parser_t *p, operand_t *o) {
  bool lambda_ok = p->lambda_ok;
  p->lambda_ok = false;
  memset(o, 0, sizeof *o);
  o->pos = p->tok.start + 1;
  if (p->tok.kind == T_LITERAL) {
    o->val = p->tok.val;
    p->tok.val.type = QUERY_VAL_NULL; /* taken */
    next(p);
    return !p->failed;
  }
  if (p->tok.kind != T_IDENT) {
    unexpected(p, "a property or a literal");
    return false;
  }
  if (tok_is_word(p, "true") || tok_is_word(p, "false")) {
    o->val.type = QUERY_VAL_BOOL;
    o->val.u.b = tok_is_word(p, "true");
    next(p);
    return !p->failed;
  }
  if (tok_is_word(p, "null")) {
    o->val.type = QUERY_VAL_NULL;
    next(p);
    return !p->failed;
  }
  if (tok_is_keyword(p)) {
    unexpected(p, "a property or a literal");
    return false;
  }
  o->is_path = true;
  for (;;) {
    if (p->tok.kind != T_IDENT || tok_is_keyword(p)) {
      unexpected(p, "a property name");
      return false;
    }
    if (o->path.nsegs > 0 && (tok_is_word(p, "any") || tok_is_word(p, "all")) && peek_lparen(p)) {
      if (!lambda_ok) {
        perr(p, "%.3s() at position %zu is a condition of its own; it cannot be an operand of a "
                "comparison or a function", p->s + p->tok.start, p->tok.start + 1);
        return false;
      }
      o->lambda = tok_is_word(p, "any") ? QUERY_F_ANY : QUERY_F_ALL; /* at the operator's name */
      return true;
    }
    size_t start = p->tok.start, len = p->tok.len;
    if (o->path.nsegs == QUERY_MAX_PATH_SEGS) {
      perr(p, "property path at position %zu has more than %d segments", o->pos,
           QUERY_MAX_PATH_SEGS);
      return false;
    }
    o->path.segs[o->path.nsegs++] = xstrndup(p->s + start, len);
    next(p);
    if (p->failed) return false;
    if (p->tok.kind == T_LPAREN) {
      perr(p, "function '%.*s' at position %zu is not supported", (int)(len > 40 ? 40 : len),
           p->s + start, start + 1);
      return false;
    }
    if (p->tok.kind != T_SLASH) return true;
    next(p);
    if (p->failed) return false;
  }
}

static bool count_term(parser_t *p, size_t pos) {
  if (++p->terms > ODATA_FILTER_MAX_TERMS) {
    perr(p, "too many conditions (more than %d) at position %zu", ODATA_FILTER_MAX_TERMS, pos);
    return false;
  }
  return true;
}

static query_filter_t *make_cmp(query_op_t op, query_path_t *path, query_value_t *val,
                                size_t pos) {
  query_filter_t *f = query_filter_new(QUERY_F_CMP, pos);
  f->op = op;
  f->path = *path;
  memset(path, 0, sizeof *path);
  f->value = *val;
  memset(val, 0, sizeof *val);
  val->type = QUERY_VAL_NULL;
  return f;
}

static query_op_t mirror(query_op_t op) {
  switch (op) {
    case QUERY_OP_GT: return QUERY_OP_LT;
    case QUERY_OP_GE: return QUERY_OP_LE;
    case QUERY_OP_LT: return QUERY_OP_GT;
    case QUERY_OP_LE: return QUERY_OP_GE;
    default: return op;
  }
}

/* path in (lit, lit, ...) -> eq, or an OR of eqs. Consumes the path. */
static query_filter_t *parse_in(parser_t *p, operand_t *left) {
  size_t in_pos = p->tok.start + 1;
  next(p);
  if (p->failed) return NULL;
  if (p->tok.kind != T_LPAREN) {
    unexpected(p, "'(' after 'in'");
    return NULL;
  }
  next(p);
  query_filter_t *any = query_filter_new(QUERY_F_OR, left->pos);
  for (;;) {
    if (p->failed) break;
    if (p->tok.kind != T_LITERAL && !tok_is_word(p, "null") && !tok_is_word(p, "true") &&
        !tok_is_word(p, "false")) {
      unexpected(p, "a literal in the 'in' list");
      break;
    }
    operand_t item;
    size_t pos = p->tok.start + 1;
    if (!parse_operand(p, &item) || !count_term(p, pos)) {
      operand_clear(&item);
      break;
    }
    query_path_t copy = {.nsegs = left->path.nsegs};
    for (size_t i = 0; i < copy.nsegs; i++) copy.segs[i] = xstrdup(left->path.segs[i]);
    query_filter_add(any, make_cmp(QUERY_OP_EQ, &copy, &item.val, left->pos));
    operand_clear(&item);
    if (p->tok.kind == T_COMMA) {
      next(p);
      continue;
    }
    if (p->tok.kind == T_RPAREN) {
      next(p);
      break;
    }
    unexpected(p, "',' or ')' in the 'in' list");
    break;
  }
  if (p->failed) {
    query_filter_free(any);
    return NULL;
  }
  if (any->nkids == 0) {
    perr(p, "empty 'in' list at position %zu", in_pos);
    query_filter_free(any);
    return NULL;
  }
  if (any->nkids == 1) {
    query_filter_t *only = any->kids[0];
    any->nkids = 0;
    query_filter_free(any);
    return only;
  }
  return any;
}

/* startswith(path, 'x'), endswith, contains, optionally compared with true or false. */
static query_filter_t *parse_function(parser_t *p, query_op_t op) {
  size_t pos = p->tok.start + 1;
  const char *name = query_op_name(op);
  next(p);  /* the name */
  if (p->failed) return NULL;
  next(p);  /* '(' */
  if (p->failed) return NULL;
  operand_t path, lit;
  memset(&lit, 0, sizeof lit);
  query_filter_t *f = NULL;
  if (!parse_operand(p, &path)) goto done;
  if (!path.is_path) {
    perr(p, "the first argument of %s() at position %zu must be a property", name, pos);
    goto done;
  }
  if (p->tok.kind != T_COMMA) {
    unexpected(p, "',' between the arguments of the function");
    goto done;
  }
  next(p);
  if (p->failed || !parse_operand(p, &lit)) goto done;
  if (lit.is_path || lit.val.type != QUERY_VAL_STRING) {
    perr(p, "the second argument of %s() at position %zu must be a string literal", name, lit.pos);
    goto done;
  }
  if (p->tok.kind != T_RPAREN) {
    unexpected(p, "')' after the arguments of the function");
    goto done;
  }
  next(p);
  if (p->failed) goto done;
  bool negated = false;
  query_op_t cmp;
  if (tok_cmp_op(p, &cmp)) { /* startswith(a,'x') eq true / ne false / eq false */
    if (cmp != QUERY_OP_EQ && cmp != QUERY_OP_NE) {
      unexpected(p, "eq or ne after a function");
      goto done;
    }
    next(p);
    if (p->failed) goto done;
    if (!tok_is_word(p, "true") && !tok_is_word(p, "false")) {
      unexpected(p, "true or false");
      goto done;
    }
    negated = tok_is_word(p, "false") != (cmp == QUERY_OP_NE);
    next(p);
    if (p->failed) goto done;
  }
  if (!count_term(p, pos)) goto done;
  f = make_cmp(op, &path.path, &lit.val, pos);
  if (negated) {
    query_filter_t *n = query_filter_new(QUERY_F_NOT, pos);
    query_filter_add(n, f);
    f = n;
  }
done:
  operand_clear(&path);
  operand_clear(&lit);
  return f;
}

static query_filter_t *parse_or(parser_t *p);
static bool enter(parser_t *p);

/* path/any(v: predicate), path/all(v: predicate) or path/any(), the current token at any/all.
 * Consumes the path. Lambdas do not nest. */
static query_filter_t *parse_lambda(parser_t *p, operand_t *left) {
  const char *name = left->lambda == QUERY_F_ANY ? "any" : "all";
  size_t pos = p->tok.start + 1;
  if (p->lambda_var) {
    perr(p, "%s() at position %zu is inside another lambda operator; they do not nest", name, pos);
    return NULL;
  }
  next(p); /* the name */
  if (p->failed) return NULL;
  next(p); /* '(' */
  if (p->failed) return NULL;
  query_filter_t *f = query_filter_new(left->lambda, left->pos);
  f->path = left->path;
  memset(&left->path, 0, sizeof left->path);
  if (p->tok.kind == T_RPAREN) { /* any(): the collection is not empty */
    if (left->lambda == QUERY_F_ALL) {
      perr(p, "all() at position %zu needs a lambda variable and a predicate, e.g. "
              "all(x: x eq 'value')", pos);
      goto bad;
    }
    next(p);
    if (p->failed || !count_term(p, pos)) goto bad;
    return f;
  }
  if (p->tok.kind != T_IDENT || tok_is_keyword(p)) {
    unexpected(p, "a lambda variable name or ')'");
    goto bad;
  }
  f->var = xstrndup(p->s + p->tok.start, p->tok.len);
  next(p);
  if (p->failed) goto bad;
  if (p->tok.kind != T_COLON) {
    unexpected(p, "':' after the lambda variable");
    goto bad;
  }
  next(p);
  if (p->failed || !enter(p)) goto bad;
  p->lambda_var = f->var;
  query_filter_t *kid = parse_or(p);
  p->lambda_var = NULL;
  p->depth--;
  if (!kid) goto bad;
  query_filter_add(f, kid);
  if (p->tok.kind != T_RPAREN) {
    unexpected(p, "')' closing the lambda operator");
    goto bad;
  }
  next(p);
  if (p->failed) goto bad;
  return f;
bad:
  query_filter_free(f);
  return NULL;
}

static query_filter_t *parse_comparison(parser_t *p) {
  static const struct { const char *name; query_op_t op; } FUNCS[] = {
      {"startswith", QUERY_OP_STARTSWITH}, {"endswith", QUERY_OP_ENDSWITH},
      {"contains", QUERY_OP_CONTAINS}};
  for (size_t i = 0; i < sizeof FUNCS / sizeof FUNCS[0]; i++)
    if (tok_is_word(p, FUNCS[i].name) && peek_lparen(p)) return parse_function(p, FUNCS[i].op);
  operand_t left, right;
  p->lambda_ok = true;
  if (!parse_operand(p, &left)) {
    operand_clear(&left);
    return NULL;
  }
  query_filter_t *f = NULL;
  query_op_t op;
  if (left.lambda) {
    f = parse_lambda(p, &left);
    operand_clear(&left);
    return f;
  }
  if (left.is_path && tok_is_word(p, "in")) {
    f = parse_in(p, &left);
    operand_clear(&left);
    return f;
  }
  if (tok_cmp_op(p, &op)) {
    size_t op_pos = p->tok.start + 1;
    memset(&right, 0, sizeof right);
    next(p);
    if (p->failed || !parse_operand(p, &right)) {
      operand_clear(&right);
      operand_clear(&left);
      return NULL;
    }
    if (left.is_path && right.is_path) {
      perr(p, "comparing two properties (position %zu) is not supported", op_pos);
    } else if (!left.is_path && !right.is_path) {
      perr(p, "the comparison at position %zu needs a property on one side", left.pos);
    } else if (count_term(p, left.pos)) {
      if (left.is_path) f = make_cmp(op, &left.path, &right.val, left.pos);
      else f = make_cmp(mirror(op), &right.path, &left.val, left.pos);
    }
    operand_clear(&right);
    operand_clear(&left);
    return f;
  }
  for (size_t i = 0; UNSUPPORTED_OPS[i]; i++) {
    if (tok_is_word(p, UNSUPPORTED_OPS[i])) {
      perr(p, "operator '%s' at position %zu is not supported", UNSUPPORTED_OPS[i],
           p->tok.start + 1);
      operand_clear(&left);
      return NULL;
    }
  }
  /* A bare boolean property: `isShared` means `isShared eq true`. */
  if (left.is_path && (p->tok.kind == T_EOF || p->tok.kind == T_RPAREN || tok_is_word(p, "and") ||
                       tok_is_word(p, "or"))) {
    if (count_term(p, left.pos)) {
      query_value_t t = {.type = QUERY_VAL_BOOL, .u.b = true};
      f = make_cmp(QUERY_OP_EQ, &left.path, &t, left.pos);
      f->implicit = true;
    }
    operand_clear(&left);
    return f;
  }
  unexpected(p, "a comparison operator (eq, ne, gt, ge, lt, le, in)");
  operand_clear(&left);
  return NULL;
}

static bool enter(parser_t *p) {
  if (++p->depth > ODATA_FILTER_MAX_DEPTH) {
    perr(p, "expression nested too deeply (more than %d levels) at position %zu",
         ODATA_FILTER_MAX_DEPTH, p->tok.start + 1);
    return false;
  }
  return true;
}

static query_filter_t *parse_unary(parser_t *p) {
  if (tok_is_word(p, "not")) {
    size_t pos = p->tok.start + 1;
    if (!enter(p)) return NULL;
    next(p);
    if (p->failed) return NULL;
    query_filter_t *kid = parse_unary(p);
    p->depth--;
    if (!kid) return NULL;
    query_filter_t *f = query_filter_new(QUERY_F_NOT, pos);
    query_filter_add(f, kid);
    return f;
  }
  if (p->tok.kind == T_LPAREN) {
    if (!enter(p)) return NULL;
    next(p);
    if (p->failed) return NULL;
    query_filter_t *f = parse_or(p);
    if (!f) return NULL;
    if (p->tok.kind != T_RPAREN) {
      unexpected(p, "')'");
      query_filter_free(f);
      return NULL;
    }
    p->depth--;
    next(p);
    if (p->failed) {
      query_filter_free(f);
      return NULL;
    }
    return f;
  }
  return parse_comparison(p);
}

/* One level of the n-ary and/or chain. */
static query_filter_t *parse_chain(parser_t *p, const char *word, query_fkind_t kind,
                                   query_filter_t *(*sub)(parser_t *)) {
  query_filter_t *left = sub(p);
  if (!left) return NULL;
  query_filter_t *chain = NULL;
  while (tok_is_word(p, word)) {
    size_t pos = p->tok.start + 1;
    next(p);
    query_filter_t *right = p->failed ? NULL : sub(p);
    if (!right) {
      query_filter_free(chain ? chain : left);
      return NULL;
    }
    if (!chain) {
      chain = query_filter_new(kind, pos);
      query_filter_add(chain, left);
    }
    query_filter_add(chain, right);
  }
  return chain ? chain : left;
}

static query_filter_t *parse_and(parser_t *p) {
  return parse_chain(p, "and", QUERY_F_AND, parse_unary);
}

static query_filter_t *parse_or(parser_t *p) {
  return parse_chain(p, "or", QUERY_F_OR, parse_and);
}

/* Parses one $filter; the caller owns *out (query_filter_free). */
int odata_parse_filter(const char *text, query_filter_t **out, char *err, size_t errlen) {
  *out = NULL;
  size_t len = strlen(text);
  if (len > ODATA_FILTER_MAX_LEN)
    return fail(err, errlen, "Invalid $filter: the expression is longer than %d characters",
                ODATA_FILTER_MAX_LEN);
  if (!query_utf8_valid(text, len))
    return fail(err, errlen, "Invalid $filter: the expression is not valid UTF-8");
  parser_t p = {.s = text, .len = len, .err = err, .errlen = errlen};
  p.tok.val.type = QUERY_VAL_NULL;
  next(&p);
  if (p.failed) {
    query_value_clear(&p.tok.val);   /* a literal lexed before its check failed (a typed enum) */
    return -1;
  }
  if (p.tok.kind == T_EOF) return fail(err, errlen, "Invalid $filter: the expression is empty");
  query_filter_t *f = parse_or(&p);
  if (f && !p.failed && p.tok.kind != T_EOF) unexpected(&p, NULL);
  query_value_clear(&p.tok.val);
  if (!f || p.failed) {
    query_filter_free(f);
    if (!p.failed) perr(&p, "syntax error");
    return -1;
  }
  *out = f;
  return 0;
}

/* ==== the other options =================================================================== */

static const struct option_def {
  const char *name;
  unsigned    bit;   /* 0: a known OData option this server never supports */
} OPTIONS[] = {
    {"$filter", QUERY_OPT_FILTER},     {"$select", QUERY_OPT_SELECT},
    {"$expand", QUERY_OPT_EXPAND},     {"$top", QUERY_OPT_TOP},
    {"$skip", QUERY_OPT_SKIP},         {"$skiptoken", QUERY_OPT_SKIPTOKEN},
    {"$orderby", QUERY_OPT_ORDERBY},   {"$count", QUERY_OPT_COUNT},
    {"$search", QUERY_OPT_SEARCH},     {"$format", QUERY_OPT_FORMAT},
    {"$apply", 0},                     {"$compute", 0},
    {"$levels", 0},                    {"$index", 0},
    {"$deltatoken", 0},                {"$schemaversion", 0},
    {"$id", 0},
};

static const struct option_def *find_option(const char *name) {
  for (size_t i = 0; i < sizeof OPTIONS / sizeof OPTIONS[0]; i++)
    if (strcasecmp(OPTIONS[i].name, name) == 0) return &OPTIONS[i];
  return NULL;
}

static void trim(const char **s, size_t *len) {
  while (*len && isspace((unsigned char)**s)) { (*s)++; (*len)--; }
  while (*len && isspace((unsigned char)(*s)[*len - 1])) (*len)--;
}

static int parse_nonneg(const char *opt, const char *v, int64_t *out, char *err, size_t errlen) {
  size_t n = strlen(v);
  if (n == 0)
    return fail(err, errlen, "Invalid value for %s: it is empty (expected a non-negative integer)",
                opt);
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)v[i]))
      return fail(err, errlen, "Invalid value for %s: '%.40s' is not a non-negative integer", opt,
                  v);
  }
  if (n > 18) return fail(err, errlen, "Invalid value for %s: '%.40s' is too large", opt, v);
  *out = strtoll(v, NULL, 10);
  return 0;
}

/* $select / $expand: comma-separated top-level names. */
static int parse_names(const char *opt, const char *v, bool is_select, char ***out, size_t *nout,
                       char *err, size_t errlen) {
  const char *p = v;
  bool star = false;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *item = p;
    trim(&item, &len);
    if (len == 0)
      return fail(err, errlen, "Invalid %s: empty name in '%.60s'", opt, v);
    if (len == 1 && item[0] == '*' && is_select) {
      star = true;
    } else if (!is_ident(item, len)) {
      const char *why = memchr(item, '(', len) ? " (nested query options are not supported)"
                        : memchr(item, '/', len) ? " (only top-level properties can be named)"
                        : item[0] == '*' ? " ('*' is not supported here)"
                        : " (not a property name)";
      return fail(err, errlen, "Invalid %s: '%.*s'%s", opt, (int)(len > 60 ? 60 : len), item,
                  why);
    } else {
      bool dup = false;
      for (size_t i = 0; i < *nout && !dup; i++)
        dup = strlen((*out)[i]) == len && strncasecmp((*out)[i], item, len) == 0;
      if (!dup) {
        if (*nout == ODATA_LIST_MAX_ITEMS)
          return fail(err, errlen, "Invalid %s: more than %d names", opt, ODATA_LIST_MAX_ITEMS);
        *out = xrealloc(*out, (*nout + 1) * sizeof **out);
        (*out)[(*nout)++] = xstrndup(item, len);
      }
    }
    if (!comma) break;
    p = comma + 1;
  }
  if (star) { /* $select=* : every property, as if there were no $select */
    for (size_t i = 0; i < *nout; i++) free((*out)[i]);
    free(*out);
    *out = NULL;
    *nout = 0;
  }
  return 0;
}

static int parse_orderby(const char *v, query_t *q, char *err, size_t errlen) {
  const char *p = v;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    const char *item = p;
    trim(&item, &len);
    if (len == 0) return fail(err, errlen, "Invalid $orderby: empty item in '%.60s'", v);
    if (q->norderby == QUERY_MAX_ORDERBY)
      return fail(err, errlen, "Invalid $orderby: more than %d properties", QUERY_MAX_ORDERBY);
    /* path [asc|desc] */
    size_t plen = 0;
    while (plen < len && !isspace((unsigned char)item[plen])) plen++;
    const char *dir = item + plen;
    size_t dlen = len - plen;
    trim(&dir, &dlen);
    query_order_t *o = &q->orderby[q->norderby];
    memset(o, 0, sizeof *o);
    if (dlen == 4 && strncasecmp(dir, "desc", 4) == 0) o->desc = true;
    else if (dlen && !(dlen == 3 && strncasecmp(dir, "asc", 3) == 0))
      return fail(err, errlen,
                  "Invalid $orderby: expected 'asc' or 'desc' after '%.*s', found '%.*s'",
                  (int)(plen > 60 ? 60 : plen), item, (int)(dlen > 20 ? 20 : dlen), dir);
    const char *s = item;
    size_t rest = plen;
    while (rest) {
      const char *slash = memchr(s, '/', rest);
      size_t seg = slash ? (size_t)(slash - s) : rest;
      if (!is_ident(s, seg) || o->path.nsegs == QUERY_MAX_PATH_SEGS) {
        query_path_clear(&o->path);
        return fail(err, errlen, "Invalid $orderby: '%.*s' is not a property path",
                    (int)(plen > 60 ? 60 : plen), item);
      }
      o->path.segs[o->path.nsegs++] = xstrndup(s, seg);
      if (!slash) break;
      s += seg + 1;
      rest -= seg + 1;
      if (!rest) { /* trailing '/' */
        query_path_clear(&o->path);
        return fail(err, errlen, "Invalid $orderby: '%.*s' is not a property path",
                    (int)(plen > 60 ? 60 : plen), item);
      }
    }
    for (size_t i = 0; i < q->norderby; i++) {
      buf_t b = BUF_INIT;
      query_path_format(&q->orderby[i].path, &b);
      bool same = query_path_equals(&o->path, b.data);
      buf_free(&b);
      if (same) {
        query_path_clear(&o->path);
        return fail(err, errlen, "Invalid $orderby: '%.*s' is listed twice",
                    (int)(plen > 60 ? 60 : plen), item);
      }
    }
    q->norderby++;
    if (!comma) break;
    p = comma + 1;
  }
  return 0;
}

static int parse_value(unsigned bit, const char *name, const char *v, query_t *q, char *err,
                       size_t errlen) {
  switch (bit) {
    case QUERY_OPT_FILTER:
      return odata_parse_filter(v, &q->filter, err, errlen);
    case QUERY_OPT_SELECT:
      return parse_names("$select", v, true, &q->select, &q->nselect, err, errlen);
    case QUERY_OPT_EXPAND:
      return parse_names("$expand", v, false, &q->expand, &q->nexpand, err, errlen);
    case QUERY_OPT_TOP:
      return parse_nonneg("$top", v, &q->top, err, errlen);
    case QUERY_OPT_SKIP:
      return parse_nonneg("$skip", v, &q->skip, err, errlen);
    case QUERY_OPT_ORDERBY:
      return parse_orderby(v, q, err, errlen);
    case QUERY_OPT_SKIPTOKEN:
      if (!*v) return fail(err, errlen, "Invalid $skiptoken: it is empty");
      q->skiptoken = xstrdup(v);
      return 0;
    case QUERY_OPT_COUNT:
      if (strcasecmp(v, "true") == 0) q->count = true;
      else if (strcasecmp(v, "false") == 0) q->count = false;
      else
        return fail(err, errlen, "Invalid value for $count: '%.40s' (expected true or false)", v);
      return 0;
    case QUERY_OPT_SEARCH:
      if (!*v || !query_utf8_valid(v, strlen(v)))
        return fail(err, errlen, "Invalid $search: it is empty or not valid UTF-8");
      q->search = xstrdup(v);
      return 0;
    case QUERY_OPT_FORMAT:
      if (strcasecmp(v, "json") != 0 && strcasecmp(v, "application/json") != 0 &&
          strncasecmp(v, "application/json;", 17) != 0)
        return fail(err, errlen, "Invalid value for $format: '%.40s' (only json is supported)", v);
      return 0;
  }
  return fail(err, errlen, "Query option '%s' is not supported", name);
}

/* Fills *out from the $-options of params (caller clears out, also after an error). */
int odata_parse(const http_param_t *params, size_t n, unsigned supported, query_t *out,
                char *err, size_t errlen, const char **inner_code) {
  query_init(out);
  if (inner_code) *inner_code = NULL;
  const struct option_def **defs = xcalloc(n ? n : 1, sizeof *defs);

  /* Names first: an unsupported option is reported before a malformed value. */
  for (size_t i = 0; i < n; i++) {
    defs[i] = NULL;
    const char *name = params[i].name;
    if (!name || name[0] != '$') continue;
    const struct option_def *d = find_option(name);
    if (!d) {
      fail(err, errlen, "'%.40s' is not a supported query option", name);
      goto bad;
    }
    if (d->bit == QUERY_OPT_COUNT && !(supported & QUERY_OPT_COUNT) &&
        (supported & ODATA_COLLECTION_OPTS)) {
      /* a collection without @odata.count: $count=false asks for nothing and is accepted */
      const char *v = params[i].value ? params[i].value : "";
      if (strcasecmp(v, "false") == 0) continue;
      if (strcasecmp(v, "true") == 0)
        fail(err, errlen, "Query option '$count' is not supported by this operation: this "
                          "collection does not return @odata.count, so $count=true is refused "
                          "($count=false is accepted; GET .../$count answers the number of its "
                          "members)");
      else
        fail(err, errlen, "Invalid value for $count: '%.40s' (expected true or false)", v);
      goto bad;
    }
    if (!(d->bit & supported)) {
      fail(err, errlen, "Query option '%s' is not supported by this operation", d->name);
      goto bad;
    }
    if (out->present & d->bit) {
      fail(err, errlen, "Query option '%s' is given more than once", d->name);
      goto bad;
    }
    out->present |= d->bit;
    defs[i] = d;
  }
  for (size_t i = 0; i < n; i++) {
    if (!defs[i]) continue;
    const char *v = params[i].value ? params[i].value : "";
    if (parse_value(defs[i]->bit, defs[i]->name, v, out, err, errlen) != 0) goto bad;
  }
  free(defs);
  defs = NULL;
  if (out->skiptoken) {
    query_pagetoken_t *t = xcalloc(1, sizeof *t);
    if (query_pagetoken_decode(out->skiptoken, t) != 0) {
      free(t);
      fail(err, errlen, "Invalid $skiptoken: the token is malformed (follow @odata.nextLink as "
                        "returned)");
      goto bad;
    }
    out->token = t;
    if (t->fingerprint != query_fingerprint(out)) {
      fail(err, errlen, "Invalid $skiptoken: the token was issued for a different $filter, "
                        "$orderby or $search (follow @odata.nextLink as returned)");
      goto bad;
    }
  }
  return 0;
bad:
  free(defs);
  if (inner_code) *inner_code = ODATA_INNER_CODE;
  query_clear(out);
  return -1;
}

/* ==== names, selection ==================================================================== */

/* Checks names against allowed and rewrites them to the allowed spelling. */
int odata_check_names(char **names, size_t n, const char *const *allowed, const char *what,
                      char *err, size_t errlen) {
  for (size_t i = 0; i < n; i++) {
    size_t j;
    for (j = 0; allowed[j]; j++)
      if (strcasecmp(names[i], allowed[j]) == 0) break;
    if (allowed[j]) {
      memcpy(names[i], allowed[j], strlen(allowed[j])); /* same length: ASCII case only */
      continue;
    }
    buf_t b = BUF_INIT;
    for (j = 0; allowed[j]; j++) buf_printf(&b, "%s%s", j ? ", " : "", allowed[j]);
    fail(err, errlen, "Invalid %s: '%.60s' is not supported here (allowed: %s)", what, names[i],
         b.data ? b.data : "none");
    buf_free(&b);
    return -1;
  }
  return 0;
}

/* True when name is selected (or there is no $select). */
bool odata_selected(const query_t *q, const char *name) {
  return q->nselect == 0 || odata_select_names(q, name);
}

bool odata_select_names(const query_t *q, const char *name) {
  for (size_t i = 0; i < q->nselect; i++)
    if (strcasecmp(q->select[i], name) == 0) return true;
  return false;
}

/* True when name is in $expand. */
bool odata_expanded(const query_t *q, const char *name) {
  for (size_t i = 0; i < q->nexpand; i++)
    if (strcasecmp(q->expand[i], name) == 0) return true;
  return false;
}

/* ==== nextLink ============================================================================ */

static bool is_unreserved(unsigned char c) {
  return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encodes s, keeping unreserved characters and those in keep. */
static void put_encoded(buf_t *b, const char *s, const char *keep) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (is_unreserved(*p) || (*p < 0x80 && strchr(keep, *p))) {
      buf_putc(b, (char)*p);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      buf_append(b, e, 3);
    }
  }
}

/* Builds the absolute nextLink; the caller frees the result. */
char *odata_build_next_link(const char *public_url, const char *path, const http_param_t *params,
                            size_t n, const char *skiptoken) {
  buf_t b = BUF_INIT;
  size_t blen = strlen(public_url);
  while (blen && public_url[blen - 1] == '/') blen--;
  buf_append(&b, public_url, blen);
  if (path[0] != '/') buf_putc(&b, '/');
  put_encoded(&b, path, "/:@!$&'()*,;=");  /* pchar and '/'; '+' is encoded */
  char sep = '?';
  for (size_t i = 0; i < n; i++) {
    const char *name = params[i].name;
    if (!name || strcasecmp(name, "$skip") == 0 || strcasecmp(name, "$skiptoken") == 0) continue;
    buf_putc(&b, sep);
    sep = '&';
    put_encoded(&b, name, "$");
    if (params[i].value) {
      buf_putc(&b, '=');
      put_encoded(&b, params[i].value, "/:@,");
    }
  }
  buf_putc(&b, sep);
  buf_puts(&b, "$skiptoken=");
  put_encoded(&b, skiptoken, "");
  return buf_detach(&b);
}

bool odata_parse_request(http_request_t *req, http_response_t *res, const odata_spec_t *spec,
                         query_t *q) {
  static const char *const none[] = {NULL};
  char err[768];
  const char *const *select = spec->select ? spec->select : none;
  if (req->version == API_BETA && spec->select_beta) select = spec->select_beta;
  unsigned mask = spec->mask;
  if (req->count_segment) {
    /* .../$count takes only what selects the entities counted */
    for (size_t i = 0; i < req->nquery; i++) {
      const char *name = req->query[i].name;
      if (!name || name[0] != '$' || !strcasecmp(name, "$filter") || !strcasecmp(name, "$search"))
        continue;
      graph_reply_error(req, res, 400, "invalidRequest", ODATA_INNER_CODE,
                        "Query option '%.40s' does not apply to /$count, which takes only "
                        "$filter and $search.", name);
      query_init(q);
      return false;
    }
    mask &= QUERY_OPT_FILTER | QUERY_OPT_SEARCH;
  }
  if (odata_parse(req->query, req->nquery, mask, q, err, sizeof err, NULL) != 0 ||
      odata_check_names(q->select, q->nselect, select, "$select", err, sizeof err) != 0 ||
      odata_check_names(q->expand, q->nexpand, spec->expand ? spec->expand : none, "$expand",
                        err, sizeof err) != 0) {
    graph_reply_error(req, res, 400, "invalidRequest", ODATA_INNER_CODE, "%s", err);
    query_clear(q);
    return false;
  }
  if (req->count_segment) q->count = true;
  req->odata_total = -1;
  if (q->count) q->total = &req->odata_total; /* the store counts; see graph_reply_collection */
  for (size_t i = 0; spec->not_listed && i < q->nselect; i++) {
    for (size_t k = 0; spec->not_listed[k]; k++) {
      if (strcasecmp(q->select[i], spec->not_listed[k]) != 0) continue;
      graph_reply_error(req, res, 400, "invalidRequest", ODATA_INNER_CODE,
                        "Invalid $select: '%s' is never returned by list operations; read one "
                        "(GET %s?$select=%s) instead.",
                        q->select[i], spec->one ? spec->one : "", q->select[i]);
      query_clear(q);
      return false;
    }
  }
  return true;
}

void odata_apply_select(json_t *o, const query_t *q) {
  if (!q || q->nselect == 0) return;
  const char *key;
  json_t *v;
  void *tmp;
  json_object_foreach_safe(o, tmp, key, v) {
    if (key[0] == '@' || strcmp(key, "id") == 0 || odata_selected(q, key) ||
        odata_expanded(q, key))
      continue;
    json_object_del(o, key);
  }
}
