/* SPDX-License-Identifier: Apache-2.0 */
/* In-process metrics registry rendered in the Prometheus text format. */
#include "http/metrics.h"

#include <pthread.h>
#include <string.h>

#define MAX_ROUTES 256
#define MAX_STATUSES 16
#define MAX_COLLECTORS 16

/* Latency buckets in microseconds. */
static const int64_t BUCKETS_US[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
                                     100000, 250000, 500000, 1000000, 2500000};
#define NBUCKETS (sizeof BUCKETS_US / sizeof BUCKETS_US[0])

typedef struct route_stats {
  const char *route;
  int         status[MAX_STATUSES];
  uint64_t    count[MAX_STATUSES];
  size_t      nstatus;
  uint64_t    bucket[NBUCKETS];
  uint64_t    observations;
  int64_t     sum_us;
} route_stats_t;

/* The Prometheus registry. Process globals on purpose: /metrics describes the process, and the
 * modules that count (every route, the store, the IPP endpoint) register without a context. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static route_stats_t g_routes[MAX_ROUTES];
static size_t g_nroutes;
static struct {
  metrics_collector_fn fn;
  void *arg;
} g_collectors[MAX_COLLECTORS];
static size_t g_ncollectors;

void metrics_http_observe(const char *route, int status, int64_t micros) {
  if (!route) route = "unmatched";
  pthread_mutex_lock(&g_lock);
  route_stats_t *rs = NULL;
  for (size_t i = 0; i < g_nroutes && !rs; i++)
    if (g_routes[i].route == route || strcmp(g_routes[i].route, route) == 0) rs = &g_routes[i];
  if (!rs && g_nroutes < MAX_ROUTES) {
    rs = &g_routes[g_nroutes++];
    memset(rs, 0, sizeof *rs);
    rs->route = route;
  }
  if (rs) {
    size_t k = 0;
    while (k < rs->nstatus && rs->status[k] != status) k++;
    if (k == rs->nstatus && k < MAX_STATUSES) rs->status[rs->nstatus++] = status;
    if (k < rs->nstatus) rs->count[k]++;
    for (size_t b = 0; b < NBUCKETS; b++)
      if (micros <= BUCKETS_US[b]) rs->bucket[b]++;
    rs->observations++;
    rs->sum_us += micros;
  }
  pthread_mutex_unlock(&g_lock);
}

void metrics_add_collector(metrics_collector_fn fn, void *arg) {
  pthread_mutex_lock(&g_lock);
  if (g_ncollectors < MAX_COLLECTORS) {
    g_collectors[g_ncollectors].fn = fn;
    g_collectors[g_ncollectors].arg = arg;
    g_ncollectors++;
  }
  pthread_mutex_unlock(&g_lock);
}

void metrics_render(buf_t *out) {
  pthread_mutex_lock(&g_lock);
  buf_puts(out, "# HELP spoold_http_requests_total HTTP requests by route and status.\n"
                "# TYPE spoold_http_requests_total counter\n");
  for (size_t i = 0; i < g_nroutes; i++)
    for (size_t k = 0; k < g_routes[i].nstatus; k++)
      buf_printf(out, "spoold_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                 g_routes[i].route, g_routes[i].status[k],
                 (unsigned long long)g_routes[i].count[k]);
  buf_puts(out, "# HELP spoold_http_request_duration_seconds Time from request start to "
                "response, by route.\n"
                "# TYPE spoold_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < g_nroutes; i++) {
    const route_stats_t *rs = &g_routes[i];
    for (size_t b = 0; b < NBUCKETS; b++)
      buf_printf(out, "spoold_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                 rs->route, (double)BUCKETS_US[b] / 1e6, (unsigned long long)rs->bucket[b]);
    buf_printf(out,
               "spoold_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
               "spoold_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
               "spoold_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
               rs->route, (unsigned long long)rs->observations, rs->route,
               (double)rs->sum_us / 1e6, rs->route, (unsigned long long)rs->observations);
  }
  size_t n = g_ncollectors;
  pthread_mutex_unlock(&g_lock);
  for (size_t i = 0; i < n; i++) g_collectors[i].fn(out, g_collectors[i].arg);
}

void metrics_reset(void) {
  pthread_mutex_lock(&g_lock);
  g_nroutes = 0;
  g_ncollectors = 0;
  pthread_mutex_unlock(&g_lock);
}
