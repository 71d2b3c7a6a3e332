/* SPDX-License-Identifier: Apache-2.0 */
/* Byte-range sets and the Content-Range / Range headers (see ranges.h). */
#include "core/ranges.h"
#include "util/buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An empty set. */
void range_set_init(range_set_t *s) { memset(s, 0, sizeof *s); }

/* Frees the ranges; the set is empty again. */
void range_set_clear(range_set_t *s) {
  free(s->v);
  range_set_init(s);
}

/* A deep copy of src into dst (dst's old contents are not freed). */
void range_set_copy(range_set_t *dst, const range_set_t *src) {
  range_set_init(dst);
  if (!src->n) return;
  dst->v = xmalloc(src->n * sizeof *dst->v);
  memcpy(dst->v, src->v, src->n * sizeof *dst->v);
  dst->n = dst->cap = src->n;
}

/* Index of the first range whose last >= pos (n when none): the only candidate that can
 * contain pos or lie just after it. */
static size_t lower_bound(const range_set_t *s, uint64_t pos) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->v[mid].last < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Whether [first, last] shares a byte with the set (binary search). */
bool range_set_overlaps(const range_set_t *s, uint64_t first, uint64_t last) {
  if (last < first) return false;
  size_t i = lower_bound(s, first);
  return i < s->n && s->v[i].first <= last;
}

/* Adds [first, last], merging touching neighbours; see ranges.h. */
ranges_rc_t range_set_add(range_set_t *s, uint64_t first, uint64_t last) {
  if (last < first || last > RANGES_MAX_SIZE) return RANGES_INVALID;
  size_t i = lower_bound(s, first);
  if (i < s->n && s->v[i].first <= last) return RANGES_OVERLAP;
  /* s->v[i] (if any) starts after last; s->v[i-1] (if any) ends before first. */
  bool join_left = i > 0 && s->v[i - 1].last + 1 == first;
  bool join_right = i < s->n && last + 1 == s->v[i].first;
  if (join_left && join_right) {
    s->v[i - 1].last = s->v[i].last;
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
    s->n--;
  } else if (join_left) {
    s->v[i - 1].last = last;
  } else if (join_right) {
    s->v[i].first = first;
  } else {
    if (s->n >= RANGES_MAX_PIECES) return RANGES_TOO_MANY;
    if (s->n == s->cap) {
      s->cap = s->cap ? s->cap * 2 : 8;
      s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    s->v[i] = (range_t){first, last};
    s->n++;
  }
  return RANGES_OK;
}

/* Bytes covered. */
uint64_t range_set_bytes(const range_set_t *s) {
  uint64_t total = 0;
  for (size_t i = 0; i < s->n; i++) total += s->v[i].last - s->v[i].first + 1;
  return total;
}

/* Whether the set is exactly [0, size-1]. */
bool range_set_complete(const range_set_t *s, uint64_t size) {
  if (size == 0) return s->n == 0;
  return s->n == 1 && s->v[0].first == 0 && s->v[0].last == size - 1;
}

/* The gaps within [0, size-1]; see ranges.h. */
size_t range_set_missing(const range_set_t *s, uint64_t size, range_t *out, size_t max) {
  size_t count = 0;
  uint64_t next = 0; /* first byte not yet accounted for */
  for (size_t i = 0; i < s->n && next < size; i++) {
    const range_t *r = &s->v[i];
    if (r->first > next) {
      uint64_t end = r->first - 1 < size - 1 ? r->first - 1 : size - 1;
      if (count < max) out[count] = (range_t){next, end};
      count++;
    }
    if (r->last >= next) next = r->last + 1; /* last <= RANGES_MAX_SIZE: no overflow */
  }
  if (next < size) {
    if (count < max) out[count] = (range_t){next, size - 1};
    count++;
  }
  return count;
}

/* The gaps as "first-last" strings (caller frees with range_strings_free). */
char **range_set_missing_strings(const range_set_t *s, uint64_t size, size_t *n) {
  size_t total = range_set_missing(s, size, NULL, 0);
  *n = total;
  if (!total) return NULL;
  range_t *gaps = xmalloc(total * sizeof *gaps);
  range_set_missing(s, size, gaps, total);
  char **v = xmalloc(total * sizeof *v);
  for (size_t i = 0; i < total; i++) {
    buf_t b = BUF_INIT;
    buf_printf(&b, "%llu-%llu", (unsigned long long)gaps[i].first,
               (unsigned long long)gaps[i].last);
    v[i] = buf_detach(&b);
  }
  free(gaps);
  return v;
}

/* Frees what range_set_missing_strings returned. */
void range_strings_free(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* "[[a,b],...]" (caller frees). */
char *range_set_format(const range_set_t *s) {
  buf_t b = BUF_INIT;
  buf_putc(&b, '[');
  for (size_t i = 0; i < s->n; i++)
    buf_printf(&b, "%s[%llu,%llu]", i ? "," : "", (unsigned long long)s->v[i].first,
               (unsigned long long)s->v[i].last);
  buf_putc(&b, ']');
  return buf_detach(&b);
}

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* Reads a decimal number of at most RANGES_MAX_SIZE; NULL when there is none or it is too
 * large. */
static const char *read_u64(const char *p, uint64_t *out) {
  if (!isdigit((unsigned char)*p)) return NULL;
  uint64_t v = 0;
  while (isdigit((unsigned char)*p)) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (RANGES_MAX_SIZE - d) / 10) return NULL;
    v = v * 10 + d;
    p++;
  }
  *out = v;
  return p;
}

/* Parses range_set_format's text, refusing non-canonical sets; see ranges.h. */
bool range_set_parse(const char *text, range_set_t *s) {
  range_set_init(s);
  if (!text) return false;
  const char *p = skip_ws(text);
  if (*p++ != '[') return false;
  p = skip_ws(p);
  if (*p == ']') return !*skip_ws(p + 1);
  for (;;) {
    uint64_t a, b;
    p = skip_ws(p);
    if (*p++ != '[') goto bad;
    if (!(p = read_u64(skip_ws(p), &a))) goto bad;
    p = skip_ws(p);
    if (*p++ != ',') goto bad;
    if (!(p = read_u64(skip_ws(p), &b))) goto bad;
    p = skip_ws(p);
    if (*p++ != ']') goto bad;
    /* Stored sets are canonical: each range starts past the previous one's end + 1. */
    if (b < a || (s->n && a <= s->v[s->n - 1].last + 1)) goto bad;
    if (range_set_add(s, a, b) != RANGES_OK) goto bad;
    p = skip_ws(p);
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p++ != ']') goto bad;
    if (*skip_ws(p)) goto bad;
    return true;
  }
bad:
  range_set_clear(s);
  return false;
}

/* ---- headers ---------------------------------------------------------------------------- */

/* Reads a decimal number, distinguishing "none" (NULL, *too_large false) from "too large". */
static const char *read_num(const char *p, uint64_t *out, bool *too_large) {
  if (!isdigit((unsigned char)*p)) return NULL;
  const char *q = read_u64(p, out);
  if (!q) *too_large = true;
  return q;
}

/* Parses an upload Content-Range; see ranges.h. */
content_range_rc_t content_range_parse(const char *hdr, uint64_t *first, uint64_t *last,
                                       uint64_t *total) {
  if (!hdr) return CONTENT_RANGE_MALFORMED;
  const char *p = skip_ws(hdr);
  if (strncasecmp(p, "bytes", 5) != 0) return CONTENT_RANGE_MALFORMED;
  p += 5;
  if (*p == '=') p++;
  else if (*p == ' ' || *p == '\t') p = skip_ws(p);
  else return CONTENT_RANGE_MALFORMED;
  p = skip_ws(p);
  bool too_large = false;
  uint64_t a, b, t;
  if (!(p = read_num(p, &a, &too_large))) goto fail;
  p = skip_ws(p);
  if (*p++ != '-') return CONTENT_RANGE_MALFORMED;
  if (!(p = read_num(skip_ws(p), &b, &too_large))) goto fail;
  p = skip_ws(p);
  if (*p++ != '/') return CONTENT_RANGE_MALFORMED;
  if (!(p = read_num(skip_ws(p), &t, &too_large))) goto fail;
  if (*skip_ws(p)) return CONTENT_RANGE_MALFORMED;
  if (b < a) return CONTENT_RANGE_BACKWARDS;
  if (b >= t) return CONTENT_RANGE_PAST_END;
  *first = a;
  *last = b;
  *total = t;
  return CONTENT_RANGE_OK;
fail:
  return too_large ? CONTENT_RANGE_TOO_LARGE : CONTENT_RANGE_MALFORMED;
}

/* A sentence for a 400 message about rc. */
const char *content_range_describe(content_range_rc_t rc) {
  switch (rc) {
    case CONTENT_RANGE_OK: return "The Content-Range is valid.";
    case CONTENT_RANGE_MALFORMED:
      return "The Content-Range header must be 'bytes {first}-{last}/{total}' with decimal "
             "byte positions.";
    case CONTENT_RANGE_BACKWARDS:
      return "The Content-Range's last byte position is before its first.";
    case CONTENT_RANGE_PAST_END:
      return "The Content-Range's last byte position is not below the total size.";
    case CONTENT_RANGE_TOO_LARGE:
      return "A Content-Range position exceeds the largest supported size.";
  }
  return "The Content-Range header is invalid.";
}

/* Interprets a download's Range header; see ranges.h. */
http_range_rc_t http_range_parse(const char *hdr, uint64_t size, uint64_t *first,
                                 uint64_t *last) {
  if (!hdr) return HTTP_RANGE_NONE;
  const char *p = skip_ws(hdr);
  if (strncasecmp(p, "bytes", 5) != 0) return HTTP_RANGE_NONE;
  p = skip_ws(p + 5);
  if (*p++ != '=') return HTTP_RANGE_NONE;
  p = skip_ws(p);
  if (strchr(p, ',')) return HTTP_RANGE_NONE; /* several ranges: send the whole body */
  uint64_t a = 0, b = 0;
  bool have_a = false, have_b = false, too_large = false;
  const char *q = read_num(p, &a, &too_large);
  if (q) {
    have_a = true;
    p = q;
  } else if (too_large) {
    return HTTP_RANGE_NONE;
  }
  p = skip_ws(p);
  if (*p++ != '-') return HTTP_RANGE_NONE;
  p = skip_ws(p);
  q = read_num(p, &b, &too_large);
  if (q) {
    have_b = true;
    p = q;
  } else if (too_large) {
    /* "a-<huge>" means "to the end"; a huge suffix means the whole body. */
    if (!have_a) return HTTP_RANGE_NONE;
    b = RANGES_MAX_SIZE;
    have_b = true;
    while (isdigit((unsigned char)*p)) p++;
  }
  if (*skip_ws(p)) return HTTP_RANGE_NONE;
  if (!have_a && !have_b) return HTTP_RANGE_NONE;
  if (have_a && have_b && b < a) return HTTP_RANGE_NONE; /* syntactically invalid: ignore */
  if (!have_a) {
    /* suffix: the last b bytes */
    if (b == 0 || size == 0) return HTTP_RANGE_UNSATISFIABLE;
    *first = b >= size ? 0 : size - b;
    *last = size - 1;
    return HTTP_RANGE_OK;
  }
  if (a >= size) return HTTP_RANGE_UNSATISFIABLE;
  *first = a;
  *last = !have_b || b >= size ? size - 1 : b;
  return HTTP_RANGE_OK;
}
