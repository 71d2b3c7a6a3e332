/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Webhook endpoints: URL rules and the validation handshake (reference §7.3), with libcurl.
 *
 * The handshake runs on the request thread that creates (or re-points) a subscription: it
 * blocks that request only, for at most the validation timeout.
 */
#include "notify/notify.h"
#include "util/buf.h"
#include "util/ids.h"

#include "util/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Bytes of a handshake answer kept; a longer body cannot be the token. */
#define HANDSHAKE_BODY_MAX 1024

/* Compares host names ignoring case and IPv6 brackets. */
static bool host_equal(const char *a, size_t alen, const char *b) {
  if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
    a++;
    alen -= 2;
  }
  size_t blen = strlen(b);
  if (blen >= 2 && b[0] == '[' && b[blen - 1] == ']') {
    b++;
    blen -= 2;
  }
  return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* True when host is one of the comma-separated names in allow. */
static bool host_allowed(const char *host, const char *allow) {
  const char *p = allow;
  while (*p) {
    while (*p == ',' || isspace((unsigned char)*p)) p++;
    const char *start = p;
    while (*p && *p != ',') p++;
    const char *end = p;
    while (end > start && isspace((unsigned char)end[-1])) end--;
    if (end > start && host_equal(start, (size_t)(end - start), host)) return true;
  }
  return false;
}

/* ---- where a webhook may connect --------------------------------------------------------- */

/* The class of an IPv4 address (host byte order) for the webhook rules. */
static webhook_addr_class_t v4_class(uint32_t a) {
  if ((a >> 24) == 127) return WEBHOOK_ADDR_LOOPBACK;                 /* 127.0.0.0/8 */
  if ((a >> 24) == 0) return WEBHOOK_ADDR_UNSPECIFIED;                /* 0.0.0.0/8 "this host" */
  if ((a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) ||            /* 10/8, 172.16/12 */
      (a >> 16) == ((192u << 8) | 168) ||                             /* 192.168/16 */
      (a >> 22) == ((100u << 2) | 1) ||                               /* 100.64/10 shared */
      (a >> 8) == ((192u << 16) | (0u << 8) | 0) ||                   /* 192.0.0/24 */
      (a >> 17) == ((198u << 7) | 9))                                 /* 198.18/15 benchmarks */
    return WEBHOOK_ADDR_PRIVATE;
  if ((a >> 16) == ((169u << 8) | 254)) return WEBHOOK_ADDR_LINK_LOCAL; /* 169.254/16 */
  if ((a >> 28) == 14) return WEBHOOK_ADDR_MULTICAST;                 /* 224/4 */
  if ((a >> 28) == 15) return WEBHOOK_ADDR_PRIVATE;                   /* 240/4 reserved, broadcast */
  return WEBHOOK_ADDR_PUBLIC;
}

/* Classifies an address a webhook connection would go to (see notify.h). */
webhook_addr_class_t webhook_addr_classify(const struct sockaddr *sa) {
  if (!sa) return WEBHOOK_ADDR_UNSPECIFIED;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    return v4_class(ntohl(in->sin_addr.s_addr));
  }
  if (sa->sa_family != AF_INET6) return WEBHOOK_ADDR_PRIVATE;  /* unix sockets and the like */
  const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
  static const uint8_t zero[16];
  uint32_t tail = ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) | ((uint32_t)b[14] << 8) | b[15];
  if (memcmp(b, zero, 16) == 0) return WEBHOOK_ADDR_UNSPECIFIED;          /* :: */
  if (memcmp(b, zero, 15) == 0 && b[15] == 1) return WEBHOOK_ADDR_LOOPBACK; /* ::1 */
  if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
    return v4_class(tail);                                                /* ::ffff:a.b.c.d */
  if (memcmp(b, zero, 12) == 0) return v4_class(tail);                    /* ::a.b.c.d (old) */
  static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
  if (memcmp(b, nat64, 12) == 0) return v4_class(tail);                   /* 64:ff9b::/96 */
  if (b[0] == 0x20 && b[1] == 0x02)                                       /* 6to4 2002::/16 */
    return v4_class(((uint32_t)b[2] << 24) | ((uint32_t)b[3] << 16) | ((uint32_t)b[4] << 8) | b[5]);
  if ((b[0] & 0xfe) == 0xfc) return WEBHOOK_ADDR_PRIVATE;                 /* fc00::/7 ULA */
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return WEBHOOK_ADDR_LINK_LOCAL; /* fe80::/10 */
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return WEBHOOK_ADDR_PRIVATE; /* fec0::/10 site */
  if (b[0] == 0xff) return WEBHOOK_ADDR_MULTICAST;                        /* ff00::/8 */
  return WEBHOOK_ADDR_PUBLIC;
}

/* The name of an address class, for log lines. */
static const char *class_name(webhook_addr_class_t c) {
  switch (c) {
  case WEBHOOK_ADDR_PUBLIC: return "public";
  case WEBHOOK_ADDR_LOOPBACK: return "loopback";
  case WEBHOOK_ADDR_PRIVATE: return "private or reserved";
  case WEBHOOK_ADDR_LINK_LOCAL: return "link-local";
  case WEBHOOK_ADDR_MULTICAST: return "multicast";
  case WEBHOOK_ADDR_UNSPECIFIED: return "unspecified";
  }
  return "unknown";
}

/* CURLOPT_OPENSOCKETFUNCTION: opens the socket only for an address the guard allows; curl
 * calls it for every address it tries, after name resolution and before connect(). */
static curl_socket_t guard_open_socket(void *arg, curlsocktype purpose,
                                       struct curl_sockaddr *addr) {
  webhook_guard_t *g = arg;
  if (purpose == CURLSOCKTYPE_IPCXN && !g->allow_inward) {
    webhook_addr_class_t c = webhook_addr_classify(&addr->addr);
    if (c != WEBHOOK_ADDR_PUBLIC && !(c == WEBHOOK_ADDR_LOOPBACK && g->allow_loopback)) {
      char text[INET6_ADDRSTRLEN] = "?";
      if (addr->family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&addr->addr)->sin_addr, text, sizeof text);
      else if (addr->family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr->addr)->sin6_addr, text, sizeof text);
      snprintf(g->refused, sizeof g->refused, "%s (%s)", text, class_name(c));
      return CURL_SOCKET_BAD;
    }
  }
  return socket(addr->family, addr->socktype, addr->protocol);
}

/* Sets up a guard for url (see notify.h). */
void webhook_guard_init(webhook_guard_t *g, const char *url, const char *allow_hosts,
                        bool allow_loopback) {
  memset(g, 0, sizeof *g);
  g->allow_loopback = allow_loopback;
  if (!allow_hosts || !*allow_hosts || !url) return;
  CURLU *u = curl_url();
  if (!u) abort();
  char *host = NULL;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
    g->allow_inward = host_allowed(host, allow_hosts);
  curl_free(host);
  curl_url_cleanup(u);
}

/* Attaches a guard to a curl easy handle (see notify.h). */
void webhook_guard_attach(webhook_guard_t *g, void *easy) {
  CURL *h = easy;
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, guard_open_socket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, g);
  /* Straight to the target: a proxy would connect to the address for us, unchecked. */
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
}

/* Checks a webhook URL (see notify.h). */
bool webhook_url_check(const char *url, const char *allow_hosts, char *err, size_t errlen) {
  if (!url || !*url) {
    snprintf(err, errlen, "the URL is empty");
    return false;
  }
  if (strlen(url) > NOTIFY_URL_MAX) {
    snprintf(err, errlen, "the URL is longer than %d characters", NOTIFY_URL_MAX);
    return false;
  }
  for (const char *p = url; *p; p++) {
    if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
      snprintf(err, errlen, "the URL contains a space or a control character");
      return false;
    }
  }
  CURLU *u = curl_url();
  if (!u) abort();
  bool ok = false;
  char *scheme = NULL, *user = NULL, *password = NULL, *host = NULL;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    snprintf(err, errlen, "'%s' is not an absolute http or https URL", url);
    goto done;
  }
  if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
    snprintf(err, errlen, "only http and https URLs are accepted, not '%s'", scheme ? scheme : "");
    goto done;
  }
  if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
      curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
    snprintf(err, errlen, "the URL must not carry credentials (user:password@)");
    goto done;
  }
  if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
    snprintf(err, errlen, "the URL has no host");
    goto done;
  }
  if (allow_hosts && *allow_hosts && !host_allowed(host, allow_hosts)) {
    snprintf(err, errlen, "host '%s' is not in the webhook allow-list of this server", host);
    goto done;
  }
  ok = true;
done:
  curl_free(scheme);
  curl_free(user);
  curl_free(password);
  curl_free(host);
  curl_url_cleanup(u);
  return ok;
}

typedef struct {
  char   body[HANDSHAKE_BODY_MAX + 1];
  size_t len;
  bool   too_long;
} answer_t;

static size_t answer_write(char *data, size_t size, size_t nmemb, void *arg) {
  answer_t *a = arg;
  size_t n = size * nmemb;
  if (a->len + n > HANDSHAKE_BODY_MAX) {
    a->too_long = true;
    return 0;  /* stops the transfer: a body this long is not the token */
  }
  memcpy(a->body + a->len, data, n);
  a->len += n;
  a->body[a->len] = '\0';
  return n;
}

/* The URL with validationToken=<encoded token> appended to its query; NULL when it cannot be
 * built. The caller frees it with curl_free. */
static char *handshake_url(const char *url, const char *token) {
  CURLU *u = curl_url();
  if (!u) abort();
  char *out = NULL;
  char *enc = curl_easy_escape(NULL, token, 0);
  buf_t q = BUF_INIT;
  buf_printf(&q, "validationToken=%s", enc ? enc : "");
  if (enc && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_QUERY, q.data, CURLU_APPENDQUERY) == CURLUE_OK)
    curl_url_get(u, CURLUPART_URL, &out, 0);
  curl_free(enc);
  buf_free(&q);
  curl_url_cleanup(u);
  return out;
}

/* Runs the validation handshake (see notify.h). */
bool webhook_validate(const char *url, int timeout_ms, const char *allow_hosts,
                      bool allow_loopback, char *err, size_t errlen) {
  /* Graph's token is readable text with spaces and a colon, so receivers must decode it. */
  char guid[ID_GUID_LEN + 1];
  id_guid(guid);
  char token[160];
  snprintf(token, sizeof token,
           "Validation: Testing client application reachability for subscription Request-Id: %s",
           guid);
  char *target = handshake_url(url, token);
  if (!target) {
    snprintf(err, errlen, "the validation URL could not be built from '%s'", url);
    return false;
  }

  CURL *h = curl_easy_init();
  if (!h) abort();
  webhook_guard_t guard;
  webhook_guard_init(&guard, url, allow_hosts, allow_loopback);
  webhook_guard_attach(&guard, h);
  answer_t ans = {.len = 0};
  char curl_err[CURL_ERROR_SIZE] = "";
  struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: text/plain");
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(h, CURLOPT_URL, target);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "spoold-webhook/1");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, answer_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ans);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
  CURLcode rc = curl_easy_perform(h);

  long status = 0;
  char *ctype = NULL;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
  bool ok = false;
  buf_t b = BUF_INIT;
  if (rc != CURLE_OK && guard.refused[0]) {
    buf_printf(&b, "resolves to %s, an address webhooks may not use on this server (see "
               "--webhook-allow)", guard.refused);
  } else if (rc == CURLE_WRITE_ERROR && ans.too_long) {
    buf_printf(&b, "answered HTTP %ld with a body longer than %d bytes", status,
               HANDSHAKE_BODY_MAX);
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    buf_printf(&b, "did not answer within %d ms", timeout_ms);
  } else if (rc != CURLE_OK) {
    buf_printf(&b, "could not be reached: %s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
  } else if (status != 200) {
    buf_printf(&b, "answered HTTP %ld", status);
  } else if (!ctype || strncasecmp(ctype, "text/plain", 10) != 0 ||
             (ctype[10] && ctype[10] != ';' && !isspace((unsigned char)ctype[10]))) {
    buf_printf(&b, "answered 200 with a Content-Type other than text/plain");
  } else if (ans.len != strlen(token) || memcmp(ans.body, token, ans.len) != 0) {
    buf_printf(&b, "answered 200 with a body (%zu bytes) that is not the validationToken", ans.len);
  } else {
    ok = true;
  }
  if (!ok) snprintf(err, errlen, "%s", b.data ? b.data : "failed");
  buf_free(&b);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(h);
  curl_free(target);
  return ok;
}
