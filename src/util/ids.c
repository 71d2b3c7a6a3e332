/* SPDX-License-Identifier: Apache-2.0 */
/* Random GUIDs and secrets from OpenSSL's CSPRNG. */
#include "util/ids.h"
#include "util/b64.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void id_random(void *buf, size_t n) {
  if (RAND_bytes(buf, (int)n) != 1) {
    fputs("spoold: RAND_bytes failed\n", stderr);
    abort();
  }
}

void id_guid(char out[ID_GUID_LEN + 1]) {
  unsigned char r[16];
  id_random(r, sizeof r);
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, ID_GUID_LEN + 1,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
           r[14], r[15]);
}

bool id_is_guid(const char *s) {
  if (!s || strlen(s) != ID_GUID_LEN) return false;
  for (int i = 0; i < ID_GUID_LEN; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!isxdigit((unsigned char)s[i])) {
      return false;
    }
  }
  return true;
}

void id_secret(char *out, size_t outlen, size_t nbytes) {
  unsigned char r[64];
  if (nbytes > sizeof r) nbytes = sizeof r;
  id_random(r, nbytes);
  b64url_encode(r, nbytes, out, outlen);
}
