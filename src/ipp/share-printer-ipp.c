/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Get-Printer-Attributes of the IPP share endpoint: the share as an IPP Everywhere printer
 * (PWG 5100.14).
 *
 * Starts from what the INFRA endpoint answers for the share's printer (ipp_printer_attributes:
 * the Graph printer's state, capabilities and defaults, and what its output device pushed),
 * drops what only concerns output devices (INFRA operations, notifications, output-device-*),
 * and answers for the share: its URI, name and UUID, the client operations it implements,
 * uri-authentication-supported basic (print passwords; bearer tokens are accepted too),
 * ipp-features-supported ipp-everywhere, and document-format-supported = the printer's formats.
 * media-col-database is returned only when asked for by name (ipp_wants_printer_attr, as the
 * INFRA endpoint does; PWG 5100.7).
 */
#include "http/server.h"
#include "ipp/ipp-private.h"
#include "ipp/share-ipp.h"
#include "store/printers.h"
#include "util/buf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Attributes of the INFRA answer that a share does not have or answers differently. */
static bool infra_only(const char *name) {
  static const char *const prefixes[] = {
      "printer-uri-supported", "uri-authentication-supported", "uri-security-supported",
      "printer-uuid", "printer-name", "printer-info", "printer-more-info", "operations-supported",
      "ipp-features-supported", "ipp-versions-supported", "which-jobs-supported", "notify-",
      "ippget-", "output-device-", "multiple-document-jobs-supported", "document-format-",
      "requesting-user-uri-supported", "printer-device-id", "compression-supported",
      "job-ids-supported", "multiple-operation-time-out", "printer-supply-info-uri",
      "printer-config-change-", "printer-state-change-", "printer-icons"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) return true;
  return false;
}

char **ipp_share_formats(const store_printer_t *p, size_t *n) {
  static const char *const builtin[] = {STORE_PRINTER_DEFAULT_CONTENT_TYPES};
  char **v = NULL;
  *n = 0;
  json_t *caps = p->capabilities ? json_loads(p->capabilities, 0, NULL) : NULL;
  json_t *list = json_object_get(caps, "contentTypes");
  size_t i;
  json_t *x;
  if (json_is_array(list) && json_array_size(list)) {
    v = xcalloc(json_array_size(list) + 1, sizeof *v);
    json_array_foreach(list, i, x) if (json_is_string(x)) v[(*n)++] = xstrdup(json_string_value(x));
  }
  json_decref(caps);
  if (!*n) {
    free(v);
    v = xcalloc(sizeof builtin / sizeof builtin[0] + 1, sizeof *v);
    for (i = 0; i < sizeof builtin / sizeof builtin[0]; i++) v[(*n)++] = xstrdup(builtin[i]);
  }
  return v;
}

void ipp_share_formats_free(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++) free(v[i]);
  free(v);
}

/* Get-Printer-Attributes on a share; see share-ipp.h. */
void ipp_share_get_printer_attributes(ipp_client_t *c, const store_share_t *s) {
  const store_printer_t *p = &c->printer;
  ipp_t *infra = ipp_printer_attributes(c);
  ipp_t *a = ippNew();
  for (ipp_attribute_t *x = ippFirstAttribute(infra); x; x = ippNextAttribute(infra))
    if (ippGetName(x) && !infra_only(ippGetName(x))) ippCopyAttribute(a, x, 0);
  ippDelete(infra);

  char text[512];
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-uri-supported", NULL, c->printer_uri);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "uri-authentication-supported", NULL, "basic");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "uri-security-supported", NULL,
               c->req->tls ? "tls" : "none");
  snprintf(text, sizeof text, "urn:uuid:%s", s->id);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-uuid", NULL, text);
  ipp_text127(s->display_name && *s->display_name ? s->display_name : "Printer", text);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_NAME, "printer-name", NULL, text);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-info", NULL, text);
  snprintf(text, sizeof text, "%s/ipp/share/%s", server_public_url(c->req->server), s->id);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-more-info", NULL, text);

  if (!ippFindAttribute(a, "identify-actions-supported", IPP_TAG_ZERO)) {
    ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "identify-actions-supported", NULL, "display");
    ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "identify-actions-default", NULL, "display");
  }
  /* printer-icons (PWG 5100.13): 48, 128 and 512 pixel PNGs of web/icons/ (drawn by
   * scripts/make-icons.py), served by the console route */
  const char *icons[3];
  char icon_uri[3][300];
  static const int sizes[] = {48, 128, 512};
  for (int i = 0; i < 3; i++) {
    snprintf(icon_uri[i], sizeof icon_uri[i], "%s/console/icons/printer-%d.png",
             server_public_url(c->req->server), sizes[i]);
    icons[i] = icon_uri[i];
  }
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-icons", 3, NULL, icons);
  if (!ippFindAttribute(a, "printer-location", IPP_TAG_ZERO))
    ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-location", NULL, "");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_URI, "printer-supply-info-uri", NULL, text);
  if (!ippFindAttribute(a, "printer-geo-location", IPP_TAG_ZERO))
    ippAddOutOfBand(a, IPP_TAG_PRINTER, IPP_TAG_UNKNOWN, "printer-geo-location");
  /* configuration and state changes are not tracked apart: the printer's registration */
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "printer-config-change-time", 1);
  ippAddDate(a, IPP_TAG_PRINTER, "printer-config-change-date-time",
             ippTimeToDate((time_t)(p->registered_us / 1000000)));
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "printer-state-change-time", 1);
  ippAddDate(a, IPP_TAG_PRINTER, "printer-state-change-date-time",
             ippTimeToDate((time_t)(p->registered_us / 1000000)));

  int ops[32], nops = 0;
  for (const ipp_op_t *op = IPP_SHARE_OPERATIONS; *op && nops < 32; op++) ops[nops++] = (int)*op;
  bool identify = false; /* served while an output device can receive it (identify-ipp.c) */
  if (store_ipp_identify_state(c->store, c->device.tenant, p->id, c->now_us, &identify, NULL) ==
          STORE_OK && identify)
    ops[nops++] = (int)IPP_OP_IDENTIFY_PRINTER;
  ippAddIntegers(a, IPP_TAG_PRINTER, IPP_TAG_ENUM, "operations-supported", nops, ops);
  static const char *const versions[] = {"1.1", "2.0"};
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp-versions-supported", 2, NULL, versions);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp-features-supported", NULL,
               "ipp-everywhere");
  static const char *const which[] = {"completed", "not-completed", "all"};
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "which-jobs-supported", 3, NULL, which);
  ippAddBoolean(a, IPP_TAG_PRINTER, "multiple-document-jobs-supported", 0);
  ippAddInteger(a, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "multiple-operation-time-out", 300);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "multiple-operation-time-out-action", NULL,
               "abort-job");
  ippAddBoolean(a, IPP_TAG_PRINTER, "job-ids-supported", 1);
  ippAddBoolean(a, IPP_TAG_PRINTER, "preferred-attributes-supported", 0);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "compression-supported", NULL, "none");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "printer-get-attributes-supported", NULL,
               "document-format");
  static const char *const creation[] = {
      "copies", "finishings", "media", "media-col", "number-up", "orientation-requested",
      "output-bin", "page-ranges", "print-color-mode", "print-quality", "print-scaling",
      "printer-resolution", "sides"};
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "job-creation-attributes-supported",
                (int)(sizeof creation / sizeof creation[0]), NULL, creation);

  /* document formats: the printer's, plus application/octet-stream (sniffed) */
  size_t nf = 0;
  char **formats = ipp_share_formats(p, &nf);
  const char **all = xcalloc(nf + 1, sizeof *all);
  for (size_t i = 0; i < nf; i++) all[i] = formats[i];
  all[nf] = "application/octet-stream";
  ippAddStrings(a, IPP_TAG_PRINTER, IPP_TAG_MIMETYPE, "document-format-supported", (int)nf + 1,
                NULL, all);
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_MIMETYPE, "document-format-default", NULL,
               "application/octet-stream");
  /* printer-device-id (IEEE 1284): MFG, MDL, CMD from the formats */
  buf_t id = BUF_INIT;
  buf_printf(&id, "MFG:%s;MDL:%s;CMD:", p->manufacturer && *p->manufacturer ? p->manufacturer
                                                                            : "spoold",
             p->model && *p->model ? p->model : "Printer share");
  bool first = true;
  for (size_t i = 0; i < nf; i++) {
    const char *cmd = !strcmp(formats[i], "application/pdf")    ? "PDF"
                      : !strcmp(formats[i], "image/pwg-raster") ? "PWGRaster"
                      : !strcmp(formats[i], "image/urf")        ? "URF"
                      : !strcmp(formats[i], "image/jpeg")       ? "JPEG"
                                                                : NULL;
    if (!cmd) continue;
    buf_printf(&id, "%s%s", first ? "" : ",", cmd);
    first = false;
  }
  buf_puts(&id, ";");
  ippAddString(a, IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-device-id", NULL, id.data);
  buf_free(&id);
  free(all);
  ipp_share_formats_free(formats, nf);

  cups_array_t *ra = ippCreateRequestedArray(c->request);
  for (ipp_attribute_t *x = ippFirstAttribute(a); x; x = ippNextAttribute(a)) {
    const char *name = ippGetName(x);
    if (!name) continue;
    if (ipp_wants_printer_attr(ra, name)) ippCopyAttribute(c->response, x, 0);
  }
  cupsArrayDelete(ra);
  ippDelete(a);
  ipp_respond(c, IPP_STATUS_OK, NULL);
}
