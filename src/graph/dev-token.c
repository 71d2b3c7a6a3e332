/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /spoold/v1/dev/token (only with --dev, only from a loopback address): a token of the
 * development issuer for a role preset (auth/dev-roles.h), for the console's persona sign-in.
 * It is what `spoold token --role ROLE` prints, without needing the data directory.
 */
#include "graph/dev-token.h"
#include "app.h"
#include "auth/dev-roles.h"
#include "graph/json.h"
#include "graph/reply.h"
#include "http/router.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const json_field_t TOKEN_FIELDS[] = {
    {.name = "role", .kind = JF_STRING, .max_len = 16},
    {.name = "tenant", .kind = JF_STRING, .max_len = 128},
    {.name = "user", .kind = JF_STRING, .max_len = 128},
    {.name = "upn", .kind = JF_STRING, .max_len = 256},
    {.name = "name", .kind = JF_STRING, .max_len = 256},
    {.name = "app", .kind = JF_STRING, .max_len = 128},
    {.name = "groups", .kind = JF_STRING, .max_len = 4096},
    {.name = "ttl", .kind = JF_INT64},
};
static const json_schema_t TOKEN = {"the development token request", TOKEN_FIELDS,
                                    sizeof TOKEN_FIELDS / sizeof TOKEN_FIELDS[0]};

static bool peer_is_loopback(const char *peer) {
  return !strncmp(peer, "127.", 4) || !strcmp(peer, "::1") || !strncmp(peer, "::ffff:127.", 11);
}

static const char *opt_string(const json_t *body, const char *key) {
  const json_t *v = json_object_get(body, key);
  return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

static void dev_token(http_request_t *req, http_response_t *res) {
  if (!peer_is_loopback(req->peer)) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "Development tokens are handed out only to clients on this machine "
                      "(a loopback address); use `spoold token --role ROLE` elsewhere.");
    return;
  }
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  char *err = NULL, *token = NULL;
  dev_key_t *key = NULL;
  if (!graph_json_check(req, res, body, &TOKEN)) goto done;

  const char *role_name = opt_string(body, "role");
  const dev_role_t *role = dev_role_find(role_name);
  if (!role) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'role' must be one of admin, user, app.");
    goto done;
  }
  json_int_t ttl = json_integer_value(json_object_get(body, "ttl"));
  if (ttl < 0 || ttl > DEV_TTL_MAX) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'ttl' must be from 1 to %ld seconds.", DEV_TTL_MAX);
    goto done;
  }
  char upn[320];
  dev_token_req_t r = {
      .tenant = opt_string(body, "tenant"),
      .user_oid = opt_string(body, "user"),
      .upn = opt_string(body, "upn"),
      .name = opt_string(body, "name"),
      .app_id = opt_string(body, "app"),
      .groups = opt_string(body, "groups"),
      .ttl = (long)ttl,
  };
  if (!r.tenant) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "Property 'tenant' is required.");
    goto done;
  }
  dev_role_apply(role, &r, upn, sizeof upn);

  key = dev_key_open(APP(req)->cfg->data_dir, NULL, &err);
  if (!key) {
    graph_reply_error(req, res, 500, "generalException", NULL,
                      "The development signing key could not be read.");
    goto done;
  }
  token = dev_token_mint(key, &r, &err);
  if (!token) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", err ? err : "invalid request");
    goto done;
  }
  json_t *out = json_pack("{s:s, s:s, s:I, s:s}", "access_token", token, "token_type", "Bearer",
                          "expires_in", (json_int_t)(r.ttl ? r.ttl : DEV_TTL_DEFAULT), "role",
                          role->name);
  graph_reply_json(req, res, 200, out);
  http_response_header(res, "Cache-Control", "no-store");

done:
  free(token);
  free(err);
  dev_key_free(key);
  json_decref(body);
}

static route_t ROUTES[] = {
    ROUTE("POST", "/dev/token", dev_token, ROUTE_EXT | ROUTE_JSON_BODY, "dev.token"),
};

void graph_dev_token_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
