#pragma once
// Small text checks shared by event and condition validation. Internal to src/pipeline.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace auri::pipeline {

// The number of code points in `s`, or nullopt when `s` is not valid UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as PostgreSQL's UTF8 encoding rejects
// them).
std::optional<size_t> Utf8Length(std::string_view s);

// `s` with A-Z mapped to a-z; other bytes unchanged.
std::string AsciiLower(std::string_view s);

// True when `s` is "0x" or "0X" followed by exactly `digits` hex digits (any case).
bool IsHexWithPrefix(std::string_view s, size_t digits);

// The whole of `s` as a decimal int64 (optional leading '-', no spaces, no '+'); nullopt otherwise.
std::optional<int64_t> ParseInt64(std::string_view s);

// The whole of `s` as a finite double ("1", "-2.5", "1e3"); nullopt otherwise.
std::optional<double> ParseFiniteDouble(std::string_view s);

}  // namespace auri::pipeline
