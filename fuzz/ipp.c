/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the IPP INFRA endpoint, POST /ipp/print/{printerId}, as deep as a request goes
 * without a network: the route the server matches is called with the body and the headers a
 * device sends (Bearer device token, Content-Type application/ipp), so every input passes
 * device authentication, the tenant check, libcups decoding (ippReadIO), the RFC 8011
 * validation and the operation's handler, against a real SQLite store in a temporary
 * directory (on /dev/shm when there is one) holding tenant t1, printer 00000000-0000-4000-8000-000000000001 (the id of tests/ipp/repro) and a few jobs.
 *
 * Input: the IPP request body; the printer URI that names the printer is
 * ipp://localhost/ipp/print/00000000-0000-4000-8000-000000000001. Checked: the answer is 200 application/ipp with a decodable
 * IPP response carrying the request's request-id, a status code and attributes-charset then
 * attributes-natural-language first (or a 400 text answer for a body too short to be IPP).
 * The store changes from input to input (subscriptions, device attributes, job states), as it
 * would on a server.
 */
#include "fuzz.h"

#include "app.h"
#include "auth/identity.h"
#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "ipp/device-auth.h"
#include "ipp/ipp.h"
#include "store/jobs.h"
#include "store/printers.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <cups/ipp.h>
#include <ftw.h>
#include <strings.h>
#include <stdbool.h>
#include <unistd.h>

#define PRINTER "00000000-0000-4000-8000-000000000001"
#define TENANT "t1"

static char g_dir[64];
static config_t g_cfg;
static app_t g_app;
static char g_authz[IPP_DEVICE_TOKEN_LEN + 16];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Removes the temporary directory at exit. The store stays open: closing it ends its writer
 * thread, whose OpenSSL per-thread random generator OpenSSL frees only at its own cleanup,
 * which LeakSanitizer would then report. */
static void cleanup(void) {
  if (g_dir[0]) nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what, const char *err) {
  fprintf(stderr, "fuzz/ipp setup: %s%s%s\n", what, err ? ": " : "", err ? err : "");
  abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  log_set_level(LOG_ERROR);
  snprintf(g_dir, sizeof g_dir, "%s/spoold-fuzz-ipp-XXXXXX",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (!mkdtemp(g_dir)) die("mkdtemp", g_dir);
  atexit(cleanup);
  char url[128], *err = NULL;
  snprintf(url, sizeof url, "sqlite:%s/spoold.db", g_dir);
  g_app.store = store_open(url, 1, true, &err);
  if (!g_app.store) die("store_open", err);
  auth_config_t ac = {.dev = true, .data_dir = g_dir};
  g_app.auth = auth_new(&ac, &err);
  if (!g_app.auth) die("auth_new", err);
  g_app.cfg = &g_cfg;
  ipp_open(&g_app); /* the authentication failure guards, as spoold serve has them */
  if (store_tenant_add(g_app.store, TENANT, "Fuzz", TENANT_ACTIVE) != STORE_OK) die("tenant", NULL);
  store_printer_new_t pn = {.id = PRINTER, .tenant = TENANT, .display_name = "Fuzz printer",
                            .has_physical_device = true, .defaults = "{}",
                            .operation_id = "op-fuzz", .now_us = time_now_us()};
  if (store_printer_register(g_app.store, &pn) != STORE_OK) die("printer", NULL);
  char token[IPP_DEVICE_TOKEN_LEN + 1];
  if (ipp_device_token_issue(g_app.store, PRINTER, token) != STORE_OK) die("device token", NULL);
  snprintf(g_authz, sizeof g_authz, "Bearer %s", token);
  /* Jobs 1..3: created, and one started when the store lets it (a job the device can see). */
  for (int i = 0; i < 3; i++) {
    store_job_new_t jn = {.tenant = TENANT, .printer_id = PRINTER, .display_name = "job",
                          .configuration = i ? "{\"copies\":2,\"duplexMode\":\"flipOnLongEdge\"}" : "{}",
                          .created_by_id = "u1", .created_by_upn = "u1@fuzz.test",
                          .created_by_name = "U", .created_by_ip = "127.0.0.1"};
    store_job_t job = {0};
    if (store_job_create(g_app.store, &jn, &job, NULL) != STORE_OK) die("job", NULL);
    if (i == 2) {
      store_job_t out = {0};
      store_job_change_t ch = {0};
      store_job_start(g_app.store, TENANT, job.id, "http://127.0.0.1", &out, &ch);
      store_job_clear(&out);
      store_job_change_clear(&ch);
    }
    store_job_clear(&job);
  }
  ipp_routes_register();
  return 0;
}

static ssize_t mem_read(void *ctx, ipp_uchar_t *buf, size_t n) {
  const uint8_t **p = ctx; /* p[0] = cursor, p[1] = end */
  size_t left = (size_t)(p[1] - p[0]);
  if (n > left) n = left;
  memcpy(buf, p[0], n);
  p[0] += n;
  return (ssize_t)n;
}

static void check_response(const uint8_t *in, size_t in_len, const http_response_t *res) {
  const char *ct = NULL;
  for (size_t i = 0; i < res->nheaders; i++)
    if (!strcasecmp(res->headers[i].name, "Content-Type")) ct = res->headers[i].value;
  if (in_len < 9) {
    FUZZ_CHECK(res->status == 400, "a %zu-byte body answered %d", in_len, res->status);
    return;
  }
  FUZZ_CHECK(res->status == 200, "IPP request answered HTTP %d: %.*s", res->status,
             (int)(res->body ? res->body_len : 0), res->body ? res->body : "");
  FUZZ_CHECK(ct && !strcmp(ct, "application/ipp"), "response type %s", ct ? ct : "(none)");
  FUZZ_CHECK(res->body && res->body_len >= 9, "IPP response of %zu bytes", res->body_len);
  const uint8_t *cur[2] = {(const uint8_t *)res->body, (const uint8_t *)res->body + res->body_len};
  ipp_t *r = ippNew();
  ipp_state_t st = ippReadIO(cur, mem_read, 1, NULL, r);
  FUZZ_CHECK(st == IPP_STATE_DATA, "the response does not decode (state %d)", st);
  int want_id = (int)((uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7]);
  FUZZ_CHECK(ippGetRequestId(r) == want_id, "request-id %d answered as %d", want_id,
             ippGetRequestId(r));
  ipp_attribute_t *a = ippFirstAttribute(r);
  FUZZ_CHECK(a && !strcmp(ippGetName(a), "attributes-charset"), "first attribute is %s",
             a && ippGetName(a) ? ippGetName(a) : "(none)");
  a = ippNextAttribute(r);
  FUZZ_CHECK(a && !strcmp(ippGetName(a), "attributes-natural-language"),
             "second attribute is %s", a && ippGetName(a) ? ippGetName(a) : "(none)");
  ippDelete(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 256 * 1024) return 0;
  http_param_t headers[] = {
      {"Authorization", g_authz},
      {"Content-Type", "application/ipp"},
  };
  http_request_t req;
  memset(&req, 0, sizeof req);
  req.method = "POST";
  req.app = &g_app;
  req.headers = headers;
  req.nheaders = sizeof headers / sizeof headers[0];
  snprintf(req.peer, sizeof req.peer, "127.0.0.1");
  memcpy(req.request_id, "00000000-0000-0000-0000-000000000000", 37);
  if (!http_request_parse_uri(&req, "/ipp/print/" PRINTER) ||
      router_match(&req, NULL, 0) != ROUTER_MATCH)
    die("route", "POST /ipp/print/" PRINTER " does not match");
  char *body = fuzz_cstr(data, size);
  req.body = size ? body : NULL;
  req.body_len = size;
  req.content_length = size;
  http_response_t res;
  http_response_init(&res);
  req.route->handler(&req, &res);
  check_response(data, size, &res);
  if (req.cleanup) req.cleanup(&req);
  free(req.log_tenant);
  free(req.log_app);
  http_request_free_uri(&req);
  http_response_clear(&res);
  free(body);
  return 0;
}
