/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull printing in the store, part 1: print task definitions, task triggers and print tasks
 * (reference §2.8, §4.5, §5.2).
 *
 * A task definition belongs to the application that created it (created_by_app = the token's
 * appid); a trigger binds one definition to one printer (at most one trigger per printer) and
 * records the application that created it; a print task is created under a definition when a
 * job starts on a printer with a trigger (tasks-private.h: store_trigger_fire) and records the
 * trigger's application (trigger_app), which the seed rule checks (store/pullprint.h).
 *
 * The print task rows themselves are store_task_t (store/jobs.h). Every function filters on
 * the caller's tenant: another tenant's rows are STORE_NOT_FOUND.
 *
 * Ownership: strings in the structs are malloc'd; release them with the *_clear() functions.
 */
#ifndef SPOOLD_STORE_TASKS_H
#define SPOOLD_STORE_TASKS_H

#include "core/query.h"
#include "store/jobs.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- task definitions ------------------------------------------------------------------- */

typedef struct store_task_definition {
  char   *id;              /* GUID */
  char   *tenant;
  char   *display_name;
  char   *created_by_app;  /* createdBy.appId: the creating token's appid */
  char   *created_by_name; /* createdBy.displayName; NULL = null */
  int64_t created_us;
} store_task_definition_t;

/* Releases what *d holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_task_definition_clear(store_task_definition_t *d);

/* Creates a definition owned by app (createdBy.appId). created_by_name may be NULL. On STORE_OK
 * *out (may be NULL) receives the row. */
store_rc_t store_task_definition_create(store_t *st, const char *tenant, const char *app,
                                        const char *display_name, const char *created_by_name,
                                        store_task_definition_t *out);

/* Reads definition id of tenant. When app is not NULL, a definition created by another app is
 * STORE_NOT_FOUND. */
store_rc_t store_task_definition_get(store_t *st, const char *tenant, const char *app,
                                     const char *id, store_task_definition_t *out);

/* Lists the definitions of tenant created by app, filtered/ordered/paged by q (fields: id,
 * displayName, createdBy/appId, createdBy/displayName). Calls fn for each row; *next receives
 * the malloc'd $skiptoken of the next page (NULL on the last one). STORE_INVALID with a
 * malloc'd *err when q does not fit. */
store_rc_t store_task_definition_list(store_t *st, const char *tenant, const char *app,
                                      const query_t *q,
                                      int (*fn)(const store_task_definition_t *d, void *arg),
                                      void *arg, char **next, char **err);

/* A partial update; only members whose set_* flag is true change. */
typedef struct store_task_definition_patch {
  bool        set_display_name;
  const char *display_name;
  bool        set_created_by_name;
  const char *created_by_name; /* NULL sets null */
} store_task_definition_patch_t;

/* Updates definition id (of tenant, created by app) in one transaction; *out (may be NULL)
 * receives the row after the update. */
store_rc_t store_task_definition_update(store_t *st, const char *tenant, const char *app,
                                        const char *id, const store_task_definition_patch_t *p,
                                        store_task_definition_t *out);

/* Deletes definition id (of tenant, created by app) and its finished tasks. STORE_CONFLICT
 * with a malloc'd *why when a trigger still binds it or one of its tasks is processing (a held
 * job would lose the task that releases it). */
store_rc_t store_task_definition_delete(store_t *st, const char *tenant, const char *app,
                                        const char *id, char **why);

/* ---- task triggers ---------------------------------------------------------------------- */

typedef struct store_task_trigger {
  char   *id;              /* GUID */
  char   *tenant;
  char   *printer_id;
  char   *definition_id;
  int     event;           /* printEvent index (0 = jobStarted) */
  char   *created_by_app;  /* appid of the delegated token that created it */
  int64_t created_us;
} store_task_trigger_t;

/* Releases what *t holds and zeroes it, so clearing twice is harmless (NULL is a no-op); the
 * struct itself stays the caller's. */
void store_task_trigger_clear(store_task_trigger_t *t);

/* Why store_task_trigger_create refused. */
typedef enum store_trigger_refusal {
  STORE_TRIGGER_OK = 0,
  STORE_TRIGGER_NO_PRINTER,    /* the printer is not in the tenant (404) */
  STORE_TRIGGER_NO_DEFINITION, /* the bound definition is not in the tenant (400) */
  STORE_TRIGGER_OTHER_APP,     /* the definition was created by another app (403) */
  STORE_TRIGGER_EXISTS,        /* the printer already has a trigger (409) */
} store_trigger_refusal_t;

/* Creates the trigger of printer_id binding definition_id, created by app, in one
 * transaction that checks the printer and the definition are the tenant's, that the
 * definition was created by app, and that the printer has no trigger yet. Returns STORE_OK
 * (with *out, may be NULL), STORE_CONFLICT with *refusal set, or STORE_ERROR. */
store_rc_t store_task_trigger_create(store_t *st, const char *tenant, const char *printer_id,
                                     const char *definition_id, int event, const char *app,
                                     store_task_trigger_t *out,
                                     store_trigger_refusal_t *refusal);

/* Reads trigger id. When printer_id is not NULL the trigger must belong to that printer. */
store_rc_t store_task_trigger_get(store_t *st, const char *tenant, const char *printer_id,
                                  const char *id, store_task_trigger_t *out);

/* Lists the triggers of printer_id (fields: id, event). STORE_NOT_FOUND when the printer is
 * not in the tenant. As store_task_definition_list otherwise. */
store_rc_t store_task_trigger_list(store_t *st, const char *tenant, const char *printer_id,
                                   const query_t *q,
                                   int (*fn)(const store_task_trigger_t *t, void *arg),
                                   void *arg, char **next, char **err);

/* Deletes trigger id of printer_id. Tasks it created keep their trigger_app (the seed rule
 * still holds for them) and lose nothing else. */
store_rc_t store_task_trigger_delete(store_t *st, const char *tenant, const char *printer_id,
                                     const char *id);

/* ---- print tasks ------------------------------------------------------------------------ */

/* Reads task id under definition_id (NULL: any definition) of tenant. */
store_rc_t store_task_get(store_t *st, const char *tenant, const char *definition_id,
                          const char *id, store_task_t *out);

/* Reads task id of job job_id of tenant (the job-side view). */
store_rc_t store_job_task_get(store_t *st, const char *tenant, int64_t job_id, const char *id,
                              store_task_t *out);

/* Lists the tasks of definition_id (fields: id, parentUrl is not filterable; status/state).
 * As store_task_definition_list otherwise. */
store_rc_t store_task_list(store_t *st, const char *tenant, const char *definition_id,
                           const query_t *q, int (*fn)(const store_task_t *t, void *arg),
                           void *arg, char **next, char **err);

#endif
