/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection limits and slow-sender deadlines (see conn-guard.h).
 *
 * Every open connection is in one list and its address in a small hash table of counts, both
 * under one mutex; the watchdog walks the list four times a second.
 *
 * The limits are checked and counted in one step, under that mutex, in the accept policy: a
 * connection the policy lets in is counted at once (a reservation), so that worker threads
 * accepting at the same moment all see each other's connections. libmicrohttpd calls the
 * accept policy and then, on the same thread and before anything else, the notification that
 * the connection started (or, when its set-up failed, nothing). So a reservation is pending
 * on the thread that made it until conn_guard_opened() on that thread takes it; one still
 * pending when that thread makes its next reservation, or after PENDING_MAX_US, belongs to a
 * connection whose set-up failed and is released.
 */
#include "http/conn-guard.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define IP_BUCKETS 1024
#define WATCH_INTERVAL_MS 250
/* A reservation not taken by conn_guard_opened() within this time is a failed set-up's (the
 * library takes microseconds between the two calls). */
#define PENDING_MAX_US 5000000

/* A client address: 16 bytes (IPv4 as ::ffff:a.b.c.d). */
typedef struct ip_key {
  uint8_t b[16];
} ip_key_t;

typedef struct ip_count {
  struct ip_count *next;
  ip_key_t         key;
  unsigned         n;
} ip_count_t;

struct conn_info {
  conn_info_t     *prev, *next;   /* g->conns, or g->pending while reserved, under g->mu */
  pthread_t        owner;         /* while reserved: the thread that made the reservation */
  int64_t          reserved_us;   /* while reserved: when (monotonic us) */
  int              fd;            /* -1 while reserved */
  ip_key_t         ip;
  char             peer[INET6_ADDRSTRLEN];
  conn_over_t      over;
  bool             cut;           /* the watchdog shut it down (under g->mu) */
  _Atomic int      phase;
  _Atomic int64_t  phase_start;   /* monotonic us */
  _Atomic uint64_t body_bytes;    /* received in the current body phase */
  /* The watchdog's own body-rate window (only the watchdog thread touches these). */
  int64_t          win_phase;     /* phase_start the window belongs to */
  int64_t          win_start;
  uint64_t         win_bytes;
};

struct conn_guard {
  conn_guard_config_t cfg;
  unsigned         reserve_global, reserve_ip;
  pthread_mutex_t  mu;
  pthread_cond_t   cv;
  bool             stop;
  pthread_t        thread;
  conn_info_t     *conns;
  conn_info_t     *pending;       /* reserved by the accept policy, not yet opened */
  unsigned         total;         /* reserved and open connections */
  unsigned         addresses;     /* entries of ips */
  ip_count_t      *ips[IP_BUCKETS];
  /* Log rate limit of refused connections. */
  int64_t          refused_log_us;
  unsigned         refused_quiet;
};

/* The reserve past a limit (see conn-guard.h). */
unsigned conn_guard_reserve(unsigned limit) {
  unsigned r = limit / 8;
  return r < 4 ? 4 : r;
}

static void key_of(const struct sockaddr *sa, ip_key_t *k, char *text, size_t textlen) {
  memset(k, 0, sizeof *k);
  if (text && textlen) text[0] = '\0';
  if (!sa) return;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    k->b[10] = k->b[11] = 0xff;
    memcpy(k->b + 12, &in->sin_addr, 4);
    if (text) inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)textlen);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    memcpy(k->b, &in6->sin6_addr, 16);
    if (text) inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)textlen);
  }
}

static unsigned bucket_of(const ip_key_t *k) {
  uint32_t h = 2166136261u;
  for (int i = 0; i < 16; i++) h = (h ^ k->b[i]) * 16777619u;
  return h % IP_BUCKETS;
}

/* The count record of k; created when create is set. Call with g->mu held. */
static ip_count_t *ip_find(conn_guard_t *g, const ip_key_t *k, bool create) {
  unsigned b = bucket_of(k);
  for (ip_count_t *c = g->ips[b]; c; c = c->next)
    if (memcmp(&c->key, k, sizeof *k) == 0) return c;
  if (!create) return NULL;
  ip_count_t *c = xcalloc(1, sizeof *c);
  c->key = *k;
  c->next = g->ips[b];
  g->ips[b] = c;
  g->addresses++;
  return c;
}

static void ip_release(conn_guard_t *g, const ip_key_t *k) {
  unsigned b = bucket_of(k);
  for (ip_count_t **pp = &g->ips[b]; *pp; pp = &(*pp)->next) {
    ip_count_t *c = *pp;
    if (memcmp(&c->key, k, sizeof *k) != 0) continue;
    if (c->n > 0) c->n--;
    if (c->n == 0) {
      *pp = c->next;
      free(c);
      g->addresses--;
    }
    return;
  }
}

static void list_unlink(conn_info_t **head, conn_info_t *c) {
  if (c->prev) c->prev->next = c->next;
  else *head = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = c->next = NULL;
}

static void list_push(conn_info_t **head, conn_info_t *c) {
  c->prev = NULL;
  c->next = *head;
  if (*head) (*head)->prev = c;
  *head = c;
}

/* Takes c's connection off the counts (an open connection or a reservation). Call with g->mu
 * held; c is already off its list. */
static void uncount(conn_guard_t *g, conn_info_t *c) {
  ip_release(g, &c->ip);
  if (g->total) g->total--;
}

/* The reservation the calling thread made and no connection took yet, taken off the pending
 * list (the caller owns it); NULL when there is none. Call with g->mu held. */
static conn_info_t *take_pending(conn_guard_t *g) {
  pthread_t self = pthread_self();
  for (conn_info_t *c = g->pending; c; c = c->next)
    if (pthread_equal(c->owner, self)) {
      list_unlink(&g->pending, c);
      return c;
    }
  return NULL;
}

/* Counts a connection from c->ip in g's totals and decides whether it is past a limit (its
 * requests then get 503). Call with g->mu held. */
static void count(conn_guard_t *g, conn_info_t *c) {
  ip_count_t *ic = ip_find(g, &c->ip, true);
  ic->n++;
  g->total++;
  if (g->total > g->cfg.max_connections) c->over = CONN_OVER_GLOBAL;
  else if (ic->n > g->cfg.max_per_ip) c->over = CONN_OVER_PER_IP;
  else c->over = CONN_OVER_NONE;
}

/* The accept policy (see conn-guard.h): the check and the count are one step under g->mu. */
bool conn_guard_accept(conn_guard_t *g, const struct sockaddr *sa) {
  conn_info_t *c = xcalloc(1, sizeof *c);
  c->fd = -1;
  key_of(sa, &c->ip, c->peer, sizeof c->peer);
  int64_t now = time_mono_us();
  pthread_mutex_lock(&g->mu);
  /* A reservation this thread made before that no connection took: its set-up failed. */
  conn_info_t *stale = take_pending(g);
  if (stale) uncount(g, stale);
  const char *why = NULL;
  unsigned limit = 0;
  if (g->total >= g->cfg.max_connections + g->reserve_global) {
    why = "open connections";
    limit = g->cfg.max_connections;
  } else {
    ip_count_t *ic = ip_find(g, &c->ip, false);
    if (ic && ic->n >= g->cfg.max_per_ip + g->reserve_ip) {
      why = "open connections from this address";
      limit = g->cfg.max_per_ip;
    }
  }
  bool log_now = false;
  unsigned quiet = 0;
  if (why) {
    if (now - g->refused_log_us >= 1000000) {
      log_now = true;
      quiet = g->refused_quiet;
      g->refused_quiet = 0;
      g->refused_log_us = now;
    } else {
      g->refused_quiet++;
    }
  } else {
    count(g, c);
    c->owner = pthread_self();
    c->reserved_us = now;
    list_push(&g->pending, c);
  }
  pthread_mutex_unlock(&g->mu);
  free(stale);
  if (log_now)
    log_warn("closing a new connection from %s at once: %s are past the limit of %u and its "
             "reserve of 503 answers (%u more refused since the last such line)",
             c->peer, why, limit, quiet);
  if (why) free(c);
  return why == NULL;
}

/* Records an opened connection (see conn-guard.h): takes the reservation the calling thread's
 * accept policy made for it. */
conn_info_t *conn_guard_opened(conn_guard_t *g, int fd, const struct sockaddr *sa) {
  ip_key_t k;
  key_of(sa, &k, NULL, 0);
  conn_info_t *fresh = NULL;
  pthread_mutex_lock(&g->mu);
  conn_info_t *c = take_pending(g);
  if (c && memcmp(&c->ip, &k, sizeof k) != 0) { /* not this connection's: never in practice */
    uncount(g, c);
    fresh = c;
    c = NULL;
  }
  if (!c) {
    /* No reservation (not accepted through the policy, or its reservation was dropped as
     * stale): counted now, past the limits answered 503 like a reserve connection. */
    pthread_mutex_unlock(&g->mu);
    free(fresh);
    c = xcalloc(1, sizeof *c);
    key_of(sa, &c->ip, c->peer, sizeof c->peer);
    pthread_mutex_lock(&g->mu);
    count(g, c);
  }
  c->fd = fd;
  atomic_store(&c->phase, CONN_PHASE_HEAD);
  atomic_store(&c->phase_start, time_mono_us());
  list_push(&g->conns, c);
  pthread_mutex_unlock(&g->mu);
  return c;
}

/* Forgets a closed connection (see conn-guard.h). */
void conn_guard_closed(conn_guard_t *g, conn_info_t *c) {
  if (!c) return;
  pthread_mutex_lock(&g->mu);
  list_unlink(&g->conns, c);
  uncount(g, c);
  pthread_mutex_unlock(&g->mu);
  free(c);
}

/* The counts behind the limits (see conn-guard.h). */
void conn_guard_counts(conn_guard_t *g, unsigned *connections, unsigned *addresses) {
  pthread_mutex_lock(&g->mu);
  if (connections) *connections = g->total;
  if (addresses) *addresses = g->addresses;
  pthread_mutex_unlock(&g->mu);
}

conn_over_t conn_guard_over(const conn_info_t *c) { return c ? c->over : CONN_OVER_NONE; }

/* Moves c to another phase (see conn-guard.h). */
void conn_guard_phase(conn_info_t *c, conn_phase_t phase) {
  if (!c) return;
  atomic_store(&c->phase_start, time_mono_us());
  if (phase == CONN_PHASE_BODY) atomic_store(&c->body_bytes, 0);
  atomic_store(&c->phase, (int)phase);
}

/* Counts body bytes (see conn-guard.h). */
void conn_guard_body_bytes(conn_info_t *c, size_t n) {
  if (c) atomic_fetch_add(&c->body_bytes, n);
}

unsigned conn_guard_library_limit(const conn_guard_t *g) {
  /* Each worker thread of the library gets a share of its limit; give every one room for the
   * whole total so that the guard's accept policy is always what refuses. */
  return (g->cfg.max_connections + g->reserve_global) * 4 + 64;
}

/* Decides whether c missed a deadline at now; fills why. Call from the watchdog with g->mu
 * held. */
static bool missed_deadline(const conn_guard_t *g, conn_info_t *c, int64_t now, char *why,
                            size_t whylen) {
  int phase = atomic_load(&c->phase);
  int64_t start = atomic_load(&c->phase_start);
  if (phase == CONN_PHASE_HEAD) {
    if (g->cfg.header_timeout && now - start > (int64_t)g->cfg.header_timeout * 1000000) {
      snprintf(why, whylen, "no complete request head within %u s (--header-timeout)",
               g->cfg.header_timeout);
      return true;
    }
    return false;
  }
  if (phase != CONN_PHASE_BODY || !g->cfg.body_timeout) return false;
  uint64_t got = atomic_load(&c->body_bytes);
  if (c->win_phase != start) { /* a new body: a new window */
    c->win_phase = start;
    c->win_start = start;
    c->win_bytes = 0;
  }
  int64_t window = (int64_t)g->cfg.body_timeout * 1000000;
  if (now - c->win_start < window) return false;
  uint64_t need = (uint64_t)g->cfg.min_body_rate * g->cfg.body_timeout;
  if (need == 0) need = 1; /* at least some progress in every window */
  if (got - c->win_bytes < need) {
    snprintf(why, whylen, "the request body arrived at %llu bytes in the last %u s, below "
             "--min-body-rate %u bytes/s (--body-timeout %u s)",
             (unsigned long long)(got - c->win_bytes), g->cfg.body_timeout,
             g->cfg.min_body_rate, g->cfg.body_timeout);
    return true;
  }
  c->win_start = now;
  c->win_bytes = got;
  return false;
}

static void *watch_main(void *arg) {
  conn_guard_t *g = arg;
  pthread_mutex_lock(&g->mu);
  while (!g->stop) {
    int64_t now = time_mono_us();
    for (conn_info_t *c = g->pending, *next; c; c = next) {
      next = c->next;
      if (now - c->reserved_us < PENDING_MAX_US) continue;
      /* Its connection's set-up failed and its thread accepted nothing since. */
      list_unlink(&g->pending, c);
      uncount(g, c);
      free(c);
    }
    for (conn_info_t *c = g->conns; c; c = c->next) {
      char why[200];
      if (c->cut || !missed_deadline(g, c, now, why, sizeof why)) continue;
      /* The socket stays open until the server has been told the connection closed (and
       * conn_guard_closed took it off this list under the same mutex), so fd is still ours. */
      c->cut = true;
      log_info("closing the connection from %s: %s", c->peer, why); /* the reason, then the cut */
      shutdown(c->fd, SHUT_RDWR);
    }
    struct timespec ts = time_deadline(CLOCK_MONOTONIC, WATCH_INTERVAL_MS * 1000L);
    pthread_cond_timedwait(&g->cv, &g->mu, &ts);
  }
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

/* Creates a guard (see conn-guard.h). */
conn_guard_t *conn_guard_new(const conn_guard_config_t *cfg, char **err) {
  conn_guard_t *g = xcalloc(1, sizeof *g);
  g->cfg = *cfg;
  if (!g->cfg.max_connections) g->cfg.max_connections = 1024;
  if (!g->cfg.max_per_ip) g->cfg.max_per_ip = 256;
  g->reserve_global = conn_guard_reserve(g->cfg.max_connections);
  g->reserve_ip = conn_guard_reserve(g->cfg.max_per_ip);
  g->refused_log_us = INT64_MIN / 2;
  pthread_mutex_init(&g->mu, NULL);
  time_cond_init_monotonic(&g->cv);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&g->thread, NULL, watch_main, g);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    if (err) *err = xstrdup("cannot start the connection watchdog thread");
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
    return NULL;
  }
  return g;
}

/* Stops the watchdog and frees g (see conn-guard.h). */
void conn_guard_free(conn_guard_t *g) {
  if (!g) return;
  pthread_mutex_lock(&g->mu);
  g->stop = true;
  pthread_cond_signal(&g->cv);
  pthread_mutex_unlock(&g->mu);
  pthread_join(g->thread, NULL);
  while (g->conns) {
    conn_info_t *c = g->conns;
    g->conns = c->next;
    free(c);
  }
  while (g->pending) {
    conn_info_t *c = g->pending;
    g->pending = c->next;
    free(c);
  }
  for (unsigned i = 0; i < IP_BUCKETS; i++) {
    while (g->ips[i]) {
      ip_count_t *c = g->ips[i];
      g->ips[i] = c->next;
      free(c);
    }
  }
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
  free(g);
}
