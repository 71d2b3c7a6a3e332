/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delivery worker: one thread driving a libcurl multi handle that POSTs the outbox's due
 * rows to their webhooks, many at a time.
 *
 * - At-least-once: a row is deleted only after a 2xx answer (store_outbox_settle). A crash or
 *   a stop leaves rows in the outbox; the next start delivers them.
 * - Isolation: at most per_endpoint deliveries to one URL run at once, and due rows are taken
 *   endpoint by endpoint (store_outbox_due), so a slow or dead endpoint holds at most
 *   per_endpoint of the max_inflight slots and never the rows of other endpoints.
 * - Retries: a failed attempt (not 2xx, transport error, or no answer within timeout_ms) is
 *   retried after notify_backoff_us() (1 s, 2 s, 4 s, ... up to 10 min, plus jitter) until
 *   max_age_us after the row was created; then the row is dropped with a log line, the
 *   dropped counter and, for change notifications, a `missed` lifecycle notification.
 * - Wake-up: the store calls the listener after every commit that queued rows; the listener
 *   sets a flag under the mutex and calls curl_multi_wakeup(), which interrupts the worker's
 *   curl_multi_poll() (the multi handle's poll is the worker's only wait, so it plays the role
 *   of a condition variable wait). Without wake-ups the worker still looks at the earliest
 *   due time of a scheduled retry and at least once a second (MAX_WAIT_MS), which also finds
 *   rows committed by another process sharing the database.
 * - Several processes on one database (PostgreSQL): each look claims its rows in a write
 *   transaction (FOR UPDATE SKIP LOCKED) with a lease of the delivery timeout plus
 *   NOTIFY_LEASE_MARGIN_US (store_outbox_due), so one process delivers each attempt; if it
 *   dies, the row is due again when the lease ends and another process delivers it. Outcomes
 *   are recorded only while the lease is still this process's.
 * - Expiry: every sweep_interval_us the worker removes expired subscriptions
 *   (store_subscription_sweep), which queues their subscriptionRemoved notifications.
 */
#include "notify/notify.h"
#include "http/metrics.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEF_MAX_INFLIGHT 32
#define DEF_PER_ENDPOINT 4
#define DEF_TIMEOUT_MS   3000
#define DEF_RETRY_BASE   (1000LL * 1000)
#define DEF_RETRY_CAP    (600LL * 1000 * 1000)
#define DEF_MAX_AGE      (4LL * 3600 * 1000 * 1000)
#define DEF_SWEEP        (1000LL * 1000)
#define MAX_INFLIGHT_CAP 1024
/* Longest sleep between looks at the outbox, whatever the schedule says. */
#define MAX_WAIT_MS      1000

/* Process-wide counters for /metrics: globals on purpose, since the registry (http/metrics.c)
 * is the process's and the counters outlive a worker stopped and started again. */
static atomic_uint_fast64_t m_delivered, m_failed, m_dropped, m_missed, m_removed, m_wakeups;
static atomic_int m_inflight;
static atomic_bool m_registered;

/* One delivery in progress. */
typedef struct xfer {
  bool                used;
  CURL               *easy;
  struct curl_slist  *headers;
  char                errbuf[CURL_ERROR_SIZE];
  char               *id;
  char               *url;
  char               *payload;
  store_outbox_kind_t kind;
  int64_t             created_us;
  int                 attempts;
  int64_t             claim_us;  /* the lease on the row (shared database), else 0 */
  webhook_guard_t     guard;  /* where this transfer may connect */
  notify_fault_t      fault;     /* injected (development mode): FAIL or HANG, not sent */
  int64_t             fault_due; /* when the injected failure is settled */
} xfer_t;

/* The second copy of a notification delivered twice (NOTIFY_FAULT_TWICE): its own handle. */
typedef struct dup_xfer {
  struct curl_slist *headers;
  char              *payload;
  webhook_guard_t    guard;
} dup_xfer_t;

/* The development fault hook (dev/faults.c, --dev only): a process global on purpose, like the
 * request hook of http/server.c, set once at start and cleared at stop. */
static _Atomic(notify_fault_hook_fn) g_fault_hook;

/* Sets the fault hook (see notify.h). */
void notify_set_fault_hook(notify_fault_hook_fn fn) { atomic_store(&g_fault_hook, fn); }

struct notify_delivery {
  notify_delivery_config_t cfg;
  pthread_t       thread;
  pthread_mutex_t mu;
  bool            stop;   /* guarded by mu */
  bool            woken;  /* guarded by mu: a commit queued rows since the last look */
  CURLM          *multi;
  xfer_t         *xfers;  /* cfg.max_inflight slots; only the worker thread touches them */
  unsigned        ninflight;
  bool            started_any;  /* the worker took rows during the current look */
  bool            settle_failed;/* the last outcomes could not be recorded */
};

/* ---- back-off ---------------------------------------------------------------------------- */

/* The delay before retry number `failures` (see notify.h). */
int64_t notify_backoff_us(unsigned failures, int64_t base_us, int64_t cap_us, uint32_t rnd) {
  if (base_us <= 0) base_us = 1;
  if (cap_us < base_us) cap_us = base_us;
  int64_t limit = cap_us - cap_us / 5;  /* room for the jitter (at most a quarter) */
  if (limit < 1) limit = 1;
  int64_t d = base_us;
  for (unsigned i = 1; i < failures && d < limit; i++) d = d > limit / 2 ? limit : d * 2;
  if (d > limit) d = limit;
  int64_t jitter = (int64_t)(rnd % (uint64_t)(d / 4 + 1));
  int64_t total = d + jitter;
  return total > cap_us ? cap_us : total;
}

/* The lease on a claimed row (see notify.h). */
int64_t notify_lease_us(int timeout_ms) {
  return (int64_t)timeout_ms * 1000 + NOTIFY_LEASE_MARGIN_US;
}

/* ---- metrics ---------------------------------------------------------------------------- */

/* The outbox's size; see notify.h. */
void notify_pending_metrics(buf_t *out, void *store) {
  int64_t pending = 0;
  if (store && store_outbox_count(store, &pending) == STORE_OK)
    buf_printf(out,
               "# HELP spoold_notifications_pending Notifications in the outbox (queued or "
               "waiting for a retry).\n"
               "# TYPE spoold_notifications_pending gauge\n"
               "spoold_notifications_pending %lld\n",
               (long long)pending);
}

static void delivery_metrics(buf_t *out, void *arg) {
  (void)arg;
  buf_printf(out,
             "# HELP spoold_notifications_delivered_total Notifications delivered (2xx).\n"
             "# TYPE spoold_notifications_delivered_total counter\n"
             "spoold_notifications_delivered_total %llu\n"
             "# HELP spoold_notifications_failed_total Delivery attempts that failed.\n"
             "# TYPE spoold_notifications_failed_total counter\n"
             "spoold_notifications_failed_total %llu\n"
             "# HELP spoold_notifications_dropped_total Notifications dropped after retrying "
             "for the whole retry period.\n"
             "# TYPE spoold_notifications_dropped_total counter\n"
             "spoold_notifications_dropped_total %llu\n"
             "# HELP spoold_notifications_missed_total `missed` lifecycle notifications queued.\n"
             "# TYPE spoold_notifications_missed_total counter\n"
             "spoold_notifications_missed_total %llu\n"
             "# HELP spoold_subscriptions_expired_total Expired subscriptions removed.\n"
             "# TYPE spoold_subscriptions_expired_total counter\n"
             "spoold_subscriptions_expired_total %llu\n"
             "# HELP spoold_notifications_commit_wakeups_total Wake-ups of the delivery worker by "
             "a committed change that queued notifications.\n"
             "# TYPE spoold_notifications_commit_wakeups_total counter\n"
             "spoold_notifications_commit_wakeups_total %llu\n"
             "# HELP spoold_notifications_inflight Deliveries in progress.\n"
             "# TYPE spoold_notifications_inflight gauge\n"
             "spoold_notifications_inflight %d\n",
             (unsigned long long)atomic_load(&m_delivered),
             (unsigned long long)atomic_load(&m_failed),
             (unsigned long long)atomic_load(&m_dropped),
             (unsigned long long)atomic_load(&m_missed),
             (unsigned long long)atomic_load(&m_removed),
             (unsigned long long)atomic_load(&m_wakeups), atomic_load(&m_inflight));
}

/* ---- transfers --------------------------------------------------------------------------- */

static size_t discard_body(char *data, size_t size, size_t nmemb, void *arg) {
  (void)data;
  (void)arg;
  return size * nmemb;
}

static void xfer_release(notify_delivery_t *d, xfer_t *x) {
  if (x->easy) {
    curl_multi_remove_handle(d->multi, x->easy);
    curl_easy_cleanup(x->easy);
  }
  curl_slist_free_all(x->headers);
  free(x->id);
  free(x->url);
  free(x->payload);
  memset(x, 0, sizeof *x);
  d->ninflight--;
  atomic_store(&m_inflight, (int)d->ninflight);
}

/* A curl handle POSTing payload to url with the delivery's options. */
static CURL *post_handle(notify_delivery_t *d, const char *url, const char *payload,
                         struct curl_slist *headers, char *errbuf, webhook_guard_t *guard,
                         void *priv) {
  CURL *h = curl_easy_init();
  if (!h) abort();
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "spoold-webhook/1");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)d->cfg.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)d->cfg.timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
  if (errbuf) curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_PRIVATE, priv);
  webhook_guard_init(guard, url, d->cfg.webhook_allow, d->cfg.allow_loopback);
  webhook_guard_attach(guard, h);
  return h;
}

/* Starts the second copy of x's notification (NOTIFY_FAULT_TWICE). */
static void dup_start(notify_delivery_t *d, const xfer_t *x) {
  dup_xfer_t *dup = xcalloc(1, sizeof *dup);
  dup->payload = xstrdup(x->payload);
  dup->headers = curl_slist_append(NULL, "Content-Type: application/json");
  dup->headers = curl_slist_append(dup->headers, "Expect:");
  CURL *h = post_handle(d, x->url, dup->payload, dup->headers, NULL, &dup->guard, dup);
  if (curl_multi_add_handle(d->multi, h) != CURLM_OK) {
    curl_easy_cleanup(h);
    curl_slist_free_all(dup->headers);
    free(dup->payload);
    free(dup);
  }
}

/* True when p is one of the delivery slots (not a duplicate's record). */
static bool is_slot(const notify_delivery_t *d, const void *p) {
  const xfer_t *x = p;
  return x >= d->xfers && x < d->xfers + d->cfg.max_inflight;
}

/* Sets up and adds the transfer of slot x (filled by take_row). */
static void xfer_start(notify_delivery_t *d, xfer_t *x) {
  notify_fault_hook_fn hook = atomic_load(&g_fault_hook);
  notify_fault_t fault = hook ? hook(x->url) : NOTIFY_FAULT_NONE;
  if (fault == NOTIFY_FAULT_FAIL || fault == NOTIFY_FAULT_HANG) {
    x->fault = fault;
    x->fault_due = time_mono_us() + (fault == NOTIFY_FAULT_HANG ? d->cfg.timeout_ms * 1000LL : 0);
    log_info("notify: injected %s for the delivery of %s to %s",
             fault == NOTIFY_FAULT_FAIL ? "failure" : "hang", x->id, x->url);
    return;
  }
  if (fault == NOTIFY_FAULT_TWICE) {
    log_info("notify: delivering %s to %s twice (injected)", x->id, x->url);
    dup_start(d, x);
  }
  x->headers = curl_slist_append(NULL, "Content-Type: application/json");
  x->headers = curl_slist_append(x->headers, "Expect:");
  CURL *h = post_handle(d, x->url, x->payload, x->headers, x->errbuf, &x->guard, x);
  x->easy = h;
  if (curl_multi_add_handle(d->multi, h) != CURLM_OK) {
    log_error("notify: cannot start the delivery of %s", x->id);
    xfer_release(d, x);
  }
}

/* store_outbox_due callbacks (run on the worker thread inside a read transaction). */
static unsigned endpoint_budget(const char *url, void *arg) {
  notify_delivery_t *d = arg;
  unsigned busy = 0;
  for (unsigned i = 0; i < d->cfg.max_inflight; i++)
    if (d->xfers[i].used && strcmp(d->xfers[i].url, url) == 0) busy++;
  unsigned free_slots = d->cfg.max_inflight - d->ninflight;
  unsigned room = busy >= d->cfg.per_endpoint ? 0 : d->cfg.per_endpoint - busy;
  return room < free_slots ? room : free_slots;
}

static bool take_row(const store_outbox_row_t *r, void *arg) {
  notify_delivery_t *d = arg;
  xfer_t *slot = NULL;
  for (unsigned i = 0; i < d->cfg.max_inflight; i++) {
    xfer_t *x = &d->xfers[i];
    if (x->used && strcmp(x->id, r->id) == 0) return false;  /* already on its way */
    if (!x->used && !slot) slot = x;
  }
  if (!slot) return false;
  slot->used = true;
  slot->id = xstrdup(r->id);
  slot->url = xstrdup(r->url);
  slot->payload = xstrdup(r->payload);
  slot->kind = r->kind;
  slot->created_us = r->created_us;
  slot->attempts = r->attempts;
  slot->claim_us = r->claim_us;
  d->ninflight++;
  atomic_store(&m_inflight, (int)d->ninflight);
  d->started_any = true;
  return true;
}

/* Takes the due rows the budgets allow and starts their transfers. *next_due_us receives the
 * earliest due time of a row not yet due. */
static void fetch_due(notify_delivery_t *d, int64_t now, int64_t *next_due_us) {
  *next_due_us = now + MAX_WAIT_MS * 1000LL;
  if (d->ninflight >= d->cfg.max_inflight) return;
  bool was_used[MAX_INFLIGHT_CAP];
  for (unsigned i = 0; i < d->cfg.max_inflight; i++) was_used[i] = d->xfers[i].used;
  d->started_any = false;
  store_rc_t rc = store_outbox_due(d->cfg.store, now, notify_lease_us(d->cfg.timeout_ms),
                                   d->cfg.max_inflight - d->ninflight,
                                   endpoint_budget, take_row, d, next_due_us);
  if (rc != STORE_OK) log_error("notify: cannot read the outbox; retrying shortly");
  /* Look again within MAX_WAIT_MS whatever the schedule says: rows committed without a
   * wake-up (another process on a shared database) are found by this poll. */
  if (rc != STORE_OK || *next_due_us > now + MAX_WAIT_MS * 1000LL)
    *next_due_us = now + MAX_WAIT_MS * 1000LL;
  if (!d->started_any) return;
  for (unsigned i = 0; i < d->cfg.max_inflight; i++)
    if (d->xfers[i].used && !was_used[i]) xfer_start(d, &d->xfers[i]);
}

/* Describes a failed attempt into out. */
static void describe_failure(const xfer_t *x, CURLcode rc, long status, int timeout_ms,
                             char *out, size_t outlen) {
  if (rc == CURLE_OK)
    snprintf(out, outlen, "HTTP %ld", status);
  else if (x->guard.refused[0])
    snprintf(out, outlen, "refused to connect to %s (see --webhook-allow)", x->guard.refused);
  else if (rc == CURLE_OPERATION_TIMEDOUT)
    snprintf(out, outlen, "no answer within %d ms", timeout_ms);
  else
    snprintf(out, outlen, "%.120s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
}

/* Fills r for a failed attempt of x (error describes it): a retry with back-off, or a drop
 * once the row is older than the retry period. */
static void fail_outcome(notify_delivery_t *d, const xfer_t *x, store_outbox_result_t *r,
                         const char *error, int64_t now) {
  r->error = error;
  unsigned failures = (unsigned)x->attempts + 1;
  int64_t deadline = x->created_us + d->cfg.max_age_us;
  uint32_t rnd;
  id_random(&rnd, sizeof rnd);
  int64_t at = now + notify_backoff_us(failures, d->cfg.retry_base_us, d->cfg.retry_cap_us, rnd);
  atomic_fetch_add(&m_failed, 1);
  if (now >= deadline) {
    r->outcome = STORE_OUTBOX_DROP;
    log_warn("notify: dropping notification %s to %s after %u failed attempts over %lld s "
             "(last: %s)", x->id, x->url, failures,
             (long long)((now - x->created_us) / 1000000), error);
  } else {
    r->outcome = STORE_OUTBOX_RETRY;
    r->retry_us = at < deadline ? at : deadline;  /* a last attempt at the deadline */
    log_info("notify: delivery of %s to %s failed (%s); attempt %u at +%lld ms", x->id,
             x->url, error, failures + 1, (long long)((r->retry_us - now) / 1000));
  }
}

/* Collects the finished transfers and settles them in one transaction. Returns how many
 * finished. */
static unsigned settle_finished(notify_delivery_t *d) {
  store_outbox_result_t res[MAX_INFLIGHT_CAP];
  char errors[MAX_INFLIGHT_CAP][128];
  xfer_t *done[MAX_INFLIGHT_CAP];
  unsigned n = 0;
  int64_t now = time_now_us();
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(d->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    void *priv = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&priv);
    if (priv && !is_slot(d, priv)) { /* the second copy of a duplicated delivery */
      dup_xfer_t *dup = priv;
      CURL *h = m->easy_handle;
      curl_multi_remove_handle(d->multi, h);
      curl_easy_cleanup(h);
      curl_slist_free_all(dup->headers);
      free(dup->payload);
      free(dup);
      continue;
    }
    xfer_t *x = priv;
    if (!x || n == MAX_INFLIGHT_CAP) continue;
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    CURLcode rc = m->data.result;
    store_outbox_result_t *r = &res[n];
    memset(r, 0, sizeof *r);
    r->id = x->id;
    r->claim_us = x->claim_us;
    if (rc == CURLE_OK && status >= 200 && status < 300) {
      r->outcome = STORE_OUTBOX_DELIVERED;
    } else {
      describe_failure(x, rc, status, d->cfg.timeout_ms, errors[n], sizeof errors[n]);
      fail_outcome(d, x, r, errors[n], now);
    }
    done[n++] = x;
  }
  /* Injected failures and hangs whose time has come. */
  int64_t mono = time_mono_us();
  for (unsigned i = 0; i < d->cfg.max_inflight && n < MAX_INFLIGHT_CAP; i++) {
    xfer_t *x = &d->xfers[i];
    if (!x->used || !x->fault || x->fault_due > mono) continue;
    store_outbox_result_t *r = &res[n];
    memset(r, 0, sizeof *r);
    r->id = x->id;
    r->claim_us = x->claim_us;
    if (x->fault == NOTIFY_FAULT_FAIL)
      snprintf(errors[n], sizeof errors[n], "injected failure");
    else
      snprintf(errors[n], sizeof errors[n], "no answer within %d ms (injected hang)",
               d->cfg.timeout_ms);
    fail_outcome(d, x, r, errors[n], now);
    done[n++] = x;
  }
  if (n == 0) return 0;
  unsigned missed = 0;
  d->settle_failed = store_outbox_settle(d->cfg.store, res, n, &missed) != STORE_OK;
  if (d->settle_failed) {
    /* The rows stay as they were: delivered ones may be delivered again (at-least-once). */
    log_error("notify: cannot record %u delivery outcome(s); they will be retried", n);
  } else {
    for (unsigned i = 0; i < n; i++) {
      if (res[i].outcome == STORE_OUTBOX_DELIVERED) atomic_fetch_add(&m_delivered, 1);
      else if (res[i].outcome == STORE_OUTBOX_DROP) atomic_fetch_add(&m_dropped, 1);
    }
    atomic_fetch_add(&m_missed, missed);
  }
  for (unsigned i = 0; i < n; i++) xfer_release(d, done[i]);
  return n;
}

/* ---- the worker thread ------------------------------------------------------------------ */

static void *delivery_main(void *arg) {
  notify_delivery_t *d = arg;
  int64_t next_sweep = 0, next_due = 0;
  bool look = true;  /* look at the outbox now: start-up delivers what is pending */
  for (;;) {
    pthread_mutex_lock(&d->mu);
    bool stop = d->stop;
    if (d->woken) look = true;
    d->woken = false;
    pthread_mutex_unlock(&d->mu);
    if (stop) break;

    int64_t now = time_now_us();
    if (now >= next_sweep) {
      unsigned removed = 0;
      if (store_subscription_sweep(d->cfg.store, now, &removed) != STORE_OK)
        log_error("notify: cannot remove expired subscriptions; retrying shortly");
      if (removed) {
        atomic_fetch_add(&m_removed, removed);
        log_info("notify: removed %u expired subscription(s)", removed);
        look = true;  /* their subscriptionRemoved notifications */
      }
      next_sweep = now + d->cfg.sweep_interval_us;
    }
    if (look || now >= next_due) {
      look = false;
      fetch_due(d, now, &next_due);
    }

    int running = 0;
    curl_multi_perform(d->multi, &running);
    if (settle_finished(d) > 0) {
      if (!d->settle_failed) {
        look = true;  /* free slots: more rows may be startable */
      } else {
        int64_t soon = time_now_us() + MAX_WAIT_MS * 1000LL;  /* the store failed: pause */
        if (next_due > soon) next_due = soon;
      }
    }

    now = time_now_us();
    int64_t wake = next_due < next_sweep ? next_due : next_sweep;
    int64_t wait_ms = look ? 0 : (wake - now + 999) / 1000;
    if (wait_ms < 0) wait_ms = 0;
    if (wait_ms > MAX_WAIT_MS) wait_ms = MAX_WAIT_MS;
    if (wait_ms > 0 || running > 0) curl_multi_poll(d->multi, NULL, 0, (int)wait_ms, NULL);
  }
  for (unsigned i = 0; i < d->cfg.max_inflight; i++)
    if (d->xfers[i].used) xfer_release(d, &d->xfers[i]);
  return NULL;
}

/* The store's commit listener. */
static void delivery_listener(void *arg) {
  atomic_fetch_add(&m_wakeups, 1);
  notify_delivery_wake(arg);
}

/* Wakes the worker (see notify.h). */
void notify_delivery_wake(notify_delivery_t *d) {
  if (!d) return;
  pthread_mutex_lock(&d->mu);
  d->woken = true;
  pthread_mutex_unlock(&d->mu);
  curl_multi_wakeup(d->multi);
}

/* Removes expired subscriptions now (see notify.h). */
unsigned notify_delivery_sweep_now(notify_delivery_t *d) {
  if (!d) return 0;
  unsigned removed = 0;
  if (store_subscription_sweep(d->cfg.store, time_now_us(), &removed) != STORE_OK) {
    log_error("notify: cannot remove expired subscriptions");
    return 0;
  }
  if (removed) {
    atomic_fetch_add(&m_removed, removed);
    log_info("notify: removed %u expired subscription(s)", removed);
  }
  notify_delivery_wake(d);
  return removed;
}

/* Starts the worker (see notify.h). */
notify_delivery_t *notify_delivery_start(const notify_delivery_config_t *cfg, char **err) {
  if (err) *err = NULL;
  if (!cfg || !cfg->store) {
    if (err) *err = xstrdup("notification delivery needs a store");
    return NULL;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    if (err) *err = xstrdup("cannot initialise libcurl");
    return NULL;
  }
  notify_delivery_t *d = xcalloc(1, sizeof *d);
  d->cfg = *cfg;
  if (!d->cfg.max_inflight) d->cfg.max_inflight = DEF_MAX_INFLIGHT;
  if (d->cfg.max_inflight > MAX_INFLIGHT_CAP) d->cfg.max_inflight = MAX_INFLIGHT_CAP;
  if (!d->cfg.per_endpoint) d->cfg.per_endpoint = DEF_PER_ENDPOINT;
  if (!d->cfg.timeout_ms) d->cfg.timeout_ms = DEF_TIMEOUT_MS;
  if (d->cfg.retry_base_us <= 0) d->cfg.retry_base_us = DEF_RETRY_BASE;
  if (d->cfg.retry_cap_us <= 0) d->cfg.retry_cap_us = DEF_RETRY_CAP;
  if (d->cfg.max_age_us <= 0) d->cfg.max_age_us = DEF_MAX_AGE;
  if (d->cfg.sweep_interval_us <= 0) d->cfg.sweep_interval_us = DEF_SWEEP;
  d->cfg.webhook_allow = cfg->webhook_allow ? xstrdup(cfg->webhook_allow) : NULL;
  d->xfers = xcalloc(d->cfg.max_inflight, sizeof *d->xfers);
  pthread_mutex_init(&d->mu, NULL);
  d->multi = curl_multi_init();
  if (!d->multi) abort();

  /* The worker takes no signals: they belong to the application's threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&d->thread, NULL, delivery_main, d);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    if (err) *err = xstrdup("cannot start the notification delivery thread");
    free((char *)d->cfg.webhook_allow);
    curl_multi_cleanup(d->multi);
    pthread_mutex_destroy(&d->mu);
    free(d->xfers);
    free(d);
    return NULL;
  }
  store_outbox_set_listener(d->cfg.store, delivery_listener, d);
  if (!atomic_exchange(&m_registered, true)) metrics_add_collector(delivery_metrics, NULL);
  return d;
}

/* Stops the worker (see notify.h). */
void notify_delivery_stop(notify_delivery_t *d) {
  if (!d) return;
  store_outbox_set_listener(d->cfg.store, NULL, NULL);
  pthread_mutex_lock(&d->mu);
  d->stop = true;
  pthread_mutex_unlock(&d->mu);
  curl_multi_wakeup(d->multi);
  pthread_join(d->thread, NULL);
  curl_multi_cleanup(d->multi);
  pthread_mutex_destroy(&d->mu);
  free(d->xfers);
  free((char *)d->cfg.webhook_allow);
  free(d);
}
