/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Online backup of the SQLite store (spoold backup / spoold restore).
 *
 * The copy is made with SQLite's online backup API in a single step, which is one read
 * transaction on the source: it is the database exactly as it was at one instant, while the
 * running server keeps writing (WAL readers never block the writer). A PostgreSQL store is
 * backed up with pg_dump instead (docs/operation.md).
 */
#ifndef SPOOLD_STORE_BACKUP_H
#define SPOOLD_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

typedef struct store_backup_info {
  int      schema_version; /* of the copy */
  int64_t  bytes;          /* size of the copy */
  char   **blob_keys;      /* blob files the copy refers to (documents and upload sessions;
                            * bytes kept in its own blob rows are not listed) */
  size_t   nblob_keys;
  char   **session_keys;   /* those of upload sessions still receiving fragments */
  size_t   nsession_keys;
} store_backup_info_t;

/* Releases what *info holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_backup_info_clear(store_backup_info_t *info);

/* The SQLite file of a store URL ("sqlite:PATH"); NULL + *err for other stores. Caller frees. */
char *store_sqlite_path(const char *url, char **err);
/* Copies the SQLite database src_path to dest_path (which must not exist) as one consistent
 * snapshot, syncs it, checks it with PRAGMA integrity_check and lists the blob keys it refers
 * to. 0, or -1 with a malloc'd *err (dest_path then does not exist). */
int  store_backup_sqlite(const char *src_path, const char *dest_path, store_backup_info_t *info,
                         char **err);
/* Checks a database file (PRAGMA integrity_check, schema version) and lists its blob keys as
 * store_backup_sqlite does, without changing it. 0, or -1 with a malloc'd *err. */
int  store_backup_check(const char *path, store_backup_info_t *info, char **err);

#endif
