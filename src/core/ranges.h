/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte-range bookkeeping for upload sessions and downloads: pure functions, no I/O.
 *
 * An upload session remembers which bytes of the document it has received as a range set:
 * sorted, disjoint, inclusive [first, last] ranges with touching neighbours merged
 * ([0,9] + [10,19] is stored as [0,19]). From it come the overlap check of a new fragment
 * (416 fragmentOverlap), the completeness test, and the "nextExpectedRanges" strings of the
 * missing bytes ("0-99", "200-4533321": explicit inclusive ends, never Graph's open "N-",
 * which Kiota's upload task cannot parse).
 *
 * The store keeps a set as text, "[[first,last],...]" (upload_sessions.received).
 *
 * Also here: parsing of the upload Content-Range header ("bytes a-b/total", and the
 * documentation's "bytes=a-b/total") and of a download's Range header ("bytes=a-b", "a-",
 * "-n").
 *
 * Sizes and offsets are at most RANGES_MAX_SIZE (Graph sizes are Int64).
 */
#ifndef SPOOLD_CORE_RANGES_H
#define SPOOLD_CORE_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest document size a range may describe (INT64_MAX: sizes are Int64 on the wire). */
#define RANGES_MAX_SIZE ((uint64_t)INT64_MAX)
/* Most disjoint ranges a set may hold; a fragment that would split the received bytes into
 * more pieces is refused (a guard against a client sending millions of 1-byte fragments
 * out of order). */
#define RANGES_MAX_PIECES 8192

typedef struct range {
  uint64_t first; /* inclusive */
  uint64_t last;  /* inclusive, >= first */
} range_t;

/* A sorted set of disjoint, non-touching ranges. Owns v. Zero-initialized = empty. */
typedef struct range_set {
  range_t *v;
  size_t   n;
  size_t   cap;
} range_set_t;

typedef enum {
  RANGES_OK = 0,
  RANGES_OVERLAP,   /* the range shares at least one byte with the set */
  RANGES_INVALID,   /* last < first, or past RANGES_MAX_SIZE */
  RANGES_TOO_MANY,  /* the set would exceed RANGES_MAX_PIECES pieces */
} ranges_rc_t;

/* An empty set (nothing allocated until a range is added). */
void range_set_init(range_set_t *s);
/* Frees the ranges and empties the set. */
void range_set_clear(range_set_t *s);
/* A deep copy of src into dst (dst is overwritten, not freed first). */
void range_set_copy(range_set_t *dst, const range_set_t *src);

/* True when [first, last] shares a byte with the set. */
bool range_set_overlaps(const range_set_t *s, uint64_t first, uint64_t last);
/* Adds [first, last], merging with touching neighbours. Refuses (set unchanged) a range that
 * overlaps the set, an invalid one, or one that would make too many pieces. */
ranges_rc_t range_set_add(range_set_t *s, uint64_t first, uint64_t last);
/* Bytes covered by the set. */
uint64_t range_set_bytes(const range_set_t *s);
/* True when the set covers exactly [0, size-1] (size >= 1). */
bool range_set_complete(const range_set_t *s, uint64_t size);

/* The missing ranges of a document of size bytes (the gaps of the set within
 * [0, size-1]), at most max of them into out; returns how many there are in all. Ranges of
 * the set past the end are ignored. */
size_t range_set_missing(const range_set_t *s, uint64_t size, range_t *out, size_t max);
/* The missing ranges as "first-last" strings: a malloc'd array of malloc'd strings (free with
 * range_strings_free); *n receives the count (0 when complete). */
char **range_set_missing_strings(const range_set_t *s, uint64_t size, size_t *n);
/* Frees the n strings of v and v itself. */
void range_strings_free(char **v, size_t n);

/* The set as text "[[0,99],[200,299]]" (malloc'd; "[]" when empty). */
char *range_set_format(const range_set_t *s);
/* Parses range_set_format's text (whitespace allowed) into *s (initialized here). Returns
 * false (s left empty) for malformed text, unsorted, overlapping or touching ranges. */
bool range_set_parse(const char *text, range_set_t *s);

/* ---- headers ---------------------------------------------------------------------------- */

typedef enum {
  CONTENT_RANGE_OK = 0,
  CONTENT_RANGE_MALFORMED,   /* not "bytes a-b/total" (or "bytes=a-b/total") */
  CONTENT_RANGE_BACKWARDS,   /* b < a */
  CONTENT_RANGE_PAST_END,    /* b >= total */
  CONTENT_RANGE_TOO_LARGE,   /* a number above RANGES_MAX_SIZE */
} content_range_rc_t;

/* Parses an upload fragment's Content-Range: "bytes a-b/total" or "bytes=a-b/total"
 * (case-insensitive unit, spaces around the numbers tolerated). Numbers are decimal digits
 * only. On CONTENT_RANGE_OK fills first, last (inclusive) and total. */
content_range_rc_t content_range_parse(const char *hdr, uint64_t *first, uint64_t *last,
                                       uint64_t *total);
/* A sentence describing rc for a 400 message. */
const char *content_range_describe(content_range_rc_t rc);

typedef enum {
  HTTP_RANGE_NONE = 0,        /* no usable Range: send the whole body (absent, malformed,
                                 several ranges, another unit) */
  HTTP_RANGE_OK,              /* one satisfiable range in *first..*last */
  HTTP_RANGE_UNSATISFIABLE,   /* 416 with "Content-Range: bytes * /size" */
} http_range_rc_t;

/* Interprets a download's Range header against a body of size bytes: "bytes=a-b", "bytes=a-",
 * "bytes=-n" (the last n bytes). A last position past the end is clipped to size-1. NULL or
 * anything not understood is HTTP_RANGE_NONE (RFC 9110 lets a server ignore Range). */
http_range_rc_t http_range_parse(const char *hdr, uint64_t size, uint64_t *first,
                                 uint64_t *last);

#endif
