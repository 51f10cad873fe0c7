#include "pipeline/circuit_breaker.h"

#include <gtest/gtest.h>

namespace auri::pipeline {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // unix ms
constexpr int64_t kHourMs = 3'600'000;

CircuitBreaker Fresh(CircuitBreakerConfig config = {}) { return CircuitBreaker(config, {}); }

void FailTimes(CircuitBreaker& cb, int n, int64_t now_ms) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(cb.AllowEvaluation(now_ms)) << "failure " << i;
    cb.RecordFailure(now_ms);
  }
}

TEST(CircuitBreakerTest, DefaultsMatchTheSpec) {
  CircuitBreakerConfig config;
  EXPECT_EQ(config.failure_threshold, 10);
  EXPECT_EQ(config.recovery_timeout_seconds, 3600);
  EXPECT_EQ(config.half_open_max_calls, 1);
  EXPECT_EQ(CircuitBreakerState{}.state, BreakerState::kClosed);
}

TEST(CircuitBreakerTest, ClosedAllowsEveryEvaluation) {
  CircuitBreaker cb = Fresh();
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(cb.AllowEvaluation(kT0 + i));
  EXPECT_EQ(cb.state(), CircuitBreakerState{});
}

TEST(CircuitBreakerTest, EveryFailureChangesThePersistedState) {
  CircuitBreaker cb = Fresh();
  CircuitBreakerState before = cb.state();
  for (int i = 1; i <= 9; ++i) {
    cb.RecordFailure(kT0 + i);
    EXPECT_NE(cb.state(), before) << "failure " << i << " must be persisted";
    EXPECT_EQ(cb.state().failure_count, i);
    EXPECT_EQ(cb.state().last_failure_time_ms, kT0 + i);
    EXPECT_EQ(cb.state().state, BreakerState::kClosed);
    before = cb.state();
  }
}

TEST(CircuitBreakerTest, OpensAtTheFailureThreshold) {
  CircuitBreaker cb = Fresh();
  FailTimes(cb, 9, kT0);
  EXPECT_EQ(cb.state().state, BreakerState::kClosed);
  cb.RecordFailure(kT0 + 5);
  EXPECT_EQ(cb.state().state, BreakerState::kOpen);
  EXPECT_EQ(cb.state().failure_count, 10);
  EXPECT_EQ(cb.state().opened_at_ms, kT0 + 5);
}

TEST(CircuitBreakerTest, ASuccessResetsTheConsecutiveFailureCount) {
  CircuitBreaker cb = Fresh();
  FailTimes(cb, 9, kT0);
  cb.RecordSuccess();
  EXPECT_EQ(cb.state().failure_count, 0);
  FailTimes(cb, 9, kT0);
  EXPECT_EQ(cb.state().state, BreakerState::kClosed);
}

TEST(CircuitBreakerTest, OpenRefusesEvaluationUntilTheRecoveryTimeout) {
  CircuitBreaker cb = Fresh();
  FailTimes(cb, 10, kT0);
  CircuitBreakerState open = cb.state();
  EXPECT_FALSE(cb.AllowEvaluation(kT0 + kHourMs - 1));
  EXPECT_EQ(cb.state(), open) << "a refused evaluation changes nothing";
}

TEST(CircuitBreakerTest, OpenBecomesHalfOpenAfterTheRecoveryTimeoutAndAdmitsOneCall) {
  CircuitBreaker cb = Fresh();
  FailTimes(cb, 10, kT0);
  EXPECT_TRUE(cb.AllowEvaluation(kT0 + kHourMs));
  EXPECT_EQ(cb.state().state, BreakerState::kHalfOpen);
  EXPECT_EQ(cb.state().half_open_calls, 1);
  EXPECT_FALSE(cb.AllowEvaluation(kT0 + kHourMs + 1)) << "half_open_max_calls is 1";
}

TEST(CircuitBreakerTest, HalfOpenAdmitsUpToHalfOpenMaxCalls) {
  CircuitBreakerConfig config;
  config.half_open_max_calls = 3;
  CircuitBreaker cb = Fresh(config);
  FailTimes(cb, 10, kT0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(cb.AllowEvaluation(kT0 + kHourMs + i)) << i;
  EXPECT_FALSE(cb.AllowEvaluation(kT0 + kHourMs + 3));
}

TEST(CircuitBreakerTest, ASuccessInHalfOpenClosesTheBreaker) {
  CircuitBreaker cb = Fresh();
  FailTimes(cb, 10, kT0);
  ASSERT_TRUE(cb.AllowEvaluation(kT0 + kHourMs));
  cb.RecordSuccess();
  EXPECT_EQ(cb.state().state, BreakerState::kClosed);
  EXPECT_EQ(cb.state().failure_count, 0);
  EXPECT_EQ(cb.state().half_open_calls, 0);
  EXPECT_FALSE(cb.state().opened_at_ms.has_value());
  EXPECT_EQ(cb.state().last_failure_time_ms, kT0) << "kept as history";
  EXPECT_TRUE(cb.AllowEvaluation(kT0 + kHourMs + 1));
}

TEST(CircuitBreakerTest, AFailureInHalfOpenReopensWithANewOpenedAt) {
  CircuitBreaker cb = Fresh();
  FailTimes(cb, 10, kT0);
  ASSERT_TRUE(cb.AllowEvaluation(kT0 + kHourMs));
  cb.RecordFailure(kT0 + kHourMs + 7);
  EXPECT_EQ(cb.state().state, BreakerState::kOpen);
  EXPECT_EQ(cb.state().opened_at_ms, kT0 + kHourMs + 7);
  EXPECT_EQ(cb.state().failure_count, 11);
  EXPECT_FALSE(cb.AllowEvaluation(kT0 + 2 * kHourMs)) << "the timeout restarts at re-opening";
  EXPECT_TRUE(cb.AllowEvaluation(kT0 + 2 * kHourMs + 7));
}

TEST(CircuitBreakerTest, ResetGivesAFreshClosedBreaker) {
  CircuitBreaker cb = Fresh();
  FailTimes(cb, 10, kT0);
  cb.Reset();
  EXPECT_EQ(cb.state(), CircuitBreakerState{});
}

TEST(CircuitBreakerTest, AnOpenRowWithoutOpenedAtRecoversInsteadOfStayingOpenForever) {
  CircuitBreakerState damaged;
  damaged.state = BreakerState::kOpen;
  CircuitBreaker cb({}, damaged);
  EXPECT_TRUE(cb.AllowEvaluation(kT0));
  EXPECT_EQ(cb.state().state, BreakerState::kHalfOpen);
}

TEST(CircuitBreakerTest, ResumesFromAPersistedRow) {
  CircuitBreakerState row;
  row.state = BreakerState::kClosed;
  row.failure_count = 9;
  CircuitBreaker cb({}, row);
  cb.RecordFailure(kT0);
  EXPECT_EQ(cb.state().state, BreakerState::kOpen);
}

TEST(CircuitBreakerTest, StateNamesMatchTheSchema) {
  EXPECT_EQ(BreakerStateName(BreakerState::kHalfOpen), "HalfOpen");
  EXPECT_EQ(ParseBreakerState("Open"), BreakerState::kOpen);
  EXPECT_FALSE(ParseBreakerState("open").has_value());
}

TEST(CircuitBreakerConfigTest, ValidatesTheApiRanges) {
  EXPECT_TRUE(ValidateCircuitBreakerConfig({}).ok());
  FieldErrors errors;
  Status s = ValidateCircuitBreakerConfig({0, 59, 11}, &errors);
  EXPECT_FALSE(s.ok());
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0],
            (FieldError{"config.failure_threshold", "must be an integer between 1 and 1000"}));
  EXPECT_EQ(errors[1].field, "config.recovery_timeout_seconds");
  EXPECT_EQ(errors[2].field, "config.half_open_max_calls");
  EXPECT_TRUE(ValidateCircuitBreakerConfig({1000, 604800, 10}).ok());
}

}  // namespace
}  // namespace auri::pipeline
