/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to src/store: the backend vtable behind db.h.
 *
 * db.c implements every db.h function by dispatching through the backend that owns the
 * handle. A backend (sqlite.c, later postgres.c) embeds struct db / db_conn / db_stmt as the
 * FIRST member of its own handle types, fills a const db_backend_t and is listed in db.c's
 * table under its URL scheme(s).
 *
 * db.c checks NULL handles before dispatching, so backend functions may assume non-NULL
 * db/conn/stmt arguments.
 */
#ifndef SPOOLD_STORE_DB_BACKEND_H
#define SPOOLD_STORE_DB_BACKEND_H

#include "store/db.h"

typedef struct db_backend db_backend_t;

struct db      {
  const db_backend_t *be;
  _Atomic bool        full;       /* db.c: see db_full() */
  _Atomic uint64_t    write_gen;  /* see db_write_generation(); bumped by db_wrote() */
  void               *owner;      /* db.c: see db_set_owner() */
  /* db.c: the time of each db_write from its caller's view (db_stats_t's write_*) */
  _Atomic uint64_t    write_le[DB_COMMIT_BUCKETS], write_n, write_us;
};
/* For a backend: a write transaction of db's writer has ended (committed or not). Called
 * before any caller whose closure ran in it is released. */
void db_wrote(db_t *db);
struct db_conn { const db_backend_t *be; };
struct db_stmt { const db_backend_t *be; };

struct db_backend {
  const char *name;            /* for messages: "SQLite" */
  const char *const *schemes;  /* NULL-terminated, matched case-insensitively: {"sqlite", NULL} */
  const char *url_help;        /* for messages: "sqlite:PATH" */
  bool shared;                 /* several processes may share the database (PostgreSQL) */
  /* RETURNING fills a temporary table before the first row comes back (SQLite), while a
   * second statement costs no round trip: see db_returning_costly. */
  bool returning_costly;

  /* rest = the URL after "scheme:"; url = the whole URL (for messages); opts never NULL. */
  db_t *(*open)(const char *url, const char *rest, int nreaders, const db_options_t *opts,
                char **err);
  void  (*close)(db_t *db);
  int   (*write)(db_t *db, db_txn_fn fn, void *arg);
  int   (*read)(db_t *db, db_txn_fn fn, void *arg);
  /* Optional: write, with fn alone in its transaction and the foreign key constraints not
   * enforced while it runs (see db_write_fk_off). NULL: write. */
  int   (*write_fk_off)(db_t *db, db_txn_fn fn, void *arg);
  /* Optional: true when the database answers (NULL: db.c reads "SELECT 1" through read). */
  bool  (*ping)(db_t *db);
  void  (*get_stats)(db_t *db, db_stats_t *out);
  /* Optional: false while the database cannot be reached (NULL: always reachable). */
  bool  (*reachable)(db_t *db);
  /* Optional: see db_change_token (NULL: the backend cannot tell, false). */
  bool  (*change_token)(db_t *db, uint64_t *out);
  /* Optional: connection pool figures (zeros when NULL). */
  void  (*get_pool_stats)(db_t *db, db_pool_stats_t *out);
  /* Optional: a lock named key held until the end of c's transaction; wait or only try.
   * 1 when held, 0 when another transaction holds it (try), DB_ERROR. NULL: the backend's
   * writes are already exclusive (always 1). */
  int   (*xact_lock)(db_conn_t *c, int64_t key, bool wait);
  /* Optional (shared databases): db_notify / db_listen / stopping the listener. */
  int   (*notify)(db_conn_t *c, const char *channel);
  int   (*listen)(db_t *db, const char *const *channels, void (*fn)(const char *channel, void *arg),
                  void *arg);
  /* Optional: the next value of an id counter (see db_next_id); NULL: the counters table. */
  int   (*next_id)(db_conn_t *c, const char *counter, int64_t *id);
  /* A query with one parameter, the table's name, that returns a row when the table exists
   * (db_table_exists runs it). */
  const char *table_exists_sql;
  /* The connection's last error message (never NULL). */
  const char *(*errmsg)(db_conn_t *c);
  /* SQL reading one scalar member of a JSON text column (see db_sql_json_scalar). */
  char *(*json_scalar)(const char *col, const char *const *keys, size_t nkeys, db_json_kind_t kind);
  /* The elements of a JSON array member as a FROM item (see db_sql_json_elements). */
  char *(*json_elements)(const char *col, const char *const *keys, size_t nkeys,
                         db_json_kind_t kind, const char *alias, char **value);

  db_stmt_t  *(*prepare)(db_conn_t *c, const char *sql);
  void        (*bind_text)(db_stmt_t *s, int idx, const char *v);
  void        (*bind_int64)(db_stmt_t *s, int idx, int64_t v);
  void        (*bind_double)(db_stmt_t *s, int idx, double v);
  void        (*bind_blob)(db_stmt_t *s, int idx, const void *v, size_t len);
  void        (*bind_null)(db_stmt_t *s, int idx);
  int         (*step)(db_stmt_t *s);
  bool        (*col_null)(db_stmt_t *s, int col);
  const char *(*col_text)(db_stmt_t *s, int col);
  int64_t     (*col_int64)(db_stmt_t *s, int col);
  double      (*col_double)(db_stmt_t *s, int col);
  const void *(*col_blob)(db_stmt_t *s, int col, size_t *len);
  void        (*reset)(db_stmt_t *s);
  int         (*exec)(db_conn_t *c, const char *sql);
  int64_t     (*changes)(db_conn_t *c);
};

/* For a backend: notes the cause of a failure it has just met (and logged), for the caller of
 * the running db_write/db_read (db_thread_failure); on the writer thread of a group commit it is
 * kept for the closure that runs. */
void db_note_failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The backends db.c knows. */
extern const db_backend_t db_sqlite_backend;
extern const db_backend_t db_postgres_backend;

/* The SQLite writer's fill target (sqlite.c, "Filling the batches"): how many closures it
 * waits to have queued before it takes a batch, after a commit that saw `expect` writers
 * (half of them rounded up, at most a batch). Pure; exposed for its unit test. */
unsigned sqlite_fill_target(unsigned expect);

/* Sets *err (when err is not NULL) to a malloc'd formatted message the caller frees, and logs
 * it at error level when err is NULL. */
void db_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when the table exists on c's database. */
bool db_table_exists(db_conn_t *c, const char *name);
/* The last error message on c (never NULL; valid until the next call on c). */
const char *db_errmsg(db_conn_t *c);

/* db_migrate up to schema version target only (tests of an upgrade from an older version):
 * 0, or -1 and a malloc'd *err. */
int db_migrate_to(db_t *db, int target, char **err);

/* db_write for a migration that rebuilds a table: fn runs alone in its write transaction with
 * the foreign key constraints off on backends whose DROP TABLE would act on them (SQLite
 * deletes the rows that reference a dropped table through ON DELETE CASCADE, and PRAGMA
 * foreign_keys cannot change inside a transaction, so the writer turns it off before BEGIN and
 * back on after the commit or rollback). fn must check the constraints itself before it
 * returns 0 (SQLite: PRAGMA foreign_key_check). Backends without such a setting
 * (PostgreSQL: its DROP TABLE refuses while a foreign key references the table, and a key
 * changes type in place with ALTER TABLE) run it as db_write. Returns what db_write returns. */
int db_write_fk_off(db_t *db, db_txn_fn fn, void *arg);

/* The newest schema version this binary knows (migrations.c). */
int db_schema_latest(void);

/* Batch-size histogram bounds shared by the backends (the last bucket is +Inf). */
#define DB_BATCH_BUCKETS 8
/* Adds one committed batch of n closures to *st. */
void db_stats_add_batch(db_stats_t *st, unsigned n);
/* Adds one commit that took us microseconds to *st's commit time histogram. */
void db_stats_add_commit_time(db_stats_t *st, int64_t us);

#endif
