/* SPDX-License-Identifier: Apache-2.0 */
/* Every printer share with its printer's advertised facts (store/share-adverts.h). */
#include "store/share-adverts.h"
#include "store/store-private.h"
#include "util/buf.h"

#include <stdlib.h>

void store_share_adverts_free(store_share_advert_t *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].share_id);
    free(v[i].tenant);
    free(v[i].name);
    free(v[i].manufacturer);
    free(v[i].model);
    free(v[i].location);
    free(v[i].capabilities);
  }
  free(v);
}

/* Fills the store_share_advert_t at item from a row of adverts_fn's statement. */
static void advert_row(db_stmt_t *s, void *item) {
  store_share_advert_t *x = item;
  x->share_id = store_col_strdup(s, 0, true);
  x->tenant = store_col_strdup(s, 1, true);
  x->name = store_col_strdup(s, 2, true);
  x->manufacturer = store_col_strdup(s, 3, false);
  x->model = store_col_strdup(s, 4, false);
  x->location = store_col_strdup(s, 5, false);
  x->capabilities = store_col_strdup(s, 6, false);
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
