/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: byte ranges (src/core/ranges.c): the upload Content-Range header, the download
 * Range header, the stored range-set text, and range-set arithmetic.
 *
 * Input: header text. The same bytes are also read as a list of little ranges added to a set,
 * whose result is compared with a bitmap of the same bytes. Checked: every parse result
 * respects its documented bounds, a set's text form parses back to the same set, and the set
 * operations agree with the bitmap (covered bytes, missing ranges, completeness).
 */
#include "fuzz.h"

#include "core/ranges.h"

#include <stdbool.h>

#define MODEL_BYTES 256

static void check_headers(const char *s) {
  uint64_t first = 0, last = 0, total = 0;
  content_range_rc_t rc = content_range_parse(s, &first, &last, &total);
  FUZZ_CHECK(content_range_describe(rc) != NULL, "no description for %d", rc);
  if (rc == CONTENT_RANGE_OK) {
    FUZZ_CHECK(first <= last && last < total && total <= RANGES_MAX_SIZE,
               "Content-Range %llu-%llu/%llu", (unsigned long long)first,
               (unsigned long long)last, (unsigned long long)total);
  }
  static const uint64_t sizes[] = {0, 1, 100, RANGES_MAX_SIZE};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    http_range_rc_t hr = http_range_parse(s, sizes[i], &first, &last);
    if (hr == HTTP_RANGE_OK)
      FUZZ_CHECK(first <= last && last < sizes[i], "Range %llu-%llu of %llu",
                 (unsigned long long)first, (unsigned long long)last,
                 (unsigned long long)sizes[i]);
  }
}

static bool set_well_formed(const range_set_t *s) {
  for (size_t i = 0; i < s->n; i++) {
    if (s->v[i].first > s->v[i].last || s->v[i].last > RANGES_MAX_SIZE) return false;
    if (i && s->v[i - 1].last + 1 >= s->v[i].first) return false; /* sorted, not touching */
  }
  return true;
}

static void check_set_text(const char *s) {
  range_set_t set;
  if (!range_set_parse(s, &set)) {
    FUZZ_CHECK(set.n == 0, "a refused text left %zu ranges", set.n);
    range_set_clear(&set);
    return;
  }
  FUZZ_CHECK(set_well_formed(&set), "parsed set is not sorted and disjoint: %s", s);
  char *text = range_set_format(&set);
  range_set_t again;
  FUZZ_CHECK(range_set_parse(text, &again), "formatted set does not parse: %s", text);
  FUZZ_CHECK(again.n == set.n, "round trip changed the set: %s", text);
  for (size_t i = 0; i < set.n; i++)
    FUZZ_CHECK(again.v[i].first == set.v[i].first && again.v[i].last == set.v[i].last,
               "round trip changed range %zu", i);
  /* Missing ranges of a document ending at the set's end, as strings. */
  uint64_t size = set.n ? set.v[set.n - 1].last : 0;
  size_t n = 0;
  char **missing = range_set_missing_strings(&set, size, &n);
  range_strings_free(missing, n);
  free(text);
  range_set_clear(&again);
  range_set_clear(&set);
}

/* Adds ranges read from the bytes (pairs first, length within MODEL_BYTES) and compares the
 * set with a bitmap. */
static void check_arithmetic(const uint8_t *data, size_t size) {
  bool model[MODEL_BYTES] = {false};
  range_set_t set;
  range_set_init(&set);
  for (size_t i = 0; i + 1 < size; i += 2) {
    uint64_t first = data[i], last = first + (data[i + 1] & 0x1f);
    if (last >= MODEL_BYTES) last = MODEL_BYTES - 1;
    if (data[i + 1] & 0x80) last = first - 1; /* backwards (0 - 1 wraps past the maximum) */
    ranges_rc_t rc = range_set_add(&set, first, last);
    if (last < first || last >= MODEL_BYTES) {
      FUZZ_CHECK(rc == RANGES_INVALID, "range [%llu,%llu] accepted", (unsigned long long)first,
                 (unsigned long long)last);
      continue;
    }
    bool overlap_model = false;
    for (uint64_t b = first; b <= last; b++) overlap_model = overlap_model || model[b];
    FUZZ_CHECK((rc == RANGES_OVERLAP) == overlap_model, "overlap %d vs model %d at [%llu,%llu]",
               rc, overlap_model, (unsigned long long)first, (unsigned long long)last);
    if (rc == RANGES_OK)
      for (uint64_t b = first; b <= last; b++) model[b] = true;
    FUZZ_CHECK(set_well_formed(&set), "set broken after adding [%llu,%llu]",
               (unsigned long long)first, (unsigned long long)last);
  }
  uint64_t covered = 0;
  for (size_t b = 0; b < MODEL_BYTES; b++) covered += model[b];
  uint64_t bytes = range_set_bytes(&set);
  FUZZ_CHECK(bytes == covered, "set covers %llu bytes, model %llu", (unsigned long long)bytes,
             (unsigned long long)covered);
  range_t gaps[MODEL_BYTES];
  size_t ngaps = range_set_missing(&set, MODEL_BYTES, gaps, MODEL_BYTES);
  uint64_t missing = 0;
  for (size_t i = 0; i < ngaps && i < MODEL_BYTES; i++) {
    for (uint64_t b = gaps[i].first; b <= gaps[i].last; b++)
      FUZZ_CHECK(b < MODEL_BYTES && !model[b], "missing range covers received byte %llu",
                 (unsigned long long)b);
    missing += gaps[i].last - gaps[i].first + 1;
  }
  FUZZ_CHECK(missing == MODEL_BYTES - covered, "missing %llu bytes, model %llu",
             (unsigned long long)missing, (unsigned long long)(MODEL_BYTES - covered));
  FUZZ_CHECK(range_set_complete(&set, MODEL_BYTES) == (covered == MODEL_BYTES),
             "completeness disagrees with the model");
  range_set_t copy;
  range_set_copy(&copy, &set);
  FUZZ_CHECK(copy.n == set.n, "copy differs");
  range_set_clear(&copy);
  range_set_clear(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *s = fuzz_cstr(data, size);
  check_headers(s);
  check_set_text(s);
  check_arithmetic(data, size);
  free(s);
  return 0;
}
