/* SPDX-License-Identifier: Apache-2.0 */
/* The development token endpoint of the console's persona sign-in (graph/dev-token.c). */
#ifndef SPOOLD_GRAPH_DEV_TOKEN_H
#define SPOOLD_GRAPH_DEV_TOKEN_H

/* Registers POST /spoold/v1/dev/token; call only in --dev mode. */
void graph_dev_token_routes(void);

#endif
