/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 and base64url (RFC 4648 §4 and §5). */
#include "util/b64.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

static const char STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t encode(const char *alpha, bool pad, const unsigned char *in, size_t len, char *out,
                     size_t outlen) {
  size_t need = pad ? ((len + 2) / 3) * 4 : (len * 4 + 2) / 3;
  if (outlen < need + 1) return 0;
  size_t o = 0, i = 0;
  for (; i + 2 < len; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = alpha[v >> 18 & 63];
    out[o++] = alpha[v >> 12 & 63];
    out[o++] = alpha[v >> 6 & 63];
    out[o++] = alpha[v & 63];
  }
  if (i < len) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);
    out[o++] = alpha[v >> 18 & 63];
    out[o++] = alpha[v >> 12 & 63];
    if (i + 1 < len) out[o++] = alpha[v >> 6 & 63];
    else if (pad) out[o++] = '=';
    if (pad) out[o++] = '=';
  }
  out[o] = '\0';
  return o;
}

size_t b64url_encode(const void *in, size_t len, char *out, size_t outlen) {
  return encode(URL, false, in, len, out, outlen);
}

char *b64_encode(const void *in, size_t len) {
  size_t n = ((len + 2) / 3) * 4 + 1;
  char *out = xmalloc(n);
  encode(STD, true, in, len, out, n);
  return out;
}

static int val(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (url ? c == '-' : c == '+') return 62;
  if (url ? c == '_' : c == '/') return 63;
  return -1;
}

static unsigned char *decode(const char *in, size_t len, size_t *outlen, bool url) {
  unsigned char *out = xmalloc(len / 4 * 3 + 3);
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  size_t pads = 0;
  for (size_t i = 0; i < len; i++) {
    char c = in[i];
    if (!url && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) continue;
    if (c == '=') { pads++; continue; }
    if (pads) goto bad; /* data after padding */
    int v = val(c, url);
    if (v < 0) goto bad;
    acc = acc << 6 | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits & 0xff);
    }
  }
  if (bits >= 6 || pads > 2) goto bad;               /* a lone sextet cannot encode a byte */
  if (bits && (acc & ((1u << bits) - 1))) goto bad;  /* non-canonical trailing bits */
  *outlen = o;
  return out;
bad:
  free(out);
  return NULL;
}

unsigned char *b64url_decode(const char *in, size_t len, size_t *outlen) {
  return decode(in, len, outlen, true);
}

unsigned char *b64_decode(const char *in, size_t len, size_t *outlen) {
  return decode(in, len, outlen, false);
}
