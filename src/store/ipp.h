/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA side of the store (migration 3): what printers and print proxies (output
 * devices) see and change through /ipp/print/{printerId}.
 *
 * - Device credentials: the SHA-256 of a printer's device token (printers.device_secret_hash)
 *   and the fingerprint of its registered certificate (printers.cert_sha256).
 * - The device's view of each job (device_uuid, device_state, ...), written by the device
 *   transitions below, which change the Graph job through job_transition() like every other
 *   transition.
 * - Output devices (ipp_devices): the IPP attributes each device pushed with
 *   Update-Output-Device-Attributes, kept IPP-encoded.
 * - ippget subscriptions (ipp_subscriptions) and their events (ipp_events). Events are written
 *   by the same write closure as the change they report (store_ipp_job_changed in
 *   ipp-private.h, called from every job transition), so an event is never lost nor reported
 *   for a change that rolled back; each subscription numbers its events 1, 2, 3, ...
 *
 * Nothing here knows IPP encodings: job and printer states are stored as the Graph model holds
 * them (job_phase_t, printerProcessingState indexes), and src/ipp maps them when answering.
 * Ownership: strings and buffers in the structs are malloc'd; release them with the matching
 * *_clear() / *_free() function.
 */
#ifndef SPOOLD_STORE_IPP_H
#define SPOOLD_STORE_IPP_H

#include "core/job.h"
#include "store/jobs.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_IPP_EVENT_LIFE_S   300  /* ippget-event-life: events are kept this long */
#define STORE_IPP_EVENTS_MAX     1000 /* events kept per subscription (older ones are dropped) */
#define STORE_IPP_SUBS_MAX       64   /* subscriptions per printer */
#define STORE_IPP_SUB_IDLE_S     3600 /* a lease-0 subscription unpolled this long is dropped */
#define STORE_IPP_DEVICE_ATTRS_MAX (256 * 1024) /* bytes of one device's encoded attributes */

/* ---- device credentials ------------------------------------------------------------------- */

typedef struct store_ipp_credentials {
  char *printer_id;
  char *tenant;
  char *secret_hash;  /* hex SHA-256 of the device token; NULL when none was issued */
  char *cert_sha256;  /* hex SHA-256 of the registered certificate's DER; NULL when none */
} store_ipp_credentials_t;

/* Releases what *c holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_ipp_credentials_clear(store_ipp_credentials_t *c);

/* Reads the credentials of printer_id (in any tenant: printer ids are GUIDs unique across
 * tenants). STORE_NOT_FOUND when there is no such printer. */
store_rc_t store_ipp_credentials_get(store_t *st, const char *printer_id,
                                     store_ipp_credentials_t *out);

/* Replaces the device token hash of printer_id (the earlier token stops working at once).
 * STORE_NOT_FOUND when there is no such printer. */
store_rc_t store_ipp_device_secret_set(store_t *st, const char *printer_id,
                                       const char *secret_hash);

/* Sets printers.last_seen_us to now_us unless it is already within the last second (device
 * requests come in bursts; one write a second is plenty for lastSeenDateTime). */
store_rc_t store_ipp_printer_seen(store_t *st, const char *tenant, const char *printer_id,
                                  int64_t now_us);

/* ---- jobs as devices see them ------------------------------------------------------------- */

typedef struct store_ipp_job {
  store_job_t job;              /* the Graph job */
  char       *device_uuid;      /* output device that acknowledged it; NULL */
  int         device_state;     /* last output-device-job-state (3..9); 0 = never reported */
  char       *device_reasons;   /* comma-separated keywords; NULL */
  char       *device_message;   /* NULL */
  int         device_doc_state; /* last output-device-document-state; 0 = never reported */
  int64_t     impressions;      /* job-impressions-completed; -1 = never reported */
  int64_t     processing_us;    /* when a device acknowledged it; 0 = not yet */
  /* its (single) document */
  char       *doc_id;
  char       *doc_name;
  char       *doc_type;         /* contentType; "" until an upload session names it */
  int64_t     doc_size;
  int64_t     doc_uploaded_us;  /* 0: not fully uploaded */
  char       *doc_blob;         /* NULL until uploaded */
  char       *doc_sha256;       /* hex SHA-256 of the uploaded bytes; NULL until uploaded */
} store_ipp_job_t;

/* Releases what *j holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_ipp_job_clear(store_ipp_job_t *j);
/* Clears each of v[0..n) (store_ipp_job_clear) and frees v (NULL is a no-op). */
void store_ipp_jobs_free(store_ipp_job_t *v, size_t n);

/* Reads job job_id if it belongs to printer_id of tenant; STORE_NOT_FOUND otherwise. */
store_rc_t store_ipp_job_get(store_t *st, const char *tenant, const char *printer_id,
                             int64_t job_id, store_ipp_job_t *out);

typedef enum store_ipp_which {
  STORE_IPP_NOT_COMPLETED = 0, /* every non-terminal job */
  STORE_IPP_COMPLETED,         /* completed, canceled and aborted jobs, most recent first */
  STORE_IPP_FETCHABLE,         /* released to the printer, not yet acknowledged */
  STORE_IPP_ALL,
} store_ipp_which_t;

typedef struct store_ipp_job_filter {
  store_ipp_which_t which;
  const char       *user_upn;  /* only jobs created by this upn (case-insensitive); NULL: all */
  const char       *user_id;   /* only jobs created by this user id (oid); NULL: all */
  const char       *device_uuid; /* with the next flag: only jobs acknowledged by this device */
  bool              assigned_only;
  int64_t           limit;     /* at most this many (> 0) */
} store_ipp_job_filter_t;

/* Lists the jobs of printer_id matching f: ascending ids, except STORE_IPP_COMPLETED (most
 * recently ended first). *out is malloc'd (store_ipp_jobs_free); *n may be 0. */
store_rc_t store_ipp_job_list(store_t *st, const char *tenant, const char *printer_id,
                              const store_ipp_job_filter_t *f, store_ipp_job_t **out, size_t *n);

/* Why a device transition was refused (the IPP layer turns it into a status code). */
typedef enum store_ipp_refusal {
  STORE_IPP_REFUSED_NONE = 0,
  STORE_IPP_REFUSED_NOT_FETCHABLE, /* not released to the printer yet (not started) */
  STORE_IPP_REFUSED_HELD,          /* held by a processing print task */
  STORE_IPP_REFUSED_TERMINAL,      /* completed, canceled or aborted */
  STORE_IPP_REFUSED_OTHER_DEVICE,  /* acknowledged by another output device */
  STORE_IPP_REFUSED_NOT_ASSIGNED,  /* this device has not acknowledged it */
} store_ipp_refusal_t;

/* The outcome of a device transition. */
typedef struct store_ipp_result {
  store_ipp_refusal_t refusal;  /* with STORE_CONFLICT */
  char               *why;      /* with STORE_CONFLICT: a sentence for status-message */
  job_phase_t         from, to;
} store_ipp_result_t;

/* Releases what *r holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_ipp_result_clear(store_ipp_result_t *r);

/* Acknowledge-Job: device_uuid takes the job. A released job (JOB_FETCHABLE) moves to
 * JOB_ACQUIRED (isAcquiredByPrinter, acknowledgedDateTime, the device recorded); a job this
 * device already acknowledged is left as it is (STORE_OK). STORE_CONFLICT with r->refusal
 * otherwise. Events for the change are written in the same transaction. */
store_rc_t store_ipp_job_acknowledge(store_t *st, const char *tenant, const char *printer_id,
                                     int64_t job_id, const char *device_uuid,
                                     store_ipp_result_t *r);

/* What Update-Job-Status / Update-Document-Status report. */
typedef struct store_ipp_job_status {
  bool        has_event;       /* event is set: move the job with job_transition() */
  job_event_t event;           /* JOB_EV_DEVICE_* */
  int         details;         /* JOB_DETAIL_* bits for the new phase; -1: the phase's own */
  const char *description;     /* Graph status description; NULL: the phase's own */
  int         device_state;    /* 0: unchanged */
  const char *device_reasons;  /* NULL: unchanged */
  const char *device_message;  /* NULL: unchanged */
  int         device_doc_state;/* 0: unchanged */
  int64_t     impressions;     /* -1: unchanged */
} store_ipp_job_status_t;

/* Records what device_uuid reports about job job_id of printer_id and applies s->event.
 * Allowed only for a job this device acknowledged (STORE_CONFLICT, REFUSED_NOT_ASSIGNED or
 * REFUSED_OTHER_DEVICE) that is not terminal (REFUSED_TERMINAL). A report that does not
 * change the phase (processing while processing) only records the device's view. */
store_rc_t store_ipp_job_status(store_t *st, const char *tenant, const char *printer_id,
                                int64_t job_id, const char *device_uuid,
                                const store_ipp_job_status_t *s, store_ipp_result_t *r);

/* ---- output devices ------------------------------------------------------------------------ */

/* How a device's pushed attributes change the Graph printer; JSON texts, NULL = unchanged. */
typedef struct store_ipp_printer_patch {
  int   status_state;        /* printerProcessingState index; -1: unchanged */
  char *status_details;      /* JSON array of detail names; NULL: unchanged */
  char *status_description;  /* NULL: unchanged */
  int   accepting;           /* 1/0; -1: unchanged */
  char *capabilities_merge;  /* JSON object merged member-wise into capabilities */
  char *defaults_merge;      /* JSON object merged into defaults and factory defaults */
} store_ipp_printer_patch_t;

/* Releases what *p holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_ipp_printer_patch_clear(store_ipp_printer_patch_t *p);

/* Called inside the write closure with the device's stored attributes (NULL, 0 for a new
 * device): returns 0 with *attrs (malloc'd; the new encoded attributes) and *patch filled,
 * or -1 (the update is refused and nothing changes). Pure: it may be called again. */
typedef int (*store_ipp_merge_fn)(const void *old_attrs, size_t old_len, void **attrs,
                                  size_t *len, store_ipp_printer_patch_t *patch, void *arg);

/* Update-Output-Device-Attributes: in one transaction, creates or updates device uuid of
 * printer_id with the attributes merge() makes, applies the printer patch to the Graph
 * printer (status, isAcceptingJobs, capabilities, defaults), sets lastSeenDateTime and writes
 * printer-state-changed / printer-stopped / printer-config-changed events for what changed.
 * STORE_INVALID when merge() refused; STORE_NOT_FOUND when the printer is gone. */
store_rc_t store_ipp_device_update(store_t *st, const char *tenant, const char *printer_id,
                                   const char *uuid, store_ipp_merge_fn merge, void *arg,
                                   int64_t now_us);

/* Reads the attributes device uuid last pushed: *attrs (malloc'd) and *len. STORE_NOT_FOUND
 * for an unknown device. */
store_rc_t store_ipp_device_get(store_t *st, const char *tenant, const char *printer_id,
                                const char *uuid, void **attrs, size_t *len);

/* Deregister-Output-Device: removes device uuid and the subscriptions it created.
 * STORE_NOT_FOUND for an unknown device. */
store_rc_t store_ipp_device_remove(store_t *st, const char *tenant, const char *printer_id,
                                   const char *uuid);

/* Output devices of printer_id and its non-terminal released jobs (queued-job-count). *uuids
 * (malloc'd array of malloc'd strings; store_strings_free in store/store.h) may be NULL. */
store_rc_t store_ipp_printer_counts(store_t *st, const char *tenant, const char *printer_id,
                                    int64_t *queued, char ***uuids, size_t *nuuids);

/* ---- Identify-Printer (PWG 5100.13 on a share, forwarded per PWG 5100.18) ------------------ */

#define STORE_IPP_IDENTIFY_LIFE_S  300 /* a request no device acknowledged lapses after this */
#define STORE_IPP_IDENTIFY_REACH_S 180 /* a subscription polled this recently reaches a device */

/* Whether Identify-Printer can reach printer_id's output device (*reachable: a live ippget
 * subscription asking for printer-state-changed was polled within STORE_IPP_IDENTIFY_REACH_S)
 * and whether a request waits for it (*pending). Either pointer may be NULL. */
store_rc_t store_ipp_identify_state(store_t *st, const char *tenant, const char *printer_id,
                                    int64_t now_us, bool *reachable, bool *pending);

/* Records an Identify-Printer request for printer_id (actions: identify-actions,
 * comma-separated; message may be NULL), replacing a pending one, and writes a
 * printer-state-changed event whose state details include identifyPrinterRequested, in one
 * transaction. STORE_CONFLICT when no device is reachable (nothing is written). */
store_rc_t store_ipp_identify_request(store_t *st, const char *tenant, const char *printer_id,
                                      const char *actions, const char *message, int64_t now_us);

/* Acknowledge-Identify-Printer: removes the pending request of printer_id and returns its
 * *actions (comma-separated) and *message (NULL when none), both malloc'd, writing a
 * printer-state-changed event without identifyPrinterRequested. STORE_NOT_FOUND when none is
 * pending (or it lapsed). */
store_rc_t store_ipp_identify_take(store_t *st, const char *tenant, const char *printer_id,
                                   int64_t now_us, char **actions, char **message);

/* ---- subscriptions and events ------------------------------------------------------------ */

typedef struct store_ipp_subscription {
  int64_t id;
  char   *printer_id;
  char   *events;        /* comma-separated notify-events */
  char   *device_uuid;   /* NULL */
  char   *owner;         /* NULL */
  void   *user_data;     /* NULL */
  size_t  user_data_len;
  int64_t lease_s;       /* 0: no expiry */
  int64_t expires_us;    /* 0: no expiry */
  int64_t last_seq;
  int64_t created_us;
  int64_t used_us;
} store_ipp_subscription_t;

/* Releases what *s holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_ipp_subscription_clear(store_ipp_subscription_t *s);

/* Creates a subscription of printer_id (events, device_uuid, owner, user_data from *n; lease_s
 * and now_us give expires_us) and sets *id. Expired subscriptions of the printer, and lease-0
 * ones nobody polled for STORE_IPP_SUB_IDLE_S, are removed first; when the printer still has
 * STORE_IPP_SUBS_MAX, the least recently polled one is removed to make room. */
store_rc_t store_ipp_subscription_create(store_t *st, const char *tenant, const char *printer_id,
                                         const store_ipp_subscription_t *n, int64_t now_us,
                                         int64_t *id);

/* Reads subscription id of printer_id; STORE_NOT_FOUND when unknown or expired. */
store_rc_t store_ipp_subscription_get(store_t *st, const char *tenant, const char *printer_id,
                                      int64_t id, int64_t now_us, store_ipp_subscription_t *out);

/* The live subscriptions of printer_id in id order, at most limit: *out (malloc'd; clear each
 * with store_ipp_subscription_clear, then free the array) and *n. */
store_rc_t store_ipp_subscription_list(store_t *st, const char *tenant, const char *printer_id,
                                       int64_t now_us, int64_t limit,
                                       store_ipp_subscription_t **out, size_t *n);

/* Renew-Subscription: a new lease from now_us (0: no expiry). STORE_NOT_FOUND as above. */
store_rc_t store_ipp_subscription_renew(store_t *st, const char *tenant, const char *printer_id,
                                        int64_t id, int64_t lease_s, int64_t now_us);

/* Cancel-Subscription: removes it with its events. STORE_NOT_FOUND as above. */
store_rc_t store_ipp_subscription_cancel(store_t *st, const char *tenant, const char *printer_id,
                                         int64_t id, int64_t now_us);

/* Records that subscriptions ids[0..n) were polled at now_us (kept fresh against the idle
 * rule; written at most once a minute per subscription). */
store_rc_t store_ipp_subscriptions_used(store_t *st, const char *tenant, const int64_t *ids,
                                        size_t n, int64_t now_us);

typedef struct store_ipp_event {
  int64_t subscription_id;
  int64_t seq;
  char   *event;             /* notify-subscribed-event */
  int64_t created_us;
  int64_t job_id;            /* 0 for printer events */
  int     job_phase;         /* job_phase_t */
  unsigned job_details;
  int     job_device_state;
  int     printer_state;     /* printer events: printerProcessingState index; -1 */
  char   *printer_details;   /* JSON array; NULL */
  int     printer_accepting; /* 1/0; -1 */
  char   *text;              /* notify-text; NULL */
} store_ipp_event_t;

/* Releases the strings of each of v[0..n) and frees v (NULL is a no-op). */
void store_ipp_events_free(store_ipp_event_t *v, size_t n);

/* Get-Notifications: for each subscription ids[i] of printer_id (seqs[i] = the lowest sequence
 * number wanted, 1 when nseqs <= i), its events with seq >= seqs[i], ordered by subscription
 * then seq, at most max events in all. STORE_NOT_FOUND when one of the subscriptions is
 * unknown or expired (*missing = its id). *subs (n entries, same order as ids) receives the
 * subscriptions (free each with store_ipp_subscription_clear, then the array). */
store_rc_t store_ipp_events_get(store_t *st, const char *tenant, const char *printer_id,
                                const int64_t *ids, size_t n, const int64_t *seqs, size_t nseqs,
                                size_t max, int64_t now_us, store_ipp_subscription_t **subs,
                                store_ipp_event_t **events, size_t *nevents, int64_t *missing);

/* Called once after each commit on st that wrote IPP events (any thread; must be quick), and
 * when another process sharing the database wrote some (store_listen), e.g. to wake
 * Get-Notifications requests waiting for events. NULL removes it; once that returns no call is
 * in progress. */
void store_ipp_set_listener(store_t *st, void (*fn)(void *arg), void *arg);

#endif
