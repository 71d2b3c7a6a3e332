/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The development control API and the tools behind it (`spoold serve --dev` only; see
 * docs/spoold-dev.md): the service clock that expiry logic reads (util/timeutil.h), injected
 * faults for Graph requests and webhook deliveries, tenant reset and seed, and simulated
 * printers that speak IPP INFRA to this same server over HTTP, as a real proxy does.
 *
 * Routes live under /spoold/v1/dev/ (ROUTE_EXT) and answer only to a development-issuer token
 * holding the Printer Administrator role: anything else gets the same 404 as a path that does
 * not exist, and without --dev the routes are not registered at all.
 */
#ifndef SPOOLD_DEV_DEV_H
#define SPOOLD_DEV_DEV_H

#include <stdbool.h>

struct app;

/* Registers the /spoold/v1/dev/... routes (call only in development mode). */
void dev_routes(void);

/* Starts the development services of a running server: installs the fault hooks (requests,
 * webhooks), registers the spoold_dev_* metrics and starts the printer simulator (every
 * printer when app->cfg->simulate_printers). app must outlive dev_stop(). Returns 0, or -1
 * with a malloc'd *err. */
int  dev_start(struct app *app, char **err);
/* Stops every simulated printer and removes the hooks. Safe when dev_start was not called. */
void dev_stop(void);

#endif
