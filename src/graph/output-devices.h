/* SPDX-License-Identifier: Apache-2.0 */
/* GET /spoold/v1/printers/{id}/outputDevices (graph/output-devices.c). */
#ifndef SPOOLD_GRAPH_OUTPUT_DEVICES_H
#define SPOOLD_GRAPH_OUTPUT_DEVICES_H

/* Registers the route of the list (an extension route, ROUTE_EXT). */
void graph_output_devices_routes(void);

#endif
