/* SPDX-License-Identifier: Apache-2.0 */
/* `spoold tenant`: manages tenants and their subscription state in the store. */
#include "cmd/cmd.h"
#include "auth/identity.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_STORE = 1, EXIT_USAGE = 2, EXIT_NOT_FOUND = 3, EXIT_EXISTS = 4 };

static const char USAGE[] =
    "usage: spoold tenant add TID [--name NAME] [--suspended]  (--data DIR | --store URL)\n"
    "       spoold tenant list                                  (--data DIR | --store URL)\n"
    "       spoold tenant show TID                              (--data DIR | --store URL)\n"
    "       spoold tenant suspend TID                           (--data DIR | --store URL)\n"
    "       spoold tenant resume TID                            (--data DIR | --store URL)\n"
    "       spoold tenant remove TID --yes                      (--data DIR | --store URL)\n"
    "\n"
    "A tenant is the tid of the tokens its users and apps present. Requests of a suspended\n"
    "tenant (no active Universal Print subscription) get 403; running servers notice within\n"
    "5 seconds. `remove` deletes the tenant and every printer, share, job and document of it.\n"
    "The store is --store URL, or sqlite:DIR/spoold.db for --data DIR.\n"
    "\n"
    "Exit status: 0 done, 1 store failure, 2 usage error, 3 no such tenant, 4 tenant exists.\n";

static int usage_error(const char *fmt, const char *arg) {
  return cmd_usage_error("tenant", fmt, arg);  /* EXIT_USAGE */
}

static const char *state_name(tenant_state_t s) {
  return s == TENANT_ACTIVE ? "active" : s == TENANT_SUSPENDED ? "suspended" : "unknown";
}

static int print_row(const store_tenant_t *t, void *arg) {
  char created[TIME_ISO_LEN];
  int *n = arg;
  if (!(*n)++) printf("%-38s %-10s %-28s %s\n", "TENANT", "STATE", "CREATED", "NAME");
  time_format_iso(t->created_us, created);
  printf("%-38s %-10s %-28s %s\n", t->id, state_name(t->state), created,
         t->display_name ? t->display_name : "");
  return 0;
}

static int store_failed(const char *what, const char *tid) {
  fprintf(stderr, "spoold tenant: could not %s tenant %s: store error (see the log above)\n", what,
          tid);
  return EXIT_STORE;
}

static int not_found(const char *tid) {
  fprintf(stderr, "spoold tenant: no tenant %s\n", tid);
  return EXIT_NOT_FOUND;
}

/* Runs one action on an open store. */
static int run(store_t *st, const char *action, const char *tid, const char *name,
               bool suspended) {
  store_rc_t rc;
  if (!strcmp(action, "list")) {
    int n = 0;
    if (store_tenant_list(st, print_row, &n) != STORE_OK) {
      fputs("spoold tenant: could not list tenants: store error\n", stderr);
      return EXIT_STORE;
    }
    if (!n) puts("no tenants");
    return EXIT_OK;
  }
  if (!strcmp(action, "add")) {
    tenant_state_t state = suspended ? TENANT_SUSPENDED : TENANT_ACTIVE;
    rc = store_tenant_add(st, tid, name ? name : "", state);
    if (rc == STORE_CONFLICT) {
      fprintf(stderr, "spoold tenant: tenant %s already exists\n", tid);
      return EXIT_EXISTS;
    }
    if (rc != STORE_OK) return store_failed("add", tid);
    printf("added tenant %s (%s)\n", tid, state_name(state));
    return EXIT_OK;
  }
  if (!strcmp(action, "show")) {
    store_tenant_t t = {0};
    rc = store_tenant_get(st, tid, &t);
    if (rc == STORE_NOT_FOUND) return not_found(tid);
    if (rc != STORE_OK) return store_failed("read", tid);
    char created[TIME_ISO_LEN];
    time_format_iso(t.created_us, created);
    printf("tenant:  %s\nname:    %s\nstate:   %s\ncreated: %s\n", t.id,
           t.display_name ? t.display_name : "", state_name(t.state), created);
    store_tenant_clear(&t);
    return EXIT_OK;
  }
  if (!strcmp(action, "suspend") || !strcmp(action, "resume")) {
    bool suspend = !strcmp(action, "suspend");
    rc = store_tenant_set_state(st, tid, suspend ? TENANT_SUSPENDED : TENANT_ACTIVE);
    if (rc == STORE_NOT_FOUND) return not_found(tid);
    if (rc != STORE_OK) return store_failed(action, tid);
    printf(suspend ? "suspended tenant %s: its requests now get 403 (running servers notice "
                     "within 5 seconds)\n"
                   : "resumed tenant %s (active)\n", tid);
    return EXIT_OK;
  }
  /* remove */
  rc = store_tenant_remove(st, tid);
  if (rc == STORE_NOT_FOUND) return not_found(tid);
  if (rc != STORE_OK) return store_failed("remove", tid);
  printf("removed tenant %s and all of its data\n", tid);
  return EXIT_OK;
}

int tenant_command(int argc, char **argv) {
  const char *action = NULL, *tid = NULL, *data = NULL, *url = NULL, *name = NULL;
  bool suspended = false, yes = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **val = !strcmp(a, "--data") ? &data : !strcmp(a, "--store") ? &url
                     : !strcmp(a, "--name") ? &name : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(USAGE, stdout);
      return EXIT_OK;
    } else if (val) {
      if (*val) return usage_error("%s is given twice", a);
      if (i + 1 >= argc) return usage_error("%s needs a value", a);
      *val = argv[++i];
    } else if (!strcmp(a, "--suspended")) {
      suspended = true;
    } else if (!strcmp(a, "--yes")) {
      yes = true;
    } else if (a[0] == '-') {
      return usage_error("unknown option %s", a);
    } else if (!action) {
      action = a;
    } else if (!tid) {
      tid = a;
    } else {
      return usage_error("unexpected argument %s", a);
    }
  }
  static const char *const ACTIONS[] = {"add", "list", "show", "suspend", "resume", "remove"};
  bool known = false;
  for (size_t i = 0; action && i < sizeof ACTIONS / sizeof ACTIONS[0]; i++)
    known |= !strcmp(action, ACTIONS[i]);
  if (!action) return usage_error("%s", "which action? add, list, show, suspend, resume or remove");
  if (!known) return usage_error("unknown action %s (add, list, show, suspend, resume, remove)",
                                 action);
  bool is_list = !strcmp(action, "list"), is_add = !strcmp(action, "add");
  if (is_list && tid) return usage_error("unexpected argument %s", tid);
  if (!is_list && !tid) return usage_error("%s needs a tenant id", action);
  if (tid && !identity_valid_id(tid))
    return usage_error("\"%s\" is not a valid tenant id (letters, digits, '.', '_' or '-', at "
                       "most 128; the tid of the tenant's tokens)", tid);
  if (!is_add && (name || suspended))
    return usage_error("%s", "--name and --suspended go with add");
  if (yes && strcmp(action, "remove"))
    return usage_error("%s", "--yes goes with remove");
  if (!strcmp(action, "remove") && !yes) {
    fprintf(stderr, "spoold tenant: remove deletes tenant %s and all of its printers, shares, "
                    "jobs and documents; add --yes to confirm\n", tid);
    return EXIT_USAGE;
  }
  if (!data && !url) return usage_error("%s", "give --data DIR or --store URL");

  buf_t u = BUF_INIT;
  if (url) buf_puts(&u, url);
  else buf_printf(&u, "sqlite:%s/spoold.db", data);
  char *err = NULL;
  store_t *st = store_open(u.data, 1, true, &err);
  if (!st) {
    fprintf(stderr, "spoold tenant: cannot open the store %s: %s\n", u.data,
            err ? err : "unknown error");
    free(err);
    buf_free(&u);
    return EXIT_STORE;
  }
  buf_free(&u);
  int rc = run(st, action, tid, name, suspended);
  store_close(st);
  return rc;
}
