/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device CA (auth/device-ca.c): CA creation, CSR checks and device certificate signing.
 * Every CSR is generated here with OpenSSL (RSA and EC keys, SHA-256 and SHA-1, a forged
 * signature), and every issued certificate is verified against the CA with an X509_STORE.
 */
#include "auth/device-ca.h"
#include "util/b64.h"

#include <criterion/criterion.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRINTER_ID "0f6f3a3c-86a4-4b55-9b5c-2b1e4f0f1a01"

/* ---- helpers ------------------------------------------------------------------------------ */

static EVP_PKEY *rsa_key(unsigned bits) {
  EVP_PKEY *k = EVP_RSA_gen(bits);
  cr_assert_not_null(k, "RSA key generation");
  return k;
}

static EVP_PKEY *ec_key(const char *curve) {
  EVP_PKEY *k = EVP_EC_gen(curve);
  cr_assert_not_null(k, "EC key generation");
  return k;
}

/* An EC key on curve, or an RSA key of rsa_bits when curve is NULL. */
static EVP_PKEY *key_of(const char *curve, unsigned rsa_bits) {
  return curve ? ec_key(curve) : rsa_key(rsa_bits);
}

/* A CSR for key signed with md (and, when sign_key is not NULL, signed by that key instead,
 * which forges the self-signature). Returned as DER in *der (caller frees). */
static size_t csr_der(EVP_PKEY *key, EVP_PKEY *sign_key, const EVP_MD *md, unsigned char **der) {
  X509_REQ *req = X509_REQ_new();
  cr_assert_not_null(req);
  cr_assert(X509_REQ_set_version(req, 0));
  X509_NAME *n = X509_REQ_get_subject_name(req);
  cr_assert(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"device",
                                       -1, -1, 0));
  cr_assert(X509_REQ_set_pubkey(req, key));
  cr_assert(X509_REQ_sign(req, sign_key ? sign_key : key, md) > 0, "X509_REQ_sign");
  *der = NULL;
  int len = i2d_X509_REQ(req, der);
  cr_assert_gt(len, 0);
  X509_REQ_free(req);
  return (size_t)len;
}

/* The CSR as base64 of its DER (what Universal Print clients send); caller frees. */
static char *csr_b64(EVP_PKEY *key, EVP_PKEY *sign_key, const EVP_MD *md) {
  unsigned char *der;
  size_t n = csr_der(key, sign_key, md, &der);
  char *s = b64_encode(der, n);
  OPENSSL_free(der);
  return s;
}

/* The CSR as PEM text; caller frees. */
static char *csr_pem(EVP_PKEY *key) {
  unsigned char *der;
  size_t n = csr_der(key, NULL, EVP_sha256(), &der);
  const unsigned char *p = der;
  X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)n);
  OPENSSL_free(der);
  BIO *b = BIO_new(BIO_s_mem());
  cr_assert(PEM_write_bio_X509_REQ(b, req));
  char *data;
  long len = BIO_get_mem_data(b, &data);
  char *s = strndup(data, (size_t)len);
  BIO_free(b);
  X509_REQ_free(req);
  return s;
}

static X509 *read_cert(const char *pem, size_t index) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509 *x = NULL;
  for (size_t i = 0; i <= index; i++) {
    X509_free(x);
    x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (!x) break;
  }
  BIO_free(b);
  ERR_clear_error();
  return x;
}

static size_t count_certs(const char *pem) {
  size_t n = 0;
  for (const char *p = pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++) n++;
  return n;
}

typedef struct {
  char *key_pem;
  char *cert_pem;
} ca_t;

static ca_t make_ca(void) {
  ca_t ca = {0};
  char why[256] = "";
  int rc = device_ca_create("tenant-1", (int64_t)time(NULL), &ca.key_pem, &ca.cert_pem, why,
                            sizeof why);
  cr_assert_eq(rc, DEVICE_CA_OK, "device_ca_create: %s", why);
  return ca;
}

static void free_ca(ca_t *ca) {
  free(ca->key_pem);
  free(ca->cert_pem);
}

/* Verifies leaf against ca with the default X.509 checks plus the clientAuth purpose. */
static int verify(X509 *leaf, X509 *ca) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, NULL);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  int ok = X509_verify_cert(ctx);
  int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? 0 : err ? err : -1;
}

/* Signs content and checks everything about the result; returns the leaf (caller frees). */
static X509 *sign_and_check(const ca_t *ca, const char *content, int64_t serial, EVP_PKEY *key) {
  char *pem = NULL, *fp = NULL, why[256] = "";
  int rc = device_ca_sign(ca->key_pem, ca->cert_pem, content, PRINTER_ID, serial,
                          (int64_t)time(NULL), &pem, &fp, why, sizeof why);
  cr_assert_eq(rc, DEVICE_CA_OK, "device_ca_sign: %s", why);
  cr_assert_eq(count_certs(pem), 2, "leaf + CA:\n%s", pem);
  X509 *leaf = read_cert(pem, 0), *chain_ca = read_cert(pem, 1),
       *cacert = read_cert(ca->cert_pem, 0);
  cr_assert_not_null(leaf);
  cr_assert_not_null(chain_ca);
  cr_assert_eq(X509_cmp(chain_ca, cacert), 0, "the second certificate is the CA");
  int err = verify(leaf, cacert);
  cr_assert_eq(err, 0, "verify: %s", X509_verify_cert_error_string(err));

  /* subject CN, serial, key, validity, extensions */
  char cn[128] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn);
  cr_assert_str_eq(cn, PRINTER_ID);
  int64_t got_serial = 0;
  cr_assert(ASN1_INTEGER_get_int64(&got_serial, X509_get0_serialNumber(leaf)));
  cr_assert_eq(got_serial, serial);
  cr_assert_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), key), 1, "the CSR's key is certified");
  cr_assert_eq(X509_check_ca(leaf), 0, "not a CA");
  cr_assert(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT, "clientAuth");
  int days = 0, secs = 0;
  cr_assert(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)));
  cr_assert_eq(days, DEVICE_CA_CERT_DAYS, "validity %d days", days);
  cr_assert_eq(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256, "signed by the EC CA");

  /* fingerprint */
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  cr_assert(X509_digest(leaf, EVP_sha256(), md, &n));
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned i = 0; i < n; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  cr_assert_str_eq(fp, hex);

  X509_free(chain_ca);
  X509_free(cacert);
  free(pem);
  free(fp);
  return leaf;
}

/* Expects a refusal whose reason contains needle (case-insensitive). */
static void expect_refused(const ca_t *ca, const char *content, const char *needle) {
  char why[256] = "";
  cr_assert_eq(device_ca_check_csr(content, why, sizeof why), DEVICE_CA_BAD_CSR,
               "check_csr accepted it");
  cr_assert(strcasestr(why, needle), "reason '%s' lacks '%s'", why, needle);
  char *pem = (char *)"unset", *fp = (char *)"unset";
  why[0] = '\0';
  cr_assert_eq(device_ca_sign(ca->key_pem, ca->cert_pem, content, PRINTER_ID, 7,
                              (int64_t)time(NULL), &pem, &fp, why, sizeof why),
               DEVICE_CA_BAD_CSR);
  cr_assert_null(pem);
  cr_assert_null(fp);
  cr_assert(strcasestr(why, needle), "sign reason '%s' lacks '%s'", why, needle);
}

/* ---- the CA --------------------------------------------------------------------------------- */

Test(device_ca, create_makes_a_self_signed_p256_ca) {
  ca_t ca = make_ca();
  cr_assert(strstr(ca.key_pem, "-----BEGIN PRIVATE KEY-----"), "PKCS#8 key");
  X509 *x = read_cert(ca.cert_pem, 0);
  cr_assert_not_null(x);
  cr_assert_eq(X509_check_ca(x), 1, "CA:TRUE");
  cr_assert_eq(X509_verify(x, X509_get0_pubkey(x)), 1, "self-signed");
  cr_assert_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
  cr_assert(EVP_PKEY_is_a(X509_get0_pubkey(x), "EC"));
  cr_assert(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
  char o[128] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, o, sizeof o);
  cr_assert_str_eq(o, "tenant-1");
  int days = 0, secs = 0;
  cr_assert(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)));
  cr_assert_eq(days, DEVICE_CA_DAYS);
  X509_free(x);

  ca_t other = make_ca();
  cr_assert_str_neq(ca.key_pem, other.key_pem, "a fresh key each time");
  free_ca(&other);
  free_ca(&ca);
}

/* ---- signing ------------------------------------------------------------------------------ */

Test(device_ca, signs_rsa2048_sha256) {
  ca_t ca = make_ca();
  EVP_PKEY *k = rsa_key(2048);
  char *csr = csr_b64(k, NULL, EVP_sha256());
  X509 *leaf = sign_and_check(&ca, csr, 1, k);
  cr_assert(X509_get_key_usage(leaf) & KU_KEY_ENCIPHERMENT, "RSA: keyEncipherment");
  X509_free(leaf);
  free(csr);
  EVP_PKEY_free(k);
  free_ca(&ca);
}

Test(device_ca, signs_ec_p256_sha256) {
  ca_t ca = make_ca();
  EVP_PKEY *k = ec_key("P-256");
  char *csr = csr_b64(k, NULL, EVP_sha256());
  X509 *leaf = sign_and_check(&ca, csr, 4242, k);
  cr_assert(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE);
  cr_assert_not(X509_get_key_usage(leaf) & KU_KEY_ENCIPHERMENT, "EC: no keyEncipherment");
  X509_free(leaf);
  free(csr);
  EVP_PKEY_free(k);
  free_ca(&ca);
}

Test(device_ca, accepts_pem_and_base64_of_pem_and_wrapped_base64) {
  ca_t ca = make_ca();
  EVP_PKEY *k = ec_key("P-256");
  char *pem = csr_pem(k);
  X509_free(sign_and_check(&ca, pem, 2, k));
  char *b64pem = b64_encode(pem, strlen(pem));
  X509_free(sign_and_check(&ca, b64pem, 3, k));

  /* base64 with line breaks every 64 characters and surrounding whitespace */
  char *flat = csr_b64(k, NULL, EVP_sha256());
  size_t n = strlen(flat);
  char *wrapped = calloc(1, n + n / 64 + 8);
  size_t o = 0;
  wrapped[o++] = '\n';
  for (size_t i = 0; i < n; i++) {
    wrapped[o++] = flat[i];
    if (i % 64 == 63) wrapped[o++] = '\n';
  }
  wrapped[o++] = '\n';
  X509_free(sign_and_check(&ca, wrapped, 5, k));
  free(wrapped);
  free(flat);
  free(b64pem);
  free(pem);
  EVP_PKEY_free(k);
  free_ca(&ca);
}

Test(device_ca, two_certificates_for_one_csr_differ_by_serial) {
  ca_t ca = make_ca();
  EVP_PKEY *k = ec_key("P-256");
  char *csr = csr_b64(k, NULL, EVP_sha256());
  X509 *a = sign_and_check(&ca, csr, 10, k), *b = sign_and_check(&ca, csr, 11, k);
  cr_assert_neq(X509_cmp(a, b), 0);
  X509_free(a);
  X509_free(b);
  free(csr);
  EVP_PKEY_free(k);
  free_ca(&ca);
}

/* ---- refusals ----------------------------------------------------------------------------- */

Test(device_ca, refuses_garbage_and_non_pkcs10) {
  ca_t ca = make_ca();
  expect_refused(&ca, "this is not base64 !!!", "base64");
  expect_refused(&ca, "", "empty");
  expect_refused(&ca, "   \n", "empty");
  expect_refused(&ca, "aGVsbG8gd29ybGQ=", "PKCS#10");  /* "hello world" */
  expect_refused(&ca,
                 "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                 "PKCS#10");
  char why[128];
  cr_assert_eq(device_ca_check_csr(NULL, why, sizeof why), DEVICE_CA_BAD_CSR);

  /* a valid DER request followed by extra bytes */
  EVP_PKEY *k = ec_key("P-256");
  unsigned char *der;
  size_t n = csr_der(k, NULL, EVP_sha256(), &der);
  unsigned char *more = malloc(n + 2);
  memcpy(more, der, n);
  more[n] = 0;
  more[n + 1] = 0;
  char *b64 = b64_encode(more, n + 2);
  expect_refused(&ca, b64, "PKCS#10");
  free(b64);
  free(more);
  OPENSSL_free(der);
  EVP_PKEY_free(k);

  /* longer than the limit */
  char *big = malloc(DEVICE_CA_MAX_CSR + 2);
  memset(big, 'A', DEVICE_CA_MAX_CSR + 1);
  big[DEVICE_CA_MAX_CSR + 1] = '\0';
  expect_refused(&ca, big, "too long");
  free(big);
  free_ca(&ca);
}

/* Well-formed requests the CA refuses: a request of the key made by curve (an EC key) or of
 * rsa_bits (an RSA key when curve is NULL), self-signed with md, or signed by another key of
 * the same kind when forged; want is in the refusal's reason. */
Test(device_ca, refuses_weak_or_forged_requests) {
  static const struct {
    const char *curve;
    unsigned    rsa_bits;
    const EVP_MD *(*md)(void);
    bool        forged;
    const char *want;
  } cases[] = {
      {"P-256", 0, EVP_sha1, false, "SHA1"},
      {NULL, 1024, EVP_sha256, false, "1024 bits"},
      {"P-384", 0, EVP_sha256, false, "secp384r1"},
      {"P-256", 0, EVP_sha256, true, "does not verify"},
  };
  ca_t ca = make_ca();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    EVP_PKEY *k = key_of(cases[i].curve, cases[i].rsa_bits);
    EVP_PKEY *other = cases[i].forged ? key_of(cases[i].curve, cases[i].rsa_bits) : NULL;
    char *csr = csr_b64(k, other, cases[i].md());
    expect_refused(&ca, csr, cases[i].want);
    free(csr);
    EVP_PKEY_free(other);
    EVP_PKEY_free(k);
  }
  free_ca(&ca);
}

Test(device_ca, bad_ca_material_is_an_error_not_a_refusal) {
  ca_t ca = make_ca(), other = make_ca();
  EVP_PKEY *k = ec_key("P-256");
  char *csr = csr_b64(k, NULL, EVP_sha256());
  char *pem = NULL, why[128] = "";
  /* key of one CA with the certificate of another */
  cr_assert_eq(device_ca_sign(other.key_pem, ca.cert_pem, csr, PRINTER_ID, 1, (int64_t)time(NULL),
                              &pem, NULL, why, sizeof why),
               DEVICE_CA_ERROR);
  cr_assert_null(pem);
  cr_assert_eq(device_ca_sign("garbage", ca.cert_pem, csr, PRINTER_ID, 1, (int64_t)time(NULL),
                              &pem, NULL, why, sizeof why),
               DEVICE_CA_ERROR);
  cr_assert_eq(device_ca_sign(ca.key_pem, ca.cert_pem, csr, PRINTER_ID, 0, (int64_t)time(NULL),
                              &pem, NULL, why, sizeof why),
               DEVICE_CA_ERROR, "serial 0 is refused");
  cr_assert_eq(device_ca_sign(ca.key_pem, ca.cert_pem, csr, "", 1, (int64_t)time(NULL), &pem,
                              NULL, why, sizeof why),
               DEVICE_CA_ERROR, "an empty subject is refused");
  /* without a fingerprint output */
  cr_assert_eq(device_ca_sign(ca.key_pem, ca.cert_pem, csr, PRINTER_ID, 1, (int64_t)time(NULL),
                              &pem, NULL, why, sizeof why),
               DEVICE_CA_OK, "%s", why);
  free(pem);
  free(csr);
  EVP_PKEY_free(k);
  free_ca(&other);
  free_ca(&ca);
}
