/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backend-neutral database access used by the store modules (the .c files in src/store).
 *
 * Nothing outside src/store includes this header. SQL is written once, in
 * the subset SQLite and PostgreSQL share, with '?' placeholders (a backend
 * that needs $n rewrites them).
 *
 * Transactions are closures:
 *   - db_write() queues fn for the single writer thread. The writer runs the
 *     queued closures of all waiting callers in one transaction (group
 *     commit), each inside its own savepoint, commits once (fsync with
 *     synchronous=FULL), then wakes every caller. A closure that returns
 *     non-zero is rolled back alone; the others still commit. db_write
 *     returns only after the commit is durable. A caller running on a fiber
 *     (util/fiber.h: an HTTP write handler) gives its thread back while it
 *     waits and goes on once the writer woke it (SQLite; PostgreSQL runs the
 *     closure on the caller's thread).
 *   - db_read() runs fn on a read-only connection inside one read
 *     transaction (a consistent snapshot).
 * A closure must not do I/O other than through its db_conn_t, and must not
 * block: it runs while other callers wait.
 */
#ifndef SPOOLD_STORE_DB_H
#define SPOOLD_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db db_t;
typedef struct db_conn db_conn_t;
typedef struct db_stmt db_stmt_t;

/* db_step()'s DB_ROW and DB_DONE are numbered apart from every store_rc_t code (0..3, -1), so
 * a closure that returns one of them by mistake cannot pass for STORE_NOT_FOUND or
 * STORE_CONFLICT: store_rc() logs it and answers STORE_ERROR (store-private.h checks the
 * numbering at compile time). */
enum {
  DB_OK = 0,
  DB_ROW = 100,      /* db_step: a row is available */
  DB_DONE = 101,     /* db_step: statement finished */
  DB_CONSTRAINT = -2,/* unique/foreign-key/check violation */
  DB_ERROR = -1,     /* anything else (logged) */
  DB_FULL = -3,      /* db_write: no space left (disk or quota full); nothing was committed */
  DB_BUSY = -4,      /* db_write: the write kept losing to concurrent writes (serialization
                        failures or deadlocks, retried until the backend gave up); nothing was
                        committed, and the same write may succeed when sent again */
};

/* After a statement fails (DB_CONSTRAINT or DB_ERROR) inside a write closure, the closure
 * returns non-zero without running more statements: PostgreSQL has aborted the transaction
 * by then (a write closure that goes on and returns 0 fails with DB_ERROR). A write closure
 * may be run again from the start (a serialization conflict on PostgreSQL). */

/* Closure run inside a transaction. Return 0 to keep its changes; any other value rolls
 * them back and is returned by db_write/db_read. */
typedef int (*db_txn_fn)(db_conn_t *c, void *arg);

/* Options of db_open; a zeroed struct (or NULL) gives the defaults. */
typedef struct db_options {
  /* SQLite: commit with synchronous=NORMAL instead of FULL, so a commit no longer waits for
   * the WAL to reach the disk: a committed write survives a crash of the process but not a
   * power loss or an operating-system crash (the operator option --sqlite-synchronous). */
  bool sqlite_sync_normal;
  /* SQLite: when a lone write commits on its caller's thread (store/sqlite.c, "A lone writer
   * commits inline"; the operator option --inline-commit): AUTO (0, the default) only while
   * the CPUs are not contended (util/cpupressure.h), ON whenever the writer is idle, OFF
   * never. PostgreSQL has no writer thread and ignores it. */
  enum { DB_INLINE_AUTO, DB_INLINE_ON, DB_INLINE_OFF } inline_commit;
} db_options_t;

/* Opens the store at url ("sqlite:/path/file.db") with opts (NULL: defaults). nreaders read
 * connections are kept. Returns NULL and a malloc'd message in *err on failure. */
db_t *db_open(const char *url, int nreaders, const db_options_t *opts, char **err);
/* Closes every connection of db and frees it (NULL is a no-op); no closure may be running. */
void  db_close(db_t *db);
/* Applies pending migrations (src/store/migrations.c). 0 on success; *err on failure. */
int   db_migrate(db_t *db, char **err);
/* Current schema version (number of applied migrations). */
int   db_schema_version(db_t *db);

/* Runs fn(c, arg) in the next group commit (see above) and returns its result once the commit
 * is durable (DB_FULL when it failed for space), then the db_after_commit hooks fn registered. */
int   db_write(db_t *db, db_txn_fn fn, void *arg);
/* Runs fn(c, arg) on a read-only connection inside one read transaction and returns its
 * result. */
int   db_read(db_t *db, db_txn_fn fn, void *arg);
/* Called inside a db_write closure on c: once the closure's changes are durably committed,
 * db_write calls fn(arg) on the caller's thread before returning (never when the closure
 * fails or is rolled back; once per distinct fn/arg pair even if registered again, also when
 * the closure is run again). fn must be quick and must not call db_write. Outside a write
 * closure it does nothing. */
void  db_after_commit(db_conn_t *c, void (*fn)(void *arg), void *arg);
/* Records owner (borrowed; the store that opened db) so that code running inside a write closure
 * on db can reach it with db_owner(). Set once, before the first db_write. */
void  db_set_owner(db_t *db, void *owner);
/* Inside a write closure on c: the owner of c's database (db_set_owner; NULL when none was
 * set). NULL outside a write closure. */
void *db_owner(db_conn_t *c);
/* True when the store answers a trivial query. */
bool  db_ping(db_t *db);
/* Space: a db_write that fails for lack of space returns DB_FULL and marks db full until a
 * later write commits. db_full() tells whether it is marked; db_probe_write() tries a tiny
 * real write (which clears the mark when it commits) and returns true when it committed;
 * db_thread_full_us() is the monotonic time (time_mono_us) at which the last db_write on the
 * calling thread failed for space, 0 when none has. */
bool    db_full(db_t *db);
bool    db_probe_write(db_t *db);
int64_t db_thread_full_us(void);
/* Contention: db_thread_busy_us() is the monotonic time at which the last db_write on the
 * calling thread returned DB_BUSY, 0 when none has. */
int64_t db_thread_busy_us(void);
/* The cause of the last database failure a db_write/db_read on the calling thread met at or
 * after monotonic time since_us (the backend's message with its SQLSTATE or result code and the
 * statement), for the log line of a request answered 500; NULL when none was noted. Valid until
 * the next db call on this thread. */
const char *db_thread_failure(int64_t since_us);

/* Commit statistics for /metrics: number of commits and of closures committed, and a histogram
 * of batch sizes (buckets 1,2,4,8,16,32,64,+Inf: counts of batches with size <= bucket). */
#define DB_COMMIT_BUCKETS 17  /* buckets of db_stats_t's commit time histogram */
typedef struct db_stats {
  uint64_t commits;
  uint64_t closures;
  uint64_t batch_le[8];
  uint64_t pages;      /* database pages the commits wrote to the journal (SQLite: WAL
                          frames); 0 when the backend does not count them (PostgreSQL) */
  uint64_t checkpoints;        /* SQLite: checkpoints run by the checkpointer thread */
  uint64_t checkpoints_writer; /* SQLite: checkpoints the writer ran itself at the WAL's bound */
  uint64_t wal_restarts_deferred; /* SQLite: the writer's RESTARTs a reader kept from starting the
                                     log over (the bound moves SQ_CHECKPOINT_PAGES up each) */
  uint64_t inline_commits;     /* SQLite: commits of a lone write on its caller's thread (also
                                  counted in commits) */
  bool     inline_allowed;     /* SQLite: a lone write may commit inline now (--inline-commit
                                  on, or auto while the CPUs were not contended at the last
                                  sample); false on PostgreSQL */
  /* the time of each commit (SQLite: the COMMIT statement, its WAL write and fdatasync and the
   * WAL hook after it; PostgreSQL: the COMMIT round trip, the server's WAL flush included):
   * counts of commits that took at most DB_COMMIT_BOUNDS_US[i] (the last bucket: +Inf), their
   * number and total time */
  uint64_t commit_le[DB_COMMIT_BUCKETS];
  uint64_t commit_timed, commit_us;
  /* the time of each db_write/db_write_fk_off from its caller's view, in the same buckets:
   * queued, run, committed and handed back (SQLite: the wait for the writer's group commit;
   * PostgreSQL: the transaction, with its retries), and their number and total time */
  uint64_t write_le[DB_COMMIT_BUCKETS];
  uint64_t write_n, write_us;
} db_stats_t;
/* Upper bounds (µs) of the commit time histogram's buckets in db_stats_t but the last (+Inf). */
extern const int64_t DB_COMMIT_BOUNDS_US[DB_COMMIT_BUCKETS - 1];
/* Copies db's commit statistics since it opened into *out (all zero for a NULL db). */
void  db_get_stats(db_t *db, db_stats_t *out);

/* Connection pool figures for /metrics (all zero for SQLite). */
typedef struct db_pool_stats {
  unsigned size;              /* connections the pool may open */
  unsigned open;              /* connections currently open */
  unsigned in_use;            /* lent to callers now */
  uint64_t waits;             /* borrows that had to wait for a free connection */
  uint64_t wait_us;           /* total time spent waiting */
  uint64_t connects;          /* connections made (including reconnects) */
  uint64_t connect_failures;  /* failed connection attempts */
} db_pool_stats_t;
/* Copies db's connection pool figures now into *out (all zero when the backend has no pool). */
void  db_get_pool_stats(db_t *db, db_pool_stats_t *out);
/* False while the database server cannot be reached (the last connection attempt failed or a
 * connection was lost, and none succeeded since); true for SQLite. */
bool  db_reachable(db_t *db);
/* True when several processes may share this database (PostgreSQL): cross-process
 * coordination (advisory locks, notifications) matters. */
bool  db_shared(db_t *db);
/* A number that changes whenever a write transaction of this process's writer has ended
 * (committed or rolled back), before any db_write caller whose closure ran in it returns. A
 * value read before a read transaction began is still current afterwards only if no write of
 * this process ended meanwhile. Says nothing about other processes (see db_shared()). */
uint64_t db_write_generation(db_t *db);
/* Sets *out to a value that changes whenever a write transaction commits on db, from any
 * connection of any process (a SQLite file written by `spoold tenant` or another tool while
 * this process serves it), and returns true; false when the backend cannot tell. Cheap (no
 * transaction, no system call). A value read before a read transaction began is still current
 * afterwards only if no commit happened meanwhile. */
bool db_change_token(db_t *db, uint64_t *out);

/* Inside a write closure: takes the database-wide lock named key until the transaction ends
 * (PostgreSQL advisory lock; SQLite's writes are already exclusive). With wait false it only
 * tries. Returns 1 when held, 0 when another process holds it, DB_ERROR on failure. */
int   db_xact_lock(db_conn_t *c, int64_t key, bool wait);
/* Lock keys (db_xact_lock). */
#define DB_LOCK_MIGRATE INT64_C(0x73706f6f6c640001)  /* "spoold" + 1: schema migrations */
#define DB_LOCK_SWEEP   INT64_C(0x73706f6f6c640002)  /* periodic sweeps: plus one of these */
#define DB_SWEEP_HELD          INT64_C(0x100)  /* held jobs past the task timeout */
#define DB_SWEEP_RETENTION     INT64_C(0x200)  /* terminal jobs past the retention */
#define DB_SWEEP_SESSIONS      INT64_C(0x300)  /* expired upload sessions */
#define DB_SWEEP_SUBSCRIPTIONS INT64_C(0x400)  /* expired subscriptions */
#define DB_SWEEP_LIMITS        INT64_C(0x500)  /* activity window rows past the longest window */
#define DB_SWEEP_DOWNLOADS     INT64_C(0x600)  /* expired download credentials */

/* Inside a write closure: *id receives the next value of the named id counter ('job',
 * 'ipp_subscription'; a lower-case identifier from the code, never client input). SQLite
 * increments its row in the counters table (the single writer makes it one after the other);
 * PostgreSQL takes nextval of the sequence <counter>_ids (migration 13), which takes no row
 * lock and is not rolled back, so concurrent writers never conflict on it: the values are
 * unique and increasing but may have gaps. Returns 0 or DB_ERROR. */
int   db_next_id(db_conn_t *c, const char *counter, int64_t *id);

/* Cross-process wake-ups (shared databases; SQLite: nothing to do, 0).
 * db_notify, inside a write closure: when the transaction commits, every process listening on
 * channel (a lower-case identifier) is told (PostgreSQL NOTIFY; several in one transaction
 * arrive as one). Returns 0 or DB_ERROR.
 * db_listen: starts a thread with a connection of its own that listens on the channels (the
 * NULL-terminated array and its strings are copied) and calls fn(channel, arg) on that thread
 * for each notification; fn(NULL, arg) after each (re)connection, since notifications sent
 * while it was disconnected are lost. It reconnects by itself; db_close stops it. fn must be
 * quick. Once per db; returns 0 or DB_ERROR. */
int   db_notify(db_conn_t *c, const char *channel);
int   db_listen(db_t *db, const char *const *channels, void (*fn)(const char *channel, void *arg),
                void *arg);

/* Statements. db_prepare caches by SQL text per connection; do not finalize. Returns NULL on
 * a syntax error (logged). Indexes for bind are 1-based, for columns 0-based. A statement is
 * valid only inside the closure that prepared it. */
db_stmt_t  *db_prepare(db_conn_t *c, const char *sql);
/* Binding: sets parameter idx of s to a value, copied (the caller keeps what it passed): */
void        db_bind_text(db_stmt_t *s, int idx, const char *v);   /* NULL binds NULL */
void        db_bind_int64(db_stmt_t *s, int idx, int64_t v);      /* a BIGINT */
void        db_bind_double(db_stmt_t *s, int idx, double v);      /* a double precision */
void        db_bind_blob(db_stmt_t *s, int idx, const void *v, size_t len); /* len bytes at v */
void        db_bind_null(db_stmt_t *s, int idx);                  /* SQL NULL */
/* Runs s to its next row: DB_ROW (a row to read with db_col_*), DB_DONE (no more rows, or a
 * statement without rows ran), DB_CONSTRAINT (a constraint refused it) or DB_ERROR. */
int         db_step(db_stmt_t *s);
/* Reading column col of the current row (after DB_ROW); what they return points into s and is
 * valid until the next step or reset: */
bool        db_col_null(db_stmt_t *s, int col);    /* true when the value is NULL */
const char *db_col_text(db_stmt_t *s, int col);    /* NULL for NULL */
int64_t     db_col_int64(db_stmt_t *s, int col);   /* 0 for NULL */
double      db_col_double(db_stmt_t *s, int col);  /* 0 for NULL */
const void *db_col_blob(db_stmt_t *s, int col, size_t *len); /* *len (may be NULL) gets the size */
/* Resets the statement and clears its bindings, ready for reuse. Always call when done. */
void        db_reset(db_stmt_t *s);
/* Runs SQL without results (may contain several statements). */
int         db_exec(db_conn_t *c, const char *sql);
/* Rows changed by the last statement on this connection. */
int64_t     db_changes(db_conn_t *c);
/* True when an UPDATE ... RETURNING costs more than the UPDATE and a SELECT of the row after
 * it (SQLite, whose RETURNING opens, fills and closes a temporary table: about 1.4 us each);
 * false where the second statement is a round trip (PostgreSQL). Both read the same row. */
bool        db_returning_costly(db_conn_t *c);

/* How db_sql_json_scalar presents a JSON member: as text, as 0/1 (a JSON boolean), as a
 * double precision number or as an integer. */
typedef enum { DB_JSON_TEXT, DB_JSON_BOOL, DB_JSON_DOUBLE, DB_JSON_INT } db_json_kind_t;

/* A SQL expression, in db's dialect, reading the member keys[0]/keys[1]/... of the JSON text
 * column col (trusted text: a column name and member names from a static table, never client
 * input), NULL in SQL when the column or the member is absent or null. The caller frees the
 * string. NULL when db is NULL or a key is not a plain identifier. */
char *db_sql_json_scalar(db_t *db, const char *col, const char *const *keys, size_t nkeys,
                         db_json_kind_t kind);

/* The elements of the JSON array member keys[0]/keys[1]/... of the JSON text column col, in
 * db's dialect, as a FROM item named alias with one row per element (no row when the column
 * or the member is absent, null or not an array): "FROM <result>" in a correlated subquery,
 * e.g. EXISTS (SELECT 1 FROM <result> WHERE <*value> = ?). *value receives the expression of
 * one element presented as kind (both strings are the caller's to free). col, keys and alias
 * are trusted text as for db_sql_json_scalar; alias a plain identifier. NULL (and *value
 * NULL) when db is NULL or a key or the alias is not a plain identifier. */
char *db_sql_json_elements(db_t *db, const char *col, const char *const *keys, size_t nkeys,
                           db_json_kind_t kind, const char *alias, char **value);

#endif
