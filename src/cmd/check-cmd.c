/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `spoold check [--data DIR | --store URL]`: a full integrity check of a store, read only.
 *
 * The database: SQLite's PRAGMA integrity_check, then what both backends can check with SQL
 * (store_check_database with full). Every uploaded document: its bytes are present, at least
 * as long as recorded, and their SHA-256 equals the recorded one. One line per problem, naming
 * the ids; a last line with the counts. Exit status 0 when nothing was found, 1 when a problem
 * was found (or the check could not run), 2 on a usage error.
 */
#include "blob/blob.h"
#include "cmd/cmd.h"
#include "store/store.h"
#include "util/buf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void print_problem(const char *line, void *arg) {
  (void)arg;
  printf("%s\n", line);
}

/* Verifies every uploaded document against its bytes; returns the problems found, -1 when
 * the documents could not be listed. *checked receives the number of documents. */
static int check_documents(store_t *st, blob_store_t *bs, size_t *checked) {
  store_document_ref_t *docs = NULL;
  size_t n = 0;
  *checked = 0;
  if (store_documents_uploaded(st, &docs, &n) != STORE_OK) return -1;
  int problems = 0;
  for (size_t i = 0; i < n; i++) {
    const store_document_ref_t *d = &docs[i];
    if (!d->sha256) continue;  /* reported by the database check */
    char found[BLOB_SHA256_HEX + 1] = "";
    int rc = blob_verify(bs, d->blob_key, d->size > 0 ? (uint64_t)d->size : 0, d->sha256,
                         found);
    if (rc == 0) continue;
    problems++;
    printf("document %s (job %" PRId64 ", tenant %s): ", d->id, d->job_id, d->tenant);
    if (rc == -ENOENT)
      printf("bytes missing (blob %s not found)\n", d->blob_key);
    else if (rc == -EIO)
      printf("bytes missing (blob %s is shorter than the document's %" PRId64 " bytes)\n",
             d->blob_key, d->size);
    else if (rc == -EBADMSG)
      printf("SHA-256 mismatch (blob %s: recorded %s, found %s)\n", d->blob_key, d->sha256,
             found);
    else
      printf("cannot read blob %s: %s\n", d->blob_key, strerror(-rc));
  }
  *checked = n;
  store_document_refs_free(docs, n);
  return problems;
}

/* spoold check: see cmd.h. */
int check_command(int argc, char **argv) {
  const char *data = "./var", *url = NULL;
  int done = cmd_data_store_args(
      "check",
      "Usage: spoold check [--data DIR] [--store URL]\n"
      "Checks the store fully without changing it: the database (SQLite's PRAGMA\n"
      "integrity_check, and consistency checks on both backends) and every stored\n"
      "document (bytes present, SHA-256 equal to the recorded one). Prints one line per\n"
      "problem and exits 1 when there is any, 0 otherwise.",
      argc, argv, &data, &url);
  if (done >= 0) return done;
  buf_t b = BUF_INIT;
  int status = 1;
  store_t *st = NULL;
  blob_store_t *bs = NULL;
  char *err = NULL;
  if (!url) {
    buf_printf(&b, "sqlite:%s/spoold.db", data);
    url = b.data;
  }
  if (!strncmp(url, "sqlite:", 7)) {  /* never create a database while checking one */
    struct stat sb;
    const char *path = url + 7;
    if (!strncmp(path, "//", 2)) path += 2;
    if (stat(path, &sb) != 0) {
      fprintf(stderr, "spoold check: no database at %s: %s\n", path, strerror(errno));
      goto out;
    }
  }
  st = store_open(url, 1, false, &err);
  if (!st) {
    fprintf(stderr, "spoold check: %s\n", err);
    goto out;
  }
  int db_problems = store_check_database(st, true, print_problem, NULL);
  if (db_problems < 0) {
    fprintf(stderr, "spoold check: the database check of %s could not run (see the log)\n", url);
    goto out;
  }
  bs = blob_store_open(st, data, &err);
  if (!bs) {
    fprintf(stderr, "spoold check: %s\n", err);
    goto out;
  }
  size_t ndocs = 0;
  int doc_problems = check_documents(st, bs, &ndocs);
  if (doc_problems < 0) {
    fprintf(stderr, "spoold check: cannot list the documents of %s (see the log)\n", url);
    goto out;
  }
  int total = db_problems + doc_problems;
  printf("checked %s: database %s, %zu document(s): %d problem(s)\n", url,
         store_is_shared(st) ? "consistency" : "integrity_check and consistency", ndocs, total);
  status = total ? 1 : 0;
out:
  blob_store_free(bs);
  store_close(st);
  free(err);
  buf_free(&b);
  return status;
}
