#pragma once
// Authentication of API requests (spec 10-api.md, "Authentication"): turns the credential a
// request presents into a Caller, before any handler or rate limiter runs.
//
//   X-API-Key: sk_…  or  Authorization: Bearer sk_…   → an API key (prefix lookup + argon2id)
//   Authorization: Bearer <ingest token>               → kIngestToken (POST /api/v1/events only)
//   Authorization: Bearer <jwt>                        → a user (HS256, kid from the key ring)
//
// API keys: the first 16 characters select the row; the whole key is checked against the stored
// argon2id hash. An unknown prefix still runs a dummy hash so the answer takes as long as for a
// known prefix with a wrong key. Because argon2id costs tens of milliseconds by design, a verified
// key is remembered for `api_key_cache_ttl` (keyed by SHA-256 of the whole key, never the key
// itself): a revoked, rotated or expired key therefore stops working within that TTL at most, and
// Forget() drops it at once in the process that revoked it. Every successful key use is counted in
// memory and written to api_key_audit_log ("used") at most once per key per minute with
// last_used_at/ip, so a busy key does not turn every read into a write; every failure with a
// known prefix is written as "auth_failed", every failure without one to auth_failures.
//
// Thread-safe. Dependencies are not owned and must outlive the authenticator.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "api/http.h"
#include "auth/password.h"

namespace auri {
class ConnectionPool;
class JwtKeyRingCache;
class Logger;
}  // namespace auri

namespace auri::api {

struct AuthenticatorDeps {
  ConnectionPool* pool = nullptr;
  JwtKeyRingCache* jwt = nullptr;
  // True when the token equals the current ingest token (constant time). May be empty: then no
  // bearer token is taken as the ingest token.
  std::function<bool(std::string_view)> ingest_token_valid;
  const Logger* logger = nullptr;
  std::chrono::milliseconds acquire_timeout{2000};  // waiting for a pooled connection
  std::chrono::milliseconds api_key_cache_ttl{5000};
  // The cost of the dummy hash run for an unknown prefix: the limits keys are hashed with.
  Argon2Limits argon2_limits = Argon2Limits::Interactive();
};

class Authenticator {
 public:
  explicit Authenticator(AuthenticatorDeps deps);
  ~Authenticator();

  // The caller presenting `request`'s credentials, or the error response to send:
  //   401 unauthorized   no credential, or a malformed Authorization header
  //   401 invalid_token  a JWT that does not verify (expired, bad signature, retired kid…), an API
  //                      key that is malformed, unknown, wrong, revoked or expired
  //   503                the database is unreachable while looking up an API key
  // Never throws.
  std::variant<Caller, HttpResponse> Authenticate(const HttpRequest& request);

  // Drops every cached verification of the key with this id (after revoke or rotate).
  void Forget(std::string_view api_key_id);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace auri::api
