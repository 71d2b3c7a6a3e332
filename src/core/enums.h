/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Graph print enumerations (reference §2.15), as data.
 *
 * Each enum lists its members in CSDL order. Members at index >= evolvable_from
 * were declared after unknownFutureValue: they are emitted only when the
 * request carries `Prefer: include-unknown-enum-members`, and otherwise
 * replaced by "unknownFutureValue" (enum_emit()).
 */
#ifndef SPOOLD_CORE_ENUMS_H
#define SPOOLD_CORE_ENUMS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct enum_def {
  const char         *name;            /* "printColorMode" */
  const char *const  *members;         /* CSDL order */
  const int          *values;          /* documented numeric values, or NULL when 0..n-1 */
  size_t              count;
  size_t              evolvable_from;  /* index of the first evolvable member (== count if none) */
  bool                flags;           /* a flags enum: comma-separated members on the wire */
} enum_def_t;

extern const enum_def_t ENUM_PRINT_JOB_PROCESSING_STATE;
extern const enum_def_t ENUM_PRINT_JOB_STATE_DETAIL;
extern const enum_def_t ENUM_PRINTER_PROCESSING_STATE;
extern const enum_def_t ENUM_PRINT_TASK_PROCESSING_STATE;
extern const enum_def_t ENUM_PRINT_EVENT;
extern const enum_def_t ENUM_PRINT_OPERATION_PROCESSING_STATE;
extern const enum_def_t ENUM_PRINT_COLOR_MODE;
extern const enum_def_t ENUM_PRINT_DUPLEX_MODE;
extern const enum_def_t ENUM_PRINT_ORIENTATION;
extern const enum_def_t ENUM_PRINT_QUALITY;
extern const enum_def_t ENUM_PRINT_SCALING;
extern const enum_def_t ENUM_PRINTER_FEED_ORIENTATION;
extern const enum_def_t ENUM_PRINT_MULTIPAGE_LAYOUT;
extern const enum_def_t ENUM_PRINT_FINISHING;
extern const enum_def_t ENUM_PRINT_RELEASE_TYPE;
extern const enum_def_t ENUM_INCOMPATIBLE_PRINTER_SETTINGS;
extern const enum_def_t ENUM_PRINT_JOB_RELEASE_METHODS;      /* flags (printerProvidedReleaseSupport) */
extern const enum_def_t ENUM_PRINTER_PROCESSING_STATE_DETAIL; /* Appendix B, 826 members */
/* Media size names (printerCapabilities.mediaSizes, printerDefaults.mediaSize,
 * printJobConfiguration.mediaSize): String on the wire, validated against this list. */
extern const enum_def_t ENUM_PRINT_MEDIA_SIZE;

/* Index of name in e (exact, case-sensitive as Graph is), or -1. With accept_evolvable false,
 * evolvable members are not accepted (the caller did not send the Prefer header). The lower-case
 * "counterclockwise" spelling is canonical; "counterClockwise" is accepted on input too. */
int enum_lookup(const enum_def_t *e, const char *name, bool accept_evolvable);
/* The member to put on the wire for index i: the member itself, or "unknownFutureValue" for an
 * evolvable member when include_evolvable is false. */
const char *enum_emit(const enum_def_t *e, int i, bool include_evolvable);
/* Numeric value of member i (the documented value). */
int enum_value(const enum_def_t *e, int i);
/* Writes "a, b, c" (non-evolvable members except unknownFutureValue) for error messages. */
void enum_describe(const enum_def_t *e, char *out, size_t outlen);

#endif
