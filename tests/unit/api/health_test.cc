#include "api/health.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "api/routes.h"
#include "common/metrics.h"
#include "common/version.h"

namespace auri::api {
namespace {

using std::chrono::milliseconds;

// Dependencies whose answers the test flips.
struct FakeDependencies {
  std::atomic<bool> database_up{true};
  std::atomic<bool> redis_up{true};
  std::atomic<int> database_pings{0};

  DependencyProbe::Ping Database() {
    return [this] {
      ++database_pings;
      return database_up ? Status::Ok() : Unavailable("database down");
    };
  }
  DependencyProbe::Ping Redis() {
    return [this] { return redis_up ? Status::Ok() : Unavailable("redis down"); };
  }
};

// Polls `condition` every 10 ms for at most `limit`.
template <typename F>
bool Eventually(F condition, milliseconds limit = milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return condition();
}

TEST(HealthProbeTest, ReportsBothDownBeforeStart) {
  FakeDependencies deps;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(20));
  DependencyProbe::State state = probe.Current();
  EXPECT_FALSE(state.database_ok);
  EXPECT_FALSE(state.redis_ok);
  EXPECT_EQ(deps.database_pings, 0);
}

TEST(HealthProbeTest, StartProbesOnceBeforeReturning) {
  FakeDependencies deps;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(10000));
  probe.Start();
  EXPECT_TRUE(probe.Current().database_ok);
  EXPECT_TRUE(probe.Current().redis_ok);
  EXPECT_EQ(deps.database_pings, 1);
}

TEST(HealthProbeTest, FollowsDependencyChangesWithinTheRefreshInterval) {
  FakeDependencies deps;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(20));
  probe.Start();
  deps.redis_up = false;
  EXPECT_TRUE(Eventually([&] { return !probe.Current().redis_ok; }));
  EXPECT_TRUE(probe.Current().database_ok);
  deps.database_up = false;
  EXPECT_TRUE(Eventually([&] { return !probe.Current().database_ok; }));
  deps.database_up = true;
  deps.redis_up = true;
  EXPECT_TRUE(Eventually([&] { return probe.Current().database_ok && probe.Current().redis_ok; }));
}

TEST(HealthProbeTest, ReadingTheStateNeverPings) {
  FakeDependencies deps;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(10000));
  probe.Start();
  for (int i = 0; i < 1000; ++i) (void)probe.Current();
  EXPECT_EQ(deps.database_pings, 1);
}

TEST(HealthProbeTest, ThrowingPingCountsAsDown) {
  DependencyProbe probe([]() -> Status { throw std::runtime_error("driver exploded"); },
                        [] { return Status::Ok(); }, milliseconds(20));
  probe.Start();
  EXPECT_FALSE(probe.Current().database_ok);
  EXPECT_TRUE(probe.Current().redis_ok);
}

TEST(HealthProbeTest, StopJoinsAndIsIdempotent) {
  FakeDependencies deps;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(5));
  probe.Start();
  probe.Stop();
  int pings = deps.database_pings;
  std::this_thread::sleep_for(milliseconds(30));  // would have pinged ~6 more times if running
  EXPECT_EQ(deps.database_pings, pings);
  probe.Stop();
}

nlohmann::json Body(const HttpResponse& response) { return nlohmann::json::parse(response.body); }

TEST(HealthResponseTest, HealthyWhenBothAnswer) {
  FakeDependencies deps;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(20));
  probe.Start();
  HttpResponse response =
      HealthResponse(probe, std::chrono::steady_clock::now() - std::chrono::seconds(7));
  EXPECT_EQ(response.status, 200);
  nlohmann::json body = Body(response);
  EXPECT_EQ(body, nlohmann::json({{"status", "healthy"},
                                  {"database", "connected"},
                                  {"redis", "connected"},
                                  {"version", kVersion},
                                  {"uptime_seconds", 7}}));
  EXPECT_FALSE(response.headers.Has("Retry-After"));
}

TEST(HealthResponseTest, DegradedButOkWhenRedisIsDown) {
  FakeDependencies deps;
  deps.redis_up = false;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(20));
  probe.Start();
  HttpResponse response = HealthResponse(probe, std::chrono::steady_clock::now());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Body(response)["status"], "degraded");
  EXPECT_EQ(Body(response)["redis"], "disconnected");
  EXPECT_EQ(Body(response)["database"], "connected");
}

TEST(HealthResponseTest, UnhealthyWith503AndRetryAfterWhenDatabaseIsDown) {
  FakeDependencies deps;
  deps.database_up = false;
  DependencyProbe probe(deps.Database(), deps.Redis(), milliseconds(20));
  probe.Start();
  HttpResponse response = HealthResponse(probe, std::chrono::steady_clock::now());
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(Body(response)["status"], "unhealthy");
  EXPECT_EQ(Body(response)["database"], "disconnected");
  EXPECT_EQ(response.headers.Get("Retry-After").value_or(""), "5");
}

TEST(HealthResponseTest, MetricsUsePrometheusTextContentType) {
  MetricsRegistry metrics;
  metrics.AddCounter("auri_test_total", "test counter");
  HttpResponse response = MetricsResponse(metrics);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(response.body.find("auri_test_total 0"), std::string::npos);
}

TEST(HealthRoutesTest, BaseRoutesServeHealthMetricsAndOpenApiUnauthenticatedAndUnlimited) {
  FakeDependencies deps;
  DependencyProbe probe(deps.Database(), deps.Redis());
  MetricsRegistry metrics;
  std::vector<Route> routes = BaseRoutes({.probe = &probe, .metrics = &metrics});
  ASSERT_EQ(routes.size(), 4u);
  EXPECT_EQ(routes[0].pattern, "/health");
  EXPECT_EQ(routes[1].pattern, "/api/v1/health");
  EXPECT_EQ(routes[2].pattern, "/metrics");
  EXPECT_EQ(routes[3].pattern, "/api/v1/openapi.json");
  for (const Route& route : routes) {
    EXPECT_EQ(route.method, "GET");
    EXPECT_FALSE(route.authenticated) << route.pattern;
    EXPECT_FALSE(route.rate_limited) << route.pattern;
    EXPECT_FALSE(route.description.empty()) << route.pattern;
  }
  EXPECT_TRUE(Router::Create(std::move(routes)).ok());
}

}  // namespace
}  // namespace auri::api
