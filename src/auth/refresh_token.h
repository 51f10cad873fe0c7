#pragma once
// Refresh tokens, spec/10-api.md: "urt_" + 43 base64url characters (32 random bytes), 47 in all.
// Only the SHA-256 of a token is stored: the token has 256 bits of entropy, so a fast hash is
// enough (no salt or Argon2 needed), and it lets the database look tokens up by hash directly.
// Lifetime, rotation and family revocation are the caller's (they live with the rows).
#include <cstddef>
#include <string>
#include <string_view>

namespace auri {

inline constexpr size_t kRefreshTokenChars = 47;

// A new token from the kernel's CSPRNG. Show it to the client once; store HashRefreshToken(token).
std::string GenerateRefreshToken();

// True when `token` is "urt_" followed by exactly 43 characters of [A-Za-z0-9_-].
bool IsWellFormedRefreshToken(std::string_view token);

// SHA-256 of the token's bytes as 64 lowercase hex characters (the stored form). Defined for any
// input; callers check IsWellFormedRefreshToken first so garbage never reaches the database.
std::string HashRefreshToken(std::string_view token);

}  // namespace auri
