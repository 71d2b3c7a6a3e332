/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 and base64url encoding/decoding (RFC 4648). */
#ifndef SPOOLD_UTIL_B64_H
#define SPOOLD_UTIL_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Encodes without padding into out (NUL-terminated). Returns the length or 0 if out is too small. */
size_t b64url_encode(const void *in, size_t len, char *out, size_t outlen);
/* Decodes base64url (padding optional). Returns a malloc'd buffer (caller frees) or NULL on bad
 * input; *outlen receives the length. */
unsigned char *b64url_decode(const char *in, size_t len, size_t *outlen);
/* Decodes standard base64 with padding; same ownership rules. Whitespace in the input is
 * skipped. */
unsigned char *b64_decode(const char *in, size_t len, size_t *outlen);
/* Encodes standard base64 with padding: a malloc'd NUL-terminated string (caller frees). */
char *b64_encode(const void *in, size_t len);

#endif
