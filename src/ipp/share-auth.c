/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User authentication of the IPP share endpoint (ipp/share-auth.h).
 */
#include "ipp/share-auth.h"
#include "ipp/ipp-private.h"
#include "auth/print-password.h"
#include "store/print-passwords.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_TTL_US (300 * 1000000LL)

_Static_assert(IPP_PW_CACHE_KEY == SHA256_DIGEST_LENGTH, "the cache is keyed by a SHA-256");

static void cache_key(const char *stored, const char *secret, unsigned char out[SHA256_DIGEST_LENGTH]) {
  buf_t b = BUF_INIT;
  buf_append(&b, stored, strlen(stored) + 1);
  buf_append(&b, secret, strlen(secret));
  SHA256((const unsigned char *)b.data, b.len, out);
  OPENSSL_cleanse(b.data, b.len);
  buf_free(&b);
}

/* Whether key was checked less than CACHE_TTL_US ago (never without app->ipp). */
static bool cache_has(ipp_endpoint_t *st, const unsigned char key[SHA256_DIGEST_LENGTH],
                      int64_t now) {
  if (!st) return false;
  pthread_mutex_lock(&st->pw_mu);
  size_t slot = key[0] | (size_t)key[1] << 8;
  slot %= IPP_PW_CACHE_SLOTS;
  bool hit = st->pw_cache[slot].until_us > now &&
             CRYPTO_memcmp(st->pw_cache[slot].key, key, SHA256_DIGEST_LENGTH) == 0;
  pthread_mutex_unlock(&st->pw_mu);
  return hit;
}

static void cache_put(ipp_endpoint_t *st, const unsigned char key[SHA256_DIGEST_LENGTH],
                      int64_t now) {
  if (!st) return;
  pthread_mutex_lock(&st->pw_mu);
  size_t slot = key[0] | (size_t)key[1] << 8;
  slot %= IPP_PW_CACHE_SLOTS;
  memcpy(st->pw_cache[slot].key, key, SHA256_DIGEST_LENGTH);
  st->pw_cache[slot].until_us = now + CACHE_TTL_US;
  pthread_mutex_unlock(&st->pw_mu);
}

/* Basic on this connection; see share-auth.h. */
bool ipp_share_basic_allowed(bool tls, const char *peer, bool allow_plain_http) {
  if (tls || allow_plain_http) return true;
  return peer && (!strncmp(peer, "127.", 4) || !strcmp(peer, "::1") ||
                  !strncmp(peer, "::ffff:127.", 11));
}

/* The caller a print password stands for. */
static caller_t *password_caller(const store_print_password_t *p) {
  caller_t *c = xcalloc(1, sizeof *c);
  c->kind = CALLER_DELEGATED;
  c->tenant = xstrdup(p->tenant);
  c->user_id = xstrdup(p->user_id);
  c->upn = xstrdup(p->user_name);
  c->name = p->user_display_name ? xstrdup(p->user_display_name) : NULL;
  c->idtyp = xstrdup("user");
  c->issuer = xstrdup("spoold:print-password");
  json_t *g = json_loads(p->groups ? p->groups : "[]", 0, NULL);
  if (json_is_array(g) && json_array_size(g)) {
    c->groups = xcalloc(json_array_size(g), sizeof *c->groups);
    size_t i;
    json_t *v;
    json_array_foreach(g, i, v) if (json_is_string(v)) c->groups[c->ngroups++] = xstrdup(json_string_value(v));
  }
  json_decref(g);
  return c;
}

/* HTTP Basic: "user:secret" checked against the user's print passwords in the share's tenant. */
static ipp_user_auth_t basic(app_t *app, const store_share_t *s, const char *b64,
                             caller_t **out, char *why, size_t whylen) {
  size_t len = 0;
  unsigned char *raw = b64_decode(b64, strlen(b64), &len);
  char *colon = raw ? memchr(raw, ':', len) : NULL;
  if (!raw || !colon || memchr(raw, '\0', len)) {
    free(raw);
    snprintf(why, whylen, "malformed Basic credentials");
    return IPP_USER_INVALID;
  }
  char *user = xstrndup((const char *)raw, (size_t)(colon - (char *)raw));
  char *secret = xstrndup(colon + 1, len - (size_t)(colon + 1 - (char *)raw));
  OPENSSL_cleanse(raw, len);
  free(raw);
  store_print_password_t *v = NULL;
  size_t n = 0;
  ipp_user_auth_t rc = IPP_USER_INVALID;
  snprintf(why, whylen, "wrong user name or print password");
  if (store_print_password_by_login(app->store, s->tenant, user, &v, &n) != STORE_OK) {
    snprintf(why, whylen, "the print passwords could not be read");
    rc = IPP_USER_ERROR;
    goto done;
  }
  int64_t now = time_now_us();
  for (size_t i = 0; i < n && rc != IPP_USER_OK; i++) {
    unsigned char key[SHA256_DIGEST_LENGTH];
    cache_key(v[i].hash, secret, key);
    bool ok = cache_has(app->ipp, key, now);
    if (!ok && print_password_verify(secret, v[i].hash)) {
      ok = true;
      cache_put(app->ipp, key, now);
    }
    if (!ok) continue;
    *out = password_caller(&v[i]);
    rc = IPP_USER_OK;
    if (store_print_password_used(app->store, v[i].tenant, v[i].id, now) != STORE_OK)
      log_warn("ipp share: cannot record the use of print password %s", v[i].id);
  }
done:
  store_print_passwords_free(v, n);
  OPENSSL_cleanse(secret, strlen(secret));
  free(secret);
  free(user);
  return rc;
}

/* Authenticates the user; see share-auth.h. */
ipp_user_auth_t ipp_share_authenticate(http_request_t *req, app_t *app, const store_share_t *s,
                                       caller_t **out, char *why, size_t whylen) {
  *out = NULL;
  const char *h = http_request_header(req, "Authorization");
  while (h && (*h == ' ' || *h == '\t')) h++;
  if (!h || !*h) {
    snprintf(why, whylen, "no credentials: send a print password (HTTP Basic) or a bearer token");
    return IPP_USER_NONE;
  }
  if (!strncasecmp(h, "Basic ", 6)) {
    if (!ipp_share_basic_allowed(req->tls, req->peer, app->cfg->ipp_basic_over_http)) {
      snprintf(why, whylen, "print passwords (HTTP Basic) are accepted only over TLS (ipps://) "
                            "or from this host");
      return IPP_USER_INSECURE;
    }
    const char *b = h + 6;
    while (*b == ' ') b++;
    return basic(app, s, b, out, why, whylen);
  }
  if (!strncasecmp(h, "Bearer ", 7)) {
    caller_t *c = NULL;
    char w[256];
    if (auth_verify(app->auth, h, &c, w, sizeof w) != AUTH_OK) {
      snprintf(why, whylen, "%s", w);
      return IPP_USER_INVALID;
    }
    if (strcmp(c->tenant, s->tenant) != 0) {
      caller_free(c);
      snprintf(why, whylen, "the token's tenant has no such printer share");
      return IPP_USER_INVALID;
    }
    *out = c;
    return IPP_USER_OK;
  }
  snprintf(why, whylen, "unsupported authentication scheme: use Basic or Bearer");
  return IPP_USER_INVALID;
}
