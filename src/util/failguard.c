/* SPDX-License-Identifier: Apache-2.0 */
/* Repeated failures per key: growing delays and throttled log lines; see failguard.h. */
#include "util/failguard.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

typedef struct slot {
  uint64_t h1, h2;      /* the key's two hashes; h1 == 0 && h2 == 0: empty */
  unsigned count;
  int64_t  last_us;     /* last failure */
  int64_t  logged_us;   /* last logged failure (0: never) */
  uint64_t unlogged;
} slot_t;

struct failguard {
  pthread_mutex_t    mu;
  failguard_config_t cfg;
  size_t             nsets;
  slot_t            *slots; /* nsets * WAYS */
};

/* Two independent 64-bit FNV-1a style hashes of the key (never both zero). */
static void hash2(const void *key, size_t len, uint64_t *h1, uint64_t *h2) {
  const unsigned char *p = key;
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  for (size_t i = 0; i < len; i++) {
    a = (a ^ p[i]) * 0x100000001b3ULL;
    b = (b ^ p[i]) * 0x00000100000001b3ULL + 0x9e3779b97f4a7c15ULL;
  }
  if (!a && !b) b = 1;
  *h1 = a;
  *h2 = b;
}

failguard_t *failguard_new(const failguard_config_t *cfg) {
  failguard_t *g = xcalloc(1, sizeof *g);
  pthread_mutex_init(&g->mu, NULL);
  g->cfg = *cfg;
  g->nsets = cfg->capacity > WAYS ? (cfg->capacity + WAYS - 1) / WAYS : 1;
  g->slots = xcalloc(g->nsets * WAYS, sizeof *g->slots);
  return g;
}

void failguard_free(failguard_t *g) {
  if (!g) return;
  pthread_mutex_destroy(&g->mu);
  free(g->slots);
  free(g);
}

/* The slot of key in its set, or NULL. Under the lock. */
static slot_t *find(failguard_t *g, uint64_t h1, uint64_t h2) {
  slot_t *set = &g->slots[(h1 % g->nsets) * WAYS];
  for (int i = 0; i < WAYS; i++)
    if (set[i].h1 == h1 && set[i].h2 == h2) return &set[i];
  return NULL;
}

/* Delay of the count-th failure. */
static unsigned delay_for(const failguard_config_t *c, unsigned count) {
  if (count <= c->free || !c->base_ms) return 0;
  uint64_t d = c->base_ms;
  for (unsigned i = c->free + 1; i < count && d < c->max_ms; i++) d *= 2;
  return d > c->max_ms ? c->max_ms : (unsigned)d;
}

void failguard_fail(failguard_t *g, const void *key, size_t len, int64_t now_us,
                    failguard_verdict_t *out) {
  uint64_t h1, h2;
  hash2(key, len, &h1, &h2);
  pthread_mutex_lock(&g->mu);
  slot_t *s = find(g, h1, h2);
  if (s && now_us - s->last_us >= g->cfg.window_us) {
    /* quiet for a window: start again, but keep the log interval and what went unlogged */
    s->count = 0;
  }
  if (!s) {
    slot_t *set = &g->slots[(h1 % g->nsets) * WAYS];
    s = &set[0];
    for (int i = 0; i < WAYS; i++) {
      if (!set[i].h1 && !set[i].h2) {
        s = &set[i];
        break;
      }
      if (set[i].last_us < s->last_us) s = &set[i];
    }
    memset(s, 0, sizeof *s);
    s->h1 = h1;
    s->h2 = h2;
  }
  if (s->count < UINT32_MAX) s->count++;
  s->last_us = now_us;
  out->count = s->count;
  out->delay_ms = delay_for(&g->cfg, s->count);
  out->log = !s->logged_us || now_us - s->logged_us >= g->cfg.log_interval_us;
  out->unlogged = 0;
  if (out->log) {
    out->unlogged = s->unlogged;
    s->unlogged = 0;
    s->logged_us = now_us ? now_us : 1;
  } else {
    s->unlogged++;
  }
  pthread_mutex_unlock(&g->mu);
}

void failguard_forget(failguard_t *g, const void *key, size_t len) {
  uint64_t h1, h2;
  hash2(key, len, &h1, &h2);
  pthread_mutex_lock(&g->mu);
  slot_t *s = find(g, h1, h2);
  if (s) memset(s, 0, sizeof *s);
  pthread_mutex_unlock(&g->mu);
}
