/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Document operations of the IPP INFRA endpoint: Fetch-Document (the IPP response followed by
 * the document's bytes, streamed from the blob store), Acknowledge-Document and
 * Update-Document-Status. A job has one document, number 1.
 */
#include "blob/blob.h"
#include "ipp/ipp-private.h"
#include "store/documents.h"
#include "util/buf.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Largest document sent from memory when the blob backend has no file descriptor. */

/* Requires document-number 1; false after answering. */
static bool require_document_number(ipp_client_t *c) {
  ipp_attribute_t *a = ipp_op_attr(c, "document-number", IPP_TAG_ZERO);
  if (!a) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Missing required document-number.");
    return false;
  }
  if (ippGetValueTag(a) != IPP_TAG_INTEGER || ippGetCount(a) != 1) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "document-number must be one integer.");
    ipp_respond_unsupported(c, a);
    return false;
  }
  if (ippGetInteger(a, 0) != 1) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "Job #%" PRId64 " has one document (number 1).",
                c->job_id);
    return false;
  }
  return true;
}

/* Loads the job and checks the device may fetch it; false after answering. */
static bool load_fetchable(ipp_client_t *c, store_ipp_job_t *j) {
  store_rc_t rc = store_ipp_job_get(c->store, c->device.tenant, c->device.printer_id, c->job_id, j);
  if (rc != STORE_OK) {
    ipp_respond_job_rc(c, rc);
    return false;
  }
  if (ipp_check_fetchable(c, j) != 0) {
    store_ipp_job_clear(j);
    return false;
  }
  return true;
}

/* True when the document's type is one of document-format-accepted (or none was given). */
static bool format_accepted(ipp_client_t *c, const char *type) {
  ipp_attribute_t *a = ippFindAttribute(c->request, "document-format-accepted", IPP_TAG_ZERO);
  if (!a) return true;
  for (int i = 0; i < ippGetCount(a); i++) {
    const char *v = ippGetString(a, i, NULL);
    if (v && (!strcasecmp(v, type) || !strcasecmp(v, "application/octet-stream"))) return true;
  }
  return false;
}

/* Fetch-Document: document 1 of a job the device may fetch, as it was uploaded (spoold does
 * not convert: a document-format-accepted that does not include its type is refused with
 * client-error-document-format-not-supported). The response's operation group carries
 * document-format and compression (none); the bytes follow the end-of-attributes tag. Sets the
 * document's Graph downloadedDateTime. */
void ipp_fetch_document(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c) || !ipp_require_job_id(c) || !require_document_number(c))
    return;
  store_ipp_job_t j;
  if (!load_fetchable(c, &j)) return;
  if (!j.doc_uploaded_us || !j.doc_blob || !j.doc_id) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_FETCHABLE, "Job #%" PRId64 " has no document content.",
                c->job_id);
    goto out;
  }
  const char *type = j.doc_type && *j.doc_type ? j.doc_type : "application/octet-stream";
  if (!format_accepted(c, type)) {
    ipp_respond(c, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                "The document is %s, which is not in document-format-accepted; spoold sends "
                "documents as they were uploaded.", type);
    ipp_respond_unsupported(c, ippFindAttribute(c->request, "document-format-accepted",
                                                IPP_TAG_ZERO));
    goto out;
  }
  uint64_t size = j.doc_size > 0 ? (uint64_t)j.doc_size : 0;
  /* Missing bytes, or bytes that no longer match their SHA-256, are the server's loss:
   * server-error-internal, logged with the document id and counted (blob_serve_open); a large
   * document is checked while it streams and the connection is aborted before its last bytes
   * on a mismatch. */
  blob_serve_t bsv = {.fd = -1};
  if (!c->app->blobs ||
      blob_serve_open(c->app->blobs, j.doc_id, j.doc_blob, size, j.doc_sha256, 0, size, &bsv)) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The document's content could not be read.");
    goto out;
  }
  if (store_document_set_downloaded(c->store, c->device.tenant, j.doc_id, c->now_us) != STORE_OK)
    log_warn("ipp: cannot record the download of document %s", j.doc_id);
  ippAddString(c->response, IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", NULL, type);
  ippAddString(c->response, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "compression", NULL, "none");
  ipp_respond(c, IPP_STATUS_OK, NULL);
  c->doc_len = size;
  c->doc_fd = bsv.fd;
  c->doc_read = bsv.read;
  c->doc_free = bsv.free;
  c->doc_arg = bsv.arg;
out:
  store_ipp_job_clear(&j);
}

/* Acknowledge-Document: the device confirms it fetched document 1 (or reports with
 * fetch-status-code that it could not). */
void ipp_acknowledge_document(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c) || !ipp_require_job_id(c) || !require_document_number(c))
    return;
  ipp_attribute_t *fsc = ippFindAttribute(c->request, "fetch-status-code", IPP_TAG_ZERO);
  if (fsc && (ippGetValueTag(fsc) != IPP_TAG_ENUM || ippGetCount(fsc) != 1)) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "fetch-status-code must be one enum.");
    ipp_respond_unsupported(c, fsc);
    return;
  }
  store_ipp_job_t j;
  if (!load_fetchable(c, &j)) return;
  if (fsc && ippGetInteger(fsc, 0) != IPP_STATUS_OK)
    log_info("ipp: printer %s device %s could not fetch the document of job %" PRId64 ": %s",
             c->device.printer_id, c->device_uuid, c->job_id,
             ippErrorString((ipp_status_t)ippGetInteger(fsc, 0)));
  store_ipp_job_clear(&j);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* Update-Document-Status: the device's view of document 1 (output-device-document-state,
 * impressions-completed), recorded with the job. */
void ipp_update_document_status(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c) || !ipp_require_job_id(c) || !require_document_number(c))
    return;
  store_ipp_job_status_t s = {.details = -1, .impressions = -1};
  ipp_attribute_t *st = ippFindAttribute(c->request, "output-device-document-state", IPP_TAG_ZERO);
  if (st) {
    int v = ippGetInteger(st, 0);
    if ((ippGetValueTag(st) != IPP_TAG_ENUM && ippGetValueTag(st) != IPP_TAG_INTEGER) ||
        ippGetCount(st) != 1 || v < IPP_DSTATE_PENDING || v > IPP_DSTATE_COMPLETED) {
      ipp_respond(c, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
                  "output-device-document-state must be one document-state value (3 to 9).");
      ipp_respond_unsupported(c, st);
      return;
    }
    s.device_doc_state = v;
  }
  ipp_attribute_t *imp = ippFindAttribute(c->request, "impressions-completed", IPP_TAG_ZERO);
  if (imp && ippGetValueTag(imp) == IPP_TAG_INTEGER && ippGetInteger(imp, 0) >= 0)
    s.impressions = ippGetInteger(imp, 0);
  ipp_report_job_status(c, &s);
}
