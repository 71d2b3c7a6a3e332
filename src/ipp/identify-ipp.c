/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identify-Printer, forwarded from a printer share to the printer's output device.
 *
 * A client's Identify-Printer (PWG 5100.13) on /ipp/share/{id} is recorded as the printer's
 * pending request (store_ipp_identify_request), which writes a printer-state-changed event
 * whose printer-state-reasons include identify-printer-requested. The output device (a print
 * proxy or an INFRA printer polling Get-Notifications) then sends Acknowledge-Identify-Printer
 * to /ipp/print/{printerId} and receives identify-actions and message in the operation group
 * (PWG 5100.18), which clears the reason. The operation is served only while a device can
 * learn of it (a live subscription to printer-state-changed that it polls): otherwise the share
 * does not list it in operations-supported and answers server-error-operation-not-supported.
 */
#include "ipp/ipp-private.h"
#include "ipp/share-ipp.h"
#include "store/ipp.h"
#include "util/buf.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ACTIONS 8

/* The identify-actions values the share lists (identify-actions-supported of the printer's
 * output device, else "display"). */
static size_t supported_actions(ipp_t *attrs, const char *out[MAX_ACTIONS]) {
  ipp_attribute_t *a = ippFindAttribute(attrs, "identify-actions-supported", IPP_TAG_KEYWORD);
  size_t n = 0;
  for (int i = 0; a && i < ippGetCount(a) && n < MAX_ACTIONS; i++) out[n++] = ippGetString(a, i, NULL);
  if (!n) out[n++] = "display";
  return n;
}

static bool listed(const char *const *v, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (v[i] && !strcmp(v[i], s)) return true;
  return false;
}

/* Identify-Printer on a share; see share-ipp.h. */
void ipp_share_identify_printer(ipp_client_t *c) {
  bool reachable = false;
  if (store_ipp_identify_state(c->store, c->device.tenant, c->device.printer_id, c->now_us,
                               &reachable, NULL) != STORE_OK) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The printer could not be read; retry shortly.");
    return;
  }
  if (!reachable) {
    ipp_respond(c, IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED,
                "Identify-Printer is not available: no output device of this printer is "
                "connected to receive it.");
    return;
  }
  ipp_t *attrs = ipp_printer_attributes(c);
  const char *supported[MAX_ACTIONS];
  size_t nsup = supported_actions(attrs, supported);
  buf_t actions = BUF_INIT;
  ipp_attribute_t *a = ipp_op_attr(c, "identify-actions", IPP_TAG_ZERO);
  bool bad = false;
  if (a) {
    if (ippGetValueTag(a) != IPP_TAG_KEYWORD) bad = true;
    for (int i = 0; !bad && i < ippGetCount(a); i++) {
      const char *v = ippGetString(a, i, NULL);
      if (!v || !listed(supported, nsup, v)) bad = true;
      else buf_printf(&actions, "%s%s", actions.len ? "," : "", v);
    }
  } else {
    ipp_attribute_t *d = ippFindAttribute(attrs, "identify-actions-default", IPP_TAG_KEYWORD);
    for (int i = 0; d && i < ippGetCount(d); i++)
      buf_printf(&actions, "%s%s", actions.len ? "," : "", ippGetString(d, i, NULL));
    if (!actions.len) buf_puts(&actions, supported[0]);
  }
  ipp_attribute_t *m = ipp_op_attr(c, "message", IPP_TAG_ZERO);
  const char *message = NULL;
  if (!bad && m) {
    message = ippGetString(m, 0, NULL);
    if ((ippGetValueTag(m) != IPP_TAG_TEXT && ippGetValueTag(m) != IPP_TAG_TEXTLANG) ||
        ippGetCount(m) != 1 || !message || strlen(message) > 127) {
      ipp_respond(c, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, "message must be one text(127).");
      ipp_respond_unsupported(c, m);
      goto done;
    }
  }
  if (bad) {
    ipp_respond(c, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
                "identify-actions must be keywords among identify-actions-supported.");
    ipp_respond_unsupported(c, a);
    goto done;
  }
  store_rc_t rc = store_ipp_identify_request(c->store, c->device.tenant, c->device.printer_id,
                                             actions.data, message, c->now_us);
  if (rc == STORE_OK) {
    log_info("ipp share %s: Identify-Printer (%s) forwarded to printer %s", c->share_id,
             actions.data, c->device.printer_id);
    ipp_respond(c, IPP_STATUS_OK, NULL);
  } else if (rc == STORE_CONFLICT) {
    ipp_respond(c, IPP_STATUS_ERROR_OPERATION_NOT_SUPPORTED,
                "Identify-Printer is not available: no output device of this printer is "
                "connected to receive it.");
  } else {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The request could not be recorded; retry.");
  }
done:
  buf_free(&actions);
  ippDelete(attrs);
}

/* Acknowledge-Identify-Printer (INFRA); see ipp-private.h. */
void ipp_acknowledge_identify_printer(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c)) return;
  char *actions = NULL, *message = NULL;
  store_rc_t rc = store_ipp_identify_take(c->store, c->device.tenant, c->device.printer_id,
                                          c->now_us, &actions, &message);
  if (rc == STORE_NOT_FOUND) {
    ipp_respond(c, IPP_STATUS_ERROR_NOT_POSSIBLE, "No Identify-Printer request is pending.");
    return;
  }
  if (rc != STORE_OK) {
    ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The request could not be read; retry.");
    return;
  }
  const char *v[MAX_ACTIONS];
  int n = 0;
  for (char *p = actions; *p && n < MAX_ACTIONS;) {
    size_t len = strcspn(p, ",");
    v[n++] = p;
    p += len;
    if (*p == ',') *p++ = '\0';
  }
  ipp_respond(c, IPP_STATUS_OK, NULL);
  if (n) ippAddStrings(c->response, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "identify-actions", n,
                       NULL, v);
  if (message) ippAddString(c->response, IPP_TAG_OPERATION, IPP_TAG_TEXT, "message", NULL, message);
  free(actions);
  free(message);
}
