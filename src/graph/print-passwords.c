/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Print passwords (/spoold/v1, the extension prefix; docs/ipp-printing.md): the per-user secrets
 * stock desktop IPP clients send with HTTP Basic to /ipp/share/{shareId}.
 *
 *   POST   /spoold/v1/me/printPasswords          {"displayName"?} -> 201 with the password,
 *                                                 shown this once
 *   GET    /spoold/v1/me/printPasswords          the caller's passwords, without secrets
 *   DELETE /spoold/v1/me/printPasswords/{id}     revokes one at once (204)
 *   GET    /spoold/v1/users/{userId}/printPasswords       (Printer/Global Administrator)
 *   DELETE /spoold/v1/users/{userId}/printPasswords/{id}  (Printer/Global Administrator)
 *
 * Only a delegated user token can create one (the password then stands for that user): it is
 * bound to the token's tid, oid, upn, name and groups, and stored as a PBKDF2 hash
 * (auth/print-password.h). userName, the UPN, is what the print dialog asks for.
 */
#include "app.h"
#include "auth/print-password.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "store/print-passwords.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define DISPLAY_NAME_MAX 128

static const json_field_t CREATE_FIELDS[] = {
    {.name = "displayName", .kind = JF_STRING, .nullable = true, .max_len = DISPLAY_NAME_MAX},
};
static const json_schema_t CREATE = {"printPassword", CREATE_FIELDS, 1};

/* The JSON of a stored password (never its secret or hash). */
static json_t *password_json(const store_print_password_t *p) {
  char created[TIME_ISO_LEN], used[TIME_ISO_LEN];
  time_format_iso(p->created_us, created);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(p->id));
  json_object_set_new(o, "displayName", json_string(p->display_name ? p->display_name : ""));
  json_object_set_new(o, "userName", json_string(p->user_name ? p->user_name : ""));
  json_object_set_new(o, "userId", json_string(p->user_id ? p->user_id : ""));
  json_object_set_new(o, "createdDateTime", json_string(created));
  if (p->last_used_us) {
    time_format_iso(p->last_used_us, used);
    json_object_set_new(o, "lastUsedDateTime", json_string(used));
  } else {
    json_object_set_new(o, "lastUsedDateTime", json_null());
  }
  return o;
}

/* A delegated caller, for the /me routes; replies 403 otherwise. */
static const caller_t *user_caller(http_request_t *req, http_response_t *res, perm_op_t op) {
  const caller_t *c = graph_authorize(req, res, op, NULL);
  if (!c) return NULL;
  if (!caller_is_delegated(c) || !c->user_id) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "Print passwords belong to users: call this with a delegated (user) token.");
    return NULL;
  }
  return c;
}

/* POST /spoold/v1/me/printPasswords */
static void me_create(http_request_t *req, http_response_t *res) {
  const caller_t *c = user_caller(req, res, OP_ME_PRINT_PASSWORDS);
  if (!c) return;
  if (!c->upn || !*c->upn) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Your token carries no upn or preferred_username claim, so there is no "
                      "user name a print dialog could send with the password.");
    return;
  }
  json_t *body = graph_json_body(req, res, true);
  if (!body) return;
  if (!graph_json_check(req, res, body, &CREATE)) {
    json_decref(body);
    return;
  }
  const char *name = json_string_value(json_object_get(body, "displayName"));
  char secret[PRINT_PASSWORD_LEN + 1], hash[PRINT_PASSWORD_HASH_MAX], id[ID_GUID_LEN + 1];
  print_password_new(secret);
  if (!print_password_hash(secret, hash)) {
    OPENSSL_cleanse(secret, sizeof secret);
    json_decref(body);
    graph_reply_store_error(req, res);
    return;
  }
  id_guid(id);
  json_t *groups = json_array();
  for (size_t i = 0; i < c->ngroups; i++) json_array_append_new(groups, json_string(c->groups[i]));
  char *groups_text = json_dumps(groups, JSON_COMPACT);
  json_decref(groups);
  store_print_password_t p = {
      .id = id,
      .tenant = c->tenant,
      .user_id = c->user_id,
      .user_name = c->upn,
      .user_display_name = c->name,
      .groups = groups_text,
      .display_name = (char *)(name ? name : ""),
      .hash = hash,
      .created_us = time_now_us(),
  };
  store_rc_t rc = store_print_password_create(APP(req)->store, &p);
  if (rc == STORE_CONFLICT) {
    graph_reply_error(req, res, 409, "notAllowed", NULL,
                      "You already have %d print passwords; revoke one you no longer use first.",
                      STORE_PRINT_PASSWORDS_MAX);
  } else if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
  } else {
    store_print_password_t shown = p;
    char login[512];
    size_t i = 0;
    for (; c->upn[i] && i + 1 < sizeof login; i++)
      login[i] = (char)(c->upn[i] >= 'A' && c->upn[i] <= 'Z' ? c->upn[i] + 32 : c->upn[i]);
    login[i] = '\0';
    shown.user_name = login;
    json_t *o = password_json(&shown);
    json_object_set_new(o, "password", json_string(secret));
    log_info("print password %s created for user %s", id, c->user_id);
    graph_reply_json(req, res, 201, o);
  }
  OPENSSL_cleanse(secret, sizeof secret);
  free(groups_text);
  json_decref(body);
}

/* Lists the passwords of user_id (replying 200). */
static void list_passwords(http_request_t *req, http_response_t *res, const char *tenant,
                           const char *user_id) {
  store_print_password_t *v = NULL;
  size_t n = 0;
  if (store_print_password_list(APP(req)->store, tenant, user_id, &v, &n) != STORE_OK) {
    graph_reply_store_error(req, res);
    return;
  }
  json_t *value = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(value, password_json(&v[i]));
  store_print_passwords_free(v, n);
  json_t *o = json_object();
  json_object_set_new(o, "value", value);
  graph_reply_json(req, res, 200, o);
}

/* Deletes password id of user_id (replying 204 or 404). */
static void delete_password(http_request_t *req, http_response_t *res, const char *tenant,
                            const char *user_id, const char *id) {
  store_rc_t rc = store_print_password_delete(APP(req)->store, tenant, user_id, id);
  if (!graph_reply_item_failure(req, res, rc, "The print password '%s' was not found.", id)) {
    log_info("print password %s of user %s revoked", id, user_id);
    graph_reply_no_content(res);
  }
}

/* GET /spoold/v1/me/printPasswords */
static void me_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = user_caller(req, res, OP_ME_PRINT_PASSWORDS);
  if (c) list_passwords(req, res, c->tenant, c->user_id);
}

/* DELETE /spoold/v1/me/printPasswords/{id} */
static void me_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = user_caller(req, res, OP_ME_PRINT_PASSWORDS);
  if (c) delete_password(req, res, c->tenant, c->user_id, http_request_param(req, 0));
}

/* GET /spoold/v1/users/{userId}/printPasswords */
static void user_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_USER_PRINT_PASSWORDS, NULL);
  if (c) list_passwords(req, res, c->tenant, http_request_param(req, 0));
}

/* DELETE /spoold/v1/users/{userId}/printPasswords/{id} */
static void user_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_USER_PRINT_PASSWORDS, NULL);
  if (c) delete_password(req, res, c->tenant, http_request_param(req, 0), http_request_param(req, 1));
}

static route_t ROUTES[] = {
    ROUTE("POST", "/me/printPasswords", me_create, ROUTE_EXT | ROUTE_JSON_BODY,
          "me.printPasswords.create"),
    ROUTE("GET", "/me/printPasswords", me_list, ROUTE_EXT, "me.printPasswords.list"),
    ROUTE("DELETE", "/me/printPasswords/{id}", me_delete, ROUTE_EXT, "me.printPasswords.delete"),
    ROUTE("GET", "/users/{id}/printPasswords", user_list, ROUTE_EXT, "users.printPasswords.list"),
    ROUTE("DELETE", "/users/{id}/printPasswords/{id}", user_delete, ROUTE_EXT,
          "users.printPasswords.delete"),
};

/* Registers the print password routes (graph/routes.h). */
void graph_print_passwords_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
