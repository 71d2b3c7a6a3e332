/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the documents module (documents.c, upload.c, download.c): what the three files
 * share. Nothing else includes this header.
 */
#ifndef SPOOLD_GRAPH_DOCUMENTS_PRIVATE_H
#define SPOOLD_GRAPH_DOCUMENTS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"
#include "http/response.h"

/* Largest upload fragment (Graph: "less than 10 MB"; we accept up to 10 MiB inclusive). */
#define UPLOAD_FRAGMENT_MAX ((uint64_t)10 << 20)
/* Lifetime of a download URL handed out by .../$value. */
#define DOWNLOAD_URL_TTL_US ((int64_t)300 * 1000000)
/* Bytes of randomness in upload and download credentials (base64url: 43 characters). */
#define DOCUMENT_SECRET_BYTES 32
#define DOCUMENT_SECRET_LEN 44 /* base64url characters + NUL */

/* Lowercase hex SHA-256 of the text s into out. */
void documents_sha256_hex(const char *s, char out[65]);
/* True when the SHA-256 of secret equals the stored hex hash (constant-time compare). */
bool documents_secret_matches(const char *secret, const char *stored_hash);

/* ---- upload.c: the upload URL ------------------------------------------------------------ */

/* PUT /upload/{id}?token=: the streamed fragment (chunk) and its answer (handler). */
int  documents_upload_chunk(http_request_t *req, http_response_t *res, const char *data,
                            size_t len);
void documents_upload_put(http_request_t *req, http_response_t *res);
/* GET /upload/{id}?token= (resume) and DELETE (cancel). */
void documents_upload_get(http_request_t *req, http_response_t *res);
void documents_upload_delete(http_request_t *req, http_response_t *res);
/* The upload volume limiter: set up / torn down by graph_documents_start / _stop, old windows
 * pruned by the sweeper. */
void documents_volume_init(uint64_t limit, int64_t window_us);
void documents_volume_prune(int64_t now_us);
void documents_volume_free(void);

/* ---- download.c: the download URL ---------------------------------------------------------- */

/* A new download credential for a document (valid DOWNLOAD_URL_TTL_US); malloc'd. */
char *documents_download_token_new(const char *tenant, int64_t job_id, const char *doc_id);
/* GET /download/{token}. */
void documents_download_get(http_request_t *req, http_response_t *res);
/* Forgets expired download credentials (sweeper) or all of them (stop). */
void documents_download_prune(int64_t now_us);
void documents_download_free(void);

#endif
