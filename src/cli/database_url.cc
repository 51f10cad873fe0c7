#include "cli/database_url.h"

#include "secrets/secret_store.h"
#include "store/pool.h"

namespace auri {

std::string ServiceDatabaseDsn(const Config& config, const SecretStore* store) {
  if (store != nullptr) {
    auto secret = store->Get(kDatabaseUrlSecret);
    if (secret.ok() && !secret->value.empty()) return secret->value.reveal();
  }
  return config.DatabaseDsn();
}

DatabaseUrlWatcher::DatabaseUrlWatcher(const SecretStore* store, std::vector<ConnectionPool*> pools,
                                       const Logger& log, std::chrono::milliseconds interval)
    : store_(store), pools_(std::move(pools)), log_(log), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

DatabaseUrlWatcher::~DatabaseUrlWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DatabaseUrlWatcher::Run() {
  uint64_t seen = 0;
  bool first = true;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    // The generation changes on any secret write; only then is the secret decrypted.
    auto generation = store_->Generation();
    if (generation.ok() && (first || *generation != seen)) {
      first = false;
      seen = *generation;
      auto secret = store_->Get(kDatabaseUrlSecret);
      if (secret.ok() && !secret->value.empty()) {
        for (ConnectionPool* pool : pools_) {
          if (pool->dsn() == secret->value.reveal()) continue;
          pool->Reconfigure(secret->value.reveal());
          switches_.fetch_add(1);
          // The DSN may hold a password: log the version, not the value.
          log_.Info("database-url changed; new connections go to the new database",
                    {{"secret_version", secret->info.version}});
        }
      } else if (!secret.ok() && secret.status().code() != StatusCode::kNotFound) {
        log_.Warn("cannot read the database-url secret; keeping the current database",
                  {{"error", secret.status().ToString()}});
      }
    }
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace auri
