#pragma once
// Progressive login lockout, spec/10-api.md, as pure functions of (failures, now).
//
// From the 5th consecutive failed login the account is locked until
//   now + 15 min × 2^min((failures − 5) div 5, 4)
// i.e. failures 5–9 → 15 min, 10–14 → 30 min, 15–19 → 1 h, 20–24 → 2 h, 25 and more → 4 h.
// The caller stores the returned time with the failure count and answers 429 `account_locked` with
// Retry-After while it lies in the future; a successful login resets the count to zero.
#include <algorithm>
#include <cstdint>
#include <optional>

namespace auri {

inline constexpr int kLockoutThreshold = 5;        // failures before the first lock
inline constexpr int kLockoutFailuresPerStep = 5;  // failures per doubling of the lock
inline constexpr int kLockoutMaxDoublings = 4;     // 15 min × 2^4 = 4 h at most
inline constexpr int64_t kLockoutBaseMs = int64_t{15} * 60 * 1000;  // 15 minutes

// How long an account is locked after `consecutive_failures` failures, in milliseconds; 0 when
// the count is below the threshold (including negative counts).
constexpr int64_t LockoutDurationMs(int consecutive_failures) {
  if (consecutive_failures < kLockoutThreshold) return 0;
  int doublings = std::min((consecutive_failures - kLockoutThreshold) / kLockoutFailuresPerStep,
                           kLockoutMaxDoublings);
  return kLockoutBaseMs << doublings;
}

// The unix-ms time until which the account is locked, given the consecutive failures counted
// including the one that just happened at `now_ms`; nullopt when it is not locked.
constexpr std::optional<int64_t> LockedUntilMs(int consecutive_failures, int64_t now_ms) {
  int64_t duration_ms = LockoutDurationMs(consecutive_failures);
  if (duration_ms == 0) return std::nullopt;
  return now_ms + duration_ms;
}

// The Retry-After value, in whole seconds rounded up (so a client that waits exactly that long is
// no longer locked out), for a lock ending at `locked_until_ms`; 0 when it has already ended.
constexpr int64_t RetryAfterSeconds(int64_t locked_until_ms, int64_t now_ms) {
  if (locked_until_ms <= now_ms) return 0;
  return (locked_until_ms - now_ms + 999) / 1000;
}

}  // namespace auri
