/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph <-> IPP mapping (reference graph-print-api.md §10.6). Pure functions; see mapping.h.
 */
#include "mapping/mapping.h"
#include "core/enums.h"
#include "util/buf.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages in memory ------------------------------------------------------------------- */

typedef struct mem_reader {
  const unsigned char *data;
  size_t               len, off;
} mem_reader_t;

static ssize_t mem_read(void *ctx, ipp_uchar_t *buf, size_t n) {
  mem_reader_t *r = ctx;
  size_t left = r->len - r->off;
  if (n > left) n = left;
  memcpy(buf, r->data + r->off, n);
  r->off += n;
  return (ssize_t)n;
}

static ssize_t mem_write(void *ctx, ipp_uchar_t *buf, size_t n) {
  buf_append(ctx, buf, n);
  return (ssize_t)n;
}

/* See mapping.h. */
ipp_state_t ipp_map_decode(const void *data, size_t len, ipp_t *ipp, size_t *used) {
  mem_reader_t rd = {data, len, 0};
  ipp_state_t state = ippReadIO(&rd, mem_read, 1, NULL, ipp);
  if (used) *used = rd.off;
  return state;
}

/* See mapping.h. */
char *ipp_map_encode(ipp_t *ipp, size_t *len) {
  buf_t b = BUF_INIT;
  *len = 0;
  ippSetState(ipp, IPP_STATE_IDLE);
  if (ippWriteIO(&b, mem_write, 1, NULL, ipp) != IPP_STATE_DATA) {
    buf_free(&b);
    return NULL;
  }
  *len = b.len;
  return buf_detach(&b);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tables ------------------------------------------------------------------------------- */

typedef struct kw_map {
  const char *graph;
  const char *ipp;
} kw_map_t;

/* print-color-mode: the first IPP keyword of a Graph member is the one emitted. */
static const kw_map_t COLOR_MODES[] = {
    {"blackAndWhite", "bi-level"},     {"blackAndWhite", "process-bi-level"},
    {"grayscale", "monochrome"},       {"grayscale", "process-monochrome"},
    {"grayscale", "auto-monochrome"},  {"color", "color"},
    {"auto", "auto"},
};

static const kw_map_t SIDES[] = {
    {"oneSided", "one-sided"},
    {"flipOnLongEdge", "two-sided-long-edge"},
    {"flipOnShortEdge", "two-sided-short-edge"},
};

static const kw_map_t SCALINGS[] = {
    {"auto", "auto"}, {"shrinkToFit", "auto-fit"}, {"fill", "fill"}, {"fit", "fit"},
    {"none", "none"},
};

static const kw_map_t FEEDS[] = {
    {"longEdgeFirst", "long-edge-first"},
    {"shortEdgeFirst", "short-edge-first"},
};

/* presentation-direction-number-up <-> printMultipageLayout (reading order around the sheet:
 * "toright-tobottom" starts top left and goes clockwise). */
static const kw_map_t LAYOUTS[] = {
    {"clockwiseFromTopLeft", "toright-tobottom"},
    {"counterclockwiseFromTopLeft", "tobottom-toright"},
    {"counterclockwiseFromTopRight", "toleft-tobottom"},
    {"clockwiseFromTopRight", "tobottom-toleft"},
    {"counterclockwiseFromBottomLeft", "toright-totop"},
    {"clockwiseFromBottomLeft", "totop-toright"},
    {"clockwiseFromBottomRight", "toleft-totop"},
    {"counterclockwiseFromBottomRight", "totop-toleft"},
};

typedef struct num_map {
  const char *graph;
  int         ipp;
} num_map_t;

static const num_map_t QUALITIES[] = {{"low", 3}, {"medium", 4}, {"high", 5}};

static const num_map_t ORIENTATIONS[] = {
    {"portrait", 3}, {"landscape", 4}, {"reverseLandscape", 5}, {"reversePortrait", 6}};

/* finishings: Graph's numbers equal IPP's for 3-9 and 20-31 only, so everything maps by name. */
static const num_map_t FINISHINGS[] = {
    {"none", 3},               {"staple", 4},             {"punch", 5},
    {"cover", 6},              {"bind", 7},               {"saddleStitch", 8},
    {"stitchEdge", 9},         {"fold", 10},              {"trim", 11},
    {"bale", 12},              {"bookletMaker", 13},      {"coat", 15},
    {"laminate", 16},          {"stapleTopLeft", 20},     {"stapleBottomLeft", 21},
    {"stapleTopRight", 22},    {"stapleBottomRight", 23}, {"stitchLeftEdge", 24},
    {"stitchTopEdge", 25},     {"stitchRightEdge", 26},   {"stitchBottomEdge", 27},
    {"stapleDualLeft", 28},    {"stapleDualTop", 29},     {"stapleDualRight", 30},
    {"stapleDualBottom", 31},  {"stapleTripleLeft", 32},  {"stapleTripleTop", 33},
    {"stapleTripleRight", 34}, {"stapleTripleBottom", 35},{"bindLeft", 50},
    {"bindTop", 51},           {"bindRight", 52},         {"bindBottom", 53},
    {"trimAfterPages", 60},    {"trimAfterDocuments", 61},{"trimAfterCopies", 62},
    {"trimAfterJob", 63},      {"punchTopLeft", 70},      {"punchBottomLeft", 71},
    {"punchTopRight", 72},     {"punchBottomRight", 73},  {"punchDualLeft", 74},
    {"punchDualTop", 75},      {"punchDualRight", 76},    {"punchDualBottom", 77},
    {"punchTripleLeft", 78},   {"punchTripleTop", 79},    {"punchTripleRight", 80},
    {"punchTripleBottom", 81}, {"punchQuadLeft", 82},     {"punchQuadTop", 83},
    {"punchQuadRight", 84},    {"punchQuadBottom", 85},   {"foldAccordion", 90},
    {"foldDoubleGate", 91},    {"foldGate", 92},          {"foldHalf", 93},
    {"foldHalfZ", 94},         {"foldLeftGate", 95},      {"foldLetter", 96},
    {"foldParallel", 97},      {"foldPoster", 98},        {"foldRightGate", 99},
    {"foldZ", 100},            {"foldEngineeringZ", 101},
};

/* PWG 5101.1 media names for the Graph mediaSizes names that have one. Incoming names match on
 * the class and size name before the dimensions ("iso_a4"), or exactly for the two om_16k. */
static const kw_map_t MEDIA[] = {
    {"A0", "iso_a0_841x1189mm"}, {"A1", "iso_a1_594x841mm"}, {"A2", "iso_a2_420x594mm"},
    {"A3", "iso_a3_297x420mm"}, {"A4", "iso_a4_210x297mm"}, {"A5", "iso_a5_148x210mm"},
    {"A6", "iso_a6_105x148mm"}, {"A7", "iso_a7_74x105mm"}, {"A8", "iso_a8_52x74mm"},
    {"A9", "iso_a9_37x52mm"}, {"A10", "iso_a10_26x37mm"},
    {"B0", "iso_b0_1000x1414mm"}, {"B1", "iso_b1_707x1000mm"}, {"B2", "iso_b2_500x707mm"},
    {"B3", "iso_b3_353x500mm"}, {"B4", "iso_b4_250x353mm"}, {"B5", "iso_b5_176x250mm"},
    {"B6", "iso_b6_125x176mm"}, {"B7", "iso_b7_88x125mm"}, {"B8", "iso_b8_62x88mm"},
    {"B9", "iso_b9_44x62mm"}, {"B10", "iso_b10_31x44mm"},
    {"ISO C0", "iso_c0_917x1297mm"}, {"ISO C1", "iso_c1_648x917mm"},
    {"ISO C2", "iso_c2_458x648mm"}, {"ISO C3", "iso_c3_324x458mm"},
    {"C4", "iso_c4_229x324mm"}, {"C5", "iso_c5_162x229mm"}, {"C6", "iso_c6_114x162mm"},
    {"C7", "iso_c7_81x114mm"}, {"C8", "iso_c8_57x81mm"}, {"C9", "iso_c9_40x57mm"},
    {"C10", "iso_c10_28x40mm"}, {"DL", "iso_dl_110x220mm"},
    {"ISO 2A0", "iso_2a0_1189x1682mm"}, {"ISO RA0", "iso_ra0_860x1220mm"},
    {"ISO RA1", "iso_ra1_610x860mm"}, {"ISO RA2", "iso_ra2_430x610mm"},
    {"ISO RA3", "iso_ra3_305x430mm"}, {"ISO RA4", "iso_ra4_215x305mm"},
    {"ISO SRA0", "iso_sra0_900x1280mm"}, {"ISO SRA1", "iso_sra1_640x900mm"},
    {"ISO SRA2", "iso_sra2_450x640mm"}, {"ISO SRA3", "iso_sra3_320x450mm"},
    {"ISO SRA4", "iso_sra4_225x320mm"}, {"ISO A3 Extra", "iso_a3-extra_322x445mm"},
    {"ISO A4 Extra", "iso_a4-extra_235.5x322.3mm"}, {"ISO A4 Tab", "iso_a4-tab_225x297mm"},
    {"ISO A5 Extra", "iso_a5-extra_174x235mm"}, {"ISO B5 Extra", "iso_b5-extra_201x276mm"},
    {"ISO B6C4", "iso_b6c4_125x324mm"}, {"ISO C6C5", "iso_c6c5_114x229mm"},
    {"ISO C7C6", "iso_c7c6_81x162mm"}, {"ISO ID-1", "iso_id-1_53.98x85.6mm"},
    {"ISO A0x3", "iso_a0x3_1189x2523mm"}, {"ISO A1x3", "iso_a1x3_841x1783mm"},
    {"ISO A1x4", "iso_a1x4_841x2378mm"}, {"ISO A2x3", "iso_a2x3_594x1261mm"},
    {"ISO A2x4", "iso_a2x4_594x1682mm"}, {"ISO A2x5", "iso_a2x5_594x2102mm"},
    {"ISO A3x3", "iso_a3x3_420x891mm"}, {"ISO A3x4", "iso_a3x4_420x1189mm"},
    {"ISO A3x5", "iso_a3x5_420x1486mm"}, {"ISO A3x6", "iso_a3x6_420x1783mm"},
    {"ISO A3x7", "iso_a3x7_420x2080mm"}, {"ISO A4x3", "iso_a4x3_297x630mm"},
    {"ISO A4x4", "iso_a4x4_297x841mm"}, {"ISO A4x5", "iso_a4x5_297x1051mm"},
    {"ISO A4x6", "iso_a4x6_297x1261mm"}, {"ISO A4x7", "iso_a4x7_297x1471mm"},
    {"ISO A4x8", "iso_a4x8_297x1682mm"}, {"ISO A4x9", "iso_a4x9_297x1892mm"},
    {"JIS B0", "jis_b0_1030x1456mm"}, {"JIS B1", "jis_b1_728x1030mm"},
    {"JIS B2", "jis_b2_515x728mm"}, {"JIS B3", "jis_b3_364x515mm"},
    {"JIS B4", "jis_b4_257x364mm"}, {"JIS B5", "jis_b5_182x257mm"},
    {"JIS B6", "jis_b6_128x182mm"}, {"JIS B7", "jis_b7_91x128mm"},
    {"JIS B8", "jis_b8_64x91mm"}, {"JIS B9", "jis_b9_45x64mm"},
    {"JIS B10", "jis_b10_32x45mm"}, {"JIS Exec", "jis_exec_216x330mm"},
    {"JPN Chou2", "jpn_chou2_111.1x146mm"}, {"JPN Chou3", "jpn_chou3_120x235mm"},
    {"JPN Chou4", "jpn_chou4_90x205mm"}, {"JPN Chou40", "jpn_chou40_90x225mm"},
    {"JPN Hagaki", "jpn_hagaki_100x148mm"}, {"JPN Kahu", "jpn_kahu_240x322.1mm"},
    {"JPN Kaku1", "jpn_kaku1_270x382mm"}, {"JPN Kaku2", "jpn_kaku2_240x332mm"},
    {"JPN Kaku3", "jpn_kaku3_216x277mm"}, {"JPN Kaku4", "jpn_kaku4_197x267mm"},
    {"JPN Kaku5", "jpn_kaku5_190x240mm"}, {"JPN Kaku7", "jpn_kaku7_142x205mm"},
    {"JPN Kaku8", "jpn_kaku8_119x197mm"}, {"JPN Oufuku", "jpn_oufuku_148x200mm"},
    {"JPN You4", "jpn_you4_105x235mm"},
    {"North America Letter", "na_letter_8.5x11in"}, {"North America Legal", "na_legal_8.5x14in"},
    {"North America Ledger", "na_ledger_11x17in"},
    {"North America Executive", "na_executive_7.25x10.5in"},
    {"North America Invoice", "na_invoice_5.5x8.5in"},
    {"North America Government Letter", "na_govt-letter_8x10in"},
    {"North America Govt Legal", "na_govt-legal_8x13in"},
    {"North America Foolscap", "na_foolscap_8.5x13in"},
    {"North America Oficio", "na_oficio_8.5x13.4in"},
    {"North America Quarto", "na_quarto_8.5x10.83in"},
    {"North America Letter Extra", "na_letter-extra_9.5x12in"},
    {"North America Letter Plus", "na_letter-plus_8.5x12.69in"},
    {"North America Legal Extra", "na_legal-extra_9.5x15in"},
    {"North America Super A", "na_super-a_8.94x14in"},
    {"North America Super B", "na_super-b_13x19in"}, {"North America A2", "na_a2_4.375x5.75in"},
    {"North America C5", "na_c5_6.5x9.5in"}, {"North America 5x7in", "na_5x7_5x7in"},
    {"North America 6x9in", "na_6x9_6x9in"}, {"North America 7x9in", "na_7x9_7x9in"},
    {"North America 9x11in", "na_9x11_9x11in"}, {"North America 10x11in", "na_10x11_10x11in"},
    {"North America 10x13in", "na_10x13_10x13in"}, {"North America 10x14in", "na_10x14_10x14in"},
    {"North America 10x15in", "na_10x15_10x15in"}, {"North America 11x12in", "na_11x12_11x12in"},
    {"North America 11x15in", "na_11x15_11x15in"}, {"North America 12x19in", "na_12x19_12x19in"},
    {"North America Index 3x5in", "na_index-3x5_3x5in"},
    {"North America Index 4x6in", "na_index-4x6_4x6in"},
    {"North America Index 4x6 Ext", "na_index-4x6-ext_6x8in"},
    {"North America Index 5x8in", "na_index-5x8_5x8in"},
    {"North America Monarch", "na_monarch_3.875x7.5in"},
    {"North America Number 9 Envelope", "na_number-9_3.875x8.875in"},
    {"North America Number 10 Envelope", "na_number-10_4.125x9.5in"},
    {"North America Number 11 Envelope", "na_number-11_4.5x10.375in"},
    {"North America Number 12 Envelope", "na_number-12_4.75x11in"},
    {"North America Number 14 Envelope", "na_number-14_5x11.5in"},
    {"North America Personal", "na_personal_3.625x6.5in"},
    {"North America Arch A", "na_arch-a_9x12in"}, {"North America Arch B", "na_arch-b_12x18in"},
    {"North America Arch C", "na_arch-c_18x24in"}, {"North America Arch D", "na_arch-d_24x36in"},
    {"North America Arch E", "na_arch-e_36x48in"}, {"North America Arch E2", "na_arch-e2_26x38in"},
    {"North America Arch E3", "na_arch-e3_27x39in"},
    {"North America B Plus", "na_b-plus_12x19.17in"}, {"North America C", "na_c_17x22in"},
    {"North America D", "na_d_22x34in"}, {"North America E", "na_e_34x44in"},
    {"North America F", "na_f_44x68in"}, {"North America EUR EDP", "na_eur-edp_12x14in"},
    {"North America Fanfold EUR", "na_fanfold-eur_8.5x12in"},
    {"North America Fanfold US", "na_fanfold-us_11x14.875in"}, {"ASME F", "asme_f_28x40in"},
    {"PRC 1", "prc_1_102x165mm"}, {"PRC 2", "prc_2_102x176mm"}, {"PRC 4", "prc_4_110x208mm"},
    {"PRC 6", "prc_6_120x320mm"}, {"PRC 7", "prc_7_160x230mm"}, {"PRC 8", "prc_8_120x309mm"},
    {"PRC 16K", "prc_16k_146x215mm"}, {"PRC 32K", "prc_32k_97x151mm"},
    {"OM Folio", "om_folio_210x330mm"}, {"OM Folio SP", "om_folio-sp_215x315mm"},
    {"OM Invite", "om_invite_220x220mm"}, {"OM Italian", "om_italian_110x230mm"},
    {"OM Pa Kai", "om_pa-kai_267x389mm"}, {"OM Dai Pa Kai", "om_dai-pa-kai_275x395mm"},
    {"OM Juuro Ku Kai", "om_juuro-ku-kai_198x275mm"}, {"OM 16K 184x260", "om_16k_184x260mm"},
    {"OM 16K 195x270", "om_16k_195x270mm"}, {"Small Photo", "om_small-photo_100x150mm"},
    {"Medium Photo", "om_medium-photo_130x180mm"}, {"Large Photo", "om_large-photo_200x300mm"},
    {"Wide Photo", "om_wide-photo_100x200mm"}, {"Square Photo", "om_square-photo_89x89mm"},
    {"OM Photo 30x40", "om_photo-30x40_300x400mm"}, {"OM Photo 30x45", "om_photo-30x45_300x450mm"},
    {"OM Photo 35x46", "om_photo-35x46_350x460mm"}, {"OM Photo 40x60", "om_photo-40x60_400x600mm"},
    {"OM Photo 50x75", "om_photo-50x75_500x750mm"}, {"OM Photo 50x76", "om_photo-50x76_500x760mm"},
    {"OM Photo 60x90", "om_photo-60x90_600x900mm"}, {"OM Photo 30x90", "om_photo-30x90_300x900mm"},
    {"Business Card 55x91mm", "om_business-card_55x91mm"},
    {"Business Card 2x3.5in", "oe_business-card_2x3.5in"},
    {"Photo l 3.5x5in", "oe_photo-l_3.5x5in"}, {"OE 12x16", "oe_12x16_12x16in"},
    {"OE 14x17", "oe_14x17_14x17in"}, {"OE 18x22", "oe_18x22_18x22in"},
    {"OE A2 Plus", "oe_a2plus_17x24in"}, {"OE Photo 10R", "oe_photo-10r_10x12in"},
    {"OE Photo 12R", "oe_photo-12r_12x15in"}, {"OE Photo 14x18", "oe_photo-14x18_14x18in"},
    {"OE Photo 16R", "oe_photo-16r_16x20in"}, {"OE Photo 20R", "oe_photo-20r_20x24in"},
    {"OE Photo 22R", "oe_photo-22r_22x29.5in"}, {"OE Photo 22x28", "oe_photo-22x28_22x28in"},
    {"OE Photo 24R", "oe_photo-24r_24x31.5in"}, {"OE Photo 24x30", "oe_photo-24x30_24x30in"},
    {"OE Photo 30R", "oe_photo-30r_30x40in"}, {"OE Photo S8R", "oe_photo-s8r_8x12in"},
    {"OE Square Photo 4x4", "oe_square-photo_4x4in"},
    {"OE Square Photo 5x5", "oe_square-photo_5x5in"},
};

/* printer-state-reasons keywords whose Graph name is not plain kebab -> camel case. */
static const kw_map_t REASON_EXCEPTIONS[] = {
    {"opticalPhotoConductorNearEndOfLife", "opc-near-eol"},
    {"opticalPhotoConductorLifeOver", "opc-life-over"},
    {"stoppedPartially", "stopped-partly"},
};

/* ---- table lookups ------------------------------------------------------------------------ */

static const char *kw_to_graph(const kw_map_t *t, size_t n, const char *ipp) {
  for (size_t i = 0; ipp && i < n; i++)
    if (!strcmp(t[i].ipp, ipp)) return t[i].graph;
  return NULL;
}

static const char *kw_to_ipp(const kw_map_t *t, size_t n, const char *graph) {
  for (size_t i = 0; graph && i < n; i++)
    if (!strcmp(t[i].graph, graph)) return t[i].ipp;
  return NULL;
}

static const char *num_to_graph(const num_map_t *t, size_t n, int ipp) {
  for (size_t i = 0; i < n; i++)
    if (t[i].ipp == ipp) return t[i].graph;
  return NULL;
}

static int num_to_ipp(const num_map_t *t, size_t n, const char *graph) {
  for (size_t i = 0; graph && i < n; i++)
    if (!strcmp(t[i].graph, graph)) return t[i].ipp;
  return 0;
}

/* ---- jobs --------------------------------------------------------------------------------- */

/* IPP job-state of a phase; see mapping.h. */
int ipp_map_job_state(job_phase_t p) {
  switch (p) {
    case JOB_CREATED:
    case JOB_HELD: return IPP_JSTATE_HELD;
    case JOB_FETCHABLE: return IPP_JSTATE_PENDING;
    case JOB_ACQUIRED:
    case JOB_PROCESSING: return IPP_JSTATE_PROCESSING;
    case JOB_STOPPED: return IPP_JSTATE_STOPPED;
    case JOB_CANCELED: return IPP_JSTATE_CANCELED;
    case JOB_COMPLETED: return IPP_JSTATE_COMPLETED;
    case JOB_ABORTED:
    case JOB_PHASE_COUNT: break;
  }
  return IPP_JSTATE_ABORTED;
}

/* job-state-reasons of a job; see mapping.h. */
size_t ipp_map_job_reasons(job_phase_t p, unsigned details, int device_state, const char **out,
                           size_t max) {
  const char *r = "none";
  switch (p) {
    case JOB_CREATED: r = "job-incoming"; break;
    case JOB_HELD: r = "job-held-for-review"; break;
    case JOB_FETCHABLE: r = "job-fetchable"; break;
    case JOB_ACQUIRED: r = "none"; break;
    case JOB_PROCESSING: r = "job-printing"; break;
    case JOB_STOPPED: r = "printer-stopped"; break;
    case JOB_COMPLETED:
      r = details & JOB_DETAIL_COMPLETED_WITH_ERRORS     ? "job-completed-with-errors"
          : details & JOB_DETAIL_COMPLETED_WITH_WARNINGS ? "job-completed-with-warnings"
                                                         : "job-completed-successfully";
      break;
    case JOB_CANCELED:
      r = device_state == IPP_JSTATE_CANCELED ? "job-canceled-at-device" : "job-canceled-by-user";
      break;
    case JOB_ABORTED:
    case JOB_PHASE_COUNT: r = "aborted-by-system"; break;
  }
  if (max == 0) return 0;
  out[0] = r;
  return 1;
}

/* The job event of an output-device-job-state; see mapping.h. */
bool ipp_map_device_job_event(int device_state, job_event_t *ev, bool *valid) {
  *valid = device_state >= IPP_JSTATE_PENDING && device_state <= IPP_JSTATE_COMPLETED;
  switch (device_state) {
    case IPP_JSTATE_PROCESSING: *ev = JOB_EV_DEVICE_PROCESSING; return true;
    case IPP_JSTATE_STOPPED: *ev = JOB_EV_DEVICE_STOPPED; return true;
    case IPP_JSTATE_CANCELED: *ev = JOB_EV_DEVICE_CANCELED; return true;
    case IPP_JSTATE_ABORTED: *ev = JOB_EV_DEVICE_ABORTED; return true;
    case IPP_JSTATE_COMPLETED: *ev = JOB_EV_DEVICE_COMPLETED; return true;
    default: return false;
  }
}

/* Completion details from the device's reasons; see mapping.h. */
unsigned ipp_map_completed_details(ipp_attribute_t *reasons) {
  if (reasons && ippContainsString(reasons, "job-completed-with-errors"))
    return JOB_DETAIL_COMPLETED_WITH_ERRORS;
  if (reasons && ippContainsString(reasons, "job-completed-with-warnings"))
    return JOB_DETAIL_COMPLETED_WITH_WARNINGS;
  return JOB_DETAIL_COMPLETED_SUCCESSFULLY;
}

/* The largest resolution taken from a device, in dpi (the Graph side refuses more as well). */
#define DEVICE_DPI_MAX 100000

/* A JSON member as a positive int32, or 0. */
static int json_pos_int(json_t *o, const char *name) {
  json_t *v = json_object_get(o, name);
  if (!json_is_integer(v)) return 0;
  json_int_t n = json_integer_value(v);
  return n > 0 && n <= 2147483647 ? (int)n : 0;
}

static const char *json_str(json_t *o, const char *name) {
  return json_string_value(json_object_get(o, name));
}

/* True when s can go on the wire as an IPP keyword ([a-z0-9._-], starting with a letter). */
static bool is_keyword(const char *s) {
  if (!s || !*s || !islower((unsigned char)*s)) return false;
  for (; *s; s++)
    if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && !strchr("-._", *s))
      return false;
  return strlen(s) < 256;
}

/* Adds one keyword-or-name value. */
static void add_keyword_or_name(ipp_t *ipp, ipp_tag_t group, const char *name, const char *v) {
  ippAddString(ipp, group, is_keyword(v) ? IPP_TAG_KEYWORD : IPP_TAG_NAME, name, NULL, v);
}

/* The width and height of a PWG self-describing media name in hundredths of mm. */
static bool media_dimensions(const char *pwg, int *x, int *y) {
  const char *dims = strrchr(pwg, '_');
  if (!dims) return false;
  char *end;
  double w = strtod(dims + 1, &end);
  if (*end != 'x') return false;
  double h = strtod(end + 1, &end);
  double scale = !strcmp(end, "mm") ? 100.0 : !strcmp(end, "in") ? 2540.0 : 0.0;
  /* NaN fails every comparison; the products must fit an int */
  if (!(scale > 0 && w > 0 && h > 0 && w * scale < INT32_MAX && h * scale < INT32_MAX))
    return false;
  *x = (int)(w * scale + 0.5);
  *y = (int)(h * scale + 0.5);
  return true;
}

/* Job ticket; see mapping.h. */
void ipp_map_job_ticket(ipp_t *ipp, ipp_tag_t group, const char *configuration) {
  json_t *cfg = configuration ? json_loads(configuration, 0, NULL) : NULL;
  if (!json_is_object(cfg)) {
    json_decref(cfg);
    return;
  }
  int n;
  const char *s;
  if ((n = json_pos_int(cfg, "copies")) > 0) ippAddInteger(ipp, group, IPP_TAG_INTEGER, "copies", n);
  if ((s = kw_to_ipp(SIDES, COUNT(SIDES), json_str(cfg, "duplexMode"))))
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "sides", NULL, s);
  if ((s = kw_to_ipp(COLOR_MODES, COUNT(COLOR_MODES), json_str(cfg, "colorMode"))))
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "print-color-mode", NULL, s);

  /* media: a keyword, or media-col when a source, type or margins come with it */
  const char *media = ipp_map_media_from_graph(json_str(cfg, "mediaSize"));
  const char *source = json_str(cfg, "inputBin");
  const char *type = json_str(cfg, "mediaType");
  json_t *margin = json_object_get(cfg, "margin");
  if (source || type || json_is_object(margin)) {
    ipp_t *col = ippNew();
    int x, y;
    if (media && media_dimensions(media, &x, &y)) {
      ipp_t *size = ippNew();
      ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-dimension", x);
      ippAddInteger(size, IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-dimension", y);
      ippAddCollection(col, IPP_TAG_ZERO, "media-size", size);
      ippDelete(size);
      ippAddString(col, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "media-size-name", NULL, media);
    }
    static const char *const sides[] = {"top", "bottom", "left", "right"};
    for (size_t i = 0; json_is_object(margin) && i < COUNT(sides); i++) {
      json_t *v = json_object_get(margin, sides[i]);
      if (!json_is_integer(v) || json_integer_value(v) < 0) continue;
      char name[32];
      snprintf(name, sizeof name, "media-%s-margin", sides[i]);
      ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, name,
                    (int)(json_integer_value(v) / 10)); /* microns -> hundredths of mm */
    }
    if (source) add_keyword_or_name(col, IPP_TAG_ZERO, "media-source", source);
    if (type) add_keyword_or_name(col, IPP_TAG_ZERO, "media-type", type);
    ippAddCollection(ipp, group, "media-col", col);
    ippDelete(col);
  } else if (media) {
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "media", NULL, media);
  }

  if ((n = num_to_ipp(ORIENTATIONS, COUNT(ORIENTATIONS), json_str(cfg, "orientation"))))
    ippAddInteger(ipp, group, IPP_TAG_ENUM, "orientation-requested", n);
  json_t *arr = json_object_get(cfg, "finishings"), *v;
  size_t i;
  if (json_is_array(arr) && json_array_size(arr)) {
    int vals[64];
    size_t nv = 0;
    json_array_foreach(arr, i, v) {
      int f = num_to_ipp(FINISHINGS, COUNT(FINISHINGS), json_string_value(v));
      if (f && nv < COUNT(vals)) vals[nv++] = f;
    }
    if (nv) ippAddIntegers(ipp, group, IPP_TAG_ENUM, "finishings", (int)nv, vals);
  }
  arr = json_object_get(cfg, "pageRanges");
  if (json_is_array(arr) && json_array_size(arr)) {
    int lo[64], hi[64];
    size_t nv = 0;
    json_array_foreach(arr, i, v) {
      json_t *a = json_object_get(v, "start"), *b = json_object_get(v, "end");
      if (!json_is_object(v) || nv >= COUNT(lo)) continue;
      /* integerRange members are nullable: an open start is page 1, an open end the last page */
      json_int_t ja = json_is_integer(a) ? json_integer_value(a) : 1;
      json_int_t jb = json_is_integer(b) ? json_integer_value(b) : 2147483647;
      if (ja < 1 || jb < ja || jb > 2147483647) continue;
      lo[nv] = (int)ja;
      hi[nv] = (int)jb;
      nv++;
    }
    if (nv) ippAddRanges(ipp, group, "page-ranges", (int)nv, lo, hi);
  }
  if ((n = num_to_ipp(QUALITIES, COUNT(QUALITIES), json_str(cfg, "quality"))))
    ippAddInteger(ipp, group, IPP_TAG_ENUM, "print-quality", n);
  if ((n = json_pos_int(cfg, "dpi")) > 0)
    ippAddResolution(ipp, group, "printer-resolution", IPP_RES_PER_INCH, n, n);
  if ((n = json_pos_int(cfg, "pagesPerSheet")) > 0)
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "number-up", n);
  if ((s = kw_to_ipp(LAYOUTS, COUNT(LAYOUTS), json_str(cfg, "multipageLayout"))))
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "presentation-direction-number-up", NULL, s);
  if ((s = kw_to_ipp(SCALINGS, COUNT(SCALINGS), json_str(cfg, "scaling"))))
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "print-scaling", NULL, s);
  else if (json_is_true(json_object_get(cfg, "fitPdfToPage")))
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "print-scaling", NULL, "fit");
  json_t *collate = json_object_get(cfg, "collate");
  if (json_is_boolean(collate))
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "multiple-document-handling", NULL,
                 json_is_true(collate) ? "separate-documents-collated-copies"
                                       : "separate-documents-uncollated-copies");
  if ((s = json_str(cfg, "outputBin"))) add_keyword_or_name(ipp, group, "output-bin", s);
  if ((s = kw_to_ipp(FEEDS, COUNT(FEEDS), json_str(cfg, "feedOrientation"))))
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "feed-orientation", NULL, s);
  json_decref(cfg);
}

/* ---- printers: states and reasons --------------------------------------------------------- */

/* printer-state of a Graph state; see mapping.h. */
int ipp_map_printer_state(int graph_state) {
  return graph_state == 2 ? IPP_PSTATE_PROCESSING : graph_state == 3 ? IPP_PSTATE_STOPPED
                                                                     : IPP_PSTATE_IDLE;
}

/* Graph state of a printer-state; see mapping.h. */
int ipp_map_graph_printer_state(int ipp_state) {
  switch (ipp_state) {
    case IPP_PSTATE_IDLE: return 1;
    case IPP_PSTATE_PROCESSING: return 2;
    case IPP_PSTATE_STOPPED: return 3;
    default: return -1;
  }
}

/* The printerProcessingStateDetail index of kw (kebab-case, no severity suffix handling), or
 * -1: the exceptions table, else kebab -> camel. */
static int reason_lookup(const char *kw) {
  const char *special = kw_to_graph(REASON_EXCEPTIONS, COUNT(REASON_EXCEPTIONS), kw);
  char camel[256];
  if (special) {
    snprintf(camel, sizeof camel, "%s", special);
  } else {
    size_t o = 0;
    bool up = false;
    for (const char *p = kw; *p && o + 1 < sizeof camel; p++) {
      if (*p == '-') {
        up = true;
        continue;
      }
      camel[o++] = up ? (char)toupper((unsigned char)*p) : *p;
      up = false;
    }
    camel[o] = '\0';
  }
  int i = enum_lookup(&ENUM_PRINTER_PROCESSING_STATE_DETAIL, camel, true);
  if (i >= 0 && !strcmp(ENUM_PRINTER_PROCESSING_STATE_DETAIL.members[i], "unknownFutureValue"))
    return -1;
  return i;
}

/* printerProcessingStateDetail index of a printer-state-reasons keyword; see mapping.h. The
 * whole keyword is tried first: some reasons end in "-error" themselves
 * ("stapler-unrecoverable-storage-error", "input-media-tray-feed-error"). */
int ipp_map_printer_reason_detail(const char *keyword) {
  if (!keyword || !*keyword || strlen(keyword) > 200 || !strcmp(keyword, "none")) return -1;
  int i = reason_lookup(keyword);
  if (i >= 0) return i;
  char kw[256];
  snprintf(kw, sizeof kw, "%s", keyword);
  size_t len = strlen(kw);
  static const char *const suffixes[] = {"-report", "-warning", "-error"};
  for (size_t k = 0; k < COUNT(suffixes); k++) {
    size_t sl = strlen(suffixes[k]);
    if (len > sl && !strcmp(kw + len - sl, suffixes[k])) {
      kw[len - sl] = '\0';
      return strcmp(kw, "none") ? reason_lookup(kw) : -1;
    }
  }
  return -1;
}

/* IPP keyword of a printerProcessingStateDetail member; see mapping.h. */
void ipp_map_printer_reason_keyword(const char *detail, char *out, size_t outlen) {
  const char *special = kw_to_ipp(REASON_EXCEPTIONS, COUNT(REASON_EXCEPTIONS), detail);
  if (special) {
    snprintf(out, outlen, "%s", special);
    return;
  }
  size_t o = 0;
  for (const char *p = detail; p && *p && o + 2 < outlen; p++) {
    if (isupper((unsigned char)*p)) {
      out[o++] = '-';
      out[o++] = (char)tolower((unsigned char)*p);
    } else {
      out[o++] = *p;
    }
  }
  if (outlen) out[o < outlen ? o : outlen - 1] = '\0';
}

/* ---- media -------------------------------------------------------------------------------- */

/* Graph name of a PWG media name; see mapping.h. */
const char *ipp_map_media_to_graph(const char *pwg) {
  if (!pwg) return NULL;
  for (size_t i = 0; i < COUNT(MEDIA); i++)
    if (!strcmp(MEDIA[i].ipp, pwg)) return MEDIA[i].graph;
  /* The same class and size name with other (rounded) dimensions: "iso_a4_210x297mm". */
  const char *dims = strrchr(pwg, '_');
  if (!dims || dims == pwg) return NULL;
  size_t plen = (size_t)(dims - pwg);
  for (size_t i = 0; i < COUNT(MEDIA); i++) {
    const char *d = strrchr(MEDIA[i].ipp, '_');
    if ((size_t)(d - MEDIA[i].ipp) == plen && !strncmp(MEDIA[i].ipp, pwg, plen) &&
        strncmp(pwg, "om_16k", 6) != 0)
      return MEDIA[i].graph;
  }
  return NULL;
}

/* PWG media name of a Graph name; see mapping.h. */
const char *ipp_map_media_from_graph(const char *graph) {
  return kw_to_ipp(MEDIA, COUNT(MEDIA), graph);
}

/* ---- device attributes -> Graph ------------------------------------------------------------ */

/* The merged attribute name, NULL when absent. *deleted tells whether the request deleted it. */
static ipp_attribute_t *device_attr(ipp_t *attrs, ipp_t *request, const char *name,
                                    bool *deleted) {
  *deleted = false;
  ipp_attribute_t *a = attrs ? ippFindAttribute(attrs, name, IPP_TAG_ZERO) : NULL;
  if (!a && request) {
    ipp_attribute_t *r = ippFindAttribute(request, name, IPP_TAG_ZERO);
    *deleted = r && ippGetValueTag(r) == IPP_TAG_DELETEATTR;
  }
  return a;
}

/* Appends s to arr unless it is there already. */
static void json_array_add_unique(json_t *arr, const char *s) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    if (!strcmp(json_string_value(v), s)) return;
  }
  json_array_append_new(arr, json_string(s));
}

typedef enum { CONV_STRING, CONV_KW, CONV_NUM, CONV_MEDIA } conv_kind_t;

/* One string/enum attribute -> a Graph collection member (caps) and its default (defaults). */
typedef struct attr_rule {
  const char      *supported;    /* IPP *-supported name (NULL: none) */
  const char      *dflt;         /* IPP *-default name (NULL: none) */
  const char      *caps_member;  /* Graph capabilities member */
  const char      *dflt_member;  /* Graph defaults member */
  conv_kind_t      kind;
  const kw_map_t  *kw;
  size_t           nkw;
  const num_map_t *num;
  size_t           nnum;
  bool             dflt_is_array;/* finishings */
} attr_rule_t;

#define KW_RULE(sup, def, cm, dm, table) \
  {sup, def, cm, dm, CONV_KW, table, COUNT(table), NULL, 0, false}
#define NUM_RULE(sup, def, cm, dm, table, arr) \
  {sup, def, cm, dm, CONV_NUM, NULL, 0, table, COUNT(table), arr}
static const attr_rule_t RULES[] = {
    {"document-format-supported", "document-format-default", "contentTypes", "contentType",
     CONV_STRING, NULL, 0, NULL, 0, false},
    KW_RULE("print-color-mode-supported", "print-color-mode-default", "colorModes", "colorMode",
            COLOR_MODES),
    KW_RULE("sides-supported", "sides-default", "duplexModes", "duplexMode", SIDES),
    KW_RULE("print-scaling-supported", "print-scaling-default", "scalings", "scaling", SCALINGS),
    KW_RULE("presentation-direction-number-up-supported", "presentation-direction-number-up-default",
            "multipageLayouts", "multipageLayout", LAYOUTS),
    KW_RULE("media-feed-orientation-supported", NULL, "feedOrientations", NULL, FEEDS),
    NUM_RULE("finishings-supported", "finishings-default", "finishings", "finishings",
             FINISHINGS, true),
    NUM_RULE("orientation-requested-supported", "orientation-requested-default", "orientations",
             "orientation", ORIENTATIONS, false),
    NUM_RULE("print-quality-supported", "print-quality-default", "qualities", "quality",
             QUALITIES, false),
    {"media-supported", "media-default", "mediaSizes", "mediaSize", CONV_MEDIA, NULL, 0, NULL, 0,
     false},
    {"output-bin-supported", "output-bin-default", "outputBins", "outputBin", CONV_STRING, NULL, 0,
     NULL, 0, false},
    {"media-source-supported", NULL, "inputBins", NULL, CONV_STRING, NULL, 0, NULL, 0, false},
    {"media-type-supported", NULL, "mediaTypes", NULL, CONV_STRING, NULL, 0, NULL, 0, false},
    {"media-color-supported", NULL, "mediaColors", NULL, CONV_STRING, NULL, 0, NULL, 0, false},
};

/* The Graph value of value i of attribute a under rule r, or NULL. */
static const char *rule_value(const attr_rule_t *r, ipp_attribute_t *a, int i) {
  switch (r->kind) {
    case CONV_STRING: return ippGetString(a, i, NULL);
    case CONV_KW: return kw_to_graph(r->kw, r->nkw, ippGetString(a, i, NULL));
    case CONV_NUM: return num_to_graph(r->num, r->nnum, ippGetInteger(a, i));
    case CONV_MEDIA: return ipp_map_media_to_graph(ippGetString(a, i, NULL));
  }
  return NULL;
}

/* Integer collections: printer-resolution (dpi), number-up, margins. */
static json_t *resolutions_json(ipp_attribute_t *a) {
  json_t *arr = json_array();
  for (int i = 0; i < ippGetCount(a); i++) {
    ipp_res_t units;
    int y, x = ippGetResolution(a, i, &y, &units);
    /* device input: convert in double and keep only what fits (dpi is a positive Int32) */
    double d = units == IPP_RES_PER_CM ? x * 2.54 + 0.5 : units == IPP_RES_PER_INCH ? x : 0;
    if (!(d >= 1 && d <= DEVICE_DPI_MAX)) continue;
    int dpi = (int)d;
    bool dup = false;
    for (size_t k = 0; k < json_array_size(arr); k++)
      dup = dup || json_integer_value(json_array_get(arr, k)) == dpi;
    if (!dup) json_array_append_new(arr, json_integer(dpi));
  }
  return arr;
}

static json_t *number_up_json(ipp_attribute_t *a) {
  static const int common[] = {1, 2, 4, 6, 9, 16};
  json_t *arr = json_array();
  for (int i = 0; i < ippGetCount(a); i++) {
    if (ippGetValueTag(a) == IPP_TAG_RANGE) {
      int hi, lo = ippGetRange(a, i, &hi);
      for (size_t k = 0; k < COUNT(common); k++)
        if (common[k] >= lo && common[k] <= hi) json_array_append_new(arr, json_integer(common[k]));
    } else if (ippGetInteger(a, i) > 0) {
      json_array_append_new(arr, json_integer(ippGetInteger(a, i)));
    }
  }
  return arr;
}

/* Margins in hundredths of mm -> microns, kept only when the result fits Graph's Int32. */
static json_t *margins_json(ipp_attribute_t *a) {
  json_t *arr = json_array();
  for (int i = 0; i < ippGetCount(a); i++) {
    json_int_t m = ippGetInteger(a, i);
    if (m >= 0 && m <= INT32_MAX / 10) json_array_append_new(arr, json_integer(m * 10));
  }
  return arr;
}

static char *dump(json_t *o) {
  if (!o || json_object_size(o) == 0) {
    json_decref(o);
    return NULL;
  }
  char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  char *copy = t ? xstrdup(t) : NULL;
  free(t);
  return copy;
}

/* Device patch; see mapping.h. */
ipp_t *ipp_map_attrs_decode(const void *data, size_t len) {
  ipp_t *ipp = ippNew();
  if (data && len) {
    if (ipp_map_decode(data, len, ipp, NULL) != IPP_STATE_DATA) {
      ippDelete(ipp);
      ipp = ippNew();
    }
  }
  return ipp;
}

void ipp_map_device_patch(ipp_t *attrs, ipp_t *request, store_ipp_printer_patch_t *patch) {
  bool del;
  ipp_attribute_t *a;

  /* status */
  if ((a = device_attr(attrs, request, "printer-state", &del)) && ippGetValueTag(a) == IPP_TAG_ENUM)
    patch->status_state = ipp_map_graph_printer_state(ippGetInteger(a, 0));
  if ((a = device_attr(attrs, request, "printer-state-reasons", &del)) || del) {
    json_t *arr = json_array();
    for (int i = 0; a && i < ippGetCount(a); i++) {
      int d = ipp_map_printer_reason_detail(ippGetString(a, i, NULL));
      if (d >= 0) json_array_add_unique(arr, ENUM_PRINTER_PROCESSING_STATE_DETAIL.members[d]);
    }
    char *t = json_dumps(arr, JSON_COMPACT);
    patch->status_details = xstrdup(t ? t : "[]");
    free(t);
    json_decref(arr);
  }
  if ((a = device_attr(attrs, request, "printer-state-message", &del)) || del) {
    const char *m = a ? ippGetString(a, 0, NULL) : NULL;
    patch->status_description = xstrdup(m ? m : "");
  }
  if ((a = device_attr(attrs, request, "printer-is-accepting-jobs", &del)) &&
      ippGetValueTag(a) == IPP_TAG_BOOLEAN)
    patch->accepting = ippGetBoolean(a, 0) ? 1 : 0;

  json_t *caps = json_object(), *defs = json_object();
  for (size_t k = 0; k < COUNT(RULES); k++) {
    const attr_rule_t *r = &RULES[k];
    if ((a = device_attr(attrs, request, r->supported, &del)) || del) {
      json_t *arr = json_array();
      for (int i = 0; a && i < ippGetCount(a); i++) {
        const char *v = rule_value(r, a, i);
        if (v) json_array_add_unique(arr, v);
      }
      json_object_set_new(caps, r->caps_member, arr);
    }
    if (!r->dflt) continue;
    if ((a = device_attr(attrs, request, r->dflt, &del)) || del) {
      if (r->dflt_is_array) {
        json_t *arr = json_array();
        for (int i = 0; a && i < ippGetCount(a); i++) {
          const char *v = rule_value(r, a, i);
          if (v) json_array_add_unique(arr, v);
        }
        json_object_set_new(defs, r->dflt_member, arr);
      } else {
        const char *v = a ? rule_value(r, a, 0) : NULL;
        json_object_set_new(defs, r->dflt_member, v ? json_string(v) : json_null());
      }
    }
  }
  if ((a = device_attr(attrs, request, "copies-supported", &del)) || del) {
    json_t *range = json_null();
    int hi, lo = a && ippGetValueTag(a) == IPP_TAG_RANGE ? ippGetRange(a, 0, &hi) : 0;
    if (lo >= 1 && hi >= lo) { /* an empty or inverted range says nothing */
      range = json_object();
      json_object_set_new(range, "start", json_integer(lo));
      json_object_set_new(range, "end", json_integer(hi));
    }
    json_object_set_new(caps, "copiesPerJob", range);
  }
  if ((a = device_attr(attrs, request, "copies-default", &del)) || del)
    json_object_set_new(defs, "copiesPerJob", a && ippGetInteger(a, 0) > 0
                                                  ? json_integer(ippGetInteger(a, 0)) : json_null());
  if ((a = device_attr(attrs, request, "printer-resolution-supported", &del)) || del)
    json_object_set_new(caps, "dpis", a ? resolutions_json(a) : json_array());
  if ((a = device_attr(attrs, request, "printer-resolution-default", &del)) || del) {
    json_t *r = a ? resolutions_json(a) : NULL;
    json_object_set_new(defs, "dpi", json_array_size(r) ? json_copy(json_array_get(r, 0))
                                                        : json_null());
    json_decref(r);
  }
  if ((a = device_attr(attrs, request, "number-up-supported", &del)) || del)
    json_object_set_new(caps, "pagesPerSheet", a ? number_up_json(a) : json_array());
  if ((a = device_attr(attrs, request, "number-up-default", &del)) || del)
    json_object_set_new(defs, "pagesPerSheet", a && ippGetInteger(a, 0) > 0
                                                   ? json_integer(ippGetInteger(a, 0)) : json_null());
  if ((a = device_attr(attrs, request, "page-ranges-supported", &del)) || del)
    json_object_set_new(caps, "isPageRangeSupported",
                        a ? json_boolean(ippGetBoolean(a, 0)) : json_null());
  static const char *const margins[][2] = {{"media-top-margin-supported", "topMargins"},
                                           {"media-bottom-margin-supported", "bottomMargins"},
                                           {"media-left-margin-supported", "leftMargins"},
                                           {"media-right-margin-supported", "rightMargins"}};
  for (size_t k = 0; k < COUNT(margins); k++)
    if ((a = device_attr(attrs, request, margins[k][0], &del)) || del)
      json_object_set_new(caps, margins[k][1], a ? margins_json(a) : json_array());
  ipp_attribute_t *collate = device_attr(attrs, request, "sheet-collate-supported", &del);
  ipp_attribute_t *mdh = device_attr(attrs, request, "multiple-document-handling-supported", &del);
  if (collate || mdh)
    json_object_set_new(caps, "collation",
                        json_boolean((collate && ippContainsString(collate, "collated")) ||
                                     (mdh && ippContainsString(mdh, "separate-documents-collated-copies"))));
  if ((a = device_attr(attrs, request, "media-col-default", &del)) &&
      ippGetValueTag(a) == IPP_TAG_BEGIN_COLLECTION) {
    ipp_t *col = ippGetCollection(a, 0);
    static const char *const members[][2] = {
        {"media-source", "inputBin"}, {"media-type", "mediaType"}, {"media-color", "mediaColor"}};
    for (size_t k = 0; k < COUNT(members); k++) {
      ipp_attribute_t *m = ippFindAttribute(col, members[k][0], IPP_TAG_ZERO);
      const char *v = m ? ippGetString(m, 0, NULL) : NULL;
      if (v) json_object_set_new(defs, members[k][1], json_string(v));
    }
  }
  patch->capabilities_merge = dump(caps);
  patch->defaults_merge = dump(defs);
}

/* ---- an application/ipp printer PATCH body ------------------------------------------------- */

/* Reads body behind a synthetic 8-byte IPP header (and 0x03 when add_end): the message, or
 * NULL with *st (ippReadIO's result) and *off (bytes of body read). A message that ends before
 * the input does is refused too (*st is then IPP_STATE_DATA). */
static ipp_t *group_read_all(const unsigned char *body, size_t len, bool add_end,
                             ipp_state_t *st, size_t *off) {
  size_t n = 8 + len + (add_end ? 1 : 0);
  unsigned char *msg = xmalloc(n);
  static const unsigned char header[8] = {2, 0, 0, 0, 0, 0, 0, 1};
  memcpy(msg, header, 8);
  memcpy(msg + 8, body, len);
  if (add_end) msg[n - 1] = IPP_TAG_END;
  ipp_t *ipp = ippNew();
  size_t used = 0;
  *st = ipp_map_decode(msg, n, ipp, &used);
  *off = used > 8 ? used - 8 : 0;
  bool complete = used == n;
  free(msg);
  if (*st != IPP_STATE_DATA || !complete) {
    ippDelete(ipp);
    return NULL;
  }
  return ipp;
}

#define GROUP_MAX_ATTRS 1000 /* attributes in one PATCH body */

/* Value types the mapping needs for its single-valued attributes. */
static const struct {
  const char *name;
  ipp_tag_t   tag;
  const char *what;
} GROUP_TYPES[] = {
    {"printer-state", IPP_TAG_ENUM, "an enum (3 idle, 4 processing, 5 stopped)"},
    {"printer-is-accepting-jobs", IPP_TAG_BOOLEAN, "a boolean"},
    {"copies-supported", IPP_TAG_RANGE, "a rangeOfInteger"},
    {"copies-default", IPP_TAG_INTEGER, "an integer"},
    {"number-up-default", IPP_TAG_INTEGER, "an integer"},
    {"page-ranges-supported", IPP_TAG_BOOLEAN, "a boolean"},
    {"printer-state-message", IPP_TAG_TEXT, "a text"},
};

/* Printer PATCH body; see mapping.h. */
bool ipp_map_printer_group(const void *body, size_t len, store_ipp_printer_patch_t *patch,
                           char *err, size_t errlen) {
  const unsigned char *b = body;
  if (!len) {
    snprintf(err, errlen, "The request body is empty: send an RFC 8010 printer-attributes "
                          "group (tag 0x04) with the attributes to update.");
    return false;
  }
  if (b[0] != IPP_TAG_PRINTER) {
    snprintf(err, errlen, "The body must begin with the printer-attributes tag 0x04 (no IPP "
                          "header, no operation-attributes group); it begins with 0x%02x.", b[0]);
    return false;
  }
  size_t off;
  ipp_state_t st;
  /* As sent (with its end-of-attributes tag), else with the tag the sample leaves out. */
  ipp_t *ipp = group_read_all(b, len, false, &st, &off);
  if (!ipp) ipp = group_read_all(b, len, true, &st, &off);
  if (!ipp) {
    if (st == IPP_STATE_DATA)
      snprintf(err, errlen, "The body goes on for %zu bytes after the end-of-attributes tag "
                            "(byte %zu); send a single printer-attributes group.", len - off,
               off - 1);
    else if (off >= len)
      snprintf(err, errlen, "The printer-attributes group is truncated: the body ends inside an "
                            "attribute (%zu bytes read).", len);
    else
      snprintf(err, errlen, "The printer-attributes group is malformed at byte %zu (an invalid "
                            "tag, name or value length).", off ? off - 1 : 0);
    return false;
  }
  ipp_attribute_t **list = NULL;
  size_t count = 0;
  bool ok = true;
  for (ipp_attribute_t *a = ippFirstAttribute(ipp); ok && a; a = ippNextAttribute(ipp)) {
    const char *name = ippGetName(a);
    ipp_tag_t g = ippGetGroupTag(a);
    if (!name || g != IPP_TAG_PRINTER) {
      snprintf(err, errlen, "The body must hold a single printer-attributes group; it holds "
                            "another group (%s).", name ? ippTagString(g) : "a second one");
      ok = false;
    } else if (count == GROUP_MAX_ATTRS) {
      snprintf(err, errlen, "The body holds more than %d attributes.", GROUP_MAX_ATTRS);
      ok = false;
    } else {
      if (!(count % 64)) list = xrealloc(list, (count + 64) * sizeof *list);
      list[count++] = a;
    }
  }
  ipp_t *attrs = ippNew();
  for (size_t i = 0; ok && i < count; i++) {
    ipp_attribute_t *a = list[i];
    const char *name = ippGetName(a);
    for (size_t j = 0; ok && j < i; j++)
      if (!strcmp(ippGetName(list[j]), name)) {
        snprintf(err, errlen, "Attribute '%s' is supplied twice.", name);
        ok = false;
      }
    ipp_tag_t vt = ippGetValueTag(a);
    if (!ok || vt == IPP_TAG_DELETEATTR) continue;
    for (size_t k = 0; ok && k < COUNT(GROUP_TYPES); k++) {
      if (strcmp(GROUP_TYPES[k].name, name)) continue;
      bool text = GROUP_TYPES[k].tag == IPP_TAG_TEXT &&
                  (vt == IPP_TAG_TEXT || vt == IPP_TAG_TEXTLANG);
      if ((vt != GROUP_TYPES[k].tag && !text) || ippGetCount(a) != 1) {
        snprintf(err, errlen, "Attribute '%s' must be %s with one value (found %s with %d).",
                 name, GROUP_TYPES[k].what, ippTagString(vt), ippGetCount(a));
        ok = false;
      } else if (vt == IPP_TAG_ENUM && (ippGetInteger(a, 0) < IPP_PSTATE_IDLE ||
                                        ippGetInteger(a, 0) > IPP_PSTATE_STOPPED)) {
        snprintf(err, errlen, "Attribute 'printer-state' must be 3, 4 or 5 (found %d).",
                 ippGetInteger(a, 0));
        ok = false;
      }
    }
    if (ok) ippCopyAttribute(attrs, a, 0);
  }
  free(list);
  if (ok && !count) {
    snprintf(err, errlen, "The printer-attributes group is empty: send the attributes to "
                          "update.");
    ok = false;
  }
  /* Attributes present replace; delete-attribute ones (only in the request) clear. */
  if (ok) ipp_map_device_patch(attrs, ipp, patch);
  ippDelete(attrs);
  ippDelete(ipp);
  return ok;
}

/* ---- Graph -> printer attributes ---------------------------------------------------------- */

/* Adds the values of a Graph string collection, mapped by r, as the attribute r->supported. */
static void add_rule_supported(ipp_t *ipp, const attr_rule_t *r, json_t *arr) {
  if (!json_is_array(arr) || !json_array_size(arr)) return;
  ipp_attribute_t *attr = NULL;
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) {
    const char *g = json_string_value(v);
    if (!g) continue;
    if (r->kind == CONV_NUM) {
      int n = num_to_ipp(r->num, r->nnum, g);
      if (!n) continue;
      if (!attr) attr = ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_ENUM, r->supported, n);
      else ippSetInteger(ipp, &attr, ippGetCount(attr), n);
      continue;
    }
    const char *s = r->kind == CONV_STRING ? g
                    : r->kind == CONV_KW   ? kw_to_ipp(r->kw, r->nkw, g)
                                           : ipp_map_media_from_graph(g);
    if (!s) continue;
    ipp_tag_t tag = r->kind == CONV_STRING && !strcmp(r->supported, "document-format-supported")
                        ? IPP_TAG_MIMETYPE
                        : is_keyword(s) ? IPP_TAG_KEYWORD : IPP_TAG_NAME;
    if (!attr) attr = ippAddString(ipp, IPP_TAG_PRINTER, tag, r->supported, NULL, s);
    else if (ippGetValueTag(attr) == tag) ippSetString(ipp, &attr, ippGetCount(attr), s);
  }
}

/* Adds r->dflt from the Graph default value v (a string, or an array for finishings). */
static void add_rule_default(ipp_t *ipp, const attr_rule_t *r, json_t *v) {
  if (!r->dflt || !v || json_is_null(v)) return;
  if (r->kind == CONV_NUM) {
    int vals[64], n = 0;
    if (json_is_array(v)) {
      size_t i;
      json_t *e;
      json_array_foreach(v, i, e) {
        int x = num_to_ipp(r->num, r->nnum, json_string_value(e));
        if (x && n < 64) vals[n++] = x;
      }
    } else if ((vals[0] = num_to_ipp(r->num, r->nnum, json_string_value(v)))) {
      n = 1;
    }
    if (n) ippAddIntegers(ipp, IPP_TAG_PRINTER, IPP_TAG_ENUM, r->dflt, n, vals);
    return;
  }
  const char *g = json_string_value(v);
  if (!g) return;
  const char *s = r->kind == CONV_STRING ? g
                  : r->kind == CONV_KW   ? kw_to_ipp(r->kw, r->nkw, g)
                                         : ipp_map_media_from_graph(g);
  if (!s) return;
  if (!strcmp(r->dflt, "document-format-default"))
    ippAddString(ipp, IPP_TAG_PRINTER, IPP_TAG_MIMETYPE, r->dflt, NULL, s);
  else
    add_keyword_or_name(ipp, IPP_TAG_PRINTER, r->dflt, s);
}

/* Printer attributes from Graph capabilities and defaults; see mapping.h. */
void ipp_map_printer_capabilities(ipp_t *ipp, const char *capabilities, const char *defaults) {
  json_t *caps = capabilities ? json_loads(capabilities, 0, NULL) : NULL;
  json_t *defs = defaults ? json_loads(defaults, 0, NULL) : NULL;
  if (!json_is_object(caps)) {
    json_decref(caps);
    caps = json_object();
  }
  if (!json_is_object(defs)) {
    json_decref(defs);
    defs = json_object();
  }
  /* A printer that reports no content types accepts PDF and OXPS (docs/printers.md). */
  json_t *types = json_object_get(caps, "contentTypes");
  if (!json_is_array(types) || !json_array_size(types)) {
    json_t *d = json_pack("[ss]", "application/pdf", "application/oxps");
    json_object_set_new(caps, "contentTypes", d);
  }
  if (!json_is_string(json_object_get(defs, "contentType")))
    json_object_set(defs, "contentType",
                    json_array_get(json_object_get(caps, "contentTypes"), 0));
  for (size_t k = 0; k < COUNT(RULES); k++) {
    add_rule_supported(ipp, &RULES[k], json_object_get(caps, RULES[k].caps_member));
    if (RULES[k].dflt_member)
      add_rule_default(ipp, &RULES[k], json_object_get(defs, RULES[k].dflt_member));
  }
  json_t *modes = json_object_get(caps, "colorModes"), *v;
  size_t i;
  if (json_is_array(modes) && json_array_size(modes)) {
    bool color = false;
    json_array_foreach(modes, i, v) {
      const char *m = json_string_value(v);
      color = color || (m && (!strcmp(m, "color") || !strcmp(m, "auto")));
    }
    ippAddBoolean(ipp, IPP_TAG_PRINTER, "color-supported", color);
  }
  json_t *copies = json_object_get(caps, "copiesPerJob");
  if (json_is_object(copies)) {
    json_int_t lo = json_integer_value(json_object_get(copies, "start"));
    json_int_t hi = json_integer_value(json_object_get(copies, "end"));
    if (lo >= 1 && hi >= lo && hi <= 2147483647)
      ippAddRange(ipp, IPP_TAG_PRINTER, "copies-supported", (int)lo, (int)hi);
  }
  int n = json_pos_int(defs, "copiesPerJob");
  if (n > 0) ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "copies-default", n);
  json_t *dpis = json_object_get(caps, "dpis");
  if (json_is_array(dpis) && json_array_size(dpis)) {
    ipp_attribute_t *attr = NULL;
    json_array_foreach(dpis, i, v) {
      json_int_t d = json_integer_value(v);
      if (d <= 0 || d > 100000) continue;
      if (!attr)
        attr = ippAddResolution(ipp, IPP_TAG_PRINTER, "printer-resolution-supported",
                                IPP_RES_PER_INCH, (int)d, (int)d);
      else
        ippSetResolution(ipp, &attr, ippGetCount(attr), IPP_RES_PER_INCH, (int)d, (int)d);
    }
  }
  if ((n = json_pos_int(defs, "dpi")) > 0)
    ippAddResolution(ipp, IPP_TAG_PRINTER, "printer-resolution-default", IPP_RES_PER_INCH, n, n);
  json_t *pps = json_object_get(caps, "pagesPerSheet");
  if (json_is_array(pps) && json_array_size(pps)) {
    int vals[32];
    size_t nv = 0;
    json_array_foreach(pps, i, v) {
      json_int_t p = json_integer_value(v);
      if (p > 0 && p < 1000 && nv < COUNT(vals)) vals[nv++] = (int)p;
    }
    if (nv) ippAddIntegers(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "number-up-supported", (int)nv, vals);
  }
  if ((n = json_pos_int(defs, "pagesPerSheet")) > 0)
    ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "number-up-default", n);
  json_t *pr = json_object_get(caps, "isPageRangeSupported");
  if (json_is_boolean(pr)) ippAddBoolean(ipp, IPP_TAG_PRINTER, "page-ranges-supported", json_is_true(pr));
  json_decref(caps);
  json_decref(defs);
}
