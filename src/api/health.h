#pragma once
// Health of the api-gateway's dependencies, probed in the background and cached, and the handlers
// of GET /health and GET /metrics.
//
// Health checks arrive often (load balancers, `auri status`, benchmarks); a request must never turn
// into a database round trip, so a background thread pings PostgreSQL and Redis every
// `refresh_interval` and requests read the cached result (spec: the probe is cached ≤ 1 s).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "api/http.h"
#include "common/status.h"

namespace auri {
class Logger;
class MetricsRegistry;
}  // namespace auri

namespace auri::api {

class DependencyProbe {
 public:
  using Ping = std::function<Status()>;

  // `ping_database` and `ping_redis` return OK when the dependency answers; they are called only
  // from the probe thread, must bound their own waits (connect/statement timeouts), and may throw
  // (an exception counts as a failure). `logger` (optional, not owned) gets a line whenever a
  // dependency changes state. REQUIRES: refresh_interval > 0.
  DependencyProbe(Ping ping_database, Ping ping_redis,
                  std::chrono::milliseconds refresh_interval = std::chrono::milliseconds(500),
                  const Logger* logger = nullptr);
  // Stops the thread (see Stop).
  ~DependencyProbe();
  DependencyProbe(const DependencyProbe&) = delete;
  DependencyProbe& operator=(const DependencyProbe&) = delete;

  // Probes both dependencies once on the calling thread (so the first health request sees real
  // state), then starts the background thread. Calling it twice does nothing the second time.
  void Start();
  // Wakes and joins the background thread; waits at most for one ping in progress. Idempotent.
  void Stop();

  struct State {
    bool database_ok = false;
    bool redis_ok = false;
  };
  // The cached state. A dependency whose last successful answer is older than
  // max(4 × refresh_interval, 2 s) counts as down, so a ping that hangs cannot keep a stale "ok".
  // Before Start, both are down. Thread-safe, never blocks on a ping.
  State Current() const;

 private:
  void ProbeOnce();
  void Run();

  Ping ping_database_;
  Ping ping_redis_;
  std::chrono::milliseconds refresh_interval_;
  std::chrono::milliseconds stale_after_;
  const Logger* logger_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool started_ = false;
  bool stopping_ = false;
  bool probed_ = false;
  bool database_ok_ = false;
  bool redis_ok_ = false;
  std::chrono::steady_clock::time_point database_ok_at_;
  std::chrono::steady_clock::time_point redis_ok_at_;
  std::thread thread_;
};

// GET /health and GET /api/v1/health:
//   {"status": "healthy"|"degraded"|"unhealthy", "database": "connected"|"disconnected",
//    "redis": "connected"|"disconnected", "version": "<kVersion>", "uptime_seconds": n}
// 200 healthy (both up), 200 degraded (Redis down), 503 unhealthy with Retry-After: 5 (database
// down). `started_at` is when the gateway started (uptime is whole seconds since then).
HttpResponse HealthResponse(const DependencyProbe& probe,
                            std::chrono::steady_clock::time_point started_at);

// GET /metrics: the registry in the Prometheus text format, "text/plain; version=0.0.4".
HttpResponse MetricsResponse(const MetricsRegistry& metrics);

}  // namespace auri::api
