/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application context handed to every handler (req->app): the
 * configuration and the long-lived services. Created by `spoold serve`.
 */
#ifndef SPOOLD_APP_H
#define SPOOLD_APP_H

#include "config.h"
#include "http/server.h"

struct store;
struct auth;
struct blob_store;
struct sweeper;
struct notify_delivery;
struct graph_documents;
struct ipp_endpoint;

typedef struct app {
  const config_t    *cfg;
  struct store      *store;
  /* Replaced by a SIGHUP that changes the trusted issuers (the one it replaces is kept until
   * shutdown); reading app->auth is an atomic load. */
  _Atomic(struct auth *) auth;
  server_t          *server;
  struct blob_store *blobs; /* document bytes (blob/blob.h); opened by graph_documents_start */
  struct sweeper    *sweeper;  /* held-job timeout and retention (sweeper.h); NULL until started */
  struct notify_delivery *delivery; /* webhook delivery worker (notify/notify.h); NULL until started */
  /* the documents module's sweeper and upload ranges in flight
   * (graph/documents-private.h); made by graph_documents_start, NULL until then */
  struct graph_documents *documents;
  /* the IPP endpoints' memory: failed authentications, checked print passwords
   * (ipp/ipp-private.h); made by ipp_open, NULL until then */
  struct ipp_endpoint  *ipp;
} app_t;

/* The app of a request. */
#define APP(req) ((app_t *)(req)->app)

#endif
