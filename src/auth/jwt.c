/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer JWT verification with OpenSSL 3 EVP and jansson: JWKS key sets pinned to one
 * algorithm per key, RS256/ES256 signature checks, claim checks (exp, nbf, iss, aud), JWKS file
 * rotation, and a bounded cache of verified tokens.
 */
#include "auth/jwt.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ALG_RS256 "RS256"
#define ALG_ES256 "ES256"
#define MAX_KID 256
#define MAX_SIG 1024        /* RSA-8192 */
#define MAX_RSA_BITS 8192
#define SHOWN 64            /* characters of token-supplied text echoed in reasons */

/* ---- small helpers ------------------------------------------------------------------------- */

/* Copies token-supplied text for a reason message: at most SHOWN characters, printable ASCII
 * only, no quotes or backslashes (the reason may end up in a WWW-Authenticate quoted-string). */
static const char *shown(const char *s, char out[SHOWN + 4]) {
  size_t o = 0;
  if (!s) s = "";
  for (size_t i = 0; s[i]; i++) {
    if (o == SHOWN) {
      memcpy(out + o, "...", 3);
      o += 3;
      break;
    }
    unsigned char c = (unsigned char)s[i];
    out[o++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? '?' : (char)c;
  }
  out[o] = '\0';
  return out;
}

static bool is_b64url(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return false;
  }
  return true;
}

/* Decodes one unpadded base64url segment; NULL on any bad character. Caller frees. */
static unsigned char *seg_decode(const char *s, size_t n, size_t *outlen) {
  if (!is_b64url(s, n)) return NULL;
  return b64url_decode(s, n, outlen);
}

static char *b64u_alloc(const void *data, size_t len) {
  size_t n = (len * 4 + 2) / 3 + 1;
  char *out = xmalloc(n);
  b64url_encode(data, len, out, n);
  return out;
}

static char *bn_b64u(const BIGNUM *bn, int pad) {
  int n = pad > 0 ? pad : BN_num_bytes(bn);
  if (n <= 0) n = 1;
  unsigned char *tmp = xmalloc((size_t)n);
  if (pad > 0) BN_bn2binpad(bn, tmp, pad);
  else BN_bn2bin(bn, tmp);
  char *s = b64u_alloc(tmp, (size_t)n);
  free(tmp);
  return s;
}

/* ---- key sets ------------------------------------------------------------------------------ */

typedef struct jwt_key {
  char       *kid;
  const char *alg;   /* ALG_RS256 or ALG_ES256 */
  EVP_PKEY   *pkey;
} jwt_key_t;

struct jwt_jwks {
  atomic_int refs;
  size_t     nkeys;
  jwt_key_t  keys[JWT_MAX_KEYS];
};

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld) {
  EVP_PKEY *pk = NULL;
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pk = NULL;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pk;
}

static BIGNUM *jwk_bn(json_t *jwk, const char *name, size_t maxbytes) {
  const char *s = json_string_value(json_object_get(jwk, name));
  if (!s) return NULL;
  size_t len = 0;
  unsigned char *raw = seg_decode(s, strlen(s), &len);
  if (!raw) return NULL;
  BIGNUM *bn = (len && len <= maxbytes) ? BN_bin2bn(raw, (int)len, NULL) : NULL;
  free(raw);
  return bn;
}

/* Builds an RS256 key; NULL and a reason when the JWK is unusable. */
static EVP_PKEY *jwk_rsa(json_t *jwk, const char **why) {
  EVP_PKEY *pk = NULL;
  BIGNUM *n = jwk_bn(jwk, "n", MAX_RSA_BITS / 8 + 1), *e = jwk_bn(jwk, "e", 8);
  OSSL_PARAM_BLD *bld = NULL;
  if (!n || !e) {
    *why = "bad or missing n/e";
  } else if (BN_num_bits(n) < 2048) {
    *why = "RSA key shorter than 2048 bits";
  } else if (BN_num_bits(n) > MAX_RSA_BITS) {
    *why = "RSA key longer than 8192 bits";
  } else if (!BN_is_odd(e) || BN_num_bits(e) < 2) {
    *why = "bad RSA exponent";
  } else if (!(bld = OSSL_PARAM_BLD_new()) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
             !(pk = pkey_from_params("RSA", bld))) {
    *why = "OpenSSL refused the RSA key";
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(n);
  BN_free(e);
  return pk;
}

/* Builds an ES256 (P-256) key; the point must lie on the curve. */
static EVP_PKEY *jwk_ec(json_t *jwk, const char **why) {
  const char *crv = json_string_value(json_object_get(jwk, "crv"));
  const char *x = json_string_value(json_object_get(jwk, "x"));
  const char *y = json_string_value(json_object_get(jwk, "y"));
  if (!crv || strcmp(crv, "P-256") != 0) {
    *why = "EC curve other than P-256";
    return NULL;
  }
  if (!x || !y) {
    *why = "missing x/y";
    return NULL;
  }
  size_t lx = 0, ly = 0;
  unsigned char *bx = seg_decode(x, strlen(x), &lx), *by = seg_decode(y, strlen(y), &ly);
  EVP_PKEY *pk = NULL;
  OSSL_PARAM_BLD *bld = NULL;
  if (!bx || !by || lx != 32 || ly != 32) {
    *why = "x/y are not 32-byte base64url values";
  } else {
    unsigned char pt[65];
    pt[0] = 0x04;
    memcpy(pt + 1, bx, 32);
    memcpy(pt + 33, by, 32);
    if (!(bld = OSSL_PARAM_BLD_new()) ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt) ||
        !(pk = pkey_from_params("EC", bld))) {
      *why = "the point is not on the P-256 curve";
    } else {
      EVP_PKEY_CTX *cc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
      if (!cc || EVP_PKEY_public_check(cc) != 1) {
        *why = "the point is not on the P-256 curve";
        EVP_PKEY_free(pk);
        pk = NULL;
      }
      EVP_PKEY_CTX_free(cc);
    }
  }
  OSSL_PARAM_BLD_free(bld);
  free(bx);
  free(by);
  return pk;
}

jwt_jwks_t *jwt_jwks_parse(const char *json, size_t len, char *err, size_t errlen) {
  json_error_t je;
  json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
  json_t *keys = json_object_get(doc, "keys");
  if (!json_is_array(keys)) {
    if (doc) buf_set_msg(err, errlen, "not a JWKS: no \"keys\" array");
    else buf_set_msg(err, errlen, "not a JWKS: invalid JSON at line %d column %d", je.line, je.column);
    json_decref(doc);
    return NULL;
  }
  jwt_jwks_t *ks = xcalloc(1, sizeof *ks);
  atomic_init(&ks->refs, 1);
  size_t i;
  json_t *jwk;
  json_array_foreach(keys, i, jwk) {
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *kid = json_string_value(json_object_get(jwk, "kid"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const char *alg = json_string_value(json_object_get(jwk, "alg"));
    const char *why = NULL, *pinned = NULL;
    EVP_PKEY *pk = NULL;
    char k1[SHOWN + 4];
    if (!kty || !strcmp(kty, "oct")) continue; /* symmetric keys never verify our tokens */
    if (!kid || !*kid || strlen(kid) > MAX_KID) {
      why = "no usable kid";
    } else if (use && strcmp(use, "sig") != 0) {
      why = "use is not \"sig\"";
    } else if (!strcmp(kty, "RSA")) {
      pinned = ALG_RS256;
      if (alg && strcmp(alg, ALG_RS256)) why = "alg other than RS256 on an RSA key";
      else pk = jwk_rsa(jwk, &why);
    } else if (!strcmp(kty, "EC")) {
      pinned = ALG_ES256;
      if (alg && strcmp(alg, ALG_ES256)) why = "alg other than ES256 on an EC key";
      else pk = jwk_ec(jwk, &why);
    } else {
      why = "unsupported kty";
    }
    if (pk && jwt_jwks_alg(ks, kid)) {
      why = "duplicate kid";
      EVP_PKEY_free(pk);
      pk = NULL;
    }
    if (pk && ks->nkeys == JWT_MAX_KEYS) {
      why = "too many keys";
      EVP_PKEY_free(pk);
      pk = NULL;
    }
    if (!pk) {
      log_warn("jwks: key %zu (kid %s) ignored: %s", i, shown(kid, k1), why ? why : "unusable");
      continue;
    }
    ks->keys[ks->nkeys].kid = xstrdup(kid);
    ks->keys[ks->nkeys].alg = pinned;
    ks->keys[ks->nkeys].pkey = pk;
    ks->nkeys++;
  }
  json_decref(doc);
  return ks;
}

/* Reads path into memory (fstat'd into *st). NULL with err on failure; caller frees. */
static char *read_small_file(const char *path, struct stat *st, size_t *len, char *err,
                             size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    buf_set_msg(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  char *data = NULL;
  if (fstat(fd, st) != 0) {
    buf_set_msg(err, errlen, "%s: %s", path, strerror(errno));
  } else if (!S_ISREG(st->st_mode)) {
    buf_set_msg(err, errlen, "%s: not a regular file", path);
  } else if (st->st_size > JWT_MAX_JWKS) {
    buf_set_msg(err, errlen, "%s: larger than %d bytes", path, JWT_MAX_JWKS);
  } else {
    size_t want = (size_t)st->st_size, got = 0;
    data = xmalloc(want + 1);
    while (got < want) {
      ssize_t r = read(fd, data + got, want - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += (size_t)r;
    }
    if (got != want) {
      buf_set_msg(err, errlen, "%s: short read", path);
      free(data);
      data = NULL;
    } else {
      data[got] = '\0';
      *len = got;
    }
  }
  close(fd);
  return data;
}

static jwt_jwks_t *load_file(const char *path, struct stat *st, char *err, size_t errlen) {
  size_t len = 0;
  char *data = read_small_file(path, st, &len, err, errlen);
  if (!data) return NULL;
  char perr[200];
  jwt_jwks_t *ks = jwt_jwks_parse(data, len, perr, sizeof perr);
  free(data);
  if (!ks) buf_set_msg(err, errlen, "%s: %s", path, perr);
  return ks;
}

jwt_jwks_t *jwt_jwks_load(const char *path, char *err, size_t errlen) {
  struct stat st;
  return load_file(path, &st, err, errlen);
}

size_t jwt_jwks_count(const jwt_jwks_t *ks) { return ks ? ks->nkeys : 0; }

static const jwt_key_t *jwks_find(const jwt_jwks_t *ks, const char *kid) {
  for (size_t i = 0; ks && kid && i < ks->nkeys; i++)
    if (!strcmp(ks->keys[i].kid, kid)) return &ks->keys[i];
  return NULL;
}

const char *jwt_jwks_alg(const jwt_jwks_t *ks, const char *kid) {
  const jwt_key_t *k = jwks_find(ks, kid);
  return k ? k->alg : NULL;
}

void jwt_jwks_free(jwt_jwks_t *ks) {
  if (!ks || atomic_fetch_sub(&ks->refs, 1) != 1) return;
  for (size_t i = 0; i < ks->nkeys; i++) {
    free(ks->keys[i].kid);
    EVP_PKEY_free(ks->keys[i].pkey);
  }
  free(ks);
}

/* ---- verifier ------------------------------------------------------------------------------ */

typedef struct jwt_issuer {
  char           *iss;
  char          **auds;   /* NULL-terminated */
  char           *path;   /* JWKS file, NULL for in-memory keys */
  jwt_jwks_t     *keys;   /* guarded by mu; readers take a reference */
  pthread_mutex_t mu;
  struct stat     sig;    /* the file as last loaded (guarded by the verifier's refresh_mu) */
} jwt_issuer_t;

struct jwt_verifier {
  jwt_issuer_t   **issuers;
  size_t           nissuers;
  int              skew;
  int64_t          check_us;
  jwt_clock_fn     clock;
  EVP_MD          *sha256;
  pthread_mutex_t  refresh_mu;
  atomic_llong     next_check_us;
  atomic_ullong    gen;
};

static int64_t default_clock(void) { return (int64_t)time(NULL); }

jwt_verifier_t *jwt_verifier_new(int skew_s, int check_ms, jwt_clock_fn clock) {
  jwt_verifier_t *v = xcalloc(1, sizeof *v);
  v->skew = skew_s < 0 ? JWT_DEFAULT_SKEW : skew_s;
  v->check_us = check_ms < 0 ? 0 : (int64_t)check_ms * 1000;
  v->clock = clock ? clock : default_clock;
  v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); /* fetched once: fetching is costly */
  if (!v->sha256) {
    free(v);
    return NULL;
  }
  pthread_mutex_init(&v->refresh_mu, NULL);
  atomic_init(&v->next_check_us, 0);
  atomic_init(&v->gen, 1);
  return v;
}

static bool same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

#define TENANT_PLACEHOLDER "{tenantid}"

/* Finds the configured issuer for iss. A configured issuer may hold "{tenantid}", as Entra ID's
 * multi-tenant issuer https://login.microsoftonline.com/{tenantid}/v2.0 does: it matches one
 * path segment, which is returned in *tid (malloc'd; NULL for an exact issuer) so the caller can
 * require the token's tid to be that tenant. Exact issuers are preferred. */
static jwt_issuer_t *issuer_find_for(const jwt_verifier_t *v, const char *iss, char **tid) {
  *tid = NULL;
  /* A template is never an issuer by itself: only a tenant substituted into it can match, so
   * a token whose iss is the literal "{tenantid}" form vouches for no tenant. */
  for (size_t i = 0; i < v->nissuers; i++)
    if (!strstr(v->issuers[i]->iss, TENANT_PLACEHOLDER) && !strcmp(v->issuers[i]->iss, iss))
      return v->issuers[i];
  size_t plen = strlen(TENANT_PLACEHOLDER), ilen = strlen(iss);
  for (size_t i = 0; i < v->nissuers; i++) {
    const char *pat = v->issuers[i]->iss;
    const char *ph = strstr(pat, TENANT_PLACEHOLDER);
    if (!ph) continue;
    size_t pre = (size_t)(ph - pat), post = strlen(ph + plen);
    if (ilen <= pre + post || strncmp(iss, pat, pre) || strcmp(iss + ilen - post, ph + plen))
      continue;
    size_t n = ilen - pre - post;
    /* the tenant is one segment, and never a placeholder */
    if (memchr(iss + pre, '/', n) || memchr(iss + pre, '{', n) || memchr(iss + pre, '}', n))
      continue;
    *tid = xstrndup(iss + pre, n);
    return v->issuers[i];
  }
  return NULL;
}

static jwt_issuer_t *issuer_find(const jwt_verifier_t *v, const char *iss) {
  for (size_t i = 0; i < v->nissuers; i++)
    if (!strcmp(v->issuers[i]->iss, iss)) return v->issuers[i];
  return NULL;
}

static int issuer_add(jwt_verifier_t *v, const char *iss, const char *path, jwt_jwks_t *keys,
                      const struct stat *sig, const char *const *auds, char *err,
                      size_t errlen) {
  char s1[SHOWN + 4];
  if (!iss || !*iss) {
    buf_set_msg(err, errlen, "an issuer needs a non-empty iss");
    jwt_jwks_free(keys);
    return -1;
  }
  if (issuer_find(v, iss)) {
    buf_set_msg(err, errlen, "issuer %s is configured twice", shown(iss, s1));
    jwt_jwks_free(keys);
    return -1;
  }
  size_t n = 0;
  while (auds && auds[n]) n++;
  if (!n) {
    buf_set_msg(err, errlen, "issuer %s has no accepted audience", shown(iss, s1));
    jwt_jwks_free(keys);
    return -1;
  }
  jwt_issuer_t *is = xcalloc(1, sizeof *is);
  is->iss = xstrdup(iss);
  is->auds = xcalloc(n + 1, sizeof *is->auds);
  for (size_t i = 0; i < n; i++) is->auds[i] = xstrdup(auds[i]);
  is->path = path ? xstrdup(path) : NULL;
  is->keys = keys;
  if (sig) is->sig = *sig;
  pthread_mutex_init(&is->mu, NULL);
  v->issuers = xrealloc(v->issuers, (v->nissuers + 1) * sizeof *v->issuers);
  v->issuers[v->nissuers++] = is;
  return 0;
}

int jwt_verifier_add_file(jwt_verifier_t *v, const char *iss, const char *path,
                          const char *const *audiences, char *err, size_t errlen) {
  struct stat st;
  if (!path || !*path) {
    buf_set_msg(err, errlen, "issuer %s needs a JWKS file", iss ? iss : "");
    return -1;
  }
  jwt_jwks_t *ks = load_file(path, &st, err, errlen);
  if (!ks) return -1;
  if (!ks->nkeys) {
    buf_set_msg(err, errlen, "%s: no usable RS256/ES256 signing key", path);
    jwt_jwks_free(ks);
    return -1;
  }
  log_info("jwks %s: %zu signing key%s for issuer %s", path, ks->nkeys,
           ks->nkeys == 1 ? "" : "s", iss);
  return issuer_add(v, iss, path, ks, &st, audiences, err, errlen);
}

int jwt_verifier_add_keys(jwt_verifier_t *v, const char *iss, jwt_jwks_t *keys,
                          const char *const *audiences, char *err, size_t errlen) {
  return issuer_add(v, iss, NULL, keys, NULL, audiences, err, errlen);
}

/* Loads the issuer's file again when it changed (or always when force). Runs under
 * refresh_mu. Returns 0, or -1 (err filled) when the file could not be used: the old keys
 * stay. */
static int issuer_refresh(jwt_verifier_t *v, jwt_issuer_t *is, bool force, char *err,
                          size_t errlen) {
  struct stat st;
  if (!is->path) return 0;
  if (stat(is->path, &st) != 0) {
    buf_set_msg(err, errlen, "%s: %s", is->path, strerror(errno));
    if (force) log_warn("jwks %s; keeping the previous keys", err);
    return -1;
  }
  if (!force && same_file(&st, &is->sig)) return 0;
  char lerr[300];
  jwt_jwks_t *ks = load_file(is->path, &st, lerr, sizeof lerr);
  is->sig = st; /* a broken file is retried only once it changes again */
  if (!ks) {
    buf_set_msg(err, errlen, "%s", lerr);
    log_warn("jwks %s; keeping the previous keys", lerr);
    return -1;
  }
  if (!ks->nkeys) log_warn("jwks %s: no usable signing key left for issuer %s", is->path, is->iss);
  else log_info("jwks %s: %zu signing key%s for issuer %s", is->path, ks->nkeys,
                ks->nkeys == 1 ? "" : "s", is->iss);
  pthread_mutex_lock(&is->mu);
  jwt_jwks_t *old = is->keys;
  is->keys = ks;
  pthread_mutex_unlock(&is->mu);
  jwt_jwks_free(old);
  atomic_fetch_add(&v->gen, 1);
  return 0;
}

void jwt_verifier_maybe_refresh(jwt_verifier_t *v) {
  int64_t now = time_mono_us();
  if (now < atomic_load(&v->next_check_us)) return;
  if (pthread_mutex_trylock(&v->refresh_mu) != 0) return; /* another thread is checking */
  atomic_store(&v->next_check_us, now + v->check_us);
  for (size_t i = 0; i < v->nissuers; i++) issuer_refresh(v, v->issuers[i], false, NULL, 0);
  pthread_mutex_unlock(&v->refresh_mu);
}

int jwt_verifier_reload(jwt_verifier_t *v, char *err, size_t errlen) {
  int failures = 0;
  pthread_mutex_lock(&v->refresh_mu);
  for (size_t i = 0; i < v->nissuers; i++) {
    char e[300];
    if (issuer_refresh(v, v->issuers[i], true, e, sizeof e) != 0) {
      if (!failures) buf_set_msg(err, errlen, "%s", e);
      failures++;
    }
  }
  atomic_store(&v->next_check_us, time_mono_us() + v->check_us);
  pthread_mutex_unlock(&v->refresh_mu);
  return failures;
}

uint64_t jwt_verifier_generation(jwt_verifier_t *v) { return atomic_load(&v->gen); }
int jwt_verifier_skew(const jwt_verifier_t *v) { return v->skew; }
int64_t jwt_verifier_now(const jwt_verifier_t *v) { return v->clock(); }

void jwt_verifier_free(jwt_verifier_t *v) {
  if (!v) return;
  for (size_t i = 0; i < v->nissuers; i++) {
    jwt_issuer_t *is = v->issuers[i];
    free(is->iss);
    for (size_t j = 0; is->auds[j]; j++) free(is->auds[j]);
    free(is->auds);
    free(is->path);
    jwt_jwks_free(is->keys);
    pthread_mutex_destroy(&is->mu);
    free(is);
  }
  free(v->issuers);
  EVP_MD_free(v->sha256);
  pthread_mutex_destroy(&v->refresh_mu);
  free(v);
}

static jwt_jwks_t *issuer_keys(jwt_issuer_t *is) {
  pthread_mutex_lock(&is->mu);
  jwt_jwks_t *ks = is->keys;
  if (ks) atomic_fetch_add(&ks->refs, 1);
  pthread_mutex_unlock(&is->mu);
  return ks;
}

/* Checks sig over msg with k. ES256 signatures must be the JWS raw r||s (64 bytes); they are
 * re-encoded as DER for EVP_DigestVerify. */
static bool verify_signature(const jwt_verifier_t *v, const jwt_key_t *k,
                             const unsigned char *msg, size_t msglen, const unsigned char *sig,
                             size_t siglen) {
  unsigned char der[80];
  const unsigned char *s = sig;
  size_t slen = siglen;
  if (!siglen) return false;
  if (!strcmp(k->alg, ALG_ES256)) {
    if (siglen != 64) return false;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !ss || ECDSA_SIG_set0(es, r, ss) != 1) {
      BN_free(r);
      BN_free(ss);
      ECDSA_SIG_free(es);
      return false;
    }
    int need = i2d_ECDSA_SIG(es, NULL);
    unsigned char *p = der;
    int dl = (need > 0 && (size_t)need <= sizeof der) ? i2d_ECDSA_SIG(es, &p) : -1;
    ECDSA_SIG_free(es);
    if (dl <= 0) return false;
    s = der;
    slen = (size_t)dl;
  }
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  bool ok = m && EVP_DigestVerifyInit(m, NULL, v->sha256, NULL, k->pkey) == 1 &&
            EVP_DigestVerify(m, s, slen, msg, msglen) == 1;
  EVP_MD_CTX_free(m);
  return ok;
}

/* Parses a base64url JSON object segment; NULL when it is not one (duplicates refused). */
static json_t *seg_json(const char *s, size_t n) {
  size_t len = 0;
  unsigned char *raw = seg_decode(s, n, &len);
  if (!raw) return NULL;
  json_error_t je;
  json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &je);
  free(raw);
  if (j && !json_is_object(j)) {
    json_decref(j);
    j = NULL;
  }
  return j;
}

#define DATE_LIMIT 9000000000000000LL /* |NumericDate| clamp: later arithmetic cannot overflow */

/* A NumericDate claim as whole seconds, clamped to +-DATE_LIMIT; false when not a number. */
static bool numeric_date(json_t *j, int64_t *out) {
  if (json_is_integer(j)) {
    json_int_t v = json_integer_value(j);
    *out = v > DATE_LIMIT ? DATE_LIMIT : v < -DATE_LIMIT ? -DATE_LIMIT : (int64_t)v;
    return true;
  }
  if (json_is_real(j)) {
    double d = floor(json_real_value(j));
    *out = d > (double)DATE_LIMIT ? DATE_LIMIT : d < -(double)DATE_LIMIT ? -DATE_LIMIT : (int64_t)d;
    return true;
  }
  return false;
}

static jwt_rc_t check_audience(const jwt_issuer_t *is, json_t *aud, char *why, size_t whylen) {
  char s1[SHOWN + 4];
  const char *first = NULL;
  if (json_is_string(aud)) {
    first = json_string_value(aud);
    for (size_t i = 0; is->auds[i]; i++)
      if (!strcmp(first, is->auds[i])) return JWT_OK;
  } else if (json_is_array(aud)) {
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a) {
      const char *s = json_string_value(a);
      if (!s) {
        buf_set_msg(why, whylen, "token is malformed: aud is not a string or array of strings");
        return JWT_MALFORMED;
      }
      if (!first) first = s;
      for (size_t k = 0; is->auds[k]; k++)
        if (!strcmp(s, is->auds[k])) return JWT_OK;
    }
  } else if (aud) {
    buf_set_msg(why, whylen, "token is malformed: aud is not a string or array of strings");
    return JWT_MALFORMED;
  }
  if (!first) {
    buf_set_msg(why, whylen, "token has no aud claim");
    return JWT_MISSING_CLAIM;
  }
  buf_set_msg(why, whylen, "audience %s is not accepted", shown(first, s1));
  return JWT_BAD_AUDIENCE;
}

jwt_rc_t jwt_verify(jwt_verifier_t *v, const char *token, size_t len, json_t **claims,
                    char *why, size_t whylen) {
  char s1[SHOWN + 4], s2[SHOWN + 4];
  json_t *hdr = NULL, *pay = NULL;
  jwt_jwks_t *ks = NULL;
  unsigned char *sig = NULL;
  jwt_rc_t rc = JWT_MALFORMED;
  *claims = NULL;

  if (len > JWT_MAX_TOKEN) {
    buf_set_msg(why, whylen, "token is too large (over %d bytes)", JWT_MAX_TOKEN);
    return JWT_TOO_LARGE;
  }
  const char *d1 = memchr(token, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
  const char *end = token + len;
  if (!d1 || !d2 || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) || d1 == token || d2 == d1 + 1) {
    buf_set_msg(why, whylen, "token is malformed: expected three base64url parts");
    return JWT_MALFORMED;
  }
  if (!(hdr = seg_json(token, (size_t)(d1 - token)))) {
    buf_set_msg(why, whylen, "token is malformed: the header is not a base64url JSON object");
    goto out;
  }
  const char *alg = json_string_value(json_object_get(hdr, "alg"));
  const char *kid = json_string_value(json_object_get(hdr, "kid"));
  if (!alg) {
    buf_set_msg(why, whylen, "token is malformed: the header has no alg");
    goto out;
  }
  if (strcmp(alg, ALG_RS256) && strcmp(alg, ALG_ES256)) {
    buf_set_msg(why, whylen, "algorithm %s is not allowed", shown(alg, s1));
    rc = JWT_BAD_ALG;
    goto out;
  }
  if (json_object_get(hdr, "crit")) { /* RFC 7515 4.1.11: we understand no extensions */
    buf_set_msg(why, whylen, "token is malformed: unsupported crit header");
    goto out;
  }
  if (!kid) {
    buf_set_msg(why, whylen, "token is malformed: the header has no kid");
    goto out;
  }
  if (!(pay = seg_json(d1 + 1, (size_t)(d2 - d1 - 1)))) {
    buf_set_msg(why, whylen, "token is malformed: the payload is not a base64url JSON object");
    goto out;
  }
  size_t siglen = 0;
  if (!is_b64url(d2 + 1, (size_t)(end - d2 - 1))) {
    buf_set_msg(why, whylen, "token is malformed: the signature is not base64url");
    goto out;
  }
  /* A truncated signature often leaves a dangling or non-canonical last character. */
  bool sig_ok = (sig = seg_decode(d2 + 1, (size_t)(end - d2 - 1), &siglen)) && siglen <= MAX_SIG;

  /* The issuer picks the key set; it is read before the signature is checked, but nothing
   * else in the payload is trusted until then. */
  json_t *jiss = json_object_get(pay, "iss");
  const char *iss = json_string_value(jiss);
  if (!iss) {
    if (jiss) buf_set_msg(why, whylen, "token is malformed: iss is not a string");
    else buf_set_msg(why, whylen, "token has no iss claim");
    rc = jiss ? JWT_MALFORMED : JWT_MISSING_CLAIM;
    goto out;
  }
  jwt_verifier_maybe_refresh(v);
  char *iss_tid = NULL;
  jwt_issuer_t *is = issuer_find_for(v, iss, &iss_tid);
  if (!is) {
    buf_set_msg(why, whylen, "issuer %s is not trusted", shown(iss, s1));
    rc = JWT_BAD_ISSUER;
    goto out;
  }
  if (iss_tid) {
    /* A per-tenant issuer vouches only for its own tenant. */
    const char *tid = json_string_value(json_object_get(pay, "tid"));
    bool same = tid && !strcmp(tid, iss_tid);
    free(iss_tid);
    if (!same) {
      buf_set_msg(why, whylen, "issuer %s does not match the token's tid", shown(iss, s1));
      rc = JWT_BAD_ISSUER;
      goto out;
    }
  }
  ks = issuer_keys(is);
  const jwt_key_t *k = jwks_find(ks, kid);
  if (!k) {
    buf_set_msg(why, whylen, "unknown signing key kid %s", shown(kid, s1));
    rc = JWT_UNKNOWN_KID;
    goto out;
  }
  if (strcmp(alg, k->alg)) {
    buf_set_msg(why, whylen, "algorithm %s is not allowed for signing key %s (pinned to %s)",
            shown(alg, s1), shown(kid, s2), k->alg);
    rc = JWT_BAD_ALG;
    goto out;
  }
  if (!sig_ok ||
      !verify_signature(v, k, (const unsigned char *)token, (size_t)(d2 - token), sig, siglen)) {
    buf_set_msg(why, whylen, "signature is invalid");
    rc = JWT_BAD_SIGNATURE;
    goto out;
  }

  int64_t now = v->clock(), exp = 0, nbf = 0;
  json_t *jexp = json_object_get(pay, "exp"), *jnbf = json_object_get(pay, "nbf");
  if (!jexp) {
    buf_set_msg(why, whylen, "token has no exp claim");
    rc = JWT_MISSING_CLAIM;
    goto out;
  }
  if (!numeric_date(jexp, &exp) || (jnbf && !numeric_date(jnbf, &nbf))) {
    buf_set_msg(why, whylen, "token is malformed: exp/nbf is not a number");
    goto out;
  }
  if (now > exp + v->skew) {
    buf_set_msg(why, whylen, "token has expired");
    rc = JWT_EXPIRED;
    goto out;
  }
  if (jnbf && now + v->skew < nbf) {
    buf_set_msg(why, whylen, "token is not yet valid");
    rc = JWT_NOT_YET_VALID;
    goto out;
  }
  if ((rc = check_audience(is, json_object_get(pay, "aud"), why, whylen)) != JWT_OK) goto out;

  *claims = pay;
  pay = NULL;
  rc = JWT_OK;
out:
  jwt_jwks_free(ks);
  json_decref(hdr);
  json_decref(pay);
  free(sig);
  return rc;
}

/* ---- verified-token cache ------------------------------------------------------------------ */

#define CACHE_WAYS 8

typedef struct cache_slot {
  unsigned char key[32];
  uint64_t      gen;
  int64_t       until;
  uint64_t      used;
  void         *value;   /* NULL = empty */
} cache_slot_t;

struct jwt_cache {
  pthread_mutex_t mu;
  size_t          nsets;  /* power of two */
  cache_slot_t   *slots;  /* nsets * CACHE_WAYS */
  void         *(*dup)(const void *);
  void          (*release)(void *);
  uint64_t        tick, hits, misses;
};

jwt_cache_t *jwt_cache_new(size_t entries, void *(*dup)(const void *), void (*release)(void *)) {
  jwt_cache_t *c = xcalloc(1, sizeof *c);
  if (!entries) entries = 8192;
  size_t sets = 1;
  while (sets * CACHE_WAYS < entries) sets <<= 1;
  c->nsets = sets;
  c->slots = xcalloc(sets * CACHE_WAYS, sizeof *c->slots);
  c->dup = dup;
  c->release = release;
  pthread_mutex_init(&c->mu, NULL);
  return c;
}

/* SHA-256 fetched from OpenSSL once for the process (immutable once fetched). */
static EVP_MD *g_key_md;
static pthread_once_t g_key_md_once = PTHREAD_ONCE_INIT;
static void key_md_init(void) { g_key_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

bool jwt_cache_key(const char *token, size_t len, unsigned char key[32]) {
  unsigned int n = 32;
  pthread_once(&g_key_md_once, key_md_init); /* explicit fetch once, not per call */
  return g_key_md && EVP_Digest(token, len, key, &n, g_key_md, NULL) == 1 && n == 32;
}

static cache_slot_t *cache_set(jwt_cache_t *c, const unsigned char key[32]) {
  uint64_t h;
  memcpy(&h, key, sizeof h);
  return &c->slots[(h & (c->nsets - 1)) * CACHE_WAYS];
}

static void slot_clear(jwt_cache_t *c, cache_slot_t *s) {
  if (s->value) c->release(s->value);
  s->value = NULL;
}

void *jwt_cache_get(jwt_cache_t *c, const unsigned char key[32], uint64_t gen, int64_t now) {
  void *r = NULL;
  pthread_mutex_lock(&c->mu);
  cache_slot_t *set = cache_set(c, key);
  for (int w = 0; w < CACHE_WAYS; w++) {
    cache_slot_t *s = &set[w];
    if (!s->value || CRYPTO_memcmp(s->key, key, 32) != 0) continue;
    if (s->gen == gen && now <= s->until) {
      s->used = ++c->tick;
      r = c->dup(s->value);
    } else {
      slot_clear(c, s); /* expired, or checked against keys that have changed since */
    }
    break;
  }
  if (r) c->hits++;
  else c->misses++;
  pthread_mutex_unlock(&c->mu);
  return r;
}

void jwt_cache_put(jwt_cache_t *c, const unsigned char key[32], uint64_t gen,
                   int64_t valid_until, void *value) {
  pthread_mutex_lock(&c->mu);
  cache_slot_t *set = cache_set(c, key), *victim = NULL;
  for (int w = 0; w < CACHE_WAYS && !victim; w++)
    if (set[w].value && !memcmp(set[w].key, key, 32)) victim = &set[w];
  for (int w = 0; w < CACHE_WAYS && !victim; w++)
    if (!set[w].value || set[w].gen != gen) victim = &set[w];
  for (int w = 0; w < CACHE_WAYS; w++)
    if (!victim || set[w].used < victim->used) victim = &set[w]; /* least recently used */
  slot_clear(c, victim);
  memcpy(victim->key, key, 32);
  victim->gen = gen;
  victim->until = valid_until;
  victim->used = ++c->tick;
  victim->value = value;
  pthread_mutex_unlock(&c->mu);
}

void jwt_cache_stats(jwt_cache_t *c, uint64_t *hits, uint64_t *misses) {
  pthread_mutex_lock(&c->mu);
  if (hits) *hits = c->hits;
  if (misses) *misses = c->misses;
  pthread_mutex_unlock(&c->mu);
}

void jwt_cache_free(jwt_cache_t *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nsets * CACHE_WAYS; i++) slot_clear(c, &c->slots[i]);
  free(c->slots);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* ---- signing ------------------------------------------------------------------------------- */

static bool is_p256(EVP_PKEY *key) {
  char name[64];
  if (!EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name,
                                     NULL) != 1)
    return false;
  return !strcmp(name, "prime256v1") || !strcmp(name, "P-256") || !strcmp(name, "secp256r1");
}

char *jwt_sign(EVP_PKEY *key, const char *alg, const char *header_json, const char *payload_json,
               char *err, size_t errlen) {
  bool es = alg && !strcmp(alg, ALG_ES256);
  if (!key || !alg || (!es && strcmp(alg, ALG_RS256))) {
    buf_set_msg(err, errlen, "only RS256 and ES256 can be signed");
    return NULL;
  }
  if (es ? !is_p256(key) : !EVP_PKEY_is_a(key, "RSA")) {
    buf_set_msg(err, errlen, "the key does not fit algorithm %s", alg);
    return NULL;
  }
  buf_t b = BUF_INIT;
  char *h = b64u_alloc(header_json, strlen(header_json));
  char *p = b64u_alloc(payload_json, strlen(payload_json));
  buf_printf(&b, "%s.%s", h, p);
  free(h);
  free(p);

  unsigned char *sig = NULL, raw[64];
  size_t siglen = 0;
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  bool ok = m && EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key) == 1 &&
            EVP_DigestSign(m, NULL, &siglen, (const unsigned char *)b.data, b.len) == 1 &&
            (sig = xmalloc(siglen)) &&
            EVP_DigestSign(m, sig, &siglen, (const unsigned char *)b.data, b.len) == 1;
  EVP_MD_CTX_free(m);
  if (ok && es) { /* DER ECDSA-Sig-Value -> JWS raw r||s */
    const unsigned char *q = sig;
    ECDSA_SIG *e = d2i_ECDSA_SIG(NULL, &q, (long)siglen);
    const BIGNUM *r = NULL, *s = NULL;
    if (e) ECDSA_SIG_get0(e, &r, &s);
    ok = e && BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
    ECDSA_SIG_free(e);
  }
  if (!ok) {
    buf_set_msg(err, errlen, "signing failed");
    free(sig);
    buf_free(&b);
    return NULL;
  }
  char *s64 = es ? b64u_alloc(raw, 64) : b64u_alloc(sig, siglen);
  buf_printf(&b, ".%s", s64);
  free(s64);
  free(sig);
  return buf_detach(&b);
}

/* The public members of key's JWK, base64url; false for unsupported keys. */
static bool jwk_members(EVP_PKEY *key, const char **kty, char **a, char **b) {
  BIGNUM *x = NULL, *y = NULL;
  *a = *b = NULL;
  if (EVP_PKEY_is_a(key, "RSA")) {
    *kty = "RSA";
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &x) == 1 &&
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &y) == 1) {
      *a = bn_b64u(x, 0); /* n */
      *b = bn_b64u(y, 0); /* e */
    }
  } else if (is_p256(key)) {
    *kty = "EC";
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1) {
      *a = bn_b64u(x, 32); /* x */
      *b = bn_b64u(y, 32); /* y */
    }
  }
  BN_free(x);
  BN_free(y);
  if (*a && *b) return true;
  free(*a);
  free(*b);
  return false;
}

char *jwt_jwk_json(EVP_PKEY *key, const char *kid) {
  const char *kty = NULL;
  char *a, *b;
  if (!key || !kid || !jwk_members(key, &kty, &a, &b)) return NULL;
  json_t *j = !strcmp(kty, "RSA")
      ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "kid", kid, "use", "sig",
                  "alg", ALG_RS256, "n", a, "e", b)
      : json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "kid", kid, "use", "sig",
                  "alg", ALG_ES256, "crv", "P-256", "x", a, "y", b);
  char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  free(a);
  free(b);
  return out;
}

int jwt_jwk_thumbprint(EVP_PKEY *key, char out[44]) {
  const char *kty = NULL;
  char *a, *b;
  if (!key || !jwk_members(key, &kty, &a, &b)) return -1;
  buf_t t = BUF_INIT; /* RFC 7638: required members only, in lexicographic order */
  if (!strcmp(kty, "RSA")) buf_printf(&t, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", b, a);
  else buf_printf(&t, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", a, b);
  unsigned char h[32];
  unsigned int n = 32;
  int rc = EVP_Digest(t.data, t.len, h, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
  if (!rc) b64url_encode(h, 32, out, 44);
  buf_free(&t);
  free(a);
  free(b);
  return rc;
}
