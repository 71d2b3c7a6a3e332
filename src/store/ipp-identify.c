/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA side of the store (store/ipp.h), Identify-Printer forwarding (migration 7):
 * a client's Identify-Printer on a printer share is kept as the printer's pending request
 * (ipp_identify, one per printer) and announced to its output devices as a
 * printer-state-changed event whose printer-state-reasons carry identify-printer-requested
 * (PWG 5100.18); the device takes it with Acknowledge-Identify-Printer, which removes it and
 * announces the reason gone. Requests and acknowledgements write their events in the same
 * transaction, like every other change.
 */
#include "store/ipp.h"
#include "store/ipp-private.h"
#include "store/store-private.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define IDENTIFY_DETAIL "identifyPrinterRequested" /* printerProcessingStateDetail */

typedef struct identify_arg {
  const char *tenant, *printer_id, *actions, *message;
  int64_t     now;
  bool        reachable, pending;
  char       *out_actions, *out_message;
} identify_arg_t;

/* True when a live subscription of the printer that asked for printer-state-changed was
 * polled within STORE_IPP_IDENTIFY_REACH_S: a device that learns of the request. */
static int reachable_read(db_conn_t *c, identify_arg_t *a) {
  db_stmt_t *s = db_prepare(c, "SELECT events FROM ipp_subscriptions"
                               " WHERE tenant_id = ? AND printer_id = ?"
                               " AND (expires_us IS NULL OR expires_us > ?) AND used_us > ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->tenant);
  db_bind_text(s, 2, a->printer_id);
  db_bind_int64(s, 3, a->now);
  db_bind_int64(s, 4, a->now - (int64_t)STORE_IPP_IDENTIFY_REACH_S * 1000000);
  int rc;
  a->reachable = false;
  while ((rc = db_step(s)) == DB_ROW) {
    char *ev = store_col_strdup(s, 0, true);
    for (const char *p = ev; *p && !a->reachable;) {
      size_t n = strcspn(p, ",");
      if (n == strlen("printer-state-changed") && !strncmp(p, "printer-state-changed", n))
        a->reachable = true;
      p += n;
      if (*p == ',') p++;
    }
    free(ev);
  }
  db_reset(s);
  return rc == DB_DONE ? 0 : DB_ERROR;
}

/* The pending request of the printer (not lapsed): a->pending and, with want, its values. */
static int pending_read(db_conn_t *c, identify_arg_t *a, bool want) {
  db_stmt_t *s = db_prepare(c, "SELECT actions, message FROM ipp_identify"
                               " WHERE printer_id = ? AND tenant_id = ? AND requested_us > ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  db_bind_int64(s, 3, a->now - (int64_t)STORE_IPP_IDENTIFY_LIFE_S * 1000000);
  int rc = db_step(s);
  a->pending = rc == DB_ROW;
  if (rc == DB_ROW && want) {
    a->out_actions = store_col_strdup(s, 0, true);
    a->out_message = db_col_null(s, 1) ? NULL : store_col_strdup(s, 1, true);
  }
  db_reset(s);
  return rc == DB_ROW || rc == DB_DONE ? 0 : DB_ERROR;
}

/* printer-state-changed for the printer as it is, with or without identifyPrinterRequested
 * among its state details. */
static int state_event(db_conn_t *c, identify_arg_t *a, bool requested) {
  db_stmt_t *s = db_prepare(c, "SELECT status_state, status_details, status_description,"
                               " is_accepting_jobs FROM printers WHERE id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  int rc = db_step(s);
  if (rc != DB_ROW) {
    db_reset(s);
    return rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
  }
  int state = (int)db_col_int64(s, 0);
  char *details = store_col_strdup(s, 1, true);
  char *description = store_col_strdup(s, 2, true);
  int accepting = db_col_null(s, 3) ? -1 : db_col_int64(s, 3) != 0;
  db_reset(s);

  json_t *d = json_loads(details, 0, NULL);
  if (!json_is_array(d)) {
    json_decref(d);
    d = json_array();
  }
  for (size_t i = json_array_size(d); i-- > 0;) {
    const char *v = json_string_value(json_array_get(d, i));
    if (v && (!strcmp(v, "none") || !strcmp(v, IDENTIFY_DETAIL))) json_array_remove(d, i);
  }
  if (requested) json_array_append_new(d, json_string(IDENTIFY_DETAIL));
  char *text = json_dumps(d, JSON_COMPACT);
  json_decref(d);
  ev_payload_t p = {.printer_state = state, .printer_accepting = accepting,
                    .printer_details = text, .text = description};
  ev_candidate_t cand = {"printer-state-changed", NULL};
  rc = store_ipp_events_emit(c, a->tenant, a->printer_id, &cand, 1, &p, a->now);
  free(text);
  free(details);
  free(description);
  return rc;
}

static int state_fn(db_conn_t *c, void *arg) {
  identify_arg_t *a = arg;
  int rc = reachable_read(c, a);
  return rc ? rc : pending_read(c, a, false);
}

/* Whether Identify-Printer is served and pending; see ipp.h. */
store_rc_t store_ipp_identify_state(store_t *st, const char *tenant, const char *printer_id,
                                    int64_t now_us, bool *reachable, bool *pending) {
  identify_arg_t a = {.tenant = tenant, .printer_id = printer_id, .now = now_us};
  store_rc_t rc = store_rc(db_read(st->db, state_fn, &a));
  if (reachable) *reachable = rc == STORE_OK && a.reachable;
  if (pending) *pending = rc == STORE_OK && a.pending;
  return rc;
}

static int request_fn(db_conn_t *c, void *arg) {
  identify_arg_t *a = arg;
  int rc = reachable_read(c, a);
  if (rc) return rc;
  if (!a->reachable) return STORE_CONFLICT;
  db_stmt_t *s = db_prepare(c, "DELETE FROM ipp_identify WHERE printer_id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  if ((rc = store_step_done(s)) != 0) return rc;
  s = db_prepare(c, "INSERT INTO ipp_identify (printer_id, tenant_id, actions, message,"
                    " requested_us) VALUES (?, ?, ?, ?, ?)");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  db_bind_text(s, 3, a->actions);
  if (a->message) db_bind_text(s, 4, a->message);
  else db_bind_null(s, 4);
  db_bind_int64(s, 5, a->now);
  if ((rc = store_step_done(s)) != 0) return rc;
  return state_event(c, a, true);
}

/* Identify-Printer on a share; see ipp.h. */
store_rc_t store_ipp_identify_request(store_t *st, const char *tenant, const char *printer_id,
                                      const char *actions, const char *message, int64_t now_us) {
  if (!tenant || !printer_id || !actions) return STORE_ERROR;
  identify_arg_t a = {.tenant = tenant, .printer_id = printer_id, .actions = actions,
                      .message = message, .now = now_us};
  return store_rc(db_write(st->db, request_fn, &a));
}

static int take_fn(db_conn_t *c, void *arg) {
  identify_arg_t *a = arg;
  free(a->out_actions);
  free(a->out_message);
  a->out_actions = a->out_message = NULL;
  int rc = pending_read(c, a, true);
  if (rc) return rc;
  db_stmt_t *s = db_prepare(c, "DELETE FROM ipp_identify WHERE printer_id = ? AND tenant_id = ?");
  if (!s) return DB_ERROR;
  db_bind_text(s, 1, a->printer_id);
  db_bind_text(s, 2, a->tenant);
  if ((rc = store_step_done(s)) != 0) return rc;
  if (!a->pending) return STORE_NOT_FOUND;
  return state_event(c, a, false);
}

/* Acknowledge-Identify-Printer; see ipp.h. */
store_rc_t store_ipp_identify_take(store_t *st, const char *tenant, const char *printer_id,
                                   int64_t now_us, char **actions, char **message) {
  identify_arg_t a = {.tenant = tenant, .printer_id = printer_id, .now = now_us};
  *actions = *message = NULL;
  int rc = db_write(st->db, take_fn, &a);
  if (rc == 0) {
    *actions = a.out_actions;
    *message = a.out_message;
    return STORE_OK;
  }
  free(a.out_actions);
  free(a.out_message);
  return store_rc(rc);
}
