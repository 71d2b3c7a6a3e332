/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spoold: a self-hosted print service with the Microsoft Graph Universal Print API.
 *
 * Commands: serve, token, tenant, migrate, check, backup, restore, version.
 */
#include "app.h"
#include "auth/dev.h"
#include "blob/blob.h"
#include "auth/identity.h"
#include "cmd/cmd.h"
#include "config.h"
#include "console/console.h"
#include "graph/documents.h"
#include "graph/jobs.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "health.h"
#include "http/metrics.h"
#include "http/server.h"
#include "ipp/dnssd.h"
#include "ipp/ipp.h"
#include "notify/notify.h"
#include "proxy/proxy.h"
#include "store/store.h"
#include "sweeper.h"
#include "dev/dev.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
        "  check     check the store and every stored document fully (spoold check --help)\n"
        "  proxy     connect existing printers to spoold over IPP INFRA (spoold proxy --help)\n"
        "  backup    copy the store and document files while serving (spoold backup --help)\n"
        "  restore   put a backup in place of a stopped store (spoold restore --help)\n"
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

/* Creates the data directory when missing and checks it can be written, by creating a file
 * in it (access(2) would let root pass on a read-only file system). 0, or -1 with a
 * malloc'd *err naming the directory and the real errno. */
static int data_dir_ready(const char *dir, char **err) {
  buf_t b = BUF_INIT;
  int rc = -1;
  struct stat sb;
  if (make_dirs(dir) != 0) {
    buf_printf(&b, "cannot create data directory %s: %s", dir, strerror(errno));
  } else if (stat(dir, &sb) != 0) {
    buf_printf(&b, "data directory %s: %s", dir, strerror(errno));
  } else if (!S_ISDIR(sb.st_mode)) {
    buf_printf(&b, "data directory %s: %s", dir, strerror(ENOTDIR));
  } else {
    buf_t probe = BUF_INIT;
    buf_printf(&probe, "%s/.spoold-write-test-%ld", dir, (long)getpid());
    int fd = open(probe.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      buf_printf(&b, "data directory %s is not writable: %s", dir, strerror(errno));
    } else {
      if (fd >= 0) close(fd);
      unlink(probe.data);
      rc = 0;
    }
    buf_free(&probe);
  }
  if (rc != 0) *err = buf_detach(&b);
  buf_free(&b);
  return rc;
}

static void first_problem(const char *line, void *arg) {
  char **first = arg;
  if (!*first) *first = xstrdup(line);
}

static int has_blob(const char *key, int64_t mtime_us, void *arg) {
  (void)mtime_us;
  snprintf(arg, BLOB_KEY_LEN + 1, "%s", key);
  return 1;
}

/* The start-up checks of the store, before anything serves or sweeps: SQLite's quick check
 * (a damaged page refuses the start), then an empty store next to stored document bytes (a
 * lost or replaced database) refuses it unless --allow-empty-store, then the migrations. 0, or
 * -1 with a malloc'd *err. */
static int store_startup_checks(store_t *st, const config_t *cfg, char **err) {
  buf_t b = BUF_INIT;
  if (!store_is_shared(st)) {
    char *first = NULL;
    int n = store_check_database(st, false, first_problem, &first);
    if (n != 0) {
      if (n < 0)
        buf_printf(&b, "the quick check of %s could not run (PRAGMA quick_check; see the log)",
                   cfg->store_url);
      else
        buf_printf(&b, "the database %s is damaged: PRAGMA quick_check found %d problem(s), the "
                   "first: %s. Refusing to start; run spoold check for the full list and "
                   "restore the store from a backup (spoold restore)", cfg->store_url, n,
                   first ? first : "?");
      free(first);
      *err = buf_detach(&b);
      return -1;
    }
  }
  bool empty = false;  /* before migrating: a store without tables is empty too */
  if (store_is_empty(st, &empty) != STORE_OK) {
    *err = xstrdup("cannot read the store to check whether it is empty (see the log)");
    return -1;
  }
  if (!empty || cfg->allow_empty_store) return store_migrate(st, err) != 0 ? -1 : 0;
  blob_store_t *bs = blob_store_open(st, cfg->data_dir, err);
  int rc = bs ? 0 : -1;
  buf_t dir = BUF_INIT;
  buf_printf(&dir, "%s/blobs", cfg->data_dir);
  char key[BLOB_KEY_LEN + 1] = "";
  if (bs && blob_walk(bs, has_blob, key) != 0 && !*key) {
    *err = xstrdup("cannot list the stored document bytes to check whether the empty store "
                   "lost its database (see the log)");
    rc = -1;
  } else if (*key) {
    buf_printf(&b, "the store %s holds no tenant, printer or job, but document bytes are "
               "stored (%s%s, e.g. %s): its database may have been lost or replaced. Refusing "
               "to start; restore the database (spoold restore), or start once with "
               "--allow-empty-store (allow-empty-store = true) to begin afresh, after which "
               "the unreferenced document bytes are swept",
               cfg->store_url, store_is_shared(st) ? "in the database" : dir.data,
               store_is_shared(st) ? "" : "/", key);
    *err = buf_detach(&b);
    rc = -1;
  }
  blob_store_free(bs);
  buf_free(&dir);
  if (rc == 0 && store_migrate(st, err) != 0) rc = -1;
  return rc;
}

static void integrity_metrics(buf_t *out, void *arg) {
  uint64_t missing = 0, corrupt = 0;
  blob_integrity_counts(arg, &missing, &corrupt); /* arg: the blob store */
  buf_printf(out,
             "# HELP spoold_documents_missing_total Documents whose bytes were missing when "
             "served (answered 500).\n"
             "# TYPE spoold_documents_missing_total counter\n"
             "spoold_documents_missing_total %llu\n"
             "# HELP spoold_documents_corrupt_total Documents whose bytes no longer matched "
             "their SHA-256 when served (refused or aborted).\n"
             "# TYPE spoold_documents_corrupt_total counter\n"
             "spoold_documents_corrupt_total %llu\n",
             (unsigned long long)missing, (unsigned long long)corrupt);
}

/* A histogram of times in the store's commit time buckets (store_commit_bound_us). */
static void store_time_histogram(buf_t *out, const char *name, const char *help,
                                 const uint64_t *le, uint64_t n, uint64_t us) {
  buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
  for (int i = 0; i < STORE_COMMIT_BUCKETS - 1; i++)
    buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, (double)store_commit_bound_us(i) / 1e6,
               (unsigned long long)le[i]);
  buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
             (unsigned long long)le[STORE_COMMIT_BUCKETS - 1], name, (double)us / 1e6, name,
             (unsigned long long)n);
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
             "spoold_store_commit_batch_size_count %llu\n"
             "# HELP spoold_store_pages_written_total Database pages the commits wrote to the "
             "write-ahead log (SQLite WAL frames; 0 on PostgreSQL).\n"
             "# TYPE spoold_store_pages_written_total counter\n"
             "spoold_store_pages_written_total %llu\n"
             "# HELP spoold_store_checkpoints_total SQLite checkpoints (WAL copied into the "
             "database) run by the checkpointer thread, or by the writer when the WAL reached "
             "its bound (0 on PostgreSQL).\n"
             "# TYPE spoold_store_checkpoints_total counter\n"
             "spoold_store_checkpoints_total{by=\"checkpointer\"} %llu\n"
             "spoold_store_checkpoints_total{by=\"writer\"} %llu\n"
             "# HELP spoold_store_wal_restarts_deferred_total SQLite: the writer's checkpoints at "
             "the WAL's bound that a long read kept from starting the WAL over (0 on PostgreSQL).\n"
             "# TYPE spoold_store_wal_restarts_deferred_total counter\n"
             "spoold_store_wal_restarts_deferred_total %llu\n"
             "# HELP spoold_store_commits_inline_total SQLite: commits of a lone write run on "
             "its request's thread instead of the writer's (0 on PostgreSQL).\n"
             "# TYPE spoold_store_commits_inline_total counter\n"
             "spoold_store_commits_inline_total %llu\n"
             "# HELP spoold_store_inline_commit_allowed SQLite: 1 while a lone write may commit "
             "on its request's thread (--inline-commit on, or auto while the CPUs are not "
             "contended), else 0.\n"
             "# TYPE spoold_store_inline_commit_allowed gauge\n"
             "spoold_store_inline_commit_allowed %d\n",
             (unsigned long long)s.closures, (unsigned long long)s.commits,
             (unsigned long long)s.pages, (unsigned long long)s.checkpoints,
             (unsigned long long)s.checkpoints_writer, (unsigned long long)s.wal_restarts_deferred,
             (unsigned long long)s.inline_commits, s.inline_allowed ? 1 : 0);
  store_time_histogram(out, "spoold_store_commit_seconds",
                       "Time of each commit: SQLite's COMMIT (the WAL write, its fdatasync and the "
                       "writer's checkpoint at the WAL's bound), PostgreSQL's COMMIT round trip "
                       "(the server's WAL flush).",
                       s.commit_le, s.commit_timed, s.commit_us);
  store_time_histogram(out, "spoold_store_write_seconds",
                       "Time of each store write from its caller's view: queued, run, committed "
                       "and handed back (SQLite: the wait for the writer's group commit; "
                       "PostgreSQL: the transaction with its retries).",
                       s.write_le, s.write_n, s.write_us);
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
  uint64_t woken = 0, due = 0;
  unsigned parked = 0;
  server_park_stats(arg, &woken, &due, &parked);
  uint64_t waits = server_write_waits(arg);
  unsigned limited = 0, addresses = 0;
  server_limit_counts(arg, &limited, &addresses);
  buf_printf(out,
             "# HELP spoold_http_open_connections Open client connections.\n"
             "# TYPE spoold_http_open_connections gauge\n"
             "spoold_http_open_connections %u\n"
             "# HELP spoold_http_limit_connections Connections counted against "
             "--max-connections: accepted (being set up) or open.\n"
             "# TYPE spoold_http_limit_connections gauge\n"
             "spoold_http_limit_connections %u\n"
             "# HELP spoold_http_limit_addresses Client addresses with connections counted "
             "against --max-connections-per-ip.\n"
             "# TYPE spoold_http_limit_addresses gauge\n"
             "spoold_http_limit_addresses %u\n"
             "# HELP spoold_http_parked_requests Requests parked now (long polls, held "
             "failures), waiting for a commit's wake-up or their deadline.\n"
             "# TYPE spoold_http_parked_requests gauge\n"
             "spoold_http_parked_requests %u\n"
             "# HELP spoold_http_parked_resumed_total Parked requests (long polls, held "
             "failures) resumed, by what resumed them: a commit's wake-up or their deadline.\n"
             "# TYPE spoold_http_parked_resumed_total counter\n"
             "spoold_http_parked_resumed_total{by=\"wake\"} %llu\n"
             "spoold_http_parked_resumed_total{by=\"deadline\"} %llu\n"
             "# HELP spoold_http_write_waits_total Store writes of requests that gave their "
             "HTTP thread back while they waited for the commit (SQLite store).\n"
             "# TYPE spoold_http_write_waits_total counter\n"
             "spoold_http_write_waits_total %llu\n",
             server_open_connections(arg), limited, addresses, parked, (unsigned long long)woken,
             (unsigned long long)due,
             (unsigned long long)waits);
}

/* Builds the auth context from the --issuer/--jwks/--audience triples and --dev. With neither,
 * every token is refused until a reload adds an issuer (a freshly installed service). */
static auth_t *auth_from_config(const config_t *cfg, char **err) {
  auth_issuer_cfg_t issuers[CONFIG_MAX_ISSUERS];
  for (unsigned i = 0; i < cfg->nissuers; i++)
    issuers[i] = (auth_issuer_cfg_t){cfg->issuers[i].iss, cfg->issuers[i].jwks,
                                     cfg->issuers[i].audience};
  auth_config_t ac = {.issuers = issuers, .nissuers = cfg->nissuers, .dev = cfg->dev,
                      .data_dir = cfg->data_dir, .allow_none = true};
  if (!cfg->dev && cfg->nissuers == 0)
    log_warn("no token issuer is trusted: every request with a token gets 401 until issuer, "
             "jwks and audience lines are added to the configuration (then SIGHUP, or "
             "systemctl reload spoold)");
  return auth_new(&ac, err);
}

/* What one SIGHUP reload found; collected by config_diff. */
typedef struct reload_diff {
  bool issuers, tls, log_format, log_level;
  buf_t restart; /* options that changed but apply only at the next start */
} reload_diff_t;

static void reload_note(const char *name, void *arg) {
  reload_diff_t *d = arg;
  if (!strcmp(name, "issuer")) d->issuers = true;
  else if (!strcmp(name, "tls-cert") || !strcmp(name, "tls-key")) d->tls = true;
  else if (!strcmp(name, "log-format")) d->log_format = true;
  else if (!strcmp(name, "log-level")) d->log_level = true;
  else buf_printf(&d->restart, "%s--%s", d->restart.len ? ", " : "", name);
}

/* SIGHUP: reads the configuration again (file, environment, command line) and applies what can
 * change while serving: trusted issuers and their JWKS files, the TLS certificate and key, the
 * log format and level. Logs what changed; what needs a restart is named and left as it was.
 * *live is the configuration in force for the reloadable parts and is updated. */
static void reload(app_t *app, config_t *live, int argc, char **argv, auth_t **retired,
                   size_t *nretired) {
  sdnotify_send("RELOADING=1\nSTATUS=reloading the configuration");
  config_t next;
  char *err = NULL;
  int rc = config_load(&next, argc, argv, &err);
  if (rc != 0) {
    log_error("SIGHUP: configuration not reloaded, keeping the running one: %s",
              err ? err : "--help given");
    free(err);
    config_free(&next);
    sdnotify_send("READY=1\nSTATUS=serving (the last reload failed)");
    return;
  }
  reload_diff_t d = {.restart = BUF_INIT};
  config_diff(live, &next, reload_note, &d);
  int changed = 0, failed = 0;

  if (d.log_format) {
    log_set_json(!strcmp(next.log_format, "json"));
    log_info("SIGHUP: log format %s -> %s", live->log_format, next.log_format);
    free(live->log_format);
    live->log_format = xstrdup(next.log_format);
    changed++;
  }
  if (d.log_level) {
    log_level_t lv = LOG_INFO;
    log_parse_level(next.log_level, &lv);
    /* said at both levels' threshold so that it shows whichever way it moved */
    log_msg(lv > log_get_level() ? lv : log_get_level(), "SIGHUP: log level %s -> %s",
            live->log_level, next.log_level);
    log_set_level(lv);
    free(live->log_level);
    live->log_level = xstrdup(next.log_level);
    changed++;
  }

  if (d.issuers) {
    auth_t *fresh = auth_from_config(&next, &err);
    if (!fresh) {
      log_error("SIGHUP: trusted issuers not changed, keeping the previous ones: %s", err);
      free(err);
      err = NULL;
      failed++;
    } else {
      auth_t *old = app->auth;
      app->auth = fresh; /* atomic store: requests from now on use the new issuers */
      retired[(*nretired)++] = old;
      buf_t list = BUF_INIT;
      for (unsigned i = 0; i < next.nissuers; i++)
        buf_printf(&list, "%s%s (jwks %s)", i ? ", " : "", next.issuers[i].iss,
                   next.issuers[i].jwks);
      log_info("SIGHUP: trusted issuers changed: %u -> %u: %s", live->nissuers, next.nissuers,
               list.len ? list.data : "none");
      buf_free(&list);
      for (unsigned i = 0; i < live->nissuers; i++) {
        free(live->issuers[i].iss);
        free(live->issuers[i].jwks);
        free(live->issuers[i].audience);
      }
      live->nissuers = next.nissuers;
      for (unsigned i = 0; i < next.nissuers; i++) {
        live->issuers[i].iss = xstrdup(next.issuers[i].iss);
        live->issuers[i].jwks = xstrdup(next.issuers[i].jwks);
        live->issuers[i].audience =
            next.issuers[i].audience ? xstrdup(next.issuers[i].audience) : NULL;
      }
      changed++;
    }
  } else {
    int bad = auth_reload(app->auth, &err);
    if (bad) {
      log_warn("SIGHUP: %d key file(s) could not be re-read: %s", bad, err);
      failed++;
    } else {
      log_info("SIGHUP: signing keys re-read (%u JWKS file(s))", live->nissuers);
    }
    free(err);
    err = NULL;
  }

  if (next.tls_cert && live->tls_cert) {
    char about[512] = "";
    int t = server_reload_tls(app->server, next.tls_cert, next.tls_key, about, sizeof about,
                              &err);
    if (t < 0) {
      log_error("SIGHUP: TLS certificate not reloaded, keeping the one in use (%s): %s", about,
                err);
      free(err);
      err = NULL;
      failed++;
    } else {
      log_info("SIGHUP: TLS certificate %s from %s: %s", t ? "replaced" : "unchanged",
               next.tls_cert, about);
      if (t) changed++;
      free(live->tls_cert);
      free(live->tls_key);
      live->tls_cert = xstrdup(next.tls_cert);
      live->tls_key = xstrdup(next.tls_key);
    }
  } else if (d.tls) {
    buf_printf(&d.restart, "%s--tls-cert/--tls-key (turning TLS on or off)",
               d.restart.len ? ", " : "");
  }
  if (d.restart.len)
    log_warn("SIGHUP: changed, applied at the next restart only: %s", d.restart.data);
  /* shown at warn level too: a reload is worth a line */
  log_msg(log_get_level() > LOG_INFO ? LOG_WARN : LOG_INFO,
          "SIGHUP: reload done: %d change(s) applied, %d failure(s)", changed, failed);
  buf_free(&d.restart);
  config_free(&next);
  sdnotify_send(failed ? "READY=1\nSTATUS=serving (the last reload had failures, see the log)"
                       : "READY=1\nSTATUS=serving");
}

#define MAX_RELOADED_AUTH 256

/* Waits for SIGTERM/SIGINT (draining) and SIGHUP (reload), and pings the systemd watchdog
 * while the store answers. Returns the exit code. */
static int run_until_signalled(app_t *app, const sigset_t *set, int argc, char **argv) {
  config_t live; /* the configuration in force, compared with the file at each SIGHUP */
  config_dup(&live, app->cfg);
  auth_t *retired[MAX_RELOADED_AUTH];
  size_t nretired = 0;
  int64_t wd = sdnotify_watchdog_usec();
  int64_t tick_us = wd ? wd / 2 : 0;
  for (;;) {
    int sig = 0;
    if (tick_us) {
      struct timespec ts = {tick_us / 1000000, (long)(tick_us % 1000000) * 1000};
      sig = sigtimedwait(set, NULL, &ts);
      if (sig < 0) {
        /* the watchdog is fed only while the store answers: a wedged store gets restarted */
        if (store_ping(app->store)) sdnotify_send("WATCHDOG=1");
        else log_error("watchdog: the store does not answer; not telling systemd we are alive");
        continue;
      }
    } else if (sigwait(set, &sig) != 0) {
      continue;
    }
    if (sig == SIGHUP) {
      if (nretired == MAX_RELOADED_AUTH) {
        log_error("SIGHUP: too many reloads of the trusted issuers; restart spoold");
        continue;
      }
      reload(app, &live, argc, argv, retired, &nretired);
      continue;
    }
    break;
  }
  sdnotify_send("STOPPING=1\nSTATUS=finishing the requests in progress");
  int inflight = server_inflight(app->server);
  server_begin_drain(app->server);
  /* logged once draining: a request that arrives after this line is refused */
  log_info("shutting down: finishing %d request(s) in progress; signal again to exit at once",
           inflight);
  struct timespec tick = {0, 10 * 1000 * 1000};
  while (server_inflight(app->server) > 0) {
    int sig = sigtimedwait(set, NULL, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      log_warn("second signal: exiting without waiting");
      _exit(1);
    }
  }
  for (size_t i = 0; i < nretired; i++) auth_free(retired[i]);
  config_free(&live);
  return 0;
}

/* spoold serve: starts every part in order, serves until SIGTERM/SIGINT, and stops what was
 * started in the reverse order at one exit (the failure of a start, too). Returns the exit
 * code: 0, 1 (a part could not start), 2 (bad options). */
static int cmd_serve(int argc, char **argv) {
  config_t cfg;
  char *err = NULL;
  app_t app = {.cfg = &cfg};
  notify_delivery_t *delivery = NULL;
  sweeper_t *sweeper = NULL;
  ipp_dnssd_t *dnssd = NULL;
  bool dev_started = false, served = false;
  int rc = config_load(&cfg, argc, argv, &err);
  if (rc == 1) { /* --help */
    rc = 0;
    goto done;
  }
  if (rc != 0) {
    rc = 2;
    goto done;
  }
  rc = 1; /* until serving ends */
  log_detect_journal();
  log_set_json(strcmp(cfg.log_format, "json") == 0);
  log_level_t level = LOG_INFO;
  log_parse_level(cfg.log_level, &level);
  log_set_level(level);
  if (data_dir_ready(cfg.data_dir, &err) != 0) goto done;

  /* Signals are taken by sigwait in this thread; every other thread inherits the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  store_options_t sopts = {.sqlite_sync_normal = !strcmp(cfg.sqlite_synchronous, "normal"),
                           .inline_commit = !strcmp(cfg.inline_commit, "on")    ? STORE_INLINE_ON
                                            : !strcmp(cfg.inline_commit, "off") ? STORE_INLINE_OFF
                                                                                : STORE_INLINE_AUTO};
  app.store = store_open_opts(cfg.store_url, (int)cfg.threads, false, &sopts, &err);
  if (!app.store) goto done;
  /* the quick check and a migration that rebuilds a table take minutes on a large store
   * (docs/operation.md, Upgrading): longer than the unit's TimeoutStartSec */
  sdnotify_extend_t *starting = sdnotify_extend_begin("checking and migrating the store");
  int checked = store_startup_checks(app.store, &cfg, &err);
  sdnotify_extend_end(starting);
  if (checked != 0) goto done;
  app.auth = auth_from_config(&cfg, &err);
  if (!app.auth) goto done;
  if (graph_documents_start(&app, &err) != 0) goto done;
  ipp_open(&app);

  health_register(cfg.dev);
  graph_routes_register();
  graph_ext_routes_register(cfg.dev);
  console_routes_register();
  if (cfg.dev) dev_routes(); /* /spoold/v1/dev/...: the development control API (dev/dev.h) */
  ipp_routes_register();
  metrics_add_collector(store_metrics, app.store);
  metrics_add_collector(notify_pending_metrics, app.store);
  metrics_add_collector(integrity_metrics, app.blobs);

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
      /* SQLite: a write waiting for the group commit gives its HTTP thread back. PostgreSQL
       * runs each write on the caller's thread with its own connection (no single writer to
       * wait for), so its writes stay on their thread (docs/benchmarks.md). */
      .suspend_writes = !store_is_shared(app.store),
      .app = &app,
      .error_writer = graph_reply_error_message,
  };
  app.server = server_start(&sc, &err);
  if (!app.server) goto done;
  metrics_add_collector(connection_metrics, app.server);
  notify_delivery_config_t nc = {
      .store = app.store,
      .retry_base_us = (int64_t)cfg.webhook_retry_base_ms * 1000,
      .max_age_us = (int64_t)cfg.webhook_retry_max_age * 1000000,
      .webhook_allow = cfg.webhook_allow,
      .allow_loopback = cfg.dev,
  };
  delivery = notify_delivery_start(&nc, &err);
  if (!delivery) goto done;
  sweeper_config_t swc = {.store = app.store, .blobs = app.blobs,
                          .public_url = server_public_url(app.server),
                          .task_timeout_s = cfg.task_timeout,
                          .job_retention_s = cfg.job_retention,
                          .interval_s = cfg.sweep_interval};
  sweeper = sweeper_start(&swc, &err);
  if (!sweeper) goto done;
  app.sweeper = sweeper;
  app.delivery = delivery;
  ipp_start(&app); /* IPP events wake waiting Get-Notifications */
  if (store_listen(app.store) != 0) /* also those committed by other processes */
    log_warn("cannot listen for other processes' IPP events; waiting devices learn of them "
             "within 5 s");
  if (cfg.dnssd && !(dnssd = ipp_dnssd_start(&app, &err))) goto done;
  if (cfg.dev) {
    if (dev_start(&app, &err) != 0) goto done;
    dev_started = true;
  }
  log_info("spoold %s: store %s, %u threads%s", SPOOLD_VERSION, cfg.store_url, cfg.threads,
           cfg.dev ? ", development identity" : "");
  printf("spoold: listening on %s (public URL %s)\n", server_listen_url(app.server),
         server_public_url(app.server));
  fflush(stdout);

  char ready[600];
  snprintf(ready, sizeof ready, "READY=1\nSTATUS=serving on %s\nMAINPID=%ld",
           server_listen_url(app.server), (long)getpid());
  if (sdnotify_send(ready) < 0) log_warn("cannot notify the service manager: %s", strerror(errno));

  rc = run_until_signalled(&app, &set, argc, argv);
  served = true;

done:
  if (err) {
    fprintf(stderr, "spoold serve: %s\n", err);
    free(err);
  }
  if (dev_started) dev_stop(); /* simulated printers talk to the server: they stop first */
  ipp_dnssd_stop(dnssd); /* withdraws the advertisements */
  ipp_stop(&app);
  server_stop(app.server);
  sweeper_stop(sweeper);
  graph_documents_stop(&app);
  ipp_close(&app);
  notify_delivery_stop(delivery);
  auth_free(app.auth);
  store_close(app.store);
  if (served) log_info("stopped");
  config_free(&cfg);
  return rc;
}

/* spoold migrate [--data DIR | --store URL] */
static int cmd_migrate(int argc, char **argv) {
  const char *data = "./var", *url = NULL;
  int done = cmd_data_store_args("migrate",
                                 "Usage: spoold migrate [--data DIR | --store URL]\n"
                                 "Applies pending store migrations and exits.",
                                 argc, argv, &data, &url);
  if (done >= 0) return done;
  buf_t b = BUF_INIT;
  char *err = NULL;
  store_t *st = NULL;
  int rc = -1;
  if (!url) {
    if (data_dir_ready(data, &err) != 0) goto done;
    buf_printf(&b, "sqlite:%s/spoold.db", data);
    url = b.data;
  }
  st = store_open(url, 1, false, &err);
  if (!st) goto done;
  int before = store_schema_version(st);
  rc = store_migrate(st, &err);
  if (rc == 0)
    printf("store %s: schema version %d -> %d\n", url, before, store_schema_version(st));
done:
  if (err) {
    fprintf(stderr, "spoold migrate: %s\n", err);
    free(err);
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
  if (!strcmp(cmd, "check")) return check_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "proxy")) return proxy_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "backup")) return backup_command(argc - 1, argv + 1);
  if (!strcmp(cmd, "restore")) return restore_command(argc - 1, argv + 1);
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
