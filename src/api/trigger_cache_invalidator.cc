#include "api/trigger_cache_invalidator.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/trigger_cache.h"
#include "common/logging.h"
#include "store/notification_listener.h"

namespace auri::api {

TriggerCacheInvalidator::TriggerCacheInvalidator(TriggerCache* cache, const Logger* log,
                                                 Options options)
    : cache_(cache), log_(log), options_(std::move(options)) {
  thread_ = std::thread([this] { Run(); });
}

TriggerCacheInvalidator::~TriggerCacheInvalidator() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  cache_->SetActive(false);
}

void TriggerCacheInvalidator::Apply(TriggerCache& cache, const std::string& payload) {
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    auto it = doc.find("trigger_id");
    if (it != doc.end() && it->is_string()) {
      cache.Forget(it->get<std::string>());
      return;
    }
  }
  cache.ForgetAll();
}

void TriggerCacheInvalidator::Run() {
  std::optional<NotificationListener> following;
  if (options_.pool != nullptr) {
    following.emplace(*options_.pool, std::vector<std::string>{"trigger_changed"});
  } else {
    following.emplace(options_.dsn, std::vector<std::string>{"trigger_changed"});
  }
  NotificationListener& listener = *following;
  bool failing = false;  // log a failure once, and its recovery once
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    Result<NotificationListener::Wakeup> woke = listener.Wait(options_.wait_slice);
    if (woke.ok()) {
      // A (re)connect may have missed notifications: start from an empty cache, and only now
      // (LISTEN is in place) let it serve.
      if (woke->reconnected) {
        cache_->SetActive(true);
        if (failing) log_->Info("trigger cache: listening for trigger changes again");
        failing = false;
      }
      if (woke->notifications_dropped) {
        cache_->ForgetAll();
      } else {
        for (const NotificationListener::Notification& n : woke->notifications) {
          Apply(*cache_, n.payload);
        }
      }
    } else {
      // Changes made elsewhere would go unnoticed: serve nothing from the cache until the
      // connection is back.
      cache_->SetActive(false);
      if (!failing) {
        log_->Warn("trigger cache off: cannot listen for trigger changes; retrying",
                   {{"error", woke.status().ToString()}});
      }
      failing = true;
    }
    lock.lock();
    if (!woke.ok()) cv_.wait_for(lock, options_.retry_interval, [this] { return stop_; });
  }
}

}  // namespace auri::api
