/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The development identity (`spoold serve --dev`, `spoold token`).
 *
 * A built-in token issuer whose ES256 (EC P-256) signing key lives in the data directory as
 * DEV_KEY_FILE (PKCS#8 PEM, mode 0600). The first start creates it atomically (written to a
 * temporary file, fsynced, then link()ed into place, so two processes starting together end
 * up with the same key); later starts reuse it. The key id (kid) is the key's RFC 7638
 * thumbprint, so a token minted for one data directory is refused by a server using another.
 *
 * Tokens carry iss = DEV_ISSUER and aud = DEV_AUDIENCE, like the Microsoft Graph tokens that
 * Graph clients send; the server also accepts aud "00000003-0000-0000-c000-000000000000"
 * (Graph's application id) for this issuer.
 */
#ifndef SPOOLD_AUTH_DEV_H
#define SPOOLD_AUTH_DEV_H

#include <stdbool.h>
#include <stdint.h>

#define DEV_ISSUER    "spoold-dev"
#define DEV_AUDIENCE  "https://graph.microsoft.com"
#define DEV_KEY_FILE  "dev-signing-key.pem"
#define DEV_TTL_DEFAULT 3600L
#define DEV_TTL_MAX   (366L * 24 * 3600)

typedef struct dev_key dev_key_t;

/* Loads the development signing key from data_dir, creating it first when it does not exist
 * (*created, if not NULL, tells which). The data directory itself must exist. A key file that
 * other users can read is refused. NULL + malloc'd *err (caller frees) on failure; the caller
 * owns the key (dev_key_free). */
dev_key_t  *dev_key_open(const char *data_dir, bool *created, char **err);
/* The key id put in minted tokens' kid header. Owned by k. */
const char *dev_key_kid(const dev_key_t *k);
/* The key file's path. Owned by k. */
const char *dev_key_path(const dev_key_t *k);
/* The public key as a JWKS document {"keys":[{...}]} (caller frees). */
char       *dev_key_jwks(const dev_key_t *k);
/* Frees k and its private key; NULL is fine. */
void        dev_key_free(dev_key_t *k);

typedef enum dev_token_kind {
  DEV_TOKEN_APP = 1,    /* application token: roles, idtyp "app" */
  DEV_TOKEN_USER = 2,   /* delegated token: scp, oid, upn, idtyp "user" */
  DEV_TOKEN_DEVICE = 3, /* a printer's device token is not a JWT: `spoold token --device
                           PRINTER_ID` issues it from the store (ipp/device-auth.h); minting one
                           here fails with "device tokens are not development JWTs". */
} dev_token_kind_t;

typedef struct dev_token_req {
  dev_token_kind_t kind;
  const char *tenant;     /* tid (required) */
  const char *app_id;     /* appid (required) */
  const char *roles;      /* APP: space-separated application permissions (may be "") */
  const char *user_oid;   /* USER: oid (required) */
  const char *upn;        /* USER: upn (optional) */
  const char *name;       /* USER: display name (optional) */
  const char *scopes;     /* USER: space-separated delegated permissions (required) */
  const char *groups;     /* USER: comma-separated group ids (optional) */
  bool        admin;      /* USER: add the Printer Administrator role to wids */
  const char *printer_id; /* DEVICE: refused (see DEV_TOKEN_DEVICE) */
  long        ttl;        /* lifetime in seconds; 0 = DEV_TTL_DEFAULT; at most DEV_TTL_MAX */
  int64_t     now;        /* issue time, seconds since the epoch; 0 = now */
} dev_token_req_t;

/* Checks r without signing anything: 0, or -1 with a malloc'd *err (caller frees) fit for the
 * command line, e.g. "--tenant TID is required", "--scopes needs --user: ...". */
int   dev_token_check(const dev_token_req_t *r, char **err);
/* Checks r and mints a token signed with k (caller frees). NULL + malloc'd *err (caller frees)
 * when r is invalid (the dev_token_check message) or signing failed. */
char *dev_token_mint(const dev_key_t *k, const dev_token_req_t *r, char **err);

#endif
