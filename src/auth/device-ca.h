/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tenant's device CA: checks the PKCS#10 certificate signing requests that printers send
 * with their registration (POST /print/printers/create) and signs them.
 *
 * Pure OpenSSL, no I/O and no store: the caller keeps the CA's key and certificate (PEM) in
 * the store (table device_cas) and hands them in. Every string returned is malloc'd and owned
 * by the caller.
 *
 * What is accepted in a CSR (device_ca_check_csr):
 *   - encoding: base64 of the DER request (what Universal Print clients send), or PEM text
 *     ("-----BEGIN CERTIFICATE REQUEST-----"), bare or itself base64-encoded;
 *   - the signature is made with SHA-256 (RSA PKCS#1 v1.5 or ECDSA);
 *   - the key is RSA of at least 2048 bits, or EC on P-256 (prime256v1);
 *   - the self-signature verifies with the request's own key.
 * A refusal comes with a sentence saying why, suitable for printOperationStatus.description.
 *
 * What is issued (device_ca_sign): an X.509 v3 certificate for the CSR's public key with
 * subject CN = the printer id, issuer = the CA, the given serial, validity from now to now +
 * DEVICE_CA_CERT_DAYS, basicConstraints CA:FALSE, keyUsage digitalSignature (plus
 * keyEncipherment for RSA keys), extendedKeyUsage clientAuth, subject and authority key
 * identifiers, signed with SHA-256. The CA itself (device_ca_create) is an EC P-256 key with a
 * self-signed certificate valid DEVICE_CA_DAYS days.
 */
#ifndef SPOOLD_AUTH_DEVICE_CA_H
#define SPOOLD_AUTH_DEVICE_CA_H

#include <stddef.h>
#include <stdint.h>

#define DEVICE_CA_DAYS       (20 * 365) /* validity of a tenant's CA certificate */
#define DEVICE_CA_CERT_DAYS  (3 * 365)  /* validity of a printer's device certificate */
#define DEVICE_CA_MAX_CSR    65536      /* longest CSR text accepted, in bytes */
#define DEVICE_CA_MIN_RSA_BITS 2048

enum {
  DEVICE_CA_OK = 0,
  DEVICE_CA_BAD_CSR = 1, /* the request is refused; why says why */
  DEVICE_CA_ERROR = -1,  /* a bad CA key/certificate or an OpenSSL failure; why says what */
};

/* Creates a CA for tenant: a new EC P-256 key and a self-signed certificate (subject
 * CN=spoold device CA, O=<tenant>, random 64-bit serial) valid from now_s for DEVICE_CA_DAYS.
 * On DEVICE_CA_OK *key_pem (PKCS#8) and *cert_pem receive malloc'd PEM text the caller frees. */
int device_ca_create(const char *tenant, int64_t now_s, char **key_pem, char **cert_pem,
                     char *why, size_t whylen);

/* Checks a CSR (see the header comment for the rules) without signing it. Returns DEVICE_CA_OK
 * or DEVICE_CA_BAD_CSR with a sentence in why. */
int device_ca_check_csr(const char *content, char *why, size_t whylen);

/* Checks the CSR in content and signs it with the CA (ca_key_pem, ca_cert_pem) as described in
 * the header comment: subject CN = subject_cn, the given serial (> 0), valid from now_s for
 * DEVICE_CA_CERT_DAYS. On DEVICE_CA_OK *cert_pem receives the device certificate followed by the
 * CA certificate (a PEM chain, leaf first) and *sha256_hex (when not NULL) the lower-case hex
 * SHA-256 of the device certificate's DER; both malloc'd, the caller frees them. */
int device_ca_sign(const char *ca_key_pem, const char *ca_cert_pem, const char *content,
                   const char *subject_cn, int64_t serial, int64_t now_s, char **cert_pem,
                   char **sha256_hex, char *why, size_t whylen);

#endif
