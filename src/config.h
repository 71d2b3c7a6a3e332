/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `spoold serve` configuration: built-in defaults, then a config file
 * (--config FILE, "name = value" lines using the long option names), then
 * SPOOLD_* environment variables (SPOOLD_MAX_BODY for --max-body), then the
 * command line. Later sources override earlier ones.
 */
#ifndef SPOOLD_CONFIG_H
#define SPOOLD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_ISSUERS 8

typedef struct config_issuer {
  char *iss;       /* expected "iss" claim */
  char *jwks;      /* JWKS file with its signing keys */
  char *audience;  /* accepted "aud" claim */
} config_issuer_t;

typedef struct config {
  char    *listen;                 /* --listen ADDR:PORT */
  char    *public_url;             /* --public-url URL ("auto": from the listen address) */
  char    *data_dir;               /* --data DIR */
  char    *store_url;              /* --store sqlite:PATH (default sqlite:DIR/spoold.db) */
  bool     dev;                    /* --dev */
  bool     simulate_printers;      /* --simulate-printers (needs --dev) */
  unsigned simulate_page_ms;       /* --simulate-page-ms MS: a simulated printer's time per page */
  char    *simulate_output;        /* --simulate-output DIR: simulated printers write documents */
  char    *tls_cert, *tls_key;     /* --tls-cert FILE --tls-key FILE */
  unsigned threads;                /* --threads N */
  unsigned max_connections;        /* --max-connections N */
  unsigned max_connections_per_ip; /* --max-connections-per-ip N */
  unsigned idle_timeout;           /* --idle-timeout SECONDS */
  unsigned header_timeout;         /* --header-timeout SECONDS: request head deadline (60) */
  unsigned body_timeout;           /* --body-timeout SECONDS: body-rate window (60) */
  unsigned min_body_rate;          /* --min-body-rate BYTES per second over a window (512) */
  uint64_t max_body;               /* --max-body BYTES */
  char    *log_format;             /* --log-format json|text */
  char    *log_level;              /* --log-level debug|info|warn|error */
  unsigned max_jobs_per_printer_window; /* --max-jobs-per-printer-window N (0 = no limit) */
  unsigned max_jobs_per_user_window;    /* --max-jobs-per-user-window N (0 = no limit) */
  unsigned job_limit_window;            /* --job-limit-window SECONDS */
  uint64_t max_document_size;      /* --max-document-size BYTES (createUploadSession size) */
  unsigned upload_session_ttl;     /* --upload-session-ttl SECONDS (after the last fragment) */
  uint64_t upload_volume_limit;    /* --upload-volume-limit BYTES per user per window (0 = none) */
  unsigned upload_volume_window;   /* --upload-volume-window SECONDS */
  int64_t  task_timeout;           /* --task-timeout DURATION: held jobs are aborted after (s) */
  int64_t  job_retention;          /* --job-retention DURATION: terminal jobs are archived after */
  int64_t  sweep_interval;         /* --sweep-interval DURATION: how often both are applied */
  config_issuer_t issuers[CONFIG_MAX_ISSUERS]; /* --issuer ISS --jwks FILE --audience AUD */
  unsigned nissuers;
  char    *config_file;            /* --config FILE (informational) */
  char    *webhook_allow;          /* --webhook-allow HOST[,HOST]: notification hosts allowed */
  unsigned webhook_validation_timeout; /* --webhook-validation-timeout SECONDS (default 10) */
  unsigned webhook_retry_base_ms;  /* --webhook-retry-base-ms MS: first retry delay (1000) */
  unsigned webhook_retry_max_age;  /* --webhook-retry-max-age SECONDS: retry period (14400) */
  char    *console_issuer;         /* --console-issuer URL: OpenID Connect issuer of the console */
  char    *console_client_id;      /* --console-client-id ID */
  char    *console_scopes;         /* --console-scopes "S1 S2" */
  bool     dnssd;                  /* --dnssd: advertise the shares through Avahi */
  bool     ipp_basic_over_http;    /* --ipp-basic-over-http: accept print passwords (HTTP Basic)
                                      on /ipp/share over plain HTTP from other hosts */
  bool     allow_empty_store;      /* --allow-empty-store: start on an empty store although
                                      document bytes are present */
  char    *sqlite_synchronous;     /* --sqlite-synchronous full|normal (default full) */
  char    *inline_commit;          /* --inline-commit auto|on|off (default auto) */
} config_t;

/* Fills cfg from defaults, file, environment and argv (argv[0] is the sub-command name).
 * Returns 0, 1 when --help was printed, or -1 with a malloc'd message in *err. */
int  config_load(config_t *cfg, int argc, char **argv, char **err);
/* Frees every string cfg owns (options and issuers); the struct itself is the caller's. */
void config_free(config_t *cfg);
/* Makes dst a deep copy of src; free it with config_free. */
void config_dup(config_t *dst, const config_t *src);
/* Calls changed(name) for each option whose value differs between a and b (the issuer,
 * jwks and audience options together as "issuer"). */
void config_diff(const config_t *a, const config_t *b,
                 void (*changed)(const char *name, void *arg), void *arg);
/* Prints the options of `spoold serve`. */
void config_usage(FILE *out);
/* Parses "10MiB", "1G", "4096" into bytes; false when malformed. */
bool config_parse_size(const char *s, uint64_t *out);
#define CONFIG_MAX_DURATION (36500LL * 86400) /* 100 years, the longest duration option */

/* Parses "72h", "7d", "30m", "10s", "3600" into seconds; false when malformed or longer than
 * CONFIG_MAX_DURATION. */
bool config_parse_duration(const char *s, int64_t *out);

#endif
