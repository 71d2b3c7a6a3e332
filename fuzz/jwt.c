/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: bearer tokens (src/auth/jwt.c): JWT verification with a fixed key set (an RSA
 * and a P-256 key, so signatures are really checked) and JWKS parsing.
 *
 * Input: one mode byte, then
 *   mode 0: a compact token, verified as received;
 *   mode 1: "<header JSON>\n<payload JSON>", signed here with the RSA key (mode byte bit 2:
 *           the EC key) and verified, so the claim checks behind the signature are reached;
 *   mode 2: a JWKS document, parsed, then trusted by a fresh verifier that checks two tokens
 *           signed with the fixed keys against it.
 * Checked: an accepted token has a trusted issuer (a {tenantid} issuer only with the token's
 * own tid substituted), an accepted audience, exp not past and nbf not ahead (with the skew),
 * and the alg of its key; a refusal has a reason; a JWKS keeps at most JWT_MAX_KEYS keys.
 */
#include "fuzz.h"

#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdbool.h>

#define NOW 1700000000
#define SKEW 60
#define ISS_TEMPLATE_HEAD "https://login.microsoftonline.com/"
#define ISS_TEMPLATE_TAIL "/v2.0"
#define ISS_TEMPLATE ISS_TEMPLATE_HEAD "{tenantid}" ISS_TEMPLATE_TAIL
#define ISS_FIXED "https://sts.spoold.test/"

/* Test keys made for this harness only (they sign nothing else). */
static const char RSA_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDgTGj7IhrFK+eD\n"
    "DmXnigIY+QLfXgZzA71Z5kzq2/jH8h+erjUobaJGjRh2F/U1StZ1lXeTGzXUHoDj\n"
    "iZjZ1xbQGJWLbxErWIrJD4UnEc7m+AeLRmkQsQ6e4b6FOaf0D3jmd87/8dmSmQhp\n"
    "KprdOBelcggF31Jie9lcSvxSV25Q48BAs/C0g06uM4JvcvMGcEw3DS8LSJ0qbpPQ\n"
    "rpLyysghbWDyAn5gHw/M1umegivT53f31zeAxc1jNVbXq1ea3W2yote6DMMuNDiO\n"
    "FIO4dmIheYdS7FaZsrv5WeUPBadzQDOOuB23Zh9Q3iXbxaZK3kn75w8EVel9qm/n\n"
    "VU1Yhu8bAgMBAAECggEAGGoIxUkdi9evD/NZwT2i48/68ZA8+HjwO+BW//tolW7z\n"
    "5SRGMfvY/X/vKS+LZ70ZIdxekxsTnV6ineHEyvVgDM+YO4Cf6E1vcdooHqwQDtDx\n"
    "lUXZOtFi64Vb5Ql1EBo9CS0CUZakHZJduYDDMZAg9se2OtlnkMO1UZfx5g6ROemU\n"
    "NDLqEfnaXGRyao/hBLsxMXJc/e+9hOsT9oIdFU9PY+t9kujlRx0OiFdhYEH78vSV\n"
    "aVohRCJdMs16OLwk/r2zQbDvdMGcgL2wL6NHTezpxR2Cso/FDTm7m+PUQCmkfMfv\n"
    "NGziQbau3DB51QVLOXNGl/3uAmoZfPhyYeAK3JQJNQKBgQD6n0l3nQ/b55KwLF/c\n"
    "UtobjBZrrW2zhUNkgu0AkneZtMjA4RtobhQ/+0/BGQ2B9h0twPX1eq+/37BGTCk0\n"
    "hyLL9vPPKcl5aAWiqrPqOXbXHqmCc/FJpufnTLrALgtBokUHSgUJAV4BRscQYzzi\n"
    "zZQxQbyl+681XToHWN7Cat0sPwKBgQDlHIWl1CXLcaL/1pPZL+14VEbde0rGKkm/\n"
    "MIqW78l+X1VQsAJDbpN7c6aRzxCjlpttHeasL57lXj6r38/OY0iVOvxrI2WtNFSO\n"
    "e9g2jFu6z7w760qEr4MLc5BDi2jMeU/d5WqVJa2pVuTuVg9rvKXgRG/+wo9YPEot\n"
    "FIWNizX2JQKBgQChelQpv4biV1iKLm0tViy1pxMjGcEe8/QyJLFztutcm8DllaTF\n"
    "KnfdqZz/e5bab6rpOfS/z+bBJ+05vgSmlZNz+4+noPLxSHapEneNqKzLejQZm36R\n"
    "x/qPaz7AaGpURatYQPbxkHHzPJkyE968+1xKSGK2R23iYkjrRvVwKs6KnQKBgGBO\n"
    "KO+XyXtG/RlFfUhiGRPneRJIbRn3VKCFKvxfNvdj41zTX2Aw7tWJu46212usNxEa\n"
    "7IecTNJlVzqwDY3Xtf7kmI4AhxDTWme6Lxxey4AvKhSVxvEXRaJepVl/FEI/DA9e\n"
    "C/s9p03zNK/qhPjoh2FJ4znXVqHkVdm1Mp5Y0gnxAoGBANWh/6Xmn5OgNfjw1YVb\n"
    "Q20innvYNnsXNpDAqHKldYmtvU8Bk+Of6XL2LJODw8Ls9obsvI2D+UqGDFmBXcSU\n"
    "73DlOm5SHZFuyZ6/3yyGBcp0YfUabZMbxRjRYIIN9/A/DJP4nPY4MK5YsFeiu2QC\n"
    "NdjbYXk07ZJaDLKDogv5zvNy\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char EC_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMIXhiKuipJs8mx/q\n"
    "ciyvRZZoKwJl2vBDYFmSyaACrzWhRANCAARwM6buB1o4ISrKpdftzUccrIscySBw\n"
    "pgAeV7flGA8Ri6g9F8lJx2qBXf+5igvPWtu7JES4EqBkdofu+9a3fYFP\n"
    "-----END PRIVATE KEY-----\n"
    ;

static const char *const AUDIENCES[] = {"https://graph.microsoft.com",
                                        "00000003-0000-0000-c000-000000000000", NULL};

static EVP_PKEY *g_rsa, *g_ec;
static char *g_jwks;            /* {"keys":[rsa "k-rsa", ec "k-ec"]} */
static jwt_verifier_t *g_verifier;
static char *g_token_rsa, *g_token_ec; /* valid tokens for mode 2 */

static int64_t fixed_clock(void) { return NOW; }

static EVP_PKEY *load_key(const char *pem) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  if (!k) abort();
  return k;
}

static jwt_jwks_t *parse_keys(const char *text) {
  char err[256];
  jwt_jwks_t *ks = jwt_jwks_parse(text, strlen(text), err, sizeof err);
  if (!ks) {
    fprintf(stderr, "fixed JWKS: %s\n", err);
    abort();
  }
  return ks;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  g_rsa = load_key(RSA_PEM);
  g_ec = load_key(EC_PEM);
  char *jr = jwt_jwk_json(g_rsa, "k-rsa"), *je = jwt_jwk_json(g_ec, "k-ec");
  if (!jr || !je) abort();
  size_t n = strlen(jr) + strlen(je) + 32;
  g_jwks = malloc(n);
  snprintf(g_jwks, n, "{\"keys\":[%s,%s]}", jr, je);
  free(jr);
  free(je);
  g_verifier = jwt_verifier_new(SKEW, 0, fixed_clock);
  char err[256];
  if (jwt_verifier_add_keys(g_verifier, ISS_TEMPLATE, parse_keys(g_jwks), AUDIENCES, err,
                            sizeof err) ||
      jwt_verifier_add_keys(g_verifier, ISS_FIXED, parse_keys(g_jwks), AUDIENCES, err,
                            sizeof err)) {
    fprintf(stderr, "verifier: %s\n", err);
    abort();
  }
  const char *payload = "{\"iss\":\"" ISS_FIXED "\",\"aud\":\"https://graph.microsoft.com\","
                        "\"exp\":1700003600,\"tid\":\"t1\",\"oid\":\"u1\",\"scp\":\"PrintJob.Read\"}";
  g_token_rsa = jwt_sign(g_rsa, "RS256", "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k-rsa\"}",
                         payload, err, sizeof err);
  g_token_ec = jwt_sign(g_ec, "ES256", "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"k-ec\"}",
                        payload, err, sizeof err);
  if (!g_token_rsa || !g_token_ec) abort();
  /* The fixed tokens must pass, or the harness checks nothing. */
  json_t *claims = NULL;
  char why[256];
  if (jwt_verify(g_verifier, g_token_rsa, strlen(g_token_rsa), &claims, why, sizeof why) != JWT_OK) {
    fprintf(stderr, "fixed RS256 token refused: %s\n", why);
    abort();
  }
  json_decref(claims);
  return 0;
}

static bool audience_ok(const json_t *aud) {
  if (json_is_string(aud)) {
    for (size_t i = 0; AUDIENCES[i]; i++)
      if (!strcmp(json_string_value(aud), AUDIENCES[i])) return true;
    return false;
  }
  size_t i;
  json_t *v;
  json_array_foreach(aud, i, v) if (audience_ok(v)) return true;
  return false;
}

/* What an accepted token must satisfy. */
static void check_accepted(const json_t *claims, const char *token, size_t len) {
  FUZZ_CHECK(json_is_object(claims), "claims are not an object");
  const char *iss = json_string_value(json_object_get(claims, "iss"));
  FUZZ_CHECK(iss != NULL, "accepted without iss: %.*s", (int)len, token);
  if (strcmp(iss, ISS_FIXED) != 0) {
    const char *tid = json_string_value(json_object_get(claims, "tid"));
    FUZZ_CHECK(tid && *tid, "issuer %s accepted without a tid", iss);
    char want[512];
    snprintf(want, sizeof want, "%s%s%s", ISS_TEMPLATE_HEAD, tid, ISS_TEMPLATE_TAIL);
    FUZZ_CHECK(!strcmp(iss, want), "issuer %s accepted for tid %s (want %s)", iss, tid, want);
    FUZZ_CHECK(!strstr(tid, "{tenantid}"), "the literal template was accepted as a tid");
  }
  FUZZ_CHECK(audience_ok(json_object_get(claims, "aud")), "accepted with a foreign audience");
  json_t *exp = json_object_get(claims, "exp");
  FUZZ_CHECK(json_is_number(exp) && json_number_value(exp) + SKEW >= NOW, "expired token accepted");
  json_t *nbf = json_object_get(claims, "nbf");
  if (nbf) FUZZ_CHECK(json_is_number(nbf) && json_number_value(nbf) - SKEW <= NOW, "nbf ahead");
}

/* Verifies token; header_json/key_alg (mode 1): the header signed and the key's algorithm. */
static void verify(jwt_verifier_t *v, const char *token, size_t len, const char *header_json,
                   const char *key_alg) {
  json_t *claims = NULL;
  char why[512] = "";
  jwt_rc_t rc = jwt_verify(v, token, len, &claims, why, sizeof why);
  if (rc != JWT_OK) {
    FUZZ_CHECK(why[0] != '\0', "refusal %d without a reason", rc);
    FUZZ_CHECK(claims == NULL, "claims handed out for a refused token");
    return;
  }
  check_accepted(claims, token, len);
  if (key_alg) { /* the header named the signing key and its algorithm */
    json_t *h = json_loads(header_json, JSON_REJECT_DUPLICATES, NULL);
    const char *alg = json_string_value(json_object_get(h, "alg"));
    const char *kid = json_string_value(json_object_get(h, "kid"));
    FUZZ_CHECK(alg && !strcmp(alg, key_alg), "signed with %s, header says %s", key_alg, alg);
    FUZZ_CHECK(kid && !strcmp(kid, !strcmp(key_alg, "ES256") ? "k-ec" : "k-rsa"),
               "signed with the %s key, header names kid %s", key_alg, kid);
    json_decref(h);
  }
  json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > JWT_MAX_TOKEN + 1024) return 0;
  uint8_t mode = data[0];
  char *s = fuzz_cstr(data + 1, size - 1);
  size_t len = size - 1;
  switch (mode % 3) {
    case 0: verify(g_verifier, s, len, NULL, NULL); break;
    case 1: {
      char *nl = memchr(s, '\n', len);
      if (!nl) break;
      *nl = '\0';
      bool ec = (mode & 4) != 0;
      char err[256];
      char *token = jwt_sign(ec ? g_ec : g_rsa, ec ? "ES256" : "RS256", s, nl + 1, err, sizeof err);
      if (!token) break;
      verify(g_verifier, token, strlen(token), s, ec ? "ES256" : "RS256");
      free(token);
      break;
    }
    case 2: {
      char err[256] = "";
      jwt_jwks_t *ks = jwt_jwks_parse(s, len, err, sizeof err);
      if (!ks) {
        FUZZ_CHECK(err[0] != '\0', "JWKS refused without a reason");
        break;
      }
      FUZZ_CHECK(jwt_jwks_count(ks) <= JWT_MAX_KEYS, "%zu keys kept", jwt_jwks_count(ks));
      const char *a = jwt_jwks_alg(ks, "k-rsa");
      FUZZ_CHECK(!a || !strcmp(a, "RS256") || !strcmp(a, "ES256"), "key pinned to %s", a);
      jwt_verifier_t *v = jwt_verifier_new(SKEW, 0, fixed_clock);
      if (jwt_verifier_add_keys(v, ISS_FIXED, ks, AUDIENCES, err, sizeof err) == 0) {
        verify(v, g_token_rsa, strlen(g_token_rsa), NULL, NULL);
        verify(v, g_token_ec, strlen(g_token_ec), NULL, NULL);
      }
      jwt_verifier_free(v);
      break;
    }
  }
  free(s);
  return 0;
}
