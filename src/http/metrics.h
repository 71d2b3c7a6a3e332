/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics: per-route request counts by status, latency
 * histograms, and collectors that other modules register (store commit
 * batches, open connections, webhook deliveries...). Thread-safe.
 */
#ifndef SPOOLD_HTTP_METRICS_H
#define SPOOLD_HTTP_METRICS_H

#include <stdint.h>

#include "util/buf.h"

/* Records one finished request. route is a static string (the route's name) or NULL. */
void metrics_http_observe(const char *route, int status, int64_t micros);
/* A collector appends Prometheus text (with # HELP / # TYPE lines) to out. */
typedef void (*metrics_collector_fn)(buf_t *out, void *arg);
/* Adds fn (called with arg at every render, under the registry's lock) to the collectors;
 * arg must outlive the registry. Beyond the fixed maximum, collectors are ignored. */
void metrics_add_collector(metrics_collector_fn fn, void *arg);
/* Renders every metric in the Prometheus text exposition format 0.0.4. */
void metrics_render(buf_t *out);
/* Forgets everything (tests). */
void metrics_reset(void);

#endif
