/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer-token verification (auth/jwt.c, auth/identity.c): the attack matrix, JWKS loading and
 * rotation, the verified-token cache, the development issuer (auth/dev.c), the tenant check,
 * and the `spoold token` / `spoold tenant` commands. Every key is generated at test time.
 */
#include "auth/dev.h"
#include "auth/identity.h"
#include "auth/jwt.h"
#include "cmd/cmd.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/buf.h"

#include <criterion/criterion.h>
#include "store-fixture.h"
#include <criterion/redirect.h>
#include <dirent.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ISS   "https://login.test/contoso/v2.0"
#define AUD   "api://spoold-test"
#define TID   "11111111-2222-3333-4444-555555555555"
#define OID   "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define APPID "99999999-8888-7777-6666-555555555555"

static char g_dir[64];
static char g_jwks[128];
static EVP_PKEY *g_rsa1, *g_rsa2, *g_ec1;
static int64_t g_now;

static int64_t test_clock(void) { return g_now; }

/* ---- fixtures ------------------------------------------------------------------------------ */

static void write_atomic(const char *path, const char *text) {
  char tmp[256];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  cr_assert(f, "cannot write %s", tmp);
  fputs(text, f);
  fclose(f);
  cr_assert_eq(rename(tmp, path), 0); /* a new inode, as a deployment tool would do */
}

/* {"keys":[...]} for n keys plus any extra raw JWK texts. */
static char *jwks_text(int n, EVP_PKEY **keys, const char **kids, const char *extra) {
  buf_t b = BUF_INIT;
  buf_puts(&b, "{\"keys\":[");
  for (int i = 0; i < n; i++) {
    char *jwk = jwt_jwk_json(keys[i], kids[i]);
    cr_assert(jwk);
    buf_printf(&b, "%s%s", i ? "," : "", jwk);
    free(jwk);
  }
  if (extra) buf_printf(&b, "%s%s", n ? "," : "", extra);
  buf_puts(&b, "]}");
  return buf_detach(&b);
}

static void write_jwks(int n, EVP_PKEY **keys, const char **kids, const char *extra) {
  char *t = jwks_text(n, keys, kids, extra);
  write_atomic(g_jwks, t);
  free(t);
}

static void setup(void) {
  g_now = (int64_t)time(NULL);
  test_store_setup(); /* the keys and the store of the tenant checks live in its directory */
  snprintf(g_dir, sizeof g_dir, "%s", test_store_dir());
  snprintf(g_jwks, sizeof g_jwks, "%s/jwks.json", g_dir);
  g_rsa1 = EVP_RSA_gen(2048);
  g_rsa2 = EVP_RSA_gen(2048);
  g_ec1 = EVP_EC_gen("P-256");
  cr_assert(g_rsa1 && g_rsa2 && g_ec1);
  EVP_PKEY *keys[] = {g_rsa1, g_ec1};
  const char *kids[] = {"rsa1", "ec1"};
  write_jwks(2, keys, kids, "{\"kty\":\"oct\",\"kid\":\"hmac1\",\"k\":\"c2VjcmV0\"}");
}

static void teardown(void) {
  test_store_teardown();
  EVP_PKEY_free(g_rsa1);
  EVP_PKEY_free(g_rsa2);
  EVP_PKEY_free(g_ec1);
}

static auth_t *mk_auth(int check_ms) {
  auth_issuer_cfg_t is = {ISS, g_jwks, AUD};
  auth_config_t cfg = {.issuers = &is, .nissuers = 1, .jwks_check_ms = check_ms,
                       .clock = test_clock};
  char *err = NULL;
  auth_t *a = auth_new(&cfg, &err);
  cr_assert(a, "auth_new: %s", err ? err : "?");
  return a;
}

/* ---- token builders ------------------------------------------------------------------------ */

static char *b64s(const void *data, size_t len) {
  size_t n = (len * 4 + 2) / 3 + 1;
  char *out = xmalloc(n);
  b64url_encode(data, len, out, n);
  return out;
}

static char *hdr(const char *alg, const char *kid) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
  return buf_detach(&b);
}

/* A delegated token's claims, valid for an hour. */
static json_t *claims(void) {
  return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s]}",
                   "iss", ISS, "aud", AUD, "iat", (json_int_t)g_now, "nbf", (json_int_t)g_now,
                   "exp", (json_int_t)(g_now + 3600), "tid", TID, "oid", OID, "appid", APPID,
                   "scp", "PrintJob.ReadWrite PrinterShare.ReadBasic.All", "upn",
                   "ada@contoso.test", "name", "Ada", "groups", "g1", "wids",
                   CALLER_WID_PRINTER_ADMIN);
}

/* The base claims with key replaced by value (NULL removes it); returns the JSON text. */
static char *pay_with(const char *key, json_t *value) {
  json_t *c = claims();
  if (key && value) json_object_set_new(c, key, value);
  else if (key) json_object_del(c, key);
  char *s = json_dumps(c, JSON_COMPACT);
  json_decref(c);
  return s;
}

static char *pay(void) { return pay_with(NULL, NULL); }

static char *sign(EVP_PKEY *k, const char *alg, char *h, char *p) {
  char err[128];
  char *t = jwt_sign(k, alg, h, p, err, sizeof err);
  cr_assert(t, "jwt_sign: %s", err);
  free(h);
  free(p);
  return t;
}

static char *raw(const char *h, const char *p, const char *sig_b64) {
  char *hb = b64s(h, strlen(h)), *pb = b64s(p, strlen(p));
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s.%s.%s", hb, pb, sig_b64);
  free(hb);
  free(pb);
  return buf_detach(&b);
}

/* header.payload with a signature made over them by fn */
static char *raw_signed(char *h, char *p, char *(*fn)(const char *msg)) {
  char *hb = b64s(h, strlen(h)), *pb = b64s(p, strlen(p));
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s.%s", hb, pb);
  char *sig = fn(b.data);
  buf_printf(&b, ".%s", sig);
  free(sig);
  free(hb);
  free(pb);
  free(h);
  free(p);
  return buf_detach(&b);
}

static char *hmac_with_rsa_pem(const char *msg) {
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, g_rsa1);
  char *pem = NULL;
  long pl = BIO_get_mem_data(bio, &pem);
  unsigned char mac[64];
  size_t ml = 0;
  cr_assert(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, pem, (size_t)pl,
                      (const unsigned char *)msg, strlen(msg), mac, sizeof mac, &ml));
  BIO_free(bio);
  return b64s(mac, ml);
}

static char *es256_der(const char *msg) { /* the DER form, not the JWS raw r||s */
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  unsigned char sig[128];
  size_t sl = sizeof sig;
  cr_assert(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, g_ec1) == 1);
  cr_assert(EVP_DigestSign(m, sig, &sl, (const unsigned char *)msg, strlen(msg)) == 1);
  EVP_MD_CTX_free(m);
  return b64s(sig, sl);
}

static char *zero64(const char *msg) {
  (void)msg;
  unsigned char z[64] = {0};
  return b64s(z, 64);
}

/* ---- the attack matrix --------------------------------------------------------------------- */

static char *t_ok_rs256(void) { return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay()); }
static char *t_ok_es256(void) { return sign(g_ec1, "ES256", hdr("ES256", "ec1"), pay()); }
static char *t_alg_none(void) {
  char *h = hdr("none", "rsa1"), *p = pay(), *t = raw(h, p, "");
  free(h);
  free(p);
  return t;
}
static char *t_alg_none_upper(void) {
  char *h = hdr("None", "rsa1"), *p = pay(), *t = raw(h, p, "");
  free(h);
  free(p);
  return t;
}
static char *t_hs256_rsa_pem(void) {
  return raw_signed(hdr("HS256", "rsa1"), pay(), hmac_with_rsa_pem);
}
static char *t_hs256_oct_kid(void) {
  return raw_signed(hdr("HS256", "hmac1"), pay(), hmac_with_rsa_pem);
}
static char *t_unknown_kid(void) { return sign(g_rsa1, "RS256", hdr("RS256", "rsa9"), pay()); }
static char *t_oct_kid(void) { return sign(g_rsa1, "RS256", hdr("RS256", "hmac1"), pay()); }
static char *t_wrong_key(void) { return sign(g_rsa2, "RS256", hdr("RS256", "rsa1"), pay()); }
static char *t_rs256_on_ec_key(void) { return sign(g_rsa1, "RS256", hdr("RS256", "ec1"), pay()); }
static char *t_es256_on_rsa_key(void) { return sign(g_ec1, "ES256", hdr("ES256", "rsa1"), pay()); }
static char *t_truncated_rs(void) {
  char *t = t_ok_rs256();
  t[strlen(t) - 8] = '\0'; /* a dangling, non-canonical last character */
  return t;
}
static char *t_truncated_rs_clean(void) {
  char *t = t_ok_rs256();
  t[strlen(t) - 6] = '\0'; /* 342 -> 336 characters: decodes cleanly to 252 bytes */
  return t;
}
static char *t_truncated_es(void) {
  char *t = t_ok_es256();
  t[strlen(t) - 4] = '\0';
  return t;
}
static char *t_empty_sig(void) {
  char *t = t_ok_rs256();
  strrchr(t, '.')[1] = '\0';
  return t;
}
static char *t_es_der(void) { return raw_signed(hdr("ES256", "ec1"), pay(), es256_der); }
static char *t_es_zero(void) { return raw_signed(hdr("ES256", "ec1"), pay(), zero64); }
static char *t_tampered(void) {
  char *t = t_ok_rs256();
  char *p2 = pay_with("tid", json_string("00000000-0000-0000-0000-000000000000"));
  char *pb = b64s(p2, strlen(p2));
  char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
  buf_t b = BUF_INIT;
  buf_printf(&b, "%.*s.%s%s", (int)(d1 - t), t, pb, d2);
  free(t);
  free(p2);
  free(pb);
  return buf_detach(&b);
}
static char *t_bad_b64_payload(void) {
  char *t = t_ok_rs256();
  strchr(t, '.')[3] = '*';
  return t;
}
static char *t_bad_b64_sig(void) {
  char *t = t_ok_rs256();
  strrchr(t, '.')[5] = '+'; /* base64, not base64url */
  return t;
}
static char *t_padded(void) {
  char *t = t_ok_rs256();
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s==", t);
  free(t);
  return buf_detach(&b);
}
static char *t_two_parts(void) {
  char *t = t_ok_rs256();
  *strrchr(t, '.') = '\0';
  return t;
}
static char *t_four_parts(void) {
  char *t = t_ok_rs256();
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s.abc", t);
  free(t);
  return buf_detach(&b);
}
static char *t_expired(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("exp", json_integer(g_now - 61)));
}
static char *t_exp_in_skew(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("exp", json_integer(g_now - 30)));
}
static char *t_exp_huge(void) { /* no overflow in exp + skew */
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
              pay_with("exp", json_integer(9223372036854775807LL)));
}
static char *t_exp_huge_real(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("exp", json_real(1e300)));
}
static char *t_nbf_huge_negative(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
              pay_with("nbf", json_integer(-9223372036854775807LL - 1)));
}
static char *t_no_exp(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("exp", NULL));
}
static char *t_exp_string(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("exp", json_string("tomorrow")));
}
static char *t_not_yet(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("nbf", json_integer(g_now + 120)));
}
static char *t_nbf_in_skew(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("nbf", json_integer(g_now + 30)));
}
static char *t_wrong_iss(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
              pay_with("iss", json_string("https://evil.test/")));
}
static char *t_no_iss(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("iss", NULL));
}
static char *t_wrong_aud(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("aud", json_string("api://other")));
}
static char *t_aud_array_ok(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
              pay_with("aud", json_pack("[s,s]", "api://other", AUD)));
}
static char *t_aud_array_bad(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
              pay_with("aud", json_pack("[s,s]", "api://other", "api://third")));
}
static char *t_no_aud(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("aud", NULL));
}
static char *t_no_tid(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("tid", NULL));
}
static char *t_bad_tid(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("tid", json_string("a/../b")));
}
static char *t_tid_number(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("tid", json_integer(7)));
}
static char *t_no_oid(void) { /* delegated (scp) without a user */
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("oid", NULL));
}
static char *t_roles_not_array(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("roles", json_string("x")));
}
static char *t_header_not_json(void) {
  return sign(g_rsa1, "RS256", xstrdup("this is not json"), pay());
}
static char *t_header_array(void) {
  return sign(g_rsa1, "RS256", xstrdup("[\"RS256\"]"), pay());
}
static char *t_payload_not_json(void) {
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), xstrdup("{\"iss\": oops"));
}
static char *t_payload_dup_keys(void) {
  char *p = pay(); /* "...}" -> "...,"tid":"other"}" */
  buf_t b = BUF_INIT;
  buf_printf(&b, "%.*s,\"tid\":\"22222222-0000-0000-0000-000000000000\"}", (int)strlen(p) - 1, p);
  free(p);
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), buf_detach(&b));
}
static char *t_header_dup_keys(void) {
  return sign(g_rsa1, "RS256", xstrdup("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"kid\":\"rsa2\"}"),
              pay());
}
static char *t_crit(void) {
  return sign(g_rsa1, "RS256", xstrdup("{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"b64\"]}"),
              pay());
}
static char *t_no_kid(void) {
  return sign(g_rsa1, "RS256", xstrdup("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"), pay());
}
static char *t_oversize(void) {
  char big[17000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  return sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), pay_with("name", json_string(big)));
}
static char *t_kid_injection(void) { /* reasons never echo quotes or control characters */
  return sign(g_rsa1, "RS256", hdr("RS256", "x\\\"\\r\\nSet-Cookie: a=b"), pay());
}

typedef struct attack {
  const char *name;
  char     *(*make)(void);
  int         rc;
  const char *why; /* expected prefix of the reason */
} attack_t;

static const attack_t ATTACKS[] = {
  {"valid RS256", t_ok_rs256, AUTH_OK, ""},
  {"valid ES256", t_ok_es256, AUTH_OK, ""},
  {"alg none", t_alg_none, AUTH_INVALID, "algorithm none is not allowed"},
  {"alg None", t_alg_none_upper, AUTH_INVALID, "algorithm None is not allowed"},
  {"HS256 signed with the RSA public key PEM", t_hs256_rsa_pem, AUTH_INVALID,
   "algorithm HS256 is not allowed"},
  {"HS256 naming the JWKS oct key", t_hs256_oct_kid, AUTH_INVALID,
   "algorithm HS256 is not allowed"},
  {"unknown kid", t_unknown_kid, AUTH_INVALID, "unknown signing key kid rsa9"},
  {"kid of an ignored oct key", t_oct_kid, AUTH_INVALID, "unknown signing key kid hmac1"},
  {"wrong key for the kid", t_wrong_key, AUTH_INVALID, "signature is invalid"},
  {"RS256 token naming the ES256 key", t_rs256_on_ec_key, AUTH_INVALID,
   "algorithm RS256 is not allowed for signing key ec1"},
  {"ES256 token naming the RS256 key", t_es256_on_rsa_key, AUTH_INVALID,
   "algorithm ES256 is not allowed for signing key rsa1"},
  {"truncated RS256 signature", t_truncated_rs, AUTH_INVALID, "signature is invalid"},
  {"signature cut at a base64 boundary", t_truncated_rs_clean, AUTH_INVALID,
   "signature is invalid"},
  {"truncated ES256 signature", t_truncated_es, AUTH_INVALID, "signature is invalid"},
  {"empty signature", t_empty_sig, AUTH_INVALID, "signature is invalid"},
  {"ES256 signature in DER form", t_es_der, AUTH_INVALID, "signature is invalid"},
  {"ES256 all-zero signature", t_es_zero, AUTH_INVALID, "signature is invalid"},
  {"payload changed after signing", t_tampered, AUTH_INVALID, "signature is invalid"},
  {"bad base64 in the payload", t_bad_b64_payload, AUTH_INVALID, "token is malformed"},
  {"bad base64 in the signature", t_bad_b64_sig, AUTH_INVALID, "token is malformed"},
  {"padded base64", t_padded, AUTH_INVALID, "token is malformed"},
  {"two parts", t_two_parts, AUTH_INVALID, "token is malformed"},
  {"four parts", t_four_parts, AUTH_INVALID, "token is malformed"},
  {"expired", t_expired, AUTH_INVALID, "token has expired"},
  {"exp within the 60 s skew", t_exp_in_skew, AUTH_OK, ""},
  {"exp at INT64_MAX", t_exp_huge, AUTH_OK, ""},
  {"exp a huge real", t_exp_huge_real, AUTH_OK, ""},
  {"nbf at INT64_MIN", t_nbf_huge_negative, AUTH_OK, ""},
  {"no exp", t_no_exp, AUTH_INVALID, "token has no exp claim"},
  {"exp not a number", t_exp_string, AUTH_INVALID, "token is malformed"},
  {"not yet valid", t_not_yet, AUTH_INVALID, "token is not yet valid"},
  {"nbf within the 60 s skew", t_nbf_in_skew, AUTH_OK, ""},
  {"wrong iss", t_wrong_iss, AUTH_INVALID, "issuer https://evil.test/ is not trusted"},
  {"no iss", t_no_iss, AUTH_INVALID, "token has no iss claim"},
  {"wrong aud", t_wrong_aud, AUTH_INVALID, "audience api://other is not accepted"},
  {"aud array holding ours", t_aud_array_ok, AUTH_OK, ""},
  {"aud array without ours", t_aud_array_bad, AUTH_INVALID, "audience api://other is not accepted"},
  {"no aud", t_no_aud, AUTH_INVALID, "token has no aud claim"},
  {"no tid", t_no_tid, AUTH_INVALID, "token has no tid claim"},
  {"tid with path characters", t_bad_tid, AUTH_INVALID, "token has an invalid tid claim"},
  {"tid not a string", t_tid_number, AUTH_INVALID, "token has an invalid tid claim"},
  {"delegated token without oid", t_no_oid, AUTH_INVALID, "token has no oid claim"},
  {"roles not an array", t_roles_not_array, AUTH_INVALID, "token has an invalid roles claim"},
  {"header not JSON", t_header_not_json, AUTH_INVALID, "token is malformed"},
  {"header a JSON array", t_header_array, AUTH_INVALID, "token is malformed"},
  {"payload not JSON", t_payload_not_json, AUTH_INVALID, "token is malformed"},
  {"duplicate keys in the payload", t_payload_dup_keys, AUTH_INVALID, "token is malformed"},
  {"duplicate keys in the header", t_header_dup_keys, AUTH_INVALID, "token is malformed"},
  {"crit header", t_crit, AUTH_INVALID, "token is malformed"},
  {"no kid", t_no_kid, AUTH_INVALID, "token is malformed"},
  {"oversize token", t_oversize, AUTH_INVALID, "token is too large"},
  {"kid with quotes and CRLF", t_kid_injection, AUTH_INVALID, "unknown signing key kid x??"},
};

TestSuite(jwt, .init = setup, .fini = teardown, .timeout = 60);

static int verify_token(auth_t *a, const char *tok, caller_t **c, char *why, size_t whylen) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "Bearer %s", tok);
  int rc = auth_verify(a, b.data, c, why, whylen);
  buf_free(&b);
  return rc;
}

/* A "{tenantid}" issuer (Entra ID's multi-tenant form) accepts each tenant's own issuer only
 * for tokens of that tenant. */
Test(jwt, tenant_issuer_template) {
  auth_issuer_cfg_t is = {"https://login.test/{tenantid}/v2.0", g_jwks, AUD};
  auth_config_t cfg = {.issuers = &is, .nissuers = 1, .clock = test_clock};
  char *err = NULL, why[512];
  auth_t *a = auth_new(&cfg, &err);
  cr_assert(a, "auth_new: %s", err ? err : "?");
  caller_t *c = NULL;
  char *ok = sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
                  pay_with("iss", json_string("https://login.test/" TID "/v2.0")));
  cr_expect_eq(verify_token(a, ok, &c, why, sizeof why), AUTH_OK, "%s", why);
  caller_free(c);
  c = NULL;
  char *other = sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
                     pay_with("iss", json_string("https://login.test/another-tenant/v2.0")));
  cr_expect_eq(verify_token(a, other, &c, why, sizeof why), AUTH_INVALID);
  cr_expect(strstr(why, "does not match the token's tid"), "%s", why);
  char *nested = sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
                      pay_with("iss", json_string("https://login.test/a/b/v2.0")));
  cr_expect_eq(verify_token(a, nested, &c, why, sizeof why), AUTH_INVALID);
  cr_expect(strstr(why, "is not trusted"), "%s", why);
  /* the configured template itself, literally, is no issuer of any tenant (issue 11, defect 2:
   * the exact-match lookup accepted it before the tenant binding ran) */
  char *literal = sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
                       pay_with("iss", json_string("https://login.test/{tenantid}/v2.0")));
  c = NULL;
  cr_expect_eq(verify_token(a, literal, &c, why, sizeof why), AUTH_INVALID, "literal template");
  cr_expect(strstr(why, "is not trusted"), "%s", why);
  cr_expect_null(c);
  /* nor is a tid spelled with braces, whatever the token's tid claim says */
  json_t *bc = claims();
  json_object_set_new(bc, "iss", json_string("https://login.test/{x}/v2.0"));
  json_object_set_new(bc, "tid", json_string("{x}"));
  char *braces = sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), json_dumps(bc, JSON_COMPACT));
  json_decref(bc);
  c = NULL;
  cr_expect_eq(verify_token(a, braces, &c, why, sizeof why), AUTH_INVALID, "braced tenant");
  cr_expect(strstr(why, "is not trusted"), "%s", why);
  cr_expect_null(c);
  free(ok);
  free(other);
  free(nested);
  free(literal);
  free(braces);
  auth_free(a);
}

Test(jwt, attack_matrix) {
  auth_t *a = mk_auth(0);
  for (size_t i = 0; i < sizeof ATTACKS / sizeof ATTACKS[0]; i++) {
    const attack_t *t = &ATTACKS[i];
    char *tok = t->make(), why[512] = "";
    caller_t *c = NULL;
    int rc = verify_token(a, tok, &c, why, sizeof why);
    cr_expect_eq(rc, t->rc, "%s: rc %d, want %d (%s)", t->name, rc, t->rc, why);
    cr_expect(!strncmp(why, t->why, strlen(t->why)), "%s: reason \"%s\", want \"%s...\"",
              t->name, why, t->why);
    cr_expect(!strpbrk(why, "\"\\\r\n"), "%s: reason \"%s\" has unsafe characters", t->name, why);
    if (rc == AUTH_OK) cr_expect(c && !strcmp(c->tenant, TID), "%s: caller", t->name);
    else cr_expect_null(c, "%s: no caller on failure", t->name);
    caller_free(c);
    free(tok);
  }
  auth_free(a);
}

Test(jwt, no_bearer_token) {
  auth_t *a = mk_auth(0);
  const char *headers[] = {NULL, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Bearerx.y.z"};
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
    caller_t *c = NULL;
    char why[128] = "";
    cr_expect_eq(auth_verify(a, headers[i], &c, why, sizeof why), AUTH_NO_TOKEN, "header %zu", i);
    cr_expect_str_eq(why, "no bearer token");
    cr_expect_null(c);
  }
  char www[300];
  auth_www_authenticate(AUTH_NO_TOKEN, "no bearer token", www, sizeof www);
  cr_expect_str_eq(www, "Bearer realm=\"spoold\"");
  auth_www_authenticate(AUTH_INVALID, "token has expired", www, sizeof www);
  cr_expect_str_eq(www, "Bearer realm=\"spoold\", error=\"invalid_token\", "
                        "error_description=\"token has expired\"");
  auth_www_authenticate(AUTH_INVALID, "a \"quoted\"\r\nx", www, sizeof www);
  const char *d = strstr(www, "description=\"") + 13;
  size_t dl = strlen(d);
  cr_expect(dl > 0 && d[dl - 1] == '"' && !memchr(d, '"', dl - 1) && !strpbrk(d, "\r\n\\"),
            "unsafe header value: %s", www);
  auth_free(a);
}

Test(jwt, bearer_scheme_is_case_insensitive) {
  auth_t *a = mk_auth(0);
  char *tok = t_ok_rs256();
  buf_t b = BUF_INIT;
  buf_printf(&b, "  bEaReR   %s  ", tok);
  caller_t *c = NULL;
  char why[256];
  cr_expect_eq(auth_verify(a, b.data, &c, why, sizeof why), AUTH_OK, "%s", why);
  caller_free(c);
  buf_free(&b);
  free(tok);
  auth_free(a);
}

Test(jwt, delegated_claims_mapped) {
  auth_t *a = mk_auth(0);
  char *tok = t_ok_rs256(), why[256];
  caller_t *c = NULL;
  cr_assert_eq(verify_token(a, tok, &c, why, sizeof why), AUTH_OK, "%s", why);
  cr_expect_eq(c->kind, CALLER_DELEGATED);
  cr_expect_str_eq(c->tenant, TID);
  cr_expect_str_eq(c->user_id, OID);
  cr_expect_str_eq(c->app_id, APPID);
  cr_expect_str_eq(c->upn, "ada@contoso.test");
  cr_expect_str_eq(c->name, "Ada");
  cr_expect_str_eq(c->issuer, ISS);
  cr_expect_eq(c->nscopes, 2);
  cr_expect(caller_has_scope(c, "PrintJob.ReadWrite"));
  cr_expect(caller_has_scope(c, "printershare.readbasic.all"));
  cr_expect(!caller_has_scope(c, "PrintJob.Read"));
  cr_expect(!caller_has_role(c, "PrintJob.ReadWrite"));
  cr_expect(caller_is_admin(c));
  cr_expect(caller_in_group(c, "g1"));
  cr_expect_eq(c->expires, g_now + 3600);
  caller_free(c);
  free(tok);
  auth_free(a);
}

Test(jwt, application_token_classified) {
  auth_t *a = mk_auth(0);
  json_t *cl = claims();
  json_object_del(cl, "scp");
  json_object_del(cl, "oid");
  json_object_del(cl, "upn");
  json_object_del(cl, "appid");
  json_object_del(cl, "wids");
  json_object_set_new(cl, "azp", json_string(APPID)); /* v2 tokens name the app in azp */
  json_object_set_new(cl, "roles", json_pack("[s,s]", "PrintJob.Manage.All", "Printer.Read.All"));
  char *p = json_dumps(cl, JSON_COMPACT), *tok = sign(g_ec1, "ES256", hdr("ES256", "ec1"), p);
  json_decref(cl);
  caller_t *c = NULL;
  char why[256];
  cr_assert_eq(verify_token(a, tok, &c, why, sizeof why), AUTH_OK, "%s", why);
  cr_expect_eq(c->kind, CALLER_APP);
  cr_expect_str_eq(c->app_id, APPID);
  cr_expect(caller_has_role(c, "PrintJob.Manage.All"));
  cr_expect(!caller_has_scope(c, "PrintJob.Manage.All"));
  cr_expect(!caller_is_admin(c)); /* wids never make an application an administrator */
  caller_free(c);
  free(tok);

  /* roles but no appid/azp: an application token must name its app */
  cl = claims();
  json_object_del(cl, "scp");
  json_object_del(cl, "appid");
  json_object_set_new(cl, "roles", json_pack("[s]", "Printer.Read.All"));
  p = json_dumps(cl, JSON_COMPACT);
  json_decref(cl);
  tok = sign(g_rsa1, "RS256", hdr("RS256", "rsa1"), p);
  cr_expect_eq(verify_token(a, tok, &c, why, sizeof why), AUTH_INVALID);
  cr_expect(strstr(why, "token has no appid or azp claim"), "%s", why);
  free(tok);
  auth_free(a);
}

Test(jwt, jwks_loading_rules) {
  EVP_PKEY *weak = EVP_RSA_gen(1024);
  EVP_PKEY *keys[] = {weak, g_rsa1, g_ec1, g_rsa2};
  const char *kids[] = {"weak", "rsa1", "ec1", "rsa1"}; /* the second rsa1 is a duplicate */
  char *t = jwks_text(
      4, keys, kids,
      "{\"kty\":\"oct\",\"kid\":\"hs\",\"k\":\"c2VjcmV0\"},"
      "{\"kty\":\"EC\",\"kid\":\"p384\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"},"
      "{\"kty\":\"EC\",\"kid\":\"offcurve\",\"crv\":\"P-256\","
      "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\","
      "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"},"
      "{\"kty\":\"RSA\",\"kid\":\"rs384\",\"alg\":\"RS384\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
      "{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}");
  char err[256] = "";
  jwt_jwks_t *ks = jwt_jwks_parse(t, strlen(t), err, sizeof err);
  cr_assert(ks, "%s", err);
  cr_expect_eq(jwt_jwks_count(ks), 2);
  cr_expect_null(jwt_jwks_alg(ks, "weak"), "RSA keys under 2048 bits are rejected");
  cr_expect_str_eq(jwt_jwks_alg(ks, "rsa1"), "RS256");
  cr_expect_str_eq(jwt_jwks_alg(ks, "ec1"), "ES256");
  cr_expect_null(jwt_jwks_alg(ks, "hs"), "kty=oct is ignored");
  cr_expect_null(jwt_jwks_alg(ks, "p384"));
  cr_expect_null(jwt_jwks_alg(ks, "offcurve"));
  jwt_jwks_free(ks);
  free(t);
  EVP_PKEY_free(weak);

  cr_expect_null(jwt_jwks_parse("{\"keys\":1}", 10, err, sizeof err));
  cr_expect(strstr(err, "not a JWKS"), "%s", err);
  cr_expect_null(jwt_jwks_parse("{\"keys\":[],\"keys\":[]}", 22, err, sizeof err));

  /* a file with no usable key cannot configure an issuer */
  write_atomic(g_jwks, "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\",\"k\":\"AA\"}]}");
  auth_issuer_cfg_t is = {ISS, g_jwks, AUD};
  auth_config_t cfg = {.issuers = &is, .nissuers = 1};
  char *e = NULL;
  cr_expect_null(auth_new(&cfg, &e));
  cr_expect(e && strstr(e, "no usable"), "%s", e ? e : "");
  free(e);
  is.jwks_path = "/nonexistent/jwks.json";
  cr_expect_null(auth_new(&cfg, &e));
  cr_expect(e && strstr(e, "/nonexistent/jwks.json"), "%s", e ? e : "");
  free(e);
  auth_config_t none = {0};
  cr_expect_null(auth_new(&none, &e));
  cr_expect(e && strstr(e, "no trusted token issuer"), "%s", e ? e : "");
  free(e);
}

Test(jwt, rotation_by_file_change) {
  auth_t *a = mk_auth(-1); /* look at the file on every request */
  char *old = t_ok_rs256(), why[256];
  caller_t *c = NULL;
  cr_assert_eq(verify_token(a, old, &c, why, sizeof why), AUTH_OK, "%s", why);
  caller_free(c);
  cr_assert_eq(verify_token(a, old, &c, why, sizeof why), AUTH_OK, "%s", why); /* now cached */
  caller_free(c);

  EVP_PKEY *k3 = EVP_RSA_gen(2048);
  EVP_PKEY *keys[] = {k3, g_ec1};
  const char *kids[] = {"rsa3", "ec1"};
  write_jwks(2, keys, kids, NULL);
  char *fresh = sign(k3, "RS256", hdr("RS256", "rsa3"), pay());
  cr_expect_eq(verify_token(a, fresh, &c, why, sizeof why), AUTH_OK, "new kid: %s", why);
  caller_free(c);
  cr_expect_eq(verify_token(a, old, &c, why, sizeof why), AUTH_INVALID, "removed kid, cached");
  cr_expect_str_eq(why, "unknown signing key kid rsa1");

  /* a broken rewrite keeps the keys in force */
  write_atomic(g_jwks, "{\"keys\": [");
  cr_expect_eq(verify_token(a, fresh, &c, why, sizeof why), AUTH_OK, "%s", why);
  caller_free(c);
  char *err = NULL;
  cr_expect_eq(auth_reload(a, &err), 1);
  cr_expect(err && strstr(err, "jwks.json"), "%s", err ? err : "");
  free(err);
  cr_expect_eq(verify_token(a, fresh, &c, why, sizeof why), AUTH_OK, "%s", why);
  caller_free(c);
  free(old);
  free(fresh);
  EVP_PKEY_free(k3);
  auth_free(a);
}

Test(jwt, rotation_by_reload) {
  auth_t *a = mk_auth(3600 * 1000); /* files looked at hourly: only a reload picks changes up */
  EVP_PKEY *k3 = EVP_RSA_gen(2048);
  EVP_PKEY *keys[] = {k3};
  const char *kids[] = {"rsa3"};
  char *fresh = sign(k3, "RS256", hdr("RS256", "rsa3"), pay()), why[256];
  caller_t *c = NULL;
  cr_assert_eq(verify_token(a, fresh, &c, why, sizeof why), AUTH_INVALID);
  write_jwks(1, keys, kids, NULL);
  cr_expect_eq(verify_token(a, fresh, &c, why, sizeof why), AUTH_INVALID, "not yet reloaded");
  cr_expect_str_eq(why, "unknown signing key kid rsa3");
  auth_request_reload(a); /* what the SIGHUP handler calls */
  cr_expect_eq(verify_token(a, fresh, &c, why, sizeof why), AUTH_OK, "%s", why);
  caller_free(c);
  char *old = t_ok_rs256();
  cr_expect_eq(verify_token(a, old, &c, why, sizeof why), AUTH_INVALID);
  cr_expect_str_eq(why, "unknown signing key kid rsa1");
  char *err = NULL;
  cr_expect_eq(auth_reload(a, &err), 0);
  cr_expect_null(err);
  free(old);
  free(fresh);
  EVP_PKEY_free(k3);
  auth_free(a);
}

Test(jwt, cache_hit_path) {
  auth_t *a = mk_auth(0);
  char *tok = sign(g_rsa1, "RS256", hdr("RS256", "rsa1"),
                   pay_with("exp", json_integer(g_now + 100))), why[256];
  caller_t *c1 = NULL, *c2 = NULL;
  auth_stats_t s;
  cr_assert_eq(verify_token(a, tok, &c1, why, sizeof why), AUTH_OK, "%s", why);
  auth_get_stats(a, &s);
  cr_expect_eq(s.verified, 1);
  cr_expect_eq(s.cache_hits, 0);
  cr_assert_eq(verify_token(a, tok, &c2, why, sizeof why), AUTH_OK, "%s", why);
  auth_get_stats(a, &s);
  cr_expect_eq(s.verified, 1, "no second signature check");
  cr_expect_eq(s.cache_hits, 1);
  cr_expect(c1 != c2, "each request owns its caller");
  cr_expect_str_eq(c2->user_id, c1->user_id);
  cr_expect_eq(c2->nscopes, c1->nscopes);
  caller_free(c1);
  caller_free(c2);

  /* a changed token is a different key: verified (and refused) in full */
  char *bad = xstrdup(tok);
  bad[strlen(bad) - 6] = bad[strlen(bad) - 6] == 'A' ? 'B' : 'A';
  cr_expect_eq(verify_token(a, bad, &c1, why, sizeof why), AUTH_INVALID);
  free(bad);

  /* cached only until expiry (+ skew) */
  g_now += 100 + 60;
  cr_expect_eq(verify_token(a, tok, &c1, why, sizeof why), AUTH_OK, "still within the skew");
  caller_free(c1);
  g_now += 1;
  cr_expect_eq(verify_token(a, tok, &c1, why, sizeof why), AUTH_INVALID);
  cr_expect_str_eq(why, "token has expired");
  free(tok);
  auth_free(a);
}

static void *dup_str(const void *p) { return xstrdup(p); }

Test(jwt, cache_is_bounded) {
  jwt_cache_t *c = jwt_cache_new(8, dup_str, free);
  unsigned char keys[64][32];
  for (int i = 0; i < 64; i++) {
    char t[32];
    snprintf(t, sizeof t, "token-%d", i);
    cr_assert(jwt_cache_key(t, strlen(t), keys[i]));
    jwt_cache_put(c, keys[i], 1, 1000, xstrdup(t));
  }
  int held = 0;
  for (int i = 0; i < 64; i++) {
    char *v = jwt_cache_get(c, keys[i], 1, 10);
    held += v != NULL;
    free(v);
  }
  cr_expect(held > 0 && held <= 8, "held %d", held);
  char *v = jwt_cache_get(c, keys[63], 1, 10);
  cr_expect(v && !strcmp(v, "token-63"), "the newest entry stays");
  free(v);
  cr_expect_null(jwt_cache_get(c, keys[63], 2, 10), "another key generation is a miss");
  cr_expect_null(jwt_cache_get(c, keys[63], 1, 10), "and retired the entry");
  jwt_cache_put(c, keys[0], 1, 1000, xstrdup("x"));
  cr_expect_null(jwt_cache_get(c, keys[0], 1, 1001), "expired");
  jwt_cache_free(c);
}

typedef struct { auth_t *a; char *toks[2]; int failures; } race_t;

static void *race(void *arg) {
  race_t *r = arg;
  for (int i = 0; i < 400; i++) {
    caller_t *c = NULL;
    char why[256];
    if (verify_token(r->a, r->toks[i % 2], &c, why, sizeof why) != AUTH_OK) r->failures++;
    caller_free(c);
  }
  return NULL;
}

Test(jwt, concurrent_verification) {
  auth_t *a = mk_auth(-1);
  race_t r[6];
  pthread_t th[6];
  char *t1 = t_ok_rs256(), *t2 = t_ok_es256();
  for (int i = 0; i < 6; i++) {
    r[i] = (race_t){a, {t1, t2}, 0};
    pthread_create(&th[i], NULL, race, &r[i]);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(th[i], NULL);
    cr_expect_eq(r[i].failures, 0);
  }
  free(t1);
  free(t2);
  auth_free(a);
}

/* ---- the development issuer ---------------------------------------------------------------- */

TestSuite(dev, .init = setup, .fini = teardown, .timeout = 60);

static auth_t *mk_dev_auth(int tenant_cache_ms) {
  auth_config_t cfg = {.dev = true, .data_dir = g_dir, .clock = test_clock,
                       .tenant_cache_ms = tenant_cache_ms};
  char *err = NULL;
  auth_t *a = auth_new(&cfg, &err);
  cr_assert(a, "auth_new: %s", err ? err : "?");
  return a;
}

static char *mint(const dev_token_req_t *r) {
  char *err = NULL;
  bool created;
  dev_key_t *k = dev_key_open(g_dir, &created, &err);
  cr_assert(k, "%s", err ? err : "");
  char *t = dev_token_mint(k, r, &err);
  cr_assert(t, "mint: %s", err ? err : "");
  dev_key_free(k);
  return t;
}

Test(dev, key_created_once_then_reused) {
  char *err = NULL, path[256];
  bool created = false;
  dev_key_t *k = dev_key_open(g_dir, &created, &err);
  cr_assert(k, "%s", err ? err : "");
  cr_expect(created);
  cr_expect_eq(strlen(dev_key_kid(k)), 43);
  snprintf(path, sizeof path, "%s/%s", g_dir, DEV_KEY_FILE);
  cr_expect_str_eq(dev_key_path(k), path);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_expect_eq(st.st_mode & 0777, 0600);
  char kid[44];
  strcpy(kid, dev_key_kid(k));
  dev_key_free(k);

  k = dev_key_open(g_dir, &created, &err);
  cr_assert(k);
  cr_expect(!created);
  cr_expect_str_eq(dev_key_kid(k), kid, "the same key on the next start");
  char *jwks = dev_key_jwks(k);
  cr_expect(strstr(jwks, kid) && strstr(jwks, "\"ES256\"") && !strstr(jwks, "\"d\""),
            "public JWKS: %s", jwks);
  free(jwks);
  dev_key_free(k);

  chmod(path, 0644);
  cr_expect_null(dev_key_open(g_dir, &created, &err));
  cr_expect(err && strstr(err, "chmod 600"), "%s", err ? err : "");
  free(err);
  cr_expect_null(dev_key_open("/nonexistent-dir", &created, &err));
  cr_expect(err && strstr(err, "does not exist"), "%s", err ? err : "");
  free(err);
}

Test(dev, minted_tokens_verify) {
  auth_t *a = mk_dev_auth(0);
  dev_token_req_t app = {.kind = DEV_TOKEN_APP, .tenant = TID, .app_id = APPID,
                         .roles = "Printer.Read.All PrintJob.Manage.All", .now = g_now};
  char *t = mint(&app), why[256];
  caller_t *c = NULL;
  cr_assert_eq(verify_token(a, t, &c, why, sizeof why), AUTH_OK, "%s", why);
  cr_expect_eq(c->kind, CALLER_APP);
  cr_expect_str_eq(c->issuer, DEV_ISSUER);
  cr_expect_str_eq(c->tenant, TID);
  cr_expect_str_eq(c->app_id, APPID);
  cr_expect_eq(c->nroles, 2);
  cr_expect(caller_has_role(c, "PrintJob.Manage.All"));
  cr_expect_str_eq(c->idtyp, "app");
  cr_expect_eq(c->expires, g_now + DEV_TTL_DEFAULT);
  caller_free(c);
  free(t);

  dev_token_req_t user = {.kind = DEV_TOKEN_USER, .tenant = TID, .app_id = APPID,
                          .user_oid = OID, .upn = "ada@contoso.test", .name = "Ada Lovelace",
                          .scopes = "PrintJob.ReadWrite  PrinterShare.ReadBasic.All",
                          .groups = "g1,g2", .admin = true, .ttl = 120, .now = g_now};
  t = mint(&user);
  cr_assert_eq(verify_token(a, t, &c, why, sizeof why), AUTH_OK, "%s", why);
  cr_expect_eq(c->kind, CALLER_DELEGATED);
  cr_expect_str_eq(c->user_id, OID);
  cr_expect_str_eq(c->upn, "ada@contoso.test");
  cr_expect_str_eq(c->name, "Ada Lovelace");
  cr_expect_eq(c->nscopes, 2);
  cr_expect_eq(c->ngroups, 2);
  cr_expect(caller_is_admin(c));
  cr_expect(caller_has_wid(c, CALLER_WID_PRINTER_ADMIN));
  cr_expect_eq(c->expires, g_now + 120);
  caller_free(c);
  free(t);

  user.admin = false;
  user.groups = NULL;
  t = mint(&user);
  cr_assert_eq(verify_token(a, t, &c, why, sizeof why), AUTH_OK, "%s", why);
  cr_expect(!caller_is_admin(c));
  cr_expect_eq(c->nwids, 0);
  caller_free(c);
  free(t);
  auth_free(a);
}

Test(dev, graph_app_id_audience_accepted) {
  auth_t *a = mk_dev_auth(0);
  char path[256], *err = NULL;
  bool created;
  dev_key_t *k = dev_key_open(g_dir, &created, &err);
  cr_assert(k);
  snprintf(path, sizeof path, "%s/%s", g_dir, DEV_KEY_FILE);
  FILE *f = fopen(path, "r");
  cr_assert(f);
  EVP_PKEY *priv = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  cr_assert(priv);
  const char *auds[] = {"00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com/",
                        "https://evil.test"};
  for (int i = 0; i < 3; i++) {
    json_t *cl = claims();
    json_object_set_new(cl, "iss", json_string(DEV_ISSUER));
    json_object_set_new(cl, "aud", json_string(auds[i]));
    char *p = json_dumps(cl, JSON_COMPACT), *t, why[256];
    json_decref(cl);
    t = sign(priv, "ES256", hdr("ES256", dev_key_kid(k)), p);
    caller_t *c = NULL;
    int rc = verify_token(a, t, &c, why, sizeof why);
    cr_expect_eq(rc, i < 2 ? AUTH_OK : AUTH_INVALID, "aud %s: %s", auds[i], why);
    caller_free(c);
    free(t);
  }
  EVP_PKEY_free(priv);
  dev_key_free(k);
  auth_free(a);
}

Test(dev, request_validation) {
  struct { dev_token_req_t r; const char *msg; } cases[] = {
    {{.kind = DEV_TOKEN_APP, .app_id = APPID, .roles = ""}, "--tenant TID is required"},
    {{.kind = DEV_TOKEN_APP, .tenant = "a b", .app_id = APPID, .roles = ""}, "--tenant: \"a b\""},
    {{.kind = DEV_TOKEN_APP, .tenant = TID, .roles = ""}, "--app APPID is required"},
    {{.kind = DEV_TOKEN_APP, .tenant = TID, .app_id = APPID}, "an application token needs --roles"},
    {{.kind = DEV_TOKEN_APP, .tenant = TID, .app_id = APPID, .roles = "", .scopes = "x"},
     "--scopes needs --user"},
    {{.kind = DEV_TOKEN_APP, .tenant = TID, .app_id = APPID, .roles = "", .admin = true},
     "--admin needs --user"},
    {{.kind = DEV_TOKEN_USER, .tenant = TID, .app_id = APPID, .user_oid = OID},
     "a user token needs --scopes"},
    {{.kind = DEV_TOKEN_USER, .tenant = TID, .app_id = APPID, .user_oid = OID, .scopes = "a",
      .roles = "b"}, "--roles is for application tokens"},
    {{.kind = DEV_TOKEN_USER, .tenant = TID, .app_id = APPID, .user_oid = OID, .scopes = "a",
      .upn = "a b"}, "--upn must be"},
    {{.kind = DEV_TOKEN_APP, .tenant = TID, .app_id = APPID, .roles = "Printer.Read.All \"x"},
     "bad character"},
    {{.kind = DEV_TOKEN_APP, .tenant = TID, .app_id = APPID, .roles = "", .ttl = DEV_TTL_MAX + 1},
     "--ttl must be"},
    {{.kind = DEV_TOKEN_DEVICE, .tenant = TID, .app_id = APPID, .printer_id = "p1"},
     "device tokens are not development JWTs"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *err = NULL;
    cr_expect_eq(dev_token_check(&cases[i].r, &err), -1, "case %zu", i);
    cr_expect(err && strstr(err, cases[i].msg), "case %zu: \"%s\", want \"%s\"", i,
              err ? err : "", cases[i].msg);
    free(err);
  }
}

/* ---- tenant check (needs the store) -------------------------------------------------------- */

static caller_t *dev_caller(auth_t *a, const char *tid) {
  dev_token_req_t r = {.kind = DEV_TOKEN_APP, .tenant = tid, .app_id = APPID,
                       .roles = "Printer.Read.All"};
  char *t = mint(&r), why[256];
  caller_t *c = NULL;
  cr_assert_eq(verify_token(a, t, &c, why, sizeof why), AUTH_OK, "%s", why);
  free(t);
  return c;
}

Test(dev, tenant_created_on_first_use_and_suspendable) {
  store_t *st = test_store_open(1);
  auth_t *a = mk_dev_auth(-1);
  caller_t *c = dev_caller(a, TID);
  char why[256] = "";
  store_tenant_t t = {0};
  cr_expect_eq(store_tenant_get(st, TID, &t), STORE_NOT_FOUND);
  cr_expect_eq(auth_tenant_check(a, st, c, why, sizeof why), AUTH_TENANT_ACTIVE, "%s", why);
  cr_assert_eq(store_tenant_get(st, TID, &t), STORE_OK);
  cr_expect_eq(t.state, TENANT_ACTIVE);
  store_tenant_clear(&t);
  cr_expect_eq(store_tenant_set_state(st, TID, TENANT_SUSPENDED), STORE_OK);
  cr_expect_eq(auth_tenant_check(a, st, c, why, sizeof why), AUTH_TENANT_INACTIVE);
  cr_expect_str_eq(why, "the tenant's Universal Print subscription is not active");
  caller_free(c);
  auth_free(a);
  store_close(st);
}

Test(jwt, unknown_tenant_refused_outside_dev_mode) {
  store_t *st = test_store_open(1);
  auth_t *a = mk_auth(0);
  char *tok = t_ok_rs256(), why[256];
  caller_t *c = NULL;
  cr_assert_eq(verify_token(a, tok, &c, why, sizeof why), AUTH_OK, "%s", why);
  cr_expect_eq(auth_tenant_check(a, st, c, why, sizeof why), AUTH_TENANT_INACTIVE);
  cr_expect(strstr(why, "no Universal Print subscription"), "%s", why);
  auth_tenant_forget(a, NULL);
  cr_assert_eq(store_tenant_add(st, TID, "Contoso", TENANT_ACTIVE), STORE_OK);
  cr_expect_eq(auth_tenant_check(a, st, c, why, sizeof why), AUTH_TENANT_ACTIVE, "%s", why);

  /* the state is cached for tenant_cache_ms (5 s by default) */
  cr_assert_eq(store_tenant_set_state(st, TID, TENANT_SUSPENDED), STORE_OK);
  cr_expect_eq(auth_tenant_check(a, st, c, why, sizeof why), AUTH_TENANT_ACTIVE);
  auth_tenant_forget(a, TID);
  cr_expect_eq(auth_tenant_check(a, st, c, why, sizeof why), AUTH_TENANT_INACTIVE);
  caller_free(c);
  free(tok);
  auth_free(a);
  store_close(st);
}

/* ---- the commands -------------------------------------------------------------------------- */

static void setup_cmd(void) {
  setup();
  cr_redirect_stdout();
  cr_redirect_stderr();
}

TestSuite(cmd, .init = setup_cmd, .fini = teardown, .timeout = 60);

static int run_cmd(int (*fn)(int, char **), const char *const *args) {
  char *argv[32];
  int argc = 0;
  for (; args[argc]; argc++) argv[argc] = (char *)args[argc];
  argv[argc] = NULL;
  return fn(argc, argv);
}

Test(cmd, token_command) {
  const char *ok[] = {"token", "--data", g_dir, "--tenant", TID, "--app", APPID, "--user", OID,
                      "--upn", "ada@contoso.test", "--scopes", "PrintJob.ReadWrite", "--admin",
                      "--ttl=600", NULL};
  cr_assert_eq(run_cmd(token_command, ok), 0);
  fflush(stdout);
  FILE *out = cr_get_redirected_stdout();
  char line[4096] = "";
  cr_assert(fgets(line, sizeof line, out));
  line[strcspn(line, "\n")] = '\0';
  auth_t *a = mk_dev_auth(0);
  g_now = (int64_t)time(NULL);
  caller_t *c = NULL;
  char why[256];
  cr_assert_eq(verify_token(a, line, &c, why, sizeof why), AUTH_OK, "%s", why);
  cr_expect_eq(c->kind, CALLER_DELEGATED);
  cr_expect(caller_is_admin(c));
  cr_expect(c->expires >= g_now + 590 && c->expires <= g_now + 610);
  caller_free(c);
  auth_free(a);

  const char *help[] = {"token", "--help", NULL};
  cr_expect_eq(run_cmd(token_command, help), 0);
  const char *no_data[] = {"token", "--tenant", TID, "--app", APPID, "--roles", "", NULL};
  cr_expect_eq(run_cmd(token_command, no_data), 2);
  const char *no_tenant[] = {"token", "--data", g_dir, "--app", APPID, "--roles", "", NULL};
  cr_expect_eq(run_cmd(token_command, no_tenant), 2);
  const char *scopes_no_user[] = {"token", "--data", g_dir, "--tenant", TID, "--app", APPID,
                                  "--scopes", "PrintJob.Read", NULL};
  cr_expect_eq(run_cmd(token_command, scopes_no_user), 2);
  const char *bad_ttl[] = {"token", "--data", g_dir, "--tenant", TID, "--app", APPID,
                           "--roles", "", "--ttl", "10s", NULL};
  cr_expect_eq(run_cmd(token_command, bad_ttl), 2);
  const char *twice[] = {"token", "--data", g_dir, "--tenant", TID, "--tenant", TID, NULL};
  cr_expect_eq(run_cmd(token_command, twice), 2);
  const char *unknown[] = {"token", "--data", g_dir, "--frobnicate", NULL};
  cr_expect_eq(run_cmd(token_command, unknown), 2);
  const char *device[] = {"token", "--data", g_dir, "--tenant", TID, "--app", APPID,
                          "--device", "printer-1", NULL};
  cr_expect_eq(run_cmd(token_command, device), 2);
  const char *no_dir[] = {"token", "--data", "/nonexistent-dir", "--tenant", TID, "--app", APPID,
                          "--roles", "Printer.Read.All", NULL};
  cr_expect_eq(run_cmd(token_command, no_dir), 1);
}

Test(cmd, tenant_command) {
  const char *add[] = {"tenant", "add", TID, "--name", "Contoso", "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, add), 0);
  cr_expect_eq(run_cmd(tenant_command, add), 4, "already exists");
  const char *list[] = {"tenant", "list", "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, list), 0);
  const char *show[] = {"tenant", "show", TID, "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, show), 0);
  const char *suspend[] = {"tenant", "suspend", TID, "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, suspend), 0);
  const char *resume[] = {"tenant", "resume", TID, "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, resume), 0);
  const char *show_missing[] = {"tenant", "show", "nobody", "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, show_missing), 3);
  const char *remove_unconfirmed[] = {"tenant", "remove", TID, "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, remove_unconfirmed), 2);
  const char *remove[] = {"tenant", "remove", TID, "--yes", "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, remove), 0);
  cr_expect_eq(run_cmd(tenant_command, show), 3);
  const char *bad_id[] = {"tenant", "add", "../x", "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, bad_id), 2);
  const char *no_store[] = {"tenant", "list", NULL};
  cr_expect_eq(run_cmd(tenant_command, no_store), 2);
  const char *bad_action[] = {"tenant", "frobnicate", TID, "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, bad_action), 2);
  const char *name_on_suspend[] = {"tenant", "suspend", TID, "--name", "x", "--data", g_dir, NULL};
  cr_expect_eq(run_cmd(tenant_command, name_on_suspend), 2);

  fflush(stdout);
  FILE *out = cr_get_redirected_stdout();
  char all[8192] = "";
  size_t n = fread(all, 1, sizeof all - 1, out);
  all[n] = '\0';
  cr_expect(strstr(all, "added tenant " TID " (active)"), "%s", all);
  cr_expect(strstr(all, "Contoso"), "%s", all);
  cr_expect(strstr(all, "suspended tenant " TID), "%s", all);
  cr_expect(strstr(all, "removed tenant " TID), "%s", all);
}
