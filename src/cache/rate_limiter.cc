#include "cache/rate_limiter.h"

#include <algorithm>

#include "cache/redis_client.h"

namespace auri {
namespace {

// KEYS[1] = the identity's hash of buckets; ARGV = now (s), bucket width (s), bucket count,
// limit. Returns {allowed 0/1, count, oldest counted bucket index}. Pruning and counting happen in
// one script, so concurrent gateways never both take the last slot.
constexpr std::string_view kHitScript = R"lua(
local now = tonumber(ARGV[1])
local width = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local current = math.floor(now / width)
local first = current - n + 1
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
local oldest = current
for i = 1, #fields, 2 do
  local b = tonumber(fields[i])
  if b < first then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    total = total + tonumber(fields[i + 1])
    if b < oldest then oldest = b end
  end
end
if total >= limit then
  return {0, total, oldest}
end
redis.call('HINCRBY', KEYS[1], tostring(current), 1)
redis.call('EXPIRE', KEYS[1], width * (n + 1))
return {1, total + 1, oldest}
)lua";

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(RedisClient* redis, std::string key_prefix)
    : redis_(redis), prefix_(std::move(key_prefix)) {}

Result<RateCheck> RedisRateLimiter::Hit(const std::string& key, int64_t limit,
                                        const RateWindow& window, int64_t now_unix) {
  ASSIGN_OR_RETURN(RedisReply reply,
                   redis_->Eval(kHitScript, {prefix_ + key},
                                {std::to_string(now_unix), std::to_string(window.bucket_seconds),
                                 std::to_string(window.bucket_count), std::to_string(limit)}));
  const auto& e = reply.elements();
  if (!reply.is_array() || e.size() != 3 || !e[0].is_integer() || !e[1].is_integer() ||
      !e[2].is_integer()) {
    return Internal("rate limit script returned " + reply.DebugString());
  }
  RateCheck check;
  check.allowed = e[0].integer() == 1;
  check.limit = limit;
  check.count = e[1].integer();
  check.reset_unix = (e[2].integer() + window.bucket_count) * window.bucket_seconds;
  return check;
}

LocalRateLimiter::LocalRateLimiter(size_t max_keys) : max_keys_(std::max<size_t>(1, max_keys)) {}

void LocalRateLimiter::PruneLocked(int64_t now_unix) {
  for (auto it = keys_.begin(); it != keys_.end();) {
    const Buckets& b = it->second;
    if (b.last_hit_unix + b.window_seconds <= now_unix) {
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
  if (keys_.size() >= max_keys_) keys_.clear();
}

Result<RateCheck> LocalRateLimiter::Hit(const std::string& key, int64_t limit,
                                        const RateWindow& window, int64_t now_unix) {
  int64_t current = now_unix / window.bucket_seconds;
  int64_t first = current - window.bucket_count + 1;
  std::lock_guard<std::mutex> lock(mu_);
  if (keys_.size() >= max_keys_ && keys_.find(key) == keys_.end()) PruneLocked(now_unix);
  Buckets& b = keys_[key];
  b.last_hit_unix = now_unix;
  b.window_seconds = window.bucket_seconds * window.bucket_count;
  std::erase_if(b.counts, [first](const auto& c) { return c.first < first; });
  int64_t total = 0;
  int64_t oldest = current;
  for (const auto& [bucket, hits] : b.counts) {
    total += hits;
    oldest = std::min(oldest, bucket);
  }
  RateCheck check;
  check.limit = limit;
  check.reset_unix = (oldest + window.bucket_count) * window.bucket_seconds;
  if (total >= limit) {
    check.allowed = false;
    check.count = total;
    return check;
  }
  if (!b.counts.empty() && b.counts.back().first == current) {
    ++b.counts.back().second;
  } else {
    b.counts.emplace_back(current, 1);
  }
  check.count = total + 1;
  return check;
}

FailoverRateLimiter::FailoverRateLimiter(RateLimiter* primary, RateLimiter* fallback,
                                         std::chrono::milliseconds retry_after)
    : primary_(primary), fallback_(fallback), retry_after_(retry_after) {}

Result<RateCheck> FailoverRateLimiter::Hit(const std::string& key, int64_t limit,
                                           const RateWindow& window, int64_t now_unix) {
  if (SteadyMillis() >= next_try_steady_ms_.load()) {
    Result<RateCheck> check = primary_->Hit(key, limit, window, now_unix);
    if (check.ok()) {
      degraded_.store(false);
      return check;
    }
    degraded_.store(true);
    next_try_steady_ms_.store(SteadyMillis() + retry_after_.count());
  }
  return fallback_->Hit(key, limit, window, now_unix);
}

}  // namespace auri
