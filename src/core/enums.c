/* The print enumerations as tables (reference §2.15). */
#include "core/enums.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ENUM(var, nm, arr, vals, evo) \
  const enum_def_t var = {nm, arr, vals, COUNT(arr), evo}

static const char *const job_state[] = {"unknown", "pending", "processing", "paused", "stopped",
                                        "completed", "canceled", "aborted", "unknownFutureValue"};
ENUM(ENUM_PRINT_JOB_PROCESSING_STATE, "printJobProcessingState", job_state, NULL, COUNT(job_state));

static const char *const job_detail[] = {"uploadPending", "transforming", "completedSuccessfully",
                                         "completedWithWarnings", "completedWithErrors",
                                         "releaseWait", "interpreting", "unknownFutureValue"};
ENUM(ENUM_PRINT_JOB_STATE_DETAIL, "printJobStateDetail", job_detail, NULL, COUNT(job_detail));

static const char *const printer_state[] = {"unknown", "idle", "processing", "stopped",
                                            "unknownFutureValue"};
ENUM(ENUM_PRINTER_PROCESSING_STATE, "printerProcessingState", printer_state, NULL,
     COUNT(printer_state));

static const char *const task_state[] = {"pending", "processing", "completed", "aborted",
                                         "unknownFutureValue"};
ENUM(ENUM_PRINT_TASK_PROCESSING_STATE, "printTaskProcessingState", task_state, NULL,
     COUNT(task_state));

static const char *const print_event[] = {"jobStarted", "unknownFutureValue"};
ENUM(ENUM_PRINT_EVENT, "printEvent", print_event, NULL, COUNT(print_event));

static const char *const op_state[] = {"notStarted", "running", "succeeded", "failed",
                                       "unknownFutureValue"};
ENUM(ENUM_PRINT_OPERATION_PROCESSING_STATE, "printOperationProcessingState", op_state, NULL,
     COUNT(op_state));

static const char *const color_mode[] = {"blackAndWhite", "grayscale", "color", "auto",
                                         "unknownFutureValue"};
ENUM(ENUM_PRINT_COLOR_MODE, "printColorMode", color_mode, NULL, COUNT(color_mode));

static const char *const duplex_mode[] = {"flipOnLongEdge", "flipOnShortEdge", "oneSided",
                                          "unknownFutureValue"};
ENUM(ENUM_PRINT_DUPLEX_MODE, "printDuplexMode", duplex_mode, NULL, COUNT(duplex_mode));

static const char *const orientation[] = {"portrait", "landscape", "reverseLandscape",
                                          "reversePortrait", "unknownFutureValue"};
static const int orientation_values[] = {3, 4, 5, 6, 7};
ENUM(ENUM_PRINT_ORIENTATION, "printOrientation", orientation, orientation_values,
     COUNT(orientation));

static const char *const quality[] = {"low", "medium", "high", "unknownFutureValue"};
ENUM(ENUM_PRINT_QUALITY, "printQuality", quality, NULL, COUNT(quality));

static const char *const scaling[] = {"auto", "shrinkToFit", "fill", "fit", "none",
                                      "unknownFutureValue"};
ENUM(ENUM_PRINT_SCALING, "printScaling", scaling, NULL, COUNT(scaling));

static const char *const feed[] = {"longEdgeFirst", "shortEdgeFirst", "unknownFutureValue"};
ENUM(ENUM_PRINTER_FEED_ORIENTATION, "printerFeedOrientation", feed, NULL, COUNT(feed));

static const char *const layout[] = {
    "clockwiseFromTopLeft",        "counterclockwiseFromTopLeft", "counterclockwiseFromTopRight",
    "clockwiseFromTopRight",       "counterclockwiseFromBottomLeft", "clockwiseFromBottomLeft",
    "counterclockwiseFromBottomRight", "clockwiseFromBottomRight", "unknownFutureValue"};
ENUM(ENUM_PRINT_MULTIPAGE_LAYOUT, "printMultipageLayout", layout, NULL, COUNT(layout));

static const char *const finishing[] = {
    "none", "staple", "punch", "cover", "bind", "saddleStitch", "stitchEdge", "stapleTopLeft",
    "stapleBottomLeft", "stapleTopRight", "stapleBottomRight", "stitchLeftEdge", "stitchTopEdge",
    "stitchRightEdge", "stitchBottomEdge", "stapleDualLeft", "stapleDualTop", "stapleDualRight",
    "stapleDualBottom", "unknownFutureValue",
    /* evolvable */
    "stapleTripleLeft", "stapleTripleTop", "stapleTripleRight", "stapleTripleBottom", "bindLeft",
    "bindTop", "bindRight", "bindBottom", "foldAccordion", "foldDoubleGate", "foldGate",
    "foldHalf", "foldHalfZ", "foldLeftGate", "foldLetter", "foldParallel", "foldPoster",
    "foldRightGate", "foldZ", "foldEngineeringZ", "punchTopLeft", "punchBottomLeft",
    "punchTopRight", "punchBottomRight", "punchDualLeft", "punchDualTop", "punchDualRight",
    "punchDualBottom", "punchTripleLeft", "punchTripleTop", "punchTripleRight",
    "punchTripleBottom", "punchQuadLeft", "punchQuadTop", "punchQuadRight", "punchQuadBottom",
    "fold", "trim", "bale", "bookletMaker", "coat", "laminate", "trimAfterPages",
    "trimAfterDocuments", "trimAfterCopies", "trimAfterJob"};
static const int finishing_values[] = {
    3,  4,  5,  6,  7,  8,  9,  20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72,
    73, 74, 75, 76, 77, 78};
ENUM(ENUM_PRINT_FINISHING, "printFinishing", finishing, finishing_values, 20);

static const char *const release_type[] = {"direct", "qrCode", "unknownFutureValue"};
ENUM(ENUM_PRINT_RELEASE_TYPE, "printReleaseType", release_type, NULL, COUNT(release_type));

static const char *const incompatible[] = {"show", "hide", "unknownFutureValue"};
ENUM(ENUM_INCOMPATIBLE_PRINTER_SETTINGS, "incompatiblePrinterSettings", incompatible, NULL,
     COUNT(incompatible));

int enum_lookup(const enum_def_t *e, const char *name, bool accept_evolvable) {
  if (!name) return -1;
  for (size_t i = 0; i < e->count; i++) {
    bool match = strcmp(e->members[i], name) == 0;
    /* The beta docs spell counterClockwise...; the CSDL spelling is canonical. */
    if (!match && e == &ENUM_PRINT_MULTIPAGE_LAYOUT && strncmp(name, "counterClockwise", 16) == 0)
      match = strcasecmp(e->members[i], name) == 0;
    if (!match) continue;
    if (i >= e->evolvable_from && !accept_evolvable) return -1;
    return (int)i;
  }
  return -1;
}

const char *enum_emit(const enum_def_t *e, int i, bool include_evolvable) {
  if (i < 0 || (size_t)i >= e->count) return "unknownFutureValue";
  if ((size_t)i >= e->evolvable_from && !include_evolvable) return "unknownFutureValue";
  return e->members[i];
}

int enum_value(const enum_def_t *e, int i) { return e->values ? e->values[i] : i; }

void enum_describe(const enum_def_t *e, char *out, size_t outlen) {
  size_t off = 0;
  out[0] = '\0';
  for (size_t i = 0; i < e->count && i < e->evolvable_from; i++) {
    if (strcmp(e->members[i], "unknownFutureValue") == 0) continue;
    int n = snprintf(out + off, outlen - off, "%s%s", off ? ", " : "", e->members[i]);
    if (n < 0 || (size_t)n >= outlen - off) break;
    off += (size_t)n;
  }
}
