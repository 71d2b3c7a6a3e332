/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Task definitions, print tasks and task triggers (reference §2.8, §4.5, P11-P14).
 *
 * Decisions for what the Graph docs leave open (docs/pull-printing.md):
 *  - Another application's task definition (and its tasks) is 404, like another tenant's.
 *  - DELETE of a definition a trigger still binds, or with a task still processing: 409
 *    notAllowed (triggers must be deleted first; a held job must not lose its task).
 *  - A trigger binding an unknown definition: 400 invalidRequest; a definition of another
 *    application: 403 accessDenied; a second trigger on a printer: 409 notAllowed.
 *  - Lists refuse $count, $format, $search, $select, $skip and $top (§9.3) and take $filter,
 *    $orderby, $expand (definition, trigger) and the $skiptoken of their nextLink.
 *  - A task PATCH to completed releases the job (fetchable), to aborted aborts it; any other
 *    change is 409 notAllowed. The default descriptions are "Task execution is completed." and
 *    "Task execution was aborted.".
 */
#include "graph/tasks.h"

#include "app.h"
#include "core/enums.h"
#include "core/job.h"
#include "graph/authorize.h"
#include "graph/jobs.h"
#include "graph/json.h"
#include "graph/odata.h"
#include "graph/printers.h"
#include "graph/refs.h"
#include "graph/reply.h"
#include "graph/routes.h"
#include "http/router.h"
#include "http/server.h"
#include "store/pullprint.h"
#include "util/buf.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TASK_NAME_MAX 256         /* characters of displayName / createdBy.displayName */
#define TASK_DESCRIPTION_MAX 1024 /* characters of a task's status.description */

/* Options of the lists (§9.3: $count, $format, $search, $select, $skip and $top are not
 * supported) and of single entities. */
#define LIST_OPTIONS (QUERY_OPT_FILTER | QUERY_OPT_ORDERBY | QUERY_OPT_EXPAND | QUERY_OPT_SKIPTOKEN)
#define ITEM_OPTIONS (QUERY_OPT_SELECT | QUERY_OPT_EXPAND)

/* ---- JSON ------------------------------------------------------------------------------- */

/* The absolute URL of a job: "<public-url>/v1.0/print/printers/{p}/jobs/{j}". */
static json_t *job_url(const http_request_t *req, const char *printer_id, int64_t job_id) {
  buf_t b = BUF_INIT;
  const char *base = server_public_url(req->server);
  size_t n = strlen(base);
  while (n && base[n - 1] == '/') n--;
  buf_append(&b, base, n);
  buf_printf(&b, "/v1.0/print/printers/%s/jobs/%" PRId64, printer_id, job_id);
  json_t *s = json_string(b.data);
  buf_free(&b);
  return s;
}

/* The printTask of t; see graph/tasks.h. */
json_t *graph_task_json(const http_request_t *req, const store_task_t *t) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(t->id));
  json_object_set_new(o, "parentUrl", job_url(req, t->printer_id, t->job_id));
  json_t *st = json_object();
  json_object_set_new(st, "state", json_string(enum_emit(&ENUM_PRINT_TASK_PROCESSING_STATE,
                                                         t->state, graph_prefers_evolvable(req))));
  json_object_set_new(st, "description", json_string(t->description ? t->description : ""));
  json_object_set_new(o, "status", st);
  return o;
}

/* The printTaskDefinition of d; see graph/tasks.h. */
json_t *graph_task_definition_json(const http_request_t *req, const store_task_definition_t *d) {
  (void)req;
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(d->id));
  json_object_set_new(o, "displayName", json_string(d->display_name ? d->display_name : ""));
  json_t *by = json_object();
  json_object_set_new(by, "appId", graph_json_string_or_null(d->created_by_app));
  json_object_set_new(by, "displayName", graph_json_string_or_null(d->created_by_name));
  json_object_set_new(by, "servicePrincipalId", json_null());
  json_object_set_new(by, "servicePrincipalName", json_null());
  json_object_set_new(o, "createdBy", by);
  return o;
}

/* The printTaskTrigger of t; see graph/tasks.h. */
json_t *graph_task_trigger_json(const http_request_t *req, const store_task_trigger_t *t) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_string(t->id));
  json_object_set_new(o, "event",
                      json_string(enum_emit(&ENUM_PRINT_EVENT, t->event,
                                            graph_prefers_evolvable(req))));
  return o;
}

/* ---- common steps ----------------------------------------------------------------------- */


/* The caller's application id, which owns definitions and triggers. Replies 403 and returns
 * NULL when the token carries none. */
static const char *caller_app(http_request_t *req, http_response_t *res, const caller_t *c) {
  if (c->app_id && *c->app_id) return c->app_id;
  graph_reply_error(req, res, 403, "accessDenied", NULL,
                    "The token carries no application id (appid or azp claim), which task "
                    "definitions and triggers are owned by.");
  return NULL;
}

/* Loads task definition params[0] of the calling application (another app's is 404). */
static bool load_definition(http_request_t *req, http_response_t *res, const caller_t *c,
                            const char *app, store_task_definition_t *d) {
  const char *id = http_request_param(req, 0);
  store_rc_t rc = store_task_definition_get(APP(req)->store, c->tenant, app, id, d);
  return !graph_reply_item_failure(req, res, rc, "The task definition '%s' was not found.", id);
}

/* Authorizes op, and loads the calling app's definition params[0] (when d is not NULL).
 * Returns the caller, or NULL after replying. */
static const caller_t *definition_step(http_request_t *req, http_response_t *res, perm_op_t op,
                                       const char **app, store_task_definition_t *d) {
  const caller_t *c = graph_authorize(req, res, op, NULL);
  if (!c) return NULL;
  *app = caller_app(req, res, c);
  if (!*app) return NULL;
  if (d && !load_definition(req, res, c, *app, d)) return NULL;
  return c;
}

/* What a store list callback of this file fills: the entities' JSON, and whether one of them
 * could not be built ($expand failed). */
typedef struct collect {
  http_request_t *req;
  json_t         *value;
  const query_t  *q;
  bool            failed;
} collect_t;

/* Appends entity o to the collection, or drops it and stops the list when its expansion
 * failed. Takes o. */
static int collect_add(collect_t *col, json_t *o, bool expanded) {
  if (!expanded) {
    json_decref(o);
    col->failed = true;
    return 1;
  }
  json_array_append_new(col->value, o);
  return 0;
}

/* Answers a list the store read into col (rc, its next-page token and error text): 400 or 500
 * as graph_reply_list_failure (an entity whose expansion failed is a 500), else the collection
 * under context. Takes context and col->value. */
static void reply_collected(http_request_t *req, http_response_t *res, store_rc_t rc,
                            collect_t *col, const char *next, const char *err, json_t *context) {
  if (graph_reply_list_failure(req, res, rc == STORE_OK && col->failed ? STORE_ERROR : rc, err,
                               NULL)) {
    json_decref(col->value);
    json_decref(context);
  } else {
    graph_reply_collection(req, res, context, col->value, next);
  }
}

/* The definition entity with @odata.context (and @odata.type when typed); q's $select applied
 * when q is not NULL. The caller owns the result. */
static json_t *definition_entity(http_request_t *req, const store_task_definition_t *d,
                                 bool typed, const query_t *q) {
  json_t *o = json_object();
  if (typed)
    json_object_set_new(o, "@odata.type", json_string("#microsoft.graph.printTaskDefinition"));
  json_object_update_new(o, graph_task_definition_json(req, d));
  o = graph_with_context(graph_context(req, "print/taskDefinitions/$entity"), o);
  if (q) odata_apply_select(o, q);
  return o;
}

/* Replies 200 with the definition id that a task or trigger runs, whichever application made
 * it, or 404 with the message missing (printf-formatted with arg). */
static void reply_definition_of(http_request_t *req, http_response_t *res, const char *tenant,
                                const char *id, const query_t *q, const char *missing,
                                const char *arg) {
  store_task_definition_t d = {0};
  store_rc_t rc = store_task_definition_get(APP(req)->store, tenant, NULL, id, &d);
  if (rc == STORE_NOT_FOUND)
    graph_reply_error(req, res, 404, "itemNotFound", NULL, missing, arg);
  else if (rc != STORE_OK)
    graph_reply_store_error(req, res);
  else
    graph_reply_json(req, res, 200, definition_entity(req, &d, false, q));
  store_task_definition_clear(&d);
}

/* ---- request bodies --------------------------------------------------------------------- */

static const json_field_t APP_IDENTITY_FIELDS[] = {
    {.name = "appId", .kind = JF_STRING, .readonly = true},
    {.name = "displayName", .kind = JF_STRING, .nullable = true, .max_len = TASK_NAME_MAX},
    {.name = "servicePrincipalId", .kind = JF_STRING, .readonly = true},
    {.name = "servicePrincipalName", .kind = JF_STRING, .readonly = true},
};
static const json_schema_t APP_IDENTITY = {"microsoft.graph.appIdentity", APP_IDENTITY_FIELDS,
                                           4};

static const json_field_t DEFINITION_FIELDS[] = {
    {.name = "id", .kind = JF_STRING, .readonly = true},
    {.name = "displayName", .kind = JF_STRING, .max_len = TASK_NAME_MAX},
    {.name = "createdBy", .kind = JF_OBJECT, .sub = &APP_IDENTITY, .nullable = true},
    {.name = "tasks", .kind = JF_ARRAY, .readonly = true},
};
static const json_schema_t DEFINITION = {"microsoft.graph.printTaskDefinition",
                                         DEFINITION_FIELDS, 4};

static const json_field_t TRIGGER_FIELDS[] = {
    {.name = "id", .kind = JF_STRING, .readonly = true},
    {.name = "event", .kind = JF_ENUM, .enm = &ENUM_PRINT_EVENT},
    {.name = "definition", .kind = JF_OBJECT, .readonly = true},
};
static const json_schema_t TRIGGER = {"microsoft.graph.printTaskTrigger", TRIGGER_FIELDS, 3};

static const json_field_t TASK_STATUS_FIELDS[] = {
    {.name = "state", .kind = JF_ENUM, .enm = &ENUM_PRINT_TASK_PROCESSING_STATE},
    {.name = "description", .kind = JF_STRING, .nullable = true, .max_len = TASK_DESCRIPTION_MAX},
};
static const json_schema_t TASK_STATUS = {"microsoft.graph.printTaskStatus", TASK_STATUS_FIELDS,
                                          2};

static const json_field_t TASK_FIELDS[] = {
    {.name = "id", .kind = JF_STRING, .readonly = true},
    {.name = "parentUrl", .kind = JF_STRING, .readonly = true},
    {.name = "status", .kind = JF_OBJECT, .sub = &TASK_STATUS},
    {.name = "definition", .kind = JF_OBJECT, .readonly = true},
    {.name = "trigger", .kind = JF_OBJECT, .readonly = true},
};
static const json_schema_t TASK = {"microsoft.graph.printTask", TASK_FIELDS, 5};

/* createdBy.displayName of a body, as (set, value). */
static void created_by_name(const json_t *body, bool *set, const char **name) {
  json_t *by = json_object_get(body, "createdBy");
  json_t *v = json_is_object(by) ? json_object_get(by, "displayName") : NULL;
  *set = by != NULL;
  *name = json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- task definitions ------------------------------------------------------------------- */

static const char *const DEF_SELECT[] = {"id", "displayName", "createdBy", NULL};
static const odata_spec_t DEF_LIST_QUERY = {.mask = LIST_OPTIONS};
static const odata_spec_t DEF_GET_QUERY = {.mask = QUERY_OPT_SELECT, .select = DEF_SELECT};

/* POST /print/taskDefinitions */
static void definition_create(http_request_t *req, http_response_t *res) {
  const char *app;
  const caller_t *c = definition_step(req, res, OP_TASK_DEFINITION_CREATE, &app, NULL);
  if (!c) return;
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  store_task_definition_t d = {0};
  if (!graph_json_check(req, res, body, &DEFINITION)) goto done;
  json_t *name = json_object_get(body, "displayName");
  if (!json_is_string(name) || !json_string_length(name)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'displayName' is required and must not be empty.");
    goto done;
  }
  bool set;
  const char *by_name;
  created_by_name(body, &set, &by_name);
  if (store_task_definition_create(APP(req)->store, c->tenant, app, json_string_value(name),
                                   by_name, &d) != STORE_OK) {
    graph_reply_store_error(req, res);
    goto done;
  }
  graph_reply_json(req, res, 201, definition_entity(req, &d, false, NULL));
done:
  store_task_definition_clear(&d);
  json_decref(body);
}

static int collect_definition(const store_task_definition_t *d, void *arg) {
  collect_t *col = arg;
  return collect_add(col, graph_task_definition_json(col->req, d), true);
}

/* GET /print/taskDefinitions: the calling application's definitions. */
static void definition_list(http_request_t *req, http_response_t *res) {
  const char *app;
  const caller_t *c = definition_step(req, res, OP_TASK_DEFINITIONS_LIST, &app, NULL);
  if (!c) return;
  query_t q;
  char *next = NULL, *err = NULL;
  if (!odata_parse_request(req, res, &DEF_LIST_QUERY, &q)) goto done;
  collect_t col = {req, json_array(), &q, false};
  store_rc_t rc = store_task_definition_list(APP(req)->store, c->tenant, app, &q,
                                             collect_definition, &col, &next, &err);
  reply_collected(req, res, rc, &col, next, err, graph_context(req, "print/taskDefinitions"));
done:
  free(next);
  free(err);
  query_clear(&q);
}

/* GET /print/taskDefinitions/{id} */
static void definition_get(http_request_t *req, http_response_t *res) {
  const char *app;
  store_task_definition_t d = {0};
  query_t q;
  query_init(&q);
  if (definition_step(req, res, OP_TASK_DEFINITION_GET, &app, &d) &&
      odata_parse_request(req, res, &DEF_GET_QUERY, &q))
    graph_reply_json(req, res, 200, definition_entity(req, &d, true, &q));
  store_task_definition_clear(&d);
  query_clear(&q);
}

/* PATCH /print/taskDefinitions/{id}: displayName and createdBy.displayName. */
static void definition_update(http_request_t *req, http_response_t *res) {
  const char *app;
  const caller_t *c = definition_step(req, res, OP_TASK_DEFINITION_UPDATE, &app, NULL);
  if (!c) return;
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  store_task_definition_t d = {0};
  if (!graph_json_check(req, res, body, &DEFINITION)) goto done;
  store_task_definition_patch_t p = {0};
  json_t *name = json_object_get(body, "displayName");
  if (name) {
    if (!json_string_length(name)) {
      graph_reply_error(req, res, 400, "invalidRequest", NULL,
                        "Property 'displayName' must not be empty.");
      goto done;
    }
    p.set_display_name = true;
    p.display_name = json_string_value(name);
  }
  created_by_name(body, &p.set_created_by_name, &p.created_by_name);
  const char *id = http_request_param(req, 0);
  store_rc_t rc = store_task_definition_update(APP(req)->store, c->tenant, app, id, &p, &d);
  if (!graph_reply_item_failure(req, res, rc, "The task definition '%s' was not found.", id))
    graph_reply_json(req, res, 200, definition_entity(req, &d, false, NULL));
done:
  store_task_definition_clear(&d);
  json_decref(body);
}

/* DELETE /print/taskDefinitions/{id}: 204; 409 while a trigger binds it. */
static void definition_delete(http_request_t *req, http_response_t *res) {
  const char *app;
  const caller_t *c = definition_step(req, res, OP_TASK_DEFINITION_DELETE, &app, NULL);
  if (!c) return;
  const char *id = http_request_param(req, 0);
  char *why = NULL;
  store_rc_t rc = store_task_definition_delete(APP(req)->store, c->tenant, app, id, &why);
  if (rc == STORE_CONFLICT)
    graph_reply_error(req, res, 409, "notAllowed", NULL, "%s", why);
  else if (!graph_reply_item_failure(req, res, rc, "The task definition '%s' was not found.", id))
    graph_reply_no_content(res);
  free(why);
}

/* ---- print tasks ------------------------------------------------------------------------ */

static const char *const TASK_SELECT[] = {"id", "parentUrl", "status", "definition", "trigger",
                                          NULL};
static const char *const TASK_EXPAND[] = {"definition", "trigger", NULL};
static const odata_spec_t TASK_LIST_QUERY = {.mask = LIST_OPTIONS, .expand = TASK_EXPAND};
static const odata_spec_t TASK_GET_QUERY = {.mask = ITEM_OPTIONS, .select = TASK_SELECT,
                                            .expand = TASK_EXPAND};
static const odata_spec_t JOB_TASKS_QUERY = {.mask = QUERY_OPT_EXPAND, .expand = TASK_EXPAND};

/* Sets o.definition to definition id (null when it is gone) when q expands it; false on a store
 * error. */
static bool expand_definition(http_request_t *req, const query_t *q, const char *tenant,
                              const char *id, json_t *o) {
  if (!odata_expanded(q, "definition")) return true;
  store_task_definition_t d = {0};
  store_rc_t rc = store_task_definition_get(APP(req)->store, tenant, NULL, id, &d);
  if (rc != STORE_OK && rc != STORE_NOT_FOUND) return false;
  json_object_set_new(o, "definition",
                      rc == STORE_OK ? graph_task_definition_json(req, &d) : json_null());
  store_task_definition_clear(&d);
  return true;
}

/* Reads the trigger that created task t into *g (STORE_NOT_FOUND when none or gone). */
static store_rc_t task_trigger_of(http_request_t *req, const store_task_t *t,
                                  store_task_trigger_t *g) {
  if (!t->trigger_id) return STORE_NOT_FOUND;
  return store_task_trigger_get(APP(req)->store, t->tenant, NULL, t->trigger_id, g);
}

/* Adds the expansions of q to task JSON o ("definition", "trigger"; null when gone). */
static bool task_expand(http_request_t *req, const query_t *q, const store_task_t *t, json_t *o) {
  if (!expand_definition(req, q, t->tenant, t->definition_id, o)) return false;
  if (odata_expanded(q, "trigger")) {
    store_task_trigger_t g = {0};
    store_rc_t rc = task_trigger_of(req, t, &g);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) return false;
    json_object_set_new(o, "trigger",
                        rc == STORE_OK ? graph_task_trigger_json(req, &g) : json_null());
    store_task_trigger_clear(&g);
  }
  return true;
}

/* Adds "definition" to trigger JSON o when q expands it. */
static bool trigger_expand(http_request_t *req, const query_t *q, const store_task_trigger_t *g,
                           json_t *o) {
  return expand_definition(req, q, g->tenant, g->definition_id, o);
}

/* Replies 200 with entity o after q's $select (q may be NULL), or 500 when its $expand failed
 * (expanded false). Takes o. */
static void reply_entity(http_request_t *req, http_response_t *res, json_t *o, const query_t *q,
                         bool expanded) {
  if (!expanded) {
    json_decref(o);
    graph_reply_store_error(req, res);
    return;
  }
  if (q) odata_apply_select(o, q);
  graph_reply_json(req, res, 200, o);
}

/* The trigger entity with @odata.context. */
static json_t *trigger_entity(http_request_t *req, const store_task_trigger_t *g) {
  return graph_with_context(
      graph_context(req, "print/printers('%s')/taskTriggers/$entity", g->printer_id),
      graph_task_trigger_json(req, g));
}

/* Replies 200 with trigger g (q: its $expand and $select, or NULL). */
static void reply_trigger(http_request_t *req, http_response_t *res, const store_task_trigger_t *g,
                          const query_t *q) {
  json_t *o = trigger_entity(req, g);
  reply_entity(req, res, o, q, !q || trigger_expand(req, q, g, o));
}

/* Replies 200 with the trigger that created task t, or 404. */
static void reply_trigger_of(http_request_t *req, http_response_t *res, const store_task_t *t,
                             const query_t *q) {
  store_task_trigger_t g = {0};
  if (!graph_reply_item_failure(req, res, task_trigger_of(req, t, &g),
                                "The task trigger that created print task '%s' no longer exists.",
                                t->id))
    reply_trigger(req, res, &g, q);
  store_task_trigger_clear(&g);
}

static int collect_task(const store_task_t *t, void *arg) {
  collect_t *col = arg;
  json_t *o = graph_task_json(col->req, t);
  return collect_add(col, o, task_expand(col->req, col->q, t, o));
}

/* GET /print/taskDefinitions/{id}/tasks */
static void task_list(http_request_t *req, http_response_t *res) {
  const char *app;
  store_task_definition_t d = {0};
  query_t q;
  query_init(&q);
  char *next = NULL, *err = NULL;
  const caller_t *c = definition_step(req, res, OP_TASKS_LIST, &app, &d);
  if (!c) goto done;
  if (!odata_parse_request(req, res, &TASK_LIST_QUERY, &q)) goto done;
  collect_t col = {req, json_array(), &q, false};
  store_rc_t rc = store_task_list(APP(req)->store, c->tenant, d.id, &q, collect_task, &col,
                                  &next, &err);
  reply_collected(req, res, rc, &col, next, err,
                  graph_context(req, "print/taskDefinitions('%s')/tasks", d.id));
done:
  free(next);
  free(err);
  store_task_definition_clear(&d);
  query_clear(&q);
}

/* What a GET of a task answers: the task, or one of its navigation properties. */
typedef enum { TASK_PART_TASK, TASK_PART_DEFINITION, TASK_PART_TRIGGER } task_part_t;

/* The @odata.context of task t under its definition's path. */
static json_t *task_context(http_request_t *req, const store_task_t *t) {
  return graph_context(req, "print/taskDefinitions('%s')/tasks/$entity", t->definition_id);
}

/* Replies to a GET of task t (context: its @odata.context, taken; NULL for the other parts) or
 * of one of its navigation properties, under q's options. */
static void reply_task_part(http_request_t *req, http_response_t *res, task_part_t part,
                            const store_task_t *t, const query_t *q, json_t *context) {
  if (part == TASK_PART_DEFINITION) {
    reply_definition_of(req, res, t->tenant, t->definition_id, q,
                        "The task definition of print task '%s' no longer exists.", t->id);
  } else if (part == TASK_PART_TRIGGER) {
    reply_trigger_of(req, res, t, q);
  } else {
    json_t *o = graph_with_context(context, graph_task_json(req, t));
    reply_entity(req, res, o, q, task_expand(req, q, t, o));
    return;
  }
  json_decref(context);
}

/* Authorizes op, loads the calling app's definition params[0] into *d, parses the query options
 * (spec: into *q; NULL: none) and loads task params[1] under it into *t. Returns the caller, or
 * NULL after replying; the caller clears *d, *t and *q. */
static const caller_t *task_step(http_request_t *req, http_response_t *res, perm_op_t op,
                                 const odata_spec_t *spec, query_t *q, store_task_definition_t *d,
                                 store_task_t *t) {
  const char *app;
  const caller_t *c = definition_step(req, res, op, &app, d);
  if (!c || (spec && !odata_parse_request(req, res, spec, q))) return NULL;
  const char *id = http_request_param(req, 1);
  if (graph_reply_item_failure(req, res, store_task_get(APP(req)->store, c->tenant, d->id, id, t),
                               "The print task '%s' was not found under task definition '%s'.",
                               id, d->id))
    return NULL;
  return c;
}

/* GET /print/taskDefinitions/{id}/tasks/{id}[/definition|/trigger]: the task (with its query
 * options), its definition or the trigger that created it (neither takes query options). */
static void task_reply(http_request_t *req, http_response_t *res, task_part_t part) {
  store_task_definition_t d = {0};
  store_task_t t = {0};
  query_t q;
  query_init(&q);
  bool self = part == TASK_PART_TASK;
  if (task_step(req, res, OP_TASK_GET, self ? &TASK_GET_QUERY : NULL, &q, &d, &t))
    reply_task_part(req, res, part, &t, &q, self ? task_context(req, &t) : NULL);
  store_task_clear(&t);
  store_task_definition_clear(&d);
  query_clear(&q);
}

static void task_get(http_request_t *req, http_response_t *res) {
  task_reply(req, res, TASK_PART_TASK);
}
static void task_definition_get(http_request_t *req, http_response_t *res) {
  task_reply(req, res, TASK_PART_DEFINITION);
}
static void task_trigger_get(http_request_t *req, http_response_t *res) {
  task_reply(req, res, TASK_PART_TRIGGER);
}

/* PATCH /print/taskDefinitions/{id}/tasks/{id} {"status":{"state","description"}}: completed
 * releases the job, aborted aborts it, in one transaction. */
static void task_update(http_request_t *req, http_response_t *res) {
  const char *app;
  store_task_definition_t d = {0};
  store_task_t t = {0};
  store_pull_result_t r = {0};
  json_t *body = NULL;
  const caller_t *c = definition_step(req, res, OP_TASK_UPDATE, &app, &d);
  if (!c) goto done;
  body = graph_json_body(req, res, false);
  if (!body || !graph_json_check(req, res, body, &TASK)) goto done;
  json_t *status = json_object_get(body, "status");
  json_t *state = json_object_get(status, "state");
  if (!json_is_string(state)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'status/state' is required: completed or aborted.");
    goto done;
  }
  int next = enum_lookup(&ENUM_PRINT_TASK_PROCESSING_STATE, json_string_value(state), true);
  json_t *desc = json_object_get(status, "description");
  const char *task_id = http_request_param(req, 1);
  store_rc_t rc = STORE_CONFLICT;
  if (next == TASK_COMPLETED || next == TASK_ABORTED) {
    rc = store_task_finish(APP(req)->store, c->tenant, d.id, task_id, (task_state_t)next,
                           json_is_string(desc) ? json_string_value(desc) : NULL, &t, &r);
  } else {
    /* Only processing -> completed | aborted exists; say what the task's state allows. */
    rc = store_task_get(APP(req)->store, c->tenant, d.id, task_id, &t);
    const char *why = NULL;
    if (rc == STORE_OK && !task_transition_allowed((task_state_t)t.state, (task_state_t)next, &why)) {
      r.why = xstrdup(why ? why : "The task's state does not allow this change.");
      rc = STORE_CONFLICT;
    } else if (rc == STORE_OK) {
      r.why = xstrdup("A processing task can only be set to completed or aborted.");
      rc = STORE_CONFLICT;
    }
  }
  if (rc == STORE_CONFLICT)
    graph_reply_error(req, res, 409, "notAllowed", NULL, "%s",
                      r.why ? r.why : "The task's state does not allow this change.");
  else if (!graph_reply_item_failure(req, res, rc,
                                     "The print task '%s' was not found under task definition "
                                     "'%s'.", task_id, d.id))
    graph_reply_json(req, res, 200,
                     graph_with_context(task_context(req, &t), graph_task_json(req, &t)));
done:
  json_decref(body);
  store_pull_result_clear(&r);
  store_task_clear(&t);
  store_task_definition_clear(&d);
}

/* ---- task triggers ---------------------------------------------------------------------- */

static const char *const TRIGGER_SELECT[] = {"id", "event", "definition", NULL};
static const char *const TRIGGER_EXPAND[] = {"definition", NULL};
static const odata_spec_t TRIGGER_LIST_QUERY = {.mask = LIST_OPTIONS, .expand = TRIGGER_EXPAND};
static const odata_spec_t TRIGGER_GET_QUERY = {.mask = ITEM_OPTIONS, .select = TRIGGER_SELECT,
                                               .expand = TRIGGER_EXPAND};

/* Authorizes op and checks printer params[0] is the tenant's (404). */
static const caller_t *trigger_step(http_request_t *req, http_response_t *res, perm_op_t op) {
  const caller_t *c = graph_authorize(req, res, op, NULL);
  if (!c) return NULL;
  return graph_printer_exists(req, res, c->tenant, http_request_param(req, 0)) ? c : NULL;
}

/* POST /print/printers/{id}/taskTriggers {"event","definition@odata.bind"} */
static void trigger_create(http_request_t *req, http_response_t *res) {
  const caller_t *c = trigger_step(req, res, OP_TASK_TRIGGER_CREATE);
  if (!c) return;
  const char *app = caller_app(req, res, c);
  if (!app) return;
  json_t *body = graph_json_body(req, res, false);
  if (!body) return;
  store_task_trigger_t g = {0};
  if (!graph_json_check(req, res, body, &TRIGGER)) goto done;
  json_t *event = json_object_get(body, "event");
  int ev = json_is_string(event) ? enum_lookup(&ENUM_PRINT_EVENT, json_string_value(event), true)
                                 : -1;
  if (ev != 0) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'event' is required and must be jobStarted, the only printEvent "
                      "a task trigger reacts to.");
    goto done;
  }
  json_t *bind = json_object_get(body, "definition@odata.bind");
  static const char *const sets[] = {"print/taskDefinitions", NULL};
  char def_id[GRAPH_REF_KEY_MAX + 1];
  if (!json_is_string(bind) ||
      !graph_ref_key(req, json_string_value(bind), sets, def_id, sizeof def_id)) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'definition@odata.bind' is required: the URL of a task "
                      "definition, e.g. https://graph.microsoft.com/v1.0/print/taskDefinitions/"
                      "{id}.");
    goto done;
  }
  const char *printer = http_request_param(req, 0);
  store_trigger_refusal_t why = STORE_TRIGGER_OK;
  store_rc_t rc = store_task_trigger_create(APP(req)->store, c->tenant, printer, def_id, ev, app,
                                            &g, &why);
  if (rc == STORE_OK) {
    graph_reply_json(req, res, 201, trigger_entity(req, &g));
  } else if (rc == STORE_CONFLICT && why == STORE_TRIGGER_NO_PRINTER) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "The printer '%s' was not found.",
                      printer);
  } else if (rc == STORE_CONFLICT && why == STORE_TRIGGER_NO_DEFINITION) {
    graph_reply_error(req, res, 400, "invalidRequest", NULL,
                      "Property 'definition@odata.bind' refers to task definition '%s', which "
                      "does not exist in this tenant.", def_id);
  } else if (rc == STORE_CONFLICT && why == STORE_TRIGGER_OTHER_APP) {
    graph_reply_error(req, res, 403, "accessDenied", NULL,
                      "The task definition '%s' was created by another application: a task "
                      "trigger may only bind a definition created by the application the token "
                      "was issued to (appid %s).", def_id, app);
  } else if (rc == STORE_CONFLICT) {
    graph_reply_error(req, res, 409, "notAllowed", NULL,
                      "The printer '%s' already has a task trigger; a printer has at most one. "
                      "Delete it first.", printer);
  } else {
    graph_reply_store_error(req, res);
  }
done:
  store_task_trigger_clear(&g);
  json_decref(body);
}

static int collect_trigger(const store_task_trigger_t *g, void *arg) {
  collect_t *col = arg;
  json_t *o = graph_task_trigger_json(col->req, g);
  return collect_add(col, o, trigger_expand(col->req, col->q, g, o));
}

/* GET /print/printers/{id}/taskTriggers */
static void trigger_list(http_request_t *req, http_response_t *res) {
  const caller_t *c = trigger_step(req, res, OP_TASK_TRIGGERS_LIST);
  if (!c) return;
  query_t q;
  char *next = NULL, *err = NULL;
  const char *printer = http_request_param(req, 0);
  if (!odata_parse_request(req, res, &TRIGGER_LIST_QUERY, &q)) goto done;
  collect_t col = {req, json_array(), &q, false};
  store_rc_t rc = store_task_trigger_list(APP(req)->store, c->tenant, printer, &q,
                                          collect_trigger, &col, &next, &err);
  if (rc == STORE_NOT_FOUND) {
    graph_reply_error(req, res, 404, "itemNotFound", NULL, "The printer '%s' was not found.",
                      printer);
    json_decref(col.value);
  } else {
    reply_collected(req, res, rc, &col, next, err,
                    graph_context(req, "print/printers('%s')/taskTriggers", printer));
  }
done:
  free(next);
  free(err);
  query_clear(&q);
}

/* Authorizes op, checks printer params[0], parses the query options (spec: into *q; NULL: none)
 * and loads trigger params[1] of the printer into *g. Returns the caller, or NULL after
 * replying; the caller clears *g and *q. */
static const caller_t *trigger_load(http_request_t *req, http_response_t *res, perm_op_t op,
                                    const odata_spec_t *spec, query_t *q,
                                    store_task_trigger_t *g) {
  const caller_t *c = trigger_step(req, res, op);
  if (!c || (spec && !odata_parse_request(req, res, spec, q))) return NULL;
  const char *printer = http_request_param(req, 0), *id = http_request_param(req, 1);
  if (graph_reply_item_failure(req, res,
                               store_task_trigger_get(APP(req)->store, c->tenant, printer, id, g),
                               "The task trigger '%s' was not found on printer '%s'.", id,
                               printer))
    return NULL;
  return c;
}

/* GET /print/printers/{id}/taskTriggers/{id} */
static void trigger_get(http_request_t *req, http_response_t *res) {
  store_task_trigger_t g = {0};
  query_t q;
  query_init(&q);
  if (trigger_load(req, res, OP_TASK_TRIGGER_GET, &TRIGGER_GET_QUERY, &q, &g))
    reply_trigger(req, res, &g, &q);
  store_task_trigger_clear(&g);
  query_clear(&q);
}

/* GET /print/printers/{id}/taskTriggers/{id}/definition */
static void trigger_definition_get(http_request_t *req, http_response_t *res) {
  store_task_trigger_t g = {0};
  const caller_t *c = trigger_load(req, res, OP_TASK_TRIGGER_GET, NULL, NULL, &g);
  if (c)
    reply_definition_of(req, res, c->tenant, g.definition_id, NULL,
                        "The task definition '%s' of this trigger was not found.",
                        g.definition_id);
  store_task_trigger_clear(&g);
}

/* DELETE /print/printers/{id}/taskTriggers/{id}: 204. */
static void trigger_delete(http_request_t *req, http_response_t *res) {
  const caller_t *c = trigger_step(req, res, OP_TASK_TRIGGER_DELETE);
  if (!c) return;
  const char *printer = http_request_param(req, 0), *id = http_request_param(req, 1);
  if (!graph_reply_item_failure(req, res,
                                store_task_trigger_delete(APP(req)->store, c->tenant, printer, id),
                                "The task trigger '%s' was not found on printer '%s'.", id,
                                printer))
    graph_reply_no_content(res);
}

/* ---- the job-side view ------------------------------------------------------------------ */

/* "print/printers('p')/jobs('j')/tasks" or the share form, for the job of ctx. */
static json_t *job_tasks_context(http_request_t *req, const graph_job_ctx_t *ctx, bool entity) {
  const char *parent = http_request_param(req, 0);
  return graph_context(req, "print/%s('%s')/jobs('%s')/tasks%s",
                       ctx->via_share ? "shares" : "printers", parent, ctx->job.id_str,
                       entity ? "/$entity" : "");
}

/* GET .../jobs/{id}/tasks */
static void job_tasks_list(http_request_t *req, http_response_t *res) {
  graph_job_ctx_t ctx;
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_TASKS_GET, &ctx)) return;
  query_t q;
  store_task_t *tasks = NULL;
  size_t n = 0;
  if (!odata_parse_request(req, res, &JOB_TASKS_QUERY, &q)) goto done;
  store_rc_t rc = store_job_tasks(APP(req)->store, ctx.caller->tenant, ctx.job.id, &tasks, &n);
  collect_t col = {req, json_array(), &q, false};
  for (size_t i = 0; rc == STORE_OK && i < n && !col.failed; i++) collect_task(&tasks[i], &col);
  reply_collected(req, res, rc, &col, NULL, NULL, job_tasks_context(req, &ctx, false));
done:
  store_tasks_free(tasks, n);
  query_clear(&q);
  graph_job_ctx_clear(&ctx);
}

/* Resolves the job (OP_PRINTER_JOB_TASKS_GET) into *ctx, parses the query options into *q and
 * loads task params[2] of the job into *t; false after replying. The caller clears *ctx, *t and
 * *q. */
static bool job_task_load(http_request_t *req, http_response_t *res, const odata_spec_t *spec,
                          query_t *q, graph_job_ctx_t *ctx, store_task_t *t) {
  if (!graph_job_resolve(req, res, OP_PRINTER_JOB_TASKS_GET, ctx)) return false;
  if (!odata_parse_request(req, res, spec, q)) return false;
  const char *id = http_request_param(req, 2);
  return !graph_reply_item_failure(
      req, res, store_job_task_get(APP(req)->store, ctx->caller->tenant, ctx->job.id, id, t),
      "The print task '%s' was not found on job '%s'.", id, ctx->job.id_str);
}

/* GET .../jobs/{id}/tasks/{id}[/definition|/trigger]: the task, the definition it runs
 * (whichever app made it: the task's job is what the caller may read) or the trigger that
 * created it. */
static void job_task_reply(http_request_t *req, http_response_t *res, task_part_t part) {
  static const odata_spec_t *const spec[] = {&TASK_GET_QUERY, &DEF_GET_QUERY, &TRIGGER_GET_QUERY};
  graph_job_ctx_t ctx = {0};
  store_task_t t = {0};
  query_t q;
  query_init(&q);
  if (job_task_load(req, res, spec[part], &q, &ctx, &t))
    reply_task_part(req, res, part, &t, &q,
                    part == TASK_PART_TASK ? job_tasks_context(req, &ctx, true) : NULL);
  query_clear(&q);
  store_task_clear(&t);
  graph_job_ctx_clear(&ctx);
}

static void job_task_get(http_request_t *req, http_response_t *res) {
  job_task_reply(req, res, TASK_PART_TASK);
}
static void job_task_definition_get(http_request_t *req, http_response_t *res) {
  job_task_reply(req, res, TASK_PART_DEFINITION);
}
static void job_task_trigger_get(http_request_t *req, http_response_t *res) {
  job_task_reply(req, res, TASK_PART_TRIGGER);
}

/* ---- routes ----------------------------------------------------------------------------- */

static route_t ROUTES[] = {
    ROUTE("POST", "/print/taskDefinitions", definition_create, ROUTE_GRAPH | ROUTE_JSON_BODY,
          "taskDefinitions.create"),
    ROUTE("GET", "/print/taskDefinitions", definition_list, ROUTE_GRAPH, "taskDefinitions.list"),
    ROUTE("GET", "/print/taskDefinitions/{id}", definition_get, ROUTE_GRAPH,
          "taskDefinitions.get"),
    ROUTE("PATCH", "/print/taskDefinitions/{id}", definition_update,
          ROUTE_GRAPH | ROUTE_JSON_BODY, "taskDefinitions.update"),
    ROUTE("DELETE", "/print/taskDefinitions/{id}", definition_delete, ROUTE_GRAPH,
          "taskDefinitions.delete"),
    ROUTE("GET", "/print/taskDefinitions/{id}/tasks", task_list, ROUTE_GRAPH,
          "taskDefinitions.tasks.list"),
    ROUTE("GET", "/print/taskDefinitions/{id}/tasks/{id}", task_get, ROUTE_GRAPH,
          "taskDefinitions.tasks.get"),
    ROUTE("PATCH", "/print/taskDefinitions/{id}/tasks/{id}", task_update,
          ROUTE_GRAPH | ROUTE_JSON_BODY, "taskDefinitions.tasks.update"),
    ROUTE("GET", "/print/taskDefinitions/{id}/tasks/{id}/definition", task_definition_get,
          ROUTE_GRAPH, "taskDefinitions.tasks.definition"),
    ROUTE("GET", "/print/taskDefinitions/{id}/tasks/{id}/trigger", task_trigger_get,
          ROUTE_GRAPH, "taskDefinitions.tasks.trigger"),
    ROUTE("GET", "/print/printers/{id}/taskTriggers", trigger_list, ROUTE_GRAPH,
          "printers.taskTriggers.list"),
    ROUTE("POST", "/print/printers/{id}/taskTriggers", trigger_create,
          ROUTE_GRAPH | ROUTE_JSON_BODY, "printers.taskTriggers.create"),
    ROUTE("GET", "/print/printers/{id}/taskTriggers/{id}", trigger_get, ROUTE_GRAPH,
          "printers.taskTriggers.get"),
    ROUTE("DELETE", "/print/printers/{id}/taskTriggers/{id}", trigger_delete, ROUTE_GRAPH,
          "printers.taskTriggers.delete"),
    ROUTE("GET", "/print/printers/{id}/taskTriggers/{id}/definition", trigger_definition_get,
          ROUTE_GRAPH, "printers.taskTriggers.definition"),
    GRAPH_JOB_ROUTES("GET", "/{id}/tasks", job_tasks_list, ROUTE_GRAPH, ".tasks.list"),
    GRAPH_JOB_ROUTES("GET", "/{id}/tasks/{id}", job_task_get, ROUTE_GRAPH, ".tasks.get"),
    GRAPH_JOB_ROUTES("GET", "/{id}/tasks/{id}/definition", job_task_definition_get, ROUTE_GRAPH,
                     ".tasks.definition"),
    GRAPH_JOB_ROUTES("GET", "/{id}/tasks/{id}/trigger", job_task_trigger_get, ROUTE_GRAPH,
                     ".tasks.trigger"),
};

void graph_tasks_routes(void) { router_add(ROUTES, sizeof ROUTES / sizeof ROUTES[0]); }
