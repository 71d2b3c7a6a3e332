/* SPDX-License-Identifier: Apache-2.0 */
/* /healthz, /readyz, /metrics and the development-only /debug/sleep. */
#include "health.h"
#include "app.h"
#include "graph/reply.h"
#include "http/metrics.h"
#include "http/router.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

/* Below this much free space in the data directory the server reports itself not ready. */
#define READY_MIN_FREE_BYTES (1024ull * 1024)

static void text_reply(http_response_t *res, int status, const char *type, buf_t *b) {
  size_t len = b->len;
  http_response_body(res, status, type, buf_detach(b), len);
  http_response_header(res, "Cache-Control", "no-store");
}

/* GET /healthz: the process is up and serving. */
static void healthz(http_request_t *req, http_response_t *res) {
  (void)req;
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"status\":\"ok\"}");
  text_reply(res, 200, "application/json", &b);
}

/* GET /readyz: the store answers and can write; 503 otherwise. It cannot write while the data
 * directory has less than READY_MIN_FREE_BYTES free, or after a write failed for space until a
 * probe write (tried here) commits: so readiness comes back by itself once space is freed. */
static void readyz(http_request_t *req, http_response_t *res) {
  app_t *app = APP(req);
  if (!store_ping(app->store)) {
    http_response_header(res, "Retry-After", "5");
    graph_reply_error(req, res, 503, "serviceNotAvailable", NULL, "The store is not reachable.");
    return;
  }
  struct statvfs vfs;
  const char *dir = app->cfg ? app->cfg->data_dir : NULL;
  bool low = dir && statvfs(dir, &vfs) == 0 &&
             (unsigned long long)vfs.f_bavail * vfs.f_frsize < READY_MIN_FREE_BYTES;
  if (low || (store_full(app->store) && !store_probe_write(app->store))) {
    http_response_header(res, "Retry-After", "30");
    graph_reply_error(req, res, 503, "serviceNotAvailable", NULL,
                      "The store cannot write: no storage space is left%s.",
                      low ? " in the data directory" : "");
    return;
  }
  buf_t b = BUF_INIT;
  buf_printf(&b, "{\"status\":\"ready\",\"schemaVersion\":%d}", store_schema_version(app->store));
  text_reply(res, 200, "application/json", &b);
}

/* GET /metrics: Prometheus text exposition. */
static void metrics(http_request_t *req, http_response_t *res) {
  (void)req;
  buf_t b = BUF_INIT;
  metrics_render(&b);
  text_reply(res, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

/* GET /debug/sleep?ms=N (development mode only): a slow request that holds its thread, for the
 * shutdown and --threads tests. It answers when its sleep started and ended (time_mono_us), from
 * which a test counts the requests served at once. */
static void debug_sleep(http_request_t *req, http_response_t *res) {
  const char *v = http_request_query(req, "ms");
  char *end = NULL;
  long ms = v ? strtol(v, &end, 10) : -1;
  if (!v || *end || ms < 0 || ms > 60000) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Query parameter 'ms' must be a whole number from 0 to 60000.");
    return;
  }
  /* the tests that stop a server under a slow request wait for this line */
  log_info("debug: /debug/sleep sleeping %ld ms", ms);
  int64_t started = time_mono_us();
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
  buf_t b = BUF_INIT;
  buf_printf(&b, "{\"slept\":%ld,\"startedUs\":%lld,\"endedUs\":%lld}", ms, (long long)started,
             (long long)time_mono_us());
  text_reply(res, 200, "application/json", &b);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/healthz", healthz, 0, "healthz"),
    ROUTE("GET", "/readyz", readyz, 0, "readyz"),
    ROUTE("GET", "/metrics", metrics, 0, "metrics"),
};

static route_t DEBUG_ROUTES[] = {
    ROUTE("GET", "/debug/sleep", debug_sleep, 0, "debug.sleep"),
};

void health_register(bool dev) {
  router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]);
  if (dev) router_add(DEBUG_ROUTES, sizeof DEBUG_ROUTES / sizeof DEBUG_ROUTES[0]);
}
