/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The blob store of SQLite mode: files (blob-file.c) for every blob it creates, and the
 * store's chunk rows (blob-db.c) for the small documents an upload session keeps in the
 * database (BLOB_INLINE_MAX: their bytes are written in the transaction that records them,
 * so one WAL commit makes both durable, without a file, its fdatasync and the directory's
 * fsync).
 *
 * A key names a file or chunk rows, never both. Operations on a key try the file first and
 * go to the rows when there is no such file (a failed openat); handles belong to the backend
 * that opened them, so reads and writes go straight to it.
 */
#include "blob/blob.h"
#include "store/store.h"
#include "util/buf.h"

#include <errno.h>
#include <stdlib.h>

typedef struct tier_store {
  blob_store_t *files, *rows;
} tier_store_t;

/* New blobs are files: the rows are created by the upload session's transaction. */
static int tier_create(void *impl, const char *key, uint64_t size) {
  tier_store_t *t = impl;
  return t->files->ops->create(t->files->impl, key, size);
}

static int tier_open(void *impl, const char *key, bool write, blob_t **out, uint64_t *size) {
  tier_store_t *t = impl;
  int rc = t->files->ops->open(t->files->impl, key, write, out, size);
  if (rc == -ENOENT) rc = t->rows->ops->open(t->rows->impl, key, write, out, size);
  return rc;
}

/* No descriptor for rows: -ENOTSUP makes the caller open the blob (which finds the rows, or
 * answers -ENOENT). */
static int tier_open_fd(void *impl, const char *key, uint64_t *size) {
  tier_store_t *t = impl;
  int fd = t->files->ops->open_fd(t->files->impl, key, size);
  return fd == -ENOENT ? -ENOTSUP : fd;
}

static int tier_copy(void *impl, const char *from, const char *to) {
  tier_store_t *t = impl;
  int rc = t->files->ops->copy(t->files->impl, from, to);
  if (rc == -ENOENT) rc = t->rows->ops->copy(t->rows->impl, from, to);
  return rc;
}

/* Removes the file, and the rows when there are some (looked up first: removing a file
 * blob costs no write transaction). */
static int tier_remove(void *impl, const char *key) {
  tier_store_t *t = impl;
  int rc = t->files->ops->remove(t->files->impl, key);
  if (rc != 0) return rc;
  blob_t *b = NULL;
  uint64_t size = 0;
  if (t->rows->ops->open(t->rows->impl, key, false, &b, &size) != 0) return 0;
  b->ops->close(b);
  return t->rows->ops->remove(t->rows->impl, key);
}

static int tier_walk(void *impl, int (*fn)(const char *key, int64_t mtime_us, void *arg),
                     void *arg) {
  tier_store_t *t = impl;
  int rc = t->files->ops->walk(t->files->impl, fn, arg);
  return rc != 0 ? rc : t->rows->ops->walk(t->rows->impl, fn, arg);
}

static void tier_free(void *impl) {
  tier_store_t *t = impl;
  blob_store_free(t->files);
  blob_store_free(t->rows);
  free(t);
}

/* Handles come from the two backends, so the per-handle operations are never called here. */
static const blob_ops_t TIER_OPS = {
    .name = "file+database",
    .create = tier_create,
    .open = tier_open,
    .open_fd = tier_open_fd,
    .copy = tier_copy,
    .remove = tier_remove,
    .walk = tier_walk,
    .free = tier_free,
};

/* Opens the blob store of st; see blob.h. */
blob_store_t *blob_store_open(store_t *st, const char *data_dir, char **err) {
  *err = NULL;
  if (store_is_shared(st)) return blob_store_open_db(st);
  buf_t dir = BUF_INIT;
  buf_printf(&dir, "%s/blobs", data_dir);
  blob_store_t *files = blob_store_open_files(dir.data, err);
  buf_free(&dir);
  if (!files) return NULL;
  tier_store_t *t = xcalloc(1, sizeof *t);
  t->files = files;
  t->rows = blob_store_open_db(st);
  blob_store_t *bs = xcalloc(1, sizeof *bs);
  bs->ops = &TIER_OPS;
  bs->impl = t;
  return bs;
}
