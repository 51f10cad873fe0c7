#pragma once
// When a failed delivery attempt is retried, and after how long (spec 30-delivery.md, "Retries and
// dead letters"). Pure functions: no clock, no randomness of their own (the caller passes the
// jitter draw), so tests are exact.
#include <chrono>
#include <optional>
#include <string_view>

namespace auri::delivery {

// How one attempt ended.
enum class AttemptFailure {
  kNone,        // the receiver answered with an expected status: success
  kConnection,  // DNS, refused, reset, TLS: retryable
  kTimeout,     // connect or total timeout: retryable
  kHttpStatus,  // the receiver answered with an unexpected status (see status_code)
  kPermanent,   // invalid config, template error, SSRF refusal, missing secret: never retryable
};

// True for the failures worth another attempt: connection errors, timeouts, 5xx, 408 and 429.
bool IsRetryable(AttemptFailure failure, int status_code);

// Delay after failed attempt number `attempt` (1-based): min(1 s × 2^(attempt−1), 60 s), scaled by
// (1 + jitter × 0.2) where `jitter` ∈ [−1, 1] is a uniform draw (so ±20 %). When `retry_after` is
// set (a 429/503 Retry-After), it replaces the computed delay, capped at 1 hour (no jitter: the
// receiver asked for that time).
std::chrono::milliseconds RetryDelay(int attempt, double jitter,
                                     std::optional<std::chrono::seconds> retry_after);

// Parses an HTTP Retry-After value: delay-seconds ("120") or an HTTP-date relative to
// `now_unix_seconds`. Returns nullopt for anything else; a date in the past gives 0 s.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    int64_t now_unix_seconds);

struct RetryDecision {
  bool retry = false;                  // false: the job is finished (dead on failure)
  std::chrono::milliseconds delay{0};  // when retry
};

// The decision after attempt `attempt` (1-based) of at most `max_attempts` failed.
RetryDecision DecideRetry(AttemptFailure failure, int status_code, int attempt, int max_attempts,
                          double jitter, std::optional<std::chrono::seconds> retry_after);

}  // namespace auri::delivery
