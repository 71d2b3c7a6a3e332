/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spoold backup --to DIR      (--config FILE | --data DIR [--store sqlite:PATH])
 * spoold restore --from DIR   (--config FILE | --data DIR [--store sqlite:PATH])
 *
 * A backup is a directory: spoold.db (a consistent snapshot of the store taken with SQLite's
 * online backup API while spoold keeps serving) and blobs/ (the bytes of every document and
 * upload session the snapshot refers to, except the small ones kept in the store's own blob
 * rows, which are in the snapshot). Document files are copied before the snapshot (so a
 * document finished before the backup began is there even if it is deleted meanwhile), then
 * those created since and the upload sessions still growing are copied again, and files the
 * snapshot does not refer to are left out. The development issuer's key (dev-signing-key.pem)
 * goes along when there is one.
 */
#include "cmd/cmd.h"
#include "auth/dev.h"
#include "blob/blob.h"
#include "config.h"
#include "store/backup.h"
#include "store/store.h"
#include "util/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct where {
  char *data_dir;  /* the data directory (its blobs/ holds the document bytes) */
  char *db_path;   /* the SQLite file */
} where_t;

static void where_free(where_t *w) {
  free(w->data_dir);
  free(w->db_path);
}

/* --config FILE, --data DIR, --store URL (as `spoold serve` reads them, including SPOOLD_*
 * variables); the remaining option (--to or --from) is returned in *dir. */
static int parse(const char *cmd, const char *dir_opt, int argc, char **argv, where_t *w,
                 const char **dir) {
  const char *config = NULL, *data = NULL, *store = NULL;
  *dir = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = !strcmp(a, "--config") ? &config
                      : !strcmp(a, "--data")   ? &data
                      : !strcmp(a, "--store")  ? &store
                      : !strcmp(a, dir_opt)    ? dir
                                               : NULL;
    if (!slot) {
      fprintf(stderr, "spoold %s: unexpected argument '%s' (see spoold %s --help)\n", cmd, a,
              cmd);
      return 2;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "spoold %s: %s needs a value\n", cmd, a);
      return 2;
    }
    *slot = argv[++i];
  }
  if (!*dir) {
    fprintf(stderr, "spoold %s: %s DIR is required\n", cmd, dir_opt);
    return 2;
  }
  char *cargv[3] = {(char *)cmd, "--config", (char *)config};
  config_t cfg;
  char *err = NULL;
  if (config_load(&cfg, config ? 3 : 1, cargv, &err) != 0) {
    fprintf(stderr, "spoold %s: %s\n", cmd, err ? err : "bad configuration");
    free(err);
    config_free(&cfg);
    return 2;
  }
  w->data_dir = xstrdup(data ? data : cfg.data_dir);
  const char *url = store ? store : NULL;
  buf_t b = BUF_INIT;
  if (!url && data) {
    buf_printf(&b, "sqlite:%s/spoold.db", data);
    url = b.data;
  }
  if (!url) url = cfg.store_url;
  w->db_path = store_sqlite_path(url, &err);
  buf_free(&b);
  config_free(&cfg);
  if (!w->db_path) {
    fprintf(stderr, "spoold %s: %s\n", cmd, err);
    free(err);
    free(w->data_dir);
    return 1;
  }
  return 0;
}

static char *join(const char *a, const char *b) {
  buf_t p = BUF_INIT;
  buf_printf(&p, "%s/%s", a, b);
  return buf_detach(&p);
}

static int sync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Copies from to to (replacing it), synced; 0, or -errno (-ENOENT: from is gone). */
static int copy_file(const char *from, const char *to, uint64_t *bytes) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -errno;
  buf_t t = BUF_INIT;
  buf_printf(&t, "%s.tmp", to);
  int out = open(t.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0) {
    int e = -errno;
    close(in);
    buf_free(&t);
    return e;
  }
  int rc = 0;
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = read(in, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = -errno;
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, chunk + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        rc = -errno;
        break;
      }
      off += w;
    }
    if (rc) break;
    if (bytes) *bytes += (uint64_t)n;
  }
  if (!rc && fdatasync(out) != 0) rc = -errno;
  close(in);
  if (close(out) != 0 && !rc) rc = -errno;
  if (!rc && rename(t.data, to) != 0) rc = -errno;
  if (rc) unlink(t.data);
  buf_free(&t);
  return rc;
}

static bool listed(char **keys, size_t n, const char *k) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(keys[i], k)) return true;
  return false;
}

static void backup_usage(FILE *out) {
  fputs("Usage: spoold backup --to DIR [--config FILE] [--data DIR] [--store sqlite:PATH]\n\n"
        "Copies the SQLite store and the document files into DIR (which must not exist yet)\n"
        "while spoold keeps serving: DIR/spoold.db is one consistent snapshot of the store\n"
        "(SQLite's online backup API), checked with PRAGMA integrity_check, and DIR/blobs/\n"
        "holds the bytes of every document and upload session it refers to that are not\n"
        "kept in the store itself (documents of up to 64 KiB are).\n"
        "The store and data directory are those of `spoold serve` with the same --config,\n"
        "SPOOLD_* variables, --data and --store. A PostgreSQL store is backed up with pg_dump.\n\n"
        "  --to DIR         where to write the backup (created, mode 0750)\n"
        "  --config FILE    read data and store from this configuration file\n"
        "  --data DIR       the data directory (default ./var)\n"
        "  --store URL      the store (default sqlite:DIR/spoold.db)\n\n"
        "Exit status: 0 done, 1 failure, 2 usage error.\n",
        out);
}

int backup_command(int argc, char **argv) {
  if (cmd_wants_help(argc, argv)) {
    backup_usage(stdout);
    return 0;
  }
  where_t w = {0};
  const char *to = NULL;
  int rc = parse("backup", "--to", argc, argv, &w, &to);
  if (rc) return rc;
  char *src_blobs = join(w.data_dir, "blobs");
  char *dst_blobs = join(to, "blobs");
  char *dst_db = join(to, "spoold.db");
  store_backup_info_t info = {0};
  char *err = NULL;
  uint64_t bytes = 0;
  size_t missing = 0, copied = 0;
  rc = 1;
  if (mkdir(to, 0750) != 0) {
    fprintf(stderr, "spoold backup: cannot create %s: %s%s\n", to, strerror(errno),
            errno == EEXIST ? " (give a new directory)" : "");
    goto out;
  }
  if (mkdir(dst_blobs, 0750) != 0) {
    fprintf(stderr, "spoold backup: cannot create %s: %s\n", dst_blobs, strerror(errno));
    goto out;
  }
  /* 1. every document file there is now (finished documents never change) */
  DIR *d = opendir(src_blobs);
  if (!d && errno != ENOENT) {
    fprintf(stderr, "spoold backup: cannot read %s: %s\n", src_blobs, strerror(errno));
    goto out;
  }
  for (struct dirent *e; d && (e = readdir(d));) {
    if (!blob_key_valid(e->d_name)) continue;
    char *from = join(src_blobs, e->d_name), *dest = join(dst_blobs, e->d_name);
    int c = copy_file(from, dest, NULL);
    free(from);
    free(dest);
    if (c != 0 && c != -ENOENT) {
      fprintf(stderr, "spoold backup: cannot copy %s/%s: %s\n", src_blobs, e->d_name,
              strerror(-c));
      closedir(d);
      goto out;
    }
  }
  if (d) closedir(d);
  /* 2. the snapshot */
  if (store_backup_sqlite(w.db_path, dst_db, &info, &err) != 0) {
    fprintf(stderr, "spoold backup: %s\n", err);
    free(err);
    goto out;
  }
  /* 3. documents finished since step 1, and upload sessions as far as they have come */
  for (size_t i = 0; i < info.nblob_keys; i++) {
    const char *k = info.blob_keys[i];
    if (!blob_key_valid(k)) continue;
    char *from = join(src_blobs, k), *dest = join(dst_blobs, k);
    bool have = access(dest, F_OK) == 0;
    int c = 0;
    if (!have || listed(info.session_keys, info.nsession_keys, k)) c = copy_file(from, dest, NULL);
    if (c == -ENOENT && !have) missing++;
    else if (c != 0 && c != -ENOENT) {
      fprintf(stderr, "spoold backup: cannot copy %s: %s\n", from, strerror(-c));
      free(from);
      free(dest);
      goto out;
    }
    struct stat sb;
    if (stat(dest, &sb) == 0) {
      bytes += (uint64_t)sb.st_size;
      copied++;
    }
    free(from);
    free(dest);
  }
  /* 4. leave out what the snapshot does not refer to */
  d = opendir(dst_blobs);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    if (!blob_key_valid(e->d_name) || !listed(info.blob_keys, info.nblob_keys, e->d_name)) {
      char *p = join(dst_blobs, e->d_name);
      unlink(p);
      free(p);
    }
  }
  if (d) closedir(d);
  /* the development issuer's key (--dev), so tokens minted before stay valid */
  char *kfrom = join(w.data_dir, DEV_KEY_FILE), *kto = join(to, DEV_KEY_FILE);
  int kc = copy_file(kfrom, kto, NULL);
  if (kc == 0) chmod(kto, 0600);
  free(kfrom);
  free(kto);
  if (kc != 0 && kc != -ENOENT) {
    fprintf(stderr, "spoold backup: cannot copy %s: %s\n", DEV_KEY_FILE, strerror(-kc));
    goto out;
  }
  if (sync_dir(dst_blobs) != 0 || sync_dir(to) != 0) {
    fprintf(stderr, "spoold backup: cannot sync %s: %s\n", to, strerror(errno));
    goto out;
  }
  if (missing)
    fprintf(stderr,
            "spoold backup: warning: %zu document file(s) the snapshot refers to were deleted "
            "before they could be copied (documents removed while the backup ran)\n",
            missing);
  printf("backup %s: store schema version %d, %lld bytes; %zu document file(s), %llu bytes\n",
         to, info.schema_version, (long long)info.bytes, copied, (unsigned long long)bytes);
  rc = 0;
out:
  store_backup_info_clear(&info);
  free(src_blobs);
  free(dst_blobs);
  free(dst_db);
  where_free(&w);
  return rc;
}

static void restore_usage(FILE *out) {
  fputs("Usage: spoold restore --from DIR [--config FILE] [--data DIR] [--store sqlite:PATH]\n\n"
        "Puts a backup made by `spoold backup` in place of a store: checks DIR/spoold.db\n"
        "(PRAGMA integrity_check, a schema this spoold knows) and that every document file it\n"
        "refers to is in DIR/blobs/, then copies both into the data directory. Stop spoold\n"
        "first; the target store must not exist (move an old one aside).\n\n"
        "  --from DIR       the backup directory\n"
        "  --config FILE    read data and store from this configuration file\n"
        "  --data DIR       the data directory to restore into (default ./var; created)\n"
        "  --store URL      the store file (default sqlite:DIR/spoold.db)\n\n"
        "Exit status: 0 done, 1 failure, 2 usage error.\n",
        out);
}

int restore_command(int argc, char **argv) {
  if (cmd_wants_help(argc, argv)) {
    restore_usage(stdout);
    return 0;
  }
  where_t w = {0};
  const char *from = NULL;
  int rc = parse("restore", "--from", argc, argv, &w, &from);
  if (rc) return rc;
  char *src_db = join(from, "spoold.db"), *src_blobs = join(from, "blobs");
  char *dst_blobs = join(w.data_dir, "blobs");
  store_backup_info_t info = {0};
  char *err = NULL;
  uint64_t bytes = 0;
  rc = 1;
  if (store_backup_check(src_db, &info, &err) != 0) {
    fprintf(stderr, "spoold restore: %s\n", err);
    free(err);
    goto out;
  }
  for (size_t i = 0; i < info.nblob_keys; i++) {
    char *p = join(src_blobs, info.blob_keys[i]);
    bool ok = access(p, R_OK) == 0;
    free(p);
    if (!ok && !listed(info.session_keys, info.nsession_keys, info.blob_keys[i])) {
      fprintf(stderr, "spoold restore: warning: document file %s/%s is missing from the backup\n",
              src_blobs, info.blob_keys[i]);
    }
  }
  if (access(w.db_path, F_OK) == 0) {
    fprintf(stderr, "spoold restore: %s exists; move it (and its -wal and -shm files) aside "
                    "first\n", w.db_path);
    goto out;
  }
  if ((mkdir(w.data_dir, 0750) != 0 && errno != EEXIST) ||
      (mkdir(dst_blobs, 0750) != 0 && errno != EEXIST)) {
    fprintf(stderr, "spoold restore: cannot create %s: %s\n", dst_blobs, strerror(errno));
    goto out;
  }
  for (size_t i = 0; i < info.nblob_keys; i++) {
    char *a = join(src_blobs, info.blob_keys[i]), *b = join(dst_blobs, info.blob_keys[i]);
    int c = copy_file(a, b, &bytes);
    free(a);
    free(b);
    if (c != 0 && c != -ENOENT) {
      fprintf(stderr, "spoold restore: cannot copy %s: %s\n", info.blob_keys[i], strerror(-c));
      goto out;
    }
  }
  char *kfrom = join(from, DEV_KEY_FILE), *kto = join(w.data_dir, DEV_KEY_FILE);
  int kc = access(kto, F_OK) == 0 ? -EEXIST : copy_file(kfrom, kto, NULL);
  if (kc == 0) chmod(kto, 0600);
  free(kfrom);
  free(kto);
  if (kc != 0 && kc != -ENOENT && kc != -EEXIST) {
    fprintf(stderr, "spoold restore: cannot copy %s: %s\n", DEV_KEY_FILE, strerror(-kc));
    goto out;
  }
  /* the store last, so a store never refers to files that are not there yet */
  for (const char *sfx = "-wal"; sfx; sfx = !strcmp(sfx, "-wal") ? "-shm" : NULL) {
    buf_t p = BUF_INIT;
    buf_printf(&p, "%s%s", w.db_path, sfx);
    unlink(p.data);
    buf_free(&p);
  }
  int c = copy_file(src_db, w.db_path, NULL);
  if (c != 0) {
    fprintf(stderr, "spoold restore: cannot copy the store to %s: %s\n", w.db_path,
            strerror(-c));
    goto out;
  }
  sync_dir(dst_blobs);
  sync_dir(w.data_dir);
  printf("restored %s into %s: store schema version %d; %zu document file(s), %llu bytes\n",
         from, w.db_path, info.schema_version, info.nblob_keys, (unsigned long long)bytes);
  rc = 0;
out:
  store_backup_info_clear(&info);
  free(src_db);
  free(src_blobs);
  free(dst_blobs);
  where_free(&w);
  return rc;
}
