#pragma once
// MemberRoleCache: a short-lived, bounded cache of membership roles, in front of the lookup that
// every user request naming an organization makes (api/access.h; store FindMemberRole).
//
// Only found memberships are cached; "not a member" is always asked again, so a user who was just
// added is never refused from the cache. The trade-off (docs/decisions.md): a member removed or
// demoted by another process (another gateway replica, SQL) keeps their old role here for at most
// `ttl`. Changes made through this process call ForgetOrganization, which takes effect at once —
// including for lookups already in flight, whose (possibly older) answer is then not cached.
//
// Thread-safe. A ttl of zero disables caching (every Find asks the lookup).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"

namespace auri::api {

class MemberRoleCache {
 public:
  // The role of `user_id` in `organization_id`, or nullopt when not a member (store
  // FindMemberRole with the pool and timeout bound in).
  using Lookup = std::function<Result<std::optional<std::string>>(
      const std::string& organization_id, const std::string& user_id)>;

  struct Options {
    std::chrono::milliseconds ttl{1000};
    size_t max_entries = 10000;  // beyond this, expired entries go; if none has, all do
  };

  // `clock` is not owned and must outlive this.
  MemberRoleCache(Lookup lookup, const Clock* clock, Options options);

  // The cached role when fresh, else the lookup's answer (a found role is then cached for ttl).
  // Errors: those of the lookup (never cached).
  Result<std::optional<std::string>> Find(const std::string& organization_id,
                                          const std::string& user_id);

  // Drops every cached role in `organization_id`. Call after a change of its members (added,
  // removed, role changed, ownership transferred, organization deleted), once it is committed.
  void ForgetOrganization(const std::string& organization_id);

 private:
  struct Entry {
    std::string role;
    std::chrono::steady_clock::time_point expires;
  };
  static std::string KeyOf(const std::string& organization_id, const std::string& user_id);

  Lookup lookup_;
  const Clock* clock_;
  Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // KeyOf(org, user) → role
  // Bumped by every ForgetOrganization: an answer looked up under an older generation may predate
  // the change and is returned but not cached.
  uint64_t generation_ = 0;
};

}  // namespace auri::api
