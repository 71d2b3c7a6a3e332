/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `spoold proxy --register NAME`: the proxy registers a new Graph printer with a certificate
 * signing request (POST /print/printers/create, then GET /print/operations/{id} until the
 * operation ends), keeps the key and the issued certificate under the state directory, and a
 * record DIR/<id>.printer (in the --config syntax) from which later starts serve the printer
 * (proxy-private.h).
 */
#include "proxy/proxy-private.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A new P-256 key and a CSR for it naming the printer (CN), signed with SHA-256: the CSR as
 * base64 DER, the public key as base64 SubjectPublicKeyInfo (the transport key) and the key
 * as PEM, all malloc'd. false when OpenSSL fails. */
static bool make_csr(const char *name, char **csr_b64, char **pub_b64, char **key_pem) {
  *csr_b64 = *pub_b64 = *key_pem = NULL;
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509_REQ *req = X509_REQ_new();
  X509_NAME *subj = X509_NAME_new();
  BIO *bio = BIO_new(BIO_s_mem());
  unsigned char *der = NULL, *pub = NULL;
  bool ok = false;
  char cn[65];
  snprintf(cn, sizeof cn, "%s", name);
  if (!key || !req || !subj || !bio ||
      !X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
      !X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, subj) ||
      !X509_REQ_set_pubkey(req, key) || !X509_REQ_sign(req, key, EVP_sha256()))
    goto out;
  int derlen = i2d_X509_REQ(req, &der);
  int publen = i2d_PUBKEY(key, &pub);
  if (derlen <= 0 || publen <= 0 || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
    goto out;
  char *pem = NULL;
  long pemlen = BIO_get_mem_data(bio, &pem);
  *csr_b64 = b64_encode(der, (size_t)derlen);
  *pub_b64 = b64_encode(pub, (size_t)publen);
  *key_pem = xstrndup(pem, (size_t)pemlen);
  ok = true;
out:
  OPENSSL_free(der);
  OPENSSL_free(pub);
  BIO_free(bio);
  X509_NAME_free(subj);
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  return ok;
}

static char *read_token(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  char line[8192];
  if (!f || !fgets(line, sizeof line, f)) {
    snprintf(err, errlen, "cannot read the administrator's token from %s: %s", path,
             f ? "the file is empty" : strerror(errno));
    if (f) fclose(f);
    return NULL;
  }
  fclose(f);
  line[strcspn(line, " \t\r\n")] = '\0';
  return xstrdup(line);
}

/* The certificate of the operation as PEM: spoold gives PEM (leaf, then its CA); base64 DER is
 * wrapped. */
static char *certificate_pem(const char *cert) {
  if (strstr(cert, "-----BEGIN CERTIFICATE-----")) return xstrdup(cert);
  buf_t b = BUF_INIT;
  buf_puts(&b, "-----BEGIN CERTIFICATE-----\n");
  size_t n = 0;
  for (const char *p = cert; *p; p++) {
    if (*p == ' ' || *p == '\r' || *p == '\n') continue;
    buf_putc(&b, *p);
    if (++n % 64 == 0) buf_putc(&b, '\n');
  }
  if (n % 64) buf_putc(&b, '\n');
  buf_puts(&b, "-----END CERTIFICATE-----\n");
  return buf_detach(&b);
}

/* The Graph error message of a refusal body, or the body itself. */
static void graph_error(const char *body, long status, const char *what, char *err, size_t errlen) {
  json_t *j = json_loads(body ? body : "", 0, NULL);
  const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
  snprintf(err, errlen, "%s: HTTP %ld: %s", what, status, msg ? msg : body && *body ? body : "no body");
  json_decref(j);
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

/* Writes path with data; -1 with a message. */
static int keep(const char *path, const char *data, char *err, size_t errlen) {
  if (proxy_state_write_file(path, data, strlen(data)) == 0) return 0;
  snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
  return -1;
}

/* Registers pc; see proxy-private.h. */
int proxy_register(const proxy_cfg_t *cfg, proxy_printer_cfg_t *pc, char *err, size_t errlen) {
  int rc = -1;
  char *token = NULL, *csr = NULL, *pub = NULL, *key = NULL, *resp = NULL, *loc = NULL;
  char *cert = NULL;
  json_t *body = NULL, *op = NULL;
  proxy_http_t *h = NULL;
  proxy_device_t *dev = NULL;
  buf_t url = BUF_INIT, path = BUF_INIT, rec = BUF_INIT;
  char make[128], model[256], uuid[ID_GUID_LEN + 1];

  for (const char *p = pc->register_name; *p; p++)
    if ((unsigned char)*p < 0x20) {
      snprintf(err, errlen, "--register: the printer name must not contain control characters");
      goto out;
    }
  if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create the state directory %s: %s", cfg->state_dir, strerror(errno));
    goto out;
  }
  if (!(token = read_token(cfg->admin_token_file, err, errlen))) goto out;
  if (!(dev = proxy_device_new(pc->uri, pc->formats, err, errlen))) goto out;
  proxy_device_make_model(dev, make, sizeof make, model, sizeof model);
  if (!make_csr(pc->register_name, &csr, &pub, &key)) {
    snprintf(err, errlen, "cannot make a key and a certificate signing request (OpenSSL)");
    goto out;
  }
  if (!(h = proxy_http_new(cfg->ca_file, NULL, NULL))) {
    snprintf(err, errlen, "libcurl cannot be set up");
    goto out;
  }
  /* the output device's uuid doubles as the physical device id */
  id_guid(uuid);
  body = json_pack("{s:s, s:s, s:s, s:b, s:s, s:{s:s, s:s}}", "displayName", pc->register_name,
                   "manufacturer", make, "model", model, "hasPhysicalDevice", 1,
                   "physicalDeviceId", uuid, "certificateSigningRequest", "content", csr,
                   "transportKey", pub);
  char *json = json_dumps(body, JSON_COMPACT);
  const char *base = cfg->server;
  size_t blen = strlen(base);
  while (blen && base[blen - 1] == '/') blen--;
  buf_printf(&url, "%.*s/v1.0/print/printers/create", (int)blen, base);
  int retry = 0;
  long st = proxy_http_json(h, "POST", url.data, token, json, &resp, &loc, &retry, err, errlen);
  free(json);
  if (!st) goto out; /* err says why */
  if (st != 202 || !loc) {
    graph_error(resp, st, "POST /print/printers/create", err, errlen);
    goto out;
  }
  /* poll the operation by its id, at spoold's address (Operation-Location is the public URL) */
  const char *opid = strrchr(loc, '/');
  opid = opid ? opid + 1 : loc;
  buf_reset(&url);
  buf_printf(&url, "%.*s/v1.0/print/operations/%s", (int)blen, base, opid);
  log_info("proxy: registering printer '%s' (%s %s at %s): operation %s", pc->register_name, make,
           model, pc->uri, opid);
  const char *state = NULL;
  for (int i = 0; i < 600; i++) {
    /* Retry-After paces the polls (at most 10 s apart); the first look comes sooner */
    sleep_s(i == 0 ? 0.2 : retry > 0 ? (retry > 10 ? 10 : retry) : 1);
    free(resp);
    resp = NULL;
    st = proxy_http_json(h, "GET", url.data, token, NULL, &resp, NULL, &retry, err, errlen);
    if (!st) goto out;
    if (st != 200) {
      graph_error(resp, st, "GET /print/operations", err, errlen);
      goto out;
    }
    json_decref(op);
    op = json_loads(resp, 0, NULL);
    state = json_string_value(json_object_get(json_object_get(op, "status"), "state"));
    if (state && (!strcmp(state, "succeeded") || !strcmp(state, "failed"))) break;
  }
  if (!state || strcmp(state, "succeeded")) {
    const char *why = json_string_value(json_object_get(json_object_get(op, "status"), "description"));
    snprintf(err, errlen, "the registration of '%s' %s: %s", pc->register_name,
             state ? state : "did not end", why ? why : "no description");
    goto out;
  }
  const char *id = json_string_value(json_object_get(json_object_get(op, "printer"), "id"));
  const char *c = json_string_value(json_object_get(op, "certificate"));
  if (!id || !c || strspn(id, "0123456789abcdefABCDEF-") != strlen(id)) {
    snprintf(err, errlen, "the registration of '%s' succeeded without a printer id or certificate",
             pc->register_name);
    goto out;
  }
  cert = certificate_pem(c);

  /* key, certificate and uuid first; the record last: without it the next start registers anew */
  buf_printf(&path, "%s/%s.key", cfg->state_dir, id);
  if (keep(path.data, key, err, errlen) != 0) goto out;
  free(pc->key_file);
  pc->key_file = buf_detach(&path);
  buf_printf(&path, "%s/%s.crt", cfg->state_dir, id);
  if (keep(path.data, cert, err, errlen) != 0) goto out;
  free(pc->cert_file);
  pc->cert_file = buf_detach(&path);
  buf_printf(&path, "%s/%s.uuid", cfg->state_dir, id);
  buf_printf(&rec, "urn:uuid:%s\n", uuid);
  if (keep(path.data, rec.data, err, errlen) != 0) goto out;
  buf_reset(&path);
  buf_reset(&rec);
  buf_printf(&rec, "# spoold proxy: the Graph printer it registered as '%s' (read at every start)\n"
                   "server = %s\n", pc->register_name, cfg->server);
  if (cfg->ca_file) buf_printf(&rec, "ca-file = %s\n", cfg->ca_file);
  buf_printf(&rec, "printer = %s\nregistered-as = %s\ncertificate-file = %s\nkey-file = %s\n"
                   "uri = %s\n", id, pc->register_name, pc->cert_file, pc->key_file, pc->uri);
  if (pc->formats) buf_printf(&rec, "formats = %s\n", pc->formats);
  buf_printf(&path, "%s/%s.printer", cfg->state_dir, id);
  if (keep(path.data, rec.data, err, errlen) != 0) goto out;
  pc->printer_id = xstrdup(id);
  log_info("proxy: registered printer '%s' as %s; its certificate is %s", pc->register_name, id,
           pc->cert_file);
  rc = 0;
out:
  free(token);
  free(csr);
  free(pub);
  if (key) OPENSSL_cleanse(key, strlen(key));
  free(key);
  free(resp);
  free(loc);
  free(cert);
  json_decref(body);
  json_decref(op);
  proxy_http_free(h);
  proxy_device_free(dev);
  buf_free(&url);
  buf_free(&path);
  buf_free(&rec);
  return rc;
}
