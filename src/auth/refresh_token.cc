#include "auth/refresh_token.h"

#include <openssl/sha.h>

#include "common/random.h"

namespace auri {
namespace {

constexpr std::string_view kRefreshTokenPrefix = "urt_";
constexpr size_t kRefreshTokenRandomBytes = 32;  // base64url → 43 characters

}  // namespace

std::string GenerateRefreshToken() {
  std::string random(kRefreshTokenRandomBytes, '\0');
  RandomBytes(random.data(), random.size());
  return std::string(kRefreshTokenPrefix) + Base64UrlEncode(random);
}

bool IsWellFormedRefreshToken(std::string_view token) {
  if (token.size() != kRefreshTokenChars) return false;
  if (token.substr(0, kRefreshTokenPrefix.size()) != kRefreshTokenPrefix) return false;
  for (char c : token.substr(kRefreshTokenPrefix.size())) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string HashRefreshToken(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  // SHA256() is OpenSSL 3's non-deprecated one-shot; it cannot fail for in-memory input.
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

}  // namespace auri
