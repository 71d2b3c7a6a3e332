/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hot-job cache behind store_job_get(): a job read again is copied from memory instead of
 * read in a transaction, as long as nothing was written to the database (by this process or
 * another one) since the copy was read.
 *
 * Correct by construction: an entry carries the version (store_job_cache_version) read before
 * its read transaction began, and is used only while the version is unchanged. The version has
 * two parts. The writer generation (db_write_generation): every write of the process (the
 * Graph and IPP faces, the sweeper, the pull-print actions, the dev API) goes through the one
 * writer, which moves the generation after each transaction and before releasing any caller of
 * it. And the database's change token (db_change_token): on SQLite the WAL-index header that
 * every commit rewrites, also the commits of another process on the same file (`spoold tenant
 * remove` while the server runs), read without a transaction or a system call. So an entry
 * never outlives a committed change. Any write invalidates every entry (no bookkeeping of which
 * rows a write touched); a store that cannot give a change token caches nothing, and a store
 * that other servers write (PostgreSQL, db_shared) has no cache.
 *
 * Admission: a job is copied in only at its second miss in a row on its slot (each slot
 * remembers the hash of the last key that missed there without being put). A job read once
 * (random reads among a million jobs, the read after each write of a lifecycle) costs no copy
 * and evicts no entry; a job read again is cached from its second read on.
 */
#include "store/store-private.h"
#include "store/db.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 4096, STRIPES = 64 }; /* direct-mapped slots; a mutex per stripe of them */

typedef struct slot {
  bool                  used;
  uint64_t              seen; /* key hash of the last miss here that was not put; 0: none */
  store_job_cache_ver_t ver;
  store_job_t job; /* job.tenant and job.id are the key */
} slot_t;

struct store_job_cache {
  pthread_mutex_t mu[STRIPES];
  slot_t          slots[SLOTS];
};

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static void job_copy(store_job_t *dst, const store_job_t *src) {
  *dst = *src;
  dst->tenant = dup_or_null(src->tenant);
  dst->printer_id = dup_or_null(src->printer_id);
  dst->display_name = dup_or_null(src->display_name);
  dst->description = dup_or_null(src->description);
  dst->configuration = dup_or_null(src->configuration);
  dst->created_by_id = dup_or_null(src->created_by_id);
  dst->created_by_upn = dup_or_null(src->created_by_upn);
  dst->created_by_name = dup_or_null(src->created_by_name);
  dst->created_by_ip = dup_or_null(src->created_by_ip);
  dst->redirected_from = dup_or_null(src->redirected_from);
  dst->redirected_to = dup_or_null(src->redirected_to);
}

/* The key's hash (never 0); its slot is the hash modulo SLOTS. */
static uint64_t key_hash(const char *tenant, int64_t id) {
  uint64_t h = 1469598103934665603ULL ^ (uint64_t)id;
  h *= 1099511628211ULL;
  for (const unsigned char *p = (const unsigned char *)tenant; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  h ^= h >> 29;
  return h ? h : 1;
}

/* See store-private.h. */
store_job_cache_t *store_job_cache_new(void) {
  store_job_cache_t *c = xcalloc(1, sizeof *c);
  for (size_t i = 0; i < STRIPES; i++) pthread_mutex_init(&c->mu[i], NULL);
  return c;
}

/* See store-private.h. */
void store_job_cache_free(store_job_cache_t *c) {
  if (!c) return;
  for (size_t i = 0; i < SLOTS; i++) store_job_clear(&c->slots[i].job);
  for (size_t i = 0; i < STRIPES; i++) pthread_mutex_destroy(&c->mu[i]);
  free(c);
}

/* See store-private.h. */
bool store_job_cache_version(db_t *db, store_job_cache_ver_t *out) {
  out->gen = db_write_generation(db);
  return db_change_token(db, &out->token);
}

/* See store-private.h. */
bool store_job_cache_get(store_job_cache_t *c, const store_job_cache_ver_t *v, const char *tenant,
                         int64_t id, store_job_t *out) {
  size_t i = (size_t)(key_hash(tenant, id) % SLOTS);
  pthread_mutex_t *mu = &c->mu[i % STRIPES];
  pthread_mutex_lock(mu);
  slot_t *s = &c->slots[i];
  bool hit = s->used && s->ver.gen == v->gen && s->ver.token == v->token && s->job.id == id && s->job.tenant &&
             strcmp(s->job.tenant, tenant) == 0;
  if (hit) job_copy(out, &s->job);
  pthread_mutex_unlock(mu);
  return hit;
}

/* See store-private.h. */
void store_job_cache_put(store_job_cache_t *c, const store_job_cache_ver_t *v,
                         const store_job_t *job) {
  if (!job->tenant) return;
  uint64_t h = key_hash(job->tenant, job->id);
  size_t i = (size_t)(h % SLOTS);
  pthread_mutex_t *mu = &c->mu[i % STRIPES];
  pthread_mutex_lock(mu);
  slot_t *s = &c->slots[i];
  bool same = s->used && s->job.id == job->id && s->job.tenant &&
              strcmp(s->job.tenant, job->tenant) == 0;
  if (!same && s->seen != h) { /* its first miss here: remembered, not copied (see above) */
    s->seen = h;
    pthread_mutex_unlock(mu);
    return;
  }
  s->seen = 0;
  store_job_clear(&s->job);
  job_copy(&s->job, job);
  s->ver = *v;
  s->used = true;
  pthread_mutex_unlock(mu);
}
