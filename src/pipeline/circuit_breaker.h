#pragma once
// The per-trigger circuit breaker (spec 20-pipeline.md, "Circuit breaker") as a pure state
// machine over the triggers.cb_* columns. It never reads a clock: every time is passed in as unix
// milliseconds, so tests and replays are deterministic.
//
// Transitions:
//   Closed   --failure (failure_count reaches failure_threshold)--> Open (opened_at = now)
//   Open     --AllowEvaluation at or after opened_at + recovery_timeout--> HalfOpen
//   HalfOpen --success--> Closed (failure_count = 0)
//   HalfOpen --failure--> Open (opened_at = now)
// failure_count counts consecutive failures: a success in Closed resets it to 0. Every failure
// changes failure_count and last_failure_time, so the caller persists the state after every
// failure (the original persisted only at the threshold, and its breaker never opened). An
// evaluation error is a failure; a match and a non-match are both successes.
//
// Usage per event and trigger (inside the processor's transaction, the trigger row locked):
//   CircuitBreaker cb(config, state_from_row);
//   if (!cb.AllowEvaluation(now_ms)) { skip; }            // may move Open → HalfOpen
//   ... evaluate ... → cb.RecordSuccess() or cb.RecordFailure(now_ms)
//   if (cb.state() != state_from_row) { write cb.state() back }
// Not thread-safe; one instance per evaluation.
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "pipeline/field_error.h"

namespace auri::pipeline {

enum class BreakerState : uint8_t { kClosed, kOpen, kHalfOpen };

// "Closed", "Open", "HalfOpen": the values of triggers.cb_state and of the API.
std::string_view BreakerStateName(BreakerState state);
// The inverse of BreakerStateName; nullopt for anything else.
std::optional<BreakerState> ParseBreakerState(std::string_view name);

// triggers.cb_failure_threshold, cb_recovery_timeout_seconds, cb_half_open_max_calls.
struct CircuitBreakerConfig {
  int32_t failure_threshold = 10;           // 1..1000
  int32_t recovery_timeout_seconds = 3600;  // 60..604800
  int32_t half_open_max_calls = 1;          // 1..10
  bool operator==(const CircuitBreakerConfig&) const = default;
};

// The ranges above (spec 10-api.md). On failure returns kInvalidArgument and appends errors for
// "config.failure_threshold", "config.recovery_timeout_seconds", "config.half_open_max_calls".
Status ValidateCircuitBreakerConfig(const CircuitBreakerConfig& config,
                                    FieldErrors* errors = nullptr);

// triggers.cb_state, cb_failure_count, cb_last_failure_time, cb_opened_at, cb_half_open_calls.
// Times are unix milliseconds. The default value is a fresh (or reset) breaker.
struct CircuitBreakerState {
  BreakerState state = BreakerState::kClosed;
  int32_t failure_count = 0;
  std::optional<int64_t> last_failure_time_ms;
  std::optional<int64_t> opened_at_ms;  // set whenever state is Open
  int32_t half_open_calls = 0;
  bool operator==(const CircuitBreakerState&) const = default;
};

class CircuitBreaker {
 public:
  CircuitBreaker(CircuitBreakerConfig config, CircuitBreakerState state)
      : config_(config), state_(state) {}

  // True when the trigger may be evaluated now. Open: false until `now_ms` reaches opened_at +
  // recovery_timeout, then the breaker moves to HalfOpen. HalfOpen: true while fewer than
  // half_open_max_calls trial evaluations were admitted (each admitted call is counted). Closed:
  // always true. An Open state without opened_at (impossible per the schema) is treated as
  // opened long ago, so a damaged row cannot disable a trigger forever.
  bool AllowEvaluation(int64_t now_ms);

  // The evaluation matched or did not match. Closed: failure_count back to 0. HalfOpen: closes.
  // Open (not admitted, a caller bug): no change.
  void RecordSuccess();

  // The evaluation failed. Always increments failure_count (saturating) and sets
  // last_failure_time. Closed: opens when failure_count reaches failure_threshold. HalfOpen:
  // re-opens. Open: stays open (opened_at unchanged).
  void RecordFailure(int64_t now_ms);

  // Back to a fresh Closed breaker (POST /triggers/{id}/circuit-breaker/reset).
  void Reset() { state_ = CircuitBreakerState{}; }

  const CircuitBreakerState& state() const { return state_; }
  const CircuitBreakerConfig& config() const { return config_; }

 private:
  void Open(int64_t now_ms);

  CircuitBreakerConfig config_;
  CircuitBreakerState state_;
};

}  // namespace auri::pipeline
