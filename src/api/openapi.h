#pragma once
// The OpenAPI 3 document of the api-gateway, generated from the route table (router.h), so it
// cannot drift from the routes: a route appears in the document exactly when it is in the table,
// with its description as the summary, its {params} as path parameters, and a security
// requirement when it is authenticated. A test fails when a route has no description.
#include <string>
#include <string_view>
#include <vector>

#include "api/router.h"

namespace auri::api {

// The document as JSON text. `routes` in table order; `version` is info.version.
std::string OpenApiDocument(const std::vector<Route>& routes, std::string_view version);

}  // namespace auri::api
