#pragma once
// API keys, spec/10-api.md: "sk_live_" or "sk_test_" + 43 base64url characters (51 in all; the 43
// characters are 32 random bytes). The first 16 characters are the lookup prefix, stored in a
// unique column; the whole key is stored only as an Argon2id hash and shown once.
//
// Verification path for a presented key: ExtractCredential → ParseApiKey → look the prefix up →
// VerifyApiKey against the stored hash, or DummyVerifyApiKey when no row has that prefix, so the
// response time does not reveal whether a prefix exists.
//
// The 8 random characters of the prefix carry 48 bits; two keys sharing a prefix is unlikely but
// possible, so the caller's insert must handle the unique violation by generating another key.
//
// Thread-safety: every function here is safe to call from many threads at once.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password.h"
#include "common/result.h"

namespace auri {

inline constexpr size_t kApiKeyChars = 51;
inline constexpr size_t kApiKeyPrefixChars = 16;
inline constexpr size_t kApiKeyRandomChars = 43;

enum class ApiKeyEnvironment { kLive, kTest };

// A new key as created: `key` is shown to the user once and then forgotten; `prefix` and `hash`
// are what is stored.
struct NewApiKey {
  std::string key;     // "sk_live_…" (51 characters)
  std::string prefix;  // first 16 characters of key
  std::string hash;    // Argon2id crypto_pwhash_str of the whole key
};

// Generates a key from 32 bytes of kernel randomness and hashes it with `limits`.
// Errors: those of HashPassword.
Result<NewApiKey> GenerateApiKey(ApiKeyEnvironment environment, const Argon2Limits& limits);

// A presented key whose format is valid.
struct ParsedApiKey {
  ApiKeyEnvironment environment;
  std::string prefix;  // the lookup prefix: first 16 characters
};

// Checks the format: "sk_live_" or "sk_test_", then exactly 43 characters of [A-Za-z0-9_-].
// Errors: kUnauthenticated "malformed api key" (the message never contains the key).
Result<ParsedApiKey> ParseApiKey(std::string_view key);

// True when `key` matches `stored_hash` (Argon2id; constant-time comparison inside libsodium).
// A malformed key or hash is false.
bool VerifyApiKey(std::string_view key, const std::string& stored_hash);

// Costs what VerifyApiKey costs for a hash made with `limits`, for a prefix no row has.
void DummyVerifyApiKey(const Argon2Limits& limits);

// Permissions a key may hold, spec/10-api.md: {read, write, delete, admin}.
enum class ApiKeyPermission : uint8_t { kRead = 1, kWrite = 2, kDelete = 4, kAdmin = 8 };

// "read" | "write" | "delete" | "admin".
std::string_view ApiKeyPermissionName(ApiKeyPermission permission);

// A set of permissions. `admin` implies the other three (an admin key can do everything a key can);
// read, write and delete are independent (a write-only ingestion key cannot read events).
class ApiKeyPermissions {
 public:
  ApiKeyPermissions() = default;  // empty: allows nothing

  // The set named by `names`; duplicates are harmless; an empty list is an empty set.
  // Errors: kInvalidArgument "unknown api key permission: <name>" (valid: read, write, delete,
  // admin); the name is cut to 32 characters in the message.
  static Result<ApiKeyPermissions> Parse(const std::vector<std::string>& names);

  ApiKeyPermissions& Add(ApiKeyPermission permission);
  // Whether the set holds `permission`, or admin.
  bool Allows(ApiKeyPermission permission) const;
  // Whether the set holds `permission` itself (admin does not count).
  bool Has(ApiKeyPermission permission) const;
  bool empty() const { return bits_ == 0; }

  // The names held, in the order read, write, delete, admin (for storage and responses).
  std::vector<std::string> Names() const;

  friend bool operator==(const ApiKeyPermissions&, const ApiKeyPermissions&) = default;

 private:
  uint8_t bits_ = 0;
};

// Which credential a request presents.
enum class CredentialKind {
  kNone,         // neither header present
  kApiKey,       // X-API-Key, or a Bearer token starting with "sk_"
  kBearerToken,  // any other Bearer token: a JWT, or the ingest token on POST /events
};

struct PresentedCredential {
  CredentialKind kind = CredentialKind::kNone;
  std::string_view value;  // points into the header value passed in; empty for kNone
};

// Picks the credential from the values of the X-API-Key and Authorization headers (nullopt =
// header absent). Whatever X-API-Key holds is taken as an API key. Leading and trailing spaces/tabs
// are ignored; the "Bearer" scheme is matched case-insensitively (RFC 7235). An "sk_" token is
// classified as an API key without checking the rest of its format (ParseApiKey does that, so a
// malformed key is reported as such, not as a bad JWT). When both headers carry a credential they
// must be the same API key. Errors: kUnauthenticated — empty X-API-Key, Authorization with another
// scheme than Bearer, an empty bearer token, or two different credentials (messages never contain
// header values).
Result<PresentedCredential> ExtractCredential(std::optional<std::string_view> x_api_key,
                                              std::optional<std::string_view> authorization);

}  // namespace auri
