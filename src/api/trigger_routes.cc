// Routes of triggers, conditions, actions, circuit breakers and the event query API (spec
// 10-api.md, "Triggers", "Events").
#include "api/routes.h"

namespace auri::api {

std::vector<Route> TriggerRoutes(const GatewayDeps& deps) { return {}; }

}  // namespace auri::api
