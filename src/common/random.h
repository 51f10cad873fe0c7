#pragma once
// Cryptographically secure randomness from the kernel (getrandom), and ids built from it.
#include <cstddef>
#include <string>

namespace auri {

// Fills `out` with `n` random bytes. Aborts if the kernel cannot supply them: continuing with
// predictable bytes would be worse than stopping.
void RandomBytes(void* out, size_t n);

// A random (version 4) UUID in canonical lowercase form.
std::string NewUuid();

// `n` random bytes as lowercase hex (2n characters).
std::string RandomHex(size_t n);

// Standard base64 (with padding) and base64url (no padding) of `data`.
std::string Base64Encode(std::string_view data);
std::string Base64UrlEncode(std::string_view data);
// Decodes standard base64 (padding optional); returns false on any invalid character.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace auri
