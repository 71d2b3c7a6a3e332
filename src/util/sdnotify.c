/* SPDX-License-Identifier: Apache-2.0 */
/* sd_notify(3) over the documented datagram protocol, without libsystemd. */
#include "util/sdnotify.h"

#include "util/buf.h"
#include "util/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sdnotify_send(const char *state) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path || !*path) return 0;
  size_t plen = strlen(path);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sa.sun_path) {
    errno = EINVAL;
    return -1;
  }
  memcpy(sa.sun_path, path, plen);
  if (path[0] == '@') sa.sun_path[0] = '\0'; /* abstract namespace */
  socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
                                (path[0] == '/' ? 1 : 0));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  ssize_t n;
  do n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
  while (n < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  errno = saved;
  return n < 0 ? -1 : 1;
}

int64_t sdnotify_watchdog_usec(void) {
  const char *us = getenv("WATCHDOG_USEC");
  if (!us || !*us) return 0;
  const char *pid = getenv("WATCHDOG_PID");
  if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid()) return 0;
  char *end;
  long long v = strtoll(us, &end, 10);
  return (*end || v <= 0) ? 0 : (int64_t)v;
}

/* ---- start-up timeout extension ---------------------------------------------------------- */

#define SDNOTIFY_EXTEND_USEC    60000000 /* each message moves the start deadline to now + 60 s */
#define SDNOTIFY_EXTEND_EVERY_S 20       /* sent three times per extension: a late one is fine */

struct sdnotify_extend {
  pthread_t       th;
  pthread_mutex_t mu;
  pthread_cond_t  cv;
  bool            done;
  char           *msg;
};

static void *extend_loop(void *arg) {
  sdnotify_extend_t *e = arg;
  pthread_mutex_lock(&e->mu);
  while (!e->done) {
    sdnotify_send(e->msg);
    struct timespec until = time_deadline(CLOCK_MONOTONIC, SDNOTIFY_EXTEND_EVERY_S * 1000000LL);
    while (!e->done && pthread_cond_timedwait(&e->cv, &e->mu, &until) != ETIMEDOUT) {}
  }
  pthread_mutex_unlock(&e->mu);
  return NULL;
}

sdnotify_extend_t *sdnotify_extend_begin(const char *status) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path || !*path) return NULL;
  sdnotify_extend_t *e = xcalloc(1, sizeof *e);
  buf_t m = BUF_INIT;
  buf_printf(&m, "EXTEND_TIMEOUT_USEC=%d\nSTATUS=%s", SDNOTIFY_EXTEND_USEC, status);
  e->msg = buf_detach(&m);
  pthread_mutex_init(&e->mu, NULL);
  time_cond_init_monotonic(&e->cv);
  if (pthread_create(&e->th, NULL, extend_loop, e) != 0) {
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e->msg);
    free(e);
    return NULL;
  }
  return e;
}

void sdnotify_extend_end(sdnotify_extend_t *e) {
  if (!e) return;
  pthread_mutex_lock(&e->mu);
  e->done = true;
  pthread_cond_signal(&e->cv);
  pthread_mutex_unlock(&e->mu);
  pthread_join(e->th, NULL);
  pthread_mutex_destroy(&e->mu);
  pthread_cond_destroy(&e->cv);
  free(e->msg);
  free(e);
}
