/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The upload URL of an upload session (reference §4.4 D3): PUT /upload/{id}?token=... with
 * fragments, GET for resuming, DELETE for canceling. The URL's token is the credential (only
 * its SHA-256 is stored); a bearer token sent along is ignored.
 *
 * A fragment is checked as soon as its headers are in (413 for more than 10 MiB before any of
 * the body is read; 404, 400, 416 and 429 after the body has been read and dropped), then
 * streamed chunk by chunk into the session's blob with pwrite at its offset, so memory use does
 * not grow with the fragment or the document. Once the last byte of the fragment is in, it is
 * synced to disk and recorded in the store (202 with the missing ranges), or, when it is the
 * last missing piece, the document's SHA-256 is computed from the synced blob and the document
 * completed in one transaction (201 with the printDocument). A fragment that is the whole
 * document (the common single PUT) is hashed as it streams in and completes the document in
 * its one transaction, without a separate one recording the fragment or a read of the blob.
 * A small document kept in the store (the session's blob_in_store, BLOB_INLINE_MAX) is not
 * written to the blob at all when it comes whole: its bytes are gathered in memory and
 * written into its chunk rows by that same transaction, so one commit makes them durable.
 *
 * Up to 4 fragments of one session may arrive at once, in any order. A fragment first reserves
 * its range in a per-process table of ranges being written, and only then reads what the
 * session has received: a fragment overlapping one being written or one already recorded gets
 * 416 before it writes a byte, so a refused fragment never overwrites accepted bytes.
 * Recording merges the range into the session's range set inside the write transaction.
 *
 * Upload volume: each user may upload at most --upload-volume-limit bytes per
 * --upload-volume-window (a sliding window of 60 buckets, counted in the store: every process
 * sharing it counts the same bytes, store/limits.h); a fragment over the limit gets 429
 * activityLimitReached with Retry-After before any of its bytes is written.
 */
#include "app.h"
#include "blob/blob.h"
#include "core/ranges.h"
#include "graph/documents-private.h"
#include "graph/documents.h"
#include "graph/reply.h"
#include "store/documents.h"
#include "store/limits.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranges being written ------------------------------------------------------------------- */

typedef struct inflight {
  char             id[ID_GUID_LEN + 1];
  range_t         *r;
  size_t           n, cap;
  struct inflight *next;
} inflight_t;

/* See documents-private.h. */
void documents_inflight_init(graph_documents_t *d) {
  pthread_mutex_init(&d->inflight_mu, NULL);
  d->inflight = NULL;
}

/* See documents-private.h. */
void documents_inflight_free(graph_documents_t *d) {
  while (d->inflight) {
    inflight_t *e = d->inflight;
    d->inflight = e->next;
    free(e->r);
    free(e);
  }
  pthread_mutex_destroy(&d->inflight_mu);
}

/* Reserves [first, last] of session id; false when it overlaps a range being written. */
static bool inflight_reserve(graph_documents_t *d, const char *id, uint64_t first,
                             uint64_t last) {
  pthread_mutex_lock(&d->inflight_mu);
  inflight_t *e = d->inflight;
  while (e && strcmp(e->id, id) != 0) e = e->next;
  if (e)
    for (size_t i = 0; i < e->n; i++)
      if (e->r[i].first <= last && first <= e->r[i].last) {
        pthread_mutex_unlock(&d->inflight_mu);
        return false;
      }
  if (!e) {
    e = xcalloc(1, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    e->next = d->inflight;
    d->inflight = e;
  }
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 4;
    e->r = xrealloc(e->r, e->cap * sizeof *e->r);
  }
  e->r[e->n++] = (range_t){first, last};
  pthread_mutex_unlock(&d->inflight_mu);
  return true;
}

static void inflight_release(graph_documents_t *d, const char *id, uint64_t first,
                             uint64_t last) {
  pthread_mutex_lock(&d->inflight_mu);
  inflight_t **pp = &d->inflight;
  while (*pp && strcmp((*pp)->id, id) != 0) pp = &(*pp)->next;
  inflight_t *e = *pp;
  if (e) {
    for (size_t i = 0; i < e->n; i++)
      if (e->r[i].first == first && e->r[i].last == last) {
        e->r[i] = e->r[--e->n];
        break;
      }
    if (e->n == 0) {
      *pp = e->next;
      free(e->r);
      free(e);
    }
  }
  pthread_mutex_unlock(&d->inflight_mu);
}

/* ---- common ----------------------------------------------------------------------------------- */

static void reply_not_found(http_request_t *req, http_response_t *res) {
  graph_reply_error(req, res, 404, "itemNotFound", "uploadSessionNotFound",
                    "The upload session does not exist, has expired, was canceled or replaced, "
                    "or the URL's token is wrong.");
}

static void reply_internal(http_request_t *req, http_response_t *res) {
  graph_reply_error(req, res, 500, "generalException", NULL,
                    "The server could not complete the request.");
}

/* Loads the session of the URL (params[0], ?token=) into *s; replies 404 and returns false
 * when it is unknown, expired or the token does not match. */
static bool load_session(http_request_t *req, http_response_t *res, store_upload_session_t *s) {
  memset(s, 0, sizeof *s);
  const char *id = http_request_param(req, 0);
  const char *token = http_request_query(req, "token");
  if (!id || !id_is_guid(id) || !token) {
    reply_not_found(req, res);
    return false;
  }
  store_rc_t rc = store_upload_session_get(APP(req)->store, id, time_now_us(), s);
  if (rc == STORE_OK && documents_secret_matches(token, s->secret_hash)) {
    if (!req->log_tenant) req->log_tenant = xstrdup(s->tenant);
    return true;
  }
  if (rc == STORE_OK || rc == STORE_NOT_FOUND) reply_not_found(req, res);
  else reply_internal(req, res);
  store_upload_session_clear(s);
  return false;
}

/* {"expirationDateTime","nextExpectedRanges"} of a session with size bytes and received set
 * text. */
static json_t *progress_json(int64_t expires_us, int64_t size, const char *received) {
  range_set_t set;
  if (!range_set_parse(received, &set)) range_set_init(&set);
  size_t n = 0;
  char **missing = range_set_missing_strings(&set, (uint64_t)size, &n);
  json_t *ranges = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(ranges, json_string(missing[i]));
  range_strings_free(missing, n);
  range_set_clear(&set);
  char exp[TIME_ISO_LEN];
  time_format_iso(expires_us, exp);
  json_t *o = json_object();
  json_object_set_new(o, "expirationDateTime", json_string(exp));
  json_object_set_new(o, "nextExpectedRanges", ranges);
  return o;
}

/* ---- PUT: one fragment ---------------------------------------------------------------------- */

typedef struct upload_put {
  store_upload_session_t sess;
  uint64_t               first, last, len;
  uint64_t               written;
  blob_t                *blob;
  bool                   reserved;
  char                   reserved_id[ID_GUID_LEN + 1]; /* the session id it is reserved under */
  EVP_MD_CTX            *md;  /* the fragment is the whole document: its SHA-256 so far */
  unsigned char         *bytes; /* a whole small document kept in the store: its bytes */
} upload_put_t;

/* ---- upload volume per user --------------------------------------------------------------- */

/* Counts the fragment's bytes against the uploading user's window in the store (shared by
 * every process), if they fit. Otherwise counts nothing and replies 429 with Retry-After; false
 * then, and also (after a 500) when the store fails. */
static bool volume_take(http_request_t *req, http_response_t *res, const upload_put_t *p) {
  app_t *app = APP(req);
  if (!app->cfg->upload_volume_limit) return true;
  store_limit_t v;
  store_limits_t l;
  store_upload_limit_init(&v, &l, p->sess.tenant, p->sess.created_by_id,
                          app->cfg->upload_volume_limit, app->cfg->upload_volume_window, p->len);
  l.now_us = time_now_us();
  store_rc_t rc = store_limits_take(app->store, &l);
  if (rc == STORE_OK) return true;
  if (rc != STORE_LIMITED) {
    graph_reply_store_error(req, res);
    return false;
  }
  long long retry_s = (long long)(l.retry_us / 1000000 + 1);
  char ra[32];
  snprintf(ra, sizeof ra, "%lld", retry_s);
  http_response_header(res, "Retry-After", ra);
  graph_reply_error(req, res, 429, "activityLimitReached", "throttledRequest",
                    "This user has uploaded the most document bytes allowed in %u seconds "
                    "(%llu); retry after %lld seconds.", app->cfg->upload_volume_window,
                    (unsigned long long)app->cfg->upload_volume_limit, retry_s);
  return false;
}

static void put_cleanup(http_request_t *req) {
  upload_put_t *p = req->handler_state;
  if (!p) return;
  blob_close(p->blob);
  EVP_MD_CTX_free(p->md);
  free(p->bytes);
  if (p->reserved) inflight_release(APP(req)->documents, p->reserved_id, p->first, p->last);
  store_upload_session_clear(&p->sess);
  free(p);
  req->handler_state = NULL;
}

/* Gives back the range p reserved (a fragment refused before it writes); returns rc. */
static int give_back(app_t *app, upload_put_t *p, int rc) {
  if (p->reserved) inflight_release(app->documents, p->reserved_id, p->first, p->last);
  p->reserved = false;
  return rc;
}

/* The checks made once the fragment's headers are in. Returns 0 to stream the body, -1 after
 * replying (the body is read and dropped), 1 after replying at once (the body is not read). */
static int put_start(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  if (req->content_length != UINT64_MAX && req->content_length > UPLOAD_FRAGMENT_MAX) {
    graph_reply_error(req, res, 413, "invalidRequest", "maxFragmentLengthExceeded",
                      "The fragment is %llu bytes; each fragment may be at most %llu bytes "
                      "(10 MiB).", (unsigned long long)req->content_length,
                      (unsigned long long)UPLOAD_FRAGMENT_MAX);
    return 1;
  }
  upload_put_t *p = xcalloc(1, sizeof *p);
  req->handler_state = p;
  req->cleanup = put_cleanup;

  /* Reserve first, then read what the session has (see the top of the file): the range is
   * reserved under the URL's session id before the one read of the session, and given back
   * at once when that read finds no session for the URL. The answers keep their order: 404,
   * then the header checks, then 416 for a range being written. */
  uint64_t total = 0;
  const char *cr = http_request_header(req, "Content-Range");
  content_range_rc_t crc = content_range_parse(cr, &p->first, &p->last, &total);
  const char *url_id = http_request_param(req, 0);
  bool busy = false;
  if (cr && crc == CONTENT_RANGE_OK && url_id && id_is_guid(url_id)) {
    snprintf(p->reserved_id, sizeof p->reserved_id, "%s", url_id);
    p->reserved = inflight_reserve(app->documents, p->reserved_id, p->first, p->last);
    busy = !p->reserved;
  }
  /* no session for this URL: the range goes back now, not after the body is dropped */
  if (!load_session(req, res, &p->sess)) return give_back(app, p, -1);
  /* a fragment refused for its headers gives its range back at once, as before it was read */
  if (!cr) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "A fragment needs a Content-Range header: 'bytes {first}-{last}/{total}'.");
    return give_back(app, p, -1);
  }
  if (crc != CONTENT_RANGE_OK) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s (got '%s')",
                      content_range_describe(crc), cr);
    return give_back(app, p, -1);
  }
  if (total != (uint64_t)p->sess.size) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "The Content-Range total is %llu bytes, but the upload session was created "
                      "for a document of %lld bytes.", (unsigned long long)total,
                      (long long)p->sess.size);
    return give_back(app, p, -1);
  }
  p->len = p->last - p->first + 1;
  if (req->content_length != UINT64_MAX && req->content_length != p->len) {
    graph_reply_error(req, res, 400, "invalidRequest", "fragmentLengthMismatch",
                      "The Content-Length is %llu bytes, but the Content-Range 'bytes "
                      "%llu-%llu' covers %llu bytes.", (unsigned long long)req->content_length,
                      (unsigned long long)p->first, (unsigned long long)p->last,
                      (unsigned long long)p->len);
    return give_back(app, p, -1);
  }
  if (p->len > UPLOAD_FRAGMENT_MAX) { /* a chunked body without Content-Length */
    graph_reply_error(req, res, 413, "invalidRequest", "maxFragmentLengthExceeded",
                      "The fragment covers %llu bytes; each fragment may be at most %llu bytes "
                      "(10 MiB).", (unsigned long long)p->len,
                      (unsigned long long)UPLOAD_FRAGMENT_MAX);
    return give_back(app, p, 1);
  }

  if (busy) {
    graph_reply_error(req, res, 416, "invalidRange", "fragmentOverlap",
                      "Uploaded fragment overlaps with a fragment of this session that is being "
                      "uploaded.");
    return -1;
  }
  range_set_t got;
  bool overlap = !range_set_parse(p->sess.received, &got) ||
                 range_set_overlaps(&got, p->first, p->last);
  range_set_clear(&got);
  if (overlap) {
    graph_reply_error(req, res, 416, "invalidRange", "fragmentOverlap",
                      "Uploaded fragment overlaps with existing data.");
    return -1;
  }

  if (!volume_take(req, res, p)) return -1;

  bool whole = p->first == 0 && p->len == (uint64_t)p->sess.size;
  if (whole) {
    p->md = EVP_MD_CTX_new();
    if (!p->md || EVP_DigestInit_ex(p->md, documents_sha256_md(), NULL) != 1) {
      reply_internal(req, res);
      return -1;
    }
  }
  if (whole && p->sess.blob_in_store && p->len <= BLOB_INLINE_MAX) {
    p->bytes = xmalloc((size_t)p->len);
    return 0;
  }
  int brc = blob_open(app->blobs, p->sess.blob_key, true, &p->blob, NULL);
  if (brc == -ENOENT) {
    reply_not_found(req, res); /* canceled or replaced a moment ago */
    return -1;
  }
  if (brc != 0) {
    log_error("upload: cannot open blob %s: %s", p->sess.blob_key, strerror(-brc));
    reply_internal(req, res);
    return -1;
  }
  return 0;
}

/* Whether put_start accepted the fragment: its bytes have somewhere to go. */
static bool put_ready(const upload_put_t *p) { return p && (p->blob || p->bytes); }

/* Streaming body callback of PUT /upload/{id}; data == NULL once the headers are in. */
int documents_upload_chunk(http_request_t *req, http_response_t *res, const char *data,
                           size_t len) {
  if (!data) return put_start(req, res);
  upload_put_t *p = req->handler_state;
  if (!put_ready(p)) {
    reply_internal(req, res);
    return -1;
  }
  if (len > p->len - p->written) {
    graph_reply_error(req, res, 400, "invalidRequest", "fragmentLengthMismatch",
                      "The body is longer than the %llu bytes of its Content-Range.",
                      (unsigned long long)p->len);
    return -1;
  }
  int rc = 0;
  if (p->bytes) memcpy(p->bytes + p->written, data, len);
  else rc = blob_pwrite(p->blob, p->first + p->written, data, len);
  if (rc != 0) {
    log_error("upload: writing %zu bytes at %llu of blob %s failed: %s", len,
              (unsigned long long)(p->first + p->written), p->sess.blob_key, strerror(-rc));
    if (rc == -ENOSPC || rc == -EDQUOT) {
      http_response_header(res, "Retry-After", "60");
      graph_reply_error(req, res, 507, "quotaLimitReached", NULL,
                        "The server has no room left for the fragment.");
    } else {
      reply_internal(req, res);
    }
    return -1;
  }
  if (p->md && EVP_DigestUpdate(p->md, data, len) != 1) {
    reply_internal(req, res);
    return -1;
  }
  p->written += len;
  return 0;
}

/* The hex SHA-256 of a whole-document fragment hashed as it streamed in; false on failure. */
static bool put_streamed_sha256(upload_put_t *p, char out[BLOB_SHA256_HEX + 1]) {
  unsigned char h[32];
  unsigned int hl = 0;
  if (EVP_DigestFinal_ex(p->md, h, &hl) != 1 || hl != 32) return false;
  documents_hex32(h, out);
  return true;
}

/* The last missing piece is on disk: hash the whole document (unless it was hashed as it
 * streamed in), complete it (201). */
static void put_complete(http_request_t *req, http_response_t *res, upload_put_t *p) {
  app_t *app = APP(req);
  char sha[BLOB_SHA256_HEX + 1];
  int brc = p->md ? (put_streamed_sha256(p, sha) ? 0 : -EIO)
                  : blob_sha256(app->blobs, p->sess.blob_key, (uint64_t)p->sess.size, sha);
  if (brc == -ENOENT) {
    reply_not_found(req, res); /* canceled while this fragment was being written */
    return;
  }
  if (brc != 0) {
    log_error("upload: cannot hash blob %s: %s", p->sess.blob_key, strerror(-brc));
    reply_internal(req, res);
    return;
  }
  store_document_t doc;
  store_blob_keys_t drop;
  char *why = NULL;
  store_fragment_rc_t outcome = STORE_FRAGMENT_COMPLETES;
  store_rc_t rc = store_upload_complete(app->store, p->sess.id, p->first, p->last, p->bytes, sha,
                                        time_now_us(), NULL, &doc, &drop, &why, &outcome);
  if (rc == STORE_OK) {
    for (size_t i = 0; i < drop.n; i++) blob_remove(app->blobs, drop.v[i]);
    store_blob_keys_clear(&drop);
    /* The document written straight as text; the tree gives the same bytes and takes over
     * when a value needs its rules. The documentation's example of this answer names the
     * document "documentName" as well, the last member. */
    const char *name = doc.display_name ? doc.display_name : "";
    buf_t text = BUF_INIT;
    graph_jw_t w = {&text, true, true};
    graph_document_json_write(req, &doc, &w);
    text.data[--text.len] = '\0'; /* reopen the object */
    graph_jw_key(&w, "documentName");
    graph_jw_str(&w, name);
    buf_putc(&text, '}');
    if (!graph_reply_json_written(req, res, 201, w.ok, &text)) {
      json_t *o = graph_document_json(req, &doc);
      json_object_set_new(o, "documentName", json_string(name));
      graph_reply_json(req, res, 201, o);
    }
    store_document_clear(&doc);
  } else if (rc == STORE_NOT_FOUND) {
    reply_not_found(req, res);
  } else if (rc == STORE_CONFLICT && outcome != STORE_FRAGMENT_COMPLETES) {
    /* only a whole-document fragment gets here unrecorded: bytes arrived meanwhile */
    graph_reply_error(req, res, 416, "invalidRange", "fragmentOverlap",
                      "Uploaded fragment overlaps with existing data.");
  } else if (rc == STORE_CONFLICT) {
    graph_reply_error(req, res, 409, "notAllowed", NULL, "%s",
                      why ? why : "The job no longer accepts its document.");
  } else {
    reply_internal(req, res);
  }
  free(why);
}

/* PUT /upload/{id}: the whole fragment is in. */
void documents_upload_put(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  upload_put_t *p = req->handler_state;
  if (!put_ready(p)) { /* a body-less PUT never reached the streaming callback's checks */
    if (!p && put_start(req, res) != 0) return;
    p = req->handler_state;
    if (!put_ready(p)) {
      if (!res->status) reply_internal(req, res);
      return;
    }
  }
  if (p->written != p->len) {
    graph_reply_error(req, res, 400, "invalidRequest", "fragmentLengthMismatch",
                      "The body has %llu bytes, but its Content-Range covers %llu.",
                      (unsigned long long)p->written, (unsigned long long)p->len);
    return;
  }
  int brc = p->blob ? blob_sync(p->blob) : 0; /* p->bytes: written by the completing commit */
  if (brc != 0) {
    log_error("upload: cannot sync blob %s: %s", p->sess.blob_key, strerror(-brc));
    reply_internal(req, res);
    return;
  }
  if (p->md) { /* the whole document: complete it in one transaction */
    put_complete(req, res, p);
    return;
  }
  int64_t now = time_now_us();
  store_fragment_rc_t outcome;
  char *received = NULL;
  int64_t expires = 0;
  store_rc_t rc = store_upload_fragment(app->store, p->sess.id, p->first, p->last, now,
                                        now + (int64_t)app->cfg->upload_session_ttl * 1000000,
                                        &outcome, &received, &expires);
  if (rc == STORE_NOT_FOUND) {
    reply_not_found(req, res);
  } else if (rc != STORE_OK) {
    reply_internal(req, res);
  } else if (outcome == STORE_FRAGMENT_OVERLAP) {
    graph_reply_error(req, res, 416, "invalidRange", "fragmentOverlap",
                      "Uploaded fragment overlaps with existing data.");
  } else if (outcome == STORE_FRAGMENT_TOO_MANY) {
    graph_reply_error(req, res, 400, "invalidRequest", "fragmentOutOfOrder",
                      "The session's received bytes would be split into more than %d pieces; "
                      "upload the missing ranges in order.", RANGES_MAX_PIECES);
  } else if (outcome == STORE_FRAGMENT_COMPLETES) {
    put_complete(req, res, p);
  } else {
    graph_reply_json(req, res, 202, progress_json(expires, p->sess.size, received));
  }
  free(received);
}

/* ---- GET (resume) and DELETE (cancel) ------------------------------------------------------- */

/* GET /upload/{id}?token=: the session's expiry and missing ranges (resume). */
void documents_upload_get(http_request_t *req, http_response_t *res) {
  store_upload_session_t s;
  if (!load_session(req, res, &s)) return;
  graph_reply_json(req, res, 200, progress_json(s.expires_us, s.size, s.received));
  store_upload_session_clear(&s);
}

/* DELETE /upload/{id}?token=: cancels the session and removes its bytes (204). */
void documents_upload_delete(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  store_upload_session_t s;
  if (!load_session(req, res, &s)) return;
  char *key = NULL;
  store_rc_t rc = store_upload_session_delete(app->store, s.id, time_now_us(), &key);
  if (rc == STORE_OK) {
    int brc = blob_remove(app->blobs, key);
    if (brc != 0) log_warn("upload: cannot remove blob %s: %s", key, strerror(-brc));
    graph_reply_no_content(res);
  } else if (rc == STORE_NOT_FOUND) {
    reply_not_found(req, res);
  } else {
    reply_internal(req, res);
  }
  free(key);
  store_upload_session_clear(&s);
}
