/*
 * Private to src/store: what the store modules (tenants.c, settings.c, ...) share.
 *
 * A store module is a set of store_xxx_* functions that each run one db_read() or db_write()
 * closure on st->db and turn its result into a store_rc_t with store_rc().
 */
#ifndef SPOOLD_STORE_STORE_PRIVATE_H
#define SPOOLD_STORE_STORE_PRIVATE_H

#include "store/db.h"
#include "store/store.h"

struct store {
  db_t *db;  /* owned */
};

/* Maps a closure's return value to a store_rc_t. Closures return 0, a STORE_* code
 * (STORE_NOT_FOUND, STORE_CONFLICT) or a DB_* error; DB_CONSTRAINT becomes STORE_CONFLICT and
 * any other value STORE_ERROR. Never return db_step()'s DB_ROW/DB_DONE from a closure: they
 * are 1 and 2, the same numbers as STORE_NOT_FOUND and STORE_CONFLICT. */
store_rc_t store_rc(int rc);

/* A malloc'd copy of text column col, "" for NULL when empty_for_null, else NULL. */
char *store_col_strdup(db_stmt_t *s, int col, bool empty_for_null);

/* Integer column col, dflt when it is NULL. */
int64_t store_col_i64_or(db_stmt_t *s, int col, int64_t dflt);

/* A malloc'd copy of blob column col and its length in *len; NULL (and *len 0) for NULL. The
 * caller frees. */
void *store_col_blob_dup(db_stmt_t *s, int col, size_t *len);

/* Steps a statement that returns no rows and resets it: 0, DB_CONSTRAINT or DB_ERROR (never
 * DB_ROW/DB_DONE, so a closure may return it as it is). */
int store_step_done(db_stmt_t *s);

#endif
