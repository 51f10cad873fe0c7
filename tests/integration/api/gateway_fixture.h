#pragma once
// A real api Server in-process on an ephemeral port, with a dependency probe whose answers the test
// controls (no database or Redis is needed to test the HTTP layer) and a few test-only routes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "api/health.h"
#include "api/routes.h"
#include "api/server.h"
#include "common/metrics.h"
#include "tests/integration/api/raw_http.h"
#include "tests/unit/api/log_capture.h"

namespace auri::api::test {

// Polls `condition` every 10 ms until it holds or `limit` passes.
template <typename F>
bool Eventually(F condition, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class GatewayFixture : public ::testing::Test {
 protected:
  static Config::Api TestConfig() {
    Config::Api api;
    api.host = "127.0.0.1";
    api.port = 0;
    api.threads = 2;
    api.body_limit_bytes = 1 << 20;
    api.header_limit_bytes = 16 << 10;
    api.read_timeout_seconds = 1;
    api.shutdown_timeout_seconds = 5;
    api.cors_origins = {"https://app.example"};
    return api;
  }

  void SetUp() override { StartServer(TestConfig()); }

  void TearDown() override {
    server_.reset();
    probe_.reset();
  }

  void StartServer(const Config::Api& config) {
    probe_ = std::make_unique<DependencyProbe>(
        [this] { return database_up_ ? Status::Ok() : Unavailable("database down (test)"); },
        [this] { return redis_up_ ? Status::Ok() : Unavailable("redis down (test)"); },
        std::chrono::milliseconds(20));
    probe_->Start();

    std::vector<Route> routes = BaseRoutes({.probe = probe_.get(), .metrics = &metrics_});
    routes.push_back({.method = "GET",
                      .pattern = "/test/slow",
                      .handler =
                          [this](const HttpRequest&) {
                            ++slow_entered_;
                            // The point of this route: a request still in flight at shutdown.
                            std::this_thread::sleep_for(std::chrono::milliseconds(300));
                            return JsonResponse(200, R"({"slow":true})");
                          },
                      .description = "test: answers after 300 ms"});
    routes.push_back({.method = "GET",
                      .pattern = "/test/items/{id}",
                      .handler =
                          [](const HttpRequest& r) {
                            return JsonResponse(
                                200, "{\"id\":\"" + std::string(r.PathParam("id")) + "\"}");
                          },
                      .description = "test: echoes the id"});
    routes.push_back({.method = "DELETE",
                      .pattern = "/test/items/{id}",
                      .handler = [](const HttpRequest&) { return JsonResponse(200, "{}"); },
                      .description = "test: delete"});
    routes.push_back({.method = "GET",
                      .pattern = "/test/throw",
                      .handler = [](const HttpRequest&) -> HttpResponse {
                        throw std::runtime_error("boom: internal detail 0xdeadbeef");
                      },
                      .description = "test: throws"});
    routes.push_back({.method = "POST",
                      .pattern = "/test/echo",
                      .handler =
                          [](const HttpRequest& r) {
                            return JsonResponse(
                                200, "{\"bytes\":" + std::to_string(r.body.size()) + "}");
                          },
                      .description = "test: counts body bytes"});
    routes.push_back({.method = "GET",
                      .pattern = "/test/private",
                      .handler = [](const HttpRequest&) { return JsonResponse(200, "{}"); },
                      .authenticated = true,
                      .description = "test: authenticated route"});

    Result<Router> router = Router::Create(std::move(routes));
    ASSERT_TRUE(router.ok()) << router.status().ToString();
    server_ = std::make_unique<Server>(config, log_.logger(), metrics_, std::move(router).value());
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    port_ = server_->port();
    ASSERT_GT(port_, 0);
  }

  std::optional<RawResponse> Fetch(const std::string& request) {
    return test::Fetch(port_, request);
  }

  std::atomic<bool> database_up_{true};
  std::atomic<bool> redis_up_{true};
  std::atomic<int> slow_entered_{0};
  LogCapture log_{LogLevel::kInfo};
  MetricsRegistry metrics_;
  std::unique_ptr<DependencyProbe> probe_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

}  // namespace auri::api::test
