/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA side: the Graph <-> IPP mapping (mapping/mapping.c), the device transitions and
 * events of the store (store/ipp.c) on SQLite, and device tokens (ipp/device-auth.c).
 *
 * The store tests check the properties the endpoint relies on: a job acknowledged by one
 * device is refused to another; terminal and held jobs refuse device updates; every job change
 * (also those made through the Graph API, e.g. a cancel) writes its events in the same commit,
 * numbered per subscription, with job-completed delivered to job-state-changed subscribers.
 */
#include "core/enums.h"
#include "ipp/device-auth.h"
#include "mapping/mapping.h"
#include "store/db.h"
#include "store/ipp.h"
#include "store/jobs.h"
#include "store/printers.h"
#include "store/store-private.h"
#include "store/store.h"
#include "util/log.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- mapping -------------------------------------------------------------------------------- */

Test(ipp_mapping, job_states_and_reasons) {
  static const struct { job_phase_t p; int state; const char *reason; } cases[] = {
      {JOB_CREATED, 4, "job-incoming"},      {JOB_HELD, 4, "job-held-for-review"},
      {JOB_FETCHABLE, 3, "job-fetchable"},   {JOB_ACQUIRED, 5, "none"},
      {JOB_PROCESSING, 5, "job-printing"},   {JOB_STOPPED, 6, "printer-stopped"},
      {JOB_COMPLETED, 9, "job-completed-successfully"},
      {JOB_CANCELED, 7, "job-canceled-by-user"}, {JOB_ABORTED, 8, "aborted-by-system"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_expect_eq(ipp_map_job_state(cases[i].p), cases[i].state, "phase %d", cases[i].p);
    const char *r[2];
    cr_assert_eq(ipp_map_job_reasons(cases[i].p, 0, 0, r, 2), 1u);
    cr_expect_str_eq(r[0], cases[i].reason);
  }
  const char *r[1];
  ipp_map_job_reasons(JOB_COMPLETED, JOB_DETAIL_COMPLETED_WITH_ERRORS, 0, r, 1);
  cr_expect_str_eq(r[0], "job-completed-with-errors");
  ipp_map_job_reasons(JOB_COMPLETED, JOB_DETAIL_COMPLETED_WITH_WARNINGS, 0, r, 1);
  cr_expect_str_eq(r[0], "job-completed-with-warnings");
  ipp_map_job_reasons(JOB_CANCELED, 0, 7, r, 1);
  cr_expect_str_eq(r[0], "job-canceled-at-device");
  cr_expect_eq(ipp_map_job_reasons(JOB_CANCELED, 0, 0, r, 0), 0u);
}

Test(ipp_mapping, device_job_states) {
  job_event_t ev;
  bool valid;
  static const struct { int s; bool has; job_event_t ev; bool valid; } cases[] = {
      {3, false, 0, true}, {4, false, 0, true},
      {5, true, JOB_EV_DEVICE_PROCESSING, true}, {6, true, JOB_EV_DEVICE_STOPPED, true},
      {7, true, JOB_EV_DEVICE_CANCELED, true},   {8, true, JOB_EV_DEVICE_ABORTED, true},
      {9, true, JOB_EV_DEVICE_COMPLETED, true},  {0, false, 0, false},
      {2, false, 0, false},                      {10, false, 0, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bool has = ipp_map_device_job_event(cases[i].s, &ev, &valid);
    cr_expect_eq(has, cases[i].has, "state %d", cases[i].s);
    cr_expect_eq(valid, cases[i].valid, "state %d", cases[i].s);
    if (has) cr_expect_eq(ev, cases[i].ev, "state %d", cases[i].s);
  }
  ipp_t *ipp = ippNew();
  static const char *const w[] = {"job-completed-with-warnings", "other"};
  ipp_attribute_t *a = ippAddStrings(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "r", 2, NULL, w);
  cr_expect_eq(ipp_map_completed_details(a), (unsigned)JOB_DETAIL_COMPLETED_WITH_WARNINGS);
  ippSetString(ipp, &a, 1, "job-completed-with-errors");
  cr_expect_eq(ipp_map_completed_details(a), (unsigned)JOB_DETAIL_COMPLETED_WITH_ERRORS);
  cr_expect_eq(ipp_map_completed_details(NULL), (unsigned)JOB_DETAIL_COMPLETED_SUCCESSFULLY);
  ippDelete(ipp);
}

Test(ipp_mapping, printer_states_and_reasons) {
  cr_expect_eq(ipp_map_printer_state(0), 3, "unknown reads as idle");
  cr_expect_eq(ipp_map_printer_state(1), 3);
  cr_expect_eq(ipp_map_printer_state(2), 4);
  cr_expect_eq(ipp_map_printer_state(3), 5);
  cr_expect_eq(ipp_map_graph_printer_state(3), 1);
  cr_expect_eq(ipp_map_graph_printer_state(4), 2);
  cr_expect_eq(ipp_map_graph_printer_state(5), 3);
  cr_expect_eq(ipp_map_graph_printer_state(6), -1);

  static const struct { const char *kw; const char *detail; } cases[] = {
      {"media-jam", "mediaJam"},          {"media-jam-error", "mediaJam"},
      {"toner-low-report", "tonerLow"},   {"media-low-warning", "mediaLow"},
      {"moving-to-paused", "movingToPaused"}, {"opc-near-eol", "opticalPhotoConductorNearEndOfLife"},
      {"opc-life-over-error", "opticalPhotoConductorLifeOver"},
      {"stopped-partly", "stoppedPartially"}, {"bander-added", "banderAdded"},
      {"lamp-at-eol", "lampAtEol"},       {"input-media-tray-feed-error", "inputMediaTrayFeedError"},
      {"stapler-unrecoverable-storage-error", "staplerUnrecoverableStorageError"},       {"interpreter-resource-unavailable", "interpreterResourceUnavailable"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int d = ipp_map_printer_reason_detail(cases[i].kw);
    cr_assert_geq(d, 0, "%s", cases[i].kw);
    cr_expect_str_eq(ENUM_PRINTER_PROCESSING_STATE_DETAIL.members[d], cases[i].detail);
  }
  cr_expect_eq(ipp_map_printer_reason_detail("none"), -1);
  cr_expect_eq(ipp_map_printer_reason_detail("no-such-thing"), -1);
  cr_expect_eq(ipp_map_printer_reason_detail("unknown-future-value"), -1);
  cr_expect_eq(ipp_map_printer_reason_detail(""), -1);
  char kw[64];
  ipp_map_printer_reason_keyword("mediaJam", kw, sizeof kw);
  cr_expect_str_eq(kw, "media-jam");
  ipp_map_printer_reason_keyword("opticalPhotoConductorLifeOver", kw, sizeof kw);
  cr_expect_str_eq(kw, "opc-life-over");
  ipp_map_printer_reason_keyword("banderAlmostFull", kw, sizeof kw);
  cr_expect_str_eq(kw, "bander-almost-full");
  /* Every Graph member maps to a keyword that maps back. */
  for (size_t i = 0; i < ENUM_PRINTER_PROCESSING_STATE_DETAIL.count; i++) {
    const char *m = ENUM_PRINTER_PROCESSING_STATE_DETAIL.members[i];
    if (!strcmp(m, "unknownFutureValue") || !strcmp(m, "none")) continue;
    ipp_map_printer_reason_keyword(m, kw, sizeof kw);
    cr_expect_eq(ipp_map_printer_reason_detail(kw), (int)i, "%s -> %s", m, kw);
  }
}

Test(ipp_mapping, media) {
  cr_expect_str_eq(ipp_map_media_to_graph("iso_a4_210x297mm"), "A4");
  cr_expect_str_eq(ipp_map_media_to_graph("na_letter_8.5x11in"), "North America Letter");
  cr_expect_str_eq(ipp_map_media_to_graph("na_letter_215.9x279.4mm"), "North America Letter",
                   "same size name, other dimensions");
  cr_expect_str_eq(ipp_map_media_to_graph("om_16k_195x270mm"), "OM 16K 195x270");
  cr_expect_null(ipp_map_media_to_graph("om_16k_190x260mm"), "om_16k needs exact dimensions");
  cr_expect_null(ipp_map_media_to_graph("custom_min_10x10mm"));
  cr_expect_null(ipp_map_media_to_graph("a4"));
  cr_expect_null(ipp_map_media_to_graph(NULL));
  cr_expect_str_eq(ipp_map_media_from_graph("A4"), "iso_a4_210x297mm");
  cr_expect_str_eq(ipp_map_media_from_graph("JIS B5"), "jis_b5_182x257mm");
  cr_expect_null(ipp_map_media_from_graph("Nope"));
  /* Every PWG name in the table is a Graph media size name. */
  static const char *const some[] = {"A0", "C5", "DL", "North America Legal", "PRC 16K",
                                     "JPN Hagaki", "Photo l 3.5x5in", "ISO A4x3"};
  for (size_t i = 0; i < sizeof some / sizeof some[0]; i++) {
    cr_expect_geq(enum_lookup(&ENUM_PRINT_MEDIA_SIZE, some[i], true), 0, "%s", some[i]);
    const char *pwg = ipp_map_media_from_graph(some[i]);
    cr_assert_not_null(pwg, "%s", some[i]);
    cr_expect_str_eq(ipp_map_media_to_graph(pwg), some[i]);
  }
}

Test(ipp_mapping, job_ticket) {
  ipp_t *ipp = ippNew();
  ipp_map_job_ticket(ipp, IPP_TAG_JOB,
                     "{\"copies\":3,\"duplexMode\":\"flipOnShortEdge\",\"colorMode\":\"blackAndWhite\","
                     "\"mediaSize\":\"North America Letter\",\"orientation\":\"reversePortrait\","
                     "\"finishings\":[\"staple\",\"stapleTripleLeft\",\"punchQuadBottom\",\"nope\"],"
                     "\"pageRanges\":[{\"start\":1,\"end\":3},{\"start\":5,\"end\":5}],"
                     "\"quality\":\"low\",\"dpi\":300,\"pagesPerSheet\":4,"
                     "\"multipageLayout\":\"clockwiseFromBottomRight\",\"fitPdfToPage\":true,"
                     "\"collate\":false,\"outputBin\":\"Face Down\",\"feedOrientation\":\"shortEdgeFirst\"}");
  ipp_attribute_t *a;
  cr_expect_eq(ippGetInteger(ippFindAttribute(ipp, "copies", IPP_TAG_INTEGER), 0), 3);
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "sides", IPP_TAG_KEYWORD), 0, NULL),
                   "two-sided-short-edge");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "print-color-mode", IPP_TAG_KEYWORD), 0, NULL),
                   "bi-level");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "media", IPP_TAG_KEYWORD), 0, NULL),
                   "na_letter_8.5x11in");
  cr_expect_eq(ippGetInteger(ippFindAttribute(ipp, "orientation-requested", IPP_TAG_ENUM), 0), 6);
  a = ippFindAttribute(ipp, "finishings", IPP_TAG_ENUM);
  cr_assert_eq(ippGetCount(a), 3);
  cr_expect_eq(ippGetInteger(a, 0), 4);
  cr_expect_eq(ippGetInteger(a, 1), 32, "stapleTripleLeft maps by name (Graph 33)");
  cr_expect_eq(ippGetInteger(a, 2), 85);
  a = ippFindAttribute(ipp, "page-ranges", IPP_TAG_RANGE);
  cr_assert_eq(ippGetCount(a), 2);
  int hi;
  cr_expect_eq(ippGetRange(a, 1, &hi), 5);
  cr_expect_eq(hi, 5);
  cr_expect_eq(ippGetInteger(ippFindAttribute(ipp, "print-quality", IPP_TAG_ENUM), 0), 3);
  int y;
  ipp_res_t units;
  cr_expect_eq(ippGetResolution(ippFindAttribute(ipp, "printer-resolution", IPP_TAG_RESOLUTION), 0,
                                &y, &units), 300);
  cr_expect_eq(ippGetInteger(ippFindAttribute(ipp, "number-up", IPP_TAG_INTEGER), 0), 4);
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "presentation-direction-number-up",
                                                 IPP_TAG_KEYWORD), 0, NULL), "toleft-totop");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "print-scaling", IPP_TAG_KEYWORD), 0, NULL),
                   "fit");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "multiple-document-handling", IPP_TAG_KEYWORD),
                                0, NULL), "separate-documents-uncollated-copies");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "output-bin", IPP_TAG_NAME), 0, NULL),
                   "Face Down", "not a keyword: sent as a name");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "feed-orientation", IPP_TAG_KEYWORD), 0, NULL),
                   "short-edge-first");
  ippDelete(ipp);

  /* inputBin / mediaType / margins: media-col instead of media. */
  ipp = ippNew();
  ipp_map_job_ticket(ipp, IPP_TAG_JOB, "{\"mediaSize\":\"A4\",\"inputBin\":\"tray-2\","
                                       "\"mediaType\":\"labels\",\"margin\":{\"top\":5000}}");
  cr_expect_null(ippFindAttribute(ipp, "media", IPP_TAG_ZERO));
  a = ippFindAttribute(ipp, "media-col", IPP_TAG_BEGIN_COLLECTION);
  cr_assert_not_null(a);
  ipp_t *col = ippGetCollection(a, 0);
  cr_expect_str_eq(ippGetString(ippFindAttribute(col, "media-source", IPP_TAG_KEYWORD), 0, NULL), "tray-2");
  cr_expect_str_eq(ippGetString(ippFindAttribute(col, "media-type", IPP_TAG_KEYWORD), 0, NULL), "labels");
  cr_expect_eq(ippGetInteger(ippFindAttribute(col, "media-top-margin", IPP_TAG_INTEGER), 0), 500);
  ipp_attribute_t *size = ippFindAttribute(col, "media-size", IPP_TAG_BEGIN_COLLECTION);
  cr_assert_not_null(size);
  cr_expect_eq(ippGetInteger(ippFindAttribute(ippGetCollection(size, 0), "x-dimension",
                                              IPP_TAG_INTEGER), 0), 21000);
  ippDelete(ipp);

  ipp = ippNew();
  ipp_map_job_ticket(ipp, IPP_TAG_JOB, "{}");
  ipp_map_job_ticket(ipp, IPP_TAG_JOB, "not json");
  ipp_map_job_ticket(ipp, IPP_TAG_JOB, NULL);
  cr_expect_null(ippFirstAttribute(ipp));
  ippDelete(ipp);
}

Test(ipp_mapping, device_patch) {
  ipp_t *attrs = ippNew();
  ippAddInteger(attrs, IPP_TAG_PRINTER, IPP_TAG_ENUM, "printer-state", 5);
  static const char *const reasons[] = {"media-jam-error", "no-such-reason", "media-jam-warning",
                                        "cover-open"};
  ippAddStrings(attrs, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-state-reasons", 4, NULL, reasons);
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-state-message", NULL, "Jammed");
  ippAddBoolean(attrs, IPP_TAG_PRINTER, "printer-is-accepting-jobs", 0);
  static const char *const sides[] = {"one-sided", "two-sided-long-edge"};
  ippAddStrings(attrs, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "sides-supported", 2, NULL, sides);
  static const char *const modes[] = {"bi-level", "process-bi-level", "color"};
  ippAddStrings(attrs, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-color-mode-supported", 3, NULL, modes);
  ippAddRange(attrs, IPP_TAG_PRINTER, "copies-supported", 1, 50);
  ippAddInteger(attrs, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "copies-default", 2);
  ippAddRange(attrs, IPP_TAG_PRINTER, "number-up-supported", 1, 4);
  ippAddResolution(attrs, IPP_TAG_PRINTER, "printer-resolution-supported", IPP_RES_PER_CM, 118, 118);
  static const int margins[] = {0, 423};
  ippAddIntegers(attrs, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "media-top-margin-supported", 2, margins);
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "media-default", NULL, "custom_x_1x1mm");
  ippAddBoolean(attrs, IPP_TAG_PRINTER, "page-ranges-supported", 1);
  ipp_t *request = ippNew();
  ippAddOutOfBand(request, IPP_TAG_PRINTER, IPP_TAG_DELETEATTR, "finishings-supported");

  store_ipp_printer_patch_t p;
  memset(&p, 0, sizeof p);
  store_ipp_printer_patch_clear(&p);
  ipp_map_device_patch(attrs, request, &p);
  cr_expect_eq(p.status_state, 3);
  cr_expect_str_eq(p.status_details, "[\"mediaJam\",\"coverOpen\"]");
  cr_expect_str_eq(p.status_description, "Jammed");
  cr_expect_eq(p.accepting, 0);
  json_t *caps = json_loads(p.capabilities_merge, 0, NULL);
  cr_assert_not_null(caps);
  char *t = json_dumps(json_object_get(caps, "duplexModes"), JSON_COMPACT);
  cr_expect_str_eq(t, "[\"oneSided\",\"flipOnLongEdge\"]");
  free(t);
  t = json_dumps(json_object_get(caps, "colorModes"), JSON_COMPACT);
  cr_expect_str_eq(t, "[\"blackAndWhite\",\"color\"]");
  free(t);
  t = json_dumps(json_object_get(caps, "copiesPerJob"), JSON_COMPACT);
  cr_expect_str_eq(t, "{\"start\":1,\"end\":50}");
  free(t);
  t = json_dumps(json_object_get(caps, "pagesPerSheet"), JSON_COMPACT);
  cr_expect_str_eq(t, "[1,2,4]");
  free(t);
  t = json_dumps(json_object_get(caps, "dpis"), JSON_COMPACT);
  cr_expect_str_eq(t, "[300]", "dots per cm become dpi");
  free(t);
  t = json_dumps(json_object_get(caps, "topMargins"), JSON_COMPACT);
  cr_expect_str_eq(t, "[0,4230]", "hundredths of mm become microns");
  free(t);
  t = json_dumps(json_object_get(caps, "finishings"), JSON_COMPACT);
  cr_expect_str_eq(t, "[]", "a deleted attribute empties its member");
  free(t);
  cr_expect(json_is_true(json_object_get(caps, "isPageRangeSupported")));
  cr_expect_null(json_object_get(caps, "contentTypes"), "absent attributes leave members alone");
  json_decref(caps);
  json_t *defs = json_loads(p.defaults_merge, 0, NULL);
  cr_expect_eq(json_integer_value(json_object_get(defs, "copiesPerJob")), 2);
  cr_expect(json_is_null(json_object_get(defs, "mediaSize")), "unknown media: null");
  json_decref(defs);
  store_ipp_printer_patch_clear(&p);

  /* Nothing pushed: nothing changes. */
  ipp_t *empty = ippNew();
  ipp_map_device_patch(empty, empty, &p);
  cr_expect_eq(p.status_state, -1);
  cr_expect_eq(p.accepting, -1);
  cr_expect_null(p.status_details);
  cr_expect_null(p.capabilities_merge);
  cr_expect_null(p.defaults_merge);
  store_ipp_printer_patch_clear(&p);
  ippDelete(empty);
  ippDelete(attrs);
  ippDelete(request);
}

Test(ipp_mapping, printer_group) {
  /* 0x04, sides-supported = one-sided, two-sided-long-edge; printer-is-accepting-jobs = false */
  static const unsigned char g[] = {
      0x04, 0x44, 0x00, 0x0f, 's', 'i', 'd', 'e', 's', '-', 's', 'u', 'p', 'p', 'o', 'r', 't', 'e',
      'd', 0x00, 0x09, 'o', 'n', 'e', '-', 's', 'i', 'd', 'e', 'd', 0x44, 0x00, 0x00, 0x00, 0x13,
      't', 'w', 'o', '-', 's', 'i', 'd', 'e', 'd', '-', 'l', 'o', 'n', 'g', '-', 'e', 'd', 'g',
      'e', 0x22, 0x00, 0x19, 'p', 'r', 'i', 'n', 't', 'e', 'r', '-', 'i', 's', '-', 'a', 'c', 'c',
      'e', 'p', 't', 'i', 'n', 'g', '-', 'j', 'o', 'b', 's', 0x00, 0x01, 0x00, 0x03};
  char err[512];
  store_ipp_printer_patch_t p;
  memset(&p, 0, sizeof p);
  store_ipp_printer_patch_clear(&p);
  /* with and without the end-of-attributes tag */
  for (size_t n = sizeof g; n >= sizeof g - 1; n--) {
    cr_assert(ipp_map_printer_group(g, n, &p, err, sizeof err), "%zu: %s", n, err);
    cr_expect_eq(p.accepting, 0);
    cr_expect_eq(p.status_state, -1);
    cr_expect_str_eq(p.capabilities_merge, "{\"duplexModes\":[\"oneSided\",\"flipOnLongEdge\"]}");
    cr_expect_null(p.defaults_merge);
    store_ipp_printer_patch_clear(&p);
  }
  cr_expect_not(ipp_map_printer_group(g, 0, &p, err, sizeof err));
  cr_expect(strstr(err, "empty") != NULL, "%s", err);
  cr_expect_not(ipp_map_printer_group(g + 1, sizeof g - 1, &p, err, sizeof err));
  cr_expect(strstr(err, "0x04") != NULL, "%s", err);
  cr_expect_not(ipp_map_printer_group(g, 20, &p, err, sizeof err));
  cr_expect(strstr(err, "truncated") != NULL, "%s", err);
  unsigned char more[sizeof g + 2];
  memcpy(more, g, sizeof g);
  more[sizeof g] = 'x';
  more[sizeof g + 1] = 'y';
  cr_expect_not(ipp_map_printer_group(more, sizeof more, &p, err, sizeof err));
  cr_expect(strstr(err, "after the end-of-attributes tag") != NULL, "%s", err);
  store_ipp_printer_patch_clear(&p);
}

/* Reads a file of the source tree (unit tests run from the top directory); the caller frees. */
static unsigned char *read_fixture(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s: cannot open (run the unit tests from the top directory)", path);
  unsigned char *b = malloc(65536);
  *len = fread(b, 1, 65536, f);
  fclose(f);
  return b;
}

typedef struct {
  const unsigned char *b;
  size_t n, off;
} fixture_src_t;

/* ippReadIO callback over a memory buffer. */
static ssize_t fixture_read(void *ctx, ipp_uchar_t *buf, size_t bytes) {
  fixture_src_t *s = ctx;
  size_t k = s->n - s->off < bytes ? s->n - s->off : bytes;
  memcpy(buf, s->b + s->off, k);
  s->off += k;
  return (ssize_t)k;
}

/* Issue 11, defect 3: a device (or the application/ipp printer PATCH) sending a resolution in
 * dots per cm too large for an int once converted to dpi made (int)(x * 2.54) overflow, which an
 * ASan/UBSan server aborts on. The reproducer is tests/ipp/repro/resolution-dpcm-overflow.group
 * (also as a whole Update-Output-Device-Attributes request, .ipp, for the fuzz corpus): values
 * out of range are dropped, the valid ones kept; margins that do not fit Int32 in microns and an
 * inverted copies range are dropped too. */
Test(ipp_mapping, device_numbers_out_of_range) {
  size_t len;
  unsigned char *g = read_fixture("tests/ipp/repro/resolution-dpcm-overflow.group", &len);
  char err[512];
  store_ipp_printer_patch_t p;
  memset(&p, 0, sizeof p);
  store_ipp_printer_patch_clear(&p);
  cr_assert(ipp_map_printer_group(g, len, &p, err, sizeof err), "%s", err);
  json_t *caps = json_loads(p.capabilities_merge, 0, NULL);
  cr_assert_not_null(caps, "%s", p.capabilities_merge);
  char *t = json_dumps(json_object_get(caps, "dpis"), JSON_COMPACT);
  cr_expect_str_eq(t, "[300]", "only the resolution that fits is kept");
  free(t);
  t = json_dumps(json_object_get(caps, "topMargins"), JSON_COMPACT);
  cr_expect_str_eq(t, "[4230]", "a margin beyond Int32 microns is dropped");
  free(t);
  cr_expect(json_is_null(json_object_get(caps, "copiesPerJob")), "an inverted range is no range");
  json_decref(caps);
  json_t *defs = json_loads(p.defaults_merge, 0, NULL);
  cr_expect(json_is_null(json_object_get(defs, "dpi")), "%s", p.defaults_merge);
  json_decref(defs);
  store_ipp_printer_patch_clear(&p);
  free(g);

  /* the same values through ipp_map_device_patch, as Update-Output-Device-Attributes sends them */
  unsigned char *r = read_fixture("tests/ipp/repro/resolution-dpcm-overflow.ipp", &len);
  ipp_t *req = ippNew();
  fixture_src_t src = {r, len, 0};
  ipp_state_t st;
  do {
    st = ippReadIO(&src, fixture_read, 1, NULL, req);
  } while (st != IPP_STATE_DATA && st != IPP_STATE_ERROR);
  cr_assert_eq(st, IPP_STATE_DATA, "the .ipp reproducer is a whole IPP request");
  cr_expect_eq(ippGetOperation(req), IPP_OP_UPDATE_OUTPUT_DEVICE_ATTRIBUTES);
  memset(&p, 0, sizeof p);
  store_ipp_printer_patch_clear(&p);
  ipp_map_device_patch(req, req, &p);
  caps = json_loads(p.capabilities_merge, 0, NULL);
  t = json_dumps(json_object_get(caps, "dpis"), JSON_COMPACT);
  cr_expect_str_eq(t, "[300]");
  free(t);
  json_decref(caps);
  store_ipp_printer_patch_clear(&p);
  ippDelete(req);
  free(r);
}

Test(ipp_mapping, printer_capabilities) {
  ipp_t *ipp = ippNew();
  ipp_map_printer_capabilities(ipp, "{\"colorModes\":[\"grayscale\",\"color\"],"
                                    "\"duplexModes\":[\"oneSided\"],\"mediaSizes\":[\"A4\",\"Nope\"],"
                                    "\"copiesPerJob\":{\"start\":1,\"end\":9},\"dpis\":[600],"
                                    "\"finishings\":[\"stapleTripleLeft\"],\"inputBins\":[\"Tray 1\"]}",
                               "{\"duplexMode\":\"oneSided\",\"copiesPerJob\":1,\"finishings\":[\"none\"]}");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "document-format-supported", IPP_TAG_MIMETYPE),
                                0, NULL), "application/pdf", "no contentTypes: PDF and OXPS");
  cr_expect(ippGetBoolean(ippFindAttribute(ipp, "color-supported", IPP_TAG_BOOLEAN), 0));
  ipp_attribute_t *m = ippFindAttribute(ipp, "media-supported", IPP_TAG_KEYWORD);
  cr_expect_eq(ippGetCount(m), 1);
  cr_expect_str_eq(ippGetString(m, 0, NULL), "iso_a4_210x297mm");
  int hi;
  cr_expect_eq(ippGetRange(ippFindAttribute(ipp, "copies-supported", IPP_TAG_RANGE), 0, &hi), 1);
  cr_expect_eq(hi, 9);
  cr_expect_eq(ippGetInteger(ippFindAttribute(ipp, "finishings-supported", IPP_TAG_ENUM), 0), 32);
  cr_expect_eq(ippGetInteger(ippFindAttribute(ipp, "finishings-default", IPP_TAG_ENUM), 0), 3);
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "media-source-supported", IPP_TAG_NAME), 0,
                                NULL), "Tray 1");
  cr_expect_str_eq(ippGetString(ippFindAttribute(ipp, "sides-default", IPP_TAG_KEYWORD), 0, NULL),
                   "one-sided");
  ippDelete(ipp);
  ipp = ippNew();
  ipp_map_printer_capabilities(ipp, NULL, NULL);
  cr_expect_not_null(ippFindAttribute(ipp, "document-format-default", IPP_TAG_MIMETYPE));
  ippDelete(ipp);
}

/* ---- store ---------------------------------------------------------------------------------- */

static store_t *fixture(void) {
  store_t *st = test_store_open(2);
  cr_assert_eq(store_tenant_add(st, "t1", "", TENANT_ACTIVE), STORE_OK);
  test_db_exec(st->db,
               "INSERT INTO printers (id, tenant_id, display_name, has_physical_device,"
               " is_accepting_jobs, registered_us, cert_sha256) VALUES (?, ?, 'P', 0, 1, 1, 'abc')",
               "p1", "t1", NULL);
  return st;
}

/* A job of p1 released to the printer (JOB_FETCHABLE); returns its id. */
static int64_t released_job(store_t *st) {
  store_job_new_t n = {.tenant = "t1", .printer_id = "p1", .configuration = "{}",
                       .created_by_id = "u1", .created_by_upn = "Alice@Example.test"};
  store_job_t j;
  cr_assert_eq(store_job_create(st, &n, &j, NULL), STORE_OK);
  int64_t id = j.id;
  store_job_clear(&j);
  char ids[24];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  test_db_exec(st->db,
               "UPDATE documents SET uploaded_us = 5, size = 3, content_type = 'application/pdf',"
               " blob_key = 'k' WHERE job_id = ?",
               ids, NULL);
  store_job_change_t ch;
  cr_assert_eq(store_job_start(st, "t1", id, "http://x", NULL, &ch), STORE_OK);
  cr_assert_eq(ch.to, JOB_FETCHABLE);
  store_job_change_clear(&ch);
  return id;
}

static int64_t subscribe(store_t *st, const char *events) {
  store_ipp_subscription_t n = {.events = (char *)events, .lease_s = 0};
  int64_t id = 0;
  cr_assert_eq(store_ipp_subscription_create(st, "t1", "p1", &n, time(NULL) * 1000000LL, &id),
               STORE_OK);
  return id;
}

/* The events of subscription sub from seq 1. */
static size_t events_of(store_t *st, int64_t sub, store_ipp_event_t **ev) {
  store_ipp_subscription_t *subs;
  size_t n = 0;
  int64_t missing;
  int64_t seq = 1;
  cr_assert_eq(store_ipp_events_get(st, "t1", "p1", &sub, 1, &seq, 1, 100,
                                    time(NULL) * 1000000LL, &subs, ev, &n, &missing), STORE_OK);
  store_ipp_subscription_clear(&subs[0]);
  free(subs);
  return n;
}

TestSuite(store_ipp, .init = test_store_setup, .fini = test_store_teardown, .timeout = 60);

Test(store_ipp, acknowledge_and_status) {
  store_t *st = fixture();
  int64_t sub = subscribe(st, "job-fetchable,job-state-changed");
  int64_t j = released_job(st);
  store_ipp_result_t r;

  /* A second device cannot take a job the first acknowledged. */
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p1", j, "urn:uuid:a", &r), STORE_OK);
  cr_expect_eq(r.to, JOB_ACQUIRED);
  store_ipp_result_clear(&r);
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p1", j, "urn:uuid:a", &r), STORE_OK, "again");
  store_ipp_result_clear(&r);
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p1", j, "urn:uuid:b", &r), STORE_CONFLICT);
  cr_expect_eq(r.refusal, STORE_IPP_REFUSED_OTHER_DEVICE);
  store_ipp_result_clear(&r);
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p2", j, "urn:uuid:a", &r), STORE_NOT_FOUND,
               "another printer's path");
  store_ipp_result_clear(&r);

  store_job_t g;
  char ids[24];
  snprintf(ids, sizeof ids, "%lld", (long long)j);
  cr_assert_eq(store_job_get(st, "t1", ids, &g), STORE_OK);
  cr_expect(g.is_acquired);
  cr_expect_gt(g.acknowledged_us, 0);
  cr_expect_eq(g.phase, JOB_ACQUIRED);
  cr_expect_eq(g.state, 2 /* processing */);
  store_job_clear(&g);

  store_ipp_job_status_t s = {.has_event = true, .event = JOB_EV_DEVICE_PROCESSING, .details = -1,
                              .device_state = 5, .device_reasons = "job-printing",
                              .impressions = 3};
  cr_assert_eq(store_ipp_job_status(st, "t1", "p1", j, "urn:uuid:b", &s, &r), STORE_CONFLICT);
  cr_expect_eq(r.refusal, STORE_IPP_REFUSED_OTHER_DEVICE);
  store_ipp_result_clear(&r);
  cr_assert_eq(store_ipp_job_status(st, "t1", "p1", j, "urn:uuid:a", &s, &r), STORE_OK);
  cr_expect_eq(r.to, JOB_PROCESSING);
  store_ipp_result_clear(&r);
  cr_assert_eq(store_ipp_job_status(st, "t1", "p1", j, "urn:uuid:a", &s, &r), STORE_OK,
               "processing again: only the device's view is recorded");
  store_ipp_result_clear(&r);
  s = (store_ipp_job_status_t){.has_event = true, .event = JOB_EV_DEVICE_COMPLETED,
                               .details = JOB_DETAIL_COMPLETED_WITH_WARNINGS,
                               .description = "Done, with a warning.", .device_state = 9,
                               .impressions = -1};
  cr_assert_eq(store_ipp_job_status(st, "t1", "p1", j, "urn:uuid:a", &s, &r), STORE_OK);
  store_ipp_result_clear(&r);
  cr_assert_eq(store_job_get(st, "t1", ids, &g), STORE_OK);
  cr_expect_eq(g.phase, JOB_COMPLETED);
  cr_expect_eq(g.details, (unsigned)JOB_DETAIL_COMPLETED_WITH_WARNINGS);
  cr_expect_str_eq(g.description, "Done, with a warning.");
  cr_expect_gt(g.completed_us, 0);
  store_job_clear(&g);
  cr_assert_eq(store_ipp_job_status(st, "t1", "p1", j, "urn:uuid:a", &s, &r), STORE_CONFLICT);
  cr_expect_eq(r.refusal, STORE_IPP_REFUSED_TERMINAL);
  store_ipp_result_clear(&r);

  store_ipp_job_t ij;
  cr_assert_eq(store_ipp_job_get(st, "t1", "p1", j, &ij), STORE_OK);
  cr_expect_str_eq(ij.device_uuid, "urn:uuid:a");
  cr_expect_eq(ij.device_state, 9);
  cr_expect_str_eq(ij.device_reasons, "job-printing", "kept from the earlier report");
  cr_expect_eq(ij.impressions, 3);
  cr_expect_str_eq(ij.doc_type, "application/pdf");
  store_ipp_job_clear(&ij);

  /* Events, numbered 1.. per subscription: fetchable, acquired, printing, completed. */
  store_ipp_event_t *ev;
  size_t n = events_of(st, sub, &ev);
  cr_assert_eq(n, 4u);
  static const char *const names[] = {"job-fetchable", "job-state-changed", "job-state-changed",
                                      "job-completed" /* to job-state-changed, as cupsd */};
  for (size_t i = 0; i < n; i++) {
    cr_expect_eq(ev[i].seq, (int64_t)i + 1);
    cr_expect_str_eq(ev[i].event, names[i], "event %zu", i);
    cr_expect_eq(ev[i].job_id, j);
  }
  cr_expect_eq(ev[3].job_phase, JOB_COMPLETED);
  store_ipp_events_free(ev, n);
  store_close(st);
}

Test(store_ipp, graph_cancel_reaches_subscribers_in_the_same_commit) {
  store_t *st = fixture();
  int64_t state_changed = subscribe(st, "job-state-changed");
  int64_t completed = subscribe(st, "job-completed,job-state-changed");
  int64_t other = subscribe(st, "printer-state-changed");
  int64_t j = released_job(st);
  store_ipp_result_t r;
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p1", j, "urn:uuid:a", &r), STORE_OK);
  store_ipp_result_clear(&r);
  store_job_change_t ch;
  cr_assert_eq(store_job_cancel(st, "t1", j, NULL, &ch), STORE_OK);
  store_job_change_clear(&ch);

  store_ipp_event_t *ev;
  size_t n = events_of(st, state_changed, &ev);
  cr_assert_eq(n, 3u, "fetchable (as job-state-changed), acquired, canceled");
  cr_expect_str_eq(ev[2].event, "job-completed", "delivered to job-state-changed subscribers");
  cr_expect_eq(ev[2].job_phase, JOB_CANCELED);
  store_ipp_events_free(ev, n);
  n = events_of(st, completed, &ev);
  cr_assert_eq(n, 3u, "one event per change even when both kinds match");
  cr_expect_str_eq(ev[2].event, "job-completed");
  store_ipp_events_free(ev, n);
  n = events_of(st, other, &ev);
  cr_expect_eq(n, 0u);
  store_ipp_events_free(ev, n);

  /* After the cancel the device is refused. */
  store_ipp_job_status_t s = {.has_event = true, .event = JOB_EV_DEVICE_PROCESSING, .details = -1,
                              .impressions = -1};
  cr_assert_eq(store_ipp_job_status(st, "t1", "p1", j, "urn:uuid:a", &s, &r), STORE_CONFLICT);
  cr_expect_eq(r.refusal, STORE_IPP_REFUSED_TERMINAL);
  cr_expect_not_null(strstr(r.why, "canceled"));
  store_ipp_result_clear(&r);
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p1", j, "urn:uuid:a", &r), STORE_CONFLICT);
  store_ipp_result_clear(&r);

  /* A missing subscription is named. */
  int64_t ids[2] = {state_changed, 999999};
  store_ipp_subscription_t *subs;
  size_t nev;
  int64_t missing = 0;
  cr_assert_eq(store_ipp_events_get(st, "t1", "p1", ids, 2, NULL, 0, 10, time(NULL) * 1000000LL,
                                    &subs, &ev, &nev, &missing), STORE_NOT_FOUND);
  cr_expect_eq(missing, 999999);
  cr_assert_eq(store_ipp_subscription_cancel(st, "t1", "p1", completed, time(NULL) * 1000000LL),
               STORE_OK);
  char sid[24];
  snprintf(sid, sizeof sid, "%lld", (long long)completed);
  cr_expect_eq(test_db_count_with(st->db,
                                  "SELECT COUNT(*) FROM ipp_events WHERE subscription_id = ?", sid),
               0, "a canceled subscription's events go with it");
  cr_assert_eq(store_ipp_subscription_cancel(st, "t1", "p1", completed, time(NULL) * 1000000LL),
               STORE_NOT_FOUND);
  store_close(st);
}

Test(store_ipp, held_and_unstarted_jobs_are_refused) {
  store_t *st = fixture();
  store_job_new_t n = {.tenant = "t1", .printer_id = "p1", .configuration = "{}"};
  store_job_t j;
  cr_assert_eq(store_job_create(st, &n, &j, NULL), STORE_OK);
  store_ipp_result_t r;
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p1", j.id, "urn:uuid:a", &r), STORE_CONFLICT);
  cr_expect_eq(r.refusal, STORE_IPP_REFUSED_NOT_FETCHABLE);
  store_ipp_result_clear(&r);
  test_db_exec(st->db, "UPDATE jobs SET phase = 1 WHERE id = 1", NULL); /* held */
  cr_assert_eq(store_ipp_job_acknowledge(st, "t1", "p1", j.id, "urn:uuid:a", &r), STORE_CONFLICT);
  cr_expect_eq(r.refusal, STORE_IPP_REFUSED_HELD);
  store_ipp_result_clear(&r);
  store_ipp_job_status_t s = {.device_state = 5, .details = -1, .impressions = -1};
  cr_assert_eq(store_ipp_job_status(st, "t1", "p1", j.id, "urn:uuid:a", &s, &r), STORE_CONFLICT);
  cr_expect_eq(r.refusal, STORE_IPP_REFUSED_HELD);
  store_ipp_result_clear(&r);
  store_job_clear(&j);

  store_ipp_job_filter_t f = {.which = STORE_IPP_FETCHABLE, .limit = 10};
  store_ipp_job_t *jobs;
  size_t nj;
  cr_assert_eq(store_ipp_job_list(st, "t1", "p1", &f, &jobs, &nj), STORE_OK);
  cr_expect_eq(nj, 0u);
  store_ipp_jobs_free(jobs, nj);
  f.which = STORE_IPP_NOT_COMPLETED;
  cr_assert_eq(store_ipp_job_list(st, "t1", "p1", &f, &jobs, &nj), STORE_OK);
  cr_expect_eq(nj, 1u);
  store_ipp_jobs_free(jobs, nj);
  store_close(st);
}

/* store_ipp_merge_fn for the tests: stores "v<n>" and a status patch; refuses when arg says. */
static int test_merge(const void *old, size_t old_len, void **attrs, size_t *len,
                      store_ipp_printer_patch_t *patch, void *arg) {
  int *mode = arg;
  if (*mode < 0) return -1;
  char buf[32];
  snprintf(buf, sizeof buf, "v%zu", old ? old_len : 0);
  *attrs = strdup(buf);
  *len = strlen(buf);
  patch->status_state = *mode;
  patch->status_details = strdup("[\"mediaJam\"]");
  patch->capabilities_merge = strdup("{\"colorModes\":[\"color\"]}");
  patch->defaults_merge = strdup("{\"colorMode\":\"color\"}");
  return 0;
}

Test(store_ipp, device_update_patches_the_printer) {
  store_t *st = fixture();
  int64_t sub = subscribe(st, "printer-state-changed,printer-stopped,printer-config-changed");
  int mode = 3; /* stopped */
  int64_t now = time(NULL) * 1000000LL;
  cr_assert_eq(store_ipp_device_update(st, "t1", "p1", "urn:uuid:a", test_merge, &mode, now),
               STORE_OK);
  store_printer_t p;
  cr_assert_eq(store_printer_get(st, "t1", "p1", &p), STORE_OK);
  cr_expect_eq(p.status_state, 3);
  cr_expect_str_eq(p.status_details, "[\"mediaJam\"]");
  cr_expect_str_eq(p.capabilities, "{\"colorModes\":[\"color\"]}");
  cr_expect_not_null(strstr(p.defaults, "\"colorMode\":\"color\""));
  cr_expect_eq(p.last_seen_us, now);
  cr_expect(p.factory_defaults && strstr(p.factory_defaults, "\"colorMode\":\"color\""),
                     "the device's defaults are its factory defaults too");
  store_printer_clear(&p);

  store_ipp_event_t *ev;
  size_t n = events_of(st, sub, &ev);
  cr_assert_eq(n, 2u);
  cr_expect_str_eq(ev[0].event, "printer-stopped");
  cr_expect_eq(ev[0].printer_state, 3);
  cr_expect_str_eq(ev[1].event, "printer-config-changed");
  store_ipp_events_free(ev, n);

  /* The same again: nothing changed, no event. The stored attributes are the merge's. */
  cr_assert_eq(store_ipp_device_update(st, "t1", "p1", "urn:uuid:a", test_merge, &mode, now),
               STORE_OK);
  n = events_of(st, sub, &ev);
  cr_expect_eq(n, 2u);
  store_ipp_events_free(ev, n);
  void *attrs;
  size_t len;
  cr_assert_eq(store_ipp_device_get(st, "t1", "p1", "urn:uuid:a", &attrs, &len), STORE_OK);
  cr_expect_eq(len, 2u);
  cr_expect_eq(memcmp(attrs, "v2", 2), 0, "the second merge saw the first one's 2 bytes");
  free(attrs);

  mode = -1;
  cr_assert_eq(store_ipp_device_update(st, "t1", "p1", "urn:uuid:b", test_merge, &mode, now),
               STORE_INVALID);
  cr_assert_eq(store_ipp_device_get(st, "t1", "p1", "urn:uuid:b", &attrs, &len), STORE_NOT_FOUND);

  int64_t queued;
  char **uuids;
  size_t nu;
  cr_assert_eq(store_ipp_printer_counts(st, "t1", "p1", &queued, &uuids, &nu), STORE_OK);
  cr_expect_eq(nu, 1u);
  cr_expect_str_eq(uuids[0], "urn:uuid:a");
  free(uuids[0]);
  free(uuids);
  cr_assert_eq(store_ipp_device_remove(st, "t1", "p1", "urn:uuid:a"), STORE_OK);
  cr_assert_eq(store_ipp_device_remove(st, "t1", "p1", "urn:uuid:a"), STORE_NOT_FOUND);
  store_close(st);
}

Test(store_ipp, subscriptions_are_capped) {
  store_t *st = fixture();
  int64_t first = subscribe(st, "job-completed");
  for (int i = 1; i < STORE_IPP_SUBS_MAX; i++) subscribe(st, "job-completed");
  const char *subs = "SELECT COUNT(*) FROM ipp_subscriptions";
  cr_expect_eq(test_db_count(st->db, subs), STORE_IPP_SUBS_MAX);
  int64_t last = subscribe(st, "job-completed");
  cr_expect_eq(last, STORE_IPP_SUBS_MAX + 1);
  cr_expect_eq(test_db_count(st->db, subs), STORE_IPP_SUBS_MAX,
               "the least recently used one made room");
  store_ipp_subscription_t s;
  cr_expect_eq(store_ipp_subscription_get(st, "t1", "p1", first, time(NULL) * 1000000LL, &s),
               STORE_NOT_FOUND);
  cr_assert_eq(store_ipp_subscription_renew(st, "t1", "p1", last, 10, time(NULL) * 1000000LL),
               STORE_OK);
  cr_expect_eq(store_ipp_subscription_get(st, "t1", "p1", last,
                                          (time(NULL) + 20) * 1000000LL, &s),
               STORE_NOT_FOUND, "expired after its lease");
  store_close(st);
}

Test(store_ipp, device_tokens) {
  store_t *st = fixture();
  char tok[IPP_DEVICE_TOKEN_LEN + 1], tok2[IPP_DEVICE_TOKEN_LEN + 1];
  cr_assert_eq(ipp_device_token_issue(st, "p1", tok), STORE_OK);
  cr_expect_eq(strlen(tok), 64u);
  store_ipp_credentials_t c;
  cr_assert_eq(store_ipp_credentials_get(st, "p1", &c), STORE_OK);
  char h[65];
  ipp_device_token_hash(tok, h);
  cr_expect_str_eq(c.secret_hash, h, "only the hash is stored");
  cr_expect_str_eq(c.tenant, "t1");
  cr_expect_str_eq(c.cert_sha256, "abc");
  store_ipp_credentials_clear(&c);
  cr_assert_eq(ipp_device_token_issue(st, "P1", tok2), STORE_OK, "ids are matched lower-case");
  cr_expect_str_neq(tok, tok2);
  cr_assert_eq(store_ipp_credentials_get(st, "p1", &c), STORE_OK);
  cr_expect_str_neq(c.secret_hash, h, "a new token revokes the old one");
  store_ipp_credentials_clear(&c);
  cr_expect_eq(ipp_device_token_issue(st, "nope", tok), STORE_NOT_FOUND);
  cr_expect_eq(store_ipp_credentials_get(st, "nope", &c), STORE_NOT_FOUND);
  store_close(st);
}
