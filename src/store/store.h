/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: the print domain's persistent state, behind one interface.
 *
 * Callers above src/store (graph, ipp, notify, auth, main) use only this
 * header; they never see SQL or the backend. Every function returns a
 * STORE_* code. Write functions return only once the change is durable.
 *
 * Ownership: output structs are filled by the store; strings in them are
 * malloc'd and released with the matching *_clear() function.
 */
#ifndef SPOOLD_STORE_STORE_H
#define SPOOLD_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

typedef enum {
  STORE_OK = 0,
  STORE_NOT_FOUND = 1,
  STORE_CONFLICT = 2,   /* unique constraint or a state precondition failed */
  STORE_INVALID = 3,    /* the request's query options do not fit the collection (a message
                           saying why comes back through the function's err argument) */
  STORE_LIMITED = 4,    /* an activity limit is full (store/limits.h); nothing was written */
  STORE_ERROR = -1,     /* I/O or internal error (already logged) */
} store_rc_t;

/* Frees an array of n malloc'd strings (the arrays of ids and blob keys the store hands out).
 * v may be NULL. */
void store_strings_free(char **v, size_t n);

/* Opens (and migrates, unless migrate is false) the store at url, e.g. "sqlite:/var/spoold.db".
 * nreaders = read connections to keep. NULL + malloc'd *err on failure. */
store_t *store_open(const char *url, int nreaders, bool migrate, char **err);
/* Options of store_open_opts (a zeroed struct gives store_open's defaults). */
typedef struct store_options {
  bool sqlite_sync_normal;  /* SQLite synchronous=NORMAL: see db_options_t in store/db.h and
                               --sqlite-synchronous in docs/configuration.md */
  /* SQLite: a lone write's commit on its caller's thread: auto (0) while the CPUs are not
   * contended, on, off (db_options_t in store/db.h, --inline-commit in
   * docs/configuration.md) */
  enum { STORE_INLINE_AUTO, STORE_INLINE_ON, STORE_INLINE_OFF } inline_commit;
} store_options_t;
/* store_open with options (NULL: the defaults). */
store_t *store_open_opts(const char *url, int nreaders, bool migrate, const store_options_t *opts,
                         char **err);
/* Closes the database and frees st (NULL is a no-op); nothing may be using st any more. */
void     store_close(store_t *st);
/* Applies pending migrations; 0 on success. */
int      store_migrate(store_t *st, char **err);
/* True when the database answers a trivial query now (false for a NULL st). */
bool     store_ping(store_t *st);
/* The schema version: how many migrations (store/migrations.c) the database has applied. */
int      store_schema_version(store_t *st);
/* True when several spoold processes may share this store (PostgreSQL): document bytes then
 * live in the store (blob/blob.h) and periodic work is coordinated through it. */
bool     store_is_shared(store_t *st);
/* Runs fn(arg) with one read transaction open on the calling thread: the store reads fn makes
 * (store_share_get, store_job_get, store_document_get, ...) run inside it instead of each
 * beginning and ending its own, and see one snapshot. For a handler that reads several things
 * before it answers or writes. fn must not write (a write would wait for the writer while
 * this read holds its snapshot). fn runs exactly once: when the transaction cannot begin, or
 * on a shared store (PostgreSQL, whose reads are one round trip each and may be run again
 * after a schema change), it runs without one and each read opens its own as usual. */
void     store_read_together(store_t *st, void (*fn)(void *arg), void *arg);
/* On a shared database: starts listening for the changes other processes commit that this
 * process must react to at once (IPP events wake this process's waiting Get-Notifications, as
 * its own commits do). Nothing to do on SQLite. 0, or -1 when the listener cannot start. */
int      store_listen(store_t *st);
/* Space. A write that fails because the disk (or the database's quota) is full returns
 * STORE_ERROR like any failure, and:
 *   store_full(st)      is true from then until a write commits again;
 *   store_probe_write() tries a tiny real write and returns true when it committed (which
 *                       ends store_full);
 *   store_write_full_since(t) is true when a store write on the calling thread failed for
 *                       space at or after monotonic time t (time_mono_us), so a handler's
 *                       reply can say 507 instead of 500. */
bool     store_full(store_t *st);
bool     store_probe_write(store_t *st);
bool     store_write_full_since(int64_t mono_us);
/* Contention. A write that keeps losing to concurrent writes of other requests or processes
 * (PostgreSQL serialization failures or deadlocks: it is run again from the start each time)
 * is given up after a bounded number of attempts and returns STORE_ERROR; nothing of it was
 * committed. store_write_busy_since(t) is true when that happened to a store write on the
 * calling thread at or after monotonic time t, so a handler's reply can say 503 with
 * Retry-After (a transient conflict) instead of 500. */
bool     store_write_busy_since(int64_t mono_us);
/* Why a store call on the calling thread failed at or after monotonic time t: the database's
 * message with its SQLSTATE (PostgreSQL) or result code (SQLite) and the statement, for the
 * log line of a request answered 500 or 503; NULL when no database failure was noted (the
 * store module gave up on what it read). Valid until the next store call on this thread. */
const char *store_failure_since(int64_t mono_us);
/* False while the store's database server cannot be reached (PostgreSQL): requests then get 503
 * serviceNotAvailable instead of 500. */
bool     store_reachable(store_t *st);

/* Integrity. store_check_database checks the database: on SQLite PRAGMA quick_check (full
 * false) or PRAGMA integrity_check (full true); with full, on both backends also rows the
 * application never leaves behind (a document uploaded without its SHA-256 or blob key, chunk
 * rows outside their blob) and the schema version. Calls fn(line, arg) once per problem found
 * (line names the ids, valid during the call). Returns the number of problems, or -1 when the
 * check itself could not run (logged). */
typedef void (*store_problem_fn)(const char *line, void *arg);
int        store_check_database(store_t *st, bool full, store_problem_fn fn, void *arg);
/* *empty = the store holds no tenant, printer or job (a fresh install, or a lost database). */
store_rc_t store_is_empty(store_t *st, bool *empty);
/* A document whose upload completed, as spoold check verifies it against its bytes. */
typedef struct store_document_ref {
  char   *id, *tenant, *blob_key;
  char   *sha256;   /* NULL when none was recorded */
  int64_t job_id, size;
} store_document_ref_t;
/* Every uploaded document of every tenant into *out (caller frees with
 * store_document_refs_free) and their count into *n. */
store_rc_t store_documents_uploaded(store_t *st, store_document_ref_t **out, size_t *n);
void       store_document_refs_free(store_document_ref_t *v, size_t n);

/* Commit statistics for /metrics: commits, closures committed, and a histogram of closures per
 * commit (buckets 1,2,4,8,16,32,64,+Inf: counts of commits with at most that many). */
#define STORE_COMMIT_BUCKETS 17  /* buckets of store_stats_t's commit time histogram */
typedef struct store_stats {
  uint64_t commits;
  uint64_t closures;
  uint64_t batch_le[8];
  uint64_t pages;  /* pages the commits wrote to the journal (SQLite WAL frames; 0 on PostgreSQL) */
  uint64_t checkpoints, checkpoints_writer; /* SQLite: by the checkpointer, by the writer */
  uint64_t wal_restarts_deferred; /* SQLite: the writer's RESTARTs a reader held off (db.h) */
  uint64_t inline_commits; /* SQLite: lone writes committed on their caller's thread (db.h) */
  bool     inline_allowed; /* SQLite: a lone write may commit inline now (db.h) */
  /* the time of each commit (db.h's db_stats_t): commits that took at most
   * store_commit_bound_us(i) each (i < STORE_COMMIT_BUCKETS - 1; the last bucket is +Inf),
   * the commits timed and their total time */
  uint64_t commit_le[STORE_COMMIT_BUCKETS];
  uint64_t commit_timed, commit_us;
  /* the time of each store write from its caller's view (db.h), in the same buckets */
  uint64_t write_le[STORE_COMMIT_BUCKETS];
  uint64_t write_n, write_us;
} store_stats_t;
/* The upper bound in µs of bucket i (< STORE_COMMIT_BUCKETS - 1) of commit_le. */
int64_t  store_commit_bound_us(int i);
/* Copies the commit statistics since the store opened into *out. */
void     store_get_stats(store_t *st, store_stats_t *out);

/* Connection pool figures for /metrics (zero for SQLite, which has no pool). */
typedef struct store_pool_stats {
  unsigned size, open, in_use;
  uint64_t waits, wait_us, connects, connect_failures;
} store_pool_stats_t;
/* Copies the connection pool figures now into *out. */
void     store_get_pool_stats(store_t *st, store_pool_stats_t *out);

/* ---- tenants ---------------------------------------------------------------------------- */

typedef enum { TENANT_ACTIVE = 0, TENANT_SUSPENDED = 1 } tenant_state_t;

typedef struct store_tenant {
  char          *id;            /* the token's tid */
  char          *display_name;  /* may be "" */
  tenant_state_t state;         /* subscription state */
  int64_t        created_us;
} store_tenant_t;

/* Releases what *t holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_tenant_clear(store_tenant_t *t);
/* Reads tenant id into *out (zeroed first; the caller clears it with store_tenant_clear):
 * STORE_OK, STORE_NOT_FOUND or STORE_ERROR (*out then left empty). */
store_rc_t store_tenant_get(store_t *st, const char *id, store_tenant_t *out);
/* Creates the tenant; STORE_CONFLICT when it exists. */
store_rc_t store_tenant_add(store_t *st, const char *id, const char *display_name,
                            tenant_state_t state);
/* Creates the tenant active if missing (development mode); STORE_OK either way. */
store_rc_t store_tenant_ensure(store_t *st, const char *id);
/* Suspends or resumes tenant id (state); STORE_NOT_FOUND when there is no such tenant. */
store_rc_t store_tenant_set_state(store_t *st, const char *id, tenant_state_t state);
/* Removes the tenant and every row that belongs to it. */
store_rc_t store_tenant_remove(store_t *st, const char *id);
/* Calls fn for each tenant ordered by id; fn's non-zero return stops the walk. */
store_rc_t store_tenant_list(store_t *st, int (*fn)(const store_tenant_t *t, void *arg), void *arg);

/* ---- print settings (the /print singleton) ------------------------------------------------ */

typedef struct store_settings {
  bool document_conversion_enabled;
  /* printerDiscoverySettings.airPrint.incompatiblePrinters: "show", "hide" or NULL (unset) */
  char *airprint_incompatible_printers;
} store_settings_t;

/* Releases what *s holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_settings_clear(store_settings_t *s);
/* Reads the tenant's settings; a tenant that never changed them gets the defaults
 * (documentConversionEnabled = true, discovery unset). */
store_rc_t store_settings_get(store_t *st, const char *tenant, store_settings_t *out);
/* A partial update of the settings: only members whose set_* flag is true change. The merge
 * happens inside the write transaction, so concurrent updates of different members both
 * survive. */
typedef struct store_settings_patch {
  bool        set_document_conversion_enabled;
  bool        document_conversion_enabled;
  bool        set_airprint_incompatible_printers;
  const char *airprint_incompatible_printers; /* NULL clears */
} store_settings_patch_t;
/* Applies p to tenant's settings in one write transaction (only the members whose set_* flag
 * is true change); STORE_NOT_FOUND when the tenant does not exist. On STORE_OK, *out (if not
 * NULL; the caller clears it with store_settings_clear) receives the settings after the
 * update; otherwise it is left zeroed. */
store_rc_t store_settings_update(store_t *st, const char *tenant, const store_settings_patch_t *p,
                                 store_settings_t *out);

#endif
