// Bad input on every account route with a body: malformed JSON, non-objects, wrong types,
// missing fields, oversize strings, unknown enum values, huge numbers and invalid UTF-8 all get a
// 4xx JSON error naming the problem, never a 500 (spec 50-quality-bars.md, "Security").
#include "tests/integration/api/accounts_fixture.h"

namespace auri::api::test {
namespace {

class AccountBadInputTest : public AccountsFixture {};

TEST_F(AccountBadInputTest, EveryBodyRouteAnswersBadBodiesWith400) {
  SeededUser u = SeedUser("owner");
  SeededUser other = SeedUser("other");
  SeedMember(u.org_id, other.id, "member");
  auto [key_id, key] = CreateKey(u.token, u.org_id, {{"name", "k"}});
  std::string org = "/api/v1/organizations/" + u.org_id;
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/api/v1/auth/register"},
      {"POST", "/api/v1/auth/login"},
      {"POST", "/api/v1/auth/refresh"},
      {"POST", "/api/v1/auth/logout"},
      {"POST", "/api/v1/organizations"},
      {"PUT", org},
      {"POST", org + "/transfer"},
      {"POST", org + "/members"},
      {"PUT", org + "/members/" + other.id},
      {"POST", org + "/api-keys"},
      {"PATCH", "/api/v1/api-keys/" + key_id},
      {"DELETE", "/api/v1/api-keys/" + key_id},
  };
  const std::string big(100000, 'a');  // 9 fields stay under the 1 MiB body limit
  const std::vector<std::string> bodies = {
      "{",                                                              // malformed
      "[1, 2]",                                                         // not an object
      "\"text\"",                                                       // not an object
      "{\"name\": \"\xff\xfe\"}",                                       // invalid UTF-8
      R"({"username": 5, "email": [], "password": {}, "username_or_email": true,
          "refresh_token": 1, "name": 7, "slug": false, "description": 3, "new_owner_id": 1,
          "user_id": 2, "role": 3, "permissions": "read", "environment": 1,
          "rate_limit_override": "x", "expires_at": 5, "reason": 9})",  // wrong types
      R"({"name": ")" + big + R"(", "username": ")" + big + R"(", "password": ")" + big +
          R"(", "refresh_token": ")" + big + R"(", "reason": ")" + big + R"(",
          "new_owner_id": ")" +
          big + R"(", "role": ")" + big + R"(", "slug": ")" + big + R"(", "username_or_email": ")" +
          big + R"("})",  // oversize strings
      R"({"role": "superuser", "environment": "prod", "permissions": ["root"],
          "refresh_token": 0, "reason": 0, "slug": "Bad Slug",
          "name": "n", "new_owner_id": "not-a-uuid", "rate_limit_override": 1e400})",
      R"({"rate_limit_override": 99999999999999999999999, "name": "n",
          "refresh_token": 0, "reason": 0, "slug": "-bad-",
          "expires_at": "tomorrow", "permissions": [], "role": "owner"})",
  };
  for (const auto& [method, path] : routes) {
    for (size_t i = 0; i < bodies.size(); ++i) {
      ApiResponse r = CallUser(u.token, method, path, bodies[i]);
      EXPECT_EQ(r.status, 400) << method << " " << path << " body #" << i << ": "
                               << r.body.substr(0, 300);
      std::string code = r.json.is_object() ? r.json.value("error", "") : "";
      EXPECT_TRUE(code == "bad_request" || code == "validation_error")
          << method << " " << path << " body #" << i << ": " << r.body.substr(0, 300);
      if (code == "validation_error") {
        EXPECT_FALSE(r.json["details"]["fields"].empty()) << method << " " << path << " #" << i;
      }
    }
    // Missing fields: {} is valid only where every field is optional.
    ApiResponse empty = CallUser(u.token, method, path, "{}");
    bool all_optional = path.find("/logout") != std::string::npos ||
                        (method == "DELETE" && path.find("/api-keys/") != std::string::npos);
    if (all_optional) {
      EXPECT_EQ(empty.status, 204) << method << " " << path << ": " << empty.body;
    } else {
      EXPECT_EQ(empty.status, 400) << method << " " << path << ": " << empty.body;
      EXPECT_EQ(empty.json["error"], "validation_error") << method << " " << path;
    }
    ApiResponse text =
        Call(method, path, "{}", BearerHeader(u.token) + "Content-Type: text/plain\r\n");
    EXPECT_EQ(text.status, 415) << method << " " << path << ": " << text.body;
  }
}

TEST_F(AccountBadInputTest, FieldDetailsNameTheBadField) {
  SeededUser u = SeedUser("owner");
  std::string keys = "/api/v1/organizations/" + u.org_id + "/api-keys";
  ApiResponse r = CallUser(u.token, "POST", keys,
                           R"({"name": "k", "environment": "prod", "permissions": ["read", "root"],
                               "rate_limit_override": 1e30, "expires_at": "2001-01-01T00:00:00Z"})");
  ASSERT_EQ(r.status, 400) << r.body;
  const nlohmann::json& fields = r.json["details"]["fields"];
  for (const char* f : {"environment", "permissions", "rate_limit_override", "expires_at"}) {
    EXPECT_TRUE(fields.contains(f)) << f << ": " << r.body;
  }
  EXPECT_FALSE(fields.contains("name")) << r.body;
  r = Call("POST", "/api/v1/auth/login", "{}");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(r.json["details"]["fields"].contains("username_or_email"));
  EXPECT_TRUE(r.json["details"]["fields"].contains("password"));
  EXPECT_EQ(QueryValue("SELECT count(*) FROM api_keys"), "0");
}

TEST_F(AccountBadInputTest, MalformedIdsInPathsAreNotFound) {
  SeededUser u = SeedUser("owner");
  const std::vector<std::string> paths = {"/api/v1/organizations/not-a-uuid",
                                          "/api/v1/organizations/%00", "/api/v1/api-keys/123",
                                          "/api/v1/organizations/" + u.org_id + "/members/xyz"};
  for (const std::string& path : paths) {
    ApiResponse r = CallUser(u.token, "DELETE", path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
  }
}

TEST_F(AccountBadInputTest, PaginationOutOfRangeIs400) {
  SeededUser u = SeedUser("owner");
  EXPECT_EQ(CallUser(u.token, "GET", "/api/v1/organizations?limit=0").status, 400);
  EXPECT_EQ(CallUser(u.token, "GET", "/api/v1/organizations?limit=101").status, 400);
  EXPECT_EQ(CallUser(u.token, "GET", "/api/v1/organizations?offset=-1").status, 400);
  EXPECT_EQ(CallUser(u.token, "GET", "/api/v1/organizations?limit=99999999999999999999").status,
            400);
}

}  // namespace
}  // namespace auri::api::test
