/* SPDX-License-Identifier: Apache-2.0 */
/* The tenant's device CA: CSR checks and device certificate signing with OpenSSL 3. */
#include "auth/device-ca.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/ids.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Device certificates start this many seconds before "now", for devices whose clock is a
 * little behind. */
#define BACKDATE_S 300

static int say(char *why, size_t whylen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the reason into why, clears OpenSSL's error queue and returns rc. */
static int say(char *why, size_t whylen, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  buf_set_vmsg(why, whylen, fmt, ap);
  va_end(ap);
  ERR_clear_error();
  return rc;
}

/* The contents of a memory BIO as a malloc'd string. */
static char *bio_string(BIO *b) {
  char *data = NULL;
  long n = BIO_get_mem_data(b, &data);
  return n > 0 ? xstrndup(data, (size_t)n) : NULL;
}

static bool starts_with_pem(const unsigned char *p, size_t n) {
  static const char tag[] = "-----BEGIN";
  return n >= sizeof tag - 1 && memcmp(p, tag, sizeof tag - 1) == 0;
}

static X509_REQ *csr_from_pem(const void *p, size_t n) {
  BIO *b = BIO_new_mem_buf(p, (int)n);
  X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  return req;
}

/* Decodes the CSR text (base64 DER, PEM, or base64 of PEM). NULL with why filled. */
static X509_REQ *csr_decode(const char *content, char *why, size_t whylen) {
  if (!content) {
    say(why, whylen, 0, "The certificate signing request is missing.");
    return NULL;
  }
  size_t len = strlen(content);
  while (len && (content[0] == ' ' || content[0] == '\n' || content[0] == '\r' ||
                 content[0] == '\t')) {
    content++;
    len--;
  }
  if (len == 0) {
    say(why, whylen, 0, "The certificate signing request is empty.");
    return NULL;
  }
  if (len > DEVICE_CA_MAX_CSR) {
    say(why, whylen, 0, "The certificate signing request is too long (more than %d bytes).",
        DEVICE_CA_MAX_CSR);
    return NULL;
  }
  X509_REQ *req = NULL;
  if (starts_with_pem((const unsigned char *)content, len)) {
    req = csr_from_pem(content, len);
  } else {
    size_t n = 0;
    unsigned char *der = b64_decode(content, len, &n);
    if (!der) {
      say(why, whylen, 0, "The certificate signing request is not valid base64: send the "
          "base64 encoding of a DER PKCS#10 request.");
      return NULL;
    }
    if (starts_with_pem(der, n)) {
      req = csr_from_pem(der, n);
    } else {
      const unsigned char *p = der;
      req = d2i_X509_REQ(NULL, &p, (long)n);
      if (req && p != der + n) { /* trailing bytes after the request */
        X509_REQ_free(req);
        req = NULL;
      }
    }
    free(der);
  }
  if (!req)
    say(why, whylen, 0, "The certificate signing request is not a PKCS#10 certificate signing "
        "request (base64 DER or PEM expected).");
  ERR_clear_error();
  return req;
}

/* Applies the rules on digest, key and self-signature. */
static int csr_rules(X509_REQ *req, char *why, size_t whylen) {
  int sig_nid = X509_REQ_get_signature_nid(req);
  int md_nid = NID_undef, pk_nid = NID_undef;
  if (!OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) || md_nid != NID_sha256) {
    const char *alg = sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : "an unknown algorithm";
    return say(why, whylen, DEVICE_CA_BAD_CSR, "The certificate signing request is signed with "
               "%s; a SHA-256 signature (sha256WithRSAEncryption or ecdsa-with-SHA256) is "
               "required.", alg ? alg : "an unknown algorithm");
  }
  EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
  if (!pk)
    return say(why, whylen, DEVICE_CA_BAD_CSR,
               "The certificate signing request has no usable public key.");
  if (EVP_PKEY_is_a(pk, "RSA")) {
    int bits = EVP_PKEY_get_bits(pk);
    if (bits < DEVICE_CA_MIN_RSA_BITS)
      return say(why, whylen, DEVICE_CA_BAD_CSR, "The certificate signing request's key is an "
                 "RSA key of %d bits; RSA keys need at least %d bits.", bits,
                 DEVICE_CA_MIN_RSA_BITS);
  } else if (EVP_PKEY_is_a(pk, "EC")) {
    char group[80] = "";
    size_t glen = 0;
    if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &glen))
      snprintf(group, sizeof group, "an unnamed curve");
    if (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)
      return say(why, whylen, DEVICE_CA_BAD_CSR, "The certificate signing request's key is an "
                 "EC key on %s; only P-256 (prime256v1) is accepted.", group);
  } else {
    const char *type = EVP_PKEY_get0_type_name(pk);
    return say(why, whylen, DEVICE_CA_BAD_CSR, "The certificate signing request's key type %s "
               "is not supported; use RSA (at least %d bits) or EC P-256.",
               type ? type : "(unknown)", DEVICE_CA_MIN_RSA_BITS);
  }
  if (X509_REQ_verify(req, pk) != 1)
    return say(why, whylen, DEVICE_CA_BAD_CSR, "The certificate signing request's signature "
               "does not verify with its own public key.");
  ERR_clear_error();
  return DEVICE_CA_OK;
}

/* Checks the CSR in content. */
int device_ca_check_csr(const char *content, char *why, size_t whylen) {
  X509_REQ *req = csr_decode(content, why, whylen);
  if (!req) return DEVICE_CA_BAD_CSR;
  int rc = csr_rules(req, why, whylen);
  X509_REQ_free(req);
  return rc;
}

/* Adds one extension written in openssl.cnf syntax. */
static bool add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

static bool set_validity(X509 *x, int64_t from_s, int days) {
  time_t t = (time_t)from_s;
  return X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &t) &&
         X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &t);
}

static char *pem_of(EVP_PKEY *key, X509 *cert) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b) return NULL;
  bool ok = key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1
                : PEM_write_bio_X509(b, cert) == 1;
  char *s = ok ? bio_string(b) : NULL;
  BIO_free(b);
  return s;
}

/* Creates the CA key and self-signed certificate. */
int device_ca_create(const char *tenant, int64_t now_s, char **key_pem, char **cert_pem,
                     char *why, size_t whylen) {
  *key_pem = *cert_pem = NULL;
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  BIGNUM *bn = BN_new();
  int rc = DEVICE_CA_ERROR;
  if (!key || !x || !bn) {
    say(why, whylen, 0, "cannot create the device CA key");
    goto out;
  }
  unsigned char rnd[8];
  id_random(rnd, sizeof rnd);
  rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x40); /* positive, and 63 bits of entropy */
  X509_NAME *name = X509_get_subject_name(x);
  bool ok = X509_set_version(x, 2) && BN_bin2bn(rnd, sizeof rnd, bn) &&
            BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                       (const unsigned char *)"spoold device CA", -1, -1, 0) &&
            X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                       (const unsigned char *)(tenant ? tenant : "spoold"), -1,
                                       -1, 0) &&
            X509_set_issuer_name(x, name) && set_validity(x, now_s - BACKDATE_S, DEVICE_CA_DAYS) &&
            X509_set_pubkey(x, key);
  if (ok) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
         add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
         add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") &&
         X509_sign(x, key, EVP_sha256()) > 0;
  }
  if (!ok) {
    say(why, whylen, 0, "cannot build the device CA certificate");
    goto out;
  }
  *key_pem = pem_of(key, NULL);
  *cert_pem = pem_of(NULL, x);
  if (!*key_pem || !*cert_pem) {
    free(*key_pem);
    free(*cert_pem);
    *key_pem = *cert_pem = NULL;
    say(why, whylen, 0, "cannot encode the device CA");
    goto out;
  }
  rc = DEVICE_CA_OK;
out:
  BN_free(bn);
  X509_free(x);
  EVP_PKEY_free(key);
  ERR_clear_error();
  return rc;
}

/* Lower-case hex SHA-256 of the certificate's DER (malloc'd), or NULL. */
static char *cert_sha256(X509 *x) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(x, EVP_sha256(), md, &n) != 1) return NULL;
  char *hex = xmalloc(2 * n + 1);
  for (unsigned int i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return hex;
}

/* Checks the CSR and issues the device certificate. */
int device_ca_sign(const char *ca_key_pem, const char *ca_cert_pem, const char *content,
                   const char *subject_cn, int64_t serial, int64_t now_s, char **cert_pem,
                   char **sha256_hex, char *why, size_t whylen) {
  *cert_pem = NULL;
  if (sha256_hex) *sha256_hex = NULL;
  if (!ca_key_pem || !ca_cert_pem || !subject_cn || !*subject_cn || serial <= 0)
    return say(why, whylen, DEVICE_CA_ERROR, "missing CA material, subject or serial");

  X509_REQ *req = csr_decode(content, why, whylen);
  if (!req) return DEVICE_CA_BAD_CSR;
  int rc = csr_rules(req, why, whylen);
  if (rc != DEVICE_CA_OK) {
    X509_REQ_free(req);
    return rc;
  }

  EVP_PKEY *ca_key = NULL;
  X509 *ca = NULL, *x = NULL;
  BIO *b = BIO_new_mem_buf(ca_key_pem, -1);
  if (b) ca_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
  BIO_free(b);
  b = BIO_new_mem_buf(ca_cert_pem, -1);
  if (b) ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  rc = DEVICE_CA_ERROR;
  if (!ca_key || !ca || X509_check_private_key(ca, ca_key) != 1) {
    say(why, whylen, 0, "the device CA key or certificate cannot be read");
    goto out;
  }

  EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
  bool rsa = EVP_PKEY_is_a(pub, "RSA");
  x = X509_new();
  bool ok = x && X509_set_version(x, 2) &&
            ASN1_INTEGER_set_int64(X509_get_serialNumber(x), serial) &&
            X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
            X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                       (const unsigned char *)subject_cn, -1, -1, 0) &&
            set_validity(x, now_s - BACKDATE_S, DEVICE_CA_CERT_DAYS) && X509_set_pubkey(x, pub);
  if (ok) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, &ctx, NID_key_usage,
                 rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature") &&
         add_ext(x, &ctx, NID_ext_key_usage, "clientAuth") &&
         add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
         add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") &&
         X509_sign(x, ca_key, EVP_sha256()) > 0;
  }
  if (!ok) {
    say(why, whylen, 0, "cannot build the device certificate");
    goto out;
  }
  char *leaf = pem_of(NULL, x), *chain = pem_of(NULL, ca);
  char *fp = sha256_hex ? cert_sha256(x) : NULL;
  if (!leaf || !chain || (sha256_hex && !fp)) {
    free(leaf);
    free(chain);
    free(fp);
    say(why, whylen, 0, "cannot encode the device certificate");
    goto out;
  }
  buf_t out = BUF_INIT;
  buf_puts(&out, leaf);
  buf_puts(&out, chain);
  free(leaf);
  free(chain);
  *cert_pem = buf_detach(&out);
  if (sha256_hex) *sha256_hex = fp;
  rc = DEVICE_CA_OK;
out:
  X509_free(x);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  X509_REQ_free(req);
  ERR_clear_error();
  return rc;
}
