/* SPDX-License-Identifier: Apache-2.0 */
/* The console's static files and configuration (console/console.h). */
#include "console/console.h"
#include "app.h"
#include "console/assets.h"
#include "graph/reply.h"
#include "http/router.h"
#include "util/buf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The page runs only its own scripts and styles, talks only to this server and to the sign-in
 * issuer (discovery, keys and token endpoint), and may not be framed. */
static void security_headers(http_request_t *req, http_response_t *res) {
  const config_t *cfg = APP(req)->cfg;
  buf_t csp = BUF_INIT;
  buf_puts(&csp, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'");
  if (cfg->console_issuer) {
    /* the issuer's origin: scheme://host[:port] */
    const char *p = strstr(cfg->console_issuer, "://");
    size_t n = p ? (size_t)(p + 3 - cfg->console_issuer) + strcspn(p + 3, "/") : 0;
    if (n) buf_printf(&csp, " %.*s", (int)n, cfg->console_issuer);
  }
  buf_puts(&csp, "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  http_response_header(res, "Content-Security-Policy", csp.data);
  buf_free(&csp);
  http_response_header(res, "X-Content-Type-Options", "nosniff");
  http_response_header(res, "Referrer-Policy", "no-referrer");
  http_response_header(res, "X-Frame-Options", "DENY");
}

static const console_asset_t *asset_find(const char *path) {
  for (size_t i = 0; i < console_nassets; i++)
    if (!strcmp(console_assets[i].path, path)) return &console_assets[i];
  return NULL;
}

/* True when the Accept-Encoding header accepts gzip (a "gzip;q=0" refusal included). */
static bool accepts_gzip(const http_request_t *req) {
  const char *ae = http_request_header(req, "Accept-Encoding");
  const char *g = ae ? strstr(ae, "gzip") : NULL;
  if (!g) return false;
  const char *q = g + 4;
  q += strspn(q, " ");
  return !(strncmp(q, ";q=0", 4) == 0 && (q[4] == '\0' || q[4] == ',' || !strncmp(q + 4, ".0", 2)));
}

/* Answers one file: 304 when the client has it (If-None-Match), gzip when accepted and smaller.
 * Files are revalidated on every load (no-cache): they change with the binary. */
static void send_asset(http_request_t *req, http_response_t *res, const console_asset_t *a) {
  security_headers(req, res);
  http_response_header(res, "Cache-Control", "no-cache");
  http_response_header(res, "ETag", a->etag);
  http_response_header(res, "Vary", "Accept-Encoding");
  const char *inm = http_request_header(req, "If-None-Match");
  if (inm && strstr(inm, a->etag)) {
    http_response_empty(res, 304);
    return;
  }
  bool gz = a->gz && accepts_gzip(req);
  size_t len = gz ? a->gz_len : a->len;
  char *body = malloc(len ? len : 1);
  if (!body) {
    graph_reply_error(req, res, 500, "generalException", NULL, "The server is out of memory.");
    return;
  }
  memcpy(body, gz ? a->gz : a->data, len);
  http_response_body(res, 200, a->type, body, len);
  if (gz) http_response_header(res, "Content-Encoding", "gzip");
}

static void console_index(http_request_t *req, http_response_t *res) {
  send_asset(req, res, asset_find("index.html"));
}

/* GET / : the console lives under /console/, which is also the OpenID Connect redirect URI. */
static void root(http_request_t *req, http_response_t *res) {
  (void)req;
  http_response_empty(res, 302);
  http_response_header(res, "Location", "/console/");
}

/* GET /console/config.json: how the page signs in (the issuer and client id, or the
 * development personas). Nothing secret: the client is a public one. */
static void console_config(http_request_t *req, http_response_t *res) {
  const config_t *cfg = APP(req)->cfg;
  json_t *o = json_object();
  json_object_set_new(o, "dev", json_boolean(cfg->dev));
  if (cfg->console_issuer)
    json_object_set_new(o, "oidc", json_pack("{s:s, s:s, s:s}", "issuer", cfg->console_issuer,
                                             "clientId", cfg->console_client_id, "scopes",
                                             cfg->console_scopes));
  else
    json_object_set_new(o, "oidc", json_null());
  if (cfg->dev) json_object_set_new(o, "devDefaults", json_pack("{s:s}", "tenant", "contoso"));
  char *body = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  security_headers(req, res);
  http_response_body(res, 200, "application/json", body, strlen(body));
  http_response_header(res, "Cache-Control", "no-store");
}

/* GET /console/a[/b[/c]]: one file of web/. */
static void console_file(http_request_t *req, http_response_t *res) {
  buf_t path = BUF_INIT;
  for (size_t i = 0; i < req->nparams; i++) buf_printf(&path, "%s%s", i ? "/" : "", req->params[i]);
  const console_asset_t *a =
      strcmp(path.data, "config.json") ? asset_find(path.data) : NULL;
  if (!strcmp(path.data, "config.json")) console_config(req, res);
  else if (a) send_asset(req, res, a);
  else graph_reply_error(req, res, 404, "itemNotFound", NULL, "The console has no file '%s'.",
                         path.data);
  buf_free(&path);
}

static route_t ROUTES[] = {
    ROUTE("GET", "/", root, 0, "console.root"),
    ROUTE("GET", "/console", console_index, 0, "console.index"),
    ROUTE("GET", "/console/{file}", console_file, 0, "console.file"),
    ROUTE("GET", "/console/{dir}/{file}", console_file, 0, "console.file"),
    ROUTE("GET", "/console/{dir}/{dir}/{file}", console_file, 0, "console.file"),
};

void console_routes_register(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
