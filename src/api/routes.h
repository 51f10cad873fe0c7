#pragma once
// The api-gateway's route table: the one place every route is declared (method, pattern, handler,
// flags, description). The CLI builds it once and hands it to the Server; tests and the OpenAPI
// generator iterate it. Later features add their routes to BaseRoutes' table.
#include <chrono>
#include <vector>

#include "api/events_handler.h"
#include "api/router.h"

namespace auri {
class MetricsRegistry;
}

namespace auri::api {

class DependencyProbe;

// What the gateway's handlers need. Pointers are not owned and must outlive the routes (and so the
// Server that runs them).
struct GatewayDeps {
  const DependencyProbe* probe = nullptr;    // for /health
  const MetricsRegistry* metrics = nullptr;  // for /metrics
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
  // POST /api/v1/events; the route is registered only when ingest.store is set (then
  // ingest.token_valid must be set too).
  IngestDeps ingest;
};

// The gateway's routes: GET /health, GET /api/v1/health, GET /metrics, and POST /api/v1/events
// when deps.ingest.store is set.
// REQUIRES: deps.probe and deps.metrics are set.
std::vector<Route> BaseRoutes(const GatewayDeps& deps);

}  // namespace auri::api
