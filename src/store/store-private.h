/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: what the store modules (tenants.c, settings.c, ...) share.
 *
 * A store module is a set of store_xxx_* functions that each run one db_read() or db_write()
 * closure on st->db and turn its result into a store_rc_t with store_rc().
 */
#ifndef SPOOLD_STORE_STORE_PRIVATE_H
#define SPOOLD_STORE_STORE_PRIVATE_H

#include "store/db.h"

#include <pthread.h>
#include <stddef.h>
#include "store/jobs.h"
#include "store/limits.h"
#include "store/store.h"

/* The hot-job cache of store_job_get (job-cache.c); NULL when the store is shared with
 * other servers (db_shared). */
typedef struct store_job_cache store_job_cache_t;

/* A function run after each commit of this process that wrote rows someone waits for (outbox
 * rows: the delivery worker; IPP events: waiting Get-Notifications). Set by its owner through
 * store_outbox_set_listener / store_ipp_set_listener; it runs under mu, so clearing it returns
 * only once no call is in progress. */
typedef struct store_wake {
  pthread_mutex_t mu;
  void          (*fn)(void *arg);
  void           *arg;
} store_wake_t;

struct store {
  db_t              *db;         /* owned; db_owner() of its write closures is this store */
  store_job_cache_t *job_cache;  /* owned; NULL: no cache */
  store_wake_t       outbox_wake;/* outbox rows committed (outbox.c) */
  store_wake_t       ipp_wake;   /* IPP events committed, here or by another process
                                    (ipp-events.c, store_listen) */
};

/* Sets w's function (NULL removes it; see store_wake_t). */
void store_wake_set(store_wake_t *w, void (*fn)(void *arg), void *arg);
/* Runs w's function, if any (a db_after_commit hook: w is a store_wake_t *). */
void store_wake_run(void *w);
/* Inside a write closure on c: the store of c's database (db_owner). */
store_t *store_of(db_conn_t *c);

/* A cache of up to 4096 jobs (caller frees with store_job_cache_free; NULL is a no-op). */
store_job_cache_t *store_job_cache_new(void);
void store_job_cache_free(store_job_cache_t *c);
/* What an entry is valid for: this process's write generation (db_write_generation) and the
 * database's change token (db_change_token: commits of other processes on the same file). */
typedef struct store_job_cache_ver {
  uint64_t gen, token;
} store_job_cache_ver_t;
/* Reads the version now, before a lookup and before the read transaction of a job that is put;
 * false when the database cannot tell whether another process wrote: then nothing is cached. */
bool store_job_cache_version(db_t *db, store_job_cache_ver_t *out);
/* Copies job id of tenant into *out (caller clears it) when it was put with version *v;
 * false otherwise (*out untouched). */
bool store_job_cache_get(store_job_cache_t *c, const store_job_cache_ver_t *v, const char *tenant,
                         int64_t id, store_job_t *out);
/* Offers job (its tenant and id are the key), read in a transaction that began after
 * store_job_cache_version returned *v: a copy is kept when the job missed before on its slot
 * (its second miss in a row there) or holds the slot already; the first miss is only noted. */
void store_job_cache_put(store_job_cache_t *c, const store_job_cache_ver_t *v,
                         const store_job_t *job);

/* The closure contract: a closure returns 0, a STORE_* code or a DB_* error, never db_step()'s
 * DB_ROW/DB_DONE, and the numbers cannot be mistaken for one another. */
_Static_assert((int)DB_ROW > (int)STORE_LIMITED && (int)DB_DONE > (int)STORE_LIMITED,
               "DB_ROW/DB_DONE must lie above every store_rc_t code (STORE_ERROR..STORE_LIMITED)");
_Static_assert((int)STORE_ERROR == -1 && (int)STORE_OK == 0 && (int)STORE_NOT_FOUND == 1 &&
                   (int)STORE_CONFLICT == 2 && (int)STORE_INVALID == 3 &&
                   (int)STORE_LIMITED == 4,
               "store_rc_t codes changed: check the DB_ROW/DB_DONE numbering in db.h");
_Static_assert((int)DB_ERROR == (int)STORE_ERROR && (int)DB_CONSTRAINT < 0,
               "DB_ERROR is STORE_ERROR and DB_CONSTRAINT is negative");

/* Maps a closure's return value to a store_rc_t. Closures return 0, a STORE_* code
 * (STORE_NOT_FOUND, STORE_CONFLICT, STORE_INVALID, STORE_LIMITED) or a DB_* error; DB_CONSTRAINT becomes
 * STORE_CONFLICT and any other value STORE_ERROR. A closure that returned DB_ROW/DB_DONE broke
 * the contract: that is logged as an error and answered STORE_ERROR. */
store_rc_t store_rc(int rc);

/* Inside a sweep's write closure: whether this process may run sweep `which` (DB_SWEEP_*) now.
 * Takes the sweep's database-wide lock until the transaction ends without waiting (on a
 * shared database one process sweeps at a time; a process that dies releases it with its
 * transaction). Returns 1 when held, 0 when another process is running that sweep (the
 * closure then does nothing and returns 0), DB_ERROR on failure. */
int store_sweep_turn(db_conn_t *c, int64_t which);

/* True inside store_read_together's fn on this thread: the read transaction began before the
 * read asking, so what it reads may be older than what the job cache's version says. */
bool store_in_read_together(void);

/* A malloc'd copy of text column col, "" for NULL when empty_for_null, else NULL. */
char *store_col_strdup(db_stmt_t *s, int col, bool empty_for_null);

/* Integer column col, dflt when it is NULL. */
int64_t store_col_i64_or(db_stmt_t *s, int col, int64_t dflt);

/* A malloc'd copy of blob column col and its length in *len; NULL (and *len 0) for NULL. The
 * caller frees. */
void *store_col_blob_dup(db_stmt_t *s, int col, size_t *len);

/* Steps a statement that returns no rows and resets it: 0, DB_CONSTRAINT, DB_FULL or DB_ERROR
 * (never DB_ROW/DB_DONE, so a closure may return it as it is). s may be NULL (a failed
 * db_prepare): DB_ERROR. */
int store_step_done(db_stmt_t *s);

/* Steps s, which reads at most one row: on a row calls read(s, out) (read may be NULL: only
 * whether a row exists matters), then resets s. 0 when there was a row, STORE_NOT_FOUND when
 * none, DB_ERROR (a closure may return the result as it is). */
int store_step_row(db_stmt_t *s, void (*read)(db_stmt_t *s, void *out), void *out);

/* Inside a transaction: runs sql, a SELECT with two text parameters (e.g. "SELECT 1 FROM t
 * WHERE id = ? AND tenant_id = ?"), bound to id and tenant. 0 when it returns a row,
 * STORE_NOT_FOUND when none, DB_ERROR. */
int store_row_exists(db_conn_t *c, const char *sql, const char *id, const char *tenant);

/* A struct read from a row as a table: column i of the row goes to the member that entry i
 * names (STORE_COL(KIND, type, member)), converted as its kind says. One table serves the
 * struct's row reader (store_cols_read) and the release of its strings (store_cols_free), so
 * the two cannot disagree. */
typedef enum store_col_kind {
  STORE_COL_TEXT,        /* char *: a malloc'd copy, NULL for NULL */
  STORE_COL_TEXT_EMPTY,  /* char *: a malloc'd copy, "" for NULL */
  STORE_COL_I64,         /* int64_t (0 for NULL) */
  STORE_COL_INT,         /* int (0 for NULL) */
  STORE_COL_BOOL,        /* bool: the column is not 0 (false for NULL) */
} store_col_kind_t;
typedef struct store_col {
  store_col_kind_t kind;
  size_t           off;  /* offsetof the member */
} store_col_t;
#define STORE_COL(kind, type, member) {STORE_COL_##kind, offsetof(type, member)}
#define STORE_NCOLS(cols) (sizeof(cols) / sizeof((cols)[0]))

/* Reads columns 0..n-1 of the current row of s into the members of the struct at out that
 * cols[0..n) name (its strings are then the struct's: release with store_cols_free). */
void store_cols_read(db_stmt_t *s, const store_col_t *cols, size_t n, void *out);
/* Frees the text members cols[0..n) name of the struct at p (NULL is a no-op) and sets them to
 * NULL; the other members are left as they are. */
void store_cols_free(const store_col_t *cols, size_t n, void *p);

/* Steps s (prepared and bound) to its end, appending each row to *items as
 * store_query_page_items does (elements of elem bytes grown with xrealloc, *n of them after any
 * already there, each zeroed and then filled by read(s, item)), and resets s. 0, or DB_ERROR
 * (also for a NULL s: a failed db_prepare). The caller frees the array and its elements, also
 * after an error. Defined in query.c. */
int store_read_rows(db_stmt_t *s, size_t elem, void (*read)(db_stmt_t *s, void *item),
                    void **items, size_t *n);

/* Inside a transaction: runs sql, a SELECT of at most one row whose parameters are id and then,
 * when tenant is not NULL, tenant ("SELECT <cols> FROM t WHERE t.id = ? AND t.tenant_id = ?"),
 * and reads the row with read(s, out) as store_step_row does. 0 when there was a row,
 * STORE_NOT_FOUND when none, DB_ERROR. */
int store_read_by_id(db_conn_t *c, const char *sql, const char *id, const char *tenant,
                     void (*read)(db_stmt_t *s, void *out), void *out);

/* A whole get function: zeroes *out (size bytes), then in one read transaction runs
 * store_read_by_id(sql, id, tenant, read, out), calling clear(out) before each try (a backend
 * may run a closure again). STORE_OK with *out filled (the caller clears it), or
 * STORE_NOT_FOUND (also when id or tenant is NULL) / STORE_ERROR with *out zeroed. With read,
 * clear and out NULL (size 0) it answers whether the row exists. */
store_rc_t store_get_by_id(store_t *st, const char *sql, const char *id, const char *tenant,
                           void (*read)(db_stmt_t *s, void *out), void (*clear)(void *out),
                           void *out, size_t size);

/* Merges the JSON text patch into *stored (JSON text or NULL; replaced by a malloc'd result)
 * member-wise (util/jsonmerge.h: nested objects merge, anything else replaces, null sets a
 * member to null); the text "null" clears the whole property (*stored becomes NULL), a NULL
 * patch changes nothing. 0, or DB_ERROR when patch is neither an object nor null (the Graph
 * layer validated it, so that is a bug). */
int store_json_merge_text(char **stored, const char *patch);

/* Inside a transaction: 0 when printer_id is a printer of tenant, STORE_NOT_FOUND when not, or
 * DB_ERROR (a closure may return the result as it is). Defined in printers.c. */
int store_printer_row_exists(db_conn_t *c, const char *tenant, const char *printer_id);

/* Inside a write transaction: takes l's amounts from their windows, all or none (see
 * store_limits_take in store/limits.h). 0 when taken, STORE_LIMITED (with l->refused and
 * l->retry_us set, nothing written) when one is full, or a DB_* error. Defined in limits.c. */
int store_limits_take_in(db_conn_t *c, store_limits_t *l);

/* Chunk rows (store/chunks.h) written inside the caller's write transaction. Creates blob key
 * of size zero bytes at now_us: 0, STORE_CONFLICT when it exists, or a DB_* error. */
int store_chunks_create_in(db_conn_t *c, const char *key, uint64_t size, int64_t now_us);
/* Writes the len bytes at data at offset off of blob key (the caller keeps data): 0,
 * STORE_NOT_FOUND when there is no such blob, STORE_INVALID past its end, or a DB_* error. */
int store_chunks_pwrite_in(db_conn_t *c, const char *key, uint64_t off, const void *data,
                           size_t len, int64_t now_us);

#endif
