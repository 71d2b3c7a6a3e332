/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print passwords in the store (migration 6): per-user secrets that stock desktop IPP clients
 * send with HTTP Basic to /ipp/share/{shareId}. Only a slow salted hash of each secret is kept
 * (auth/print-password.h makes and checks it), with the identity the user had when creating it
 * (tenant, oid, upn, name, groups): a password authenticates as exactly that identity until it
 * is revoked (deleted).
 *
 * Ownership: strings in store_print_password_t are malloc'd; release them with
 * store_print_password_clear() / store_print_passwords_free().
 */
#ifndef SPOOLD_STORE_PRINT_PASSWORDS_H
#define SPOOLD_STORE_PRINT_PASSWORDS_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_PRINT_PASSWORDS_MAX 10 /* per user */

typedef struct store_print_password {
  char   *id;                /* GUID */
  char   *tenant;
  char   *user_id;           /* oid */
  char   *user_name;         /* lower-cased upn: the login name */
  char   *user_display_name; /* may be NULL */
  char   *groups;            /* JSON array text of group ids ("[]") */
  char   *display_name;
  char   *hash;              /* auth/print-password.h format */
  int64_t created_us;
  int64_t last_used_us;      /* 0 = never */
} store_print_password_t;

/* Releases what *p holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_print_password_clear(store_print_password_t *p);
/* Clears each of v[0..n) (store_print_password_clear) and frees v (NULL is a no-op). */
void store_print_passwords_free(store_print_password_t *v, size_t n);

/* Inserts *p (all fields but last_used_us set by the caller) in one transaction, unless the
 * user already has STORE_PRINT_PASSWORDS_MAX passwords (STORE_CONFLICT). */
store_rc_t store_print_password_create(store_t *st, const store_print_password_t *p);

/* The passwords of user_id in tenant (user_id NULL: every user's), oldest first. *out is
 * malloc'd (store_print_passwords_free); *n may be 0. */
store_rc_t store_print_password_list(store_t *st, const char *tenant, const char *user_id,
                                     store_print_password_t **out, size_t *n);

/* The passwords whose login name is user_name (compared lower-cased) in tenant: the candidates
 * an HTTP Basic check tries. */
store_rc_t store_print_password_by_login(store_t *st, const char *tenant, const char *user_name,
                                         store_print_password_t **out, size_t *n);

/* Reads password id of tenant; STORE_NOT_FOUND when it does not exist (or was revoked). */
store_rc_t store_print_password_get(store_t *st, const char *tenant, const char *id,
                                    store_print_password_t *out);

/* Deletes password id of tenant (of user_id only, when user_id is not NULL): it stops working
 * at once. STORE_NOT_FOUND when there is no such password. */
store_rc_t store_print_password_delete(store_t *st, const char *tenant, const char *user_id,
                                       const char *id);

/* Records a successful use at now_us (at most one write a minute per password). */
store_rc_t store_print_password_used(store_t *st, const char *tenant, const char *id,
                                     int64_t now_us);

#endif
