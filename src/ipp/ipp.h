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
/* Makes app->ipp, what the endpoints remember between requests: the tables of failed
 * authentications (per credential and per client address) that hold back the answers to a
 * client that keeps failing, and the print passwords checked lately (share-auth.c). Call before
 * the server starts; app owns it until ipp_close. Without it failures are logged and answered
 * at once and every print password is hashed. */
void ipp_open(struct app *app);
/* Frees app->ipp (after the server has stopped); harmless when it is NULL. */
void ipp_close(struct app *app);
/* Connects the endpoint to the running server: commits that write IPP events wake the
 * Get-Notifications requests waiting for them. Call once app->server is running. */
void ipp_start(struct app *app);
/* Disconnects it again; call before the server stops. */
void ipp_stop(struct app *app);

#endif
