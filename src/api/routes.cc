#include "api/routes.h"

#include <memory>

#include "api/health.h"
#include "api/openapi.h"
#include "common/version.h"

namespace auri::api {

std::vector<Route> BaseRoutes(const GatewayDeps& deps) {
  const DependencyProbe* probe = deps.probe;
  const MetricsRegistry* metrics = deps.metrics;
  auto started_at = deps.started_at;
  auto health = [probe, started_at](const HttpRequest&) {
    return HealthResponse(*probe, started_at);
  };
  std::vector<Route> routes = {
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
  if (deps.ingest.store) {
    routes.push_back(
        {.method = "POST",
         .pattern = "/api/v1/events",
         .handler =
             [ingest = deps.ingest](const HttpRequest& r) { return HandleIngestEvents(ingest, r); },
         .authenticated = true,
         .rate_limited = true,
         .description = "Ingest one event or {\"events\": [...]} (ingest token or write key)."});
  }
  if (deps.pool) {
    for (std::vector<Route> more : {AccountRoutes(deps), TriggerRoutes(deps)}) {
      for (Route& route : more) routes.push_back(std::move(route));
    }
  }
  // Last, so it describes every route above (and itself).
  auto spec = std::make_shared<std::string>();
  routes.push_back({.method = "GET",
                    .pattern = "/api/v1/openapi.json",
                    .handler = [spec](const HttpRequest&) { return JsonResponse(200, *spec); },
                    .description = "The OpenAPI 3 document of every route (generated)."});
  *spec = OpenApiDocument(routes, kVersion);
  return routes;
}

}  // namespace auri::api
