/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP share endpoint: every printer share is an IPP Everywhere printer at
 * /ipp/share/{shareId} (docs/ipp-printing.md), for desktops and phones that print driverlessly.
 * Its jobs are ordinary Graph jobs of the share's printer: created with the user as createdBy
 * (store_job_create), their document stored through an upload session (store_upload_session_create
 * + store_upload_complete, streamed into the blob store) and started (store_job_start), so a
 * task trigger holds them exactly as it holds Graph jobs.
 *
 * Shares the INFRA endpoint's libcups encoding, request validator (ipp_validate) and job
 * attributes (ipp_add_job_attributes); its handlers are its own (share-ipp.c,
 * share-printer-ipp.c, share-ticket.c), and users authenticate through share-auth.h.
 */
#ifndef SPOOLD_IPP_SHARE_IPP_H
#define SPOOLD_IPP_SHARE_IPP_H

#include "ipp/ipp-private.h"
#include "store/shares.h"

#include <jansson.h>
#include <stdbool.h>

/* The operations the share endpoint implements, for operations-supported (ends with 0). */
extern const ipp_op_t IPP_SHARE_OPERATIONS[];

/* Registers POST/GET /ipp/share/{id} (called from ipp_routes_register). */
void ipp_share_routes_register(void);

/* The document formats the share's printer accepts (its capabilities' contentTypes, else the
 * default pair), NULL-terminated, malloc'd (free the array and its strings with
 * ipp_share_formats_free). */
char **ipp_share_formats(const store_printer_t *p, size_t *n);
/* Frees the n strings of v and v itself. */
void   ipp_share_formats_free(char **v, size_t n);

/* Identify-Printer on a share (identify-ipp.c): forwarded to the printer's output device
 * when one can receive it, else server-error-operation-not-supported. */
void ipp_share_identify_printer(ipp_client_t *c);

/* Get-Printer-Attributes on a share. */
void ipp_share_get_printer_attributes(ipp_client_t *c, const store_share_t *s);

/* Converts the request's job template attributes into a printJobConfiguration (*config, a new
 * reference the caller releases) checked against the printer's capabilities (JSON text, may be
 * NULL). false when an attribute or value is not supported: each offending attribute is then
 * in the response's unsupported-attributes group. */
bool ipp_share_ticket(ipp_client_t *c, const char *capabilities, json_t **config);

#endif
