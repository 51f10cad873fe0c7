// The full-gateway fixture works: a seeded user's token authenticates, and the routes that need
// credentials refuse a request without them.
#include "tests/integration/api/api_fixture.h"

namespace auri::api::test {
namespace {

class ApiFixtureTest : public ApiFixture {};

TEST_F(ApiFixtureTest, IngestTokenIsAcceptedOnEventsRoute) {
  ApiResponse r = Call("POST", "/api/v1/events", R"({"events": []})",
                       "Authorization: Bearer " + ingest_token_ + "\r\n");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.json["accepted"], 0);
}

TEST_F(ApiFixtureTest, SeededUserTokenIsNotAnIngestCredential) {
  SeededUser alice = SeedUser("alice");
  ApiResponse r = CallAs(alice, "POST", "/api/v1/events", R"({"events": []})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.json["error"], "forbidden");
}

TEST_F(ApiFixtureTest, GarbageBearerTokenIsInvalidToken) {
  ApiResponse r = Call("POST", "/api/v1/events", "{}", "Authorization: Bearer not-a-jwt\r\n");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.json["error"], "invalid_token");
}

}  // namespace
}  // namespace auri::api::test
