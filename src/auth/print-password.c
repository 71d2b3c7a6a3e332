/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print password secrets and their hashes (auth/print-password.h).
 */
#include "auth/print-password.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define KEY_LEN  32

static void hex(const unsigned char *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static int unhex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decodes exactly n bytes of hex from s (which must end there, or at '$'); false otherwise. */
static bool unhex(const char *s, unsigned char *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = unhex_digit(s[2 * i]), lo = hi < 0 ? -1 : unhex_digit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = (unsigned char)(hi << 4 | lo);
  }
  return s[2 * n] == '\0' || s[2 * n] == '$';
}

/* A new secret; see print-password.h. */
void print_password_new(char out[PRINT_PASSWORD_LEN + 1]) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char raw[PRINT_PASSWORD_LEN];
  if (RAND_bytes(raw, sizeof raw) != 1) abort(); /* no randomness: never make a weak secret */
  for (size_t i = 0; i < PRINT_PASSWORD_LEN; i++) out[i] = alphabet[raw[i] & 63];
  out[PRINT_PASSWORD_LEN] = '\0';
  OPENSSL_cleanse(raw, sizeof raw);
}

static bool derive(const char *secret, const unsigned char *salt, int iterations,
                   unsigned char key[KEY_LEN]) {
  return PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), salt, SALT_LEN, iterations, EVP_sha256(),
                           KEY_LEN, key) == 1;
}

/* A new hash; see print-password.h. */
bool print_password_hash(const char *secret, char out[PRINT_PASSWORD_HASH_MAX]) {
  unsigned char salt[SALT_LEN], key[KEY_LEN];
  if (RAND_bytes(salt, sizeof salt) != 1) return false;
  if (!derive(secret, salt, PRINT_PASSWORD_ITERATIONS, key)) return false;
  char hs[2 * SALT_LEN + 1], hk[2 * KEY_LEN + 1];
  hex(salt, SALT_LEN, hs);
  hex(key, KEY_LEN, hk);
  snprintf(out, PRINT_PASSWORD_HASH_MAX, "pbkdf2-sha256$%d$%s$%s", PRINT_PASSWORD_ITERATIONS, hs,
           hk);
  OPENSSL_cleanse(key, sizeof key);
  return true;
}

/* Checks a secret; see print-password.h. */
bool print_password_verify(const char *secret, const char *stored) {
  static const char prefix[] = "pbkdf2-sha256$";
  if (!secret || !stored || strncmp(stored, prefix, sizeof prefix - 1) != 0) return false;
  const char *p = stored + sizeof prefix - 1;
  char *end;
  long iterations = strtol(p, &end, 10);
  if (*end != '$' || iterations < 1000 || iterations > 10000000) return false;
  unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
  const char *ps = end + 1;
  if (!unhex(ps, salt, SALT_LEN) || ps[2 * SALT_LEN] != '$') return false;
  if (!unhex(ps + 2 * SALT_LEN + 1, want, KEY_LEN)) return false;
  if (!derive(secret, salt, (int)iterations, got)) return false;
  bool ok = CRYPTO_memcmp(got, want, KEY_LEN) == 0;
  OPENSSL_cleanse(got, sizeof got);
  return ok;
}
