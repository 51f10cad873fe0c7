#include "delivery/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <string>

namespace auri::delivery {

bool IsRetryable(AttemptFailure failure, int status_code) {
  switch (failure) {
    case AttemptFailure::kConnection:
    case AttemptFailure::kTimeout:
      return true;
    case AttemptFailure::kHttpStatus:
      return status_code >= 500 || status_code == 408 || status_code == 429;
    case AttemptFailure::kNone:
    case AttemptFailure::kPermanent:
      return false;
  }
  return false;
}

std::chrono::milliseconds RetryDelay(int attempt, double jitter,
                                     std::optional<std::chrono::seconds> retry_after) {
  if (retry_after) {
    auto capped = std::min<std::chrono::seconds>(*retry_after, std::chrono::hours(1));
    return std::max<std::chrono::milliseconds>(capped, std::chrono::milliseconds(0));
  }
  int exponent = std::clamp(attempt - 1, 0, 6);  // 2^6 s = 64 s > the 60 s cap already
  double base_ms = std::min(1000.0 * std::pow(2.0, exponent), 60000.0);
  jitter = std::clamp(jitter, -1.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::llround(base_ms * (1 + 0.2 * jitter))));
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    int64_t now_unix_seconds) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(c) != 0; })) {
    if (value.size() > 9) return std::chrono::seconds(999999999);  // absurd: the cap applies
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" (the only date form senders must use).
  std::tm tm{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  int64_t when = static_cast<int64_t>(timegm(&tm));
  return std::chrono::seconds(std::max<int64_t>(0, when - now_unix_seconds));
}

RetryDecision DecideRetry(AttemptFailure failure, int status_code, int attempt, int max_attempts,
                          double jitter, std::optional<std::chrono::seconds> retry_after) {
  RetryDecision d;
  if (!IsRetryable(failure, status_code) || attempt >= max_attempts) return d;
  // Retry-After is honoured only where HTTP gives it that meaning.
  bool honour =
      failure == AttemptFailure::kHttpStatus && (status_code == 429 || status_code == 503);
  d.retry = true;
  d.delay = RetryDelay(attempt, jitter, honour ? retry_after : std::nullopt);
  return d;
}

}  // namespace auri::delivery
