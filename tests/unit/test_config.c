/* SPDX-License-Identifier: Apache-2.0 */
/* `spoold serve` configuration: defaults, file, environment, command line, validation. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* A config file's name: the template mkstemp fills in. */
#define CONFIG_TEMPLATE "/tmp/spoold-config-XXXXXX"

/* Writes text into a new temporary file and its name into path (the test unlinks it). */
static void write_config(const char *text, char path[sizeof CONFIG_TEMPLATE]) {
  memcpy(path, CONFIG_TEMPLATE, sizeof CONFIG_TEMPLATE);
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

static int load(config_t *cfg, char **err, int argc, char **argv) {
  unsetenv("SPOOLD_MAX_BODY");
  unsetenv("SPOOLD_THREADS");
  unsetenv("SPOOLD_CONFIG");
  return config_load(cfg, argc, argv, err);
}

Test(config, defaults) {
  config_t cfg;
  char *err = NULL;
  char *argv[] = {"serve"};
  cr_assert_eq(load(&cfg, &err, 1, argv), 0);
  cr_assert_str_eq(cfg.listen, "127.0.0.1:8080");
  cr_assert_str_eq(cfg.store_url, "sqlite:./var/spoold.db");
  cr_assert_eq(cfg.max_body, 1u << 20);
  cr_assert_str_eq(cfg.sqlite_synchronous, "full");
  cr_assert_str_eq(cfg.inline_commit, "auto");
  /* every other default docs/configuration.md gives */
  cr_assert_null(cfg.public_url);
  cr_assert_str_eq(cfg.data_dir, "./var");
  cr_assert(!cfg.dev && !cfg.simulate_printers && !cfg.dnssd && !cfg.ipp_basic_over_http &&
            !cfg.allow_empty_store);
  cr_assert_eq(cfg.simulate_page_ms, 200);
  cr_assert_null(cfg.simulate_output);
  cr_assert_null(cfg.tls_cert);
  cr_assert_null(cfg.tls_key);
  cr_assert_eq(cfg.threads, 8);
  cr_assert_eq(cfg.max_connections, 1024);
  cr_assert_eq(cfg.max_connections_per_ip, 256);
  cr_assert_eq(cfg.idle_timeout, 60);
  cr_assert_eq(cfg.header_timeout, 60);
  cr_assert_eq(cfg.body_timeout, 60);
  cr_assert_eq(cfg.min_body_rate, 512);
  cr_assert_str_eq(cfg.log_format, "text");
  cr_assert_str_eq(cfg.log_level, "info");
  cr_assert_eq(cfg.max_document_size, 1ull << 30);
  cr_assert_eq(cfg.upload_session_ttl, 3600);
  cr_assert_eq(cfg.upload_volume_limit, 1ull << 30);
  cr_assert_eq(cfg.upload_volume_window, 900);
  cr_assert_null(cfg.webhook_allow);
  cr_assert_eq(cfg.webhook_validation_timeout, 10);
  cr_assert_eq(cfg.webhook_retry_base_ms, 1000);
  cr_assert_eq(cfg.webhook_retry_max_age, 14400);
  cr_assert_null(cfg.console_issuer);
  cr_assert_null(cfg.console_client_id);
  cr_assert_str_eq(cfg.console_scopes,
                   "openid profile offline_access https://graph.microsoft.com/.default");
  cr_assert_eq(cfg.max_jobs_per_printer_window, 100);
  cr_assert_eq(cfg.max_jobs_per_user_window, 200);
  cr_assert_eq(cfg.job_limit_window, 600);
  cr_assert_eq(cfg.task_timeout, 72 * 3600);
  cr_assert_eq(cfg.job_retention, 7 * 86400);
  cr_assert_eq(cfg.sweep_interval, 60);
  cr_assert_eq(cfg.nissuers, 0);
  config_free(&cfg);
}

/* The issuer options are repeatable, so SPOOLD_ISSUER/JWKS/AUDIENCE add one issuer after the
 * file's; they were once skipped silently. */
Test(config, issuer_from_the_environment) {
  char path[sizeof CONFIG_TEMPLATE];
  write_config("issuer = F\njwks = f.json\n", path);
  config_t cfg;
  char *err = NULL;
  char *argv[] = {"serve", "--config", path, "--issuer", "A", "--jwks", "a.json"};
  setenv("SPOOLD_ISSUER", "E", 1);
  setenv("SPOOLD_JWKS", "e.json", 1);
  setenv("SPOOLD_AUDIENCE", "api://e", 1);
  cr_assert_eq(config_load(&cfg, 7, argv, &err), 0, "%s", err ? err : "");
  cr_assert_eq(cfg.nissuers, 3);
  cr_assert_str_eq(cfg.issuers[0].iss, "F");
  cr_assert_str_eq(cfg.issuers[1].iss, "E");
  cr_assert_str_eq(cfg.issuers[1].jwks, "e.json");
  cr_assert_str_eq(cfg.issuers[1].audience, "api://e");
  cr_assert_str_eq(cfg.issuers[2].iss, "A");
  cr_assert_null(cfg.issuers[2].audience);
  config_free(&cfg);
  unsetenv("SPOOLD_ISSUER");
  err = NULL;
  cr_assert_eq(config_load(&cfg, 1, argv, &err), -1, "SPOOLD_JWKS without SPOOLD_ISSUER");
  cr_assert(strstr(err, "SPOOLD_ISSUER"), "%s", err);
  free(err);
  config_free(&cfg);
  unsetenv("SPOOLD_JWKS");
  unsetenv("SPOOLD_AUDIENCE");
  unlink(path);
}

Test(config, file_then_environment_then_command_line) {
  char path[sizeof CONFIG_TEMPLATE];
  write_config("# comment\nlisten = 127.0.0.1:9000\nmax-body = 64KiB\nthreads = 3\ndev\n", path);
  config_t cfg;
  char *err = NULL;
  char *argv[] = {"serve", "--config", path, "--threads", "5", "--data=/tmp/x"};
  unsetenv("SPOOLD_MAX_BODY");
  setenv("SPOOLD_THREADS", "4", 1);
  setenv("SPOOLD_MAX_BODY", "2MiB", 1);
  cr_assert_eq(config_load(&cfg, 6, argv, &err), 0, "%s", err ? err : "");
  cr_assert_str_eq(cfg.listen, "127.0.0.1:9000");       /* file */
  cr_assert_eq(cfg.max_body, 2u << 20);                  /* env over file */
  cr_assert_eq(cfg.threads, 5);                          /* argv over env */
  cr_assert(cfg.dev);
  cr_assert_str_eq(cfg.store_url, "sqlite:/tmp/x/spoold.db");
  config_free(&cfg);
  unsetenv("SPOOLD_THREADS");
  unsetenv("SPOOLD_MAX_BODY");
  unlink(path);
}

/* A command line config_load refuses, a part its message must have and one it must not (or
 * NULL). */
typedef struct {
  char *argv[6]; /* NULL-terminated */
  const char *says;
  const char *hides;
} refused_t;

static const refused_t REFUSED[] = {
    {{"serve", "--bogus"}, "--bogus", NULL},
    {{"serve", "--threads", "1"}, "at least 2", NULL},
    {{"serve", "--max-body", "lots"}, "--max-body", NULL},
    {{"serve", "--issuer", "https://x", "--audience", "y"}, "--jwks", NULL},
    {{"serve", "--tls-cert", "a.pem"}, "--tls-key", NULL},
    {{"serve", "--simulate-printers"}, "--simulate-printers needs --dev", NULL},
    {{"serve", "--sqlite-synchronous", "off"},
     "--sqlite-synchronous must be full or normal",
     NULL},
    /* the URL (it may hold a password) is not repeated */
    {{"serve", "--sqlite-synchronous", "normal", "--store", "postgres://u@127.0.0.1/db"},
     "SQLite store", "postgres://"},
    {{"serve", "--inline-commit", "always"}, "--inline-commit must be auto, on or off", NULL},
    {{"serve", "--inline-commit", "on", "--store", "postgres://u@127.0.0.1/db"},
     "--inline-commit on applies to a SQLite store", "postgres://"},
};

Test(config, errors_say_what_is_wrong) {
  for (size_t i = 0; i < sizeof REFUSED / sizeof REFUSED[0]; i++) {
    const refused_t *r = &REFUSED[i];
    char *argv[6];
    int argc = 0;
    for (; r->argv[argc]; argc++) argv[argc] = r->argv[argc];
    argv[argc] = NULL;
    config_t cfg;
    char *err = NULL;
    cr_assert_eq(load(&cfg, &err, argc, argv), -1, "case %zu (%s): accepted", i, r->argv[1]);
    cr_assert(strstr(err, r->says), "case %zu (%s): %s", i, r->argv[1], err);
    if (r->hides) cr_assert_null(strstr(err, r->hides), "case %zu (%s): %s", i, r->argv[1], err);
    free(err);
    config_free(&cfg);
  }
  /* the accepted counterparts of three refusals above */
  config_t cfg;
  char *err = NULL;
  char *normal[] = {"serve", "--sqlite-synchronous", "normal"};
  cr_assert_eq(load(&cfg, &err, 3, normal), 0, "%s", err ? err : "");
  cr_assert_str_eq(cfg.sqlite_synchronous, "normal");
  config_free(&cfg);
  char *simulate[] = {"serve", "--simulate-printers", "--dev", "--simulate-page-ms", "10"};
  cr_assert_eq(load(&cfg, &err, 5, simulate), 0, "%s", err ? err : "");
  cr_assert(cfg.simulate_printers);
  cr_assert_eq(cfg.simulate_page_ms, 10);
  config_free(&cfg);
  char *off_pg[] = {"serve", "--inline-commit", "off", "--store", "postgres://u@127.0.0.1/db"};
  cr_assert_eq(load(&cfg, &err, 5, off_pg), 0, "%s", err ? err : "");
  cr_assert_str_eq(cfg.inline_commit, "off");
  config_free(&cfg);
}

Test(config, issuer_triples) {
  config_t cfg;
  char *err = NULL;
  char *argv[] = {"serve", "--issuer", "A", "--jwks", "a.json", "--audience", "x",
                  "--issuer", "B", "--jwks", "b.json", "--audience", "y"};
  cr_assert_eq(load(&cfg, &err, 13, argv), 0, "%s", err ? err : "");
  cr_assert_eq(cfg.nissuers, 2);
  cr_assert_str_eq(cfg.issuers[1].iss, "B");
  cr_assert_str_eq(cfg.issuers[1].jwks, "b.json");
  cr_assert_str_eq(cfg.issuers[0].audience, "x");
  config_free(&cfg);
}

Test(config, sizes_and_durations) {
  uint64_t n;
  int64_t s;
  cr_assert(config_parse_size("10MiB", &n) && n == 10u << 20);
  cr_assert(config_parse_size("1G", &n) && n == 1ull << 30);
  cr_assert(config_parse_size("4096", &n) && n == 4096);
  cr_assert_not(config_parse_size("-1", &n));
  cr_assert_not(config_parse_size("1X", &n));
  cr_assert(config_parse_duration("72h", &s) && s == 72 * 3600);
  cr_assert(config_parse_duration("7d", &s) && s == 7 * 86400);
  cr_assert(config_parse_duration("30", &s) && s == 30);
  cr_assert_not(config_parse_duration("h", &s));
  /* past 100 years: refused, not wrapped (the sweeper multiplies by 1,000,000) */
  cr_assert(config_parse_duration("36500d", &s) && s == 36500LL * 86400);
  cr_assert_not(config_parse_duration("36501d", &s));
  cr_assert_not(config_parse_duration("200000000000000d", &s));
  cr_assert_not(config_parse_duration("9223372036854775807", &s));
}

/* SPOOLD_CONFIG names the file like --config, and --config=FILE is read too. */
Test(config, config_file_from_the_environment) {
  char path[sizeof CONFIG_TEMPLATE];
  write_config("idle-timeout = 7\nipp-basic-over-http = true\n", path);
  config_t cfg;
  char *err = NULL;
  char *argv[] = {"serve"};
  setenv("SPOOLD_CONFIG", path, 1);
  cr_assert_eq(config_load(&cfg, 1, argv, &err), 0, "%s", err ? err : "");
  cr_assert_eq(cfg.idle_timeout, 7);
  cr_assert(cfg.ipp_basic_over_http);
  config_free(&cfg);
  unsetenv("SPOOLD_CONFIG");
  char arg[64];
  snprintf(arg, sizeof arg, "--config=%s", path);
  char *argv2[] = {"serve", arg};
  cr_assert_eq(config_load(&cfg, 2, argv2, &err), 0, "%s", err ? err : "");
  cr_assert_eq(cfg.idle_timeout, 7);
  config_free(&cfg);
  unlink(path);
}
