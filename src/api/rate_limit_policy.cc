#include "api/rate_limit_policy.h"

#include <algorithm>

#include "cache/rate_limiter.h"
#include "common/clock.h"

namespace auri::api {
namespace {

constexpr RateWindow kHour{60, 60};   // 60 one-minute buckets
constexpr RateWindow kMinute{1, 60};  // 60 one-second buckets

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTrusted(std::string_view ip, const std::vector<std::string>& trusted) {
  return std::find(trusted.begin(), trusted.end(), ip) != trusted.end();
}

RateDecision ToDecision(const RateCheck& check, int64_t now) {
  RateDecision d;
  d.allowed = check.allowed;
  d.limit = check.limit;
  d.remaining = check.remaining();
  d.reset_unix = check.reset_unix;
  d.retry_after = std::max<int64_t>(1, check.reset_unix - now);
  return d;
}

}  // namespace

std::string ClientIp(const HttpRequest& request, const std::vector<std::string>& trusted_proxies) {
  if (!IsTrusted(request.client_ip, trusted_proxies)) return request.client_ip;
  std::optional<std::string_view> forwarded = request.Header("X-Forwarded-For");
  if (!forwarded) return request.client_ip;
  // Walk from the right: each trusted proxy appended the address it received from.
  std::string_view list = *forwarded;
  std::string candidate = request.client_ip;
  while (!list.empty()) {
    size_t comma = list.rfind(',');
    std::string_view item = Trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
    if (item.empty() || item.size() > 64) break;  // malformed: stop believing the header
    candidate = std::string(item);
    if (!IsTrusted(item, trusted_proxies)) break;
  }
  return candidate;
}

RateLimitPolicy::RateLimitPolicy(Config::RateLimit limits, RateLimiter* limiter, const Clock* clock,
                                 std::function<void(const HttpRequest&)> on_key_limited)
    : limits_(std::move(limits)),
      limiter_(limiter),
      clock_(clock),
      on_key_limited_(std::move(on_key_limited)) {}

int64_t RateLimitPolicy::PlanLimit(const std::string& plan) const {
  if (plan == "starter") return limits_.starter_per_hour;
  if (plan == "pro") return limits_.pro_per_hour;
  if (plan == "enterprise") return limits_.enterprise_per_hour;
  return limits_.free_per_hour;
}

RateDecision RateLimitPolicy::Decide(const HttpRequest& request, const Route& route) {
  int64_t now = clock_->UnixMillis() / 1000;
  const Caller& caller = request.caller;
  if (caller.kind == CallerKind::kIngestToken) {
    RateDecision unlimited;
    return unlimited;
  }
  std::string ip = ClientIp(request, limits_.trusted_proxies);
  if (route.method == "POST" &&
      (route.pattern == "/api/v1/auth/login" || route.pattern == "/api/v1/auth/register")) {
    // FailoverRateLimiter never fails; a bare RedisRateLimiter failing lets the request through
    // (limits protect capacity; they must not become an outage of their own).
    Result<RateCheck> login = limiter_->Hit("login:" + ip, limits_.login_per_minute, kMinute, now);
    if (login.ok() && !login->allowed) return ToDecision(*login, now);
  }
  std::string identity;
  int64_t limit = 0;
  switch (caller.kind) {
    case CallerKind::kApiKey:
      identity = "org:" + caller.organization_id;
      limit = caller.rate_limit_override > 0 ? caller.rate_limit_override
                                             : PlanLimit(caller.organization_plan);
      break;
    case CallerKind::kUser:
      identity = "user:" + caller.user_id;
      limit = limits_.user_per_hour;
      break;
    default:
      identity = "ip:" + ip;
      limit = limits_.anonymous_per_hour;
      break;
  }
  Result<RateCheck> check = limiter_->Hit(identity, std::max<int64_t>(1, limit), kHour, now);
  if (!check.ok()) {
    RateDecision pass;
    pass.limit = limit;
    pass.remaining = limit;
    pass.reset_unix = now + 3600;
    return pass;
  }
  if (!check->allowed && caller.kind == CallerKind::kApiKey && on_key_limited_) {
    bool report = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      int64_t& last = last_limited_audit_[caller.api_key_id];
      if (now - last >= 60) {
        last = now;
        report = true;
      }
      if (last_limited_audit_.size() > 10000) last_limited_audit_.clear();
    }
    if (report) on_key_limited_(request);
  }
  return ToDecision(*check, now);
}

}  // namespace auri::api
