/* SPDX-License-Identifier: Apache-2.0 */
/*
 * systemd's service notification protocol (sd_notify(3)), spoken directly: a datagram of
 * "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract
 * name when it starts with '@'). Without $NOTIFY_SOCKET every call does nothing, so spoold
 * behaves the same outside systemd.
 */
#ifndef SPOOLD_UTIL_SDNOTIFY_H
#define SPOOLD_UTIL_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Sends state (e.g. "READY=1\nSTATUS=serving") to the service manager. Returns 1 when it was
 * sent, 0 when there is no $NOTIFY_SOCKET, -1 on a send error (errno set). */
int     sdnotify_send(const char *state);
/* The watchdog interval systemd asked for ($WATCHDOG_USEC, when $WATCHDOG_PID is unset or is
 * this process) in microseconds; 0 when there is no watchdog. */
int64_t sdnotify_watchdog_usec(void);

/* Keeps the service manager's start timeout from running out during a long start-up step:
 * sends "EXTEND_TIMEOUT_USEC" (60 s) with "STATUS=<status>" at once and every 20 s from a thread
 * of its own until sdnotify_extend_end(). Returns the handle to end, or NULL when there is no
 * $NOTIFY_SOCKET (nothing to keep) or the thread cannot start; status is copied. */
typedef struct sdnotify_extend sdnotify_extend_t;
sdnotify_extend_t *sdnotify_extend_begin(const char *status);
/* Stops and frees what sdnotify_extend_begin() started; NULL does nothing. */
void               sdnotify_extend_end(sdnotify_extend_t *e);

#endif
