/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the documents module (documents.c, upload.c, download.c): what the three files
 * share. Nothing else includes this header.
 */
#ifndef SPOOLD_GRAPH_DOCUMENTS_PRIVATE_H
#define SPOOLD_GRAPH_DOCUMENTS_PRIVATE_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"
#include "http/response.h"
#include "store/store.h"

/* Largest upload fragment (Graph: "less than 10 MB"; we accept up to 10 MiB inclusive). */
#define UPLOAD_FRAGMENT_MAX ((uint64_t)10 << 20)
/* Lifetime of a download URL handed out by .../$value. */
#define DOWNLOAD_URL_TTL_US ((int64_t)300 * 1000000)
/* Bytes of randomness in upload and download credentials (base64url: 43 characters). */
#define DOCUMENT_SECRET_BYTES 32
#define DOCUMENT_SECRET_LEN 44 /* base64url characters + NUL */

struct inflight;

/* The documents module's state in a running server (app->documents): made by
 * graph_documents_start, released by graph_documents_stop. */
typedef struct graph_documents {
  /* the sweeper thread (documents.c) */
  pthread_mutex_t  sweep_mu;
  pthread_cond_t   sweep_cv;
  pthread_t        sweep_thread;
  bool             sweep_stop;
  int64_t          last_gc_us;
  /* byte ranges being written, per upload session (upload.c) */
  pthread_mutex_t  inflight_mu;
  struct inflight *inflight;
} graph_documents_t;

/* OpenSSL's SHA-256, fetched once for the process (not freed; never NULL). */
const EVP_MD *documents_sha256_md(void);
/* The 32 bytes h as 64 lowercase hex digits and a NUL into out (what "%02x" per byte writes). */
void documents_hex32(const unsigned char h[32], char out[65]);
/* Lowercase hex SHA-256 of the text s into out. */
void documents_sha256_hex(const char *s, char out[65]);
/* True when the SHA-256 of secret equals the stored hex hash (constant-time compare). */
bool documents_secret_matches(const char *secret, const char *stored_hash);

/* ---- upload.c: the upload URL ------------------------------------------------------------ */

/* PUT /upload/{id}?token=: the streaming callback, writing each piece of the fragment to the
 * session's blob at its offset. */
int  documents_upload_chunk(http_request_t *req, http_response_t *res, const char *data,
                            size_t len);
/* PUT /upload/{id}?token= once the whole fragment is in: 202 with the ranges still expected,
 * or 201 with the document when it is complete. */
void documents_upload_put(http_request_t *req, http_response_t *res);
/* GET /upload/{id}?token=: the session with its nextExpectedRanges (resume). */
void documents_upload_get(http_request_t *req, http_response_t *res);
/* DELETE /upload/{id}?token=: cancels the session and removes its bytes (204). */
void documents_upload_delete(http_request_t *req, http_response_t *res);
/* The in-flight range table of d (fragments being written): initialised with d ... */
void documents_inflight_init(graph_documents_t *d);
/* ... and released with d, every entry freed. */
void documents_inflight_free(graph_documents_t *d);

/* ---- download.c: the download URL ---------------------------------------------------------- */

/* A new download credential for a document (valid DOWNLOAD_URL_TTL_US), recorded in the store
 * (only its SHA-256), so any process sharing the store accepts it; malloc'd, NULL when the
 * store fails. */
char *documents_download_token_new(store_t *st, const char *tenant, int64_t job_id,
                                   const char *doc_id);
/* GET /download/{token}. */
void documents_download_get(http_request_t *req, http_response_t *res);

#endif
