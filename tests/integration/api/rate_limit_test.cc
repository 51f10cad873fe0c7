// Rate limiting end to end: the Redis Lua script against a real Redis, the gateway's headers and
// JSON 429, and the in-process fallback when Redis is stopped.
#include <gtest/gtest.h>

#include "api/rate_limit_policy.h"
#include "cache/rate_limiter.h"
#include "cache/redis_client.h"
#include "tests/integration/api/api_fixture.h"
#include "tests/integration/api/gateway_fixture.h"
#include "tests/integration/harness.h"

namespace auri::api::test {
namespace {

RedisOptions TestRedis() {
  const auto& s = auri::testing::GetServices();
  RedisOptions o;
  o.host = s.redis_host;
  o.port = s.redis_port;
  o.timeout_ms = 300;
  return o;
}

TEST(RedisRateLimiterTest, CountsAtomicallyAcrossClientsAndRefusesAtTheLimit) {
  RedisClient a(TestRedis());
  RedisClient b(TestRedis());
  std::string prefix = auri::testing::KeyPrefix();
  RedisRateLimiter limiter_a(&a, prefix);
  RedisRateLimiter limiter_b(&b, prefix);
  RateWindow hour{60, 60};
  int64_t now = 1'800'000'000;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RedisRateLimiter& l = t % 2 ? limiter_a : limiter_b;
      for (int i = 0; i < 25; ++i) {
        Result<RateCheck> c = l.Hit("org:x", 60, hour, now);
        if (c.ok() && c->allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 60);  // 100 attempts, exactly the limit let through
  Result<RateCheck> after = limiter_a.Hit("org:x", 60, hour, now);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_FALSE(after->allowed);
  EXPECT_EQ(after->count, 60);
  // The oldest bucket leaves one hour after it started.
  EXPECT_EQ(after->reset_unix, (now / 60 + 60) * 60);
  EXPECT_TRUE(limiter_a.Hit("org:x", 60, hour, now + 3600)->allowed);
}

// The gateway with the production policy over Redis (+ fallback), small limits.
class RateLimitedGatewayTest : public ApiFixture {
 protected:
  void ConfigureHooks(PipelineHooks* hooks) override {
    redis_ = std::make_unique<RedisClient>(TestRedis());
    redis_limiter_ = std::make_unique<RedisRateLimiter>(redis_.get(), auri::testing::KeyPrefix());
    limiter_ = std::make_unique<FailoverRateLimiter>(redis_limiter_.get(), &local_,
                                                     std::chrono::milliseconds(200));
    Config::RateLimit limits;
    limits.anonymous_per_hour = 3;
    limits.user_per_hour = 3;
    limits.free_per_hour = limits.starter_per_hour = limits.pro_per_hour =
        limits.enterprise_per_hour = 3;
    limits.login_per_minute = 10;
    policy_ = std::make_unique<RateLimitPolicy>(limits, limiter_.get(), &clock_);
    hooks->rate_limit = [this](const HttpRequest& r, const Route& route) {
      return policy_->Decide(r, route);
    };
  }
  // A rate-limited route every build has: ingestion with a seeded user's token (403, but counted).
  ApiResponse Hit(const SeededUser& user) {
    return CallAs(user, "POST", "/api/v1/events", R"({"events": []})");
  }

  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<RedisRateLimiter> redis_limiter_;
  LocalRateLimiter local_;
  std::unique_ptr<FailoverRateLimiter> limiter_;
  std::unique_ptr<RateLimitPolicy> policy_;
};

TEST_F(RateLimitedGatewayTest, HeadersOnEveryLimitedResponseAndJson429WithRetryAfter) {
  SeededUser alice = SeedUser("alice");
  for (int i = 0; i < 3; ++i) {
    ApiResponse r = Hit(alice);
    EXPECT_NE(r.status, 429);
    EXPECT_EQ(r.Header("x-ratelimit-limit"), "3");
    EXPECT_EQ(r.Header("x-ratelimit-remaining"), std::to_string(2 - i));
    EXPECT_FALSE(r.Header("x-ratelimit-reset").empty());
  }
  ApiResponse limited = Hit(alice);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.json["error"], "rate_limited");
  EXPECT_GE(std::stoi(limited.Header("retry-after")), 1);
  EXPECT_EQ(limited.Header("x-ratelimit-remaining"), "0");
  // Another user is counted separately.
  EXPECT_NE(Hit(SeedUser("bob")).status, 429);
  // Health is exempt.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Call("GET", "/health").status, 200);
}

TEST_F(RateLimitedGatewayTest, RedisDownFallsBackToInProcessLimitsWithoutFailingRequests) {
  SeededUser alice = SeedUser("alice");
  auri::testing::StopRedis();
  for (int i = 0; i < 3; ++i) {
    ApiResponse r = Hit(alice);
    EXPECT_EQ(r.status, 403) << r.body;  // the route's own answer: not a 500, not a 503
    EXPECT_EQ(r.Header("x-ratelimit-limit"), "3");
  }
  EXPECT_TRUE(limiter_->degraded());
  EXPECT_EQ(Hit(alice).status, 429);
  auri::testing::StartRedis();
  // Once Redis answers again it is used again (its own, fresh count).
  EXPECT_TRUE(Eventually([&] {
    Hit(alice);
    return !limiter_->degraded();
  }));
}

}  // namespace
}  // namespace auri::api::test
