/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Document bytes and upload sessions below the HTTP layer:
 *   - blob/: the file backend (sparse create, concurrent pwrite at offsets, pread, sync,
 *     SHA-256 read back, fd for sendfile, copy, remove, walk) and key validation;
 *   - store/documents.c on SQLite: createUploadSession (declared values, phase rule, replacing
 *     a session and an uploaded document), fragments (out of order, overlap, completion left to
 *     store_upload_complete), concurrent fragments of one session from many threads, completion
 *     (document, SHA-256, session gone, uploadPending cleared), expiry, blob references.
 */
#include "blob/blob.h"
#include "core/job.h"
#include "core/ranges.h"
#include "store/db.h"
#include "store/documents.h"
#include "store/jobs.h"
#include "store/shares.h"
#include "store/store-private.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static blob_store_t *open_blobs(void) {
  char dir[300], *err = NULL;
  snprintf(dir, sizeof dir, "%s/blobs", test_store_dir());
  blob_store_t *bs = blob_store_open_files(dir, &err);
  cr_assert_not_null(bs, "%s", err ? err : "");
  return bs;
}

static void hex_sha256(const void *data, size_t len, char out[65]) {
  unsigned char h[32];
  unsigned int n = 0;
  EVP_Digest(data, len, h, &n, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* ---- blob ------------------------------------------------------------------------------------ */

Test(blob, keys_are_hex_and_never_paths, .init = test_store_setup, .fini = test_store_teardown) {
  char k[BLOB_KEY_LEN + 1];
  blob_key_new(k);
  cr_assert(blob_key_valid(k));
  cr_assert_eq(strlen(k), BLOB_KEY_LEN);
  char k2[BLOB_KEY_LEN + 1];
  blob_key_new(k2);
  cr_assert_str_neq(k, k2);
  static const char *bad[] = {NULL, "", "../../etc/passwd", "ABCDEF0123456789ABCDEF0123456789",
                              "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
                              "0123456789abcdef/123456789abcdef", "0123456789abcdeg0123456789abcdef"};
  blob_store_t *bs = open_blobs();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert(!blob_key_valid(bad[i]), "%s", bad[i] ? bad[i] : "NULL");
    if (bad[i]) cr_assert_eq(blob_create(bs, bad[i], 1), -EINVAL);
  }
  blob_store_free(bs);
}

typedef struct {
  blob_t        *b;
  const uint8_t *data;
  uint64_t       first, len;
} writer_arg_t;

static void *writer(void *arg) {
  writer_arg_t *w = arg;
  /* in 4 KiB steps, as the network hands them over */
  for (uint64_t off = 0; off < w->len; off += 4096) {
    size_t n = w->len - off < 4096 ? (size_t)(w->len - off) : 4096;
    if (blob_pwrite(w->b, w->first + off, w->data + w->first + off, n) != 0) return (void *)1;
  }
  return NULL;
}

Test(blob, sparse_create_parallel_pwrite_sha_fd_copy_remove_walk, .init = test_store_setup,
     .fini = test_store_teardown) {
  blob_store_t *bs = open_blobs();
  const uint64_t size = 3 * 1024 * 1024 + 17;
  uint8_t *data = malloc(size);
  for (uint64_t i = 0; i < size; i++) data[i] = (uint8_t)(i * 2654435761u >> 13);
  char key[BLOB_KEY_LEN + 1];
  blob_key_new(key);
  cr_assert_eq(blob_create(bs, key, size), 0);
  cr_assert_eq(blob_create(bs, key, size), -EEXIST);

  /* sparse: the file has its size but (almost) nothing allocated */
  char path[400];
  snprintf(path, sizeof path, "%s/blobs/%s", test_store_dir(), key);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq((uint64_t)st.st_size, size);
  cr_assert_lt((uint64_t)st.st_blocks * 512, size / 2, "created sparse");

  /* 8 threads write 8 slices through one handle, out of order */
  blob_t *b = NULL;
  uint64_t got = 0;
  cr_assert_eq(blob_open(bs, key, true, &b, &got), 0);
  cr_assert_eq(got, size);
  pthread_t t[8];
  writer_arg_t w[8];
  uint64_t slice = size / 8 + 1;
  for (int i = 0; i < 8; i++) {
    int k = 7 - i;
    uint64_t first = (uint64_t)k * slice;
    w[i] = (writer_arg_t){b, data, first, first + slice > size ? size - first : slice};
    pthread_create(&t[i], NULL, writer, &w[i]);
  }
  for (int i = 0; i < 8; i++) {
    void *rv;
    pthread_join(t[i], &rv);
    cr_assert_null(rv);
  }
  cr_assert_eq(blob_sync(b), 0);
  blob_close(b);

  char want[65], have[BLOB_SHA256_HEX + 1];
  hex_sha256(data, size, want);
  cr_assert_eq(blob_sha256(bs, key, size, have), 0);
  cr_assert_str_eq(have, want);
  cr_assert_eq(blob_sha256(bs, key, size + 1, have), -EIO, "shorter than asked");

  /* pread and the sendfile descriptor */
  cr_assert_eq(blob_open(bs, key, false, &b, NULL), 0);
  uint8_t buf[100];
  cr_assert_eq(blob_pread(b, size - 50, buf, sizeof buf), 50);
  cr_assert_eq(memcmp(buf, data + size - 50, 50), 0);
  cr_assert_eq(blob_pread(b, size, buf, sizeof buf), 0);
  blob_close(b);
  uint64_t fsz = 0;
  int fd = blob_open_fd(bs, key, &fsz);
  cr_assert_geq(fd, 0);
  cr_assert_eq(fsz, size);
  cr_assert_eq(pread(fd, buf, 10, 1000), 10);
  cr_assert_eq(memcmp(buf, data + 1000, 10), 0);
  close(fd);

  /* copy */
  char copy[BLOB_KEY_LEN + 1];
  blob_key_new(copy);
  cr_assert_eq(blob_copy(bs, key, copy), 0);
  cr_assert_eq(blob_sha256(bs, copy, size, have), 0);
  cr_assert_str_eq(have, want);
  cr_assert_eq(blob_copy(bs, key, copy), -EEXIST);

  /* remove, walk */
  cr_assert_eq(blob_remove(bs, key), 0);
  cr_assert_eq(blob_remove(bs, key), 0, "removing twice is fine");
  cr_assert_eq(blob_open_fd(bs, key, &fsz), -ENOENT);
  cr_assert_eq(blob_open(bs, key, false, &b, NULL), -ENOENT);
  cr_assert_null(b);
  free(data);
  blob_store_free(bs);
}

static int count_walk(const char *key, int64_t mtime_us, void *arg) {
  (void)key;
  cr_assert_gt(mtime_us, 0);
  (*(int *)arg)++;
  return 0;
}

Test(blob, walk_sees_only_blobs, .init = test_store_setup, .fini = test_store_teardown) {
  blob_store_t *bs = open_blobs();
  for (int i = 0; i < 3; i++) {
    char k[BLOB_KEY_LEN + 1];
    blob_key_new(k);
    cr_assert_eq(blob_create(bs, k, 10), 0);
  }
  char other[400];
  snprintf(other, sizeof other, "%s/blobs/not-a-blob", test_store_dir());
  int fd = open(other, O_CREAT | O_WRONLY, 0600);
  close(fd);
  int n = 0;
  cr_assert_eq(blob_walk(bs, count_walk, &n), 0);
  cr_assert_eq(n, 3);
  blob_store_free(bs);
}

/* A blob of len pseudo-random bytes; its hex SHA-256 into sha. */
static void make_blob(blob_store_t *bs, char key[BLOB_KEY_LEN + 1], unsigned char *data,
                      size_t len, char sha[65]) {
  for (size_t i = 0; i < len; i++) data[i] = (unsigned char)(i * 2654435761u >> 13);
  blob_key_new(key);
  cr_assert_eq(blob_create(bs, key, len), 0);
  blob_t *b = NULL;
  cr_assert_eq(blob_open(bs, key, true, &b, NULL), 0);
  cr_assert_eq(blob_pwrite(b, 0, data, len), 0);
  blob_close(b);
  hex_sha256(data, len, sha);
}

/* Flips the byte at off of blob key. */
static void flip_byte(blob_store_t *bs, const char *key, uint64_t off) {
  blob_t *b = NULL;
  unsigned char c = 0;
  cr_assert_eq(blob_open(bs, key, true, &b, NULL), 0);
  cr_assert_eq(blob_pread(b, off, &c, 1), 1);
  c ^= 0x5a;
  cr_assert_eq(blob_pwrite(b, off, &c, 1), 0);
  blob_close(b);
}

Test(blob, serve_checks_sha256_before_or_while_sending, .init = test_store_setup,
     .fini = test_store_teardown) {
  blob_store_t *bs = open_blobs();
  uint64_t missing0 = 0, corrupt0 = 0, missing = 0, corrupt = 0;
  blob_integrity_counts(bs, &missing0, &corrupt0);

  /* small: checked before, a descriptor when intact; -EBADMSG once damaged, also for a range */
  char k[BLOB_KEY_LEN + 1], sha[65];
  unsigned char small[1000];
  make_blob(bs, k, small, sizeof small, sha);
  blob_serve_t sv;
  cr_assert_eq(blob_serve_open(bs, "doc-small", k, sizeof small, sha, 0, sizeof small, &sv), 0);
  cr_assert_geq(sv.fd, 0);
  close(sv.fd);
  flip_byte(bs, k, 10);
  cr_assert_eq(blob_serve_open(bs, "doc-small", k, sizeof small, sha, 0, sizeof small, &sv),
               -EBADMSG);
  cr_assert_eq(blob_serve_open(bs, "doc-small", k, sizeof small, sha, 500, 10, &sv), -EBADMSG);
  cr_assert_eq(blob_verify(bs, k, sizeof small, sha, NULL), -EBADMSG);

  /* missing and short */
  cr_assert_eq(blob_remove(bs, k), 0);
  cr_assert_eq(blob_serve_open(bs, "doc-small", k, sizeof small, sha, 0, sizeof small, &sv),
               -ENOENT);
  char k2[BLOB_KEY_LEN + 1], sha2[65];
  make_blob(bs, k2, small, sizeof small, sha2);
  cr_assert_eq(blob_serve_open(bs, "doc-short", k2, sizeof small + 1, NULL, 0, sizeof small + 1,
                               &sv), -ENOENT);

  /* large, whole: streamed and hashed; intact it reads to the end, damaged the read that would
   * carry the last bytes fails and nothing of it is handed out */
  size_t big_len = BLOB_VERIFY_AHEAD + 300000;
  unsigned char *big = malloc(big_len), *buf = malloc(65536);
  char kb[BLOB_KEY_LEN + 1], shab[65];
  make_blob(bs, kb, big, big_len, shab);
  for (int damaged = 0; damaged < 2; damaged++) {
    if (damaged) flip_byte(bs, kb, big_len - 5);
    cr_assert_eq(blob_serve_open(bs, "doc-big", kb, big_len, shab, 0, big_len, &sv), 0);
    cr_assert_lt(sv.fd, 0);
    cr_assert_not_null(sv.read);
    uint64_t off = 0;
    ssize_t n = 0;
    while (off < big_len && (n = sv.read(sv.arg, off, (char *)buf, 65536)) > 0) {
      /* what is handed out is the stored bytes, and the damaged byte is in the last read */
      cr_assert_eq(memcmp(buf, big + off, (size_t)n), 0);
      off += (uint64_t)n;
    }
    sv.free(sv.arg);
    if (!damaged) {
      cr_assert_eq(off, big_len, "an intact document streams whole");
    } else {
      cr_assert_eq(n, -EBADMSG);
      cr_assert_lt(off, big_len, "the last bytes of a damaged document are never handed out");
    }
  }
  /* a range of a large document is checked whole before sending */
  cr_assert_eq(blob_serve_open(bs, "doc-big", kb, big_len, shab, 100, 100, &sv), -EBADMSG);

  blob_integrity_counts(bs, &missing, &corrupt);
  cr_assert_eq(missing - missing0, 2);
  cr_assert_eq(corrupt - corrupt0, 4);
  free(big);
  free(buf);
  blob_store_free(bs);
}

/* ---- store ----------------------------------------------------------------------------------- */

#define TENANT "11111111-1111-4111-8111-111111111111"
#define PRINTER "22222222-2222-4222-8222-222222222222"

/* A store with a tenant, a printer and one job (its document in *doc). */
static store_t *docs_fixture(store_job_t *job, store_document_t *doc) {
  store_t *st = test_store_open(4);
  cr_assert_eq(store_tenant_add(st, TENANT, "T", TENANT_ACTIVE), STORE_OK);
  test_db_exec(st->db,
               "INSERT INTO printers (id, tenant_id, display_name, has_physical_device,"
               " is_accepting_jobs, registered_us) VALUES (?, ?, 'P', 0, 1, 1)",
               PRINTER, TENANT, NULL);
  store_job_new_t n = {.tenant = TENANT, .printer_id = PRINTER, .configuration = "{}",
                       .created_by_id = "user-1"};
  cr_assert_eq(store_job_create(st, &n, job, doc), STORE_OK);
  return st;
}

static store_upload_session_new_t session_new(const store_job_t *job, const store_document_t *doc,
                                              const char *id, const char *key, int64_t size) {
  int64_t now = time_now_us();
  return (store_upload_session_new_t){
      .tenant = TENANT, .job_id = job->id, .document_id = doc->id, .id = id,
      .secret_hash = "00", .document_name = "a.pdf", .content_type = "application/pdf",
      .size = size, .blob_key = key, .expires_us = now + 3600000000LL, .now_us = now,
      .created_by_id = "user-1", .allowed_phases = 1u << JOB_CREATED};
}

#define S1 "aaaaaaaa-0000-4000-8000-000000000001"
#define S2 "aaaaaaaa-0000-4000-8000-000000000002"
#define K1 "00000000000000000000000000000001"
#define K2 "00000000000000000000000000000002"

Test(documents_store, session_fragments_and_completion, .init = test_store_setup,
     .fini = test_store_teardown) {
  store_job_t job;
  store_document_t doc;
  store_t *st = docs_fixture(&job, &doc);
  store_upload_session_new_t n = session_new(&job, &doc, S1, K1, 100);
  store_blob_keys_t drop;
  char *why = NULL;
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  cr_assert_eq(drop.n, 0);

  store_document_t d;
  cr_assert_eq(store_document_get(st, TENANT, job.id, doc.id, &d), STORE_OK);
  cr_assert_str_eq(d.display_name, "a.pdf");
  cr_assert_str_eq(d.content_type, "application/pdf");
  cr_assert_eq(d.size, 100);
  cr_assert_eq(d.uploaded_us, 0);
  store_document_clear(&d);
  cr_assert_eq(store_document_get(st, "other-tenant", job.id, doc.id, &d), STORE_NOT_FOUND);

  store_fragment_rc_t out;
  char *received = NULL;
  int64_t exp = 0;
  int64_t now = time_now_us();
  cr_assert_eq(store_upload_fragment(st, S1, 50, 99, now, now + 7200000000LL, &out, &received,
                                     &exp), STORE_OK);
  cr_assert_eq(out, STORE_FRAGMENT_RECORDED);
  cr_assert_str_eq(received, "[[50,99]]");
  cr_assert_eq(exp, now + 7200000000LL, "each fragment pushes the expiry");
  free(received);
  cr_assert_eq(store_upload_fragment(st, S1, 40, 60, now, 0, &out, &received, NULL), STORE_OK);
  cr_assert_eq(out, STORE_FRAGMENT_OVERLAP);
  free(received);
  cr_assert_eq(store_upload_fragment(st, S1, 0, 49, now, 0, &out, NULL, NULL), STORE_OK);
  cr_assert_eq(out, STORE_FRAGMENT_COMPLETES);
  /* a COMPLETES outcome records nothing */
  store_upload_session_t s;
  cr_assert_eq(store_upload_session_get(st, S1, now, &s), STORE_OK);
  cr_assert_str_eq(s.received, "[[50,99]]");
  cr_assert_eq(s.job_id, job.id);
  cr_assert_str_eq(s.blob_key, K1);
  store_upload_session_clear(&s);

  bool ref = false;
  cr_assert_eq(store_blob_referenced(st, K1, &ref), STORE_OK);
  cr_assert(ref);
  store_fragment_rc_t oc = STORE_FRAGMENT_COMPLETES;
  cr_assert_eq(store_upload_complete(st, S1, 10, 20, NULL, "ab", now, NULL, &d, &drop, &why, &oc),
               STORE_CONFLICT, "a piece that does not complete the set");
  cr_assert_eq(oc, STORE_FRAGMENT_RECORDED, "the outcome says bytes are still missing");
  cr_assert_not_null(why);
  free(why);
  why = NULL;
  cr_assert_eq(store_upload_complete(st, S1, 0, 60, NULL, "ab", now, NULL, &d, &drop, &why, &oc),
               STORE_CONFLICT, "a piece overlapping the received bytes");
  cr_assert_eq(oc, STORE_FRAGMENT_OVERLAP);
  free(why);
  why = NULL;
  cr_assert_eq(store_upload_complete(st, S1, 0, 49, NULL, "cafe", now, NULL, &d, &drop, &why, &oc), STORE_OK);
  cr_assert_eq(oc, STORE_FRAGMENT_COMPLETES);
  cr_assert_str_eq(d.sha256, "cafe");
  cr_assert_str_eq(d.blob_key, K1);
  cr_assert_eq(d.uploaded_us, now);
  cr_assert_eq(d.size, 100);
  cr_assert_eq(drop.n, 0);
  { /* the answer is the row as stored */
    store_document_t g;
    cr_assert_eq(store_document_get(st, TENANT, job.id, doc.id, &g), STORE_OK);
    cr_assert_str_eq(d.id, g.id);
    cr_assert_str_eq(d.tenant, g.tenant);
    cr_assert_eq(d.job_id, g.job_id);
    cr_assert_str_eq(d.display_name, g.display_name);
    cr_assert_str_eq(d.content_type, g.content_type);
    cr_assert_eq(d.size, g.size);
    cr_assert_eq(d.uploaded_us, g.uploaded_us);
    cr_assert_eq(d.downloaded_us, g.downloaded_us);
    cr_assert_str_eq(d.sha256, g.sha256);
    cr_assert_str_eq(d.blob_key, g.blob_key);
    store_document_clear(&g);
  }
  store_document_clear(&d);
  cr_assert_eq(store_upload_session_get(st, S1, now, &s), STORE_NOT_FOUND);
  cr_assert_eq(test_db_count(st->db, "SELECT details FROM jobs"), 0, "uploadPending is cleared");
  cr_assert_eq(test_db_count(st->db, "SELECT phase FROM jobs"), JOB_CREATED);
  cr_assert_eq(store_blob_referenced(st, K1, &ref), STORE_OK);
  cr_assert(ref, "the document holds the blob now");

  /* a new session drops the uploaded bytes and puts uploadPending back */
  n = session_new(&job, &doc, S2, K2, 10);
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  cr_assert_eq(drop.n, 1);
  cr_assert_str_eq(drop.v[0], K1);
  store_blob_keys_clear(&drop);
  cr_assert_eq(test_db_count(st->db, "SELECT details FROM jobs"), JOB_DETAIL_UPLOAD_PENDING);
  cr_assert_eq(store_document_get(st, TENANT, job.id, doc.id, &d), STORE_OK);
  cr_assert_eq(d.uploaded_us, 0);
  cr_assert_null(d.blob_key);
  store_document_clear(&d);

  /* downloadedDateTime */
  cr_assert_eq(store_document_set_downloaded(st, TENANT, doc.id, 42), STORE_OK);
  cr_assert_eq(store_document_set_downloaded(st, "other-tenant", doc.id, 42), STORE_NOT_FOUND);

  store_job_clear(&job);
  store_document_clear(&doc);
  store_close(st);
}

/* A document that arrives whole (the IPP share endpoint) counts its bytes in the uploader's
 * volume window in the transaction that stores it: a full window refuses it with nothing
 * written (session, document and window as before), a window with room takes the bytes. */
Test(documents_store, completion_takes_the_upload_volume_in_its_transaction,
     .init = test_store_setup, .fini = test_store_teardown) {
  store_job_t job;
  store_document_t doc;
  store_t *st = docs_fixture(&job, &doc);
  store_upload_session_new_t n = session_new(&job, &doc, S1, K1, 100);
  store_blob_keys_t drop;
  char *why = NULL;
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  int64_t now = time_now_us();
  store_limit_t v;
  store_limits_t l;
  store_upload_limit_init(&v, &l, TENANT, "user-1", 1000, 600, 950);
  l.now_us = now;
  cr_assert_eq(store_limits_take(st, &l), STORE_OK, "950 of user-1's 1000 bytes are taken");

  store_upload_limit_init(&v, &l, TENANT, "user-1", 1000, 600, 100);
  l.now_us = now;
  store_document_t d;
  store_fragment_rc_t oc;
  cr_assert_eq(store_upload_complete(st, S1, 0, 99, NULL, "cafe", now, &l, &d, &drop, &why, &oc),
               STORE_LIMITED);
  cr_assert_eq(l.refused, 0);
  cr_assert_gt(l.retry_us, 0, "the wait until the window has room");
  store_upload_session_t sess;
  cr_assert_eq(store_upload_session_get(st, S1, now, &sess), STORE_OK, "the session stays");
  store_upload_session_clear(&sess);
  cr_assert_eq(store_document_get(st, TENANT, job.id, doc.id, &d), STORE_OK);
  cr_assert_eq(d.uploaded_us, 0, "the document is not stored");
  store_document_clear(&d);
  const char *sum = "SELECT CAST(SUM(amount) AS BIGINT) FROM activity_windows";
  cr_assert_eq(test_db_count(st->db, sum), 950, "nothing counted");

  store_upload_limit_init(&v, &l, TENANT, "user-1", 1050, 600, 100);
  l.now_us = now;
  cr_assert_eq(store_upload_complete(st, S1, 0, 99, NULL, "cafe", now, &l, &d, &drop, &why, &oc),
               STORE_OK);
  cr_assert_eq(d.uploaded_us, now);
  store_document_clear(&d);
  store_blob_keys_clear(&drop);
  cr_assert_eq(test_db_count(st->db, sum), 1050, "the document's bytes are counted with it");
  store_job_clear(&job);
  store_document_clear(&doc);
  store_close(st);
}

Test(documents_store, replacing_a_session_and_phase_rule, .init = test_store_setup,
     .fini = test_store_teardown) {
  store_job_t job;
  store_document_t doc;
  store_t *st = docs_fixture(&job, &doc);
  store_blob_keys_t drop;
  char *why = NULL;
  store_upload_session_new_t n = session_new(&job, &doc, S1, K1, 100);
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  n = session_new(&job, &doc, S2, K2, 200);
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  cr_assert_eq(drop.n, 1, "the first session's blob is dropped");
  cr_assert_str_eq(drop.v[0], K1);
  store_blob_keys_clear(&drop);
  store_upload_session_t s;
  cr_assert_eq(store_upload_session_get(st, S1, time_now_us(), &s), STORE_NOT_FOUND);
  cr_assert_eq(store_upload_session_get(st, S2, time_now_us(), &s), STORE_OK);
  cr_assert_eq(s.size, 200);
  store_upload_session_clear(&s);

  /* the job must be in an allowed phase */
  n = session_new(&job, &doc, S1, K1, 100);
  n.allowed_phases = 1u << JOB_HELD;
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_CONFLICT);
  cr_assert_not_null(why);
  cr_assert(strstr(why, "not started"), "%s", why);
  free(why);
  why = NULL;
  /* a document of another job is not found */
  n = session_new(&job, &doc, S1, K1, 100);
  n.job_id = job.id + 1000;
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_NOT_FOUND);

  /* delete */
  char *key = NULL;
  cr_assert_eq(store_upload_session_delete(st, S2, time_now_us(), &key), STORE_OK);
  cr_assert_str_eq(key, K2);
  free(key);
  cr_assert_eq(store_upload_session_delete(st, S2, time_now_us(), &key), STORE_NOT_FOUND);
  cr_assert_null(key);

  store_job_clear(&job);
  store_document_clear(&doc);
  store_close(st);
}

/* The form without a read before it (printer_id, share_id, owner, check_content_type): each
 * check that fails is STORE_NOT_FOUND with nothing written; all of them passing, the session. */
Test(documents_store, session_checks_its_target, .init = test_store_setup,
     .fini = test_store_teardown) {
  store_job_t job;
  store_document_t doc;
  store_t *st = docs_fixture(&job, &doc);
#define PRINTER2 "33333333-3333-4333-8333-333333333333"
  test_db_exec(st->db,
               "INSERT INTO printers (id, tenant_id, display_name, has_physical_device,"
               " is_accepting_jobs, registered_us, capabilities) VALUES (?, ?, 'P2', 0, 1, 1,"
               " '{\"contentTypes\":[\"image/pwg-raster\"]}')",
               PRINTER2, TENANT, NULL);
  store_share_t share, share2;
  store_share_why_t swhy;
  cr_assert_eq(store_share_create(st, TENANT, PRINTER, "S", true, &share, &swhy), STORE_OK);
  cr_assert_eq(store_share_create(st, TENANT, PRINTER2, "S2", true, &share2, &swhy), STORE_OK);
  store_job_t job2;
  store_document_t doc2;
  store_job_new_t jn = {.tenant = TENANT, .printer_id = PRINTER2, .configuration = "{}",
                        .created_by_id = "user-1"};
  cr_assert_eq(store_job_create(st, &jn, &job2, &doc2), STORE_OK);
  store_blob_keys_t drop;
  char *why = NULL;
  const char *sessions = "SELECT COUNT(*) FROM upload_sessions";
  const char *named = "SELECT COUNT(*) FROM documents WHERE display_name = 'a.pdf'";

  store_upload_session_new_t n = session_new(&job, &doc, S1, K1, 100);
  n.printer_id = PRINTER2; /* the job is on PRINTER */
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_NOT_FOUND);
  n = session_new(&job, &doc, S1, K1, 100);
  n.share_id = share2.id; /* a share of another printer */
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_NOT_FOUND);
  n.share_id = "44444444-4444-4444-8444-444444444444"; /* no such share */
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_NOT_FOUND);
  n = session_new(&job, &doc, S1, K1, 100);
  n.owner = "user-2";
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_NOT_FOUND);
  n = session_new(&job, &doc, S1, K1, 100);
  n.check_content_type = true;
  n.content_type = "text/plain"; /* a printer that lists none takes PDF and OXPS */
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_NOT_FOUND);
  n = session_new(&job2, &doc2, S1, K1, 100);
  n.check_content_type = true; /* PRINTER2 lists image/pwg-raster only */
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_NOT_FOUND);
  cr_assert_eq(test_db_count(st->db, sessions), 0, "nothing written");
  cr_assert_eq(test_db_count(st->db, named), 0, "nothing written");

  n.content_type = "image/pwg-raster";
  n.share_id = share2.id;
  n.owner = "user-1";
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  n = session_new(&job, &doc, S2, K2, 100);
  n.printer_id = PRINTER;
  n.share_id = share.id;
  n.owner = "user-1";
  n.check_content_type = true;
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  cr_assert_eq(test_db_count(st->db, sessions), 2);
  cr_assert_eq(test_db_count(st->db, named), 2, "both documents took the declared name");
  store_blob_keys_clear(&drop);
  store_share_clear(&share);
  store_share_clear(&share2);
  store_job_clear(&job);
  store_document_clear(&doc);
  store_job_clear(&job2);
  store_document_clear(&doc2);
  store_close(st);
}

Test(documents_store, expiry, .init = test_store_setup, .fini = test_store_teardown) {
  store_job_t job;
  store_document_t doc;
  store_t *st = docs_fixture(&job, &doc);
  store_blob_keys_t drop;
  char *why = NULL;
  store_upload_session_new_t n = session_new(&job, &doc, S1, K1, 100);
  n.expires_us = time_now_us() + 1000000;
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  int64_t later = n.expires_us;
  store_upload_session_t s;
  cr_assert_eq(store_upload_session_get(st, S1, later - 1, &s), STORE_OK);
  store_upload_session_clear(&s);
  cr_assert_eq(store_upload_session_get(st, S1, later, &s), STORE_NOT_FOUND, "expired");
  store_fragment_rc_t out;
  cr_assert_eq(store_upload_fragment(st, S1, 0, 9, later, later + 1, &out, NULL, NULL),
               STORE_NOT_FOUND);
  int count = -1;
  cr_assert_eq(store_upload_sessions_expire(st, later - 1, 10, &drop, &count), STORE_OK);
  cr_assert_eq(count, 0);
  cr_assert_eq(store_upload_sessions_expire(st, later, 10, &drop, &count), STORE_OK);
  cr_assert_eq(count, 1);
  cr_assert_eq(drop.n, 1);
  cr_assert_str_eq(drop.v[0], K1);
  store_blob_keys_clear(&drop);
  bool ref = true;
  cr_assert_eq(store_blob_referenced(st, K1, &ref), STORE_OK);
  cr_assert(!ref);
  store_job_clear(&job);
  store_document_clear(&doc);
  store_close(st);
}

typedef struct {
  store_t *st;
  int      first_piece, npieces;
  int      completes;
  int      failures;
} frag_thread_t;

#define PIECE 100
#define NPIECES 400

static void *frag_thread(void *arg) {
  frag_thread_t *t = arg;
  for (int i = t->first_piece; i < NPIECES; i += t->npieces) {
    store_fragment_rc_t out;
    uint64_t a = (uint64_t)i * PIECE;
    int64_t now = time_now_us();
    if (store_upload_fragment(t->st, S1, a, a + PIECE - 1, now, now + 3600000000LL, &out, NULL,
                              NULL) != STORE_OK)
      t->failures++;
    else if (out == STORE_FRAGMENT_COMPLETES)
      t->completes++;
    else if (out != STORE_FRAGMENT_RECORDED)
      t->failures++;
  }
  return NULL;
}

Test(documents_store, concurrent_fragments_of_one_session_are_all_recorded, .init = test_store_setup,
     .fini = test_store_teardown) {
  store_job_t job;
  store_document_t doc;
  store_t *st = docs_fixture(&job, &doc);
  store_blob_keys_t drop;
  char *why = NULL;
  store_upload_session_new_t n = session_new(&job, &doc, S1, K1, PIECE * NPIECES);
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  enum { NT = 8 };
  pthread_t th[NT];
  frag_thread_t ft[NT];
  for (int i = 0; i < NT; i++) {
    ft[i] = (frag_thread_t){st, i, NT, 0, 0};
    pthread_create(&th[i], NULL, frag_thread, &ft[i]);
  }
  int completes = 0;
  for (int i = 0; i < NT; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(ft[i].failures, 0);
    completes += ft[i].completes;
  }
  /* every piece but the one that found the set otherwise complete is recorded */
  cr_assert_eq(completes, 1);
  store_upload_session_t s;
  cr_assert_eq(store_upload_session_get(st, S1, time_now_us(), &s), STORE_OK);
  range_set_t set;
  cr_assert(range_set_parse(s.received, &set));
  cr_assert_eq(range_set_bytes(&set), (uint64_t)PIECE * (NPIECES - 1));
  size_t nm = 0;
  char **missing = range_set_missing_strings(&set, (uint64_t)PIECE * NPIECES, &nm);
  cr_assert_eq(nm, 1);
  range_strings_free(missing, nm);
  range_set_clear(&set);
  store_upload_session_clear(&s);
  store_job_clear(&job);
  store_document_clear(&doc);
  store_close(st);
}

/* ---- blob backend in the database (PostgreSQL mode; runs on both stores) ----------------- */

typedef struct {
  blob_store_t  *bs;
  const char    *key;
  const uint8_t *data;
  uint64_t       first, len;
  int            rc;
} db_writer_arg_t;

/* Each thread its own handle, as each upload fragment request has; 4 KiB steps. */
static void *db_writer(void *arg) {
  db_writer_arg_t *w = arg;
  blob_t *b = NULL;
  w->rc = blob_open(w->bs, w->key, true, &b, NULL);
  if (w->rc) return NULL;
  for (uint64_t off = 0; off < w->len && !w->rc; off += 4096) {
    size_t n = w->len - off < 4096 ? (size_t)(w->len - off) : 4096;
    w->rc = blob_pwrite(b, w->first + off, w->data + w->first + off, n);
  }
  if (!w->rc) w->rc = blob_sync(b);
  blob_close(b);
  return NULL;
}

static int db_walk_cb(const char *key, int64_t mtime_us, void *arg) {
  (void)mtime_us;
  int *n = arg;
  if (blob_key_valid(key)) ++*n;
  return 0;
}

Test(blob_store, chunks_parallel_handles_sparse_stream_copy_remove, .init = test_store_setup,
     .fini = test_store_teardown, .timeout = 120) {
  store_t *st = test_store_open(4);
  blob_store_t *bs = blob_store_open_db(st);

  const uint64_t size = 3 * 1024 * 1024 + 17;
  uint8_t *data = malloc(size);
  for (uint64_t i = 0; i < size; i++) data[i] = (uint8_t)(i * 2654435761u >> 13);
  char key[BLOB_KEY_LEN + 1];
  blob_key_new(key);
  cr_assert_eq(blob_create(bs, key, size), 0);
  cr_assert_eq(blob_create(bs, key, size), -EEXIST);

  /* sparse: nothing written reads as zeros */
  blob_t *b = NULL;
  uint64_t got = 0;
  cr_assert_eq(blob_open(bs, key, false, &b, &got), 0);
  cr_assert_eq(got, size);
  uint8_t probe[64];
  cr_assert_eq(blob_pread(b, 2 * 1024 * 1024 + 5, probe, sizeof probe), (ssize_t)sizeof probe);
  for (size_t i = 0; i < sizeof probe; i++) cr_assert_eq(probe[i], 0);
  blob_close(b);

  /* three handles on three threads; slices end inside chunks, so neighbours merge into the
   * same chunk rows at once */
  pthread_t t[3];
  db_writer_arg_t w[3];
  uint64_t cuts[4] = {0, 1000000, 2500001, size};
  for (int i = 0; i < 3; i++) {
    w[i] = (db_writer_arg_t){bs, key, data, cuts[i], cuts[i + 1] - cuts[i], -1};
    cr_assert_eq(pthread_create(&t[i], NULL, db_writer, &w[i]), 0);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    cr_assert_eq(w[i].rc, 0, "writer %d: %d", i, w[i].rc);
  }

  /* read back in odd steps */
  cr_assert_eq(blob_open(bs, key, false, &b, NULL), 0);
  uint8_t *back = malloc(size);
  uint64_t off = 0;
  while (off < size) {
    ssize_t n = blob_pread(b, off, back + off, size - off < 300007 ? size - off : 300007);
    cr_assert_gt(n, 0, "pread at %llu: %zd", (unsigned long long)off, n);
    off += (uint64_t)n;
  }
  cr_assert_eq(blob_pread(b, size, back, 1), 0);
  cr_assert_eq(memcmp(back, data, size), 0);
  /* the streamed-response adapter */
  char buf[10];
  cr_assert_eq(blob_stream_read(b, size - 10, buf, sizeof buf), 10);
  cr_assert_eq(memcmp(buf, data + size - 10, 10), 0);
  blob_close(b);

  char want[65], sha[BLOB_SHA256_HEX + 1];
  hex_sha256(data, size, want);
  cr_assert_eq(blob_sha256(bs, key, size, sha), 0);
  cr_assert_str_eq(sha, want);

  /* a blob keeps its size; no descriptors */
  cr_assert_eq(blob_open(bs, key, true, &b, NULL), 0);
  cr_assert_eq(blob_pwrite(b, size - 1, "ab", 2), -EINVAL);
  blob_close(b);
  cr_assert_eq(blob_open_fd(bs, key, &got), -ENOTSUP);

  char copy[BLOB_KEY_LEN + 1];
  blob_key_new(copy);
  cr_assert_eq(blob_copy(bs, key, copy), 0);
  cr_assert_eq(blob_copy(bs, key, copy), -EEXIST);
  cr_assert_eq(blob_sha256(bs, copy, size, sha), 0);
  cr_assert_str_eq(sha, want);
  int n = 0;
  cr_assert_eq(blob_walk(bs, db_walk_cb, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(blob_remove(bs, key), 0);
  cr_assert_eq(blob_remove(bs, key), 0);
  cr_assert_eq(blob_open(bs, key, false, &b, NULL), -ENOENT);
  n = 0;
  cr_assert_eq(blob_walk(bs, db_walk_cb, &n), 0);
  cr_assert_eq(n, 1);

  free(back);
  free(data);
  blob_store_free(bs);
  store_close(st);
}

/* SQLite mode's blob store (blob_store_open): a small document of an upload session lives in
 * the store's chunk rows, written by the completing transaction; a key is looked up as a file
 * first, then as rows, for reading, copying, removing and walking. */
Test(documents_store, small_document_in_rows_through_the_tiered_blob_store,
     .init = test_store_setup, .fini = test_store_teardown) {
  store_job_t job;
  store_document_t doc;
  store_t *st = docs_fixture(&job, &doc);
  char *err = NULL;
  blob_store_t *bs = blob_store_open(st, test_store_dir(), &err);
  cr_assert_not_null(bs, "%s", err ? err : "");

  uint8_t data[3000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + 1);
  char sha[65];
  hex_sha256(data, sizeof data, sha);
  store_upload_session_new_t n = session_new(&job, &doc, S1, K1, sizeof data);
  n.blob_in_store = true;
  store_blob_keys_t drop;
  char *why = NULL;
  cr_assert_eq(store_upload_session_create(st, &n, &drop, &why), STORE_OK);
  store_upload_session_t s;
  cr_assert_eq(store_upload_session_get(st, S1, time_now_us(), &s), STORE_OK);
  cr_assert(s.blob_in_store, "the session knows its bytes go to rows");
  store_upload_session_clear(&s);

  store_document_t d;
  store_fragment_rc_t oc;
  cr_assert_eq(store_upload_complete(st, S1, 0, sizeof data - 1, data, sha, time_now_us(), NULL, &d,
                                     &drop, &why, &oc), STORE_OK);
  cr_assert_str_eq(d.blob_key, K1);
  cr_assert_str_eq(d.sha256, sha);
  store_document_clear(&d);
  store_blob_keys_clear(&drop);

  /* read back through the tiered store: rows, no descriptor, the recorded hash */
  uint64_t size = 0;
  cr_assert_eq(blob_open_fd(bs, K1, &size), -ENOTSUP);
  cr_assert_eq(blob_verify(bs, K1, sizeof data, sha, NULL), 0);
  blob_t *b = NULL;
  cr_assert_eq(blob_open(bs, K1, false, &b, &size), 0);
  cr_assert_eq(size, sizeof data);
  uint8_t back[sizeof data];
  cr_assert_eq(blob_pread(b, 0, back, sizeof back), (ssize_t)sizeof back);
  cr_assert_eq(memcmp(back, data, sizeof data), 0);
  blob_close(b);

  /* a file blob beside it (rows too on PostgreSQL); copies stay in their tier; the walk sees
   * all */
  bool files = !store_is_shared(st);
  cr_assert_eq(blob_create(bs, K2, 10), 0);
  char path[400];
  snprintf(path, sizeof path, "%s/blobs/%s", test_store_dir(), K2);
  if (files) cr_assert_eq(access(path, F_OK), 0, "blob_create makes a file");
  char k3[BLOB_KEY_LEN + 1];
  blob_key_new(k3);
  cr_assert_eq(blob_copy(bs, K1, k3), 0);
  snprintf(path, sizeof path, "%s/blobs/%s", test_store_dir(), k3);
  cr_assert_neq(access(path, F_OK), 0, "a copy of rows is rows");
  cr_assert_eq(blob_verify(bs, k3, sizeof data, sha, NULL), 0);
  int nkeys = 0;
  cr_assert_eq(blob_walk(bs, db_walk_cb, &nkeys), 0);
  cr_assert_eq(nkeys, 3);

  /* removing: the rows go, the file goes, a missing key is fine */
  cr_assert_eq(blob_remove(bs, k3), 0);
  cr_assert_eq(blob_open(bs, k3, false, &b, &size), -ENOENT);
  cr_assert_eq(blob_remove(bs, K2), 0);
  cr_assert_eq(blob_open(bs, K2, false, &b, &size), -ENOENT);
  cr_assert_eq(blob_remove(bs, K2), 0);
  cr_assert_eq(blob_open(bs, K1, false, &b, &size), 0, "the document's rows are untouched");
  blob_close(b);
  blob_store_free(bs);
  store_job_clear(&job);
  store_document_clear(&doc);
  store_close(st);
}
