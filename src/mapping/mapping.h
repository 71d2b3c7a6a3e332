/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph <-> IPP mapping (reference graph-print-api.md §10.6): job states and reasons, printer
 * states and reasons, the job ticket (printJobConfiguration -> IPP job template attributes),
 * the device's printer attributes -> Graph capabilities/defaults/status, and back for
 * Get-Printer-Attributes. Pure functions over libcups' ipp_t and jansson values: no I/O, no
 * store; unit-tested in tests/unit/test_ipp.c. Below both faces: graph/ (printer PATCH with
 * application/ipp) and ipp/ include it, never each other.
 */
#ifndef SPOOLD_MAPPING_MAPPING_H
#define SPOOLD_MAPPING_MAPPING_H

#include "core/job.h"
#include "store/ipp.h"

#include <cups/ipp.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- messages in memory ------------------------------------------------------------------- */

/* Decodes one IPP message from data[0..len) into ipp (ippReadIO over memory; fewer bytes than
 * asked at the end read as a truncated message). Returns ippReadIO's last state, IPP_STATE_DATA
 * when a whole message was read; *used (when not NULL) gets the bytes consumed (what follows is
 * a document, or trailing garbage). Borrows data; ipp stays the caller's. */
ipp_state_t ipp_map_decode(const void *data, size_t len, ipp_t *ipp, size_t *used);

/* Encodes ipp from its start (its state is reset) into a new buffer of *len bytes; NULL on
 * failure. The caller frees the buffer. */
char *ipp_map_encode(ipp_t *ipp, size_t *len);

/* ---- jobs --------------------------------------------------------------------------------- */

/* IPP job-state (3..9) of a job in phase p: created/held -> pending-held (4), released ->
 * pending (3), acknowledged/printing -> processing (5), stopped -> processing-stopped (6),
 * canceled 7, aborted 8, completed 9. */
int ipp_map_job_state(job_phase_t p);

/* job-state-reasons of a job (static keyword strings) into out[0..max); returns the count
 * (at least 1: "none" when nothing else applies). details: JOB_DETAIL_* bits; device_state:
 * the device's last output-device-job-state (0 = none). */
size_t ipp_map_job_reasons(job_phase_t p, unsigned details, int device_state, const char **out,
                           size_t max);

/* The job event an output-device-job-state value reports: true with *ev for 5..9 (processing,
 * processing-stopped, canceled, aborted, completed); false for 3 and 4 (the device has queued
 * the job: nothing changes on the Graph side) and for values outside 3..9 (*valid = false). */
bool ipp_map_device_job_event(int device_state, job_event_t *ev, bool *valid);

/* The Graph details of a completed job from the device's job-state-reasons (attr may be
 * NULL): completedWithErrors, completedWithWarnings or completedSuccessfully. */
unsigned ipp_map_completed_details(ipp_attribute_t *reasons);

/* Adds the job template attributes of a printJobConfiguration (JSON text; NULL or "{}" adds
 * nothing) to group of ipp: copies, sides, print-color-mode, media or media-col,
 * orientation-requested, finishings, page-ranges, print-quality, printer-resolution, number-up,
 * presentation-direction-number-up, print-scaling, multiple-document-handling, output-bin,
 * feed-orientation. Members that have no IPP equivalent, or values that do not map, are left
 * out. */
void ipp_map_job_ticket(ipp_t *ipp, ipp_tag_t group, const char *configuration);

/* ---- printers ----------------------------------------------------------------------------- */

/* printer-state (3 idle, 4 processing, 5 stopped) of a printerProcessingState index; unknown
 * reads as idle. */
int ipp_map_printer_state(int graph_state);
/* printerProcessingState index of a printer-state value; -1 for values outside 3..5. */
int ipp_map_graph_printer_state(int ipp_state);

/* The printerProcessingStateDetail index of a printer-state-reasons keyword: the severity
 * suffix (-report, -warning, -error) is dropped and kebab-case becomes camelCase
 * ("media-jam-error" -> mediaJam); -1 for "none" and for keywords Graph does not know. */
int ipp_map_printer_reason_detail(const char *keyword);
/* The IPP keyword of a printerProcessingStateDetail member ("mediaJam" -> "media-jam"). */
void ipp_map_printer_reason_keyword(const char *detail, char *out, size_t outlen);

/* Graph mediaSizes name of a PWG 5101.1 media name ("iso_a4_210x297mm" -> "A4"); NULL when
 * Graph has no name for it. */
const char *ipp_map_media_to_graph(const char *pwg);
/* PWG self-describing media name of a Graph mediaSizes name ("A4" -> "iso_a4_210x297mm");
 * NULL when unknown. */
const char *ipp_map_media_from_graph(const char *graph);

/* Decodes the attributes a device pushed, as the store keeps them (store_ipp_device_get: an
 * IPP message). An empty message for NULL or unreadable data; the caller owns it (ippDelete). */
ipp_t *ipp_map_attrs_decode(const void *data, size_t len);

/* Fills *patch from the printer attributes a device pushed: attrs is everything the device
 * has pushed so far (merged), request the Update-Output-Device-Attributes request (its
 * delete-attribute values clear the matching Graph members). Status members come from
 * printer-state, printer-state-reasons, printer-state-message and printer-is-accepting-jobs;
 * capabilities and defaults from the *-supported and *-default attributes present. Members
 * not present stay unset (unchanged). *patch must be cleared (store_ipp_printer_patch_clear)
 * first; the caller clears it again after use. */
void ipp_map_device_patch(ipp_t *attrs, ipp_t *request, store_ipp_printer_patch_t *patch);

/* The body of PATCH /print/printers/{id} with Content-Type application/ipp (reference §4.1 P5,
 * §10.5): a single RFC 8010 printer-attributes group (tag 0x04 first, no IPP header, the
 * end-of-attributes tag optional). Fills *patch as ipp_map_device_patch does, from exactly the
 * attributes supplied: each replaces the mapped Graph value (a 1setOf as a whole) and a
 * delete-attribute value clears it; attributes the mapping does not know are ignored. false
 * with a message for the client in err when the body is malformed. *patch must be cleared
 * (store_ipp_printer_patch_clear) first; the caller clears it again after use. */
bool ipp_map_printer_group(const void *body, size_t len, store_ipp_printer_patch_t *patch,
                           char *err, size_t errlen);

/* Adds printer attributes for the Graph capabilities and defaults (JSON texts, either may be
 * NULL) to the printer group of ipp: document-format-*, sides-*, print-color-mode-*,
 * copies-*, media-*, finishings-*, orientation-requested-*, print-quality-*,
 * printer-resolution-*, number-up-*, page-ranges-supported, output-bin-*, color-supported,
 * print-scaling-*, media-type-supported, media-source-supported, media-color-supported. */
void ipp_map_printer_capabilities(ipp_t *ipp, const char *capabilities, const char *defaults);

#endif
