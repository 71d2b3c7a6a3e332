/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SQLite backend of db.h ("sqlite:PATH").
 *
 * One read-write connection belongs to a writer thread. db_write() queues a closure (or, for
 * a lone writer, commits it itself: below) and sleeps on its own condition variable; the
 * writer takes up to SQ_BATCH_MAX queued closures, runs them in one BEGIN IMMEDIATE ...
 * COMMIT, each inside SAVEPOINT/RELEASE (a closure returning non-zero is undone with ROLLBACK
 * TO alone), commits once with synchronous=FULL (NORMAL when the operator chose
 * --sqlite-synchronous normal: the WAL is then synced at checkpoints only) and wakes exactly
 * the callers of the batch (group commit).
 *
 * A caller running on a fiber (an HTTP request's handler, util/fiber.h) does not sleep on its
 * condition variable: it announces the wait (the server suspends its connection), queues the
 * closure and gives its thread back; the writer wakes it after the commit (the server resumes
 * the connection and runs the fiber again), so more writes than HTTP threads share a commit.
 *
 * A lone writer commits inline. The hand-off costs each write two wake-ups of a sleeping thread
 * (the writer for the closure, the caller's thread for the answer), which batching shares
 * among many writes but a lone client pays in full. So when the writer thread waits for work
 * with nothing queued and its last commit saw one writer (db->expect <= 1: one closure, none
 * queued meanwhile), db_write runs the closure and commits it on the calling thread (a fiber
 * does not give its thread back) with the writer's connection: the same BEGIN IMMEDIATE,
 * SAVEPOINT, RELEASE and COMMIT, statistics and failure handling (sq_run_batch), db_wrote and
 * the cache trim, and the answer only once COMMIT returned. db->inline_busy, set and cleared
 * under db->mu, lends the connection: the writer thread sleeps on, closures arriving meanwhile
 * queue without waking it (it could not take them), and the inline commit's end wakes it only
 * when some did or db_close waits, so the connection is never used by two threads at once,
 * db_close drains behind it, and the writer's next fill counts those arrivals. Only a lone
 * writer: with concurrent writers the first arrival would commit alone while the others queue
 * (two commits where the fill makes one). And only on a thread that serves no other client
 * (fiber_thread_clients, util/fiber.h): an inline commit holds its HTTP thread's other
 * connections for the commit's fsync. A 16-client load once committed every write inline, one
 * closure per commit, for the whole round (once in about fifty rounds, at 0.3x the jobs/s):
 * what explains it is all its connections on one HTTP thread, each request read only after the
 * one before had committed, so each arrived alone. A db_write_fk_off (its own pragmas) and a
 * write from inside a read transaction (tl_conn is the reader's) still go to the writer
 * thread. The wal hook's checkpoint requests and its rare RESTART run on whichever thread
 * commits.
 *
 * Only while the CPUs are not contended (--inline-commit auto, the default). In two runs while
 * other sessions' builds and tests saturated both cores, the inline commit made one client
 * 2.5-3x slower (docs/benchmarks.md, "A lone writer committing inline"; busy loops did not
 * bring that back, so its cause is not known: possibly a thread that parses, runs the closure,
 * writes, syncs and answers in a row losing the CPU at its wake-ups). So in auto mode a lone write commits inline only while the
 * kernel's CPU pressure stall information says no runnable task waited for a CPU for more than
 * a small share of the last window (util/cpupressure.h, with hysteresis); without a readable
 * PSI file every write goes to the writer thread. The sample is taken by the lone writer that
 * considers the inline path, under db->mu, at most once per CPU_PRESSURE_SAMPLE_US (one pread;
 * no thread wakes up for it, and nothing samples while writes are not lone). --inline-commit
 * on skips the gate, off never commits inline.
 *
 * Filling the batches: before taking a batch, the writer waits up to SQ_FILL_US for more
 * closures while fewer are queued than half the writers seen around its last commit (the
 * closures it committed and those that queued meanwhile). Concurrent clients whose answers
 * were just released come back within that time, so their next writes share one commit
 * instead of each committing alone; a lone writer (one closure per commit, none queued
 * meanwhile) never waits. Half, not all of them: a batch that waited for every client made
 * the writer and the HTTP threads take turns (the writer idle while the answers went out and
 * the next requests came in, the HTTP threads idle during the closures and the commit: 16
 * clients, about 40 % of the writer's cycle spent waiting). Starting at half splits the
 * clients into two groups whose requests are parsed and answered while the other group
 * commits (docs/benchmarks.md, "The fill's target"). A caller queuing its closure wakes the
 * writer only when that gives it something to do: it waits for work, or its fill has reached
 * its target (each arrival waking it to count again cost a thread switch and a futex call per
 * closure).
 *
 * nreaders read-only connections form a pool; db_read() borrows one (waiting while all are
 * busy) and runs its closure inside BEGIN ... COMMIT, so every statement of the closure sees
 * the same snapshot (WAL lets readers run while the writer commits).
 *
 * Snapshot reuse: a read closure that succeeded leaves its reader's transaction open, labelled
 * with the write generation and change token (db_write_generation, sq_change_token) read
 * before it began. The next closure on that reader runs in the same transaction when both are
 * unchanged, that is when nothing was committed since the snapshot was taken (by this process
 * or another one), so it sees exactly what a new transaction would see; otherwise the old one
 * is ended and a new one begun. This spares a read the WAL read lock (a mutex and often two
 * fcntl on the -shm file), SQLite's start-of-transaction checks (an fstat of the database
 * while the WAL holds no commit) and BEGIN/COMMIT. An idle reader's snapshot would hold back
 * checkpoints, so the idle readers' snapshots are ended before each checkpoint
 * (sq_checkpoint), and a failed closure always ends its transaction.
 *
 * Checkpoints: a checkpointer thread with its own read-write connection copies the WAL back
 * into the database, concurrently with the writer's commits (a PASSIVE checkpoint needs no
 * lock the writer holds). The writer's wal hook only asks for one each time
 * SQ_CHECKPOINT_PAGES more frames were appended since the last request; the checkpointer then
 * runs up to SQ_CHECKPOINT_PASSES passes, each copying what was committed before it started,
 * until a pass finds nothing appended since the one before. SQLite starts the log over (and
 * truncates the file to journal_size_limit) at the first write transaction that begins after
 * a checkpoint copied the whole log and while no reader uses it. Under a steady stream of
 * commits the checkpointer may never catch up, so the log would grow for ever. A commit that
 * leaves the log at SQ_WAL_RESTART_PAGES frames or more makes the writer run a RESTART
 * checkpoint itself when no checkpoint runs (it comes back to it after its next commits
 * otherwise), and from the hard bound SQ_WAL_MAX_PAGES on, it waits for the running pass
 * first. No commit can append meanwhile: the RESTART copies the rest, waits for the readers'
 * running closures to leave the log (new ones read the database file; no closure keeps its
 * snapshot meanwhile) and starts the log over. A steady stream of reads would otherwise keep
 * the log from ever starting over, as a PASSIVE checkpoint copies nothing after the oldest
 * running reader's snapshot. So the log holds at most SQ_WAL_MAX_PAGES frames plus those of
 * one commit, unless a read transaction lasts longer than the RESTART waits for it
 * (SQ_RESTART_WAIT_US: another process's such as spoold backup, a very long closure, or one
 * waiting for a write of its own): then the writer tries again once SQ_CHECKPOINT_PAGES more
 * frames were written.
 * Every checkpoint, the checkpointer's and the writer's, runs under ckpt_run_mu.
 *
 * The writer's connection writes the WAL through store/sqlite-vfs.c, which gathers the
 * frames of a commit into one write (the file holds them before the commit is synced or, with
 * synchronous=NORMAL, published); the readers use SQLite's default VFS.
 *
 * Each connection caches its prepared statements by SQL text. A statement handed out by
 * db_prepare() is "in use" until db_reset() or the end of the closure; preparing the same
 * text again meanwhile yields a second statement, so helpers may nest. At the end of each
 * closure every statement it touched is reset and its bindings cleared; the cache is trimmed
 * (least recently used first) only between transactions, never under a running closure.
 */
#include "store/db-backend.h"
#include "store/sqlite-vfs.h"
#include "util/buf.h"
#include "util/cpupressure.h"
#include "util/fiber.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SQ_BATCH_MAX          64          /* closures per commit */
#define SQ_FILL_US            300         /* longest wait of the writer for more closures */
#define SQ_DEFAULT_READERS    4           /* when nreaders <= 0 */
#define SQ_MAX_READERS        256
#define SQ_CACHE_MAX          256         /* cached statements per connection before trimming */
#define SQ_BUSY_TIMEOUT_MS    5000
#define SQ_JOURNAL_SIZE_LIMIT "67108864"  /* 64 MiB: WAL file size kept after a checkpoint */
#define SQ_CHECKPOINT_PAGES   1000        /* the checkpointer's cadence (SQLite's default
                                             wal_autocheckpoint) */
#define SQ_CHECKPOINT_PASSES  3           /* passes per request at most (catching up) */
#define SQ_RESTART_POLL_US    100         /* the writer's RESTART: polls for readers ... */
#define SQ_RESTART_WAIT_US    20000       /* ... for this long at most */
#define SQ_WAL_RESTART_PAGES  (8 * SQ_CHECKPOINT_PAGES) /* the writer starts the WAL over
                                             itself when no checkpoint runs */
#define SQ_WAL_MAX_PAGES      (9 * SQ_CHECKPOINT_PAGES) /* hard bound: ... or waits for the
                                             running one (about 36 MiB of WAL at 4 KiB pages,
                                             below journal_size_limit) */

typedef struct sq_db sq_db_t;
typedef struct sq_conn sq_conn_t;

typedef struct sq_stmt {
  db_stmt_t       base;       /* first: db_stmt_t * <-> sq_stmt_t * */
  sq_conn_t      *conn;
  sqlite3_stmt   *st;
  char           *sql;        /* cache key (owned) */
  uint64_t        hash;
  uint64_t        last_used;  /* conn->tick at the last db_prepare */
  int             bind_rc;    /* first bind failure since the last reset (step refuses) */
  bool            in_use;     /* handed out and not reset since */
  bool            touched;    /* on conn->touched */
  struct sq_stmt *next;       /* hash chain */
  struct sq_stmt *next_touched;
} sq_stmt_t;

struct sq_conn {
  db_conn_t     base;         /* first: db_conn_t * <-> sq_conn_t * */
  sq_db_t      *db;
  sqlite3      *h;
  bool          writer;
  bool          busy;         /* reader: lent to a db_read caller */
  sq_stmt_t   **buckets;      /* statement cache, nbuckets is a power of two */
  size_t        nbuckets;
  size_t        count;
  uint64_t      tick;
  sq_stmt_t    *touched;      /* statements prepared by the running closure */
  /* transaction control, prepared once */
  sqlite3_stmt *begin, *commit, *rollback, *savepoint, *release, *rollback_to;
  bool          saw_full;     /* a statement failed for lack of space since the last reset */
  /* reader: a read transaction left open after a closure (snapshot reuse, see above), valid
   * while the write generation and change token are still these; guarded by busy/pool_mu */
  bool          snap;
  uint64_t      snap_gen, snap_token;
  /* writer: WAL frames (pages) in the log after the last commit, frames written by the
   * commits not yet counted in db->stats, and the log's frames at the last checkpoint request
   * (sq_wal_hook, on the writer thread) */
  int           wal_frames;
  uint64_t      wal_written;
  int           ckpt_asked;
  int           restart_at;   /* after a RESTART the readers kept from starting the log over */
};

typedef struct sq_job {
  db_txn_fn      fn;
  void          *arg;
  int            rc;
  bool           done;
  bool           fk_off;      /* db_write_fk_off: alone in its transaction, foreign keys off */
  fiber_t       *fiber;       /* the caller waits on a fiber: woken with fiber_wake */
  pthread_cond_t cv;          /* otherwise: signalled when done */
  struct sq_job *next;
} sq_job_t;

#define SQ_SHM_MAP 4096 /* bytes of the -shm file mapped: its first page, the WAL-index header */

struct sq_db {
  db_t            base;       /* first: db_t * <-> sq_db_t * */
  char           *path;
  char           *url;
  bool            sync_normal; /* synchronous=NORMAL instead of FULL (operator option) */
  int             inline_mode; /* DB_INLINE_AUTO, _ON or _OFF (operator option) */
  cpu_pressure_t *pressure;   /* auto: the CPU pressure gate, used under mu; NULL: no PSI file,
                                 no inline commit */

  /* writer: queue, thread, statistics; all guarded by mu */
  sq_conn_t       writer;
  pthread_mutex_t mu;
  pthread_cond_t  work_cv;    /* writer waits for jobs (CLOCK_MONOTONIC) */
  sq_job_t       *head, *tail;
  unsigned        queued;     /* jobs on the queue */
  unsigned        expect;     /* writers seen around the last commit (the fill's target
                                 is half of them, sqlite_fill_target) */
  bool            idle;       /* the writer waits for a job (work_cv) */
  bool            inline_busy; /* a caller commits on its own thread with the writer's
                                 connection (sq_commit_inline); the writer waits */
  unsigned        fill_want;  /* the writer's fill waits for this many queued jobs; 0: not */
  bool            stop;
  pthread_t       thread;
  bool            thread_started;
  db_stats_t      stats;

  /* readers, guarded by pool_mu */
  pthread_mutex_t pool_mu;
  pthread_cond_t  pool_cv;
  sq_conn_t      *readers;
  int             nreaders;
  bool            hold_snapshots; /* a RESTART checkpoint runs: closures keep no snapshot */

  /* the -shm file's WAL-index header, mapped read-only (sq_change_token); NULL until mapped */
  _Atomic(const unsigned char *) shm;
  int             shm_fd;     /* open from the first try to map it until every connection closed */
  pthread_mutex_t shm_mu;     /* guards mapping it */

  /* checkpointer (see "Checkpoints" above): its connection, used by its thread only; a request
   * and the stop flag guarded by ckpt_mu; ckpt_run_mu held across every checkpoint */
  sq_conn_t       ckpt;
  pthread_t       ckpt_thread;
  bool            ckpt_started;
  pthread_mutex_t ckpt_mu;
  pthread_cond_t  ckpt_cv;
  bool            ckpt_want, ckpt_stop;
  pthread_mutex_t ckpt_run_mu;
};

static bool sq_change_token(db_t *base, uint64_t *out);
static void sq_end_idle_snapshots(sq_db_t *db, bool hold);

/* Which connection sq_conn_open makes. */
typedef enum { SQ_READER, SQ_WRITER, SQ_CHECKPOINTER } sq_role_t;

/* The connection whose closure runs on this thread (the writer thread keeps its own). Used to
 * refuse a db_write from inside a write closure (it would wait for itself) and to run a nested
 * db_read inside the enclosing read transaction. */
static _Thread_local sq_conn_t *tl_conn;

/* ---- statement cache ---------------------------------------------------------------------- */

/* The statement cache's key hash of an SQL text: eight bytes a step (a job read's SELECT is
 * about 400 bytes, hashed at every db_prepare), mixed so the low bits pick the bucket. */
static uint64_t sq_hash(const char *s) {
  size_t n = strlen(s);
  uint64_t h = 14695981039346656037ULL ^ n, w;
  for (; n >= 8; n -= 8, s += 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
  }
  w = 0;
  memcpy(&w, s, n);
  h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 32;
  h *= 0xFF51AFD7ED558CCDULL;
  return h ^ (h >> 33);
}

static void sq_cache_insert(sq_conn_t *c, sq_stmt_t *s) {
  if (c->count + 1 > c->nbuckets) {
    size_t n = c->nbuckets ? c->nbuckets * 2 : 32;
    sq_stmt_t **nb = xcalloc(n, sizeof *nb);
    for (size_t i = 0; i < c->nbuckets; i++) {
      for (sq_stmt_t *e = c->buckets[i], *next; e; e = next) {
        next = e->next;
        e->next = nb[e->hash & (n - 1)];
        nb[e->hash & (n - 1)] = e;
      }
    }
    free(c->buckets);
    c->buckets = nb;
    c->nbuckets = n;
  }
  size_t b = s->hash & (c->nbuckets - 1);
  s->next = c->buckets[b];
  c->buckets[b] = s;
  c->count++;
}

static void sq_stmt_free(sq_stmt_t *s) {
  sqlite3_finalize(s->st);
  free(s->sql);
  free(s);
}

static int sq_lru_cmp(const void *a, const void *b) {
  uint64_t x = (*(sq_stmt_t *const *)a)->last_used, y = (*(sq_stmt_t *const *)b)->last_used;
  return x < y ? -1 : x > y;
}

/* Between transactions: drops the least recently used statements above SQ_CACHE_MAX. */
static void sq_cache_trim(sq_conn_t *c) {
  if (c->count <= SQ_CACHE_MAX) return;
  sq_stmt_t **all = xmalloc(c->count * sizeof *all);
  size_t n = 0;
  for (size_t i = 0; i < c->nbuckets; i++)
    for (sq_stmt_t *e = c->buckets[i]; e; e = e->next) all[n++] = e;
  qsort(all, n, sizeof *all, sq_lru_cmp);
  uint64_t keep_from = all[n - SQ_CACHE_MAX * 3 / 4]->last_used;  /* ticks are unique */
  free(all);
  for (size_t i = 0; i < c->nbuckets; i++) {
    for (sq_stmt_t **pp = &c->buckets[i]; *pp;) {
      sq_stmt_t *e = *pp;
      if (e->last_used < keep_from) {
        *pp = e->next;
        sq_stmt_free(e);
        c->count--;
      } else {
        pp = &e->next;
      }
    }
  }
}

static void sq_cache_free(sq_conn_t *c) {
  for (size_t i = 0; i < c->nbuckets; i++) {
    for (sq_stmt_t *e = c->buckets[i], *next; e; e = next) {
      next = e->next;
      sq_stmt_free(e);
    }
  }
  free(c->buckets);
  c->buckets = NULL;
  c->nbuckets = c->count = 0;
}

/* After a closure: resets every statement it prepared (a forgotten db_reset would otherwise
 * keep a statement active past RELEASE/COMMIT) and clears its bindings. */
static void sq_end_closure(sq_conn_t *c) {
  for (sq_stmt_t *s = c->touched, *next; s; s = next) {
    next = s->next_touched;
    sqlite3_reset(s->st);
    sqlite3_clear_bindings(s->st);
    s->bind_rc = 0;
    s->in_use = false;
    s->touched = false;
    s->next_touched = NULL;
  }
  c->touched = NULL;
}

/* ---- connections -------------------------------------------------------------------------- */

/* True when result code rc on c means no space was left (SQLITE_FULL, or an I/O error whose
 * OS error is ENOSPC or EDQUOT). */
static bool sq_rc_full(sq_conn_t *c, int rc) {
  if ((rc & 0xff) == SQLITE_FULL) return true;
  if ((rc & 0xff) != SQLITE_IOERR || !c->h) return false;
  int sys = sqlite3_system_errno(c->h);
  return sys == ENOSPC || sys == EDQUOT;
}

/* Steps a transaction-control statement once; returns the SQLite result code. */
static int sq_run(sq_conn_t *c, sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  if (sq_rc_full(c, rc)) c->saw_full = true;
  sqlite3_reset(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    log_error("sqlite %s: %s: %s", c->db->path, sqlite3_sql(st), sqlite3_errmsg(c->h));
    db_note_failure("sqlite: %s (%d); in: %s", sqlite3_errmsg(c->h), rc, sqlite3_sql(st));
  }
  return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* "cannot open ...: reason" with the OS error when SQLite has one. */
static void sq_open_err(sq_conn_t *c, char **err, const char *what, int rc) {
  const char *msg = c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc);
  int sys = c->h ? sqlite3_system_errno(c->h) : 0;
  if (sys)
    db_set_err(err, "cannot open SQLite database %s (%s): %s (%s)", c->db->path, what, msg,
               strerror(sys));
  else
    db_set_err(err, "cannot open SQLite database %s (%s): %s", c->db->path, what, msg);
}

static int sq_prepare_ctl(sq_conn_t *c, const char *sql, sqlite3_stmt **out, char **err) {
  int rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
  if (rc != SQLITE_OK) {
    sq_open_err(c, err, sql, rc);
    return -1;
  }
  return 0;
}

static void sq_conn_close(sq_conn_t *c) {
  if (!c->h) return;
  if (c->snap && !sqlite3_get_autocommit(c->h)) sq_run(c, c->rollback);
  c->snap = false;
  sq_cache_free(c);
  sqlite3_stmt **ctl[] = {&c->begin, &c->commit, &c->rollback, &c->savepoint, &c->release,
                          &c->rollback_to};
  for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++) {
    sqlite3_finalize(*ctl[i]);
    *ctl[i] = NULL;
  }
  int rc = sqlite3_close(c->h);
  if (rc != SQLITE_OK)
    log_error("sqlite %s: close: %s", c->db->path, sqlite3_errstr(rc));
  c->h = NULL;
}

/* The writer's busy handler during its RESTART checkpoint: polls every SQ_RESTART_POLL_US, for
 * SQ_RESTART_WAIT_US at most. A read closure's are short, but one may wait for this very
 * writer (a write inside a read transaction): that one ends only when the writer gives up. */
static int sq_restart_busy(void *arg, int n) {
  (void)arg;
  if ((long)n * SQ_RESTART_POLL_US >= SQ_RESTART_WAIT_US) return 0;
  struct timespec ts = {0, SQ_RESTART_POLL_US * 1000L};
  nanosleep(&ts, NULL);
  return 1;
}

/* One checkpoint on c: PASSIVE on the checkpointer's connection, RESTART on the writer's (at
 * the WAL's bound). Waits for a checkpoint running on the other one (without wait: returns
 * SQLITE_BUSY at once, counting nothing, when one runs), ends the idle readers' snapshots (an
 * open snapshot keeps the frames after it from being copied), copies and counts it. A RESTART
 * also waits (sq_restart_busy) for the readers' running closures to leave the log and starts
 * it over; meanwhile no reader keeps its snapshot after a closure. Returns SQLite's result
 * code; *log and *done: the frames in the log and those copied. */
static int sq_checkpoint(sq_db_t *db, sq_conn_t *c, bool wait, int *log, int *done) {
  int mode = c->writer ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
  *log = *done = -1;
  if (wait) pthread_mutex_lock(&db->ckpt_run_mu);
  else if (pthread_mutex_trylock(&db->ckpt_run_mu) != 0) return SQLITE_BUSY;
  sq_end_idle_snapshots(db, c->writer);
  if (c->writer) sqlite3_busy_handler(c->h, sq_restart_busy, NULL);
  int rc = sqlite3_wal_checkpoint_v2(c->h, "main", mode, log, done);
  if (rc == SQLITE_OK && *log < 0) {
    /* the connection has not read the database yet, so it does not know it is in WAL mode
     * and checkpoints nothing: a read opens the WAL */
    sqlite3_exec(c->h, "SELECT 1 FROM sqlite_master LIMIT 1", NULL, NULL, NULL);
    rc = sqlite3_wal_checkpoint_v2(c->h, "main", mode, log, done);
  }
  if (c->writer) {
    sqlite3_busy_timeout(c->h, SQ_BUSY_TIMEOUT_MS);
    pthread_mutex_lock(&db->pool_mu);
    db->hold_snapshots = false;
    pthread_mutex_unlock(&db->pool_mu);
  }
  pthread_mutex_unlock(&db->ckpt_run_mu);
  /* BUSY: another process's checkpoint (spoold backup, the sqlite3 shell) runs */
  if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
    log_warn("sqlite %s: checkpoint: %s (%d)", db->path, sqlite3_errmsg(c->h), rc);
  pthread_mutex_lock(&db->mu);
  if (c->writer) db->stats.checkpoints_writer++;
  else db->stats.checkpoints++;
  pthread_mutex_unlock(&db->mu);
  return rc;
}

/* After each commit of the writer: counts the WAL frames the commit wrote (the log holds
 * nframes now; fewer than after the last commit means SQLite started the log over), asks the
 * checkpointer for a checkpoint every SQ_CHECKPOINT_PAGES frames, and from
 * SQ_WAL_RESTART_PAGES on checkpoints itself (see "Checkpoints" above). The hook replaces
 * SQLite's automatic checkpoint. */
static int sq_wal_hook(void *arg, sqlite3 *h, const char *dbname, int nframes) {
  (void)h;
  (void)dbname;
  sq_conn_t *c = arg;
  sq_db_t *db = c->db;
  if (nframes < c->wal_frames) c->ckpt_asked = c->restart_at = 0;  /* the log started over */
  c->wal_written += (uint64_t)(nframes >= c->wal_frames ? nframes - c->wal_frames : nframes);
  c->wal_frames = nframes;
  if (nframes >= SQ_WAL_RESTART_PAGES && nframes >= c->restart_at) {
    /* BUSY without waiting: the checkpointer runs, try after the next commit; BUSY after
     * waiting: a reader kept the log, try again SQ_CHECKPOINT_PAGES frames later */
    int log, done;
    bool wait = nframes >= SQ_WAL_MAX_PAGES;
    int rc = sq_checkpoint(db, c, wait, &log, &done);
    if (rc != SQLITE_OK && (log >= 0 || wait)) {
      c->restart_at = nframes + SQ_CHECKPOINT_PAGES;
      pthread_mutex_lock(&db->mu);
      db->stats.wal_restarts_deferred++;
      pthread_mutex_unlock(&db->mu);
    }
  } else if (nframes - c->ckpt_asked >= SQ_CHECKPOINT_PAGES) {
    c->ckpt_asked = nframes;
    pthread_mutex_lock(&db->ckpt_mu);
    db->ckpt_want = true;
    pthread_cond_signal(&db->ckpt_cv);
    pthread_mutex_unlock(&db->ckpt_mu);
  }
  return SQLITE_OK;
}

/* The checkpointer thread: a request from the writer's hook starts up to SQ_CHECKPOINT_PASSES
 * checkpoints, until one found nothing committed since the one before. */
static void *sq_checkpointer_main(void *arg) {
  sq_db_t *db = arg;
  pthread_mutex_lock(&db->ckpt_mu);
  for (;;) {
    while (!db->ckpt_want && !db->ckpt_stop) pthread_cond_wait(&db->ckpt_cv, &db->ckpt_mu);
    if (db->ckpt_stop) break;
    db->ckpt_want = false;
    pthread_mutex_unlock(&db->ckpt_mu);
    /* again while the log grew during the last pass (a pass copies what was committed
     * before it started; one that finds nothing new is cheap: no copy, no sync) */
    int last = -1;
    for (int pass = 0; pass < SQ_CHECKPOINT_PASSES; pass++) {
      int log, done;
      if (sq_checkpoint(db, &db->ckpt, true, &log, &done) != SQLITE_OK || done < log ||
          log <= last)
        break;
      last = log;
    }
    pthread_mutex_lock(&db->ckpt_mu);
  }
  pthread_mutex_unlock(&db->ckpt_mu);
  return NULL;
}

/* Stops the checkpointer thread (a checkpoint it runs ends first) and closes its connection. */
static void sq_checkpointer_stop(sq_db_t *db) {
  if (db->ckpt_started) {
    pthread_mutex_lock(&db->ckpt_mu);
    db->ckpt_stop = true;
    pthread_cond_signal(&db->ckpt_cv);
    pthread_mutex_unlock(&db->ckpt_mu);
    pthread_join(db->ckpt_thread, NULL);
    db->ckpt_started = false;
  }
  sq_conn_close(&db->ckpt);
}

static int sq_conn_open(sq_conn_t *c, sq_db_t *db, sq_role_t role, char **err) {
  static const char *const role_name[] = {"reader", "writer", "checkpointer"};
  bool writer = role == SQ_WRITER;
  c->base.be = &db_sqlite_backend;
  c->db = db;
  c->writer = writer;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE |
              (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
               : role == SQ_CHECKPOINTER ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
  /* The writer writes the WAL through the VFS that gathers a commit's frames into one write
   * (store/sqlite-vfs.c); readers and the checkpointer never write it and keep the default
   * VFS. */
  int rc = sqlite3_open_v2(db->path, &c->h, flags, writer ? store_sqlite_vfs_name() : NULL);
  if (rc != SQLITE_OK) {
    sq_open_err(c, err, role_name[role], rc);
    sqlite3_close(c->h);
    c->h = NULL;
    return -1;
  }
  sqlite3_extended_result_codes(c->h, 1);
  sqlite3_busy_timeout(c->h, SQ_BUSY_TIMEOUT_MS);

  if (writer) {
    /* journal_mode answers with the mode in effect: anything but "wal" means WAL is not
     * available here (e.g. a file system without shared memory). */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->h, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
      sq_open_err(c, err, "journal_mode=WAL", rc);
      sqlite3_finalize(st);
      goto fail;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcasecmp(mode, "wal")) {
      db_set_err(err, "cannot open SQLite database %s: WAL journal mode unavailable (got %s)",
                 db->path, mode ? mode : "nothing");
      sqlite3_finalize(st);
      goto fail;
    }
    sqlite3_finalize(st);
  }
  const char *pragmas = writer && db->sync_normal ? "PRAGMA synchronous=NORMAL;"
                                                   "PRAGMA foreign_keys=ON;"
                                                   "PRAGMA temp_store=MEMORY;"
                                                   "PRAGMA journal_size_limit=" SQ_JOURNAL_SIZE_LIMIT ";"
                       : writer ? "PRAGMA synchronous=FULL;"
                                 "PRAGMA foreign_keys=ON;"
                                 "PRAGMA temp_store=MEMORY;"
                                 "PRAGMA journal_size_limit=" SQ_JOURNAL_SIZE_LIMIT ";"
                               : "PRAGMA foreign_keys=ON;"
                                 "PRAGMA temp_store=MEMORY;"
                                 "PRAGMA query_only=ON;";
  if (role == SQ_CHECKPOINTER) /* a checkpoint syncs the WAL and the database unless OFF */
    pragmas = db->sync_normal ? "PRAGMA synchronous=NORMAL;"
                                "PRAGMA journal_size_limit=" SQ_JOURNAL_SIZE_LIMIT ";"
                              : "PRAGMA synchronous=FULL;"
                                "PRAGMA journal_size_limit=" SQ_JOURNAL_SIZE_LIMIT ";";
  rc = sqlite3_exec(c->h, pragmas, NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    sq_open_err(c, err, "pragmas", rc);
    goto fail;
  }
  if (role == SQ_CHECKPOINTER) return 0;  /* runs checkpoints only */
  if (sq_prepare_ctl(c, writer ? "BEGIN IMMEDIATE" : "BEGIN", &c->begin, err) ||
      sq_prepare_ctl(c, "COMMIT", &c->commit, err) ||
      sq_prepare_ctl(c, "ROLLBACK", &c->rollback, err))
    goto fail;
  if (writer) sqlite3_wal_hook(c->h, sq_wal_hook, c);
  if (writer && (sq_prepare_ctl(c, "SAVEPOINT closure", &c->savepoint, err) ||
                 sq_prepare_ctl(c, "RELEASE closure", &c->release, err) ||
                 sq_prepare_ctl(c, "ROLLBACK TO closure", &c->rollback_to, err)))
    goto fail;
  return 0;

fail:
  sq_conn_close(c);
  return -1;
}

/* ---- writer ------------------------------------------------------------------------------- */

/* Counts a commit of n closures whose COMMIT statement ran from t0 (time_mono_us) until now. */
static void sq_count_commit(sq_db_t *db, unsigned n, int64_t t0) {
  int64_t us = time_mono_us() - t0;
  pthread_mutex_lock(&db->mu);
  db_stats_add_batch(&db->stats, n);
  db_stats_add_commit_time(&db->stats, us);
  db->stats.pages += db->writer.wal_written;
  db->writer.wal_written = 0;
  pthread_mutex_unlock(&db->mu);
}

/* Runs jobs[0..n) in as few transactions as possible (normally one) and sets each job's rc.
 * If the transaction cannot be kept consistent (SQLite aborted it after an I/O error or a
 * full disk, or a SAVEPOINT/RELEASE/ROLLBACK TO failed, so a failed closure's changes could
 * leak into the commit), it is rolled back, the closures run in it fail with DB_ERROR and the
 * remaining ones go into a fresh transaction. */
static void sq_run_batch(sq_db_t *db, sq_job_t **jobs, unsigned n) {
  sq_conn_t *c = &db->writer;
  unsigned i = 0;
  while (i < n) {
    unsigned first = i;
    c->saw_full = false;
    if (sq_run(c, c->begin) != SQLITE_DONE) {
      for (; i < n; i++) jobs[i]->rc = c->saw_full ? DB_FULL : DB_ERROR;
      return;
    }
    bool lost = false;
    for (; i < n && !lost; i++) {
      sq_job_t *j = jobs[i];
      if (sq_run(c, c->savepoint) != SQLITE_DONE) {
        lost = true;
        continue;
      }
      c->saw_full = false;
      j->rc = j->fn(&c->base, j->arg);
      if (j->rc != 0 && c->saw_full) j->rc = DB_FULL;  /* failed for space, whatever it said */
      sq_end_closure(c);
      if (sqlite3_get_autocommit(c->h))
        lost = true;  /* the closure's failure ended the transaction */
      else if (j->rc == 0)
        lost = sq_run(c, c->release) != SQLITE_DONE;
      else  /* ROLLBACK TO keeps the savepoint open; RELEASE removes it */
        lost = sq_run(c, c->rollback_to) != SQLITE_DONE || sq_run(c, c->release) != SQLITE_DONE;
    }
    if (lost) {
      log_error("sqlite %s: transaction lost (%s); failing its %u closure(s)", db->path,
                sqlite3_errmsg(c->h), i - first);
      bool full = c->saw_full;
      if (!sqlite3_get_autocommit(c->h)) sq_run(c, c->rollback);
      for (unsigned k = first; k < i; k++) jobs[k]->rc = full ? DB_FULL : DB_ERROR;
      continue;
    }
    c->saw_full = false;
    int64_t t0 = time_mono_us();
    if (sq_run(c, c->commit) != SQLITE_DONE) {
      bool full = c->saw_full;
      if (!sqlite3_get_autocommit(c->h)) sq_run(c, c->rollback);
      for (unsigned k = first; k < i; k++) jobs[k]->rc = full ? DB_FULL : DB_ERROR;
      continue;
    }
    sq_count_commit(db, i - first, t0);
  }
}

/* Runs job alone in a transaction with PRAGMA foreign_keys off (it cannot change inside a
 * transaction), turned on again afterwards whatever happened. Such a job rebuilds a table
 * (migrations.c), so two things that cost nothing for small writes would keep the old content
 * of every page it reuses in memory: a savepoint (a failure rolls the whole transaction back
 * instead) and, with temp_store=MEMORY, the statement journals of its statements (CREATE INDEX
 * on the dropped table's free pages), which temp_store=FILE lets spill to a temporary file.
 * Migration 14 on 1,000,000 jobs peaked at 804 MB of RSS with both, 678 MB without the
 * savepoint and 23 MB without either. */
static void sq_run_fk_off(sq_db_t *db, sq_job_t *job) {
  sq_conn_t *c = &db->writer;
  int rc = sqlite3_exec(c->h, "PRAGMA foreign_keys=OFF; PRAGMA temp_store=FILE", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    log_error("sqlite %s: PRAGMA foreign_keys=OFF, temp_store=FILE: %s", db->path,
              sqlite3_errmsg(c->h));
    sqlite3_exec(c->h, "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
    job->rc = DB_ERROR;
    return;
  }
  c->saw_full = false;
  if (sq_run(c, c->begin) != SQLITE_DONE) {
    job->rc = c->saw_full ? DB_FULL : DB_ERROR;
  } else {
    job->rc = job->fn(&c->base, job->arg);
    if (job->rc != 0 && c->saw_full) job->rc = DB_FULL;
    sq_end_closure(c);
    int64_t t0 = time_mono_us();
    if (job->rc == 0 && !sqlite3_get_autocommit(c->h) && sq_run(c, c->commit) == SQLITE_DONE) {
      sq_count_commit(db, 1, t0);
    } else {
      if (job->rc == 0) job->rc = c->saw_full ? DB_FULL : DB_ERROR;
      if (!sqlite3_get_autocommit(c->h)) sq_run(c, c->rollback);
    }
  }
  rc = sqlite3_exec(c->h, "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {  /* never seen: both only set a flag outside a transaction */
    log_error("sqlite %s: PRAGMA foreign_keys=ON, temp_store=MEMORY: %s", db->path,
              sqlite3_errmsg(c->h));
    job->rc = DB_ERROR;
  }
}

unsigned sqlite_fill_target(unsigned expect) {
  unsigned half = expect / 2 + expect % 2;
  return half < SQ_BATCH_MAX ? half : SQ_BATCH_MAX;
}

/* The writer's wait for more jobs: up to SQ_FILL_US while fewer than sqlite_fill_target()
 * are queued. Called and returns with db->mu held. */
static void sq_fill(sq_db_t *db) {
  unsigned want = sqlite_fill_target(db->expect);
  if (db->queued >= want || db->stop) return;
  struct timespec until = time_deadline(CLOCK_MONOTONIC, SQ_FILL_US);
  db->fill_want = want;  /* sq_queue signals work_cv once as many are queued */
  while (db->queued < want && !db->stop)
    if (pthread_cond_timedwait(&db->work_cv, &db->mu, &until) == ETIMEDOUT) break;
  db->fill_want = 0;
}

static void *sq_writer_main(void *arg) {
  sq_db_t *db = arg;
  sq_job_t *batch[SQ_BATCH_MAX];
  fiber_t *wake[SQ_BATCH_MAX];
  tl_conn = &db->writer;
  pthread_mutex_lock(&db->mu);
  for (;;) {
    db->idle = true;  /* sq_queue signals work_cv */
    /* an inline commit owns the connection: its end signals work_cv when there is work */
    while ((!db->head && !db->stop) || db->inline_busy) pthread_cond_wait(&db->work_cv, &db->mu);
    db->idle = false;
    if (!db->head) break;  /* stopping and drained */
    sq_fill(db);
    unsigned n = 0;
    /* a closure run with foreign keys off (db_write_fk_off) is a batch of its own */
    while (db->head && n < SQ_BATCH_MAX && !(n && db->head->fk_off)) {
      batch[n++] = db->head;
      db->head = db->head->next;
      if (batch[n - 1]->fk_off) break;
    }
    if (!db->head) db->tail = NULL;
    db->queued -= n;
    pthread_mutex_unlock(&db->mu);

    if (batch[0]->fk_off) sq_run_fk_off(db, batch[0]);
    else sq_run_batch(db, batch, n);
    db_wrote(&db->base); /* before the callers are released: readers' caches (store) */
    sq_cache_trim(&db->writer);

    pthread_mutex_lock(&db->mu);
    db->expect = n + db->queued;  /* those committed and those that came meanwhile */
    unsigned nwake = 0;
    for (unsigned i = 0; i < n; i++) {
      /* Jobs live on callers' stacks (a thread's, or a fiber's that stays until it is woken). */
      if (batch[i]->fiber) wake[nwake++] = batch[i]->fiber;
      else pthread_cond_signal(&batch[i]->cv);
      batch[i]->done = true;
    }
    if (nwake) {
      /* Resuming a request takes the HTTP library's locks: not under db->mu. */
      pthread_mutex_unlock(&db->mu);
      for (unsigned i = 0; i < nwake; i++) fiber_wake(wake[i]);
      pthread_mutex_lock(&db->mu);
    }
  }
  pthread_mutex_unlock(&db->mu);
  return NULL;
}

/* The lone caller's commit (see "A lone writer commits inline" above): runs job in its own
 * transaction on the calling thread with the writer's connection, which db->inline_busy gave
 * it, exactly as the writer would (sq_run_batch, db_wrote, sq_cache_trim), then hands the
 * connection back and wakes the writer only if closures queued meanwhile (or db_close waits).
 * Called without db->mu; returns the closure's result once the commit is durable. */
static int sq_commit_inline(sq_db_t *db, sq_job_t *job) {
  pthread_mutex_lock(&db->mu);
  uint64_t commits = db->stats.commits;
  pthread_mutex_unlock(&db->mu);
  tl_conn = &db->writer;  /* a db_write or db_read inside the closure is refused, as there */
  sq_run_batch(db, &job, 1);
  tl_conn = NULL;
  db_wrote(&db->base);
  sq_cache_trim(&db->writer);
  pthread_mutex_lock(&db->mu);
  /* the commit it made, if any (a failed BEGIN or COMMIT makes none), as db->stats.commits
   * counts it: only this thread commits while inline_busy */
  db->stats.inline_commits += db->stats.commits - commits;
  db->inline_busy = false;
  db->expect = 1 + db->queued;  /* as the writer counts after a commit */
  if (db->head || db->stop) pthread_cond_signal(&db->work_cv);
  pthread_mutex_unlock(&db->mu);
  return job->rc;
}

/* Whether a lone write may commit inline now (--inline-commit; in auto mode the CPU pressure
 * gate, sampled here at most once per CPU_PRESSURE_SAMPLE_US). Called under db->mu. */
static bool sq_inline_allowed(sq_db_t *db) {
  if (db->inline_mode != DB_INLINE_AUTO) return db->inline_mode == DB_INLINE_ON;
  return db->pressure && !cpu_pressure_contended(db->pressure, time_mono_us());
}

/* Queues fn for the writer (fk_off: alone, with foreign keys off) and waits for its commit,
 * or commits it inline when it is a lone writer's. */
static int sq_queue(db_t *base, db_txn_fn fn, void *arg, bool fk_off) {
  sq_db_t *db = (sq_db_t *)base;
  if (tl_conn == &db->writer) {
    log_error("sqlite %s: db_write called inside a write closure (it would wait for itself)",
              db->path);
    return DB_ERROR;
  }
  /* On a fiber (an HTTP request's handler, util/fiber.h) a queued caller gives its thread back
   * while the commit is on its way and is run again once the writer woke it; a read
   * transaction in progress on this thread (tl_conn) keeps the thread, and so does an inline
   * commit. */
  sq_job_t job = {.fn = fn, .arg = arg, .rc = DB_ERROR, .fk_off = fk_off,
                  .fiber = tl_conn ? NULL : fiber_waitable()};
  pthread_mutex_lock(&db->mu);
  if (db->stop) {
    pthread_mutex_unlock(&db->mu);
    log_error("sqlite %s: db_write after db_close", db->path);
    return DB_ERROR;
  }
  if (!fk_off && !tl_conn && db->idle && !db->head && !db->inline_busy && db->expect <= 1 &&
      fiber_thread_clients() <= 1 && sq_inline_allowed(db)) {
    db->inline_busy = true;  /* the writer sleeps on; arrivals queue for it meanwhile */
    pthread_mutex_unlock(&db->mu);
    return sq_commit_inline(db, &job);
  }
  if (job.fiber) fiber_prepare_wait(job.fiber);  /* before the writer can see the job */
  else pthread_cond_init(&job.cv, NULL);
  if (db->tail) db->tail->next = &job;
  else db->head = &job;
  db->tail = &job;
  db->queued++;
  /* otherwise the writer has no use for it yet (during an inline commit it cannot take it) */
  if ((db->idle && !db->inline_busy) || (db->fill_want && db->queued >= db->fill_want))
    pthread_cond_signal(&db->work_cv);
  if (job.fiber) {
    while (!job.done) {
      pthread_mutex_unlock(&db->mu);
      fiber_wait(job.fiber);
      pthread_mutex_lock(&db->mu);
      if (!job.done) fiber_prepare_wait(job.fiber);  /* run again before the commit: wait on */
    }
    pthread_mutex_unlock(&db->mu);
    return job.rc;
  }
  while (!job.done) pthread_cond_wait(&job.cv, &db->mu);
  pthread_mutex_unlock(&db->mu);
  pthread_cond_destroy(&job.cv);
  return job.rc;
}

static int sq_write(db_t *base, db_txn_fn fn, void *arg) { return sq_queue(base, fn, arg, false); }

static int sq_write_fk_off(db_t *base, db_txn_fn fn, void *arg) {
  return sq_queue(base, fn, arg, true);
}

/* ---- readers ------------------------------------------------------------------------------ */

static int sq_read(db_t *base, db_txn_fn fn, void *arg) {
  sq_db_t *db = (sq_db_t *)base;
  if (tl_conn && tl_conn->db == db) {
    if (tl_conn->writer) {
      log_error("sqlite %s: db_read called inside a write closure; use the closure's connection",
                db->path);
      return DB_ERROR;
    }
    return fn(&tl_conn->base, arg);  /* nested read: same connection, same snapshot */
  }

  pthread_mutex_lock(&db->pool_mu);
  sq_conn_t *c = NULL;
  for (;;) {
    for (int i = 0; i < db->nreaders && !c; i++)
      if (!db->readers[i].busy) c = &db->readers[i];
    if (c) break;
    pthread_cond_wait(&db->pool_cv, &db->pool_mu);
  }
  c->busy = true;
  pthread_mutex_unlock(&db->pool_mu);

  /* read before the snapshot is taken: a commit after this point makes the label stale */
  uint64_t gen = db_write_generation(base), token = 0;
  bool labelled = sq_change_token(base, &token);
  if (c->snap && !(labelled && c->snap_gen == gen && c->snap_token == token)) {
    if (!sqlite3_get_autocommit(c->h)) sq_run(c, c->commit);  /* stale: a read ends cleanly */
    c->snap = false;
  }
  int rc = DB_ERROR;
  if (c->snap || sq_run(c, c->begin) == SQLITE_DONE) {
    tl_conn = c;
    rc = fn(&c->base, arg);
    tl_conn = NULL;
    sq_end_closure(c);
    c->snap = rc == 0 && labelled && !sqlite3_get_autocommit(c->h);
    if (c->snap) {
      c->snap_gen = gen;
      c->snap_token = token;
    } else if (!sqlite3_get_autocommit(c->h) && sq_run(c, c->commit) != SQLITE_DONE && rc == 0) {
      rc = DB_ERROR;
    }
  }
  if (!c->snap && !sqlite3_get_autocommit(c->h)) sq_run(c, c->rollback);
  sq_cache_trim(c);

  pthread_mutex_lock(&db->pool_mu);
  if (c->snap && db->hold_snapshots) {  /* the writer's RESTART checkpoint waits for it */
    if (!sqlite3_get_autocommit(c->h)) sq_run(c, c->commit);
    c->snap = false;
  }
  c->busy = false;
  pthread_cond_signal(&db->pool_cv);
  pthread_mutex_unlock(&db->pool_mu);
  return rc;
}

/* Ends the open snapshots of the readers no closure uses (called before a checkpoint: a
 * snapshot keeps the frames after it from being copied into the database); with hold, also
 * those of the running closures when they end, until sq_checkpoint clears hold_snapshots. */
static void sq_end_idle_snapshots(sq_db_t *db, bool hold) {
  pthread_mutex_lock(&db->pool_mu);
  if (hold) db->hold_snapshots = true;
  for (int i = 0; i < db->nreaders; i++) {
    sq_conn_t *c = &db->readers[i];
    if (c->busy || !c->snap) continue;
    if (!sqlite3_get_autocommit(c->h)) sq_run(c, c->commit);
    c->snap = false;
  }
  pthread_mutex_unlock(&db->pool_mu);
}

static void sq_get_stats(db_t *base, db_stats_t *out) {
  sq_db_t *db = (sq_db_t *)base;
  pthread_mutex_lock(&db->mu);
  *out = db->stats;
  out->inline_allowed = db->inline_mode == DB_INLINE_AUTO
                            ? db->pressure && !cpu_pressure_state(db->pressure).contended
                            : db->inline_mode == DB_INLINE_ON;
  pthread_mutex_unlock(&db->mu);
}

/* ---- open / close ------------------------------------------------------------------------- */

static void sq_free(sq_db_t *db) {
  const unsigned char *shm = atomic_load(&db->shm);
  if (shm) munmap((void *)shm, SQ_SHM_MAP);
  pthread_mutex_destroy(&db->shm_mu);
  sq_checkpointer_stop(db);  /* after the writer thread (sq_close), before the writer's close */
  for (int i = 0; i < db->nreaders; i++) sq_conn_close(&db->readers[i]);
  sq_conn_close(&db->writer);  /* last: it checkpoints and removes the WAL file */
  if (db->shm_fd >= 0) close(db->shm_fd);  /* only now: see sq_shm_map */
  free(db->readers);
  pthread_mutex_destroy(&db->mu);
  pthread_cond_destroy(&db->work_cv);
  pthread_mutex_destroy(&db->pool_mu);
  pthread_cond_destroy(&db->pool_cv);
  pthread_mutex_destroy(&db->ckpt_mu);
  pthread_cond_destroy(&db->ckpt_cv);
  pthread_mutex_destroy(&db->ckpt_run_mu);
  cpu_pressure_close(db->pressure);
  free(db->path);
  free(db->url);
  free(db);
}

/* Checks that the directory holding path exists, for a clearer message than SQLite's. */
static int sq_check_dir(const char *url, const char *path, char **err) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
  struct stat sb;
  int rc = 0;
  if (stat(dir, &sb) != 0) {
    db_set_err(err, "cannot open SQLite database %s (from %s): directory %s: %s", path, url, dir,
               strerror(errno));
    rc = -1;
  } else if (!S_ISDIR(sb.st_mode)) {
    db_set_err(err, "cannot open SQLite database %s (from %s): %s is not a directory", path, url,
               dir);
    rc = -1;
  } else {
    /* The writer creates the database and its -wal and -shm files there: try it, so that a
     * read-only file system or a missing permission is named (SQLite itself reports the
     * errno of its last probe, often a misleading ENOENT). Root passes access(2), so create. */
    buf_t probe = BUF_INIT;
    buf_printf(&probe, "%s/.spoold-write-test-%ld", dir, (long)getpid());
    int fd = open(probe.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      db_set_err(err, "cannot open SQLite database %s (from %s): cannot write in directory %s: %s",
                 path, url, dir, strerror(errno));
      rc = -1;
    } else if (fd >= 0) {
      close(fd);
      unlink(probe.data);
    }
    buf_free(&probe);
    /* access(2), not open(2) and close(2): closing a descriptor of the database would drop
     * SQLite's POSIX locks on it if this process had it open already */
    int e = 0;
    if (rc == 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) e = EISDIR;
    else if (rc == 0 && faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) != 0 && errno != ENOENT)
      e = errno;
    if (e) {
      db_set_err(err, "cannot open SQLite database %s (from %s): %s", path, url, strerror(e));
      rc = -1;
    }
  }
  free(dir);
  return rc;
}

/* SQLite counts every allocation of the process (sqlite3_memory_used, the soft heap limit)
 * under one global mutex, taken by each sqlite3_malloc and sqlite3_free: about 2 % of a
 * lifecycle job's CPU at 16 clients (docs/benchmarks.md, "The writer's statements without
 * their RETURNING table"). spoold reads neither, so the count is off. It can only be set
 * before SQLite initializes; if something initialized it earlier, the call fails and the
 * count stays on, which changes nothing but the cost. */
static void sq_memstatus_off(void) { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

static db_t *sq_open(const char *url, const char *rest, int nreaders, const db_options_t *opts,
                     char **err) {
  static pthread_once_t memstatus_once = PTHREAD_ONCE_INIT;
  pthread_once(&memstatus_once, sq_memstatus_off);
  const char *path = rest;
  if (!strncmp(path, "//", 2)) path += 2;  /* tolerate sqlite:///abs/path */
  if (!*path) {
    db_set_err(err, "store URL \"%s\" names no database file (expected sqlite:PATH)", url);
    return NULL;
  }
  if (!strcmp(path, ":memory:") || !strncmp(path, "file:", 5)) {
    db_set_err(err, "store URL \"%s\": in-memory and URI databases are not supported; "
                    "give a file path (sqlite:PATH)", url);
    return NULL;
  }
  if (!sqlite3_threadsafe()) {
    db_set_err(err, "the SQLite library was built without thread support");
    return NULL;
  }
  if (sq_check_dir(url, path, err)) return NULL;
  if (nreaders <= 0) nreaders = SQ_DEFAULT_READERS;
  if (nreaders > SQ_MAX_READERS) nreaders = SQ_MAX_READERS;

  sq_db_t *db = xcalloc(1, sizeof *db);
  db->base.be = &db_sqlite_backend;
  db->path = xstrdup(path);
  db->url = xstrdup(url);
  db->sync_normal = opts->sqlite_sync_normal;
  db->inline_mode = opts->inline_commit;
  if (db->inline_mode == DB_INLINE_AUTO) db->pressure = cpu_pressure_open();
  pthread_mutex_init(&db->mu, NULL);
  time_cond_init_monotonic(&db->work_cv);
  pthread_mutex_init(&db->pool_mu, NULL);
  pthread_cond_init(&db->pool_cv, NULL);
  pthread_mutex_init(&db->shm_mu, NULL);
  db->shm_fd = -1;
  pthread_mutex_init(&db->ckpt_mu, NULL);
  pthread_cond_init(&db->ckpt_cv, NULL);
  pthread_mutex_init(&db->ckpt_run_mu, NULL);
  db->readers = xcalloc((size_t)nreaders, sizeof *db->readers);

  /* The writer first: it creates the file and switches it to WAL, which the read-only
   * connections need. */
  if (sq_conn_open(&db->writer, db, SQ_WRITER, err)) goto fail;
  for (int i = 0; i < nreaders; i++) {
    if (sq_conn_open(&db->readers[i], db, SQ_READER, err)) goto fail;
    db->nreaders = i + 1;
  }
  if (sq_conn_open(&db->ckpt, db, SQ_CHECKPOINTER, err)) goto fail;

  /* The threads take no signals: they belong to the application's threads. The checkpointer
   * first: the writer's hook asks it for checkpoints. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&db->ckpt_thread, NULL, sq_checkpointer_main, db);
  if (rc == 0) {
    db->ckpt_started = true;
    rc = pthread_create(&db->thread, NULL, sq_writer_main, db);
    if (rc == 0) db->thread_started = true;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    db_set_err(err, "cannot start the SQLite %s thread: %s",
               db->ckpt_started ? "writer" : "checkpointer", strerror(rc));
    goto fail;
  }
  log_debug("sqlite %s: open, %d reader(s)", db->path, db->nreaders);
  if (db->inline_mode == DB_INLINE_AUTO)
    log_debug("sqlite %s: a lone write commits inline while %s says the CPUs are not contended",
              db->path, db->pressure ? cpu_pressure_path(db->pressure) : "(no PSI file: never)");
  else
    log_info("sqlite %s: --inline-commit %s: a lone write %s", db->path,
             db->inline_mode == DB_INLINE_ON ? "on" : "off",
             db->inline_mode == DB_INLINE_ON ? "commits on its caller's thread whatever the CPU "
                                               "pressure"
                                             : "goes to the writer thread like any other");
  if (db->sync_normal)
    log_warn("sqlite %s: synchronous=NORMAL (--sqlite-synchronous normal): a write answered "
             "2xx survives a crash of spoold but may be lost on a power loss or system crash",
             db->path);
  return &db->base;

fail:
  sq_free(db);
  return NULL;
}

static void sq_close(db_t *base) {
  sq_db_t *db = (sq_db_t *)base;
  pthread_mutex_lock(&db->mu);
  db->stop = true;
  pthread_cond_signal(&db->work_cv);
  pthread_mutex_unlock(&db->mu);
  if (db->thread_started) pthread_join(db->thread, NULL);  /* drains queued writes first */
  db->thread_started = false;
  pthread_mutex_lock(&db->pool_mu);
  for (int i = 0; i < db->nreaders; i++)
    if (db->readers[i].busy) log_error("sqlite %s: db_close while a db_read runs", db->path);
  pthread_mutex_unlock(&db->pool_mu);
  sq_free(db);
}

/* ---- statements --------------------------------------------------------------------------- */

static db_stmt_t *sq_prepare(db_conn_t *cb, const char *sql) {
  sq_conn_t *c = (sq_conn_t *)cb;
  uint64_t h = sq_hash(sql);
  sq_stmt_t *s = NULL;
  if (c->nbuckets) {
    for (s = c->buckets[h & (c->nbuckets - 1)]; s; s = s->next)
      if (s->hash == h && !s->in_use && !strcmp(s->sql, sql)) break;
  }
  if (!s) {
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK || !st) {
      log_error("sqlite %s: cannot prepare: %s; in: %s", c->db->path,
                rc != SQLITE_OK ? sqlite3_errmsg(c->h) : "no statement", sql);
      sqlite3_finalize(st);
      return NULL;
    }
    tail += strspn(tail, " \t\r\n;");
    if (*tail) {
      log_error("sqlite %s: db_prepare takes one statement (use db_exec for scripts); in: %s",
                c->db->path, sql);
      sqlite3_finalize(st);
      return NULL;
    }
    s = xcalloc(1, sizeof *s);
    s->base.be = &db_sqlite_backend;
    s->conn = c;
    s->st = st;
    s->sql = xstrdup(sql);
    s->hash = h;
    sq_cache_insert(c, s);
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

static void sq_bind_check(sq_stmt_t *s, int idx, int rc) {
  if (rc == SQLITE_OK) return;
  log_error("sqlite %s: cannot bind parameter %d: %s; in: %s", s->conn->db->path, idx,
            sqlite3_errstr(rc), s->sql);
  if (!s->bind_rc) s->bind_rc = rc;
}

static void sq_bind_text(db_stmt_t *sb, int idx, const char *v) {
  sq_stmt_t *s = (sq_stmt_t *)sb;
  sq_bind_check(s, idx, v ? sqlite3_bind_text(s->st, idx, v, -1, SQLITE_TRANSIENT)
                          : sqlite3_bind_null(s->st, idx));
}

static void sq_bind_int64(db_stmt_t *sb, int idx, int64_t v) {
  sq_stmt_t *s = (sq_stmt_t *)sb;
  sq_bind_check(s, idx, sqlite3_bind_int64(s->st, idx, (sqlite3_int64)v));
}

static void sq_bind_double(db_stmt_t *sb, int idx, double v) {
  sq_stmt_t *s = (sq_stmt_t *)sb;
  sq_bind_check(s, idx, sqlite3_bind_double(s->st, idx, v));
}

static void sq_bind_blob(db_stmt_t *sb, int idx, const void *v, size_t len) {
  sq_stmt_t *s = (sq_stmt_t *)sb;
  /* A zero-length blob is not NULL: give SQLite a non-NULL pointer for it. */
  sq_bind_check(s, idx, v || !len ? sqlite3_bind_blob64(s->st, idx, v ? v : "", len,
                                                        SQLITE_TRANSIENT)
                                  : sqlite3_bind_null(s->st, idx));
}

static void sq_bind_null(db_stmt_t *sb, int idx) {
  sq_stmt_t *s = (sq_stmt_t *)sb;
  sq_bind_check(s, idx, sqlite3_bind_null(s->st, idx));
}

static int sq_map_rc(sq_conn_t *c, int rc, const char *sql) {
  if (sq_rc_full(c, rc)) {
    c->saw_full = true;
    log_error("sqlite %s: no space left: %s (%d); in: %s", c->db->path, sqlite3_errmsg(c->h),
              rc, sql);
    db_note_failure("sqlite: no space left: %s (%d); in: %s", sqlite3_errmsg(c->h), rc, sql);
    return DB_FULL;
  }
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
      return DB_DONE;
    case SQLITE_ROW:
      return DB_ROW;
    case SQLITE_CONSTRAINT:
      log_debug("sqlite %s: constraint: %s; in: %s", c->db->path, sqlite3_errmsg(c->h), sql);
      return DB_CONSTRAINT;
    default:
      log_error("sqlite %s: %s (%d); in: %s", c->db->path, sqlite3_errmsg(c->h), rc, sql);
      db_note_failure("sqlite: %s (%d); in: %s", sqlite3_errmsg(c->h), rc, sql);
      return DB_ERROR;
  }
}

static int sq_step(db_stmt_t *sb) {
  sq_stmt_t *s = (sq_stmt_t *)sb;
  if (s->bind_rc) return DB_ERROR;  /* logged when binding */
  return sq_map_rc(s->conn, sqlite3_step(s->st), s->sql);
}

static bool sq_col_null(db_stmt_t *sb, int col) {
  return sqlite3_column_type(((sq_stmt_t *)sb)->st, col) == SQLITE_NULL;
}

static const char *sq_col_text(db_stmt_t *sb, int col) {
  return (const char *)sqlite3_column_text(((sq_stmt_t *)sb)->st, col);
}

static int64_t sq_col_int64(db_stmt_t *sb, int col) {
  return (int64_t)sqlite3_column_int64(((sq_stmt_t *)sb)->st, col);
}

static double sq_col_double(db_stmt_t *sb, int col) {
  return sqlite3_column_double(((sq_stmt_t *)sb)->st, col);
}

static const void *sq_col_blob(db_stmt_t *sb, int col, size_t *len) {
  sqlite3_stmt *st = ((sq_stmt_t *)sb)->st;
  const void *p = sqlite3_column_blob(st, col);
  if (len) *len = (size_t)sqlite3_column_bytes(st, col);
  return p;
}

static void sq_reset(db_stmt_t *sb) {
  sq_stmt_t *s = (sq_stmt_t *)sb;
  sqlite3_reset(s->st);
  sqlite3_clear_bindings(s->st);
  s->bind_rc = 0;
  s->in_use = false;
}

static int sq_exec(db_conn_t *cb, const char *sql) {
  sq_conn_t *c = (sq_conn_t *)cb;
  int rc = sqlite3_exec(c->h, sql, NULL, NULL, NULL);
  int r = sq_map_rc(c, rc, sql);
  return r == DB_DONE ? DB_OK : r;
}

static int64_t sq_changes(db_conn_t *cb) { return sqlite3_changes64(((sq_conn_t *)cb)->h); }

static const char *sq_errmsg(db_conn_t *cb) { return sqlite3_errmsg(((sq_conn_t *)cb)->h); }

/* json_extract gives JSON true/false as 1/0 and numbers as numbers, so every kind is the
 * same expression. */
static char *sq_json_scalar(const char *col, const char *const *keys, size_t nkeys,
                            db_json_kind_t kind) {
  (void)kind;
  buf_t b = BUF_INIT;
  buf_printf(&b, "json_extract(%s, '$", col);
  for (size_t i = 0; i < nkeys; i++) buf_printf(&b, ".%s", keys[i]);
  buf_puts(&b, "')");
  return buf_detach(&b);
}

/* json_each over the member when it is an array (else over the empty array's absent member:
 * no row); its value column gives strings as text, numbers as numbers and booleans as 1/0. */
static char *sq_json_elements(const char *col, const char *const *keys, size_t nkeys,
                              db_json_kind_t kind, const char *alias, char **value) {
  (void)kind;
  buf_t path = BUF_INIT, b = BUF_INIT;
  buf_puts(&path, "'$");
  for (size_t i = 0; i < nkeys; i++) buf_printf(&path, ".%s", keys[i]);
  buf_putc(&path, '\'');
  buf_printf(&b, "json_each(CASE json_type(%s, %s) WHEN 'array' THEN %s ELSE '[]' END, %s) AS %s",
             col, path.data, col, path.data, alias);
  buf_free(&path);
  buf_t v = BUF_INIT;
  buf_printf(&v, "%s.value", alias);
  *value = buf_detach(&v);
  return buf_detach(&b);
}

static const char *const sq_schemes[] = {"sqlite", NULL};

/* The SQLite backend, listed in db.c. */
/* ---- change token ---------------------------------------------------------------------------- */

/* The WAL-index header at the start of the -shm file (SQLite's documented WAL-index format,
 * sqlite.org/walformat.html): two copies of 48 bytes, the second written first, then a barrier,
 * then the first; SQLite's readers take the header when both copies agree. Every commit of any
 * connection of any process rewrites it (iChange counts transactions, mxFrame, the checksums
 * of the last frame), and so does a restart of the WAL (new salts). Mapping the file's first
 * page is enough: SQLite sizes it in 32 KiB regions, and does not shrink or remove it while a
 * connection (ours) has it open.
 *
 * The descriptor stays open until every connection is closed (sq_free). Closing any descriptor
 * of a file drops all of the process's POSIX locks on it, SQLite's among them: without its
 * shared lock on the -shm file, the next process to open the database (spoold backup, the
 * sqlite3 shell) believes it is the first, truncates the WAL index under our connections and
 * rebuilds it, which kills spoold with SIGBUS or corrupts the database. */
#define SQ_SHM_HDR 48

static const unsigned char *sq_shm_map(sq_db_t *db) {
  pthread_mutex_lock(&db->shm_mu);
  const unsigned char *p = atomic_load(&db->shm);
  if (!p) {
    if (db->shm_fd < 0) {
      char *name = xasprintf("%s-shm", db->path);
      db->shm_fd = open(name, O_RDONLY | O_CLOEXEC);
      free(name);
    }
    struct stat sb;
    /* no -shm file (SQLite keeps the WAL index in memory in exclusive locking mode) or not yet
     * initialized: no token, so nothing may be cached */
    if (db->shm_fd >= 0 && fstat(db->shm_fd, &sb) == 0 && sb.st_size >= SQ_SHM_MAP) {
      void *m = mmap(NULL, SQ_SHM_MAP, PROT_READ, MAP_SHARED, db->shm_fd, 0);
      if (m != MAP_FAILED) atomic_store(&db->shm, p = m);
    }
  }
  pthread_mutex_unlock(&db->shm_mu);
  return p;
}

/* See db-backend.h: the WAL-index header's bytes, hashed. */
static bool sq_change_token(db_t *base, uint64_t *out) {
  sq_db_t *db = (sq_db_t *)base;
  const unsigned char *shm = atomic_load(&db->shm);
  if (!shm && !(shm = sq_shm_map(db))) return false;
  unsigned char a[SQ_SHM_HDR], b[SQ_SHM_HDR];
  for (int tries = 0; tries < 16; tries++) {
    /* in SQLite's reading order: the first copy, a barrier, the second */
    memcpy(a, shm, SQ_SHM_HDR);
    atomic_thread_fence(memory_order_acquire);
    memcpy(b, shm + SQ_SHM_HDR, SQ_SHM_HDR);
    atomic_thread_fence(memory_order_acquire);
    if (memcmp(a, b, SQ_SHM_HDR) != 0) continue; /* a commit is writing it: read again */
    if (!a[12]) return false;                     /* isInit: not initialized */
    uint64_t h = 1469598103934665603ULL, w;
    for (size_t i = 0; i < SQ_SHM_HDR; i += 8) {
      memcpy(&w, a + i, 8);
      h = (h ^ w) * 1099511628211ULL;
    }
    *out = h ^ (h >> 32);
    return true;
  }
  return false;
}

const db_backend_t db_sqlite_backend = {
  .name = "SQLite",
  .schemes = sq_schemes,
  .returning_costly = true,
  .url_help = "sqlite:PATH",
  .open = sq_open,
  .close = sq_close,
  .write = sq_write,
  .write_fk_off = sq_write_fk_off,
  .read = sq_read,
  /* .ping: db.c's "SELECT 1" through sq_read */
  .get_stats = sq_get_stats,
  .change_token = sq_change_token,
  .table_exists_sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
  .json_scalar = sq_json_scalar,
  .json_elements = sq_json_elements,
  .errmsg = sq_errmsg,
  .prepare = sq_prepare,
  .bind_text = sq_bind_text,
  .bind_int64 = sq_bind_int64,
  .bind_double = sq_bind_double,
  .bind_blob = sq_bind_blob,
  .bind_null = sq_bind_null,
  .step = sq_step,
  .col_null = sq_col_null,
  .col_text = sq_col_text,
  .col_int64 = sq_col_int64,
  .col_double = sq_col_double,
  .col_blob = sq_col_blob,
  .reset = sq_reset,
  .exec = sq_exec,
  .changes = sq_changes,
};
