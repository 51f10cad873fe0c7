// The OpenAPI document and the route table describe the same API: every route of the full table
// has a description and an operation, and every operation is a route. A route added without a
// description fails here.
#include <set>

#include "tests/integration/api/api_fixture.h"

namespace auri::api::test {
namespace {

class OpenApiSyncTest : public ApiFixture {};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_F(OpenApiSyncTest, EveryRouteHasADescriptionAndAnOperationAndViceVersa) {
  ApiResponse r = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.json.is_object());
  EXPECT_EQ(r.json["openapi"], "3.0.3");
  std::set<std::pair<std::string, std::string>> from_routes, from_doc;
  for (const Route& route : routes_) {
    EXPECT_FALSE(route.description.empty()) << route.method << " " << route.pattern;
    from_routes.insert({route.pattern, Lower(route.method)});
  }
  for (auto& [path, ops] : r.json["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      from_doc.insert({path, method});
      EXPECT_FALSE(op["summary"].get<std::string>().empty()) << method << " " << path;
    }
  }
  EXPECT_EQ(from_routes, from_doc);
  EXPECT_GT(from_routes.size(), 4u);
}

TEST_F(OpenApiSyncTest, AuthenticatedRoutesDeclareSecurityAndPathParameters) {
  ApiResponse r = Call("GET", "/api/v1/openapi.json");
  for (const Route& route : routes_) {
    const nlohmann::json& op = r.json["paths"][route.pattern][Lower(route.method)];
    EXPECT_EQ(op.contains("security"), route.authenticated) << route.pattern;
    size_t braces = std::count(route.pattern.begin(), route.pattern.end(), '{');
    size_t params = op.contains("parameters") ? op["parameters"].size() : 0;
    EXPECT_EQ(params, braces) << route.pattern;
  }
}

}  // namespace
}  // namespace auri::api::test
