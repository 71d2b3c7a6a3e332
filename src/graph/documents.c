/* SPDX-License-Identifier: Apache-2.0 */
/*
 * printDocument on the Graph surface (reference §2.7, §4.4 D1, D2, D4): the documents of a
 * job, createUploadSession and the $value redirect, under /print/printers/{p}/jobs/{j} and
 * /print/shares/{s}/jobs/{j}. Also the route table of the upload URL (upload.c) and the
 * download URL (download.c), and the sweeper thread that expires upload sessions.
 *
 * Routes capture params[0] = printer or share, params[1] = job, params[2] = document.
 */
#include "graph/documents.h"

#include "app.h"
#include "blob/blob.h"
#include "core/job.h"
#include "graph/authorize.h"
#include "graph/documents-private.h"
#include "graph/jobs.h"
#include "graph/json.h"
#include "graph/model.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/pullprint.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "http/server.h"
#include "store/documents.h"
#include "store/limits.h"
#include "store/printers.h"
#include "store/pullprint.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DOCUMENT_NAME_MAX 1024   /* characters of documentName */
#define CONTENT_TYPE_MAX 255     /* characters of contentType */
#define SWEEP_GC_INTERVAL_US ((int64_t)600 * 1000000)  /* unreferenced-blob pass */
#define SWEEP_GC_GRACE_US ((int64_t)600 * 1000000)     /* blobs younger than this are kept */
#define SWEEP_BATCH 200

/* ---- shared helpers (documents-private.h) ------------------------------------------------- */

/* SHA-256 fetched from OpenSSL once for the process (immutable once fetched; as jwt.c's token
 * cache key): EVP_sha256() passed to EVP_Digest fetches the algorithm again on every call. */
static EVP_MD *g_sha256;
static pthread_once_t g_sha256_once = PTHREAD_ONCE_INIT;
static void sha256_init(void) { g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); }

/* See documents-private.h. */
const EVP_MD *documents_sha256_md(void) {
  pthread_once(&g_sha256_once, sha256_init);
  return g_sha256 ? g_sha256 : EVP_sha256();
}

/* See documents-private.h. */
void documents_hex32(const unsigned char h[32], char out[65]) {
  static const char hex[] = "0123456789abcdef";
  for (unsigned i = 0; i < 32; i++) {
    out[2 * i] = hex[h[i] >> 4];
    out[2 * i + 1] = hex[h[i] & 15];
  }
  out[64] = '\0';
}

/* Lowercase hex SHA-256 of s (credentials are stored only as this). */
void documents_sha256_hex(const char *s, char out[65]) {
  unsigned char h[32] = {0};
  unsigned int n = 0;
  EVP_Digest(s, strlen(s), h, &n, documents_sha256_md(), NULL);
  documents_hex32(h, out);
}

/* Whether secret hashes to stored_hash, compared in constant time. */
bool documents_secret_matches(const char *secret, const char *stored_hash) {
  if (!secret || !stored_hash || strlen(stored_hash) != 64) return false;
  char h[65];
  documents_sha256_hex(secret, h);
  return CRYPTO_memcmp(h, stored_hash, 64) == 0;
}

/* The printDocument JSON; see graph/documents.h. */
json_t *graph_document_json(const http_request_t *req, const store_document_t *d) {
  (void)req; /* the same members in v1.0 and beta */
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(d->id ? d->id : ""));
  json_object_set_new(o, "displayName", json_string(d->display_name ? d->display_name : ""));
  json_object_set_new(o, "contentType", json_string(d->content_type ? d->content_type : ""));
  json_object_set_new(o, "size", json_integer(d->size));
  json_object_set_new(o, "uploadedDateTime", graph_json_time_or_null(d->uploaded_us));
  json_object_set_new(o, "downloadedDateTime", graph_json_time_or_null(d->downloaded_us));
  return o;
}

/* The printDocument JSON as text; see graph/documents.h. */
void graph_document_json_write(const http_request_t *req, const store_document_t *d,
                               graph_jw_t *w) {
  (void)req;
  buf_putc(w->b, '{');
  w->first = true;
  graph_jw_key(w, "id");
  graph_jw_str(w, d->id ? d->id : "");
  graph_jw_key(w, "displayName");
  graph_jw_str(w, d->display_name ? d->display_name : "");
  graph_jw_key(w, "contentType");
  graph_jw_str(w, d->content_type ? d->content_type : "");
  graph_jw_key(w, "size");
  graph_jw_int(w, d->size);
  graph_jw_key(w, "uploadedDateTime");
  graph_jw_iso_or_null(w, d->uploaded_us);
  graph_jw_key(w, "downloadedDateTime");
  graph_jw_iso_or_null(w, d->downloaded_us);
  buf_putc(w->b, '}');
  w->first = false;
}

/* "printers('P')/jobs('J')" or "shares('S')/jobs('J')" for context URLs. */
static char *job_path(const http_request_t *req, const graph_job_ctx_t *ctx) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "print/%s('%s')/jobs('%s')", ctx->via_share ? "shares" : "printers",
             http_request_param(req, 0), ctx->job.id_str);
  return buf_detach(&b);
}

/* Resolves the job (authorize op, 401/403/404) and the document params[2] of it (404). */
static bool resolve_document(http_request_t *req, http_response_t *res, perm_op_t op,
                             graph_job_ctx_t *ctx, store_document_t *doc) {
  memset(doc, 0, sizeof *doc);
  if (!graph_job_resolve(req, res, op, ctx)) return false;
  const char *doc_id = http_request_param(req, 2);
  store_rc_t rc = store_document_get(APP(req)->store, ctx->caller->tenant, ctx->job.id, doc_id,
                                     doc);
  if (rc == STORE_OK) return true;
  if (rc == STORE_NOT_FOUND)
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "The document '%s' was not found on print job '%s'.", doc_id,
                      ctx->job.id_str);
  else
    graph_reply_store_error(req, res);
  graph_job_ctx_clear(ctx);
  return false;
}

/* ---- D1: GET .../documents and .../documents/{id} ---------------------------------------- */

static const char *const DOC_SELECT[] = {"id", "displayName", "contentType", "size",
                                         "uploadedDateTime", "downloadedDateTime", NULL};
static const odata_spec_t DOC_LIST_QUERY = {.mask = QUERY_OPT_SELECT | QUERY_OPT_TOP,
                                            .select = DOC_SELECT};
static const odata_spec_t DOC_GET_QUERY = {.mask = QUERY_OPT_SELECT, .select = DOC_SELECT};

/* GET .../jobs/{j}/documents */
static void documents_list(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_DOCUMENT_GET, &ctx)) return;
  query_t q;
  query_init(&q);
  if (!odata_parse_request(req, res, &DOC_LIST_QUERY, &q)) goto out;
  store_document_t *docs = NULL;
  size_t n = 0;
  if (store_job_documents(APP(req)->store, ctx.caller->tenant, ctx.job.id, &docs, &n) !=
      STORE_OK) {
    graph_reply_store_error(req, res);
    goto out;
  }
  json_t *arr = json_array();
  for (size_t i = 0; i < n && (q.top < 0 || (int64_t)i < q.top); i++) {
    json_t *d = graph_document_json(req, &docs[i]);
    odata_apply_select(d, &q);
    json_array_append_new(arr, d);
  }
  store_documents_free(docs, n);
  char *path = job_path(req, &ctx);
  graph_reply_collection(req, res, graph_context(req, "%s/documents", path), arr, NULL);
  free(path);
out:
  query_clear(&q);
  graph_job_ctx_clear(&ctx);
}

/* GET .../jobs/{j}/documents/{d} */
static void document_get(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  store_document_t doc;
  if (!resolve_document(req, res, OP_PRINTER_JOB_DOCUMENT_GET, &ctx, &doc)) return;
  query_t q;
  query_init(&q);
  if (odata_parse_request(req, res, &DOC_GET_QUERY, &q)) {
    char *path = job_path(req, &ctx);
    json_t *o = graph_with_context(graph_context(req, "%s/documents/$entity", path),
                                   graph_document_json(req, &doc));
    free(path);
    odata_apply_select(o, &q);
    graph_reply_json(req, res, 200, o);
  }
  query_clear(&q);
  store_document_clear(&doc);
  graph_job_ctx_clear(&ctx);
}

/* ---- D2: createUploadSession ----------------------------------------------------------------- */

static const json_field_t UPLOAD_PROPS_FIELDS[] = {
    {.name = "documentName", .kind = JF_STRING, .max_len = DOCUMENT_NAME_MAX},
    {.name = "contentType", .kind = JF_STRING, .max_len = CONTENT_TYPE_MAX},
    {.name = "size", .kind = JF_INT64},
};
const json_schema_t GRAPH_PRINT_DOCUMENT_UPLOAD_PROPERTIES_SCHEMA = {"microsoft.graph.printDocumentUploadProperties",
                                           UPLOAD_PROPS_FIELDS, 3};
static const json_field_t CREATE_SESSION_FIELDS[] = {
    {.name = "properties", .kind = JF_OBJECT, .sub = &GRAPH_PRINT_DOCUMENT_UPLOAD_PROPERTIES_SCHEMA},
};
const json_schema_t GRAPH_CREATE_UPLOAD_SESSION_PARAMS = {"createUploadSession", CREATE_SESSION_FIELDS, 1};

/* The content types printer p lists ("a, b"), or the defaults when it lists none. */
static char *accepted_types(const store_printer_t *p) {
  buf_t b = BUF_INIT;
  json_t *caps = p->capabilities ? json_loads(p->capabilities, 0, NULL) : NULL;
  json_t *types = json_object_get(caps, "contentTypes");
  size_t i;
  json_t *v;
  if (json_is_array(types)) json_array_foreach(types, i, v) {
      if (!json_is_string(v)) continue;
      buf_printf(&b, "%s%s", b.len ? ", " : "", json_string_value(v));
    }
  json_decref(caps);
  if (!b.len) {
    static const char *const defaults[] = {STORE_PRINTER_DEFAULT_CONTENT_TYPES};
    for (size_t k = 0; k < sizeof defaults / sizeof defaults[0]; k++)
      buf_printf(&b, "%s%s", k ? ", " : "", defaults[k]);
  }
  return buf_detach(&b);
}

/* The contentType rule of D2: one of the printer's capabilities.contentTypes, or OXPS for a
 * printer that takes PDF but not OXPS while the tenant's documentConversionEnabled is true
 * (Universal Print converts such documents). Replies 400 and returns false otherwise. */
static bool content_type_accepted(http_request_t *req, http_response_t *res,
                                  const graph_job_ctx_t *ctx, const char *ct) {
  app_t *app = APP(req);
  store_printer_t p;
  store_rc_t rc = store_printer_get(app->store, ctx->caller->tenant, ctx->printer_id, &p);
  if (graph_printer_failure(req, res, rc, ctx->printer_id)) return false;
  bool ok = store_printer_accepts_content_type(&p, ct);
  bool conversion = false;
  if (!ok && !strncasecmp(ct, "application/oxps", 16) &&
      (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ') &&
      store_printer_accepts_content_type(&p, "application/pdf") &&
      !store_printer_accepts_content_type(&p, "application/oxps")) {
    store_settings_t s;
    if (store_settings_get(app->store, ctx->caller->tenant, &s) != STORE_OK) {
      store_printer_clear(&p);
      graph_reply_store_error(req, res);
      return false;
    }
    conversion = s.document_conversion_enabled;
    ok = conversion;
    store_settings_clear(&s);
  }
  if (!ok) {
    char *types = accepted_types(&p);
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'properties/contentType': the printer does not accept '%s'; it "
                      "accepts %s%s.", ct, types,
                      store_printer_accepts_content_type(&p, "application/pdf") &&
                              !strncasecmp(ct, "application/oxps", 16)
                          ? " (OXPS would be converted to PDF if the print settings had "
                            "documentConversionEnabled)"
                          : "");
    free(types);
  }
  store_printer_clear(&p);
  return ok;
}

/* The upload URL of a session: <public-url>/upload/{id}?token={secret}. */
static char *upload_url(const http_request_t *req, const char *id, const char *secret) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s/upload/%s?token=%s", server_public_url(req->server), id, secret);
  return buf_detach(&b);
}

static void remove_blobs(app_t *app, const store_blob_keys_t *k) {
  for (size_t i = 0; i < k->n; i++) {
    int rc = blob_remove(app->blobs, k->v[i]);
    if (rc != 0) log_warn("documents: cannot remove blob %s: %s", k->v[i], strerror(-rc));
  }
}

/* Reads and checks the createUploadSession body into name/type/size; replies 400/413. */
static bool parse_upload_properties(http_request_t *req, http_response_t *res, json_t **body,
                                    const char **name, const char **type, int64_t *size) {
  *body = graph_json_body(req, res, false);
  if (!*body) return false;
  if (!graph_json_check_params(req, res, *body, &GRAPH_CREATE_UPLOAD_SESSION_PARAMS)) return false;
  json_t *props = json_object_get(*body, "properties");
  if (!json_is_object(props)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'properties' is required: {\"properties\":{\"documentName\","
                      "\"contentType\",\"size\"}}.");
    return false;
  }
  static const char *const required[] = {"documentName", "contentType", "size"};
  for (size_t i = 0; i < 3; i++) {
    json_t *v = json_object_get(props, required[i]);
    if (!v || json_is_null(v)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property 'properties/%s' is required.", required[i]);
      return false;
    }
  }
  *name = json_string_value(json_object_get(props, "documentName"));
  *type = json_string_value(json_object_get(props, "contentType"));
  *size = json_integer_value(json_object_get(props, "size"));
  if (!**type) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'properties/contentType' must not be empty.");
    return false;
  }
  uint64_t max = APP(req)->cfg->max_document_size;
  if (*size < 1) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'properties/size' must be at least 1 byte, not %lld.",
                      (long long)*size);
    return false;
  }
  if ((uint64_t)*size > max) {
    graph_reply_error(req, res, 413, "invalidRequest", "maxFileSizeExceeded",
                      "Property 'properties/size' is %lld bytes; documents may be at most %llu "
                      "bytes.", (long long)*size, (unsigned long long)max);
    return false;
  }
  return true;
}

/* POST .../jobs/{j}/documents/{d}/createUploadSession */
typedef struct {
  http_request_t   *req;
  http_response_t  *res;
  graph_job_ctx_t  *ctx;
  store_document_t *doc;
  json_t           *body;
  const char       *name, *type;
  int64_t           size;
  int               step; /* out: 0 nothing resolved, 1 job and document, 2 all checked */
} session_check_arg_t;

/* The reads and checks of createUploadSession before it writes: the job, its document, the
 * body, the printer's content types (see document_create_upload_session). */
static void session_check(void *arg) {
  session_check_arg_t *a = arg;
  if (!resolve_document(a->req, a->res, OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, a->ctx, a->doc))
    return;
  a->step = 1;
  if (!parse_upload_properties(a->req, a->res, &a->body, &a->name, &a->type, &a->size)) return;
  if (!content_type_accepted(a->req, a->res, a->ctx, a->type)) return;
  a->step = 2;
}

/* The session's write and its 200 for n (its job, document, body and phases filled in; the
 * rest is filled here). With direct (n names what the store checks in place of the reads before
 * it: see session_direct) any other outcome than 200 replies nothing, and gives the blob back,
 * for the full path to answer; without, it replies the failure as before. Returns true after
 * replying. */
static bool session_write(http_request_t *req, http_response_t *res,
                          store_upload_session_new_t *n, bool direct) {
  app_t *app = APP(req);
  char id[ID_GUID_LEN + 1], key[BLOB_KEY_LEN + 1], secret[DOCUMENT_SECRET_LEN], hash[65];
  id_guid_ordered(id);
  blob_key_new(key);
  id_secret(secret, sizeof secret, DOCUMENT_SECRET_BYTES);
  documents_sha256_hex(secret, hash);
  int64_t size = n->size;
  /* a small document's bytes go to chunk rows the session's transaction creates */
  bool in_store = (uint64_t)size <= BLOB_INLINE_MAX;
  int brc = in_store ? 0 : blob_create(app->blobs, key, (uint64_t)size);
  if (brc != 0) {
    if (direct) return false;
    log_error("documents: cannot create a blob of %lld bytes: %s", (long long)size,
              strerror(-brc));
    if (brc == -ENOSPC || brc == -EFBIG || brc == -EDQUOT) {
      http_response_header(res, "Retry-After", "60");
      graph_reply_error(req, res, 507, "quotaLimitReached", NULL,
                        "The server has no room for a document of %lld bytes.", (long long)size);
    } else {
      graph_reply_store_error(req, res);
    }
    return true;
  }
  int64_t now = time_now_us();
  int64_t expires = now + (int64_t)app->cfg->upload_session_ttl * 1000000;
  n->id = id;
  n->secret_hash = hash;
  n->blob_key = key;
  n->expires_us = expires;
  n->now_us = now;
  n->blob_in_store = in_store;
  store_blob_keys_t drop;
  char *why = NULL;
  store_rc_t rc = store_upload_session_create(app->store, n, &drop, &why);
  if (rc != STORE_OK) {
    if (!in_store) blob_remove(app->blobs, key);
    if (direct) {
      free(why);
      return false;
    }
    if (rc == STORE_CONFLICT)
      graph_reply_error(req, res, 409, "notAllowed", NULL, "%s",
                        why ? why : "The job no longer accepts a document.");
    else if (rc == STORE_NOT_FOUND)
      graph_reply_error(req, res, 404, "itemNotFound", NULL, "The document '%s' was not found.",
                        n->document_id);
    else
      graph_reply_store_error(req, res);
    free(why);
    return true;
  }
  remove_blobs(app, &drop);
  store_blob_keys_clear(&drop);

  char *url = upload_url(req, id, secret);
  char exp[TIME_ISO_LEN], range[64];
  time_format_iso(expires, exp);
  snprintf(range, sizeof range, "0-%lld", (long long)(size - 1));
  /* Written straight as text; the tree gives the same bytes and takes over when a value
   * needs its rules (a public URL that is not valid UTF-8). */
  char *context = graph_context_url(req, "microsoft.graph.uploadSession");
  buf_t text = BUF_INIT;
  graph_jw_t w = {&text, true, true};
  buf_reserve(&text, 512);
  buf_putc(&text, '{');
  graph_jw_key(&w, "@odata.context");
  graph_jw_str(&w, context);
  graph_jw_key(&w, "uploadUrl");
  graph_jw_str(&w, url);
  graph_jw_key(&w, "expirationDateTime");
  graph_jw_str(&w, exp);
  graph_jw_key(&w, "nextExpectedRanges");
  buf_putc(&text, '[');
  graph_jw_str(&w, range);
  buf_puts(&text, "]}");
  if (!graph_reply_json_written(req, res, 200, w.ok, &text)) {
    json_t *o = json_object();
    json_object_set_new(o, "@odata.context", json_string(context));
    json_object_set_new(o, "uploadUrl", json_string(url));
    json_object_set_new(o, "expirationDateTime", json_string(exp));
    json_t *ranges = json_array();
    json_array_append_new(ranges, json_string(range));
    json_object_set_new(o, "nextExpectedRanges", ranges);
    graph_reply_json(req, res, 200, o);
  }
  free(context);
  free(url);
  return true;
}

/* createUploadSession without the read transaction before its write (the share, the job, its
 * document, the printer), for a caller under the usual rule (not the seed rule) with a good
 * body: the store checks in its transaction that the job is on the path's printer or the
 * share's, the caller's own where the own-jobs rule limits it, that the document is the job's
 * and that the printer lists the content type. Any other outcome than 200 (the OXPS
 * conversion too) is answered by the full path, which reads everything first as before, so
 * every answer and its order (the share's or the job's 404, the document's 404, the body's 400
 * or 413, the content type's 400, then 409) stay the same. Returns true after replying 200;
 * false with nothing replied and nothing changed. */
static bool session_direct(http_request_t *req, http_response_t *res, const graph_job_ctx_t *ctx) {
  const char *owner;
  if (ctx->decision.seed_rule || !graph_job_owner_rule(ctx, &owner)) return false;
  int64_t job_id = store_job_id_parse(http_request_param(req, 1));
  const char *doc_id = http_request_param(req, 2);
  if (job_id <= 0 || !doc_id) return false;
  json_t *body = NULL;
  const char *name, *type;
  int64_t size;
  bool done = false;
  if (parse_upload_properties(req, res, &body, &name, &type, &size)) {
    store_upload_session_new_t n = {
        .tenant = ctx->caller->tenant,
        .job_id = job_id,
        .document_id = doc_id,
        .document_name = name,
        .content_type = type,
        .size = size,
        .created_by_id = ctx->caller->user_id ? ctx->caller->user_id : ctx->caller->app_id,
        .allowed_phases = 1u << JOB_CREATED,
        .printer_id = ctx->via_share ? NULL : http_request_param(req, 0),
        .share_id = ctx->via_share ? http_request_param(req, 0) : NULL,
        .owner = owner,
        .check_content_type = true,
    };
    done = session_write(req, res, &n, true);
  } else {
    http_response_clear(res);
  }
  json_decref(body);
  return done;
}

static void document_create_upload_session(http_request_t *req, http_response_t *res) {
  if (graph_job_direct(req, res, OP_PRINTER_JOB_DOCUMENT_UPLOAD_SESSION, session_direct)) return;
  graph_job_ctx_t ctx = {0};
  store_document_t doc;
  /* the share or printer, the job, its document and the printer in one read transaction */
  session_check_arg_t chk = {.req = req, .res = res, .ctx = &ctx, .doc = &doc};
  store_read_together(APP(req)->store, session_check, &chk);
  if (chk.step == 0) return;
  if (chk.step < 2) goto out;

  /* Delegated callers upload before start; an application replaces the document of a job its
   * own print task holds. */
  unsigned phases = 1u << JOB_CREATED;
  if (ctx.decision.seed_rule) {
    /* the seed rule (§5.3): how a pull-printing app replaces a held job's document */
    if (!graph_job_seed_rule_check(req, res, &ctx)) goto out;
    phases = 1u << JOB_HELD;
  }
  store_upload_session_new_t n = {
      .tenant = ctx.caller->tenant,
      .job_id = ctx.job.id,
      .document_id = doc.id,
      .document_name = chk.name,
      .content_type = chk.type,
      .size = chk.size,
      .created_by_id = ctx.caller->user_id ? ctx.caller->user_id : ctx.caller->app_id,
      .allowed_phases = phases,
  };
  session_write(req, res, &n, false);
out:
  json_decref(chk.body);
  store_document_clear(&doc);
  graph_job_ctx_clear(&ctx);
}

/* ---- D4: GET .../documents/{d}/$value -------------------------------------------------------- */

/* 302 to a short-lived, pre-authorized download URL (no bearer token needed there). */
static void document_value(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  store_document_t doc;
  if (!resolve_document(req, res, OP_PRINTER_JOB_DOCUMENT_DOWNLOAD, &ctx, &doc)) return;
  if (!doc.uploaded_us || !doc.blob_key) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "The document '%s' has no content yet: its upload has not completed.",
                      doc.id);
  } else {
    char *token = documents_download_token_new(APP(req)->store, ctx.caller->tenant, ctx.job.id,
                                               doc.id);
    if (!token) {
      graph_reply_store_error(req, res);
      store_document_clear(&doc);
      return;
    }
    buf_t b = BUF_INIT;
    buf_printf(&b, "%s/download/%s", server_public_url(req->server), token);
    http_response_header(res, "Location", b.data);
    http_response_header(res, "Cache-Control", "no-store");
    http_response_empty(res, 302);
    buf_free(&b);
    free(token);
  }
  store_document_clear(&doc);
  graph_job_ctx_clear(&ctx);
}

/* ---- routes ---------------------------------------------------------------------------------- */

static route_t ROUTES[] = {
    GRAPH_JOB_ROUTES("GET", "/{id}/documents", documents_list, ROUTE_GRAPH, ".documents.list"),
    GRAPH_JOB_ROUTES("GET", "/{id}/documents/{id}", document_get, ROUTE_GRAPH, ".documents.get"),
    GRAPH_JOB_ROUTES("POST", "/{id}/documents/{id}/createUploadSession",
                     document_create_upload_session, ROUTE_GRAPH | ROUTE_JSON_BODY,
                     ".documents.createUploadSession"),
    GRAPH_JOB_ROUTES("GET", "/{id}/documents/{id}/$value", document_value, ROUTE_GRAPH,
                     ".documents.value"),
    /* the upload and download URLs: no version prefix, no bearer token */
    ROUTE_STREAMED("PUT", "/upload/{id}", documents_upload_put, documents_upload_chunk, 0,
                   "upload.put"),
    ROUTE("GET", "/upload/{id}", documents_upload_get, 0, "upload.get"),
    ROUTE("DELETE", "/upload/{id}", documents_upload_delete, 0, "upload.delete"),
    ROUTE("GET", "/download/{id}", documents_download_get, 0, "download.get"),
};

/* Registers the documents, upload and download routes; see graph/documents.h. */
void graph_documents_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }

/* ---- the sweeper ----------------------------------------------------------------------------- */

/* Expired upload sessions go, with their bytes. */
static void sweep_sessions(app_t *app, int64_t now) {
  for (;;) {
    store_blob_keys_t drop;
    int n = 0;
    if (store_upload_sessions_expire(app->store, now, SWEEP_BATCH, &drop, &n) != STORE_OK) return;
    remove_blobs(app, &drop);
    store_blob_keys_clear(&drop);
    if (n > 0) log_info("documents: %d expired upload session(s) removed", n);
    if (n < SWEEP_BATCH) return;
  }
}

typedef struct {
  int64_t before;
  char  **keys;
  size_t  n;
} gc_arg_t;

static int gc_collect(const char *key, int64_t mtime_us, void *arg) {
  gc_arg_t *a = arg;
  if (mtime_us >= a->before) return 0;
  a->keys = xrealloc(a->keys, (a->n + 1) * sizeof *a->keys);
  a->keys[a->n++] = xstrdup(key);
  return a->n >= 10000;
}

/* Bytes no document or session names any more (replaced documents, jobs removed with their
 * printer or tenant, crashes between writing and recording) go once they are old enough that
 * no request can still be about to record them. */
static void sweep_unreferenced(app_t *app, int64_t now) {
  gc_arg_t a = {.before = now - SWEEP_GC_GRACE_US};
  blob_walk(app->blobs, gc_collect, &a);
  size_t removed = 0;
  for (size_t i = 0; i < a.n; i++) {
    bool referenced = true;
    if (store_blob_referenced(app->store, a.keys[i], &referenced) == STORE_OK && !referenced &&
        blob_remove(app->blobs, a.keys[i]) == 0)
      removed++;
    free(a.keys[i]);
  }
  free(a.keys);
  if (removed) log_info("documents: %zu unreferenced document blob(s) removed", removed);
}

/* Deletes the expired download credentials. */
static void sweep_downloads(app_t *app, int64_t now) {
  if (store_download_tokens_expire(app->store, now, NULL) != STORE_OK)
    log_warn("documents: deleting expired download URLs failed");
}

/* See documents.h. */
void graph_documents_sweep_now(app_t *app) {
  int64_t now = time_now_us();
  sweep_sessions(app, now);
  sweep_downloads(app, now);
}

/* Drops the activity window rows (job creation and upload volume, store/limits.h) older than
 * the longest window. */
static void limits_prune(app_t *app, int64_t now) {
  unsigned longest = app->cfg->job_limit_window > app->cfg->upload_volume_window
                         ? app->cfg->job_limit_window : app->cfg->upload_volume_window;
  if (store_limits_prune(app->store, now - (int64_t)longest * 1000000 - 1, NULL) != STORE_OK)
    log_warn("documents: pruning the activity windows failed");
}

static void *sweep_main(void *arg) {
  app_t *app = arg;
  graph_documents_t *d = app->documents;
  /* half the session lifetime, between 1 s and 60 s */
  int64_t period = (int64_t)app->cfg->upload_session_ttl * 1000000 / 2;
  if (period > 60 * 1000000) period = 60 * 1000000;
  if (period < 1000000) period = 1000000;
  pthread_mutex_lock(&d->sweep_mu);
  while (!d->sweep_stop) {
    pthread_mutex_unlock(&d->sweep_mu);
    int64_t now = time_now_us();
    sweep_sessions(app, now);
    sweep_downloads(app, now);
    limits_prune(app, now);
    if (now - d->last_gc_us >= SWEEP_GC_INTERVAL_US) {
      sweep_unreferenced(app, now);
      d->last_gc_us = now;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (period % 1000000) * 1000;
    ts.tv_sec += (time_t)(period / 1000000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&d->sweep_mu);
    while (!d->sweep_stop && pthread_cond_timedwait(&d->sweep_cv, &d->sweep_mu, &ts) == 0) {
    }
  }
  pthread_mutex_unlock(&d->sweep_mu);
  return NULL;
}

/* Releases d's parts (the sweeper is not running). */
static void documents_state_free(graph_documents_t *d) {
  if (!d) return;
  documents_inflight_free(d);
  pthread_cond_destroy(&d->sweep_cv);
  pthread_mutex_destroy(&d->sweep_mu);
  free(d);
}

/* Opens the blob store and starts the sweeper; see graph/documents.h. */
int graph_documents_start(app_t *app, char **err) {
  *err = NULL;
  app->blobs = blob_store_open(app->store, app->cfg->data_dir, err);
  if (!app->blobs) return -1;
  graph_documents_t *d = xcalloc(1, sizeof *d);
  documents_inflight_init(d);
  pthread_mutex_init(&d->sweep_mu, NULL);
  time_cond_init_monotonic(&d->sweep_cv);
  app->documents = d;
  if (pthread_create(&d->sweep_thread, NULL, sweep_main, app) != 0) {
    *err = xstrdup("cannot start the upload-session sweeper thread");
    app->documents = NULL;
    documents_state_free(d);
    blob_store_free(app->blobs);
    app->blobs = NULL;
    return -1;
  }
  return 0;
}

/* Stops the sweeper and closes the blob store; see graph/documents.h. */
void graph_documents_stop(app_t *app) {
  graph_documents_t *d = app->documents;
  if (d) {
    pthread_mutex_lock(&d->sweep_mu);
    d->sweep_stop = true;
    pthread_cond_signal(&d->sweep_cv);
    pthread_mutex_unlock(&d->sweep_mu);
    pthread_join(d->sweep_thread, NULL);
    app->documents = NULL;
    documents_state_free(d);
  }
  blob_store_free(app->blobs);
  app->blobs = NULL;
}
