/* SPDX-License-Identifier: Apache-2.0 */
/* The Graph surface: one route table per resource file. */
#include "graph/routes.h"
#include "graph/dev-token.h"
#include "graph/output-devices.h"
#include "graph/subscription-delivery.h"

void graph_routes_register(void) {
  graph_metadata_routes();
  graph_print_routes();
  graph_pullprint_routes(); /* before jobs: .../jobs/release is not a job id */
  graph_jobs_routes();
  graph_documents_routes();
  graph_shares_routes();
  graph_share_members_routes();
  graph_subscription_routes();
  graph_tasks_routes();
  graph_printers_routes();
  graph_operations_routes();
  graph_pull_printers_routes();
  graph_connectors_routes();
  graph_services_routes();
  graph_reports_routes();
}

/* The /spoold/v1 extension: add each extension resource's table here (ROUTE_EXT routes). */
void graph_ext_routes_register(bool dev) {
  graph_subscription_delivery_routes();
  graph_output_devices_routes();
  graph_print_passwords_routes();
  if (dev) graph_dev_token_routes(); /* development-only tables */
}
