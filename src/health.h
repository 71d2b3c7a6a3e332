/* SPDX-License-Identifier: Apache-2.0 */
/* Operational endpoints outside the Graph API: /healthz, /readyz, /metrics, and in
 * development mode /debug/sleep. */
#ifndef SPOOLD_HEALTH_H
#define SPOOLD_HEALTH_H

#include <stdbool.h>

/* Registers the routes; dev adds the debug routes. */
void health_register(bool dev);

#endif
