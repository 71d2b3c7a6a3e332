/* SPDX-License-Identifier: Apache-2.0 */
/* OData query options as data: values, paths, the $filter AST, page tokens. */
#include "core/query.h"
#include "util/b64.h"
#include "util/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- values ----------------------------------------------------------------------------- */

/* Frees a string value's text (the value owned it) and leaves v NULL. */
void query_value_clear(query_value_t *v) {
  if (v->type == QUERY_VAL_STRING) free(v->u.s);
  memset(v, 0, sizeof *v);
  v->type = QUERY_VAL_NULL;
}

/* Deep copy; the caller owns the copy's string. */
query_value_t query_value_copy(const query_value_t *v) {
  query_value_t c = *v;
  if (v->type == QUERY_VAL_STRING) c.u.s = xstrdup(v->u.s);
  return c;
}

/* Static type name for messages. */
const char *query_vtype_name(query_vtype_t t) {
  switch (t) {
    case QUERY_VAL_NULL: return "null";
    case QUERY_VAL_STRING: return "string";
    case QUERY_VAL_INT64: return "integer";
    case QUERY_VAL_DOUBLE: return "number";
    case QUERY_VAL_BOOL: return "boolean";
    case QUERY_VAL_DATETIME: return "date-time";
  }
  return "?";
}

/* Strict UTF-8 check of s[0..len): no overlongs, surrogates or NULs. */
bool query_utf8_valid(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c == 0) return false;
    if (c < 0x80) { i++; continue; }
    size_t n;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
    else return false;
    if (len - i <= n) return false;
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

/* ---- paths ------------------------------------------------------------------------------ */

void query_path_clear(query_path_t *p) {
  for (size_t i = 0; i < p->nsegs; i++) free(p->segs[i]);
  memset(p, 0, sizeof *p);
}

/* Appends "a/b/c" to out. */
void query_path_format(const query_path_t *p, buf_t *out) {
  for (size_t i = 0; i < p->nsegs; i++) {
    if (i) buf_putc(out, '/');
    buf_puts(out, p->segs[i]);
  }
}

/* Case-insensitive match of p against the text form "a/b". */
bool query_path_equals(const query_path_t *p, const char *text) {
  const char *t = text;
  for (size_t i = 0; i < p->nsegs; i++) {
    if (i) {
      if (*t != '/') return false;
      t++;
    }
    size_t n = strlen(p->segs[i]);
    if (strncasecmp(t, p->segs[i], n) != 0) return false;
    t += n;
  }
  return p->nsegs > 0 && *t == '\0';
}

/* ---- filter AST ------------------------------------------------------------------------- */

/* A zeroed node; the caller owns it (query_filter_free). */
query_filter_t *query_filter_new(query_fkind_t kind, size_t pos) {
  query_filter_t *f = xcalloc(1, sizeof *f);
  f->kind = kind;
  f->pos = pos;
  f->value.type = QUERY_VAL_NULL;
  return f;
}

/* Appends kid to parent, which takes ownership. */
void query_filter_add(query_filter_t *parent, query_filter_t *kid) {
  parent->kids = xrealloc(parent->kids, (parent->nkids + 1) * sizeof *parent->kids);
  parent->kids[parent->nkids++] = kid;
}

/* Frees f and its whole subtree. */
void query_filter_free(query_filter_t *f) {
  if (!f) return;
  for (size_t i = 0; i < f->nkids; i++) query_filter_free(f->kids[i]);
  free(f->kids);
  query_path_clear(&f->path);
  query_value_clear(&f->value);
  free(f->var);
  free(f);
}

/* Static OData name of op. */
const char *query_op_name(query_op_t op) {
  static const char *const names[] = {"eq", "ne", "gt", "ge", "lt", "le",
                                      "startswith", "endswith", "contains"};
  return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

static void format_value(const query_value_t *v, buf_t *out) {
  switch (v->type) {
    case QUERY_VAL_NULL: buf_puts(out, "null"); break;
    case QUERY_VAL_BOOL: buf_puts(out, v->u.b ? "true" : "false"); break;
    case QUERY_VAL_INT64: buf_printf(out, "%lld", (long long)v->u.i); break;
    case QUERY_VAL_DOUBLE: {
      char tmp[40];
      snprintf(tmp, sizeof tmp, "%.17g", v->u.d);
      buf_puts(out, tmp);
      if (!strpbrk(tmp, ".eEni")) buf_puts(out, ".0"); /* keep 1.0 apart from the integer 1 */
      break;
    }
    case QUERY_VAL_DATETIME: {
      char iso[TIME_ISO_LEN];
      time_format_iso(v->u.i, iso);
      buf_puts(out, iso);
      break;
    }
    case QUERY_VAL_STRING:
      buf_putc(out, '\'');
      for (const char *p = v->u.s; *p; p++) {
        if (*p == '\'') buf_putc(out, '\'');
        buf_putc(out, *p);
      }
      buf_putc(out, '\'');
      break;
  }
}

/* Appends the canonical parenthesized form of f to out. */
void query_filter_format(const query_filter_t *f, buf_t *out) {
  if (!f) return;
  switch (f->kind) {
    case QUERY_F_CMP:
      buf_printf(out, "(%s ", query_op_name(f->op));
      query_path_format(&f->path, out);
      buf_putc(out, ' ');
      format_value(&f->value, out);
      buf_putc(out, ')');
      break;
    case QUERY_F_AND:
    case QUERY_F_OR:
    case QUERY_F_NOT:
      buf_puts(out, f->kind == QUERY_F_AND ? "(and" : f->kind == QUERY_F_OR ? "(or" : "(not");
      for (size_t i = 0; i < f->nkids; i++) {
        buf_putc(out, ' ');
        query_filter_format(f->kids[i], out);
      }
      buf_putc(out, ')');
      break;
    case QUERY_F_ANY:
    case QUERY_F_ALL:
      buf_puts(out, f->kind == QUERY_F_ANY ? "(any " : "(all ");
      query_path_format(&f->path, out);
      if (f->var) buf_printf(out, " %s", f->var);
      for (size_t i = 0; i < f->nkids; i++) {
        buf_putc(out, ' ');
        query_filter_format(f->kids[i], out);
      }
      buf_putc(out, ')');
      break;
  }
}

/* ---- the whole query -------------------------------------------------------------------- */

/* Empty query: no options, top = -1. */
void query_init(query_t *q) {
  memset(q, 0, sizeof *q);
  q->top = -1;
}

static void free_list(char **l, size_t n) {
  for (size_t i = 0; i < n; i++) free(l[i]);
  free(l);
}

/* Frees everything q owns and re-initializes it. */
void query_clear(query_t *q) {
  query_filter_free(q->filter);
  free_list(q->select, q->nselect);
  free_list(q->expand, q->nexpand);
  free(q->skiptoken);
  if (q->token) {
    query_pagetoken_clear(q->token);
    free(q->token);
  }
  for (size_t i = 0; i < q->norderby; i++) query_path_clear(&q->orderby[i].path);
  free(q->search);
  query_init(q);
}

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME  0x100000001b3ull

static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= FNV64_PRIME;
  }
  return h;
}

/* FNV-1a 64 over the canonical $filter, $orderby and $search. */
uint64_t query_fingerprint(const query_t *q) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "filter:");
  query_filter_format(q->filter, &b);
  buf_puts(&b, "\norderby:");
  for (size_t i = 0; i < q->norderby; i++) {
    query_path_format(&q->orderby[i].path, &b);
    buf_puts(&b, q->orderby[i].desc ? " desc," : " asc,");
  }
  buf_puts(&b, "\nsearch:");
  if (q->search) buf_printf(&b, "%zu:%s", strlen(q->search), q->search);
  uint64_t h = fnv1a(FNV64_OFFSET, b.data, b.len);
  buf_free(&b);
  return h;
}

/* Rows per page: the default without $top, else $top, capped at max. */
int64_t query_page_size(const query_t *q, int64_t max) {
  int64_t n = q->top < 0 ? QUERY_PAGE_DEFAULT : q->top;
  return n > max ? max : n;
}

/* ---- page tokens -------------------------------------------------------------------------
 *
 * Binary layout before base64url:
 *   u8 version (1) | u64 fingerprint (big-endian) | u8 nkeys | nkeys x key | u32 check
 * key = u8 tag, then: NULL -, STRING varint length + bytes, INT64/DATETIME zigzag varint,
 * DOUBLE 8 bytes big-endian IEEE 754, BOOL_FALSE/BOOL_TRUE -. check = the low 32 bits of the
 * FNV-1a hash of everything before it (it catches truncated or mangled tokens; it is not a
 * signature). Varints are LEB128 and must be minimal.
 */

#define TOKEN_VERSION 1
enum { TAG_NULL = 0, TAG_STRING = 1, TAG_INT64 = 2, TAG_DOUBLE = 3, TAG_FALSE = 4, TAG_TRUE = 5,
       TAG_DATETIME = 6 };

static void put_varint(buf_t *b, uint64_t v) {
  do {
    unsigned char c = v & 0x7f;
    v >>= 7;
    if (v) c |= 0x80;
    buf_putc(b, (char)c);
  } while (v);
}

static void put_u64(buf_t *b, uint64_t v) {
  for (int i = 7; i >= 0; i--) buf_putc(b, (char)(v >> (i * 8) & 0xff));
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Encodes a page token; returns a malloc'd string the caller frees, or NULL. */
char *query_pagetoken_encode(uint64_t fingerprint, const query_value_t *keys, size_t nkeys) {
  if (nkeys == 0 || nkeys > QUERY_MAX_KEYS) return NULL;
  buf_t b = BUF_INIT;
  buf_putc(&b, TOKEN_VERSION);
  put_u64(&b, fingerprint);
  buf_putc(&b, (char)nkeys);
  for (size_t i = 0; i < nkeys; i++) {
    const query_value_t *k = &keys[i];
    switch (k->type) {
      case QUERY_VAL_NULL: buf_putc(&b, TAG_NULL); break;
      case QUERY_VAL_STRING: {
        size_t n = k->u.s ? strlen(k->u.s) : 0;
        if (!k->u.s || n > QUERY_TOKEN_MAX_STR || !query_utf8_valid(k->u.s, n)) goto fail;
        buf_putc(&b, TAG_STRING);
        put_varint(&b, n);
        buf_append(&b, k->u.s, n);
        break;
      }
      case QUERY_VAL_INT64:
      case QUERY_VAL_DATETIME:
        buf_putc(&b, k->type == QUERY_VAL_INT64 ? TAG_INT64 : TAG_DATETIME);
        put_varint(&b, zigzag(k->u.i));
        break;
      case QUERY_VAL_DOUBLE: {
        if (isnan(k->u.d)) goto fail;
        uint64_t bits;
        memcpy(&bits, &k->u.d, sizeof bits);
        buf_putc(&b, TAG_DOUBLE);
        put_u64(&b, bits);
        break;
      }
      case QUERY_VAL_BOOL: buf_putc(&b, k->u.b ? TAG_TRUE : TAG_FALSE); break;
      default: goto fail;
    }
  }
  uint32_t check = (uint32_t)fnv1a(FNV64_OFFSET, b.data, b.len);
  for (int i = 3; i >= 0; i--) buf_putc(&b, (char)(check >> (i * 8) & 0xff));

  size_t outlen = (b.len * 4 + 2) / 3 + 1;
  if (outlen > QUERY_TOKEN_MAX + 1) goto fail;
  char *out = xmalloc(outlen);
  if (!b64url_encode(b.data, b.len, out, outlen)) {
    free(out);
    goto fail;
  }
  buf_free(&b);
  return out;
fail:
  buf_free(&b);
  return NULL;
}

typedef struct reader {
  const unsigned char *p, *end;
} reader_t;

static bool get_u8(reader_t *r, unsigned *v) {
  if (r->p >= r->end) return false;
  *v = *r->p++;
  return true;
}

static bool get_u64(reader_t *r, uint64_t *v) {
  if (r->end - r->p < 8) return false;
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) x = x << 8 | *r->p++;
  *v = x;
  return true;
}

static bool get_varint(reader_t *r, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end) return false;
    unsigned c = *r->p++;
    if (shift == 63 && c > 1) return false;          /* beyond 64 bits */
    x |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      if (c == 0 && shift > 0) return false;         /* not minimal */
      *v = x;
      return true;
    }
  }
  return false;
}

/* Decodes and validates a token into out (caller clears it); -1 when malformed. */
int query_pagetoken_decode(const char *text, query_pagetoken_t *out) {
  memset(out, 0, sizeof *out);
  if (!text) return -1;
  size_t tlen = strlen(text);
  if (tlen == 0 || tlen > QUERY_TOKEN_MAX) return -1;
  size_t len;
  unsigned char *raw = b64url_decode(text, tlen, &len);
  if (!raw) return -1;
  /* Only the canonical, unpadded spelling is accepted (the encoder's own). */
  if (memchr(text, '=', tlen) || len < 1 + 8 + 1 + 4) goto bad;

  uint32_t check = (uint32_t)fnv1a(FNV64_OFFSET, raw, len - 4);
  uint32_t given = (uint32_t)raw[len - 4] << 24 | (uint32_t)raw[len - 3] << 16 |
                   (uint32_t)raw[len - 2] << 8 | raw[len - 1];
  if (check != given) goto bad;

  reader_t r = {raw, raw + len - 4};
  unsigned version, nkeys;
  if (!get_u8(&r, &version) || version != TOKEN_VERSION) goto bad;
  if (!get_u64(&r, &out->fingerprint)) goto bad;
  if (!get_u8(&r, &nkeys) || nkeys == 0 || nkeys > QUERY_MAX_KEYS) goto bad;
  out->version = (uint8_t)version;
  for (size_t i = 0; i < nkeys; i++) {
    query_value_t *k = &out->keys[i];
    unsigned tag;
    uint64_t u;
    if (!get_u8(&r, &tag)) goto bad;
    switch (tag) {
      case TAG_NULL: k->type = QUERY_VAL_NULL; break;
      case TAG_FALSE:
      case TAG_TRUE: k->type = QUERY_VAL_BOOL; k->u.b = tag == TAG_TRUE; break;
      case TAG_INT64:
      case TAG_DATETIME:
        if (!get_varint(&r, &u)) goto bad;
        k->type = tag == TAG_INT64 ? QUERY_VAL_INT64 : QUERY_VAL_DATETIME;
        k->u.i = unzigzag(u);
        break;
      case TAG_DOUBLE:
        if (!get_u64(&r, &u)) goto bad;
        k->type = QUERY_VAL_DOUBLE;
        memcpy(&k->u.d, &u, sizeof u);
        if (isnan(k->u.d)) goto bad;
        break;
      case TAG_STRING:
        if (!get_varint(&r, &u) || u > QUERY_TOKEN_MAX_STR || u > (uint64_t)(r.end - r.p))
          goto bad;
        if (!query_utf8_valid((const char *)r.p, (size_t)u)) goto bad;
        k->type = QUERY_VAL_STRING;
        k->u.s = xstrndup((const char *)r.p, (size_t)u);
        r.p += u;
        break;
      default: goto bad;
    }
    out->nkeys = i + 1;
  }
  if (r.p != r.end) goto bad;
  free(raw);
  return 0;
bad:
  free(raw);
  query_pagetoken_clear(out);
  return -1;
}

/* Frees the token's string keys and empties it. */
void query_pagetoken_clear(query_pagetoken_t *t) {
  for (size_t i = 0; i < t->nkeys; i++) query_value_clear(&t->keys[i]);
  memset(t, 0, sizeof *t);
}
