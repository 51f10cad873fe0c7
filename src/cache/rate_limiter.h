#pragma once
// Sliding-window rate limiting (spec 10-api.md, "Rate limiting"): a window is `bucket_count`
// buckets of `bucket_seconds` (the API uses 60 one-minute buckets for "per hour" and 60 one-second
// buckets for "per minute"). A hit is allowed when the buckets still inside the window sum to less
// than the limit; an allowed hit is counted in the current bucket, a refused one is not.
//
// Three implementations behind one interface:
//   RedisRateLimiter   — the shared counter: one Lua script reads, prunes and increments the
//                        buckets of a key atomically, so every gateway replica sees the same count.
//   LocalRateLimiter   — the same algorithm in process memory (per replica).
//   FailoverRateLimiter — Redis while it answers; when a call fails, the local limiter with the
//                        same limits takes over (and Redis is retried after a pause), so losing
//                        Redis degrades the limit to per-replica instead of failing requests.
//
// Rate-limit state is disposable by design: losing it only resets counts (nothing that must not
// be lost lives in Redis). All implementations are thread-safe.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace auri {

class RedisClient;

struct RateWindow {
  int64_t bucket_seconds = 60;
  int64_t bucket_count = 60;
};

struct RateCheck {
  bool allowed = true;
  int64_t limit = 0;
  int64_t count = 0;       // hits in the window, including this one when allowed
  int64_t reset_unix = 0;  // when the oldest counted bucket leaves the window (unix seconds)
  int64_t remaining() const { return limit > count ? limit - count : 0; }
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Counts one hit for `key` at `now_unix` (seconds) against `limit`. REQUIRES: limit ≥ 1, window
  // fields ≥ 1. Errors: only the Redis implementation fails (kUnavailable etc., RedisClient).
  virtual Result<RateCheck> Hit(const std::string& key, int64_t limit, const RateWindow& window,
                                int64_t now_unix) = 0;
};

class RedisRateLimiter final : public RateLimiter {
 public:
  // Keys are "<key_prefix><key>". `redis` is not owned and must outlive this.
  RedisRateLimiter(RedisClient* redis, std::string key_prefix);
  Result<RateCheck> Hit(const std::string& key, int64_t limit, const RateWindow& window,
                        int64_t now_unix) override;

 private:
  RedisClient* redis_;
  std::string prefix_;
};

class LocalRateLimiter final : public RateLimiter {
 public:
  // At most `max_keys` identities are tracked; beyond that, keys whose windows have passed are
  // dropped, and if none has, everything is (a flood of distinct IPs cannot exhaust memory).
  explicit LocalRateLimiter(size_t max_keys = 100000);
  Result<RateCheck> Hit(const std::string& key, int64_t limit, const RateWindow& window,
                        int64_t now_unix) override;

 private:
  struct Buckets {
    std::vector<std::pair<int64_t, int64_t>> counts;  // (bucket index, hits)
    int64_t last_hit_unix = 0;
    int64_t window_seconds = 0;
  };
  void PruneLocked(int64_t now_unix);
  size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Buckets> keys_;
};

class FailoverRateLimiter final : public RateLimiter {
 public:
  // After a Redis failure, Redis is not asked again for `retry_after` (so a hung Redis costs one
  // timeout per pause, not one per request). Neither argument is owned.
  FailoverRateLimiter(RateLimiter* primary, RateLimiter* fallback,
                      std::chrono::milliseconds retry_after = std::chrono::seconds(1));
  // Never fails: the fallback answers when the primary cannot.
  Result<RateCheck> Hit(const std::string& key, int64_t limit, const RateWindow& window,
                        int64_t now_unix) override;
  // True while the fallback is answering.
  bool degraded() const { return degraded_.load(); }

 private:
  RateLimiter* primary_;
  RateLimiter* fallback_;
  std::chrono::milliseconds retry_after_;
  std::atomic<bool> degraded_{false};
  std::atomic<int64_t> next_try_steady_ms_{0};
};

}  // namespace auri
