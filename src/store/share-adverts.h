/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What DNS-SD advertises of every printer share (src/ipp/dnssd.c): each share of every tenant
 * with the printer facts its TXT record is built from. Read-only.
 * Ownership: the strings are malloc'd; store_share_adverts_free releases an array.
 */
#ifndef SPOOLD_STORE_SHARE_ADVERTS_H
#define SPOOLD_STORE_SHARE_ADVERTS_H

#include "store/store.h"

#include <stddef.h>

typedef struct store_share_advert {
  char *share_id;
  char *tenant;
  char *name;          /* the share's displayName */
  char *manufacturer;  /* the printer's; NULL when unset */
  char *model;         /* NULL when unset */
  char *location;      /* JSON printerLocation; NULL when unset */
  char *capabilities;  /* JSON printerCapabilities; NULL when never reported */
} store_share_advert_t;

/* Clears v[0..n) and frees v. */
void store_share_adverts_free(store_share_advert_t *v, size_t n);

/* Every share of every tenant, in share id order: *out (malloc'd, may be NULL when *n is 0). */
store_rc_t store_share_adverts(store_t *st, store_share_advert_t **out, size_t *n);

#endif
