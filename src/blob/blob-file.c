/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file backend of the blob interface: one file per blob in one directory.
 *
 * A blob is created at its full size with ftruncate (sparse: nothing is allocated until
 * written) and its directory entry is made durable at once (fsync of the directory).
 * Fragments are written with pwrite at their offset straight from the network buffer, so
 * memory use does not depend on the document size; blob_sync is fdatasync. Downloads get a
 * read-only descriptor for sendfile.
 */
#include "blob/blob.h"
#include "util/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct file_store {
  int   dirfd;
  char *dir;
} file_store_t;

typedef struct file_blob {
  blob_t base; /* first */
  int    fd;
} file_blob_t;

static const blob_ops_t FILE_OPS;

static int file_create(void *impl, const char *key, uint64_t size) {
  file_store_t *fs = impl;
  if (size > (uint64_t)INT64_MAX) return -EFBIG;
  int fd = openat(fs->dirfd, key, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return -errno;
  int rc = 0;
  if (ftruncate(fd, (off_t)size) != 0) rc = -errno;
  close(fd);
  if (rc == 0 && fsync(fs->dirfd) != 0) rc = -errno;
  if (rc != 0) unlinkat(fs->dirfd, key, 0);
  return rc;
}

/* A new descriptor of key opened with flags (O_RDONLY or O_RDWR; the caller closes it) and its
 * size in *size, or a negative errno. */
static int open_sized(file_store_t *fs, const char *key, int flags, uint64_t *size) {
  int fd = openat(fs->dirfd, key, flags | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  *size = (uint64_t)st.st_size;
  return fd;
}

static int file_open(void *impl, const char *key, bool write, blob_t **out, uint64_t *size) {
  int fd = open_sized(impl, key, write ? O_RDWR : O_RDONLY, size);
  if (fd < 0) return fd;
  file_blob_t *b = xcalloc(1, sizeof *b);
  b->base.ops = &FILE_OPS;
  b->fd = fd;
  *out = &b->base;
  return 0;
}

static int file_pwrite(blob_t *blob, uint64_t off, const void *data, size_t len) {
  file_blob_t *b = (file_blob_t *)blob;
  const char *p = data;
  while (len) {
    ssize_t n = pwrite(b->fd, p, len, (off_t)off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EIO;
    p += n;
    len -= (size_t)n;
    off += (uint64_t)n;
  }
  return 0;
}

static ssize_t file_pread(blob_t *blob, uint64_t off, void *data, size_t len) {
  file_blob_t *b = (file_blob_t *)blob;
  for (;;) {
    ssize_t n = pread(b->fd, data, len, (off_t)off);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

static int file_sync(blob_t *blob) {
  file_blob_t *b = (file_blob_t *)blob;
  return fdatasync(b->fd) == 0 ? 0 : -errno;
}

/* A new read-only descriptor of key (the caller closes it) and its size in *size, or a
 * negative errno. */
static int file_open_fd(void *impl, const char *key, uint64_t *size) {
  return open_sized(impl, key, O_RDONLY, size);
}

static int file_copy(void *impl, const char *from, const char *to) {
  file_store_t *fs = impl;
  uint64_t size = 0;
  int rc = 0, in = file_open_fd(impl, from, &size);
  if (in < 0) return in;
  int out = openat(fs->dirfd, to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (out < 0) {
    rc = -errno;
    goto done;
  }
  off_t left = (off_t)size;
  while (rc == 0 && left > 0) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) rc = -errno;
    else if (n == 0) rc = -EIO;
    else left -= n;
  }
  if (rc == 0 && fdatasync(out) != 0) rc = -errno;
done:
  close(in);
  if (out < 0) return rc; /* nothing created: `to` is not ours to remove */
  close(out);
  if (rc == 0 && fsync(fs->dirfd) != 0) rc = -errno;
  if (rc != 0) unlinkat(fs->dirfd, to, 0);
  return rc;
}

static void file_close(blob_t *blob) {
  file_blob_t *b = (file_blob_t *)blob;
  close(b->fd);
  free(b);
}

static int file_remove(void *impl, const char *key) {
  file_store_t *fs = impl;
  if (unlinkat(fs->dirfd, key, 0) != 0 && errno != ENOENT) return -errno;
  return 0;
}

static int file_walk(void *impl, int (*fn)(const char *key, int64_t mtime_us, void *arg),
                     void *arg) {
  file_store_t *fs = impl;
  int dfd = openat(fs->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -errno;
  DIR *d = fdopendir(dfd);
  if (!d) {
    int e = -errno;
    close(dfd);
    return e;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!blob_key_valid(de->d_name)) continue;
    struct stat st;
    if (fstatat(fs->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
    if (fn(de->d_name, mtime, arg) != 0) break;
  }
  closedir(d);
  return 0;
}

static void file_free(void *impl) {
  file_store_t *fs = impl;
  close(fs->dirfd);
  free(fs->dir);
  free(fs);
}

/* The operations of the file backend. (blob-db.c's table has the same members: each backend
 * fills blob_ops_t with its own functions.) */
static const blob_ops_t FILE_OPS = {
    .name = "file",
    .create = file_create,
    .open = file_open,
    .pwrite = file_pwrite,
    .pread = file_pread,
    .sync = file_sync,
    .open_fd = file_open_fd,
    .close = file_close,
    .copy = file_copy,
    .remove = file_remove,
    .walk = file_walk,
    .free = file_free,
};

/* Opens the file backend on dir; see blob.h. */
blob_store_t *blob_store_open_files(const char *dir, char **err) {
  *err = NULL;
  if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "cannot create the blob directory %s: %s", dir, strerror(errno));
    *err = buf_detach(&e);
    return NULL;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "cannot open the blob directory %s: %s", dir, strerror(errno));
    *err = buf_detach(&e);
    return NULL;
  }
  file_store_t *fs = xcalloc(1, sizeof *fs);
  fs->dirfd = dfd;
  fs->dir = xstrdup(dir);
  blob_store_t *bs = xcalloc(1, sizeof *bs);
  bs->ops = &FILE_OPS;
  bs->impl = fs;
  return bs;
}
