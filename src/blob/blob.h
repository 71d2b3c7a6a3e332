/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Document bytes: the blob interface.
 *
 * A blob is a fixed-size byte array named by a key (BLOB_KEY_LEN lowercase hex characters,
 * made by blob_key_new). Upload sessions create one of the declared size, write each
 * fragment at its offset as it streams in, sync it before answering, and hand it to the
 * document when the last byte lands; downloads read ranges of it.
 *
 * The store behind the interface is a small vtable (blob_ops_t) with two backends:
 *   - files (blob-file.c, SQLite mode): DIR/<key>, created sparse at its full size with
 *     ftruncate, written with pwrite, made durable with fdatasync of the file and fsync of the
 *     directory, read with pread and sent with sendfile through blob_open_fd;
 *   - the database (blob-db.c, PostgreSQL mode): chunk rows in the shared store
 *     (store/chunks.h), buffered a chunk at a time; no file descriptors (blob_open_fd gives
 *     -ENOTSUP and readers stream with blob_pread).
 * SQLite mode uses both (blob-tier.c, blob_store_open): files, and chunk rows for the small
 * documents (BLOB_INLINE_MAX) an upload session keeps in the database.
 *
 * Thread safety: a blob_store_t may be used from any number of threads at once; one
 * blob_t may be written at different offsets by several threads at once (pwrite), but
 * each thread must close its own handle.
 *
 * Errors: functions returning int give 0 or a negative errno value.
 */
#ifndef SPOOLD_BLOB_BLOB_H
#define SPOOLD_BLOB_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <sys/types.h>

#define BLOB_KEY_LEN 32       /* hex characters of a key */
#define BLOB_SHA256_HEX 64    /* hex characters of a SHA-256 */

typedef struct blob_store blob_store_t;
typedef struct blob blob_t;

/* What a backend implements. impl is the backend's state (blob_store_t.impl). */
typedef struct blob_ops {
  const char *name; /* "file" */
  /* Creates key with size zero bytes (sparse where possible); -EEXIST when it exists. */
  int (*create)(void *impl, const char *key, uint64_t size);
  /* Opens key for reading, or for reading and writing; *size receives its size. */
  int (*open)(void *impl, const char *key, bool write, blob_t **out, uint64_t *size);
  /* Writes len bytes at off (all of them, or an error). */
  int (*pwrite)(blob_t *b, uint64_t off, const void *data, size_t len);
  /* Reads up to len bytes at off; returns the count (0 at the end) or a negative errno. */
  ssize_t (*pread)(blob_t *b, uint64_t off, void *data, size_t len);
  /* Makes everything written through any handle of this blob durable. */
  int (*sync)(blob_t *b);
  /* A new read-only file descriptor for sendfile, or -ENOTSUP when the backend has none. */
  int (*open_fd)(void *impl, const char *key, uint64_t *size);
  void (*close)(blob_t *b);
  /* Creates to as a durable copy of from (-EEXIST when to exists). */
  int (*copy)(void *impl, const char *from, const char *to);
  /* Removes key; 0 also when it did not exist. */
  int (*remove)(void *impl, const char *key);
  /* Calls fn for each blob with its key and last modification time (us since the epoch);
   * fn's non-zero return stops the walk. */
  int (*walk)(void *impl, int (*fn)(const char *key, int64_t mtime_us, void *arg), void *arg);
  void (*free)(void *impl);
} blob_ops_t;

struct blob_store {
  const blob_ops_t *ops;
  void             *impl;
  /* blob_serve_open's findings since the store opened (blob_integrity_counts) */
  _Atomic uint64_t  missing, corrupt;
};

/* An open blob; a backend's handle starts with this. */
struct blob {
  const blob_ops_t *ops;
};

struct store;
/* Opens the database backend on st (PostgreSQL mode; st must outlive the blob store). */
blob_store_t *blob_store_open_db(struct store *st);

/* Documents of at most this many bytes are kept in the store's chunk rows in SQLite mode
 * too: an upload session of such a document creates no file, and a fragment that is the
 * whole document is written in the transaction that completes it (one WAL commit makes the
 * bytes and the record durable). */
#define BLOB_INLINE_MAX (64u * 1024)

/* The blob store of the server on st: the database backend when st is shared (PostgreSQL);
 * otherwise files under DATA_DIR/blobs (created if missing) for the blobs it creates, and
 * the store's chunk rows for the small documents kept there (blob-tier.c). NULL and a
 * malloc'd message in *err on failure; st must outlive it. Free with blob_store_free. */
blob_store_t *blob_store_open(struct store *st, const char *data_dir, char **err);

/* Opens the file backend on dir (created if missing, mode 0750). Returns NULL and a malloc'd
 * message in *err on failure. Free with blob_store_free. */
blob_store_t *blob_store_open_files(const char *dir, char **err);
/* Frees a blob store made by one of the blob_store_open* functions (NULL is a no-op); every
 * handle opened on it must be closed first. The blobs stay where they are. */
void          blob_store_free(blob_store_t *bs);

/* Writes a new key and a NUL to out: the 32 lower-case hex digits of a time-ordered GUID
 * (id_guid_ordered: unique in the process, 62 random bits beside the time across processes).
 * Keys name blobs; they are not secrets (no URL or answer carries one). */
void blob_key_new(char out[BLOB_KEY_LEN + 1]);
/* True when key has the form blob_key_new makes (so it can never name a path elsewhere). */
bool blob_key_valid(const char *key);

/* The operations below run the backend's (blob_ops_t) after checking the key (-EINVAL for one
 * blob_key_new could not have made); each returns 0 or a negative errno unless it says
 * otherwise. */
/* Creates blob key of size zero bytes; -EEXIST when it exists. */
int     blob_create(blob_store_t *bs, const char *key, uint64_t size);
/* Opens blob key for reading, or for reading and writing when write; *out is a handle the
 * caller closes with blob_close, *size (may be NULL) receives the blob's size. -ENOENT when
 * there is no such blob. */
int     blob_open(blob_store_t *bs, const char *key, bool write, blob_t **out, uint64_t *size);
/* Writes the len bytes at data to b (opened for writing) at offset off: all of them, or an
 * error. Stay within the size the blob was created with (the database backend refuses more
 * with -EINVAL). Durable only after blob_sync. */
int     blob_pwrite(blob_t *b, uint64_t off, const void *data, size_t len);
/* Reads up to len bytes of b at offset off into data: the count read (0 at the end) or a
 * negative errno. */
ssize_t blob_pread(blob_t *b, uint64_t off, void *data, size_t len);
/* Makes everything written to this blob, through any of its handles, durable. */
int     blob_sync(blob_t *b);
/* Closes and frees the handle b (NULL is a no-op); blob_sync first what must be durable. */
void    blob_close(blob_t *b);
/* A read-only descriptor the caller owns (an fd response closes it); -ENOTSUP when the
 * backend cannot give one. */
int     blob_open_fd(blob_store_t *bs, const char *key, uint64_t *size);
/* Removes blob key; 0 also when it did not exist. */
int     blob_remove(blob_store_t *bs, const char *key);
/* Makes blob to a durable copy of blob from (for a redirected job's documents). */
int     blob_copy(blob_store_t *bs, const char *from, const char *to);
/* Calls fn(key, mtime_us, arg) for each blob of bs with its last modification time
 * (microseconds since the epoch); a non-zero return of fn stops the walk. The key is valid
 * during the call only. 0, or a negative errno when the blobs could not be listed. */
int     blob_walk(blob_store_t *bs, int (*fn)(const char *key, int64_t mtime_us, void *arg),
                  void *arg);

/* Adapters for a streamed response body (http_response_t src_read/src_free) reading an open
 * blob handle: blob_stream_read returns blob_pread's result (-EIO at an early end);
 * blob_stream_free closes the handle. */
ssize_t blob_stream_read(void *blob, uint64_t off, char *buf, size_t max);
void    blob_stream_free(void *blob);

/* SHA-256 of the first size bytes of key, read back in 1 MiB steps, as lowercase hex into
 * out. -EIO when the blob is shorter than size. */
int blob_sha256(blob_store_t *bs, const char *key, uint64_t size,
                char out[BLOB_SHA256_HEX + 1]);

/* ---- integrity of stored documents ------------------------------------------------------ */

/* Documents up to this size are checked against their SHA-256 before a byte is sent (a
 * mismatch is then a clean 500); larger ones are checked while they stream. */
#define BLOB_VERIFY_AHEAD (4u << 20)

/* Checks that key holds at least size bytes whose SHA-256 (of the first size bytes) is the
 * lowercase hex sha256. 0 when it does; -ENOENT when the blob is missing; -EIO when it is
 * shorter than size; -EBADMSG when the bytes differ (the hash found goes to found, may be
 * NULL); another negative errno when it cannot be read. */
int blob_verify(blob_store_t *bs, const char *key, uint64_t size, const char *sha256,
                char found[BLOB_SHA256_HEX + 1]);

/* How to send a document's bytes [first, first+len): either fd >= 0 (a descriptor for
 * sendfile, the caller or the response closes it) or, when fd < 0, read/free/arg for a
 * streamed body (http_response_t src_read/src_free/src_arg). */
typedef struct blob_serve {
  int      fd;
  ssize_t (*read)(void *arg, uint64_t off, char *buf, size_t max);
  void    (*free)(void *arg);
  void    *arg;
} blob_serve_t;

/* Opens the bytes of document doc_id (blob key, size bytes, recorded SHA-256 sha256 or NULL
 * when none was recorded) for serving bytes [first, first+len). Bytes are never served as
 * correct when they no longer match sha256: when the response does not cover the whole
 * document, or the document is at most BLOB_VERIFY_AHEAD bytes, the whole blob is checked
 * first; otherwise the stream hashes what it sends and fails (a negative read, which aborts
 * the connection) instead of sending the last bytes when the hash differs. Returns 0 and fills
 * *out; -ENOENT when the bytes are missing or shorter than size, -EBADMSG when they do not
 * match, another negative errno when they cannot be read. Every failure and every mismatch
 * found while streaming is logged with doc_id and counted (blob_integrity_counts). */
int blob_serve_open(blob_store_t *bs, const char *doc_id, const char *key, uint64_t size,
                    const char *sha256, uint64_t first, uint64_t len, blob_serve_t *out);

/* Documents of bs found missing (or short) and found not matching their SHA-256 when served,
 * since bs was opened (either pointer may be NULL). */
void blob_integrity_counts(blob_store_t *bs, uint64_t *missing, uint64_t *corrupt);

#endif
