// GET /health over real sockets, with the dependency probe's answers flipped by the test.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/version.h"
#include "tests/integration/api/gateway_fixture.h"

namespace auri::api::test {
namespace {

class HealthEndpointTest : public GatewayFixture {
 protected:
  // Polls GET `path` until its "status" is `status` (the probe refreshes every 20 ms).
  std::optional<RawResponse> WaitForStatus(const std::string& path, const std::string& status) {
    std::optional<RawResponse> last;
    Eventually([&] {
      last = Fetch(Get(path));
      return last &&
             nlohmann::json::parse(last->body, nullptr, false).value("status", "") == status;
    });
    return last;
  }
};

TEST_F(HealthEndpointTest, HealthyWhenDatabaseAndRedisAnswer) {
  auto response = Fetch(Get("/health"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("content-type"), "application/json");
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["status"], "healthy");
  EXPECT_EQ(body["database"], "connected");
  EXPECT_EQ(body["redis"], "connected");
  EXPECT_EQ(body["version"], kVersion);
  EXPECT_TRUE(body["uptime_seconds"].is_number_integer());
  EXPECT_EQ(body.size(), 5u) << response->body;
}

TEST_F(HealthEndpointTest, DegradedButOkWhenRedisIsDown) {
  redis_up_ = false;
  auto response = WaitForStatus("/health", "degraded");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["status"], "degraded") << response->body;
  EXPECT_EQ(body["redis"], "disconnected");
  EXPECT_EQ(body["database"], "connected");
}

TEST_F(HealthEndpointTest, UnhealthyWith503AndRetryAfterWhenDatabaseIsDown) {
  database_up_ = false;
  auto response = WaitForStatus("/health", "unhealthy");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->Header("retry-after"), "5");
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["status"], "unhealthy") << response->body;
  EXPECT_EQ(body["database"], "disconnected");
}

TEST_F(HealthEndpointTest, RecoversWhenTheDatabaseComesBack) {
  database_up_ = false;
  ASSERT_TRUE(WaitForStatus("/health", "unhealthy"));
  database_up_ = true;
  auto response = WaitForStatus("/health", "healthy");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body)["status"], "healthy");
}

TEST_F(HealthEndpointTest, ApiV1HealthIsTheSameEndpoint) {
  redis_up_ = false;
  auto response = WaitForStatus("/api/v1/health", "degraded");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body)["status"], "degraded");
}

}  // namespace
}  // namespace auri::api::test
