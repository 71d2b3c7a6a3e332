/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Injected faults (development mode): armed through POST /spoold/v1/dev/faults, each fires for
 * the next `count` matching requests or webhook deliveries and is then disarmed.
 *
 * Request faults run from the server's request hook before the route's handler: an answer
 * with the Graph error of the status (429 activityLimitReached, 503 serviceNotAvailable, 500
 * generalException; Retry-After on 429 and 503) in place of the handler, or a delay after which
 * the handler runs as usual. Paths are matched against the request path as sent (without the
 * query), ASCII case-insensitively: '*' stands for any characters but '/', '**' for any
 * characters. The control API itself is never faulted.
 */
#include "dev/dev-private.h"
#include "graph/reply.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "notify/notify.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_FAULTS 64
#define MAX_COUNT 1000000
#define MAX_DELAY_MS 60000

typedef enum { TARGET_REQUEST = 0, TARGET_WEBHOOK = 1 } target_t;

typedef struct fault {
  char           id[ID_GUID_LEN + 1];
  target_t       target;
  char          *method;      /* NULL: any */
  char          *path;        /* request path pattern, or webhook URL pattern; NULL: any */
  int            status;      /* 0: a delay fault */
  int            retry_after; /* seconds */
  int            delay_ms;
  notify_fault_t action;      /* webhook faults */
  long           remaining;
  int64_t        created_us;
} fault_t;

/* The injected faults (--dev only). Process globals on purpose: the hooks that fire them
 * (server_set_request_hook, notify_set_fault_hook) are the process's and take no argument. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static fault_t g_faults[MAX_FAULTS];
static size_t g_n;
static atomic_uint_fast64_t m_fired_status, m_fired_delay, m_fired_webhook;
static atomic_bool m_registered;

static const char *action_name(notify_fault_t a) {
  switch (a) {
    case NOTIFY_FAULT_FAIL: return "fail";
    case NOTIFY_FAULT_HANG: return "hang";
    case NOTIFY_FAULT_TWICE: return "deliverTwice";
    default: return "none";
  }
}

/* Glob match: '*' = any run without '/', '**' = any run; case-insensitive. */
static bool glob_match(const char *p, const char *s) {
  if (!*p) return !*s;
  if (p[0] == '*' && p[1] == '*') {
    for (const char *t = s;; t++) {
      if (glob_match(p + 2, t)) return true;
      if (!*t) return false;
    }
  }
  if (*p == '*') {
    for (const char *t = s;; t++) {
      if (glob_match(p + 1, t)) return true;
      if (!*t || *t == '/') return false;
    }
  }
  if (!*s || tolower((unsigned char)*p) != tolower((unsigned char)*s)) return false;
  return glob_match(p + 1, s + 1);
}

static json_t *fault_json(const fault_t *f) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(f->id));
  json_object_set_new(o, "target", json_string(f->target == TARGET_WEBHOOK ? "webhook" : "request"));
  if (f->target == TARGET_REQUEST) {
    json_object_set_new(o, "method", f->method ? json_string(f->method) : json_null());
    json_object_set_new(o, "path", f->path ? json_string(f->path) : json_null());
    if (f->status) {
      json_object_set_new(o, "status", json_integer(f->status));
      json_object_set_new(o, "retryAfter", json_integer(f->retry_after));
    } else {
      json_object_set_new(o, "delayMs", json_integer(f->delay_ms));
    }
  } else {
    json_object_set_new(o, "url", f->path ? json_string(f->path) : json_null());
    json_object_set_new(o, "action", json_string(action_name(f->action)));
  }
  json_object_set_new(o, "count", json_integer(f->remaining));
  char ts[TIME_ISO_LEN];
  time_format_iso(f->created_us, ts);
  json_object_set_new(o, "createdDateTime", json_string(ts));
  return o;
}

static void fault_free(fault_t *f) {
  free(f->method);
  free(f->path);
  memset(f, 0, sizeof *f);
}

/* Removes g_faults[i] (g_mu held). */
static void remove_at(size_t i) {
  fault_free(&g_faults[i]);
  memmove(&g_faults[i], &g_faults[i + 1], (g_n - i - 1) * sizeof *g_faults);
  g_n--;
  memset(&g_faults[g_n], 0, sizeof *g_faults);
}

static bool member_int(const json_t *body, const char *name, long lo, long hi, long *out,
                       char *err, size_t errlen) {
  json_t *v = json_object_get(body, name);
  if (!v) return true;
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
    snprintf(err, errlen, "'%s' must be a whole number from %ld to %ld", name, lo, hi);
    return false;
  }
  *out = (long)json_integer_value(v);
  return true;
}

static bool member_str(const json_t *body, const char *name, const char **out, char *err,
                       size_t errlen) {
  json_t *v = json_object_get(body, name);
  if (!v || json_is_null(v)) return true;
  if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 2048) {
    snprintf(err, errlen, "'%s' must be a non-empty string of at most 2048 characters", name);
    return false;
  }
  *out = json_string_value(v);
  return true;
}

/* See dev-private.h. */
json_t *dev_faults_add(const json_t *body, char *err, size_t errlen) {
  static const char *const known[] = {"target", "method", "path", "url", "status", "retryAfter",
                                      "delayMs", "count", "action", NULL};
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)body, key, val) {
    bool ok = false;
    for (size_t i = 0; known[i]; i++) ok = ok || strcmp(known[i], key) == 0;
    if (!ok) {
      snprintf(err, errlen, "'%s' is not a fault member (target, method, path, url, status, "
               "retryAfter, delayMs, count, action)", key);
      return NULL;
    }
  }
  fault_t f = {0};
  const char *target = "request", *method = NULL, *path = NULL, *url = NULL, *action = NULL;
  long status = 0, retry_after = -1, delay = -1, count = 1;
  if (!member_str(body, "target", &target, err, errlen) ||
      !member_str(body, "method", &method, err, errlen) ||
      !member_str(body, "path", &path, err, errlen) ||
      !member_str(body, "url", &url, err, errlen) ||
      !member_str(body, "action", &action, err, errlen) ||
      !member_int(body, "status", 100, 599, &status, err, errlen) ||
      !member_int(body, "retryAfter", 0, 86400, &retry_after, err, errlen) ||
      !member_int(body, "delayMs", 0, MAX_DELAY_MS, &delay, err, errlen) ||
      !member_int(body, "count", 1, MAX_COUNT, &count, err, errlen))
    return NULL;
  if (!strcmp(target, "request")) {
    f.target = TARGET_REQUEST;
    if (url || action) {
      snprintf(err, errlen, "'url' and 'action' are for webhook faults (\"target\": \"webhook\")");
      return NULL;
    }
    if ((status != 0) == (delay >= 0)) {
      snprintf(err, errlen, "a request fault needs exactly one of 'status' (429, 500 or 503) and "
               "'delayMs'");
      return NULL;
    }
    if (status && status != 429 && status != 500 && status != 503) {
      snprintf(err, errlen, "'status' must be 429 (activityLimitReached), 500 "
               "(generalException) or 503 (serviceNotAvailable), not %ld", status);
      return NULL;
    }
    if (!status && retry_after >= 0) {
      snprintf(err, errlen, "'retryAfter' goes with 'status' 429 or 503");
      return NULL;
    }
    if (method) {
      static const char *const methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "*",
                                            NULL};
      bool ok = false;
      for (size_t i = 0; methods[i]; i++) ok = ok || strcasecmp(methods[i], method) == 0;
      if (!ok) {
        snprintf(err, errlen, "'method' must be GET, POST, PATCH, PUT, DELETE, HEAD or *");
        return NULL;
      }
    }
    if (path && path[0] != '/') {
      snprintf(err, errlen, "'path' must start with '/' (for example "
               "\"/v1.0/print/shares/*/jobs\")");
      return NULL;
    }
    f.method = method && strcmp(method, "*") ? xstrdup(method) : NULL;
    for (char *p = f.method; p && *p; p++) *p = (char)toupper((unsigned char)*p);
    f.path = path ? xstrdup(path) : NULL;
    f.status = (int)status;
    f.retry_after = status == 429 || status == 503 ? (int)(retry_after >= 0 ? retry_after : 1) : 0;
    f.delay_ms = delay >= 0 ? (int)delay : 0;
  } else if (!strcmp(target, "webhook")) {
    f.target = TARGET_WEBHOOK;
    if (method || path || status || delay >= 0 || retry_after >= 0) {
      snprintf(err, errlen, "a webhook fault takes 'action', 'url' and 'count' only");
      return NULL;
    }
    if (!action) {
      snprintf(err, errlen, "a webhook fault needs 'action': fail, hang or deliverTwice");
      return NULL;
    }
    if (!strcmp(action, "fail")) f.action = NOTIFY_FAULT_FAIL;
    else if (!strcmp(action, "hang")) f.action = NOTIFY_FAULT_HANG;
    else if (!strcmp(action, "deliverTwice") || !strcmp(action, "twice")) f.action = NOTIFY_FAULT_TWICE;
    else {
      snprintf(err, errlen, "'action' must be fail, hang or deliverTwice, not '%s'", action);
      return NULL;
    }
    f.path = url ? xstrdup(url) : NULL;
  } else {
    snprintf(err, errlen, "'target' must be request or webhook, not '%s'", target);
    return NULL;
  }
  f.remaining = count;
  f.created_us = time_now_us();
  id_guid(f.id);
  pthread_mutex_lock(&g_mu);
  if (g_n == MAX_FAULTS) {
    pthread_mutex_unlock(&g_mu);
    fault_free(&f);
    snprintf(err, errlen, "at most %d faults can be armed at once; DELETE "
             "/spoold/v1/dev/faults clears them", MAX_FAULTS);
    return NULL;
  }
  g_faults[g_n++] = f;
  json_t *o = fault_json(&f);
  pthread_mutex_unlock(&g_mu);
  char *text = json_dumps(o, JSON_COMPACT);
  log_info("dev: fault %s armed: %s", f.id, text ? text : "");
  free(text);
  return o;
}

/* See dev-private.h. */
json_t *dev_faults_list(void) {
  json_t *arr = json_array();
  pthread_mutex_lock(&g_mu);
  for (size_t i = 0; i < g_n; i++) json_array_append_new(arr, fault_json(&g_faults[i]));
  pthread_mutex_unlock(&g_mu);
  json_t *o = json_object();
  json_object_set_new(o, "value", arr);
  return o;
}

/* See dev-private.h. */
size_t dev_faults_clear(const char *id) {
  size_t n = 0;
  pthread_mutex_lock(&g_mu);
  for (size_t i = g_n; i-- > 0;) {
    if (id && strcasecmp(g_faults[i].id, id) != 0) continue;
    remove_at(i);
    n++;
  }
  pthread_mutex_unlock(&g_mu);
  return n;
}

/* Takes one firing of the first request fault matching req into *out (copied strings are not
 * needed by the caller). */
static bool take_request_fault(const http_request_t *req, fault_t *out) {
  bool found = false;
  pthread_mutex_lock(&g_mu);
  for (size_t i = 0; i < g_n; i++) {
    fault_t *f = &g_faults[i];
    if (f->target != TARGET_REQUEST) continue;
    if (f->method && strcasecmp(f->method, req->method) != 0) continue;
    if (f->path && !glob_match(f->path, req->raw_path)) continue;
    *out = *f;
    out->method = out->path = NULL;
    found = true;
    if (--f->remaining == 0) remove_at(i);
    break;
  }
  pthread_mutex_unlock(&g_mu);
  return found;
}

/* The server's request hook. */
static bool request_hook(http_request_t *req, http_response_t *res) {
  /* the control API is never faulted; streamed bodies were already consumed */
  if (req->version == API_EXT && req->nsegs && strcasecmp(req->segs[0], "dev") == 0) return false;
  if (req->route && (req->route->flags & ROUTE_STREAM)) return false;
  fault_t f;
  if (!take_request_fault(req, &f)) return false;
  if (!f.status) {
    atomic_fetch_add(&m_fired_delay, 1);
    log_info("dev: fault %s delays %s %s by %d ms", f.id, req->method, req->raw_path, f.delay_ms);
    struct timespec ts = {f.delay_ms / 1000, (long)(f.delay_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    return false;
  }
  atomic_fetch_add(&m_fired_status, 1);
  log_info("dev: fault %s answers %s %s with %d", f.id, req->method, req->raw_path, f.status);
  if (f.status == 429) {
    graph_reply_error(req, res, 429, "activityLimitReached", NULL,
                      "Too many requests; retry after %d seconds.", f.retry_after);
  } else if (f.status == 503) {
    graph_reply_error(req, res, 503, "serviceNotAvailable", NULL,
                      "The service is temporarily unavailable; retry after %d seconds.",
                      f.retry_after);
  } else {
    graph_reply_error(req, res, 500, "generalException", NULL,
                      "An internal error occurred.");
  }
  if (f.retry_after) {
    char v[16];
    snprintf(v, sizeof v, "%d", f.retry_after);
    http_response_header(res, "Retry-After", v);
  }
  return true;
}

/* The delivery worker's hook. */
static notify_fault_t webhook_hook(const char *url) {
  notify_fault_t a = NOTIFY_FAULT_NONE;
  char id[40] = "";
  pthread_mutex_lock(&g_mu);
  for (size_t i = 0; i < g_n; i++) {
    fault_t *f = &g_faults[i];
    if (f->target != TARGET_WEBHOOK) continue;
    if (f->path && !glob_match(f->path, url)) continue;
    a = f->action;
    snprintf(id, sizeof id, "%s", f->id);
    if (--f->remaining == 0) remove_at(i);
    break;
  }
  pthread_mutex_unlock(&g_mu);
  if (a != NOTIFY_FAULT_NONE) {
    atomic_fetch_add(&m_fired_webhook, 1);
    log_info("dev: fault %s: %s for a delivery to %s", id, action_name(a), url);
  }
  return a;
}

static void faults_metrics(buf_t *out, void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_mu);
  size_t armed = g_n;
  pthread_mutex_unlock(&g_mu);
  buf_printf(out,
             "# HELP spoold_dev_faults_armed Injected faults armed (development mode).\n"
             "# TYPE spoold_dev_faults_armed gauge\n"
             "spoold_dev_faults_armed %zu\n"
             "# HELP spoold_dev_faults_fired_total Injected faults that fired.\n"
             "# TYPE spoold_dev_faults_fired_total counter\n"
             "spoold_dev_faults_fired_total{target=\"request\",kind=\"status\"} %llu\n"
             "spoold_dev_faults_fired_total{target=\"request\",kind=\"delay\"} %llu\n"
             "spoold_dev_faults_fired_total{target=\"webhook\",kind=\"action\"} %llu\n",
             armed, (unsigned long long)atomic_load(&m_fired_status),
             (unsigned long long)atomic_load(&m_fired_delay),
             (unsigned long long)atomic_load(&m_fired_webhook));
}

/* See dev-private.h. */
void dev_faults_install(bool on) {
  if (on && !atomic_exchange(&m_registered, true)) metrics_add_collector(faults_metrics, NULL);
  server_set_request_hook(on ? request_hook : NULL);
  notify_set_fault_hook(on ? webhook_hook : NULL);
  if (!on) dev_faults_clear(NULL);
}
