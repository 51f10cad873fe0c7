// Routes of users, sessions, organizations, members and API keys (spec 10-api.md,
// "Authentication", "Organizations and roles").
#include "api/routes.h"

namespace auri::api {

std::vector<Route> AccountRoutes(const GatewayDeps& deps) { return {}; }

}  // namespace auri::api
