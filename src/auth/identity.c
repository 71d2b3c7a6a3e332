/* SPDX-License-Identifier: Apache-2.0 */
/* Claims -> caller, the auth context (issuers, verified-token cache), and the tenant check. */
#include "auth/identity.h"
#include "auth/dev.h"
#include "auth/jwt.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GRAPH_AUDIENCE     "https://graph.microsoft.com"
#define GRAPH_AUDIENCE_SL  "https://graph.microsoft.com/"
#define GRAPH_APP_ID       "00000003-0000-0000-c000-000000000000"
#define MAX_AUDIENCES      16
#define TENANT_SLOTS       256

static const char *const GRAPH_AUDIENCES[] = {GRAPH_AUDIENCE, GRAPH_AUDIENCE_SL, GRAPH_APP_ID,
                                              NULL};

/* ---- caller -------------------------------------------------------------------------------- */

bool identity_valid_id(const char *s) {
  size_t n = 0;
  for (; s && s[n]; n++) {
    char c = s[n];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return false;
  }
  return n >= 1 && n <= CALLER_MAX_ID;
}

/* An optional string claim: 0 (absent: *out NULL), 1 (copied), -1 (wrong type). */
static int str_claim(json_t *claims, const char *name, char **out) {
  json_t *j = json_object_get(claims, name);
  *out = NULL;
  if (!j || json_is_null(j)) return 0;
  if (!json_is_string(j)) return -1;
  *out = xstrdup(json_string_value(j));
  return 1;
}

/* An optional array-of-strings claim: 0 or -1 (wrong type). */
static int list_claim(json_t *claims, const char *name, char ***arr, size_t *n) {
  json_t *j = json_object_get(claims, name), *e;
  size_t i;
  *arr = NULL;
  *n = 0;
  if (!j || json_is_null(j)) return 0;
  if (!json_is_array(j)) return -1;
  json_array_foreach(j, i, e) if (!json_is_string(e)) return -1;
  *arr = xcalloc(json_array_size(j) + 1, sizeof **arr);
  json_array_foreach(j, i, e) (*arr)[(*n)++] = xstrdup(json_string_value(e));
  return 0;
}

static void split_words(const char *s, char ***arr, size_t *n) {
  size_t cap = 0;
  *arr = NULL;
  *n = 0;
  while (s && *s) {
    s += strspn(s, " ");
    size_t len = strcspn(s, " ");
    if (!len) break;
    if (*n + 1 >= cap) {
      cap = cap ? cap * 2 : 8;
      *arr = xrealloc(*arr, cap * sizeof **arr);
    }
    (*arr)[(*n)++] = xstrndup(s, len);
    (*arr)[*n] = NULL;
    s += len;
  }
}

caller_t *caller_from_claims(json_t *claims, char *why, size_t whylen) {
  caller_t *c = xcalloc(1, sizeof *c);
  char *scp = NULL, *appid = NULL, *azp = NULL, *pref = NULL;
  json_t *roles = json_object_get(claims, "roles");
  const char *bad = NULL;

  if (str_claim(claims, "tid", &c->tenant) < 0) bad = "tid";
  else if (str_claim(claims, "oid", &c->user_id) < 0) bad = "oid";
  else if (str_claim(claims, "upn", &c->upn) < 0) bad = "upn";
  else if (str_claim(claims, "preferred_username", &pref) < 0) bad = "preferred_username";
  else if (str_claim(claims, "name", &c->name) < 0) bad = "name";
  else if (str_claim(claims, "appid", &appid) < 0) bad = "appid";
  else if (str_claim(claims, "azp", &azp) < 0) bad = "azp";
  else if (str_claim(claims, "idtyp", &c->idtyp) < 0) bad = "idtyp";
  else if (str_claim(claims, "iss", &c->issuer) < 0) bad = "iss";
  else if (str_claim(claims, "scp", &scp) < 0) bad = "scp";
  else if (list_claim(claims, "roles", &c->roles, &c->nroles) < 0) bad = "roles";
  else if (list_claim(claims, "groups", &c->groups, &c->ngroups) < 0) bad = "groups";
  else if (list_claim(claims, "wids", &c->wids, &c->nwids) < 0) bad = "wids";
  if (bad) {
    buf_set_msg(why, whylen, "token has an invalid %s claim", bad);
    goto fail;
  }
  if (!c->tenant) {
    buf_set_msg(why, whylen, "token has no tid claim");
    goto fail;
  }
  if (!identity_valid_id(c->tenant)) {
    buf_set_msg(why, whylen, "token has an invalid tid claim");
    goto fail;
  }
  if (!c->upn && pref) {
    c->upn = pref;
    pref = NULL;
  }
  c->app_id = appid ? appid : azp;
  if (appid) free(azp);
  appid = azp = NULL;
  split_words(scp, &c->scopes, &c->nscopes);

  /* A token with scp is delegated; roles and no scp is an application token. */
  if (c->nscopes) c->kind = CALLER_DELEGATED;
  else if (roles) c->kind = CALLER_APP;
  else c->kind = c->idtyp && !strcmp(c->idtyp, "app") ? CALLER_APP : CALLER_DELEGATED;

  if (c->kind == CALLER_DELEGATED && !c->user_id) {
    buf_set_msg(why, whylen, "token has no oid claim (a delegated token names its user)");
    goto fail;
  }
  if (c->user_id && !identity_valid_id(c->user_id)) {
    buf_set_msg(why, whylen, "token has an invalid oid claim");
    goto fail;
  }
  if (c->kind == CALLER_APP && !c->app_id) {
    buf_set_msg(why, whylen, "token has no appid or azp claim (an application token names its app)");
    goto fail;
  }
  if (c->app_id && !identity_valid_id(c->app_id)) {
    buf_set_msg(why, whylen, "token has an invalid appid/azp claim");
    goto fail;
  }
  json_t *exp = json_object_get(claims, "exp"); /* verified: a number */
  double e = json_is_integer(exp) ? (double)json_integer_value(exp)
           : json_is_real(exp) ? json_real_value(exp) : 0;
  c->expires = e > 9e15 ? (int64_t)9e15 : e < 0 ? 0 : (int64_t)e; /* room for + skew */
  free(scp);
  free(pref);
  return c;
fail:
  free(scp);
  free(pref);
  free(appid);
  free(azp);
  caller_free(c);
  return NULL;
}

static char **dup_list(char *const *src, size_t n) {
  if (!src) return NULL;
  char **out = xcalloc(n + 1, sizeof *out);
  for (size_t i = 0; i < n; i++) out[i] = xstrdup(src[i]);
  return out;
}

static char *dup_opt(const char *s) { return s ? xstrdup(s) : NULL; }

caller_t *caller_dup(const caller_t *c) {
  if (!c) return NULL;
  caller_t *d = xcalloc(1, sizeof *d);
  d->kind = c->kind;
  d->tenant = dup_opt(c->tenant);
  d->user_id = dup_opt(c->user_id);
  d->upn = dup_opt(c->upn);
  d->name = dup_opt(c->name);
  d->app_id = dup_opt(c->app_id);
  d->idtyp = dup_opt(c->idtyp);
  d->issuer = dup_opt(c->issuer);
  d->scopes = dup_list(c->scopes, c->nscopes);
  d->nscopes = c->nscopes;
  d->roles = dup_list(c->roles, c->nroles);
  d->nroles = c->nroles;
  d->groups = dup_list(c->groups, c->ngroups);
  d->ngroups = c->ngroups;
  d->wids = dup_list(c->wids, c->nwids);
  d->nwids = c->nwids;
  d->expires = c->expires;
  return d;
}

static void free_list(char **l, size_t n) {
  for (size_t i = 0; l && i < n; i++) free(l[i]);
  free(l);
}

void caller_free(caller_t *c) {
  if (!c) return;
  free(c->tenant);
  free(c->user_id);
  free(c->upn);
  free(c->name);
  free(c->app_id);
  free(c->idtyp);
  free(c->issuer);
  free_list(c->scopes, c->nscopes);
  free_list(c->roles, c->nroles);
  free_list(c->groups, c->ngroups);
  free_list(c->wids, c->nwids);
  free(c);
}

static bool in_list(char *const *l, size_t n, const char *s) {
  for (size_t i = 0; s && i < n; i++)
    if (!strcasecmp(l[i], s)) return true;
  return false;
}

bool caller_has_scope(const caller_t *c, const char *scope) {
  return c && c->kind == CALLER_DELEGATED && in_list(c->scopes, c->nscopes, scope);
}

bool caller_has_role(const caller_t *c, const char *role) {
  return c && c->kind == CALLER_APP && in_list(c->roles, c->nroles, role);
}

bool caller_has_wid(const caller_t *c, const char *wid) {
  return c && c->kind == CALLER_DELEGATED && in_list(c->wids, c->nwids, wid);
}

bool caller_is_admin(const caller_t *c) {
  return caller_has_wid(c, CALLER_WID_PRINTER_ADMIN) || caller_has_wid(c, CALLER_WID_GLOBAL_ADMIN);
}

bool caller_in_group(const caller_t *c, const char *gid) {
  return c && in_list(c->groups, c->ngroups, gid);
}

char *caller_groups_json(const caller_t *c) {
  if (!c || c->ngroups == 0) return NULL;
  json_t *a = json_array();
  for (size_t i = 0; i < c->ngroups; i++) json_array_append_new(a, json_string(c->groups[i]));
  char *text = json_dumps(a, JSON_COMPACT);
  json_decref(a);
  return text;
}

bool caller_is_app(const caller_t *c) { return c && c->kind == CALLER_APP; }
bool caller_is_delegated(const caller_t *c) { return c && c->kind == CALLER_DELEGATED; }

const char *caller_kind_name(caller_kind_t kind) {
  switch (kind) {
  case CALLER_DELEGATED: return "delegated";
  case CALLER_APP: return "application";
  case CALLER_DEVICE: return "device";
  }
  return "unknown";
}

/* ---- the auth context ---------------------------------------------------------------------- */

typedef struct tenant_slot {
  char           id[CALLER_MAX_ID + 1]; /* "" = empty */
  store_rc_t     rc;                    /* STORE_OK or STORE_NOT_FOUND */
  tenant_state_t state;
  int64_t        checked_us;            /* monotonic */
} tenant_slot_t;

struct auth {
  jwt_verifier_t *v;
  jwt_cache_t    *cache;
  bool            dev;
  atomic_int      reload_pending;
  atomic_ullong   verified, refused;
  int64_t         tenant_ttl_us; /* 0 = no caching */
  pthread_mutex_t tmu;
  tenant_slot_t   tenants[TENANT_SLOTS];
};

static void *caller_dup_v(const void *p) { return caller_dup(p); }
static void caller_free_v(void *p) { caller_free(p); }

/* Splits a comma-separated audience list into auds (strings point into copy). */
static size_t split_audiences(char *copy, const char *auds[MAX_AUDIENCES + 1]) {
  size_t n = 0;
  for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < MAX_AUDIENCES;
       t = strtok_r(NULL, ",", &save)) {
    while (*t == ' ') t++;
    size_t len = strlen(t);
    while (len && t[len - 1] == ' ') t[--len] = '\0';
    if (len) auds[n++] = t;
  }
  auds[n] = NULL;
  return n;
}

auth_t *auth_new(const auth_config_t *cfg, char **err) {
  char e[512];
  *err = NULL;
  if (!cfg->nissuers && !cfg->dev && !cfg->allow_none) {
    *err = xasprintf("no trusted token issuer: give --issuer ISS --jwks FILE [--audience AUD], "
                  "or --dev");
    return NULL;
  }
  int skew = cfg->skew_s == 0 ? JWT_DEFAULT_SKEW : cfg->skew_s < 0 ? 0 : cfg->skew_s;
  int check = cfg->jwks_check_ms == 0 ? 1000 : cfg->jwks_check_ms < 0 ? 0 : cfg->jwks_check_ms;
  auth_t *a = xcalloc(1, sizeof *a);
  char *copy = NULL;      /* an issuer's audience list, split in place */
  dev_key_t *dk = NULL;   /* the development signing key */
  char *jwks = NULL;      /* its JWKS text */
  jwt_jwks_t *ks = NULL;  /* and parsed */
  a->v = jwt_verifier_new(skew, check, cfg->clock);
  a->dev = cfg->dev;
  a->tenant_ttl_us = cfg->tenant_cache_ms == 0 ? 5000000
                   : cfg->tenant_cache_ms < 0 ? 0 : (int64_t)cfg->tenant_cache_ms * 1000;
  atomic_init(&a->reload_pending, 0);
  atomic_init(&a->verified, 0);
  atomic_init(&a->refused, 0);
  pthread_mutex_init(&a->tmu, NULL);
  a->cache = jwt_cache_new(cfg->cache_entries, caller_dup_v, caller_free_v);
  if (!a->v) {
    *err = xasprintf("OpenSSL has no SHA-256");
    goto fail;
  }
  for (size_t i = 0; i < cfg->nissuers; i++) {
    const auth_issuer_cfg_t *ic = &cfg->issuers[i];
    if (!ic->iss || !*ic->iss) {
      *err = xasprintf("--issuer needs a non-empty value");
      goto fail;
    }
    if (!ic->jwks_path || !*ic->jwks_path) {
      *err = xasprintf("--issuer %s needs --jwks FILE", ic->iss);
      goto fail;
    }
    copy = ic->audience ? xstrdup(ic->audience) : NULL;
    const char *auds[MAX_AUDIENCES + 1];
    if (copy && !split_audiences(copy, auds)) {
      *err = xasprintf("--audience for issuer %s is empty", ic->iss);
      goto fail;
    }
    int rc = jwt_verifier_add_file(a->v, ic->iss, ic->jwks_path,
                                   copy ? auds : GRAPH_AUDIENCES, e, sizeof e);
    free(copy);
    copy = NULL;
    if (rc != 0) {
      *err = xasprintf("--issuer %s: %s", ic->iss, e);
      goto fail;
    }
  }
  if (cfg->dev) {
    bool created = false;
    dk = dev_key_open(cfg->data_dir, &created, err);
    if (!dk) goto fail;
    jwks = dev_key_jwks(dk);
    ks = jwks ? jwt_jwks_parse(jwks, strlen(jwks), e, sizeof e) : NULL;
    if (created) log_info("created the development signing key %s", dev_key_path(dk));
    log_info("development identity: issuer %s, kid %s", DEV_ISSUER, dev_key_kid(dk));
    if (!ks || jwt_jwks_count(ks) != 1) {
      *err = xasprintf("development identity: cannot load its key");
      goto fail;
    }
    if (jwt_verifier_add_keys(a->v, DEV_ISSUER, ks, GRAPH_AUDIENCES, e, sizeof e) != 0) {
      ks = NULL; /* taken by the verifier whatever the outcome (see jwt.h) */
      *err = xasprintf("development identity: %s", e); /* e.g. --issuer spoold-dev given too */
      goto fail;
    }
    ks = NULL;
  }
  goto done;
fail:
  auth_free(a);
  a = NULL;
done:
  free(copy);
  jwt_jwks_free(ks);
  free(jwks);
  dev_key_free(dk);
  return a;
}

/* Finds the token in "Bearer <token>"; false when there is no bearer token. */
static bool bearer_token(const char *h, const char **tok, size_t *len) {
  if (!h) return false;
  h += strspn(h, " \t");
  if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t')) return false;
  h += 6;
  h += strspn(h, " \t");
  size_t n = strlen(h);
  while (n && (h[n - 1] == ' ' || h[n - 1] == '\t')) n--;
  *tok = h;
  *len = n;
  return n > 0;
}

int auth_verify(auth_t *a, const char *authorization, caller_t **out, char *why, size_t whylen) {
  const char *tok = NULL;
  size_t len = 0;
  *out = NULL;
  if (atomic_exchange(&a->reload_pending, 0)) {
    char *e = NULL;
    auth_reload(a, &e);
    free(e);
  }
  if (!bearer_token(authorization, &tok, &len)) {
    buf_set_msg(why, whylen, "no bearer token");
    return AUTH_NO_TOKEN;
  }
  if (len > JWT_MAX_TOKEN) {
    buf_set_msg(why, whylen, "token is too large (over %d bytes)", JWT_MAX_TOKEN);
    atomic_fetch_add(&a->refused, 1);
    return AUTH_INVALID;
  }
  if (memchr(tok, ' ', len) || memchr(tok, '\t', len)) {
    buf_set_msg(why, whylen, "token is malformed: it contains spaces");
    atomic_fetch_add(&a->refused, 1);
    return AUTH_INVALID;
  }

  /* The cache first: any key change bumps the generation, which retires cached entries. */
  jwt_verifier_maybe_refresh(a->v);
  uint64_t gen = jwt_verifier_generation(a->v);
  unsigned char key[32];
  bool cacheable = jwt_cache_key(tok, len, key);
  if (cacheable) {
    caller_t *c = jwt_cache_get(a->cache, key, gen, jwt_verifier_now(a->v));
    if (c) {
      *out = c;
      return AUTH_OK;
    }
  }

  json_t *claims = NULL;
  if (jwt_verify(a->v, tok, len, &claims, why, whylen) != JWT_OK) {
    atomic_fetch_add(&a->refused, 1);
    return AUTH_INVALID;
  }
  caller_t *c = caller_from_claims(claims, why, whylen);
  json_decref(claims);
  if (!c) {
    atomic_fetch_add(&a->refused, 1);
    return AUTH_INVALID;
  }
  atomic_fetch_add(&a->verified, 1);
  if (cacheable)
    jwt_cache_put(a->cache, key, gen, c->expires + jwt_verifier_skew(a->v), caller_dup(c));
  *out = c;
  return AUTH_OK;
}

void auth_www_authenticate(int rc, const char *why, char *out, size_t outlen) {
  if (rc != AUTH_INVALID || !why) {
    snprintf(out, outlen, "Bearer realm=\"spoold\"");
    return;
  }
  char clean[256];
  size_t o = 0;
  for (size_t i = 0; why[i] && o + 1 < sizeof clean; i++) {
    unsigned char ch = (unsigned char)why[i];
    clean[o++] = (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\') ? '?' : (char)ch;
  }
  clean[o] = '\0';
  snprintf(out, outlen,
           "Bearer realm=\"spoold\", error=\"invalid_token\", error_description=\"%s\"", clean);
}

int auth_reload(auth_t *a, char **err) {
  char e[512];
  int n = jwt_verifier_reload(a->v, e, sizeof e);
  if (err) *err = n ? xasprintf("%s", e) : NULL;
  return n;
}

void auth_request_reload(auth_t *a) { atomic_store(&a->reload_pending, 1); }

static tenant_slot_t *tenant_slot(auth_t *a, const char *tid) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const char *p = tid; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
  return &a->tenants[h % TENANT_SLOTS];
}

static int tenant_verdict(store_rc_t rc, tenant_state_t state, char *why, size_t whylen) {
  if (rc == STORE_NOT_FOUND) {
    buf_set_msg(why, whylen, "the tenant has no Universal Print subscription on this server");
    return AUTH_TENANT_INACTIVE;
  }
  if (state != TENANT_ACTIVE) {
    buf_set_msg(why, whylen, "the tenant's Universal Print subscription is not active");
    return AUTH_TENANT_INACTIVE;
  }
  return AUTH_TENANT_ACTIVE;
}

int auth_tenant_check(auth_t *a, struct store *st, const caller_t *c, char *why, size_t whylen) {
  if (!c || !c->tenant || strlen(c->tenant) > CALLER_MAX_ID) {
    buf_set_msg(why, whylen, "the caller has no tenant");
    return AUTH_TENANT_INACTIVE;
  }
  int64_t now = time_mono_us();
  if (a->tenant_ttl_us) {
    pthread_mutex_lock(&a->tmu);
    tenant_slot_t *s = tenant_slot(a, c->tenant);
    if (!strcmp(s->id, c->tenant) && now - s->checked_us < a->tenant_ttl_us) {
      store_rc_t rc = s->rc;
      tenant_state_t state = s->state;
      pthread_mutex_unlock(&a->tmu);
      return tenant_verdict(rc, state, why, whylen);
    }
    pthread_mutex_unlock(&a->tmu);
  }

  store_tenant_t t = {0};
  store_rc_t rc = store_tenant_get(st, c->tenant, &t);
  if (rc == STORE_NOT_FOUND && a->dev) { /* development mode: created on first use */
    rc = store_tenant_ensure(st, c->tenant);
    if (rc == STORE_OK) {
      log_info("development mode: created tenant %s", c->tenant);
      rc = store_tenant_get(st, c->tenant, &t);
    }
  }
  if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
    store_tenant_clear(&t);
    buf_set_msg(why, whylen, "the tenant directory is unavailable");
    return AUTH_TENANT_ERROR;
  }
  tenant_state_t state = rc == STORE_OK ? t.state : TENANT_SUSPENDED;
  store_tenant_clear(&t);
  if (a->tenant_ttl_us) {
    pthread_mutex_lock(&a->tmu);
    tenant_slot_t *s = tenant_slot(a, c->tenant);
    snprintf(s->id, sizeof s->id, "%s", c->tenant);
    s->rc = rc;
    s->state = state;
    s->checked_us = now;
    pthread_mutex_unlock(&a->tmu);
  }
  return tenant_verdict(rc, state, why, whylen);
}

void auth_tenant_forget(auth_t *a, const char *tid) {
  pthread_mutex_lock(&a->tmu);
  if (!tid) memset(a->tenants, 0, sizeof a->tenants);
  else if (!strcmp(tenant_slot(a, tid)->id, tid)) tenant_slot(a, tid)->id[0] = '\0';
  pthread_mutex_unlock(&a->tmu);
}

void auth_get_stats(auth_t *a, auth_stats_t *out) {
  jwt_cache_stats(a->cache, &out->cache_hits, &out->cache_misses);
  out->verified = atomic_load(&a->verified);
  out->refused = atomic_load(&a->refused);
}

void auth_free(auth_t *a) {
  if (!a) return;
  jwt_verifier_free(a->v);
  jwt_cache_free(a->cache);
  pthread_mutex_destroy(&a->tmu);
  free(a);
}
