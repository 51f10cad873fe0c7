#include "api/member_role_cache.h"

#include <cctype>

namespace auri::api {

namespace {

// Ids arrive as the client wrote them (a header or a path, any case); PostgreSQL reads them as
// the same UUID either way, so the cache must too.
std::string Lower(const std::string& text) {
  std::string out = text;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

MemberRoleCache::MemberRoleCache(Lookup lookup, const Clock* clock, Options options)
    : lookup_(std::move(lookup)), clock_(clock), options_(options) {
  if (options_.max_entries < 1) options_.max_entries = 1;
}

std::string MemberRoleCache::KeyOf(const std::string& organization_id, const std::string& user_id) {
  // Both are UUIDs (the callers check), so a separator that is not a UUID character is enough.
  return Lower(organization_id) + '/' + Lower(user_id);
}

Result<std::optional<std::string>> MemberRoleCache::Find(const std::string& organization_id,
                                                         const std::string& user_id) {
  if (options_.ttl.count() <= 0) return lookup_(organization_id, user_id);
  const std::string key = KeyOf(organization_id, user_id);
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      if (clock_->SteadyNow() < it->second.expires)
        return std::optional<std::string>(it->second.role);
      entries_.erase(it);
    }
    generation = generation_;
  }
  // The lookup runs without the lock: it waits for the database.
  Result<std::optional<std::string>> found = lookup_(organization_id, user_id);
  if (!found.ok() || !found.value()) return found;
  std::lock_guard lock(mu_);
  if (generation != generation_) return found;
  const auto now = clock_->SteadyNow();
  if (entries_.size() >= options_.max_entries) {
    std::erase_if(entries_, [now](const auto& e) { return e.second.expires <= now; });
    if (entries_.size() >= options_.max_entries) entries_.clear();
  }
  entries_[key] = Entry{*found.value(), now + options_.ttl};
  return found;
}

void MemberRoleCache::ForgetOrganization(const std::string& organization_id) {
  const std::string prefix = Lower(organization_id) + '/';
  std::lock_guard lock(mu_);
  ++generation_;
  std::erase_if(entries_, [&prefix](const auto& e) { return e.first.starts_with(prefix); });
}

}  // namespace auri::api
