/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print password secrets: making a new one and its slow salted hash, and checking a secret
 * against a stored hash. A secret is 24 random bytes written as 32 URL-safe base64 characters
 * (what a user types into a print dialog once). The stored form is
 * "pbkdf2-sha256$ITERATIONS$SALT$KEY" with a 16-byte random salt and a 32-byte PBKDF2-HMAC-
 * SHA256 key, both hex (OpenSSL PKCS5_PBKDF2_HMAC). Pure functions over OpenSSL: no store.
 */
#ifndef SPOOLD_AUTH_PRINT_PASSWORD_H
#define SPOOLD_AUTH_PRINT_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PRINT_PASSWORD_LEN        32      /* characters of a secret */
#define PRINT_PASSWORD_ITERATIONS 100000  /* PBKDF2 iterations of new hashes */
#define PRINT_PASSWORD_HASH_MAX   192     /* bytes of a stored hash, NUL included */

/* Writes a new random secret and a NUL to out. */
void print_password_new(char out[PRINT_PASSWORD_LEN + 1]);

/* Hashes secret with a new random salt into out (PRINT_PASSWORD_HASH_MAX bytes); false when
 * OpenSSL fails. */
bool print_password_hash(const char *secret, char out[PRINT_PASSWORD_HASH_MAX]);

/* True when secret matches the stored hash (constant-time comparison of the keys); false for
 * a malformed hash. */
bool print_password_verify(const char *secret, const char *stored);

#endif
