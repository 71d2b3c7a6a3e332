/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Document bytes as chunk rows (store/chunks.h).
 *
 * A partial chunk write reads the stored chunk, merges the new bytes and writes it back in
 * one transaction; on PostgreSQL two processes merging into the same chunk at once conflict
 * (serializable isolation) and the loser is run again on the winner's chunk, so fragments of
 * one upload arriving at different processes never overwrite each other's bytes.
 */
#include "store/chunks.h"
#include "store/db-backend.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>

/* The length of chunk idx of a blob of size bytes (0 past the end). */
static size_t chunk_len(uint64_t size, uint64_t idx) {
  uint64_t start = idx * (uint64_t)STORE_CHUNK_SIZE;
  if (start >= size) return 0;
  uint64_t left = size - start;
  return left < STORE_CHUNK_SIZE ? (size_t)left : STORE_CHUNK_SIZE;
}

typedef struct {
  const char *key, *to;
  uint64_t    size, idx;
  int64_t     now;
  size_t      lo, len;
  const void *data;
  void       *out;
  size_t      out_len;
} chunk_arg_t;

/* The blob's size into *size: 0, STORE_NOT_FOUND or DB_ERROR. */
static int blob_size(db_conn_t *c, const char *key, uint64_t *size) {
  db_stmt_t *s = db_prepare(c, "SELECT size FROM blobs WHERE key = ?");
  db_bind_text(s, 1, key);
  int rc = db_step(s);
  if (rc == DB_ROW) *size = (uint64_t)db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

/* See store-private.h. */
int store_chunks_create_in(db_conn_t *c, const char *key, uint64_t size, int64_t now_us) {
  db_stmt_t *s = db_prepare(c, "INSERT INTO blobs (key, size, chunk_size, created_us)"
                               " VALUES (?, ?, ?, ?)");
  db_bind_text(s, 1, key);
  db_bind_int64(s, 2, (int64_t)size);
  db_bind_int64(s, 3, STORE_CHUNK_SIZE);
  db_bind_int64(s, 4, now_us);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc == DB_CONSTRAINT ? STORE_CONFLICT : DB_ERROR;
}

static int create_fn(db_conn_t *c, void *arg) {
  chunk_arg_t *a = arg;
  return store_chunks_create_in(c, a->key, a->size, a->now);
}

/* Creates blob key of size bytes (sparse: no chunk rows yet). */
store_rc_t store_chunks_create(store_t *st, const char *key, uint64_t size, int64_t now_us) {
  if (!key || size > INT64_MAX) return STORE_ERROR;
  chunk_arg_t a = {.key = key, .size = size, .now = now_us};
  return store_rc(db_write(st->db, create_fn, &a));
}

static int size_fn(db_conn_t *c, void *arg) {
  chunk_arg_t *a = arg;
  return blob_size(c, a->key, &a->size);
}

/* The size of blob key. */
store_rc_t store_chunks_size(store_t *st, const char *key, uint64_t *size) {
  chunk_arg_t a = {.key = key};
  store_rc_t rc = store_rc(db_read(st->db, size_fn, &a));
  if (rc == STORE_OK && size) *size = a.size;
  return rc;
}

/* Copies chunk idx into out (zeros when it has no row); *got its stored length. */
static int read_chunk(db_conn_t *c, const char *key, uint64_t idx, unsigned char *out,
                      size_t clen) {
  db_stmt_t *s = db_prepare(c, "SELECT data FROM blob_chunks WHERE key = ? AND idx = ?");
  db_bind_text(s, 1, key);
  db_bind_int64(s, 2, (int64_t)idx);
  int rc = db_step(s);
  memset(out, 0, clen);
  if (rc == DB_ROW) {
    size_t n = 0;
    const void *p = db_col_blob(s, 0, &n);
    if (p) memcpy(out, p, n < clen ? n : clen);
  }
  db_reset(s);
  return rc == DB_ROW || rc == DB_DONE ? 0 : DB_ERROR;
}

/* Writes len bytes at lo inside chunk idx of blob key (of size bytes). */
static int write_chunk(db_conn_t *c, const char *key, uint64_t size, uint64_t idx, size_t lo,
                       const void *data, size_t len) {
  size_t clen = chunk_len(size, idx);
  if (lo + len > clen) return STORE_INVALID;
  const void *row = data;
  unsigned char *merged = NULL;
  if (lo != 0 || len != clen) {  /* merge into the stored chunk */
    merged = xmalloc(clen ? clen : 1);
    if (read_chunk(c, key, idx, merged, clen)) {
      free(merged);
      return DB_ERROR;
    }
    memcpy(merged + lo, data, len);
    row = merged;
  }
  db_stmt_t *s = db_prepare(c, "INSERT INTO blob_chunks (key, idx, data) VALUES (?, ?, ?)"
                               " ON CONFLICT (key, idx) DO UPDATE SET data = excluded.data");
  db_bind_text(s, 1, key);
  db_bind_int64(s, 2, (int64_t)idx);
  db_bind_blob(s, 3, row, clen);
  int rc = db_step(s);
  db_reset(s);
  free(merged);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Marks blob key as written at now (the sweeper's age of an unreferenced blob). */
static int touch_blob(db_conn_t *c, const char *key, int64_t now) {
  db_stmt_t *s = db_prepare(c, "UPDATE blobs SET created_us = ? WHERE key = ?");
  db_bind_int64(s, 1, now);
  db_bind_text(s, 2, key);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

static int write_fn(db_conn_t *c, void *arg) {
  chunk_arg_t *a = arg;
  uint64_t size = 0;
  int rc = blob_size(c, a->key, &size);
  if (rc) return rc;
  rc = write_chunk(c, a->key, size, a->idx, a->lo, a->data, a->len);
  return rc ? rc : touch_blob(c, a->key, a->now);
}

/* See store-private.h. */
int store_chunks_pwrite_in(db_conn_t *c, const char *key, uint64_t off, const void *data,
                           size_t len, int64_t now_us) {
  uint64_t size = 0;
  int rc = blob_size(c, key, &size);
  if (rc) return rc;
  if (off > size || len > size - off) return STORE_INVALID;
  const unsigned char *p = data;
  while (len && rc == 0) {
    uint64_t idx = off / STORE_CHUNK_SIZE;
    size_t lo = (size_t)(off % STORE_CHUNK_SIZE), n = chunk_len(size, idx) - lo;
    if (n > len) n = len;
    rc = write_chunk(c, key, size, idx, lo, p, n);
    p += n, off += n, len -= n;
  }
  return rc ? rc : touch_blob(c, key, now_us);
}

/* Writes len bytes at lo inside chunk idx; see chunks.h. */
store_rc_t store_chunks_write(store_t *st, const char *key, uint64_t idx, size_t lo,
                              const void *data, size_t len) {
  if (!key || (!data && len) || len > STORE_CHUNK_SIZE) return STORE_ERROR;
  chunk_arg_t a = {.key = key, .idx = idx, .lo = lo, .len = len, .data = data,
                   .now = time_now_us()};
  return store_rc(db_write(st->db, write_fn, &a));
}

static int read_fn(db_conn_t *c, void *arg) {
  chunk_arg_t *a = arg;
  uint64_t size = 0;
  int rc = blob_size(c, a->key, &size);
  if (rc) return rc;
  a->out_len = chunk_len(size, a->idx);
  if (!a->out_len) return STORE_NOT_FOUND;
  return read_chunk(c, a->key, a->idx, a->out, a->out_len);
}

/* Reads chunk idx into out (STORE_CHUNK_SIZE bytes of room). */
store_rc_t store_chunks_read(store_t *st, const char *key, uint64_t idx, void *out, size_t *len) {
  chunk_arg_t a = {.key = key, .idx = idx, .out = out};
  store_rc_t rc = store_rc(db_read(st->db, read_fn, &a));
  if (len) *len = rc == STORE_OK ? a.out_len : 0;
  return rc;
}

static int copy_fn(db_conn_t *c, void *arg) {
  chunk_arg_t *a = arg;
  db_stmt_t *s = db_prepare(c, "INSERT INTO blobs (key, size, chunk_size, created_us)"
                               " SELECT ?, size, chunk_size, ? FROM blobs WHERE key = ?");
  db_bind_text(s, 1, a->to);
  db_bind_int64(s, 2, a->now);
  db_bind_text(s, 3, a->key);
  int rc = db_step(s);
  db_reset(s);
  if (rc == DB_CONSTRAINT) return STORE_CONFLICT;
  if (rc != DB_DONE) return DB_ERROR;
  if (db_changes(c) != 1) return STORE_NOT_FOUND;
  s = db_prepare(c, "INSERT INTO blob_chunks (key, idx, data)"
                    " SELECT ?, idx, data FROM blob_chunks WHERE key = ?");
  db_bind_text(s, 1, a->to);
  db_bind_text(s, 2, a->key);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Copies blob from to blob to inside the database. */
store_rc_t store_chunks_copy(store_t *st, const char *from, const char *to, int64_t now_us) {
  chunk_arg_t a = {.key = from, .to = to, .now = now_us};
  return store_rc(db_write(st->db, copy_fn, &a));
}

static int remove_fn(db_conn_t *c, void *arg) {
  const char *key = arg;
  static const char *const sql[] = {"DELETE FROM blob_chunks WHERE key = ?",
                                    "DELETE FROM blobs WHERE key = ?"};
  for (int i = 0; i < 2; i++) {
    db_stmt_t *s = db_prepare(c, sql[i]);
    db_bind_text(s, 1, key);
    int rc = db_step(s);
    db_reset(s);
    if (rc != DB_DONE) return DB_ERROR;
  }
  return 0;
}

/* Removes blob key and its chunks. */
store_rc_t store_chunks_remove(store_t *st, const char *key) {
  return store_rc(db_write(st->db, remove_fn, (void *)key));
}

typedef struct {
  char   **keys;
  int64_t *times;
  size_t   n, cap;
} walk_arg_t;

static int walk_fn(db_conn_t *c, void *arg) {
  walk_arg_t *w = arg;
  for (size_t i = 0; i < w->n; i++) free(w->keys[i]);
  w->n = 0;
  /* A database whose schema is not created yet (the first start, before the migrations; or
   * another process sharing it is creating it now) holds no document bytes. */
  if (!db_table_exists(c, "blobs")) return 0;
  db_stmt_t *s = db_prepare(c, "SELECT key, created_us FROM blobs ORDER BY key");
  int rc;
  while ((rc = db_step(s)) == DB_ROW) {
    if (w->n == w->cap) {
      w->cap = w->cap ? w->cap * 2 : 64;
      w->keys = xrealloc(w->keys, w->cap * sizeof *w->keys);
      w->times = xrealloc(w->times, w->cap * sizeof *w->times);
    }
    w->keys[w->n] = store_col_strdup(s, 0, true);
    w->times[w->n++] = db_col_int64(s, 1);
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* Calls fn for every blob. */
store_rc_t store_chunks_walk(store_t *st, int (*fn)(const char *key, int64_t mtime_us, void *arg),
                             void *arg) {
  walk_arg_t w = {0};
  store_rc_t rc = store_rc(db_read(st->db, walk_fn, &w));
  bool stop = rc != STORE_OK;
  for (size_t i = 0; i < w.n; i++) {
    if (!stop && fn(w.keys[i], w.times[i], arg)) stop = true;
    free(w.keys[i]);
  }
  free(w.keys);
  free(w.times);
  return rc;
}
