/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IPP INFRA endpoint (PWG 5100.18): POST /ipp/print/{printerId} with an application/ipp
 * body, for printers and print proxies (output devices) that fetch the jobs released to them,
 * report their state and learn of cancels and aborts. docs/ipp.md describes the behaviour.
 */
#ifndef SPOOLD_IPP_IPP_H
#define SPOOLD_IPP_IPP_H

struct app;

/* Registers the endpoint's route. Call before the server starts. */
void ipp_routes_register(void);
/* Connects the endpoint to the running server: commits that write IPP events wake the
 * Get-Notifications requests waiting for them. Call once app->server is running. */
void ipp_start(struct app *app);
/* Disconnects it again; call before the server stops. */
void ipp_stop(void);

#endif
