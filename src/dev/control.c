/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The development control API: /spoold/v1/dev/... (see dev.h and docs/spoold-dev.md).
 *
 * Every handler runs the same steps as a Graph handler, with one difference: a caller who may
 * not use the control API (no token, a token of a trusted production issuer, no Printer
 * Administrator role, a suspended tenant) gets the 404 an unknown path gets, so the API cannot
 * be discovered. Every action is logged with the caller and counted in /metrics.
 */
#include "dev/dev.h"
#include "app.h"
#include "auth/dev.h"
#include "auth/identity.h"
#include "dev/dev-private.h"
#include "graph/authorize.h"
#include "graph/documents.h"
#include "graph/json.h"
#include "graph/reply.h"
#include "http/metrics.h"
#include "http/router.h"
#include "ipp/ipp.h"
#include "notify/notify.h"
#include "store/store.h"
#include "sweeper.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- counters ------------------------------------------------------------------------------- */

static const char *const ACTIONS[] = {
    "clock.get", "clock.advance", "faults.add", "faults.list", "faults.clear",
    "tenants.reset", "tenants.seed", "simulation.set", "simulation.get", "simulation.remove",
};
#define NACTIONS (sizeof ACTIONS / sizeof ACTIONS[0])
/* Counters for /metrics (process-wide, as every counter of the registry in http/metrics.c). */
static unsigned long long g_counts[NACTIONS];
static pthread_mutex_t g_count_mu = PTHREAD_MUTEX_INITIALIZER;

/* See dev-private.h. */
void dev_count_action(const char *action) {
  pthread_mutex_lock(&g_count_mu);
  for (size_t i = 0; i < NACTIONS; i++)
    if (!strcmp(ACTIONS[i], action)) g_counts[i]++;
  pthread_mutex_unlock(&g_count_mu);
}

static void actions_metrics(buf_t *out, void *arg) {
  (void)arg;
  buf_puts(out, "# HELP spoold_dev_actions_total Development control API actions.\n"
                "# TYPE spoold_dev_actions_total counter\n");
  pthread_mutex_lock(&g_count_mu);
  for (size_t i = 0; i < NACTIONS; i++)
    buf_printf(out, "spoold_dev_actions_total{action=\"%s\"} %llu\n", ACTIONS[i], g_counts[i]);
  pthread_mutex_unlock(&g_count_mu);
  buf_printf(out,
             "# HELP spoold_dev_clock_offset_seconds How far the service clock is ahead of the "
             "real time.\n"
             "# TYPE spoold_dev_clock_offset_seconds gauge\n"
             "spoold_dev_clock_offset_seconds %.6f\n",
             (double)time_offset_us() / 1e6);
}

/* ---- the gate ------------------------------------------------------------------------------- */

static void not_found(http_request_t *req, http_response_t *res) {
  graph_reply_error(req, res, 404, "itemNotFound", NULL, "No resource matches the path '%s'.",
                    req->raw_path);
}

/* The caller when it may use the control API; NULL after answering 404 (or 503 when the
 * tenant could not be checked). */
static const caller_t *dev_gate(http_request_t *req, http_response_t *res) {
  const caller_t *c = NULL;
  char why[512];
  if (graph_request_caller(req, &c, why, sizeof why) != AUTH_OK) {
    not_found(req, res);
    return NULL;
  }
  if (!c->issuer || strcmp(c->issuer, DEV_ISSUER) != 0 ||
      !caller_has_wid(c, CALLER_WID_PRINTER_ADMIN)) {
    not_found(req, res);
    return NULL;
  }
  int rc = graph_check_tenant(req, res, c, why, sizeof why);
  if (rc == AUTH_TENANT_ERROR) return NULL;
  if (rc != AUTH_TENANT_ACTIVE) {
    not_found(req, res);
    return NULL;
  }
  return c;
}

/* Logs one control action. */
static void audit(const http_request_t *req, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void audit(const http_request_t *req, const char *action, const char *fmt, ...) {
  dev_count_action(action);
  char detail[512] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
  }
  const caller_t *c = req->caller;
  log_info("dev: %s by %s in tenant %s%s%s", action, c && c->user_id ? c->user_id : "-",
           c ? c->tenant : "-", *detail ? ": " : "", detail);
}

/* ---- clock ---------------------------------------------------------------------------------- */

static json_t *clock_json(void) {
  char ts[TIME_ISO_LEN];
  time_format_iso(time_now_us(), ts);
  json_t *o = json_object();
  json_object_set_new(o, "now", json_string(ts));
  json_object_set_new(o, "offsetSeconds", json_real((double)time_offset_us() / 1e6));
  return o;
}

/* GET /spoold/v1/dev/clock: {"now", "offsetSeconds"}. */
static void clock_get(http_request_t *req, http_response_t *res) {
  if (!dev_gate(req, res)) return;
  audit(req, "clock.get", NULL);
  graph_reply_json(req, res, 200, clock_json());
}

/* POST /spoold/v1/dev/clock {"advanceBy": "PT72H"} or {"now": "..."}: moves the service
 * clock forward, runs the sweeps that are due at the new time, answers {"now", ...,
 * "swept": {...}}. */
/* How far the clock body asks to move it (advanceBy, or now minus the service clock) into
 * *delta; false after replying 400. */
static bool clock_delta(http_request_t *req, http_response_t *res, json_t *body, int64_t *delta) {
  json_t *by = json_object_get(body, "advanceBy"), *to = json_object_get(body, "now");
  const char *key;
  json_t *val;
  json_object_foreach(body, key, val) {
    if (strcmp(key, "advanceBy") && strcmp(key, "now")) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "'%s' is not a clock member; give 'advanceBy' (an ISO 8601 duration) or "
                        "'now' (an ISO 8601 date-time).", key);
      return false;
    }
  }
  if (!by == !to) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Give exactly one of 'advanceBy' (an ISO 8601 duration such as PT72H) and "
                      "'now' (an ISO 8601 date-time).");
    return false;
  }
  if (by) {
    char err[256];
    if (!json_is_string(by) || !time_parse_duration(json_string_value(by), delta, err, sizeof err)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL, "'advanceBy': %s.",
                        json_is_string(by) ? err : "must be a string such as \"PT72H\"");
      return false;
    }
    if (*delta <= 0) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "'advanceBy' must be longer than zero.");
      return false;
    }
    return true;
  }
  int64_t target;
  if (!json_is_string(to) || !time_parse_iso(json_string_value(to), &target)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "'now' must be an ISO 8601 date-time such as 2030-01-01T00:00:00Z.");
    return false;
  }
  *delta = target - time_now_us();
  if (*delta <= 0) {
    char cur[TIME_ISO_LEN];
    time_format_iso(time_now_us(), cur);
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "The clock only moves forward: 'now' must be later than %s.", cur);
    return false;
  }
  return true;
}

static void clock_post(http_request_t *req, http_response_t *res) {
  if (!dev_gate(req, res)) return;
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  int64_t delta = 0;
  bool ok = clock_delta(req, res, body, &delta);
  json_decref(body);
  if (!ok) return;
  time_advance_us(delta);
  app_t *app = APP(req);
  size_t expired = 0, archived = 0;
  sweeper_run_now(app->sweeper, &expired, &archived);
  if (app->blobs) graph_documents_sweep_now(app);
  unsigned removed = notify_delivery_sweep_now(app->delivery);
  json_t *o = clock_json();
  json_t *swept = json_object();
  json_object_set_new(swept, "jobsAborted", json_integer((json_int_t)expired));
  json_object_set_new(swept, "jobsArchived", json_integer((json_int_t)archived));
  json_object_set_new(swept, "subscriptionsRemoved", json_integer(removed));
  json_object_set_new(o, "swept", swept);
  audit(req, "clock.advance", "by %.3f s to %s; %zu held job(s) aborted, %zu job(s) archived, "
        "%u subscription(s) removed", (double)delta / 1e6,
        json_string_value(json_object_get(o, "now")), expired, archived, removed);
  graph_reply_json(req, res, 200, o);
}

/* ---- faults --------------------------------------------------------------------------------- */

/* POST /spoold/v1/dev/faults: arms a fault; 201 with it. */
static void faults_post(http_request_t *req, http_response_t *res) {
  if (!dev_gate(req, res)) return;
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  char err[512];
  json_t *f = dev_faults_add(body, err, sizeof err);
  json_decref(body);
  if (!f) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s.", err);
    return;
  }
  audit(req, "faults.add", "%s", json_string_value(json_object_get(f, "id")));
  graph_reply_json(req, res, 201, f);
}

/* GET /spoold/v1/dev/faults: {"value": [armed faults]}. */
static void faults_get(http_request_t *req, http_response_t *res) {
  if (!dev_gate(req, res)) return;
  audit(req, "faults.list", NULL);
  graph_reply_json(req, res, 200, dev_faults_list());
}

/* DELETE /spoold/v1/dev/faults: disarms every fault; 204. */
static void faults_delete(http_request_t *req, http_response_t *res) {
  if (!dev_gate(req, res)) return;
  size_t n = dev_faults_clear(NULL);
  audit(req, "faults.clear", "%zu fault(s) disarmed", n);
  graph_reply_no_content(res);
}

/* DELETE /spoold/v1/dev/faults/{id}: disarms one; 204, or 404 when it is not armed. */
static void fault_delete(http_request_t *req, http_response_t *res) {
  if (!dev_gate(req, res)) return;
  if (dev_faults_clear(req->params[0]) == 0) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "No armed fault has id '%s'.",
                      req->params[0]);
    return;
  }
  audit(req, "faults.clear", "%s", req->params[0]);
  graph_reply_no_content(res);
}

/* ---- tenants -------------------------------------------------------------------------------- */

/* The {tid} of a tenant route when it is the caller's tenant; NULL after a 404. */
static const char *own_tenant(http_request_t *req, http_response_t *res, const caller_t *c) {
  const char *tid = req->params[0];
  if (strcasecmp(tid, c->tenant) != 0) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Tenant '%s' is not the tenant of the token (%s).", tid, c->tenant);
    return NULL;
  }
  return c->tenant;
}

/* POST /spoold/v1/dev/tenants/{tid}/reset: removes every row of the tenant and creates it
 * again empty and active; 204. */
static void tenant_reset(http_request_t *req, http_response_t *res) {
  const caller_t *c = dev_gate(req, res);
  if (!c) return;
  const char *tid = own_tenant(req, res, c);
  if (!tid) return;
  app_t *app = APP(req);
  dev_sim_remove_tenant(tid);
  store_rc_t rc = store_tenant_remove(app->store, tid);
  if (rc == STORE_OK || rc == STORE_NOT_FOUND) rc = store_tenant_ensure(app->store, tid);
  auth_tenant_forget(app->auth, tid);
  if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
    return;
  }
  audit(req, "tenants.reset", "%s", tid);
  graph_reply_no_content(res);
}

/* POST /spoold/v1/dev/tenants/{tid}/seed + fixture: replaces the tenant's content with the
 * fixture; 200 with the ids made, by section and key. */
static void tenant_seed(http_request_t *req, http_response_t *res) {
  const caller_t *c = dev_gate(req, res);
  if (!c) return;
  const char *tid = own_tenant(req, res, c);
  if (!tid) return;
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  app_t *app = APP(req);
  int status = 0;
  char err[512] = "";
  json_t *ids = dev_seed(app, tid, body, &status, err, sizeof err);
  json_decref(body);
  auth_tenant_forget(app->auth, tid);
  if (!ids) {
    graph_reply_error(req, res, status, status == 400 ? "invalidRequest" : "generalException",
                      NULL, "%s.", err);
    return;
  }
  audit(req, "tenants.seed", "%s", tid);
  graph_reply_json(req, res, 200, ids);
}

/* ---- simulated printers --------------------------------------------------------------------- */

/* POST /spoold/v1/dev/printers/{id}/simulation: simulates the printer with the behaviour in the
 * body (merged over the current one); 200 with the simulation. */
static void simulation_post(http_request_t *req, http_response_t *res) {
  const caller_t *c = dev_gate(req, res);
  if (!c) return;
  json_t *body = graph_json_body(req, res, true);
  if (!body) return;
  int status = 0;
  char err[512] = "";
  json_t *o = dev_sim_set(APP(req), c->tenant, req->params[0], body, &status, err, sizeof err);
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!o) {
    if (status == 404)
      graph_reply_error(req, res, 404, "itemNotFound", NULL, "No printer has id '%s'.",
                        req->params[0]);
    else
      graph_reply_error(req, res, status ? status : 500,
                        status == 400 ? "invalidRequest" : "generalException", NULL, "%s.",
                        *err ? err : "The simulation could not be started");
    free(text);
    return;
  }
  audit(req, "simulation.set", "printer %s: %s", req->params[0], text ? text : "");
  free(text);
  graph_reply_json(req, res, 200, o);
}

/* GET /spoold/v1/dev/printers/{id}/simulation: 200 with the simulation, 404 when the printer
 * is not simulated. */
static void simulation_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = dev_gate(req, res);
  if (!c) return;
  json_t *o = dev_sim_get(c->tenant, req->params[0]);
  if (!o) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Printer '%s' has no simulated device.", req->params[0]);
    return;
  }
  audit(req, "simulation.get", "printer %s", req->params[0]);
  graph_reply_json(req, res, 200, o);
}

/* DELETE /spoold/v1/dev/printers/{id}/simulation: stops simulating the printer; 204. */
static void simulation_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = dev_gate(req, res);
  if (!c) return;
  if (!dev_sim_remove(c->tenant, req->params[0])) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Printer '%s' has no simulated device.", req->params[0]);
    return;
  }
  audit(req, "simulation.remove", "printer %s", req->params[0]);
  graph_reply_no_content(res);
}

/* ---- registration --------------------------------------------------------------------------- */

#define EXT_JSON (ROUTE_EXT | ROUTE_JSON_BODY)
static route_t ROUTES[] = {
    ROUTE("GET", "/dev/clock", clock_get, ROUTE_EXT, "dev.clock.get"),
    ROUTE("POST", "/dev/clock", clock_post, EXT_JSON, "dev.clock.advance"),
    ROUTE("GET", "/dev/faults", faults_get, ROUTE_EXT, "dev.faults.list"),
    ROUTE("POST", "/dev/faults", faults_post, EXT_JSON, "dev.faults.add"),
    ROUTE("DELETE", "/dev/faults", faults_delete, ROUTE_EXT, "dev.faults.clear"),
    ROUTE("DELETE", "/dev/faults/{id}", fault_delete, ROUTE_EXT, "dev.faults.remove"),
    ROUTE("POST", "/dev/tenants/{tid}/reset", tenant_reset, EXT_JSON, "dev.tenants.reset"),
    ROUTE("POST", "/dev/tenants/{tid}/seed", tenant_seed, EXT_JSON, "dev.tenants.seed"),
    ROUTE("GET", "/dev/printers/{id}/simulation", simulation_get, ROUTE_EXT,
          "dev.simulation.get"),
    ROUTE("POST", "/dev/printers/{id}/simulation", simulation_post, EXT_JSON,
          "dev.simulation.set"),
    ROUTE("DELETE", "/dev/printers/{id}/simulation", simulation_delete, ROUTE_EXT,
          "dev.simulation.remove"),
};

/* See dev.h. */
void dev_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }

/* The app the development control API was started for (--dev only: once per process; the
 * fault hooks it installs are process-wide too). */
static app_t *g_app;

/* See dev.h. */
int dev_start(app_t *app, char **err) {
  static bool registered;
  if (!registered) {
    metrics_add_collector(actions_metrics, NULL);
    registered = true;
  }
  g_app = app;
  dev_faults_install(true);
  if (dev_sim_start(app, app->cfg->simulate_printers, err) != 0) {
    dev_faults_install(false);
    return -1;
  }
  log_info("dev: control API at /spoold/v1/dev/%s",
           app->cfg->simulate_printers ? "; every printer is simulated" : "");
  return 0;
}

/* See dev.h. */
void dev_stop(void) {
  if (!g_app) return;
  dev_sim_stop();
  dev_faults_install(false);
  g_app = NULL;
}
