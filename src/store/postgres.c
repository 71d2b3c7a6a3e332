/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PostgreSQL backend of db.h ("postgres://..." or "postgresql://...", any libpq URI).
 *
 * A pool of libpq connections, opened lazily up to a maximum, serves both db_write() and
 * db_read(): the caller borrows one connection and runs its closure on its own thread.
 *   - db_write(): BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE, the closure, COMMIT. Serializable
 *     isolation gives the same outcome as SQLite's single writer: concurrent closures behave as
 *     if run one after the other. A closure that hits a serialization failure or a deadlock
 *     (SQLSTATE 40001/40P01) is rolled back and run again from the start, as is one whose
 *     connection broke before COMMIT (nothing of it was committed). A connection lost during
 *     COMMIT fails the write (its outcome is unknown; it is never run twice).
 *     synchronous_commit is on for every connection, so COMMIT returns once the change is
 *     durable (on the primary, and on synchronous standbys when the server has any).
 *   - db_read(): no BEGIN/COMMIT. Every connection runs in libpq's pipeline mode, and a read's
 *     statements are sent without a Sync between them, so they form one implicit transaction
 *     that the Sync sent after the closure ends; the session's default transaction is
 *     REPEATABLE READ READ ONLY, so the statements of one closure see one snapshot (a
 *     one-statement read is simply that statement, one round trip). The Sync's answer is read
 *     when the connection is next borrowed, not waited for.
 * Statements are prepared once per connection: the first execution of a SQL text (with given
 * parameter types) sends its Parse under a name together with the Bind/Execute, later ones only
 * Bind/Execute. A write's BEGIN goes out with its first statement; its COMMIT and Sync are
 * waited for. A connection that is lost or reset starts with no prepared statement.
 * There is no group commit: PostgreSQL commits concurrent transactions in parallel. A write
 * that conflicted PG_ALONE_AFTER times runs again with this process's other writes held back,
 * so a busy process cannot starve one of its own writes.
 *
 * SQL arrives with '?' placeholders and is rewritten to $1, $2, ... (outside quotes and
 * comments). Parameters travel in text format (integers and doubles as decimal text, typed
 * int8/float8; text untyped so the server infers it from the context), bytes in binary format
 * typed bytea. Results come in text format; col_blob decodes bytea's hex form.
 *
 * A broken connection (the server restarted or is unreachable) is reset when next borrowed
 * (pending answers are read and an idle socket the server closed is noticed then); while it
 * cannot be reached every call fails quickly with DB_ERROR and db_ping is false.
 */
#include "store/db-backend.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define PG_DEFAULT_POOL    4      /* connections when nreaders <= 0 */
#define PG_MAX_POOL        256
#define PG_EXTRA_CONNS     2      /* beyond nreaders: writers and nested uses */
#define PG_MAX_RETRIES     50     /* serialization failures / deadlocks per write */
#define PG_ALONE_AFTER     3      /* conflicts after which a write runs alone in this process */
#define PG_MAX_RECONNECTS  2      /* broken connections per call */
#define PG_CACHE_MAX       256    /* cached statements per connection */
#define PG_WHY_MAX         320    /* the text kept of a conflict (for the log) */
#define PG_VARIANTS        4      /* server-side prepared statements per SQL text (parameter
                                   * types differ, e.g. an integer or NULL bound) */

#define OID_BYTEA  17
#define OID_INT8   20
#define OID_FLOAT8 701

typedef struct pg_db pg_db_t;
typedef struct pg_conn pg_conn_t;

typedef struct pg_stmt {
  db_stmt_t       base;       /* first: db_stmt_t * <-> pg_stmt_t * */
  pg_conn_t      *conn;
  char           *key;        /* the SQL as given (cache key, owned) */
  char           *sql;        /* with $n placeholders (owned) */
  int             nparams;
  char          **vals;       /* nparams bound values (owned copies; NULL = SQL NULL) */
  int            *lens;
  int            *fmts;
  Oid            *types;
  PGresult       *res;        /* the result while rows are read */
  int             row;        /* the current row (-1 before the first) */
  bool            executed;
  bool            bind_failed; /* a bind since the last reset failed (step refuses) */
  bool            in_use;
  bool            touched;
  size_t         *dec_len;    /* per column of row dec_row: decoded bytea length, or SIZE_MAX */
  int             dec_row, dec_cols;
  struct {                    /* prepared on the server under name, for these parameter types */
    char          name[16];
    Oid          *types;
  }               var[PG_VARIANTS];
  int             nvar;
  uint64_t        last_used;
  struct pg_stmt *next;       /* cache list */
  struct pg_stmt *next_touched;
} pg_stmt_t;

struct pg_conn {
  db_conn_t  base;            /* first: db_conn_t * <-> pg_conn_t * */
  pg_db_t   *db;
  PGconn    *h;
  bool       busy;            /* lent to a caller */
  bool       broken;          /* the connection failed: reset before the next use */
  bool       retry;           /* the running transaction hit 40001/40P01 */
  char       retry_why[PG_WHY_MAX]; /* the last such failure: message, SQLSTATE, statement */
  bool       saw_full;        /* the running transaction hit 53100 disk_full */
  bool       in_write;        /* the running closure is a write */
  bool       begin_pending;   /* a write's BEGIN goes out with its first statement */
  bool       txn_open;        /* BEGIN was sent and no COMMIT/ROLLBACK yet */
  bool       txn_failed;      /* a statement of the running transaction failed */
  bool       unsynced;        /* statements were sent since the last Sync */
  bool       stale_plans;     /* the server refused a cached plan (the schema changed) */
  int        pending_syncs;   /* Syncs sent whose answer is not read yet */
  unsigned   next_name;       /* for prepared statement names */
  char     **dealloc;         /* prepared names to DEALLOCATE at the next release */
  size_t     ndealloc;
  int64_t    changes;
  pg_stmt_t *stmts;           /* cache */
  size_t     nstmts;
  uint64_t   tick;
  pg_stmt_t *touched;
  char       err[256];        /* last error message */
};

struct pg_db {
  db_t            base;       /* first: db_t * <-> pg_db_t * */
  char           *url;
  char           *safe_url;   /* for messages: the URL without a password */
  pthread_mutex_t mu;
  pthread_cond_t  cv;
  pg_conn_t      *conns;
  int             nconns;
  pthread_rwlock_t alone;     /* writes hold it shared; a write that keeps conflicting takes it
                               * exclusively, so it cannot starve behind this process's others */
  db_stats_t      stats;      /* under mu */
  db_pool_stats_t pool;       /* under mu */
  atomic_bool     down;       /* a connection attempt failed or a connection was lost, and none
                               * succeeded since */
  /* db_listen: its thread, connection of its own and the pipe that stops it */
  bool            listening;
  pthread_t       listener;
  int             listen_stop[2];
  char          **channels;
  void          (*listen_fn)(const char *channel, void *arg);
  void           *listen_arg;
};

static _Thread_local pg_conn_t *tl_conn;

/* ---- helpers ------------------------------------------------------------------------------ */

static void pg_set_err(pg_conn_t *c, const char *msg) {
  snprintf(c->err, sizeof c->err, "%s", msg ? msg : "unknown error");
  size_t n = strlen(c->err);
  while (n && (c->err[n - 1] == '\n' || c->err[n - 1] == ' ')) c->err[--n] = '\0';
  for (char *p = c->err; *p; p++)  /* one log line: "ERROR: ... CONTEXT: ..." */
    if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
}

/* The URL with any password replaced by "***" (user:secret@ or password=secret). */
static char *pg_safe_url(const char *url) {
  buf_t b = BUF_INIT;
  const char *p = url;
  const char *scheme_end = strstr(url, "://");
  const char *at = scheme_end ? strchr(scheme_end + 3, '@') : NULL;
  const char *slash = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
  if (at && (!slash || at < slash)) {
    const char *colon = memchr(scheme_end + 3, ':', (size_t)(at - scheme_end - 3));
    if (colon) {
      buf_append(&b, url, (size_t)(colon - url));
      buf_printf(&b, ":***");
      p = at;
    }
  }
  const char *pw = strstr(p, "password=");
  if (pw) {
    buf_append(&b, p, (size_t)(pw - p));
    buf_printf(&b, "password=***");
    const char *amp = strchr(pw, '&');
    if (amp) buf_printf(&b, "%s", amp);
  } else {
    buf_printf(&b, "%s", p);
  }
  return buf_detach(&b);
}

/* Rewrites '?' placeholders to $n outside string literals, quoted identifiers and comments;
 * *n receives the number of placeholders. */
static char *pg_translate(const char *sql, int *n) {
  buf_t b = BUF_INIT;
  int count = 0;
  for (const char *p = sql; *p; p++) {
    if (*p == '\'' || *p == '"') {
      char q = *p;
      const char *e = p + 1;
      while (*e && *e != q) e++;
      buf_append(&b, p, (size_t)(e - p) + (*e ? 1 : 0));
      if (!*e) break;
      p = e;
    } else if (p[0] == '-' && p[1] == '-') {
      const char *e = strchr(p, '\n');
      if (!e) e = p + strlen(p) - 1;
      buf_append(&b, p, (size_t)(e - p) + 1);
      p = e;
    } else if (*p == '?') {
      buf_printf(&b, "$%d", ++count);
    } else {
      buf_append(&b, p, 1);
    }
  }
  *n = count;
  if (!b.data) buf_printf(&b, "%s", "");
  return buf_detach(&b);
}

static bool pg_conn_lost(pg_conn_t *c, const char *state) {
  if (PQstatus(c->h) != CONNECTION_OK) return true;
  /* 08: connection exception; 57P01..03: admin/crash shutdown, cannot connect now */
  return state && (!strncmp(state, "08", 2) || !strncmp(state, "57P", 3));
}

/* Classifies a failed result: sets c->retry / c->broken / c->saw_full and returns
 * DB_CONSTRAINT, DB_FULL or DB_ERROR. Consumes nothing. */
static int pg_fail(pg_conn_t *c, const PGresult *r, const char *sql) {
  c->txn_failed = true;
  if (r && PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {  /* skipped after an earlier error */
    if (PQstatus(c->h) != CONNECTION_OK) return pg_fail(c, NULL, sql);
    log_debug("postgres: not run, an earlier statement failed; in: %s", sql);
    return DB_ERROR;
  }
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  pg_set_err(c, r ? PQresultErrorMessage(r) : PQerrorMessage(c->h));
  if (!r || !*c->err) pg_set_err(c, PQerrorMessage(c->h));
  if (state && !strncmp(state, "23", 2)) {
    log_debug("postgres: constraint (%s): %s; in: %s", state, c->err, sql);
    return DB_CONSTRAINT;
  }
  if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01"))) {
    log_debug("postgres: %s (%s), the transaction will be retried; in: %s", c->err, state, sql);
    c->retry = true;
    snprintf(c->retry_why, sizeof c->retry_why, "%s (%s); in: %s", c->err, state, sql);
    return DB_ERROR;
  }
  /* 53100 disk_full: the server could not extend a file for lack of space (ENOSPC/EDQUOT);
   * the same DB_FULL as SQLITE_FULL, so Graph answers 507. The rest of class 53 (out of
   * memory, too many connections, configuration limits) is not about space. */
  if (state && !strcmp(state, "53100")) {
    c->saw_full = true;
    log_error("postgres %s: no space left: %s (%s); in: %s", c->db->safe_url, c->err, state, sql);
    db_note_failure("postgres: no space left: %s (%s); in: %s", c->err, state, sql);
    return DB_FULL;
  }
  if (state && !strcmp(state, "0A000") && strstr(c->err, "cached plan")) {
    /* the schema changed under a prepared statement: prepare again, run the closure again */
    log_debug("postgres: %s; in: %s", c->err, sql);
    c->stale_plans = true;
    c->retry = true;
    snprintf(c->retry_why, sizeof c->retry_why, "%s (%s); in: %s", c->err, state, sql);
    return DB_ERROR;
  }
  if (state && !strcmp(state, "25P02")) {  /* an earlier statement already failed and logged */
    log_debug("postgres: %s; in: %s", c->err, sql);
    return DB_ERROR;
  }
  if (pg_conn_lost(c, state)) {
    c->broken = true;
    atomic_store(&c->db->down, true);
    log_warn("postgres %s: connection lost: %s", c->db->safe_url, c->err);
    db_note_failure("postgres: connection lost: %s (%s); in: %s", c->err,
                    state ? state : "no SQLSTATE", sql);
    return DB_ERROR;
  }
  log_error("postgres: %s (%s); in: %s", c->err, state ? state : "no SQLSTATE", sql);
  db_note_failure("postgres: %s (%s); in: %s", c->err, state ? state : "no SQLSTATE", sql);
  return DB_ERROR;
}

/* Runs a transaction-control or script statement; DB_OK or pg_fail's code. */
static int pg_simple(pg_conn_t *c, const char *sql) {
  PGresult *r = PQexec(c->h, sql);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  int rc = DB_OK;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
    rc = pg_fail(c, r, sql);
  else
    c->changes = atoll(PQcmdTuples(r));
  PQclear(r);
  return rc;
}

/* ---- the pipeline ------------------------------------------------------------------------- */

/* Marks c lost (the server went away or the pipeline is out of step). */
static void pg_lost(pg_conn_t *c) {
  if (!c->broken) {
    pg_set_err(c, PQerrorMessage(c->h));
    log_warn("postgres %s: connection lost: %s", c->db->safe_url, c->err);
    db_note_failure("postgres: connection lost: %s", c->err);
  }
  c->broken = true;
  atomic_store(&c->db->down, true);
}

/* The next query's result from the pipeline, its end (libpq's NULL after each query) read
 * too; NULL when the connection gave nothing (c->broken is then set). */
static PGresult *pg_result(pg_conn_t *c) {
  PGresult *r = PQgetResult(c->h);
  if (!r && PQstatus(c->h) == CONNECTION_OK) r = PQgetResult(c->h);  /* an end not yet read */
  if (!r) {
    pg_lost(c);
    return NULL;
  }
  if (PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
    PGresult *more = PQgetResult(c->h);
    if (more) {  /* one query, one result: anything else means the pipeline is out of step */
      PQclear(more);
      pg_lost(c);
    }
  }
  return r;
}

/* Sends a Sync after what was sent since the last one (ends a read's implicit transaction;
 * inside BEGIN it only marks the end of an error's skipping). Its answer is read later. */
static void pg_sync(pg_conn_t *c) {
  if (c->broken) return;
  if (!PQpipelineSync(c->h)) {
    pg_lost(c);
    return;
  }
  c->pending_syncs++;
  c->unsynced = false;
}

/* Reads the answers nobody waited for (the Syncs sent and what came before them: ROLLBACK,
 * DEALLOCATE). False when the connection is lost. */
static bool pg_drain(pg_conn_t *c) {
  while (c->pending_syncs > 0 && !c->broken) {
    PGresult *r = pg_result(c);
    if (!r) break;
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
      c->pending_syncs--;
    } else if (st == PGRES_FATAL_ERROR) {
      const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      if (pg_conn_lost(c, state)) pg_lost(c);
      else log_warn("postgres: %s", PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  return !c->broken;
}

/* Sends the queued query and a flush request, so the server answers it now. */
static bool pg_flush(pg_conn_t *c) {
  if (!PQsendFlushRequest(c->h) || PQflush(c->h) != 0) {
    pg_lost(c);
    return false;
  }
  return true;
}

/* Sends sql (no parameters, no result rows: BEGIN, COMMIT, ROLLBACK, DEALLOCATE). */
static bool pg_send_plain(pg_conn_t *c, const char *sql) {
  if (c->broken) return false;
  if (!PQsendQueryParams(c->h, sql, 0, NULL, NULL, NULL, NULL, 0)) {
    pg_lost(c);
    return false;
  }
  c->unsynced = true;
  return true;
}

/* The result of a plain statement sent before: DB_OK or pg_fail's code. */
static int pg_plain_result(pg_conn_t *c, const char *sql) {
  PGresult *r = pg_result(c);
  if (!r) return DB_ERROR;
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? DB_OK : pg_fail(c, r, sql);
  PQclear(r);
  return rc;
}

#define PG_BEGIN_WRITE "BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE"

/* Runs a write's BEGIN now if it has not gone out with a statement yet. */
static int pg_begin_now(pg_conn_t *c) {
  if (!c->begin_pending) return DB_OK;
  c->begin_pending = false;
  c->txn_open = true;
  if (!pg_send_plain(c, PG_BEGIN_WRITE) || !pg_flush(c)) return DB_ERROR;
  return pg_plain_result(c, PG_BEGIN_WRITE);
}

/* ---- statements --------------------------------------------------------------------------- */

static void pg_clear_bindings(pg_stmt_t *s) {
  for (int i = 0; i < s->nparams; i++) {
    free(s->vals[i]);
    s->vals[i] = NULL;
    s->lens[i] = 0;
    s->fmts[i] = 0;
    s->types[i] = 0;
  }
}

static void pg_stmt_reset(pg_stmt_t *s) {
  PQclear(s->res);
  s->res = NULL;
  s->row = -1;
  s->executed = false;
  free(s->dec_len);
  s->dec_len = NULL;
  s->dec_cols = 0;
  s->dec_row = -1;
  pg_clear_bindings(s);
  s->bind_failed = false;
  s->in_use = false;
}

/* Frees s; its prepared statements are DEALLOCATEd at the connection's next release when
 * dealloc (else the session that held them is gone). */
static void pg_stmt_free(pg_stmt_t *s, bool dealloc) {
  pg_stmt_reset(s);
  for (int i = 0; i < s->nvar; i++) {
    pg_conn_t *c = s->conn;
    if (dealloc) {
      c->dealloc = xrealloc(c->dealloc, (c->ndealloc + 1) * sizeof *c->dealloc);
      c->dealloc[c->ndealloc++] = xstrdup(s->var[i].name);
    }
    free(s->var[i].types);
  }
  free(s->vals);
  free(s->lens);
  free(s->fmts);
  free(s->types);
  free(s->key);
  free(s->sql);
  free(s);
}

/* Forgets every statement of c (its session is gone, or its plans are stale: dealloc). */
static void pg_cache_free(pg_conn_t *c, bool dealloc) {
  for (pg_stmt_t *s = c->stmts, *next; s; s = next) {
    next = s->next;
    pg_stmt_free(s, dealloc);
  }
  c->stmts = NULL;
  c->nstmts = 0;
  c->touched = NULL;
  if (!dealloc) {
    for (size_t i = 0; i < c->ndealloc; i++) free(c->dealloc[i]);
    free(c->dealloc);
    c->dealloc = NULL;
    c->ndealloc = 0;
  }
}

/* Between transactions: drops the least recently used statements above PG_CACHE_MAX. */
static void pg_cache_trim(pg_conn_t *c) {
  while (c->nstmts > PG_CACHE_MAX) {
    pg_stmt_t **oldest = NULL;
    for (pg_stmt_t **pp = &c->stmts; *pp; pp = &(*pp)->next)
      if (!oldest || (*pp)->last_used < (*oldest)->last_used) oldest = pp;
    pg_stmt_t *s = *oldest;
    *oldest = s->next;
    pg_stmt_free(s, true);
    c->nstmts--;
  }
}

/* After a closure: resets every statement it prepared. */
static void pg_end_closure(pg_conn_t *c) {
  for (pg_stmt_t *s = c->touched, *next; s; s = next) {
    next = s->next_touched;
    pg_stmt_reset(s);
    s->touched = false;
    s->next_touched = NULL;
  }
  c->touched = NULL;
}

static db_stmt_t *pg_prepare(db_conn_t *cb, const char *sql) {
  pg_conn_t *c = (pg_conn_t *)cb;
  pg_stmt_t *s = NULL;
  for (pg_stmt_t *e = c->stmts; e; e = e->next)
    if (!e->in_use && !strcmp(e->key, sql)) {
      s = e;
      break;
    }
  if (!s) {
    s = xcalloc(1, sizeof *s);
    s->base.be = &db_postgres_backend;
    s->conn = c;
    s->key = xstrdup(sql);
    s->sql = pg_translate(sql, &s->nparams);
    size_t n = s->nparams ? (size_t)s->nparams : 1;
    s->vals = xcalloc(n, sizeof *s->vals);
    s->lens = xcalloc(n, sizeof *s->lens);
    s->fmts = xcalloc(n, sizeof *s->fmts);
    s->types = xcalloc(n, sizeof *s->types);
    s->row = -1;
    s->dec_row = -1;
    s->next = c->stmts;
    c->stmts = s;
    c->nstmts++;
  }
  s->in_use = true;
  s->last_used = ++c->tick;
  if (!s->touched) {
    s->touched = true;
    s->next_touched = c->touched;
    c->touched = s;
  }
  return &s->base;
}

static bool pg_bind_ok(pg_stmt_t *s, int idx) {
  if (idx >= 1 && idx <= s->nparams) return true;
  s->bind_failed = true;
  log_error("postgres: parameter %d out of range (1..%d); in: %s", idx, s->nparams, s->key);
  return false;
}

static void pg_bind(pg_stmt_t *s, int idx, char *val, int len, int fmt, Oid type) {
  if (!pg_bind_ok(s, idx)) {
    free(val);
    return;
  }
  free(s->vals[idx - 1]);
  s->vals[idx - 1] = val;
  s->lens[idx - 1] = len;
  s->fmts[idx - 1] = fmt;
  s->types[idx - 1] = type;
}

static void pg_bind_text(db_stmt_t *sb, int idx, const char *v) {
  pg_bind((pg_stmt_t *)sb, idx, v ? xstrdup(v) : NULL, 0, 0, 0);
}

static void pg_bind_int64(db_stmt_t *sb, int idx, int64_t v) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%" PRId64, v);
  pg_bind((pg_stmt_t *)sb, idx, xstrdup(tmp), 0, 0, OID_INT8);
}

static void pg_bind_double(db_stmt_t *sb, int idx, double v) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%.17g", v);
  pg_bind((pg_stmt_t *)sb, idx, xstrdup(tmp), 0, 0, OID_FLOAT8);
}

static void pg_bind_blob(db_stmt_t *sb, int idx, const void *v, size_t len) {
  pg_stmt_t *s = (pg_stmt_t *)sb;
  if (!v && len) {
    pg_bind(s, idx, NULL, 0, 0, OID_BYTEA);
    return;
  }
  if (len > INT32_MAX) {
    log_error("postgres: blob parameter %d too large (%zu bytes)", idx, len);
    s->bind_failed = true;
    return;
  }
  char *copy = xmalloc(len ? len : 1);
  if (len) memcpy(copy, v, len);
  pg_bind(s, idx, copy, (int)len, 1, OID_BYTEA);
}

static void pg_bind_null(db_stmt_t *sb, int idx) { pg_bind((pg_stmt_t *)sb, idx, NULL, 0, 0, 0); }

/* The server-side statement of s for its bound parameter types: one already prepared on c
 * (a NULL binds to any type), or a new one (*parse: send its Parse first); NULL when s has
 * PG_VARIANTS already (then it runs unnamed). */
static int pg_variant(pg_conn_t *c, pg_stmt_t *s, bool *parse) {
  *parse = false;
  for (int i = 0; i < s->nvar; i++) {
    bool same = true;
    for (int k = 0; k < s->nparams && same; k++)
      same = s->var[i].types[k] == s->types[k] || !s->vals[k];
    if (same) return i;
  }
  if (s->nvar == PG_VARIANTS) return -1;
  int i = s->nvar++;
  snprintf(s->var[i].name, sizeof s->var[i].name, "s%u", ++c->next_name);
  size_t n = s->nparams ? (size_t)s->nparams : 1;
  s->var[i].types = xcalloc(n, sizeof *s->var[i].types);
  if (s->nparams) memcpy(s->var[i].types, s->types, n * sizeof *s->types);
  *parse = true;
  return i;
}

/* Forgets variant i of s (its Parse failed or never ran). */
static void pg_variant_drop(pg_stmt_t *s, int i) {
  free(s->var[i].types);
  s->var[i] = s->var[--s->nvar];
}

/* Sends s (with a write's pending BEGIN, and its Parse on first use) in one round trip and
 * reads the answers; leaves the statement's own result in s->res. DB_OK or pg_fail's code. */
static int pg_execute(pg_conn_t *c, pg_stmt_t *s) {
  bool begin = c->begin_pending, parse = false;
  int v = pg_variant(c, s, &parse);
  const char *const *vals = (const char *const *)s->vals;
  if (begin) {
    c->begin_pending = false;
    c->txn_open = true;
    if (!pg_send_plain(c, PG_BEGIN_WRITE)) return pg_fail(c, NULL, PG_BEGIN_WRITE);
  }
  bool sent;
  if (v < 0) {
    sent = PQsendQueryParams(c->h, s->sql, s->nparams, s->types, vals, s->lens, s->fmts, 0);
  } else {
    sent = (!parse || PQsendPrepare(c->h, s->var[v].name, s->sql, s->nparams, s->var[v].types)) &&
           PQsendQueryPrepared(c->h, s->var[v].name, s->nparams, vals, s->lens, s->fmts, 0);
  }
  c->unsynced = true;
  if (!sent || !pg_flush(c)) {
    if (parse) pg_variant_drop(s, v);
    pg_lost(c);
    return pg_fail(c, NULL, s->key);
  }
  int rc = DB_OK;
  if (begin) rc = pg_plain_result(c, PG_BEGIN_WRITE);
  if (parse) {
    PGresult *r = c->broken ? NULL : pg_result(c);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
      pg_variant_drop(s, v);
      if (rc == DB_OK) rc = pg_fail(c, r, s->key);
    }
    PQclear(r);
  }
  s->res = c->broken ? NULL : pg_result(c);
  if (!s->res) return rc == DB_OK ? pg_fail(c, NULL, s->key) : rc;
  ExecStatusType st = PQresultStatus(s->res);
  if (rc == DB_OK && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    rc = pg_fail(c, s->res, s->key);
  return rc;
}

static int pg_step(db_stmt_t *sb) {
  pg_stmt_t *s = (pg_stmt_t *)sb;
  pg_conn_t *c = s->conn;
  if (!s->executed) {
    if (s->bind_failed) return DB_ERROR;  /* logged when binding */
    s->executed = true;
    if (c->broken) return DB_ERROR;
    s->dec_row = -1;
    int rc = pg_execute(c, s);
    if (rc != DB_OK) {
      PQclear(s->res);
      s->res = NULL;
      return rc;
    }
    if (PQresultStatus(s->res) == PGRES_COMMAND_OK) {
      c->changes = atoll(PQcmdTuples(s->res));
      PQclear(s->res);
      s->res = NULL;
      return DB_DONE;
    }
    const char *tag = PQcmdTuples(s->res);
    if (*tag) c->changes = atoll(tag);  /* INSERT/UPDATE/DELETE ... RETURNING */
    s->row = -1;
  }
  if (!s->res) return DB_DONE;
  if (s->row + 1 < PQntuples(s->res)) {
    s->row++;
    return DB_ROW;
  }
  return DB_DONE;
}

static bool pg_has_cell(pg_stmt_t *s, int col) {
  return s->res && s->row >= 0 && s->row < PQntuples(s->res) && col >= 0 &&
         col < PQnfields(s->res);
}

static bool pg_col_null(db_stmt_t *sb, int col) {
  pg_stmt_t *s = (pg_stmt_t *)sb;
  return !pg_has_cell(s, col) || PQgetisnull(s->res, s->row, col);
}

static const char *pg_col_text(db_stmt_t *sb, int col) {
  pg_stmt_t *s = (pg_stmt_t *)sb;
  if (pg_col_null(sb, col)) return NULL;
  return PQgetvalue(s->res, s->row, col);
}

static int64_t pg_col_int64(db_stmt_t *sb, int col) {
  const char *v = pg_col_text(sb, col);
  if (!v) return 0;
  if (!strcmp(v, "t")) return 1;  /* boolean expressions */
  if (!strcmp(v, "f")) return 0;
  return strtoll(v, NULL, 10);
}

static double pg_col_double(db_stmt_t *sb, int col) {
  const char *v = pg_col_text(sb, col);
  return v ? strtod(v, NULL) : 0.0;
}

static int pg_hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static const void *pg_col_blob(db_stmt_t *sb, int col, size_t *len) {
  pg_stmt_t *s = (pg_stmt_t *)sb;
  if (len) *len = 0;
  if (pg_col_null(sb, col)) return NULL;
  char *v = PQgetvalue(s->res, s->row, col);
  size_t vlen = (size_t)PQgetlength(s->res, s->row, col);
  if (PQftype(s->res, col) != OID_BYTEA) {  /* text: the bytes as they are */
    if (len) *len = vlen;
    return v;
  }
  if (s->dec_row != s->row) {
    int nf = PQnfields(s->res);
    if (nf > s->dec_cols) {
      s->dec_len = xrealloc(s->dec_len, (size_t)nf * sizeof *s->dec_len);
      s->dec_cols = nf;
    }
    for (int i = 0; i < nf; i++) s->dec_len[i] = SIZE_MAX;
    s->dec_row = s->row;
  }
  if (s->dec_len[col] == SIZE_MAX) {
    /* bytea arrives as "\x" and hex digits: decoded in place in the result (half the size),
     * so a chunk costs no second buffer */
    size_t n = 0;
    if (vlen >= 2 && v[0] == '\\' && v[1] == 'x') {
      n = (vlen - 2) / 2;
      unsigned char *out = (unsigned char *)v;
      for (size_t i = 0; i < n; i++) {
        int hi = pg_hexval((unsigned char)v[2 + 2 * i]), lo = pg_hexval((unsigned char)v[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
          log_error("postgres: malformed bytea value in column %d", col);
          n = i;
          break;
        }
        out[i] = (unsigned char)(hi << 4 | lo);
      }
    }
    s->dec_len[col] = n;
  }
  if (len) *len = s->dec_len[col];
  return v;
}

static void pg_reset(db_stmt_t *sb) { pg_stmt_reset((pg_stmt_t *)sb); }

/* A script of several statements needs the simple query protocol, so it runs outside the
 * pipeline (after a write's BEGIN; in a read it ends the closure's snapshot). */
static int pg_exec(db_conn_t *cb, const char *sql) {
  pg_conn_t *c = (pg_conn_t *)cb;
  if (c->broken) return DB_ERROR;
  int rc = pg_begin_now(c);
  if (rc != DB_OK) return rc;
  if (c->unsynced) pg_sync(c);
  if (!pg_drain(c)) return DB_ERROR;
  if (!PQexitPipelineMode(c->h)) {
    pg_lost(c);
    return DB_ERROR;
  }
  rc = pg_simple(c, sql);
  if (!PQenterPipelineMode(c->h)) {
    pg_lost(c);
    return DB_ERROR;
  }
  return rc;
}

static int64_t pg_changes(db_conn_t *cb) { return ((pg_conn_t *)cb)->changes; }

static const char *pg_errmsg(db_conn_t *cb) { return ((pg_conn_t *)cb)->err; }

/* The member as text with #>> over the column cast to jsonb, then converted to the kind (JSON
 * true/false as 1/0 like the integer boolean columns). */
static char *pg_json_scalar(const char *col, const char *const *keys, size_t nkeys,
                            db_json_kind_t kind) {
  buf_t t = BUF_INIT, b = BUF_INIT;
  buf_printf(&t, "((%s)::jsonb #>> '{", col);
  for (size_t i = 0; i < nkeys; i++) buf_printf(&t, "%s%s", i ? "," : "", keys[i]);
  buf_puts(&t, "}')");
  switch (kind) {
    case DB_JSON_TEXT: buf_puts(&b, t.data); break;
    case DB_JSON_BOOL:
      buf_printf(&b, "(CASE %s WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)", t.data);
      break;
    case DB_JSON_DOUBLE: buf_printf(&b, "(%s::double precision)", t.data); break;
    case DB_JSON_INT: buf_printf(&b, "(%s::bigint)", t.data); break;
  }
  buf_free(&t);
  return buf_detach(&b);
}

/* jsonb_array_elements_text over the member when it is an array (over NULL, which gives no
 * row, otherwise), each element converted to the kind as pg_json_scalar converts a member. */
static char *pg_json_elements(const char *col, const char *const *keys, size_t nkeys,
                              db_json_kind_t kind, const char *alias, char **value) {
  buf_t m = BUF_INIT, b = BUF_INIT, v = BUF_INIT;
  buf_printf(&m, "((%s)::jsonb #> '{", col);
  for (size_t i = 0; i < nkeys; i++) buf_printf(&m, "%s%s", i ? "," : "", keys[i]);
  buf_puts(&m, "}')");
  buf_printf(&b, "jsonb_array_elements_text(CASE jsonb_typeof(%s) WHEN 'array' THEN %s END) AS "
                 "%s(value)", m.data, m.data, alias);
  buf_free(&m);
  switch (kind) {
    case DB_JSON_TEXT: buf_printf(&v, "%s.value", alias); break;
    case DB_JSON_BOOL:
      buf_printf(&v, "(CASE %s.value WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)", alias);
      break;
    case DB_JSON_DOUBLE: buf_printf(&v, "(%s.value::double precision)", alias); break;
    case DB_JSON_INT: buf_printf(&v, "(%s.value::bigint)", alias); break;
  }
  *value = buf_detach(&v);
  return buf_detach(&b);
}

/* ---- connections -------------------------------------------------------------------------- */

static void pg_notice(void *arg, const char *msg) {
  (void)arg;
  log_debug("postgres notice: %s", msg);
}

static void pg_conn_close(pg_conn_t *c) {
  pg_cache_free(c, false);
  if (c->h) PQfinish(c->h);
  c->h = NULL;
  c->pending_syncs = 0;
  c->unsynced = c->txn_open = c->begin_pending = c->stale_plans = false;
}

/* Connects c (fresh or after a failure). 0, or -1 with the reason in c->err. */
static int pg_conn_connect(pg_conn_t *c) {
  pg_conn_close(c);
  /* Defaults first: the URL's own values (expanded from dbname) override them. */
  const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
  const char *vals[] = {"5", "spoold", c->db->url, NULL};
  c->h = PQconnectdbParams(keys, vals, 1);
  if (!c->h || PQstatus(c->h) != CONNECTION_OK) {
    pg_set_err(c, c->h ? PQerrorMessage(c->h) : "out of memory");
    if (c->h) PQfinish(c->h);
    c->h = NULL;
    return -1;
  }
  PQsetNoticeProcessor(c->h, pg_notice, NULL);
  /* a read is the statements between two Syncs: one snapshot, read-only, by default */
  if (pg_simple(c, "SET synchronous_commit = on; SET client_min_messages = warning;"
                   "SET TIME ZONE 'UTC'; SET default_transaction_isolation = 'repeatable read';"
                   "SET default_transaction_read_only = on") != DB_OK ||
      !PQenterPipelineMode(c->h)) {
    if (!*c->err) pg_set_err(c, PQerrorMessage(c->h));
    PQfinish(c->h);
    c->h = NULL;
    return -1;
  }
  c->broken = false;
  return 0;
}

/* Before lending c: reads the answers still pending, and notices a connection the server
 * closed while it was idle, so that it is connected again now instead of failing the caller. */
static void pg_check_idle(pg_conn_t *c) {
  if (!pg_drain(c)) return;
  /* a server that ends the session sends an error, then closes: read until neither is left */
  struct pollfd p = {.fd = PQsocket(c->h), .events = POLLIN};
  for (int i = 0; i < 4 && poll(&p, 1, 0) > 0; i++)
    if (!PQconsumeInput(c->h) || PQstatus(c->h) != CONNECTION_OK) {
      pg_lost(c);
      return;
    }
}

/* Borrows a connection (waiting while all are lent), connected; NULL when the server cannot
 * be reached (logged). */
static pg_conn_t *pg_borrow(pg_db_t *db) {
  pthread_mutex_lock(&db->mu);
  pg_conn_t *c = NULL;
  bool waited = false;
  struct timespec t0;
  for (;;) {
    for (int i = 0; i < db->nconns && !c; i++)  /* a connected one first */
      if (!db->conns[i].busy && db->conns[i].h) c = &db->conns[i];
    for (int i = 0; i < db->nconns && !c; i++)
      if (!db->conns[i].busy) c = &db->conns[i];
    if (c) break;
    if (!waited) {
      waited = true;
      db->pool.waits++;
      clock_gettime(CLOCK_MONOTONIC, &t0);
    }
    pthread_cond_wait(&db->cv, &db->mu);
  }
  if (waited) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    db->pool.wait_us += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
                                   (t1.tv_nsec - t0.tv_nsec) / 1000);
  }
  c->busy = true;
  db->pool.in_use++;
  pthread_mutex_unlock(&db->mu);

  if (c->h && !c->broken) pg_check_idle(c);
  if (!c->h || c->broken || PQstatus(c->h) != CONNECTION_OK) {
    if (pg_conn_connect(c) != 0) {
      if (!atomic_exchange(&db->down, true) || db->pool.connect_failures % 100 == 0)
        log_warn("postgres %s: cannot connect: %s", db->safe_url, c->err);
      db_note_failure("postgres: cannot connect: %s", c->err);
      pthread_mutex_lock(&db->mu);
      db->pool.connect_failures++;
      c->busy = false;
      db->pool.in_use--;
      pthread_cond_signal(&db->cv);
      pthread_mutex_unlock(&db->mu);
      return NULL;
    }
    pthread_mutex_lock(&db->mu);
    db->pool.connects++;
    pthread_mutex_unlock(&db->mu);
    if (atomic_exchange(&db->down, false)) log_info("postgres %s: reachable again", db->safe_url);
  }
  return c;
}

/* Ends what the closure left open without waiting for the server: a read's implicit
 * transaction (Sync), an uncommitted write (ROLLBACK), statements dropped from the cache
 * (DEALLOCATE); the answers are read when c is next borrowed. Then lends c again. */
static void pg_release(pg_db_t *db, pg_conn_t *c) {
  c->begin_pending = false;
  if (c->h && !c->broken) {
    if (c->unsynced) pg_sync(c);  /* ends a read, and the skipping after an error */
    if (c->txn_open) {            /* never hand out a connection inside a transaction */
      pg_send_plain(c, "ROLLBACK");
      c->txn_open = false;
    }
    if (c->stale_plans) {  /* the schema changed: prepare everything again */
      pg_cache_free(c, false);
      c->stale_plans = false;
      pg_send_plain(c, "DEALLOCATE ALL");
    } else {
      pg_cache_trim(c);
    }
    for (size_t i = 0; i < c->ndealloc; i++) {
      char sql[48];
      snprintf(sql, sizeof sql, "DEALLOCATE %s", c->dealloc[i]);
      pg_send_plain(c, sql);
      free(c->dealloc[i]);
    }
    c->ndealloc = 0;
    if (c->unsynced) pg_sync(c);
  }
  if (c->broken) pg_conn_close(c);
  pthread_mutex_lock(&db->mu);
  c->busy = false;
  db->pool.in_use--;
  pthread_cond_signal(&db->cv);
  pthread_mutex_unlock(&db->mu);
}

/* Sleeps a little before retrying a conflicting transaction (grows with the attempt). */
static void pg_backoff(int attempt) {
  unsigned us = 200u << (attempt < 8 ? attempt : 8);  /* 0.2 ms .. 51 ms */
  us = us / 2 + (unsigned)rand() % (us / 2 + 1);
  struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};
  nanosleep(&ts, NULL);
}

/* ---- transactions ------------------------------------------------------------------------- */

static int pg_write_attempts(pg_db_t *db, db_txn_fn fn, void *arg, bool *alone);

/* A write that lost attempt + 1 times to concurrent ones (40001/40P01), the last for why:
 * logged and given up as DB_BUSY (a transient conflict: the caller may send it again). */
static int pg_gave_up(const char *why, int attempt) {
  log_error("postgres: a write was given up after %d attempts that each lost to concurrent "
            "writes; the last: %s", attempt + 1, why);
  db_note_failure("postgres: given up after %d conflicting attempts; the last: %s", attempt + 1,
                  why);
  return DB_BUSY;
}

static int pg_write(db_t *base, db_txn_fn fn, void *arg) {
  pg_db_t *db = (pg_db_t *)base;
  if (tl_conn && tl_conn->db == db && tl_conn->in_write) {
    log_error("postgres: db_write called inside a write closure");
    return DB_ERROR;
  }
  bool alone = false;
  pthread_rwlock_rdlock(&db->alone);
  int rc = pg_write_attempts(db, fn, arg, &alone);
  pthread_rwlock_unlock(&db->alone);
  return rc;
}

/* COMMIT of a write and its Sync, waited for (nothing to do when it ran no statement). */
static int pg_commit(pg_conn_t *c) {
  c->begin_pending = false;
  if (!c->txn_open) return DB_OK;
  c->txn_open = false;
  if (!pg_send_plain(c, "COMMIT")) return pg_fail(c, NULL, "COMMIT");
  pg_sync(c);
  int rc = c->broken ? pg_fail(c, NULL, "COMMIT") : pg_plain_result(c, "COMMIT");
  pg_drain(c);  /* a connection lost after a good COMMIT is closed at release */
  return rc;
}

/* pg_write's loop; *alone tells whether db->alone is held exclusively (else shared). */
static int pg_write_attempts(pg_db_t *db, db_txn_fn fn, void *arg, bool *alone) {
  int reconnects = 0;
  char why[PG_WHY_MAX];
  for (int attempt = 0;; attempt++) {
    if (attempt >= PG_ALONE_AFTER && !*alone) {
      pthread_rwlock_unlock(&db->alone);
      pthread_rwlock_wrlock(&db->alone);
      *alone = true;
    }
    pg_conn_t *c = pg_borrow(db);
    if (!c) return DB_ERROR;
    c->retry = false;
    c->saw_full = false;
    c->txn_failed = false;
    c->begin_pending = true;  /* sent with the closure's first statement */
    pg_conn_t *outer = tl_conn;
    tl_conn = c;
    c->in_write = true;
    int rc = fn(&c->base, arg);
    c->in_write = false;
    tl_conn = outer;
    pg_end_closure(c);

    if (c->broken) {  /* lost before COMMIT: nothing of it was committed */
      pg_release(db, c);
      if (reconnects++ < PG_MAX_RECONNECTS) continue;
      return DB_ERROR;
    }
    if (c->retry) {
      memcpy(why, c->retry_why, sizeof why);  /* c goes back to the pool */
      pg_release(db, c);  /* rolls back */
      if (attempt < PG_MAX_RETRIES) {
        pg_backoff(attempt);
        continue;
      }
      return pg_gave_up(why, attempt);
    }
    if (rc != 0 || c->txn_failed) {
      if (rc == 0) {
        log_error("postgres: a write closure ignored a failed statement (%s); rolled back", c->err);
        rc = DB_ERROR;
      }
      if (c->saw_full) rc = DB_FULL;  /* failed for space, whatever the closure made of it */
      pg_release(db, c);
      return rc;
    }
    int64_t t0 = time_mono_us();
    int crc = pg_commit(c);
    if (crc == DB_OK) {
      int64_t us = time_mono_us() - t0;
      pthread_mutex_lock(&db->mu);
      db_stats_add_batch(&db->stats, 1);
      db_stats_add_commit_time(&db->stats, us);
      pthread_mutex_unlock(&db->mu);
      pg_release(db, c);
      return 0;
    }
    bool again = c->retry && attempt < PG_MAX_RETRIES;  /* serialization failure at COMMIT */
    if (c->broken)
      log_error("postgres: connection lost during COMMIT; the write's outcome is unknown and it "
                "is not retried");
    bool full = c->saw_full, gave_up = c->retry && !again;
    memcpy(why, c->retry_why, sizeof why);
    pg_release(db, c);
    if (again) {
      pg_backoff(attempt);
      continue;
    }
    if (gave_up) return pg_gave_up(why, attempt);  /* serialization failure at COMMIT, the last */
    return full ? DB_FULL : DB_ERROR;
  }
}

static int pg_read(db_t *base, db_txn_fn fn, void *arg) {
  pg_db_t *db = (pg_db_t *)base;
  if (tl_conn && tl_conn->db == db) {
    if (tl_conn->in_write) {
      log_error("postgres: db_read called inside a write closure; use the closure's connection");
      return DB_ERROR;
    }
    return fn(&tl_conn->base, arg);  /* nested read: same connection, same snapshot */
  }
  for (int attempt = 0;; attempt++) {
    pg_conn_t *c = pg_borrow(db);
    if (!c) return DB_ERROR;
    c->txn_failed = false;
    c->retry = false;
    tl_conn = c;
    int rc = fn(&c->base, arg);
    tl_conn = NULL;
    pg_end_closure(c);
    if (c->broken && rc == 0) rc = DB_ERROR;
    /* a failed statement: the closure's result stands, as in SQLite; a plan made stale by a
     * schema change: the read runs once more with the statements prepared again */
    bool again = c->stale_plans && attempt == 0;
    pg_release(db, c);  /* the Sync that ends the read's implicit transaction */
    if (!again) return rc;
  }
}

static int pg_ping_fn(db_conn_t *c, void *arg) {
  (void)arg;
  db_stmt_t *s = db_prepare(c, "SELECT 1");
  int rc = db_step(s) == DB_ROW && db_col_int64(s, 0) == 1 ? 0 : DB_ERROR;
  db_reset(s);
  return rc;
}

static bool pg_ping(db_t *db) { return pg_read(db, pg_ping_fn, NULL) == 0; }

static bool pg_reachable(db_t *base) { return !atomic_load(&((pg_db_t *)base)->down); }

static void pg_get_stats(db_t *base, db_stats_t *out) {
  pg_db_t *db = (pg_db_t *)base;
  pthread_mutex_lock(&db->mu);
  *out = db->stats;
  pthread_mutex_unlock(&db->mu);
}

static void pg_get_pool_stats(db_t *base, db_pool_stats_t *out) {
  pg_db_t *db = (pg_db_t *)base;
  pthread_mutex_lock(&db->mu);
  *out = db->pool;
  out->size = (unsigned)db->nconns;
  out->open = 0;
  for (int i = 0; i < db->nconns; i++)
    if (db->conns[i].h) out->open++;
  pthread_mutex_unlock(&db->mu);
}

/* pg_advisory_xact_lock / pg_try_advisory_xact_lock: held until the transaction ends. */
static int pg_xact_lock(db_conn_t *c, int64_t key, bool wait) {
  db_stmt_t *s = db_prepare(c, wait ? "SELECT pg_advisory_xact_lock(?), TRUE"
                                    : "SELECT pg_try_advisory_xact_lock(?)");
  db_bind_int64(s, 1, key);
  int rc = db_step(s);
  int out = rc == DB_ROW ? (db_col_int64(s, wait ? 1 : 0) ? 1 : 0) : DB_ERROR;
  db_reset(s);
  return out;
}

/* nextval of the sequence <counter>_ids (migration 13): no row lock, not rolled back. */
static int pg_next_id(db_conn_t *c, const char *counter, int64_t *id) {
  *id = 0;
  if (!*counter || strspn(counter, "abcdefghijklmnopqrstuvwxyz_") != strlen(counter)) {
    log_error("postgres: bad id counter name '%s'", counter);
    return DB_ERROR;
  }
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT nextval('%s_ids')", counter);
  db_stmt_t *s = db_prepare(c, sql);
  int rc = db_step(s);
  if (rc == DB_ROW) *id = db_col_int64(s, 0);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* ---- open / close ------------------------------------------------------------------------- */

/* ---- LISTEN / NOTIFY ------------------------------------------------------------------------ */

/* pg_notify(channel, ''): delivered to the listeners when the transaction commits. */
static int pg_notify_fn(db_conn_t *c, const char *channel) {
  db_stmt_t *s = db_prepare(c, "SELECT pg_notify(?, '')");
  db_bind_text(s, 1, channel);
  int rc = db_step(s);
  db_reset(s);
  return rc == DB_ROW ? 0 : DB_ERROR;
}

/* Waits up to ms for the stop pipe; true when asked to stop. */
static bool listen_should_stop(pg_db_t *db, int fd, int ms) {
  struct pollfd p[2] = {{.fd = db->listen_stop[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
  int rc = poll(p, fd >= 0 ? 2 : 1, ms);
  return rc > 0 && (p[0].revents & (POLLIN | POLLHUP));
}

/* Connects and LISTENs on every channel; NULL on failure. */
static PGconn *listen_connect(pg_db_t *db) {
  const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
  const char *vals[] = {"5", "spoold-listen", db->url, NULL};
  PGconn *h = PQconnectdbParams(keys, vals, 1);
  if (!h || PQstatus(h) != CONNECTION_OK) {
    if (h) PQfinish(h);
    return NULL;
  }
  for (char **ch = db->channels; *ch; ch++) {
    buf_t sql = BUF_INIT;
    buf_printf(&sql, "LISTEN \"%s\"", *ch);  /* channels are our own identifiers */
    PGresult *r = PQexec(h, sql.data);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    buf_free(&sql);
    if (!ok) {
      log_warn("postgres %s: LISTEN %s failed: %s", db->safe_url, *ch, PQerrorMessage(h));
      PQfinish(h);
      return NULL;
    }
  }
  return h;
}

static void *listen_main(void *arg) {
  pg_db_t *db = arg;
  bool was_down = false;
  for (;;) {
    PGconn *h = listen_connect(db);
    if (!h) {
      if (!was_down) log_warn("postgres %s: the notification listener cannot connect; retrying",
                              db->safe_url);
      was_down = true;
      if (listen_should_stop(db, -1, 1000)) return NULL;
      continue;
    }
    if (was_down) log_info("postgres %s: the notification listener is connected again",
                           db->safe_url);
    was_down = false;
    db->listen_fn(NULL, db->listen_arg);  /* anything sent meanwhile was lost: look again */
    int fd = PQsocket(h);
    for (;;) {
      if (listen_should_stop(db, fd, 10000)) {
        PQfinish(h);
        return NULL;
      }
      if (!PQconsumeInput(h)) break;  /* the connection is gone */
      PGnotify *n;
      while ((n = PQnotifies(h)) != NULL) {
        db->listen_fn(n->relname, db->listen_arg);
        PQfreemem(n);
      }
    }
    log_warn("postgres %s: the notification listener lost its connection: %s", db->safe_url,
             PQerrorMessage(h));
    PQfinish(h);
    was_down = true;
  }
}

static int pg_listen(db_t *base, const char *const *channels,
                     void (*fn)(const char *channel, void *arg), void *arg) {
  pg_db_t *db = (pg_db_t *)base;
  if (db->listening) return DB_ERROR;
  size_t n = 0;
  while (channels[n]) n++;
  db->channels = xcalloc(n + 1, sizeof *db->channels);
  for (size_t i = 0; i < n; i++) db->channels[i] = xstrdup(channels[i]);
  db->listen_fn = fn;
  db->listen_arg = arg;
  if (pipe(db->listen_stop) != 0) return DB_ERROR;
  fcntl(db->listen_stop[0], F_SETFD, FD_CLOEXEC);
  fcntl(db->listen_stop[1], F_SETFD, FD_CLOEXEC);
  if (pthread_create(&db->listener, NULL, listen_main, db) != 0) {
    close(db->listen_stop[0]);
    close(db->listen_stop[1]);
    return DB_ERROR;
  }
  db->listening = true;
  return 0;
}

static void pg_listen_stop(pg_db_t *db) {
  if (db->listening) {
    close(db->listen_stop[1]);  /* POLLHUP on the read end */
    pthread_join(db->listener, NULL);
    close(db->listen_stop[0]);
    db->listening = false;
  }
  for (char **ch = db->channels; ch && *ch; ch++) free(*ch);
  free(db->channels);
  db->channels = NULL;
}

static void pg_free(pg_db_t *db) {
  pg_listen_stop(db);
  for (int i = 0; i < db->nconns; i++) pg_conn_close(&db->conns[i]);
  free(db->conns);
  pthread_mutex_destroy(&db->mu);
  pthread_cond_destroy(&db->cv);
  pthread_rwlock_destroy(&db->alone);
  free(db->url);
  free(db->safe_url);
  free(db);
}

static db_t *pg_open(const char *url, const char *rest, int nreaders, const db_options_t *opts,
                     char **err) {
  (void)rest;
  if (opts->sqlite_sync_normal) {
    db_set_err(err, "synchronous=NORMAL (--sqlite-synchronous normal) is an option of SQLite "
                    "stores only; PostgreSQL's durability is set on its server");
    return NULL;
  }
  if (nreaders <= 0) nreaders = PG_DEFAULT_POOL;
  int n = nreaders + PG_EXTRA_CONNS;
  if (n > PG_MAX_POOL) n = PG_MAX_POOL;

  pg_db_t *db = xcalloc(1, sizeof *db);
  db->base.be = &db_postgres_backend;
  db->url = xstrdup(url);
  db->safe_url = pg_safe_url(url);
  pthread_mutex_init(&db->mu, NULL);
  pthread_cond_init(&db->cv, NULL);
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&db->alone, &ra);
  pthread_rwlockattr_destroy(&ra);
  db->conns = xcalloc((size_t)n, sizeof *db->conns);
  db->nconns = n;
  for (int i = 0; i < n; i++) {
    db->conns[i].base.be = &db_postgres_backend;
    db->conns[i].db = db;
  }
  /* The first connection now, so a wrong URL or an unreachable server is reported at start. */
  if (pg_conn_connect(&db->conns[0]) != 0) {
    db_set_err(err, "cannot connect to PostgreSQL %s: %s", db->safe_url, db->conns[0].err);
    pg_free(db);
    return NULL;
  }
  int ver = PQserverVersion(db->conns[0].h);
  if (ver < 150000) {
    db_set_err(err, "PostgreSQL %s is version %d.%d; spoold needs 15 or later", db->safe_url,
               ver / 10000, ver % 10000);
    pg_free(db);
    return NULL;
  }
  db->pool.connects = 1;
  log_debug("postgres %s: open, pool of %d connection(s)", db->safe_url, n);
  return &db->base;
}

static void pg_close(db_t *base) {
  pg_db_t *db = (pg_db_t *)base;
  pthread_mutex_lock(&db->mu);
  for (int i = 0; i < db->nconns; i++)
    if (db->conns[i].busy) log_error("postgres: db_close while a connection is lent");
  pthread_mutex_unlock(&db->mu);
  pg_free(db);
}

static const char *const pg_schemes[] = {"postgres", "postgresql", NULL};

/* The PostgreSQL backend, listed in db.c. */
const db_backend_t db_postgres_backend = {
  .name = "PostgreSQL",
  .schemes = pg_schemes,
  .url_help = "postgres://USER@HOST:PORT/DB",
  .shared = true,
  .open = pg_open,
  .close = pg_close,
  .write = pg_write,
  .read = pg_read,
  .ping = pg_ping,
  .get_stats = pg_get_stats,
  .get_pool_stats = pg_get_pool_stats,
  .reachable = pg_reachable,
  .xact_lock = pg_xact_lock,
  .next_id = pg_next_id,
  .notify = pg_notify_fn,
  .listen = pg_listen,
  .table_exists_sql = "SELECT 1 WHERE to_regclass(?) IS NOT NULL",
  .json_scalar = pg_json_scalar,
  .json_elements = pg_json_elements,
  .errmsg = pg_errmsg,
  .prepare = pg_prepare,
  .bind_text = pg_bind_text,
  .bind_int64 = pg_bind_int64,
  .bind_double = pg_bind_double,
  .bind_blob = pg_bind_blob,
  .bind_null = pg_bind_null,
  .step = pg_step,
  .col_null = pg_col_null,
  .col_text = pg_col_text,
  .col_int64 = pg_col_int64,
  .col_double = pg_col_double,
  .col_blob = pg_col_blob,
  .reset = pg_reset,
  .exec = pg_exec,
  .changes = pg_changes,
};
