#include "delivery/retry_policy.h"

#include <gtest/gtest.h>

namespace auri::delivery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryPolicy, DelayDoublesFromOneSecondAndCapsAtSixtySeconds) {
  EXPECT_EQ(RetryDelay(1, 0, std::nullopt), milliseconds(1000));
  EXPECT_EQ(RetryDelay(2, 0, std::nullopt), milliseconds(2000));
  EXPECT_EQ(RetryDelay(3, 0, std::nullopt), milliseconds(4000));
  EXPECT_EQ(RetryDelay(6, 0, std::nullopt), milliseconds(32000));
  EXPECT_EQ(RetryDelay(7, 0, std::nullopt), milliseconds(60000));
  EXPECT_EQ(RetryDelay(30, 0, std::nullopt), milliseconds(60000));
}

TEST(RetryPolicy, JitterIsPlusMinusTwentyPercent) {
  EXPECT_EQ(RetryDelay(3, 1.0, std::nullopt), milliseconds(4800));
  EXPECT_EQ(RetryDelay(3, -1.0, std::nullopt), milliseconds(3200));
  EXPECT_EQ(RetryDelay(3, 7.0, std::nullopt), milliseconds(4800));  // clamped
}

TEST(RetryPolicy, RetryAfterReplacesTheDelayAndIsCappedAtOneHour) {
  EXPECT_EQ(RetryDelay(1, 1.0, seconds(2)), milliseconds(2000));
  EXPECT_EQ(RetryDelay(1, 0, seconds(7200)), milliseconds(3600 * 1000));
}

TEST(RetryPolicy, RetryableFailures) {
  EXPECT_TRUE(IsRetryable(AttemptFailure::kConnection, 0));
  EXPECT_TRUE(IsRetryable(AttemptFailure::kTimeout, 0));
  for (int code : {500, 502, 503, 504, 408, 429}) {
    EXPECT_TRUE(IsRetryable(AttemptFailure::kHttpStatus, code)) << code;
  }
  for (int code : {400, 401, 403, 404, 410, 422, 301}) {
    EXPECT_FALSE(IsRetryable(AttemptFailure::kHttpStatus, code)) << code;
  }
  EXPECT_FALSE(IsRetryable(AttemptFailure::kPermanent, 0));
}

TEST(RetryPolicy, GivesUpAfterMaxAttempts) {
  EXPECT_TRUE(DecideRetry(AttemptFailure::kHttpStatus, 500, 4, 5, 0, std::nullopt).retry);
  EXPECT_FALSE(DecideRetry(AttemptFailure::kHttpStatus, 500, 5, 5, 0, std::nullopt).retry);
  EXPECT_FALSE(DecideRetry(AttemptFailure::kHttpStatus, 400, 1, 5, 0, std::nullopt).retry);
}

TEST(RetryPolicy, RetryAfterHonouredOnlyFor429And503) {
  EXPECT_EQ(DecideRetry(AttemptFailure::kHttpStatus, 429, 1, 5, 0, seconds(9)).delay,
            milliseconds(9000));
  EXPECT_EQ(DecideRetry(AttemptFailure::kHttpStatus, 503, 1, 5, 0, seconds(9)).delay,
            milliseconds(9000));
  EXPECT_EQ(DecideRetry(AttemptFailure::kHttpStatus, 500, 1, 5, 0, seconds(9)).delay,
            milliseconds(1000));
}

TEST(RetryPolicy, ParsesRetryAfterSecondsAndHttpDates) {
  EXPECT_EQ(ParseRetryAfter("2", 0), seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 120 ", 0), seconds(120));
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 30), seconds(0));
  EXPECT_EQ(ParseRetryAfter("soon", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", 0), std::nullopt);
}

}  // namespace
}  // namespace auri::delivery
