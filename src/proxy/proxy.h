/* SPDX-License-Identifier: Apache-2.0 */
/* `spoold proxy` (src/proxy/): connects existing printers to spoold over IPP INFRA. */
#ifndef SPOOLD_PROXY_PROXY_H
#define SPOOLD_PROXY_PROXY_H

/* Runs the proxy; argv[0] is "proxy". Returns the exit status: 0 after SIGTERM/SIGINT, 1 when
 * a printer could not be set up, 2 for a usage error. */
int proxy_command(int argc, char **argv);

#endif
