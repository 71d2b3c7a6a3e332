/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The database backend of the blob interface (scale-out mode): document bytes as chunk rows
 * in the shared store (store/chunks.h), so spoold processes on different machines share
 * documents without sharing a file system.
 *
 * A write handle gathers contiguous bytes of one chunk in a chunk-sized buffer and stores the
 * chunk when it is full, when a write jumps elsewhere, and at sync/close; a read handle keeps
 * the last chunk it fetched. Memory per handle is thus at most two chunks, whatever the
 * document's size. Each stored chunk is its own durable transaction, so blob_sync only has to
 * store the partly filled chunk. There are no file descriptors: blob_open_fd answers -ENOTSUP
 * and readers stream through blob_pread.
 */
#include "blob/blob.h"
#include "store/chunks.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct db_blob {
  blob_t          base;   /* first */
  pthread_mutex_t mu;     /* several threads may write through one handle (blob.h) */
  store_t       *st;
  char           key[BLOB_KEY_LEN + 1];
  uint64_t       size;
  /* write buffer: bytes [wlo, whi) of chunk widx, valid when dirty */
  unsigned char *wbuf;
  uint64_t       widx;
  size_t         wlo, whi;
  bool           dirty;
  /* read cache: chunk ridx (rlen bytes), valid when rvalid */
  unsigned char *rbuf;
  uint64_t       ridx;
  size_t         rlen;
  bool           rvalid;
} db_blob_t;

static const blob_ops_t DB_OPS;

static int db_errno(store_rc_t rc) {
  switch (rc) {
    case STORE_OK: return 0;
    case STORE_NOT_FOUND: return -ENOENT;
    case STORE_CONFLICT: return -EEXIST;
    case STORE_INVALID: return -EINVAL;
    default: return -EIO;
  }
}

static size_t db_chunk_len(uint64_t size, uint64_t idx) {
  uint64_t start = idx * (uint64_t)STORE_CHUNK_SIZE;
  if (start >= size) return 0;
  return size - start < STORE_CHUNK_SIZE ? (size_t)(size - start) : STORE_CHUNK_SIZE;
}

static int db_create(void *impl, const char *key, uint64_t size) {
  if (size > (uint64_t)INT64_MAX) return -EFBIG;
  return db_errno(store_chunks_create(impl, key, size, time_now_us()));
}

static int db_open(void *impl, const char *key, bool write, blob_t **out, uint64_t *size) {
  uint64_t sz = 0;
  int rc = db_errno(store_chunks_size(impl, key, &sz));
  if (rc) return rc;
  db_blob_t *b = xcalloc(1, sizeof *b);
  b->base.ops = &DB_OPS;
  pthread_mutex_init(&b->mu, NULL);
  b->st = impl;
  snprintf(b->key, sizeof b->key, "%s", key);
  b->size = sz;
  if (write) b->wbuf = xmalloc(STORE_CHUNK_SIZE);
  *out = &b->base;
  *size = sz;
  return 0;
}

/* Stores the buffered bytes of chunk widx. */
static int db_flush(db_blob_t *b) {
  if (!b->dirty) return 0;
  b->dirty = false;
  if (b->rvalid && b->ridx == b->widx) b->rvalid = false;
  store_rc_t rc = store_chunks_write(b->st, b->key, b->widx, b->wlo, b->wbuf + b->wlo,
                                     b->whi - b->wlo);
  if (rc != STORE_OK) log_error("blob %s: cannot store chunk %llu", b->key,
                                (unsigned long long)b->widx);
  return db_errno(rc);
}

static int db_pwrite_locked(db_blob_t *b, uint64_t off, const void *data, size_t len) {
  if (!b->wbuf) return -EBADF;
  if (off > b->size || len > b->size - off) return -EINVAL;  /* a blob keeps its size */
  const unsigned char *p = data;
  while (len) {
    uint64_t idx = off / STORE_CHUNK_SIZE;
    size_t in = (size_t)(off % STORE_CHUNK_SIZE), clen = db_chunk_len(b->size, idx);
    size_t n = clen - in < len ? clen - in : len;
    if (b->dirty && (idx != b->widx || in != b->whi)) {
      int rc = db_flush(b);
      if (rc) return rc;
    }
    if (!b->dirty) {
      b->dirty = true;
      b->widx = idx;
      b->wlo = b->whi = in;
    }
    memcpy(b->wbuf + in, p, n);
    b->whi = in + n;
    if (b->whi == clen) {
      int rc = db_flush(b);
      if (rc) return rc;
    }
    p += n;
    off += n;
    len -= n;
  }
  return 0;
}

static int db_pwrite(blob_t *blob, uint64_t off, const void *data, size_t len) {
  db_blob_t *b = (db_blob_t *)blob;
  pthread_mutex_lock(&b->mu);
  int rc = db_pwrite_locked(b, off, data, len);
  pthread_mutex_unlock(&b->mu);
  return rc;
}

static ssize_t db_pread_locked(db_blob_t *b, uint64_t off, void *data, size_t len) {
  int rc = db_flush(b);
  if (rc) return rc;
  if (off >= b->size || !len) return 0;
  uint64_t idx = off / STORE_CHUNK_SIZE;
  if (!b->rvalid || b->ridx != idx) {
    if (!b->rbuf) b->rbuf = xmalloc(STORE_CHUNK_SIZE);
    b->rvalid = false;
    rc = db_errno(store_chunks_read(b->st, b->key, idx, b->rbuf, &b->rlen));
    if (rc) return rc;
    b->ridx = idx;
    b->rvalid = true;
  }
  size_t in = (size_t)(off % STORE_CHUNK_SIZE);
  if (in >= b->rlen) return 0;
  size_t n = b->rlen - in < len ? b->rlen - in : len;
  memcpy(data, b->rbuf + in, n);
  return (ssize_t)n;
}

static ssize_t db_pread(blob_t *blob, uint64_t off, void *data, size_t len) {
  db_blob_t *b = (db_blob_t *)blob;
  pthread_mutex_lock(&b->mu);
  ssize_t n = db_pread_locked(b, off, data, len);
  pthread_mutex_unlock(&b->mu);
  return n;
}

static int db_sync(blob_t *blob) {
  db_blob_t *b = (db_blob_t *)blob;
  pthread_mutex_lock(&b->mu);
  int rc = db_flush(b);
  pthread_mutex_unlock(&b->mu);
  return rc;
}

static int db_open_fd(void *impl, const char *key, uint64_t *size) {
  (void)impl, (void)key, (void)size;
  return -ENOTSUP;
}

static void db_close(blob_t *blob) {
  db_blob_t *b = (db_blob_t *)blob;
  db_flush(b);
  pthread_mutex_destroy(&b->mu);
  free(b->wbuf);
  free(b->rbuf);
  free(b);
}

static int db_copy(void *impl, const char *from, const char *to) {
  return db_errno(store_chunks_copy(impl, from, to, time_now_us()));
}

static int db_remove(void *impl, const char *key) {
  return db_errno(store_chunks_remove(impl, key));
}

static int db_walk(void *impl, int (*fn)(const char *key, int64_t mtime_us, void *arg),
                   void *arg) {
  return db_errno(store_chunks_walk(impl, fn, arg));
}

static void db_free(void *impl) { (void)impl; /* the store belongs to the caller */ }

static const blob_ops_t DB_OPS = {
  .name = "database",
  .create = db_create,
  .open = db_open,
  .pwrite = db_pwrite,
  .pread = db_pread,
  .sync = db_sync,
  .open_fd = db_open_fd,
  .close = db_close,
  .copy = db_copy,
  .remove = db_remove,
  .walk = db_walk,
  .free = db_free,
};

/* Opens the database backend on st (which must outlive the blob store). */
blob_store_t *blob_store_open_db(store_t *st) {
  blob_store_t *bs = xcalloc(1, sizeof *bs);
  bs->ops = &DB_OPS;
  bs->impl = st;
  return bs;
}
