/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The download URL of a document (reference §4.4 D4): .../documents/{id}/$value answers 302
 * to <public-url>/download/{token}, a pre-authorized URL valid for DOWNLOAD_URL_TTL_US that
 * needs no bearer token. The credentials live in the store (only their SHA-256, table
 * download_tokens), so any process sharing it serves a URL another process issued, and a
 * restart keeps them; the sweeper deletes expired ones.
 *
 * GET /download/{token} sends the bytes with sendfile (an fd response), with the document's
 * Content-Type, one Range ("bytes=a-b", "a-", "-n") answered 206 with Content-Range (several
 * ranges are answered with the whole document), an unsatisfiable one 416, and records
 * downloadedDateTime.
 */
#include "app.h"
#include "blob/blob.h"
#include "core/ranges.h"
#include "graph/documents-private.h"
#include "graph/reply.h"
#include "store/documents.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A new download credential for a document, valid DOWNLOAD_URL_TTL_US (caller frees). */
char *documents_download_token_new(store_t *st, const char *tenant, int64_t job_id,
                                   const char *doc_id) {
  char secret[DOCUMENT_SECRET_LEN];
  id_secret(secret, sizeof secret, DOCUMENT_SECRET_BYTES);
  char hash[65];
  documents_sha256_hex(secret, hash);
  if (store_download_token_add(st, hash, tenant, job_id, doc_id,
                               time_now_us() + DOWNLOAD_URL_TTL_US) != STORE_OK)
    return NULL;
  return xstrdup(secret);
}

static void reply_gone(http_request_t *req, http_response_t *res) {
  graph_reply_error(req, res, 404, "itemNotFound", NULL,
                    "The download URL is unknown or has expired; request the document's $value "
                    "again.");
}

/* GET /download/{token} */
void documents_download_get(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  char *tenant = NULL, *doc_id = NULL;
  int64_t job_id = 0;
  const char *secret = http_request_param(req, 0);
  char hash[65];
  if (secret) documents_sha256_hex(secret, hash);
  store_rc_t lrc = secret ? store_download_token_get(app->store, hash, time_now_us(), &tenant,
                                                     &job_id, &doc_id)
                          : STORE_NOT_FOUND;
  if (lrc == STORE_NOT_FOUND) {
    reply_gone(req, res);
    return;
  }
  if (lrc != STORE_OK) {
    graph_reply_store_error(req, res);
    return;
  }
  req->log_tenant = req->log_tenant ? req->log_tenant : xstrdup(tenant);
  store_document_t doc;
  store_rc_t rc = store_document_get(app->store, tenant, job_id, doc_id, &doc);
  if (rc != STORE_OK || !doc.uploaded_us || !doc.blob_key) {
    if (rc == STORE_OK || rc == STORE_NOT_FOUND)
      graph_reply_error(req, res, 404, "itemNotFound", NULL,
                        "The document no longer exists or has no content.");
    else
      graph_reply_error(req, res, 500, "generalException", NULL,
                        "The server could not complete the request.");
    goto out;
  }
  uint64_t size = doc.size > 0 ? (uint64_t)doc.size : 0;
  uint64_t first = 0, last = size - 1;
  int status = 200;
  char hdr[128];
  switch (http_range_parse(http_request_header(req, "Range"), size, &first, &last)) {
    case HTTP_RANGE_UNSATISFIABLE:
      snprintf(hdr, sizeof hdr, "bytes */%llu", (unsigned long long)size);
      http_response_header(res, "Content-Range", hdr);
      graph_reply_error(req, res, 416, "invalidRange", NULL,
                        "The requested range is outside the document's %llu bytes.",
                        (unsigned long long)size);
      goto out;
    case HTTP_RANGE_OK:
      status = 206;
      snprintf(hdr, sizeof hdr, "bytes %llu-%llu/%llu", (unsigned long long)first,
               (unsigned long long)last, (unsigned long long)size);
      break;
    case HTTP_RANGE_NONE:
      first = 0;
      last = size - 1;
      break;
  }
  uint64_t len = size ? last - first + 1 : 0;
  /* Missing bytes or bytes that no longer match their SHA-256 are the server's loss: 500,
   * logged with the document id and counted by blob_serve_open (never 404, never served). */
  blob_serve_t bsv;
  if (blob_serve_open(app->blobs, doc.id, doc.blob_key, size, doc.sha256, first, len, &bsv)) {
    graph_reply_error(req, res, 500, "generalException", NULL,
                      "The server could not read the document's content.");
    goto out;
  }
  if (status == 206) http_response_header(res, "Content-Range", hdr);
  if (store_document_set_downloaded(app->store, tenant, doc.id, time_now_us()) != STORE_OK)
    log_warn("download: cannot record the download of document %s", doc.id);

  res->status = status;
  if (bsv.fd < 0) {
    res->src_read = bsv.read;
    res->src_free = bsv.free;
    res->src_arg = bsv.arg;
    res->src_offset = first;
    res->src_len = len;
  } else {
    res->fd = bsv.fd;
    res->fd_offset = first;
    res->fd_len = len;
  }
  http_response_header(res, "Content-Type",
                       doc.content_type && *doc.content_type ? doc.content_type
                                                             : "application/octet-stream");
  http_response_header(res, "Accept-Ranges", "bytes");
  http_response_header(res, "Cache-Control", "no-store");
  if (doc.sha256) {
    snprintf(hdr, sizeof hdr, "\"%s\"", doc.sha256);
    http_response_header(res, "ETag", hdr);
  }
out:
  store_document_clear(&doc);
  free(tenant);
  free(doc_id);
}
