/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer JWT verification with OpenSSL 3 directly (no JOSE library).
 *
 * Three objects:
 *   - jwt_jwks_t: the public keys of one issuer, parsed from a JWKS. Each key is pinned to one
 *     algorithm when it is loaded (RSA -> RS256, EC P-256 -> ES256); `kty=oct` (HMAC) keys are
 *     ignored and RSA keys shorter than 2048 bits are rejected. A token's `alg` must equal its
 *     key's algorithm, which is what blocks `none` and the HS256-with-the-RSA-key confusion.
 *   - jwt_verifier_t: the trusted issuers ({iss, accepted audiences, keys}), all added before
 *     the verifier is shared between threads. Keys come from a JWKS file (re-read when its
 *     inode, size, mtime or ctime change, looked at no more often than every check_ms, or on
 *     jwt_verifier_reload) or from memory (the development issuer). jwt_verify() checks
 *     structure, size, alg, kid, signature, exp (required) and nbf with a skew, iss and aud,
 *     and hands back the claims.
 *   - jwt_cache_t: verified tokens keyed by SHA-256 of the token text, bounded, thread-safe,
 *     valid until the token's exp (+ skew) and only for the key generation they were checked
 *     against (any JWKS change empties it in effect).
 *
 * All functions are thread-safe unless noted. Reason texts ("why") are safe to copy into an
 * HTTP quoted-string: any text that came from the token is truncated and stripped of quotes,
 * backslashes and control characters.
 */
#ifndef SPOOLD_AUTH_JWT_H
#define SPOOLD_AUTH_JWT_H

#include <jansson.h>
#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JWT_MAX_TOKEN   16384     /* bytes of the compact token */
#define JWT_MAX_JWKS    (1 << 20) /* bytes of a JWKS file */
#define JWT_MAX_KEYS    64        /* keys kept from one JWKS */
#define JWT_DEFAULT_SKEW 60       /* seconds of clock skew allowed for exp and nbf */

/* ---- key sets ------------------------------------------------------------------------------ */

typedef struct jwt_jwks jwt_jwks_t;

/* Parses a JWKS document ({"keys":[...]}). Unusable keys are skipped (and logged); a document
 * that is not a JWKS is an error: NULL with a message in err. The caller owns the result. */
jwt_jwks_t *jwt_jwks_parse(const char *json, size_t len, char *err, size_t errlen);
/* Reads and parses a JWKS file (at most JWT_MAX_JWKS bytes). Same ownership as jwt_jwks_parse. */
jwt_jwks_t *jwt_jwks_load(const char *path, char *err, size_t errlen);
/* Number of usable keys. */
size_t      jwt_jwks_count(const jwt_jwks_t *ks);
/* The algorithm ("RS256"/"ES256") pinned to kid, or NULL when the set has no such key. */
const char *jwt_jwks_alg(const jwt_jwks_t *ks, const char *kid);
/* Releases the caller's reference (NULL is fine). */
void        jwt_jwks_free(jwt_jwks_t *ks);

/* ---- verifier ------------------------------------------------------------------------------ */

typedef struct jwt_verifier jwt_verifier_t;

typedef enum {
  JWT_OK = 0,
  JWT_MALFORMED,       /* not three base64url parts, not JSON objects, bad claim types */
  JWT_TOO_LARGE,
  JWT_BAD_ALG,         /* alg not allowed, or not the algorithm pinned to the kid's key */
  JWT_UNKNOWN_KID,
  JWT_BAD_SIGNATURE,
  JWT_EXPIRED,
  JWT_NOT_YET_VALID,
  JWT_BAD_ISSUER,
  JWT_BAD_AUDIENCE,
  JWT_MISSING_CLAIM,   /* iss, exp or aud absent */
} jwt_rc_t;

/* Clock used for exp/nbf: seconds since the epoch. */
typedef int64_t (*jwt_clock_fn)(void);

/* Creates a verifier with no issuers. skew_s < 0 means JWT_DEFAULT_SKEW; check_ms is the least
 * time between two stat() checks of the JWKS files (0 = check on every verification); clock NULL
 * means time(). The caller owns the verifier (jwt_verifier_free). */
jwt_verifier_t *jwt_verifier_new(int skew_s, int check_ms, jwt_clock_fn clock);
/* Trusts iss with keys from the JWKS file at path, accepting the NULL-terminated audiences.
 * The file must load and hold at least one usable key. Returns 0, or -1 with err filled. */
int  jwt_verifier_add_file(jwt_verifier_t *v, const char *iss, const char *path,
                           const char *const *audiences, char *err, size_t errlen);
/* Trusts iss with an in-memory key set (the verifier takes ownership of keys, even on error).
 * Returns 0, or -1 with err filled (duplicate issuer). */
int  jwt_verifier_add_keys(jwt_verifier_t *v, const char *iss, jwt_jwks_t *keys,
                           const char *const *audiences, char *err, size_t errlen);
/* Re-reads changed JWKS files if check_ms has passed since the last check. Cheap when not due. */
void jwt_verifier_maybe_refresh(jwt_verifier_t *v);
/* Re-reads every JWKS file now (SIGHUP). A file that fails to load keeps its previous keys;
 * returns the number of such failures (0 = all good), the first one described in err. */
int  jwt_verifier_reload(jwt_verifier_t *v, char *err, size_t errlen);
/* Increases whenever any issuer's key set changes; cache entries are tied to it. */
uint64_t jwt_verifier_generation(jwt_verifier_t *v);
/* The allowed skew in seconds and the current time per the verifier's clock. */
int      jwt_verifier_skew(const jwt_verifier_t *v);
int64_t  jwt_verifier_now(const jwt_verifier_t *v);

/* Frees v with every issuer and its keys; NULL is fine. */
void jwt_verifier_free(jwt_verifier_t *v);

/* Verifies a compact JWS token (token[0..len), without "Bearer "). On JWT_OK *claims receives
 * the payload object (caller owns it: json_decref); otherwise why holds the reason, e.g.
 * "signature is invalid", "token has expired", "issuer X is not trusted". */
jwt_rc_t jwt_verify(jwt_verifier_t *v, const char *token, size_t len, json_t **claims,
                    char *why, size_t whylen);

/* ---- verified-token cache ------------------------------------------------------------------ */

typedef struct jwt_cache jwt_cache_t;

/* A cache of at most `entries` values (8-way set-associative; rounded up to a power of two;
 * 0 = 8192). dup copies a value for a reader, release frees one; the cache owns what it
 * stores. */
jwt_cache_t *jwt_cache_new(size_t entries, void *(*dup)(const void *), void (*release)(void *));
/* SHA-256 of the token text: the cache key. false if hashing failed (then do not cache). */
bool  jwt_cache_key(const char *token, size_t len, unsigned char key[32]);
/* A copy (made with dup; caller owns it) of the value cached under key for generation gen,
 * if now <= its valid_until; NULL otherwise. */
void *jwt_cache_get(jwt_cache_t *c, const unsigned char key[32], uint64_t gen, int64_t now);
/* Stores value (ownership passes to the cache) until valid_until (seconds since the epoch). */
void  jwt_cache_put(jwt_cache_t *c, const unsigned char key[32], uint64_t gen,
                    int64_t valid_until, void *value);
/* Lookups answered from the cache and lookups that were not, since it was made (either
 * pointer may be NULL). */
void  jwt_cache_stats(jwt_cache_t *c, uint64_t *hits, uint64_t *misses);
/* Frees c with every value it holds (through release); NULL is fine. */
void  jwt_cache_free(jwt_cache_t *c);

/* ---- signing (development issuer, tests) --------------------------------------------------- */

/* Signs header_json.payload_json (raw JSON texts, base64url-encoded here) with key and returns
 * the compact token (caller frees). alg must be the key's: "RS256" (RSA) or "ES256" (P-256;
 * the signature is emitted as raw r||s). NULL with err filled on failure. */
char *jwt_sign(EVP_PKEY *key, const char *alg, const char *header_json, const char *payload_json,
               char *err, size_t errlen);
/* The public JWK of key as a JSON object text {"kty",...,"kid","alg","use":"sig"} (caller
 * frees); NULL for keys other than RSA and EC P-256. */
char *jwt_jwk_json(EVP_PKEY *key, const char *kid);
/* The RFC 7638 SHA-256 thumbprint of key's public JWK, base64url (43 chars + NUL). 0 or -1. */
int   jwt_jwk_thumbprint(EVP_PKEY *key, char out[44]);

#endif
