#pragma once
// Who is counted against which limit (spec 10-api.md, "Rate limiting"): the pipeline calls
// Decide() after authentication for every route marked `rate_limited`.
//
//   API key        → "org:<organization id>", the key's rate_limit_override or the plan's limit
//   user (JWT)     → "user:<user id>", rate_limit.user_per_hour
//   ingest token   → not limited (the chain ingester must never be throttled into losing events;
//                    its volume is bounded by the batch size and back pressure instead)
//   anonymous      → "ip:<client ip>", rate_limit.anonymous_per_hour
// plus, on POST /api/v1/auth/login and /auth/register, "login:<client ip>" at
// rate_limit.login_per_minute (brute-force guard), checked first.
//
// The client IP is the connection's peer, unless the peer is a trusted proxy: then it is the
// right-most address of X-Forwarded-For that is not itself a trusted proxy.
//
// Thread-safe. `limiter` and `clock` are not owned and must outlive the policy.
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/http.h"
#include "api/pipeline.h"
#include "config/config.h"

namespace auri {
class Clock;
class RateLimiter;
}  // namespace auri

namespace auri::api {

// The client address of `request` as described above.
std::string ClientIp(const HttpRequest& request, const std::vector<std::string>& trusted_proxies);

class RateLimitPolicy {
 public:
  // `on_key_limited` (may be empty) is called when an API key's organization is refused, at most
  // once per key per minute, e.g. to write the "rate_limited" audit row.
  RateLimitPolicy(Config::RateLimit limits, RateLimiter* limiter, const Clock* clock,
                  std::function<void(const HttpRequest&)> on_key_limited = {});

  RateDecision Decide(const HttpRequest& request, const Route& route);

 private:
  int64_t PlanLimit(const std::string& plan) const;

  Config::RateLimit limits_;
  RateLimiter* limiter_;
  const Clock* clock_;
  std::function<void(const HttpRequest&)> on_key_limited_;
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> last_limited_audit_;  // key id → unix s
};

}  // namespace auri::api
