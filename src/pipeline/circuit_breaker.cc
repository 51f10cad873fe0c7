#include "pipeline/circuit_breaker.h"

#include <limits>
#include <string>

namespace auri::pipeline {

std::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "Closed";
    case BreakerState::kOpen:
      return "Open";
    case BreakerState::kHalfOpen:
      return "HalfOpen";
  }
  return "Closed";
}

std::optional<BreakerState> ParseBreakerState(std::string_view name) {
  if (name == "Closed") return BreakerState::kClosed;
  if (name == "Open") return BreakerState::kOpen;
  if (name == "HalfOpen") return BreakerState::kHalfOpen;
  return std::nullopt;
}

Status ValidateCircuitBreakerConfig(const CircuitBreakerConfig& config, FieldErrors* errors) {
  FieldErrors found;
  auto check = [&found](const char* field, int32_t v, int32_t lo, int32_t hi) {
    if (v < lo || v > hi) {
      found.push_back(
          {std::string("config.") + field,
           "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi)});
    }
  };
  check("failure_threshold", config.failure_threshold, 1, 1000);
  check("recovery_timeout_seconds", config.recovery_timeout_seconds, 60, 604800);
  check("half_open_max_calls", config.half_open_max_calls, 1, 10);
  if (found.empty()) return Status::Ok();
  if (errors != nullptr) errors->insert(errors->end(), found.begin(), found.end());
  return InvalidArgument("invalid circuit breaker config: " + SummarizeFieldErrors(found));
}

bool CircuitBreaker::AllowEvaluation(int64_t now_ms) {
  switch (state_.state) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen: {
      int64_t opened = state_.opened_at_ms.value_or(std::numeric_limits<int64_t>::min() / 2);
      if (now_ms - opened < int64_t{config_.recovery_timeout_seconds} * 1000) return false;
      state_.state = BreakerState::kHalfOpen;
      state_.half_open_calls = 0;
      [[fallthrough]];
    }
    case BreakerState::kHalfOpen:
      if (state_.half_open_calls >= config_.half_open_max_calls) return false;
      ++state_.half_open_calls;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  switch (state_.state) {
    case BreakerState::kClosed:
      state_.failure_count = 0;
      break;
    case BreakerState::kHalfOpen:
      // The trial call worked: the trigger is healthy again. opened_at is cleared because it
      // describes an Open period that is over; last_failure_time stays as history.
      state_.state = BreakerState::kClosed;
      state_.failure_count = 0;
      state_.half_open_calls = 0;
      state_.opened_at_ms.reset();
      break;
    case BreakerState::kOpen:
      break;
  }
}

void CircuitBreaker::RecordFailure(int64_t now_ms) {
  if (state_.failure_count < std::numeric_limits<int32_t>::max()) ++state_.failure_count;
  state_.last_failure_time_ms = now_ms;
  switch (state_.state) {
    case BreakerState::kClosed:
      if (state_.failure_count >= config_.failure_threshold) Open(now_ms);
      break;
    case BreakerState::kHalfOpen:
      Open(now_ms);
      break;
    case BreakerState::kOpen:
      break;
  }
}

void CircuitBreaker::Open(int64_t now_ms) {
  state_.state = BreakerState::kOpen;
  state_.opened_at_ms = now_ms;
  state_.half_open_calls = 0;
}

}  // namespace auri::pipeline
