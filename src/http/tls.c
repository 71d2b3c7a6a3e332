/* SPDX-License-Identifier: Apache-2.0 */
/* Reloadable TLS credentials for libmicrohttpd's certificate callback (see tls.h). */
#include "http/tls.h"
#include "util/buf.h"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CHAIN 16

typedef struct tls_creds {
  gnutls_pcert_st   pcerts[MAX_CHAIN];
  unsigned          npcerts;
  gnutls_privkey_t  key;
  char              sha256[65]; /* of the leaf certificate (DER) */
  char              keyid[65];  /* of the key's public part */
  struct tls_creds *older;      /* the credentials this one replaced */
} tls_creds_t;

/* The credentials in use. A process global on purpose: GnuTLS calls the certificate callback
 * libmicrohttpd is given (gnutls_certificate_retrieve_function2) without an argument of ours,
 * and one process serves one certificate. */
static _Atomic(tls_creds_t *) g_current;

static void hex(const unsigned char *d, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void creds_free(tls_creds_t *c) {
  for (unsigned i = 0; i < c->npcerts; i++) gnutls_pcert_deinit(&c->pcerts[i]);
  if (c->key) gnutls_privkey_deinit(c->key);
  free(c);
}

static int fail(char **err, const char *what, const char *path, int grc) {
  buf_t e = BUF_INIT;
  buf_printf(&e, "%s %s: %s", what, path, gnutls_strerror(grc));
  *err = buf_detach(&e);
  return -1;
}

/* Loads both files into fresh credentials; NULL + *err on failure. */
static tls_creds_t *creds_load(const char *cert_file, const char *key_file, char **err) {
  size_t clen = 0, klen = 0;
  char *cert = buf_read_file(cert_file, &clen, err);
  if (!cert) return NULL;
  char *key = buf_read_file(key_file, &klen, err);
  if (!key) {
    free(cert);
    return NULL;
  }
  tls_creds_t *c = calloc(1, sizeof *c);
  int rc = -1;
  if (!c) goto out;
  gnutls_datum_t cd = {(unsigned char *)cert, (unsigned)clen};
  gnutls_datum_t kd = {(unsigned char *)key, (unsigned)klen};
  c->npcerts = MAX_CHAIN;
  int g = gnutls_pcert_list_import_x509_raw(c->pcerts, &c->npcerts, &cd, GNUTLS_X509_FMT_PEM, 0);
  if (g < 0 || c->npcerts == 0) {
    c->npcerts = 0;
    fail(err, "no usable PEM certificate in", cert_file, g < 0 ? g : GNUTLS_E_NO_CERTIFICATE_FOUND);
    goto out;
  }
  if ((g = gnutls_privkey_init(&c->key)) < 0 ||
      (g = gnutls_privkey_import_x509_raw(c->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
    fail(err, "no usable PEM private key in", key_file, g);
    goto out;
  }
  /* the key must be the certificate's: compare the key ids of both public keys */
  unsigned char id1[64], id2[64];
  size_t n1 = sizeof id1, n2 = sizeof id2;
  gnutls_pubkey_t pub;
  if (gnutls_pubkey_init(&pub) < 0) goto out;
  g = gnutls_pubkey_import_privkey(pub, c->key, 0, 0);
  if (g >= 0) g = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id1, &n1);
  gnutls_pubkey_deinit(pub);
  if (g >= 0) g = gnutls_pubkey_get_key_id(c->pcerts[0].pubkey, GNUTLS_KEYID_USE_SHA256, id2, &n2);
  if (g < 0) {
    fail(err, "cannot read the public key of", key_file, g);
    goto out;
  }
  if (n1 != n2 || memcmp(id1, id2, n1) != 0) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "the key in %s does not belong to the certificate in %s", key_file, cert_file);
    *err = buf_detach(&e);
    goto out;
  }
  hex(id1, n1 > 32 ? 32 : n1, c->keyid);
  unsigned char md[32];
  gnutls_hash_fast(GNUTLS_DIG_SHA256, c->pcerts[0].cert.data, c->pcerts[0].cert.size, md);
  hex(md, 32, c->sha256);
  rc = 0;
out:
  free(cert);
  if (key) {
    memset(key, 0, klen); /* private key bytes do not linger in freed memory */
    free(key);
  }
  if (rc != 0 && c) {
    creds_free(c);
    c = NULL;
  }
  return c;
}

static void describe(const tls_creds_t *c, char *about, size_t aboutlen) {
  if (!about || !aboutlen) return;
  gnutls_x509_crt_t crt;
  gnutls_datum_t dn = {NULL, 0};
  char exp[32] = "?";
  if (gnutls_x509_crt_init(&crt) >= 0) {
    if (gnutls_x509_crt_import(crt, &c->pcerts[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
      gnutls_x509_crt_get_dn3(crt, &dn, 0);
      time_t t = gnutls_x509_crt_get_expiration_time(crt);
      struct tm tm;
      if (t != (time_t)-1 && gmtime_r(&t, &tm)) strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    gnutls_x509_crt_deinit(crt);
  }
  snprintf(about, aboutlen, "subject %s, expires %s, sha256 %s",
           dn.data ? (const char *)dn.data : "?", exp, c->sha256);
  gnutls_free(dn.data);
}

int tls_load(const char *cert_file, const char *key_file, char *about, size_t aboutlen,
             char **err) {
  tls_creds_t *cur = atomic_load(&g_current);
  tls_creds_t *c = creds_load(cert_file, key_file, err);
  if (!c) {
    if (cur) describe(cur, about, aboutlen);
    return -1;
  }
  if (cur && !strcmp(cur->sha256, c->sha256) && !strcmp(cur->keyid, c->keyid)) {
    creds_free(c);
    describe(cur, about, aboutlen);
    return 0;
  }
  c->older = cur;
  atomic_store(&g_current, c);
  describe(c, about, aboutlen);
  return 1;
}

int tls_retrieve_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                      const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                      gnutls_pcert_st **pcert, unsigned int *pcert_length,
                      gnutls_privkey_t *privkey) {
  (void)session, (void)req_ca_rdn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
  tls_creds_t *c = atomic_load(&g_current);
  if (!c) return -1;
  *pcert = c->pcerts;
  *pcert_length = c->npcerts;
  *privkey = c->key;
  return 0;
}

void tls_unload(void) {
  tls_creds_t *c = atomic_exchange(&g_current, NULL);
  while (c) {
    tls_creds_t *older = c->older;
    creds_free(c);
    c = older;
  }
}
