/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite VFS of the SQLite backend (store/sqlite.c only): the default VFS, with the writes
 * to a write-ahead log gathered so that a commit's frames reach the file in one write.
 * See sqlite-vfs.c for the rules that keep it as durable as the default VFS.
 */
#ifndef SPOOLD_STORE_SQLITE_VFS_H
#define SPOOLD_STORE_SQLITE_VFS_H

/* Registers the VFS with SQLite on the first call (not as the default VFS: only connections
 * that name it use it) and returns its name for sqlite3_open_v2's zVfs argument (a static
 * string); NULL when it cannot be registered (no default VFS, or registration failed), in
 * which case the caller opens its connections with the default VFS. Thread-safe. */
const char *store_sqlite_vfs_name(void);

#endif
