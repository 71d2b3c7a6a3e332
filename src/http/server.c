/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd glue.
 *
 * One request goes through these callbacks:
 *   uri_log_cb      - the request starts: allocate its state, keep the raw URI
 *   access_cb (1st) - headers are in: parse path/query, route, check limits
 *   access_cb (n)   - body chunks: buffer them (or stream them to the route)
 *   access_cb (last)- body complete: run the handler, queue the response; a write request's
 *                     handler runs on a fiber (util/fiber.h): while its store write waits for
 *                     the group commit the connection is suspended and the worker thread serves
 *                     other connections; the writer's completion resumes the connection and
 *                     access_cb runs the fiber on to the answer
 *   completed_cb    - response sent or connection gone: log, metrics, free
 */
#include "http/server.h"
#include "http/conn-guard.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/tls.h"
#include "util/buf.h"
#include "util/fiber.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bodies of a refused (over-size) request are read and dropped up to this many bytes so the
 * client can receive its 413; past it the connection is closed. */
#define DISCARD_LIMIT (64ull << 20)

/* Fiber stacks of write handlers: the size of one (virtual; only the pages a handler touches
 * are backed), and how many unused ones are kept for the next requests. */
#define FIBER_STACK_SIZE (512u * 1024)
#define FIBER_STACKS_KEPT 256

struct server {
  struct MHD_Daemon *daemon;
  server_config_t    cfg;
  char              *public_url;
  char              *listen_url;
  uint16_t           port;
  int                listen_fd;
  char              *tls_cert_pem;  /* the first certificate: the client certificate trust list */
  atomic_int         inflight;
  atomic_bool        draining;
  atomic_uint        connections;
  atomic_uint_fast64_t parked_woken;  /* parked requests resumed by server_wake_parked */
  atomic_uint_fast64_t parked_due;    /* parked requests resumed at their deadline */
  atomic_uint_fast64_t write_waits;   /* waits of write handlers that gave their thread back */
  fiber_pool_t      *fibers;     /* stacks of write handlers; NULL: they run on the thread */
  conn_guard_t      *guard;      /* connection limits and slow-sender deadlines */
  /* Parked (suspended) requests, resumed by server_wake_parked() or their deadline. */
  pthread_mutex_t    park_mu;
  pthread_cond_t     park_cv;
  struct req_state  *parked;
  pthread_t          park_thread;
  bool               park_running;
  bool               park_stop;
};

/* Per-request state; req must stay the first member (handlers get &st->req). */
typedef struct req_state {
  http_request_t  req;
  http_response_t res;
  char           *raw_uri;
  buf_t           body;
  uint64_t        received;
  bool            headers_done;
  bool            too_large;
  bool            queued;
  bool            stream_stopped;
  bool            close_after;   /* answer with Connection: close (over a connection limit) */
  conn_info_t    *cg;            /* the connection's guard record */
  router_result_t routed;
  char            allow[64];
  int             status;
  uint64_t        bytes_out;
  unsigned        park_ms;       /* server_park() asked to hold the request this long */
  bool            parked;        /* suspended and in srv->parked */
  bool            was_parked;
  int64_t         park_deadline; /* monotonic us */
  struct MHD_Connection *conn;
  struct req_state *park_next;
  fiber_t        *fiber;         /* the handler's fiber, while it has not finished */
} req_state_t;

/* ---- responses ------------------------------------------------------------------------ */

/* A memory prefix followed by a file range (an IPP response then the document bytes). */
typedef struct body_fd {
  char    *prefix;
  size_t   prefix_len;
  int      fd;
  uint64_t offset, len;
  ssize_t (*src_read)(void *arg, uint64_t offset, char *buf, size_t max);  /* instead of fd */
  void    (*src_free)(void *arg);
  void    *src_arg;
} body_fd_t;

static ssize_t body_fd_read(void *cls, uint64_t pos, char *buf, size_t max) {
  body_fd_t *b = cls;
  if (pos < b->prefix_len) {
    size_t n = b->prefix_len - (size_t)pos < max ? b->prefix_len - (size_t)pos : max;
    memcpy(buf, b->prefix + pos, n);
    return (ssize_t)n;
  }
  uint64_t at = pos - b->prefix_len;
  if (at >= b->len) return MHD_CONTENT_READER_END_OF_STREAM;
  size_t want = b->len - at < max ? (size_t)(b->len - at) : max;
  ssize_t n = b->src_read ? b->src_read(b->src_arg, b->offset + at, buf, want)
                          : pread(b->fd, buf, want, (off_t)(b->offset + at));
  return n > 0 ? n : MHD_CONTENT_READER_END_WITH_ERROR; /* a file shorter than promised */
}

static void body_fd_free(void *cls) {
  body_fd_t *b = cls;
  free(b->prefix);
  if (b->fd >= 0) close(b->fd);
  if (b->src_free) b->src_free(b->src_arg);
  free(b);
}

/* Answers status with the configured error writer (server_config_t.error_writer); the message
 * is formatted from fmt. Without a writer the message goes out as text/plain. */
static void server_error(http_request_t *req, http_response_t *res, int status, const char *code,
                         const char *inner_code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void server_error(http_request_t *req, http_response_t *res, int status, const char *code,
                         const char *inner_code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *text = xvasprintf(fmt, ap);
  va_end(ap);
  server_error_writer_t w = req->server ? req->server->cfg.error_writer : NULL;
  if (w) {
    w(req, res, status, code, inner_code, text);
    free(text);
  } else {
    http_response_body(res, status, "text/plain", text, strlen(text)); /* takes text */
    res->error_code = code;
  }
}

static enum MHD_Result queue(struct MHD_Connection *conn, req_state_t *st) {
  http_request_t *req = &st->req;
  http_response_t *res = &st->res;
  if (res->status == 0)
    server_error(req, res, 500, "generalException", NULL,
                      "The server could not complete the request.");

  struct MHD_Response *r;
  if (res->fd < 0 && res->src_read) {  /* streamed through a callback, after the memory body */
    body_fd_t *b = xmalloc(sizeof *b);
    *b = (body_fd_t){res->body, res->body_len, -1, res->src_offset, res->src_len,
                     res->src_read, res->src_free, res->src_arg};
    r = MHD_create_response_from_callback(res->body_len + res->src_len, 64 * 1024,
                                          body_fd_read, b, body_fd_free);
    if (r) {
      res->body = NULL; /* the response owns both now */
      res->src_read = NULL;
      res->src_free = NULL;
      res->src_arg = NULL;
    } else {
      free(b);
    }
    st->bytes_out = r ? res->body_len + res->src_len : 0;
  } else if (res->fd >= 0 && res->body) {
    body_fd_t *b = xmalloc(sizeof *b);
    *b = (body_fd_t){res->body, res->body_len, res->fd, res->fd_offset, res->fd_len, NULL, NULL,
                     NULL};
    r = MHD_create_response_from_callback(res->body_len + res->fd_len, 64 * 1024, body_fd_read,
                                          b, body_fd_free);
    if (r) {
      res->body = NULL; /* the response owns both now */
      res->fd = -1;
    } else {
      free(b);
    }
    st->bytes_out = r ? res->body_len + res->fd_len : 0;
  } else if (res->fd >= 0) {
    r = MHD_create_response_from_fd_at_offset64(res->fd_len, res->fd, res->fd_offset);
    if (r) res->fd = -1; /* MHD owns and closes it now */
    st->bytes_out = res->fd_len;
  } else {
    r = MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (void *)"",
                                        res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (r) res->body = NULL;
    st->bytes_out = res->body_len;
  }
  if (!r) return MHD_NO;
  for (size_t i = 0; i < res->nheaders; i++)
    MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
  MHD_add_response_header(r, "request-id", req->request_id);
  MHD_add_response_header(r, "client-request-id",
                          req->client_request_id ? req->client_request_id : req->request_id);
  if (atomic_load(&req->server->draining) || st->close_after)
    MHD_add_response_header(r, "Connection", "close");
  conn_guard_phase(st->cg, CONN_PHASE_BUSY);
  st->status = res->status;
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)res->status, r);
  MHD_destroy_response(r);
  st->queued = true;
  return ret;
}

/* ---- callbacks ------------------------------------------------------------------------ */

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn) {
  server_t *srv = cls;
  req_state_t *st = xcalloc(1, sizeof *st);
  http_response_init(&st->res);
  st->raw_uri = xstrdup(uri ? uri : "");
  st->req.server = srv;
  st->req.conn = conn;
  st->conn = conn;
  st->req.content_length = UINT64_MAX;
  st->req.start_us = time_mono_us();
  id_request_guid(st->req.request_id);
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (ci && ci->client_addr) {
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
      inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, st->req.peer,
                sizeof st->req.peer);
    else if (sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, st->req.peer,
                sizeof st->req.peer);
  }
  st->req.tls = srv->cfg.tls_cert != NULL;
  const union MHD_ConnectionInfo *sc =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  st->cg = sc ? sc->socket_context : NULL;
  atomic_fetch_add(&srv->inflight, 1);
  return st;
}

/* A client-request-id is echoed only when it is a sane token (it ends up in headers and logs). */
static char *sanitize_client_request_id(const char *v) {
  if (!v) return NULL;
  size_t n = strlen(v);
  if (n == 0 || n > 128) return NULL;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)v[i]) && !strchr("-_.:{}", v[i])) return NULL;
  return xstrdup(v);
}

static void headers_in(server_t *srv, req_state_t *st, struct MHD_Connection *conn,
                       const char *method) {
  http_request_t *req = &st->req;
  req->method = method;
  req->app = srv->cfg.app;
  req->client_request_id =
      sanitize_client_request_id(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                             "client-request-id"));
  const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
  if (cl) {
    char *endp;
    errno = 0;
    unsigned long long v = strtoull(cl, &endp, 10);
    if (!errno && *cl && !*endp) req->content_length = v;
  }
  if (!http_request_parse_uri(req, st->raw_uri)) {
    server_error(req, &st->res, 400, "invalidRequest", NULL,
                      "The request URL is malformed (bad percent-encoding or too many segments).");
    st->routed = ROUTER_NOT_FOUND;
    return;
  }
  st->routed = router_match(req, st->allow, sizeof st->allow);
}

/* The development fault hook. A process global on purpose: it is the one seam through which
 * dev/faults.c (--dev only) reaches every request, set once at start and cleared at stop. */
static _Atomic(server_request_hook_fn) g_request_hook;

void server_set_request_hook(server_request_hook_fn fn) { atomic_store(&g_request_hook, fn); }

/* Runs the request's hook (development faults) and its route's handler; on the worker thread
 * or on the request's fiber. */
static void run_handler(void *arg) {
  req_state_t *st = arg;
  server_request_hook_fn hook = st->was_parked ? NULL : atomic_load(&g_request_hook);
  if (!hook || !hook(&st->req, &st->res)) st->req.route->handler(&st->req, &st->res);
}

/* Methods that never write: their handlers run on the worker thread itself. */
static bool read_method(const char *m) {
  return m && (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS"));
}

/* The handler's fiber is about to give its thread back until fiber_wake (a store write queued
 * for the group commit): the connection leaves the event loop. Runs inside access_cb. */
static void fiber_before_wait(void *ctx) {
  req_state_t *st = ctx;
  MHD_suspend_connection(st->conn);
  atomic_fetch_add(&st->req.server->write_waits, 1);
}

/* The write committed (any thread): the connection goes back into its worker's event loop
 * (through the daemon's inter-thread channel), whose access_cb runs the fiber on. */
static void fiber_wake_conn(void *ctx) {
  req_state_t *st = ctx;
  MHD_resume_connection(st->conn);
}

static bool body_limited(const req_state_t *st) {
  /* Streaming routes enforce their own limits (upload fragments). */
  return !(st->routed == ROUTER_MATCH && (st->req.route->flags & ROUTE_STREAM));
}

static enum MHD_Result answer(server_t *srv, struct MHD_Connection *conn, req_state_t *st);

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
  (void)url;
  (void)version;
  server_t *srv = cls;
  req_state_t *st = *con_cls;
  if (!st) return MHD_NO;
  http_request_t *req = &st->req;

  if (!st->headers_done) {
    st->headers_done = true;
    conn_guard_phase(st->cg, CONN_PHASE_BODY);
    headers_in(srv, st, conn, method);
    conn_over_t over = conn_guard_over(st->cg);
    if (over != CONN_OVER_NONE) {
      /* Accepted into the reserve past a limit: answer, then close (the body is not read). */
      st->close_after = true;
      http_response_clear(&st->res);
      http_response_init(&st->res);
      http_response_header(&st->res, "Retry-After", "2");
      if (over == CONN_OVER_PER_IP)
        server_error(req, &st->res, 503, "serviceNotAvailable", NULL,
                          "Too many open connections from your address (at most %u); close "
                          "some or retry later.", srv->cfg.max_connections_per_ip);
      else
        server_error(req, &st->res, 503, "serviceNotAvailable", NULL,
                          "The server has too many open connections (at most %u); retry later.",
                          srv->cfg.max_connections);
      return queue(conn, st);
    }
    if (body_limited(st) && req->content_length != UINT64_MAX &&
        req->content_length > srv->cfg.max_body) {
      st->too_large = true;
      server_error(req, &st->res, 413, "invalidRequest", "maxRequestSizeExceeded",
                        "The request body is %llu bytes; this server accepts at most %llu.",
                        (unsigned long long)req->content_length,
                        (unsigned long long)srv->cfg.max_body);
      return queue(conn, st); /* MHD closes the connection instead of reading the body */
    }
    if (st->routed == ROUTER_MATCH && (req->route->flags & ROUTE_STREAM) &&
        req->route->body_chunk) {
      /* A streaming route checks the headers before any of the body arrives. */
      int r = req->route->body_chunk(req, &st->res, NULL, 0);
      if (r == ROUTE_CHUNK_ANSWER_NOW) return queue(conn, st); /* body not read */
      if (r != 0) st->stream_stopped = true;
    }
    return MHD_YES;
  }

  if (*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    st->received += n;
    conn_guard_body_bytes(st->cg, n);
    if (st->queued) return MHD_YES;
    if (st->routed == ROUTER_MATCH && (req->route->flags & ROUTE_STREAM)) {
      if (!st->stream_stopped && req->route->body_chunk(req, &st->res, upload_data, n) != 0)
        st->stream_stopped = true;
      return MHD_YES;
    }
    if (st->too_large || st->received > srv->cfg.max_body) {
      if (!st->too_large) buf_free(&st->body);
      st->too_large = true;
      return st->received > DISCARD_LIMIT ? MHD_NO : MHD_YES;
    }
    buf_append(&st->body, upload_data, n);
    return MHD_YES;
  }

  if (st->queued) return MHD_YES;

  if (st->fiber) {
    /* Resumed: the commit the handler's write waited for is on disk (or failed). */
    if (!fiber_run(st->fiber)) return MHD_YES; /* another write, another wait */
    fiber_free(st->fiber);
    st->fiber = NULL;
    return answer(srv, conn, st);
  }

  /* The whole request is in. */
  conn_guard_phase(st->cg, CONN_PHASE_BUSY);
  req->body = st->body.data;
  req->body_len = st->body.len;
  http_response_t *res = &st->res;
  if (res->status) {
    /* An answer was decided while reading the headers (malformed URL). */
  } else if (st->too_large) {
    server_error(req, res, 413, "invalidRequest", "maxRequestSizeExceeded",
                      "The request body exceeds the limit of %llu bytes.",
                      (unsigned long long)srv->cfg.max_body);
  } else if (atomic_load(&srv->draining) && st->routed == ROUTER_MATCH && !st->was_parked) {
    http_response_header(res, "Retry-After", "1");
    server_error(req, res, 503, "serviceNotAvailable", NULL,
                      "The server is shutting down; retry on another connection.");
  } else if (st->routed == ROUTER_NOT_FOUND) {
    server_error(req, res, 404, "itemNotFound", NULL, "No resource matches the path '%s'.",
                      req->raw_path);
  } else if (st->routed == ROUTER_BAD_METHOD) {
    http_response_header(res, "Allow", st->allow);
    server_error(req, res, 405, "notSupported", NULL,
                      "The method %s is not supported on '%s'; allowed: %s.", req->method,
                      req->raw_path, st->allow);
  } else if (!st->stream_stopped || !res->status) {
    if (!read_method(req->method) && srv->fibers)
      st->fiber = fiber_new(srv->fibers, run_handler, st);
    if (st->fiber) {
      fiber_set_wait_hooks(st->fiber, fiber_before_wait, fiber_wake_conn, st);
      if (!fiber_run(st->fiber)) return MHD_YES; /* waits for a commit, connection suspended */
      fiber_free(st->fiber);
      st->fiber = NULL;
    } else {
      run_handler(st);
    }
  }
  return answer(srv, conn, st);
}

/* The handler has returned: parks the request when it asked to (server_park), else queues
 * its answer. */
static enum MHD_Result answer(server_t *srv, struct MHD_Connection *conn, req_state_t *st) {
  http_response_t *res = &st->res;
  if (st->park_ms && !res->status) {
    /* The handler asked to wait (server_park): suspend until woken or the deadline. */
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&srv->park_mu);
    st->park_deadline = time_mono_us() + (int64_t)st->park_ms * 1000;
    st->park_ms = 0;
    st->parked = st->was_parked = true;
    st->park_next = srv->parked;
    srv->parked = st;
    pthread_cond_signal(&srv->park_cv);
    pthread_mutex_unlock(&srv->park_mu);
    return MHD_YES;
  }
  st->park_ms = 0;
  return queue(conn, st);
}

/* ---- parking (long polling without holding a worker thread) ------------------------------ */

/* Unlinks st from srv->parked; call with park_mu held. */
static void park_unlink(server_t *srv, req_state_t *st) {
  for (req_state_t **pp = &srv->parked; *pp; pp = &(*pp)->park_next) {
    if (*pp == st) {
      *pp = st->park_next;
      break;
    }
  }
  st->parked = false;
  st->park_next = NULL;
}

/* Takes the parked requests due at now (all when now < 0) off the list, under park_mu, and
 * returns their connections (malloc'd, *n entries) for MHD_resume_connection outside it. */
static struct MHD_Connection **park_take(server_t *srv, int64_t now, size_t *n,
                                         int64_t *earliest) {
  struct MHD_Connection **v = NULL;
  *n = 0;
  *earliest = INT64_MAX;
  req_state_t **pp = &srv->parked;
  while (*pp) {
    req_state_t *st = *pp;
    if (now < 0 || st->park_deadline <= now) {
      *pp = st->park_next;
      st->parked = false;
      st->park_next = NULL;
      v = xrealloc(v, (*n + 1) * sizeof *v);
      v[(*n)++] = st->conn;
    } else {
      if (st->park_deadline < *earliest) *earliest = st->park_deadline;
      pp = &st->park_next;
    }
  }
  return v;
}

static void *park_main(void *arg) {
  server_t *srv = arg;
  pthread_mutex_lock(&srv->park_mu);
  while (!srv->park_stop) {
    size_t n;
    int64_t earliest;
    struct MHD_Connection **v = park_take(srv, time_mono_us(), &n, &earliest);
    if (n) {
      atomic_fetch_add(&srv->parked_due, n);
      pthread_mutex_unlock(&srv->park_mu);
      for (size_t i = 0; i < n; i++) MHD_resume_connection(v[i]);
      free(v);
      pthread_mutex_lock(&srv->park_mu);
      continue;
    }
    int64_t wait_us = earliest == INT64_MAX ? 1000000 : earliest - time_mono_us();
    if (wait_us > 1000000) wait_us = 1000000;
    if (wait_us < 1000) wait_us = 1000;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + wait_us * 1000;
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&srv->park_cv, &srv->park_mu, &ts);
  }
  pthread_mutex_unlock(&srv->park_mu);
  return NULL;
}

/* Asks the server to hold req (see server.h). */
bool server_park(http_request_t *req, unsigned timeout_ms) {
  server_t *srv = req->server;
  if (!srv || !srv->park_running || atomic_load(&srv->draining)) return false;
  ((req_state_t *)req)->park_ms = timeout_ms ? timeout_ms : 1;
  return true;
}

/* How parked requests were resumed (see server.h). */
void server_park_stats(server_t *srv, uint64_t *woken, uint64_t *due, unsigned *parked) {
  *woken = srv ? atomic_load(&srv->parked_woken) : 0;
  *due = srv ? atomic_load(&srv->parked_due) : 0;
  *parked = 0;
  if (!srv || !srv->park_running) return;
  pthread_mutex_lock(&srv->park_mu);
  for (const req_state_t *st = srv->parked; st; st = st->park_next) (*parked)++;
  pthread_mutex_unlock(&srv->park_mu);
}

/* Write waits that gave their thread back (see server.h). */
uint64_t server_write_waits(server_t *srv) { return srv ? atomic_load(&srv->write_waits) : 0; }

/* Resumes every parked request (see server.h). */
void server_wake_parked(server_t *srv) {
  if (!srv || !srv->park_running) return;
  size_t n;
  int64_t earliest;
  pthread_mutex_lock(&srv->park_mu);
  struct MHD_Connection **v = park_take(srv, -1, &n, &earliest);
  pthread_mutex_unlock(&srv->park_mu);
  atomic_fetch_add(&srv->parked_woken, n);
  for (size_t i = 0; i < n; i++) MHD_resume_connection(v[i]);
  free(v);
}

/* Hex SHA-256 of the peer's TLS client certificate (see server.h). */
bool server_peer_cert_sha256(const http_request_t *req, char out[65]) {
  out[0] = '\0';
  if (!req->tls || !req->conn) return false;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (!ci || !ci->tls_session) return false;
  unsigned n = 0;
  const gnutls_datum_t *certs = gnutls_certificate_get_peers(ci->tls_session, &n);
  if (!certs || n == 0 || !certs[0].data || !certs[0].size) return false;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(certs[0].data, certs[0].size, md);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
  return true;
}

/* Writes the one log line of a finished request. */
/* Appends s to the line being written at *p (before end); false when it does not fit. */
static bool line_put(char **p, const char *end, const char *s, size_t n) {
  if ((size_t)(end - *p) <= n) return false;
  memcpy(*p, s, n);
  *p += n;
  return true;
}

/* The same with an unsigned number in decimal. */
static bool line_put_u(char **p, const char *end, unsigned long long v) {
  char d[24], *q = d + sizeof d;
  do *--q = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  return line_put(p, end, q, (size_t)(d + sizeof d - q));
}

/* The text form of the request's log line, newline included, written into line (size bytes)
 * without a format string or an allocation; 0 when it does not fit (the caller then formats
 * it with buf_printf). */
static size_t log_request_text(char *line, size_t size, const http_request_t *req,
                               const char *route, int status, uint64_t bytes, int64_t micros,
                               const char *tenant, const char *app) {
  const char *crid = req->client_request_id ? req->client_request_id : "-";
  const char *method = req->method ? req->method : "-";
  char *p = line, *end = line + size;
  if (size < LOG_PREFIX_MAX) return 0;
  p += log_text_prefix_to(p, LOG_INFO);
  bool ok = line_put(&p, end, req->request_id, strlen(req->request_id)) &&
            line_put(&p, end, " ", 1) && line_put(&p, end, crid, strlen(crid)) &&
            line_put(&p, end, " ", 1) && line_put(&p, end, method, strlen(method)) &&
            line_put(&p, end, " ", 1) && line_put(&p, end, route, strlen(route)) &&
            line_put(&p, end, " ", 1);
  if (ok && status < 0) ok = line_put(&p, end, "-", 1);
  ok = ok && line_put_u(&p, end, (unsigned long long)(status < 0 ? -(long long)status : status)) &&
       line_put(&p, end, " ", 1) && line_put_u(&p, end, (unsigned long long)bytes) &&
       line_put(&p, end, " ", 1);
  if (ok && micros < 0) ok = line_put(&p, end, "-", 1);
  ok = ok && line_put_u(&p, end, (unsigned long long)(micros < 0 ? -micros : micros)) &&
       line_put(&p, end, "us tenant=", 10) &&
       line_put(&p, end, tenant[0] ? tenant : "-", tenant[0] ? strlen(tenant) : 1) &&
       line_put(&p, end, " app=", 5) &&
       line_put(&p, end, app[0] ? app : "-", app[0] ? strlen(app) : 1) && line_put(&p, end, "\n", 1);
  return ok ? (size_t)(p - line) : 0;
}

static void log_request(const req_state_t *st, int64_t micros) {
  const http_request_t *req = &st->req;
  const char *route = req->route ? req->route->name : "-";
  const char *tenant = req->log_tenant ? req->log_tenant : "";
  const char *app = req->log_app ? req->log_app : "";
  if (!log_enabled(LOG_INFO)) return;
  buf_t line = BUF_INIT;
  if (log_is_json()) {
    char ts[TIME_ISO_LEN];
    time_format_iso(time_real_us(), ts);
    buf_printf(&line, "{\"time\":\"%s\",\"request-id\":\"%s\",\"client-request-id\":\"", ts,
               req->request_id);
    buf_json_escape(&line, req->client_request_id ? req->client_request_id : "");
    buf_printf(&line, "\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,\"bytes\":%llu,"
                      "\"us\":%lld,\"tenant\":\"",
               req->method ? req->method : "-", route, st->status,
               (unsigned long long)st->bytes_out, (long long)micros);
    buf_json_escape(&line, tenant);
    buf_puts(&line, "\",\"app\":\"");
    buf_json_escape(&line, app);
    buf_puts(&line, "\"}");
  } else {
    char text[1024];
    size_t n = log_request_text(text, sizeof text, req, route, st->status, st->bytes_out, micros,
                                tenant, app);
    if (n) {
      log_write(text, n);
      return;
    }
    log_text_prefix(&line, LOG_INFO);
    buf_printf(&line, "%s %s %s %s %d %llu %lldus tenant=%s app=%s", req->request_id,
               req->client_request_id ? req->client_request_id : "-",
               req->method ? req->method : "-", route, st->status,
               (unsigned long long)st->bytes_out, (long long)micros, tenant[0] ? tenant : "-",
               app[0] ? app : "-");
  }
  buf_putc(&line, '\n');
  log_write(line.data, line.len);
  buf_free(&line);
}

static void free_state(req_state_t *st) {
  http_request_t *req = &st->req;
  http_request_free_uri(req);
  free(req->client_request_id);
  free(req->log_tenant);
  free(req->log_app);
  if (req->cleanup) req->cleanup(req);
  buf_free(&st->body);
  http_response_clear(&st->res);
  free(st->raw_uri);
  free(st);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)conn;
  (void)toe;
  server_t *srv = cls;
  req_state_t *st = *con_cls;
  if (!st) return;
  *con_cls = NULL;
  if (st->fiber) fiber_free(st->fiber); /* unfinished only if the daemon stopped under it */
  if (st->was_parked) { /* still parked only when the daemon stops */
    pthread_mutex_lock(&srv->park_mu);
    if (st->parked) park_unlink(srv, st);
    pthread_mutex_unlock(&srv->park_mu);
  }
  int64_t micros = time_mono_us() - st->req.start_us;
  /* The connection waits for its next request head from now on. */
  conn_guard_phase(st->cg, CONN_PHASE_HEAD);
  if (st->headers_done) {
    if (!st->queued) st->status = 499; /* the client went away before an answer */
    metrics_http_observe(st->req.route ? st->req.route->name : NULL, st->status, micros);
    if (!st->req.log_quiet) log_request(st, micros);
  }
  free_state(st);
  atomic_fetch_sub(&srv->inflight, 1);
}

static void connection_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  server_t *srv = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ad =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *socket_context = conn_guard_opened(srv->guard, fd ? fd->connect_fd : -1,
                                        ad ? ad->client_addr : NULL);
    /* Counted after the guard: a connection the gauge shows is one the limits count. */
    atomic_fetch_add(&srv->connections, 1);
    fiber_thread_clients_add(1); /* on the worker thread that serves it (util/fiber.h) */
  } else {
    /* Called before the library closes the socket: the guard lets go of it first. */
    conn_guard_closed(srv->guard, *socket_context);
    *socket_context = NULL;
    atomic_fetch_sub(&srv->connections, 1);
    fiber_thread_clients_add(-1);
  }
}

/* Accept policy: past the limits' reserves a connection is closed at once (conn-guard.h). */
static enum MHD_Result accept_cb(void *cls, const struct sockaddr *addr, socklen_t addrlen) {
  (void)addrlen;
  server_t *srv = cls;
  return conn_guard_accept(srv->guard, addr) ? MHD_YES : MHD_NO;
}

/* MHD must not rewrite URLs: we decode paths and queries ourselves (keeping '+'). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s) {
  (void)cls;
  (void)c;
  return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  buf_t b = BUF_INIT;
  buf_vprintf(&b, fmt, ap);
  while (b.len && (b.data[b.len - 1] == '\n')) b.data[--b.len] = '\0';
  log_warn("libmicrohttpd: %s", b.data ? b.data : "");
  buf_free(&b);
}

/* ---- start/stop ----------------------------------------------------------------------- */

static int open_listener(const char *listen_addr, uint16_t *port_out, char *host_out,
                         size_t hostlen, char **err) {
  char host[128];
  const char *colon = strrchr(listen_addr, ':');
  buf_t e = BUF_INIT;
  if (!colon || colon == listen_addr) {
    buf_printf(&e, "--listen must be ADDR:PORT, got '%s'", listen_addr);
    *err = buf_detach(&e);
    return -1;
  }
  size_t hlen = (size_t)(colon - listen_addr);
  if (hlen >= sizeof host) hlen = sizeof host - 1;
  memcpy(host, listen_addr, hlen);
  host[hlen] = '\0';
  char *endp;
  long port = strtol(colon + 1, &endp, 10);
  if (*endp || port < 0 || port > 65535) {
    buf_printf(&e, "--listen has an invalid port in '%s'", listen_addr);
    *err = buf_detach(&e);
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof ss);
  bool v6 = host[0] == '[';
  if (v6) {
    size_t l = strlen(host);
    if (l < 2 || host[l - 1] != ']') {
      buf_printf(&e, "--listen has a malformed IPv6 address in '%s'", listen_addr);
      *err = buf_detach(&e);
      return -1;
    }
    memmove(host, host + 1, l - 2);
    host[l - 2] = '\0';
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) goto badaddr;
    sslen = sizeof *s6;
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) goto badaddr;
    sslen = sizeof *s4;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) goto syserr;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 1024) != 0) {
    close(fd);
    goto syserr;
  }
  sslen = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sslen);
  *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
  if (v6) snprintf(host_out, hostlen, "[%s]", host);
  else snprintf(host_out, hostlen, "%s", host);
  return fd;
badaddr:
  buf_printf(&e, "--listen has an invalid address '%s'", host);
  *err = buf_detach(&e);
  return -1;
syserr:
  buf_printf(&e, "cannot listen on %s: %s", listen_addr, strerror(errno));
  *err = buf_detach(&e);
  return -1;
}

/* Raises the open-file limit towards what `want` connections need (plus files and the store),
 * within the hard limit; logs when that is not enough. */
static void raise_fd_limit(unsigned want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t need = (rlim_t)want + 256;
  if (rl.rlim_cur >= need) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
    log_warn("the open-file limit (%llu) is below what the connection limits need (%llu): "
             "raise it (ulimit -n) or lower --max-connections",
             (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

server_t *server_start(const server_config_t *cfg, char **err) {
  server_t *srv = xcalloc(1, sizeof *srv);
  srv->cfg = *cfg;
  if (srv->cfg.threads < 2) srv->cfg.threads = 2;
  char host[160];
  srv->listen_fd = open_listener(cfg->listen, &srv->port, host, sizeof host, err);
  if (srv->listen_fd < 0) goto fail;
  bool tls = cfg->tls_cert && cfg->tls_key;
  buf_t b = BUF_INIT;
  buf_printf(&b, "%s://%s:%u", tls ? "https" : "http", host, srv->port);
  srv->listen_url = buf_detach(&b);
  if (cfg->public_url && *cfg->public_url && strcmp(cfg->public_url, "auto") != 0) {
    srv->public_url = xstrdup(cfg->public_url);
    size_t l = strlen(srv->public_url);
    while (l && srv->public_url[l - 1] == '/') srv->public_url[--l] = '\0';
  } else {
    srv->public_url = xstrdup(srv->listen_url);
  }

  conn_guard_config_t gc = {.max_connections = cfg->max_connections,
                            .max_per_ip = cfg->max_connections_per_ip,
                            .header_timeout = cfg->header_timeout,
                            .body_timeout = cfg->body_timeout,
                            .min_body_rate = cfg->min_body_rate};
  srv->guard = conn_guard_new(&gc, err);
  if (!srv->guard) goto fail;
  raise_fd_limit(conn_guard_library_limit(srv->guard));

  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                   MHD_ALLOW_SUSPEND_RESUME;
  if (tls) {
    /* The certificate and key come from tls_retrieve_cert on each handshake, so SIGHUP can
     * replace them (server_reload_tls). */
    char about[512];
    srv->tls_cert_pem = buf_read_file(cfg->tls_cert, NULL, err);
    if (!srv->tls_cert_pem || tls_load(cfg->tls_cert, cfg->tls_key, about, sizeof about, err) < 0)
      goto fail;
    log_info("TLS certificate %s: %s", cfg->tls_cert, about);
    flags |= MHD_USE_TLS;
  }
  struct MHD_OptionItem opts[16];
  size_t n = 0;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){o, (intptr_t)(v), p}
  OPT(MHD_OPTION_LISTEN_SOCKET, srv->listen_fd, NULL);
  OPT(MHD_OPTION_THREAD_POOL_SIZE, srv->cfg.threads, NULL);
  /* The guard enforces both limits (answering 503 past them); the library's own limit is only
   * a backstop above the guard's, since at it the library would stop accepting and leave
   * clients waiting in the backlog. */
  OPT(MHD_OPTION_CONNECTION_LIMIT, conn_guard_library_limit(srv->guard), NULL);
  OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout, NULL);
  OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, NULL);
  if (tls) {
    OPT(MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)tls_retrieve_cert);
    /* A trust list makes GnuTLS ask for a client certificate (optional): printers present the
     * certificate issued at registration, pinned by its fingerprint (server_peer_cert_sha256). */
    OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->tls_cert_pem);
  }
  OPT(MHD_OPTION_END, 0, NULL);
#undef OPT

  srv->daemon = MHD_start_daemon(
      flags, 0, accept_cb, srv, access_cb, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
      MHD_OPTION_ARRAY, opts, MHD_OPTION_URI_LOG_CALLBACK,
      uri_log_cb, srv, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
      MHD_OPTION_NOTIFY_CONNECTION, connection_cb, srv, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
      NULL, MHD_OPTION_END);
  if (srv->daemon) {
    srv->fibers = cfg->suspend_writes ? fiber_pool_new(FIBER_STACK_SIZE, FIBER_STACKS_KEPT) : NULL;
    time_cond_init_monotonic(&srv->park_cv);
    pthread_mutex_init(&srv->park_mu, NULL);
    srv->park_running = pthread_create(&srv->park_thread, NULL, park_main, srv) == 0;
    if (!srv->park_running) log_warn("long polling is off: cannot start the parking thread");
  }
  if (!srv->daemon) {
    buf_t e = BUF_INIT;
    buf_printf(&e, "libmicrohttpd could not start on %s%s", cfg->listen,
               tls ? " (check the TLS certificate and key)" : "");
    *err = buf_detach(&e);
    goto fail;
  }
  return srv;
fail:
  conn_guard_free(srv->guard);
  if (srv->listen_fd >= 0) close(srv->listen_fd);
  tls_unload(); /* harmless when nothing was loaded */
  free(srv->tls_cert_pem);
  free(srv->public_url);
  free(srv->listen_url);
  free(srv);
  return NULL;
}

int server_reload_tls(server_t *srv, const char *cert_file, const char *key_file, char *about,
                      size_t aboutlen, char **err) {
  if (!srv->cfg.tls_cert) {
    *err = xstrdup("the server was started without TLS");
    return -2;
  }
  return tls_load(cert_file, key_file, about, aboutlen, err);
}

void server_begin_drain(server_t *srv) {
  if (atomic_exchange(&srv->draining, true)) return;
  server_wake_parked(srv); /* parked requests answer now */
  MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
  if (fd != MHD_INVALID_SOCKET) close(fd);
}

int server_inflight(const server_t *srv) { return atomic_load(&srv->inflight); }

void server_stop(server_t *srv) {
  if (!srv) return;
  if (srv->park_running) {
    pthread_mutex_lock(&srv->park_mu);
    srv->park_stop = true;
    pthread_cond_signal(&srv->park_cv);
    pthread_mutex_unlock(&srv->park_mu);
    pthread_join(srv->park_thread, NULL);
    server_wake_parked(srv);
    srv->park_running = false;
  }
  /* A write handler waiting for its commit has a suspended connection, which the library must
   * not see at its stop: the writer wakes it, and its worker answers (the drain waits for
   * that; this wait covers a stop without one). */
  for (int64_t since = time_mono_us(); fiber_pool_live(srv->fibers) > 0;) {
    if (since && time_mono_us() - since > 5000000) {
      log_warn("stopping: waiting for %u write(s) to reach the disk",
               fiber_pool_live(srv->fibers));
      since = 0;
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(srv->daemon);
  fiber_pool_free(srv->fibers);
  conn_guard_free(srv->guard);
  if (srv->cfg.tls_cert) tls_unload();
  free(srv->tls_cert_pem);
  free(srv->public_url);
  free(srv->listen_url);
  free(srv);
}

const char *server_public_url(const server_t *srv) { return srv->public_url; }
const char *server_listen_url(const server_t *srv) { return srv->listen_url; }
uint16_t server_port(const server_t *srv) { return srv->port; }
void *server_app(const server_t *srv) { return srv->cfg.app; }
uint64_t server_max_body(const server_t *srv) { return srv->cfg.max_body; }
bool server_is_draining(const server_t *srv) { return atomic_load(&srv->draining); }
unsigned server_open_connections(const server_t *srv) { return atomic_load(&srv->connections); }

void server_limit_counts(const server_t *srv, unsigned *connections, unsigned *addresses) {
  conn_guard_counts(srv->guard, connections, addresses);
}
