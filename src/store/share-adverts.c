/* SPDX-License-Identifier: Apache-2.0 */
/* Every printer share with its printer's advertised facts (store/share-adverts.h). */
#include "store/share-adverts.h"
#include "store/store-private.h"
#include "util/buf.h"

#include <stdlib.h>

/* The members of store_share_advert_t, in the order of adverts_fn's columns. */
static const store_col_t ADVERT_MAP[] = {
  STORE_COL(TEXT_EMPTY, store_share_advert_t, share_id),
  STORE_COL(TEXT_EMPTY, store_share_advert_t, tenant),
  STORE_COL(TEXT_EMPTY, store_share_advert_t, name),
  STORE_COL(TEXT, store_share_advert_t, manufacturer),
  STORE_COL(TEXT, store_share_advert_t, model),
  STORE_COL(TEXT, store_share_advert_t, location),
  STORE_COL(TEXT, store_share_advert_t, capabilities),
};

/* See share-adverts.h. */
void store_share_adverts_free(store_share_advert_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) store_cols_free(ADVERT_MAP, STORE_NCOLS(ADVERT_MAP), &v[i]);
  free(v);
}

/* Fills the store_share_advert_t at item from a row of adverts_fn's statement. */
static void advert_row(db_stmt_t *s, void *item) {
  store_cols_read(s, ADVERT_MAP, STORE_NCOLS(ADVERT_MAP), item);
}

typedef struct adverts_arg {
  store_share_advert_t *v;
  size_t                n;
} adverts_arg_t;

static int adverts_fn(db_conn_t *c, void *arg) {
  adverts_arg_t *a = arg;
  store_share_adverts_free(a->v, a->n);
  a->v = NULL;
  a->n = 0;
  db_stmt_t *s = db_prepare(c, "SELECT s.id, s.tenant_id, s.display_name, p.manufacturer,"
                               " p.model, p.location, p.capabilities"
                               " FROM shares s JOIN printers p ON p.id = s.printer_id"
                               " ORDER BY s.id");
  return store_read_rows(s, sizeof *a->v, advert_row, (void **)&a->v, &a->n);
}

/* Every share with its printer; see share-adverts.h. */
store_rc_t store_share_adverts(store_t *st, store_share_advert_t **out, size_t *n) {
  adverts_arg_t a = {0};
  store_rc_t rc = store_rc(db_read(st->db, adverts_fn, &a));
  if (rc != STORE_OK) {
    store_share_adverts_free(a.v, a.n);
    a.v = NULL;
    a.n = 0;
  }
  *out = a.v;
  *n = a.n;
  return rc;
}
