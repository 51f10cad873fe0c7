#pragma once
// TriggerCacheInvalidator: keeps a TriggerCache honest about changes made outside this gateway.
// A background thread LISTENs on `trigger_changed` (migrations/0001_core.sql: sent on every
// insert/update/delete of triggers, trigger_conditions and trigger_actions that changes a
// definition, with payload {"table", "op", "trigger_id"}; breaker runtime state does not notify,
// and GET /api/v1/triggers/{id} does not show it) and forgets the named trigger, or everything
// when a payload cannot be read or notifications were dropped.
//
// The cache is active only while the LISTEN connection is up: it is activated (cleared) when the
// connection is made, and deactivated (cleared, serving nothing) when it fails, until the next
// successful reconnect, retried every `retry_interval`.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace auri {
class ConnectionPool;
class Logger;
}  // namespace auri

namespace auri::api {

class TriggerCache;

class TriggerCacheInvalidator {
 public:
  struct Options {
    std::string dsn;  // libpq DSN of the database the gateway reads (when `pool` is null)
    // When set: listen on the pool's database and follow it when the pool is reconfigured
    // (`auri restore --switch`), so invalidations keep coming from the database actually read.
    // Not owned; must outlive the invalidator.
    const ConnectionPool* pool = nullptr;
    // How long one wait for notifications lasts: bounds how long Stop takes.
    std::chrono::milliseconds wait_slice{250};
    std::chrono::milliseconds retry_interval{1000};
  };

  // Starts the thread. `cache` and `log` are not owned and must outlive this.
  TriggerCacheInvalidator(TriggerCache* cache, const Logger* log, Options options);
  // Stops and joins the thread (within about one wait_slice); the cache is left inactive.
  ~TriggerCacheInvalidator();
  TriggerCacheInvalidator(const TriggerCacheInvalidator&) = delete;
  TriggerCacheInvalidator& operator=(const TriggerCacheInvalidator&) = delete;

  // Forgets what one `trigger_changed` payload names (everything when it names nothing).
  // Exposed for tests.
  static void Apply(TriggerCache& cache, const std::string& payload);

 private:
  void Run();

  TriggerCache* cache_;
  const Logger* log_;
  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace auri::api
