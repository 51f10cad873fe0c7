// Identity and limit selection for rate limiting, with the in-process limiter and a fake clock.
#include "api/rate_limit_policy.h"

#include <gtest/gtest.h>

#include "cache/rate_limiter.h"
#include "tests/unit/manual_clock.h"

namespace auri::api {
namespace {

using FixedClock = auri::testing::ManualClock;

Config::RateLimit Limits() {
  Config::RateLimit l;
  l.anonymous_per_hour = 2;
  l.user_per_hour = 3;
  l.free_per_hour = 4;
  l.starter_per_hour = 5;
  l.pro_per_hour = 6;
  l.enterprise_per_hour = 7;
  l.login_per_minute = 1;
  return l;
}

Route GetRoute() { return Route{.method = "GET", .pattern = "/api/v1/x"}; }

HttpRequest From(std::string ip) {
  HttpRequest r;
  r.client_ip = std::move(ip);
  return r;
}

TEST(ClientIpTest, PeerIsTheClientUnlessItIsATrustedProxy) {
  HttpRequest r = From("10.0.0.5");
  r.headers.Add("X-Forwarded-For", "6.6.6.6");
  EXPECT_EQ(ClientIp(r, {}), "10.0.0.5");
  EXPECT_EQ(ClientIp(r, {"10.0.0.5"}), "6.6.6.6");
}

TEST(ClientIpTest, RightmostUntrustedForwardedAddressWins) {
  HttpRequest r = From("10.0.0.5");
  // A client can prepend anything; only what our proxies appended is believed.
  r.headers.Add("X-Forwarded-For", "1.1.1.1, 7.7.7.7, 10.0.0.4");
  EXPECT_EQ(ClientIp(r, {"10.0.0.5", "10.0.0.4"}), "7.7.7.7");
}

TEST(RateLimitPolicyTest, AnonymousCallersAreLimitedPerIp) {
  LocalRateLimiter limiter;
  FixedClock clock;
  RateLimitPolicy policy(Limits(), &limiter, &clock);
  EXPECT_TRUE(policy.Decide(From("1.1.1.1"), GetRoute()).allowed);
  RateDecision second = policy.Decide(From("1.1.1.1"), GetRoute());
  EXPECT_TRUE(second.allowed);
  EXPECT_EQ(second.limit, 2);
  EXPECT_EQ(second.remaining, 0);
  RateDecision third = policy.Decide(From("1.1.1.1"), GetRoute());
  EXPECT_FALSE(third.allowed);
  EXPECT_GE(third.retry_after, 1);
  EXPECT_TRUE(policy.Decide(From("2.2.2.2"), GetRoute()).allowed);
}

TEST(RateLimitPolicyTest, ApiKeysCountAgainstTheirOrganizationsPlanOrOverride) {
  LocalRateLimiter limiter;
  FixedClock clock;
  RateLimitPolicy policy(Limits(), &limiter, &clock);
  HttpRequest r = From("1.1.1.1");
  r.caller.kind = CallerKind::kApiKey;
  r.caller.organization_id = "org-a";
  r.caller.organization_plan = "pro";
  EXPECT_EQ(policy.Decide(r, GetRoute()).limit, 6);
  r.caller.rate_limit_override = 42;
  EXPECT_EQ(policy.Decide(r, GetRoute()).limit, 42);
  // Two keys of one organization share its count; the IP does not matter.
  HttpRequest other = r;
  other.client_ip = "9.9.9.9";
  EXPECT_EQ(policy.Decide(other, GetRoute()).remaining, 42 - 3);
}

TEST(RateLimitPolicyTest, UsersAreLimitedPerUserAndIngestTokenIsNotLimited) {
  LocalRateLimiter limiter;
  FixedClock clock;
  RateLimitPolicy policy(Limits(), &limiter, &clock);
  HttpRequest user = From("1.1.1.1");
  user.caller.kind = CallerKind::kUser;
  user.caller.user_id = "u1";
  EXPECT_EQ(policy.Decide(user, GetRoute()).limit, 3);
  HttpRequest ingest = From("1.1.1.1");
  ingest.caller.kind = CallerKind::kIngestToken;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(policy.Decide(ingest, GetRoute()).allowed);
}

TEST(RateLimitPolicyTest, LoginHasAPerMinuteLimitPerIp) {
  LocalRateLimiter limiter;
  FixedClock clock;
  RateLimitPolicy policy(Limits(), &limiter, &clock);
  Route login{.method = "POST", .pattern = "/api/v1/auth/login"};
  EXPECT_TRUE(policy.Decide(From("1.1.1.1"), login).allowed);
  RateDecision refused = policy.Decide(From("1.1.1.1"), login);
  EXPECT_FALSE(refused.allowed);
  EXPECT_LE(refused.retry_after, 60);
  clock.Advance(61'000);
  EXPECT_TRUE(policy.Decide(From("1.1.1.1"), login).allowed);
}

TEST(RateLimitPolicyTest, RefusedApiKeyIsReportedOncePerMinute) {
  LocalRateLimiter limiter;
  FixedClock clock;
  int reports = 0;
  Config::RateLimit limits = Limits();
  RateLimitPolicy policy(limits, &limiter, &clock, [&reports](const HttpRequest&) { ++reports; });
  HttpRequest r = From("1.1.1.1");
  r.caller.kind = CallerKind::kApiKey;
  r.caller.api_key_id = "k1";
  r.caller.organization_id = "o1";
  r.caller.rate_limit_override = 1;
  policy.Decide(r, GetRoute());
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(policy.Decide(r, GetRoute()).allowed);
  EXPECT_EQ(reports, 1);
}

}  // namespace
}  // namespace auri::api
