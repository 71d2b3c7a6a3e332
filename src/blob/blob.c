/* SPDX-License-Identifier: Apache-2.0 */
/* The blob interface: key checks and dispatch to the backend (see blob.h). */
#include "blob/blob.h"
#include "util/ids.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHA_STEP (1u << 20)

/* A new random key; see blob.h. */
void blob_key_new(char out[BLOB_KEY_LEN + 1]) {
  unsigned char r[BLOB_KEY_LEN / 2];
  id_random(r, sizeof r);
  for (size_t i = 0; i < sizeof r; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
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
  uint64_t have = 0;
  int rc = blob_open(bs, key, false, &b, &have);
  if (rc != 0) return rc;
  if (have < size) {
    blob_close(b);
    return -EIO;
  }
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char *chunk = malloc(SHA_STEP);
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
