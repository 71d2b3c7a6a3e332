/* SPDX-License-Identifier: Apache-2.0 */
/* The blob interface: key checks and dispatch to the backend (see blob.h). */
#include "blob/blob.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHA_STEP (1u << 20)

/* A new key: a time-ordered GUID's hex digits; see blob.h. */
void blob_key_new(char out[BLOB_KEY_LEN + 1]) {
  _Static_assert(BLOB_KEY_LEN == 32, "a GUID has 32 hex digits");
  char g[ID_GUID_LEN + 1];
  id_guid_ordered(g);
  size_t n = 0;
  for (const char *p = g; *p; p++)
    if (*p != '-') out[n++] = *p;
  out[n] = '\0';
}

/* Whether key has blob_key_new's form. */
bool blob_key_valid(const char *key) {
  if (!key || strlen(key) != BLOB_KEY_LEN) return false;
  for (size_t i = 0; i < BLOB_KEY_LEN; i++)
    if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f'))) return false;
  return true;
}

/* Closes the backend and frees bs; NULL is fine. */
void blob_store_free(blob_store_t *bs) {
  if (!bs) return;
  bs->ops->free(bs->impl);
  free(bs);
}

/* The operations below check the key and dispatch to the backend (see blob_ops_t). */
int blob_create(blob_store_t *bs, const char *key, uint64_t size) {
  if (!blob_key_valid(key)) return -EINVAL;
  return bs->ops->create(bs->impl, key, size);
}

int blob_open(blob_store_t *bs, const char *key, bool write, blob_t **out, uint64_t *size) {
  *out = NULL;
  uint64_t sz = 0;
  if (!blob_key_valid(key)) return -EINVAL;
  int rc = bs->ops->open(bs->impl, key, write, out, &sz);
  if (size) *size = sz;
  return rc;
}

int blob_pwrite(blob_t *b, uint64_t off, const void *data, size_t len) {
  return b->ops->pwrite(b, off, data, len);
}

ssize_t blob_pread(blob_t *b, uint64_t off, void *data, size_t len) {
  return b->ops->pread(b, off, data, len);
}

int blob_sync(blob_t *b) { return b->ops->sync(b); }

/* Reads up to max bytes at off for a streamed response; see blob.h. */
ssize_t blob_stream_read(void *blob, uint64_t off, char *buf, size_t max) {
  ssize_t n = blob_pread(blob, off, buf, max);
  return n == 0 ? -EIO : n;
}

/* Closes the blob handle of a streamed response. */
void blob_stream_free(void *blob) { blob_close(blob); }

void blob_close(blob_t *b) {
  if (b) b->ops->close(b);
}

int blob_open_fd(blob_store_t *bs, const char *key, uint64_t *size) {
  if (!blob_key_valid(key)) return -EINVAL;
  return bs->ops->open_fd(bs->impl, key, size);
}

int blob_remove(blob_store_t *bs, const char *key) {
  if (!blob_key_valid(key)) return -EINVAL;
  return bs->ops->remove(bs->impl, key);
}

int blob_copy(blob_store_t *bs, const char *from, const char *to) {
  if (!blob_key_valid(from) || !blob_key_valid(to)) return -EINVAL;
  return bs->ops->copy(bs->impl, from, to);
}

int blob_walk(blob_store_t *bs, int (*fn)(const char *key, int64_t mtime_us, void *arg),
              void *arg) {
  return bs->ops->walk(bs->impl, fn, arg);
}

/* SHA-256 of the first size bytes of key, read back from the backend; see blob.h. */
int blob_sha256(blob_store_t *bs, const char *key, uint64_t size,
                char out[BLOB_SHA256_HEX + 1]) {
  blob_t *b = NULL;
  EVP_MD_CTX *md = NULL;
  unsigned char *chunk = NULL;
  uint64_t have = 0;
  int rc = blob_open(bs, key, false, &b, &have);
  if (rc != 0) return rc;
  if (have < size) {
    rc = -EIO;
    goto done;
  }
  md = EVP_MD_CTX_new();
  chunk = malloc(SHA_STEP);
  if (!md || !chunk || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    rc = -ENOMEM;
    goto done;
  }
  for (uint64_t off = 0; off < size;) {
    size_t want = size - off < SHA_STEP ? (size_t)(size - off) : SHA_STEP;
    ssize_t n = blob_pread(b, off, chunk, want);
    if (n < 0) {
      rc = (int)n;
      goto done;
    }
    if (n == 0) {
      rc = -EIO;
      goto done;
    }
    if (EVP_DigestUpdate(md, chunk, (size_t)n) != 1) {
      rc = -EIO;
      goto done;
    }
    off += (uint64_t)n;
  }
  unsigned char h[32];
  unsigned int hl = 0;
  if (EVP_DigestFinal_ex(md, h, &hl) != 1 || hl != 32) {
    rc = -EIO;
    goto done;
  }
  for (unsigned i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
  rc = 0;
done:
  free(chunk);
  EVP_MD_CTX_free(md);
  blob_close(b);
  return rc;
}

/* ---- integrity of stored documents (see blob.h) ---------------------------------------- */

/* The counters of blob_serve_open's findings; see blob.h. */
void blob_integrity_counts(blob_store_t *bs, uint64_t *missing, uint64_t *corrupt) {
  if (missing) *missing = bs ? atomic_load(&bs->missing) : 0;
  if (corrupt) *corrupt = bs ? atomic_load(&bs->corrupt) : 0;
}

/* Checks key's first size bytes against sha256; see blob.h. */
int blob_verify(blob_store_t *bs, const char *key, uint64_t size, const char *sha256,
                char found[BLOB_SHA256_HEX + 1]) {
  char h[BLOB_SHA256_HEX + 1] = "";
  int rc = blob_sha256(bs, key, size, h);
  if (found) snprintf(found, BLOB_SHA256_HEX + 1, "%s", h);
  if (rc != 0) return rc;
  return sha256 && strcmp(h, sha256) != 0 ? -EBADMSG : 0;
}

static void note_missing(blob_store_t *bs, const char *doc_id, const char *key, int err) {
  atomic_fetch_add(&bs->missing, 1);
  log_error("document %s: its bytes are missing (blob %s: %s); answered as a server error",
            doc_id, key, err == -EIO ? "shorter than the document" : strerror(-err));
}

static void note_corrupt(blob_store_t *bs, const char *doc_id, const char *key,
                         const char *want, const char *found, const char *what) {
  atomic_fetch_add(&bs->corrupt, 1);
  log_error("document %s: its bytes (blob %s) no longer match their SHA-256 (recorded %s, "
            "found %s); %s", doc_id, key, want, found, what);
}

/* A streamed body that hashes the bytes it hands out and refuses the last ones on a
 * mismatch. */
typedef struct vstream {
  blob_store_t *bs; /* counts what the stream finds */
  blob_t     *b;
  uint64_t    size, hashed;
  EVP_MD_CTX *md;
  bool        failed;
  char        want[BLOB_SHA256_HEX + 1];
  char       *doc_id, *key;
} vstream_t;

static void vstream_free(void *arg) {
  vstream_t *v = arg;
  if (!v) return;
  blob_close(v->b);
  EVP_MD_CTX_free(v->md);
  free(v->doc_id);
  free(v->key);
  free(v);
}

static ssize_t vstream_read(void *arg, uint64_t off, char *buf, size_t max) {
  vstream_t *v = arg;
  if (v->failed) return -EBADMSG;
  if (off != v->hashed || off >= v->size) {  /* the server reads a body once, in order */
    log_error("document %s: streamed out of order (offset %llu, expected %llu); aborted",
              v->doc_id, (unsigned long long)off, (unsigned long long)v->hashed);
    v->failed = true;
    return -EIO;
  }
  if (max > v->size - off) max = (size_t)(v->size - off);
  ssize_t n = blob_pread(v->b, off, buf, max);
  if (n <= 0) {
    v->failed = true;
    note_missing(v->bs, v->doc_id, v->key, n < 0 ? (int)n : -EIO);
    return n < 0 ? n : -EIO;
  }
  if (EVP_DigestUpdate(v->md, buf, (size_t)n) != 1) {
    v->failed = true;
    return -EIO;
  }
  v->hashed += (uint64_t)n;
  if (v->hashed == v->size) {  /* the last bytes: only once the whole document matched */
    unsigned char h[32];
    unsigned int hl = 0;
    char found[BLOB_SHA256_HEX + 1] = "";
    if (EVP_DigestFinal_ex(v->md, h, &hl) == 1 && hl == 32)
      for (unsigned i = 0; i < 32; i++) snprintf(found + 2 * i, 3, "%02x", h[i]);
    if (strcmp(found, v->want) != 0) {
      v->failed = true;
      note_corrupt(v->bs, v->doc_id, v->key, v->want, found,
                   "the download was aborted before its last bytes");
      return -EBADMSG;
    }
  }
  return n;
}

/* Opens a document's bytes for a response; see blob.h. */
int blob_serve_open(blob_store_t *bs, const char *doc_id, const char *key, uint64_t size,
                    const char *sha256, uint64_t first, uint64_t len, blob_serve_t *out) {
  *out = (blob_serve_t){.fd = -1};
  bool whole = first == 0 && len == size;
  bool stream_check = sha256 && whole && size > BLOB_VERIFY_AHEAD;
  if (sha256 && !stream_check) {
    char found[BLOB_SHA256_HEX + 1];
    int rc = blob_verify(bs, key, size, sha256, found);
    if (rc == -EBADMSG) {
      note_corrupt(bs, doc_id, key, sha256, found, "not served (answered as a server error)");
      return rc;
    }
    if (rc == -ENOENT || rc == -EIO) {
      note_missing(bs, doc_id, key, rc);
      return -ENOENT;
    }
    if (rc != 0) {
      log_error("document %s: cannot read blob %s: %s", doc_id, key, strerror(-rc));
      return rc;
    }
  }
  uint64_t have = 0;
  int fd = stream_check ? -ENOTSUP : blob_open_fd(bs, key, &have);
  blob_t *b = NULL;
  if (fd == -ENOTSUP) {
    int brc = blob_open(bs, key, false, &b, &have);
    fd = brc < 0 ? brc : -1;
  }
  if (fd < 0 && !b) {
    if (fd == -ENOENT) note_missing(bs, doc_id, key, fd);
    else log_error("document %s: cannot open blob %s: %s", doc_id, key, strerror(-fd));
    return fd == -ENOENT ? -ENOENT : fd;
  }
  if (have < size) {
    if (fd >= 0) close(fd);
    blob_close(b);
    note_missing(bs, doc_id, key, -EIO);
    return -ENOENT;
  }
  if (fd >= 0) {
    out->fd = fd;
    return 0;
  }
  if (!stream_check) {
    out->read = blob_stream_read;
    out->free = blob_stream_free;
    out->arg = b;
    return 0;
  }
  vstream_t *v = xcalloc(1, sizeof *v);
  v->bs = bs;
  v->b = b;
  v->size = size;
  v->md = EVP_MD_CTX_new();
  snprintf(v->want, sizeof v->want, "%s", sha256);
  v->doc_id = xstrdup(doc_id);
  v->key = xstrdup(key);
  if (!v->md || EVP_DigestInit_ex(v->md, EVP_sha256(), NULL) != 1) {
    vstream_free(v);
    return -ENOMEM;
  }
  out->read = vstream_read;
  out->free = vstream_free;
  out->arg = v;
  return 0;
}
