/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Printer shares (reference §2.4, §4.2): POST/GET /print/shares, GET/PATCH/DELETE
 * /print/shares/{id}, GET /print/printers/{id}/shares[/{shareId}], GET
 * /print/shares/{id}/printer, and the print-permission rule of a share.
 *
 * A share is the printer's printerBase data (read from the printer, graph_printer_base_json)
 * with the share's own id, displayName, allowAllUsers and createdDateTime. Lists never carry
 * defaults or capabilities; a single share carries capabilities only when $select'ed. Callers
 * who are not Printer Administrators get the reduced property set (id, displayName,
 * manufacturer, model, location) from operations flagged PERM_REDUCED_FOR_NON_ADMIN, and so
 * does every list request that filters on location or capabilities.
 */
#include "app.h"
#include "graph/authorize.h"
#include "graph/json.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/refs.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "graph/shares.h"
#include "http/router.h"
#include "http/server.h"
#include "store/printers.h"
#include "store/shares.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every printerShare property ($select names). */
static const char *const SHARE_PROPS[] = {
  "id", "displayName", "manufacturer", "model", "isAcceptingJobs", "status", "location",
  "defaults", "capabilities", "allowAllUsers", "createdDateTime", "viewPoint", NULL,
};
/* The reduced property set of §4.2 S2. */
static const char *const REDUCED_PROPS[] = {
  "id", "displayName", "manufacturer", "model", "location", NULL,
};
static const char *const SHARE_EXPANDS[] = {"printer", "allowedUsers", "allowedGroups", NULL};
static const char *const PRINTER_SETS[] = {"print/printers", NULL};

#define LIST_OPTIONS \
  (QUERY_OPT_FILTER | QUERY_OPT_SELECT | QUERY_OPT_TOP | QUERY_OPT_SKIPTOKEN | QUERY_OPT_ORDERBY)
#define GET_OPTIONS (QUERY_OPT_SELECT | QUERY_OPT_EXPAND)
/* Lists never return defaults and capabilities (only GET /print/shares/{id} does). */
static const char *const NOT_LISTED[] = {"defaults", "capabilities", NULL};
static const odata_spec_t LIST_QUERY = {.mask = LIST_OPTIONS, .select = SHARE_PROPS,
                                        .expand = SHARE_EXPANDS, .not_listed = NOT_LISTED,
                                        .one = "/print/shares/{id}"};
static const odata_spec_t GET_QUERY = {.mask = GET_OPTIONS, .select = SHARE_PROPS,
                                       .expand = SHARE_EXPANDS};

#define SJ_LIST GRAPH_SHARE_JSON_LIST
#define SJ_REDUCED GRAPH_SHARE_JSON_REDUCED

static bool in_list(const char *const *l, const char *name) {
  for (size_t i = 0; l[i]; i++)
    if (strcmp(l[i], name) == 0) return true;
  return false;
}

/* ---- the JSON of a share ------------------------------------------------------------------ */

/* Adds viewPoint: when the signed-in user last printed to the share's printer. */
static void add_view_point(const http_request_t *req, const caller_t *c, const store_share_t *s,
                           json_t *o) {
  int64_t last = 0;
  if (c && caller_is_delegated(c) && c->user_id &&
      store_share_last_used(APP(req)->store, s->tenant, s->printer_id, c->user_id, &last) !=
        STORE_OK)
    last = 0;
  json_t *vp = json_object();
  if (last > 0) {
    char when[TIME_ISO_LEN];
    time_format_iso(last, when);
    json_object_set_new(vp, "lastUsedDateTime", json_string(when));
  } else {
    json_object_set_new(vp, "lastUsedDateTime", json_null());
  }
  json_object_set_new(o, "viewPoint", vp);
}

json_t *graph_share_json(const http_request_t *req, const caller_t *c, const store_share_t *s,
                         const store_printer_t *p, const query_t *q, unsigned flags) {
  bool list = flags & SJ_LIST;
  bool caps = !list && q && q->nselect && odata_selected(q, "capabilities");
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(s->id));
  if (p) json_object_update_new(o, graph_printer_base_json(req, p, caps));
  json_object_set_new(o, "displayName", json_string(s->display_name));
  json_object_set_new(o, "allowAllUsers", json_boolean(s->allow_all_users));
  char when[TIME_ISO_LEN];
  time_format_iso(s->created_us, when);
  json_object_set_new(o, "createdDateTime", json_string(when));
  if (q && q->nselect && odata_selected(q, "viewPoint")) add_view_point(req, c, s, o);
  if (list) {
    json_object_del(o, "defaults");
    json_object_del(o, "capabilities");
  }
  /* Drop what the caller may not see or did not select; id always stays. */
  const char *key;
  void *tmp;
  json_t *v;
  json_object_foreach_safe(o, tmp, key, v) {
    if (key[0] == '@' || strcmp(key, "id") == 0) continue;
    if (((flags & SJ_REDUCED) && !in_list(REDUCED_PROPS, key)) ||
        (q && q->nselect && !odata_selected(q, key)))
      json_object_del(o, key);
  }
  return o;
}

/* ---- request steps -------------------------------------------------------------------------- */

/* See shares.h. */
bool graph_share_failure(http_request_t *req, http_response_t *res, int rc, const char *id) {
  return graph_reply_item_failure(req, res, rc, "Printer share '%s' was not found.", id);
}

/* Loads share id of the caller's tenant; replies 404 (or 500) and returns false when absent. */
static bool load_share(http_request_t *req, http_response_t *res, const caller_t *c,
                       const char *id, store_share_t *out) {
  return !graph_share_failure(req, res, store_share_get(APP(req)->store, c->tenant, id, out), id);
}

/* Loads the printer of share s. A share's printer exists while the share does (deleting the
 * printer deletes the share); a printer deleted between the two reads is a 404 of the share. */
static bool load_share_printer(http_request_t *req, http_response_t *res, const store_share_t *s,
                               store_printer_t *p) {
  store_rc_t rc = store_printer_get(APP(req)->store, s->tenant, s->printer_id, p);
  return !graph_share_failure(req, res, rc, s->id);
}

/* Adds the expansions of q to the share object o. Replies (403, 500) and returns false when one
 * cannot be given. */
static bool add_expansions(http_request_t *req, http_response_t *res, const caller_t *c,
                           const store_share_t *s, const store_printer_t *p, const query_t *q,
                           json_t *o) {
  char why[512];
  perm_decision_t d;
  if (odata_expanded(q, "printer")) {
    if (!perm_check(OP_PRINTER_GET, c, &d, why, sizeof why)) {
      graph_reply_error(req, res, 403, "accessDenied", NULL, "$expand=printer: %s", why);
      return false;
    }
    json_object_set_new(o, "printer", graph_printer_json(req, p, false, true));
  }
  static const struct {
    const char               *name;
    perm_op_t                 op;
    store_share_member_kind_t kind;
  } members[] = {
    {"allowedUsers", OP_SHARE_ALLOWED_USERS_LIST, STORE_SHARE_USER},
    {"allowedGroups", OP_SHARE_ALLOWED_GROUPS_LIST, STORE_SHARE_GROUP},
  };
  for (size_t i = 0; i < 2; i++) {
    if (!odata_expanded(q, members[i].name)) continue;
    if (!perm_check(members[i].op, c, &d, why, sizeof why)) {
      graph_reply_error(req, res, 403, "accessDenied", NULL, "$expand=%s: %s", members[i].name,
                        why);
      return false;
    }
    if (!graph_share_members_expand(req, s, members[i].kind, o)) {
      graph_reply_store_error(req, res);
      return false;
    }
  }
  return true;
}

/* ---- POST /print/shares ------------------------------------------------------------------- */

static const json_field_t SHARE_FIELDS[] = {
  {.name = "displayName", .kind = JF_STRING, .max_len = STORE_SHARE_NAME_MAX},
  {.name = "allowAllUsers", .kind = JF_BOOL},
  {.name = "id", .kind = JF_STRING, .readonly = true},
  {.name = "createdDateTime", .kind = JF_DATETIME, .readonly = true},
  {.name = "manufacturer", .kind = JF_STRING, .readonly = true},
  {.name = "model", .kind = JF_STRING, .readonly = true},
  {.name = "isAcceptingJobs", .kind = JF_BOOL, .readonly = true},
  {.name = "status", .kind = JF_OBJECT, .readonly = true},
  {.name = "location", .kind = JF_OBJECT, .readonly = true},
  {.name = "defaults", .kind = JF_OBJECT, .readonly = true},
  {.name = "capabilities", .kind = JF_OBJECT, .readonly = true},
  {.name = "viewPoint", .kind = JF_OBJECT, .readonly = true},
};
static const json_schema_t SHARE_SCHEMA = {"microsoft.graph.printerShare", SHARE_FIELDS,
                                           sizeof SHARE_FIELDS / sizeof SHARE_FIELDS[0]};

/* pullPrintPrinter@odata.bind in an update body */
typedef enum { PULL_BIND_NONE, PULL_BIND_SET, PULL_BIND_NULL } pull_bind_t;

/* Validates a create or update body: the schema, no binding but printer@odata.bind (and, in an
 * update, where pull is not NULL, pullPrintPrinter@odata.bind: a pull-print printer's URL, or
 * null), the printer reference (when present) as a key in printer, the pull-print printer's in
 * pull. Replies 400 and returns false when the body is not acceptable. */
static bool check_share_body(http_request_t *req, http_response_t *res, const json_t *body,
                             char printer[GRAPH_REF_KEY_MAX + 1], bool *has_printer,
                             char pull[GRAPH_REF_KEY_MAX + 1], pull_bind_t *pull_bind) {
  static const char *const PULL_SETS[] = {"print/pullPrintPrinters", NULL};
  *has_printer = false;
  if (pull_bind) *pull_bind = PULL_BIND_NONE;
  if (!graph_json_check(req, res, body, &SHARE_SCHEMA)) return false;
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)body, key, v) {
    const char *at = strchr(key, '@');
    if (!at || at == key) continue; /* instance annotations (@odata.type) are ignored */
    if (strcmp(key, "pullPrintPrinter@odata.bind") == 0) {
      if (!pull_bind) {
        graph_reply_error(req, res, 400, "invalidRequest", NULL,
                          "'pullPrintPrinter@odata.bind' is not supported when creating a "
                          "printer share: create the share, then bind it with PATCH.");
        return false;
      }
      if (json_is_null(v)) {
        *pull_bind = PULL_BIND_NULL;
        continue;
      }
      if (!json_is_string(v) ||
          !graph_ref_key(req, json_string_value(v), PULL_SETS, pull, GRAPH_REF_KEY_MAX + 1)) {
        graph_reply_error(req, res, 400, "invalidRequest", NULL,
                          "Property 'pullPrintPrinter@odata.bind' must be the URL of a "
                          "pull-print printer, e.g. https://graph.microsoft.com/v1.0/print/"
                          "pullPrintPrinters/{pullPrintPrinterId}, or null.");
        return false;
      }
      *pull_bind = PULL_BIND_SET;
      continue;
    }
    if (strcmp(key, "printer@odata.bind") != 0) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "'%s' is not supported on a printerShare: only printer@odata.bind and "
                        "pullPrintPrinter@odata.bind can be bound.", key);
      return false;
    }
    if (!json_is_string(v) ||
        !graph_ref_key(req, json_string_value(v), PRINTER_SETS, printer, GRAPH_REF_KEY_MAX + 1)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property 'printer@odata.bind' must be the URL of a printer, e.g. "
                        "https://graph.microsoft.com/v1.0/print/printers/{printerId}.");
      return false;
    }
    *has_printer = true;
  }
  json_t *name = json_object_get(body, "displayName");
  if (name && json_string_length(name) == 0) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'displayName' cannot be empty.");
    return false;
  }
  return true;
}

/* Replies to a create/update the store refused. */
static void reply_write_refused(http_request_t *req, http_response_t *res, store_rc_t rc,
                                const store_share_why_t *why, const char *share_id,
                                const char *printer_id) {
  switch (why->err) {
    case STORE_SHARE_ERR_NO_SHARE:
      graph_share_failure(req, res, STORE_NOT_FOUND, share_id);
      return;
    case STORE_SHARE_ERR_NO_PRINTER:
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property 'printer@odata.bind': printer '%s' does not exist in this "
                        "tenant.", printer_id);
      return;
    case STORE_SHARE_ERR_PRINTER_SHARED:
      graph_reply_error(req, res, 409, "notAllowed", NULL,
                        "Printer '%s' is already shared (printer share '%s'): a printer can "
                        "have only one share. Update or delete that share instead.",
                        printer_id, why->other_share_id);
      return;
    case STORE_SHARE_ERR_NO_PULL_PRINTER: /* only updates bind one: share_update says so */
    case STORE_SHARE_ERR_NONE:
      break;
  }
  (void)rc;
  graph_reply_store_error(req, res);
}

/* Replies status with share s and its printer (context: ctx fragment). */
static void reply_share(http_request_t *req, http_response_t *res, const caller_t *c, int status,
                        const store_share_t *s, const query_t *q, const char *ctx) {
  store_printer_t p = {0};
  if (!load_share_printer(req, res, s, &p)) return;
  json_t *o = json_object();
  json_object_set_new(o, "@odata.context", graph_context(req, "%s", ctx));
  json_object_update_new(o, graph_share_json(req, c, s, &p, q, 0));
  store_printer_clear(&p);
  graph_reply_json(req, res, status, o);
}

/* POST /print/shares */
static void share_create(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, OP_SHARE_CREATE, NULL, false, &body);
  if (!c) return;
  char printer[GRAPH_REF_KEY_MAX + 1];
  bool has_printer;
  if (!check_share_body(req, res, body, printer, &has_printer, NULL, NULL)) goto out;
  json_t *name = json_object_get(body, "displayName");
  if (!has_printer || !name) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property '%s' is required to create a printer share.",
                      !has_printer ? "printer@odata.bind" : "displayName");
    goto out;
  }
  store_share_t s = {0};
  store_share_why_t why;
  store_rc_t rc = store_share_create(APP(req)->store, c->tenant, printer,
                                     json_string_value(name),
                                     json_is_true(json_object_get(body, "allowAllUsers")), &s,
                                     &why);
  if (rc != STORE_OK) {
    reply_write_refused(req, res, rc, &why, NULL, printer);
    goto out;
  }
  log_info("share %s created for printer %s", s.id, s.printer_id);
  reply_share(req, res, c, 201, &s, NULL, "print/shares/$entity");
  store_share_clear(&s);
out:
  json_decref(body);
}

/* ---- lists -------------------------------------------------------------------------------- */

/* True when the filter f names a location/... or capabilities/... member. */
static bool filters_on_location_or_capabilities(const query_filter_t *f) {
  if (!f) return false;
  if ((f->kind == QUERY_F_CMP || f->kind == QUERY_F_ANY || f->kind == QUERY_F_ALL) &&
      f->path.nsegs > 1 &&
      (strcasecmp(f->path.segs[0], "location") == 0 ||
       strcasecmp(f->path.segs[0], "capabilities") == 0))
    return true;
  for (size_t i = 0; i < f->nkids; i++)
    if (filters_on_location_or_capabilities(f->kids[i])) return true;
  return false;
}

/* Replies with the page of the tenant's shares (of printer_id when not NULL) under the parsed
 * query q, as the collection ctx (takes ctx). Where d has PERM_REDUCED_FOR_NON_ADMIN (S2),
 * callers who are not Printer Administrators, and every request filtering on capabilities or
 * location, get the reduced property set; the former may name only its members (and
 * capabilities/...) in the query. */
static void reply_share_list(http_request_t *req, http_response_t *res, const caller_t *c,
                             const perm_decision_t *d, const query_t *q, const char *printer_id,
                             json_t *ctx) {
  bool reduced = (d->flags & PERM_REDUCED_FOR_NON_ADMIN) && !d->admin;
  bool reduced_reply = (d->flags & PERM_REDUCED_FOR_NON_ADMIN) &&
                       (!d->admin || filters_on_location_or_capabilities(q->filter));
  store_share_page_t page;
  char err[512];
  store_rc_t rc = store_share_list(APP(req)->store, c->tenant, printer_id, q, reduced, &page,
                                   err, sizeof err);
  if (rc != STORE_OK) {
    json_decref(ctx);
    graph_reply_list_failure(req, res, rc, err, NULL);
    return;
  }
  json_t *value = json_array();
  for (size_t i = 0; i < page.n; i++) {
    store_printer_t p = {0};
    rc = store_printer_get(APP(req)->store, c->tenant, page.items[i].printer_id, &p);
    if (rc == STORE_NOT_FOUND) continue; /* deleted since the list was read: so is the share */
    if (rc != STORE_OK) {
      json_decref(value);
      json_decref(ctx);
      store_share_page_clear(&page);
      graph_reply_store_error(req, res);
      return;
    }
    json_array_append_new(value, graph_share_json(req, c, &page.items[i], &p, q,
                                                  SJ_LIST | (reduced_reply ? SJ_REDUCED : 0)));
    store_printer_clear(&p);
  }
  graph_reply_collection(req, res, ctx, value, page.next);
  store_share_page_clear(&page);
}

/* GET /print/shares */
static void shares_list(http_request_t *req, http_response_t *res) {
  perm_decision_t d;
  query_t q;
  const caller_t *c = graph_authorize_query(req, res, OP_SHARES_LIST, &d, &LIST_QUERY, &q);
  if (c) reply_share_list(req, res, c, &d, &q, NULL, graph_context(req, "print/shares"));
  query_clear(&q);
}

/* GET /print/printers/{id}/shares: 404 for an unknown printer (before the query options are
 * read). */
static void printer_shares_list(http_request_t *req, http_response_t *res) {
  perm_decision_t d;
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_SHARES_LIST, &d);
  const char *pid = req->params[0];
  if (!c || !graph_printer_exists(req, res, c->tenant, pid)) return;
  query_t q;
  if (!odata_parse_request(req, res, &LIST_QUERY, &q)) return;
  reply_share_list(req, res, c, &d, &q, pid,
                   graph_context(req, "print/printers('%s')/shares", pid));
  query_clear(&q);
}

/* ---- get ----------------------------------------------------------------------------------- */

/* Replies 200 with share s for a GET (query options of the request; context ctx). */
static void reply_share_get(http_request_t *req, http_response_t *res, const caller_t *c,
                            const perm_decision_t *d, const store_share_t *s, json_t *ctx) {
  query_t q;
  if (!odata_parse_request(req, res, &GET_QUERY, &q)) {
    json_decref(ctx);
    return;
  }
  store_printer_t p = {0};
  if (!load_share_printer(req, res, s, &p)) {
    json_decref(ctx);
    query_clear(&q);
    return;
  }
  bool reduced = (d->flags & PERM_REDUCED_FOR_NON_ADMIN) && !d->admin;
  json_t *o = json_object();
  json_object_set_new(o, "@odata.context", ctx);
  json_object_update_new(o, graph_share_json(req, c, s, &p, &q, reduced ? SJ_REDUCED : 0));
  if (q.nexpand && !add_expansions(req, res, c, s, &p, &q, o)) {
    json_decref(o);
  } else {
    graph_reply_json(req, res, 200, o);
  }
  store_printer_clear(&p);
  query_clear(&q);
}

/* GET /print/shares/{id} */
static void share_get(http_request_t *req, http_response_t *res) {
  perm_decision_t d;
  const caller_t *c = graph_authorize(req, res, OP_SHARE_GET, &d);
  if (!c) return;
  store_share_t s = {0};
  if (!load_share(req, res, c, req->params[0], &s)) return;
  reply_share_get(req, res, c, &d, &s, graph_context(req, "print/shares/$entity"));
  store_share_clear(&s);
}

/* GET /print/printers/{id}/shares/{shareId} */
static void printer_share_get(http_request_t *req, http_response_t *res) {
  perm_decision_t d;
  const caller_t *c = graph_authorize(req, res, OP_PRINTER_SHARES_LIST, &d);
  if (!c) return;
  const char *pid = req->params[0], *sid = req->params[1];
  if (!graph_printer_exists(req, res, c->tenant, pid)) return;
  store_share_t s = {0};
  if (!load_share(req, res, c, sid, &s)) return;
  if (strcmp(s.printer_id, pid) != 0) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL,
                      "Printer share '%s' is not a share of printer '%s'.", sid, pid);
  } else {
    reply_share_get(req, res, c, &d, &s,
                    graph_context(req, "print/printers('%s')/shares/$entity", pid));
  }
  store_share_clear(&s);
}

/* Every printer property ($select names of GET /print/shares/{id}/printer). */
static const char *const PRINTER_PROPS[] = {
  "id", "displayName", "manufacturer", "model", "isAcceptingJobs", "status", "location",
  "defaults", "capabilities", "hasPhysicalDevice", "isShared", "registeredDateTime",
  "lastSeenDateTime", "releaseMechanisms", "printerProvidedReleaseSupport", NULL,
};
static const odata_spec_t PRINTER_QUERY = {.mask = QUERY_OPT_SELECT, .select = PRINTER_PROPS};

/* GET /print/shares/{id}/printer: the printer, under the Get-printer rules (capabilities only
 * when $select'ed). */
static void share_printer_get(http_request_t *req, http_response_t *res) {
  query_t q;
  const caller_t *c = graph_authorize_query(req, res, OP_PRINTER_GET, NULL, &PRINTER_QUERY, &q);
  if (!c) return;
  store_share_t s = {0};
  store_printer_t p = {0};
  if (load_share(req, res, c, req->params[0], &s) && load_share_printer(req, res, &s, &p)) {
    json_t *o = graph_with_context(
        graph_context(req, "print/shares('%s')/printer/$entity", s.id),
        graph_printer_json(req, &p, odata_select_names(&q, "capabilities"), true));
    odata_apply_select(o, &q);
    graph_reply_json(req, res, 200, o);
  }
  store_printer_clear(&p);
  store_share_clear(&s);
  query_clear(&q);
}

/* ---- update, delete ------------------------------------------------------------------------- */

/* PATCH /print/shares/{id} */
static void share_update(http_request_t *req, http_response_t *res) {
  json_t *body;
  const caller_t *c = graph_authorize_body(req, res, OP_SHARE_UPDATE, NULL, false, &body);
  if (!c) return;
  const char *id = req->params[0];
  char printer[GRAPH_REF_KEY_MAX + 1], pull[GRAPH_REF_KEY_MAX + 1];
  bool has_printer;
  pull_bind_t pull_bind;
  if (check_share_body(req, res, body, printer, &has_printer, pull, &pull_bind)) {
    store_share_patch_t p = {0};
    json_t *v = json_object_get(body, "displayName");
    if (v) p.display_name = json_string_value(v);
    if ((v = json_object_get(body, "allowAllUsers"))) {
      p.set_allow_all_users = true;
      p.allow_all_users = json_is_true(v);
    }
    if (has_printer) p.printer_id = printer;
    p.set_pull_printer = pull_bind != PULL_BIND_NONE;
    p.pull_printer_id = pull_bind == PULL_BIND_SET ? pull : NULL;
    store_share_t s = {0};
    store_share_why_t why;
    store_rc_t rc = store_share_update(APP(req)->store, c->tenant, id, &p, &s, &why);
    if (rc == STORE_OK)
      reply_share(req, res, c, 200, &s, NULL, "print/shares/$entity");
    else if (why.err == STORE_SHARE_ERR_NO_PULL_PRINTER)
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property 'pullPrintPrinter@odata.bind': pull-print printer '%s' does "
                        "not exist in this tenant.", pull);
    else
      reply_write_refused(req, res, rc, &why, id, printer);
    store_share_clear(&s);
  }
  json_decref(body);
}

/* DELETE /print/shares/{id} */
static void share_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = graph_authorize(req, res, OP_SHARE_DELETE, NULL);
  if (!c) return;
  const char *id = req->params[0];
  store_rc_t rc = store_share_delete(APP(req)->store, c->tenant, id);
  if (!graph_share_failure(req, res, rc, id)) {
    log_info("share %s deleted", id);
    graph_reply_no_content(res);
  }
}

/* ---- routes --------------------------------------------------------------------------------- */

static route_t ROUTES[] = {
  ROUTE("POST", "/print/shares", share_create, ROUTE_GRAPH | ROUTE_JSON_BODY, "shares.create"),
  ROUTE("GET", "/print/shares", shares_list, ROUTE_GRAPH, "shares.list"),
  ROUTE("GET", "/print/shares/{id}", share_get, ROUTE_GRAPH, "shares.get"),
  ROUTE("PATCH", "/print/shares/{id}", share_update, ROUTE_GRAPH | ROUTE_JSON_BODY,
        "shares.update"),
  ROUTE("DELETE", "/print/shares/{id}", share_delete, ROUTE_GRAPH, "shares.delete"),
  ROUTE("GET", "/print/shares/{id}/printer", share_printer_get, ROUTE_GRAPH,
        "shares.printer.get"),
  ROUTE("GET", "/print/printers/{id}/shares", printer_shares_list, ROUTE_GRAPH,
        "printers.shares.list"),
  ROUTE("GET", "/print/printers/{id}/shares/{id}", printer_share_get, ROUTE_GRAPH,
        "printers.shares.get"),
};

void graph_shares_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
