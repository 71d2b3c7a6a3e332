/* SPDX-License-Identifier: Apache-2.0 */
/* Private to src/dev: the fault table, the simulator and the control counters. */
#ifndef SPOOLD_DEV_PRIVATE_H
#define SPOOLD_DEV_PRIVATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app;

/* ---- control actions (control.c) ------------------------------------------------------------ */

/* Counts one control action (a label such as "clock.advance") for /metrics. */
void dev_count_action(const char *action);

/* ---- tenant seed (seed.c) -------------------------------------------------------------------- */

/* Replaces the content of tenant with the JSON fixture (docs/spoold-dev.md). Returns the ids
 * made, {"printers": {key: id}, "shares": ..., "taskDefinitions": ..., "taskTriggers": ...,
 * "jobs": {key: jobId}} (caller owns), or NULL with *status 400 (a bad fixture: nothing
 * changed) or 500 (a step failed: the tenant is left empty) and a message in err. */
json_t *dev_seed(struct app *app, const char *tenant, const json_t *fixture, int *status,
                 char *err, size_t errlen);

/* ---- faults (faults.c) ----------------------------------------------------------------------- */

/* Arms a fault from its JSON description (the POST /spoold/v1/dev/faults body). On success
 * returns the fault as JSON (caller owns the reference); on a bad description returns NULL with
 * a message naming the member and why in err. */
json_t *dev_faults_add(const json_t *body, char *err, size_t errlen);
/* {"value":[fault...]} of the armed faults (caller owns). */
json_t *dev_faults_list(void);
/* Disarms every fault (id NULL) or one; returns how many were removed. */
size_t  dev_faults_clear(const char *id);
/* Installs (or removes) the request and webhook hooks. */
void    dev_faults_install(bool on);

/* ---- simulated printers (simulator.c) -------------------------------------------------------- */

/* Starts the simulator: with all, every printer of every tenant gets a simulated device (and
 * printers registered later too). */
int     dev_sim_start(struct app *app, bool all, char **err);
/* Stops the simulator: joins its scanner thread, halts and frees every simulated printer.
 * Harmless when it was never started. */
void    dev_sim_stop(void);
/* Sets (creating it when needed) the simulation of printer id of tenant from a JSON behaviour
 * (members as in docs/spoold-dev.md; absent members keep their value). Returns the simulation
 * as JSON (caller owns), or NULL with *status 400 (bad behaviour, message in err) or 404. */
json_t *dev_sim_set(struct app *app, const char *tenant, const char *id, const json_t *behaviour,
                    int *status, char *err, size_t errlen);
/* The simulation of printer id as JSON (caller owns), NULL when it is not simulated. */
json_t *dev_sim_get(const char *tenant, const char *id);
/* Stops simulating printer id; false when it was not simulated. */
bool    dev_sim_remove(const char *tenant, const char *id);
/* Stops every simulation of a tenant (before a reset). */
void    dev_sim_remove_tenant(const char *tenant);

#endif
