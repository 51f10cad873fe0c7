#pragma once
// The action-workers loop (spec 30-delivery.md): claim due jobs with a lease, deliver them on one
// curl-multi event loop (up to `concurrency` in flight, `per_host_concurrency` per destination
// host), record the outcome (retry, succeeded or dead + result row), reclaim expired leases, purge
// old jobs hourly, and on stop release the leases of unfinished jobs.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/metrics.h"
#include "common/result.h"
#include "delivery/ssrf_guard.h"
#include "delivery/telegram_executor.h"
#include "store/pool.h"

namespace auri::delivery {

struct WorkerOptions {
  std::string owner;  // lease owner, unique per process (e.g. "host:pid:random")
  int concurrency = 256;
  int per_host_concurrency = 32;
  std::chrono::seconds lease{60};
  std::chrono::milliseconds poll_interval{1000};
  int max_attempts = 5;  // caps each job's own max_attempts
  int retention_days = 30;
  PrivateDestinations private_destinations = PrivateDestinations::kRefuse;
  std::string telegram_api_base = "https://api.telegram.org";
  std::string user_agent;  // "auri/<version>"
  std::chrono::milliseconds db_timeout{5000};
  std::chrono::milliseconds shutdown_grace{5000};  // in-flight requests may finish this long
};

struct WorkerDeps {
  ConnectionPool* pool = nullptr;
  // Raw HMAC keys of webhook-signing-secret: current first, then previous (during a rotation).
  std::function<Result<std::vector<std::string>>()> signing_keys;
  // The telegram-bot-token secret (kNotFound when unset).
  std::function<Result<std::string>()> telegram_token;
  TelegramRateLimiter* telegram_limiter = nullptr;
  MetricsRegistry* metrics = nullptr;
  const Logger* logger = nullptr;
};

class Worker {
 public:
  Worker(WorkerOptions options, WorkerDeps deps);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs until `stop` becomes true (checked at least every 100 ms), then lets in-flight requests
  // finish for at most shutdown_grace and releases the leases of the rest. Returns OK after a
  // clean stop; database outages while running are logged and retried, not returned.
  Status Run(const std::atomic<bool>& stop);

  int in_flight() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace auri::delivery
