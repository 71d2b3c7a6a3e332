/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Change-notification subscriptions and the notification outbox, as the store keeps them.
 *
 * A subscription watches one print resource for one app of a tenant: the tasks created under a
 * task definition (kind STORE_SUB_TASKS, changeType "created") or the jobs of a printer that
 * become fetchable (kind STORE_SUB_PRINTER_JOBS, changeType "updated"). Notifications are
 * queued as outbox rows by the store modules that make the change (store/outbox.h, inside
 * their transaction) and by this module (lifecycle notifications); the delivery worker
 * (src/notify/delivery.c) takes due rows with store_outbox_due(), POSTs them and reports back
 * with store_outbox_settle().
 *
 * Ownership: strings in the structs below are malloc'd by the store and released with the
 * matching *_clear() / *_free() function.
 */
#ifndef SPOOLD_STORE_SUBSCRIPTIONS_H
#define SPOOLD_STORE_SUBSCRIPTIONS_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum store_sub_kind {
  STORE_SUB_TASKS = 1,        /* print/taskDefinitions/{target}/tasks, created */
  STORE_SUB_PRINTER_JOBS = 2, /* print/printers/{target}/jobs, updated, isFetchable eq true */
} store_sub_kind_t;

typedef struct store_subscription {
  char            *id;               /* GUID */
  char            *tenant;
  char            *app_id;           /* applicationId: the creating app */
  char            *creator_id;       /* creatorId: the app's service principal (oid); may be NULL */
  char            *resource;         /* normalised: "print/taskDefinitions/{id}/tasks" */
  store_sub_kind_t kind;
  char            *target_id;        /* the task definition or printer id */
  char            *change_type;      /* "created" or "updated" */
  char            *client_state;     /* may be NULL */
  char            *notification_url;
  char            *lifecycle_url;    /* lifecycleNotificationUrl; may be NULL */
  char            *query_options;    /* notificationQueryOptions as sent; may be NULL */
  char            *tls_version;      /* latestSupportedTlsVersion ("v1_2") */
  int64_t          expires_us;
  int64_t          created_us;
} store_subscription_t;

/* Releases what *s holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_subscription_clear(store_subscription_t *s);

/* Looks up the object a subscription would watch, in tenant: the task definition (kind
 * STORE_SUB_TASKS) or printer (STORE_SUB_PRINTER_JOBS) whose id equals target_id ignoring
 * case. On STORE_OK *canonical_id receives its id as stored and, for task definitions,
 * *owner_app (when not NULL) the appId that created it (printers: NULL); the caller frees
 * both. STORE_NOT_FOUND when there is none. */
store_rc_t store_subscription_target(store_t *st, const char *tenant, store_sub_kind_t kind,
                                     const char *target_id, char **canonical_id,
                                     char **owner_app);

/* Creates subscription s (every member set by the caller, id included) once the watched
 * object is confirmed to exist in the same transaction. STORE_NOT_FOUND when it no longer
 * does; STORE_CONFLICT when the app already has an unexpired subscription with the same
 * resource and changeType (an expired one that the sweeper has not removed yet is replaced). */
store_rc_t store_subscription_create(store_t *st, const store_subscription_t *s);

/* Reads subscription id of tenant into *out (cleared by the caller); STORE_NOT_FOUND when
 * there is none or it has expired. */
store_rc_t store_subscription_get(store_t *st, const char *tenant, const char *id,
                                  store_subscription_t *out);

/* Calls fn for each unexpired subscription of app_id in tenant, ordered by creation time;
 * fn's non-zero return stops the walk. */
store_rc_t store_subscription_list(store_t *st, const char *tenant, const char *app_id,
                                   int (*fn)(const store_subscription_t *s, void *arg),
                                   void *arg);

/* Renews subscription id of app_id in tenant: sets its expiration to expires_us and, when
 * notification_url is not NULL, its notification URL (pending notifications then go to the
 * new URL). STORE_NOT_FOUND when app_id has no such unexpired subscription. On STORE_OK *out
 * (when not NULL; cleared by the caller) receives the subscription after the change. */
store_rc_t store_subscription_renew(store_t *st, const char *tenant, const char *id,
                                    const char *app_id, int64_t expires_us,
                                    const char *notification_url, store_subscription_t *out);

/* Deletes subscription id of app_id in tenant with its pending change notifications.
 * STORE_NOT_FOUND when app_id has no such subscription. */
store_rc_t store_subscription_delete(store_t *st, const char *tenant, const char *id,
                                     const char *app_id);

/* Removes every subscription that expired at or before now_us, with its pending change
 * notifications, queueing a subscriptionRemoved lifecycle notification for each one that has
 * a lifecycleNotificationUrl. *removed (when not NULL) receives how many were removed. */
store_rc_t store_subscription_sweep(store_t *st, int64_t now_us, unsigned *removed);

/* ---- the outbox, for the delivery worker -------------------------------------------------- */

typedef enum store_outbox_kind {
  STORE_OUTBOX_CHANGE = 0,               /* a change notification */
  STORE_OUTBOX_SUBSCRIPTION_REMOVED = 1, /* lifecycle: the subscription expired */
  STORE_OUTBOX_MISSED = 2,               /* lifecycle: change notifications were dropped */
} store_outbox_kind_t;

typedef struct store_outbox_row {
  char               *id;
  char               *tenant;
  char               *subscription_id;
  store_outbox_kind_t kind;
  char               *url;        /* where to POST */
  char               *payload;    /* the JSON body {"value":[...]} */
  int64_t             created_us;
  int64_t             due_us;
  int                 attempts;   /* failed attempts so far */
  int64_t             claim_us;   /* shared database: the lease this process holds on the row
                                   * (its due_us until settled); 0: not claimed */
} store_outbox_row_t;

/* Releases what *r holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_outbox_row_clear(store_outbox_row_t *r);

/* Endpoint selection for store_outbox_due(): called once per URL that has due rows, with how
 * many rows to that URL the worker may still start; returns that number (0 skips the URL). */
typedef unsigned (*store_outbox_budget_fn)(const char *url, void *arg);
/* Called for each candidate row; returns false when the row is already being delivered (the
 * store then offers the next one). The row belongs to the store: copy what is kept. */
typedef bool (*store_outbox_take_fn)(const store_outbox_row_t *row, void *arg);

/* Offers the rows due at now_us, endpoint by endpoint: for each URL with due rows, up to
 * budget(url) rows in due order, skipping those take() refuses. At most max rows are taken in
 * all. One endpoint's backlog therefore never hides another endpoint's rows. *next_due_us
 * (when not NULL) receives the earliest due time after now_us (INT64_MAX when none).
 *
 * On a database several processes share (PostgreSQL) the rows are claimed first: one write
 * transaction locks them (FOR UPDATE SKIP LOCKED, so processes looking at once take different
 * rows) and moves their due time to now_us + lease_us, the lease; take() is then called after
 * the commit with row->claim_us set to that time. A process that dies holding a lease leaves
 * the row due again when the lease ends, and another process delivers it. lease_us must exceed
 * the longest delivery attempt. On SQLite (one process) rows are offered from a read
 * transaction and claim_us is 0. */
store_rc_t store_outbox_due(store_t *st, int64_t now_us, int64_t lease_us, unsigned max,
                            store_outbox_budget_fn budget, store_outbox_take_fn take, void *arg,
                            int64_t *next_due_us);

/* The outcome of one delivery attempt. */
typedef enum store_outbox_outcome {
  STORE_OUTBOX_DELIVERED = 0, /* 2xx: delete the row */
  STORE_OUTBOX_RETRY = 1,     /* failed: retry at retry_us */
  STORE_OUTBOX_DROP = 2,      /* failed for the last time: delete the row; a change
                                 notification queues a `missed` lifecycle notification when its
                                 subscription has a lifecycleNotificationUrl */
} store_outbox_outcome_t;

typedef struct store_outbox_result {
  const char            *id;        /* the row */
  store_outbox_outcome_t outcome;
  int64_t                retry_us;  /* STORE_OUTBOX_RETRY: the new due time */
  const char            *error;     /* what failed, kept in last_error; may be NULL */
  int64_t                claim_us;  /* the row's claim_us: when not 0 the outcome applies only
                                     * while the row still carries this lease (a row another
                                     * process claimed after the lease ended is left to it) */
} store_outbox_result_t;

/* Applies n delivery outcomes in one transaction. Rows deleted in the meantime (their
 * subscription went away) are skipped. *missed (when not NULL) receives how many `missed`
 * lifecycle notifications were queued. */
store_rc_t store_outbox_settle(store_t *st, const store_outbox_result_t *results, size_t n,
                               unsigned *missed);

/* What is waiting for delivery to one subscription: queued notifications, the failed attempts
 * of the most tried one, the last delivery error (malloc'd or NULL) and when the next attempt
 * is due (0 when nothing is queued). Cleared with store_delivery_state_clear. */
typedef struct store_delivery_state {
  int64_t queued;
  int64_t failed_attempts;
  char   *last_error;
  int64_t next_attempt_us;
  int64_t oldest_us;        /* when the oldest queued notification was queued (0: none) */
} store_delivery_state_t;

/* Releases what *d holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_delivery_state_clear(store_delivery_state_t *d);
/* Reads the delivery state of subscription_id of tenant into *out. */
store_rc_t store_subscription_delivery(store_t *st, const char *tenant,
                                       const char *subscription_id, store_delivery_state_t *out);

/* Number of rows in the outbox (for /metrics and tests). */
store_rc_t store_outbox_count(store_t *st, int64_t *out);

/* The function called (with arg) after every commit on st that queued outbox rows, on the
 * committing thread: the delivery worker sets it to wake itself. fn must be quick and must not
 * call the store. NULL removes it; once that returns no call is in progress. */
void store_outbox_set_listener(store_t *st, void (*fn)(void *arg), void *arg);

#endif
