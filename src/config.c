/* SPDX-License-Identifier: Apache-2.0 */
/* Option table and the four configuration sources of `spoold serve`. */
#include "config.h"
#include "util/buf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef enum { OPT_STR, OPT_UINT, OPT_SIZE, OPT_FLAG, OPT_ISSUER, OPT_DURATION } opt_kind_t;

typedef struct option_def {
  const char *name;   /* long name without "--" */
  opt_kind_t  kind;
  size_t      offset; /* into config_t */
  const char *arg;    /* placeholder for --help */
  const char *help;
} option_def_t;

#define F(m) offsetof(config_t, m)
static const option_def_t OPTIONS[] = {
    {"listen", OPT_STR, F(listen), "ADDR:PORT", "address to listen on (default 127.0.0.1:8080)"},
    {"public-url", OPT_STR, F(public_url), "URL",
     "base of the absolute URLs spoold emits (default: from --listen)"},
    {"data", OPT_STR, F(data_dir), "DIR", "data directory (default ./var)"},
    {"store", OPT_STR, F(store_url), "URL", "store, sqlite:PATH (default sqlite:DIR/spoold.db)"},
    {"dev", OPT_FLAG, F(dev), NULL,
     "development identity: built-in token issuer, tenants created on first use"},
    {"simulate-printers", OPT_FLAG, F(simulate_printers), NULL,
     "attach a simulated output device to every printer (needs --dev; see docs/spoold-dev.md)"},
    {"simulate-page-ms", OPT_UINT, F(simulate_page_ms), "MS",
     "time a simulated printer takes per page (default 200)"},
    {"simulate-output", OPT_STR, F(simulate_output), "DIR",
     "simulated printers write each printed document into DIR (default: not written)"},
    {"tls-cert", OPT_STR, F(tls_cert), "FILE", "serve HTTPS with this PEM certificate"},
    {"tls-key", OPT_STR, F(tls_key), "FILE", "PEM private key for --tls-cert"},
    {"threads", OPT_UINT, F(threads), "N", "HTTP worker threads, at least 2 (default 8)"},
    {"max-connections", OPT_UINT, F(max_connections), "N",
     "open connections at most (default 1024)"},
    {"max-connections-per-ip", OPT_UINT, F(max_connections_per_ip), "N",
     "open connections per client address at most (default 256)"},
    {"idle-timeout", OPT_UINT, F(idle_timeout), "SECONDS",
     "close connections idle this long (default 60)"},
    {"header-timeout", OPT_UINT, F(header_timeout), "SECONDS",
     "a connection must send a complete request head within this time of opening or of its "
     "previous answer, or it is closed (default 60)"},
    {"body-timeout", OPT_UINT, F(body_timeout), "SECONDS",
     "a request body slower than --min-body-rate over this long is cut off (default 60)"},
    {"min-body-rate", OPT_UINT, F(min_body_rate), "BYTES",
     "bytes per second a request body must average over each --body-timeout (default 512)"},
    {"max-body", OPT_SIZE, F(max_body), "BYTES",
     "largest JSON request body; larger ones get 413 (default 1MiB)"},
    {"log-format", OPT_STR, F(log_format), "json|text", "log format (default text)"},
    {"log-level", OPT_STR, F(log_level), "LEVEL",
     "least level logged: debug, info (with one line per request), warn or error (default info)"},
    {"max-jobs-per-printer-window", OPT_UINT, F(max_jobs_per_printer_window), "N",
     "jobs created per printer within --job-limit-window; more get 429 (default 100, 0 = no limit)"},
    {"max-jobs-per-user-window", OPT_UINT, F(max_jobs_per_user_window), "N",
     "jobs created per user within --job-limit-window; more get 429 (default 200, 0 = no limit)"},
    {"job-limit-window", OPT_UINT, F(job_limit_window), "SECONDS",
     "sliding window of the job creation limits, counted in the store (default 600)"},
    {"max-document-size", OPT_SIZE, F(max_document_size), "BYTES",
     "largest document createUploadSession accepts and the IPP share endpoint receives "
     "(default 1GiB)"},
    {"upload-session-ttl", OPT_UINT, F(upload_session_ttl), "SECONDS",
     "an upload session expires this long after its last fragment (default 3600)"},
    {"upload-volume-limit", OPT_SIZE, F(upload_volume_limit), "BYTES",
     "document bytes one user may upload within --upload-volume-window; more get 429 "
     "(default 1GiB, 0 = no limit)"},
    {"upload-volume-window", OPT_UINT, F(upload_volume_window), "SECONDS",
     "sliding window of --upload-volume-limit, counted in the store (default 900)"},
    {"task-timeout", OPT_DURATION, F(task_timeout), "DURATION",
     "a job held by a print task that is not finished within this time is aborted "
     "(default 72h; s, m, h or d)"},
    {"job-retention", OPT_DURATION, F(job_retention), "DURATION",
     "completed, canceled and aborted jobs leave /jobs (kept in the archive) after this "
     "time (default 7d)"},
    {"sweep-interval", OPT_DURATION, F(sweep_interval), "DURATION",
     "how often held-job timeouts and job retention are applied (default 60s)"},
    {"issuer", OPT_ISSUER, 0, "ISS", "trust tokens from this issuer (repeatable; give --jwks "
                                     "and --audience after each)"},
    {"jwks", OPT_ISSUER, 1, "FILE", "JWKS file of the preceding --issuer (re-read on change)"},
    {"audience", OPT_ISSUER, 2, "AUD",
     "accepted audiences (comma-separated) of the preceding --issuer (default: Graph's, "
     "https://graph.microsoft.com and 00000003-0000-0000-c000-000000000000)"},
    {"config", OPT_STR, F(config_file), "FILE", "read options from FILE (name = value lines)"},
    {"webhook-allow", OPT_STR, F(webhook_allow), "HOST[,HOST]",
     "accept notification and lifecycle URLs only on these hosts, and let them reach private and loopback addresses (default: any host, public addresses only)"},
    {"webhook-validation-timeout", OPT_UINT, F(webhook_validation_timeout), "SECONDS",
     "time a webhook has to answer the validation handshake (default 10)"},
    {"webhook-retry-base-ms", OPT_UINT, F(webhook_retry_base_ms), "MS",
     "first retry delay of a failed notification; doubles per attempt (default 1000)"},
    {"webhook-retry-max-age", OPT_UINT, F(webhook_retry_max_age), "SECONDS",
     "retry a notification this long after it was queued, then drop it (default 14400)"},
    {"console-issuer", OPT_STR, F(console_issuer), "URL",
     "OpenID Connect issuer the console signs in with (its discovery document is read by the "
     "browser; needs --console-client-id)"},
    {"console-client-id", OPT_STR, F(console_client_id), "ID",
     "the console's client id registered at --console-issuer (public client, PKCE)"},
    {"console-scopes", OPT_STR, F(console_scopes), "\"S1 S2\"",
     "scopes the console asks for (default \"openid profile offline_access "
     "https://graph.microsoft.com/.default\")"},
    {"ipp-basic-over-http", OPT_FLAG, F(ipp_basic_over_http), NULL,
     "accept print passwords (HTTP Basic) on /ipp/share over plain HTTP from other hosts than "
     "loopback (default: only over TLS or from loopback)"},
    {"allow-empty-store", OPT_FLAG, F(allow_empty_store), NULL,
     "start even when the store holds no tenant, printer or job although document bytes are "
     "stored (default: refuse, as the database may have been lost or replaced)"},
    {"sqlite-synchronous", OPT_STR, F(sqlite_synchronous), "full|normal",
     "SQLite store: full (default) syncs the write-ahead log at every commit, so a 2xx "
     "survives a power loss; normal syncs it only at checkpoints, faster, and a 2xx survives "
     "a crash of spoold but not a power loss or system crash"},
    {"inline-commit", OPT_STR, F(inline_commit), "auto|on|off",
     "SQLite store: a lone write (no other in flight) commits on its request's thread instead "
     "of the writer thread's; auto (default) only while the kernel's CPU pressure (PSI) says "
     "the CPUs are not contended, on whenever no other write is in flight, off never"},
    {"dnssd", OPT_FLAG, F(dnssd), NULL,
     "advertise every printer share over DNS-SD through the local avahi-daemon (_ipp._tcp, or "
     "_ipps._tcp with --tls-cert, subtypes _print and _universal)"},
};
#undef F
#define NOPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

static const option_def_t *find_option(const char *name) {
  for (size_t i = 0; i < NOPTIONS; i++)
    if (strcmp(OPTIONS[i].name, name) == 0) return &OPTIONS[i];
  return NULL;
}

bool config_parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!s || !isdigit((unsigned char)*s)) return false;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno) return false;
  uint64_t mul = 1;
  if (*end) {
    if (!strcasecmp(end, "k") || !strcasecmp(end, "kib") || !strcasecmp(end, "kb")) mul = 1ull << 10;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib") || !strcasecmp(end, "mb")) mul = 1ull << 20;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gib") || !strcasecmp(end, "gb")) mul = 1ull << 30;
    else return false;
  }
  if (v > UINT64_MAX / mul) return false;
  *out = v * mul;
  return true;
}

bool config_parse_duration(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  if (!s || !isdigit((unsigned char)*s)) return false;
  long long v = strtoll(s, &end, 10);
  if (errno || v < 0) return false;
  int64_t mul = 1;
  if (*end) {
    if (!strcmp(end, "s")) mul = 1;
    else if (!strcmp(end, "m")) mul = 60;
    else if (!strcmp(end, "h")) mul = 3600;
    else if (!strcmp(end, "d")) mul = 86400;
    else return false;
  }
  if (v > CONFIG_MAX_DURATION / mul) return false; /* the sweeper counts in microseconds */
  *out = (int64_t)v * mul;
  return true;
}

static int fail(char **err, const char *fmt, const char *a, const char *b) {
  buf_t e = BUF_INIT;
  buf_printf(&e, fmt, a, b ? b : "");
  *err = buf_detach(&e);
  return -1;
}

/* Applies one option value from any source (where: "command line", "FILE:LINE", "SPOOLD_X"). */
static int apply(config_t *cfg, const option_def_t *o, const char *value, const char *where,
                 char **err) {
  char *base = (char *)cfg;
  switch (o->kind) {
    case OPT_STR: {
      char **slot = (char **)(base + o->offset);
      if (!value || !*value) return fail(err, "--%s needs a value (%s)", o->name, where);
      free(*slot);
      *slot = xstrdup(value);
      return 0;
    }
    case OPT_FLAG: {
      bool *slot = (bool *)(base + o->offset);
      if (!value || !strcmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "yes"))
        *slot = true;
      else if (!strcmp(value, "0") || !strcasecmp(value, "false") || !strcasecmp(value, "no"))
        *slot = false;
      else
        return fail(err, "--%s takes true or false (%s)", o->name, where);
      return 0;
    }
    case OPT_UINT: {
      char *end;
      errno = 0;
      unsigned long v = value ? strtoul(value, &end, 10) : 0;
      if (!value || !*value || *end || errno || v > 1000000 || value[0] == '-')
        return fail(err, "--%s takes a whole number (%s)", o->name, where);
      *(unsigned *)(base + o->offset) = (unsigned)v;
      return 0;
    }
    case OPT_SIZE:
      if (!config_parse_size(value, (uint64_t *)(base + o->offset)))
        return fail(err, "--%s takes a size such as 4096, 64KiB or 1MiB (%s)", o->name, where);
      return 0;
    case OPT_DURATION:
      if (!config_parse_duration(value, (int64_t *)(base + o->offset)))
        return fail(err, "--%s takes a duration such as 30s, 15m, 72h or 7d, at most 36500d (%s)",
                  o->name, where);
      return 0;
    case OPT_ISSUER: {
      if (!value || !*value) return fail(err, "--%s needs a value (%s)", o->name, where);
      if (o->offset == 0) {
        if (cfg->nissuers == CONFIG_MAX_ISSUERS)
          return fail(err, "too many --issuer options (%s)%s", where, NULL);
        cfg->issuers[cfg->nissuers++].iss = xstrdup(value);
        return 0;
      }
      if (cfg->nissuers == 0)
        return fail(err, "--%s must follow an --issuer (%s)", o->name, where);
      config_issuer_t *is = &cfg->issuers[cfg->nissuers - 1];
      char **slot = o->offset == 1 ? &is->jwks : &is->audience;
      free(*slot);
      *slot = xstrdup(value);
      return 0;
    }
  }
  return 0;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

static int load_file(config_t *cfg, const char *path, char **err) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(err, "cannot read config file %s: %s", path, strerror(errno));
  char line[4096];
  int lineno = 0, rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#') continue;
    char *eq = strchr(s, '=');
    char where[600];
    snprintf(where, sizeof where, "%s:%d", path, lineno);
    char *name = s, *value = NULL;
    if (eq) {
      *eq = '\0';
      name = trim(s);
      value = trim(eq + 1);
    }
    const option_def_t *o = find_option(name);
    if (!o || !strcmp(name, "config")) rc = fail(err, "unknown option '%s' at %s", name, where);
    else rc = apply(cfg, o, value, where, err);
  }
  fclose(f);
  return rc;
}

static void set_default(char **slot, const char *v) {
  if (!*slot) *slot = xstrdup(v);
}

int config_load(config_t *cfg, int argc, char **argv, char **err) {
  memset(cfg, 0, sizeof *cfg);
  cfg->threads = 8;
  cfg->max_connections = 1024;
  cfg->max_connections_per_ip = 256;
  cfg->idle_timeout = 60;
  cfg->header_timeout = 60;
  cfg->body_timeout = 60;
  cfg->min_body_rate = 512;
  cfg->max_body = 1u << 20;
  cfg->task_timeout = 72 * 3600;
  cfg->job_retention = 7 * 86400;
  cfg->sweep_interval = 60;
  cfg->max_document_size = 1ull << 30;
  cfg->upload_session_ttl = 3600;
  cfg->upload_volume_limit = 1ull << 30;
  cfg->upload_volume_window = 900;
  cfg->webhook_validation_timeout = 10;
  cfg->webhook_retry_base_ms = 1000;
  cfg->webhook_retry_max_age = 4 * 3600;
  cfg->max_jobs_per_printer_window = 100;
  cfg->max_jobs_per_user_window = 200;
  cfg->job_limit_window = 600;
  cfg->simulate_page_ms = 200;

  /* The config file comes first among the sources; find --config on the command line. */
  const char *file = getenv("SPOOLD_CONFIG");
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--config") && i + 1 < argc) file = argv[i + 1];
    else if (!strncmp(argv[i], "--config=", 9)) file = argv[i] + 9;
  }
  if (file && load_file(cfg, file, err) != 0) return -1;

  for (size_t i = 0; i < NOPTIONS; i++) {
    const option_def_t *o = &OPTIONS[i];
    if (o->kind == OPT_ISSUER || !strcmp(o->name, "config")) continue;
    char env[64] = "SPOOLD_";
    size_t k = strlen(env);
    for (const char *p = o->name; *p && k + 1 < sizeof env; p++)
      env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    env[k] = '\0';
    const char *v = getenv(env);
    if (v && apply(cfg, o, v, env, err) != 0) return -1;
  }
  /* SPOOLD_ISSUER, SPOOLD_JWKS, SPOOLD_AUDIENCE: one more trusted issuer, after the file's */
  const char *env_iss = getenv("SPOOLD_ISSUER"), *env_jwks = getenv("SPOOLD_JWKS"),
             *env_aud = getenv("SPOOLD_AUDIENCE");
  if (!env_iss && (env_jwks || env_aud))
    return fail(err, "SPOOLD_JWKS and SPOOLD_AUDIENCE describe the issuer of SPOOLD_ISSUER, "
                "which is not set%s%s", "", NULL);
  if (env_iss && (apply(cfg, find_option("issuer"), env_iss, "SPOOLD_ISSUER", err) != 0 ||
                  (env_jwks && apply(cfg, find_option("jwks"), env_jwks, "SPOOLD_JWKS", err) != 0) ||
                  (env_aud &&
                   apply(cfg, find_option("audience"), env_aud, "SPOOLD_AUDIENCE", err) != 0)))
    return -1;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      config_usage(stdout);
      return 1;
    }
    if (strncmp(a, "--", 2) != 0) return fail(err, "unexpected argument '%s'%s", a, NULL);
    char name[64];
    const char *value = NULL;
    const char *eq = strchr(a + 2, '=');
    size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    if (nlen >= sizeof name) return fail(err, "unknown option '%s'%s", a, NULL);
    memcpy(name, a + 2, nlen);
    name[nlen] = '\0';
    const option_def_t *o = find_option(name);
    if (!o) return fail(err, "unknown option '--%s' (see spoold serve --help)%s", name, NULL);
    if (eq) value = eq + 1;
    else if (o->kind != OPT_FLAG) {
      if (i + 1 >= argc) return fail(err, "--%s needs a value%s", name, NULL);
      value = argv[++i];
    }
    if (!strcmp(name, "config")) continue; /* already read */
    if (apply(cfg, o, value, "command line", err) != 0) return -1;
  }

  set_default(&cfg->listen, "127.0.0.1:8080");
  set_default(&cfg->data_dir, "./var");
  set_default(&cfg->log_format, "text");
  set_default(&cfg->log_level, "info");
  if (!cfg->store_url) {
    buf_t b = BUF_INIT;
    buf_printf(&b, "sqlite:%s/spoold.db", cfg->data_dir);
    cfg->store_url = buf_detach(&b);
  }
  if (strcmp(cfg->log_format, "json") && strcmp(cfg->log_format, "text"))
    return fail(err, "--log-format must be json or text, not '%s'%s", cfg->log_format, NULL);
  set_default(&cfg->sqlite_synchronous, "full");
  if (strcmp(cfg->sqlite_synchronous, "full") && strcmp(cfg->sqlite_synchronous, "normal"))
    return fail(err, "--sqlite-synchronous must be full or normal, not '%s'%s",
                cfg->sqlite_synchronous, NULL);
  if (!strcmp(cfg->sqlite_synchronous, "normal") && strncasecmp(cfg->store_url, "sqlite:", 7))
    return fail(err, "--sqlite-synchronous normal applies to a SQLite store (--store sqlite:PATH) "
                "only; PostgreSQL's durability is set on its server%s%s", "", NULL);
  set_default(&cfg->inline_commit, "auto");
  if (strcmp(cfg->inline_commit, "auto") && strcmp(cfg->inline_commit, "on") &&
      strcmp(cfg->inline_commit, "off"))
    return fail(err, "--inline-commit must be auto, on or off, not '%s'%s", cfg->inline_commit,
                NULL);
  if (!strcmp(cfg->inline_commit, "on") && strncasecmp(cfg->store_url, "sqlite:", 7))
    return fail(err, "--inline-commit on applies to a SQLite store (--store sqlite:PATH) only; "
                "PostgreSQL has no writer thread%s%s", "", NULL);
  if (cfg->simulate_page_ms > 600000) /* the simulation's pageMs range (docs/spoold-dev.md) */
    return fail(err, "--simulate-page-ms must be from 0 to 600000%s%s", "", NULL);
  if (cfg->simulate_printers && !cfg->dev)
    return fail(err, "--simulate-printers needs --dev: simulated printers exist only in "
                "development mode%s%s", "", NULL);
  if (strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
      strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error"))
    return fail(err, "--log-level must be debug, info, warn or error, not '%s'%s", cfg->log_level,
                NULL);
  if (cfg->threads < 2) return fail(err, "--threads must be at least 2%s%s", "", NULL);
  if (!cfg->tls_cert != !cfg->tls_key)
    return fail(err, "--tls-cert and --tls-key go together%s%s", "", NULL);
  if (cfg->max_connections == 0 || cfg->max_connections_per_ip == 0)
    return fail(err, "connection limits must be at least 1%s%s", "", NULL);
  if (cfg->header_timeout == 0 || cfg->body_timeout == 0 || cfg->min_body_rate == 0)
    return fail(err, "--header-timeout, --body-timeout and --min-body-rate must be at least "
                "1%s%s", "", NULL);
  if (cfg->webhook_validation_timeout == 0 || cfg->webhook_retry_base_ms == 0 ||
      cfg->webhook_retry_max_age == 0)
    return fail(err, "webhook timeouts and delays must be at least 1%s%s", "", NULL);
  if (cfg->job_limit_window == 0)
    return fail(err, "--job-limit-window must be at least 1 second%s%s", "", NULL);
  if (cfg->max_document_size == 0 || cfg->max_document_size > (uint64_t)INT64_MAX)
    return fail(err, "--max-document-size must be from 1 byte to 2^63-1 bytes%s%s", "", NULL);
  if (cfg->upload_session_ttl == 0 || cfg->upload_volume_window == 0)
    return fail(err, "--upload-session-ttl and --upload-volume-window must be at least 1 "
                "second%s%s", "", NULL);
  if (cfg->task_timeout < 1 || cfg->job_retention < 1 || cfg->sweep_interval < 1)
    return fail(err, "--task-timeout, --job-retention and --sweep-interval must be at least "
                "1 second%s%s", "", NULL);
  if (!cfg->console_issuer != !cfg->console_client_id)
    return fail(err, "--console-issuer and --console-client-id go together%s%s", "", NULL);
  if (cfg->console_issuer && strncmp(cfg->console_issuer, "https://", 8) &&
      strncmp(cfg->console_issuer, "http://127.", 11) &&
      strncmp(cfg->console_issuer, "http://localhost", 16))
    return fail(err, "--console-issuer must be an https:// URL (http:// only on loopback), "
                "not '%s'%s", cfg->console_issuer, NULL);
  set_default(&cfg->console_scopes,
              "openid profile offline_access https://graph.microsoft.com/.default");
  for (unsigned i = 0; i < cfg->nissuers; i++)
    if (!cfg->issuers[i].jwks)
      return fail(err, "--issuer %s needs --jwks FILE after it", cfg->issuers[i].iss, NULL);
  return 0;
}

void config_free(config_t *cfg) {
  for (size_t i = 0; i < NOPTIONS; i++)
    if (OPTIONS[i].kind == OPT_STR) {
      char **slot = (char **)((char *)cfg + OPTIONS[i].offset);
      free(*slot);
    }
  for (unsigned i = 0; i < cfg->nissuers; i++) {
    free(cfg->issuers[i].iss);
    free(cfg->issuers[i].jwks);
    free(cfg->issuers[i].audience);
  }
  memset(cfg, 0, sizeof *cfg);
}

static bool str_differs(const char *a, const char *b) {
  return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static bool issuers_differ(const config_t *a, const config_t *b) {
  if (a->nissuers != b->nissuers) return true;
  for (unsigned i = 0; i < a->nissuers; i++)
    if (str_differs(a->issuers[i].iss, b->issuers[i].iss) ||
        str_differs(a->issuers[i].jwks, b->issuers[i].jwks) ||
        str_differs(a->issuers[i].audience, b->issuers[i].audience))
      return true;
  return false;
}

void config_diff(const config_t *a, const config_t *b,
                 void (*changed)(const char *name, void *arg), void *arg) {
  bool issuers_told = false;
  for (size_t i = 0; i < NOPTIONS; i++) {
    const option_def_t *o = &OPTIONS[i];
    const char *pa = (const char *)a + o->offset, *pb = (const char *)b + o->offset;
    bool diff = false;
    switch (o->kind) {
      case OPT_STR: diff = str_differs(*(char *const *)pa, *(char *const *)pb); break;
      case OPT_UINT: diff = *(const unsigned *)pa != *(const unsigned *)pb; break;
      case OPT_SIZE: diff = *(const uint64_t *)pa != *(const uint64_t *)pb; break;
      case OPT_FLAG: diff = *(const bool *)pa != *(const bool *)pb; break;
      case OPT_DURATION: diff = *(const int64_t *)pa != *(const int64_t *)pb; break;
      case OPT_ISSUER:
        if (issuers_told) continue;
        issuers_told = true;
        if (issuers_differ(a, b)) changed("issuer", arg);
        continue;
    }
    if (diff) changed(o->name, arg);
  }
}

void config_dup(config_t *dst, const config_t *src) {
  *dst = *src;
  for (size_t i = 0; i < NOPTIONS; i++)
    if (OPTIONS[i].kind == OPT_STR) {
      char **slot = (char **)((char *)dst + OPTIONS[i].offset);
      if (*slot) *slot = xstrdup(*slot);
    }
  for (unsigned i = 0; i < dst->nissuers; i++) {
    config_issuer_t *is = &dst->issuers[i];
    is->iss = is->iss ? xstrdup(is->iss) : NULL;
    is->jwks = is->jwks ? xstrdup(is->jwks) : NULL;
    is->audience = is->audience ? xstrdup(is->audience) : NULL;
  }
}

void config_usage(FILE *out) {
  fputs("Usage: spoold serve [OPTIONS]\n\n"
        "Serves the Microsoft Graph Universal Print API (/v1.0/print, /beta/print).\n"
        "Options may also come from --config FILE (name = value lines) and from\n"
        "SPOOLD_* environment variables (--max-body -> SPOOLD_MAX_BODY); the command line\n"
        "wins over the environment, which wins over the file.\n\nOptions:\n",
        out);
  for (size_t i = 0; i < NOPTIONS; i++) {
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", OPTIONS[i].name, OPTIONS[i].arg ? " " : "",
             OPTIONS[i].arg ? OPTIONS[i].arg : "");
    fprintf(out, "  %-30s %s\n", left, OPTIONS[i].help);
  }
  fputs("  --help                         show this help\n", out);
}
