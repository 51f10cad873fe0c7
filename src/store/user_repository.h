#pragma once
// Users and their sessions (spec 10-api.md, "Authentication"): registration with the personal
// organization, login bookkeeping (failure counter, lockout, last login, password rehash),
// refresh-token sessions (rotation, family revocation on reuse, the live-session cap), the profile
// of GET /auth/me, and the periodic cleanup of expired authentication records.
//
// Policy (lockout durations, token formats, limits) is the caller's; this file stores what it is
// told, atomically. Every function: errors of ConnectionPool::Acquire; kUnavailable on a lost
// connection; kInternal otherwise (see store/pg_error.h). Thread-safe (the pool is).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/pool.h"

namespace auri {

struct UserRecord {
  std::string id;
  std::string username;
  std::string email;
  std::string password_hash;
  bool is_active = true;
  int failed_login_attempts = 0;
  std::optional<int64_t> locked_until_ms;  // unix ms; set while (or after) locked
  std::string created_at;                  // RFC 3339 UTC
  std::optional<std::string> last_login_at;
};

// Where a new session comes from (stored with the refresh token; either may be empty).
struct SessionOrigin {
  std::string ip;
  std::string user_agent;  // cut to 256 characters by the caller
};

// A refresh token to store: its SHA-256 hex and expiry.
struct NewRefreshToken {
  std::string token_hash;
  int64_t expires_at_ms = 0;
};

enum class RegisterOutcome { kCreated, kUsernameTaken, kEmailTaken };

struct Registration {
  std::string username;
  std::string email;
  std::string password_hash;
  std::string organization_name;  // "<username>'s Personal"
  std::string organization_slug;  // preferred slug; a random suffix is added if it is taken
  NewRefreshToken refresh_token;
  SessionOrigin origin;
};

struct RegisterResult {
  RegisterOutcome outcome = RegisterOutcome::kCreated;
  UserRecord user;  // set when kCreated
};

// Whether `username` or `email` (compared ignoring case) is already registered: kCreated means
// both are free. A cheap check before the expensive password hash; RegisterUser checks again.
Result<RegisterOutcome> CheckRegistrationAvailable(ConnectionPool& pool,
                                                   const std::string& username,
                                                   const std::string& email,
                                                   std::chrono::milliseconds timeout);

// In one transaction: the user, its personal organization (is_personal, plan free) with the user
// as owner, and the first session (refresh token of a new family). A username or email taken
// (ignoring case, also by a concurrent registration) yields kUsernameTaken/kEmailTaken and
// changes nothing.
Result<RegisterResult> RegisterUser(ConnectionPool& pool, const Registration& registration,
                                    std::chrono::milliseconds timeout);

// The user whose username (or, when `by_email`, email) equals `name` ignoring case; nullopt if
// none.
Result<std::optional<UserRecord>> FindUserByLogin(ConnectionPool& pool, const std::string& name,
                                                  bool by_email, std::chrono::milliseconds timeout);

Result<std::optional<UserRecord>> FindUserById(ConnectionPool& pool, const std::string& user_id,
                                               std::chrono::milliseconds timeout);

// Counts one more consecutive failed login for `user_id` (atomically) and stores
// locked_until = lock_until_ms(new count) when that returns a value. Returns the new count and
// the lock (if any).
struct LoginFailure {
  int failures = 0;
  std::optional<int64_t> locked_until_ms;
};
Result<LoginFailure> RecordLoginFailure(
    ConnectionPool& pool, const std::string& user_id,
    const std::function<std::optional<int64_t>(int failures)>& lock_until_ms,
    std::chrono::milliseconds timeout);

// A successful login, in one transaction: resets the failure counter and lock, sets
// last_login_at = now(), replaces the password hash when `new_password_hash` is given (rehash
// under new limits), and creates a session (see CreateSession). Returns the updated user.
Result<UserRecord> RecordLoginSuccess(ConnectionPool& pool, const std::string& user_id,
                                      const std::optional<std::string>& new_password_hash,
                                      const NewRefreshToken& token, const SessionOrigin& origin,
                                      int max_live_sessions, std::chrono::milliseconds timeout);

enum class RefreshOutcome {
  kRotated,        // the old token is revoked, the new one stored in the same family
  kUnknown,        // no such token
  kExpired,        // past its expiry
  kRevoked,        // revoked by logout or the session cap (not by rotation)
  kReuseDetected,  // already rotated: the whole family is now revoked
};
struct RefreshResult {
  RefreshOutcome outcome = RefreshOutcome::kUnknown;
  std::string user_id;   // when kRotated or kReuseDetected
  std::string username;  // when kRotated
};

// Rotates the session whose token hash is `old_hash`: in one transaction (the token row locked),
// decides the outcome above; on kRotated inserts `next` in the same family, marks the old token
// revoked and replaced_by the new one, and applies the session cap. On kReuseDetected revokes every
// live token of the family and commits that. A user that is no longer active yields kRevoked.
Result<RefreshResult> RotateSession(ConnectionPool& pool, const std::string& old_hash,
                                    const NewRefreshToken& next, const SessionOrigin& origin,
                                    int max_live_sessions, std::chrono::milliseconds timeout);

// Revokes the live token with hash `token_hash` when it belongs to `user_id`. Returns whether a
// token was revoked.
Result<bool> RevokeSession(ConnectionPool& pool, const std::string& user_id,
                           const std::string& token_hash, std::chrono::milliseconds timeout);

// The number of live (unrevoked, unexpired) sessions of `user_id`.
Result<int64_t> CountLiveSessions(ConnectionPool& pool, const std::string& user_id,
                                  std::chrono::milliseconds timeout);

// One membership of a user, for GET /auth/me.
struct MembershipSummary {
  std::string organization_id;
  std::string name;
  std::string slug;
  std::string role;
};
struct UserProfile {
  UserRecord user;
  std::vector<MembershipSummary> organizations;  // oldest membership first
};
Result<std::optional<UserProfile>> LoadUserProfile(ConnectionPool& pool, const std::string& user_id,
                                                   std::chrono::milliseconds timeout);

// Periodic cleanup: deletes refresh tokens past their expiry and auth_failures rows older than
// `failure_retention`. Returns how many rows of each were deleted.
struct AuthCleanupCounts {
  int64_t refresh_tokens = 0;
  int64_t auth_failures = 0;
};
Result<AuthCleanupCounts> DeleteExpiredAuthRecords(ConnectionPool& pool,
                                                   std::chrono::hours failure_retention,
                                                   std::chrono::milliseconds timeout);

}  // namespace auri
