/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenant seed (development mode): POST /spoold/v1/dev/tenants/{tid}/seed loads a JSON fixture
 * (printers, task definitions, shares, task triggers, jobs in given states) into the tenant,
 * replacing what it held. The whole fixture is checked first (members, types, references by
 * key), so a bad fixture changes nothing; then the tenant is emptied and the objects are made
 * through the same store functions the Graph handlers use (jobs: created, document stored and
 * completed as an upload is, started, canceled or aborted through their transitions). If a step
 * fails after that, the tenant is emptied again: it never holds half a fixture.
 */
#include "app.h"
#include "blob/blob.h"
#include "dev/dev-private.h"
#include "store/documents.h"
#include "store/jobs.h"
#include "store/printers.h"
#include "store/pullprint.h"
#include "store/shares.h"
#include "store/tasks.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX_ITEMS 1000
#define SEED_MAX_DOCUMENT (16u << 20)
#define DEFAULT_USER "00000000-0000-4000-8000-00000000de01"
#define DEFAULT_UPN "seed.user@contoso.test"

static const char *const SECTIONS[] = {"printers", "taskDefinitions", "shares", "taskTriggers",
                                       "jobs", NULL};
static const char *const JOB_STATES[] = {"created", "held", "fetchable", "canceled", "aborted",
                                         NULL};

static bool fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return false;
}

/* Checks that obj holds only the listed members. */
static bool only(const json_t *obj, const char *where, const char *const *names, char *err,
                 size_t errlen) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    bool ok = false;
    for (size_t i = 0; names[i]; i++) ok = ok || !strcmp(names[i], key);
    if (!ok) return fail(err, errlen, "%s: '%s' is not a member here", where, key);
  }
  return true;
}

/* A string member: required or optional (NULL when absent). */
static bool str(const json_t *obj, const char *where, const char *name, bool required,
                const char **out, char *err, size_t errlen) {
  json_t *v = json_object_get(obj, name);
  *out = NULL;
  if (!v || json_is_null(v)) {
    if (required) return fail(err, errlen, "%s: '%s' is required", where, name);
    return true;
  }
  if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 1024)
    return fail(err, errlen, "%s: '%s' must be a non-empty string", where, name);
  *out = json_string_value(v);
  return true;
}

/* The index of the item with member key == k in section arr, or -1. */
static int find_key(const json_t *arr, const char *k) {
  size_t i;
  json_t *it;
  json_array_foreach(arr, i, it) {
    json_t *v = json_object_get(it, "key");
    if (json_is_string(v) && !strcmp(json_string_value(v), k)) return (int)i;
  }
  return -1;
}

/* Checks one reference member (ref) of item to a key of section target. */
static bool ref(const json_t *fx, const json_t *item, const char *where, const char *member,
                const char *section, bool required, char *err, size_t errlen) {
  const char *k;
  if (!str(item, where, member, required, &k, err, errlen)) return false;
  if (k && find_key(json_object_get(fx, section), k) < 0)
    return fail(err, errlen, "%s: '%s' names '%s', which is not the key of one of the %s", where,
                member, k, section);
  return true;
}

/* Checks the whole fixture; false with err on the first problem. */
static bool check(const json_t *fx, char *err, size_t errlen) {
  if (!json_is_object(fx)) return fail(err, errlen, "the fixture must be a JSON object");
  if (!only(fx, "fixture", SECTIONS, err, errlen)) return false;
  for (size_t s = 0; SECTIONS[s]; s++) {
    json_t *arr = json_object_get(fx, SECTIONS[s]);
    if (!arr) continue;
    if (!json_is_array(arr) || json_array_size(arr) > SEED_MAX_ITEMS)
      return fail(err, errlen, "'%s' must be an array of at most %d objects", SECTIONS[s],
                  SEED_MAX_ITEMS);
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it) {
      char where[96];
      snprintf(where, sizeof where, "%s[%zu]", SECTIONS[s], i);
      if (!json_is_object(it)) return fail(err, errlen, "%s must be an object", where);
      const char *k, *x;
      if (!str(it, where, "key", s <= 2, &k, err, errlen)) return false;
      if (k && find_key(arr, k) != (int)i)
        return fail(err, errlen, "%s: key '%s' is used twice in %s", where, k, SECTIONS[s]);
      switch (s) {
        case 0: {
          static const char *const m[] = {"key", "displayName", "manufacturer", "model",
                                          "isAcceptingJobs", NULL};
          if (!only(it, where, m, err, errlen) ||
              !str(it, where, "displayName", true, &x, err, errlen) ||
              !str(it, where, "manufacturer", false, &x, err, errlen) ||
              !str(it, where, "model", false, &x, err, errlen))
            return false;
          json_t *acc = json_object_get(it, "isAcceptingJobs");
          if (acc && !json_is_boolean(acc))
            return fail(err, errlen, "%s: 'isAcceptingJobs' must be true or false", where);
          break;
        }
        case 1: {
          static const char *const m[] = {"key", "displayName", "appId", "createdBy", NULL};
          if (!only(it, where, m, err, errlen) ||
              !str(it, where, "displayName", true, &x, err, errlen) ||
              !str(it, where, "appId", true, &x, err, errlen) ||
              !str(it, where, "createdBy", false, &x, err, errlen))
            return false;
          break;
        }
        case 2: {
          static const char *const m[] = {"key", "displayName", "printer", "allowAllUsers", NULL};
          if (!only(it, where, m, err, errlen) ||
              !str(it, where, "displayName", true, &x, err, errlen) ||
              !ref(fx, it, where, "printer", "printers", true, err, errlen))
            return false;
          json_t *all = json_object_get(it, "allowAllUsers");
          if (all && !json_is_boolean(all))
            return fail(err, errlen, "%s: 'allowAllUsers' must be true or false", where);
          break;
        }
        case 3: {
          static const char *const m[] = {"key", "printer", "definition", NULL};
          if (!only(it, where, m, err, errlen) ||
              !ref(fx, it, where, "printer", "printers", true, err, errlen) ||
              !ref(fx, it, where, "definition", "taskDefinitions", true, err, errlen))
            return false;
          break;
        }
        case 4: {
          static const char *const m[] = {"key", "printer", "share", "state", "displayName",
                                          "configuration", "createdBy", "document", NULL};
          if (!only(it, where, m, err, errlen) ||
              !ref(fx, it, where, "printer", "printers", false, err, errlen) ||
              !ref(fx, it, where, "share", "shares", false, err, errlen) ||
              !str(it, where, "displayName", false, &x, err, errlen))
            return false;
          if (!json_object_get(it, "printer") == !json_object_get(it, "share"))
            return fail(err, errlen, "%s: give exactly one of 'printer' and 'share'", where);
          const char *st;
          if (!str(it, where, "state", false, &st, err, errlen)) return false;
          bool known = !st;
          for (size_t j = 0; st && JOB_STATES[j]; j++) known = known || !strcmp(st, JOB_STATES[j]);
          if (!known)
            return fail(err, errlen, "%s: 'state' must be created, held, fetchable, canceled or "
                        "aborted", where);
          json_t *cfg = json_object_get(it, "configuration");
          if (cfg && !json_is_object(cfg))
            return fail(err, errlen, "%s: 'configuration' must be an object", where);
          json_t *by = json_object_get(it, "createdBy");
          if (by) {
            static const char *const bm[] = {"id", "userPrincipalName", "displayName", NULL};
            char w2[128];
            snprintf(w2, sizeof w2, "%s/createdBy", where);
            if (!json_is_object(by)) return fail(err, errlen, "%s must be an object", w2);
            if (!only(by, w2, bm, err, errlen) || !str(by, w2, "id", false, &x, err, errlen) ||
                !str(by, w2, "userPrincipalName", false, &x, err, errlen) ||
                !str(by, w2, "displayName", false, &x, err, errlen))
              return false;
          }
          json_t *doc = json_object_get(it, "document");
          if (doc) {
            static const char *const dm[] = {"name", "contentType", "text", "base64", NULL};
            char w2[128];
            snprintf(w2, sizeof w2, "%s/document", where);
            if (!json_is_object(doc)) return fail(err, errlen, "%s must be an object", w2);
            if (!only(doc, w2, dm, err, errlen) || !str(doc, w2, "name", false, &x, err, errlen) ||
                !str(doc, w2, "contentType", false, &x, err, errlen) ||
                !str(doc, w2, "text", false, &x, err, errlen))
              return false;
            json_t *b = json_object_get(doc, "base64");
            if (b && !json_is_string(b))
              return fail(err, errlen, "%s: 'base64' must be a string", w2);
            if (b && json_object_get(doc, "text"))
              return fail(err, errlen, "%s: give 'text' or 'base64', not both", w2);
          }
          bool started = st && strcmp(st, "created") != 0;
          if (started && !doc)
            return fail(err, errlen, "%s: a job in state '%s' needs a 'document'", where, st);
          break;
        }
      }
    }
  }
  return true;
}

/* ---- applying ------------------------------------------------------------------------------ */

typedef struct {
  app_t      *app;
  const char *tenant;
  json_t     *ids;   /* section -> {key: id} */
  char       *err;
  size_t      errlen;
} seed_t;

static const char *id_of(seed_t *s, const char *section, const char *key) {
  return json_string_value(json_object_get(json_object_get(s->ids, section), key));
}

static void set_id(seed_t *s, const char *section, const char *key, const char *id) {
  json_t *m = json_object_get(s->ids, section);
  if (!m) {
    m = json_object();
    json_object_set_new(s->ids, section, m);
  }
  json_object_set_new(m, key, json_string(id));
}

/* Stores bytes as the document of job (as a completed upload). */
static bool store_document(seed_t *s, const store_job_t *job, const char *doc_id,
                           const json_t *doc) {
  const char *name = json_string_value(json_object_get(doc, "name"));
  const char *type = json_string_value(json_object_get(doc, "contentType"));
  const char *text = json_string_value(json_object_get(doc, "text"));
  const char *b64 = json_string_value(json_object_get(doc, "base64"));
  buf_t bytes = BUF_INIT;
  if (b64) {
    size_t n = 0;
    unsigned char *raw = b64_decode(b64, strlen(b64), &n);
    if (!raw) return fail(s->err, s->errlen, "job %s: 'base64' is not valid base64", job->id_str);
    buf_append(&bytes, (const char *)raw, n);
    free(raw);
  } else {
    buf_puts(&bytes, text ? text : "%PDF-1.4\n1 0 obj<</Type /Page>>endobj\n%%EOF\n");
  }
  bool ok = false;
  if (bytes.len == 0 || bytes.len > SEED_MAX_DOCUMENT) {
    fail(s->err, s->errlen, "job %s: the document must have 1 to %u bytes", job->id_str,
         SEED_MAX_DOCUMENT);
    buf_free(&bytes);
    return false;
  }
  char key[BLOB_KEY_LEN + 1], sid[ID_GUID_LEN + 1], sha[BLOB_SHA256_HEX + 1];
  blob_key_new(key);
  id_guid(sid);
  blob_t *b = NULL;
  uint64_t size = 0;
  if (blob_create(s->app->blobs, key, bytes.len) != 0 ||
      blob_open(s->app->blobs, key, true, &b, &size) != 0 ||
      blob_pwrite(b, 0, bytes.data, bytes.len) != 0 || blob_sync(b) != 0) {
    if (b) blob_close(b);
    blob_remove(s->app->blobs, key);
    buf_free(&bytes);
    return fail(s->err, s->errlen, "job %s: the document bytes could not be written",
                job->id_str);
  }
  blob_close(b);
  int64_t now = time_now_us();
  store_upload_session_new_t n = {
      .tenant = s->tenant, .job_id = job->id, .document_id = doc_id, .id = sid,
      .secret_hash = "seed", .document_name = name ? name : "document.pdf",
      .content_type = type ? type : "application/pdf", .size = (int64_t)bytes.len,
      .blob_key = key, .expires_us = now + 3600LL * 1000000, .now_us = now,
      .created_by_id = job->created_by_id, .allowed_phases = 1u << JOB_CREATED,
  };
  store_blob_keys_t drop = {0};
  char *why = NULL;
  store_document_t d = {0};
  if (store_upload_session_create(s->app->store, &n, &drop, &why) == STORE_OK) {
    store_blob_keys_clear(&drop);
    if (blob_sha256(s->app->blobs, key, bytes.len, sha) == 0 &&
        store_upload_complete(s->app->store, sid, 0, bytes.len - 1, NULL, sha, now, NULL, &d, &drop, &why,
                              NULL) == STORE_OK)
      ok = true;
  }
  store_blob_keys_clear(&drop);
  store_document_clear(&d);
  if (!ok) {
    blob_remove(s->app->blobs, key);
    fail(s->err, s->errlen, "job %s: the document could not be stored%s%s", job->id_str,
         why ? ": " : "", why ? why : "");
  }
  free(why);
  buf_free(&bytes);
  return ok;
}

static bool apply(seed_t *s, const json_t *fx) {
  store_t *st = s->app->store;
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(fx, "printers"), i, it) {
    char id[ID_GUID_LEN + 1], op[ID_GUID_LEN + 1];
    id_guid(id);
    id_guid(op);
    store_printer_new_t n = {
        .id = id, .tenant = s->tenant,
        .display_name = json_string_value(json_object_get(it, "displayName")),
        .manufacturer = json_string_value(json_object_get(it, "manufacturer")),
        .model = json_string_value(json_object_get(it, "model")),
        .operation_id = op, .now_us = time_now_us(),
    };
    if (store_printer_register(st, &n) != STORE_OK)
      return fail(s->err, s->errlen, "printers[%zu] could not be stored", i);
    if (json_is_false(json_object_get(it, "isAcceptingJobs"))) {
      store_printer_patch_t p = {.set_is_accepting_jobs = true, .is_accepting_jobs = 0};
      if (store_printer_update(st, s->tenant, id, &p, NULL) != STORE_OK)
        return fail(s->err, s->errlen, "printers[%zu] could not be updated", i);
    }
    set_id(s, "printers", json_string_value(json_object_get(it, "key")), id);
  }
  json_array_foreach(json_object_get(fx, "taskDefinitions"), i, it) {
    store_task_definition_t d = {0};
    if (store_task_definition_create(st, s->tenant,
                                     json_string_value(json_object_get(it, "appId")),
                                     json_string_value(json_object_get(it, "displayName")),
                                     json_string_value(json_object_get(it, "createdBy")),
                                     &d) != STORE_OK)
      return fail(s->err, s->errlen, "taskDefinitions[%zu] could not be stored", i);
    set_id(s, "taskDefinitions", json_string_value(json_object_get(it, "key")), d.id);
    store_task_definition_clear(&d);
  }
  json_array_foreach(json_object_get(fx, "shares"), i, it) {
    store_share_t sh = {0};
    store_share_why_t why = {0};
    const char *printer = id_of(s, "printers", json_string_value(json_object_get(it, "printer")));
    json_t *all = json_object_get(it, "allowAllUsers");
    if (store_share_create(st, s->tenant, printer,
                           json_string_value(json_object_get(it, "displayName")),
                           all ? json_is_true(all) : true, &sh, &why) != STORE_OK)
      return fail(s->err, s->errlen, "shares[%zu] could not be stored (one share per printer)",
                  i);
    set_id(s, "shares", json_string_value(json_object_get(it, "key")), sh.id);
    store_share_clear(&sh);
  }
  json_array_foreach(json_object_get(fx, "taskTriggers"), i, it) {
    const char *dkey = json_string_value(json_object_get(it, "definition"));
    const json_t *defs = json_object_get(fx, "taskDefinitions");
    const char *app = json_string_value(
        json_object_get(json_array_get(defs, (size_t)find_key(defs, dkey)), "appId"));
    store_task_trigger_t t = {0};
    store_trigger_refusal_t why = STORE_TRIGGER_OK;
    if (store_task_trigger_create(st, s->tenant,
                                  id_of(s, "printers",
                                        json_string_value(json_object_get(it, "printer"))),
                                  id_of(s, "taskDefinitions", dkey), 0, app, &t, &why) !=
        STORE_OK)
      return fail(s->err, s->errlen, "taskTriggers[%zu] could not be stored (one trigger per "
                  "printer)", i);
    const char *k = json_string_value(json_object_get(it, "key"));
    if (k) set_id(s, "taskTriggers", k, t.id);
    store_task_trigger_clear(&t);
  }
  json_array_foreach(json_object_get(fx, "jobs"), i, it) {
    const char *printer;
    const char *share_key = json_string_value(json_object_get(it, "share"));
    if (share_key) {
      store_share_t sh = {0};
      if (store_share_get(st, s->tenant, id_of(s, "shares", share_key), &sh) != STORE_OK)
        return fail(s->err, s->errlen, "jobs[%zu]: the share is gone", i);
      set_id(s, "_printer", "p", sh.printer_id);
      store_share_clear(&sh);
      printer = id_of(s, "_printer", "p");
    } else {
      printer = id_of(s, "printers", json_string_value(json_object_get(it, "printer")));
    }
    json_t *by = json_object_get(it, "createdBy");
    json_t *cfg = json_object_get(it, "configuration");
    char *cfg_text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
    store_job_new_t n = {
        .tenant = s->tenant, .printer_id = printer,
        .display_name = json_string_value(json_object_get(it, "displayName")),
        .configuration = cfg_text ? cfg_text : "{}",
        .created_by_id = json_string_value(json_object_get(by, "id")),
        .created_by_upn = json_string_value(json_object_get(by, "userPrincipalName")),
        .created_by_name = json_string_value(json_object_get(by, "displayName")),
    };
    if (!n.created_by_id) n.created_by_id = DEFAULT_USER;
    if (!n.created_by_upn && !json_object_get(by, "id")) n.created_by_upn = DEFAULT_UPN;
    store_job_t job = {0};
    store_document_t doc = {0};
    store_rc_t rc = store_job_create(st, &n, &job, &doc);
    free(cfg_text);
    if (rc != STORE_OK) {
      store_document_clear(&doc);
      return fail(s->err, s->errlen, "jobs[%zu] could not be created%s", i,
                  rc == STORE_CONFLICT ? ": the printer is not accepting jobs" : "");
    }
    bool ok = true;
    const char *state = json_string_value(json_object_get(it, "state"));
    if (!state) state = "created";
    json_t *d = json_object_get(it, "document");
    if (d) ok = store_document(s, &job, doc.id, d);
    if (ok && strcmp(state, "created") != 0) {
      store_job_t after = {0};
      store_job_change_t ch = {0};
      rc = store_job_start(st, s->tenant, job.id, server_public_url(s->app->server), &after, &ch);
      bool held = rc == STORE_OK && after.phase == JOB_HELD;
      if (rc != STORE_OK) {
        ok = fail(s->err, s->errlen, "jobs[%zu] could not be started%s%s", i,
                  ch.why ? ": " : "", ch.why ? ch.why : "");
      } else if ((!strcmp(state, "held") || !strcmp(state, "aborted")) && !held) {
        ok = fail(s->err, s->errlen, "jobs[%zu]: state '%s' needs a printer with a task trigger",
                  i, state);
      } else if (!strcmp(state, "fetchable") && held) {
        ok = fail(s->err, s->errlen, "jobs[%zu]: state 'fetchable' needs a printer without a "
                  "task trigger (its job is held)", i);
      } else if (!strcmp(state, "canceled")) {
        store_job_t c = {0};
        store_job_change_t cc = {0};
        if (store_job_cancel(st, s->tenant, job.id, &c, &cc) != STORE_OK)
          ok = fail(s->err, s->errlen, "jobs[%zu] could not be canceled", i);
        store_job_clear(&c);
        store_job_change_clear(&cc);
      } else if (!strcmp(state, "aborted")) {
        const json_t *defs = json_object_get(fx, "taskDefinitions");
        const char *app = NULL;
        size_t k;
        json_t *dd;
        json_array_foreach(defs, k, dd) {
          if (!strcmp(id_of(s, "taskDefinitions", json_string_value(json_object_get(dd, "key"))),
                      ch.definition_id ? ch.definition_id : ""))
            app = json_string_value(json_object_get(dd, "appId"));
        }
        store_pull_result_t r = {0};
        if (store_job_abort(st, s->tenant, job.id, app, NULL, &r) != STORE_OK)
          ok = fail(s->err, s->errlen, "jobs[%zu] could not be aborted", i);
        store_pull_result_clear(&r);
      }
      store_job_clear(&after);
      store_job_change_clear(&ch);
    }
    const char *k = json_string_value(json_object_get(it, "key"));
    if (ok && k) set_id(s, "jobs", k, job.id_str);
    store_job_clear(&job);
    store_document_clear(&doc);
    if (!ok) return false;
  }
  json_object_del(s->ids, "_printer");
  return true;
}

/* See dev-private.h. */
json_t *dev_seed(app_t *app, const char *tenant, const json_t *fixture, int *status, char *err,
                 size_t errlen) {
  *status = 400;
  if (!check(fixture, err, errlen)) return NULL;
  if (!app->blobs) {
    *status = 500;
    snprintf(err, errlen, "the document store is not open");
    return NULL;
  }
  dev_sim_remove_tenant(tenant);
  if (store_tenant_remove(app->store, tenant) != STORE_OK ||
      store_tenant_ensure(app->store, tenant) != STORE_OK) {
    *status = 500;
    snprintf(err, errlen, "the tenant could not be emptied");
    return NULL;
  }
  seed_t s = {.app = app, .tenant = tenant, .ids = json_object(), .err = err, .errlen = errlen};
  if (!apply(&s, fixture)) {
    log_warn("dev: seeding tenant %s failed (%s); the tenant is left empty", tenant, err);
    store_tenant_remove(app->store, tenant);
    store_tenant_ensure(app->store, tenant);
    json_decref(s.ids);
    *status = 500;
    size_t len = strlen(err);
    snprintf(err + len, errlen > len ? errlen - len : 0, "; the tenant was left empty");
    return NULL;
  }
  *status = 200;
  return s.ids;
}
