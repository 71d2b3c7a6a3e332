/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spoold: a self-hosted print service with the Microsoft Graph Universal Print API.
 *
 * Commands: serve, token, tenant, migrate, version.
 */
#include "app.h"
#include "auth/dev.h"
#include "auth/identity.h"
#include "cmd/cmd.h"
#include "config.h"
#include "console/console.h"
#include "graph/documents.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "health.h"
#include "http/metrics.h"
#include "http/server.h"
#include "ipp/ipp.h"
#include "notify/notify.h"
#include "proxy/proxy.h"
#include "store/store.h"
#include "sweeper.h"
#include "dev/dev.h"
#include "util/buf.h"
#include "util/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SPOOLD_VERSION
#define SPOOLD_VERSION "0.1.0"
#endif

static void usage(FILE *out) {
  fputs("Usage: spoold COMMAND [OPTIONS]\n\n"
        "Commands:\n"
        "  serve     run the print service (spoold serve --help for its options)\n"
        "  token     mint a development token (spoold token --help)\n"
        "  tenant    manage tenants and their subscriptions (spoold tenant --help)\n"
        "  migrate   apply pending store migrations and exit (--data DIR or --store URL)\n"
        "  proxy     connect existing printers to spoold over IPP INFRA (spoold proxy --help)\n"
        "  version   print the version\n"
        "  help      show this help\n\n",
        out);
  config_usage(out);
}

/* mkdir -p for the data directory. */
static int make_dirs(const char *path) {
  char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(p, 0750) != 0 && errno != EEXIST) {
      free(p);
      return -1;
    }
    *s = '/';
  }
  int rc = (mkdir(p, 0750) != 0 && errno != EEXIST) ? -1 : 0;
  free(p);
  return rc;
}

static void store_metrics(buf_t *out, void *arg) {
  store_stats_t s;
  store_get_stats(arg, &s);
  static const char *le[] = {"1", "2", "4", "8", "16", "32", "64", "+Inf"};
  buf_printf(out,
             "# HELP spoold_store_commits_total Store write transactions committed.\n"
             "# TYPE spoold_store_commits_total counter\n"
             "spoold_store_commits_total %llu\n"
             "# HELP spoold_store_commit_batch_size Writes grouped into one commit.\n"
             "# TYPE spoold_store_commit_batch_size histogram\n",
             (unsigned long long)s.commits);
  for (int i = 0; i < 8; i++)
    buf_printf(out, "spoold_store_commit_batch_size_bucket{le=\"%s\"} %llu\n", le[i],
               (unsigned long long)s.batch_le[i]);
  buf_printf(out,
             "spoold_store_commit_batch_size_sum %llu\n"
             "spoold_store_commit_batch_size_count %llu\n",
             (unsigned long long)s.closures, (unsigned long long)s.commits);
  store_pool_stats_t p;  /* PostgreSQL's connection pool (zeros for SQLite) */
  store_get_pool_stats(arg, &p);
  buf_printf(out,
             "# HELP spoold_store_pool_connections Store connections the pool may open.\n"
             "# TYPE spoold_store_pool_connections gauge\n"
             "spoold_store_pool_connections %u\n"
             "# HELP spoold_store_pool_connections_open Store connections open now.\n"
             "# TYPE spoold_store_pool_connections_open gauge\n"
             "spoold_store_pool_connections_open %u\n"
             "# HELP spoold_store_pool_connections_in_use Store connections lent to requests now.\n"
             "# TYPE spoold_store_pool_connections_in_use gauge\n"
             "spoold_store_pool_connections_in_use %u\n"
             "# HELP spoold_store_pool_waits_total Requests that waited for a free store connection.\n"
             "# TYPE spoold_store_pool_waits_total counter\n"
             "spoold_store_pool_waits_total %llu\n"
             "# HELP spoold_store_pool_wait_seconds_total Time spent waiting for a store connection.\n"
             "# TYPE spoold_store_pool_wait_seconds_total counter\n"
             "spoold_store_pool_wait_seconds_total %.6f\n"
             "# HELP spoold_store_connects_total Store connections made (reconnects included).\n"
             "# TYPE spoold_store_connects_total counter\n"
             "spoold_store_connects_total %llu\n"
             "# HELP spoold_store_connect_failures_total Failed store connection attempts.\n"
             "# TYPE spoold_store_connect_failures_total counter\n"
             "spoold_store_connect_failures_total %llu\n",
             p.size, p.open, p.in_use, (unsigned long long)p.waits, (double)p.wait_us / 1e6,
             (unsigned long long)p.connects, (unsigned long long)p.connect_failures);
}

static void connection_metrics(buf_t *out, void *arg) {
  buf_printf(out,
             "# HELP spoold_http_open_connections Open client connections.\n"
             "# TYPE spoold_http_open_connections gauge\n"
             "spoold_http_open_connections %u\n",
             server_open_connections(arg));
}

/* Builds the auth context from the --issuer/--jwks/--audience triples and --dev. */
static auth_t *auth_from_config(const config_t *cfg, char **err) {
  auth_issuer_cfg_t issuers[CONFIG_MAX_ISSUERS];
  for (unsigned i = 0; i < cfg->nissuers; i++)
    issuers[i] = (auth_issuer_cfg_t){cfg->issuers[i].iss, cfg->issuers[i].jwks,
                                     cfg->issuers[i].audience};
  auth_config_t ac = {.issuers = issuers, .nissuers = cfg->nissuers, .dev = cfg->dev,
                      .data_dir = cfg->data_dir};
  if (!cfg->dev && cfg->nissuers == 0) {
    *err = xstrdup("no token issuer is trusted: give --issuer ISS --jwks FILE --audience AUD, "
                   "or --dev for the development identity");
    return NULL;
  }
  return auth_new(&ac, err);
}

/* Waits for SIGTERM/SIGINT (draining) and SIGHUP (reloading keys). Returns the exit code. */
static int run_until_signalled(app_t *app, const sigset_t *set) {
  for (;;) {
    int sig = 0;
    if (sigwait(set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      char *err = NULL;
      int failed = auth_reload(app->auth, &err);
      if (failed) log_warn("SIGHUP: %d key file(s) could not be re-read: %s", failed, err);
      else log_info("SIGHUP: signing keys re-read");
      free(err);
      continue;
    }
    break;
  }
  log_info("shutting down: finishing %d request(s) in progress; signal again to exit at once",
           server_inflight(app->server));
  server_begin_drain(app->server);
  struct timespec tick = {0, 10 * 1000 * 1000};
  while (server_inflight(app->server) > 0) {
    int sig = sigtimedwait(set, NULL, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      log_warn("second signal: exiting without waiting");
      _exit(1);
    }
  }
  return 0;
}

static int cmd_serve(int argc, char **argv) {
  config_t cfg;
  char *err = NULL;
  int rc = config_load(&cfg, argc, argv, &err);
  if (rc == 1) return 0;
  if (rc != 0) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    config_free(&cfg);
    return 2;
  }
  log_set_json(strcmp(cfg.log_format, "json") == 0);
  if (make_dirs(cfg.data_dir) != 0) {
    fprintf(stderr, "spoold serve: cannot create data directory %s: %s\n", cfg.data_dir,
            strerror(errno));
    config_free(&cfg);
    return 1;
  }

  /* Signals are taken by sigwait in this thread; every other thread inherits the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  app_t app = {.cfg = &cfg};
  app.store = store_open(cfg.store_url, (int)cfg.threads, true, &err);
  if (!app.store) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    config_free(&cfg);
    return 1;
  }
  app.auth = auth_from_config(&cfg, &err);
  if (!app.auth) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    store_close(app.store);
    config_free(&cfg);
    return 1;
  }

  if (graph_documents_start(&app, &err) != 0) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    auth_free(app.auth);
    store_close(app.store);
    config_free(&cfg);
    return 1;
  }

  health_register(cfg.dev);
  graph_routes_register();
  graph_ext_routes_register(cfg.dev);
  console_routes_register();
  if (cfg.dev) dev_routes(); /* /spoold/v1/dev/...: the development control API (dev/dev.h) */
  ipp_routes_register();
  metrics_add_collector(store_metrics, app.store);

  server_config_t sc = {
      .listen = cfg.listen,
      .public_url = cfg.public_url,
      .tls_cert = cfg.tls_cert,
      .tls_key = cfg.tls_key,
      .threads = cfg.threads,
      .max_connections = cfg.max_connections,
      .max_connections_per_ip = cfg.max_connections_per_ip,
      .idle_timeout = cfg.idle_timeout,
      .header_timeout = cfg.header_timeout,
      .body_timeout = cfg.body_timeout,
      .min_body_rate = cfg.min_body_rate,
      .max_body = cfg.max_body,
      .dev = cfg.dev,
      .app = &app,
      .error_writer = graph_reply_error_message,
  };
  app.server = server_start(&sc, &err);
  if (!app.server) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    graph_documents_stop(&app);
    auth_free(app.auth);
    store_close(app.store);
    config_free(&cfg);
    return 1;
  }
  metrics_add_collector(connection_metrics, app.server);
  notify_delivery_config_t nc = {
      .store = app.store,
      .public_url = server_public_url(app.server),
      .retry_base_us = (int64_t)cfg.webhook_retry_base_ms * 1000,
      .max_age_us = (int64_t)cfg.webhook_retry_max_age * 1000000,
      .webhook_allow = cfg.webhook_allow,
      .allow_loopback = cfg.dev,
  };
  notify_delivery_t *delivery = notify_delivery_start(&nc, &err);
  if (!delivery) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    server_stop(app.server);
    graph_documents_stop(&app);
    auth_free(app.auth);
    store_close(app.store);
    config_free(&cfg);
    return 1;
  }
  sweeper_config_t swc = {.store = app.store, .blobs = app.blobs,
                          .task_timeout_s = cfg.task_timeout,
                          .job_retention_s = cfg.job_retention,
                          .interval_s = cfg.sweep_interval};
  sweeper_t *sweeper = sweeper_start(&swc, &err);
  if (!sweeper) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    server_stop(app.server);
    notify_delivery_stop(delivery);
    graph_documents_stop(&app);
    auth_free(app.auth);
    store_close(app.store);
    config_free(&cfg);
    return 1;
  }
  app.sweeper = sweeper;
  app.delivery = delivery;
  ipp_start(&app); /* IPP events wake waiting Get-Notifications */
  if (cfg.dev && dev_start(&app, &err) != 0) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
    ipp_stop();
    server_stop(app.server);
    sweeper_stop(sweeper);
    graph_documents_stop(&app);
    notify_delivery_stop(delivery);
    auth_free(app.auth);
    store_close(app.store);
    config_free(&cfg);
    return 1;
  }
  log_info("spoold %s: store %s, %u threads%s", SPOOLD_VERSION, cfg.store_url, cfg.threads,
           cfg.dev ? ", development identity" : "");
  printf("spoold: listening on %s (public URL %s)\n", server_listen_url(app.server),
         server_public_url(app.server));
  fflush(stdout);

  rc = run_until_signalled(&app, &set);
  dev_stop(); /* simulated printers talk to the server: they stop first */
  ipp_stop();
  server_stop(app.server);
  sweeper_stop(sweeper);
  graph_documents_stop(&app);
  notify_delivery_stop(delivery);
  auth_free(app.auth);
  store_close(app.store);
  log_info("stopped");
  config_free(&cfg);
  return rc;
}

/* spoold migrate [--data DIR | --store URL] */
static int cmd_migrate(int argc, char **argv) {
  const char *data = "./var", *url = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!strcmp(argv[i], "--store") && i + 1 < argc) url = argv[++i];
    else if (!strcmp(argv[i], "--help")) {
      puts("Usage: spoold migrate [--data DIR | --store URL]\n"
           "Applies pending store migrations and exits.");
      return 0;
    } else {
      fprintf(stderr, "spoold migrate: unexpected argument '%s'\n", argv[i]);
      return 2;
    }
  }
  buf_t b = BUF_INIT;
  if (!url) {
    if (make_dirs(data) != 0) {
      fprintf(stderr, "spoold migrate: cannot create %s: %s\n", data, strerror(errno));
      return 1;
    }
    buf_printf(&b, "sqlite:%s/spoold.db", data);
    url = b.data;
  }
  char *err = NULL;
  store_t *st = store_open(url, 1, false, &err);
  if (!st) {
    fprintf(stderr, "spoold migrate: %s\n", err);
    free(err);
    buf_free(&b);
    return 1;
  }
  int before = store_schema_version(st);
  int rc = store_migrate(st, &err);
  if (rc != 0) {
    fprintf(stderr, "spoold migrate: %s\n", err);
    free(err);
  } else {
    printf("store %s: schema version %d -> %d\n", url, before, store_schema_version(st));
  }
  store_close(st);
  buf_free(&b);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
  if (!strcmp(cmd, "token")) return token_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "tenant")) return tenant_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "migrate")) return cmd_migrate(argc - 1, argv + 1);
  if (!strcmp(cmd, "proxy")) return proxy_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
    printf("spoold %s\n", SPOOLD_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "spoold: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}
