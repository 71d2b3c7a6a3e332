/* SPDX-License-Identifier: Apache-2.0 */
/* Sliding-window activity limits: a hash table of keys, each with a ring of event times. */
#include "util/ratelimit.h"

#include "util/buf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RL_BUCKETS_MIN 64

typedef struct rl_entry {
  struct rl_entry *next;
  unsigned         cls;
  uint64_t         hash;
  char            *name;
  int64_t         *times; /* ring of event times, oldest at head */
  size_t           cap, head, count;
} rl_entry_t;

struct ratelimit {
  pthread_mutex_t    mu;
  ratelimit_class_t *classes;
  size_t             nclasses;
  rl_entry_t       **buckets;
  size_t             nbuckets;
  size_t             nentries;
  uint64_t           takes;   /* for the periodic sweep */
};

static uint64_t rl_hash(unsigned cls, const char *s) {
  uint64_t h = 1469598103934665603ull ^ cls; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

ratelimit_t *ratelimit_new(const ratelimit_class_t *classes, size_t n) {
  ratelimit_t *rl = xcalloc(1, sizeof *rl);
  pthread_mutex_init(&rl->mu, NULL);
  rl->classes = xcalloc(n ? n : 1, sizeof *rl->classes);
  if (n) memcpy(rl->classes, classes, n * sizeof *classes);
  rl->nclasses = n;
  rl->nbuckets = RL_BUCKETS_MIN;
  rl->buckets = xcalloc(rl->nbuckets, sizeof *rl->buckets);
  return rl;
}

static void entry_free(rl_entry_t *e) {
  free(e->name);
  free(e->times);
  free(e);
}

void ratelimit_free(ratelimit_t *rl) {
  if (!rl) return;
  for (size_t i = 0; i < rl->nbuckets; i++) {
    rl_entry_t *e = rl->buckets[i];
    while (e) {
      rl_entry_t *next = e->next;
      entry_free(e);
      e = next;
    }
  }
  free(rl->buckets);
  free(rl->classes);
  pthread_mutex_destroy(&rl->mu);
  free(rl);
}

/* Drops the events of e that left the window ending at now. */
static void entry_expire(rl_entry_t *e, int64_t window_us, int64_t now) {
  while (e->count && e->times[e->head] <= now - window_us) {
    e->head = (e->head + 1) % e->cap;
    e->count--;
  }
}

static rl_entry_t *entry_find(ratelimit_t *rl, unsigned cls, const char *name, uint64_t h) {
  for (rl_entry_t *e = rl->buckets[h % rl->nbuckets]; e; e = e->next)
    if (e->hash == h && e->cls == cls && strcmp(e->name, name) == 0) return e;
  return NULL;
}

static void table_resize(ratelimit_t *rl, size_t nbuckets) {
  rl_entry_t **b = xcalloc(nbuckets, sizeof *b);
  for (size_t i = 0; i < rl->nbuckets; i++) {
    rl_entry_t *e = rl->buckets[i];
    while (e) {
      rl_entry_t *next = e->next;
      e->next = b[e->hash % nbuckets];
      b[e->hash % nbuckets] = e;
      e = next;
    }
  }
  free(rl->buckets);
  rl->buckets = b;
  rl->nbuckets = nbuckets;
}

/* Removes every entry whose events have all left their window. */
static void table_sweep(ratelimit_t *rl, int64_t now) {
  for (size_t i = 0; i < rl->nbuckets; i++) {
    rl_entry_t **pp = &rl->buckets[i];
    while (*pp) {
      rl_entry_t *e = *pp;
      entry_expire(e, rl->classes[e->cls].window_us, now);
      if (e->count == 0) {
        *pp = e->next;
        entry_free(e);
        rl->nentries--;
      } else {
        pp = &e->next;
      }
    }
  }
}

static void entry_push(rl_entry_t *e, unsigned limit, int64_t now) {
  if (e->count == e->cap && e->cap >= limit) { /* the same key twice in one take */
    e->head = (e->head + 1) % e->cap;
    e->count--;
  }
  if (e->count == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 4;
    if (cap > limit) cap = limit;
    int64_t *t = xmalloc(cap * sizeof *t);
    for (size_t i = 0; i < e->count; i++) t[i] = e->times[(e->head + i) % e->cap];
    free(e->times);
    e->times = t;
    e->cap = cap;
    e->head = 0;
  }
  e->times[(e->head + e->count) % e->cap] = now;
  e->count++;
}

bool ratelimit_take(ratelimit_t *rl, const ratelimit_key_t *keys, size_t nkeys, int64_t now_us,
                    int64_t *retry_us, size_t *refused) {
  pthread_mutex_lock(&rl->mu);
  /* Sweep now and then so keys that went quiet do not pile up. */
  if (++rl->takes % 1024 == 0) table_sweep(rl, now_us);
  if (rl->nentries > 2 * rl->nbuckets) table_resize(rl, rl->nbuckets * 2);

  bool ok = true;
  int64_t wait = 0;
  for (size_t i = 0; i < nkeys; i++) {
    const ratelimit_key_t *k = &keys[i];
    if (k->cls >= rl->nclasses || !k->name) continue;
    const ratelimit_class_t *c = &rl->classes[k->cls];
    if (c->limit == 0) continue;
    rl_entry_t *e = entry_find(rl, k->cls, k->name, rl_hash(k->cls, k->name));
    if (!e) continue;
    entry_expire(e, c->window_us, now_us);
    if (e->count < c->limit) continue;
    /* Full: room again when the oldest events leave the window. */
    int64_t w = e->times[(e->head + e->count - c->limit) % e->cap] + c->window_us - now_us;
    if (ok && refused) *refused = i;
    ok = false;
    if (w > wait) wait = w;
  }
  if (!ok) {
    if (retry_us) *retry_us = wait > 0 ? wait : 1;
    pthread_mutex_unlock(&rl->mu);
    return false;
  }
  for (size_t i = 0; i < nkeys; i++) {
    const ratelimit_key_t *k = &keys[i];
    if (k->cls >= rl->nclasses || !k->name || rl->classes[k->cls].limit == 0) continue;
    uint64_t h = rl_hash(k->cls, k->name);
    rl_entry_t *e = entry_find(rl, k->cls, k->name, h);
    if (!e) {
      e = xcalloc(1, sizeof *e);
      e->cls = k->cls;
      e->hash = h;
      e->name = xstrdup(k->name);
      e->next = rl->buckets[h % rl->nbuckets];
      rl->buckets[h % rl->nbuckets] = e;
      rl->nentries++;
    }
    entry_push(e, rl->classes[k->cls].limit, now_us);
  }
  if (retry_us) *retry_us = 0;
  pthread_mutex_unlock(&rl->mu);
  return true;
}

size_t ratelimit_size(ratelimit_t *rl) {
  pthread_mutex_lock(&rl->mu);
  size_t n = rl->nentries;
  pthread_mutex_unlock(&rl->mu);
  return n;
}
