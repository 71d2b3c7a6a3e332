/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection limits and slow-sender deadlines (see conn-guard.h).
 *
 * Every open connection is in one list and its address in a small hash table of counts, both
 * under one mutex; the watchdog walks the list four times a second.
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
  conn_info_t     *prev, *next;   /* g->conns, under g->mu */
  int              fd;
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
  unsigned         total;
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
    }
    return;
  }
}

/* The accept policy (see conn-guard.h). */
bool conn_guard_accept(conn_guard_t *g, const struct sockaddr *sa) {
  ip_key_t k;
  char peer[INET6_ADDRSTRLEN];
  key_of(sa, &k, peer, sizeof peer);
  pthread_mutex_lock(&g->mu);
  const char *why = NULL;
  unsigned limit = 0;
  if (g->total >= g->cfg.max_connections + g->reserve_global) {
    why = "open connections";
    limit = g->cfg.max_connections;
  } else {
    ip_count_t *c = ip_find(g, &k, false);
    if (c && c->n >= g->cfg.max_per_ip + g->reserve_ip) {
      why = "open connections from this address";
      limit = g->cfg.max_per_ip;
    }
  }
  bool log_now = false;
  unsigned quiet = 0;
  if (why) {
    int64_t now = time_mono_us();
    if (now - g->refused_log_us >= 1000000) {
      log_now = true;
      quiet = g->refused_quiet;
      g->refused_quiet = 0;
      g->refused_log_us = now;
    } else {
      g->refused_quiet++;
    }
  }
  pthread_mutex_unlock(&g->mu);
  if (log_now)
    log_warn("closing a new connection from %s at once: %s are past the limit of %u and its "
             "reserve of 503 answers (%u more refused since the last such line)",
             peer, why, limit, quiet);
  return why == NULL;
}

/* Records an opened connection (see conn-guard.h). */
conn_info_t *conn_guard_opened(conn_guard_t *g, int fd, const struct sockaddr *sa) {
  conn_info_t *c = xcalloc(1, sizeof *c);
  c->fd = fd;
  key_of(sa, &c->ip, c->peer, sizeof c->peer);
  atomic_store(&c->phase, CONN_PHASE_HEAD);
  atomic_store(&c->phase_start, time_mono_us());
  pthread_mutex_lock(&g->mu);
  ip_count_t *ic = ip_find(g, &c->ip, true);
  ic->n++;
  g->total++;
  if (g->total > g->cfg.max_connections) c->over = CONN_OVER_GLOBAL;
  else if (ic->n > g->cfg.max_per_ip) c->over = CONN_OVER_PER_IP;
  c->next = g->conns;
  if (g->conns) g->conns->prev = c;
  g->conns = c;
  pthread_mutex_unlock(&g->mu);
  return c;
}

/* Forgets a closed connection (see conn-guard.h). */
void conn_guard_closed(conn_guard_t *g, conn_info_t *c) {
  if (!c) return;
  pthread_mutex_lock(&g->mu);
  if (c->prev) c->prev->next = c->next;
  else g->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  ip_release(g, &c->ip);
  if (g->total) g->total--;
  pthread_mutex_unlock(&g->mu);
  free(c);
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
    for (conn_info_t *c = g->conns; c; c = c->next) {
      char why[200];
      if (c->cut || !missed_deadline(g, c, now, why, sizeof why)) continue;
      /* The socket stays open until the server has been told the connection closed (and
       * conn_guard_closed took it off this list under the same mutex), so fd is still ours. */
      c->cut = true;
      shutdown(c->fd, SHUT_RDWR);
      log_info("closing the connection from %s: %s", c->peer, why);
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
