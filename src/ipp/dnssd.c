/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS-SD advertising of printer shares through Avahi (see dnssd.h).
 *
 * Two threads: Avahi's threaded poll runs the D-Bus client and its callbacks; a sync thread
 * reads the shares from the store every IPP_DNSSD_SYNC_MS and, holding the poll's lock,
 * reconciles them with the advertised entries: one entry group per share, re-registered when
 * its name or TXT record changed, freed (withdrawn) when the share is gone. The client is
 * created with AVAHI_CLIENT_NO_FAIL, so spoold starts without a daemon and registers once one
 * appears (or reappears after a restart). A name taken by another service on the network gets
 * Avahi's alternative name ("Name #2").
 *
 * Without TLS the service is _ipp._tcp; with --tls-cert spoold's port speaks only HTTPS, so it
 * is advertised as _ipps._tcp alone (a plain ipp:// client could not talk to it).
 */
#include "ipp/dnssd.h"
#include "app.h"
#include "config.h"
#include "http/server.h"
#include "ipp/ipp-private.h"
#include "ipp/share-ipp.h"
#include "mapping/mapping.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- TXT records ---------------------------------------------------------------------------- */

static bool caps_has(json_t *caps, const char *member, const char *const *values) {
  json_t *list = json_object_get(caps, member), *v;
  size_t i;
  json_array_foreach(list, i, v) {
    const char *s = json_string_value(v);
    for (size_t k = 0; s && values[k]; k++)
      if (!strcmp(s, values[k])) return true;
  }
  return false;
}

/* Width and height in millimetres of a PWG media name ("iso_a4_210x297mm", "na_letter_8.5x11in");
 * false when it has no dimensions. */
static bool media_mm(const char *pwg, double *w, double *h) {
  const char *dims = strrchr(pwg, '_');
  if (!dims) return false;
  char unit[3] = "";
  if (sscanf(dims + 1, "%lfx%lf%2s", w, h, unit) != 3) return false;
  if (!strcmp(unit, "in")) {
    *w *= 25.4;
    *h *= 25.4;
  } else if (strcmp(unit, "mm")) {
    return false;
  }
  if (*w > *h) {
    double t = *w;
    *w = *h;
    *h = t;
  }
  return true;
}

/* PaperMax (Bonjour Printing 1.2): the class of the largest media the printer takes. */
static const char *paper_max(json_t *caps) {
  double w = 0, h = 0, mw, mh;
  json_t *list = json_object_get(caps, "mediaSizes"), *v;
  size_t i;
  json_array_foreach(list, i, v) {
    const char *g = json_string_value(v);
    const char *pwg = g ? ipp_map_media_from_graph(g) : NULL;
    if (pwg && media_mm(pwg, &mw, &mh)) {
      if (mw > w) w = mw;
      if (mh > h) h = mh;
    }
  }
  if (w == 0) return "legal-A4";
  if (w > 458.5 || h > 648.5) return ">isoC-A2";
  if (w > 297.5 || h > 432.5) return "isoC-A2";
  if (w > 216.5 || h > 356.5) return "tabloid-A3";
  if (w >= 209.5 && h >= 296.5) return "legal-A4";
  return "<legal-A4";
}

static void txt_add(char **out, size_t *n, const char *key, const char *value) {
  if (*n >= IPP_DNSSD_TXT_MAX || !value) return;
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s=%s", key, value);
  if (b.len > 255) { /* one TXT string holds 255 bytes */
    b.len = 255;
    b.data[255] = '\0';
  }
  out[(*n)++] = buf_detach(&b);
}

/* The TXT record of a share; see dnssd.h. */
size_t ipp_dnssd_txt(const store_share_advert_t *a, const char *public_url, bool tls,
                     char *out[IPP_DNSSD_TXT_MAX]) {
  size_t n = 0;
  json_t *caps = a->capabilities ? json_loads(a->capabilities, 0, NULL) : NULL;
  char text[512];
  txt_add(out, &n, "txtvers", "1");
  txt_add(out, &n, "qtotal", "1");
  snprintf(text, sizeof text, "ipp/share/%s", a->share_id);
  txt_add(out, &n, "rp", text);
  snprintf(text, sizeof text, "%s%s%s", a->manufacturer ? a->manufacturer : "",
           a->manufacturer && a->model ? " " : "", a->model ? a->model : "");
  txt_add(out, &n, "ty", *text ? text : "spoold printer share");
  if (a->model && *a->model) {
    snprintf(text, sizeof text, "(%s)", a->model);
    txt_add(out, &n, "product", text);
  }
  snprintf(text, sizeof text, "%s/ipp/share/%s", public_url, a->share_id);
  txt_add(out, &n, "adminurl", text);
  char note[128];
  ipp_location_text(a->location, note);
  if (*note) txt_add(out, &n, "note", note);

  /* pdl: the printer's formats (what Get-Printer-Attributes lists, less octet-stream) */
  store_printer_t p = {.capabilities = a->capabilities};
  size_t nf = 0;
  char **formats = ipp_share_formats(&p, &nf);
  buf_t pdl = BUF_INIT;
  bool urf = false;
  for (size_t i = 0; i < nf; i++) {
    if (pdl.len + strlen(formats[i]) + 1 > 250) break;
    buf_printf(&pdl, "%s%s", pdl.len ? "," : "", formats[i]);
    if (!strcmp(formats[i], "image/urf")) urf = true;
  }
  ipp_share_formats_free(formats, nf);
  txt_add(out, &n, "pdl", pdl.data ? pdl.data : "application/pdf");
  buf_free(&pdl);

  txt_add(out, &n, "UUID", a->share_id);
  static const char *const color[] = {"color", "auto", NULL};
  static const char *const duplex[] = {"flipOnLongEdge", "flipOnShortEdge", NULL};
  bool has_color = caps_has(caps, "colorModes", color);
  bool has_duplex = caps_has(caps, "duplexModes", duplex);
  txt_add(out, &n, "Color", has_color ? "T" : "F");
  txt_add(out, &n, "Duplex", has_duplex ? "T" : "F");
  if (urf) {
    /* Apple raster capabilities: gray, sRGB when colour, copies, resolutions, duplex */
    buf_t u = BUF_INIT;
    buf_puts(&u, "V1.4,W8");
    if (has_color) buf_puts(&u, ",SRGB24");
    buf_puts(&u, ",CP1");
    json_t *dpis = json_object_get(caps, "dpis"), *v;
    size_t i;
    bool first = true;
    json_array_foreach(dpis, i, v) {
      json_int_t d = json_integer_value(v);
      if (d <= 0 || d > 100000) continue;
      buf_printf(&u, "%s%lld", first ? ",RS" : "-", (long long)d);
      first = false;
    }
    if (first) buf_puts(&u, ",RS300");
    if (has_duplex) buf_puts(&u, ",DM1");
    txt_add(out, &n, "URF", u.data);
    buf_free(&u);
  }
  txt_add(out, &n, "kind", "document");
  txt_add(out, &n, "PaperMax", paper_max(caps));
  txt_add(out, &n, "air", "username,password"); /* print passwords: the client asks for both */
  if (tls) txt_add(out, &n, "TLS", "1.2");
  json_decref(caps);
  return n;
}

void ipp_dnssd_txt_free(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++) free(v[i]);
}

/* ---- advertised entries --------------------------------------------------------------------- */

typedef struct entry {
  struct entry    *next;
  ipp_dnssd_t     *d;         /* the advertiser it belongs to */
  char            *share_id;
  char            *name;      /* the share's name */
  char            *cur_name;  /* the name registered (after collisions) */
  char            *txt_sig;   /* the TXT strings joined, to see a change */
  AvahiStringList *txt;
  AvahiEntryGroup *group;
  bool             dirty;     /* to (re)register */
  bool             seen;
} entry_t;

struct ipp_dnssd {
  app_t              *app;
  AvahiThreadedPoll  *poll;
  AvahiClient        *client;
  entry_t            *entries;  /* under the poll's lock */
  bool                tls;
  uint16_t            port;
  pthread_t           sync;
  pthread_mutex_t     mu;
  pthread_cond_t      cv;
  bool                stopping;
};

static void entry_free(entry_t *e) {
  if (e->group) avahi_entry_group_free(e->group);
  avahi_string_list_free(e->txt);
  free(e->share_id);
  free(e->name);
  free(e->cur_name);
  free(e->txt_sig);
  free(e);
}

static void publish(entry_t *e);

static void group_cb(AvahiEntryGroup *group, AvahiEntryGroupState state, void *arg) {
  entry_t *e = arg;
  if (e->group && e->group != group) return;
  if (state == AVAHI_ENTRY_GROUP_ESTABLISHED) {
    log_info("dnssd: share %s advertised as '%s'", e->share_id, e->cur_name);
  } else if (state == AVAHI_ENTRY_GROUP_COLLISION) {
    char *alt = avahi_alternative_service_name(e->cur_name);
    log_info("dnssd: the name '%s' is taken on the network; share %s is now '%s'", e->cur_name,
             e->share_id, alt);
    free(e->cur_name);
    e->cur_name = xstrdup(alt);
    avahi_free(alt);
    publish(e);
  } else if (state == AVAHI_ENTRY_GROUP_FAILURE) {
    log_warn("dnssd: share %s could not be advertised: %s", e->share_id,
             avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
  }
}

/* (Re)registers e's services; called with the poll's lock held and the client running. */
static void publish(entry_t *e) {
  ipp_dnssd_t *d = e->d;
  if (!d->client || avahi_client_get_state(d->client) != AVAHI_CLIENT_S_RUNNING) return;
  if (!e->group && !(e->group = avahi_entry_group_new(d->client, group_cb, e))) {
    log_warn("dnssd: cannot create an entry group: %s",
             avahi_strerror(avahi_client_errno(d->client)));
    return;
  }
  const char *type = d->tls ? "_ipps._tcp" : "_ipp._tcp";
  char sub1[64], sub2[64];
  snprintf(sub1, sizeof sub1, "_print._sub.%s", type);
  snprintf(sub2, sizeof sub2, "_universal._sub.%s", type);
  for (int attempt = 0; attempt < 20; attempt++) {
    avahi_entry_group_reset(e->group);
    int rc = avahi_entry_group_add_service_strlst(e->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                                  0, e->cur_name, type, NULL, NULL, d->port,
                                                  e->txt);
    if (rc == AVAHI_ERR_COLLISION) {
      char *alt = avahi_alternative_service_name(e->cur_name);
      free(e->cur_name);
      e->cur_name = xstrdup(alt);
      avahi_free(alt);
      continue;
    }
    if (rc >= 0)
      rc = avahi_entry_group_add_service_subtype(e->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
                                                 e->cur_name, type, NULL, sub1);
    if (rc >= 0)
      rc = avahi_entry_group_add_service_subtype(e->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, 0,
                                                 e->cur_name, type, NULL, sub2);
    if (rc >= 0) rc = avahi_entry_group_commit(e->group);
    if (rc < 0)
      log_warn("dnssd: cannot advertise share %s as '%s': %s", e->share_id, e->cur_name,
               avahi_strerror(rc));
    e->dirty = false;
    return;
  }
  log_warn("dnssd: no free name for share %s", e->share_id);
}

static void client_cb(AvahiClient *client, AvahiClientState state, void *arg) {
  ipp_dnssd_t *d = arg;
  d->client = client; /* the callback may run inside avahi_client_new */
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      log_info("dnssd: connected to avahi-daemon; advertising the printer shares");
      for (entry_t *e = d->entries; e; e = e->next) publish(e);
      break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING: /* the host name changed: register again once running */
      for (entry_t *e = d->entries; e; e = e->next) {
        if (e->group) avahi_entry_group_reset(e->group);
        e->dirty = true;
      }
      break;
    case AVAHI_CLIENT_CONNECTING:
      log_warn("dnssd: waiting for avahi-daemon (D-Bus system bus)");
      for (entry_t *e = d->entries; e; e = e->next) {
        if (e->group) avahi_entry_group_free(e->group);
        e->group = NULL;
        e->dirty = true;
      }
      break;
    case AVAHI_CLIENT_FAILURE:
      log_warn("dnssd: avahi client failure: %s", avahi_strerror(avahi_client_errno(client)));
      break;
  }
}

/* ---- sync ----------------------------------------------------------------------------------- */

/* Reconciles the entries with the store's shares; called with the poll's lock held. */
static void reconcile(ipp_dnssd_t *d, store_share_advert_t *v, size_t n) {
  for (entry_t *e = d->entries; e; e = e->next) e->seen = false;
  const char *public_url = server_public_url(d->app->server);
  for (size_t i = 0; i < n; i++) {
    char *txt[IPP_DNSSD_TXT_MAX];
    size_t nt = ipp_dnssd_txt(&v[i], public_url, d->tls, txt);
    buf_t sig = BUF_INIT;
    for (size_t k = 0; k < nt; k++) buf_printf(&sig, "%s\n", txt[k]);
    const char *name = v[i].name && *v[i].name ? v[i].name : "Printer";
    entry_t *e = d->entries;
    while (e && strcmp(e->share_id, v[i].share_id)) e = e->next;
    if (!e) {
      e = xcalloc(1, sizeof *e);
      e->d = d;
      e->share_id = xstrdup(v[i].share_id);
      e->next = d->entries;
      d->entries = e;
      e->dirty = true;
    }
    e->seen = true;
    if (!e->name || strcmp(e->name, name)) {
      free(e->name);
      free(e->cur_name);
      e->name = xstrdup(name);
      e->cur_name = xstrdup(name);
      e->dirty = true;
    }
    if (!e->txt_sig || strcmp(e->txt_sig, sig.data ? sig.data : "")) {
      free(e->txt_sig);
      e->txt_sig = xstrdup(sig.data ? sig.data : "");
      avahi_string_list_free(e->txt);
      e->txt = avahi_string_list_new_from_array((const char **)txt, (int)nt);
      e->dirty = true;
    }
    buf_free(&sig);
    ipp_dnssd_txt_free(txt, nt);
  }
  for (entry_t **pp = &d->entries; *pp;) {
    entry_t *e = *pp;
    if (e->seen) {
      if (e->dirty) publish(e);
      pp = &e->next;
      continue;
    }
    log_info("dnssd: share %s withdrawn ('%s')", e->share_id, e->cur_name ? e->cur_name : "");
    *pp = e->next;
    entry_free(e);
  }
}

static void *sync_main(void *arg) {
  ipp_dnssd_t *d = arg;
  bool warned = false;
  pthread_mutex_lock(&d->mu);
  while (!d->stopping) {
    pthread_mutex_unlock(&d->mu);
    store_share_advert_t *v = NULL;
    size_t n = 0;
    if (store_share_adverts(d->app->store, &v, &n) == STORE_OK) {
      warned = false;
      avahi_threaded_poll_lock(d->poll);
      reconcile(d, v, n);
      avahi_threaded_poll_unlock(d->poll);
    } else if (!warned) {
      log_warn("dnssd: cannot read the printer shares; retrying");
      warned = true;
    }
    store_share_adverts_free(v, n);
    struct timespec until = time_deadline(CLOCK_REALTIME, IPP_DNSSD_SYNC_MS * 1000L);
    pthread_mutex_lock(&d->mu);
    while (!d->stopping && pthread_cond_timedwait(&d->cv, &d->mu, &until) != ETIMEDOUT) {
    }
  }
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

/* Releases what d holds (its sync thread is not running). */
static void dnssd_free(ipp_dnssd_t *d) {
  if (!d) return;
  if (d->poll) avahi_threaded_poll_stop(d->poll);
  while (d->entries) {
    entry_t *e = d->entries;
    d->entries = e->next;
    entry_free(e);
  }
  if (d->client) avahi_client_free(d->client);
  if (d->poll) avahi_threaded_poll_free(d->poll);
  pthread_cond_destroy(&d->cv);
  pthread_mutex_destroy(&d->mu);
  free(d);
}

/* Starts advertising; see dnssd.h. */
ipp_dnssd_t *ipp_dnssd_start(app_t *app, char **err) {
  ipp_dnssd_t *d = xcalloc(1, sizeof *d);
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cv, NULL);
  d->app = app;
  d->tls = app->cfg->tls_cert != NULL;
  d->port = server_port(app->server);
  if (!(d->poll = avahi_threaded_poll_new())) {
    *err = xstrdup("--dnssd: cannot create the Avahi event loop");
    goto fail;
  }
  int aerr = 0;
  d->client = avahi_client_new(avahi_threaded_poll_get(d->poll), AVAHI_CLIENT_NO_FAIL, client_cb,
                               d, &aerr);
  if (!d->client) {
    buf_t b = BUF_INIT;
    buf_printf(&b, "--dnssd: cannot create the Avahi client: %s", avahi_strerror(aerr));
    *err = buf_detach(&b);
    goto fail;
  }
  if (avahi_threaded_poll_start(d->poll) < 0) {
    *err = xstrdup("--dnssd: cannot start the Avahi event loop");
    goto fail;
  }
  if (pthread_create(&d->sync, NULL, sync_main, d) != 0) {
    *err = xstrdup("--dnssd: cannot start its thread");
    goto fail;
  }
  log_info("dnssd: advertising printer shares as %s on port %u", d->tls ? "_ipps._tcp" : "_ipp._tcp",
           (unsigned)d->port);
  return d;
fail:
  dnssd_free(d);
  return NULL;
}

/* Stops advertising; see dnssd.h. */
void ipp_dnssd_stop(ipp_dnssd_t *d) {
  if (!d) return;
  pthread_mutex_lock(&d->mu);
  d->stopping = true;
  pthread_cond_broadcast(&d->cv);
  pthread_mutex_unlock(&d->mu);
  pthread_join(d->sync, NULL);
  dnssd_free(d);
}
