/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The allowedUsers and allowedGroups of a printer share (reference §4.2 S6, S7):
 *
 *   GET    /print/shares/{id}/allowedUsers             the users ({id, displayName,
 *                                                       userPrincipalName})
 *   GET    /print/shares/{id}/allowedUsers/$ref        their references ({"@odata.id"})
 *   POST   /print/shares/{id}/allowedUsers/$ref        add {"@odata.id": ".../users/{id}"}: 204
 *   DELETE /print/shares/{id}/allowedUsers/{userId}/$ref               remove: 204
 *   DELETE /print/shares/{id}/allowedUsers/$ref?$id=.../users/{userId}  remove: 204
 *
 * and the same with allowedGroups ({id, displayName}; .../groups/{id}). Members are directory
 * object ids (GUIDs). Adding a member twice is not an error (204). We have no directory: a
 * user's displayName and userPrincipalName are what the user's token said when the user last
 * printed to one of the tenant's shares (null before that); a group's displayName is null.
 */
#include "app.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/odata.h"
#include "graph/refs.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "graph/shares.h"
#include "http/router.h"
#include "http/server.h"
#include "store/shares.h"
#include "util/buf.h"
#include "util/ids.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MEMBER_LIST_OPTIONS \
  (QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN | QUERY_OPT_ORDERBY)
#define REF_LIST_OPTIONS \
  (QUERY_OPT_FILTER | QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN | QUERY_OPT_ORDERBY)

static const char *const USER_PROPS[] = {"id", "displayName", "userPrincipalName", NULL};
static const char *const GROUP_PROPS[] = {"id", "displayName", NULL};
static const char *const USER_SETS[] = {"users", "directoryObjects", NULL};
static const char *const GROUP_SETS[] = {"groups", "directoryObjects", NULL};

/* What differs between allowedUsers and allowedGroups. */
typedef struct member_kind {
  store_share_member_kind_t kind;
  const char               *nav;      /* navigation property */
  const char               *type;     /* entity type of the members */
  const char               *set;      /* entity set of the members, for @odata.id */
  const char               *noun;     /* for messages */
  const char               *example;  /* a reference's path, for messages */
  const char *const        *props;    /* $select names */
  const char *const        *sets;     /* accepted in @odata.id */
  perm_op_t                 list_op, add_op, remove_op;
} member_kind_t;

static const member_kind_t USERS = {
  STORE_SHARE_USER, "allowedUsers", "microsoft.graph.user", "users", "user", "users/{id}",
  USER_PROPS,
  USER_SETS, OP_SHARE_ALLOWED_USERS_LIST, OP_SHARE_ALLOWED_USER_ADD, OP_SHARE_ALLOWED_USER_REMOVE,
};
static const member_kind_t GROUPS = {
  STORE_SHARE_GROUP, "allowedGroups", "microsoft.graph.group", "groups", "group", "groups/{id}",
  GROUP_PROPS,
  GROUP_SETS, OP_SHARE_ALLOWED_GROUPS_LIST, OP_SHARE_ALLOWED_GROUP_ADD,
  OP_SHARE_ALLOWED_GROUP_REMOVE,
};

static const member_kind_t *kind_of(store_share_member_kind_t kind) {
  return kind == STORE_SHARE_GROUP ? &GROUPS : &USERS;
}

/* The JSON of one member, limited to the $select'ed properties (q may be NULL). */
static json_t *member_json(const member_kind_t *k, const store_share_member_t *m,
                           const query_t *q) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(m->id));
  if (!q || odata_selected(q, "displayName"))
    json_object_set_new(o, "displayName", graph_json_string_or_null(m->display_name));
  if (k->kind == STORE_SHARE_USER && (!q || odata_selected(q, "userPrincipalName")))
    json_object_set_new(o, "userPrincipalName", graph_json_string_or_null(m->upn));
  return o;
}

/* {"@odata.id": "<base>/users/<id>"} */
static json_t *member_ref_json(const http_request_t *req, const member_kind_t *k,
                               const store_share_member_t *m) {
  buf_t path = BUF_INIT;
  buf_printf(&path, "%s/%s", k->set, m->id);
  char *url = graph_ref_url(req, path.data);
  buf_free(&path);
  json_t *o = json_object();
  json_object_set_new(o, "@odata.id", json_string(url));
  free(url);
  return o;
}

/* "/v1.0/print/shares/<id>/<nav>" for nextLinks; the caller frees it. */
static char *members_path(const http_request_t *req, const char *share_id, const char *nav,
                          bool ref) {
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s/print/shares/%s/%s%s", req->version == API_BETA ? "/beta" : "/v1.0",
             share_id, nav, ref ? "/$ref" : "");
  return buf_detach(&b);
}

bool graph_share_members_expand(const http_request_t *req, const store_share_t *s,
                                store_share_member_kind_t kind, json_t *o) {
  const member_kind_t *k = kind_of(kind);
  query_t q;
  query_init(&q);
  store_share_member_page_t page;
  char err[256];
  store_rc_t rc = store_share_member_list(APP(req)->store, s->tenant, s->id, kind, &q, &page,
                                          err, sizeof err);
  query_clear(&q);
  if (rc != STORE_OK) return false;
  json_t *arr = json_array();
  for (size_t i = 0; i < page.n; i++) json_array_append_new(arr, member_json(k, &page.items[i], NULL));
  json_object_set_new(o, k->nav, arr);
  if (page.next) {
    char *path = members_path(req, s->id, k->nav, false);
    char *link = odata_build_next_link(server_public_url(req->server), path, NULL, 0, page.next);
    char name[64];
    snprintf(name, sizeof name, "%s@odata.nextLink", k->nav);
    json_object_set_new(o, name, json_string(link));
    free(link);
    free(path);
  }
  store_share_member_page_clear(&page);
  return true;
}

/* ---- list --------------------------------------------------------------------------------- */

/* GET .../allowedUsers or .../allowedUsers/$ref */
static void members_list(http_request_t *req, http_response_t *res, const member_kind_t *k,
                         bool ref) {
  query_t q;
  odata_spec_t spec = {.mask = ref ? REF_LIST_OPTIONS : MEMBER_LIST_OPTIONS, .select = k->props};
  const caller_t *c = graph_authorize_query(req, res, k->list_op, NULL, &spec, &q);
  if (!c) return;
  const char *share_id = req->params[0];
  char err[512];
  store_share_member_page_t page;
  store_rc_t rc = store_share_member_list(APP(req)->store, c->tenant, share_id, k->kind, &q,
                                          &page, err, sizeof err);
  if (rc == STORE_NOT_FOUND) {
    graph_share_failure(req, res, rc, share_id);
  } else if (!graph_reply_list_failure(req, res, rc, err, NULL)) {
    json_t *arr = json_array();
    for (size_t i = 0; i < page.n; i++)
      json_array_append_new(arr, ref ? member_ref_json(req, k, &page.items[i])
                                     : member_json(k, &page.items[i], &q));
    graph_reply_collection(req, res,
                           ref ? graph_context(req, "Collection($ref)")
                               : graph_context(req, "Collection(%s)", k->type),
                           arr, page.next);
  }
  store_share_member_page_clear(&page);
  query_clear(&q);
}

static void users_list(http_request_t *req, http_response_t *res) {
  members_list(req, res, &USERS, false);
}
static void users_ref_list(http_request_t *req, http_response_t *res) {
  members_list(req, res, &USERS, true);
}
static void groups_list(http_request_t *req, http_response_t *res) {
  members_list(req, res, &GROUPS, false);
}
static void groups_ref_list(http_request_t *req, http_response_t *res) {
  members_list(req, res, &GROUPS, true);
}

/* ---- add ---------------------------------------------------------------------------------- */

/* Reads the member id of an @odata.id value (a reference to a k->set entity by GUID) into id.
 * Replies 400 naming what (the body member or query option) and returns false when it is not
 * one. */
static bool member_id_of(http_request_t *req, http_response_t *res, const member_kind_t *k,
                         const char *what, const char *url, char id[GRAPH_REF_KEY_MAX + 1]) {
  if (url && graph_ref_key(req, url, k->sets, id, GRAPH_REF_KEY_MAX + 1) && id_is_guid(id))
    return true;
  graph_reply_error(req, res, 400, "invalidRequest", NULL,
                    "%s must reference a %s by its object id (a GUID), e.g. "
                    "https://graph.microsoft.com/v1.0/%s.",
                    what, k->noun, k->example);
  return false;
}

/* POST .../allowedUsers/$ref {"@odata.id": "https://graph.microsoft.com/v1.0/users/{id}"} */
static void member_add(http_request_t *req, http_response_t *res, const member_kind_t *k) {
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, k->add_op, NULL, false, &body);
  if (!c) return;
  const char *share_id = req->params[0];
  const char *url = graph_ref_body_id(req, res, body, k->noun, k->example);
  char id[GRAPH_REF_KEY_MAX + 1];
  if (url && member_id_of(req, res, k, "Property '@odata.id'", url, id) &&
      !graph_share_failure(req, res,
                     store_share_member_add(APP(req)->store, c->tenant, share_id, k->kind, id,
                                            NULL),
                     share_id))
    graph_reply_no_content(res);
  json_decref(body);
}

static void users_add(http_request_t *req, http_response_t *res) { member_add(req, res, &USERS); }
static void groups_add(http_request_t *req, http_response_t *res) {
  member_add(req, res, &GROUPS);
}

/* ---- remove ------------------------------------------------------------------------------- */

static void remove_member(http_request_t *req, http_response_t *res, const caller_t *c,
                          const member_kind_t *k, const char *share_id, const char *id) {
  bool share_found = false;
  store_rc_t rc = store_share_member_remove(APP(req)->store, c->tenant, share_id, k->kind, id,
                                            &share_found);
  if (rc == STORE_NOT_FOUND && !share_found)
    graph_share_failure(req, res, rc, share_id);
  else if (!graph_reply_item_failure(req, res, rc,
                                     "The %s '%s' is not in the %s of printer share '%s'.",
                                     k->noun, id, k->nav, share_id))
    graph_reply_no_content(res);
}

/* DELETE .../allowedUsers/{userId}/$ref */
static void member_remove(http_request_t *req, http_response_t *res, const member_kind_t *k) {
  const caller_t *c = graph_authorize(req, res, k->remove_op, NULL);
  if (!c) return;
  remove_member(req, res, c, k, req->params[0], req->params[1]);
}

/* DELETE .../allowedUsers/$ref?$id=https://graph.microsoft.com/v1.0/users/{userId} */
static void member_remove_by_ref(http_request_t *req, http_response_t *res,
                                 const member_kind_t *k) {
  const caller_t *c = graph_authorize(req, res, k->remove_op, NULL);
  if (!c) return;
  const char *url = NULL;
  for (size_t i = 0; i < req->nquery; i++)
    if (req->query[i].name && strcasecmp(req->query[i].name, "$id") == 0) url = req->query[i].value;
  if (!url) {
    graph_reply_error(req, res, 400, "invalidRequest", ODATA_INNER_CODE,
                      "Query option '$id' is required: the URL of the %s to remove, e.g. "
                      "$id=https://graph.microsoft.com/v1.0/%s/{id}.", k->noun, k->set);
    return;
  }
  char id[GRAPH_REF_KEY_MAX + 1];
  if (!member_id_of(req, res, k, "Query option '$id'", url, id)) return;
  remove_member(req, res, c, k, req->params[0], id);
}

static void users_remove(http_request_t *req, http_response_t *res) {
  member_remove(req, res, &USERS);
}
static void users_remove_by_ref(http_request_t *req, http_response_t *res) {
  member_remove_by_ref(req, res, &USERS);
}
static void groups_remove(http_request_t *req, http_response_t *res) {
  member_remove(req, res, &GROUPS);
}
static void groups_remove_by_ref(http_request_t *req, http_response_t *res) {
  member_remove_by_ref(req, res, &GROUPS);
}

/* ---- routes ------------------------------------------------------------------------------- */

static route_t ROUTES[] = {
  ROUTE("GET", "/print/shares/{id}/allowedUsers", users_list, ROUTE_GRAPH,
        "shares.allowedUsers.list"),
  ROUTE("GET", "/print/shares/{id}/allowedUsers/$ref", users_ref_list, ROUTE_GRAPH,
        "shares.allowedUsers.listRefs"),
  ROUTE("POST", "/print/shares/{id}/allowedUsers/$ref", users_add,
        ROUTE_GRAPH | ROUTE_JSON_BODY, "shares.allowedUsers.add"),
  ROUTE("DELETE", "/print/shares/{id}/allowedUsers/$ref", users_remove_by_ref, ROUTE_GRAPH,
        "shares.allowedUsers.remove"),
  ROUTE("DELETE", "/print/shares/{id}/allowedUsers/{id}/$ref", users_remove, ROUTE_GRAPH,
        "shares.allowedUsers.remove"),
  ROUTE("GET", "/print/shares/{id}/allowedGroups", groups_list, ROUTE_GRAPH,
        "shares.allowedGroups.list"),
  ROUTE("GET", "/print/shares/{id}/allowedGroups/$ref", groups_ref_list, ROUTE_GRAPH,
        "shares.allowedGroups.listRefs"),
  ROUTE("POST", "/print/shares/{id}/allowedGroups/$ref", groups_add,
        ROUTE_GRAPH | ROUTE_JSON_BODY, "shares.allowedGroups.add"),
  ROUTE("DELETE", "/print/shares/{id}/allowedGroups/$ref", groups_remove_by_ref, ROUTE_GRAPH,
        "shares.allowedGroups.remove"),
  ROUTE("DELETE", "/print/shares/{id}/allowedGroups/{id}/$ref", groups_remove, ROUTE_GRAPH,
        "shares.allowedGroups.remove"),
};

void graph_share_members_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
