// The in-process sliding window: the same algorithm the Redis script runs, testable without Redis.
#include "cache/rate_limiter.h"

#include <gtest/gtest.h>

namespace auri {
namespace {

constexpr RateWindow kHour{60, 60};

TEST(LocalRateLimiterTest, AllowsUpToTheLimitThenRefuses) {
  LocalRateLimiter limiter;
  for (int i = 1; i <= 3; ++i) {
    Result<RateCheck> c = limiter.Hit("k", 3, kHour, 1000);
    ASSERT_TRUE(c->allowed) << i;
    EXPECT_EQ(c->count, i);
    EXPECT_EQ(c->remaining(), 3 - i);
  }
  Result<RateCheck> refused = limiter.Hit("k", 3, kHour, 1001);
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->remaining(), 0);
}

TEST(LocalRateLimiterTest, RefusedHitsAreNotCounted) {
  LocalRateLimiter limiter;
  (void)limiter.Hit("k", 1, kHour, 0);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Hit("k", 1, kHour, 10)->allowed);
  // One hour after the only counted hit, its bucket has left the window.
  EXPECT_TRUE(limiter.Hit("k", 1, kHour, 3600)->allowed);
}

TEST(LocalRateLimiterTest, WindowSlidesBucketByBucket) {
  LocalRateLimiter limiter;
  (void)limiter.Hit("k", 2, kHour, 0);    // bucket 0
  (void)limiter.Hit("k", 2, kHour, 600);  // bucket 10
  EXPECT_FALSE(limiter.Hit("k", 2, kHour, 3599)->allowed);
  // At 3600 bucket 0 leaves (buckets 1..60 remain): one slot frees up, not two.
  EXPECT_TRUE(limiter.Hit("k", 2, kHour, 3600)->allowed);
  EXPECT_FALSE(limiter.Hit("k", 2, kHour, 3601)->allowed);
}

TEST(LocalRateLimiterTest, ResetIsWhenTheOldestCountedBucketLeaves) {
  LocalRateLimiter limiter;
  Result<RateCheck> c = limiter.Hit("k", 5, kHour, 125);  // bucket 2 (120..179)
  EXPECT_EQ(c->reset_unix, (2 + 60) * 60);
}

TEST(LocalRateLimiterTest, KeysAreIndependent) {
  LocalRateLimiter limiter;
  EXPECT_TRUE(limiter.Hit("a", 1, kHour, 0)->allowed);
  EXPECT_TRUE(limiter.Hit("b", 1, kHour, 0)->allowed);
  EXPECT_FALSE(limiter.Hit("a", 1, kHour, 0)->allowed);
}

TEST(LocalRateLimiterTest, MemoryIsBoundedUnderAFloodOfKeys) {
  LocalRateLimiter limiter(/*max_keys=*/100);
  for (int i = 0; i < 10000; ++i) (void)limiter.Hit("ip:" + std::to_string(i), 10, kHour, 0);
  // Still answers correctly for a fresh key after the table was pruned.
  EXPECT_TRUE(limiter.Hit("fresh", 1, kHour, 0)->allowed);
  EXPECT_FALSE(limiter.Hit("fresh", 1, kHour, 0)->allowed);
}

class FailingLimiter : public RateLimiter {
 public:
  Result<RateCheck> Hit(const std::string&, int64_t, const RateWindow&, int64_t) override {
    ++calls;
    return Unavailable("redis down (test)");
  }
  int calls = 0;
};

TEST(FailoverRateLimiterTest, FallsBackWithTheSameLimitsAndPausesRetries) {
  FailingLimiter primary;
  LocalRateLimiter fallback;
  FailoverRateLimiter limiter(&primary, &fallback, std::chrono::seconds(60));
  EXPECT_TRUE(limiter.Hit("k", 2, kHour, 0)->allowed);
  EXPECT_TRUE(limiter.degraded());
  EXPECT_TRUE(limiter.Hit("k", 2, kHour, 0)->allowed);
  EXPECT_FALSE(limiter.Hit("k", 2, kHour, 0)->allowed);
  EXPECT_EQ(primary.calls, 1);  // not asked again during the pause
}

}  // namespace
}  // namespace auri
