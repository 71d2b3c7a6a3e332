/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device authentication and device tokens; see device-auth.h.
 */
#include "ipp/device-auth.h"
#include "http/server.h"
#include "store/ipp.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/ids.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ipp_device_clear(ipp_device_t *d) {
  if (!d) return;
  free(d->printer_id);
  free(d->tenant);
  memset(d, 0, sizeof *d);
}

/* Hash of a token; see device-auth.h. */
void ipp_device_token_hash(const char *token, char out[65]) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)token, strlen(token), md);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* True when token's hash is hash (64 hex characters), compared in constant time. */
static bool token_matches(const char *token, const char *hash) {
  if (!token || !hash || strlen(hash) != 64 || !*token || strlen(token) > 1024) return false;
  char h[65];
  ipp_device_token_hash(token, h);
  return CRYPTO_memcmp(h, hash, 64) == 0;
}

static void set_why(char *why, size_t whylen, const char *msg) {
  if (why && whylen) snprintf(why, whylen, "%s", msg);
}

/* Authenticates a device; see device-auth.h. */
ipp_auth_result_t ipp_device_authenticate(const http_request_t *req, store_t *st,
                                          const char *printer_id, ipp_device_t *out,
                                          char *why, size_t whylen) {
  memset(out, 0, sizeof *out);
  char id[64];
  snprintf(id, sizeof id, "%s", printer_id ? printer_id : "");
  for (char *p = id; *p; p++) *p = (char)tolower((unsigned char)*p); /* GUIDs are stored lower */

  store_ipp_credentials_t cred;
  store_rc_t rc = store_ipp_credentials_get(st, id, &cred);
  if (rc == STORE_ERROR) {
    set_why(why, whylen, "the device directory is unavailable");
    return IPP_AUTH_ERROR;
  }
  bool known = rc == STORE_OK;

  /* 1. The registered certificate as a TLS client certificate. */
  char fp[65];
  if (known && cred.cert_sha256 && strlen(cred.cert_sha256) == 64 &&
      server_peer_cert_sha256(req, fp) && CRYPTO_memcmp(fp, cred.cert_sha256, 64) == 0) {
    out->method = "certificate";
    goto ok;
  }

  /* 2. Bearer <token> or Basic base64(printer-id:token). */
  const char *auth = http_request_header(req, "Authorization");
  if (!auth || !*auth) {
    store_ipp_credentials_clear(&cred);
    set_why(why, whylen, "no credentials: send the printer's device token (Bearer, or Basic "
            "with the printer id as user name) or its registered client certificate");
    return IPP_AUTH_NONE;
  }
  while (*auth == ' ') auth++;
  if (!strncasecmp(auth, "Bearer ", 7)) {
    const char *token = auth + 7;
    while (*token == ' ') token++;
    if (known && token_matches(token, cred.secret_hash)) {
      out->method = "bearer";
      goto ok;
    }
    store_ipp_credentials_clear(&cred);
    set_why(why, whylen, "the bearer token is not this printer's device token");
    return IPP_AUTH_INVALID;
  }
  if (!strncasecmp(auth, "Basic ", 6)) {
    const char *b64 = auth + 6;
    while (*b64 == ' ') b64++;
    size_t len = 0;
    unsigned char *raw = b64_decode(b64, strlen(b64), &len);
    char *user = raw ? xstrndup((const char *)raw, len) : NULL;
    free(raw);
    char *colon = user ? strchr(user, ':') : NULL;
    ipp_auth_result_t result = IPP_AUTH_INVALID;
    if (colon && strlen(user) == len) {
      *colon = '\0';
      const char *token = colon + 1;
      /* The token names the printer: any user name goes (ippsample's ippproxy sends root). */
      if (known && token_matches(token, cred.secret_hash)) {
        free(user);
        out->method = "basic";
        goto ok;
      }
      if (!*user || !strcasecmp(user, id)) {
        set_why(why, whylen, "the password is not this printer's device token");
      } else {
        /* Another printer's valid credentials are refused with 403, not 401. */
        store_ipp_credentials_t other;
        char oid[64];
        snprintf(oid, sizeof oid, "%s", user);
        for (char *p = oid; *p; p++) *p = (char)tolower((unsigned char)*p);
        if (store_ipp_credentials_get(st, oid, &other) == STORE_OK &&
            token_matches(token, other.secret_hash)) {
          result = IPP_AUTH_FORBIDDEN;
          set_why(why, whylen, "these credentials belong to another printer; a device may "
                  "only use its own printer's endpoint");
        } else {
          set_why(why, whylen, "the password is not this printer's device token");
        }
        store_ipp_credentials_clear(&other);
      }
    } else {
      set_why(why, whylen, "malformed Basic credentials");
    }
    free(user);
    store_ipp_credentials_clear(&cred);
    return result;
  }
  store_ipp_credentials_clear(&cred);
  set_why(why, whylen, "unsupported authorization scheme (use Bearer or Basic)");
  return IPP_AUTH_NONE;

ok:
  out->printer_id = cred.printer_id;
  out->tenant = cred.tenant;
  cred.printer_id = cred.tenant = NULL;
  store_ipp_credentials_clear(&cred);
  return IPP_AUTH_OK;
}

/* Issues a device token; see device-auth.h. */
store_rc_t ipp_device_token_issue(store_t *st, const char *printer_id,
                                  char out[IPP_DEVICE_TOKEN_LEN + 1]) {
  unsigned char raw[IPP_DEVICE_TOKEN_LEN / 2];
  id_random(raw, sizeof raw);
  for (size_t i = 0; i < sizeof raw; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
  OPENSSL_cleanse(raw, sizeof raw);
  char hash[65];
  ipp_device_token_hash(out, hash);
  char id[64];
  snprintf(id, sizeof id, "%s", printer_id ? printer_id : "");
  for (char *p = id; *p; p++) *p = (char)tolower((unsigned char)*p);
  store_rc_t rc = store_ipp_device_secret_set(st, id, hash);
  if (rc != STORE_OK) OPENSSL_cleanse(out, IPP_DEVICE_TOKEN_LEN + 1);
  return rc;
}

/* `spoold token --device`; see device-auth.h. */
int ipp_device_token_command(const char *data_dir, const char *store_url, const char *printer_id) {
  if (!printer_id || !id_is_guid(printer_id)) {
    fprintf(stderr, "spoold token: --device: \"%s\" is not a printer id (a GUID)\n",
            printer_id ? printer_id : "");
    return 2;
  }
  if (!store_url && !data_dir) {
    fputs("spoold token: --device needs --data DIR or --store URL\n", stderr);
    return 2;
  }
  buf_t url = BUF_INIT;
  if (!store_url) buf_printf(&url, "sqlite:%s/spoold.db", data_dir);
  char *err = NULL;
  store_t *st = store_open(store_url ? store_url : url.data, 1, true, &err);
  buf_free(&url);
  if (!st) {
    fprintf(stderr, "spoold token: %s\n", err ? err : "cannot open the store");
    free(err);
    return 1;
  }
  char token[IPP_DEVICE_TOKEN_LEN + 1];
  store_rc_t rc = ipp_device_token_issue(st, printer_id, token);
  store_close(st);
  if (rc == STORE_NOT_FOUND) {
    fprintf(stderr, "spoold token: no printer %s\n", printer_id);
    return 3;
  }
  if (rc != STORE_OK) {
    fputs("spoold token: could not store the device token (see the log above)\n", stderr);
    return 1;
  }
  printf("%s\n", token);
  OPENSSL_cleanse(token, sizeof token);
  return fflush(stdout) == 0 ? 0 : 1;
}
