/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The administrator console: static files compiled into the binary (console/assets.h), served
 * at / and /console/..., and /console/config.json telling the page how to sign in. The page is
 * a client of the Graph API of this same server and has no API of its own.
 */
#ifndef SPOOLD_CONSOLE_CONSOLE_H
#define SPOOLD_CONSOLE_CONSOLE_H

/* Registers the console's routes. */
void console_routes_register(void);

#endif
