#include "auth/password.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "auth/common_passwords.h"
#include "auth/sodium_init.h"
#include "common/random.h"

namespace auri {

Argon2Limits Argon2Limits::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

Argon2Limits Argon2Limits::Minimum() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Argon2Limits Argon2Limits::Moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

std::optional<Argon2Limits> Argon2LimitsByName(std::string_view name) {
  if (name == "interactive") return Argon2Limits::Interactive();
  if (name == "moderate") return Argon2Limits::Moderate();
  if (name == "minimum") return Argon2Limits::Minimum();
  return std::nullopt;
}

Result<std::string> HashPassword(std::string_view secret, const Argon2Limits& limits) {
  RETURN_IF_ERROR(EnsureSodiumInitialized());
  if (limits.opslimit < crypto_pwhash_OPSLIMIT_MIN ||
      limits.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      limits.memlimit_bytes < crypto_pwhash_MEMLIMIT_MIN ||
      limits.memlimit_bytes > crypto_pwhash_MEMLIMIT_MAX) {
    return InvalidArgument("argon2id limits out of range: opslimit " +
                           std::to_string(limits.opslimit) + ", memlimit " +
                           std::to_string(limits.memlimit_bytes) + " bytes");
  }
  char out[crypto_pwhash_STRBYTES];
  // With valid limits the only failure left is the allocation of memlimit bytes.
  if (crypto_pwhash_str(out, secret.data(), secret.size(), limits.opslimit,
                        limits.memlimit_bytes) != 0) {
    return ResourceExhausted("argon2id hashing failed: cannot allocate " +
                             std::to_string(limits.memlimit_bytes) + " bytes");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view secret, const std::string& stored_hash) {
  if (!EnsureSodiumInitialized().ok()) return false;
  // crypto_pwhash_str_verify reads a NUL-terminated string of at most STRBYTES; anything longer
  // cannot be one of ours.
  if (stored_hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(stored_hash.c_str(), secret.data(), secret.size()) == 0;
}

bool NeedsRehash(const std::string& stored_hash, const Argon2Limits& limits) {
  if (!EnsureSodiumInitialized().ok()) return true;
  if (stored_hash.size() >= crypto_pwhash_STRBYTES) return true;
  // 1 = other parameters, -1 = not an Argon2id string: both mean "hash it again".
  return crypto_pwhash_str_needs_rehash(stored_hash.c_str(), limits.opslimit,
                                        limits.memlimit_bytes) != 0;
}

void DummyVerify(const Argon2Limits& limits) {
  // A memo of one constant hash per cost setting. The hash is of random bytes nobody knows, so the
  // verification below always fails, after doing exactly the work of a real one.
  static std::mutex mu;
  static std::map<std::pair<uint64_t, size_t>, std::string>* hashes =
      new std::map<std::pair<uint64_t, size_t>, std::string>();  // never destroyed: no exit races
  std::string hash;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = hashes->find({limits.opslimit, limits.memlimit_bytes});
    if (it != hashes->end()) hash = it->second;
  }
  if (hash.empty()) {
    Result<std::string> made = HashPassword(RandomHex(32), limits);
    if (!made.ok()) return;  // the real verify would have failed the same way
    hash = *made;
    std::lock_guard<std::mutex> lock(mu);
    hashes->emplace(std::make_pair(limits.opslimit, limits.memlimit_bytes), hash);
  }
  (void)VerifyPassword("dummy password for timing only", hash);
}

namespace {

// Decodes one UTF-8 code point at text[*i], advancing *i. Returns false on invalid UTF-8
// (overlong forms, surrogates, values past U+10FFFF, truncated sequences).
bool NextCodePoint(std::string_view text, size_t* i, char32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(*i);
  size_t len;
  char32_t value;
  char32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    *i += 1;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (*i + len > text.size()) return false;
  for (size_t k = 1; k < len; ++k) {
    unsigned char b = byte(*i + k);
    if ((b & 0xC0) != 0x80) return false;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return false;
  *cp = value;
  *i += len;
  return true;
}

}  // namespace

bool IsCommonPassword(std::string_view password) {
  // No listed entry is longer than this; the early return keeps huge inputs from being copied.
  constexpr size_t kLongestEntry = 64;
  if (password.size() > kLongestEntry) return false;
  std::string lowered(password);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return std::find(std::begin(kCommonPasswords), std::end(kCommonPasswords), lowered) !=
         std::end(kCommonPasswords);
}

std::vector<std::string> CheckPasswordPolicy(std::string_view password) {
  size_t chars = 0;
  bool upper = false, lower = false, digit = false, symbol = false, control = false;
  bool valid_utf8 = true;
  for (size_t i = 0; i < password.size();) {
    char32_t cp;
    if (!NextCodePoint(password, &i, &cp)) {
      valid_utf8 = false;
      break;
    }
    ++chars;
    if (cp >= 'A' && cp <= 'Z') {
      upper = true;
    } else if (cp >= 'a' && cp <= 'z') {
      lower = true;
    } else if (cp >= '0' && cp <= '9') {
      digit = true;
    } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      control = true;  // C0 and C1 controls: invisible, and trouble in logs and terminals
    } else {
      symbol = true;
    }
  }

  std::vector<std::string> problems;
  if (!valid_utf8) {
    // The counts above are meaningless past the first bad byte, so this is the only message.
    problems.push_back("must be valid UTF-8 text");
    return problems;
  }
  if (chars < kMinPasswordChars) {
    problems.push_back("must be at least " + std::to_string(kMinPasswordChars) + " characters");
  }
  if (chars > kMaxPasswordChars) {
    problems.push_back("must be at most " + std::to_string(kMaxPasswordChars) + " characters");
  }
  if (!upper) problems.push_back("must contain an uppercase letter (A-Z)");
  if (!lower) problems.push_back("must contain a lowercase letter (a-z)");
  if (!digit) problems.push_back("must contain a digit (0-9)");
  if (!symbol) problems.push_back("must contain a symbol (a character other than A-Z, a-z, 0-9)");
  if (control) problems.push_back("must not contain control characters");
  if (IsCommonPassword(password)) problems.push_back("is a commonly used password");
  return problems;
}

}  // namespace auri
