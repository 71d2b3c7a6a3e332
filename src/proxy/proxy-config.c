/* SPDX-License-Identifier: Apache-2.0 */
/* `spoold proxy` options: the command line, and --config files of "name = value" lines using
 * the same names (proxy-private.h). */
#include "proxy/proxy-private.h"
#include "util/buf.h"

#include <ctype.h>
#include <dirent.h>
#include <strings.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: spoold proxy --server URL --state DIR [--ca-file FILE]\n"
    "                    --printer PRINTER_ID --device-token-file FILE --uri URI [--formats LIST]\n"
    "                    --register NAME --uri URI [--formats LIST] --admin-token-file FILE\n"
    "                    [--printer ... or --register ... (repeat for each printer)]\n"
    "                    [--discover [--discover-time SECONDS]]\n"
    "                    [--poll-interval SECONDS] [--attributes-interval SECONDS]\n"
    "                    [--config FILE]\n"
    "\n"
    "Connects printers a site already has to spoold: each Graph printer PRINTER_ID (registered\n"
    "in spoold, with a device token from `spoold token --device PRINTER_ID`) is served by the\n"
    "real printer at URI:\n"
    "  ipp://HOST[:PORT]/PATH, ipps://...   an IPP, IPP Everywhere or AirPrint printer\n"
    "  socket://HOST[:PORT]                 a JetDirect (raw TCP, port 9100) printer; --formats\n"
    "                                       lists what it prints (default application/pdf)\n"
    "With --register NAME the proxy registers a new Graph printer NAME itself, once: it makes a\n"
    "key and a certificate signing request, keeps the issued certificate under DIR and from\n"
    "then on authenticates with it as TLS client certificate (--server https://). Printers it\n"
    "registered are served again on every start with only --state DIR.\n"
    "The proxy keeps each Graph printer's status and capabilities current from the real\n"
    "printer, prints the jobs released to it, reports their progress, and cancels on the\n"
    "printer what is canceled or aborted in spoold. DIR keeps, per printer, the device uuid and\n"
    "the jobs taken, so a restarted proxy never prints a job twice.\n"
    "\n"
    "  --server URL                spoold's address, e.g. http://127.0.0.1:8080\n"
    "  --state DIR                 state directory (created if missing)\n"
    "  --ca-file FILE              PEM certificates trusted for spoold's TLS certificate when\n"
    "                              the proxy presents a client certificate or registers\n"
    "                              (default: the system's)\n"
    "  --admin-token-file FILE     a Printer Administrator's bearer token, for --register\n"
    "  --discover                  browse DNS-SD (avahi-daemon) for _ipps._tcp, _ipp._tcp and\n"
    "                              _pdl-datastream._tcp printers; alone, list them and exit;\n"
    "                              a --register NAME without --uri takes the URI of the\n"
    "                              printer announced as NAME\n"
    "  --discover-time SECONDS     how long to browse (default 5)\n"
    "  --certificate-file FILE, --key-file FILE\n"
    "                              in a --printer group: authenticate with this TLS client\n"
    "                              certificate (issued at registration) instead of a token\n"
    "  --poll-interval SECONDS     how often released jobs are looked for when spoold offers\n"
    "                              no job notifications (default 2; with notifications the\n"
    "                              proxy learns of them at once)\n"
    "  --attributes-interval SECONDS  how often printer attributes are re-read (default 30)\n"
    "  --config FILE               read the options from FILE (name = value lines)\n";

void proxy_cfg_usage(FILE *out) { fputs(USAGE, out); }

static int fail(char **err, const char *fmt, const char *arg) {
  buf_t b = BUF_INIT;
  buf_printf(&b, fmt, arg ? arg : "");
  *err = buf_detach(&b);
  return -1;
}

static void set(char **slot, const char *v) {
  free(*slot);
  *slot = xstrdup(v);
}

static int set_seconds(double *slot, const char *name, const char *v, char **err) {
  char *end = NULL;
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || d < 0.05 || d > 3600)
    return fail(err, "--%s must be a number of seconds from 0.05 to 3600", name);
  *slot = d;
  return 0;
}

static int apply(proxy_cfg_t *cfg, const char *name, const char *value, char **err);

/* Reads "name = value" lines ('#' starts a comment). */
static int load_file(proxy_cfg_t *cfg, const char *path, char **err) {
  FILE *f = fopen(path, "r");
  if (!f) {
    buf_t b = BUF_INIT;
    buf_printf(&b, "--config %s: %s", path, strerror(errno));
    *err = buf_detach(&b);
    return -1;
  }
  char line[4096];
  int rc = 0, n = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    n++;
    char *p = line + strspn(line, " \t");
    if (*p == '#' || *p == '\n' || !*p) continue;
    p[strcspn(p, "\r\n")] = '\0';
    char *eq = strchr(p, '=');
    if (!eq) {
      buf_t b = BUF_INIT;
      buf_printf(&b, "%s:%d: expected \"name = value\"", path, n);
      *err = buf_detach(&b);
      rc = -1;
      break;
    }
    char *name = p, *value = eq + 1;
    for (char *e = eq; e > name && isspace((unsigned char)e[-1]); e--) e[-1] = '\0';
    *eq = '\0';
    value += strspn(value, " \t");
    for (size_t l = strlen(value); l && isspace((unsigned char)value[l - 1]); l--) value[l - 1] = '\0';
    rc = apply(cfg, name, value, err);
  }
  fclose(f);
  return rc;
}

static int apply(proxy_cfg_t *cfg, const char *name, const char *value, char **err) {
  proxy_printer_cfg_t *last = cfg->nprinters ? &cfg->printers[cfg->nprinters - 1] : NULL;
  if (!strcmp(name, "server")) {
    if (!cfg->in_record || !cfg->server) set(&cfg->server, value);
  } else if (!strcmp(name, "ca-file")) {
    if (!cfg->in_record || !cfg->ca_file) set(&cfg->ca_file, value);
  } else if (!strcmp(name, "state")) set(&cfg->state_dir, value);
  else if (!strcmp(name, "admin-token-file")) set(&cfg->admin_token_file, value);
  else if (!strcmp(name, "discover")) {
    if (!strcmp(value, "yes") || !strcmp(value, "true")) cfg->discover = true;
    else if (!strcmp(value, "no") || !strcmp(value, "false")) cfg->discover = false;
    else return fail(err, "discover must be yes or no, not '%s'", value);
  } else if (!strcmp(name, "discover-time")) return set_seconds(&cfg->discover_s, name, value, err);
  else if (!strcmp(name, "poll-interval")) return set_seconds(&cfg->poll_s, name, value, err);
  else if (!strcmp(name, "attributes-interval")) return set_seconds(&cfg->attrs_s, name, value, err);
  else if (!strcmp(name, "config")) return load_file(cfg, value, err);
  else if (!strcmp(name, "printer") || !strcmp(name, "register")) {
    if (cfg->nprinters == PROXY_MAX_PRINTERS) return fail(err, "at most 64 printers per proxy%s", "");
    if (!*value) return fail(err, "--%s needs a value", name);
    proxy_printer_cfg_t *p = &cfg->printers[cfg->nprinters++];
    set(!strcmp(name, "printer") ? &p->printer_id : &p->register_name, value);
  } else if (!strcmp(name, "device-token-file") || !strcmp(name, "uri") ||
             !strcmp(name, "formats") || !strcmp(name, "certificate-file") ||
             !strcmp(name, "key-file") || !strcmp(name, "registered-as")) {
    if (!last) return fail(err, "--%s must follow a --printer or --register", name);
    set(!strcmp(name, "uri") ? &last->uri
        : !strcmp(name, "formats") ? &last->formats
        : !strcmp(name, "certificate-file") ? &last->cert_file
        : !strcmp(name, "key-file") ? &last->key_file
        : !strcmp(name, "registered-as") ? &last->register_name : &last->token_file, value);
  } else {
    return fail(err, "unknown option --%s (spoold proxy --help lists them)", name);
  }
  return 0;
}

static void printer_free(proxy_printer_cfg_t *p) {
  free(p->printer_id);
  free(p->token_file);
  free(p->cert_file);
  free(p->key_file);
  free(p->register_name);
  free(p->uri);
  free(p->formats);
  memset(p, 0, sizeof *p);
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads the records of printers this proxy registered (DIR/<id>.printer), in name order. A
 * --register entry whose name a record carries is that printer (registered once): its --uri
 * and --formats replace the record's. */
static int load_records(proxy_cfg_t *cfg, char **err) {
  DIR *d = opendir(cfg->state_dir);
  if (!d) return errno == ENOENT ? 0 : fail(err, "cannot read the state directory %s", cfg->state_dir);
  char *names[PROXY_MAX_PRINTERS] = {NULL};
  size_t n = 0;
  for (struct dirent *e; (e = readdir(d)) && n < PROXY_MAX_PRINTERS;) {
    size_t l = strlen(e->d_name);
    if (l > 8 && !strcmp(e->d_name + l - 8, ".printer")) names[n++] = xstrdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof names[0], by_name);
  int rc = 0;
  size_t given = cfg->nprinters;
  for (size_t i = 0; i < n; i++) {
    buf_t path = BUF_INIT;
    buf_printf(&path, "%s/%s", cfg->state_dir, names[i]);
    cfg->in_record = true;
    if (rc == 0) rc = load_file(cfg, path.data, err);
    cfg->in_record = false;
    buf_free(&path);
    free(names[i]);
  }
  if (rc != 0) return rc;
  /* a --register entry already registered: keep the record, with the given uri and formats */
  for (size_t i = 0; i < given;) {
    proxy_printer_cfg_t *g = &cfg->printers[i];
    proxy_printer_cfg_t *rec = NULL;
    for (size_t k = given; k < cfg->nprinters && g->register_name && !g->printer_id; k++)
      if (cfg->printers[k].register_name && !strcmp(cfg->printers[k].register_name, g->register_name))
        rec = &cfg->printers[k];
    if (!rec) {
      i++;
      continue;
    }
    if (g->uri) set(&rec->uri, g->uri);
    if (g->formats) set(&rec->formats, g->formats);
    printer_free(g);
    memmove(g, g + 1, (cfg->nprinters - i - 1) * sizeof *g);
    memset(&cfg->printers[--cfg->nprinters], 0, sizeof *g);
    given--;
  }
  /* a printer given with --printer and also in a record: the command line's */
  for (size_t k = given; k < cfg->nprinters;) {
    bool dup = false;
    for (size_t i = 0; i < given && !dup; i++)
      dup = cfg->printers[i].printer_id && cfg->printers[k].printer_id &&
            !strcasecmp(cfg->printers[i].printer_id, cfg->printers[k].printer_id);
    if (!dup) {
      k++;
      continue;
    }
    printer_free(&cfg->printers[k]);
    memmove(&cfg->printers[k], &cfg->printers[k + 1], (cfg->nprinters - k - 1) * sizeof cfg->printers[0]);
    memset(&cfg->printers[--cfg->nprinters], 0, sizeof cfg->printers[0]);
  }
  return 0;
}

int proxy_cfg_load(proxy_cfg_t *cfg, int argc, char **argv, char **err) {
  memset(cfg, 0, sizeof *cfg);
  cfg->poll_s = 2;
  cfg->attrs_s = 30;
  cfg->discover_s = 5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      proxy_cfg_usage(stdout);
      return 1;
    }
    if (strncmp(a, "--", 2)) return fail(err, "unexpected argument %s", a);
    if (!strcmp(a, "--discover")) { /* a flag on the command line, "discover = yes" in files */
      cfg->discover = true;
      continue;
    }
    char name[64];
    const char *eq = strchr(a, '='), *value;
    snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
    if (eq) value = eq + 1;
    else if (i + 1 < argc) value = argv[++i];
    else return fail(err, "--%s needs a value", name);
    if (apply(cfg, name, value, err) != 0) return -1;
  }
  if (cfg->discover && !cfg->nprinters && !cfg->state_dir) return 0; /* list what is found */
  if (!cfg->state_dir) return fail(err, "--state DIR is required%s", "");
  if (load_records(cfg, err) != 0) return -1;
  if (cfg->discover && !cfg->nprinters) return 0;
  if (!cfg->server) return fail(err, "--server URL is required (spoold's address)%s", "");
  if (strncmp(cfg->server, "http://", 7) && strncmp(cfg->server, "https://", 8))
    return fail(err, "--server must be an http:// or https:// URL, not '%s'", cfg->server);
  if (!cfg->nprinters)
    return fail(err, "give at least one --printer ID --device-token-file FILE --uri URI, or "
                "--register NAME --uri URI%s", "");
  for (size_t i = 0; i < cfg->nprinters; i++) {
    proxy_printer_cfg_t *p = &cfg->printers[i];
    const char *who = p->printer_id ? p->printer_id : p->register_name;
    if (!p->printer_id) {
      if (!cfg->admin_token_file)
        return fail(err, "--register %s needs --admin-token-file (a Printer Administrator's "
                    "token that may create printers)", who);
    } else if (!p->token_file && !(p->cert_file && p->key_file)) {
      return fail(err, "--printer %s has no --device-token-file (nor --certificate-file and "
                  "--key-file)", who);
    }
    if ((p->cert_file || !p->printer_id) && strncmp(cfg->server, "https://", 8))
      return fail(err, "%s authenticates with a TLS client certificate: --server must be https://", who);
    if (!p->uri && !(cfg->discover && !p->printer_id))
      return fail(err, "%s has no --uri (a --register NAME may take its URI from --discover)", who);
  }
  return 0;
}

void proxy_cfg_free(proxy_cfg_t *cfg) {
  free(cfg->server);
  free(cfg->state_dir);
  free(cfg->ca_file);
  free(cfg->admin_token_file);
  for (size_t i = 0; i < cfg->nprinters; i++) printer_free(&cfg->printers[i]);
  memset(cfg, 0, sizeof *cfg);
}
