#include "api/routes.h"

#include "api/health.h"

namespace auri::api {

std::vector<Route> BaseRoutes(const GatewayDeps& deps) {
  const DependencyProbe* probe = deps.probe;
  const MetricsRegistry* metrics = deps.metrics;
  auto started_at = deps.started_at;
  auto health = [probe, started_at](const HttpRequest&) {
    return HealthResponse(*probe, started_at);
  };
  return {
      {.method = "GET",
       .pattern = "/health",
       .handler = health,
       .probe = true,
       .description = "Health of the gateway and its database and Redis (cached probe)."},
      {.method = "GET",
       .pattern = "/api/v1/health",
       .handler = health,
       .probe = true,
       .description = "Same as /health, under the API prefix."},
      {.method = "GET",
       .pattern = "/metrics",
       .handler = [metrics](const HttpRequest&) { return MetricsResponse(*metrics); },
       .probe = true,
       .description = "Prometheus metrics in the text exposition format."},
  };
}

}  // namespace auri::api
