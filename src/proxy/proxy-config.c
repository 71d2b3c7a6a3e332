/* SPDX-License-Identifier: Apache-2.0 */
/* `spoold proxy` options: the command line, and --config files of "name = value" lines using
 * the same names (proxy-private.h). */
#include "proxy/proxy-private.h"
#include "util/buf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: spoold proxy --server URL --state DIR\n"
    "                    --printer PRINTER_ID --device-token-file FILE --uri URI [--formats LIST]\n"
    "                    [--printer ... (repeat for each printer)]\n"
    "                    [--poll-interval SECONDS] [--attributes-interval SECONDS]\n"
    "                    [--config FILE]\n"
    "\n"
    "Connects printers a site already has to spoold: each Graph printer PRINTER_ID (registered\n"
    "in spoold, with a device token from `spoold token --device PRINTER_ID`) is served by the\n"
    "real printer at URI:\n"
    "  ipp://HOST[:PORT]/PATH, ipps://...   an IPP, IPP Everywhere or AirPrint printer\n"
    "  socket://HOST[:PORT]                 a JetDirect (raw TCP, port 9100) printer; --formats\n"
    "                                       lists what it prints (default application/pdf)\n"
    "The proxy keeps each Graph printer's status and capabilities current from the real\n"
    "printer, prints the jobs released to it, reports their progress, and cancels on the\n"
    "printer what is canceled or aborted in spoold. DIR keeps, per printer, the device uuid and\n"
    "the jobs taken, so a restarted proxy never prints a job twice.\n"
    "\n"
    "  --server URL                spoold's address, e.g. http://127.0.0.1:8080\n"
    "  --state DIR                 state directory (created if missing)\n"
    "  --poll-interval SECONDS     how often released jobs are looked for (default 2)\n"
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
  if (!strcmp(name, "server")) set(&cfg->server, value);
  else if (!strcmp(name, "state")) set(&cfg->state_dir, value);
  else if (!strcmp(name, "poll-interval")) return set_seconds(&cfg->poll_s, name, value, err);
  else if (!strcmp(name, "attributes-interval")) return set_seconds(&cfg->attrs_s, name, value, err);
  else if (!strcmp(name, "config")) return load_file(cfg, value, err);
  else if (!strcmp(name, "printer")) {
    if (cfg->nprinters == PROXY_MAX_PRINTERS) return fail(err, "at most 64 printers per proxy%s", "");
    set(&cfg->printers[cfg->nprinters++].printer_id, value);
  } else if (!strcmp(name, "device-token-file") || !strcmp(name, "uri") || !strcmp(name, "formats")) {
    if (!last) return fail(err, "--%s must follow a --printer", name);
    set(!strcmp(name, "uri") ? &last->uri
        : !strcmp(name, "formats") ? &last->formats : &last->token_file, value);
  } else {
    return fail(err, "unknown option --%s (spoold proxy --help lists them)", name);
  }
  return 0;
}

int proxy_cfg_load(proxy_cfg_t *cfg, int argc, char **argv, char **err) {
  memset(cfg, 0, sizeof *cfg);
  cfg->poll_s = 2;
  cfg->attrs_s = 30;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      proxy_cfg_usage(stdout);
      return 1;
    }
    if (strncmp(a, "--", 2)) return fail(err, "unexpected argument %s", a);
    char name[64];
    const char *eq = strchr(a, '='), *value;
    snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
    if (eq) value = eq + 1;
    else if (i + 1 < argc) value = argv[++i];
    else return fail(err, "--%s needs a value", name);
    if (apply(cfg, name, value, err) != 0) return -1;
  }
  if (!cfg->server) return fail(err, "--server URL is required (spoold's address)%s", "");
  if (strncmp(cfg->server, "http://", 7) && strncmp(cfg->server, "https://", 8))
    return fail(err, "--server must be an http:// or https:// URL, not '%s'", cfg->server);
  if (!cfg->state_dir) return fail(err, "--state DIR is required%s", "");
  if (!cfg->nprinters) return fail(err, "give at least one --printer ID --device-token-file FILE --uri URI%s", "");
  for (size_t i = 0; i < cfg->nprinters; i++) {
    proxy_printer_cfg_t *p = &cfg->printers[i];
    if (!p->token_file) return fail(err, "--printer %s has no --device-token-file", p->printer_id);
    if (!p->uri) return fail(err, "--printer %s has no --uri", p->printer_id);
  }
  return 0;
}

void proxy_cfg_free(proxy_cfg_t *cfg) {
  free(cfg->server);
  free(cfg->state_dir);
  for (size_t i = 0; i < cfg->nprinters; i++) {
    free(cfg->printers[i].printer_id);
    free(cfg->printers[i].token_file);
    free(cfg->printers[i].uri);
    free(cfg->printers[i].formats);
  }
  memset(cfg, 0, sizeof *cfg);
}
