#pragma once
// Password hashing (Argon2id) and the password policy of spec/10-api.md.
//
// Hashes are libsodium's crypto_pwhash_str strings ("$argon2id$v=19$m=…,t=…,p=1$salt$hash"): the
// salt and cost parameters travel inside the string, so a hash made under older limits still
// verifies after the limits change (and NeedsRehash says so, for upgrade at the next login).
//
// Thread-safety: every function here is safe to call from many threads at once. Each hash or verify
// allocates `memlimit_bytes` for its duration, so callers bound how many run concurrently.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace auri {

// Argon2id cost parameters: passes over memory, and memory in bytes.
struct Argon2Limits {
  uint64_t opslimit = 0;
  size_t memlimit_bytes = 0;

  // libsodium's INTERACTIVE limits (2 passes, 64 MiB): the production default for logins.
  static Argon2Limits Interactive();
  // libsodium's minimum limits (1 pass, 8 KiB). For tests only: they protect nothing.
  static Argon2Limits Minimum();
  // libsodium's MODERATE limits (3 passes, 256 MiB): stronger, ~4x slower than interactive.
  static Argon2Limits Moderate();

  friend bool operator==(const Argon2Limits&, const Argon2Limits&) = default;
};

// The limits named by the `auth.argon2` option: "interactive" | "moderate" | "minimum"
// (tests only); nullopt for any other name.
std::optional<Argon2Limits> Argon2LimitsByName(std::string_view name);

// Hashes `secret` (a password or an API key) with Argon2id and a fresh random salt.
// Returns the crypto_pwhash_str string (at most 128 characters; safe to store and log: it contains
// no secret material that can be reversed).
// Errors: kInvalidArgument when `limits` are outside libsodium's bounds; kResourceExhausted when
// the memory for the hash cannot be allocated.
Result<std::string> HashPassword(std::string_view secret, const Argon2Limits& limits);

// True when `secret` matches `stored_hash`. Comparison of the derived hash is constant time (inside
// libsodium). A malformed or non-Argon2 `stored_hash` is simply false; it is never an error,
// because the answer a caller gives the client must not differ.
bool VerifyPassword(std::string_view secret, const std::string& stored_hash);

// True when `stored_hash` was made with limits other than `limits` (or is not a valid Argon2id
// string), so the caller should re-hash the password it just verified and store the new hash.
bool NeedsRehash(const std::string& stored_hash, const Argon2Limits& limits);

// Performs one verification against a fixed hash made with `limits` and discards the answer, so
// that "no such user" costs the same time as "wrong password" ("same answer and similar time
// whether or not the user exists", spec/10-api.md). Pass the limits real hashes are made with.
// The fixed hash is computed once per distinct `limits` (the first call costs one extra hash).
void DummyVerify(const Argon2Limits& limits);

// Password policy, spec/10-api.md: 12..128 characters, at least one uppercase letter, one lowercase
// letter, one digit and one symbol, and not a listed common password (compared ignoring ASCII
// case). Returns one message per broken rule, in a fixed order, for `details.fields.password`
// (e.g. "must be at least 12 characters"); empty when the password is acceptable. Messages never
// contain the password.
// Definitions: characters are Unicode code points of UTF-8 text (invalid UTF-8 is a violation of
// its own); "uppercase"/"lowercase"/"digit" mean ASCII A-Z, a-z, 0-9; a "symbol" is any other
// printable character, including space and non-ASCII characters; control characters are refused.
inline constexpr size_t kMinPasswordChars = 12;
inline constexpr size_t kMaxPasswordChars = 128;
std::vector<std::string> CheckPasswordPolicy(std::string_view password);

// True when `password`, ignoring ASCII case, is on the built-in common-password list.
bool IsCommonPassword(std::string_view password);

}  // namespace auri
