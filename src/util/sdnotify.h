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

#endif
