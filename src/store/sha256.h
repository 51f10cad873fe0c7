#pragma once
// SHA-256 as lowercase hex: the checksum recorded for each applied migration.
#include <string>
#include <string_view>

namespace auri {

// The SHA-256 digest of `data` as 64 lowercase hex characters.
std::string Sha256Hex(std::string_view data);

}  // namespace auri
