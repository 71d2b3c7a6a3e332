/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Document bytes kept in the database as chunk rows (the scale-out mode's blob backend,
 * blob/blob-db.c, stores through these): a blobs row per blob (its size) and blob_chunks rows
 * of STORE_CHUNK_SIZE bytes (the last one shorter), written and read one chunk at a time, so
 * memory stays bounded by a chunk or two whatever the document's size. A chunk never written
 * reads as zeros (a blob is created sparse). The SQL is portable; SQLite mode keeps files,
 * and here only the small documents of upload sessions (BLOB_INLINE_MAX, blob/blob-tier.c).
 */
#ifndef SPOOLD_STORE_CHUNKS_H
#define SPOOLD_STORE_CHUNKS_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_CHUNK_SIZE (256 * 1024)  /* bytes per row: memory per stream is a few of these */

/* Creates blob key of size bytes; STORE_CONFLICT when it exists. */
store_rc_t store_chunks_create(store_t *st, const char *key, uint64_t size, int64_t now_us);
/* The size of blob key; STORE_NOT_FOUND when there is none. */
store_rc_t store_chunks_size(store_t *st, const char *key, uint64_t *size);
/* Writes len bytes at offset lo inside chunk idx (lo + len <= that chunk's length) in one
 * transaction: a whole chunk replaces the row, a part is merged into the stored chunk (or into
 * zeros). STORE_NOT_FOUND when the blob is gone. Durable on return. */
store_rc_t store_chunks_write(store_t *st, const char *key, uint64_t idx, size_t lo,
                              const void *data, size_t len);
/* Reads chunk idx into out (its length, STORE_CHUNK_SIZE or less for the last chunk, goes to
 * *len; zeros when never written). STORE_NOT_FOUND when the blob or chunk is out of range. */
store_rc_t store_chunks_read(store_t *st, const char *key, uint64_t idx, void *out, size_t *len);
/* Makes blob to a copy of blob from, inside the database. STORE_CONFLICT when to exists,
 * STORE_NOT_FOUND when from does not. */
store_rc_t store_chunks_copy(store_t *st, const char *from, const char *to, int64_t now_us);
/* Removes blob key and its chunks (STORE_OK also when it did not exist). */
store_rc_t store_chunks_remove(store_t *st, const char *key);
/* Calls fn for each blob with its key and creation time; fn's non-zero return stops. The keys
 * are read first, so fn may call the other functions. */
store_rc_t store_chunks_walk(store_t *st, int (*fn)(const char *key, int64_t mtime_us, void *arg),
                             void *arg);

#endif
