/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The download URL of a document (reference §4.4 D4): .../documents/{id}/$value answers 302
 * to <public-url>/download/{token}, a pre-authorized URL valid for DOWNLOAD_URL_TTL_US that
 * needs no bearer token. The credentials live in memory (only their SHA-256), per process; a
 * restart simply invalidates them and the client asks $value again.
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

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct dl_token {
  char             hash[65];  /* SHA-256 of the credential */
  char            *tenant;
  int64_t          job_id;
  char            *doc_id;
  int64_t          expires_us;
  struct dl_token *next;
} dl_token_t;

static pthread_mutex_t g_dl_mu = PTHREAD_MUTEX_INITIALIZER;
static dl_token_t     *g_dl;

static void dl_free(dl_token_t *t) {
  free(t->tenant);
  free(t->doc_id);
  free(t);
}

/* Removes expired entries; g_dl_mu held. */
static void dl_prune_locked(int64_t now_us) {
  dl_token_t **pp = &g_dl;
  while (*pp) {
    if ((*pp)->expires_us <= now_us) {
      dl_token_t *t = *pp;
      *pp = t->next;
      dl_free(t);
    } else {
      pp = &(*pp)->next;
    }
  }
}

/* A new download credential for a document, valid DOWNLOAD_URL_TTL_US (caller frees). */
char *documents_download_token_new(const char *tenant, int64_t job_id, const char *doc_id) {
  char secret[DOCUMENT_SECRET_LEN];
  id_secret(secret, sizeof secret, DOCUMENT_SECRET_BYTES);
  dl_token_t *t = xcalloc(1, sizeof *t);
  documents_sha256_hex(secret, t->hash);
  t->tenant = xstrdup(tenant);
  t->job_id = job_id;
  t->doc_id = xstrdup(doc_id);
  int64_t now = time_now_us();
  t->expires_us = now + DOWNLOAD_URL_TTL_US;
  pthread_mutex_lock(&g_dl_mu);
  dl_prune_locked(now);
  t->next = g_dl;
  g_dl = t;
  pthread_mutex_unlock(&g_dl_mu);
  return xstrdup(secret);
}

/* Forgets expired credentials (the sweeper calls it). */
void documents_download_prune(int64_t now_us) {
  pthread_mutex_lock(&g_dl_mu);
  dl_prune_locked(now_us);
  pthread_mutex_unlock(&g_dl_mu);
}

/* Forgets every credential (at shutdown). */
void documents_download_free(void) {
  pthread_mutex_lock(&g_dl_mu);
  while (g_dl) {
    dl_token_t *t = g_dl;
    g_dl = t->next;
    dl_free(t);
  }
  pthread_mutex_unlock(&g_dl_mu);
}

/* Looks the credential up; on success copies what it grants. */
static bool dl_lookup(const char *secret, char **tenant, int64_t *job_id, char **doc_id) {
  bool found = false;
  int64_t now = time_now_us();
  char hash[65];
  documents_sha256_hex(secret, hash);
  pthread_mutex_lock(&g_dl_mu);
  for (dl_token_t *t = g_dl; t && !found; t = t->next) {
    if (t->expires_us > now && CRYPTO_memcmp(hash, t->hash, 64) == 0) {
      *tenant = xstrdup(t->tenant);
      *job_id = t->job_id;
      *doc_id = xstrdup(t->doc_id);
      found = true;
    }
  }
  pthread_mutex_unlock(&g_dl_mu);
  return found;
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
  if (!secret || !dl_lookup(secret, &tenant, &job_id, &doc_id)) {
    reply_gone(req, res);
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
