/* Registers every Graph route table (one per resource file) with the router. */
#ifndef SPOOLD_GRAPH_ROUTES_H
#define SPOOLD_GRAPH_ROUTES_H

void graph_routes_register(void);

/* Route tables of the resource files. */
void graph_print_routes(void);

#endif
