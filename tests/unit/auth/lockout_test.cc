#include "auth/lockout.h"

#include <gtest/gtest.h>

#include <optional>

namespace auri {
namespace {

constexpr int64_t kMinute = int64_t{60} * 1000;
constexpr int64_t kNow = 1'700'000'000'000;

struct LockoutCase {
  int failures;
  std::optional<int64_t> locked_for_ms;  // nullopt = not locked
};

class LockoutTableTest : public ::testing::TestWithParam<LockoutCase> {};

TEST_P(LockoutTableTest, LocksForTheSpecifiedDuration) {
  const LockoutCase& c = GetParam();
  std::optional<int64_t> until = LockedUntilMs(c.failures, kNow);
  if (!c.locked_for_ms) {
    EXPECT_FALSE(until.has_value()) << c.failures << " failures";
    EXPECT_EQ(LockoutDurationMs(c.failures), 0);
  } else {
    ASSERT_TRUE(until.has_value()) << c.failures << " failures";
    EXPECT_EQ(*until, kNow + *c.locked_for_ms) << c.failures << " failures";
    EXPECT_EQ(RetryAfterSeconds(*until, kNow), *c.locked_for_ms / 1000);
  }
}

// 15 min × 2^min((failures − 5) div 5, 4), from the 5th failure (spec/10-api.md).
INSTANTIATE_TEST_SUITE_P(
    SpecTable, LockoutTableTest,
    ::testing::Values(LockoutCase{-1, std::nullopt}, LockoutCase{0, std::nullopt},
                      LockoutCase{4, std::nullopt}, LockoutCase{5, 15 * kMinute},
                      LockoutCase{9, 15 * kMinute}, LockoutCase{10, 30 * kMinute},
                      LockoutCase{14, 30 * kMinute}, LockoutCase{15, 60 * kMinute},
                      LockoutCase{20, 120 * kMinute}, LockoutCase{24, 120 * kMinute},
                      LockoutCase{25, 240 * kMinute}, LockoutCase{30, 240 * kMinute},
                      LockoutCase{100, 240 * kMinute}, LockoutCase{1'000'000, 240 * kMinute}),
    [](const ::testing::TestParamInfo<LockoutCase>& info) {
      int f = info.param.failures;
      return f < 0 ? std::string("minus_one") : "failures_" + std::to_string(f);
    });

TEST(RetryAfterTest, RoundsPartialSecondsUp) {
  EXPECT_EQ(RetryAfterSeconds(kNow + 1, kNow), 1);
  EXPECT_EQ(RetryAfterSeconds(kNow + 1001, kNow), 2);
  EXPECT_EQ(RetryAfterSeconds(kNow + 1000, kNow), 1);
}

TEST(RetryAfterTest, IsZeroOnceTheLockHasEnded) {
  EXPECT_EQ(RetryAfterSeconds(kNow, kNow), 0);
  EXPECT_EQ(RetryAfterSeconds(kNow - 5000, kNow), 0);
}

}  // namespace
}  // namespace auri
