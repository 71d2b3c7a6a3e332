/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db.h front end: picks the backend from the URL scheme and dispatches every call to it.
 *
 * Adding a backend: implement a db_backend_t (see db-backend.h) in its own file, declare it
 * in db-backend.h and list it in backends[] below.
 */
#include "store/db-backend.h"
#include "util/buf.h"
#include "util/fiber.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const db_backend_t *const backends[] = {
  &db_sqlite_backend,
  &db_postgres_backend,
  NULL,
};

/* Sets *err to a malloc'd message (or logs it when err is NULL). */
void db_set_err(char **err, const char *fmt, ...) {
  buf_t b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  if (err) {
    free(*err);
    *err = buf_detach(&b);
  } else {
    log_error("%s", b.data ? b.data : "");
    buf_free(&b);
  }
}

/* Counts one committed batch of n closures in the commit statistics. */
void db_stats_add_batch(db_stats_t *st, unsigned n) {
  st->commits++;
  st->closures += n;
  unsigned bound = 1;
  for (int i = 0; i < DB_BATCH_BUCKETS; i++, bound *= 2) {
    if (i == DB_BATCH_BUCKETS - 1 || n <= bound) st->batch_le[i]++;
  }
}

const int64_t DB_COMMIT_BOUNDS_US[DB_COMMIT_BUCKETS - 1] = {
    100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 25000, 50000, 100000,
    250000};

void db_stats_add_commit_time(db_stats_t *st, int64_t us) {
  if (us < 0) us = 0;
  st->commit_timed++;
  st->commit_us += (uint64_t)us;
  for (int i = 0; i < DB_COMMIT_BUCKETS; i++)
    if (i == DB_COMMIT_BUCKETS - 1 || us <= DB_COMMIT_BOUNDS_US[i]) st->commit_le[i]++;
}

static void notes_register(void);

/* Opens the store at url with the backend named by its scheme; NULL + *err on failure. */
db_t *db_open(const char *url, int nreaders, const db_options_t *opts, char **err) {
  static const db_options_t defaults;
  static pthread_once_t notes_once = PTHREAD_ONCE_INIT;
  pthread_once(&notes_once, notes_register);
  if (!opts) opts = &defaults;
  if (err) *err = NULL;
  if (!url || !*url) {
    db_set_err(err, "no store URL given (expected sqlite:PATH or postgres://...)");
    return NULL;
  }
  const char *colon = strchr(url, ':');
  if (!colon || colon == url) {
    db_set_err(err, "store URL \"%s\" has no scheme (expected sqlite:PATH or postgres://...)", url);
    return NULL;
  }
  size_t slen = (size_t)(colon - url);
  for (const db_backend_t *const *b = backends; *b; b++) {
    for (const char *const *s = (*b)->schemes; *s; s++) {
      if (strlen(*s) == slen && !strncasecmp(*s, url, slen))
        return (*b)->open(url, colon + 1, nreaders, opts, err);
    }
  }
  buf_t known = BUF_INIT;
  for (const db_backend_t *const *b = backends; *b; b++)
    buf_printf(&known, "%s%s", known.len ? ", " : "", (*b)->url_help);
  db_set_err(err, "unknown store URL scheme \"%.*s\" in \"%s\" (supported: %s)", (int)slen, url,
             url, known.data ? known.data : "");
  buf_free(&known);
  return NULL;
}

/* Closes db (NULL is a no-op); every db_read/db_write caller must have returned. */
void db_close(db_t *db) {
  if (db) db->be->close(db);
}

/* db_after_commit() bookkeeping: db_write() runs its closure through write_wrap(), which
 * points tl_write at the caller's write_ctx_t while the closure runs (on the writer thread). */
#define DB_AFTER_COMMIT_MAX 4

/* A noted failure (db_note_failure): when, and what. */
typedef struct {
  int64_t us;
  char    what[512];
} db_failure_t;

typedef struct {
  db_t     *db;
  db_txn_fn fn;
  void     *arg;
  unsigned  nhooks;
  struct {
    void (*fn)(void *);
    void *arg;
  } hooks[DB_AFTER_COMMIT_MAX];
  db_failure_t failure;  /* noted while the closure ran (possibly on the writer thread) */
} write_ctx_t;

static _Thread_local write_ctx_t *tl_write;

/* What db_thread_full_us(), db_thread_busy_us() and db_thread_failure() answer: the outcome of
 * the last db_write/db_read of the request running on this thread. A request whose write waits
 * on a fiber (util/fiber.h) gives its thread to other requests meanwhile, so this block is
 * carried by the fiber (fiber_register_local, in db_open) and each request reads its own. */
typedef struct {
  int64_t      full_us;  /* db_thread_full_us() */
  int64_t      busy_us;  /* db_thread_busy_us() */
  db_failure_t failure;  /* db_thread_failure() */
} db_thread_notes_t;
static _Thread_local db_thread_notes_t tl_notes;

static void *notes_addr(void) { return &tl_notes; }
static void notes_register(void) { fiber_register_local(notes_addr, sizeof tl_notes); }

/* See db-backend.h. */
void db_note_failure(const char *fmt, ...) {
  db_failure_t *f = tl_write ? &tl_write->failure : &tl_notes.failure;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->what, sizeof f->what, fmt, ap);
  va_end(ap);
  f->us = time_mono_us();
}

/* See db.h. */
const char *db_thread_failure(int64_t since_us) {
  return tl_notes.failure.us && tl_notes.failure.us >= since_us ? tl_notes.failure.what : NULL;
}

int64_t db_thread_busy_us(void) { return tl_notes.busy_us; }

static int write_wrap(db_conn_t *c, void *arg) {
  write_ctx_t *w = arg;
  write_ctx_t *outer = tl_write;
  w->nhooks = 0;  /* the closure may run again from the start */
  w->failure.us = 0;
  tl_write = w;
  int rc = w->fn(c, w->arg);
  tl_write = outer;
  return rc;
}

/* Registers fn(arg) to run after the current write closure commits (see db.h). */
void db_after_commit(db_conn_t *c, void (*fn)(void *arg), void *arg) {
  write_ctx_t *w = tl_write;
  if (!c || !fn || !w) return;
  for (unsigned i = 0; i < w->nhooks; i++)
    if (w->hooks[i].fn == fn && w->hooks[i].arg == arg) return;
  if (w->nhooks == DB_AFTER_COMMIT_MAX) {
    log_error("db_after_commit: more than %d hooks in one closure", DB_AFTER_COMMIT_MAX);
    return;
  }
  w->hooks[w->nhooks].fn = fn;
  w->hooks[w->nhooks].arg = arg;
  w->nhooks++;
}

/* Records the owner db_owner() answers (see db.h). */
void db_set_owner(db_t *db, void *owner) {
  if (db) db->owner = owner;
}

/* The owner of the database whose write closure runs on c (see db.h). */
void *db_owner(db_conn_t *c) {
  write_ctx_t *w = tl_write;
  return c && w ? w->db->owner : NULL;
}

/* db_write through the backend's write function bwrite (its write, or write_fk_off). */
static int write_with(db_t *db, int (*bwrite)(db_t *, db_txn_fn, void *), db_txn_fn fn,
                      void *arg) {
  if (!db || !fn) return DB_ERROR;
  write_ctx_t w = {.db = db, .fn = fn, .arg = arg};
  int64_t t0 = time_mono_us();
  int rc = bwrite(db, write_wrap, &w);
  int64_t us = time_mono_us() - t0;
  if (us < 0) us = 0;
  atomic_fetch_add_explicit(&db->write_n, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&db->write_us, (uint64_t)us, memory_order_relaxed);
  for (int i = 0; i < DB_COMMIT_BUCKETS; i++)
    if (i == DB_COMMIT_BUCKETS - 1 || us <= DB_COMMIT_BOUNDS_US[i])
      atomic_fetch_add_explicit(&db->write_le[i], 1, memory_order_relaxed);
  if (rc != 0 && w.failure.us && w.failure.us > tl_notes.failure.us) tl_notes.failure = w.failure;
  if (rc == DB_BUSY) tl_notes.busy_us = time_mono_us();
  if (rc == DB_FULL) {
    tl_notes.full_us = time_mono_us();
    if (!atomic_exchange(&db->full, true))
      log_error("store: a write failed for lack of space; writes answer 507 and /readyz "
                "fails until space is freed");
  } else if (rc == 0 && atomic_load(&db->full) && atomic_exchange(&db->full, false)) {
    log_info("store: writes succeed again (space was freed)");
  }
  if (rc == 0)
    for (unsigned i = 0; i < w.nhooks; i++) w.hooks[i].fn(w.hooks[i].arg);
  return rc;
}

/* Runs fn in the next group commit and returns its result once the commit is durable; then
 * runs the hooks the closure registered with db_after_commit(). */
int db_write(db_t *db, db_txn_fn fn, void *arg) {
  return db ? write_with(db, db->be->write, fn, arg) : DB_ERROR;
}

/* See db-backend.h. */
int db_write_fk_off(db_t *db, db_txn_fn fn, void *arg) {
  if (!db) return DB_ERROR;
  return write_with(db, db->be->write_fk_off ? db->be->write_fk_off : db->be->write, fn, arg);
}

/* Whether the last write failed for space (see db.h). */
bool db_full(db_t *db) { return db && atomic_load(&db->full); }

int64_t db_thread_full_us(void) { return tl_notes.full_us; }

/* A write that changes nothing but still has to reach the disk (a new row version). */
static int probe_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "UPDATE counters SET value = value WHERE name = 'job'");
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc == DB_FULL ? DB_FULL : DB_ERROR;
}

/* The next value of an id counter (see db.h): the backend's, or the counters table row. */
int db_next_id(db_conn_t *c, const char *counter, int64_t *id) {
  *id = 0;
  if (!c || !counter) return DB_ERROR;
  if (c->be->next_id) return c->be->next_id(c, counter, id);
  /* The UPDATE, then the row's new value read back in the same transaction; a backend whose
   * RETURNING is cheaper than a second statement (db_returning_costly) gets it back with the
   * UPDATE. */
  bool read_back = db_returning_costly(c);
  db_stmt_t *s = db_prepare(c, read_back ? "UPDATE counters SET value = value + 1 WHERE name = ?"
                                         : "UPDATE counters SET value = value + 1 WHERE name = ?"
                                           " RETURNING value");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, counter);
  int rc = db_step(s);
  if (read_back) {
    db_reset(s);
    if (rc != DB_DONE || db_changes(c) != 1) return DB_ERROR; /* the counter names one row */
    s = db_prepare(c, "SELECT value FROM counters WHERE name = ?");
    if (!s) return DB_ERROR;
    db_bind_text(s, 1, counter);
    rc = db_step(s);
  }
  if (rc == DB_ROW) {
    *id = db_col_int64(s, 0);
    rc = db_step(s); /* DB_DONE: the counter names one row */
  }
  db_reset(s);
  return rc == DB_DONE && *id ? 0 : DB_ERROR;
}

/* Tries a tiny real write (see db.h). */
bool db_probe_write(db_t *db) { return db && db_write(db, probe_fn, NULL) == 0; }

/* Runs fn on a read-only connection inside one read transaction; returns fn's result. */
int db_read(db_t *db, db_txn_fn fn, void *arg) {
  if (!db || !fn) return DB_ERROR;
  return db->be->read(db, fn, arg);
}

/* The trivial query of db_ping for a backend without its own ping. */
static int ping_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "SELECT 1");
  int rc = s && db_step(s) == DB_ROW && db_col_int64(s, 0) == 1 ? 0 : DB_ERROR;
  if (s) db_reset(s);
  return rc;
}

/* True when the store answers a trivial query. */
bool db_ping(db_t *db) {
  if (!db) return false;
  return db->be->ping ? db->be->ping(db) : db_read(db, ping_fn, NULL) == 0;
}

/* Copies the commit statistics into *out (zeros for a NULL db). */
void db_get_stats(db_t *db, db_stats_t *out) {
  memset(out, 0, sizeof *out);
  if (!db) return;
  db->be->get_stats(db, out);
  for (int i = 0; i < DB_COMMIT_BUCKETS; i++) out->write_le[i] = atomic_load(&db->write_le[i]);
  out->write_n = atomic_load(&db->write_n);
  out->write_us = atomic_load(&db->write_us);
}

/* Copies the connection pool figures into *out (zeros when the backend has no pool). */
void db_get_pool_stats(db_t *db, db_pool_stats_t *out) {
  memset(out, 0, sizeof *out);
  if (db && db->be->get_pool_stats) db->be->get_pool_stats(db, out);
}

/* False while db's server cannot be reached; see db.h. */
bool db_reachable(db_t *db) { return db && (!db->be->reachable || db->be->reachable(db)); }

/* See db-backend.h. */
void db_wrote(db_t *db) { atomic_fetch_add(&db->write_gen, 1); }

/* See db.h. */
uint64_t db_write_generation(db_t *db) { return db ? atomic_load(&db->write_gen) : 0; }

/* See db.h. */
bool db_change_token(db_t *db, uint64_t *out) {
  return db && db->be->change_token && db->be->change_token(db, out);
}

/* True when several processes may share db. */
bool db_shared(db_t *db) { return db && db->be->shared; }

/* Takes (or tries) the database-wide lock key until c's transaction ends; see db.h. */
/* See db.h. */
int db_notify(db_conn_t *c, const char *channel) {
  if (!c || !channel) return DB_ERROR;
  return c->be->notify ? c->be->notify(c, channel) : 0;
}

/* See db.h. */
int db_listen(db_t *db, const char *const *channels, void (*fn)(const char *channel, void *arg),
              void *arg) {
  if (!db || !channels || !fn) return DB_ERROR;
  return db->be->listen ? db->be->listen(db, channels, fn, arg) : 0;
}

int db_xact_lock(db_conn_t *c, int64_t key, bool wait) {
  if (!c) return DB_ERROR;
  return c->be->xact_lock ? c->be->xact_lock(c, key, wait) : 1;
}

/* True when table name exists on c's database. */
bool db_table_exists(db_conn_t *c, const char *name) {
  if (!c || !name) return false;
  db_stmt_t *s = db_prepare(c, c->be->table_exists_sql);
  if (!s) return false;
  db_bind_text(s, 1, name);
  bool found = db_step(s) == DB_ROW;
  db_reset(s);
  return found;
}

/* True when k is a non-empty run of ASCII letters and digits (spliced into SQL). */
static bool plain_ident(const char *k) {
  if (!k || !k[0]) return false;
  for (; *k; k++)
    if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9')))
      return false;
  return true;
}

/* SQL reading a JSON member in db's dialect; the caller frees it. NULL for a NULL db or a key
 * that is not a plain identifier (the keys are spliced into the SQL text). */
char *db_sql_json_scalar(db_t *db, const char *col, const char *const *keys, size_t nkeys,
                         db_json_kind_t kind) {
  if (!db || !col || nkeys == 0 || !db->be->json_scalar) return NULL;
  for (size_t i = 0; i < nkeys; i++)
    if (!plain_ident(keys[i])) return NULL;
  return db->be->json_scalar(col, keys, nkeys, kind);
}

/* The elements of a JSON array member as a FROM item in db's dialect; see db.h. */
char *db_sql_json_elements(db_t *db, const char *col, const char *const *keys, size_t nkeys,
                           db_json_kind_t kind, const char *alias, char **value) {
  *value = NULL;
  if (!db || !col || nkeys == 0 || !db->be->json_elements || !plain_ident(alias)) return NULL;
  for (size_t i = 0; i < nkeys; i++)
    if (!plain_ident(keys[i])) return NULL;
  return db->be->json_elements(col, keys, nkeys, kind, alias, value);
}

/* The last error message on c; never NULL. */
const char *db_errmsg(db_conn_t *c) { return c ? c->be->errmsg(c) : "no connection"; }

/* The cached statement for sql on c (owned by c); NULL when it does not compile. */
db_stmt_t *db_prepare(db_conn_t *c, const char *sql) {
  if (!c || !sql) return NULL;
  return c->be->prepare(c, sql);
}

/* Binders. They accept the NULL a failed db_prepare returned, so a caller may check once,
 * at db_step (which then returns DB_ERROR). Values are copied; NULL text binds SQL NULL. */
void db_bind_text(db_stmt_t *s, int idx, const char *v) {
  if (s) s->be->bind_text(s, idx, v);
}

void db_bind_int64(db_stmt_t *s, int idx, int64_t v) {
  if (s) s->be->bind_int64(s, idx, v);
}

void db_bind_double(db_stmt_t *s, int idx, double v) {
  if (s) s->be->bind_double(s, idx, v);
}

void db_bind_blob(db_stmt_t *s, int idx, const void *v, size_t len) {
  if (s) s->be->bind_blob(s, idx, v, len);
}

void db_bind_null(db_stmt_t *s, int idx) {
  if (s) s->be->bind_null(s, idx);
}

/* Steps s: DB_ROW, DB_DONE, DB_CONSTRAINT or DB_ERROR (also for a NULL s). */
int db_step(db_stmt_t *s) { return s ? s->be->step(s) : DB_ERROR; }

/* Column accessors for the current row; a NULL s reads as NULL/0. Text and blobs are
 * owned by s and valid until the next step or reset. */
bool db_col_null(db_stmt_t *s, int col) { return s ? s->be->col_null(s, col) : true; }

const char *db_col_text(db_stmt_t *s, int col) { return s ? s->be->col_text(s, col) : NULL; }

int64_t db_col_int64(db_stmt_t *s, int col) { return s ? s->be->col_int64(s, col) : 0; }

double db_col_double(db_stmt_t *s, int col) { return s ? s->be->col_double(s, col) : 0.0; }

const void *db_col_blob(db_stmt_t *s, int col, size_t *len) {
  if (!s) {
    if (len) *len = 0;
    return NULL;
  }
  return s->be->col_blob(s, col, len);
}

/* Resets s and clears its bindings for reuse. */
void db_reset(db_stmt_t *s) {
  if (s) s->be->reset(s);
}

/* Runs one or more statements without results: DB_OK, DB_CONSTRAINT or DB_ERROR. */
int db_exec(db_conn_t *c, const char *sql) {
  if (!c || !sql) return DB_ERROR;
  return c->be->exec(c, sql);
}

/* Rows changed by the last statement on c. */
int64_t db_changes(db_conn_t *c) { return c ? c->be->changes(c) : 0; }

/* See db.h. */
bool db_returning_costly(db_conn_t *c) { return c && c->be->returning_costly; }
