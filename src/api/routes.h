#pragma once
// The api-gateway's route table: the one place every route is declared (method, pattern, handler,
// flags, description). The CLI builds it once and hands it to the Server; tests and the OpenAPI
// generator iterate it. Later features add their routes to BaseRoutes' table.
#include <chrono>
#include <vector>

#include "api/events_handler.h"
#include "api/router.h"

namespace auri {
class Clock;
class ConnectionPool;
class JwtKeyRingCache;
class Logger;
class MetricsRegistry;
struct Config;
}  // namespace auri

namespace auri::api {

class Authenticator;
class DependencyProbe;
class MemberRoleCache;
class TriggerCache;

// What the gateway's handlers need. Pointers are not owned and must outlive the routes (and so the
// Server that runs them).
struct GatewayDeps {
  const DependencyProbe* probe = nullptr;    // for /health
  const MetricsRegistry* metrics = nullptr;  // for /metrics
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
  // POST /api/v1/events; the route is registered only when ingest.store is set (then
  // ingest.token_valid must be set too).
  IngestDeps ingest;

  // The account, organization, trigger and event-query routes are registered when `pool` is set;
  // then every pointer below must be set too.
  ConnectionPool* pool = nullptr;
  Authenticator* authenticator = nullptr;  // to Forget() revoked/rotated keys
  // Membership roles for the organization checks (api/access.h); member and organization
  // handlers call ForgetOrganization after changing them.
  MemberRoleCache* member_roles = nullptr;
  // Optional: answers of GET /api/v1/triggers/{id} (api/trigger_cache.h); the trigger handlers
  // forget a trigger after writing it, and deleting an organization forgets all. Null = no cache.
  TriggerCache* trigger_cache = nullptr;
  JwtKeyRingCache* jwt = nullptr;  // signs access tokens
  const Config* config = nullptr;
  const Clock* clock = nullptr;
  const Logger* logger = nullptr;
};

// /api/v1/auth/*, /api/v1/organizations/*, /api/v1/api-keys/* (account_routes.cc).
std::vector<Route> AccountRoutes(const GatewayDeps& deps);
// /api/v1/triggers/* and GET /api/v1/events (trigger_routes.cc).
std::vector<Route> TriggerRoutes(const GatewayDeps& deps);

// The gateway's routes: GET /health, GET /api/v1/health, GET /metrics, POST /api/v1/events when
// deps.ingest.store is set, and AccountRoutes + TriggerRoutes when deps.pool is set.
// REQUIRES: deps.probe and deps.metrics are set.
std::vector<Route> BaseRoutes(const GatewayDeps& deps);

}  // namespace auri::api
