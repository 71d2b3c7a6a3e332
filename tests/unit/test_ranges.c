/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/ranges: the range sets of upload sessions (add, overlap, gaps, completeness, the
 * stored text form) and the Content-Range / Range header parsers. Besides the hand-written
 * cases, every sequence of fragments over small documents is checked against a byte map.
 */
#include "core/ranges.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a-b,c-d" of the missing ranges, for compact assertions. */
static char *missing_text(const range_set_t *s, uint64_t size) {
  size_t n = 0;
  char **v = range_set_missing_strings(s, size, &n);
  size_t len = 1;
  for (size_t i = 0; i < n; i++) len += strlen(v[i]) + 1;
  char *out = calloc(1, len);
  for (size_t i = 0; i < n; i++) {
    if (i) strcat(out, ",");
    strcat(out, v[i]);
  }
  range_strings_free(v, n);
  return out;
}

#define ASSERT_MISSING(s, size, want)                                        \
  do {                                                                       \
    char *got_ = missing_text((s), (size));                                  \
    cr_assert_str_eq(got_, (want), "missing of size %llu",                   \
                     (unsigned long long)(size));                            \
    free(got_);                                                              \
  } while (0)

#define ASSERT_FORMAT(s, want)                  \
  do {                                          \
    char *got_ = range_set_format(s);           \
    cr_assert_str_eq(got_, (want));             \
    free(got_);                                 \
  } while (0)

/* ---- add / merge / overlap ---------------------------------------------------------------- */

Test(ranges, empty_set_misses_everything) {
  range_set_t s;
  range_set_init(&s);
  ASSERT_MISSING(&s, 100, "0-99");
  ASSERT_MISSING(&s, 1, "0-0");
  cr_assert(!range_set_complete(&s, 100));
  cr_assert_eq(range_set_bytes(&s), 0);
  ASSERT_FORMAT(&s, "[]");
  cr_assert(!range_set_overlaps(&s, 0, 0));
  range_set_clear(&s);
}

Test(ranges, in_order_fragments_merge_into_one) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 0, 9), RANGES_OK);
  ASSERT_MISSING(&s, 30, "10-29");
  cr_assert_eq(range_set_add(&s, 10, 19), RANGES_OK);
  ASSERT_FORMAT(&s, "[[0,19]]");
  cr_assert(!range_set_complete(&s, 30));
  cr_assert_eq(range_set_add(&s, 20, 29), RANGES_OK);
  ASSERT_FORMAT(&s, "[[0,29]]");
  cr_assert(range_set_complete(&s, 30));
  ASSERT_MISSING(&s, 30, "");
  cr_assert_eq(range_set_bytes(&s), 30);
  range_set_clear(&s);
}

Test(ranges, reverse_order_fragments_merge) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 20, 29), RANGES_OK);
  ASSERT_MISSING(&s, 30, "0-19");
  cr_assert_eq(range_set_add(&s, 10, 19), RANGES_OK);
  ASSERT_FORMAT(&s, "[[10,29]]");
  cr_assert_eq(range_set_add(&s, 0, 9), RANGES_OK);
  cr_assert(range_set_complete(&s, 30));
  range_set_clear(&s);
}

Test(ranges, out_of_order_lists_every_gap) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 100, 199), RANGES_OK);
  cr_assert_eq(range_set_add(&s, 300, 399), RANGES_OK);
  ASSERT_MISSING(&s, 500, "0-99,200-299,400-499");
  cr_assert_eq(range_set_add(&s, 0, 49), RANGES_OK);
  ASSERT_MISSING(&s, 500, "50-99,200-299,400-499");
  ASSERT_FORMAT(&s, "[[0,49],[100,199],[300,399]]");
  /* filling the middle gap joins both neighbours */
  cr_assert_eq(range_set_add(&s, 200, 299), RANGES_OK);
  ASSERT_FORMAT(&s, "[[0,49],[100,399]]");
  cr_assert_eq(range_set_add(&s, 50, 99), RANGES_OK);
  ASSERT_FORMAT(&s, "[[0,399]]");
  cr_assert_eq(range_set_add(&s, 400, 499), RANGES_OK);
  cr_assert(range_set_complete(&s, 500));
  range_set_clear(&s);
}

Test(ranges, duplicates_and_every_kind_of_overlap_are_refused) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 100, 199), RANGES_OK);
  cr_assert_eq(range_set_add(&s, 100, 199), RANGES_OVERLAP, "exact duplicate");
  cr_assert_eq(range_set_add(&s, 50, 100), RANGES_OVERLAP, "touches the first byte");
  cr_assert_eq(range_set_add(&s, 199, 250), RANGES_OVERLAP, "touches the last byte");
  cr_assert_eq(range_set_add(&s, 120, 130), RANGES_OVERLAP, "inside");
  cr_assert_eq(range_set_add(&s, 0, 1000), RANGES_OVERLAP, "around");
  cr_assert_eq(range_set_add(&s, 150, 150), RANGES_OVERLAP, "one byte inside");
  cr_assert(range_set_overlaps(&s, 199, 199));
  cr_assert(range_set_overlaps(&s, 100, 100));
  /* off by one on both sides: adjacent, not overlapping */
  cr_assert(!range_set_overlaps(&s, 99, 99));
  cr_assert(!range_set_overlaps(&s, 200, 200));
  cr_assert(!range_set_overlaps(&s, 0, 99));
  cr_assert(!range_set_overlaps(&s, 200, 1000));
  ASSERT_FORMAT(&s, "[[100,199]]");
  cr_assert_eq(range_set_add(&s, 99, 99), RANGES_OK);
  cr_assert_eq(range_set_add(&s, 200, 200), RANGES_OK);
  ASSERT_FORMAT(&s, "[[99,200]]");
  range_set_clear(&s);
}

Test(ranges, overlap_spanning_several_pieces) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 10, 19), RANGES_OK);
  cr_assert_eq(range_set_add(&s, 30, 39), RANGES_OK);
  cr_assert_eq(range_set_add(&s, 50, 59), RANGES_OK);
  cr_assert_eq(range_set_add(&s, 20, 29), RANGES_OK);
  ASSERT_FORMAT(&s, "[[10,39],[50,59]]");
  cr_assert_eq(range_set_add(&s, 0, 55), RANGES_OVERLAP);
  cr_assert_eq(range_set_add(&s, 40, 50), RANGES_OVERLAP);
  cr_assert_eq(range_set_add(&s, 40, 49), RANGES_OK);
  ASSERT_FORMAT(&s, "[[10,59]]");
  range_set_clear(&s);
}

Test(ranges, invalid_ranges) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 5, 4), RANGES_INVALID);
  cr_assert_eq(range_set_add(&s, 0, RANGES_MAX_SIZE + 1), RANGES_INVALID);
  cr_assert_eq(range_set_add(&s, UINT64_MAX, UINT64_MAX), RANGES_INVALID);
  cr_assert_eq(s.n, 0);
  cr_assert(!range_set_overlaps(&s, 5, 4));
  range_set_clear(&s);
}

Test(ranges, single_byte_document) {
  range_set_t s;
  range_set_init(&s);
  ASSERT_MISSING(&s, 1, "0-0");
  cr_assert(!range_set_complete(&s, 1));
  cr_assert_eq(range_set_add(&s, 0, 0), RANGES_OK);
  cr_assert(range_set_complete(&s, 1));
  ASSERT_MISSING(&s, 1, "");
  cr_assert_eq(range_set_add(&s, 0, 0), RANGES_OVERLAP);
  range_set_clear(&s);
}

Test(ranges, first_and_last_byte_alone) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 0, 0), RANGES_OK);
  cr_assert_eq(range_set_add(&s, 9, 9), RANGES_OK);
  ASSERT_MISSING(&s, 10, "1-8");
  cr_assert_eq(range_set_add(&s, 1, 8), RANGES_OK);
  cr_assert(range_set_complete(&s, 10));
  range_set_clear(&s);
}

Test(ranges, two_byte_document_both_orders) {
  for (int order = 0; order < 2; order++) {
    range_set_t s;
    range_set_init(&s);
    cr_assert_eq(range_set_add(&s, order ? 1 : 0, order ? 1 : 0), RANGES_OK);
    ASSERT_MISSING(&s, 2, order ? "0-0" : "1-1");
    cr_assert(!range_set_complete(&s, 2));
    cr_assert_eq(range_set_add(&s, order ? 0 : 1, order ? 0 : 1), RANGES_OK);
    cr_assert(range_set_complete(&s, 2));
    range_set_clear(&s);
  }
}

Test(ranges, complete_needs_exactly_the_document) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 0, 99), RANGES_OK);
  cr_assert(range_set_complete(&s, 100));
  cr_assert(!range_set_complete(&s, 101), "one byte short");
  cr_assert(!range_set_complete(&s, 99), "one byte too many");
  range_set_clear(&s);
  cr_assert(range_set_complete(&s, 0), "the empty set completes an empty document");
}

Test(ranges, ranges_past_the_end_are_ignored_by_missing) {
  range_set_t s;
  range_set_init(&s);
  cr_assert_eq(range_set_add(&s, 50, 200), RANGES_OK);
  ASSERT_MISSING(&s, 100, "0-49");
  cr_assert_eq(range_set_add(&s, 300, 400), RANGES_OK);
  ASSERT_MISSING(&s, 100, "0-49");
  ASSERT_MISSING(&s, 500, "0-49,201-299,401-499");
  range_set_clear(&s);
}

Test(ranges, missing_with_a_small_output_array_still_counts_all) {
  range_set_t s;
  range_set_init(&s);
  for (uint64_t i = 1; i < 100; i += 2) cr_assert_eq(range_set_add(&s, i, i), RANGES_OK);
  range_t out[3];
  size_t n = range_set_missing(&s, 100, out, 3);
  cr_assert_eq(n, 50);
  cr_assert_eq(out[0].first, 0);
  cr_assert_eq(out[0].last, 0);
  cr_assert_eq(out[2].first, 4);
  cr_assert_eq(range_set_missing(&s, 100, NULL, 0), 50);
  range_set_clear(&s);
}

Test(ranges, max_sizes) {
  const uint64_t max = RANGES_MAX_SIZE;
  range_set_t s;
  range_set_init(&s);
  /* a document of the largest size: last byte is max - 1 */
  char want[64];
  snprintf(want, sizeof want, "0-%llu", (unsigned long long)(max - 1));
  ASSERT_MISSING(&s, max, want);
  cr_assert_eq(range_set_add(&s, max - 1, max - 1), RANGES_OK);
  snprintf(want, sizeof want, "0-%llu", (unsigned long long)(max - 2));
  ASSERT_MISSING(&s, max, want);
  cr_assert_eq(range_set_add(&s, 0, max - 2), RANGES_OK);
  cr_assert(range_set_complete(&s, max));
  cr_assert_eq(range_set_bytes(&s), max);
  char *text = range_set_format(&s);
  range_set_t back;
  cr_assert(range_set_parse(text, &back));
  cr_assert(range_set_complete(&back, max));
  free(text);
  range_set_clear(&back);
  /* the very last representable position */
  range_set_clear(&s);
  cr_assert_eq(range_set_add(&s, max, max), RANGES_OK);
  cr_assert(range_set_overlaps(&s, max, max));
  cr_assert_eq(range_set_add(&s, max - 1, max), RANGES_OVERLAP);
  range_set_clear(&s);
}

Test(ranges, too_many_pieces_is_refused_but_merging_still_works) {
  range_set_t s;
  range_set_init(&s);
  for (uint64_t i = 0; i < RANGES_MAX_PIECES; i++)
    cr_assert_eq(range_set_add(&s, i * 2, i * 2), RANGES_OK);
  cr_assert_eq(s.n, RANGES_MAX_PIECES);
  cr_assert_eq(range_set_add(&s, RANGES_MAX_PIECES * 4, RANGES_MAX_PIECES * 4), RANGES_TOO_MANY);
  cr_assert_eq(s.n, RANGES_MAX_PIECES);
  /* filling a gap reduces the pieces, extending one keeps them */
  cr_assert_eq(range_set_add(&s, 1, 1), RANGES_OK);
  cr_assert_eq(s.n, RANGES_MAX_PIECES - 1);
  cr_assert_eq(range_set_add(&s, RANGES_MAX_PIECES * 2 - 1, RANGES_MAX_PIECES * 2 + 5), RANGES_OK);
  cr_assert_eq(s.n, RANGES_MAX_PIECES - 1);
  range_set_clear(&s);
}

Test(ranges, copy_is_deep) {
  range_set_t a, b;
  range_set_init(&a);
  range_set_add(&a, 10, 20);
  range_set_copy(&b, &a);
  range_set_add(&a, 30, 40);
  ASSERT_FORMAT(&b, "[[10,20]]");
  range_set_clear(&a);
  range_set_clear(&b);
  range_set_copy(&b, &a);
  cr_assert_eq(b.n, 0);
}

/* ---- stored text form ------------------------------------------------------------------- */

Test(ranges, parse_round_trip_and_whitespace) {
  range_set_t s;
  cr_assert(range_set_parse("[]", &s));
  cr_assert_eq(s.n, 0);
  cr_assert(range_set_parse(" [ ] ", &s));
  cr_assert(range_set_parse("[[0,9]]", &s));
  ASSERT_FORMAT(&s, "[[0,9]]");
  range_set_clear(&s);
  cr_assert(range_set_parse(" [ [0 , 9] , [20,29 ] ]\n", &s));
  ASSERT_FORMAT(&s, "[[0,9],[20,29]]");
  range_set_clear(&s);
}

Test(ranges, parse_refuses_malformed_and_non_canonical_text) {
  static const char *bad[] = {
      NULL, "", "[", "]", "[[0,9]", "[[0,9]],", "[[0,9],]", "[[0 9]]", "[[-1,9]]", "[[9,0]]",
      "[[0,9],[5,20]]",  /* overlapping */
      "[[0,9],[10,20]]", /* touching (would have been merged) */
      "[[20,29],[0,9]]", /* unsorted */
      "[[0,9]] x", "[[0,9.5]]", "[[0,99999999999999999999]]", "{}", "[0,9]",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    range_set_t s;
    cr_assert(!range_set_parse(bad[i], &s), "accepted %s", bad[i] ? bad[i] : "NULL");
    cr_assert_eq(s.n, 0);
    cr_assert_null(s.v);
  }
}

/* ---- model check: every fragment sequence over small documents ---------------------------- */

/* Adds every fragment in order to a set and to a byte map, checking each answer of the set
 * against the map: overlap, completeness, bytes and the missing ranges. */
static void check_against_map(uint64_t size, const range_t *frags, size_t n) {
  bool have[16] = {false};
  range_set_t s;
  range_set_init(&s);
  for (size_t k = 0; k < n; k++) {
    bool overlap = false;
    for (uint64_t b = frags[k].first; b <= frags[k].last; b++) overlap |= have[b];
    cr_assert_eq(range_set_overlaps(&s, frags[k].first, frags[k].last), overlap);
    ranges_rc_t rc = range_set_add(&s, frags[k].first, frags[k].last);
    cr_assert_eq(rc, overlap ? RANGES_OVERLAP : RANGES_OK);
    if (!overlap)
      for (uint64_t b = frags[k].first; b <= frags[k].last; b++) have[b] = true;

    /* expected gaps from the map */
    char want[256] = "";
    uint64_t got_bytes = 0;
    bool all = true;
    for (uint64_t b = 0; b < size; b++) {
      if (have[b]) {
        got_bytes++;
        continue;
      }
      all = false;
      uint64_t e = b;
      while (e + 1 < size && !have[e + 1]) e++;
      char piece[48];
      snprintf(piece, sizeof piece, "%s%llu-%llu", want[0] ? "," : "", (unsigned long long)b,
               (unsigned long long)e);
      strcat(want, piece);
      b = e;
    }
    ASSERT_MISSING(&s, size, want);
    cr_assert_eq(range_set_bytes(&s), got_bytes);
    cr_assert_eq(range_set_complete(&s, size), all);
    /* canonical form: sorted, disjoint, not touching */
    for (size_t i = 1; i < s.n; i++) cr_assert_gt(s.v[i].first, s.v[i - 1].last + 1);
    char *text = range_set_format(&s);
    range_set_t back;
    cr_assert(range_set_parse(text, &back), "%s", text);
    cr_assert_eq(back.n, s.n);
    free(text);
    range_set_clear(&back);
  }
  range_set_clear(&s);
}

Test(ranges, every_pair_and_triple_of_fragments_matches_a_byte_map) {
  for (uint64_t size = 1; size <= 6; size++) {
    range_t all[32];
    size_t nall = 0;
    for (uint64_t a = 0; a < size; a++)
      for (uint64_t b = a; b < size; b++) all[nall++] = (range_t){a, b};
    for (size_t i = 0; i < nall; i++)
      for (size_t j = 0; j < nall; j++)
        for (size_t k = 0; k < nall; k++) {
          range_t f[3] = {all[i], all[j], all[k]};
          check_against_map(size, f, 3);
        }
  }
}

Test(ranges, random_shuffles_of_a_partition_complete_exactly_at_the_end) {
  srand(12345);
  for (int round = 0; round < 2000; round++) {
    uint64_t size = 1 + (uint64_t)(rand() % 16);
    /* cut [0,size) into pieces, shuffle them, add them all */
    range_t parts[16];
    size_t n = 0;
    uint64_t pos = 0;
    while (pos < size) {
      uint64_t len = 1 + (uint64_t)(rand() % 4);
      if (pos + len > size) len = size - pos;
      parts[n++] = (range_t){pos, pos + len - 1};
      pos += len;
    }
    for (size_t i = n; i > 1; i--) {
      size_t j = (size_t)rand() % i;
      range_t t = parts[i - 1];
      parts[i - 1] = parts[j];
      parts[j] = t;
    }
    check_against_map(size, parts, n);
    range_set_t s;
    range_set_init(&s);
    for (size_t i = 0; i < n; i++) {
      cr_assert(!range_set_complete(&s, size));
      cr_assert_eq(range_set_add(&s, parts[i].first, parts[i].last), RANGES_OK);
    }
    cr_assert(range_set_complete(&s, size));
    cr_assert_eq(s.n, 1);
    range_set_clear(&s);
  }
}

/* ---- Content-Range ------------------------------------------------------------------------ */

Test(ranges, content_range_forms) {
  uint64_t a, b, t;
  cr_assert_eq(content_range_parse("bytes 0-99/100", &a, &b, &t), CONTENT_RANGE_OK);
  cr_assert(a == 0 && b == 99 && t == 100);
  cr_assert_eq(content_range_parse("bytes=0-72796/4533322", &a, &b, &t), CONTENT_RANGE_OK);
  cr_assert(a == 0 && b == 72796 && t == 4533322);
  cr_assert_eq(content_range_parse("BYTES 4533312-4533321/4533322", &a, &b, &t),
               CONTENT_RANGE_OK);
  cr_assert(a == 4533312 && b == 4533321);
  cr_assert_eq(content_range_parse("  bytes  5 - 9 / 10 ", &a, &b, &t), CONTENT_RANGE_OK);
  cr_assert(a == 5 && b == 9 && t == 10);
  cr_assert_eq(content_range_parse("bytes 0-0/1", &a, &b, &t), CONTENT_RANGE_OK);
  cr_assert(a == 0 && b == 0 && t == 1);
}

Test(ranges, content_range_errors) {
  uint64_t a, b, t;
  static const char *malformed[] = {
      NULL, "", "bytes", "bytes ", "bytes 0-9", "bytes 0-9/", "bytes */100", "bytes 0-*/100",
      "bytes 0-9/*", "bits 0-9/10", "bytes0-9/10", "bytes -1-9/10", "bytes 0-9/10 x",
      "bytes 0x1-9/10", "bytes +0-9/10", "bytes 0-9,10-19/20", "bytes=", "0-9/10",
  };
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
    cr_assert_eq(content_range_parse(malformed[i], &a, &b, &t), CONTENT_RANGE_MALFORMED, "%s",
                 malformed[i] ? malformed[i] : "NULL");
  cr_assert_eq(content_range_parse("bytes 10-9/100", &a, &b, &t), CONTENT_RANGE_BACKWARDS);
  cr_assert_eq(content_range_parse("bytes 0-100/100", &a, &b, &t), CONTENT_RANGE_PAST_END);
  cr_assert_eq(content_range_parse("bytes 0-0/0", &a, &b, &t), CONTENT_RANGE_PAST_END);
  cr_assert_eq(content_range_parse("bytes 0-9/99999999999999999999", &a, &b, &t),
               CONTENT_RANGE_TOO_LARGE);
  cr_assert_eq(content_range_parse("bytes 0-9223372036854775807/9223372036854775808", &a, &b,
                                   &t), CONTENT_RANGE_TOO_LARGE);
  cr_assert_eq(content_range_parse("bytes 0-9223372036854775806/9223372036854775807", &a, &b,
                                   &t), CONTENT_RANGE_OK);
  for (int rc = 0; rc <= CONTENT_RANGE_TOO_LARGE; rc++)
    cr_assert_gt(strlen(content_range_describe((content_range_rc_t)rc)), 10);
}

/* ---- Range (downloads) -------------------------------------------------------------------- */

Test(ranges, http_range_single_ranges) {
  uint64_t a, b;
  cr_assert_eq(http_range_parse("bytes=0-99", 1000, &a, &b), HTTP_RANGE_OK);
  cr_assert(a == 0 && b == 99);
  cr_assert_eq(http_range_parse("bytes=500-", 1000, &a, &b), HTTP_RANGE_OK);
  cr_assert(a == 500 && b == 999);
  cr_assert_eq(http_range_parse("bytes=-100", 1000, &a, &b), HTTP_RANGE_OK);
  cr_assert(a == 900 && b == 999);
  cr_assert_eq(http_range_parse("bytes=-5000", 1000, &a, &b), HTTP_RANGE_OK, "suffix > size");
  cr_assert(a == 0 && b == 999);
  cr_assert_eq(http_range_parse("bytes=900-5000", 1000, &a, &b), HTTP_RANGE_OK, "clipped");
  cr_assert(a == 900 && b == 999);
  cr_assert_eq(http_range_parse("bytes=999-999", 1000, &a, &b), HTTP_RANGE_OK, "last byte");
  cr_assert(a == 999 && b == 999);
  cr_assert_eq(http_range_parse("bytes=0-0", 1, &a, &b), HTTP_RANGE_OK, "single-byte body");
  cr_assert(a == 0 && b == 0);
  cr_assert_eq(http_range_parse("bytes=10-99999999999999999999", 1000, &a, &b), HTTP_RANGE_OK);
  cr_assert(a == 10 && b == 999);
  cr_assert_eq(http_range_parse(" Bytes = 1 - 2 ", 1000, &a, &b), HTTP_RANGE_OK);
  cr_assert(a == 1 && b == 2);
}

Test(ranges, http_range_unsatisfiable) {
  uint64_t a, b;
  cr_assert_eq(http_range_parse("bytes=1000-", 1000, &a, &b), HTTP_RANGE_UNSATISFIABLE);
  cr_assert_eq(http_range_parse("bytes=1000-2000", 1000, &a, &b), HTTP_RANGE_UNSATISFIABLE);
  cr_assert_eq(http_range_parse("bytes=-0", 1000, &a, &b), HTTP_RANGE_UNSATISFIABLE);
  cr_assert_eq(http_range_parse("bytes=0-", 0, &a, &b), HTTP_RANGE_UNSATISFIABLE);
}

Test(ranges, http_range_ignored_forms) {
  uint64_t a, b;
  static const char *ignored[] = {
      NULL, "", "bytes", "bytes=", "bytes=-", "items=0-9", "bytes=0-9,20-29", "bytes=9-0",
      "bytes=a-b", "bytes 0-9", "bytes=0-9 x", "bytes=-99999999999999999999",
      "bytes=99999999999999999999-",
  };
  for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
    cr_assert_eq(http_range_parse(ignored[i], 1000, &a, &b), HTTP_RANGE_NONE, "%s",
                 ignored[i] ? ignored[i] : "NULL");
}
