/* SPDX-License-Identifier: Apache-2.0 */
/* sd_notify(3) over the documented datagram protocol, without libsystemd. */
#include "util/sdnotify.h"

#include <errno.h>
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
