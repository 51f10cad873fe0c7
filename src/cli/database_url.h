#pragma once
// Which database a service talks to, and switching it while the service runs (`auri restore
// --switch`, spec 40-dr.md): the `database-url` secret names it when it exists, the configuration
// otherwise. DatabaseUrlWatcher polls the secret store's generation (every 500 ms, so a switch is
// noticed within a second, like the JWT key ring and SecretMatcher) and, when the secret's current
// value differs from a pool's DSN, calls ConnectionPool::Reconfigure: idle connections close at
// once, borrowed ones when they are returned, and LISTEN connections that follow the pool
// reconnect on their next wait.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"
#include "config/config.h"

namespace auri {

class ConnectionPool;
class SecretStore;

// The secret that names the services' database.
inline constexpr const char* kDatabaseUrlSecret = "database-url";

// The DSN a service starts with: the current `database-url` when `store` holds it, else
// config.DatabaseDsn(). `store` may be null (a role run without a secret store).
std::string ServiceDatabaseDsn(const Config& config, const SecretStore* store);

class DatabaseUrlWatcher {
 public:
  // Starts the polling thread. `store`, each pool and `log` are not owned and must outlive the
  // watcher.
  DatabaseUrlWatcher(const SecretStore* store, std::vector<ConnectionPool*> pools,
                     const Logger& log,
                     std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~DatabaseUrlWatcher();  // stops and joins the thread
  DatabaseUrlWatcher(const DatabaseUrlWatcher&) = delete;
  DatabaseUrlWatcher& operator=(const DatabaseUrlWatcher&) = delete;

  // How many times a pool was pointed at a new database (for /health and tests).
  int switches() const { return switches_.load(); }

 private:
  void Run();
  const SecretStore* store_;
  std::vector<ConnectionPool*> pools_;
  const Logger& log_;
  const std::chrono::milliseconds interval_;
  std::atomic<int> switches_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace auri
