/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store handle: opening, migrating and probing the database behind store.h, plus the
 * helpers the store modules share (store-private.h).
 */
#include "store/ipp-private.h"
#include "store/store-private.h"
#include "util/buf.h"
#include "util/jsonmerge.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

/* Opens the database at url with nreaders read connections and, when migrate is true,
 * applies pending migrations. Returns the store (caller frees with store_close) or NULL and
 * a malloc'd *err (caller frees). */
store_t *store_open(const char *url, int nreaders, bool migrate, char **err) {
  return store_open_opts(url, nreaders, migrate, NULL, err);
}

/* See store.h. */
store_t *store_open_opts(const char *url, int nreaders, bool migrate, const store_options_t *opts,
                         char **err) {
  if (err) *err = NULL;
  _Static_assert((int)STORE_INLINE_ON == (int)DB_INLINE_ON &&
                 (int)STORE_INLINE_OFF == (int)DB_INLINE_OFF, "one set of modes");
  db_options_t dopts = {.sqlite_sync_normal = opts && opts->sqlite_sync_normal,
                        .inline_commit = opts ? (int)opts->inline_commit : DB_INLINE_AUTO};
  db_t *db = db_open(url, nreaders, &dopts, err);
  if (!db) return NULL;
  if (migrate && db_migrate(db, err) != 0) {
    db_close(db);
    return NULL;
  }
  store_t *st = xcalloc(1, sizeof *st);
  st->db = db;
  pthread_mutex_init(&st->outbox_wake.mu, NULL);
  pthread_mutex_init(&st->ipp_wake.mu, NULL);
  db_set_owner(db, st);
  if (!db_shared(db)) st->job_cache = store_job_cache_new();
  return st;
}

/* Closes the store once every caller is done with it (queued writes are committed first).
 * NULL is a no-op. */
void store_close(store_t *st) {
  if (!st) return;
  db_close(st->db);
  store_job_cache_free(st->job_cache);
  pthread_mutex_destroy(&st->outbox_wake.mu);
  pthread_mutex_destroy(&st->ipp_wake.mu);
  free(st);
}

/* Applies pending migrations; 0 on success, -1 and a malloc'd *err (caller frees) otherwise. */
int store_migrate(store_t *st, char **err) { return db_migrate(st->db, err); }

/* True when the database answers a trivial query. */
bool store_ping(store_t *st) { return st && db_ping(st->db); }

/* Space (see store.h). */
bool store_full(store_t *st) { return st && db_full(st->db); }

bool store_probe_write(store_t *st) { return st && db_probe_write(st->db); }

bool store_write_full_since(int64_t mono_us) {
  int64_t t = db_thread_full_us();
  return t != 0 && t >= mono_us;
}

/* See store.h. */
bool store_write_busy_since(int64_t mono_us) {
  int64_t t = db_thread_busy_us();
  return t != 0 && t >= mono_us;
}

/* See store.h. */
const char *store_failure_since(int64_t mono_us) { return db_thread_failure(mono_us); }

/* The applied schema version (0 for an empty database, -1 when unreadable). */
int store_schema_version(store_t *st) { return db_schema_version(st->db); }

/* Copies the database's commit statistics into *out. */
void store_get_stats(store_t *st, store_stats_t *out) {
  db_stats_t s;
  db_get_stats(st->db, &s);
  out->commits = s.commits;
  out->closures = s.closures;
  for (int i = 0; i < 8; i++) out->batch_le[i] = s.batch_le[i];
  out->pages = s.pages;
  out->checkpoints = s.checkpoints;
  out->checkpoints_writer = s.checkpoints_writer;
  out->wal_restarts_deferred = s.wal_restarts_deferred;
  out->inline_commits = s.inline_commits;
  out->inline_allowed = s.inline_allowed;
  _Static_assert(STORE_COMMIT_BUCKETS == DB_COMMIT_BUCKETS, "one histogram");
  for (int i = 0; i < STORE_COMMIT_BUCKETS; i++) out->commit_le[i] = s.commit_le[i];
  out->commit_timed = s.commit_timed;
  out->commit_us = s.commit_us;
  for (int i = 0; i < STORE_COMMIT_BUCKETS; i++) out->write_le[i] = s.write_le[i];
  out->write_n = s.write_n;
  out->write_us = s.write_us;
}

int64_t store_commit_bound_us(int i) { return DB_COMMIT_BOUNDS_US[i]; }

/* True when the store may be shared by several processes (PostgreSQL). */
/* See store-private.h. */
int store_sweep_turn(db_conn_t *c, int64_t which) {
  return db_xact_lock(c, DB_LOCK_SWEEP + which, false);
}

static void remote_change(const char *channel, void *arg) {
  store_t *st = arg;
  if (!channel || strcmp(channel, STORE_CH_IPP_EVENTS) == 0) store_wake_run(&st->ipp_wake);
}

/* See store.h. */
int store_listen(store_t *st) {
  if (!st || !db_shared(st->db)) return 0;
  static const char *const channels[] = {STORE_CH_IPP_EVENTS, NULL};
  return db_listen(st->db, channels, remote_change, st) == 0 ? 0 : -1;
}

bool store_is_shared(store_t *st) { return st && db_shared(st->db); }

/* The depth of store_read_together on this thread. A per-thread variable because the store
 * reads made inside fn (store_job_get) are called without a context to carry it. */
static _Thread_local int tl_together;

typedef struct {
  void (*fn)(void *);
  void *arg;
  bool  ran;
} together_arg_t;

static int together_fn(db_conn_t *c, void *arg) {
  (void)c;
  together_arg_t *t = arg;
  if (t->ran) return 0; /* never twice, whatever the backend does */
  t->ran = true;
  tl_together++;
  t->fn(t->arg);
  tl_together--;
  return 0;
}

/* See store.h. */
void store_read_together(store_t *st, void (*fn)(void *arg), void *arg) {
  together_arg_t t = {fn, arg, false};
  if (st && !db_shared(st->db)) db_read(st->db, together_fn, &t);
  if (!t.ran) fn(arg);
}

/* See store-private.h. */
bool store_in_read_together(void) { return tl_together > 0; }

/* False while the database server cannot be reached. */
bool store_reachable(store_t *st) { return st && db_reachable(st->db); }

/* Copies the connection pool figures into *out. */
void store_get_pool_stats(store_t *st, store_pool_stats_t *out) {
  db_pool_stats_t p;
  db_get_pool_stats(st->db, &p);
  *out = (store_pool_stats_t){p.size, p.open, p.in_use, p.waits, p.wait_us, p.connects,
                              p.connect_failures};
}

/* Maps a closure's return value to a store_rc_t (see store-private.h). */
store_rc_t store_rc(int rc) {
  switch (rc) {
    case 0: return STORE_OK;
    case STORE_NOT_FOUND: return STORE_NOT_FOUND;
    case STORE_INVALID: return STORE_INVALID;
    case STORE_LIMITED: return STORE_LIMITED;
    case STORE_CONFLICT:
    case DB_CONSTRAINT: return STORE_CONFLICT;
    case DB_ROW:
    case DB_DONE:
      log_error("store: a closure returned db_step()'s %s (a bug in the store module)",
                rc == DB_ROW ? "DB_ROW" : "DB_DONE");
      return STORE_ERROR;
    default: return STORE_ERROR;
  }
}

/* A malloc'd copy (caller frees) of text column col; NULL (or "" with empty_for_null) when
 * the column is NULL. */
char *store_col_strdup(db_stmt_t *s, int col, bool empty_for_null) {
  const char *v = db_col_text(s, col);
  if (!v) return empty_for_null ? xstrdup("") : NULL;
  return xstrdup(v);
}

int64_t store_col_i64_or(db_stmt_t *s, int col, int64_t dflt) {
  return db_col_null(s, col) ? dflt : db_col_int64(s, col);
}

void *store_col_blob_dup(db_stmt_t *s, int col, size_t *len) {
  size_t n = 0;
  const void *p = db_col_null(s, col) ? NULL : db_col_blob(s, col, &n);
  *len = 0;
  if (!p) return NULL;
  void *d = xmalloc(n ? n : 1);
  memcpy(d, p, n);
  *len = n;
  return d;
}

int store_step_done(db_stmt_t *s) {
  if (!s) return DB_ERROR;
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc == DB_CONSTRAINT || rc == DB_FULL ? rc : DB_ERROR;
}

/* See store-private.h. */
void store_wake_set(store_wake_t *w, void (*fn)(void *arg), void *arg) {
  pthread_mutex_lock(&w->mu);
  w->fn = fn;
  w->arg = arg;
  pthread_mutex_unlock(&w->mu);
}

/* See store-private.h. */
void store_wake_run(void *wake) {
  store_wake_t *w = wake;
  pthread_mutex_lock(&w->mu);
  if (w->fn) w->fn(w->arg);
  pthread_mutex_unlock(&w->mu);
}

/* See store-private.h. */
store_t *store_of(db_conn_t *c) { return db_owner(c); }

/* See store-private.h. */
int store_step_row(db_stmt_t *s, void (*read)(db_stmt_t *s, void *out), void *out) {
  int rc = db_step(s);
  if (rc == DB_ROW && read) read(s, out);
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

/* See store-private.h. */
int store_row_exists(db_conn_t *c, const char *sql, const char *id, const char *tenant) {
  if (!tenant) return STORE_NOT_FOUND;  /* tenant_id = NULL matches no row */
  return store_read_by_id(c, sql, id, tenant, NULL, NULL);
}

/* See store-private.h. */
void store_cols_read(db_stmt_t *s, const store_col_t *cols, size_t n, void *out) {
  for (size_t i = 0; i < n; i++) {
    void *m = (char *)out + cols[i].off;
    int col = (int)i;
    switch (cols[i].kind) {
      case STORE_COL_TEXT: *(char **)m = store_col_strdup(s, col, false); break;
      case STORE_COL_TEXT_EMPTY: *(char **)m = store_col_strdup(s, col, true); break;
      case STORE_COL_I64: *(int64_t *)m = db_col_int64(s, col); break;
      case STORE_COL_INT: *(int *)m = (int)db_col_int64(s, col); break;
      case STORE_COL_BOOL: *(bool *)m = db_col_int64(s, col) != 0; break;
    }
  }
}

/* See store-private.h. */
void store_cols_free(const store_col_t *cols, size_t n, void *p) {
  if (!p) return;
  for (size_t i = 0; i < n; i++) {
    if (cols[i].kind != STORE_COL_TEXT && cols[i].kind != STORE_COL_TEXT_EMPTY) continue;
    char **m = (char **)((char *)p + cols[i].off);
    free(*m);
    *m = NULL;
  }
}

/* See store-private.h. */
int store_read_by_id(db_conn_t *c, const char *sql, const char *id, const char *tenant,
                     void (*read)(db_stmt_t *s, void *out), void *out) {
  db_stmt_t *s = db_prepare(c, sql);
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, id);
  if (tenant) db_bind_text(s, 2, tenant);
  return store_step_row(s, read, out);
}

typedef struct {
  const char *sql, *id, *tenant;
  void      (*read)(db_stmt_t *s, void *out);
  void      (*clear)(void *out);
  void       *out;
} get_by_id_arg_t;

static int get_by_id_fn(db_conn_t *c, void *arg) {
  get_by_id_arg_t *a = arg;
  if (a->clear) a->clear(a->out);
  return store_read_by_id(c, a->sql, a->id, a->tenant, a->read, a->out);
}

/* See store-private.h. */
store_rc_t store_get_by_id(store_t *st, const char *sql, const char *id, const char *tenant,
                           void (*read)(db_stmt_t *s, void *out), void (*clear)(void *out),
                           void *out, size_t size) {
  if (out) memset(out, 0, size);
  if (!id || !tenant) return STORE_NOT_FOUND;
  get_by_id_arg_t a = {sql, id, tenant, read, clear, out};
  store_rc_t rc = store_rc(db_read(st->db, get_by_id_fn, &a));
  if (rc != STORE_OK && clear) clear(out);
  return rc;
}

/* See store-private.h. */
int store_json_merge_text(char **stored, const char *patch) {
  if (!patch) return 0;
  if (strcmp(patch, "null") == 0) {
    free(*stored);
    *stored = NULL;
    return 0;
  }
  char *merged = json_merge_members_text(*stored, patch);
  if (!merged) return DB_ERROR;
  free(*stored);
  *stored = merged;
  return 0;
}

/* See store.h. */
void store_strings_free(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++) free(v[i]);
  free(v);
}
