/* SPDX-License-Identifier: Apache-2.0 */
/* Random GUIDs and secrets from OpenSSL's CSPRNG; time-ordered GUIDs (their random bits from a
 * per-thread generator seeded from it); request ids from a per-thread counter. */
#include "util/ids.h"
#include "util/b64.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Writes the 16 bytes r as a GUID in lowercase 8-4-4-4-12 hex and a NUL (what the format
 * "%02x%02x%02x%02x-%02x..." writes, without printf). */
static void guid_text(const unsigned char r[16], char out[ID_GUID_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  char *o = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    *o++ = hex[r[i] >> 4];
    *o++ = hex[r[i] & 15];
  }
  *o = '\0';
}

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
  guid_text(r, out);
}

/* The time field of the last id_guid_ordered (Unix ms << 12 | sub-ms fraction), shared by all
 * threads so that ids keep increasing when two are made in the same tick. */
static _Atomic uint64_t g_ordered_last;

/* Per thread: the state of the generator of id_guid_ordered's random bits, seeded once from
 * the CSPRNG (a RAND_bytes call per id cost a getpid and the DRBG's lock per job). */
static _Thread_local uint64_t tl_ord_state;
static _Thread_local bool     tl_ord_seeded;

/* The next 64 bits of this thread's generator: SplitMix64, a bijection of a counter stepped by
 * an odd constant, so a thread never repeats a value within 2^64 calls. */
static uint64_t ordered_random(void) {
  if (!tl_ord_seeded) {
    id_random(&tl_ord_state, sizeof tl_ord_state);
    tl_ord_seeded = true;
  }
  uint64_t z = (tl_ord_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void id_guid_ordered(char out[ID_GUID_LEN + 1]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  uint64_t frac = (uint64_t)(ts.tv_nsec % 1000000) * 4096u / 1000000u;  /* 12 bits */
  uint64_t t = (ms << 12 | frac) & ((1ull << 60) - 1), last = atomic_load(&g_ordered_last);
  for (;;) {
    uint64_t next = t > last ? t : last + 1;
    if (atomic_compare_exchange_weak(&g_ordered_last, &last, next)) {
      t = next;
      break;
    }
  }
  unsigned char r[16];
  uint64_t low = ordered_random();
  for (int i = 15; i >= 8; i--, low >>= 8) r[i] = (unsigned char)low;
  uint64_t hi = t >> 12;  /* 48 bits of milliseconds */
  for (int i = 5; i >= 0; i--, hi >>= 8) r[i] = (unsigned char)hi;
  r[6] = (unsigned char)(0x70 | ((t >> 8) & 0x0f));
  r[7] = (unsigned char)(t & 0xff);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  guid_text(r, out);
}

/* Per thread: 16 random bytes drawn once, and the count of request ids made from them. */
static _Thread_local unsigned char tl_req_seed[16];
static _Thread_local uint64_t      tl_req_count;

void id_request_guid(char out[ID_GUID_LEN + 1]) {
  if (tl_req_count == 0) id_random(tl_req_seed, sizeof tl_req_seed);
  unsigned char r[16];
  memcpy(r, tl_req_seed, sizeof r);
  /* the counter goes into the last 8 bytes (added, so every id of the thread differs) */
  uint64_t low = 0;
  for (int i = 8; i < 16; i++) low = low << 8 | r[i];
  low += ++tl_req_count;
  for (int i = 15; i >= 8; i--, low >>= 8) r[i] = (unsigned char)low;
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  guid_text(r, out);
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
