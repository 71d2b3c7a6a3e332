/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printer and output-device operations of the IPP INFRA endpoint: Get-Printer-Attributes,
 * Update-Output-Device-Attributes, Get-Output-Device-Attributes and Deregister-Output-Device.
 *
 * The infrastructure printer's attributes come from the Graph printer (status, isAcceptingJobs,
 * capabilities and defaults, mapped by mapping.c) plus what the endpoint itself supports;
 * attributes only a device knows (media-col-database, marker levels, ...) are passed through
 * from the output device that pushed most recently. Update-Output-Device-Attributes registers
 * the device implicitly (as ippserver does), keeps everything it pushed (IPP-encoded, merged
 * value by value, including the sparse name.N / name.N-M forms and delete-attribute) and turns
 * it into the Graph printer's status, isAcceptingJobs, capabilities and defaults.
 */
#include "ipp/ipp-private.h"
#include "mapping/mapping.h"
#include "store/pullprint.h"
#include "util/buf.h"
#include "util/log.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- encoding of a device's attributes ----------------------------------------------------- */

/* Decodes stored attributes (an empty set for NULL or unreadable data) as the request the next
 * merge starts from. */
static ipp_t *attrs_decode(const void *data, size_t len) {
  ipp_t *ipp = ipp_map_attrs_decode(data, len);
  ippSetVersion(ipp, 2, 0);
  ippSetOperation(ipp, IPP_OP_UPDATE_OUTPUT_DEVICE_ATTRIBUTES);
  ippSetRequestId(ipp, 1);
  return ipp;
}

/* ---- merging pushed attributes ------------------------------------------------------------- */

/* "name.N" or "name.N-M": the base name and the 1-based value range. */
static bool parse_sparse(const char *name, char *base, size_t baselen, int *lo, int *hi) {
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name || !isdigit((unsigned char)dot[1])) return false;
  char *end;
  long a = strtol(dot + 1, &end, 10), b = a;
  if (*end == '-') b = strtol(end + 1, &end, 10);
  if (*end || a < 1 || b < a || b > 65535) return false;
  size_t n = (size_t)(dot - name);
  if (n >= baselen) return false;
  memcpy(base, name, n);
  base[n] = '\0';
  *lo = (int)a;
  *hi = (int)b;
  return true;
}

/* Sets value di of *dst to value si of src (same value tag); false when it cannot. */
static bool copy_value(ipp_t *ipp, ipp_attribute_t **dst, int di, ipp_attribute_t *src, int si) {
  switch (ippGetValueTag(src)) {
    case IPP_TAG_INTEGER:
    case IPP_TAG_ENUM: return ippSetInteger(ipp, dst, di, ippGetInteger(src, si));
    case IPP_TAG_BOOLEAN: return ippSetBoolean(ipp, dst, di, ippGetBoolean(src, si));
    case IPP_TAG_RANGE: {
      int hi, lo = ippGetRange(src, si, &hi);
      return ippSetRange(ipp, dst, di, lo, hi);
    }
    case IPP_TAG_RESOLUTION: {
      ipp_res_t u;
      int y, x = ippGetResolution(src, si, &y, &u);
      return ippSetResolution(ipp, dst, di, u, x, y);
    }
    case IPP_TAG_DATE: return ippSetDate(ipp, dst, di, ippGetDate(src, si));
    case IPP_TAG_BEGIN_COLLECTION: return ippSetCollection(ipp, dst, di, ippGetCollection(src, si));
    case IPP_TAG_STRING: {
      int len = 0;
      void *data = ippGetOctetString(src, si, &len);
      return ippSetOctetString(ipp, dst, di, data, len);
    }
    default: {
      const char *s = ippGetString(src, si, NULL);
      return s && ippSetString(ipp, dst, di, s);
    }
  }
}

/* Replaces values lo..hi (1-based) of existing with the values of src (none: deletes them). */
static void apply_sparse(ipp_t *merged, ipp_attribute_t *existing, ipp_attribute_t *src, int lo,
                         int hi) {
  int count = ippGetCount(existing);
  int nsrc = ippGetValueTag(src) == IPP_TAG_DELETEATTR ? 0 : ippGetCount(src);
  typedef struct { ipp_attribute_t *a; int i; } val_t;
  int total = 0;
  val_t *v = xcalloc((size_t)count + (size_t)nsrc + 1, sizeof *v);
  for (int i = 0; i < count && i < lo - 1; i++) v[total++] = (val_t){existing, i};
  for (int i = 0; i < nsrc; i++) v[total++] = (val_t){src, i};
  for (int i = hi; i < count; i++) v[total++] = (val_t){existing, i};
  ipp_t *tmp = ippNew();
  ipp_attribute_t *na = ippCopyAttribute(tmp, existing, 0);
  bool ok = na != NULL;
  for (int i = 0; ok && i < total; i++) ok = copy_value(tmp, &na, i, v[i].a, v[i].i);
  if (ok && ippGetCount(na) > total)
    ok = total > 0 ? ippDeleteValues(tmp, &na, total, ippGetCount(na) - total) : true;
  if (ok) {
    ippDeleteAttribute(merged, existing);
    if (total > 0) ippCopyAttribute(merged, na, 0);
  }
  ippDelete(tmp);
  free(v);
}

/* Applies the printer group of request to merged (see the file comment). */
static void merge_attrs(ipp_t *merged, ipp_t *request) {
  for (ipp_attribute_t *a = ippFirstAttribute(request); a; a = ippNextAttribute(request)) {
    if (ippGetGroupTag(a) != IPP_TAG_PRINTER || !ippGetName(a)) continue;
    const char *name = ippGetName(a);
    char base[256];
    int lo, hi;
    if (parse_sparse(name, base, sizeof base, &lo, &hi)) {
      ipp_attribute_t *existing = ippFindAttribute(merged, base, IPP_TAG_ZERO);
      if (existing && (ippGetValueTag(a) == IPP_TAG_DELETEATTR ||
                       ippGetValueTag(a) == ippGetValueTag(existing))) {
        apply_sparse(merged, existing, a, lo, hi);
        continue;
      }
      if (existing) ippDeleteAttribute(merged, existing);
      if (ippGetValueTag(a) != IPP_TAG_DELETEATTR) {
        ipp_attribute_t *copy = ippCopyAttribute(merged, a, 0);
        if (copy) ippSetName(merged, &copy, base);
      }
      continue;
    }
    ipp_attribute_t *existing;
    while ((existing = ippFindAttribute(merged, name, IPP_TAG_ZERO)))
      ippDeleteAttribute(merged, existing);
    if (ippGetValueTag(a) != IPP_TAG_DELETEATTR) ippCopyAttribute(merged, a, 0);
  }
}

typedef struct merge_arg {
  ipp_t *request;
  bool   too_big;
} merge_arg_t;

/* store_ipp_merge_fn: the device's new attributes and the Graph printer patch. */
static int merge_device(const void *old, size_t old_len, void **attrs, size_t *len,
                        store_ipp_printer_patch_t *patch, void *arg) {
  merge_arg_t *m = arg;
  ipp_t *merged = attrs_decode(old, old_len);
  merge_attrs(merged, m->request);
  *attrs = ipp_map_encode(merged, len);
  m->too_big = *attrs && *len > STORE_IPP_DEVICE_ATTRS_MAX;
  if (!*attrs || m->too_big) {
    free(*attrs);
    *attrs = NULL;
    ippDelete(merged);
    return -1;
  }
  ipp_map_device_patch(merged, m->request, patch);
  ippDelete(merged);
  return 0;
}

/* Update-Output-Device-Attributes: see the file comment. */
void ipp_update_output_device_attributes(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c)) return;
  for (ipp_attribute_t *a = ippFirstAttribute(c->request); a; a = ippNextAttribute(c->request)) {
    ipp_tag_t g = ippGetGroupTag(a);
    if (g != IPP_TAG_OPERATION && g != IPP_TAG_PRINTER && g != IPP_TAG_ZERO) {
      ipp_respond(c, IPP_STATUS_ERROR_BAD_REQUEST, "Only operation and printer attributes may be "
                  "sent (found %s).", ippTagString(g));
      return;
    }
  }
  ipp_attribute_t *st = ippFindAttribute(c->request, "printer-state", IPP_TAG_ZERO);
  if (st && (ippGetValueTag(st) != IPP_TAG_ENUM || ippGetGroupTag(st) != IPP_TAG_PRINTER ||
             ippGetInteger(st, 0) < IPP_PSTATE_IDLE || ippGetInteger(st, 0) > IPP_PSTATE_STOPPED)) {
    ipp_respond(c, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, "printer-state must be 3, 4 or 5.");
    ipp_respond_unsupported(c, st);
    return;
  }
  merge_arg_t m = {.request = c->request};
  store_rc_t rc = store_ipp_device_update(c->store, c->device.tenant, c->device.printer_id,
                                          c->device_uuid, merge_device, &m, c->now_us);
  if (rc == STORE_OK) ipp_respond(c, IPP_STATUS_OK, NULL);
  else if (rc == STORE_NOT_FOUND) ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "The printer no longer exists.");
  else if (rc == STORE_INVALID && m.too_big)
    ipp_respond(c, IPP_STATUS_ERROR_REQUEST_ENTITY, "The output device's attributes exceed %d "
                "bytes.", STORE_IPP_DEVICE_ATTRS_MAX);
  else ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The attributes could not be stored; retry.");
}

/* Get-Output-Device-Attributes: what this output device pushed, as merged. */
void ipp_get_output_device_attributes(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c)) return;
  void *data = NULL;
  size_t len = 0;
  store_rc_t rc = store_ipp_device_get(c->store, c->device.tenant, c->device.printer_id,
                                       c->device_uuid, &data, &len);
  if (rc != STORE_OK) {
    if (rc == STORE_NOT_FOUND)
      ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "This output device has not sent its attributes "
                  "(Update-Output-Device-Attributes).");
    else
      ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The attributes could not be read; retry.");
    return;
  }
  ipp_t *attrs = attrs_decode(data, len);
  free(data);
  cups_array_t *ra = ippCreateRequestedArray(c->request);
  for (ipp_attribute_t *a = ippFirstAttribute(attrs); a; a = ippNextAttribute(attrs))
    if (ippGetName(a) && ipp_wants_printer_attr(ra, ippGetName(a))) ippCopyAttribute(c->response, a, 0);
  cupsArrayDelete(ra);
  ippDelete(attrs);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}

/* Deregister-Output-Device: forgets the device and the subscriptions it made. The Graph
 * printer keeps its last status. */
void ipp_deregister_output_device(ipp_client_t *c) {
  if (!ipp_require_device_uuid(c)) return;
  store_rc_t rc = store_ipp_device_remove(c->store, c->device.tenant, c->device.printer_id,
                                          c->device_uuid);
  if (rc == STORE_OK) ipp_respond(c, IPP_STATUS_OK, NULL);
  else if (rc == STORE_NOT_FOUND)
    ipp_respond(c, IPP_STATUS_ERROR_NOT_FOUND, "This output device is not registered.");
  else ipp_respond(c, IPP_STATUS_ERROR_INTERNAL, "The device could not be removed; retry.");
}

/* ---- Get-Printer-Attributes ---------------------------------------------------------------- */

/* See ipp-private.h. */
void ipp_text127(const char *s, char out[128]) {
  size_t n = strlen(s);
  if (n > 127) {
    n = 127;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  }
  memcpy(out, s, n);
  out[n] = '\0';
}

/* printer-location from the Graph location; see ipp-private.h. */
void ipp_location_text(const char *json, char out[128]) {
  out[0] = '\0';
  json_t *loc = json ? json_loads(json, 0, NULL) : NULL;
  if (json_is_object(loc)) {
    static const char *const parts[] = {"site", "building", "floor", "roomName", "city"};
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
      const char *v = json_string_value(json_object_get(loc, parts[i]));
      if (!v || !*v) continue;
      if (b.len) buf_puts(&b, ", ");
      buf_puts(&b, v);
    }
    if (b.data) ipp_text127(b.data, out);
    buf_free(&b);
  }
  json_decref(loc);
}

/* Device attributes never passed through: the infrastructure printer answers for these. */
static bool device_attr_hidden(ipp_attribute_t *a) {
  static const char *const prefixes[] = {"printer-uri", "uri-", "notify-", "ipp", "charset-",
                                         "printer-state", "printer-uuid", "printer-name",
                                         "printer-info", "printer-up-time",
                                         "printer-current-time", "printer-is-accepting-jobs",
                                         "queued-job-count", "which-jobs", "operations-supported",
                                         "natural-language-configured",
                                         "generated-natural-language", "output-device-",
                                         "printer-xri", "device-uuid"};
  const char *name = ippGetName(a);
  if (!name) return true;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) return true;
  ipp_tag_t t = ippGetValueTag(a);
  return t == IPP_TAG_URI || t == IPP_TAG_URISCHEME; /* the device's own local URLs */
}

/* The printer's attributes for Get-Printer-Attributes; see ipp-private.h. */
ipp_t *ipp_printer_attributes(ipp_client_t *c) {
  const store_printer_t *p = &c->printer;
  ipp_t *a = ippNew();
  char text[128];

  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-uri-supported", NULL, c->printer_uri);
  const char *auth = !c->device.method                          ? "basic"
                     : !strcmp(c->device.method, "certificate") ? "certificate"
                     : !strcmp(c->device.method, "bearer")    ? "oauth"
                                                              : "basic";
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "uri-authentication-supported", NULL, auth);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "uri-security-supported", NULL,
               c->req->tls ? "tls" : "none");
  char uuid[64];
  snprintf(uuid, sizeof uuid, "urn:uuid:%s", p->id);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-uuid", NULL, uuid);
  ipp_text127(p->display_name ? p->display_name : "", text);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_NAME, "printer-name", NULL, text);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-info", NULL, text);
  buf_t mm = BUF_INIT;
  buf_printf(&mm, "%s%s%s", p->manufacturer ? p->manufacturer : "",
             p->manufacturer && p->model ? " " : "", p->model ? p->model : "");
  if (mm.len) {
    ipp_text127(mm.data, text);
    ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-make-and-model", NULL, text);
  }
  buf_free(&mm);
  ipp_location_text(p->location, text);
  if (*text) ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-location", NULL, text);

  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_ENUM, "printer-state",
                ipp_map_printer_state(p->status_state));
  json_t *details = p->status_details ? json_loads(p->status_details, 0, NULL) : NULL;
  ipp_attribute_t *reasons = NULL;
  size_t i;
  json_t *v;
  json_array_foreach(details, i, v) {
    const char *d = json_string_value(v);
    if (!d || !strcmp(d, "none")) continue;
    char kw[256];
    ipp_map_printer_reason_keyword(d, kw, sizeof kw);
    if (!reasons) reasons = ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD,
                                         "printer-state-reasons", NULL, kw);
    else ippSetString(a, &reasons, ippGetCount(reasons), kw);
  }
  json_decref(details);
  bool identify = false; /* an Identify-Printer request waits for the device (identify-ipp.c) */
  if (store_ipp_identify_state(c->store, c->device.tenant, p->id, c->now_us, NULL, &identify) !=
      STORE_OK)
    log_warn("ipp: cannot read the Identify-Printer state of printer %s", p->id);
  if (identify) {
    if (!reasons) reasons = ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD,
                                         "printer-state-reasons", NULL, "identify-printer-requested");
    else ippSetString(a, &reasons, ippGetCount(reasons), "identify-printer-requested");
  }
  if (!reasons) ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-state-reasons", NULL, "none");
  if (p->status_description && *p->status_description) {
    ipp_text127(p->status_description, text);
    ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-state-message", NULL, text);
  }
  ippAddBoolean(a, IPP_TAG_PRINTER, "printer-is-accepting-jobs", p->is_accepting_jobs != 0);
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "printer-up-time", ipp_up_time(c, c->now_us));
  ippAddDate(a, IPP_TAG_PRINTER, "printer-current-time", ippTimeToDate(time(NULL)));

  int64_t queued = 0;
  char **uuids = NULL;
  size_t nuuids = 0;
  if (store_ipp_printer_counts(c->store, c->device.tenant, p->id, &queued, &uuids, &nuuids) !=
      STORE_OK)
    log_warn("ipp: cannot count the jobs of printer %s", p->id);
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "queued-job-count",
                queued > 2147483647 ? 2147483647 : (int)queued);
  if (nuuids)
    ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_URI, "output-device-uuid-supported", (int)nuuids,
                  NULL, (const char *const *)uuids);

  static const char *const versions[] = {"1.0", "1.1", "2.0"};
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp-versions-supported", 3, NULL, versions);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp-features-supported", NULL,
               "infrastructure-printer");
  int ops[32], nops = 0;
  for (const ipp_op_t *op = IPP_OPERATIONS; *op && nops < 32; op++) ops[nops++] = (int)*op;
  ippAddIntegers(a, IPP_TAG_PRINTER, IPP_TAG_ENUM, "operations-supported", nops, ops);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_CHARSET, "charset-configured", NULL, "utf-8");
  static const char *const charsets[] = {"us-ascii", "utf-8"};
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_CHARSET, "charset-supported", 2, NULL, charsets);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_LANGUAGE, "natural-language-configured", NULL, "en");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_LANGUAGE, "generated-natural-language-supported", NULL,
               "en");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "compression-supported", NULL, "none");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "pdl-override-supported", NULL, "not-attempted");
  ippAddBoolean(a, IPP_TAG_PRINTER, "multiple-document-jobs-supported", 0);
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "multiple-operation-time-out", 60);
  ippAddBoolean(a, IPP_TAG_PRINTER, "requesting-user-uri-supported", 1);
  static const char *const which[] = {"completed", "not-completed", "fetchable", "all"};
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "which-jobs-supported", 4, NULL, which);
  int nevents = 0;
  while (IPP_EVENTS[nevents]) nevents++;
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "notify-events-supported", nevents, NULL,
                IPP_EVENTS);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "notify-events-default", NULL, "job-completed");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "notify-pull-method-supported", NULL, "ippget");
  ippAddRange(a, IPP_TAG_PRINTER, "notify-lease-duration-supported", 0, IPP_LEASE_MAX_S);
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "notify-lease-duration-default",
                IPP_LEASE_DEFAULT_S);
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "notify-max-events-supported",
                IPP_MAX_EVENTS);
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "ippget-event-life", STORE_IPP_EVENT_LIFE_S);
  ipp_map_printer_capabilities(a, p->capabilities, p->defaults);

  /* What only the device knows, from the device that pushed most recently. */
  if (nuuids) {
    void *data = NULL;
    size_t len = 0;
    if (store_ipp_device_get(c->store, c->device.tenant, p->id, uuids[0], &data, &len) == STORE_OK) {
      ipp_t *dev = attrs_decode(data, len);
      for (ipp_attribute_t *d = ippFirstAttribute(dev); d; d = ippNextAttribute(dev))
        if (!device_attr_hidden(d) && !ippFindAttribute(a, ippGetName(d), IPP_TAG_ZERO))
          ippCopyAttribute(a, d, 0);
      ippDelete(dev);
    }
    free(data);
  }
  store_strings_free(uuids, nuuids);
  return a;
}

/* Get-Printer-Attributes: see the file comment. */
void ipp_get_printer_attributes(ipp_client_t *c) {
  ipp_t *a = ipp_printer_attributes(c);
  cups_array_t *ra = ippCreateRequestedArray(c->request);
  for (ipp_attribute_t *x = ippFirstAttribute(a); x; x = ippNextAttribute(a))
    if (ippGetName(x) && ipp_wants_printer_attr(ra, ippGetName(x))) ippCopyAttribute(c->response, x, 0);
  cupsArrayDelete(ra);
  ippDelete(a);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}
