/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print settings: the tenant's /print singleton (documentConversionEnabled and
 * printerDiscoverySettings.airPrint.incompatiblePrinters).
 *
 * A tenant without a print_settings row has the defaults; the row appears on the first
 * update and goes with the tenant (ON DELETE CASCADE).
 */
#include "store/store-private.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#define SETTINGS_DEFAULT_CONVERSION true

/* One row per existing tenant: the tenant's settings, or NULLs when it has none yet. */
#define SETTINGS_SELECT                                                                    \
  "SELECT t.id, s.document_conversion_enabled, s.airprint_incompatible_printers"           \
  " FROM tenants t LEFT JOIN print_settings s ON s.tenant_id = t.id WHERE t.id = ?"

typedef struct {
  const char                   *tenant;
  const store_settings_patch_t *patch;
  store_settings_t              cur;  /* out: the settings read (and, for updates, written) */
} settings_arg_t;

/* Releases the strings of *s and zeroes it. */
void store_settings_clear(store_settings_t *s) {
  if (!s) return;
  free(s->airprint_incompatible_printers);
  memset(s, 0, sizeof *s);
}

/* Reads the tenant's settings (defaults when it has no row) into a->cur. */
static int settings_read(db_conn_t *c, settings_arg_t *a) {
  db_stmt_t *s = db_prepare(c, SETTINGS_SELECT);
  db_bind_text(s, 1, a->tenant);
  int rc = db_step(s);
  if (rc == DB_ROW) {
    a->cur.document_conversion_enabled =
      db_col_null(s, 1) ? SETTINGS_DEFAULT_CONVERSION : db_col_int64(s, 1) != 0;
    a->cur.airprint_incompatible_printers = store_col_strdup(s, 2, false);
  }
  db_reset(s);
  return rc == DB_ROW ? 0 : rc == DB_DONE ? STORE_NOT_FOUND : DB_ERROR;
}

static int settings_get_fn(db_conn_t *c, void *arg) { return settings_read(c, arg); }

/* Reads tenant's settings into *out (the caller clears it with store_settings_clear);
 * STORE_NOT_FOUND when the tenant does not exist. *out is zeroed unless STORE_OK. */
store_rc_t store_settings_get(store_t *st, const char *tenant, store_settings_t *out) {
  memset(out, 0, sizeof *out);
  if (!tenant) return STORE_NOT_FOUND;
  settings_arg_t a = {.tenant = tenant};
  store_rc_t rc = store_rc(db_read(st->db, settings_get_fn, &a));
  if (rc == STORE_OK) *out = a.cur;
  else store_settings_clear(&a.cur);
  return rc;
}

static int settings_update_fn(db_conn_t *c, void *arg) {
  settings_arg_t *a = arg;
  const store_settings_patch_t *p = a->patch;
  store_settings_clear(&a->cur);  /* a backend may run a closure again (retry): start clean */
  int rc = settings_read(c, a);
  if (rc != 0) return rc;

  /* The merge happens here, under the write lock, so concurrent patches of different members
   * both survive. */
  if (p->set_document_conversion_enabled)
    a->cur.document_conversion_enabled = p->document_conversion_enabled;
  if (p->set_airprint_incompatible_printers) {
    free(a->cur.airprint_incompatible_printers);
    a->cur.airprint_incompatible_printers = p->airprint_incompatible_printers
                                              ? xstrdup(p->airprint_incompatible_printers)
                                              : NULL;
  }

  db_stmt_t *s = db_prepare(c,
    "INSERT INTO print_settings"
    " (tenant_id, document_conversion_enabled, airprint_incompatible_printers)"
    " VALUES (?, ?, ?)"
    " ON CONFLICT (tenant_id) DO UPDATE SET"
    " document_conversion_enabled = excluded.document_conversion_enabled,"
    " airprint_incompatible_printers = excluded.airprint_incompatible_printers");
  db_bind_text(s, 1, a->tenant);
  db_bind_int64(s, 2, a->cur.document_conversion_enabled ? 1 : 0);
  db_bind_text(s, 3, a->cur.airprint_incompatible_printers);
  rc = db_step(s);
  db_reset(s);
  return rc == DB_DONE ? 0 : rc;
}

/* Applies patch p to tenant's settings in one write transaction; STORE_NOT_FOUND when the
 * tenant does not exist. On STORE_OK, *out (if not NULL; the caller clears it) receives the
 * settings after the update. */
store_rc_t store_settings_update(store_t *st, const char *tenant, const store_settings_patch_t *p,
                                 store_settings_t *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!tenant) return STORE_NOT_FOUND;
  if (!p) return STORE_ERROR;
  settings_arg_t a = {.tenant = tenant, .patch = p};
  store_rc_t rc = store_rc(db_write(st->db, settings_update_fn, &a));
  if (rc == STORE_OK && out) *out = a.cur;
  else store_settings_clear(&a.cur);
  return rc;
}
