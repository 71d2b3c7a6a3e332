/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User authentication for the IPP share endpoint (/ipp/share/{shareId}): who is printing.
 *
 * The same identities as the Graph API, in two ways:
 *   - `Authorization: Bearer <JWT>` from a trusted issuer (auth_verify), as Universal Print's
 *     clients send; the token's tenant must be the share's;
 *   - HTTP Basic with the user's login name (UPN) and one of the user's print passwords
 *     (store/print-passwords.h), for stock desktop clients. The caller is then the identity the
 *     password was bound to when it was created (tid, oid, upn, name, groups). Basic is refused
 *     over plain HTTP from other hosts than loopback unless --ipp-basic-over-http.
 * A checked password is remembered in memory for a few minutes (keyed by a SHA-256 of the
 * stored hash and the secret) so that the slow hash runs once per client, not per request; the
 * stored row is read on every request, so a revoked password stops working at once.
 */
#ifndef SPOOLD_IPP_SHARE_AUTH_H
#define SPOOLD_IPP_SHARE_AUTH_H

#include "app.h"
#include "auth/identity.h"
#include "http/request.h"
#include "store/shares.h"

#include <stdbool.h>
#include <stddef.h>

/* The WWW-Authenticate value of a 401 from the share endpoint. */
#define IPP_SHARE_WWW_AUTHENTICATE "Basic realm=\"spoold\", Bearer realm=\"spoold\""

typedef enum ipp_user_auth {
  IPP_USER_OK = 0,
  IPP_USER_NONE,      /* no credentials: 401 */
  IPP_USER_INVALID,   /* wrong credentials: 401 */
  IPP_USER_INSECURE,  /* Basic over plain HTTP from another host: 403 */
  IPP_USER_ERROR,     /* the store failed: 503 */
} ipp_user_auth_t;

/* Whether HTTP Basic (a print password) may be used on this connection: over TLS, from a
 * loopback peer (127.0.0.0/8, ::1), or anywhere when allow_plain_http (--ipp-basic-over-http). */
bool ipp_share_basic_allowed(bool tls, const char *peer, bool allow_plain_http);

/* Authenticates the user of req for share s. On IPP_USER_OK *out is a caller the caller frees
 * (caller_free); otherwise why says what failed (never the secret). */
ipp_user_auth_t ipp_share_authenticate(http_request_t *req, app_t *app, const store_share_t *s,
                                       caller_t **out, char *why, size_t whylen);

#endif
