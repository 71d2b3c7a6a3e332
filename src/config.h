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
  char    *tls_cert, *tls_key;     /* --tls-cert FILE --tls-key FILE */
  unsigned threads;                /* --threads N */
  unsigned max_connections;        /* --max-connections N */
  unsigned max_connections_per_ip; /* --max-connections-per-ip N */
  unsigned idle_timeout;           /* --idle-timeout SECONDS */
  uint64_t max_body;               /* --max-body BYTES */
  char    *log_format;             /* --log-format json|text */
  config_issuer_t issuers[CONFIG_MAX_ISSUERS]; /* --issuer ISS --jwks FILE --audience AUD */
  unsigned nissuers;
  char    *config_file;            /* --config FILE (informational) */
} config_t;

/* Fills cfg from defaults, file, environment and argv (argv[0] is the sub-command name).
 * Returns 0, 1 when --help was printed, or -1 with a malloc'd message in *err. */
int  config_load(config_t *cfg, int argc, char **argv, char **err);
void config_free(config_t *cfg);
/* Prints the options of `spoold serve`. */
void config_usage(FILE *out);
/* Parses "10MiB", "1G", "4096" into bytes; false when malformed. */
bool config_parse_size(const char *s, uint64_t *out);
/* Parses "72h", "7d", "30m", "10s", "3600" into seconds; false when malformed. */
bool config_parse_duration(const char *s, int64_t *out);

#endif
