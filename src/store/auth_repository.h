#pragma once
// The queries request authentication needs on every call (api/authenticator.h, api/access.h):
// API-key lookup by prefix, key-use and failure records, membership roles. The CRUD of users,
// organizations and keys lives in their own repositories; these stay small because they are on
// the hot path of every authenticated request.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/pool.h"

namespace auri {

// What authentication needs to know about an API key row.
struct ApiKeyAuthRecord {
  std::string id;
  std::string organization_id;
  std::string organization_plan;  // free | starter | pro | enterprise
  std::string key_hash;           // argon2id encoded
  std::vector<std::string> permissions;
  int64_t rate_limit_override = 0;  // 0 = none
  bool revoked = false;
  bool expired = false;  // expires_at <= now() in the database's clock
};

// The key whose prefix is `prefix`, or nullopt. Errors: those of ConnectionPool::Acquire;
// kUnavailable when the query fails on a lost connection; kInternal otherwise.
Result<std::optional<ApiKeyAuthRecord>> FindApiKeyByPrefix(ConnectionPool& pool,
                                                           const std::string& prefix,
                                                           std::chrono::milliseconds timeout);

// One api_key_audit_log row (event_type: used | auth_failed | rate_limited | created | rotated |
// revoked); for "used" also sets the key's last_used_at/last_used_ip. `ip` may be empty.
Status RecordApiKeyEvent(ConnectionPool& pool, const std::string& api_key_id,
                         const std::string& organization_id, const std::string& event_type,
                         const std::string& ip, const std::string& endpoint,
                         std::chrono::milliseconds timeout);

// One auth_failures row for a failure no key can be attributed to (unknown prefix, malformed key).
// `key_prefix` may be empty.
Status RecordAuthFailure(ConnectionPool& pool, const std::string& failure_type,
                         const std::string& key_prefix, const std::string& ip,
                         const std::string& endpoint, std::chrono::milliseconds timeout);

// The role of `user_id` in `organization_id` ("owner" | "admin" | "member" | "viewer"), or
// nullopt when not a member (or either id is not a UUID: the caller checks syntax first).
Result<std::optional<std::string>> FindMemberRole(ConnectionPool& pool,
                                                  const std::string& organization_id,
                                                  const std::string& user_id,
                                                  std::chrono::milliseconds timeout);

}  // namespace auri
