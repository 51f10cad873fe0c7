#include "api/trigger_cache.h"

#include <cctype>

namespace auri::api {
namespace {

// Ids arrive as the client wrote them (any case); PostgreSQL and NOTIFY payloads use lower case.
std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

TriggerCache::TriggerCache(const Clock* clock, Options options) : clock_(clock), options_(options) {
  if (options_.max_entries < 1) options_.max_entries = 1;
}

std::shared_ptr<const TriggerCache::Entry> TriggerCache::Find(const std::string& trigger_id) {
  if (!enabled()) return nullptr;
  const std::string key = Lower(trigger_id);
  std::lock_guard lock(mu_);
  if (!active_) return nullptr;
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  if (clock_->SteadyNow() >= it->second->expires) {
    EraseLocked(it->second);
    return nullptr;
  }
  return it->second->entry;
}

uint64_t TriggerCache::Generation() {
  std::lock_guard lock(mu_);
  return generation_;
}

void TriggerCache::Store(const std::string& trigger_id, const std::string& organization_id,
                         std::string body, uint64_t generation) {
  if (!enabled() || body.size() > options_.max_bytes) return;
  std::string key = Lower(trigger_id);
  // Built outside the lock: the copy of the body is the expensive part.
  auto entry = std::make_shared<const Entry>(Entry{Lower(organization_id), std::move(body)});
  const size_t size = entry->body.size();
  std::lock_guard lock(mu_);
  if (!active_ || generation != generation_) return;
  if (auto it = index_.find(key); it != index_.end()) EraseLocked(it->second);
  while (!slots_.empty() &&
         (slots_.size() >= options_.max_entries || bytes_ + size > options_.max_bytes)) {
    EraseLocked(slots_.begin());
  }
  slots_.push_back(Slot{key, std::move(entry), clock_->SteadyNow() + options_.ttl});
  index_.emplace(std::move(key), std::prev(slots_.end()));
  bytes_ += size;
}

void TriggerCache::Forget(const std::string& trigger_id) {
  const std::string key = Lower(trigger_id);
  std::lock_guard lock(mu_);
  ++generation_;
  if (auto it = index_.find(key); it != index_.end()) EraseLocked(it->second);
}

void TriggerCache::ForgetAll() {
  std::lock_guard lock(mu_);
  ClearLocked();
}

void TriggerCache::SetActive(bool active) {
  std::lock_guard lock(mu_);
  active_ = active;
  ClearLocked();
}

bool TriggerCache::active() {
  std::lock_guard lock(mu_);
  return active_;
}

size_t TriggerCache::size() {
  std::lock_guard lock(mu_);
  return slots_.size();
}

void TriggerCache::EraseLocked(Slots::iterator it) {
  bytes_ -= it->entry->body.size();
  index_.erase(it->trigger_id);
  slots_.erase(it);
}

void TriggerCache::ClearLocked() {
  ++generation_;
  index_.clear();
  slots_.clear();
  bytes_ = 0;
}

}  // namespace auri::api
