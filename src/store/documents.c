/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Documents and upload sessions (see store/documents.h).
 *
 * The received bytes of a session are a range set kept as text in upload_sessions.received;
 * every fragment merges into it inside the write closure, so concurrent fragments of one
 * session are serialized by the store's single writer and none is lost. The completing
 * fragment changes the document, the session and the job in one closure.
 */
#include "store/documents.h"

#include "core/job.h"
#include "core/ranges.h"
#include "store/jobs-private.h"
#include "store/printers.h"
#include "store/store-private.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#define SESSION_COLS                                                                          \
  "s.id, s.tenant_id, s.document_id, d.job_id, s.secret_hash, s.document_name, "              \
  "s.content_type, s.size, s.received, s.blob_key, s.expires_us, s.created_us, s.created_by_id, " \
  "EXISTS (SELECT 1 FROM blobs b WHERE b.key = s.blob_key)"

void store_blob_keys_clear(store_blob_keys_t *k) {
  if (!k) return;
  for (size_t i = 0; i < k->n; i++) free(k->v[i]);
  free(k->v);
  k->v = NULL;
  k->n = 0;
}

static void keys_add(store_blob_keys_t *k, const char *key) {
  if (!key || !*key) return;
  for (size_t i = 0; i < k->n; i++)
    if (strcmp(k->v[i], key) == 0) return;
  k->v = xrealloc(k->v, (k->n + 1) * sizeof *k->v);
  k->v[k->n++] = xstrdup(key);
}

void store_upload_session_clear(store_upload_session_t *s) {
  if (!s) return;
  free(s->id);
  free(s->tenant);
  free(s->document_id);
  free(s->secret_hash);
  free(s->document_name);
  free(s->content_type);
  free(s->received);
  free(s->blob_key);
  free(s->created_by_id);
  memset(s, 0, sizeof *s);
}

static void session_read_row(db_stmt_t *s, void *item) {
  store_upload_session_t *u = item;
  memset(u, 0, sizeof *u);
  u->id = store_col_strdup(s, 0, true);
  u->tenant = store_col_strdup(s, 1, true);
  u->document_id = store_col_strdup(s, 2, true);
  u->job_id = db_col_int64(s, 3);
  u->secret_hash = store_col_strdup(s, 4, true);
  u->document_name = store_col_strdup(s, 5, true);
  u->content_type = store_col_strdup(s, 6, true);
  u->size = db_col_int64(s, 7);
  u->received = store_col_strdup(s, 8, true);
  u->blob_key = store_col_strdup(s, 9, true);
  u->expires_us = db_col_int64(s, 10);
  u->created_us = db_col_int64(s, 11);
  u->created_by_id = store_col_strdup(s, 12, false);
  u->blob_in_store = db_col_int64(s, 13) != 0;
}

/* Reads session id (not expired at now) into *u; STORE_NOT_FOUND when there is none. */
static int session_read(db_conn_t *c, const char *id, int64_t now, store_upload_session_t *u) {
  store_upload_session_clear(u);
  db_stmt_t *s = db_prepare(c, "SELECT " SESSION_COLS " FROM upload_sessions s"
                               " JOIN documents d ON d.id = s.document_id"
                               " WHERE s.id = ? AND s.expires_us > ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, id);
  db_bind_int64(s, 2, now);
  return store_step_row(s, session_read_row, u);
}

/* Adds key to drop unless a document other than except_doc, or a session, still names it. */
static int drop_if_unreferenced(db_conn_t *c, const char *key, const char *except_doc,
                                store_blob_keys_t *drop) {
  if (!key || !*key) return 0;
  db_stmt_t *s = db_prepare(c, "SELECT (SELECT COUNT(*) FROM documents WHERE blob_key = ? AND id <> ?)"
                               " + (SELECT COUNT(*) FROM upload_sessions WHERE blob_key = ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, key);
  db_bind_text(s, 2, except_doc ? except_doc : "");
  db_bind_text(s, 3, key);
  int rc = db_step(s);
  int64_t refs = rc == DB_ROW ? db_col_int64(s, 0) : -1;
  db_reset(s);
  if (refs < 0) return DB_ERROR;
  if (refs == 0) keys_add(drop, key);
  return 0;
}

/* ---- documents ------------------------------------------------------------------------------ */

typedef struct {
  const char      *tenant;
  int64_t          job_id;
  const char      *doc_id;
  int64_t          now;
  store_document_t doc;
  const char      *key;
  bool             referenced;
} doc_arg_t;

static int document_get_fn(db_conn_t *c, void *arg) {
  doc_arg_t *a = arg;
  store_document_clear(&a->doc);
  db_stmt_t *s = db_prepare(c, "SELECT " STORE_DOC_COLS " FROM documents d"
                               " WHERE d.tenant_id = ? AND d.job_id = ? AND d.id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  db_bind_int64(s, 2, a->job_id);
  db_bind_text(s, 3, a->doc_id);
  return store_step_row(s, store_document_read_row, &a->doc);
}

/* Reads one document of a job; see store/documents.h. */
store_rc_t store_document_get(store_t *st, const char *tenant, int64_t job_id, const char *doc_id,
                              store_document_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant || !doc_id) return STORE_NOT_FOUND;
  doc_arg_t a = {.tenant = tenant, .job_id = job_id, .doc_id = doc_id};
  store_rc_t rc = store_rc(db_read(st->db, document_get_fn, &a));
  if (rc == STORE_OK) *out = a.doc;
  else store_document_clear(&a.doc);
  return rc;
}

static int set_downloaded_fn(db_conn_t *c, void *arg) {
  doc_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "UPDATE documents SET downloaded_us = ? WHERE tenant_id = ? AND id = ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->now);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->doc_id);
  int rc = store_step_done(s);
  if (rc != 0) return rc;
  return db_changes(c) == 1 ? 0 : STORE_NOT_FOUND;
}

/* Records a download; see store/documents.h. */
store_rc_t store_document_set_downloaded(store_t *st, const char *tenant, const char *doc_id,
                                         int64_t now_us) {
  if (!tenant || !doc_id) return STORE_NOT_FOUND;
  doc_arg_t a = {.tenant = tenant, .doc_id = doc_id, .now = now_us};
  return store_rc(db_write(st->db, set_downloaded_fn, &a));
}

static int referenced_fn(db_conn_t *c, void *arg) {
  doc_arg_t *a = arg;
  a->referenced = false;
  db_stmt_t *s = db_prepare(c, "SELECT (SELECT COUNT(*) FROM documents WHERE blob_key = ?)"
                               " + (SELECT COUNT(*) FROM upload_sessions WHERE blob_key = ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->key);
  db_bind_text(s, 2, a->key);
  int rc = db_step(s);
  if (rc == DB_ROW) a->referenced = db_col_int64(s, 0) > 0;
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* Whether any row names blob key; see store/documents.h. */
store_rc_t store_blob_referenced(store_t *st, const char *key, bool *referenced) {
  *referenced = true; /* on error, keep the bytes */
  doc_arg_t a = {.key = key};
  store_rc_t rc = store_rc(db_read(st->db, referenced_fn, &a));
  if (rc == STORE_OK) *referenced = a.referenced;
  return rc;
}

/* ---- createUploadSession -------------------------------------------------------------------- */

typedef struct {
  const store_upload_session_new_t *n;
  store_blob_keys_t                 drop;
  char                             *why;
} create_arg_t;

/* The session's job and document (see session_create_fn); the direct form also gives the
 * job's printer and creator, the printer's capabilities and the printer of the share bound
 * first (NULL for "" or a share of another tenant). */
#define SESSION_TARGET                                                                          \
  "SELECT j.phase, j.details, d.blob_key FROM documents d JOIN jobs j ON j.id = d.job_id"     \
  " WHERE d.id = ? AND d.job_id = ? AND j.tenant_id = ?"
#define SESSION_TARGET_DIRECT                                                                   \
  "SELECT j.phase, j.details, d.blob_key, j.printer_id, j.created_by_id, p.capabilities,"      \
  " (SELECT s.printer_id FROM shares s WHERE s.id = ? AND s.tenant_id = j.tenant_id)"          \
  " FROM documents d JOIN jobs j ON j.id = d.job_id"                                           \
  " JOIN printers p ON p.id = j.printer_id AND p.tenant_id = j.tenant_id"                      \
  " WHERE d.id = ? AND d.job_id = ? AND j.tenant_id = ?"

/* Whether n is the form without a read before it (store/documents.h). */
static bool session_is_direct(const store_upload_session_new_t *n) {
  return n->printer_id || n->share_id || n->owner || n->check_content_type;
}

/* The direct form's checks on the row of SESSION_TARGET_DIRECT: the job's printer (the
 * named one, or the share's), its creator, the printer's content types. */
static bool session_target_ok(const store_upload_session_new_t *n, db_stmt_t *s) {
  const char *printer = db_col_text(s, 3);
  const char *creator = db_col_text(s, 4);
  const char *share_printer = db_col_text(s, 6);
  if (!printer) return false;
  if (n->printer_id && strcmp(printer, n->printer_id) != 0) return false;
  if (n->share_id && (!share_printer || strcmp(printer, share_printer) != 0)) return false;
  if (n->owner && (!creator || strcmp(creator, n->owner) != 0)) return false;
  if (!n->check_content_type) return true;
  store_printer_t p = {.capabilities = (char *)db_col_text(s, 5)};
  return store_printer_accepts_content_type(&p, n->content_type);
}

static int session_create_fn(db_conn_t *c, void *arg) {
  create_arg_t *a = arg;
  const store_upload_session_new_t *n = a->n;
  store_blob_keys_clear(&a->drop);
  free(a->why);
  a->why = NULL;
  char *old_blob = NULL;
  int rc;

  /* the job's phase, checked here so a concurrent start cannot slip in between, and the
   * document's blob key, in one statement: no row when the job (of this tenant) or its
   * document is missing */
  int64_t phase = -1;
  unsigned details = 0;
  bool direct = session_is_direct(n);
  db_stmt_t *s = db_prepare(c, direct ? SESSION_TARGET_DIRECT : SESSION_TARGET);
  if (!s) {
    rc = DB_ERROR;
    goto done;
  }
  int k = 1;
  if (direct) db_bind_text(s, k++, n->share_id ? n->share_id : "");
  db_bind_text(s, k++, n->document_id);
  db_bind_int64(s, k++, n->job_id);
  db_bind_text(s, k, n->tenant);
  rc = db_step(s);
  bool target = true;
  if (rc == DB_ROW) {
    phase = db_col_int64(s, 0);
    details = (unsigned)db_col_int64(s, 1);
    old_blob = store_col_strdup(s, 2, false);
    if (direct) target = session_target_ok(n, s);
  }
  db_reset(s);
  if (rc != DB_ROW || !target) {
    rc = rc == DB_DONE || !target ? STORE_NOT_FOUND : DB_ERROR;
    goto done;
  }
  rc = 0;
  if (phase < 0 || phase >= JOB_PHASE_COUNT || !(n->allowed_phases & (1u << phase))) {
    buf_t w = BUF_INIT;
    buf_printf(&w, "An upload session cannot be created for a job that is %s.",
               job_phase_describe(phase >= 0 && phase < JOB_PHASE_COUNT ? (job_phase_t)phase
                                                                        : JOB_ABORTED));
    a->why = buf_detach(&w);
    rc = STORE_CONFLICT;
    goto done;
  }

  /* earlier sessions of the document: invalidated, their bytes dropped (one statement: the
   * DELETE gives their blob keys back) */
  s = db_prepare(c, "DELETE FROM upload_sessions WHERE document_id = ? RETURNING blob_key");
  if (!s) {
    rc = DB_ERROR;
    goto done;
  }
  db_bind_text(s, 1, n->document_id);
  while ((rc = db_step(s)) == DB_ROW) keys_add(&a->drop, db_col_text(s, 0));
  db_reset(s);
  if (rc != DB_DONE) {
    rc = DB_ERROR;
    goto done;
  }

  /* the document takes the declared values and forgets its earlier bytes */
  s = db_prepare(c, "UPDATE documents SET display_name = ?, content_type = ?, size = ?,"
                    " uploaded_us = NULL, downloaded_us = NULL, sha256 = NULL, blob_key = NULL"
                    " WHERE id = ?");
  if (s) {
    db_bind_text(s, 1, n->document_name);
    db_bind_text(s, 2, n->content_type);
    db_bind_int64(s, 3, n->size);
    db_bind_text(s, 4, n->document_id);
  }
  if ((rc = store_step_done(s)) != 0) goto done;
  if ((rc = drop_if_unreferenced(c, old_blob, n->document_id, &a->drop)) != 0) goto done;

  if (phase == JOB_CREATED && !(details & JOB_DETAIL_UPLOAD_PENDING)) {
    rc = store_job_set_details(c, n->job_id, details | JOB_DETAIL_UPLOAD_PENDING, n->now_us);
    if (rc != 0) goto done;
  }
  if (n->blob_in_store &&
      (rc = store_chunks_create_in(c, n->blob_key, (uint64_t)n->size, n->now_us)) != 0)
    return rc;

  s = db_prepare(c, "INSERT INTO upload_sessions (id, tenant_id, document_id, secret_hash,"
                    " document_name, content_type, size, received, blob_key, expires_us,"
                    " created_us, created_by_id) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?)");
  if (s) {
    db_bind_text(s, 1, n->id);
    db_bind_text(s, 2, n->tenant);
    db_bind_text(s, 3, n->document_id);
    db_bind_text(s, 4, n->secret_hash);
    db_bind_text(s, 5, n->document_name);
    db_bind_text(s, 6, n->content_type);
    db_bind_int64(s, 7, n->size);
    db_bind_text(s, 8, n->blob_key);
    db_bind_int64(s, 9, n->expires_us);
    db_bind_int64(s, 10, n->now_us);
    db_bind_text(s, 11, n->created_by_id);
  }
  rc = store_step_done(s);
done:
  free(old_blob);
  return rc;
}

/* createUploadSession; see store/documents.h. */
store_rc_t store_upload_session_create(store_t *st, const store_upload_session_new_t *n,
                                       store_blob_keys_t *drop, char **why) {
  memset(drop, 0, sizeof *drop);
  if (why) *why = NULL;
  create_arg_t a = {.n = n};
  store_rc_t rc = store_rc(db_write(st->db, session_create_fn, &a));
  if (rc == STORE_OK) *drop = a.drop;
  else store_blob_keys_clear(&a.drop);
  if (rc == STORE_CONFLICT && why) *why = a.why;
  else free(a.why);
  return rc;
}

/* ---- reading and deleting sessions ---------------------------------------------------------- */

typedef struct {
  const char            *id;
  int64_t                now;
  store_upload_session_t sess;
  char                  *blob_key;
} session_arg_t;

static int session_get_fn(db_conn_t *c, void *arg) {
  session_arg_t *a = arg;
  return session_read(c, a->id, a->now, &a->sess);
}

/* Reads an upload session; see store/documents.h. */
store_rc_t store_upload_session_get(store_t *st, const char *id, int64_t now_us,
                                    store_upload_session_t *out) {
  memset(out, 0, sizeof *out);
  if (!id) return STORE_NOT_FOUND;
  session_arg_t a = {.id = id, .now = now_us};
  store_rc_t rc = store_rc(db_read(st->db, session_get_fn, &a));
  if (rc == STORE_OK) *out = a.sess;
  else store_upload_session_clear(&a.sess);
  return rc;
}

static int session_delete_fn(db_conn_t *c, void *arg) {
  session_arg_t *a = arg;
  free(a->blob_key);
  a->blob_key = NULL;
  int rc = session_read(c, a->id, a->now, &a->sess);
  if (rc != 0) return rc;
  db_stmt_t *s = db_prepare(c, "DELETE FROM upload_sessions WHERE id = ?");
  if (s) db_bind_text(s, 1, a->id);
  if ((rc = store_step_done(s)) != 0) return rc;
  a->blob_key = xstrdup(a->sess.blob_key);
  return 0;
}

/* Deletes an upload session; see store/documents.h. */
store_rc_t store_upload_session_delete(store_t *st, const char *id, int64_t now_us,
                                       char **blob_key) {
  *blob_key = NULL;
  if (!id) return STORE_NOT_FOUND;
  session_arg_t a = {.id = id, .now = now_us};
  store_rc_t rc = store_rc(db_write(st->db, session_delete_fn, &a));
  store_upload_session_clear(&a.sess);
  if (rc == STORE_OK) *blob_key = a.blob_key;
  else free(a.blob_key);
  return rc;
}

/* ---- fragments ------------------------------------------------------------------------------ */

typedef struct {
  const char            *id;
  uint64_t               first, last;
  int64_t                now, new_expires;
  const char            *sha256;
  const void            *bytes;
  store_limits_t        *limits;   /* taken by complete_fn; NULL: none */
  store_fragment_rc_t    outcome;
  char                  *received;
  int64_t                expires;
  store_upload_session_t sess;
  store_document_t       doc;
  store_blob_keys_t      drop;
  char                  *why;
  /* read with the session by a completing fragment (complete_fn): the job's phase and
   * details (job_found false when the job of the session's tenant is gone), the document's
   * tenant and blob key */
  bool                   job_found;
  int64_t                job_phase;
  unsigned               job_details;
  char                  *doc_tenant, *doc_blob_key;
} fragment_arg_t;

static void fragment_reset(fragment_arg_t *a) {
  free(a->received);
  a->received = NULL;
  free(a->why);
  a->why = NULL;
  a->outcome = STORE_FRAGMENT_RECORDED;
  a->expires = 0;
  store_document_clear(&a->doc);
  store_blob_keys_clear(&a->drop);
  a->job_found = false;
  a->job_phase = -1;
  a->job_details = 0;
  free(a->doc_tenant);
  free(a->doc_blob_key);
  a->doc_tenant = a->doc_blob_key = NULL;
}

/* A row of COMPLETE_READ_SQL into the fragment_arg_t at item: the session (its columns first,
 * as session_read_row reads them), then the job's phase and details and the document's
 * tenant and blob key. */
static void complete_read_row(db_stmt_t *s, void *item) {
  fragment_arg_t *a = item;
  session_read_row(s, &a->sess);
  a->job_found = !db_col_null(s, 14);
  a->job_phase = store_col_i64_or(s, 14, -1);
  a->job_details = (unsigned)store_col_i64_or(s, 15, 0);
  a->doc_tenant = store_col_strdup(s, 16, true);
  a->doc_blob_key = store_col_strdup(s, 17, false);
}

/* The session of a completing fragment, its job's phase and details and its document's
 * tenant and blob key, in one statement (session_read's row and four columns more). */
#define COMPLETE_READ_SQL                                                                     \
  "SELECT " SESSION_COLS ", j.phase, j.details, d.tenant_id, d.blob_key"                      \
  " FROM upload_sessions s JOIN documents d ON d.id = s.document_id"                          \
  " LEFT JOIN jobs j ON j.id = d.job_id AND j.tenant_id = s.tenant_id"                        \
  " WHERE s.id = ? AND s.expires_us > ?"

/* The start of a closure run on a fragment (clears a's outputs, which a run again finds set):
 * reads the session and merges [first, last] into its received set, in *set (initialised here;
 * the caller clears it). Returns 0 with a->outcome set, or an error. */
static int fragment_merge(db_conn_t *c, fragment_arg_t *a, range_set_t *set, bool completes) {
  fragment_reset(a);
  range_set_init(set);
  int rc;
  if (completes) {
    store_upload_session_clear(&a->sess);
    db_stmt_t *s = db_prepare(c, COMPLETE_READ_SQL);
    if (!s) return DB_ERROR;
    db_bind_text(s, 1, a->id);
    db_bind_int64(s, 2, a->now);
    rc = store_step_row(s, complete_read_row, a);
  } else {
    rc = session_read(c, a->id, a->now, &a->sess);
  }
  if (rc != 0) return rc;
  if (!range_set_parse(a->sess.received, set)) return DB_ERROR;
  a->expires = a->sess.expires_us;
  if (a->last >= (uint64_t)a->sess.size) {
    a->outcome = STORE_FRAGMENT_OVERLAP; /* the caller checks this before; never past the end */
    return 0;
  }
  switch (range_set_add(set, a->first, a->last)) {
    case RANGES_OK:
      a->outcome = range_set_complete(set, (uint64_t)a->sess.size) ? STORE_FRAGMENT_COMPLETES
                                                                    : STORE_FRAGMENT_RECORDED;
      return 0;
    case RANGES_OVERLAP:
    case RANGES_INVALID:
      a->outcome = STORE_FRAGMENT_OVERLAP;
      return 0;
    case RANGES_TOO_MANY:
      a->outcome = STORE_FRAGMENT_TOO_MANY;
      return 0;
  }
  return DB_ERROR;
}

static int fragment_fn(db_conn_t *c, void *arg) {
  fragment_arg_t *a = arg;
  range_set_t set;
  int rc = fragment_merge(c, a, &set, false);
  if (rc == 0 && a->outcome == STORE_FRAGMENT_RECORDED) {
    char *text = range_set_format(&set);
    db_stmt_t *s = db_prepare(c, "UPDATE upload_sessions SET received = ?, expires_us = ?"
                                 " WHERE id = ?");
    if (s) {
      db_bind_text(s, 1, text);
      db_bind_int64(s, 2, a->new_expires > a->expires ? a->new_expires : a->expires);
      db_bind_text(s, 3, a->id);
    }
    rc = store_step_done(s);
    if (rc == 0) {
      a->received = text;
      if (a->new_expires > a->expires) a->expires = a->new_expires;
    } else {
      free(text);
    }
  } else if (rc == 0) {
    a->received = xstrdup(a->sess.received);
  }
  range_set_clear(&set);
  return rc;
}

/* Records a fragment; see store/documents.h. */
store_rc_t store_upload_fragment(store_t *st, const char *id, uint64_t first, uint64_t last,
                                 int64_t now_us, int64_t new_expires_us,
                                 store_fragment_rc_t *outcome, char **received,
                                 int64_t *expires_us) {
  *outcome = STORE_FRAGMENT_OVERLAP;
  if (received) *received = NULL;
  if (expires_us) *expires_us = 0;
  fragment_arg_t a = {.id = id, .first = first, .last = last, .now = now_us,
                      .new_expires = new_expires_us};
  store_rc_t rc = store_rc(db_write(st->db, fragment_fn, &a));
  if (rc == STORE_OK) {
    *outcome = a.outcome;
    if (received) {
      *received = a.received;
      a.received = NULL;
    }
    if (expires_us) *expires_us = a.expires;
  }
  fragment_reset(&a);
  store_upload_session_clear(&a.sess);
  return rc;
}

static int complete_fn(db_conn_t *c, void *arg) {
  fragment_arg_t *a = arg;
  range_set_t set;
  int rc = fragment_merge(c, a, &set, true);
  range_set_clear(&set);
  if (rc != 0) return rc;
  if (a->outcome != STORE_FRAGMENT_COMPLETES) {
    a->why = xstrdup(a->outcome == STORE_FRAGMENT_OVERLAP
                         ? "Uploaded fragment overlaps with existing data."
                         : "The fragment does not complete the document.");
    return STORE_CONFLICT;
  }
  const store_upload_session_t *u = &a->sess;

  /* the job learns that its document is complete (JOB_EV_UPLOAD_DONE); its phase and
   * details came with the session */
  if (!a->job_found) return STORE_NOT_FOUND;
  int64_t phase = a->job_phase;
  unsigned details = a->job_details;
  job_phase_t next;
  const char *why = NULL;
  if (phase < 0 || phase >= JOB_PHASE_COUNT ||
      !job_transition((job_phase_t)phase, JOB_EV_UPLOAD_DONE, true, &next, &why)) {
    a->why = xstrdup(why ? why : "The job no longer accepts its document.");
    return STORE_CONFLICT;
  }
  /* the phase stays (next == phase for this event); the status loses uploadPending */
  (void)next;
  if (a->limits && (rc = store_limits_take_in(c, a->limits)) != 0) return rc;
  if (a->bytes && (rc = store_chunks_pwrite_in(c, u->blob_key, a->first, a->bytes,
                                               (size_t)(a->last - a->first + 1), a->now)) != 0)
    return rc;
  rc = store_job_set_details(c, u->job_id, details & ~(unsigned)JOB_DETAIL_UPLOAD_PENDING,
                             a->now);
  if (rc != 0) return rc;

  /* the document takes the session's bytes (its tenant and blob key came with the session) */
  const char *old_blob = a->doc_blob_key;
  db_stmt_t *s = db_prepare(c, "UPDATE documents SET display_name = ?, content_type = ?, size = ?,"
                               " uploaded_us = ?, downloaded_us = NULL, sha256 = ?, blob_key = ?"
                               " WHERE id = ?");
  if (s) {
    db_bind_text(s, 1, u->document_name);
    db_bind_text(s, 2, u->content_type);
    db_bind_int64(s, 3, u->size);
    db_bind_int64(s, 4, a->now);
    db_bind_text(s, 5, a->sha256);
    db_bind_text(s, 6, u->blob_key);
    db_bind_text(s, 7, u->document_id);
  }
  rc = store_step_done(s);
  s = rc == 0 ? db_prepare(c, "DELETE FROM upload_sessions WHERE id = ?") : NULL;
  if (s) db_bind_text(s, 1, a->id);
  if (rc == 0) rc = store_step_done(s);
  if (rc == 0 && old_blob && strcmp(old_blob, u->blob_key) != 0)
    rc = drop_if_unreferenced(c, old_blob, u->document_id, &a->drop);
  if (rc != 0) return rc;
  /* the answer: the document as the UPDATE wrote it, without reading it again */
  store_document_t *d = &a->doc;
  store_document_clear(d);
  d->id = xstrdup(u->document_id ? u->document_id : "");
  d->tenant = xstrdup(a->doc_tenant ? a->doc_tenant : "");
  d->job_id = u->job_id;
  d->display_name = xstrdup(u->document_name ? u->document_name : "");
  d->content_type = xstrdup(u->content_type ? u->content_type : "");
  d->size = u->size;
  d->uploaded_us = a->now;
  d->downloaded_us = 0;
  d->sha256 = a->sha256 ? xstrdup(a->sha256) : NULL;
  d->blob_key = u->blob_key ? xstrdup(u->blob_key) : NULL;
  return 0;
}

/* Finishes an upload; see store/documents.h. */
store_rc_t store_upload_complete(store_t *st, const char *id, uint64_t first, uint64_t last,
                                 const void *bytes, const char *sha256, int64_t now_us,
                                 store_limits_t *limits, store_document_t *doc,
                                 store_blob_keys_t *drop, char **why,
                                 store_fragment_rc_t *outcome) {
  memset(doc, 0, sizeof *doc);
  memset(drop, 0, sizeof *drop);
  if (why) *why = NULL;
  fragment_arg_t a = {.id = id, .first = first, .last = last, .now = now_us, .sha256 = sha256,
                      .bytes = bytes, .limits = limits};
  store_rc_t rc = store_rc(db_write(st->db, complete_fn, &a));
  if (outcome) *outcome = rc == STORE_CONFLICT ? a.outcome : STORE_FRAGMENT_COMPLETES;
  if (rc == STORE_OK) {
    *doc = a.doc;
    memset(&a.doc, 0, sizeof a.doc);
    *drop = a.drop;
    memset(&a.drop, 0, sizeof a.drop);
  } else if (rc == STORE_CONFLICT && why) {
    *why = a.why;
    a.why = NULL;
  }
  fragment_reset(&a);
  store_upload_session_clear(&a.sess);
  return rc;
}

/* ---- expiry --------------------------------------------------------------------------------- */

typedef struct {
  int64_t           now;
  int               limit;
  int               n;
  store_blob_keys_t drop;
} expire_arg_t;

static int expire_fn(db_conn_t *c, void *arg) {
  expire_arg_t *a = arg;
  store_blob_keys_clear(&a->drop);
  a->n = 0;
  int turn = store_sweep_turn(c, DB_SWEEP_SESSIONS);
  if (turn != 1) return turn == 0 ? 0 : DB_ERROR;  /* another process is sweeping */
  db_stmt_t *s = db_prepare(c, "SELECT id, blob_key FROM upload_sessions WHERE expires_us <= ?"
                               " ORDER BY expires_us LIMIT ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->now);
  db_bind_int64(s, 2, a->limit);
  char **ids = NULL;
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    ids = xrealloc(ids, (size_t)(a->n + 1) * sizeof *ids);
    ids[a->n++] = store_col_strdup(s, 0, true);
    keys_add(&a->drop, db_col_text(s, 1));
  }
  db_reset(s);
  if (rc != DB_DONE) rc = DB_ERROR;
  else rc = 0;
  for (int i = 0; i < a->n; i++) {
    if (rc == 0) {
      s = db_prepare(c, "DELETE FROM upload_sessions WHERE id = ?");
      if (s) db_bind_text(s, 1, ids[i]);
      rc = store_step_done(s);
    }
    free(ids[i]);
  }
  free(ids);
  return rc;
}

/* Deletes expired sessions; see store/documents.h. */
store_rc_t store_upload_sessions_expire(store_t *st, int64_t now_us, int limit,
                                        store_blob_keys_t *drop, int *n) {
  memset(drop, 0, sizeof *drop);
  if (n) *n = 0;
  expire_arg_t a = {.now = now_us, .limit = limit > 0 ? limit : 100};
  store_rc_t rc = store_rc(db_write(st->db, expire_fn, &a));
  if (rc == STORE_OK) {
    *drop = a.drop;
    if (n) *n = a.n;
  } else {
    store_blob_keys_clear(&a.drop);
  }
  return rc;
}

/* ---- download credentials -------------------------------------------------------------------- */

typedef struct {
  const char *hash, *tenant, *doc_id;
  int64_t     job_id, expires_us, now;
  char       *out_tenant, *out_doc;
  int         n;
} dl_arg_t;

static int dl_add_fn(db_conn_t *c, void *arg) {
  dl_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "INSERT INTO download_tokens (hash, tenant_id, job_id, doc_id,"
                               " expires_us) VALUES (?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->hash);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, a->job_id);
  db_bind_text(s, 4, a->doc_id);
  db_bind_int64(s, 5, a->expires_us);
  return store_step_done(s);
}

/* See store/documents.h. */
store_rc_t store_download_token_add(store_t *st, const char *hash, const char *tenant,
                                    int64_t job_id, const char *doc_id, int64_t expires_us) {
  if (!hash || !tenant || !doc_id) return STORE_NOT_FOUND;
  dl_arg_t a = {.hash = hash, .tenant = tenant, .doc_id = doc_id, .job_id = job_id,
                .expires_us = expires_us};
  return store_rc(db_write(st->db, dl_add_fn, &a));
}

static int dl_get_fn(db_conn_t *c, void *arg) {
  dl_arg_t *a = arg;
  free(a->out_tenant);
  free(a->out_doc);
  a->out_tenant = a->out_doc = NULL;
  db_stmt_t *s = db_prepare(c, "SELECT tenant_id, job_id, doc_id FROM download_tokens"
                               " WHERE hash = ? AND expires_us > ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->hash);
  db_bind_int64(s, 2, a->now);
  int rc = db_step(s);
  if (rc == DB_ROW) {
    a->out_tenant = store_col_strdup(s, 0, true);
    a->job_id = db_col_int64(s, 1);
    a->out_doc = store_col_strdup(s, 2, true);
  }
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

/* See store/documents.h. */
store_rc_t store_download_token_get(store_t *st, const char *hash, int64_t now_us, char **tenant,
                                    int64_t *job_id, char **doc_id) {
  *tenant = *doc_id = NULL;
  *job_id = 0;
  if (!hash) return STORE_NOT_FOUND;
  dl_arg_t a = {.hash = hash, .now = now_us};
  store_rc_t rc = store_rc(db_read(st->db, dl_get_fn, &a));
  if (rc == STORE_OK) {
    *tenant = a.out_tenant;
    *doc_id = a.out_doc;
    *job_id = a.job_id;
  } else {
    free(a.out_tenant);
    free(a.out_doc);
  }
  return rc;
}

static int dl_expire_fn(db_conn_t *c, void *arg) {
  dl_arg_t *a = arg;
  a->n = 0;
  int turn = store_sweep_turn(c, DB_SWEEP_DOWNLOADS);
  if (turn != 1) return turn == 0 ? 0 : turn;
  db_stmt_t *s = db_prepare(c, "DELETE FROM download_tokens WHERE expires_us <= ?");
  if (!s) return DB_ERROR;
  db_bind_int64(s, 1, a->now);
  int rc = store_step_done(s);
  if (rc == 0) a->n = (int)db_changes(c);
  return rc;
}

/* See store/documents.h. */
store_rc_t store_download_tokens_expire(store_t *st, int64_t now_us, int *n) {
  dl_arg_t a = {.now = now_us};
  store_rc_t rc = store_rc(db_write(st->db, dl_expire_fn, &a));
  if (n) *n = rc == STORE_OK ? a.n : 0;
  return rc;
}
