/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /subscriptions: change-notification subscriptions on print resources (reference §7).
 *
 *   POST   /subscriptions       create (validation handshake first)   201
 *   GET    /subscriptions       the calling app's subscriptions       200
 *   GET    /subscriptions/{id}                                        200
 *   PATCH  /subscriptions/{id}  renew: expirationDateTime, notificationUrl   200
 *   DELETE /subscriptions/{id}                                        204
 *
 * Application tokens only. Supported resources: print/taskDefinitions/{id}/tasks (changeType
 * created; the definition must be the calling app's) and print/printers/{id}/jobs (changeType
 * updated, notificationQueryOptions "$filter = isFetchable eq true"). An app sees only its own
 * subscriptions; other apps' are 404.
 */
#include "graph/subscriptions.h"
#include "app.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/odata.h"
#include "graph/reply.h"
#include "http/router.h"
#include "notify/notify.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- resources (pure) ----------------------------------------------------------------------- */

#define RES_MAX_SEGS 8

/* True when s is a plausible object id: 1..128 characters of [A-Za-z0-9._-]. */
static bool plausible_id(const char *s, size_t n) {
  if (n == 0 || n > 128) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

/* Splits "print/taskDefinitions('x')/tasks" into {"print","taskDefinitions","x","tasks"}: each
 * segment is [start, len); a key in parentheses (quoted or not) becomes its own segment.
 * Returns the number of segments, or -1 when the text is malformed. */
static int split_resource(const char *r, const char *seg[], size_t len[], int max) {
  int n = 0;
  const char *p = r;
  while (*p == '/') p++;
  while (*p) {
    const char *start = p;
    while (*p && *p != '/' && *p != '(') p++;
    if (p == start || n == max) return -1;
    seg[n] = start;
    len[n++] = (size_t)(p - start);
    if (*p == '(') {
      p++;
      char quote = (*p == '\'' || *p == '"') ? *p++ : 0;
      const char *k = p;
      while (*p && *p != ')' && *p != quote) p++;
      if (p == k || n == max) return -1;
      seg[n] = k;
      len[n++] = (size_t)(p - k);
      if (quote) {
        if (*p != quote) return -1;
        p++;
      }
      if (*p != ')') return -1;
      p++;
    }
    if (*p == '/') {
      p++;
      if (*p == '/') return -1;  /* empty segment */
    } else if (*p) {
      return -1;
    }
  }
  return n;
}

static bool seg_is(const char *s, size_t n, const char *lit) {
  return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Parses a subscription resource (see graph/subscriptions.h). */
bool graph_subscription_resource_parse(const char *resource, store_sub_kind_t *kind, char **target_id,
                           char *err, size_t errlen) {
  static const char supported[] =
    "print subscriptions support 'print/taskDefinitions/{id}/tasks' (changeType created) and "
    "'print/printers/{id}/jobs' (changeType updated)";
  *target_id = NULL;
  const char *seg[RES_MAX_SEGS];
  size_t len[RES_MAX_SEGS];
  int n = resource ? split_resource(resource, seg, len, RES_MAX_SEGS) : -1;
  if (n == 4 && seg_is(seg[0], len[0], "print") && plausible_id(seg[2], len[2])) {
    if (seg_is(seg[1], len[1], "taskDefinitions") && seg_is(seg[3], len[3], "tasks")) {
      *kind = STORE_SUB_TASKS;
      *target_id = xstrndup(seg[2], len[2]);
      return true;
    }
    if (seg_is(seg[1], len[1], "printers") && seg_is(seg[3], len[3], "jobs")) {
      *kind = STORE_SUB_PRINTER_JOBS;
      *target_id = xstrndup(seg[2], len[2]);
      return true;
    }
  }
  snprintf(err, errlen, "The resource '%.200s' is not supported: %s.", resource ? resource : "",
           supported);
  return false;
}

/* The normalised resource (see graph/subscriptions.h). */
char *graph_subscription_resource_format(store_sub_kind_t kind, const char *target_id) {
  buf_t b = BUF_INIT;
  buf_printf(&b, kind == STORE_SUB_TASKS ? "print/taskDefinitions/%s/tasks" : "print/printers/%s/jobs",
             target_id);
  return buf_detach(&b);
}

/* True for the JobFetchable filter (see graph/subscriptions.h). */
bool graph_subscription_fetchable_filter(const char *q) {
  if (!q) return false;
  while (isspace((unsigned char)*q)) q++;
  if (*q == '?') q++;
  if (strncasecmp(q, "$filter", 7) != 0) return false;
  q += 7;
  while (isspace((unsigned char)*q)) q++;
  if (*q++ != '=') return false;
  query_filter_t *f = NULL;
  char err[256];
  if (odata_parse_filter(q, &f, err, sizeof err) != 0) return false;
  bool ok = f->kind == QUERY_F_CMP && f->op == QUERY_OP_EQ &&
            query_path_equals(&f->path, "isFetchable") && f->value.type == QUERY_VAL_BOOL &&
            f->value.u.b;
  query_filter_free(f);
  return ok;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static const json_field_t SUB_FIELDS[] = {
    {.name = "id", .kind = JF_STRING, .readonly = true},
    {.name = "applicationId", .kind = JF_STRING, .readonly = true},
    {.name = "creatorId", .kind = JF_STRING, .readonly = true},
    {.name = "changeType", .kind = JF_STRING},
    {.name = "resource", .kind = JF_STRING, .max_len = 1024},
    {.name = "notificationUrl", .kind = JF_STRING, .max_len = NOTIFY_URL_MAX},
    {.name = "lifecycleNotificationUrl", .kind = JF_STRING, .nullable = true,
     .max_len = NOTIFY_URL_MAX},
    {.name = "expirationDateTime", .kind = JF_DATETIME},
    {.name = "clientState", .kind = JF_STRING, .nullable = true,
     .max_len = NOTIFY_CLIENT_STATE_MAX},
    {.name = "notificationQueryOptions", .kind = JF_STRING, .nullable = true, .max_len = 1024},
    {.name = "latestSupportedTlsVersion", .kind = JF_STRING, .nullable = true},
    {.name = "includeResourceData", .kind = JF_BOOL, .nullable = true},
    {.name = "includeProperties", .kind = JF_BOOL, .nullable = true},
    {.name = "encryptionCertificate", .kind = JF_STRING, .nullable = true},
    {.name = "encryptionCertificateId", .kind = JF_STRING, .nullable = true},
    {.name = "notificationUrlAppId", .kind = JF_STRING, .nullable = true},
    {.name = "notificationContentType", .kind = JF_STRING, .nullable = true},
};
static const json_schema_t SUB_SCHEMA = {"microsoft.graph.subscription", SUB_FIELDS,
                                         sizeof SUB_FIELDS / sizeof SUB_FIELDS[0]};

/* The subscription as Graph returns it (reference §7.2), without @odata.context. */
static json_t *sub_json(const store_subscription_t *s) {
  char exp[TIME_ISO_LEN];
  time_format_iso(s->expires_us, exp);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(s->id));
  json_object_set_new(o, "resource", json_string(s->resource));
  json_object_set_new(o, "applicationId", json_string(s->app_id));
  json_object_set_new(o, "changeType", json_string(s->change_type));
  json_object_set_new(o, "clientState", graph_json_string_or_null(s->client_state));
  json_object_set_new(o, "notificationUrl", json_string(s->notification_url));
  json_object_set_new(o, "notificationQueryOptions", graph_json_string_or_null(s->query_options));
  json_object_set_new(o, "lifecycleNotificationUrl", graph_json_string_or_null(s->lifecycle_url));
  json_object_set_new(o, "expirationDateTime", json_string(exp));
  json_object_set_new(o, "creatorId", graph_json_string_or_null(s->creator_id));
  json_object_set_new(o, "includeProperties", json_null());
  json_object_set_new(o, "includeResourceData", json_null());
  json_object_set_new(o, "latestSupportedTlsVersion", json_string(s->tls_version));
  json_object_set_new(o, "encryptionCertificate", json_null());
  json_object_set_new(o, "encryptionCertificateId", json_null());
  return o;
}

static void reply_entity(http_request_t *req, http_response_t *res, int status,
                         const store_subscription_t *s) {
  json_t *props = sub_json(s);
  json_t *o = json_object();
  json_object_set_new(o, "@odata.context", graph_context(req, "subscriptions/$entity"));
  json_object_update(o, props);
  json_decref(props);
  graph_reply_json(req, res, status, o);
}

/* String member name of body, or NULL when absent or null. */
static const char *member(const json_t *body, const char *name) {
  json_t *v = json_object_get(body, name);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- shared steps --------------------------------------------------------------------------- */

/* The permission-table operation that creating a subscription on kind needs. */
static perm_op_t create_op(store_sub_kind_t kind) {
  return kind == STORE_SUB_TASKS ? OP_SUBSCRIPTION_CREATE_TASKS
                                 : OP_SUBSCRIPTION_CREATE_PRINTER_JOBS;
}

/* Checks expirationDateTime text: in the future and at most 4230 minutes ahead. */
static bool check_expiration(http_request_t *req, http_response_t *res, const char *text,
                             int64_t *out) {
  int64_t now = time_now_us();
  if (!time_parse_iso(text, out)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'expirationDateTime' must be an ISO 8601 date-time string.");
    return false;
  }
  if (*out <= now) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Subscription expiration can only be in the future: expirationDateTime "
                      "'%s' has passed.", text);
    return false;
  }
  if (*out > now + NOTIFY_MAX_LIFETIME_US + NOTIFY_LIFETIME_SKEW_US) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "expirationDateTime '%s' is too far in the future: subscriptions on print "
                      "resources live at most 4230 minutes.", text);
    return false;
  }
  return true;
}

/* Checks a webhook URL (rules, then the handshake); replies 400 naming property on failure. */
static bool check_webhook(http_request_t *req, http_response_t *res, const char *property,
                          const char *url) {
  const config_t *cfg = APP(req)->cfg;
  char why[512];
  if (!webhook_url_check(url, cfg->webhook_allow, why, sizeof why)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "Property '%s' is invalid: %s.",
                      property, why);
    return false;
  }
  if (!webhook_validate(url, (int)cfg->webhook_validation_timeout * 1000, cfg->webhook_allow,
                        cfg->dev, why, sizeof why)) {
    /* The reason stays in the log: telling a client whether an address refused, stayed
     * silent or answered would let it map the server's network. */
    log_info("subscription validation of %s failed: the endpoint %s", property, why);
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Subscription validation request failed for '%s': the endpoint must be "
                      "reachable on a public address and answer the POST with "
                      "?validationToken=... within %u s with 200 OK, Content-Type text/plain "
                      "and the URL-decoded token as its body.",
                      property, cfg->webhook_validation_timeout);
    return false;
  }
  return true;
}

/* Loads subscription params[0] of the calling app; 404 for none or another app's. */
static bool load_own(http_request_t *req, http_response_t *res, const caller_t *c,
                     store_subscription_t *s) {
  const char *id = http_request_param(req, 0);
  store_rc_t rc = store_subscription_get(APP(req)->store, c->tenant, id, s);
  if (rc == STORE_OK && c->app_id && strcmp(s->app_id, c->app_id) == 0) return true;
  if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
    store_subscription_clear(s);
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "The subscription '%s' was not found.", id ? id : "");
    return false;
  }
  graph_reply_store_error(req, res);
  return false;
}

/* PERM_RESOURCE_CHECK: the caller must still hold the permission of the subscription's
 * resource. */
static bool check_resource_permission(http_request_t *req, http_response_t *res,
                                      const caller_t *c, perm_op_t op,
                                      const store_subscription_t *s) {
  const perm_rule_t *rule = perm_rule(op);
  if (!rule || !(rule->flags & PERM_RESOURCE_CHECK)) return true;
  perm_decision_t d;
  char why[512];
  if (perm_check(create_op(s->kind), c, &d, why, sizeof why)) return true;
  graph_reply_error(req, res, 403, "accessDenied", NULL, "%s", why);
  return false;
}

/* ---- POST /subscriptions ---------------------------------------------------------------- */

typedef struct {
  const char *resource;  /* the normalised resource being created */
  const char *change_type;
  char       *existing;  /* out: id of the app's subscription with them */
} dup_arg_t;

static int find_duplicate(const store_subscription_t *s, void *arg) {
  dup_arg_t *a = arg;
  if (strcmp(s->resource, a->resource) == 0 && strcmp(s->change_type, a->change_type) == 0) {
    a->existing = xstrdup(s->id);
    return 1;
  }
  return 0;
}

/* Validates the body of a create beyond the schema; replies 400 and returns false. */
static bool check_create_body(http_request_t *req, http_response_t *res, const json_t *body,
                              store_sub_kind_t *kind, char **target) {
  static const char *const required[] = {"changeType", "notificationUrl", "resource",
                                         "expirationDateTime"};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    if (!member(body, required[i])) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL, "Property '%s' is required.",
                        required[i]);
      return false;
    }
  }
  char why[512];
  if (!graph_subscription_resource_parse(member(body, "resource"), kind, target, why, sizeof why)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL, "%s", why);
    return false;
  }
  const char *ct = member(body, "changeType");
  const char *want = *kind == STORE_SUB_TASKS ? "created" : "updated";
  if (strcmp(ct, want) != 0) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "changeType '%s' is not supported for resource '%s': it supports only "
                      "'%s'.", ct, member(body, "resource"), want);
    return false;
  }
  const char *qo = member(body, "notificationQueryOptions");
  if (*kind == STORE_SUB_PRINTER_JOBS && !graph_subscription_fetchable_filter(qo)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Subscriptions on a printer's jobs need notificationQueryOptions "
                      "\"$filter = isFetchable eq true\"%s%s%s.", qo ? ", not \"" : "",
                      qo ? qo : "", qo ? "\"" : "");
    return false;
  }
  if (*kind == STORE_SUB_TASKS && qo) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "notificationQueryOptions is not supported for a task definition's tasks.");
    return false;
  }
  if (json_is_true(json_object_get(body, "includeResourceData"))) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "includeResourceData is not supported for print resources: notifications "
                      "carry the changed object's id, not its data.");
    return false;
  }
  static const char *const unsupported[] = {"encryptionCertificate", "encryptionCertificateId",
                                            "includeProperties", "notificationUrlAppId"};
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
    json_t *v = json_object_get(body, unsupported[i]);
    if (v && !json_is_null(v) && !json_is_false(v)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property '%s' is not supported for print resources.", unsupported[i]);
      return false;
    }
  }
  const char *nct = member(body, "notificationContentType");
  if (nct && strcasecmp(nct, "application/json") != 0) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "notificationContentType '%s' is not supported; notifications are "
                      "application/json.", nct);
    return false;
  }
  const char *tls = member(body, "latestSupportedTlsVersion");
  if (tls && strcmp(tls, "v1_0") && strcmp(tls, "v1_1") && strcmp(tls, "v1_2") &&
      strcmp(tls, "v1_3")) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "latestSupportedTlsVersion '%s' is not one of v1_0, v1_1, v1_2, v1_3.", tls);
    return false;
  }
  return true;
}

/* Finds the watched object and applies its rules: 404 when it is not in the tenant, 403 when
 * a task definition belongs to another app. *canonical receives its id as stored. */
static bool check_target(http_request_t *req, http_response_t *res, const caller_t *c,
                         store_sub_kind_t kind, const char *target, char **canonical) {
  char *owner = NULL;
  store_rc_t rc = store_subscription_target(APP(req)->store, c->tenant, kind, target, canonical,
                                            &owner);
  const char *what = kind == STORE_SUB_TASKS ? "task definition" : "printer";
  if (rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "The %s '%s' was not found.", what,
                      target);
    return false;
  }
  if (rc != STORE_OK) {
    graph_reply_store_error(req, res);
    return false;
  }
  bool mine = kind != STORE_SUB_TASKS || (owner && c->app_id && strcmp(owner, c->app_id) == 0);
  free(owner);
  if (!mine) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "The task definition '%s' was created by another application; only the "
                      "application that created it may subscribe to its tasks.", target);
    free(*canonical);
    *canonical = NULL;
    return false;
  }
  return true;
}

static void sub_create(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authenticate(req, res);
  if (!c) return;
  if (!caller_is_app(c)) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "Print subscriptions need application permissions: delegated (user) tokens "
                      "cannot subscribe to print resources. Use an application token with "
                      "PrintTaskDefinition.ReadWrite.All (task definitions) or Printer.Read.All "
                      "(printers).");
    return;
  }
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  store_sub_kind_t kind;
  char *target = NULL, *canonical = NULL, *resource = NULL;
  int64_t expires;
  dup_arg_t dup = {0};
  store_subscription_t s = {0};
  if (!graph_json_check(req, res, body, &SUB_SCHEMA) ||
      !check_create_body(req, res, body, &kind, &target) ||
      !check_expiration(req, res, member(body, "expirationDateTime"), &expires))
    goto out;
  c = graph_authorize(req, res, create_op(kind), NULL);  /* tenant and permission */
  if (!c || !check_target(req, res, c, kind, target, &canonical)) goto out;

  resource = graph_subscription_resource_format(kind, canonical);
  dup.resource = resource;
  dup.change_type = member(body, "changeType");
  if (store_subscription_list(APP(req)->store, c->tenant, c->app_id, find_duplicate, &dup) !=
      STORE_OK) {
    graph_reply_store_error(req, res);
    goto out;
  }
  if (dup.existing) {
    graph_reply_error(req, res, 409, "nameAlreadyExists", NULL,
                      "This application already has subscription '%s' on resource '%s' with "
                      "changeType '%s'; renew it with PATCH /subscriptions/%s.", dup.existing,
                      resource, dup.change_type, dup.existing);
    goto out;
  }

  const char *url = member(body, "notificationUrl");
  const char *lifecycle = member(body, "lifecycleNotificationUrl");
  if (!check_webhook(req, res, "notificationUrl", url)) goto out;
  if (lifecycle && strcmp(lifecycle, url) != 0 &&
      !check_webhook(req, res, "lifecycleNotificationUrl", lifecycle))
    goto out;

  char id[ID_GUID_LEN + 1];
  id_guid(id);
  const char *tls = member(body, "latestSupportedTlsVersion");
  s = (store_subscription_t){
      .id = id, .tenant = c->tenant, .app_id = c->app_id,
      .creator_id = c->user_id ? c->user_id : c->app_id, .resource = resource, .kind = kind,
      .target_id = canonical, .change_type = (char *)dup.change_type,
      .client_state = (char *)member(body, "clientState"), .notification_url = (char *)url,
      .lifecycle_url = (char *)lifecycle,
      .query_options = (char *)member(body, "notificationQueryOptions"),
      .tls_version = (char *)(tls ? tls : "v1_2"), .expires_us = expires,
      .created_us = time_now_us()};
  store_rc_t rc = store_subscription_create(APP(req)->store, &s);
  if (rc == STORE_OK) {
    reply_entity(req, res, 201, &s);
  } else if (rc == STORE_CONFLICT) {
    graph_reply_error(req, res, 409, "nameAlreadyExists", NULL,
                      "This application already has a subscription on resource '%s' with "
                      "changeType '%s'.", resource, dup.change_type);
  } else if (rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "The %s '%s' was not found.",
                      kind == STORE_SUB_TASKS ? "task definition" : "printer", target);
  } else {
    graph_reply_store_error(req, res);
  }
  memset(&s, 0, sizeof s);  /* borrowed strings */
out:
  free(dup.existing);
  free(resource);
  free(canonical);
  free(target);
  json_decref(body);
}

/* ---- GET /subscriptions, GET /subscriptions/{id} ------------------------------------------ */

static int list_add(const store_subscription_t *s, void *arg) {
  json_array_append_new(arg, sub_json(s));
  return 0;
}

static void sub_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_SUBSCRIPTIONS_LIST, NULL);
  if (!c) return;
  json_t *arr = json_array();
  if (store_subscription_list(APP(req)->store, c->tenant, c->app_id, list_add, arr) != STORE_OK) {
    json_decref(arr);
    graph_reply_store_error(req, res);
    return;
  }
  graph_reply_collection(req, res, graph_context(req, "subscriptions"), arr, NULL);
}

static void sub_get(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_SUBSCRIPTION_GET, NULL);
  if (!c) return;
  store_subscription_t s;
  if (!load_own(req, res, c, &s)) return;
  reply_entity(req, res, 200, &s);
  store_subscription_clear(&s);
}

/* ---- PATCH /subscriptions/{id} ----------------------------------------------------------- */

static void sub_update(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, OP_SUBSCRIPTION_UPDATE, NULL, false, &body);
  if (!c) return;
  store_subscription_t s = {0}, after = {0};
  if (!graph_json_check(req, res, body, &SUB_SCHEMA)) goto out;
  const char *key;
  json_t *v;
  json_object_foreach(body, key, v) {
    if (strchr(key, '@') || !strcmp(key, "expirationDateTime") || !strcmp(key, "notificationUrl"))
      continue;
    graph_reply_error(req, res, 400, "invalidRequest", "propertyNotUpdateable",
                      "Property '%s' cannot be updated; a subscription's expirationDateTime and "
                      "notificationUrl can.", key);
    goto out;
  }
  const char *exp_text = member(body, "expirationDateTime");
  const char *url = member(body, "notificationUrl");
  if (!exp_text && !url) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Nothing to update: give expirationDateTime and/or notificationUrl.");
    goto out;
  }
  if (!load_own(req, res, c, &s) ||
      !check_resource_permission(req, res, c, OP_SUBSCRIPTION_UPDATE, &s))
    goto out;
  int64_t expires = s.expires_us;
  if (exp_text && !check_expiration(req, res, exp_text, &expires)) goto out;
  if (url && strcmp(url, s.notification_url) != 0 && !check_webhook(req, res, "notificationUrl", url))
    goto out;
  store_rc_t rc = store_subscription_renew(APP(req)->store, c->tenant, s.id, c->app_id, expires,
                                           url, &after);
  if (rc == STORE_OK) reply_entity(req, res, 200, &after);
  else if (rc == STORE_NOT_FOUND)
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "The subscription '%s' was not found.",
                      s.id);
  else
    graph_reply_store_error(req, res);
out:
  store_subscription_clear(&after);
  store_subscription_clear(&s);
  json_decref(body);
}

/* ---- DELETE /subscriptions/{id} -------------------------------------------------------- */

static void sub_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_SUBSCRIPTION_DELETE, NULL);
  if (!c) return;
  store_subscription_t s;
  if (!load_own(req, res, c, &s)) return;
  if (check_resource_permission(req, res, c, OP_SUBSCRIPTION_DELETE, &s)) {
    store_rc_t rc = store_subscription_delete(APP(req)->store, c->tenant, s.id, c->app_id);
    if (rc == STORE_OK) graph_reply_no_content(res);
    else if (rc == STORE_NOT_FOUND)
      graph_reply_error(req, res, 404, "itemNotFound", NULL,
                        "The subscription '%s' was not found.", s.id);
    else
      graph_reply_store_error(req, res);
  }
  store_subscription_clear(&s);
}

static route_t ROUTES[] = {
    ROUTE("POST", "/subscriptions", sub_create, ROUTE_GRAPH | ROUTE_JSON_BODY, "subscriptions.create"),
    ROUTE("GET", "/subscriptions", sub_list, ROUTE_GRAPH, "subscriptions.list"),
    ROUTE("GET", "/subscriptions/{id}", sub_get, ROUTE_GRAPH, "subscriptions.get"),
    ROUTE("PATCH", "/subscriptions/{id}", sub_update, ROUTE_GRAPH | ROUTE_JSON_BODY,
          "subscriptions.update"),
    ROUTE("DELETE", "/subscriptions/{id}", sub_delete, ROUTE_GRAPH, "subscriptions.delete"),
};

void graph_subscription_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
