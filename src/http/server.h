/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP server: libmicrohttpd with an internal thread pool (epoll, at
 * least two threads; the single-thread epoll mode collapses under load),
 * keep-alive, optional TLS, connection limits (503 past them) and idle, request-head and
 * body-rate timeouts (http/conn-guard.h).
 *
 * The server parses each request into an http_request_t, routes it
 * (http/router.h), buffers or streams the body, calls the handler, sends
 * the http_response_t, and writes one log line and the metrics when the
 * request completes.
 */
#ifndef SPOOLD_HTTP_SERVER_H
#define SPOOLD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"
#include "http/response.h"

/* Writes an error answer for status into res in the face's envelope (main.c passes Graph's
 * graph_reply_error_message): code and inner_code (may be NULL) are the error codes, message
 * says what was wrong. The server calls it for what it answers itself (400 malformed URL,
 * 404 no route, 405, 413, 503 draining, 500 no answer); it must set res->status. */
typedef void (*server_error_writer_t)(http_request_t *req, http_response_t *res, int status,
                                      const char *code, const char *inner_code,
                                      const char *message);

typedef struct server_config {
  const char *listen;            /* "127.0.0.1:8080" or "[::1]:8080"; port 0 = any free port */
  const char *public_url;        /* base of absolute URLs; NULL or "auto" = from the listen address */
  const char *tls_cert;          /* PEM files; both or neither */
  const char *tls_key;
  unsigned    threads;           /* >= 2 */
  unsigned    max_connections;
  unsigned    max_connections_per_ip;
  unsigned    idle_timeout;      /* seconds */
  unsigned    header_timeout;    /* seconds to deliver a request head (conn-guard.h); 0 = none */
  unsigned    body_timeout;      /* seconds of a body-rate window; 0 = none */
  unsigned    min_body_rate;     /* bytes a second a body must average per window */
  uint64_t    max_body;          /* bytes; larger bodies get 413 */
  bool        dev;               /* development mode (debug routes) */
  bool        suspend_writes;    /* run the handlers of write methods on fibers, so a store
                                    write waiting for its commit gives the worker thread back
                                    (the connection is suspended until the writer wakes it;
                                    the SQLite store's writes, util/fiber.h) */
  void       *app;               /* handed to handlers as req->app */
  server_error_writer_t error_writer; /* NULL = a plain-text body with the message */
} server_config_t;

typedef struct server server_t;

/* Starts serving. Returns NULL and a malloc'd message in *err on failure. */
server_t   *server_start(const server_config_t *cfg, char **err);
/* Loads a new TLS certificate and key (SIGHUP): handshakes from now on use them; open
 * connections keep theirs. Returns 1 replaced, 0 the same pair as before, -1 unusable files
 * (the current pair stays), -2 the server does not serve TLS; *err (malloc'd) says why on
 * failure. about receives the subject, expiry and fingerprint of the certificate in use. */
int         server_reload_tls(server_t *srv, const char *cert_file, const char *key_file,
                              char *about, size_t aboutlen, char **err);
/* Stops accepting connections; requests on open connections get 503 from now on, while those
 * already in progress run to completion (watch server_inflight()). */
void        server_begin_drain(server_t *srv);
/* Requests started and not yet finished. */
int         server_inflight(const server_t *srv);
/* Stops the daemon (no request runs after it returns), wakes and ends parked requests, and
 * frees srv; NULL is fine. */
void        server_stop(server_t *srv);
/* "http://127.0.0.1:8080" style base URL without a trailing slash. */
const char *server_public_url(const server_t *srv);
/* The URL the server listens on ("http://127.0.0.1:PORT"). */
const char *server_listen_url(const server_t *srv);
/* The TCP port it listens on (the one the kernel chose for port 0). */
uint16_t    server_port(const server_t *srv);
/* The application context given in server_config_t (app_t *, owned by the caller). */
void       *server_app(const server_t *srv);
/* The largest request body accepted, in bytes (--max-body). */
uint64_t    server_max_body(const server_t *srv);
/* True once server_begin_drain has run. */
bool        server_is_draining(const server_t *srv);
/* Connections open now (for /metrics). */
unsigned    server_open_connections(const server_t *srv);
/* The connections the limits count now (accepted, being set up or open) and the client
 * addresses they come from (for /metrics); either pointer may be NULL. */
void        server_limit_counts(const server_t *srv, unsigned *connections, unsigned *addresses);

/* Development mode (fault injection): a hook run before the handler of every matched route,
 * on the request's worker thread. It may delay (sleep) and return false to let the handler
 * run, or fill res and return true to answer instead of the handler. NULL removes it. */
typedef bool (*server_request_hook_fn)(http_request_t *req, http_response_t *res);
void        server_set_request_hook(server_request_hook_fn fn);

/* Long polling. A handler calls server_park(req, ms) and returns without answering: the
 * connection is suspended (no worker thread waits) until server_wake_parked() or ms pass,
 * then the route's handler runs again on the same request and answers (or parks again).
 * Returns false, and the handler must answer now, while the server drains. */
bool        server_park(http_request_t *req, unsigned timeout_ms);
/* Resumes every parked request; any thread. */
void        server_wake_parked(server_t *srv);
/* Parked requests resumed so far by server_wake_parked (*woken) and at their deadline (*due),
 * and how many are parked now (*parked), for /metrics. */
void        server_park_stats(server_t *srv, uint64_t *woken, uint64_t *due, unsigned *parked);
/* Store writes of request handlers that gave their worker thread back while they waited for
 * their commit (suspend_writes), for /metrics. */
uint64_t    server_write_waits(server_t *srv);
/* The lower-case hex SHA-256 of the TLS client certificate presented on req's connection
 * (requested, never required, when serving TLS); false when there is none. */
bool        server_peer_cert_sha256(const http_request_t *req, char out[65]);

#endif
