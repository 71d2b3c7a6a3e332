/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `spoold proxy --discover`: printers announced over DNS-SD (Avahi client on the system D-Bus:
 * _ipps._tcp, _ipp._tcp, _pdl-datastream._tcp) become candidates, each with the URI the proxy
 * would print to (proxy-private.h). A printer announced several ways is one candidate, by the
 * best way: ipps, then ipp, then raw.
 */
#include "proxy/proxy-private.h"
#include "util/buf.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/simple-watch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const TYPES[] = {"_ipps._tcp", "_ipp._tcp", "_pdl-datastream._tcp"};

typedef struct discovery {
  AvahiClient         *client;
  proxy_candidate_t   *list;
  size_t               n;
  int                  pending; /* resolvers not finished */
  bool                 failed;
  char                 why[256];
} discovery_t;

static int rank(const char *type) {
  for (int i = 0; i < 3; i++)
    if (!strcmp(TYPES[i], type)) return i;
  return 3;
}

static char *txt(AvahiStringList *l, const char *key) {
  AvahiStringList *e = avahi_string_list_find(l, key);
  char *k = NULL, *v = NULL;
  if (!e || avahi_string_list_get_pair(e, &k, &v, NULL) != 0) return NULL;
  char *out = v ? xstrdup(v) : NULL;
  avahi_free(k);
  avahi_free(v);
  return out;
}

static void add(discovery_t *d, const char *name, const char *type, const AvahiAddress *a,
                uint16_t port, AvahiStringList *t) {
  char addr[AVAHI_ADDRESS_STR_MAX];
  avahi_address_snprint(addr, sizeof addr, a);
  char host[AVAHI_ADDRESS_STR_MAX + 2];
  snprintf(host, sizeof host, a->proto == AVAHI_PROTO_INET6 ? "[%s]" : "%s", addr);
  buf_t uri = BUF_INIT;
  char *formats = NULL;
  if (rank(type) == 2) {
    buf_printf(&uri, "socket://%s:%u", host, (unsigned)port);
    formats = txt(t, "pdl");
  } else {
    char *rp = txt(t, "rp");
    buf_printf(&uri, "%s://%s:%u/%s", rank(type) == 0 ? "ipps" : "ipp", host, (unsigned)port,
               rp ? rp : "");
    free(rp);
  }
  for (size_t i = 0; i < d->n; i++) {
    if (strcmp(d->list[i].name, name)) continue;
    if (rank(type) < d->list[i].rank) { /* a better way to the same printer */
      free(d->list[i].uri);
      free(d->list[i].formats);
      d->list[i].uri = buf_detach(&uri);
      d->list[i].formats = formats;
      d->list[i].rank = rank(type);
    } else {
      buf_free(&uri);
      free(formats);
    }
    return;
  }
  d->list = xrealloc(d->list, (d->n + 1) * sizeof *d->list);
  d->list[d->n++] = (proxy_candidate_t){xstrdup(name), buf_detach(&uri), formats, rank(type)};
}

static void on_resolve(AvahiServiceResolver *r, AvahiIfIndex iface, AvahiProtocol proto,
                       AvahiResolverEvent ev, const char *name, const char *type,
                       const char *domain, const char *host, const AvahiAddress *a,
                       uint16_t port, AvahiStringList *t, AvahiLookupResultFlags flags,
                       void *arg) {
  (void)iface, (void)proto, (void)domain, (void)host, (void)flags;
  discovery_t *d = arg;
  if (ev == AVAHI_RESOLVER_FOUND && a) add(d, name, type, a, port, t);
  d->pending--;
  avahi_service_resolver_free(r);
}

static void on_browse(AvahiServiceBrowser *b, AvahiIfIndex iface, AvahiProtocol proto,
                      AvahiBrowserEvent ev, const char *name, const char *type,
                      const char *domain, AvahiLookupResultFlags flags, void *arg) {
  (void)b, (void)flags;
  discovery_t *d = arg;
  if (ev == AVAHI_BROWSER_NEW) {
    /* IPv4 addresses: what every printer and libcups take */
    if (avahi_service_resolver_new(d->client, iface, proto, name, type, domain, AVAHI_PROTO_INET,
                                   0, on_resolve, d))
      d->pending++;
  } else if (ev == AVAHI_BROWSER_FAILURE) {
    d->failed = true;
    snprintf(d->why, sizeof d->why, "browsing failed: %s",
             avahi_strerror(avahi_client_errno(d->client)));
  }
}

static void on_client(AvahiClient *c, AvahiClientState st, void *arg) {
  discovery_t *d = arg;
  if (st == AVAHI_CLIENT_FAILURE) {
    d->failed = true;
    snprintf(d->why, sizeof d->why, "%s", avahi_strerror(avahi_client_errno(c)));
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Browses for seconds; see proxy-private.h. */
int proxy_discover(double seconds, proxy_candidate_t **out, size_t *n, char *err, size_t errlen) {
  *out = NULL;
  *n = 0;
  discovery_t d = {0};
  AvahiSimplePoll *sp = avahi_simple_poll_new();
  int error = 0;
  d.client = sp ? avahi_client_new(avahi_simple_poll_get(sp), 0, on_client, &d, &error) : NULL;
  if (!d.client) {
    snprintf(err, errlen, "DNS-SD: cannot reach avahi-daemon over the system D-Bus: %s",
             avahi_strerror(error));
    if (sp) avahi_simple_poll_free(sp);
    return -1;
  }
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
    if (!avahi_service_browser_new(d.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, TYPES[i], NULL, 0,
                                   on_browse, &d)) {
      d.failed = true;
      snprintf(d.why, sizeof d.why, "cannot browse %s: %s", TYPES[i],
               avahi_strerror(avahi_client_errno(d.client)));
    }
  /* the whole time (printers answer at their own pace), then the resolvers still running */
  double end = now_s() + seconds;
  while (!d.failed && (now_s() < end || (d.pending > 0 && now_s() < end + 5)))
    if (avahi_simple_poll_iterate(sp, 100) != 0) break;
  avahi_client_free(d.client); /* frees the browsers and resolvers left */
  avahi_simple_poll_free(sp);
  if (d.failed) {
    snprintf(err, errlen, "DNS-SD: %s", d.why);
    proxy_candidates_free(d.list, d.n);
    return -1;
  }
  *out = d.list;
  *n = d.n;
  return 0;
}

void proxy_candidates_free(proxy_candidate_t *list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(list[i].name);
    free(list[i].uri);
    free(list[i].formats);
  }
  free(list);
}
