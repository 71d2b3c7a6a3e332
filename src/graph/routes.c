/* The Graph surface: one route table per resource file. */
#include "graph/routes.h"

void graph_routes_register(void) { graph_print_routes(); }
