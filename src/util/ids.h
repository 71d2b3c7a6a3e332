/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identifiers: random and time-ordered GUIDs for Graph ids, request ids, and opaque
 * URL-safe secrets (upload-session and download credentials). All come from
 * OpenSSL's CSPRNG (request ids and the random bits of time-ordered GUIDs from a per-thread
 * seed drawn from it once).
 */
#ifndef SPOOLD_UTIL_IDS_H
#define SPOOLD_UTIL_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define ID_GUID_LEN 36

/* Writes a random version-4 GUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") and a NUL to out. */
void id_guid(char out[ID_GUID_LEN + 1]);
/* Writes a time-ordered version-7 GUID (RFC 9562): 48 bits of Unix milliseconds, 12 bits of
 * the sub-millisecond time, then 62 random bits (from a per-thread generator seeded once from
 * the CSPRNG, no CSPRNG call per id). Within the process each id is greater than the one
 * before (as text too), so rows keyed by these ids are appended at the end of their B-tree
 * index instead of being scattered over it: for the keys of rows written often (documents,
 * upload sessions, tasks, outbox rows). Not for secrets. */
void id_guid_ordered(char out[ID_GUID_LEN + 1]);
/* Writes a request id: a version-4-shaped GUID unique within the process, made from 16 random
 * bytes drawn once per thread plus a per-thread counter (no CSPRNG call per request; a request
 * id is a correlation id, never a secret). */
void id_request_guid(char out[ID_GUID_LEN + 1]);
/* True when s is a GUID in canonical 8-4-4-4-12 hex form (any case). */
bool id_is_guid(const char *s);
/* Writes nbytes of randomness as base64url without padding into out (size >= 4*nbytes/3+2). */
void id_secret(char *out, size_t outlen, size_t nbytes);
/* Fills buf with random bytes. */
void id_random(void *buf, size_t n);

#endif
