#pragma once
// Access tokens: HS256 JWTs (RFC 7519 / RFC 7515) signed by a key ring built from the secret
// store's `jwt-signing-key` versions (spec/10-api.md, spec/40-dr.md).
//
// Which versions are in the ring:
//   - `current` signs every new token and verifies; its key_id is the header `kid`.
//   - `previous` verifies only, until its not_after_ms (the rotation grace) passes; with no
//     not_after it verifies for as long as it holds the label. `auri secrets rotate` sets the
//     grace; `--revoke-previous` ends it (label cleared or not_after = now).
//   - `pending` does NOT verify: a staged key is not trusted until it is promoted, so a key that is
//     staged and then discarded can never have authenticated anyone.
//   - every other version is out.
// not_after_ms is checked at verification time against the `now_ms` passed in, not only when the
// ring is loaded, so a grace ends on time even while a cached ring is in use.
//
// Tokens without `kid` are rejected even when the ring holds a single key: the spec requires
// `kid`, and accepting kid-less tokens "while there is one key" would make them start failing the
// moment a rotation adds a second key, which is exactly when nobody expects breakage.
//
// The HMAC key is the secret's value bytes exactly as stored (the store generates base64url text
// of 32 random bytes: 43 characters, 256 bits of entropy); keys shorter than 32 bytes are refused.
//
// Every verification failure is kUnauthenticated with a lowercase message starting
// "invalid token: " (the API answers 401 `invalid_token`); messages never contain the token, a
// key or a claim value.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "secrets/secret_store.h"

namespace auri {

inline constexpr std::string_view kJwtSigningKeySecret = "jwt-signing-key";
inline constexpr int64_t kAccessTokenLifetimeSeconds = 3600;  // exp − iat of tokens we issue
inline constexpr int64_t kJwtLeewaySeconds = 60;              // clock skew tolerated on exp/iat
inline constexpr size_t kMaxJwtBytes = size_t{8} * 1024;      // longer tokens are refused unread
inline constexpr size_t kMinJwtKeyBytes = 32;                 // RFC 7518 §3.2: key ≥ hash size

// The claims of an Auri access token. Times are unix seconds (JWT NumericDate).
struct JwtClaims {
  std::string sub;  // the user id (UUID)
  std::string username;
  int64_t iat = 0;  // issued at, unix seconds
  int64_t exp = 0;  // expires at, unix seconds

  friend bool operator==(const JwtClaims&, const JwtClaims&) = default;
};

// Claims for a new access token issued at `now_ms` (unix ms): iat = now in seconds (rounded down),
// exp = iat + kAccessTokenLifetimeSeconds.
JwtClaims NewAccessTokenClaims(std::string sub, std::string username, int64_t now_ms);

// One key of a ring.
struct JwtKey {
  std::string kid;                      // header `kid`; the secret version's key_id
  SecretValue secret;                   // HMAC-SHA256 key bytes
  std::optional<int64_t> not_after_ms;  // unix ms from which it no longer verifies; unset = never
};

// An immutable set of HS256 keys: one signing key plus verify-only keys. Thread-safe (const).
class JwtKeyRing {
 public:
  // A ring that signs with `signing` and also verifies with each of `verify_only`.
  // Errors: kInvalidArgument when a kid is empty, longer than 64 characters or repeated, or a key
  // is shorter than kMinJwtKeyBytes.
  static Result<JwtKeyRing> Create(JwtKey signing, std::vector<JwtKey> verify_only = {});

  // A compact JWS "header.claims.signature" with header {"alg":"HS256","kid":…,"typ":"JWT"} and
  // the four claims. Errors: kInternal if OpenSSL's HMAC fails (it has no reason to).
  Result<std::string> Sign(const JwtClaims& claims) const;

  // The claims of `token` if, at `now_ms` (unix ms), it is a well-formed HS256 JWT whose kid names
  // a key of this ring that is still valid (now_ms < not_after_ms), whose signature matches
  // (constant-time comparison), whose exp has not passed by more than kJwtLeewaySeconds, whose iat
  // (and nbf, if present) is not more than kJwtLeewaySeconds in the future, and whose sub,
  // username, iat and exp are present with the right types.
  // Errors: kUnauthenticated "invalid token: <reason>" — token too large, malformed (parts,
  // base64url, JSON, types), alg not HS256 (including "none"), crit header, missing kid, unknown
  // or retired kid, bad signature, expired, issued in the future, not yet valid, missing claim.
  Result<JwtClaims> Verify(std::string_view token, int64_t now_ms) const;

  // The kid new tokens are signed with.
  const std::string& signing_kid() const { return keys_.front().kid; }
  // Every kid in the ring, signing key first (including keys whose not_after may have passed).
  std::vector<std::string> kids() const;

 private:
  explicit JwtKeyRing(std::vector<JwtKey> keys) : keys_(std::move(keys)) {}
  std::vector<JwtKey> keys_;  // keys_[0] signs
};

// Builds the ring from the `jwt-signing-key` secret of `store` at `now_ms` (unix ms): current
// signs; previous verifies unless its not_after_ms <= now_ms or it has no key_id or a short value
// (a version that could never have signed through this code is skipped, not an error, so a bad old
// version cannot take authentication down). Reads the two labels one after the other, so a
// rotation landing in between can yield a ring that lags by one rotation; JwtKeyRingCache corrects
// that at its next check, because the generation it recorded before loading has changed.
// Errors: kFailedPrecondition when the secret or its current version is missing, the current
// version has no key_id, is shorter than kMinJwtKeyBytes or is past its not_after (each with a
// hint: rotate the key); other errors of SecretStore::Get (kUnavailable, kFailedPrecondition for a
// wrong master key or a corrupted version) are passed on with context.
Result<JwtKeyRing> LoadJwtKeyRing(const SecretStore& store, int64_t now_ms);

// The HS256 signature of `signing_input` under `key`, base64url without padding: the third part
// of a compact JWS. Exposed for known-answer tests against RFC 7515 and jwt.io examples.
// Errors: kInternal if OpenSSL's HMAC fails.
Result<std::string> Hs256Signature(std::string_view signing_input, std::string_view key);

// A JwtKeyRing that follows the secret store: when Current() is called and at least
// `check_interval_ms` (monotonic) have passed since the last check, it reads
// SecretStore::Generation() and, if it changed, loads a new ring. So a rotation takes effect
// within check_interval_ms of the write, without a restart.
//
// If a reload fails (I/O error, wrong master key, a bad new current version) the previous ring
// stays in use and the failure is kept in last_reload_status(); the next check retries. Keys in a
// kept ring still stop verifying at their not_after_ms.
//
// Thread-safe. A check runs in the calling thread; while one thread reloads, others keep using the
// ring they had (they never wait for the store). `store` and `clock` are not owned and must
// outlive the cache.
class JwtKeyRingCache {
 public:
  static constexpr int64_t kDefaultCheckIntervalMs = 1000;

  // Loads the first ring. Errors: those of LoadJwtKeyRing and SecretStore::Generation;
  // kInvalidArgument when check_interval_ms < 0.
  static Result<std::unique_ptr<JwtKeyRingCache>> Create(
      const SecretStore& store, const Clock& clock,
      int64_t check_interval_ms = kDefaultCheckIntervalMs);

  JwtKeyRingCache(const JwtKeyRingCache&) = delete;
  JwtKeyRingCache& operator=(const JwtKeyRingCache&) = delete;

  // The ring to use now, after a reload check if one is due. Never null. Callers may keep the
  // returned snapshot for the duration of a request.
  std::shared_ptr<const JwtKeyRing> Current();

  // Current()->Sign(claims) and Current()->Verify(token, clock.UnixMillis()).
  Result<std::string> Sign(const JwtClaims& claims);
  Result<JwtClaims> Verify(std::string_view token);

  // OK, or the error of the most recent failed reload (cleared by the next successful one).
  Status last_reload_status() const;

 private:
  JwtKeyRingCache(const SecretStore& store, const Clock& clock, int64_t check_interval_ms);
  int64_t SteadyMillis() const;
  void ReloadIfChanged();

  const SecretStore& store_;
  const Clock& clock_;
  const int64_t check_interval_ms_;

  std::atomic<int64_t> next_check_steady_ms_{0};
  std::mutex reload_mu_;     // held by the one thread doing a check; others do not wait for it
  uint64_t generation_ = 0;  // guarded by reload_mu_

  mutable std::mutex ring_mu_;  // guards ring_ and reload_status_ (held only to copy or swap)
  std::shared_ptr<const JwtKeyRing> ring_;
  Status reload_status_;
};

}  // namespace auri
