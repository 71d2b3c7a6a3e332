/* SPDX-License-Identifier: Apache-2.0 */
/* The development issuer: its signing key in the data directory, and token minting. */
#include "auth/dev.h"
#include "auth/identity.h"
#include "auth/jwt.h"
#include "util/buf.h"
#include "util/ids.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEY_FILE 65536

struct dev_key {
  EVP_PKEY *pkey;
  char      kid[44];
  char     *path;
};

static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  (void)buf, (void)size, (void)rwflag, (void)u;
  return -1; /* never prompt on a terminal */
}

static bool is_p256(EVP_PKEY *k) {
  char name[64];
  return EVP_PKEY_is_a(k, "EC") &&
         EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name,
                                        NULL) == 1 &&
         (!strcmp(name, "prime256v1") || !strcmp(name, "P-256"));
}

/* Reads the key file. NULL with errno = ENOENT when it does not exist (then *err is NULL). */
static EVP_PKEY *read_key(const char *path, char **err) {
  *err = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    if (e != ENOENT) *err = xasprintf("%s: %s", path, strerror(e));
    errno = e;
    return NULL;
  }
  struct stat st;
  char *data = NULL;
  EVP_PKEY *k = NULL;
  ssize_t got = 0;
  if (fstat(fd, &st) != 0) {
    *err = xasprintf("%s: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    *err = xasprintf("%s: not a regular file", path);
  } else if (st.st_mode & 077) {
    *err = xasprintf("%s: the development signing key is accessible to other users (mode %03o); "
                "run chmod 600 on it", path, (unsigned)(st.st_mode & 0777));
  } else if (st.st_size <= 0 || st.st_size > MAX_KEY_FILE) {
    *err = xasprintf("%s: not a development signing key (size %lld)", path, (long long)st.st_size);
  } else {
    data = xmalloc((size_t)st.st_size);
    while (got < st.st_size) {
      ssize_t r = read(fd, data + got, (size_t)(st.st_size - got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += r;
    }
    BIO *bio = got == st.st_size ? BIO_new_mem_buf(data, (int)got) : NULL;
    if (bio) k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (!k || !is_p256(k)) {
      *err = xasprintf("%s: not an EC P-256 private key in PEM form", path);
      EVP_PKEY_free(k);
      k = NULL;
    }
    OPENSSL_cleanse(data, (size_t)st.st_size);
    free(data);
  }
  close(fd);
  return k;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Creates a new key file at path unless one appears first. 0, or -1 with *err. */
static int create_key(const char *dir, const char *path, char **err) {
  EVP_PKEY *k = EVP_EC_gen("P-256");
  BIO *bio = BIO_new(BIO_s_mem());
  char *pem = NULL;
  long pemlen = 0;
  if (!k || !bio || PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1 ||
      (pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
    *err = xasprintf("cannot generate the development signing key");
    BIO_free(bio);
    EVP_PKEY_free(k);
    return -1;
  }
  char rnd[24], tmp[4096];
  id_secret(rnd, sizeof rnd, 9);
  snprintf(tmp, sizeof tmp, "%s/.%s.%ld.%s", dir, DEV_KEY_FILE, (long)getpid(), rnd);
  int rc = -1;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *err = xasprintf("%s: %s", tmp, strerror(errno));
  } else {
    if (fchmod(fd, 0600) != 0 || write_all(fd, pem, (size_t)pemlen) != 0 || fsync(fd) != 0) {
      *err = xasprintf("%s: %s", tmp, strerror(errno));
    } else if (link(tmp, path) != 0 && errno != EEXIST) { /* EEXIST: another process won */
      *err = xasprintf("%s: %s", path, strerror(errno));
    } else {
      rc = 0;
    }
    close(fd);
    unlink(tmp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      if (fsync(dfd) != 0 && rc == 0) {
        *err = xasprintf("%s: %s", dir, strerror(errno));
        rc = -1;
      }
      close(dfd);
    }
  }
  OPENSSL_cleanse(pem, (size_t)pemlen);
  BIO_free(bio);
  EVP_PKEY_free(k);
  return rc;
}

dev_key_t *dev_key_open(const char *data_dir, bool *created, char **err) {
  struct stat st;
  *err = NULL;
  if (created) *created = false;
  if (!data_dir || !*data_dir) {
    *err = xasprintf("the development identity needs a data directory (--data DIR)");
    return NULL;
  }
  if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    *err = xasprintf("data directory %s does not exist", data_dir);
    return NULL;
  }
  buf_t p = BUF_INIT;
  buf_printf(&p, "%s/%s", data_dir, DEV_KEY_FILE);
  EVP_PKEY *k = read_key(p.data, err);
  if (!k && !*err) { /* ENOENT: first start */
    if (create_key(data_dir, p.data, err) == 0) {
      k = read_key(p.data, err);
      if (k && created) *created = true;
      if (!k && !*err) *err = xasprintf("%s: vanished after it was created", p.data);
    }
  }
  if (!k) {
    buf_free(&p);
    return NULL;
  }
  dev_key_t *dk = xcalloc(1, sizeof *dk);
  dk->pkey = k;
  dk->path = buf_detach(&p);
  if (jwt_jwk_thumbprint(k, dk->kid) != 0) {
    *err = xasprintf("%s: cannot compute the key id", dk->path);
    dev_key_free(dk);
    return NULL;
  }
  return dk;
}

const char *dev_key_kid(const dev_key_t *k) { return k->kid; }
const char *dev_key_path(const dev_key_t *k) { return k->path; }

char *dev_key_jwks(const dev_key_t *k) {
  char *jwk = jwt_jwk_json(k->pkey, k->kid);
  if (!jwk) return NULL;
  buf_t b = BUF_INIT;
  buf_printf(&b, "{\"keys\":[%s]}", jwk);
  free(jwk);
  return buf_detach(&b);
}

void dev_key_free(dev_key_t *k) {
  if (!k) return;
  EVP_PKEY_free(k->pkey);
  free(k->path);
  free(k);
}

/* True when every word of list (split on seps) is printable ASCII without quotes. */
static bool words_ok(const char *list, const char *seps, const char **bad) {
  for (const char *p = list; p && *p;) {
    p += strspn(p, seps);
    size_t n = strcspn(p, seps);
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)p[i];
      if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
        *bad = p;
        return false;
      }
    }
    p += n;
  }
  return true;
}

static bool utf8_ok(const char *s) {
  json_t *j = json_string(s); /* jansson refuses invalid UTF-8 */
  json_decref(j);
  return j != NULL;
}

/* Appends the words of list (split on seps) to arr; dev_token_check vetted them. */
static void add_words(json_t *arr, const char *list, const char *seps) {
  for (const char *p = list; p && *p;) {
    p += strspn(p, seps);
    size_t n = strcspn(p, seps);
    if (n) json_array_append_new(arr, json_stringn(p, n));
    p += n;
  }
}

static bool printable(const char *s) {
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return false;
  return true;
}

int dev_token_check(const dev_token_req_t *r, char **err) {
  *err = NULL;
  bool user = r->kind == DEV_TOKEN_USER;
  const char *bad = NULL;
  if (r->kind == DEV_TOKEN_DEVICE) {
    *err = xasprintf("--device: printer device tokens are not development JWTs; `spoold token "
                "--device PRINTER_ID` issues them from the store (ipp/device-auth.h)");
    return -1;
  }
  if (r->kind != DEV_TOKEN_APP && !user) {
    *err = xasprintf("unknown token kind");
    return -1;
  }
  if (!r->tenant) {
    *err = xasprintf("--tenant TID is required");
    return -1;
  }
  if (!identity_valid_id(r->tenant)) {
    *err = xasprintf("--tenant: \"%s\" is not a valid tenant id (up to %d letters, digits, '.', "
                "'_' or '-'; a GUID in Entra ID)", r->tenant, CALLER_MAX_ID);
    return -1;
  }
  if (!r->app_id) {
    *err = xasprintf("--app APPID is required");
    return -1;
  }
  if (!identity_valid_id(r->app_id)) {
    *err = xasprintf("--app: \"%s\" is not a valid application id", r->app_id);
    return -1;
  }
  if (r->ttl < 0 || r->ttl > DEV_TTL_MAX) {
    *err = xasprintf("--ttl must be between 1 and %ld seconds", DEV_TTL_MAX);
    return -1;
  }
  if (user) {
    if (!r->user_oid) {
      *err = xasprintf("--user OID is required for a delegated token");
      return -1;
    }
    if (!identity_valid_id(r->user_oid)) {
      *err = xasprintf("--user: \"%s\" is not a valid user object id", r->user_oid);
      return -1;
    }
    if (r->roles) {
      *err = xasprintf("--roles is for application tokens; a user token carries --scopes");
      return -1;
    }
    if (!r->scopes || !r->scopes[strspn(r->scopes, " ")]) {
      *err = xasprintf("a user token needs --scopes \"S1 S2\" (its delegated permissions)");
      return -1;
    }
    if (r->upn && (!*r->upn || strpbrk(r->upn, " \"\\") || !printable(r->upn))) {
      *err = xasprintf("--upn must be a non-empty name without spaces, quotes or control characters");
      return -1;
    }
    if (r->name && !printable(r->name)) {
      *err = xasprintf("--name must not contain control characters");
      return -1;
    }
  } else {
    const char *opt = r->user_oid ? "--user" : r->scopes ? "--scopes" : r->upn ? "--upn"
                    : r->name ? "--name" : r->groups ? "--groups" : r->admin ? "--admin" : NULL;
    if (opt) {
      *err = xasprintf("%s needs --user: it describes the signed-in user of a delegated token", opt);
      return -1;
    }
    if (!r->roles) {
      *err = xasprintf("an application token needs --roles \"R1 R2\" (its application permissions; "
                  "\"\" for none), or give --user for a delegated token");
      return -1;
    }
  }
  if (!words_ok(user ? r->scopes : r->roles, " ", &bad) ||
      (user && !words_ok(r->groups, ",", &bad))) {
    *err = xasprintf("bad character in \"%s\" (permission names and group ids are plain ASCII)", bad);
    return -1;
  }
  if ((r->upn && !utf8_ok(r->upn)) || (r->name && !utf8_ok(r->name))) {
    *err = xasprintf("%s is not valid UTF-8", r->upn && !utf8_ok(r->upn) ? "--upn" : "--name");
    return -1;
  }
  return 0;
}

char *dev_token_mint(const dev_key_t *k, const dev_token_req_t *r, char **err) {
  bool user = r->kind == DEV_TOKEN_USER;
  if (dev_token_check(r, err) != 0) return NULL;
  if (!k) {
    *err = xasprintf("no signing key");
    return NULL;
  }
  int64_t now = r->now ? r->now : (int64_t)time(NULL);
  long ttl = r->ttl ? r->ttl : DEV_TTL_DEFAULT;
  char uti[24];
  id_secret(uti, sizeof uti, 16);
  json_t *c = json_object();
  json_object_set_new(c, "aud", json_string(DEV_AUDIENCE));
  json_object_set_new(c, "iss", json_string(DEV_ISSUER));
  json_object_set_new(c, "iat", json_integer(now));
  json_object_set_new(c, "nbf", json_integer(now));
  json_object_set_new(c, "exp", json_integer(now + ttl));
  json_object_set_new(c, "tid", json_string(r->tenant));
  json_object_set_new(c, "appid", json_string(r->app_id));
  json_object_set_new(c, "idtyp", json_string(user ? "user" : "app"));
  json_object_set_new(c, "uti", json_string(uti));
  json_object_set_new(c, "ver", json_string("1.0"));
  if (user) {
    json_t *scp = json_array(), *groups = json_array();
    add_words(scp, r->scopes, " ");
    add_words(groups, r->groups, ",");
    buf_t s = BUF_INIT;
    size_t i;
    json_t *w;
    json_array_foreach(scp, i, w) buf_printf(&s, "%s%s", i ? " " : "", json_string_value(w));
    json_decref(scp);
    json_object_set_new(c, "scp", json_string(s.data));
    buf_free(&s);
    json_object_set_new(c, "oid", json_string(r->user_oid));
    json_object_set_new(c, "sub", json_string(r->user_oid));
    if (r->upn) json_object_set_new(c, "upn", json_string(r->upn));
    if (r->name) json_object_set_new(c, "name", json_string(r->name));
    if (json_array_size(groups)) json_object_set_new(c, "groups", groups);
    else json_decref(groups);
    if (r->admin) json_object_set_new(c, "wids", json_pack("[s]", CALLER_WID_PRINTER_ADMIN));
  } else {
    json_t *roles = json_array();
    add_words(roles, r->roles, " ");
    json_object_set_new(c, "roles", roles);
    json_object_set_new(c, "sub", json_string(r->app_id));
  }
  char *payload = json_dumps(c, JSON_COMPACT);
  json_decref(c);
  json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "kid", k->kid, "typ", "JWT");
  char *header = json_dumps(h, JSON_COMPACT);
  json_decref(h);
  char serr[128];
  char *tok = payload && header ? jwt_sign(k->pkey, "ES256", header, payload, serr, sizeof serr)
                                : NULL;
  if (!tok) *err = xasprintf("cannot sign the token: %s", payload && header ? serr : "out of memory");
  free(payload);
  free(header);
  return tok;
}
