/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device authentication for the IPP INFRA endpoint, and device tokens.
 *
 * A printer (or the proxy speaking for it) proves it is printer P, the printer of the request
 * path /ipp/print/P, in one of three ways:
 *   - `Authorization: Bearer <token>` with P's device token;
 *   - HTTP Basic with P's device token as the password, whatever the user name (ipptool and
 *     CUPS send ipp://P:TOKEN@host:port/ipp/print/P; ippsample's ippproxy sends root:TOKEN);
 *   - over TLS, the client certificate issued to P at registration (POST
 *     /print/printers/create), pinned by the SHA-256 of its DER (printers.cert_sha256).
 *
 * A device token is 32 random bytes written as 64 lower-case hex characters; the store keeps
 * only its SHA-256 (printers.device_secret_hash), so a token is shown once, when it is made
 * (`spoold token --device P`), and making a new one revokes the old one. Tokens are not JWTs:
 * nothing but spoold ever reads them, and a lookup by printer id plus a constant-time hash
 * comparison is all a check needs.
 */
#ifndef SPOOLD_IPP_DEVICE_AUTH_H
#define SPOOLD_IPP_DEVICE_AUTH_H

#include "http/request.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

#define IPP_DEVICE_TOKEN_LEN 64
/* The WWW-Authenticate value of a 401 from the IPP endpoint. */
#define IPP_DEVICE_WWW_AUTHENTICATE "Basic realm=\"spoold\", Bearer realm=\"spoold\""

typedef enum ipp_auth_result {
  IPP_AUTH_OK = 0,
  IPP_AUTH_NONE,       /* no credentials: 401 */
  IPP_AUTH_INVALID,    /* wrong credentials: 401 */
  IPP_AUTH_FORBIDDEN,  /* valid credentials of another printer: 403 */
  IPP_AUTH_ERROR,      /* the store failed: 503 */
} ipp_auth_result_t;

typedef struct ipp_device {
  char       *printer_id; /* as stored */
  char       *tenant;
  const char *method;     /* "bearer", "basic" or "certificate" */
} ipp_device_t;

/* Frees the strings d owns and zeroes it; NULL is fine. */
void ipp_device_clear(ipp_device_t *d);

/* Authenticates the device of req as printer printer_id (the path's). On IPP_AUTH_OK *out
 * (cleared by the caller) names the printer and its tenant; otherwise why says what failed
 * (never the token). */
ipp_auth_result_t ipp_device_authenticate(const http_request_t *req, store_t *st,
                                          const char *printer_id, ipp_device_t *out,
                                          char *why, size_t whylen);

/* The lower-case hex SHA-256 of token (what the store keeps). */
void ipp_device_token_hash(const char *token, char out[65]);

/* Makes a new device token for printer_id, stores its hash (revoking any earlier token) and
 * writes the token and a NUL to out. STORE_NOT_FOUND when there is no such printer. */
store_rc_t ipp_device_token_issue(store_t *st, const char *printer_id,
                                  char out[IPP_DEVICE_TOKEN_LEN + 1]);

/* `spoold token --device PRINTER_ID (--data DIR | --store URL)`: issues a device token and
 * prints it on stdout. Returns the exit status: 0 printed, 1 store failure, 2 usage error,
 * 3 no such printer. */
int ipp_device_token_command(const char *data_dir, const char *store_url, const char *printer_id);

#endif
