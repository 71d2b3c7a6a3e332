/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/loadgen: a small HTTP/1.1 load generator for spoold's Graph API, used by
 * bench/run.sh. One thread per connection, blocking sockets with keep-alive and TCP_NODELAY,
 * 127.0.0.1 only. Each connection runs its scenario in a loop until --duration seconds have
 * passed (or --count iterations were started), then the latencies of every request kind are
 * merged and printed as one line of key=value pairs (run.sh parses it).
 *
 * Closed loop (default): each connection starts its next iteration as soon as the last one
 * ended, so a slow server also slows the arrivals and its stalls hide in fewer samples.
 * Open loop (--rate R): iteration i is due at start + i/R seconds whatever the server does;
 * the --conns connections are a pool that takes the due iterations in order. The first request
 * of an iteration is timed from its due time (not from when a connection was free to send it),
 * each following request from the answer of the one before it (when the client would send
 * it), and "iter" from the due time to the last answer: coordinated omission is avoided, a
 * stall shows in every request it delays. `late` counts iterations sent more than 1 ms after
 * their due time (the pool was exhausted, or the load generator itself had no CPU).
 *
 * Scenarios (ids come from the answers, so each iteration works on its own new job):
 *   lifecycle  POST {base}/jobs {} (201, id) ; POST {base}/jobs/{id}/cancel (204)
 *   pull       POST {share}/jobs {} ; POST .../documents/{d}/createUploadSession ;
 *              PUT <uploadUrl> 4 KiB (201) ; POST .../start (200, held) ;
 *              POST /v1.0/print/printers/{p}/jobs/{id}/abort with the app token (204)
 *   upload     one job and one upload session of --size bytes, sent as --fragment-byte
 *              fragments by --conns connections at once (202..., one 201)
 *   http       GET --path twice (200 each), with the user token's Authorization header: the
 *              loopback HTTP round trips of a lifecycle iteration against any server (the
 *              bench's floor: nginx's static file), no spoold and no store
 *
 * Several servers (spoold processes sharing one PostgreSQL store): --port A,B,... spreads the
 * connections over them, connection i to the (i mod n)-th port; every request of an iteration
 * goes to that connection's server.
 *
 * Build: cc -O2 -pthread -o loadgen loadgen.c
 * Usage: loadgen MODE --port N[,N...] --user-token FILE [--app-token FILE] [--share ID] [--printer ID]
 *                [--conns N] [--duration S] [--count N] [--rate PER_S] [--size BYTES]
 *                [--fragment BYTES] [--path PATH]
 * Output: mode=... conns=... secs=... iters=... iters_per_s=... errors=... and for each request
 *         kind K: K_n, K_p50_ms, K_p99_ms, K_max_ms; upload adds bytes, mb_per_s; open loop
 *         adds rate=..., late=... and the iter_* latencies; every mode ends with
 *         cpu_us_per_iter=... (the load generator's own CPU, user + system, per iteration).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { OP_CREATE, OP_CANCEL, OP_SESSION, OP_PUT, OP_START, OP_ABORT, OP_GET, OP_ITER, OP_N };
static const char *const OP_NAME[OP_N] = {"create", "cancel", "session", "put", "start", "abort",
                                          "get", "iter"};

enum { MAX_PORTS = 16 };

static struct {
  const char *mode;
  int         ports[MAX_PORTS], nports;
  char       *user_tok, *app_tok;
  const char *share, *printer, *path;
  int         conns;
  double      duration;
  long        count;
  double      rate; /* open loop: iterations per second; 0: closed loop */
  uint64_t    size, fragment;
} opt = {.ports = {8080}, .nports = 1, .conns = 1, .duration = 10, .size = 1ull << 30, .fragment = 8ull << 20};

static double         g_deadline, g_t0;
static atomic_long    g_started, g_done, g_errors, g_late;
static atomic_int     g_err_printed;
static char          *g_payload; /* upload bytes */

/* Upload mode: shared state of the one session. */
static char           g_upload_path[1024];
static atomic_ulong   g_next_fragment;
static atomic_int     g_created; /* 201 seen */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("loadgen: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static char *read_token(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) die("cannot read %s: %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, f);
  fclose(f);
  if (n <= 0) die("%s is empty", path);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
  return line;
}

/* ---- latencies -------------------------------------------------------------------------------- */

typedef struct {
  uint32_t *us;
  size_t    n, cap;
} lat_t;

static void lat_add(lat_t *l, double secs) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 4096;
    l->us = realloc(l->us, l->cap * sizeof *l->us);
    if (!l->us) die("out of memory");
  }
  double us = secs * 1e6;
  l->us[l->n++] = us > 4e9 ? 4000000000u : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* ---- one keep-alive connection ------------------------------------------------------------------ */

typedef struct {
  int    fd;
  int    port;     /* the server's port on 127.0.0.1 */
  char  *buf;      /* received bytes not yet consumed */
  size_t len, cap;
  char  *body;     /* body of the last response (NUL-terminated) */
  size_t body_len, body_cap;
  int    status;
} conn_t;

static void conn_close(conn_t *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->len = 0;
}

static int conn_open(conn_t *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only */
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
    conn_close(c);
    return -1;
  }
  c->len = 0;
  return 0;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads more bytes into c->buf; -1 on EOF or error. */
static int fill(conn_t *c) {
  if (c->cap - c->len < 65536) {
    c->cap = c->cap ? c->cap * 2 : 131072;
    c->buf = realloc(c->buf, c->cap);
    if (!c->buf) die("out of memory");
  }
  for (;;) {
    ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c->len += (size_t)r;
    return 0;
  }
}

static void body_append(conn_t *c, const char *p, size_t n) {
  if (c->body_len + n + 1 > c->body_cap) {
    c->body_cap = (c->body_len + n + 1) * 2;
    c->body = realloc(c->body, c->body_cap);
    if (!c->body) die("out of memory");
  }
  memcpy(c->body + c->body_len, p, n);
  c->body_len += n;
  c->body[c->body_len] = '\0';
}

static void consume(conn_t *c, size_t n) {
  memmove(c->buf, c->buf + n, c->len - n);
  c->len -= n;
}

/* Reads one response (Content-Length or chunked). 0 on success (c->status, c->body). */
static int read_response(conn_t *c, int head_only) {
  c->body_len = 0;
  if (c->body) c->body[0] = '\0';
  char *end;
  for (;;) {
    end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
    if (end) break;
    if (fill(c) != 0) return -1;
  }
  size_t hlen = (size_t)(end - c->buf) + 4;
  if (c->len < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0) return -1;
  c->status = atoi(c->buf + 9);
  long long clen = -1;
  int chunked = 0, close_after = 0;
  for (char *p = memchr(c->buf, '\n', hlen); p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
    p++;
    if (!strncasecmp(p, "content-length:", 15)) clen = atoll(p + 15);
    else if (!strncasecmp(p, "transfer-encoding:", 18) && strstr(p, "chunked") &&
             strstr(p, "chunked") < end)
      chunked = 1;
    else if (!strncasecmp(p, "connection:", 11) && !strncasecmp(p + 11 + strspn(p + 11, " "), "close", 5))
      close_after = 1;
  }
  consume(c, hlen);
  if (head_only || c->status == 204 || c->status == 304 || (c->status >= 100 && c->status < 200))
    clen = 0;
  if (chunked) {
    for (;;) {
      char *eol;
      while (!(eol = c->len ? memmem(c->buf, c->len, "\r\n", 2) : NULL))
        if (fill(c) != 0) return -1;
      long n = strtol(c->buf, NULL, 16);
      consume(c, (size_t)(eol - c->buf) + 2);
      while (c->len < (size_t)n + 2)
        if (fill(c) != 0) return -1;
      body_append(c, c->buf, (size_t)n);
      consume(c, (size_t)n + 2);
      if (n == 0) break; /* no trailers expected */
    }
  } else if (clen > 0) {
    while (c->len < (size_t)clen)
      if (fill(c) != 0) return -1;
    body_append(c, c->buf, (size_t)clen);
    consume(c, (size_t)clen);
  } else if (clen < 0) {
    close_after = 1; /* read to EOF */
    while (fill(c) == 0) {}
    body_append(c, c->buf, c->len);
    c->len = 0;
  }
  if (close_after) conn_close(c);
  return 0;
}

/* The time the next request is due (open loop: set by more() to the iteration's due time for
 * its first request, then by request() to each answer's arrival); 0: when it is sent. */
static _Thread_local double tl_due;
static _Thread_local double tl_iter_due; /* open loop: the running iteration's due time */

/* Sends one request and reads its answer; returns the status (or -1) and records the
 * latency in l, from tl_due when set. Reconnects once when a kept-alive connection turns out
 * closed. */
static int request(conn_t *c, lat_t *l, const char *method, const char *path, const char *token,
                   const char *extra_headers, const char *body, size_t body_len) {
  char head[4096];
  int hn = snprintf(head, sizeof head,
                    "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s%s%s%s"
                    "Content-Length: %zu\r\n\r\n",
                    method, path, c->port, token ? "Authorization: Bearer " : "",
                    token ? token : "", token ? "\r\n" : "", extra_headers ? extra_headers : "",
                    body_len);
  if (hn <= 0 || (size_t)hn >= sizeof head) die("request head too long");
  for (int attempt = 0; attempt < 2; attempt++) {
    if (c->fd < 0 && conn_open(c) != 0) return -1;
    double t0 = tl_due > 0 ? tl_due : now_s();
    int fresh = c->len == 0;
    if (send_all(c->fd, head, (size_t)hn) != 0 ||
        (body_len && send_all(c->fd, body, body_len) != 0) || read_response(c, 0) != 0) {
      conn_close(c);
      if (attempt == 0 && fresh) continue; /* stale keep-alive connection */
      return -1;
    }
    double t1 = now_s();
    if (l) lat_add(l, t1 - t0);
    if (tl_due > 0) tl_due = t1; /* the next request of the iteration is due now */
    return c->status;
  }
  return -1;
}

static void error_note(conn_t *c, const char *what, int status) {
  atomic_fetch_add(&g_errors, 1);
  if (atomic_fetch_add(&g_err_printed, 1) < 5)
    fprintf(stderr, "loadgen: %s: status %d %.300s\n", what, status,
            status > 0 && c->body ? c->body : "(no answer)");
}

/* Copies the string value following `key` (e.g. "\"id\":\"") into out; 0 when found. */
static int json_str(const char *body, const char *key, char *out, size_t outsz) {
  const char *p = body ? strstr(body, key) : NULL;
  if (!p) return -1;
  p += strlen(key);
  size_t n = strcspn(p, "\"");
  if (n >= outsz) return -1;
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
}

/* uploadUrl is absolute (--public-url); keep the path and query, unescaping "\/". */
static int url_path(const char *url, char *out, size_t outsz) {
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : url;
  if (!p) return -1;
  size_t o = 0;
  for (; *p && o + 1 < outsz; p++) {
    if (p[0] == '\\' && p[1] == '/') p++;
    if (p[0] == '\\' && p[1] == 'u' && !strncmp(p, "\\u0026", 6)) {
      out[o++] = '&';
      p += 5;
      continue;
    }
    out[o++] = *p;
  }
  out[o] = '\0';
  return 0;
}

/* Open loop: sleeps until the next iteration this thread takes is due; 0 when no
 * iteration is left (its due time is past the deadline). */
static int open_loop_next(void) {
  long i = atomic_fetch_add(&g_started, 1);
  if (opt.count > 0 && i >= opt.count) return 0;
  double due = g_t0 + (double)i / opt.rate;
  if (due >= g_deadline) return 0;
  double now = now_s();
  if (due > now) {
    struct timespec ts = {.tv_sec = (time_t)due, .tv_nsec = (long)((due - (double)(time_t)due) * 1e9)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
  } else if (now - due > 1e-3) {
    atomic_fetch_add(&g_late, 1);
  }
  tl_due = tl_iter_due = due;
  return 1;
}

/* Whether the calling connection starts another iteration (open loop: at its due time). */
static int more(void) {
  if (opt.rate > 0) return open_loop_next();
  if (opt.count > 0) return atomic_fetch_add(&g_started, 1) < opt.count;
  return now_s() < g_deadline;
}

typedef struct {
  pthread_t th;
  int       port; /* the server of this connection */
  lat_t     lat[OP_N];
} worker_t;

/* Open loop: the iteration that just succeeded, timed from its due time. */
static void iter_done(worker_t *w) {
  if (opt.rate > 0) lat_add(&w->lat[OP_ITER], now_s() - tl_iter_due);
  atomic_fetch_add(&g_done, 1);
}

static const char JSON_CT[] = "Content-Type: application/json\r\n";

static void *lifecycle(void *arg) {
  worker_t *w = arg;
  conn_t c = {.fd = -1, .port = w->port};
  char path[512], id[32];
  while (more()) {
    snprintf(path, sizeof path, "/v1.0/print/shares/%s/jobs", opt.share);
    int st = request(&c, &w->lat[OP_CREATE], "POST", path, opt.user_tok, JSON_CT, "{}", 2);
    if (st != 201 || json_str(c.body, "\"id\":\"", id, sizeof id)) {
      error_note(&c, "create", st);
      continue;
    }
    snprintf(path, sizeof path, "/v1.0/print/shares/%s/jobs/%s/cancel", opt.share, id);
    st = request(&c, &w->lat[OP_CANCEL], "POST", path, opt.user_tok, NULL, NULL, 0);
    if (st != 204) {
      error_note(&c, "cancel", st);
      continue;
    }
    iter_done(w);
  }
  conn_close(&c);
  return NULL;
}

/* http: a lifecycle iteration's two round trips, without spoold (GET --path twice). */
static void *http_pair(void *arg) {
  worker_t *w = arg;
  conn_t c = {.fd = -1, .port = w->port};
  while (more()) {
    int st = request(&c, &w->lat[OP_GET], "GET", opt.path, opt.user_tok, NULL, NULL, 0);
    if (st != 200) {
      error_note(&c, "GET", st);
      continue;
    }
    st = request(&c, &w->lat[OP_GET], "GET", opt.path, opt.user_tok, NULL, NULL, 0);
    if (st != 200) {
      error_note(&c, "GET", st);
      continue;
    }
    iter_done(w);
  }
  conn_close(&c);
  return NULL;
}

static void *pull(void *arg) {
  worker_t *w = arg;
  conn_t c = {.fd = -1, .port = w->port};
  char path[1024], id[32], doc[64], url[1024], upath[1024], range[128];
  const size_t doc_size = 4096;
  while (more()) {
    snprintf(path, sizeof path, "/v1.0/print/shares/%s/jobs", opt.share);
    int st = request(&c, &w->lat[OP_CREATE], "POST", path, opt.user_tok, JSON_CT, "{}", 2);
    if (st != 201 || json_str(c.body, "\"id\":\"", id, sizeof id) ||
        json_str(c.body, "\"documents\":[{\"id\":\"", doc, sizeof doc)) {
      error_note(&c, "create", st);
      continue;
    }
    char body[256];
    int bn = snprintf(body, sizeof body,
                      "{\"properties\":{\"documentName\":\"bench.pdf\",\"contentType\":"
                      "\"application/pdf\",\"size\":%zu}}", doc_size);
    snprintf(path, sizeof path, "/v1.0/print/shares/%s/jobs/%s/documents/%s/createUploadSession",
             opt.share, id, doc);
    st = request(&c, &w->lat[OP_SESSION], "POST", path, opt.user_tok, JSON_CT, body, (size_t)bn);
    if (st != 200 || json_str(c.body, "\"uploadUrl\":\"", url, sizeof url) ||
        url_path(url, upath, sizeof upath)) {
      error_note(&c, "createUploadSession", st);
      continue;
    }
    snprintf(range, sizeof range,
             "Content-Type: application/octet-stream\r\nContent-Range: bytes 0-%zu/%zu\r\n",
             doc_size - 1, doc_size);
    st = request(&c, &w->lat[OP_PUT], "PUT", upath, NULL, range, g_payload, doc_size);
    if (st != 201) {
      error_note(&c, "PUT fragment", st);
      continue;
    }
    snprintf(path, sizeof path, "/v1.0/print/shares/%s/jobs/%s/start", opt.share, id);
    st = request(&c, &w->lat[OP_START], "POST", path, opt.user_tok, NULL, NULL, 0);
    if (st != 200 || !c.body || !strstr(c.body, "\"paused\"")) {
      error_note(&c, "start (expected a held job)", st);
      continue;
    }
    snprintf(path, sizeof path, "/v1.0/print/printers/%s/jobs/%s/abort", opt.printer, id);
    st = request(&c, &w->lat[OP_ABORT], "POST", path, opt.app_tok, JSON_CT,
                 "{\"reason\":\"bench\"}", 18);
    if (st != 204) {
      error_note(&c, "abort", st);
      continue;
    }
    iter_done(w);
  }
  conn_close(&c);
  return NULL;
}

static void *upload_worker(void *arg) {
  worker_t *w = arg;
  conn_t c = {.fd = -1, .port = w->port};
  uint64_t nfrag = (opt.size + opt.fragment - 1) / opt.fragment;
  char range[160];
  for (;;) {
    uint64_t i = atomic_fetch_add(&g_next_fragment, 1);
    if (i >= nfrag) break;
    uint64_t first = i * opt.fragment;
    uint64_t len = opt.size - first < opt.fragment ? opt.size - first : opt.fragment;
    snprintf(range, sizeof range,
             "Content-Type: application/octet-stream\r\nContent-Range: bytes %llu-%llu/%llu\r\n",
             (unsigned long long)first, (unsigned long long)(first + len - 1),
             (unsigned long long)opt.size);
    int st = request(&c, &w->lat[OP_PUT], "PUT", g_upload_path, NULL, range, g_payload, len);
    if (st == 201) atomic_store(&g_created, 1);
    else if (st != 202) error_note(&c, "PUT fragment", st);
    atomic_fetch_add(&g_done, 1);
  }
  conn_close(&c);
  return NULL;
}

static double cpu_self_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static void report(worker_t *w, int nw, double secs, double cpu) {
  long done = atomic_load(&g_done);
  printf("mode=%s servers=%d conns=%d secs=%.3f iters=%ld iters_per_s=%.1f errors=%ld", opt.mode, opt.nports,
         opt.conns, secs, done, done / secs, atomic_load(&g_errors));
  if (opt.rate > 0) printf(" rate=%.1f late=%ld", opt.rate, atomic_load(&g_late));
  for (int op = 0; op < OP_N; op++) {
    lat_t all = {0};
    for (int i = 0; i < nw; i++)
      for (size_t k = 0; k < w[i].lat[op].n; k++) lat_add(&all, w[i].lat[op].us[k] / 1e6);
    if (!all.n) continue;
    qsort(all.us, all.n, sizeof *all.us, cmp_u32);
    size_t i50 = (all.n - 1) * 50 / 100, i99 = (all.n - 1) * 99 / 100;
    printf(" %s_n=%zu %s_p50_ms=%.3f %s_p99_ms=%.3f %s_max_ms=%.3f", OP_NAME[op], all.n,
           OP_NAME[op], all.us[i50] / 1e3, OP_NAME[op], all.us[i99] / 1e3, OP_NAME[op],
           all.us[all.n - 1] / 1e3);
    free(all.us);
  }
  if (!strcmp(opt.mode, "upload"))
    printf(" bytes=%llu mb_per_s=%.1f complete=%d", (unsigned long long)opt.size,
           opt.size / secs / 1e6, atomic_load(&g_created));
  printf(" cpu_us_per_iter=%.1f\n", done ? cpu / (double)done * 1e6 : 0.0);
}

/* Upload mode, before the clock starts: a job and its upload session of opt.size bytes. */
static void upload_prepare(void) {
  conn_t c = {.fd = -1, .port = opt.ports[0]};
  char path[1024], id[32], doc[64], url[1024], body[256];
  snprintf(path, sizeof path, "/v1.0/print/shares/%s/jobs", opt.share);
  int st = request(&c, NULL, "POST", path, opt.user_tok, JSON_CT, "{}", 2);
  if (st != 201 || json_str(c.body, "\"id\":\"", id, sizeof id) ||
      json_str(c.body, "\"documents\":[{\"id\":\"", doc, sizeof doc))
    die("upload: job create answered %d %.300s", st, c.body ? c.body : "");
  int bn = snprintf(body, sizeof body,
                    "{\"properties\":{\"documentName\":\"big.pdf\",\"contentType\":"
                    "\"application/pdf\",\"size\":%llu}}", (unsigned long long)opt.size);
  snprintf(path, sizeof path, "/v1.0/print/shares/%s/jobs/%s/documents/%s/createUploadSession",
           opt.share, id, doc);
  st = request(&c, NULL, "POST", path, opt.user_tok, JSON_CT, body, (size_t)bn);
  if (st != 200 || json_str(c.body, "\"uploadUrl\":\"", url, sizeof url) ||
      url_path(url, g_upload_path, sizeof g_upload_path))
    die("upload: createUploadSession answered %d %.300s", st, c.body ? c.body : "");
  conn_close(&c);
  free(c.buf);
  free(c.body);
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: loadgen lifecycle|pull|upload|http --port N --user-token FILE ...");
  opt.mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) die("%s needs a value", a);
    i++;
    if (!strcmp(a, "--port")) {
      opt.nports = 0;
      for (const char *p = v; *p;) {
        char *end;
        long n = strtol(p, &end, 10);
        if (end == p || n < 1 || n > 65535 || opt.nports == MAX_PORTS || (*end && *end != ','))
          die("--port takes up to %d port numbers separated by commas, not %s", MAX_PORTS, v);
        opt.ports[opt.nports++] = (int)n;
        p = *end ? end + 1 : end;
      }
      if (!opt.nports) die("--port needs a port number");
    }
    else if (!strcmp(a, "--user-token")) opt.user_tok = read_token(v);
    else if (!strcmp(a, "--app-token")) opt.app_tok = read_token(v);
    else if (!strcmp(a, "--share")) opt.share = v;
    else if (!strcmp(a, "--printer")) opt.printer = v;
    else if (!strcmp(a, "--path")) opt.path = v;
    else if (!strcmp(a, "--conns")) opt.conns = atoi(v);
    else if (!strcmp(a, "--duration")) opt.duration = atof(v);
    else if (!strcmp(a, "--count")) opt.count = atol(v);
    else if (!strcmp(a, "--rate")) opt.rate = atof(v);
    else if (!strcmp(a, "--size")) opt.size = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--fragment")) opt.fragment = strtoull(v, NULL, 10);
    else die("unknown option %s", a);
  }
  if (opt.conns < 1 || opt.conns > 1024) die("--conns must be 1..1024");
  void *(*fn)(void *);
  if (!strcmp(opt.mode, "lifecycle")) fn = lifecycle;
  else if (!strcmp(opt.mode, "pull")) fn = pull;
  else if (!strcmp(opt.mode, "upload")) fn = upload_worker;
  else if (!strcmp(opt.mode, "http")) fn = http_pair;
  else die("unknown mode %s", opt.mode);
  if (!opt.user_tok) die("--user-token is required");
  if (fn == http_pair ? !opt.path : !opt.share) die(fn == http_pair ? "http needs --path" : "--share is required");
  if (opt.rate < 0 || (opt.rate > 0 && fn == upload_worker))
    die("--rate must be positive, and upload has no open-loop mode");
  if (fn == pull && (!opt.app_tok || !opt.printer)) die("pull needs --app-token and --printer");

  size_t plen = fn == upload_worker ? opt.fragment : 4096;
  g_payload = malloc(plen);
  if (!g_payload) die("out of memory");
  for (size_t i = 0; i < plen; i++) g_payload[i] = (char)('A' + i % 23);
  if (fn == upload_worker) upload_prepare();

  worker_t *w = calloc((size_t)opt.conns, sizeof *w);
  double t0 = now_s(), cpu0 = cpu_self_s();
  g_t0 = t0 + 0.01; /* the first due time, once the threads run */
  g_deadline = g_t0 + opt.duration;
  for (int i = 0; i < opt.conns; i++) w[i].port = opt.ports[i % opt.nports];
  for (int i = 0; i < opt.conns; i++)
    if (pthread_create(&w[i].th, NULL, fn, &w[i]) != 0) die("pthread_create failed");
  for (int i = 0; i < opt.conns; i++) pthread_join(w[i].th, NULL);
  double secs = now_s() - t0;
  report(w, opt.conns, secs, cpu_self_s() - cpu0);
  if (fn == upload_worker && !atomic_load(&g_created)) die("upload: no fragment got the final 201");
  return atomic_load(&g_errors) ? 3 : 0;
}
