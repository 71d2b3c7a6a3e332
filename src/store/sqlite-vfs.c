/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One write per commit for the SQLite write-ahead log (see sqlite-vfs.h).
 *
 * SQLite appends each WAL frame as two writes, its 24-byte frame header and its page, so a
 * commit of n pages costs 2n pwrite calls before its fsync. This VFS wraps the default VFS
 * ("unix", found with sqlite3_vfs_find(NULL) when first registered) and changes one thing:
 * the writes to a file opened with SQLITE_OPEN_WAL are gathered in memory and issued as one
 * write through the default VFS's own xWrite (so its error mapping, ENOSPC -> SQLITE_FULL,
 * stays). Every other file (the database, temporary files) is opened by the default VFS
 * straight into the memory SQLite gave, so it runs on the default methods without a layer.
 * The VFS is registered once, not as the process default: only the connections of the SQLite
 * backend name it (store/sqlite.c); `spoold backup` and anything else use the default VFS.
 *
 * Why this is as durable as the default VFS. The file always ends up with exactly the bytes
 * SQLite wrote, each range in the order SQLite wrote it: only the moment of the write moves,
 * and never past anything that could observe the file.
 *  - Commit order on the WAL: SQLite writes a commit's frames, calls xSync (synchronous=FULL)
 *    and only then updates the WAL index, which is what makes the commit visible to the other
 *    connections (each reads the WAL through its own file handle, so they never see this
 *    buffer). With synchronous=NORMAL (the operator option --sqlite-synchronous normal) there
 *    is no xSync at commit: SQLite updates the WAL index right after the writes. So the buffer
 *    is flushed as soon as the commit frame is complete: a 24-byte frame header whose commit
 *    field (bytes 4-7, the database size after the commit) is non-zero, followed by its page.
 *    That holds in both modes, so in FULL the xSync that follows finds nothing buffered; and
 *    xSync flushes anyway before it syncs (the WAL header written after a restart is synced
 *    on its own, for instance).
 *  - Anything that reads or measures the file through this handle sees the buffered bytes:
 *    the buffer is flushed before xRead, xFetch, xFileSize, xTruncate, xFileControl, xSync
 *    and xClose.
 *  - A write that does not continue the buffer (SQLite rewriting a frame of the transaction
 *    in place, the WAL header of a restarted log) first flushes the buffer, then is buffered
 *    itself, so overlapping ranges reach the file in SQLite's order.
 *  - Memory is bounded: a write that would take the buffer past SQV_BUF_MAX (124 KiB, below
 *    the largest write the unix VFS makes in one call) flushes it first, and a write larger
 *    than that goes straight to the file; a large upload's blob rows (a big transaction)
 *    reach the file in writes of up to 124 KiB and do not grow memory.
 *  - Errors: the flush is one xWrite of the default VFS; its error (SQLITE_FULL on ENOSPC,
 *    SQLITE_IOERR_WRITE otherwise, with errno left for sqlite3_system_errno) is returned by
 *    the call that flushed: the write of the commit frame's page or xSync, both inside the
 *    commit, so SQLite fails and rolls back the commit exactly as when its own write fails.
 *    The failed bytes are dropped, as a failed write leaves them unwritten.
 *  - Frames left in the buffer by a transaction that rolled back (pages spilled before the
 *    commit) were never part of a commit; they are written at the next flush, as the default
 *    VFS would have written them at once, and SQLite ignores them (no commit frame after
 *    them, or a stale salt).
 * A WAL file handle belongs to one connection, and a connection is used by one thread at a
 * time (SQLite's contract for the VFS), so the buffer needs no lock.
 */
#include "store/sqlite-vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SQV_NAME      "spoold-wal"
/* Bytes buffered at most per WAL file: one flush is one xWrite of the default VFS, and the
 * unix VFS writes at most 0x1ffff bytes per call (seekAndWriteFd masks the count with it and
 * reports a short write as SQLITE_FULL), so the bound stays below that: 124 KiB. */
#define SQV_BUF_MAX   ((size_t)0x1ffff & ~(size_t)0xfff)
#define SQV_FRAME_HDR 24          /* a WAL frame header (the page follows it) */

typedef struct sqv_file {
  sqlite3_file   base;      /* first: pMethods = &sqv_wal_methods */
  sqlite3_file  *real;      /* the default VFS's file, in the same allocation after this */
  unsigned char *buf;       /* the gathered writes: buf[0..len) belongs at file offset off */
  size_t         len, cap;
  sqlite3_int64  off;
  bool           commit_hdr; /* the last write buffered was a commit frame's header */
} sqv_file_t;

/* Where the default VFS's file starts inside an sqv_file_t allocation (aligned). */
#define SQV_REAL_AT ((sizeof(sqv_file_t) + 15) & ~(size_t)15)

static sqlite3_vfs *sqv_root;  /* the wrapped default VFS, set once with sqv_vfs */
/* SQLite keeps a pointer to the registered VFS for the life of the process: a registry
 * filled once at start (pthread_once below), read by every connection that names it. */
static sqlite3_vfs sqv_vfs;
static pthread_once_t sqv_once = PTHREAD_ONCE_INIT;
static const char *sqv_registered;

/* ---- the WAL file ------------------------------------------------------------------------- */

static int sqv_flush(sqv_file_t *p) {
  if (!p->len) return SQLITE_OK;
  size_t n = p->len;
  p->len = 0;  /* on failure the bytes are dropped, as a failed write leaves them unwritten */
  return p->real->pMethods->xWrite(p->real, p->buf, (int)n, p->off);
}

static int sqv_close(sqlite3_file *f) {
  sqv_file_t *p = (sqv_file_t *)f;
  int rc = sqv_flush(p);
  int rc2 = p->real->pMethods->xClose(p->real);
  free(p->buf);
  p->buf = NULL;
  p->cap = 0;
  return rc != SQLITE_OK ? rc : rc2;
}

static int sqv_read(sqlite3_file *f, void *out, int amt, sqlite3_int64 off) {
  sqv_file_t *p = (sqv_file_t *)f;
  int rc = sqv_flush(p);
  return rc != SQLITE_OK ? rc : p->real->pMethods->xRead(p->real, out, amt, off);
}

/* True when data[0..amt) is a WAL frame header whose commit field is set. */
static bool sqv_is_commit_header(const void *data, int amt) {
  if (amt != SQV_FRAME_HDR) return false;
  const unsigned char *b = data;
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

static int sqv_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off) {
  sqv_file_t *p = (sqv_file_t *)f;
  int rc;
  bool completes = p->commit_hdr;  /* this is the page of a commit frame */
  p->commit_hdr = false;
  if (amt <= 0) return p->real->pMethods->xWrite(p->real, data, amt, off);
  if (p->len && off != p->off + (sqlite3_int64)p->len && (rc = sqv_flush(p)) != SQLITE_OK)
    return rc;
  if (p->len + (size_t)amt > SQV_BUF_MAX && (rc = sqv_flush(p)) != SQLITE_OK) return rc;
  if ((size_t)amt > SQV_BUF_MAX) return p->real->pMethods->xWrite(p->real, data, amt, off);
  if (p->len + (size_t)amt > p->cap) {
    size_t cap = p->cap ? p->cap : 16384;
    while (cap < p->len + (size_t)amt) cap *= 2;
    if (cap > SQV_BUF_MAX) cap = SQV_BUF_MAX;
    unsigned char *nb = realloc(p->buf, cap);
    if (!nb) {  /* no memory to gather: write through, in order */
      if ((rc = sqv_flush(p)) != SQLITE_OK) return rc;
      return p->real->pMethods->xWrite(p->real, data, amt, off);
    }
    p->buf = nb;
    p->cap = cap;
  }
  if (!p->len) p->off = off;
  memcpy(p->buf + p->len, data, (size_t)amt);
  p->len += (size_t)amt;
  if (completes) return sqv_flush(p);  /* the commit frame is whole: publish-ready */
  p->commit_hdr = sqv_is_commit_header(data, amt);
  return SQLITE_OK;
}

static int sqv_truncate(sqlite3_file *f, sqlite3_int64 size) {
  sqv_file_t *p = (sqv_file_t *)f;
  int rc = sqv_flush(p);
  return rc != SQLITE_OK ? rc : p->real->pMethods->xTruncate(p->real, size);
}

static int sqv_sync(sqlite3_file *f, int flags) {
  sqv_file_t *p = (sqv_file_t *)f;
  int rc = sqv_flush(p);
  return rc != SQLITE_OK ? rc : p->real->pMethods->xSync(p->real, flags);
}

static int sqv_file_size(sqlite3_file *f, sqlite3_int64 *size) {
  sqv_file_t *p = (sqv_file_t *)f;
  int rc = sqv_flush(p);
  return rc != SQLITE_OK ? rc : p->real->pMethods->xFileSize(p->real, size);
}

static int sqv_lock(sqlite3_file *f, int level) {
  sqv_file_t *p = (sqv_file_t *)f;
  return p->real->pMethods->xLock(p->real, level);
}

static int sqv_unlock(sqlite3_file *f, int level) {
  sqv_file_t *p = (sqv_file_t *)f;
  return p->real->pMethods->xUnlock(p->real, level);
}

static int sqv_check_reserved(sqlite3_file *f, int *out) {
  sqv_file_t *p = (sqv_file_t *)f;
  return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int sqv_file_control(sqlite3_file *f, int op, void *arg) {
  sqv_file_t *p = (sqv_file_t *)f;
  int rc = sqv_flush(p);
  return rc != SQLITE_OK ? rc : p->real->pMethods->xFileControl(p->real, op, arg);
}

static int sqv_sector_size(sqlite3_file *f) {
  sqv_file_t *p = (sqv_file_t *)f;
  return p->real->pMethods->xSectorSize(p->real);
}

static int sqv_device_characteristics(sqlite3_file *f) {
  sqv_file_t *p = (sqv_file_t *)f;
  return p->real->pMethods->xDeviceCharacteristics(p->real);
}

/* The shared-memory methods belong to the database file, which this VFS does not wrap;
 * they are forwarded for completeness when the default VFS has them. */
static int sqv_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp) {
  sqv_file_t *p = (sqv_file_t *)f;
  if (p->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return p->real->pMethods->xShmMap(p->real, region, size, extend, pp);
}

static int sqv_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
  sqv_file_t *p = (sqv_file_t *)f;
  if (p->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

static void sqv_shm_barrier(sqlite3_file *f) {
  sqv_file_t *p = (sqv_file_t *)f;
  if (p->real->pMethods->iVersion >= 2) p->real->pMethods->xShmBarrier(p->real);
}

static int sqv_shm_unmap(sqlite3_file *f, int del) {
  sqv_file_t *p = (sqv_file_t *)f;
  if (p->real->pMethods->iVersion < 2) return SQLITE_OK;
  return p->real->pMethods->xShmUnmap(p->real, del);
}

static int sqv_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) {
  sqv_file_t *p = (sqv_file_t *)f;
  *pp = NULL;
  int rc = sqv_flush(p);
  if (rc != SQLITE_OK) return rc;
  if (p->real->pMethods->iVersion < 3) return SQLITE_OK;  /* no mapping: SQLite reads */
  return p->real->pMethods->xFetch(p->real, off, amt, pp);
}

static int sqv_unfetch(sqlite3_file *f, sqlite3_int64 off, void *ptr) {
  sqv_file_t *p = (sqv_file_t *)f;
  if (p->real->pMethods->iVersion < 3) return SQLITE_OK;
  return p->real->pMethods->xUnfetch(p->real, off, ptr);
}

static const sqlite3_io_methods sqv_wal_methods = {
    .iVersion = 3,
    .xClose = sqv_close,
    .xRead = sqv_read,
    .xWrite = sqv_write,
    .xTruncate = sqv_truncate,
    .xSync = sqv_sync,
    .xFileSize = sqv_file_size,
    .xLock = sqv_lock,
    .xUnlock = sqv_unlock,
    .xCheckReservedLock = sqv_check_reserved,
    .xFileControl = sqv_file_control,
    .xSectorSize = sqv_sector_size,
    .xDeviceCharacteristics = sqv_device_characteristics,
    .xShmMap = sqv_shm_map,
    .xShmLock = sqv_shm_lock,
    .xShmBarrier = sqv_shm_barrier,
    .xShmUnmap = sqv_shm_unmap,
    .xFetch = sqv_fetch,
    .xUnfetch = sqv_unfetch,
};

/* ---- the VFS ------------------------------------------------------------------------------ */

static int sqv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                    int *out_flags) {
  (void)vfs;
  if (!(flags & SQLITE_OPEN_WAL))  /* not a WAL: the default VFS's file, in SQLite's memory */
    return sqv_root->xOpen(sqv_root, name, f, flags, out_flags);
  sqv_file_t *p = (sqv_file_t *)f;
  memset(p, 0, sizeof *p);
  p->real = (sqlite3_file *)((char *)f + SQV_REAL_AT);
  p->real->pMethods = NULL;
  int rc = sqv_root->xOpen(sqv_root, name, p->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (p->real->pMethods) p->real->pMethods->xClose(p->real);
    p->base.pMethods = NULL;
    return rc;
  }
  p->base.pMethods = &sqv_wal_methods;
  return SQLITE_OK;
}

static int sqv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
  (void)vfs;
  return sqv_root->xDelete(sqv_root, name, sync_dir);
}

static int sqv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
  (void)vfs;
  return sqv_root->xAccess(sqv_root, name, flags, out);
}

static int sqv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
  (void)vfs;
  return sqv_root->xFullPathname(sqv_root, name, n, out);
}

static void *sqv_dl_open(sqlite3_vfs *vfs, const char *name) {
  (void)vfs;
  return sqv_root->xDlOpen(sqv_root, name);
}

static void sqv_dl_error(sqlite3_vfs *vfs, int n, char *msg) {
  (void)vfs;
  sqv_root->xDlError(sqv_root, n, msg);
}

static void (*sqv_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void) {
  (void)vfs;
  return sqv_root->xDlSym(sqv_root, h, sym);
}

static void sqv_dl_close(sqlite3_vfs *vfs, void *h) {
  (void)vfs;
  sqv_root->xDlClose(sqv_root, h);
}

static int sqv_randomness(sqlite3_vfs *vfs, int n, char *out) {
  (void)vfs;
  return sqv_root->xRandomness(sqv_root, n, out);
}

static int sqv_sleep(sqlite3_vfs *vfs, int us) {
  (void)vfs;
  return sqv_root->xSleep(sqv_root, us);
}

static int sqv_current_time(sqlite3_vfs *vfs, double *out) {
  (void)vfs;
  return sqv_root->xCurrentTime(sqv_root, out);
}

static int sqv_last_error(sqlite3_vfs *vfs, int n, char *msg) {
  (void)vfs;
  return sqv_root->xGetLastError ? sqv_root->xGetLastError(sqv_root, n, msg) : 0;
}

static int sqv_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
  (void)vfs;
  return sqv_root->xCurrentTimeInt64(sqv_root, out);
}

static int sqv_set_syscall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr fn) {
  (void)vfs;
  return sqv_root->xSetSystemCall(sqv_root, name, fn);
}

static sqlite3_syscall_ptr sqv_get_syscall(sqlite3_vfs *vfs, const char *name) {
  (void)vfs;
  return sqv_root->xGetSystemCall(sqv_root, name);
}

static const char *sqv_next_syscall(sqlite3_vfs *vfs, const char *name) {
  (void)vfs;
  return sqv_root->xNextSystemCall(sqv_root, name);
}

static void sqv_register(void) {
  sqlite3_vfs *root = sqlite3_vfs_find(NULL);
  if (!root || root->iVersion < 1) return;
  sqv_root = root;
  int ver = root->iVersion < 3 ? root->iVersion : 3;
  size_t size = SQV_REAL_AT + (size_t)root->szOsFile;
  sqv_vfs = (sqlite3_vfs){
      .iVersion = ver,
      .szOsFile = (int)(size > (size_t)root->szOsFile ? size : (size_t)root->szOsFile),
      .mxPathname = root->mxPathname,
      .zName = SQV_NAME,
      .xOpen = sqv_open,
      .xDelete = sqv_delete,
      .xAccess = sqv_access,
      .xFullPathname = sqv_full_pathname,
      .xDlOpen = sqv_dl_open,
      .xDlError = sqv_dl_error,
      .xDlSym = sqv_dl_sym,
      .xDlClose = sqv_dl_close,
      .xRandomness = sqv_randomness,
      .xSleep = sqv_sleep,
      .xCurrentTime = sqv_current_time,
      .xGetLastError = sqv_last_error,
      .xCurrentTimeInt64 = ver >= 2 ? sqv_current_time64 : NULL,
      .xSetSystemCall = ver >= 3 ? sqv_set_syscall : NULL,
      .xGetSystemCall = ver >= 3 ? sqv_get_syscall : NULL,
      .xNextSystemCall = ver >= 3 ? sqv_next_syscall : NULL,
  };
  if (sqlite3_vfs_register(&sqv_vfs, 0) == SQLITE_OK) sqv_registered = SQV_NAME;
}

const char *store_sqlite_vfs_name(void) {
  pthread_once(&sqv_once, sqv_register);
  return sqv_registered;
}
