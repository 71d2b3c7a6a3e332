/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Documents and their upload sessions in the store (the documents and upload_sessions tables).
 *
 * A job's document row exists from job creation (store_job_create, store/jobs.h) with empty
 * values. createUploadSession gives it the declared name, type and size and opens an upload
 * session; fragments are recorded as a range set (core/ranges.h) in the session row inside
 * the write transaction, so concurrent fragments of one session never lose each other's
 * bookkeeping; the fragment that completes the document moves the session's blob to the
 * document, stores its SHA-256, deletes the session and clears the job's uploadPending detail
 * (JOB_EV_UPLOAD_DONE), all in one transaction.
 *
 * Upload sessions are reached through their upload URL only (no tenant in the request), so
 * the session functions take the session id; the caller checks the URL's credential against
 * secret_hash. An expired session (expires_us <= now) is STORE_NOT_FOUND everywhere.
 *
 * Blob keys handed back in store_blob_keys_t name bytes no row references any more: the caller
 * removes them (blob_remove) after the call returns.
 *
 * Ownership: strings in the structs are malloc'd; release them with the *_clear() functions.
 */
#ifndef SPOOLD_STORE_DOCUMENTS_H
#define SPOOLD_STORE_DOCUMENTS_H

#include "store/jobs.h"
#include "store/limits.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Blob keys to remove once the call has returned. */
typedef struct store_blob_keys {
  char  **v;
  size_t  n;
} store_blob_keys_t;

/* Releases what *k holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_blob_keys_clear(store_blob_keys_t *k);

/* ---- documents ------------------------------------------------------------------------------ */

/* Reads document doc_id of job job_id in tenant; STORE_NOT_FOUND when there is no such document
 * on that job. *out is zeroed unless STORE_OK (clear it with store_document_clear). */
store_rc_t store_document_get(store_t *st, const char *tenant, int64_t job_id, const char *doc_id,
                              store_document_t *out);

/* Sets downloadedDateTime of document doc_id (of tenant) to now_us. */
store_rc_t store_document_set_downloaded(store_t *st, const char *tenant, const char *doc_id,
                                         int64_t now_us);

/* True in *referenced when a document or an upload session names blob key. */
store_rc_t store_blob_referenced(store_t *st, const char *key, bool *referenced);

/* ---- upload sessions ------------------------------------------------------------------------ */

typedef struct store_upload_session {
  char   *id;             /* GUID, in the upload URL */
  char   *tenant;
  char   *document_id;
  int64_t job_id;
  char   *secret_hash;    /* lowercase hex SHA-256 of the URL's credential */
  char   *document_name;  /* the declared printDocumentUploadProperties */
  char   *content_type;
  int64_t size;
  char   *received;       /* range set text "[[first,last],...]" (core/ranges.h) */
  char   *blob_key;
  int64_t expires_us;
  int64_t created_us;
  char   *created_by_id;  /* the user (or app) that created it; upload volume is counted on it */
  bool    blob_in_store;  /* blob_key names chunk rows of the store (store/chunks.h), not a file */
} store_upload_session_t;

/* Releases what *s holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_upload_session_clear(store_upload_session_t *s);

typedef struct store_upload_session_new {
  const char *tenant;
  int64_t     job_id;
  const char *document_id;
  const char *id;             /* new GUID */
  const char *secret_hash;
  const char *document_name;
  const char *content_type;
  int64_t     size;
  const char *blob_key;       /* an already created blob of size bytes, or see blob_in_store */
  bool        blob_in_store;  /* create blob_key here, as chunk rows in the same transaction */
  int64_t     expires_us;
  int64_t     now_us;         /* createdDateTime of the session, updated time of the job */
  const char *created_by_id;
  unsigned    allowed_phases; /* bit (1u << job_phase_t) per phase the job may be in */
  /* The form without a read before it (see store_upload_session_create): the job must also be
   * on printer_id, or on the printer of share share_id of the tenant (read in the same
   * transaction), and created by owner; NULL for any of them: not checked. */
  const char *printer_id;
  const char *share_id;
  const char *owner;
  bool        check_content_type; /* and its printer must take content_type as listed */
} store_upload_session_new_t;

/* createUploadSession, in one transaction: checks that the job is in one of n->allowed_phases
 * (else STORE_CONFLICT with a malloc'd *why) and that the document belongs to it
 * (STORE_NOT_FOUND; also, with nothing written, when the job is not on n->printer_id or
 * n->share_id's printer, not n->owner's, or its printer does not list n->content_type under
 * n->check_content_type, or by default when it lists none); deletes the document's earlier sessions; gives the document the declared
 * name, type and size and forgets its earlier bytes (uploadedDateTime, SHA-256, blob); puts
 * uploadPending back on a job in JOB_CREATED; inserts the session (and its blob's chunk rows
 * when n->blob_in_store). *drop receives the blob keys
 * no longer referenced (earlier sessions, the document's earlier bytes). */
store_rc_t store_upload_session_create(store_t *st, const store_upload_session_new_t *n,
                                       store_blob_keys_t *drop, char **why);

/* Reads session id; STORE_NOT_FOUND when unknown or expired at now_us. */
store_rc_t store_upload_session_get(store_t *st, const char *id, int64_t now_us,
                                    store_upload_session_t *out);

/* Deletes session id (DELETE on the upload URL); *blob_key (malloc'd) receives its blob.
 * STORE_NOT_FOUND when unknown or expired. */
store_rc_t store_upload_session_delete(store_t *st, const char *id, int64_t now_us,
                                       char **blob_key);

/* Outcome of recording a fragment. */
typedef enum {
  STORE_FRAGMENT_RECORDED = 0, /* added; *received holds the set after it */
  STORE_FRAGMENT_COMPLETES,    /* not recorded: it is the last missing piece; finish the upload
                                  with store_upload_complete */
  STORE_FRAGMENT_OVERLAP,      /* not recorded: it overlaps bytes already received */
  STORE_FRAGMENT_TOO_MANY,     /* not recorded: too many separate pieces (RANGES_MAX_PIECES) */
} store_fragment_rc_t;

/* Records bytes [first, last] of session id as received (they are durably written), and
 * pushes its expiry to new_expires_us. STORE_NOT_FOUND when the session is gone or expired.
 * On STORE_OK, *outcome says what happened, *received (malloc'd, may be NULL) is the set after
 * the call and *expires_us the session's expiry. */
store_rc_t store_upload_fragment(store_t *st, const char *id, uint64_t first, uint64_t last,
                                 int64_t now_us, int64_t new_expires_us,
                                 store_fragment_rc_t *outcome, char **received,
                                 int64_t *expires_us);

/* Finishes session id with its last piece [first, last] (bytes synced, sha256 computed), in
 * one transaction (bytes, when not NULL, are the piece's last - first + 1 bytes, written into
 * the session's chunk rows in that transaction: a session whose blob_in_store): the piece must complete the received set (else STORE_CONFLICT with *why,
 * and *outcome, when not NULL, says why: STORE_FRAGMENT_OVERLAP, _TOO_MANY or _RECORDED for a
 * piece that leaves bytes missing; it is STORE_FRAGMENT_COMPLETES for every other outcome);
 * the job must accept JOB_EV_UPLOAD_DONE (else STORE_CONFLICT with *why, and the session is
 * left as it is); the document takes the session's name, type, size, blob and sha256 with
 * uploadedDateTime = now_us; the session is deleted; the job loses uploadPending. limits, when
 * not NULL, are activity windows (store/limits.h: the upload volume of a document that arrives
 * whole) taken in the same transaction at limits->now_us: STORE_LIMITED when one is full,
 * nothing written, limits->refused and limits->retry_us set. On STORE_OK *doc receives the
 * document and *drop the blob the document held before (if unreferenced). */
store_rc_t store_upload_complete(store_t *st, const char *id, uint64_t first, uint64_t last,
                                 const void *bytes, const char *sha256, int64_t now_us,
                                 store_limits_t *limits, store_document_t *doc,
                                 store_blob_keys_t *drop, char **why,
                                 store_fragment_rc_t *outcome);

/* ---- download credentials (the URLs $value redirects to) ---------------------------------- */

/* Records a download credential: hash (the SHA-256 hex of the secret in the URL) grants
 * document doc_id of job job_id in tenant until expires_us. Every process sharing the store
 * accepts it. */
store_rc_t store_download_token_add(store_t *st, const char *hash, const char *tenant,
                                    int64_t job_id, const char *doc_id, int64_t expires_us);

/* Looks up the credential whose SHA-256 hex is hash, valid at now_us: *tenant and *doc_id
 * (malloc'd, caller frees) and *job_id. STORE_NOT_FOUND when unknown or expired. */
store_rc_t store_download_token_get(store_t *st, const char *hash, int64_t now_us, char **tenant,
                                    int64_t *job_id, char **doc_id);

/* Deletes the credentials expired at now_us (the sweeper; one process at a time on a shared
 * store); *n (may be NULL) the number deleted. */
store_rc_t store_download_tokens_expire(store_t *st, int64_t now_us, int *n);

/* Deletes up to limit sessions expired at now_us; *drop receives their blobs. *n (may be
 * NULL) the number deleted. */
store_rc_t store_upload_sessions_expire(store_t *st, int64_t now_us, int limit,
                                        store_blob_keys_t *drop, int *n);

#endif
