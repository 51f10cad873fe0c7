#pragma once
// API key management (spec 10-api.md): create, list, read, update, revoke and rotate keys, each
// mutation with its api_key_audit_log row in the same transaction. Keys are stored as prefix +
// argon2id hash only; nothing here ever sees or returns a whole key except as the caller's hash.
//
// Every function: errors of ConnectionPool::Acquire; kUnavailable on a lost connection; kInternal
// otherwise (see store/pg_error.h). Ids are canonical UUID text. Thread-safe.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/organization_repository.h"
#include "store/pool.h"

namespace auri {

struct ApiKeyRecord {
  std::string id;
  std::string organization_id;
  std::string name;
  std::string prefix;
  std::string environment;               // live | test
  std::vector<std::string> permissions;  // subset of read, write, delete, admin
  std::optional<int64_t> rate_limit_override;
  std::optional<std::string> created_by;
  std::string created_at;  // RFC 3339 UTC
  std::string updated_at;
  std::optional<std::string> last_used_at;
  std::optional<std::string> expires_at;
  std::optional<std::string> revoked_at;
  std::optional<std::string> revocation_reason;
};

// A key row to insert (the key itself is not here: only its prefix and hash).
struct NewApiKeyRow {
  std::string organization_id;
  std::string name;
  std::string prefix;
  std::string key_hash;
  std::string environment;
  std::vector<std::string> permissions;  // REQUIRES: each one of read, write, delete, admin
  std::optional<int64_t> rate_limit_override;
  std::optional<int64_t> expires_at_ms;   // unix ms
  std::optional<std::string> created_by;  // user id; unset when a key creates a key
};

// Who did it, for the audit row.
struct AuditContext {
  std::optional<std::string> user_id;  // the acting user, if a user acted
  std::string ip;
  std::string endpoint;
};

// Inserts the key and its "created" audit row. Errors: kAlreadyExists when the prefix collides
// with another key's (the caller generates another key and retries).
Result<ApiKeyRecord> InsertApiKey(ConnectionPool& pool, const NewApiKeyRow& row,
                                  const AuditContext& audit, std::chrono::milliseconds timeout);

// The organization's keys, newest first (revoked ones included).
Result<PageOf<ApiKeyRecord>> ListApiKeys(ConnectionPool& pool, const std::string& organization_id,
                                         int64_t limit, int64_t offset,
                                         std::chrono::milliseconds timeout);

Result<std::optional<ApiKeyRecord>> GetApiKey(ConnectionPool& pool, const std::string& id,
                                              std::chrono::milliseconds timeout);

// Fields to change; unset fields are kept; an inner nullopt clears the column.
struct ApiKeyUpdate {
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> permissions;
  std::optional<std::optional<int64_t>> rate_limit_override;
  std::optional<std::optional<int64_t>> expires_at_ms;
};
// The updated key, or nullopt when there is none. Errors: kFailedPrecondition when revoked.
Result<std::optional<ApiKeyRecord>> UpdateApiKey(ConnectionPool& pool, const std::string& id,
                                                 const ApiKeyUpdate& update,
                                                 std::chrono::milliseconds timeout);

// Revokes the key (revoked_at, revoked_by, reason) and writes the "revoked" audit row. Returns
// false when it was already revoked (nothing written). Errors: kNotFound.
Result<bool> RevokeApiKey(ConnectionPool& pool, const std::string& id,
                          const std::optional<std::string>& reason, const AuditContext& audit,
                          std::chrono::milliseconds timeout);

// In one transaction: revokes key `old_id` (reason "rotated"), inserts `replacement` (which
// carries the old key's settings) and writes a "rotated" audit row for the old key and a
// "created" row for the new one. Errors: kNotFound; kFailedPrecondition when the old key is
// revoked; kAlreadyExists on a prefix collision (retry with another key).
Result<ApiKeyRecord> RotateApiKey(ConnectionPool& pool, const std::string& old_id,
                                  const NewApiKeyRow& replacement, const AuditContext& audit,
                                  std::chrono::milliseconds timeout);

}  // namespace auri
