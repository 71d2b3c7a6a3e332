/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subscriptions and events of the IPP INFRA endpoint (RFC 3995 / RFC 3996 ippget):
 * Create-Printer-Subscriptions, Get-Notifications, Renew-Subscription, Cancel-Subscription,
 * Get-Subscription-Attributes and Get-Subscriptions.
 *
 * Events are rows written by the store in the transaction of the change they report
 * (store/ipp.h), so a job canceled through the Graph API reaches a subscribed device as a
 * job-completed event (also delivered to job-state-changed subscribers, as cupsd does).
 *
 * Get-Notifications with notify-wait=true does not block a worker thread: when no event is
 * there yet the request is parked (server_park: the connection is suspended) for up to
 * IPP_NOTIFY_WAIT_S seconds, woken at once by any commit that writes IPP events and every
 * IPP_NOTIFY_RECHECK_MS regardless (events written by another process on a shared database);
 * it is then answered with whatever is there, and notify-get-interval 1 invites the device to
 * ask again at once.
 */
#include "http/server.h"
#include "ipp/ipp-private.h"
#include "mapping/mapping.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 16 /* subscription groups in one Create-Printer-Subscriptions */
#define MAX_IDS    32 /* notify-subscription-ids in one Get-Notifications */

/* Every event keyword of the IANA registry a subscription may ask for; only IPP_EVENTS are
 * ever emitted, the others are accepted so that proxies asking for more still subscribe. */
static const char *const KNOWN_EVENTS[] = {
    "none", "document-completed", "document-config-changed", "document-created",
    "document-fetchable", "document-state-changed", "document-stopped", "job-completed",
    "job-config-changed", "job-created", "job-fetchable", "job-progress", "job-state-changed",
    "job-stopped", "printer-config-changed", "printer-finishings-changed",
    "printer-media-changed", "printer-queue-order-changed", "printer-restarted",
    "printer-shutdown", "printer-state-changed", "printer-stopped", NULL,
};

static bool known_event(const char *e) {
  for (size_t i = 0; KNOWN_EVENTS[i]; i++)
    if (!strcmp(KNOWN_EVENTS[i], e)) return true;
  return false;
}

/* notify-subscription-id of the request (operation group); 0 after answering when absent. */
static int64_t subscription_id(ipp_client_t *c) {
  ipp_attribute_t *a = ipp_op_attr(c, "notify-subscription-id", IPP_TAG_ZERO);
  if (!a || ippGetValueTag(a) != IPP_TAG_INTEGER || ippGetCount(a) != 1 ||
      ippGetInteger(a, 0) < 1) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Missing or bad notify-subscription-id.");
    if (a) ipp_respond_unsupported(c, a);
    return 0;
  }
  return ippGetInteger(a, 0);
}

static void respond_sub_rc(ipp_client_t *c, store_rc_t rc, int64_t id) {
  if (rc == STORE_NOT_FOUND)
    ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "Subscription #%" PRId64 " does not exist.", id);
  else
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The subscription could not be read; retry.");
}

/* ---- Create-Printer-Subscriptions ------------------------------------------------------------ */

/* One subscription-template group of the request. */
typedef struct sub_group {
  ipp_attribute_t *pull, *recipient, *events, *lease, *user_data, *job_id;
} sub_group_t;

static void sub_group_set(sub_group_t *g, ipp_attribute_t *a) {
  const char *n = ippGetName(a);
  if (!strcmp(n, "notify-pull-method")) g->pull = a;
  else if (!strcmp(n, "notify-recipient-uri")) g->recipient = a;
  else if (!strcmp(n, "notify-events")) g->events = a;
  else if (!strcmp(n, "notify-lease-duration")) g->lease = a;
  else if (!strcmp(n, "notify-user-data")) g->user_data = a;
  else if (!strcmp(n, "notify-job-id")) g->job_id = a;
}

/* Creates the subscription of group g. Returns 0 (with *id and *lease) or the notify-status-code
 * of the refusal; *substituted tells whether a value was changed or left out. */
static ipp_status_t create_one(ipp_client_t *c, const sub_group_t *g, int64_t *id, int *lease,
                               bool *substituted) {
  *id = 0;
  if (g->job_id) return IPP_STATUS_ERROR_BAD_REQUEST; /* that is Create-Job-Subscriptions */
  if (g->recipient) return IPP_STATUS_ERROR_URI_SCHEME; /* push methods are not offered */
  const char *pull = g->pull ? ippGetString(g->pull, 0, NULL) : NULL;
  if (!pull) return IPP_STATUS_ERROR_BAD_REQUEST;
  if (ippGetValueTag(g->pull) != IPP_TAG_KEYWORD || strcmp(pull, "ippget"))
    return IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES;

  buf_t events = BUF_INIT;
  if (g->events) {
    for (int i = 0; i < ippGetCount(g->events); i++) {
      const char *e = ippGetString(g->events, i, NULL);
      if (ippGetValueTag(g->events) != IPP_TAG_KEYWORD || !e || !known_event(e)) {
        *substituted = true;
        continue;
      }
      if (events.len) buf_putc(&events, ',');
      buf_puts(&events, e);
    }
  } else {
    buf_puts(&events, "job-completed");
  }
  int64_t lease_s = IPP_LEASE_DEFAULT_S;
  if (g->lease) {
    if (ippGetValueTag(g->lease) != IPP_TAG_INTEGER || ippGetInteger(g->lease, 0) < 0) {
      buf_free(&events);
      return IPP_STATUS_ERROR_BAD_REQUEST;
    }
    lease_s = ippGetInteger(g->lease, 0);
    if (lease_s > IPP_LEASE_MAX_S) {
      lease_s = IPP_LEASE_MAX_S;
      *substituted = true;
    }
  }
  store_ipp_subscription_t n = {.events = events.data ? events.data : (char *)"",
                                .device_uuid = (char *)c->device_uuid, .owner = (char *)c->user,
                                .lease_s = lease_s};
  if (g->user_data) {
    int len = 0;
    void *data = ippGetOctetString(g->user_data, 0, &len);
    if (ippGetValueTag(g->user_data) != IPP_TAG_STRING || len > 63) {
      buf_free(&events);
      return IPP_STATUS_ERROR_BAD_REQUEST;
    }
    n.user_data = data;
    n.user_data_len = (size_t)len;
  }
  store_rc_t rc = store_ipp_subscription_create(c->store, c->device.tenant, c->device.printer_id,
                                                &n, c->now_us, id);
  buf_free(&events);
  if (rc != STORE_OK) return IPP_STATUS_ERROR_INTERNAL;
  *lease = (int)lease_s;
  return IPP_STATUS_OK;
}

/* Create-Printer-Subscriptions: one ippget subscription per subscription group (lease 0: no
 * expiry; see store/ipp.h for how abandoned ones go). */
void ipp_create_printer_subscriptions(ipp_client_t *c) {
  ipp_attribute_t *dev = ippFindAttribute(c->request, "output-device-uuid", IPP_TAG_URI);
  c->device_uuid = dev ? ippGetString(dev, 0, NULL) : NULL;
  sub_group_t groups[MAX_GROUPS];
  int ngroups = 0;
  bool in_group = false, too_many = false;
  for (ipp_attribute_t *a = ippFirstAttribute(c->request); a; a = ippNextAttribute(c->request)) {
    if (ippGetGroupTag(a) != IPP_TAG_SUBSCRIPTION || !ippGetName(a)) {
      in_group = false;
      continue;
    }
    if (!in_group) {
      if (ngroups == MAX_GROUPS) {
        too_many = true;
        break;
      }
      memset(&groups[ngroups++], 0, sizeof groups[0]);
      in_group = true;
    }
    sub_group_set(&groups[ngroups - 1], a);
  }
  if (too_many) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "At most %d subscriptions per request.",
                MAX_GROUPS);
    return;
  }
  if (!ngroups) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Missing subscription template attributes.");
    return;
  }
  int ok = 0;
  bool substituted = false;
  for (int i = 0; i < ngroups; i++) {
    int64_t id = 0;
    int lease = 0;
    ipp_status_t st = create_one(c, &groups[i], &id, &lease, &substituted);
    if (i) ippAddSeparator(c->response);
    if (st == IPP_STATUS_OK) {
      ok++;
      ippAddInteger(c->response, IPP_TAG_SUBSCRIPTION, IPP_TAG_INTEGER, "notify-subscription-id",
                    (int)id);
      ippAddInteger(c->response, IPP_TAG_SUBSCRIPTION, IPP_TAG_INTEGER, "notify-lease-duration",
                    lease);
    } else {
      ippAddInteger(c->response, IPP_TAG_SUBSCRIPTION, IPP_TAG_ENUM, "notify-status-code", st);
    }
  }
  if (!ok)
    ipp_respond(c, IPP_STATUS_ERROR_IGNORED_ALL_SUBSCRIPTIONS, "No subscription was created "
                "(only ippget subscriptions to printer events are offered).");
  else if (ok < ngroups)
    ipp_respond(c, IPP_STATUS_OK_IGNORED_SUBSCRIPTIONS, "Some subscriptions were not created.");
  else if (substituted)
    ipp_respond(c, IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED,
                "Unknown events were left out or the lease was shortened.");
  else
    ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* ---- Get-Notifications ------------------------------------------------------------------------ */

/* What a parked Get-Notifications remembers across its runs. */
typedef struct ipp_wait {
  int64_t deadline_us; /* monotonic */
} ipp_wait_t;

static void wait_cleanup(http_request_t *req) {
  free(req->handler_state);
  req->handler_state = NULL;
}

/* Adds one event-notification group. */
static void add_event(ipp_client_t *c, const store_ipp_event_t *e,
                      const store_ipp_subscription_t *sub) {
  ipp_t *r = c->response;
  ipp_tag_t g = IPP_TAG_EVENT_NOTIFICATION;
  ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-subscription-id", (int)e->subscription_id);
  ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-sequence-number", (int)e->seq);
  ippAddString(r, g, IPP_TAG_KEYWORD, "notify-subscribed-event", NULL, e->event);
  ippAddString(r, g, IPP_TAG_URI, "notify-printer-uri", NULL, c->printer_uri);
  ippAddString(r, g, IPP_TAG_CHARSET, "notify-charset", NULL, "utf-8");
  ippAddString(r, g, IPP_TAG_LANGUAGE, "notify-natural-language", NULL, "en");
  ippAddInteger(r, g, IPP_TAG_INTEGER, "printer-up-time", ipp_up_time(c, e->created_us));
  if (sub && sub->user_data)
    ippAddOctetString(r, g, "notify-user-data", sub->user_data, (int)sub->user_data_len);
  char text[256];
  if (e->job_id > 0) {
    job_phase_t phase = (job_phase_t)e->job_phase;
    ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-job-id", (int)e->job_id);
    ippAddInteger(r, g, IPP_TAG_ENUM, "job-state", ipp_map_job_state(phase));
    const char *reasons[4];
    size_t n = ipp_map_job_reasons(phase, e->job_details, e->job_device_state, reasons, 4);
    ippAddStrings(r, g, IPP_TAG_KEYWORD, "job-state-reasons", (int)n, NULL, reasons);
    snprintf(text, sizeof text, "Job #%" PRId64 ": %s", e->job_id,
             e->text && *e->text ? e->text : job_phase_describe(phase));
  } else {
    ippAddInteger(r, g, IPP_TAG_ENUM, "printer-state", ipp_map_printer_state(e->printer_state));
    json_t *details = e->printer_details ? json_loads(e->printer_details, 0, NULL) : NULL;
    ipp_attribute_t *ra = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(details, i, v) {
      char kw[256];
      if (!json_string_value(v)) continue;
      ipp_map_printer_reason_keyword(json_string_value(v), kw, sizeof kw);
      if (!ra) ra = ippAddString(r, g, IPP_TAG_KEYWORD, "printer-state-reasons", NULL, kw);
      else ippSetString(r, &ra, ippGetCount(ra), kw);
    }
    json_decref(details);
    if (!ra) ippAddString(r, g, IPP_TAG_KEYWORD, "printer-state-reasons", NULL, "none");
    ippAddBoolean(r, g, "printer-is-accepting-jobs", e->printer_accepting != 0);
    snprintf(text, sizeof text, "%s", e->text && *e->text ? e->text : e->event);
  }
  ippAddString(r, g, IPP_TAG_TEXT, "notify-text", NULL, text);
}

/* Get-Notifications: the events of the listed subscriptions from the given sequence numbers,
 * waiting (without a thread) for the first one when notify-wait is true. */
void ipp_get_notifications(ipp_client_t *c) {
  ipp_attribute_t *ids = ipp_op_attr(c, "notify-subscription-ids", IPP_TAG_ZERO);
  ipp_attribute_t *seqs = ipp_op_attr(c, "notify-sequence-numbers", IPP_TAG_ZERO);
  ipp_attribute_t *wait = ipp_op_attr(c, "notify-wait", IPP_TAG_ZERO);
  if (!ids || ippGetValueTag(ids) != IPP_TAG_INTEGER || ippGetCount(ids) > MAX_IDS) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "notify-subscription-ids (at most %d integers) "
                "is required.", MAX_IDS);
    if (ids) ipp_respond_unsupported(c, ids);
    return;
  }
  if ((seqs && ippGetValueTag(seqs) != IPP_TAG_INTEGER) ||
      (wait && (ippGetValueTag(wait) != IPP_TAG_BOOLEAN || ippGetCount(wait) != 1))) {
    ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST,
                "notify-sequence-numbers must be integers and notify-wait a boolean.");
    return;
  }
  bool want_wait = wait && ippGetBoolean(wait, 0);
  int64_t idv[MAX_IDS], seqv[MAX_IDS];
  size_t n = (size_t)ippGetCount(ids), nseq = seqs ? (size_t)ippGetCount(seqs) : 0;
  if (nseq > n) nseq = n;
  for (size_t i = 0; i < n; i++) idv[i] = ippGetInteger(ids, (int)i);
  for (size_t i = 0; i < nseq; i++) seqv[i] = ippGetInteger(seqs, (int)i);

  store_ipp_subscription_t *subs = NULL;
  store_ipp_event_t *events = NULL;
  size_t nevents = 0;
  int64_t missing = 0;
  store_rc_t rc = store_ipp_events_get(c->store, c->device.tenant, c->device.printer_id, idv, n,
                                       seqv, nseq, IPP_MAX_EVENTS, c->now_us, &subs, &events,
                                       &nevents, &missing);
  if (rc != STORE_OK) {
    respond_sub_rc(c, rc, missing);
    return;
  }

  if (!nevents && want_wait) {
    ipp_wait_t *w = c->req->handler_state;
    int64_t now = time_mono_us();
    if (!w) {
      w = xcalloc(1, sizeof *w);
      w->deadline_us = now + (int64_t)IPP_NOTIFY_WAIT_S * 1000000;
      c->req->handler_state = w;
      c->req->cleanup = wait_cleanup;
    }
    int64_t left_ms = (w->deadline_us - now) / 1000;
    if (left_ms > 0 && server_park(c->req, (unsigned)(left_ms < IPP_NOTIFY_RECHECK_MS
                                                          ? left_ms : IPP_NOTIFY_RECHECK_MS))) {
      c->parked = true; /* answered on a later run */
      goto out;
    }
  }

  ippAddInteger(c->response, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-get-interval",
                want_wait ? 1 : IPP_NOTIFY_INTERVAL_S);
  ippAddInteger(c->response, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "printer-up-time",
                ipp_up_time(c, c->now_us));
  for (size_t i = 0; i < nevents; i++) {
    const store_ipp_subscription_t *sub = NULL;
    for (size_t k = 0; k < n && !sub; k++)
      if (subs[k].id == events[i].subscription_id) sub = &subs[k];
    ippAddSeparator(c->response);
    add_event(c, &events[i], sub);
  }
  ipp_respond(c, IPP_STATUS_OK, NULL);

  int64_t stale[MAX_IDS];
  size_t nstale = 0;
  for (size_t k = 0; k < n; k++)
    if (subs[k].used_us < c->now_us - 60000000LL) stale[nstale++] = subs[k].id;
  if (nstale && store_ipp_subscriptions_used(c->store, c->device.tenant, stale, nstale,
                                             c->now_us) != STORE_OK)
    log_warn("ipp: cannot record the use of subscriptions of printer %s", c->device.printer_id);
out:
  for (size_t k = 0; subs && k < n; k++) store_ipp_subscription_clear(&subs[k]);
  free(subs);
  store_ipp_events_free(events, nevents);
}

/* ---- Renew, Cancel, Get-Subscription-Attributes, Get-Subscriptions ---------------------------- */

void ipp_renew_subscription(ipp_client_t *c) {
  int64_t id = subscription_id(c);
  if (!id) return;
  int64_t lease = IPP_LEASE_DEFAULT_S;
  ipp_attribute_t *a = ippFindAttribute(c->request, "notify-lease-duration", IPP_TAG_ZERO);
  if (a) {
    if (ippGetValueTag(a) != IPP_TAG_INTEGER || ippGetInteger(a, 0) < 0) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "notify-lease-duration must be an integer.");
      ipp_respond_unsupported(c, a);
      return;
    }
    lease = ippGetInteger(a, 0);
    if (lease > IPP_LEASE_MAX_S) lease = IPP_LEASE_MAX_S;
  }
  store_rc_t rc = store_ipp_subscription_renew(c->store, c->device.tenant, c->device.printer_id,
                                               id, lease, c->now_us);
  if (rc != STORE_OK) {
    respond_sub_rc(c, rc, id);
    return;
  }
  ippAddInteger(c->response, IPP_TAG_SUBSCRIPTION, IPP_TAG_INTEGER, "notify-lease-duration",
                (int)lease);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

void ipp_cancel_subscription(ipp_client_t *c) {
  int64_t id = subscription_id(c);
  if (!id) return;
  store_rc_t rc = store_ipp_subscription_cancel(c->store, c->device.tenant, c->device.printer_id,
                                                id, c->now_us);
  if (rc != STORE_OK) respond_sub_rc(c, rc, id);
  else ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* Adds the subscription's description attributes that ra asks for. */
static void add_subscription(ipp_client_t *c, const store_ipp_subscription_t *s, cups_array_t *ra) {
  ipp_t *r = c->response;
  ipp_tag_t g = IPP_TAG_SUBSCRIPTION;
  if (ipp_wants(ra, "notify-subscription-id"))
    ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-subscription-id", (int)s->id);
  if (ipp_wants(ra, "notify-printer-uri"))
    ippAddString(r, g, IPP_TAG_URI, "notify-printer-uri", NULL, c->printer_uri);
  if (ipp_wants(ra, "notify-events")) {
    char *copy = xstrdup(s->events && *s->events ? s->events : "none");
    const char *vals[32];
    int nv = 0;
    for (char *tok = strtok(copy, ","); tok && nv < 32; tok = strtok(NULL, ",")) vals[nv++] = tok;
    ippAddStrings(r, g, IPP_TAG_KEYWORD, "notify-events", nv, NULL, vals);
    free(copy);
  }
  if (ipp_wants(ra, "notify-pull-method"))
    ippAddString(r, g, IPP_TAG_KEYWORD, "notify-pull-method", NULL, "ippget");
  if (ipp_wants(ra, "notify-lease-duration"))
    ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-lease-duration", (int)s->lease_s);
  if (ipp_wants(ra, "notify-lease-expiration-time"))
    ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-lease-expiration-time",
                  s->expires_us ? ipp_up_time(c, s->expires_us) : 0);
  if (ipp_wants(ra, "notify-sequence-number"))
    ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-sequence-number", (int)s->last_seq);
  if (ipp_wants(ra, "notify-subscriber-user-name"))
    ippAddString(r, g, IPP_TAG_NAME, "notify-subscriber-user-name", NULL,
                 s->owner ? s->owner : "anonymous");
  if (ipp_wants(ra, "notify-time-interval"))
    ippAddInteger(r, g, IPP_TAG_INTEGER, "notify-time-interval", 0);
  if (ipp_wants(ra, "notify-charset"))
    ippAddString(r, g, IPP_TAG_CHARSET, "notify-charset", NULL, "utf-8");
  if (ipp_wants(ra, "notify-natural-language"))
    ippAddString(r, g, IPP_TAG_LANGUAGE, "notify-natural-language", NULL, "en");
  if (s->user_data && ipp_wants(ra, "notify-user-data"))
    ippAddOctetString(r, g, "notify-user-data", s->user_data, (int)s->user_data_len);
}

void ipp_get_subscription_attributes(ipp_client_t *c) {
  int64_t id = subscription_id(c);
  if (!id) return;
  store_ipp_subscription_t s;
  store_rc_t rc = store_ipp_subscription_get(c->store, c->device.tenant, c->device.printer_id, id,
                                             c->now_us, &s);
  if (rc != STORE_OK) {
    respond_sub_rc(c, rc, id);
    return;
  }
  cups_array_t *ra = ippCreateRequestedArray(c->request);
  add_subscription(c, &s, ra);
  cupsArrayDelete(ra);
  store_ipp_subscription_clear(&s);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

void ipp_get_subscriptions(ipp_client_t *c) {
  int64_t limit = 100;
  ipp_attribute_t *a = ipp_op_attr(c, "limit", IPP_TAG_INTEGER);
  if (a && ippGetInteger(a, 0) > 0 && ippGetInteger(a, 0) < limit) limit = ippGetInteger(a, 0);
  if (ipp_op_attr(c, "notify-job-id", IPP_TAG_ZERO)) {
    ipp_respond(c, IPP_STATUS_OK, NULL); /* job subscriptions are not offered: none */
    return;
  }
  store_ipp_subscription_t *subs = NULL;
  size_t n = 0;
  store_rc_t rc = store_ipp_subscription_list(c->store, c->device.tenant, c->device.printer_id,
                                              c->now_us, limit, &subs, &n);
  if (rc != STORE_OK) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The subscriptions could not be read; retry.");
    return;
  }
  cups_array_t *ra = ippCreateRequestedArray(c->request);
  for (size_t i = 0; i < n; i++) {
    if (i) ippAddSeparator(c->response);
    add_subscription(c, &subs[i], ra);
    store_ipp_subscription_clear(&subs[i]);
  }
  free(subs);
  cupsArrayDelete(ra);
  ipp_respond(c, IPP_STATUS_OK, n ? NULL : "No subscriptions.");
}
