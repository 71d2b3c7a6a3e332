/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Change notifications for print resources (reference §7): the webhook client with the
 * validation handshake (webhook.c) and the delivery worker that empties the durable outbox
 * (delivery.c). The /subscriptions handlers that create the subscriptions are Graph's
 * (graph/subscriptions.c).
 *
 * Flow: a store transaction that creates a print task or makes a job fetchable also writes
 * one outbox row per matching subscription (store/outbox.h); once it commits, the worker is
 * woken, POSTs {"value":[notification]} to the subscription's notificationUrl and deletes the
 * row after a 2xx, retrying with back-off otherwise.
 */
#ifndef SPOOLD_NOTIFY_NOTIFY_H
#define SPOOLD_NOTIFY_NOTIFY_H

#include "store/subscriptions.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest lifetime of a print subscription: 4230 minutes (reference §7.1). */
#define NOTIFY_MAX_LIFETIME_US (4230LL * 60 * 1000000)
/* Accepted clock difference between a client computing now+4230 min and the server. */
#define NOTIFY_LIFETIME_SKEW_US (60LL * 1000000)
/* Longest clientState Graph accepts. */
#define NOTIFY_CLIENT_STATE_MAX 128
/* Longest notification URL accepted. */
#define NOTIFY_URL_MAX 2048

/* ---- webhooks (webhook.c) ------------------------------------------------------------------ */

/* Checks a notification or lifecycle URL: an absolute http or https URL without credentials
 * (user:password@), at most NOTIFY_URL_MAX characters, whose host is in allow_hosts when that
 * is not NULL or empty (a comma-separated list of host names or addresses, compared ignoring
 * case). Returns true, or false with a message naming the problem in err. */
bool webhook_url_check(const char *url, const char *allow_hosts, char *err, size_t errlen);

/* Runs the validation handshake of reference §7.3 against url: POST
 * url?validationToken=<random token, URL-encoded> with Content-Type text/plain, expecting
 * within timeout_ms a 200 answer with Content-Type text/plain whose body is the decoded token.
 * The connection goes only to addresses a guard (below) built from allow_hosts and
 * allow_loopback permits. Blocks the calling thread for at most timeout_ms. Returns true, or
 * false with what went wrong in err, for the log only: it may describe the target's network
 * (refused, silent, answered 404), which a client must not learn. */
bool webhook_validate(const char *url, int timeout_ms, const char *allow_hosts,
                      bool allow_loopback, char *err, size_t errlen);

/* Where a webhook may connect. By default only to public addresses: never to loopback,
 * private (RFC 1918, shared 100.64/10, IPv6 ULA fc00::/7), link-local, multicast, reserved or
 * unspecified ones, nor the IPv4-mapped, -compatible, NAT64 or 6to4 IPv6 forms of those. The
 * check runs on each address curl is about to connect to, after name resolution, so a name
 * that resolves inward is refused too, before any packet is sent. */
typedef enum {
  WEBHOOK_ADDR_PUBLIC,
  WEBHOOK_ADDR_LOOPBACK,
  WEBHOOK_ADDR_PRIVATE,
  WEBHOOK_ADDR_LINK_LOCAL,
  WEBHOOK_ADDR_MULTICAST,
  WEBHOOK_ADDR_UNSPECIFIED,
} webhook_addr_class_t;

struct sockaddr;

/* The class of an IPv4 or IPv6 socket address (any other family is PRIVATE). Pure. */
webhook_addr_class_t webhook_addr_classify(const struct sockaddr *sa);

typedef struct webhook_guard {
  bool allow_inward;    /* the URL's host is listed in --webhook-allow: any address */
  bool allow_loopback;  /* --dev: loopback addresses too */
  char refused[80];     /* the last address refused, "ADDR (class)"; "" when none */
} webhook_guard_t;

/* Fills g for a transfer to url: the operator's allow-list (--webhook-allow, NULL for none)
 * lets a listed host use any address; allow_loopback (--dev) lets any host use loopback. */
void webhook_guard_init(webhook_guard_t *g, const char *url, const char *allow_hosts,
                        bool allow_loopback);

/* Makes the curl easy handle `easy` (a CURL *) connect only where g allows, directly (no proxy
 * from the environment) and without following redirects. g must outlive the transfer. */
void webhook_guard_attach(webhook_guard_t *g, void *easy);

/* ---- delivery (delivery.c) ------------------------------------------------------------------ */

typedef struct notify_delivery_config {
  struct store *store;
  unsigned      max_inflight;      /* deliveries in progress at most; 0 = 32 */
  unsigned      per_endpoint;      /* of which to one notification URL at most; 0 = 4 */
  int           timeout_ms;        /* per delivery; 0 = 3000 */
  int64_t       retry_base_us;     /* first retry delay; 0 = 1 s (then 2 s, 4 s, ...) */
  int64_t       retry_cap_us;      /* longest retry delay; 0 = 10 min */
  int64_t       max_age_us;        /* retry for this long after creation, then drop; 0 = 4 h */
  int64_t       sweep_interval_us; /* how often expired subscriptions are removed; 0 = 1 s */
  const char   *webhook_allow;     /* --webhook-allow hosts (any address); copied; NULL = none */
  bool          allow_loopback;    /* --dev: loopback targets allowed */
} notify_delivery_config_t;

typedef struct notify_delivery notify_delivery_t;

/* Starts the delivery worker thread: it delivers what the outbox holds (including what a
 * previous process left), is woken by every commit that queues notifications
 * (store_outbox_set_listener) and removes expired subscriptions. Registers the
 * spoold_notifications_* counters (once per process; the pending gauge is
 * notify_pending_metrics). Returns NULL and a malloc'd *err on
 * failure. The caller stops it with notify_delivery_stop() before closing the store. */
notify_delivery_t *notify_delivery_start(const notify_delivery_config_t *cfg, char **err);

/* A /metrics collector (http/metrics.h) writing spoold_notifications_pending, the number of
 * notifications in the outbox of store (a store_t *; the caller registers it beside the
 * store's own collector, for as long as the store is open). Nothing when store is NULL or
 * the count fails. */
void notify_pending_metrics(buf_t *out, void *store);

/* Stops the worker: deliveries in progress are abandoned (their rows stay in the outbox and
 * are delivered by the next start). Frees d; NULL is fine. */
void notify_delivery_stop(notify_delivery_t *d);

/* Wakes the worker to look for due rows now (the store listener calls it). Thread-safe. */
void notify_delivery_wake(notify_delivery_t *d);

/* Development mode: a hook asked before each delivery attempt (on the worker thread) what to
 * do with it. NOTIFY_FAULT_FAIL: the attempt fails at once without being sent (and is retried
 * with back-off like any failure); NOTIFY_FAULT_HANG: the attempt is held for the delivery
 * timeout and then fails as an endpoint that never answered; NOTIFY_FAULT_TWICE: the
 * notification is POSTed twice with the same body (the second copy's answer is ignored). */
typedef enum { NOTIFY_FAULT_NONE = 0, NOTIFY_FAULT_FAIL, NOTIFY_FAULT_HANG,
               NOTIFY_FAULT_TWICE } notify_fault_t;
typedef notify_fault_t (*notify_fault_hook_fn)(const char *url);
/* Sets (or, with NULL, removes) the hook; any thread. */
void notify_set_fault_hook(notify_fault_hook_fn fn);

/* Removes the subscriptions expired at the service clock's now on the calling thread and wakes
 * the worker for their lifecycle notifications (development mode, after the clock moved).
 * Returns how many were removed. */
unsigned notify_delivery_sweep_now(notify_delivery_t *d);

/* The delay before retry number `failures` (1 = after the first failed attempt):
 * base * 2^(failures-1), kept at or below cap, plus a jitter of up to a quarter of it taken
 * from rnd (the sum never exceeds cap). Pure. */
int64_t notify_backoff_us(unsigned failures, int64_t base_us, int64_t cap_us, uint32_t rnd);

/* What a delivery lease adds to the delivery timeout: room for the outcome's commit. */
#define NOTIFY_LEASE_MARGIN_US (5LL * 1000 * 1000)
/* How long a process holds a notification it claimed on a shared database before another
 * process may deliver it: the delivery timeout (timeout_ms) plus NOTIFY_LEASE_MARGIN_US. */
int64_t notify_lease_us(int timeout_ms);

#endif
