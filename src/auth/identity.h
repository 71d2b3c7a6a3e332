/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who is calling: the caller_t built from a verified bearer token, and the auth context that
 * verifies Authorization headers for the request handlers.
 *
 * A request handler runs:
 *
 *   caller_t *c = NULL;
 *   char why[256];
 *   int rc = auth_verify(auth, http_request_header(req, "Authorization"), &c, why, sizeof why);
 *   if (rc != AUTH_OK) -> 401 unauthenticated, message = why,
 *                         WWW-Authenticate = auth_www_authenticate(rc, why, ...)
 *   rc = auth_tenant_check(auth, store, c, why, sizeof why);
 *   if (rc == AUTH_TENANT_INACTIVE) -> 403 accessDenied, message = why
 *   if (rc == AUTH_TENANT_ERROR)    -> 503 serviceNotAvailable
 *   perm_check(OP_..., c, &decision, why, sizeof why)  (core/permissions.h) -> 403 accessDenied
 *
 * The request owns c and frees it with caller_free().
 *
 * Claims used (Entra ID access tokens, v1 and v2): tid (required), oid, upn /
 * preferred_username, name, groups, wids, appid / azp, roles, scp (space-separated), idtyp.
 * A token with scp is a delegated (user) token; a token with roles and no scp is an
 * application token; a token with neither is an application token when idtyp is "app" and a
 * delegated token otherwise (which then holds no permission).
 */
#ifndef SPOOLD_AUTH_IDENTITY_H
#define SPOOLD_AUTH_IDENTITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/caller.h"

struct store; /* store/store.h */


/* Builds a caller from verified claims (the caller frees it with caller_free). Returns NULL
 * with why filled when a claim the service needs is missing or has the wrong type: "token has
 * no tid claim", "token has no oid claim", "token has no appid or azp claim", ... */
caller_t *caller_from_claims(json_t *claims, char *why, size_t whylen);
/* A deep copy (caller frees). */
caller_t *caller_dup(const caller_t *c);
/* Frees c and everything it points to; NULL is fine. */
void      caller_free(caller_t *c);

/* Delegated caller whose scp holds scope (ASCII case-insensitive). */
bool caller_has_scope(const caller_t *c, const char *scope);
/* Application caller whose roles hold role (ASCII case-insensitive). */
bool caller_has_role(const caller_t *c, const char *role);
/* Delegated caller holding the Printer Administrator or Global Administrator role (wids). */
bool caller_is_admin(const caller_t *c);
/* Delegated caller holding the directory role with this template id. */
bool caller_has_wid(const caller_t *c, const char *wid);
/* Caller whose groups claim holds gid. */
bool caller_in_group(const caller_t *c, const char *gid);
/* The caller's groups claim as compact JSON array text ("[\"g1\",\"g2\"]"), recorded with
 * the jobs it creates; NULL when it has no groups. Malloc'd; the caller frees. */
char *caller_groups_json(const caller_t *c);
/* True for an application token's caller (roles, no scp); false for NULL. */
bool caller_is_app(const caller_t *c);
/* True for a user's caller (delegated scopes); false for NULL. */
bool caller_is_delegated(const caller_t *c);
/* "delegated", "application" or "device". */
const char *caller_kind_name(caller_kind_t kind);
/* True when s can be a tenant/object/app id: 1..CALLER_MAX_ID characters of [A-Za-z0-9._-]
 * (GUIDs in practice). Used for tid, oid and appid claims and for command-line ids. */
bool identity_valid_id(const char *s);

/* ---- the auth context ---------------------------------------------------------------------- */

typedef struct auth auth_t;

typedef struct auth_issuer_cfg {
  const char *iss;       /* exact iss value trusted (--issuer) */
  const char *jwks_path; /* JWKS file with its public keys (--jwks) */
  const char *audience;  /* accepted aud values, comma-separated (--audience); NULL = the Graph
                            audiences https://graph.microsoft.com and
                            00000003-0000-0000-c000-000000000000 */
} auth_issuer_cfg_t;

typedef struct auth_config {
  const auth_issuer_cfg_t *issuers; /* trusted issuers; may be empty in dev mode */
  size_t       nissuers;
  bool         dev;             /* also trust the development issuer (auth/dev.h) */
  const char  *data_dir;        /* dev: where the development signing key lives */
  bool         allow_none;      /* no issuer and no dev is allowed: every token is refused
                                   (a freshly installed service, until issuers are set) */
  /* Zero means the default for each of the following. */
  int          skew_s;          /* exp/nbf skew in seconds; 0 = 60, < 0 = none */
  size_t       cache_entries;   /* verified-token cache size; 0 = 8192 */
  int          jwks_check_ms;   /* least time between JWKS file checks; 0 = 1000, < 0 = check
                                   on every request */
  int          tenant_cache_ms; /* how long a tenant's state is trusted; 0 = 5000, < 0 = ask
                                   the store every time */
  int64_t    (*clock)(void);    /* seconds since the epoch; NULL = time() (tests set it) */
} auth_config_t;

/* auth_verify results; both errors are 401 unauthenticated. */
enum {
  AUTH_OK = 0,
  AUTH_NO_TOKEN = 1, /* no Authorization header or not the Bearer scheme */
  AUTH_INVALID = 2,  /* a bearer token that was refused (why says why) */
};

/* auth_tenant_check results. */
enum {
  AUTH_TENANT_ACTIVE = 0,
  AUTH_TENANT_INACTIVE = 1, /* 403 accessDenied: suspended, or unknown outside dev mode */
  AUTH_TENANT_ERROR = 2,    /* 503 serviceNotAvailable: the store failed (logged) */
};

/* Creates the auth context: loads every trusted issuer's JWKS and, in dev mode, loads or
 * creates the development signing key in data_dir. NULL + malloc'd *err (caller frees) on
 * failure. The caller owns the result (auth_free). Thread-safe once created. */
auth_t *auth_new(const auth_config_t *cfg, char **err);
/* Verifies an Authorization header value ("Bearer <jwt>"; NULL when absent). On AUTH_OK *out
 * receives a caller the caller owns (caller_free). Otherwise why holds the reason: "no bearer
 * token", "token is malformed: ...", "signature is invalid", "token has expired", "token is
 * not yet valid", "issuer X is not trusted", "audience X is not accepted", "unknown signing
 * key kid X", "algorithm X is not allowed", "token has no tid claim", ... The reason holds no
 * quotes, backslashes or control characters. Verified tokens are cached until they expire. */
int  auth_verify(auth_t *a, const char *authorization, caller_t **out, char *why, size_t whylen);
/* Formats the WWW-Authenticate value for an auth_verify failure:
 *   Bearer realm="spoold"                                                  (AUTH_NO_TOKEN)
 *   Bearer realm="spoold", error="invalid_token", error_description="why"  (AUTH_INVALID) */
void auth_www_authenticate(int rc, const char *why, char *out, size_t outlen);
/* Re-reads the JWKS files now. Returns 0, or the number of files that failed (they keep their
 * previous keys) with err (malloc'd, caller frees) describing the first. Not signal-safe. */
int  auth_reload(auth_t *a, char **err);
/* Asks for a reload at the next auth_verify; async-signal-safe (call it from a SIGHUP
 * handler). */
void auth_request_reload(auth_t *a);
/* Checks that the caller's tenant holds an active subscription (cached for tenant_cache_ms).
 * In dev mode an unknown tenant is created active on first use (store_tenant_ensure). */
int  auth_tenant_check(auth_t *a, struct store *st, const caller_t *c, char *why, size_t whylen);
/* Forgets the cached state of one tenant (after `tenant suspend` in this process), or of all
 * when tid is NULL. */
void auth_tenant_forget(auth_t *a, const char *tid);

typedef struct auth_stats {
  uint64_t cache_hits;    /* tokens answered from the verified-token cache */
  uint64_t cache_misses;
  uint64_t verified;      /* full signature verifications that succeeded */
  uint64_t refused;       /* tokens refused */
} auth_stats_t;

/* Copies the token counters of a into *out (for /metrics); a keeps counting. */
void auth_get_stats(auth_t *a, auth_stats_t *out);
/* Frees a with its verifier and token cache; NULL is fine. */
void auth_free(auth_t *a);

#endif
