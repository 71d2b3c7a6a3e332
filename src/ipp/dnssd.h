/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS-SD advertising of printer shares (--dnssd; docs/ipp-printing.md): every share is
 * registered with the local Avahi daemon (libavahi-client over the D-Bus system bus) as an IPP
 * Everywhere printer, `_ipp._tcp` (`_ipps._tcp` when spoold serves TLS) with the `_print` and
 * `_universal` subtypes and the TXT keys of IPP Everywhere and AirPrint. The set of shares is
 * read from the store every IPP_DNSSD_SYNC_MS, so creations, renames and deletions (also by
 * other processes on a shared database) reach the network within that time.
 */
#ifndef SPOOLD_IPP_DNSSD_H
#define SPOOLD_IPP_DNSSD_H

#include "store/share-adverts.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPP_DNSSD_SYNC_MS 2000

struct app;
typedef struct ipp_dnssd ipp_dnssd_t;

/* Starts advertising the shares of app's store on app's port (the daemon may come later:
 * registration waits for it). The advertiser, which the caller owns (ipp_dnssd_stop), or NULL
 * with *err (malloc'd). */
ipp_dnssd_t *ipp_dnssd_start(struct app *app, char **err);

/* Withdraws every advertisement, stops and frees d. NULL-safe. */
void ipp_dnssd_stop(ipp_dnssd_t *d);

#define IPP_DNSSD_TXT_MAX 24

/* The TXT record of share a: up to IPP_DNSSD_TXT_MAX "key=value" strings written to out[]
 * (each malloc'd; free with ipp_dnssd_txt_free), returning their count. public_url is the
 * base of adminurl; tls says the record is for _ipps._tcp. Pure. */
size_t ipp_dnssd_txt(const store_share_advert_t *a, const char *public_url, bool tls,
                     char *out[IPP_DNSSD_TXT_MAX]);
/* Frees the n strings of v (the array itself is the caller's). */
void   ipp_dnssd_txt_free(char **v, size_t n);

#endif
