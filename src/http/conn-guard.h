/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection guard: the connection limits and the slow-sender deadlines of the HTTP server
 * (server.c), kept apart from libmicrohttpd so that they are plain code over sockets.
 *
 * Limits. Up to max_connections open connections in all and max_per_ip from one address are
 * served normally. Past either limit, a reserve of connections is still accepted, but their
 * requests are answered 503 serviceNotAvailable with Retry-After and the connection is closed
 * (so a client can tell overload from a crash). Past the reserve, a new connection is closed
 * at once, with a log line (at most one a second, with a count of the others). Nothing waits in
 * the listen backlog: the server keeps accepting.
 *
 * Deadlines (like nginx's client_header_timeout / client_body_timeout, and mod_reqtimeout's
 * MinRate). A connection must deliver a complete request head within header_timeout of being
 * opened or of its previous answer; a request body must arrive at min_body_rate bytes a second
 * or more, measured over windows of body_timeout seconds. A watchdog thread shuts down the
 * socket of a connection that misses either (the server then closes it) and logs why. Bytes
 * trickling in do not extend the deadlines, unlike the idle timeout.
 */
#ifndef SPOOLD_HTTP_CONN_GUARD_H
#define SPOOLD_HTTP_CONN_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

typedef struct conn_guard_config {
  unsigned max_connections;   /* served normally at most (0 = 1024) */
  unsigned max_per_ip;        /* served normally per client address at most (0 = 256) */
  unsigned header_timeout;    /* seconds to deliver a request head (0 = no deadline) */
  unsigned body_timeout;      /* seconds of a body-rate window (0 = no body deadline) */
  unsigned min_body_rate;     /* bytes a second a body must average over each window */
} conn_guard_config_t;

typedef enum {
  CONN_OVER_NONE = 0,
  CONN_OVER_PER_IP,   /* past max_per_ip: answer 503 */
  CONN_OVER_GLOBAL,   /* past max_connections: answer 503 */
} conn_over_t;

typedef enum {
  CONN_PHASE_HEAD,    /* waiting for (the rest of) a request head: header deadline */
  CONN_PHASE_BODY,    /* reading a request body: body rate */
  CONN_PHASE_BUSY,    /* handling or answering: no deadline of ours */
} conn_phase_t;

typedef struct conn_guard conn_guard_t;
typedef struct conn_info conn_info_t;

/* Creates a guard and starts its watchdog thread. Returns NULL and a malloc'd *err when the
 * thread cannot start. The caller frees it with conn_guard_free() after the server stopped. */
conn_guard_t *conn_guard_new(const conn_guard_config_t *cfg, char **err);

/* Stops the watchdog and frees g (every connection must have been closed). NULL is fine. */
void conn_guard_free(conn_guard_t *g);

/* The accept policy: false when a new connection from sa must be closed at once (past the
 * reserve, globally or for its address); logs the reason, rate-limited. When true, the
 * connection is already counted against the limits (one step with the check, so concurrent
 * calls never let more in than the limits and their reserves): a reservation that
 * conn_guard_opened() on the same thread takes. A reservation no connection took is released
 * at the thread's next call or after a few seconds. Thread-safe. */
bool conn_guard_accept(conn_guard_t *g, const struct sockaddr *sa);

/* Records a connection just opened on socket fd from sa, taking the reservation the calling
 * thread's conn_guard_accept() made (without one, it is counted now); returns its record
 * (owned by g until conn_guard_closed). Thread-safe. */
conn_info_t *conn_guard_opened(conn_guard_t *g, int fd, const struct sockaddr *sa);

/* Forgets a closed connection (before its socket is closed) and frees c. Thread-safe. */
void conn_guard_closed(conn_guard_t *g, conn_info_t *c);

/* The connections counted against the limits now (reserved or open) and the client addresses
 * they come from, into whichever pointer is not NULL. Thread-safe. */
void conn_guard_counts(conn_guard_t *g, unsigned *connections, unsigned *addresses);

/* Whether c was accepted past a limit (its requests get 503). */
conn_over_t conn_guard_over(const conn_info_t *c);

/* Moves c to another phase; the phase's clock starts now. Thread-safe. */
void conn_guard_phase(conn_info_t *c, conn_phase_t phase);

/* Counts n body bytes received on c. Thread-safe. */
void conn_guard_body_bytes(conn_info_t *c, size_t n);

/* How many connections the HTTP library itself must allow so that the guard decides first. */
unsigned conn_guard_library_limit(const conn_guard_t *g);

/* The reserves past each limit (see above), for tests and the docs: max(4, limit / 8). */
unsigned conn_guard_reserve(unsigned limit);

#endif
