/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server's TLS certificate and key, replaceable while serving (SIGHUP).
 *
 * libmicrohttpd asks for the certificate on every TLS handshake through a GnuTLS retrieve
 * callback (MHD_OPTION_HTTPS_CERT_CALLBACK, tls_retrieve_cert); the callback hands out the
 * credentials loaded last. A reload loads the files into new credentials, checks that the key
 * belongs to the certificate, and swaps them in: handshakes from then on use the new pair,
 * connections already open keep theirs. Replaced credentials are kept until tls_unload (a
 * session may still refer to them), which is cheap since reloads are rare.
 *
 * There is one set of credentials per process (the callback has no user argument).
 */
#ifndef SPOOLD_HTTP_TLS_H
#define SPOOLD_HTTP_TLS_H

#include <stddef.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

/* Loads the PEM certificate (chain) and key. Returns 1 when they were loaded and differ from
 * the current ones, 0 when the certificate and key are the ones in use, -1 with a malloc'd
 * *err (the current ones stay) when a file cannot be read or parsed or the key does not
 * belong to the certificate. about receives "subject ..., expires ..., sha256 ..." of the
 * certificate now in use. Not thread-safe against itself (one reloading thread). */
int  tls_load(const char *cert_file, const char *key_file, char *about, size_t aboutlen,
              char **err);
/* The GnuTLS certificate retrieve callback for MHD_OPTION_HTTPS_CERT_CALLBACK. */
int  tls_retrieve_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                       gnutls_pcert_st **pcert, unsigned int *pcert_length,
                       gnutls_privkey_t *privkey);
/* Frees every set of credentials; call after the server has stopped. */
void tls_unload(void);

#endif
